"""The stand-in server itself, as an outside client sees it: the list's
documented filters, HEAD, a request head too large to parse, and the decoded
selector in its request log. Plain HTTP (urllib, sockets), no libmembrane."""
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

import pytest

from conftest import TOKEN, MockServer


def get(mock: MockServer, path: str, method: str = "GET", token: Optional[str] = TOKEN) -> Tuple[int, Dict[str, str], bytes]:
    request = urllib.request.Request(mock.url + path, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def items(mock: MockServer, query: str) -> List[Dict[str, Any]]:
    status, _, body = get(mock, "/integrations?limit=1000&" + query)
    assert status == 200, body
    return json.loads(body)["items"]


def test_connector_id_filter_keeps_exactly_that_connectors_integrations(mock: MockServer, fixtures: List[Dict[str, Any]]) -> None:
    listed = [f for f in fixtures if not f.get("archivedAt")]
    connector = next(f["connectorId"] for f in listed if f.get("connectorId"))
    expected = [f["key"] for f in listed if f.get("connectorId") == connector]
    got = [i["key"] for i in items(mock, "connectorId=" + urllib.parse.quote(connector))]
    assert got == expected and 0 < len(got) < len(listed)
    assert items(mock, "connectorId=no-such-connector") == []


def test_app_uuid_filter(mock: MockServer, fixtures: List[Dict[str, Any]]) -> None:
    app = next(f for f in fixtures if f.get("appUuid") and not f.get("archivedAt"))
    got = [i["key"] for i in items(mock, "appUuid=" + app["appUuid"])]
    assert got == [f["key"] for f in fixtures if f.get("appUuid") == app["appUuid"] and not f.get("archivedAt")]


def test_filters_combine_with_search_and_paging(mock: MockServer, fixtures: List[Dict[str, Any]]) -> None:
    connector = next(f["connectorId"] for f in fixtures if f.get("connectorId") and not f.get("archivedAt"))
    key = next(f["key"] for f in fixtures if f.get("connectorId") == connector)
    assert [i["key"] for i in items(mock, f"connectorId={connector}&search={key}")] == [key]
    assert items(mock, f"connectorId={connector}&search=zzz-nothing") == []


@pytest.mark.parametrize("switch", ["connectors", "externalApps", "websearch", "all"])
def test_source_switches_must_be_numbers(mock: MockServer, switch: str) -> None:
    assert get(mock, f"/integrations?{switch}=1")[0] == 200
    status, _, body = get(mock, f"/integrations?{switch}=yes")
    assert status == 400 and json.loads(body)["key"] == "bad_request"


@pytest.mark.parametrize("path", ["/integrations/hubspot", "/integrations", "/integrations/no-such"])
def test_head_is_answered_like_get_without_a_body(mock: MockServer, path: str) -> None:
    get_status, get_headers, get_body = get(mock, path)
    head_status, head_headers, head_body = get(mock, path, method="HEAD")
    assert head_status == get_status
    assert head_body == b""
    assert head_headers.get("Content-Type") == get_headers.get("Content-Type")
    assert int(head_headers["Content-Length"]) == len(get_body)
    assert mock.last_request()["method"] == "HEAD"


def test_head_needs_the_token_too(mock: MockServer) -> None:
    assert get(mock, "/integrations/hubspot", method="HEAD", token=None)[0] == 401


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE"])
@pytest.mark.parametrize("path", ["/integrations/hubspot", "/integrations"])
def test_other_methods_on_api_routes_are_405_without_a_token(mock: MockServer, method: str, path: str) -> None:
    status, headers, body = get(mock, path, method=method, token=None)
    assert status == 405 and headers.get("Allow") == "GET, HEAD", (status, headers)
    assert json.loads(body)["message"] == f"Cannot {method} {path}"


def test_unknown_paths_stay_404(mock: MockServer) -> None:
    status, _, body = get(mock, "/integrationsX", method="POST", token=None)
    assert status == 404 and json.loads(body)["message"] == "Cannot POST /integrationsX"


@pytest.mark.parametrize("query", ["includeArchived=yes", "includeArchived=", "includeSecrets=1"])
def test_documented_booleans_take_true_or_false(mock: MockServer, query: str) -> None:
    status, _, body = get(mock, "/integrations?" + query)
    assert status == 400 and json.loads(body)["key"] == "bad_request", body
    assert get(mock, "/integrations?includeArchived=false")[0] == 200


def test_include_secrets_must_be_boolean_on_lookups(mock: MockServer) -> None:
    assert get(mock, "/integrations/hubspot?includeSecrets=yes")[0] == 400
    assert get(mock, "/integrations/hubspot?includeSecrets=true")[0] == 200


@pytest.mark.parametrize("value", ["1.5", "-1.29e+16", "0"])
def test_source_switches_take_any_number(mock: MockServer, value: str) -> None:
    assert get(mock, "/integrations?connectors=" + urllib.parse.quote(value, safe=""))[0] == 200


@pytest.mark.parametrize("size", [100_000, 400_000, 2_000_000])
def test_a_request_head_too_large_gets_400_and_its_connection_closes(mock: MockServer, size: int) -> None:
    # Before the fix, about one such connection in two stayed open until the
    # server stopped: it had half-closed its side and waited for the client's.
    host, port = urllib.parse.urlsplit(mock.url).netloc.split(":")
    before = mock.stats()["connectionsOpen"]
    for _ in range(4):
        conn = socket.create_connection((host, int(port)))
        head = (b"GET /integrations/hubspot HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                + b"\r\nX-Big: " + b"a" * size + b"\r\n\r\n")
        # The server stops parsing at its limit; the send may block until it drains.
        sender = threading.Thread(target=lambda: _send_quietly(conn, head), daemon=True)
        sender.start()
        conn.settimeout(10)
        answer = b""
        while b"\r\n\r\n" not in answer:  # all of it: a client that leaves bytes unread resets instead
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 400"), answer
        sender.join(10)
        assert not sender.is_alive(), "the server stopped reading: the client is stuck sending"
        conn.close()
    deadline = time.monotonic() + 5
    while mock.stats()["connectionsOpen"] > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mock.stats()["connectionsOpen"] <= before


def _send_quietly(conn: socket.socket, data: bytes) -> None:
    try:
        conn.sendall(data)
    except OSError:
        pass  # the server may close first; what matters is that it read


def test_the_request_log_holds_the_decoded_selector(mock: MockServer) -> None:
    for raw in ["hubspot", "a%2Fb", "%7Esearch.x", "%252F"]:
        get(mock, "/integrations/" + raw)
    get(mock, "/integrations/a/b")
    get(mock, "/integrations")
    logged = [(r["path"], r["selector"]) for r in mock.requests()]
    assert logged == [
        ("/integrations/hubspot", "hubspot"),
        ("/integrations/a%2Fb", "a/b"),
        ("/integrations/%7Esearch.x", "~search.x"),
        ("/integrations/%252F", "%2F"),
        ("/integrations/a/b", None),
        ("/integrations", None),
    ]
