"""The fault matrix: one row per way a lookup can go wrong on the wire.

Shared by test_faults.py (which checks every row's outcome and timing) and
test_token_hygiene.py (which drives every row again with a recognisable token
and checks that the token shows up nowhere).

Each row runs on a FRESH client (libcurl silently retries once on a reused
kept-alive connection that the server closed, which would hide a fault) and,
unless it needs a real integration, on its own selector `fm-<row id>` that the
row's faults `match`, so that a row only ever counts its own requests.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, Union

import membrane
from conftest import TOKEN, MockServer, free_port

MiB = 1024 * 1024

#: A body big enough to be cut in half or trickled over several chunks.
BIG = {"name": "fault matrix", "padding": "p" * 1500}
SMALL = {"name": "fault matrix"}

FaultSpec = Union[Sequence[Dict[str, Any]], Callable[[], Sequence[Dict[str, Any]]]]


@dataclass(frozen=True)
class Row:
    id: str
    what: str
    faults: FaultSpec
    #: The exception class expected, None for success.
    expect: Optional[Type[membrane.MembraneError]]
    #: 0 when no status line arrived; else the status, even if the transfer was then
    #: abandoned (reset or closed mid-body, past the deadline, over the size limit).
    http_status: int
    #: Requests the server saw for /integrations/<selector>.
    requests: int
    #: Bounds on the call's duration, in seconds.
    max_s: float
    min_s: float = 0.0
    selector: Optional[str] = None
    options: Dict[str, Any] = field(default_factory=dict)
    #: "mock", or "refused" (a port nobody listens on).
    target: str = "mock"
    says: Tuple[str, ...] = ()
    never_says: Tuple[str, ...] = ()
    key: Optional[str] = None
    error_id: Optional[str] = None
    #: (action the row wants, action to use while the mock lacks it).
    fallback: Optional[Tuple[str, str]] = None
    #: On success, the result must equal a plain lookup of this selector.
    same_as: Optional[str] = None

    @property
    def path_selector(self) -> str:
        return self.selector or f"fm-{self.id}"


def _http_date_in(seconds: float) -> str:
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


ROWS: List[Row] = [
    Row("refused", "connection refused (closed port)", [],
        membrane.NetworkError, 0, 0, max_s=1.0, target="refused",
        options={"retry_base_ms": 10}, says=("(after 3 attempts)",)),
    Row("reset-before-headers", "connection reset before any response byte",
        [{"action": "reset-before-headers", "times": 0}],
        membrane.NetworkError, 0, 3, max_s=1.0, options={"retry_base_ms": 10},
        says=("(after 3 attempts)",), fallback=("reset-before-headers", "drop")),
    Row("drop", "connection closed (FIN) before any response byte",
        [{"action": "drop", "times": 0}],
        membrane.NetworkError, 0, 3, max_s=1.0, options={"retry_base_ms": 10},
        says=("(after 3 attempts)",)),
    Row("reset-mid-body", "connection reset in the middle of the body",
        [{"status": 200, "json": BIG, "action": "reset-mid-body", "times": 0}],
        membrane.NetworkError, 200, 1, max_s=1.0, never_says=("attempts",),
        fallback=("reset-mid-body", "short-content-length")),
    Row("short-content-length", "Content-Length 1024 bytes longer than the body",
        [{"status": 200, "json": SMALL, "action": "short-content-length", "times": 0}],
        membrane.NetworkError, 200, 1, max_s=1.0, says=("1024",), never_says=("attempts",)),
    Row("invalid-json", "200 with a body cut in half (invalid JSON)",
        [{"status": 200, "json": BIG, "action": "truncate", "times": 0}],
        membrane.ProtocolError, 200, 1, max_s=1.0, says=("JSON",)),
    Row("wrong-shape", "200 with a JSON array instead of an object",
        [{"status": 200, "json": [1, 2], "times": 0}],
        membrane.ProtocolError, 200, 1, max_s=1.0, says=("object",)),
    Row("wrong-type", "200 with a known field of the wrong type (state: 5)",
        [{"status": 200, "json": {"name": "x", "state": 5}, "times": 0}],
        membrane.ProtocolError, 200, 1, max_s=1.0, says=("state",)),
    Row("oversized", "48 MiB body announced by Content-Length (limit 32 MiB)",
        [{"action": "oversized", "sizeBytes": 48 * MiB, "times": 0}],
        membrane.ProtocolError, 200, 1, max_s=2.0, says=(str(32 * MiB),)),
    Row("oversized-chunked", "48 MiB chunked body, no Content-Length (limit 32 MiB)",
        [{"action": "oversized-chunked", "sizeBytes": 48 * MiB, "times": 0}],
        membrane.ProtocolError, 200, 1, max_s=3.0, says=(str(32 * MiB),)),
    Row("max-response-bytes", "max_response_bytes=1000 against a normal fixture", [],
        membrane.ProtocolError, 200, 1, max_s=1.0, selector="shopify",
        options={"max_response_bytes": 1000}, says=("1000",)),
    Row("slow-headers", "headers after 3 s, timeout 500 ms",
        [{"delayMs": 3000, "times": 0}],
        membrane.Timeout, 0, 1, min_s=0.45, max_s=0.7, options={"timeout_ms": 500}),
    Row("slow-body", "body trickling past the deadline (300 ms a chunk), timeout 700 ms",
        [{"status": 200, "json": BIG, "action": "slow-body", "chunkDelayMs": 300, "times": 0}],
        membrane.Timeout, 200, 1, min_s=0.65, max_s=0.9, options={"timeout_ms": 700}),
    Row("429-retry-after-1", "429 with Retry-After: 1 (max_retries 1)",
        [{"status": 429, "headers": {"Retry-After": "1"}, "times": 0}],
        membrane.RateLimited, 429, 2, min_s=0.95, max_s=2.5, options={"max_retries": 1},
        says=("(after 2 attempts)",), key="rate_limit_exceeded"),
    Row("429-retry-after-date", "429 with Retry-After as an HTTP date 2 s ahead (max_retries 1)",
        lambda: [{"status": 429, "headers": {"Retry-After": _http_date_in(2)}, "times": 0}],
        membrane.RateLimited, 429, 2, min_s=0.95, max_s=3.0, options={"max_retries": 1},
        says=("(after 2 attempts)",), key="rate_limit_exceeded"),
    Row("429-retry-after-120", "429 with Retry-After: 120 beyond a 2 s deadline",
        [{"status": 429, "headers": {"Retry-After": "120"}, "times": 0}],
        membrane.RateLimited, 429, 1, max_s=0.3, options={"timeout_ms": 2000},
        never_says=("attempts",), key="rate_limit_exceeded"),
    Row("503-twice-then-200", "503, 503, then the normal answer",
        [{"status": 503, "times": 2}],
        None, 200, 3, max_s=1.0, selector="notion", options={"retry_base_ms": 10},
        same_as="notion"),
    Row("503-forever", "503 on every attempt: retries exhausted",
        [{"status": 503, "times": 0}],
        membrane.ServerError, 503, 3, max_s=1.0, options={"retry_base_ms": 10},
        says=("(after 3 attempts)",)),
    Row("500-error-id", "500 with data.errorId",
        [{"status": 500, "times": 0, "json": {"type": "internal", "key": "boom",
                                              "message": "Something broke",
                                              "data": {"errorId": "err-matrix-500"}}}],
        membrane.ServerError, 500, 1, max_s=1.0, says=("Something broke",), key="boom",
        error_id="err-matrix-500", never_says=("attempts",)),
    Row("400-unknown-key", "400 with an error key the library does not know",
        [{"status": 400, "times": 0, "json": {"type": "bad_request", "key": "brand_new_key",
                                              "message": "Selector is weird"}}],
        membrane.BadRequest, 400, 1, max_s=1.0, says=("Selector is weird",),
        key="brand_new_key"),
    Row("401", "401", [{"status": 401, "times": 0}],
        membrane.NotAuthenticated, 401, 1, max_s=1.0, key="not_authenticated"),
    Row("403", "403", [{"status": 403, "times": 0}],
        membrane.AccessDenied, 403, 1, max_s=1.0, key="access_denied"),
    Row("404", "404", [{"status": 404, "times": 0}],
        membrane.NotFound, 404, 1, max_s=1.0, key="not_found"),
    Row("html-502", "502 with an nginx HTML page, every attempt",
        [{"action": "html", "times": 0}],
        membrane.ServerError, 502, 3, max_s=1.0, options={"retry_base_ms": 10},
        says=("text/html", "(after 3 attempts)")),
    Row("empty-200", "200 with an empty body",
        [{"status": 200, "body": "", "times": 0}],
        membrane.ProtocolError, 200, 1, max_s=1.0, says=("empty",)),
    Row("gzip", "gzip-encoded body (Content-Encoding: gzip)",
        [{"action": "gzip", "times": 0}],
        None, 200, 1, max_s=1.0, selector="jira", same_as="jira"),
    Row("302", "302 with a Location (redirects are not followed)",
        [{"status": 302, "headers": {"Location": "https://elsewhere.example/next"}, "times": 0}],
        membrane.ProtocolError, 302, 1, max_s=1.0,
        says=("302", "https://elsewhere.example/next")),
]

ROW_IDS = [row.id for row in ROWS]


@dataclass
class Outcome:
    row: Row
    result: Any  # the dict on success, else the MembraneError
    elapsed: float
    requests: int
    note: str = ""
    expected_value: Optional[Dict[str, Any]] = None

    @property
    def error(self) -> Optional[membrane.MembraneError]:
        return self.result if isinstance(self.result, membrane.MembraneError) else None


def faults_for(row: Row, mock: MockServer) -> Tuple[List[Dict[str, Any]], str]:
    """The row's faults, matched to its selector, with the fallback applied if needed."""
    spec = row.faults() if callable(row.faults) else row.faults
    faults = []
    note = ""
    for fault in spec:
        fault = {"match": row.path_selector, **fault}
        if row.fallback and fault.get("action") == row.fallback[0] \
                and not mock.supports_action(row.fallback[0]):
            fault["action"] = row.fallback[1]
            note = f"FALLBACK: mock lacks {row.fallback[0]!r}, used {row.fallback[1]!r}"
        faults.append(fault)
    return faults, note


def run_row(row: Row, mock: MockServer, token: str = TOKEN) -> Outcome:
    """Run one row on a fresh client; the mock must be reset beforehand."""
    expected_value = None
    if row.same_as:
        with membrane.Client(mock.url, token, timeout_ms=10_000) as plain:
            expected_value = plain.integration(row.same_as)
        mock.clear_requests()
    faults, note = faults_for(row, mock)
    if faults:
        mock.fault(*faults)
    url = mock.url if row.target == "mock" else f"http://127.0.0.1:{free_port()}"
    options = {"timeout_ms": 10_000, **row.options}
    with membrane.Client(url, token, **options) as client:
        started = time.monotonic()
        try:
            result: Any = client.integration(row.path_selector)
        except membrane.MembraneError as e:
            result = e
        elapsed = time.monotonic() - started
    seen = len(mock.requests_for(f"/integrations/{row.path_selector}"))
    return Outcome(row, result, elapsed, seen, note, expected_value)
