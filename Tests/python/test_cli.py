"""examples/python/lookup.py, run as a program."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Dict, List, Optional

import pytest

from conftest import PYTHON_EXAMPLES, TOKEN, MockServer, find_fixture, free_port

LOOKUP = PYTHON_EXAMPLES / "lookup.py"


def run(args: List[str], token: Optional[str] = TOKEN,
        extra_env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MEMBRANE_TOKEN", "MEMBRANE_API_URL")}
    if token is not None:
        env["MEMBRANE_TOKEN"] = token
    env.update(extra_env or {})
    return subprocess.run([sys.executable, str(LOOKUP), *args], env=env, capture_output=True,
                          timeout=60)


def test_success_prints_indented_json(mock: MockServer, fixtures) -> None:
    result = run(["--api-url", mock.url, "hubspot"])
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    text = result.stdout.decode("utf-8")
    got = json.loads(text)
    expected = find_fixture(fixtures, "hubspot")
    assert got["id"] == expected["id"]
    assert got["name"] == expected["name"]
    assert got["parameters"]["clientSecret"] == "********"
    assert text.startswith("{\n  \"")  # indent 2
    assert text.endswith("}\n")


def test_include_secrets(mock: MockServer) -> None:
    result = run(["--include-secrets", "--api-url", mock.url, "67c05c5f0872bad5078153b9"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["parameters"]["clientSecret"] == "hubspot-client-secret-456"


def test_api_url_from_environment(mock: MockServer) -> None:
    result = run(["~search.membrane--getmembrane_com"], extra_env={"MEMBRANE_API_URL": mock.url})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["key"] == "~search.membrane--getmembrane_com"


def test_non_ascii_output(mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "status": 200, "json": {"name": "Ünïcødé ✓"}})
    result = run(["--api-url", mock.url, "hubspot"], extra_env={"LC_ALL": "C", "LANG": "C",
                                                                 "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.decode("utf-8")) == {"name": "Ünïcødé ✓"}


def expect_failure(result: subprocess.CompletedProcess, code: int) -> str:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == code, (result.returncode, stderr)
    assert result.stdout == b""
    assert stderr.startswith("lookup.py: "), stderr
    assert len(stderr.strip()) > len("lookup.py:")
    return stderr


def test_not_found_exits_5(mock: MockServer) -> None:
    expect_failure(run(["--api-url", mock.url, "no-such-integration"]), 5)


def test_wrong_token_exits_3(mock: MockServer) -> None:
    stderr = expect_failure(run(["--api-url", mock.url, "hubspot"], token="cli-secret-999"), 3)
    assert "cli-secret-999" not in stderr


def test_no_token_exits_3(mock: MockServer) -> None:
    expect_failure(run(["--api-url", mock.url, "hubspot"], token=None), 3)
    assert mock.requests() == []


@pytest.mark.parametrize(
    "fault, code",
    [
        ({"status": 403}, 4),
        ({"status": 429, "times": 0}, 6),  # every attempt: lookup.py keeps the default retries
        ({"status": 503, "times": 0}, 8),
        ({"status": 422}, 7),
        ({"status": 500}, 8),
        ({"action": "truncate"}, 12),
    ],
)
def test_error_exit_codes(mock: MockServer, fault, code: int) -> None:
    mock.fault({"match": "hubspot", **fault})
    expect_failure(run(["--api-url", mock.url, "hubspot"]), code)


def test_one_503_is_retried(mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "status": 503, "times": 1})
    result = run(["--api-url", mock.url, "hubspot"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["key"] == "hubspot"
    assert len(mock.requests()) == 2


def test_network_error_exits_9() -> None:
    stderr = expect_failure(run(["--api-url", f"http://127.0.0.1:{free_port()}", "hubspot"]), 9)
    assert "(after 3 attempts)" in stderr, stderr


def test_invalid_selector_exits_2(mock: MockServer) -> None:
    expect_failure(run(["--api-url", mock.url, "x" * 1025]), 2)
    expect_failure(run(["--api-url", mock.url, ""]), 2)
    assert mock.requests() == []


def test_invalid_url_exits_2() -> None:
    expect_failure(run(["--api-url", "ftp://example.com", "hubspot"]), 2)


def test_usage_errors_exit_2() -> None:
    for args in ([], ["--no-such-option", "x"], ["a", "b"]):
        result = run(args)
        assert result.returncode == 2, args
        assert b"usage:" in result.stderr


def test_help_lists_exit_codes() -> None:
    result = run(["--help"])
    assert result.returncode == 0
    text = result.stdout.decode()
    assert "usage: lookup.py [-h] [--include-secrets] [--api-url URL] SELECTOR" in text
    assert "MEMBRANE_TOKEN" in text
    words = {2: "usage", 3: "authenticated", 4: "denied", 5: "not found", 6: "rate",
             7: "4xx", 8: "5xx", 9: "network", 10: "timeout", 11: "TLS", 12: "protocol",
             13: "internal", 14: "cancel"}
    for code, word in words.items():
        assert re.search(rf"^\s*{code}\s+.*{re.escape(word)}", text, re.M | re.I), (code, word)


def test_exit_code_for_every_error_class() -> None:
    sys.path.insert(0, str(PYTHON_EXAMPLES))
    import lookup  # noqa: E402
    import membrane

    expected = {
        membrane.InvalidArgument: 2, membrane.ClientClosed: 2, membrane.NotAuthenticated: 3,
        membrane.AccessDenied: 4, membrane.NotFound: 5, membrane.RateLimited: 6,
        membrane.BadRequest: 7, membrane.ServerError: 8, membrane.NetworkError: 9,
        membrane.Timeout: 10, membrane.TLSError: 11, membrane.ProtocolError: 12,
        membrane.InternalError: 13, membrane.MembraneError: 13, membrane.Canceled: 14,
    }
    for cls, code in expected.items():
        assert lookup.exit_code(cls("x")) == code, cls.__name__
