"""TLS against a real server: nginx on 127.0.0.1 in front of the stand-in server.

Certificates are made at test time with the openssl CLI: a CA; a server
certificate for 127.0.0.1 (SAN IP:127.0.0.1, DNS:localhost) signed by it; a
wrong-host certificate (SAN DNS:wrong.example only) signed by it; and a
self-signed certificate for 127.0.0.1. Three https server blocks, one per
certificate, proxy_pass to the mock.

nginx (Debian's nginx-light) and openssl are required: the Makefile installs
them, so their absence is a failure, not a skip.

Results are written to .build/test-logs/tls-python.txt.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator

import pytest

import membrane
from conftest import REPO, TOKEN, MockServer, find_fixture, free_port

LOG = REPO / ".build" / "test-logs" / "tls-python.txt"
_results: Dict[str, str] = {}


def _record(case: str, outcome: str) -> None:
    _results[case] = outcome
    LOG.parent.mkdir(parents=True, exist_ok=True)
    LOG.write_text("".join(f"{k}: {v}\n" for k, v in _results.items()), encoding="utf-8")


def _tool(name: str) -> str:
    path = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None)
    if path is None:
        pytest.fail(f"{name} is required for the TLS tests and was not found on PATH or in "
                    f"/usr/sbin, /usr/bin (Debian: apt-get install nginx-light openssl; "
                    f"`make test` installs them)")
    return path


def _openssl(openssl: str, *args: str, cwd: Path) -> None:
    result = subprocess.run([openssl, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        pytest.fail(f"openssl {' '.join(args)} failed ({result.returncode}): {result.stderr}")


def make_certificates(openssl: str, d: Path) -> None:
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(openssl, "req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=libmembrane test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, cn, san in (("good", "127.0.0.1", "IP:127.0.0.1,DNS:localhost"),
                          ("wrong", "wrong.example", "DNS:wrong.example")):
        (d / f"{name}.ext").write_text(
            f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
        _openssl(openssl, "req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={cn}", cwd=d)
        _openssl(openssl, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey",
                 "ca.key", "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
                 "-extfile", f"{name}.ext", cwd=d)
    _openssl(openssl, "req", "-x509", *key, "-keyout", "self.key", "-out", "self.pem",
             "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", cwd=d)


class TLSServers:
    def __init__(self, d: Path, ports: Dict[str, int]) -> None:
        self.dir = d
        self.ports = ports
        self.ca = d / "ca.pem"

    def url(self, name: str) -> str:
        return f"https://127.0.0.1:{self.ports[name]}"


def _nginx_conf(d: Path, ports: Dict[str, int], upstream: str) -> str:
    servers = "".join(f"""
    server {{
        listen 127.0.0.1:{port} ssl http2;
        server_name localhost;
        ssl_certificate {d}/{name}.pem;
        ssl_certificate_key {d}/{name}.key;
        location / {{
            proxy_pass {upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 30s;
        }}
    }}
""" for name, port in ports.items())
    return f"""
master_process off;
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{servers}
}}
"""


def _wait_listening(port: int, process: subprocess.Popen, d: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    log = (d / "error.log").read_text(errors="replace") if (d / "error.log").exists() else ""
    pytest.fail(f"nginx did not listen on {port} (exit {process.poll()}): {log[-2000:]}")


@pytest.fixture(scope="module")
def tls(mock_server: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServers]:
    openssl = _tool("openssl")
    nginx = _tool("nginx")
    d = tmp_path_factory.mktemp("tls")
    make_certificates(openssl, d)
    ports = {"good": free_port(), "wrong": free_port(), "self": free_port()}
    (d / "nginx.conf").write_text(_nginx_conf(d, ports, f"http://127.0.0.1:{mock_server.port}"))
    command = [nginx, "-p", str(d), "-c", str(d / "nginx.conf"), "-e", str(d / "error.log")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        pytest.fail(f"nginx -t failed: {check.stderr}")
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        for port in ports.values():
            _wait_listening(port, process, d)
        yield TLSServers(d, ports)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def lookup(url: str, **options) -> object:
    with membrane.Client(url, TOKEN, timeout_ms=10_000, max_retries=0, **options) as c:
        try:
            return c.integration("hubspot")
        except membrane.MembraneError as e:
            return e


def _describe(result: object) -> str:
    if isinstance(result, membrane.MembraneError):
        return f"{type(result).__name__} ({result.code}): {result.message}"
    return "success"


def test_good_certificate_without_the_ca_is_refused(tls: TLSServers, mock: MockServer) -> None:
    """The system's bundle does not know the test CA: verification is on by default."""
    result = lookup(tls.url("good"))
    _record("good cert, system trust (no ca_file)", _describe(result))
    assert isinstance(result, membrane.TLSError), repr(result)
    assert (result.code, result.http_status) == (membrane.ETLS, 0)
    assert mock.requests() == []


def test_good_certificate_with_the_ca(tls: TLSServers, mock: MockServer, fixtures) -> None:
    result = lookup(tls.url("good"), ca_file=tls.ca)
    _record("good cert, ca_file=CA", _describe(result))
    assert isinstance(result, dict), repr(result)
    expected = find_fixture(fixtures, "hubspot")
    assert (result["id"], result["key"], result["name"]) == \
        (expected["id"], expected["key"], expected["name"])
    (request,) = mock.requests()
    assert request["path"] == "/integrations/hubspot" and request["authorized"] is True


def test_ca_file_as_str_and_bytes(tls: TLSServers, mock: MockServer) -> None:
    for path in (str(tls.ca), bytes(tls.ca)):
        result = lookup(tls.url("good"), ca_file=path)
        assert isinstance(result, dict), repr(result)


def test_ca_file_reset_to_system_trust(tls: TLSServers, mock: MockServer) -> None:
    """set_ca_file(None) goes back to the system's bundle, on the same client: the
    connection verified against the test CA must not be reused to excuse it."""
    with membrane.Client(tls.url("good"), TOKEN, timeout_ms=10_000, max_retries=0,
                         ca_file=tls.ca) as c:
        assert c.integration("hubspot")["key"] == "hubspot"
        c.set_ca_file(None)
        with pytest.raises(membrane.TLSError):
            c.integration("hubspot")
        c.set_ca_file(tls.ca)
        assert c.integration("hubspot")["key"] == "hubspot"


def test_wrong_host_certificate_is_refused(tls: TLSServers, mock: MockServer) -> None:
    result = lookup(tls.url("wrong"), ca_file=tls.ca)
    _record("wrong-host cert (SAN DNS:wrong.example), ca_file=CA", _describe(result))
    assert isinstance(result, membrane.TLSError), repr(result)
    assert (result.code, result.http_status) == (membrane.ETLS, 0)
    assert mock.requests() == []


def test_self_signed_certificate_is_refused(tls: TLSServers, mock: MockServer) -> None:
    result = lookup(tls.url("self"), ca_file=tls.ca)
    _record("self-signed cert for 127.0.0.1, ca_file=CA", _describe(result))
    assert isinstance(result, membrane.TLSError), repr(result)
    assert (result.code, result.http_status) == (membrane.ETLS, 0)
    assert mock.requests() == []


def test_missing_ca_file(tls: TLSServers, mock: MockServer, tmp_path: Path) -> None:
    """A CA bundle that does not exist must never mean success (nor trust everything)."""
    missing = tmp_path / "no-such-ca.pem"
    try:
        result = lookup(tls.url("good"), ca_file=missing)
    except membrane.InvalidArgument as e:  # refused when set
        result = e
    _record("good cert, ca_file=<missing file>", _describe(result))
    assert isinstance(result, (membrane.TLSError, membrane.InvalidArgument)), repr(result)
    assert mock.requests() == []


def test_tls_errors_are_not_retried(tls: TLSServers, mock: MockServer) -> None:
    with membrane.Client(tls.url("self"), TOKEN, timeout_ms=10_000, max_retries=5,
                         retry_base_ms=300, ca_file=tls.ca) as c:
        started = time.monotonic()
        with pytest.raises(membrane.TLSError) as info:
            c.integration("hubspot")
        elapsed = time.monotonic() - started
    assert "attempts" not in info.value.message, info.value.message
    assert elapsed < 0.25, f"{elapsed:.3f} s: a TLS failure looks retried"


def test_batch_multiplexes_over_http2(tls: TLSServers, mock: MockServer) -> None:
    """nginx speaks HTTP/2 here: a batch shares its connections as streams.

    With max_parallel=2 and every request held 200 ms upstream, HTTP/1.1 would
    need 12 rounds (2.4 s) for 24 selectors; once the first answer shows
    HTTP/2, the rest run as streams on the same two connections at once.
    """
    mock.fault({"delayMs": 200, "times": 0})
    try:
        mock.reset_stats()
        selectors = [f"h2-stream-{i}" for i in range(24)]
        with membrane.Client(tls.url("good"), TOKEN, ca_file=tls.ca, max_parallel=2, max_retries=0) as c:
            started = time.monotonic()
            results = c.integrations(selectors)
            took = time.monotonic() - started
        stats = mock.stats()
    finally:
        mock.clear_faults()
    _record("24 selectors, max_parallel 2, over HTTP/2", f"{took * 1000:.0f} ms, "
            f"{stats['maxRequestsInFlight']} in flight upstream at most")
    assert all(isinstance(r, membrane.NotFound) for r in results), results
    assert took < 1.5, f"{took:.2f} s: the batch was not multiplexed"
    assert stats["maxRequestsInFlight"] > 2, stats
