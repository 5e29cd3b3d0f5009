"""The token never shows up in anything a failure produces.

A recognisable token drives every error path we can reach: each row of the
fault matrix, a 401, bad arguments, refused connections, a timeout, a TLS
failure, a cancel, and servers that echo the token back in their error
bodies and headers. Everything an exception carries (str, repr, args, every
attribute, its pickle) is searched, and so is what lookup.py and the C example
membrane-get print.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

import membrane
from conftest import PYTHON_EXAMPLES, REPO, MockServer, free_port, running_mock
from faultmatrix import ROW_IDS, ROWS, Row, run_row

CANARY = "tok-CANARY-5d41402abc4b2a76b9719d911017c592"
#: Pieces that must not show up either: a message cut at a buffer's end, or a
#: parser's "near '...'" snippet, could hold part of it.
PIECES = (CANARY, "5d41402abc4b2a76b9719d911017c592", "CANARY")

LOOKUP = PYTHON_EXAMPLES / "lookup.py"
MEMBRANE_GET = REPO / ".build" / "examples" / "membrane-get"


def texts_of(e: BaseException) -> List[str]:
    """Everything an exception could show: str, repr, args, attributes, pickle."""
    found = [str(e), repr(e), *map(repr, e.args), repr(vars(e)),
             "".join(traceback.format_exception_only(type(e), e)),
             pickle.dumps(e).decode("latin-1")]
    for name in dir(e):
        if name.startswith("__"):
            continue
        value = getattr(e, name, None)
        if not callable(value):
            found.append(repr(value))
    return found


def assert_clean(what: str, *texts: Any) -> None:
    for text in texts:
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        for piece in PIECES:
            assert piece not in text, f"{what}: {piece!r} leaked in {text[:400]!r}"


def assert_error_clean(what: str, e: BaseException) -> None:
    assert isinstance(e, membrane.MembraneError), f"{what}: not a MembraneError: {e!r}"
    assert_clean(what, *texts_of(e))


def failure(call: Any) -> membrane.MembraneError:
    with pytest.raises(membrane.MembraneError) as info:
        call()
    return info.value


@pytest.fixture(scope="module")
def canary_mock_server() -> Iterator[MockServer]:
    """A second stand-in server that accepts the canary token."""
    with running_mock(CANARY) as server:
        yield server


@pytest.fixture
def canary_mock(canary_mock_server: MockServer) -> MockServer:
    canary_mock_server.reset()
    return canary_mock_server


# -- the fault matrix, with the canary token -------------------------------------------


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_fault_row(canary_mock: MockServer, row: Row) -> None:
    outcome = run_row(row, canary_mock, token=CANARY)
    if row.expect is None:
        assert outcome.error is None, repr(outcome.result)
    else:
        assert outcome.error is not None, f"{row.id}: no failure"
        assert_error_clean(row.id, outcome.error)


# -- a server that echoes the token ---------------------------------------------------


def test_401_with_the_token(mock: MockServer) -> None:
    """The usual mock wants another token: a real 401 for this one."""
    with membrane.Client(mock.url, CANARY) as c:
        e = failure(lambda: c.integration("hubspot"))
        assert_clean("client repr", repr(c), repr(vars(c)))
    assert type(e) is membrane.NotAuthenticated and e.http_status == 401
    assert_error_clean("401", e)


ECHOES = {
    "message": {"status": 400, "json": {"type": "bad_request", "key": "invalid_token",
                                        "message": f"The token {CANARY} is not valid"}},
    "key-and-type": {"status": 400, "json": {"type": f"t-{CANARY}", "key": f"k-{CANARY}",
                                             "message": "bad"}},
    "error-id": {"status": 500, "json": {"type": "internal", "key": "boom", "message": "x",
                                         "data": {"errorId": f"err-{CANARY}"}}},
    "401-message": {"status": 401, "json": {"type": "bad_request", "key": "not_authenticated",
                                            "message": f"Bearer {CANARY} rejected"}},
    "location": {"status": 302, "headers": {"Location": f"https://evil.example/?t={CANARY}"}},
    "invalid-json-near-token": {"status": 200, "body": '{"name": ' + CANARY + "}"},
    "invalid-json-token-string": {"status": 200, "body": '{"name": "' + CANARY},
    "field-name": {"status": 200, "json": {"name": "x", "state": 5, CANARY: 1}},
    "wrong-type-value": {"status": 200, "json": {"name": "x", "state": {"t": CANARY}}},
    "html": {"status": 502, "body": f"<html>{CANARY}</html>", "contentType": "text/html"},
    "long-message": {"status": 400, "json": {"type": "bad_request", "key": "x",
                                             "message": "m" * 230 + CANARY}},
}


@pytest.mark.parametrize("name", list(ECHOES))
def test_server_echoing_the_token(canary_mock: MockServer, name: str) -> None:
    canary_mock.fault({"match": "fm-echo", "times": 0, **ECHOES[name]})
    with membrane.Client(canary_mock.url, CANARY, max_retries=0) as c:
        e = failure(lambda: c.integration("fm-echo"))
    assert_error_clean(name, e)
    if name in ("message", "401-message", "location"):
        assert "[redacted]" in e.message, e.message


# -- failures before or without an answer ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1:1", "not a url", f"http://user:{CANARY}@", "http://exa mple.com"],
)
def test_bad_url(url: str) -> None:
    e = failure(lambda: membrane.Client(url, CANARY))
    assert_error_clean(f"url {url!r}", e)


@pytest.mark.parametrize("token", [CANARY + "\r\nX-Evil: 1", CANARY + "\n", "\t" + CANARY,
                                   CANARY + "\x7f"])
def test_bad_token(mock: MockServer, token: str) -> None:
    e = failure(lambda: membrane.Client(mock.url, token))
    assert type(e) is membrane.InvalidArgument
    assert_error_clean("bad token", e)


def test_bad_arguments(mock: MockServer) -> None:
    with membrane.Client(mock.url, CANARY) as c:
        for call in (lambda: c.integration(""), lambda: c.integration("x" * 1025),
                     lambda: c.integration(b"\xff"), lambda: c.integration("a\0b"),
                     lambda: c.set_timeout(0), lambda: c.set_max_retries(11),
                     lambda: c.set_retry_base(0), lambda: c.set_max_response_bytes(0),
                     lambda: c.set_user_agent(""), lambda: c.set_user_agent(CANARY + "\n")):
            assert_error_clean("bad argument", failure(call))
    assert_error_clean("closed", failure(lambda: c.integration("hubspot")))


def test_token_from_the_environment(mock: MockServer, monkeypatch) -> None:
    monkeypatch.setenv("MEMBRANE_TOKEN", CANARY)
    with membrane.Client(mock.url, None) as c:
        assert_error_clean("env token, 401", failure(lambda: c.integration("hubspot")))
    monkeypatch.setenv("MEMBRANE_TOKEN", CANARY + "\r\n")
    assert_error_clean("env token, bad", failure(lambda: membrane.Client(mock.url, None)))


def test_refused() -> None:
    with membrane.Client(f"http://127.0.0.1:{free_port()}", CANARY, retry_base_ms=1) as c:
        assert_error_clean("refused", failure(lambda: c.integration("hubspot")))


def test_dns_failure() -> None:
    with membrane.Client("http://no-such-host.invalid", CANARY, max_retries=0) as c:
        assert_error_clean("dns", failure(lambda: c.integration("hubspot")))


def test_timeout(canary_mock: MockServer) -> None:
    canary_mock.fault({"match": "hubspot", "delayMs": 2000})
    with membrane.Client(canary_mock.url, CANARY, timeout_ms=200) as c:
        e = failure(lambda: c.integration("hubspot"))
    assert type(e) is membrane.Timeout
    assert_error_clean("timeout", e)


def test_tls_failure_against_a_plain_http_port(canary_mock: MockServer) -> None:
    with membrane.Client(f"https://127.0.0.1:{canary_mock.port}", CANARY, max_retries=0) as c:
        e = failure(lambda: c.integration("hubspot"))
    assert e.code in (membrane.ETLS, membrane.ENETWORK), repr(e)
    assert_error_clean("tls", e)


def test_cancel(canary_mock: MockServer) -> None:
    canary_mock.fault({"match": "hubspot", "delayMs": 3000})
    with membrane.Client(canary_mock.url, CANARY) as c:
        timer = threading.Timer(0.2, c.cancel)
        timer.start()
        e = failure(lambda: c.integration("hubspot"))
        timer.join()
    assert type(e) is membrane.Canceled
    assert_error_clean("cancel", e)


# -- the example programs --------------------------------------------------------------


def _programs() -> List[List[str]]:
    programs = [[sys.executable, str(LOOKUP)]]
    if MEMBRANE_GET.exists():
        programs.append([str(MEMBRANE_GET)])
    return programs


def _run(program: List[str], url: str, selector: str,
         token: Optional[str] = CANARY) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MEMBRANE_TOKEN", "MEMBRANE_API_URL")}
    if token is not None:
        env["MEMBRANE_TOKEN"] = token
    return subprocess.run([*program, "--api-url", url, selector], env=env, capture_output=True,
                          timeout=60)


@pytest.mark.parametrize("program", _programs(), ids=lambda p: Path(p[-1]).name)
def test_example_programs(program: List[str], mock: MockServer, canary_mock: MockServer) -> None:
    cases: Dict[str, subprocess.CompletedProcess] = {}
    cases["401"] = _run(program, mock.url, "hubspot")
    cases["refused"] = _run(program, f"http://127.0.0.1:{free_port()}", "hubspot")
    cases["tls"] = _run(program, f"https://127.0.0.1:{canary_mock.port}", "hubspot")
    cases["invalid selector"] = _run(program, canary_mock.url, "x" * 1025)
    cases["bad url"] = _run(program, f"http://user:{CANARY}@", "hubspot")
    cases["bad token"] = _run(program, canary_mock.url, "hubspot", token=CANARY + "\r\n")
    for name in ("message", "location", "error-id", "invalid-json-near-token"):
        canary_mock.fault({"match": "fm-echo", "times": 0, **ECHOES[name]})
        cases[f"echo {name}"] = _run(program, canary_mock.url, "fm-echo")
        canary_mock.clear_faults()
    for name, result in cases.items():
        assert result.returncode not in (0, None), f"{name}: succeeded?"
        assert result.stderr, f"{name}: nothing said"
        assert_clean(f"{Path(program[-1]).name} {name}", result.stdout, result.stderr)
    # And a success prints the integration, not the token.
    ok = _run(program, canary_mock.url, "hubspot")
    assert ok.returncode == 0, ok.stderr
    assert_clean("success", ok.stdout, ok.stderr)

