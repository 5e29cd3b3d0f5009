"""client.integrations(): many lookups in one call (membrane_integrations_get_many)."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Dict, List

import pytest

import membrane
from conftest import TOKEN, MockServer, find_fixture, query_of, wait_until


def keys_of(results: List[Any]) -> List[Any]:
    return [r["key"] if isinstance(r, dict) else type(r).__name__ for r in results]


def test_results_in_input_order(client: membrane.Client, fixtures: List[Dict[str, Any]]) -> None:
    selectors = ["salesforce", "hubspot", "pipedrive", "~app.membrane", "zendesk"]
    results = client.integrations(selectors)
    assert keys_of(results) == selectors
    for selector, result in zip(selectors, results):
        assert result["id"] == find_fixture(fixtures, selector)["id"]


def test_by_id_uuid_and_key(client: membrane.Client, fixtures: List[Dict[str, Any]]) -> None:
    hubspot = find_fixture(fixtures, "hubspot")
    results = client.integrations([hubspot["id"], hubspot["uuid"], "hubspot"])
    assert [r["id"] for r in results] == [hubspot["id"]] * 3


def test_mixed_successes_and_failures(mock: MockServer, strict_client: membrane.Client) -> None:
    mock.fault({"match": "pipedrive", "status": 500})
    results = strict_client.integrations(
        ["hubspot", "no-such-integration", "", "a\0b", "pipedrive", b"salesforce", "x" * 1025])
    assert isinstance(results[0], dict) and results[0]["key"] == "hubspot"

    missing = results[1]
    assert type(missing) is membrane.NotFound
    assert (missing.code, missing.http_status, missing.type, missing.key) == (
        membrane.ENOTFOUND, 404, "bad_request", "not_found")
    assert "no-such-integration" in missing.message and missing.error_id == ""

    empty = results[2]  # the library's verdict
    assert type(empty) is membrane.InvalidArgument
    assert (empty.code, empty.http_status) == (membrane.EINVAL, 0) and empty.message

    nul = results[3]  # cannot reach C: the binding's verdict, in the same form
    assert type(nul) is membrane.InvalidArgument and "NUL" in nul.message

    server = results[4]
    assert type(server) is membrane.ServerError
    assert server.http_status == 500 and server.key == "internal_error"
    assert server.error_id.startswith("err-")

    assert results[5]["key"] == "salesforce"
    too_long = results[6]
    assert type(too_long) is membrane.InvalidArgument and "1024" in too_long.message
    # Only the valid selectors were requested.
    paths = sorted(r["path"] for r in mock.requests())
    assert paths == ["/integrations/hubspot", "/integrations/no-such-integration",
                     "/integrations/pipedrive", "/integrations/salesforce"]


def test_errors_are_returned_not_raised_and_pickle(client: membrane.Client) -> None:
    import pickle

    [error] = client.integrations(["no-such-integration"])
    assert isinstance(error, membrane.MembraneError)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.code, copy.http_status, copy.key, copy.message) == (
        type(error), error.code, error.http_status, error.key, error.message)


def test_duplicates_fetched_once(mock: MockServer, client: membrane.Client) -> None:
    selectors = ["hubspot", "salesforce", "hubspot", "no-such-integration", "hubspot",
                 "salesforce", "no-such-integration"]
    results = client.integrations(selectors)
    assert keys_of(results) == ["hubspot", "salesforce", "hubspot", "NotFound", "hubspot",
                                "salesforce", "NotFound"]
    assert results[0] == results[2] == results[4]
    assert results[0] is not results[2]  # separate dicts: changing one leaves the others
    counts = collections.Counter(r["path"] for r in mock.requests())
    assert counts == {"/integrations/hubspot": 1, "/integrations/salesforce": 1,
                      "/integrations/no-such-integration": 1}


def test_empty_list(mock: MockServer, client: membrane.Client) -> None:
    assert client.integrations([]) == []
    assert client.integrations(iter(())) == []
    assert mock.requests() == []


def test_any_iterable(client: membrane.Client) -> None:
    results = client.integrations(s for s in ("hubspot", "salesforce"))
    assert keys_of(results) == ["hubspot", "salesforce"]


def test_include_secrets(mock: MockServer, client: membrane.Client) -> None:
    masked, revealed = client.integrations(["salesforce"]), client.integrations(
        ["salesforce"], include_secrets=True)
    assert masked[0]["parameters"]["clientSecret"] == "********"
    assert revealed[0]["parameters"]["clientSecret"] != "********"
    assert [query_of(r)["includeSecrets"] for r in mock.requests()] == [["false"], ["true"]]


def test_a_thousand_selectors(mock: MockServer, client: membrane.Client,
                              fixtures: List[Dict[str, Any]]) -> None:
    known = [item["key"] for item in fixtures if item.get("key")]
    selectors = known + [f"missing-{n}" for n in range(1000 - len(known))]
    began = time.monotonic()
    results = client.integrations(selectors)
    elapsed = time.monotonic() - began
    assert len(results) == 1000
    assert keys_of(results[:len(known)]) == known
    assert all(type(r) is membrane.NotFound and f"'missing-{n}'" in r.message
               for n, r in enumerate(results[len(known):]))
    assert len(mock.requests()) == 1000
    assert elapsed < 30, f"1,000 lookups took {elapsed:.1f}s"


def test_whole_call_failures_raise(mock: MockServer) -> None:
    with membrane.Client(mock.url, TOKEN) as client:
        with pytest.raises(TypeError, match=r"selectors\[1\]"):
            client.integrations(["hubspot", 42])  # type: ignore[list-item]
        with pytest.raises(TypeError):
            client.integrations("hubspot")  # a str is not a list of selectors
        with pytest.raises(TypeError):
            client.integrations(None)  # type: ignore[arg-type]
    assert mock.requests() == []
    with pytest.raises(membrane.ClientClosed):
        client.integrations([])
    with pytest.raises(membrane.ClientClosed):
        client.integrations(["hubspot"])


def test_cancel_ends_the_whole_call(mock: MockServer, client: membrane.Client) -> None:
    mock.fault({"delayMs": 1500, "times": 0})
    threading.Timer(0.3, client.cancel).start()
    began = time.monotonic()
    with pytest.raises(membrane.Canceled):
        client.integrations(["hubspot", "salesforce", "pipedrive"])
    assert time.monotonic() - began < 1.2
    mock.clear_faults()
    assert client.integrations(["hubspot"])[0]["key"] == "hubspot"  # later calls work


# -- parallelism ------------------------------------------------------------------


def measure_parallelism(mock: MockServer, client: membrane.Client, selectors: List[str],
                        delay_ms: int) -> Dict[str, float]:
    """Run a batch whose requests each take `delay_ms`; the mock's counters for it.

    "maxConnectionsOpen" comes back as the most the batch added to the
    connections open before it (the admin connection a reset arrives on
    included, standing for the one GET /_mock/stats arrives on); "elapsed" is
    how long the batch took, in seconds.
    """
    # Requests an earlier test gave up on (e.g. cancelled in a delay) stay in
    # flight on the mock until their delay is over: let them end first.
    assert wait_until(lambda: mock.stats()["requestsInFlight"] == 0, 15), mock.stats()
    mock.fault({"delayMs": delay_ms, "times": 0})
    before = mock.reset_stats()  # admin calls go over connections urllib closes at once
    began = time.monotonic()
    results = client.integrations(selectors)
    elapsed = time.monotonic() - began
    stats: Dict[str, float] = mock.stats()
    assert all(isinstance(r, (dict, membrane.NotFound)) for r in results), results
    stats["maxConnectionsOpen"] -= before["connectionsOpen"] - 1
    stats["elapsed"] = elapsed
    return stats


def test_max_parallel_bounds_requests_in_flight(mock: MockServer) -> None:
    selectors = ["hubspot", "salesforce", "pipedrive", "zendesk", "notion", "jira", "slack",
                 "twilio", "legacy-crm", "trello", "linear", "no-such-integration"]
    with membrane.Client(mock.url, TOKEN, max_parallel=3, timeout_ms=20_000) as client:
        stats = measure_parallelism(mock, client, selectors, 300)
    assert stats["maxRequestsInFlight"] == 3, stats
    # The client's 3, plus the connection GET /_mock/stats itself arrives on.
    assert stats["maxConnectionsOpen"] <= 3 + 1, stats
    # 12 requests of 300 ms, 3 at a time: about 1.2 s, not 3.6 s, nor 0.3 s.
    assert 1.1 <= stats["elapsed"] < 3.0, stats


def test_default_parallelism_is_eight(mock: MockServer, client: membrane.Client,
                                      fixtures: List[Dict[str, Any]]) -> None:
    selectors = [item["key"] for item in fixtures if item.get("key")][:12] + [
        f"missing-{n}" for n in range(4)]
    stats = measure_parallelism(mock, client, selectors, 300)
    assert stats["maxRequestsInFlight"] == 8, stats
    assert stats["maxConnectionsOpen"] <= 8 + 1, stats


def test_max_parallel_option_range(mock: MockServer) -> None:
    with membrane.Client(mock.url, TOKEN) as client:
        client.set_max_parallel(1)
        client.set_max_parallel(256)
        for bad in (0, 257, -1):
            with pytest.raises(membrane.InvalidArgument):
                client.set_max_parallel(bad)
        with pytest.raises(TypeError):
            client.set_max_parallel("3")  # type: ignore[arg-type]
    with pytest.raises(membrane.InvalidArgument):
        membrane.Client(mock.url, TOKEN, max_parallel=0)


def test_batches_from_many_threads(mock: MockServer) -> None:
    """Batches from several threads share one client."""
    problems: List[str] = []
    with membrane.Client(mock.url, TOKEN, max_parallel=4) as client:

        def work(n: int) -> None:
            for _ in range(10):
                try:
                    results = client.integrations(["hubspot", "salesforce", f"missing-{n}"])
                    if keys_of(results) != ["hubspot", "salesforce", "NotFound"]:
                        problems.append(repr(results)[:200])
                except BaseException as e:  # pragma: no cover - reported below
                    problems.append(repr(e))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert problems == []
    assert len(mock.requests()) == 6 * 10 * 3
