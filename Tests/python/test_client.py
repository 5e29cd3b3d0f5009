"""The client's lifetime and options, headers sent, version and strerror, the raw C ABI."""

from __future__ import annotations

import ctypes
import gc
import re
import threading
import time

import pytest

import membrane
from conftest import TOKEN, MockServer, header_of, wait_until

ALL_CODES = [
    membrane.OK, membrane.EINVAL, membrane.EAUTH, membrane.EACCESS, membrane.ENOTFOUND,
    membrane.ERATELIMIT, membrane.EBADREQUEST, membrane.ESERVER, membrane.ENETWORK,
    membrane.ETIMEOUT, membrane.ETLS, membrane.EPROTOCOL, membrane.EINTERNAL,
    membrane.ECANCELED,
]


# -- version, strerror, codes --------------------------------------------------


def test_version() -> None:
    assert re.match(r"^\d+\.\d+\.\d+$", membrane.version())


def test_strerror_every_code_named_and_distinct() -> None:
    messages = [membrane.strerror(code) for code in ALL_CODES]
    assert all(m and m.strip() for m in messages), messages
    assert len(set(messages)) == len(ALL_CODES), messages
    assert "unknown error code" not in messages


@pytest.mark.parametrize("code", [1, -14, 12345, -100, 2 ** 31 - 1, -(2 ** 31), 2 ** 40])
def test_strerror_unknown_code(code: int) -> None:
    assert membrane.strerror(code) == "unknown error code"


def test_codes_match_the_header() -> None:
    assert [membrane.CODES[n] for n in membrane.CODES] == list(range(0, -14, -1))
    assert membrane.CODES["ECANCELED"] == membrane.ECANCELED == -13
    assert membrane.strerror(membrane.ECANCELED) == "canceled"


def test_every_error_code_has_its_class() -> None:
    classes = {membrane.error_class(code) for code in ALL_CODES[1:]}
    assert len(classes) == 13
    for code in ALL_CODES[1:]:
        cls = membrane.error_class(code)
        assert issubclass(cls, membrane.MembraneError)
        assert cls.default_code == code
        assert cls("x").code == code


def test_error_struct_layout_matches_the_header() -> None:
    fields = dict((name, (getattr(membrane._native._CError, name).offset, getattr(membrane._native._CError, name).size))
                  for name, _ in membrane._native._CError._fields_)
    assert fields == {
        "code": (0, 4), "http_status": (4, 4), "type": (8, 32), "key": (40, 64),
        "message": (104, 256), "error_id": (360, 64),
    }
    assert ctypes.sizeof(membrane._native._CError) == 424


# -- the raw C ABI, as a C host would use it ------------------------------------


def test_raw_abi_fills_and_clears_the_error(mock: MockServer) -> None:
    lib = membrane.load_library()
    client = membrane._native._ClientPtr()
    err = membrane._native._CError()
    assert lib.membrane_client_new(ctypes.byref(client), mock.url.encode(), TOKEN.encode(),
                                   ctypes.byref(err)) == membrane.OK
    assert client
    try:
        out = membrane._native._JSONPtr()
        rc = lib.membrane_integration_get(client, b"nope", 0, ctypes.byref(out), ctypes.byref(err))
        assert rc == membrane.ENOTFOUND
        assert not out, "out must be NULL on failure"
        assert (err.code, err.http_status, err.key) == (membrane.ENOTFOUND, 404, b"not_found")
        assert err.message

        rc = lib.membrane_integration_get(client, b"hubspot", 0, ctypes.byref(out), ctypes.byref(err))
        assert rc == membrane.OK and out
        assert err.code == membrane.OK
        assert (err.type, err.key, err.message, err.error_id) == (b"", b"", b"", b"")
        text = lib.membrane_json_dumps(out, 0)
        assert text
        assert b'"hubspot"' in ctypes.string_at(text)
        lib.membrane_free(text)
        lib.membrane_json_release(out)

        # err may be NULL.
        assert lib.membrane_integration_get(client, b"nope", 0, ctypes.byref(out), None) \
            == membrane.ENOTFOUND
        # NULL selector and NULL out are bad arguments, not crashes.
        assert lib.membrane_integration_get(client, None, 0, ctypes.byref(out), ctypes.byref(err)) \
            == membrane.EINVAL
        assert err.code == membrane.EINVAL and err.message
        assert lib.membrane_integration_get(client, b"hubspot", 0, None, None) == membrane.EINVAL
        # Unknown option numbers and options of the other type.
        assert lib.membrane_client_set_long(client, 99, 1) == membrane.EINVAL
        assert lib.membrane_client_set_long(client, membrane.OPT_USER_AGENT, 1) == membrane.EINVAL
        assert lib.membrane_client_set_string(client, membrane.OPT_TIMEOUT_MS, b"1") == membrane.EINVAL
        assert lib.membrane_client_set_string(client, 99, b"x") == membrane.EINVAL
        assert lib.membrane_client_set_string(client, membrane.OPT_USER_AGENT, None) == membrane.EINVAL
        assert lib.membrane_client_set_string(client, membrane.OPT_CA_FILE, None) == membrane.OK
    finally:
        lib.membrane_client_free(client)


def test_raw_abi_null_arguments() -> None:
    lib = membrane.load_library()
    err = membrane._native._CError()
    assert lib.membrane_client_new(None, b"http://127.0.0.1:1", b"t", ctypes.byref(err)) \
        == membrane.EINVAL
    assert err.code == membrane.EINVAL
    out = membrane._native._JSONPtr()
    assert lib.membrane_integration_get(None, b"x", 0, ctypes.byref(out), ctypes.byref(err)) \
        == membrane.EINVAL
    assert lib.membrane_client_set_long(None, membrane.OPT_TIMEOUT_MS, 1) == membrane.EINVAL
    assert lib.membrane_client_set_string(None, membrane.OPT_USER_AGENT, b"x") == membrane.EINVAL
    assert lib.membrane_client_cancel(None) == membrane.EINVAL
    lib.membrane_client_free(None)
    lib.membrane_json_release(None)
    lib.membrane_free(None)
    assert lib.membrane_json_dumps(None, 0) is None


def test_raw_abi_failed_new_sets_out_to_null(no_env) -> None:
    lib = membrane.load_library()
    client = ctypes.cast(ctypes.c_void_p(0x1), membrane._native._ClientPtr)
    err = membrane._native._CError()
    assert lib.membrane_client_new(ctypes.byref(client), b"http://127.0.0.1:1", None,
                                   ctypes.byref(err)) == membrane.EAUTH
    assert not client
    assert err.code == membrane.EAUTH


# -- headers -------------------------------------------------------------------


def test_default_user_agent_and_accept(client: membrane.Client, mock: MockServer) -> None:
    client.integration("hubspot")
    request = mock.last_request()
    ua = header_of(request, "User-Agent")
    assert ua is not None and ua.startswith("libmembrane/")
    assert ua == f"libmembrane/{membrane.version()}"
    assert header_of(request, "Accept") == "application/json"
    assert "authorization" not in request["headers"]  # the mock drops it: never logged


def test_set_user_agent(client: membrane.Client, mock: MockServer) -> None:
    client.set_user_agent("my-app/2.0 (+https://example.com)")
    client.integration("hubspot")
    assert header_of(mock.last_request(), "User-Agent") == "my-app/2.0 (+https://example.com)"
    client.set_user_agent("ünïcødé-agent/1")
    client.integration("hubspot")
    ua = header_of(mock.last_request(), "User-Agent")
    assert ua is not None and ua.endswith("-agent/1")


def test_user_agent_keyword(mock: MockServer) -> None:
    with membrane.Client(mock.url, TOKEN, user_agent="kw-agent/1") as c:
        c.integration("hubspot")
    assert header_of(mock.last_request(), "User-Agent") == "kw-agent/1"


def test_set_user_agent_keeps_a_copy(client: membrane.Client, mock: MockServer) -> None:
    value = ctypes.create_string_buffer(b"copied-agent/1")
    assert client._handle.enter()
    try:
        rc = membrane.load_library().membrane_client_set_string(
            client._handle._ptr, membrane.OPT_USER_AGENT, ctypes.cast(value, ctypes.c_char_p))
    finally:
        client._handle.leave()
    assert rc == membrane.OK
    ctypes.memset(value, ord("X"), len(value) - 1)
    client.integration("hubspot")
    assert header_of(mock.last_request(), "User-Agent") == "copied-agent/1"


def test_options_set_before_sharing_take_effect(mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "delayMs": 1500})
    with membrane.Client(mock.url, TOKEN) as c:
        c.set_timeout(200)
        with pytest.raises(membrane.Timeout):
            c.integration("hubspot")
        mock.fault({"match": "hubspot", "delayMs": 400})
        c.set_timeout(5000)
        assert c.integration("hubspot")["key"] == "hubspot"


# -- lifetime ------------------------------------------------------------------


def test_closed_client_raises(mock: MockServer) -> None:
    c = membrane.Client(mock.url, TOKEN)
    c.close()
    assert c.closed
    for call in (lambda: c.integration("hubspot"), lambda: c.set_timeout(100),
                 lambda: c.set_connect_timeout(100), lambda: c.set_user_agent("x"),
                 lambda: c.set_ca_file(None), lambda: c.set_max_retries(1),
                 lambda: c.set_retry_base(10), lambda: c.set_max_response_bytes(10)):
        with pytest.raises(membrane.ClientClosed) as info:
            call()
        assert isinstance(info.value, membrane.InvalidArgument)
        assert info.value.code == membrane.EINVAL
    assert mock.requests() == []


def test_close_twice(mock: MockServer) -> None:
    c = membrane.Client(mock.url, TOKEN)
    c.close()
    c.close()
    assert c.closed


def test_context_manager_closes(mock: MockServer) -> None:
    with membrane.Client(mock.url, TOKEN) as c:
        assert not c.closed
        assert c.integration("hubspot")["key"] == "hubspot"
    assert c.closed
    with pytest.raises(membrane.ClientClosed):
        c.integration("hubspot")
    with pytest.raises(membrane.ClientClosed):
        with c:
            pass


def test_context_manager_closes_on_exception(mock: MockServer) -> None:
    with pytest.raises(membrane.NotFound):
        with membrane.Client(mock.url, TOKEN) as c:
            c.integration("nope")
    assert c.closed


def test_forgotten_client_is_freed(mock: MockServer) -> None:
    c = membrane.Client(mock.url, TOKEN)
    c.integration("hubspot")
    finalizer = c._finalizer
    handle = c._handle
    assert finalizer.alive
    del c
    gc.collect()
    assert not finalizer.alive
    assert handle.closed and handle._ptr is None


def test_repr_hides_the_token(mock: MockServer) -> None:
    secret = "repr-secret-token-1"
    c = membrane.Client(mock.url, secret)
    try:
        assert secret not in repr(c)
        assert secret not in repr(vars(c))
    finally:
        c.close()
    assert "closed" in repr(c)


def test_results_outlive_the_client(mock: MockServer) -> None:
    with membrane.Client(mock.url, TOKEN) as c:
        got = c.integration("hubspot")
    assert got["key"] == "hubspot"


def test_close_waits_for_lookups_in_flight(mock: MockServer) -> None:
    """close() from another thread neither frees under a running call nor crashes."""
    mock.fault({"match": "hubspot", "delayMs": 800})
    c = membrane.Client(mock.url, TOKEN, timeout_ms=10_000)
    results: list = []

    def lookup() -> None:
        try:
            results.append(c.integration("hubspot"))
        except BaseException as e:  # pragma: no cover - reported below
            results.append(e)

    worker = threading.Thread(target=lookup)
    worker.start()
    assert wait_until(lambda: len(mock.requests()) == 1)  # the call is in flight
    started = time.monotonic()
    c.close()
    waited = time.monotonic() - started
    worker.join(10)
    assert not worker.is_alive()
    assert isinstance(results[0], dict) and results[0]["key"] == "hubspot", results
    assert waited > 0.3, "close() returned while a lookup was in flight"
    assert c.closed
    with pytest.raises(membrane.ClientClosed):
        c.integration("hubspot")


def test_many_clients(mock: MockServer) -> None:
    for _ in range(50):
        with membrane.Client(mock.url, TOKEN) as c:
            assert c.integration("salesforce")["key"] == "salesforce"
    assert len(mock.requests()) == 50
