"""One client shared by many threads."""

from __future__ import annotations

import collections
import threading
import time
from typing import Counter, List

import membrane
from conftest import TOKEN, MockServer

THREADS = 8
TOTAL = 2000
SELECTORS = ["hubspot", "salesforce", "no-such-integration"]


def test_shared_client_many_threads(mock: MockServer) -> None:
    per_thread = TOTAL // THREADS
    assert per_thread * THREADS == TOTAL
    counts: Counter = collections.Counter()
    problems: List[str] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    # Every lookup its own request (none shared with another thread's): TOTAL in the log.
    with membrane.Client(mock.url, TOKEN, timeout_ms=30_000, share_requests=False) as client:

        def work(index: int) -> None:
            local: Counter = collections.Counter()
            start.wait()
            for i in range(per_thread):
                selector = SELECTORS[(index + i) % len(SELECTORS)]
                try:
                    got = client.integration(selector)
                except membrane.NotFound as e:
                    if selector != "no-such-integration" or e.http_status != 404:
                        problems.append(f"{selector}: {e!r}")
                    local["not-found"] += 1
                except BaseException as e:
                    problems.append(f"{selector}: {e!r}")
                else:
                    if got.get("key") != selector:
                        problems.append(f"{selector}: got {got.get('key')!r}")
                    local[selector] += 1
            with lock:
                counts.update(local)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        elapsed = time.monotonic() - began
        assert not any(t.is_alive() for t in threads), "lookups hung"

    assert problems == [], problems[:10]
    assert sum(counts.values()) == TOTAL
    expected_found = sum(1 for n in range(THREADS) for i in range(per_thread)
                         if SELECTORS[(n + i) % 3] == "hubspot")
    assert counts["hubspot"] == expected_found
    assert counts["not-found"] > 0 and counts["salesforce"] > 0
    log = mock.requests()
    assert len(log) == TOTAL
    assert all(r["authorized"] for r in log)
    print(f"{TOTAL} lookups on {THREADS} threads in {elapsed:.2f}s")


def test_threads_run_in_parallel(mock: MockServer) -> None:
    """The GIL is released during a lookup: 4 delayed lookups overlap."""
    mock.fault({"match": "salesforce", "delayMs": 700, "times": 4})
    errors: List[BaseException] = []
    # Four requests overlapping on the wire, not one shared by the four lookups.
    with membrane.Client(mock.url, TOKEN, timeout_ms=10_000, share_requests=False) as client:

        def work() -> None:
            try:
                client.integration("salesforce")
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(4)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        elapsed = time.monotonic() - began
    assert errors == []
    assert elapsed < 2.0, f"4 x 700 ms lookups took {elapsed:.2f}s: serialised?"


def test_eight_threads_five_thousand_lookups_each(mock: MockServer) -> None:
    """8 Python threads x 5,000 lookups through one client: no error, every request made."""
    threads_count, per_thread = 8, 5000
    errors: List[str] = []
    found = [0] * threads_count
    start = threading.Barrier(threads_count)
    with membrane.Client(mock.url, TOKEN, timeout_ms=30_000, share_requests=False) as client:

        def work(index: int) -> None:
            start.wait()
            count = 0
            for i in range(per_thread):
                selector = SELECTORS[(index + i) % 2]  # hubspot / salesforce
                try:
                    if client.integration(selector)["key"] == selector:
                        count += 1
                except BaseException as e:  # pragma: no cover - reported below
                    errors.append(f"{selector}: {e!r}")
            found[index] = count

        threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        elapsed = time.monotonic() - began
        assert not any(t.is_alive() for t in threads), "lookups hung"
    assert errors == [], errors[:10]
    assert found == [per_thread] * threads_count
    stats = mock.stats()
    assert stats["requestsInFlight"] == 0
    assert len(mock.requests()) == threads_count * per_thread
    print(f"{threads_count * per_thread} lookups on {threads_count} threads in {elapsed:.2f}s "
          f"({threads_count * per_thread / elapsed:.0f}/s)")
