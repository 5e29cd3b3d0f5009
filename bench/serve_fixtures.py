"""Helpers for bench/run.sh: the static copy of the fixtures nginx serves.

    python3 bench/serve_fixtures.py generate MOCK_URL TOKEN FIXTURES OUTDIR
        For every id, uuid and key in FIXTURES, writes OUTDIR/integrations/<selector>:
        the exact body the stand-in server answers to
        GET /integrations/<selector>?includeSecrets=false (secrets masked), so both
        servers hand the client the same bytes. nginx serves these files as
        application/json and ignores the query and the Authorization header.

    python3 bench/serve_fixtures.py free-port
        Prints a TCP port on 127.0.0.1 that was free a moment ago.

    python3 bench/serve_fixtures.py wait-and-verify MOCK_URL NGINX_URL TOKEN SECONDS
        Waits until NGINX_URL answers, then checks that GET /integrations/hubspot
        gives the same body from both servers, with Content-Type application/json,
        and that nginx keeps the connection alive. Prints the body size in bytes.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


def fetch(base: str, selector: str, token: str) -> tuple[int, str, bytes]:
    url = f"{base}/integrations/{urllib.parse.quote(selector, safe='')}?includeSecrets=false"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}",
                                                   "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def generate(mock: str, token: str, fixtures: str, outdir: str) -> None:
    integrations = json.loads(Path(fixtures).read_text(encoding="utf-8"))["integrations"]
    target = Path(outdir) / "integrations"
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    for item in integrations:
        for field in ("id", "uuid", "key"):
            selector = item.get(field)
            if not isinstance(selector, str) or not selector or "/" in selector or selector.startswith("."):
                continue
            status, _, body = fetch(mock, selector, token)
            if status != 200:
                raise SystemExit(f"serve_fixtures: {selector}: HTTP {status} from the stand-in server")
            (target / selector).write_bytes(body)
            written += 1
    print(written)


def free_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def wait_and_verify(mock: str, nginx: str, token: str, seconds: float) -> None:
    parsed = urllib.parse.urlsplit(nginx)
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection((parsed.hostname, parsed.port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"serve_fixtures: nothing listens at {nginx}")
            time.sleep(0.05)
    _, _, expected = fetch(mock, "hubspot", token)
    status, content_type, body = fetch(nginx, "hubspot", token)
    if status != 200 or content_type.split(";")[0].strip() != "application/json" or body != expected:
        raise SystemExit(f"serve_fixtures: nginx answered {status} {content_type!r}, "
                         f"{len(body)} bytes (the stand-in server: {len(expected)} bytes)")
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
    for _ in range(3):
        connection.request("GET", "/integrations/hubspot?includeSecrets=false",
                           headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        if response.will_close:
            raise SystemExit("serve_fixtures: nginx does not keep the connection alive")
    connection.close()
    print(len(body))


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["generate"] and len(args) == 5:
        generate(*args[1:])
    elif args == ["free-port"]:
        free_port()
    elif args[:1] == ["wait-and-verify"] and len(args) == 5:
        wait_and_verify(args[1], args[2], args[3], float(args[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
