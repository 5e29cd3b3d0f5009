"""The fault matrix: one row per way a lookup can go wrong on the wire.

The rows are data, in Tests/faults/matrix.json, shared with the C runner
(Tests/c/test_faults.c); the file says what each field means. This module
reads them for test_faults.py (which checks every row's outcome and timing)
and test_token_hygiene.py (which drives every row again with a recognisable
token and checks that the token shows up nowhere).

Each row runs on a FRESH client (libcurl silently retries once on a reused
kept-alive connection that the server closed, which would hide a fault) and
on its own selector (default `fm-<row id>`) that the row's faults `match`, so
that a row only ever counts its own requests.
"""

from __future__ import annotations

import copy
import email.utils
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, Union

import membrane
from conftest import REPO, TOKEN, MockServer, free_port

ROWS_FILE = REPO / "Tests" / "faults" / "matrix.json"

#: Options every row gets unless it says otherwise (the same as the C runner's).
DEFAULT_OPTIONS = {"timeout_ms": 10_000, "retry_base_ms": 20}

FaultSpec = Union[Sequence[Dict[str, Any]], Callable[[], Sequence[Dict[str, Any]]]]


def _exception_for(code_name: str) -> Optional[Type[membrane.MembraneError]]:
    """The exception class a MEMBRANE_* code name raises; None for OK."""
    if code_name == "OK":
        return None
    code = getattr(membrane, code_name)
    classes = [membrane.MembraneError]
    found: Optional[Type[membrane.MembraneError]] = None
    while classes:
        cls = classes.pop()
        if cls.default_code == code and cls is not membrane.MembraneError:
            found = cls
        classes.extend(cls.__subclasses__())
    if found is None:
        raise ValueError(f"no exception class for {code_name}")
    return found


def expand(value: Any, mock_url: str) -> Any:
    """`value` with the file's placeholders filled in: $MOCK_URL (a prefix),
    "$HTTP_DATE+N" (an HTTP date N s ahead), "$PADDING" (1500 p's)."""
    if isinstance(value, str):
        if value.startswith("$MOCK_URL"):
            return mock_url + value[len("$MOCK_URL"):]
        if value.startswith("$HTTP_DATE+"):
            return email.utils.formatdate(time.time() + float(value[len("$HTTP_DATE+"):]), usegmt=True)
        if value == "$PADDING":
            return "p" * 1500
        return value
    if isinstance(value, dict):
        return {k: expand(v, mock_url) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, mock_url) for v in value]
    return value


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
    #: Requests the server saw for the row's selector.
    requests: int
    #: Bounds on the call's duration, in seconds.
    max_s: float
    min_s: float = 0.0
    selector: Optional[str] = None
    options: Dict[str, Any] = field(default_factory=dict)
    #: "mock", or "refused" (a port nobody listens on).
    target: str = "mock"
    #: Message substrings; may hold $MOCK_URL (see `expand`).
    says: Tuple[str, ...] = ()
    never_says: Tuple[str, ...] = ()
    key: Optional[str] = None
    type: Optional[str] = None
    error_id: Optional[str] = None
    #: {action the row wants: action to use while the mock lacks it}.
    fallback: Dict[str, str] = field(default_factory=dict)
    #: On success, the result must equal a plain lookup of this selector.
    same_as: Optional[str] = None
    #: A selector the server must never have been asked for.
    not_requested: Optional[str] = None

    @property
    def path_selector(self) -> str:
        return self.selector or f"fm-{self.id}"

    @classmethod
    def from_json(cls, row: Dict[str, Any]) -> "Row":
        expect = row["expect"]
        return cls(
            id=row["id"], what=row["what"], faults=tuple(row.get("faults", [])),
            expect=_exception_for(expect["code"]), http_status=expect["http_status"],
            # null: the server is not the target (a refused port), so it sees none.
            requests=expect["requests"] if expect["requests"] is not None else 0,
            max_s=expect["max_ms"] / 1000, min_s=expect.get("min_ms", 0) / 1000,
            selector=row.get("selector"), options=row.get("options", {}),
            target=row.get("target", "mock"), says=tuple(expect.get("says", ())),
            never_says=tuple(expect.get("never_says", ())), key=expect.get("key"),
            type=expect.get("type"), error_id=expect.get("error_id"),
            fallback=row.get("fallback", {}), same_as=expect.get("same_as"),
            not_requested=expect.get("not_requested"))


def load_rows() -> List[Row]:
    with open(ROWS_FILE, encoding="utf-8") as f:
        return [Row.from_json(row) for row in json.load(f)["rows"]]


ROWS: List[Row] = load_rows()

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
    """The row's faults, matched to its selector, placeholders filled, with the
    fallback applied where the mock lacks an action."""
    spec = row.faults() if callable(row.faults) else row.faults
    faults = []
    note = ""
    for fault in spec:
        fault = expand({"match": row.path_selector, **copy.deepcopy(fault)}, mock.url)
        action = fault.get("action")
        if action in row.fallback and not mock.supports_action(action):
            fault["action"] = row.fallback[action]
            note = f"FALLBACK: mock lacks {action!r}, used {row.fallback[action]!r}"
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
    options = {**DEFAULT_OPTIONS, **row.options}
    with membrane.Client(url, token, **options) as client:
        started = time.monotonic()
        try:
            result: Any = client.integration(row.path_selector)
        except membrane.MembraneError as e:
            result = e
        elapsed = time.monotonic() - started
    seen = sum(1 for r in mock.requests() if r.get("selector") == row.path_selector)
    return Outcome(row, result, elapsed, seen, note, expected_value)
