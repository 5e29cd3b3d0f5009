"""pytest fixtures: the binding on sys.path, the stand-in API server, clients.

Environment:
    MEMBRANE_MOCK     the membrane-mock binary (default <repo>/.build/mock/debug/membrane-mock)
    MEMBRANE_LIBRARY  libmembrane.so to test (default <repo>/.build/release/libmembrane.so,
                      then the system's), as in python/membrane/
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Deque, Dict, Iterator, List, Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO / "python"                  # the package's source (pyproject.toml, membrane/)
PYTHON_EXAMPLES = REPO / "examples" / "python"  # lookup.py
FIXTURES = REPO / "examples" / "fixtures" / "integrations.json"
TOKEN = "mock-token"

sys.path.insert(0, str(PYTHON_EXAMPLES))
sys.path.insert(0, str(PACKAGE_DIR))

# The suite talks to servers on 127.0.0.1 and must not depend on the machine's
# proxy settings (libcurl reads them at every request); test_proxy.py sets its own.
for _name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY", "no_proxy", "NO_PROXY"):
    os.environ.pop(_name, None)

import membrane  # noqa: E402


# ---------------------------------------------------------------------------
# The fixtures file
# ---------------------------------------------------------------------------


def load_fixture_integrations() -> List[Dict[str, Any]]:
    """The integrations the mock serves, as written in the fixtures file."""
    with open(FIXTURES, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, dict):
        for name in ("integrations", "items"):
            if isinstance(data.get(name), list):
                data = data[name]
                break
        else:
            data = list(data.values())
    assert isinstance(data, list) and data, f"no integrations in {FIXTURES}"
    return [item for item in data if isinstance(item, dict)]


@pytest.fixture(scope="session")
def fixtures() -> List[Dict[str, Any]]:
    return load_fixture_integrations()


def find_fixture(items: List[Dict[str, Any]], selector: str) -> Dict[str, Any]:
    for item in items:
        if selector in (item.get("id"), item.get("uuid"), item.get("key")):
            return item
    raise AssertionError(f"no fixture matches {selector!r}")


# ---------------------------------------------------------------------------
# The stand-in server
# ---------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MockServer:
    """A running membrane-mock and its admin endpoints."""

    def __init__(self, process: subprocess.Popen, url: str, output: Deque[str]) -> None:
        self.process = process
        self.url = url
        parsed = urllib.parse.urlsplit(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.output = output
        self._actions: Dict[str, bool] = {}

    # -- admin --------------------------------------------------------------

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            raise AssertionError(
                f"mock admin {method} {path} failed: {e.code} {e.read()[:500]!r}"
            ) from None
        if not raw.strip():
            return None
        return json.loads(raw)

    def fault(self, *faults: Dict[str, Any]) -> None:
        """Queue one or more faults (POST /_mock/faults)."""
        self._admin("POST", "/_mock/faults", faults[0] if len(faults) == 1 else list(faults))

    def try_fault(self, fault: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Queue a fault; None if queued, else the mock's error body (e.g. invalid_fault)."""
        request = urllib.request.Request(self.url + "/_mock/faults", method="POST",
                                         data=json.dumps(fault).encode("utf-8"),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10):
                return None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"raw": raw[:500].decode("utf-8", "replace")}
            body["status"] = e.code
            return body

    def supports_action(self, action: str) -> bool:
        """Whether this mock knows a fault action (probed once; clears the fault queue)."""
        known = self._actions.get(action)
        if known is None:
            problem = self.try_fault({"match": "_probe-never-requested_", "action": action})
            self.clear_faults()
            unknown = (problem is not None and problem.get("key") == "invalid_fault"
                       and action in str(problem.get("message")))
            if problem is not None and not unknown:
                raise AssertionError(f"probing fault action {action!r}: {problem}")
            known = self._actions[action] = problem is None
        return known

    def requests_for(self, selector_path: str) -> List[Dict[str, Any]]:
        """Recorded requests whose raw path is exactly `selector_path`."""
        return [r for r in self.requests() if r.get("path") == selector_path]

    def clear_faults(self) -> None:
        self._admin("DELETE", "/_mock/faults")

    def requests(self) -> List[Dict[str, Any]]:
        """The requests the mock recorded (admin calls aside)."""
        log = self._admin("GET", "/_mock/requests")
        return [r for r in log["requests"] if not r.get("path", "").startswith("/_mock")]

    def clear_requests(self) -> None:
        self._admin("DELETE", "/_mock/requests")

    def last_request(self) -> Dict[str, Any]:
        log = self.requests()
        assert log, "the mock recorded no request"
        return log[-1]

    def reset(self) -> None:
        self.clear_faults()
        self.clear_requests()

    def stats(self) -> Dict[str, int]:
        """GET /_mock/stats (on a connection closed afterwards, as every admin call)."""
        return self._admin("GET", "/_mock/stats")

    def reset_stats(self) -> Dict[str, int]:
        """DELETE /_mock/stats: a new measurement; the counters from just before."""
        return self._admin("DELETE", "/_mock/stats")


def _mock_binary() -> Path:
    return Path(os.environ.get("MEMBRANE_MOCK") or REPO / ".build" / "mock" / "debug" / "membrane-mock")


def _drain(stream: Any, sink: Deque[str]) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line.rstrip("\n"))
    stream.close()


@contextlib.contextmanager
def running_mock(token: str = TOKEN, extra_args: Sequence[str] = ()) -> Iterator[MockServer]:
    """Start a membrane-mock that accepts `token` (and `extra_args`, more flags); stop it on exit."""
    binary = _mock_binary()
    if not binary.exists():
        pytest.fail(f"membrane-mock not found at {binary} (build it, or set MEMBRANE_MOCK)")
    process = subprocess.Popen(
        [str(binary), "--port", "0", "--token", token, "--fixtures", str(FIXTURES), *extra_args],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    output: Deque[str] = collections.deque(maxlen=200)
    first: List[str] = []
    got_first = threading.Event()

    def read_first() -> None:
        assert process.stdout is not None
        first.append(process.stdout.readline())
        got_first.set()
        _drain(process.stdout, output)  # keep the pipe from filling up

    threading.Thread(target=read_first, name="membrane-mock stdout", daemon=True).start()
    threading.Thread(target=_drain, args=(process.stderr, output), name="membrane-mock stderr",
                     daemon=True).start()
    prefix = "membrane-mock listening on "
    try:
        if not got_first.wait(60) or not first[0].startswith(prefix):
            line = first[0].strip() if first else "(nothing)"
            pytest.fail(f"membrane-mock did not start: first line {line!r}, exit {process.poll()}")
        server = MockServer(process, first[0][len(prefix):].strip().rstrip("/"), output)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "package: installs the library and the Python package into temporary "
        "folders (make install, venv, pip); part of the normal run, -m 'not package' skips it")


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    with running_mock(TOKEN) as server:
        yield server


@pytest.fixture
def mock(mock_server: MockServer) -> MockServer:
    """The mock with no faults queued and an empty request log."""
    mock_server.reset()
    return mock_server


@pytest.fixture
def client(mock: MockServer) -> Iterator[membrane.Client]:
    """A fresh client of the mock (no pooled connections), with a short timeout."""
    with membrane.Client(mock.url, TOKEN, timeout_ms=10_000) as c:
        yield c


@pytest.fixture
def strict_client(mock: MockServer) -> Iterator[membrane.Client]:
    """A fresh client that never retries: each fault is seen as it is."""
    with membrane.Client(mock.url, TOKEN, timeout_ms=10_000, max_retries=0) as c:
        yield c


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MEMBRANE_TOKEN / MEMBRANE_API_URL in the environment."""
    monkeypatch.delenv("MEMBRANE_TOKEN", raising=False)
    monkeypatch.delenv("MEMBRANE_API_URL", raising=False)


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def query_of(request: Dict[str, Any]) -> Dict[str, List[str]]:
    """The recorded query as {name: [values]}, whether the mock logs a string or an object."""
    query = request.get("query")
    if query is None:
        return {}
    if isinstance(query, str):
        return urllib.parse.parse_qs(query.lstrip("?"), keep_blank_values=True)
    if isinstance(query, dict):
        return {k: v if isinstance(v, list) else [v] for k, v in query.items()}
    raise AssertionError(f"unexpected query shape in the request log: {query!r}")


def header_of(request: Dict[str, Any], name: str) -> Optional[str]:
    value = request.get("headers", {}).get(name.lower())
    if isinstance(value, list):
        return ", ".join(value)
    return value
