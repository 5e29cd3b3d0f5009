"""Proxies come from libcurl's environment variables, as in curl.

A tiny forward HTTP proxy runs in a thread: it takes absolute-form request
lines ("GET http://127.0.0.1:P/integrations/x?... HTTP/1.1"), records them,
forwards the request to the origin and relays the answer. lookup.py runs as a
subprocess with the proxy variables set.

Note on names: for http:// URLs curl reads only the lowercase `http_proxy`,
never `HTTP_PROXY` (by design: a CGI program gets the client's "Proxy:" header
as HTTP_PROXY, the "httpoxy" problem). HTTPS_PROXY/https_proxy and
NO_PROXY/no_proxy are read in either case.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import urllib.parse
from typing import Dict, Iterator, List

import pytest

from conftest import PYTHON_EXAMPLES, TOKEN, MockServer

LOOKUP = PYTHON_EXAMPLES / "lookup.py"

PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                   "ALL_PROXY", "no_proxy", "NO_PROXY")


class ForwardProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.seen: List[Dict[str, object]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(socketserver.StreamRequestHandler):
    server: ForwardProxy

    def handle(self) -> None:
        line = self.rfile.readline(65536).decode("latin-1").rstrip("\r\n")
        headers: List[str] = []
        while True:
            header = self.rfile.readline(65536).decode("latin-1").rstrip("\r\n")
            if not header:
                break
            headers.append(header)
        with self.server.lock:
            self.server.seen.append({"line": line, "headers": headers})
        method, target, _version = line.split(" ", 2)
        url = urllib.parse.urlsplit(target)
        if method != "GET" or url.scheme != "http" or not url.hostname:
            self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
            return
        path = url.path + (f"?{url.query}" if url.query else "")
        kept = [h for h in headers
                if h.split(":", 1)[0].strip().lower() not in ("proxy-connection", "connection")]
        request = "\r\n".join([f"GET {path} HTTP/1.1", *kept, "Connection: close", "", ""])
        with socket.create_connection((url.hostname, url.port or 80), timeout=10) as upstream:
            upstream.sendall(request.encode("latin-1"))
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                self.wfile.write(chunk)
        # Closing our side ends the answer for the client whatever its framing.


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def run_lookup(mock: MockServer, extra_env: Dict[str, str],
               selector: str = "hubspot") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in PROXY_VARIABLES and k not in ("MEMBRANE_TOKEN", "MEMBRANE_API_URL")}
    env.update({"MEMBRANE_TOKEN": TOKEN, "MEMBRANE_API_URL": mock.url, **extra_env})
    return subprocess.run([sys.executable, str(LOOKUP), selector], env=env, capture_output=True,
                          timeout=60)


def _ok(result: subprocess.CompletedProcess, key: str = "hubspot") -> None:
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert json.loads(result.stdout)["key"] == key


def test_http_proxy_is_used(mock: MockServer, proxy: ForwardProxy) -> None:
    result = run_lookup(mock, {"http_proxy": proxy.url})
    _ok(result)
    (seen,) = proxy.seen
    line = str(seen["line"])
    expected = f"GET {mock.url}/integrations/hubspot?includeSecrets=false HTTP/1.1"
    assert line == expected, line
    headers = [str(h).lower() for h in seen["headers"]]  # type: ignore[union-attr]
    assert any(h.startswith("authorization: bearer ") for h in headers)
    # The request reached the API through the proxy.
    (request,) = mock.requests()
    assert request["path"] == "/integrations/hubspot" and request["authorized"] is True


def test_no_proxy_bypasses_the_proxy(mock: MockServer, proxy: ForwardProxy) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        mock.clear_requests()
        result = run_lookup(mock, {"http_proxy": proxy.url, name: "127.0.0.1"})
        _ok(result)
        assert proxy.seen == [], f"{name}=127.0.0.1, yet the proxy was used"
        assert len(mock.requests()) == 1


def test_uppercase_http_proxy_is_ignored(mock: MockServer, proxy: ForwardProxy) -> None:
    """As in curl: HTTP_PROXY (uppercase) is not read for http:// (httpoxy)."""
    result = run_lookup(mock, {"HTTP_PROXY": proxy.url})
    _ok(result)
    assert proxy.seen == []


def test_unreachable_proxy_is_a_network_error(mock: MockServer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_lookup(mock, {"http_proxy": f"http://127.0.0.1:{port}"})
    assert result.returncode == 9, result.stderr
    assert mock.requests() == []


