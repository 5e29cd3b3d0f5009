"""Client.cancel(): from another thread, lookups in flight end with Canceled promptly.

The measured latencies (cancel() called -> lookup returned) are written to
.build/test-logs/cancel-python.txt.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, Optional

import pytest

import membrane
from conftest import REPO, TOKEN, MockServer, wait_until

LOG = REPO / ".build" / "test-logs" / "cancel-python.txt"
#: membrane.h promises 100 ms; the binding and a loaded machine get 50 more.
PROMPT = 0.15

_latencies: Dict[str, float] = {}


def _log(name: str, latency: float) -> None:
    _latencies[name] = latency
    LOG.parent.mkdir(parents=True, exist_ok=True)
    LOG.write_text("".join(f"{k}: {v * 1000:.1f} ms from cancel() to the lookup's return\n"
                           for k, v in _latencies.items()), encoding="utf-8")


class Lookup(threading.Thread):
    """A lookup on a thread of its own, timed."""

    def __init__(self, client: membrane.Client, selector: str) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.selector = selector
        self.result: Any = None
        self.returned_at: Optional[float] = None

    def run(self) -> None:
        try:
            self.result = self.client.integration(self.selector)
        except BaseException as e:  # noqa: BLE001 - checked by the test
            self.result = e
        self.returned_at = time.monotonic()


def cancel_after(client: membrane.Client, seconds: float) -> threading.Thread:
    """Calls client.cancel() from a second thread `seconds` from now; the thread
    records the moment in .called_at (just before the call)."""

    def run() -> None:
        time.sleep(seconds)
        thread.called_at = time.monotonic()  # type: ignore[attr-defined]
        client.cancel()
        thread.returned_at = time.monotonic()  # type: ignore[attr-defined]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_cancel_a_lookup_waiting_for_headers(mock: MockServer) -> None:
    mock.fault({"match": "fm-cancel", "delayMs": 5000})
    with membrane.Client(mock.url, TOKEN, timeout_ms=20_000) as client:
        started = time.monotonic()
        canceller = cancel_after(client, 0.3)
        with pytest.raises(membrane.Canceled) as info:
            client.integration("fm-cancel")
        returned = time.monotonic()
        canceller.join(5)
        latency = returned - canceller.called_at  # type: ignore[attr-defined]
        _log("waiting for headers (delayMs 5000, cancel at 300 ms)", latency)
        e = info.value
        assert (e.code, e.http_status) == (membrane.ECANCELED, 0)
        assert isinstance(e, membrane.MembraneError)
        assert e.message
        assert canceller.returned_at - canceller.called_at < PROMPT  # cancel() itself is quick
        assert latency < PROMPT, f"{latency * 1000:.0f} ms from cancel() to Canceled"
        assert returned - started < 0.3 + PROMPT + 0.1
        assert len(mock.requests_for("/integrations/fm-cancel")) == 1, "a canceled call is not retried"

        # The same client works afterwards.
        assert client.integration("hubspot")["key"] == "hubspot"


def test_cancel_during_a_backoff_wait(mock: MockServer) -> None:
    mock.fault({"match": "fm-backoff", "status": 503, "times": 0})
    # Full jitter: each wait is uniform in [0, base * 2^n), so with base 2 s and
    # 10 retries the call is all but certainly sleeping when cancel() comes.
    with membrane.Client(mock.url, TOKEN, timeout_ms=60_000, retry_base_ms=2000,
                         max_retries=10) as client:
        lookup = Lookup(client, "fm-backoff")
        lookup.start()
        assert wait_until(lambda: len(mock.requests_for("/integrations/fm-backoff")) >= 1)
        time.sleep(0.3)
        seen_before = len(mock.requests_for("/integrations/fm-backoff"))
        called_at = time.monotonic()
        client.cancel()
        lookup.join(5)
        assert not lookup.is_alive(), "cancel() did not end the backoff wait"
        latency = lookup.returned_at - called_at
        _log(f"backoff wait (503 forever, retry_base_ms 2000; {seen_before} attempt(s) made)",
             latency)
        assert isinstance(lookup.result, membrane.Canceled), repr(lookup.result)
        assert lookup.result.code == membrane.ECANCELED
        assert latency < PROMPT, f"{latency * 1000:.0f} ms from cancel() to Canceled"
        time.sleep(0.1)
        assert len(mock.requests_for("/integrations/fm-backoff")) == seen_before, \
            "an attempt was made after cancel()"

        mock.clear_faults()
        assert client.integration("notion")["key"] == "notion"


def test_cancel_reaches_every_lookup_in_flight(mock: MockServer) -> None:
    mock.fault({"match": "fm-many", "delayMs": 5000, "times": 0})
    # Four requests, not one shared by the four lookups.
    with membrane.Client(mock.url, TOKEN, timeout_ms=20_000, share_requests=False) as client:
        lookups = [Lookup(client, "fm-many") for _ in range(4)]
        for lookup in lookups:
            lookup.start()
        assert wait_until(lambda: len(mock.requests_for("/integrations/fm-many")) == 4)
        called_at = time.monotonic()
        client.cancel()
        for lookup in lookups:
            lookup.join(5)
        latencies = [lookup.returned_at - called_at for lookup in lookups]
        _log("4 lookups in flight, the slowest", max(latencies))
        assert all(isinstance(lookup.result, membrane.Canceled) for lookup in lookups), \
            [lookup.result for lookup in lookups]
        assert max(latencies) < PROMPT, latencies


def test_cancel_with_nothing_in_flight_is_harmless(client: membrane.Client) -> None:
    client.cancel()
    client.cancel()
    assert client.integration("hubspot")["key"] == "hubspot"


def test_cancel_is_not_blocked_by_close(mock: MockServer) -> None:
    """close() waits for lookups in flight; cancel() from another thread ends them."""
    mock.fault({"match": "fm-close", "delayMs": 5000})
    client = membrane.Client(mock.url, TOKEN, timeout_ms=20_000)
    lookup = Lookup(client, "fm-close")
    lookup.start()
    assert wait_until(lambda: len(mock.requests_for("/integrations/fm-close")) == 1)
    closer = threading.Thread(target=client.close, daemon=True)
    closer.start()
    time.sleep(0.2)
    assert closer.is_alive(), "close() returned while a lookup was in flight"
    called_at = time.monotonic()
    client.cancel()  # must neither wait for close() nor be refused because of it
    cancel_took = time.monotonic() - called_at
    closer.join(5)
    lookup.join(5)
    assert not closer.is_alive() and not lookup.is_alive()
    assert isinstance(lookup.result, membrane.Canceled), repr(lookup.result)
    assert cancel_took < PROMPT, cancel_took
    assert client.closed
    client.cancel()  # after close: nothing in flight, nothing to do
    with pytest.raises(membrane.ClientClosed):
        client.integration("hubspot")


def test_canceled_error_class() -> None:
    assert membrane.error_class(membrane.ECANCELED) is membrane.Canceled
    assert membrane.Canceled.default_code == membrane.ECANCELED == -13
    assert membrane.CODES["ECANCELED"] == -13
    assert membrane.strerror(membrane.ECANCELED) == "canceled"
    assert membrane.Canceled("x").code == -13


def test_raw_cancel_null_is_einval() -> None:
    assert membrane.load_library().membrane_client_cancel(None) == membrane.EINVAL


def test_lookup_exit_code_for_canceled() -> None:
    import lookup  # examples/python, on sys.path through conftest

    assert lookup.exit_code(membrane.Canceled("x")) == 14
