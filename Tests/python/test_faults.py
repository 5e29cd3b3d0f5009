"""The fault matrix (see faultmatrix.py): what each wire failure becomes, how many
requests it costs, and how long it takes.

Every row writes its measurements to .build/test-logs/fault-matrix-python.txt.
"""

from __future__ import annotations

import time
from typing import Dict, Iterator

import pytest

import membrane
from conftest import REPO, MockServer
from faultmatrix import ROW_IDS, ROWS, Outcome, Row, expand, run_row

TABLE = REPO / ".build" / "test-logs" / "fault-matrix-python.txt"

_results: Dict[str, str] = {}


def _describe(outcome: Outcome) -> str:
    e = outcome.error
    if e is None:
        return "success"
    return f"{type(e).__name__}({e.code}) http={e.http_status}"


def _expected(row: Row) -> str:
    if row.expect is None:
        return "success"
    return f"{row.expect.__name__}({row.expect.default_code}) http={row.http_status}"


def _write_table() -> None:
    header = (f"{'row':<22} {'expected':<30} {'got':<30} {'req':>3}/{'exp':<3} "
              f"{'elapsed ms':>10}  {'bound ms':<11} message / note")
    lines = [
        "libmembrane fault matrix (Python binding, Tests/python/test_faults.py)",
        f"written {time.strftime('%Y-%m-%d %H:%M:%S')}; one fresh client per row",
        "",
        header,
        "-" * len(header),
    ]
    lines += [_results[row.id] for row in ROWS if row.id in _results]
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _record(outcome: Outcome) -> None:
    row = outcome.row
    e = outcome.error
    text = e.message if e is not None else ""
    if outcome.note:
        text = f"{text} [{outcome.note}]" if text else f"[{outcome.note}]"
    bound = f"{row.min_s * 1000:.0f}..{row.max_s * 1000:.0f}" if row.min_s else \
        f"<{row.max_s * 1000:.0f}"
    _results[row.id] = (
        f"{row.id:<22} {_expected(row):<30} {_describe(outcome):<30} "
        f"{outcome.requests:>3}/{row.requests:<3} {outcome.elapsed * 1000:>10.0f}  "
        f"{bound:<11} {text}"
    )
    _write_table()


@pytest.fixture(scope="module", autouse=True)
def _table() -> Iterator[None]:
    _results.clear()
    yield
    _write_table()


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_fault(mock: MockServer, row: Row) -> None:
    outcome = run_row(row, mock)
    _record(outcome)
    e = outcome.error
    detail = f"{row.what}: got {outcome.result!r}, {outcome.requests} requests, " \
             f"{outcome.elapsed * 1000:.0f} ms"

    if row.expect is None:
        assert e is None, detail
        assert outcome.result == outcome.expected_value, detail
    else:
        assert e is not None, detail
        assert type(e) is row.expect, detail
        assert e.code == row.expect.default_code, detail
        assert e.http_status == row.http_status, detail
        assert e.message, detail
        assert "\n" not in e.message and "\r" not in e.message, detail
        for words in row.says:
            words = expand(words, mock.url)
            assert words in e.message, f"{words!r} not in the message; {detail}"
        for words in row.never_says:
            assert words not in e.message, f"{words!r} in the message; {detail}"
        if row.key is not None:
            assert e.key == row.key, detail
        if row.error_id is not None:
            assert e.error_id == row.error_id, detail
        if row.type is not None:
            assert e.type == row.type, detail

    assert outcome.requests == row.requests, detail
    assert row.min_s <= outcome.elapsed < row.max_s, detail
    if row.not_requested is not None:
        assert not [r for r in mock.requests() if r.get("selector") == row.not_requested], detail


# -- retries, more closely -------------------------------------------------------


def test_max_retries_zero_turns_retries_off(mock: MockServer) -> None:
    mock.fault({"match": "notion", "status": 503, "times": 1})
    with membrane.Client(mock.url, timeout_ms=10_000, token="mock-token", max_retries=0) as c:
        with pytest.raises(membrane.ServerError) as info:
            c.integration("notion")
        assert "attempts" not in info.value.message
        assert len(mock.requests_for("/integrations/notion")) == 1
        # The fault is used up: the next call goes through.
        assert c.integration("notion")["key"] == "notion"


def test_max_retries_counts_attempts(mock: MockServer) -> None:
    mock.fault({"match": "fm-five", "status": 504, "times": 0})
    with membrane.Client(mock.url, "mock-token", max_retries=5, retry_base_ms=1) as c:
        with pytest.raises(membrane.ServerError) as info:
            c.integration("fm-five")
    assert info.value.http_status == 504
    assert info.value.message.endswith("(after 6 attempts)"), info.value.message
    assert len(mock.requests_for("/integrations/fm-five")) == 6


def test_429_once_then_success(mock: MockServer) -> None:
    mock.fault({"match": "slack", "status": 429, "headers": {"Retry-After": "0"}, "times": 1})
    with membrane.Client(mock.url, "mock-token", timeout_ms=10_000) as c:
        started = time.monotonic()
        assert c.integration("slack")["key"] == "slack"
        elapsed = time.monotonic() - started
    assert len(mock.requests_for("/integrations/slack")) == 2
    assert elapsed < 1.0, elapsed


def test_deadline_bounds_retries(mock: MockServer) -> None:
    """Backoff waits count against timeout_ms: the call ends at the deadline, not after."""
    mock.fault({"match": "fm-deadline", "status": 503, "times": 0})
    with membrane.Client(mock.url, "mock-token", timeout_ms=600, max_retries=10,
                         retry_base_ms=200) as c:
        started = time.monotonic()
        with pytest.raises(membrane.MembraneError) as info:
            c.integration("fm-deadline")
        elapsed = time.monotonic() - started
    # The last attempt's error: a 503 (a wait reaching past the deadline ends the call).
    assert type(info.value) in (membrane.ServerError, membrane.Timeout), repr(info.value)
    assert elapsed < 0.75, elapsed
