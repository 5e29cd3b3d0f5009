"""The log hook: every client sends the library's lines to logging.getLogger("membrane")."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Iterator, List

import pytest

import membrane
from conftest import PACKAGE_DIR, TOKEN, MockServer

LINE = re.compile(r"^GET (?P<target>\S+): (?P<what>.+) \(attempt (?P<attempt>\d+), \d+ ms\)$")
RETRY = re.compile(r"^GET (?P<target>\S+): retrying in \d+ ms \(attempt (?P<next>\d+) of (?P<of>\d+)\)$")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO, logger="membrane")
    yield caplog


def lines(caplog: pytest.LogCaptureFixture) -> List[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "membrane"]


def test_success_line(logs: pytest.LogCaptureFixture, client: membrane.Client) -> None:
    client.integration("hubspot")
    [record] = lines(logs)
    assert record.levelno == logging.INFO
    assert re.fullmatch(r"GET /integrations/hubspot\?includeSecrets=false: 200 \(attempt 1, \d+ ms\)",
                        record.getMessage()), record.getMessage()
    assert record.threadName == threading.current_thread().name


def test_an_error_answer_is_info(logs: pytest.LogCaptureFixture, client: membrane.Client) -> None:
    with pytest.raises(membrane.NotFound):
        client.integration("no-such-integration", include_secrets=True)
    [record] = lines(logs)
    assert record.levelno == logging.INFO
    match = LINE.match(record.getMessage())
    assert match and match["target"] == "/integrations/no-such-integration?includeSecrets=true"
    assert match["what"] == "404"


def test_retry_lines(mock: MockServer, logs: pytest.LogCaptureFixture) -> None:
    mock.fault({"match": "hubspot", "status": 503})
    with membrane.Client(mock.url, TOKEN, retry_base_ms=1) as client:
        assert client.integration("hubspot")["key"] == "hubspot"
    records = lines(logs)
    assert [(r.levelno, r.getMessage().split(": ", 1)[1].split(" (")[0]) for r in records] == [
        (logging.WARNING, "503"),
        (logging.WARNING, records[1].getMessage().split(": ", 1)[1].split(" (")[0]),
        (logging.INFO, "200"),
    ]
    retry = RETRY.match(records[1].getMessage())
    assert retry, records[1].getMessage()
    assert "retrying in" in records[1].getMessage()
    assert (retry["next"], retry["of"]) == ("2", "3")
    assert LINE.match(records[2].getMessage())["attempt"] == "2"  # type: ignore[index]


def test_failure_lines(mock: MockServer, logs: pytest.LogCaptureFixture) -> None:
    mock.fault({"match": "hubspot", "action": "drop", "times": 0})
    with membrane.Client(mock.url, TOKEN, max_retries=1, retry_base_ms=1) as client:
        with pytest.raises(membrane.NetworkError):
            client.integration("hubspot")
    records = lines(logs)
    assert [r.levelno for r in records] == [logging.WARNING] * 3
    failures = [LINE.match(r.getMessage()) for r in (records[0], records[2])]
    assert all(f and f["what"] == "Empty reply from server" for f in failures), records
    assert RETRY.match(records[1].getMessage())


def test_server_error_is_a_warning(mock: MockServer, logs: pytest.LogCaptureFixture,
                                   strict_client: membrane.Client) -> None:
    mock.fault({"match": "hubspot", "status": 500})
    with pytest.raises(membrane.ServerError):
        strict_client.integration("hubspot")
    [record] = lines(logs)
    assert record.levelno == logging.WARNING and LINE.match(record.getMessage())["what"] == "500"  # type: ignore[index]


def test_lines_never_hold_the_token(mock: MockServer, logs: pytest.LogCaptureFixture) -> None:
    echo = {"type": "internal", "key": "internal_error", "message": f"Bearer {TOKEN} rejected"}
    mock.fault({"match": "hubspot", "status": 503, "json": echo},
               {"match": "hubspot", "status": 500, "json": echo},
               {"match": "", "json": {"items": [], "cursor": f"Bearer {TOKEN}"}, "times": 2},
               {"match": "salesforce", "action": "reset-before-headers", "times": 0})
    with membrane.Client(mock.url, TOKEN, retry_base_ms=1) as client:
        with pytest.raises(membrane.ServerError):
            client.integration("hubspot")
        with pytest.raises(membrane.ProtocolError):
            list(client.list_integrations())
        with pytest.raises(membrane.NetworkError):
            client.integration("salesforce")
        client.integrations(["hubspot", "pipedrive", "no-such-integration"], include_secrets=True)
    messages = [r.getMessage() for r in lines(logs)]
    assert len(messages) >= 10
    assert not [m for m in messages if TOKEN in m]
    assert not [m for m in logs.text.splitlines() if TOKEN in m]


def test_batch_and_listing_lines(mock: MockServer, logs: pytest.LogCaptureFixture,
                                 client: membrane.Client) -> None:
    client.integrations(["hubspot", "salesforce", "hubspot", "no-such-integration"])
    targets = sorted(LINE.match(r.getMessage())["target"] for r in lines(logs))  # type: ignore[index]
    assert targets == ["/integrations/hubspot?includeSecrets=false",
                       "/integrations/no-such-integration?includeSecrets=false",
                       "/integrations/salesforce?includeSecrets=false"]
    logs.clear()
    list(client.list_integrations(limit=10, search="a b"))
    messages = [r.getMessage() for r in lines(logs)]
    assert [LINE.match(m)["target"] for m in messages] == [  # type: ignore[index]
        "/integrations?limit=10&search=a%20b"] + (
        ["/integrations?limit=10&search=a%20b&cursor=10"] if len(messages) == 2 else [])


def test_lines_come_from_the_calling_thread(logs: pytest.LogCaptureFixture,
                                            client: membrane.Client) -> None:
    def work(n: int) -> None:
        client.integration("hubspot")

    client.set_share_requests(False)  # one request, and so one line, per thread
    threads = [threading.Thread(target=work, args=(n,), name=f"looker-{n}") for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.threadName for r in lines(logs)) == [f"looker-{n}" for n in range(4)]


def test_levels_filter(caplog: pytest.LogCaptureFixture, mock: MockServer,
                       strict_client: membrane.Client) -> None:
    caplog.set_level(logging.WARNING, logger="membrane")
    strict_client.integration("hubspot")
    mock.fault({"match": "salesforce", "status": 502})
    with pytest.raises(membrane.ServerError):
        strict_client.integration("salesforce")
    assert [(r.levelno, LINE.match(r.getMessage())["what"]) for r in lines(caplog)] == [  # type: ignore[index]
        (logging.WARNING, "502")]


class Exploding(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        raise RuntimeError("a handler that fails")


class Interrupting(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        raise KeyboardInterrupt


@contextlib.contextmanager
def handler_on_membrane(handler: logging.Handler) -> Iterator[None]:
    log = logging.getLogger("membrane")
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)


def test_a_failing_handler_cannot_disturb_a_lookup(capfd: pytest.CaptureFixture[str],
                                                    client: membrane.Client) -> None:
    with handler_on_membrane(Exploding()):
        for _ in range(3):
            assert client.integration("hubspot")["key"] == "hubspot"
        assert client.integrations(["hubspot", "salesforce"])[1]["key"] == "salesforce"
        assert len(list(client.list_integrations(limit=5))) > 5
    err = capfd.readouterr().err
    assert "Exception ignored" not in err and "Traceback" not in err, err


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_in_the_callback_is_raised_when_the_call_returns(
        mock: MockServer, capfd: pytest.CaptureFixture[str], client: membrane.Client) -> None:
    """A KeyboardInterrupt must not cross C, nor be lost: it comes after the call."""
    with handler_on_membrane(Interrupting()):
        with pytest.raises(KeyboardInterrupt):
            client.integration("hubspot")
        with pytest.raises(KeyboardInterrupt):
            client.integrations(["hubspot", "salesforce", "pipedrive"])
    assert client.integration("hubspot")["key"] == "hubspot"  # nothing left pending
    assert len(mock.requests()) == 5  # each call ran to its end
    err = capfd.readouterr().err
    assert "Exception ignored" not in err and "Traceback" not in err, err


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_ctrl_c_during_a_lookup(mock: MockServer, logs: pytest.LogCaptureFixture,
                                client: membrane.Client) -> None:
    """SIGINT while the main thread is in the library: delivered once the lookup returns."""
    assert threading.current_thread() is threading.main_thread()
    mock.fault({"match": "hubspot", "status": 503, "delayMs": 400},
               {"match": "hubspot", "delayMs": 400})
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        client.integration("hubspot")
    timer.join()
    assert time.monotonic() - began >= 0.8  # the retried lookup ran to its end first
    assert len(mock.requests()) == 2
    assert [LINE.match(r.getMessage())["what"] for r in lines(logs)  # type: ignore[index]
            if LINE.match(r.getMessage())] == ["503", "200"]  # no line lost either
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_callback_outlives_dropped_clients(mock: MockServer, logs: pytest.LogCaptureFixture) -> None:
    for _ in range(20):
        membrane.Client(mock.url, TOKEN)  # dropped at once: the finalizer frees it
    gc.collect()
    client = membrane.Client(mock.url, TOKEN)
    client.integration("hubspot")
    del client
    gc.collect()
    with membrane.Client(mock.url, TOKEN) as again:
        again.integration("salesforce")
    assert len(lines(logs)) == 2


def test_nothing_is_printed_without_logging_configured(mock: MockServer) -> None:
    """The package adds a NullHandler: warnings do not reach stderr by logging's last resort."""
    mock.fault({"match": "hubspot", "status": 503, "times": 2})
    script = ("import membrane\n"
              f"c = membrane.Client({mock.url!r}, {TOKEN!r}, retry_base_ms=1)\n"
              "print(c.integration('hubspot')['key'])\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(PACKAGE_DIR)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hubspot\n"
    assert result.stderr == b""


def run_script(script: str) -> subprocess.CompletedProcess:
    """A fresh interpreter: no pytest handler on the root logger, logging unconfigured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(PACKAGE_DIR)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=60)


def test_lines_are_asked_for_only_while_a_handler_would_get_them(mock: MockServer) -> None:
    script = f"""
import logging, sys, membrane
c = membrane.Client({mock.url!r}, {TOKEN!r})
c.integration('hubspot')
print('unconfigured', c._handle.log_on)
handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(logging.Formatter('line %(levelname)s %(message)s'))
logging.getLogger().addHandler(handler)
logging.getLogger('membrane').setLevel(logging.INFO)
c.integration('salesforce')                           # the next call sends its line
print('configured', c._handle.log_on)
logging.getLogger('membrane').setLevel(logging.ERROR)  # above the library's levels
c.integration('pipedrive')
print('above WARNING', c._handle.log_on)
logging.getLogger('membrane').setLevel(logging.INFO)
logging.getLogger().removeHandler(handler)
c.integration('zendesk')
print('handler removed', c._handle.log_on)
"""
    result = run_script(script)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout.splitlines()
    assert out[0] == "unconfigured False"
    assert re.fullmatch(r"line INFO GET /integrations/salesforce\?includeSecrets=false: 200 "
                        r"\(attempt 1, \d+ ms\)", out[1]), out
    assert out[2:] == ["configured True", "above WARNING False", "handler removed False"]
    assert [r["path"] for r in mock.requests()] == [
        "/integrations/hubspot", "/integrations/salesforce", "/integrations/pipedrive",
        "/integrations/zendesk"]


def test_ctrl_c_during_a_lookup_without_logging(mock: MockServer) -> None:
    """No callback, no signal handler swapped: the interrupt still comes once the call returns."""
    mock.fault({"match": "hubspot", "delayMs": 600})
    script = f"""
import os, signal, threading, time, membrane
c = membrane.Client({mock.url!r}, {TOKEN!r})
threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
began = time.monotonic()
try:
    c.integration('hubspot')
except KeyboardInterrupt:
    print('interrupted after', round(time.monotonic() - began, 1), c._handle.log_on)
print('handler', signal.getsignal(signal.SIGINT) is signal.default_int_handler)
print('again', c.integration('salesforce')['key'])
"""
    result = run_script(script)
    assert result.returncode == 0, result.stderr
    lines_out = result.stdout.splitlines()
    assert lines_out[0].startswith("interrupted after ") and lines_out[0].endswith(" False"), lines_out
    assert float(lines_out[0].split()[2]) >= 0.6  # the lookup ran to its end first
    assert lines_out[1:] == ["handler True", "again salesforce"]
    assert len(mock.requests()) == 2
