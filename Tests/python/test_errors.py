"""Every return code libmembrane can produce, provoked for real.

Tests about how one answer maps to a code use `strict_client` (max_retries=0):
a 429, 502, 503, 504 or a connection that failed before any response byte is
otherwise retried, and a one-shot fault would end in success. Retries
themselves are covered by test_faults.py, cancellation by test_cancel.py.
"""

from __future__ import annotations

import time

import pytest

import membrane
from conftest import TOKEN, MockServer, free_port, header_of


def lookup_error(client: membrane.Client, selector="hubspot", **kwargs) -> membrane.MembraneError:
    with pytest.raises(membrane.MembraneError) as info:
        client.integration(selector, **kwargs)
    return info.value


# -- EINVAL: refused before any request ----------------------------------------


@pytest.mark.parametrize(
    "selector",
    [
        "",
        b"",
        "x" * 1025,
        b"x" * 1025,
        "é" * 513,  # 1026 bytes of UTF-8 in 513 characters
        b"\xff\xfe",
        b"abc\xc3",  # truncated sequence
        b"\xc0\xaf",  # overlong "/"
        b"\xed\xa0\x80",  # UTF-8-encoded surrogate
    ],
    ids=["empty", "empty-bytes", "1025-bytes", "1025-bytes-b", "1026-utf8",
         "invalid-utf8", "truncated-utf8", "overlong-utf8", "surrogate-utf8"],
)
def test_einval_selector_from_library(client: membrane.Client, mock: MockServer, selector) -> None:
    e = lookup_error(client, selector)
    assert type(e) is membrane.InvalidArgument
    assert e.code == membrane.EINVAL
    assert e.http_status == 0
    assert e.message
    assert mock.requests() == [], "no request may be made for a bad argument"


def test_1024_byte_selector_is_accepted(client: membrane.Client, mock: MockServer) -> None:
    with pytest.raises(membrane.NotFound):
        client.integration("x" * 1024)
    assert len(mock.requests()) == 1


@pytest.mark.parametrize("selector", ["hub\0spot", b"hub\0spot", "\0"])
def test_embedded_nul_is_refused_before_c(client: membrane.Client, mock: MockServer,
                                          selector) -> None:
    with pytest.raises(membrane.InvalidArgument) as info:
        client.integration(selector)
    assert isinstance(info.value, ValueError)
    assert info.value.code == membrane.EINVAL
    assert mock.requests() == []


def test_lone_surrogate_str_is_refused(client: membrane.Client, mock: MockServer) -> None:
    with pytest.raises(membrane.InvalidArgument):
        client.integration("abc\udcff")
    assert mock.requests() == []


def test_selector_of_wrong_type(client: membrane.Client) -> None:
    with pytest.raises(TypeError):
        client.integration(42)  # type: ignore[arg-type]


POSITIVE_SETTERS = ["set_timeout", "set_connect_timeout", "set_retry_base",
                    "set_max_response_bytes"]


@pytest.mark.parametrize("setter", POSITIVE_SETTERS)
@pytest.mark.parametrize("value", [0, -1, -30_000])
def test_einval_numeric_options(client: membrane.Client, setter: str, value: int) -> None:
    with pytest.raises(membrane.InvalidArgument) as info:
        getattr(client, setter)(value)
    assert info.value.code == membrane.EINVAL


@pytest.mark.parametrize("setter", POSITIVE_SETTERS)
def test_numeric_options_accept_valid_values(client: membrane.Client, setter: str) -> None:
    getattr(client, setter)(1)
    getattr(client, setter)(120_000)


@pytest.mark.parametrize("value", [-1, 11, 1000, -(2 ** 31)])
def test_einval_max_retries(client: membrane.Client, value: int) -> None:
    with pytest.raises(membrane.InvalidArgument) as info:
        client.set_max_retries(value)
    assert info.value.code == membrane.EINVAL


def test_max_retries_accepts_0_to_10(client: membrane.Client) -> None:
    for value in range(0, 11):
        client.set_max_retries(value)


@pytest.mark.parametrize("keyword, value", [("max_retries", 11), ("retry_base_ms", 0),
                                            ("max_response_bytes", 0)])
def test_einval_new_keyword_options(mock: MockServer, keyword: str, value: int) -> None:
    with pytest.raises(membrane.InvalidArgument):
        membrane.Client(mock.url, TOKEN, **{keyword: value})


@pytest.mark.parametrize("setter", ["set_max_retries", "set_retry_base", "set_max_response_bytes"])
def test_new_options_want_an_int(client: membrane.Client, setter: str) -> None:
    for value in (True, 1.5, "3", None):
        with pytest.raises(TypeError):
            getattr(client, setter)(value)


def test_raw_new_option_numbers(client: membrane.Client) -> None:
    """The binding's option numbers are the header's, and they take longs, not strings."""
    assert (membrane.OPT_MAX_RETRIES, membrane.OPT_RETRY_BASE_MS,
            membrane.OPT_MAX_RESPONSE_BYTES) == (5, 6, 7)
    lib = membrane.load_library()
    ptr = client._handle.enter()
    try:
        assert lib.membrane_client_set_long(ptr, membrane.OPT_MAX_RETRIES, 10) == membrane.OK
        assert lib.membrane_client_set_long(ptr, membrane.OPT_MAX_RETRIES, 11) == membrane.EINVAL
        assert lib.membrane_client_set_long(ptr, membrane.OPT_RETRY_BASE_MS, 1) == membrane.OK
        assert lib.membrane_client_set_long(ptr, membrane.OPT_MAX_RESPONSE_BYTES, 1) == membrane.OK
        for option in (5, 6, 7):
            assert lib.membrane_client_set_string(ptr, option, b"1") == membrane.EINVAL
    finally:
        client._handle.leave()


def test_numeric_option_out_of_c_long_range(client: membrane.Client) -> None:
    with pytest.raises(membrane.InvalidArgument):
        client.set_timeout(2 ** 70)


@pytest.mark.parametrize("value", ["", "bad\nagent", "bad\ragent", "tab\tagent", b"\xff\xfe"])
def test_einval_user_agent(client: membrane.Client, value) -> None:
    with pytest.raises(membrane.InvalidArgument) as info:
        client.set_user_agent(value)
    assert info.value.code == membrane.EINVAL


def test_einval_keyword_option_frees_client(mock: MockServer) -> None:
    with pytest.raises(membrane.InvalidArgument):
        membrane.Client(mock.url, TOKEN, timeout_ms=-5)


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1:1", "file:///etc/passwd", "gopher://example.com", "not a url",
     "127.0.0.1:8080", "", "http://", "http://exa mple.com", "http://example.com\n"],
)
def test_einval_bad_url(url: str) -> None:
    with pytest.raises(membrane.InvalidArgument) as info:
        membrane.Client(url, TOKEN)
    assert info.value.code == membrane.EINVAL


# -- Answers from the API ------------------------------------------------------


def test_eaccess(client: membrane.Client, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "status": 403})
    e = lookup_error(client)
    assert type(e) is membrane.AccessDenied
    assert (e.code, e.http_status, e.key) == (membrane.EACCESS, 403, "access_denied")
    assert e.message


def test_eratelimit(strict_client: membrane.Client, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "status": 429})
    e = lookup_error(strict_client)
    assert type(e) is membrane.RateLimited
    assert (e.code, e.http_status, e.key) == (membrane.ERATELIMIT, 429, "rate_limit_exceeded")
    assert "attempts" not in e.message
    assert len(mock.requests()) == 1


def test_ebadrequest_400_carries_the_api_error(client: membrane.Client, mock: MockServer) -> None:
    body = {"type": "bad_request", "key": "invalid_selector", "message": "Selector is weird"}
    mock.fault({"match": "hubspot", "status": 400, "json": body})
    e = lookup_error(client)
    assert type(e) is membrane.BadRequest
    assert (e.code, e.http_status) == (membrane.EBADREQUEST, 400)
    assert (e.type, e.key) == ("bad_request", "invalid_selector")
    assert "Selector is weird" in e.message


@pytest.mark.parametrize("status", [400, 405, 409, 418, 422])
def test_ebadrequest_other_4xx(client: membrane.Client, mock: MockServer, status: int) -> None:
    mock.fault({"match": "hubspot", "status": status})
    e = lookup_error(client)
    assert type(e) is membrane.BadRequest
    assert (e.code, e.http_status) == (membrane.EBADREQUEST, status)


def test_eserver_default_body_has_error_id(client: membrane.Client, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "status": 500})
    e = lookup_error(client)
    assert type(e) is membrane.ServerError
    assert (e.code, e.http_status, e.type) == (membrane.ESERVER, 500, "internal")
    assert e.error_id


def test_eserver_error_id_is_the_one_sent(client: membrane.Client, mock: MockServer) -> None:
    body = {"type": "internal", "key": "boom", "message": "Something broke",
            "data": {"errorId": "err-test-1"}}
    mock.fault({"match": "hubspot", "status": 500, "json": body})
    e = lookup_error(client)
    assert type(e) is membrane.ServerError
    assert e.error_id == "err-test-1"
    assert (e.type, e.key, e.http_status) == ("internal", "boom", 500)
    assert "Something broke" in e.message


@pytest.mark.parametrize("status", [502, 503, 504])
def test_eserver_other_5xx(strict_client: membrane.Client, mock: MockServer, status: int) -> None:
    mock.fault({"match": "hubspot", "status": status})
    e = lookup_error(strict_client)
    assert type(e) is membrane.ServerError
    assert (e.code, e.http_status) == (membrane.ESERVER, status)
    assert len(mock.requests()) == 1


def test_eserver_html_from_a_proxy(strict_client: membrane.Client, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "action": "html"})
    e = lookup_error(strict_client)
    assert type(e) is membrane.ServerError
    assert (e.code, e.http_status, e.error_id) == (membrane.ESERVER, 502, "")
    assert e.message
    # The message is one line (lookup.py prints it after "lookup.py: ").
    assert "\r" not in e.message and "\n" not in e.message, repr(e.message)
    assert "text/html" in e.message, e.message


def test_error_pickles_with_its_attributes(client: membrane.Client, mock: MockServer) -> None:
    import pickle

    body = {"type": "internal", "key": "boom", "message": "Broke", "data": {"errorId": "err-p"}}
    mock.fault({"match": "hubspot", "status": 500, "json": body})
    e = lookup_error(client)
    copy = pickle.loads(pickle.dumps(e))
    assert type(copy) is membrane.ServerError
    assert (copy.code, copy.http_status, copy.type, copy.key, copy.message, copy.error_id) == \
        (e.code, e.http_status, e.type, e.key, e.message, e.error_id)


def test_error_message_is_bounded(client: membrane.Client, mock: MockServer) -> None:
    body = {"type": "bad_request", "key": "k" * 500, "message": "m" * 5000}
    mock.fault({"match": "hubspot", "status": 400, "json": body})
    e = lookup_error(client)
    assert type(e) is membrane.BadRequest
    assert 0 < len(e.message.encode()) <= 255
    assert len(e.key.encode()) <= 63


# -- ENETWORK, ETIMEOUT, ETLS -------------------------------------------------


def test_enetwork_connection_refused(mock: MockServer) -> None:
    port = free_port()
    with membrane.Client(f"http://127.0.0.1:{port}", TOKEN, timeout_ms=5000,
                         max_retries=0) as c:
        e = lookup_error(c)
    assert type(e) is membrane.NetworkError
    assert (e.code, e.http_status) == (membrane.ENETWORK, 0)
    assert e.message
    assert "attempts" not in e.message


def test_enetwork_dns_failure() -> None:
    with membrane.Client("http://no-such-host.invalid", TOKEN, timeout_ms=10_000,
                         max_retries=0) as c:
        e = lookup_error(c)
    assert type(e) is membrane.NetworkError
    assert e.http_status == 0


def test_enetwork_dropped_connection(strict_client: membrane.Client, mock: MockServer) -> None:
    # A fresh client: no pooled connection that libcurl could silently retry on.
    mock.fault({"match": "hubspot", "action": "drop"})
    e = lookup_error(strict_client)
    assert type(e) is membrane.NetworkError
    assert (e.code, e.http_status) == (membrane.ENETWORK, 0)
    assert len(mock.requests()) == 1


def test_short_content_length(client: membrane.Client, mock: MockServer) -> None:
    """The body ends before Content-Length says: the connection closed early.

    Response bytes had arrived, so it is not retried even with retries on."""
    mock.fault({"match": "hubspot", "action": "short-content-length"})
    e = lookup_error(client)
    assert type(e) is membrane.NetworkError, repr(e)
    assert e.code == membrane.ENETWORK
    assert len(mock.requests()) == 1


def test_etimeout(mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "delayMs": 3000})
    with membrane.Client(mock.url, TOKEN, timeout_ms=300) as c:
        started = time.monotonic()
        e = lookup_error(c)
        elapsed = time.monotonic() - started
    assert type(e) is membrane.Timeout
    assert (e.code, e.http_status) == (membrane.ETIMEOUT, 0)
    assert 0.25 <= elapsed < 2.0, elapsed


def test_etimeout_covers_a_slow_body(mock: MockServer) -> None:
    """The timeout bounds the whole call, not only the wait for headers."""
    mock.fault({"match": "hubspot", "action": "slow-body", "chunkDelayMs": 400})
    with membrane.Client(mock.url, TOKEN, timeout_ms=600) as c:
        started = time.monotonic()
        e = lookup_error(c)
        elapsed = time.monotonic() - started
    assert type(e) is membrane.Timeout, repr(e)
    assert elapsed < 2.5, elapsed


def test_timeout_is_not_hit_by_a_quick_answer(mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "delayMs": 200})
    with membrane.Client(mock.url, TOKEN, timeout_ms=3000) as c:
        assert c.integration("hubspot")["key"] == "hubspot"


def test_etls_or_enetwork_for_https_to_plain_http(mock: MockServer) -> None:
    """https:// to a plain-HTTP port: the TLS handshake fails on a non-TLS answer.

    Depending on how the server reacts to a ClientHello (answer with an HTTP 400
    page, or close), libcurl reports a handshake failure (ETLS) or a closed
    connection (ENETWORK); both are right, a success or anything else is not.
    """
    with membrane.Client(f"https://{mock.host}:{mock.port}", TOKEN, timeout_ms=5000) as c:
        e = lookup_error(c)
    assert type(e) in (membrane.TLSError, membrane.NetworkError), repr(e)
    assert e.code in (membrane.ETLS, membrane.ENETWORK)
    assert e.http_status == 0


def test_ca_file_that_does_not_exist(mock: MockServer, tmp_path) -> None:
    """A missing CA bundle fails (EINVAL when set, or ETLS on use), never silently trusts."""
    missing = tmp_path / "missing.pem"
    with membrane.Client(f"https://{mock.host}:{mock.port}", TOKEN, timeout_ms=5000) as c:
        try:
            c.set_ca_file(missing)
        except membrane.InvalidArgument:
            return
        e = lookup_error(c)
    assert type(e) in (membrane.TLSError, membrane.NetworkError), repr(e)


def test_ca_file_can_be_reset(client: membrane.Client, tmp_path) -> None:
    client.set_ca_file(None)
    assert client.integration("hubspot")["key"] == "hubspot"


# -- EPROTOCOL -----------------------------------------------------------------


def test_eprotocol_truncated_body(client: membrane.Client, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "action": "truncate"})
    e = lookup_error(client)
    assert type(e) is membrane.ProtocolError, repr(e)
    assert e.code == membrane.EPROTOCOL


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 200, "body": "this is not JSON", "contentType": "application/json"},
        {"status": 200, "body": "<html><body>hi</body></html>", "contentType": "text/html"},
        {"status": 200, "body": "", "contentType": "application/json"},
        {"status": 200, "json": [{"id": "x", "name": "x"}]},
        {"status": 200, "json": "just a string"},
        {"status": 200, "json": None},
        {"status": 200, "json": {"id": "x"}},
        {"status": 200, "json": {"name": None}},
        {"status": 200, "json": {"name": 42}},
    ],
    ids=["not-json", "html-200", "empty", "array", "string", "null",
         "no-name", "null-name", "number-name"],
)
def test_eprotocol_wrong_body(client: membrane.Client, mock: MockServer, fault) -> None:
    mock.fault({"match": "hubspot", **fault})
    e = lookup_error(client)
    assert type(e) is membrane.ProtocolError, repr(e)
    assert (e.code, e.http_status) == (membrane.EPROTOCOL, 200)
    assert e.message


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "state": 5}, "state"),
        ({"name": "x", "id": 12}, "id"),
        ({"name": "x", "isReadOnly": "yes"}, "isReadOnly"),
        ({"name": "x", "parameters": []}, "parameters"),
        ({"name": "x", "errors": {}}, "errors"),
        ({"name": "x", "connection": "none"}, "connection"),
    ],
)
def test_eprotocol_names_the_field(client: membrane.Client, mock: MockServer, body, field) -> None:
    mock.fault({"match": "hubspot", "status": 200, "json": body})
    e = lookup_error(client)
    assert type(e) is membrane.ProtocolError, repr(e)
    assert field in e.message


@pytest.mark.parametrize("action", ["oversized", "oversized-chunked"])
def test_eprotocol_oversized(client: membrane.Client, mock: MockServer, action: str) -> None:
    """The vendor caps responses at 30 MB; a bigger body is refused, not buffered forever."""
    mock.fault({"match": "hubspot", "action": action, "sizeBytes": 48 * 1024 * 1024})
    e = lookup_error(client)
    assert type(e) is membrane.ProtocolError, repr(e)


def test_minimal_valid_body_is_accepted(client: membrane.Client, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "status": 200, "json": {"name": "x", "brandNew": [1, 2]}})
    assert client.integration("hubspot") == {"name": "x", "brandNew": [1, 2]}


def test_unexpected_success_status(client: membrane.Client, mock: MockServer) -> None:
    """A 3xx or 204 is no integration."""
    mock.fault({"match": "hubspot", "status": 204})
    e = lookup_error(client)
    assert type(e) is membrane.ProtocolError, repr(e)
    assert e.http_status == 204


# -- EINTERNAL -----------------------------------------------------------------


@pytest.mark.skip(reason="MEMBRANE_EINTERNAL (out of memory, or a bug) cannot be provoked "
                         "from outside the library")
def test_einternal() -> None:
    raise AssertionError("unreachable")


# -- after a failure, the client still works -----------------------------------


def test_client_recovers_after_faults(strict_client: membrane.Client, mock: MockServer) -> None:
    client = strict_client
    mock.fault(
        {"match": "hubspot", "action": "drop"},
        {"match": "salesforce", "action": "truncate"},
        {"match": "pipedrive", "status": 500},
        {"match": "notion", "status": 503},
    )
    expected = {"hubspot": membrane.NetworkError, "salesforce": membrane.ProtocolError,
                "pipedrive": membrane.ServerError, "notion": membrane.ServerError}
    for selector, cls in expected.items():
        with pytest.raises(cls):
            client.integration(selector)
    for selector in expected:
        assert client.integration(selector)["key"] == selector


def test_gzip_body(client: membrane.Client, mock: MockServer) -> None:
    """The client offers gzip and deflate, and a compressed answer is decoded."""
    plain = client.integration("hubspot")
    mock.fault({"match": "hubspot", "action": "gzip"})
    got = client.integration("hubspot")
    assert got == plain
    accept_encoding = (header_of(mock.last_request(), "accept-encoding") or "").lower()
    assert "gzip" in accept_encoding and "deflate" in accept_encoding, accept_encoding


def test_max_response_bytes_applies_after_decompression(client: membrane.Client,
                                                         mock: MockServer) -> None:
    """The gzip stream is as big as the body here ("stored" blocks), so set the limit
    between the two: the decoded body must count."""
    plain = client.integration("hubspot")
    with membrane.Client(mock.url, TOKEN, max_response_bytes=1000) as small:
        mock.fault({"match": "hubspot", "action": "gzip"})
        with pytest.raises(membrane.ProtocolError) as info:
            small.integration("hubspot")
    assert "1000" in info.value.message
    assert len(str(plain)) > 1000


@pytest.mark.parametrize("location", ["/integrations/salesforce", "http://elsewhere.invalid/x"])
def test_redirect_is_not_followed(client: membrane.Client, mock: MockServer, location: str) -> None:
    """A 3xx is an unexpected status: not followed (the token must not travel elsewhere)."""
    mock.fault({"match": "hubspot", "status": 302, "headers": {"Location": location}})
    e = lookup_error(client)
    assert type(e) is membrane.ProtocolError, repr(e)
    assert e.http_status == 302
    assert len(mock.requests()) == 1
    assert "\r" not in e.message and "\n" not in e.message, repr(e.message)
