"""membrane.AsyncClient: the lookups as coroutines, driven by the loop through the
library's completion fd (membrane_*_async, membrane_client_dispatch).

Every test runs under the default event loop and under uvloop (the `run`
fixture), and fails if the loop reported an unhandled exception ("Future
exception was never retrieved", "Task was destroyed but it is pending", an
exception in the reader) while it ran.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import subprocess
import sys
import threading
import time
from typing import Any, Awaitable, Callable, Dict, Iterator, List

import pytest

import membrane
from conftest import PYTHON_EXAMPLES, TOKEN, MockServer, find_fixture, query_of

HUBSPOT_ID = "67c05c5f0872bad5078153b9"
HUBSPOT_UUID = "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c1a01"
CATALOG_KEY = "~search.membrane--getmembrane_com"

#: How long a cancelled or closed request may take to end (the header promises
#: the callback is queued at once; the loop and a loaded machine get the rest).
PROMPT = 0.5


# -- running coroutines under each loop ------------------------------------------


def _uvloop_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        pytest.fail("uvloop is not installed (python3 -m pip install uvloop): the async tests "
                    "run under it as well as under asyncio's own loop")
    return uvloop.new_event_loop()


LOOP_FACTORIES: Dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": _uvloop_loop,
}


class Runner:
    """Runs coroutines, each in a fresh loop of one kind, and checks that the loop
    reported no unhandled exception (after a garbage collection, which is when
    asyncio reports a future whose exception was never retrieved)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.new_loop = LOOP_FACTORIES[kind]

    def __call__(self, coroutine: Awaitable[Any]) -> Any:
        loop = self.new_loop()
        problems: List[Dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: problems.append(context))
        try:
            result = loop.run_until_complete(coroutine)
            loop.run_until_complete(asyncio.sleep(0.02))  # callbacks scheduled at the end
            gc.collect()
            loop.run_until_complete(asyncio.sleep(0))
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
        assert problems == [], [context.get("message") for context in problems]
        return result


@pytest.fixture(params=sorted(LOOP_FACTORIES))
def run(request: pytest.FixtureRequest) -> Runner:
    return Runner(request.param)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def error_fields(e: BaseException) -> tuple:
    assert isinstance(e, membrane.MembraneError), repr(e)
    return (type(e), e.code, e.http_status, e.type, e.key, e.message, e.error_id)


def keys_of(results: List[Any]) -> List[Any]:
    return [r["key"] if isinstance(r, dict) else type(r).__name__ for r in results]


@pytest.fixture
def sync_client(mock: MockServer) -> Iterator[membrane.Client]:
    with membrane.Client(mock.url, TOKEN, timeout_ms=10_000) as c:
        yield c


def new_client(mock: MockServer, **options: Any) -> membrane.AsyncClient:
    options.setdefault("timeout_ms", 10_000)
    return membrane.AsyncClient(mock.url, TOKEN, **options)


# -- the package's face ---------------------------------------------------------


def test_exported_and_shares_the_client_methods() -> None:
    assert membrane.AsyncClient is membrane.aio.AsyncClient
    assert "AsyncClient" in membrane.__all__
    for name in ("set_timeout", "set_max_retries", "set_max_parallel", "set_max_pages", "set_token",
                 "set_token_provider", "use_workspace_secret", "cancel", "close"):
        assert callable(getattr(membrane.AsyncClient, name)), name
    for name in ("integration", "integrations", "list_page", "list_all_integrations", "aclose",
                 "__aenter__", "__aexit__"):
        assert asyncio.iscoroutinefunction(getattr(membrane.AsyncClient, name)), name
    assert not issubclass(membrane.AsyncClient, membrane.Client)


def test_constructor_checks_as_the_client_does(mock: MockServer, no_env: None) -> None:
    with pytest.raises(membrane.NotAuthenticated):
        membrane.AsyncClient(mock.url)
    with pytest.raises(membrane.InvalidArgument):
        membrane.AsyncClient("not a url", TOKEN)
    with pytest.raises(membrane.InvalidArgument):
        membrane.AsyncClient(mock.url, TOKEN, max_parallel=0)
    with pytest.raises(TypeError):
        membrane.AsyncClient(mock.url, TOKEN, timeout_ms="5")  # type: ignore[arg-type]


# -- lookups ----------------------------------------------------------------------


@pytest.mark.parametrize("selector", [HUBSPOT_ID, HUBSPOT_UUID, "hubspot", CATALOG_KEY, "salesforce",
                                      "zendesk", "~app.membrane"])
def test_found_equals_the_sync_lookup(run: Runner, mock: MockServer, sync_client: membrane.Client,
                                      fixtures: List[Dict[str, Any]], selector: str) -> None:
    expected = sync_client.integration(selector)
    mock.clear_requests()

    async def main() -> Any:
        async with new_client(mock) as client:
            return await client.integration(selector)

    got = run(main())
    assert type(got) is dict and got == expected
    assert got["id"] == find_fixture(fixtures, selector)["id"]
    (request,) = mock.requests()
    assert request["method"] == "GET" and request["authorized"] is True
    assert query_of(request)["includeSecrets"] == ["false"]


def test_include_secrets(run: Runner, mock: MockServer, sync_client: membrane.Client,
                         fixtures: List[Dict[str, Any]]) -> None:
    async def main() -> Any:
        async with new_client(mock) as client:
            return (await client.integration("salesforce"),
                    await client.integration("salesforce", include_secrets=True),
                    await client.integration("salesforce", include_secrets=False))

    masked, revealed, masked_again = run(main())
    assert masked["parameters"]["clientSecret"] == "********" == masked_again["parameters"]["clientSecret"]
    assert revealed["parameters"]["clientSecret"] != "********"
    assert revealed == find_fixture(fixtures, "salesforce")
    assert revealed == sync_client.integration("salesforce", include_secrets=True)
    assert [query_of(r)["includeSecrets"] for r in mock.requests()][:3] == [["false"], ["true"], ["false"]]


def test_not_found_is_raised_as_by_the_sync_client(run: Runner, mock: MockServer,
                                                   sync_client: membrane.Client) -> None:
    with pytest.raises(membrane.NotFound) as sync_info:
        sync_client.integration("no-such-integration")

    async def main() -> BaseException:
        async with new_client(mock) as client:
            with pytest.raises(membrane.NotFound) as info:
                await client.integration("no-such-integration")
            return info.value

    e = run(main())
    assert (e.code, e.http_status, e.type, e.key) == (membrane.ENOTFOUND, 404, "bad_request", "not_found")
    assert isinstance(e, LookupError) and "no-such-integration" in e.message
    assert error_fields(e) == error_fields(sync_info.value)


def test_bad_selectors_raise_before_any_request(run: Runner, mock: MockServer,
                                                sync_client: membrane.Client) -> None:
    with pytest.raises(membrane.InvalidArgument) as sync_empty:
        sync_client.integration("")

    async def main() -> List[BaseException]:
        caught = []
        async with new_client(mock) as client:
            for selector in ("", "a\0b", "x" * 1025, 42):
                try:
                    await client.integration(selector)  # type: ignore[arg-type]
                except (membrane.MembraneError, TypeError) as e:
                    caught.append(e)
        return caught

    empty, nul, too_long, number = run(main())
    assert error_fields(empty) == error_fields(sync_empty.value)  # the library's verdict
    assert type(nul) is membrane.InvalidArgument and "NUL" in nul.message
    assert type(too_long) is membrane.InvalidArgument and "1024" in too_long.message
    assert type(number) is TypeError
    assert mock.requests() == []


def test_wrong_token_raises_not_authenticated(run: Runner, mock: MockServer) -> None:
    async def main() -> BaseException:
        async with membrane.AsyncClient(mock.url, "wrong-token-async-1") as client:
            with pytest.raises(membrane.NotAuthenticated) as info:
                await client.integration("hubspot")
            return info.value

    e = run(main())
    assert (e.code, e.http_status) == (membrane.EAUTH, 401)
    assert "wrong-token-async-1" not in e.message and "wrong-token-async-1" not in repr(e)


def test_token_provider_failure_is_chained(run: Runner, mock: MockServer) -> None:
    class NoToken(Exception):
        pass

    def provider() -> str:
        raise NoToken("the vault is sealed")

    async def main() -> BaseException:
        async with membrane.AsyncClient(mock.url, token_provider=provider) as client:
            with pytest.raises(membrane.NotAuthenticated) as info:
                await client.integration("hubspot")
            return info.value

    e = run(main())
    assert isinstance(e.__cause__, NoToken), repr(e.__cause__)


# -- retries and timeouts: the same exceptions as the sync client -------------------


def test_503_twice_then_success(run: Runner, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "status": 503, "times": 2})

    async def main() -> Any:
        async with new_client(mock, retry_base_ms=20) as client:
            return await client.integration("hubspot")

    assert run(main())["key"] == "hubspot"
    assert len(mock.requests_for("/integrations/hubspot")) == 3


@pytest.mark.parametrize("fault, options, cls", [
    ({"match": "hubspot", "status": 503, "times": 0}, {"max_retries": 1, "retry_base_ms": 20},
     membrane.ServerError),
    ({"match": "hubspot", "status": 429, "times": 0}, {"max_retries": 0}, membrane.RateLimited),
    ({"match": "hubspot", "status": 500}, {"max_retries": 0}, membrane.ServerError),
    ({"match": "hubspot", "status": 403}, {}, membrane.AccessDenied),
    ({"match": "hubspot", "action": "truncate"}, {}, membrane.ProtocolError),
    ({"match": "hubspot", "action": "drop", "times": 0}, {"max_retries": 0}, membrane.NetworkError),
], ids=["503-retried", "429", "500", "403", "truncated", "dropped"])
def test_failures_raise_what_the_sync_client_raises(run: Runner, mock: MockServer, fault: Dict[str, Any],
                                                    options: Dict[str, Any], cls: type) -> None:
    mock.fault(fault)
    with membrane.Client(mock.url, TOKEN, timeout_ms=10_000, **options) as sync:
        with pytest.raises(cls) as sync_info:
            sync.integration("hubspot")
    sync_requests = len(mock.requests_for("/integrations/hubspot"))
    mock.reset()
    mock.fault(fault)

    async def main() -> BaseException:
        async with new_client(mock, **options) as client:
            with pytest.raises(cls) as info:
                await client.integration("hubspot")
            return info.value

    e = run(main())
    assert type(e) is cls
    want = error_fields(sync_info.value)
    got = error_fields(e)
    if fault.get("status") == 500:
        want, got = want[:-1], got[:-1]  # a 500's error id is new each time
        assert e.error_id.startswith("err-")
    assert got == want
    assert len(mock.requests_for("/integrations/hubspot")) == sync_requests
    if options.get("max_retries") == 1:
        assert e.message.endswith("(after 2 attempts)"), e.message


def test_timeout(run: Runner, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "delayMs": 2000})

    async def main() -> Any:
        async with new_client(mock, timeout_ms=300) as client:
            began = time.monotonic()
            with pytest.raises(membrane.Timeout) as info:
                await client.integration("hubspot")
            return info.value, time.monotonic() - began

    e, took = run(main())
    assert (e.code, e.http_status) == (membrane.ETIMEOUT, 0)
    assert 0.25 <= took < 1.5, took


# -- batches ----------------------------------------------------------------------


def test_batch_equals_the_sync_batch(run: Runner, mock: MockServer, sync_client: membrane.Client) -> None:
    mock.fault({"match": "pipedrive", "status": 500, "times": 0})
    selectors: List[Any] = ["hubspot", "no-such-integration", "", "a\0b", "pipedrive", b"salesforce",
                            "x" * 1025, "hubspot", HUBSPOT_ID, "no-such-integration"]
    with membrane.Client(mock.url, TOKEN, max_retries=0) as sync:
        expected = sync.integrations(selectors)
    mock.clear_requests()

    async def main() -> Any:
        async with new_client(mock, max_retries=0) as client:
            return await client.integrations(selectors)

    results = run(main())
    assert keys_of(results) == ["hubspot", "NotFound", "InvalidArgument", "InvalidArgument",
                                "ServerError", "salesforce", "InvalidArgument", "hubspot", "hubspot",
                                "NotFound"]
    assert len(results) == len(expected)
    for got, want in zip(results, expected):
        if isinstance(want, dict):
            assert type(got) is dict and got == want
        elif isinstance(want, membrane.ServerError):
            assert error_fields(got)[:-1] == error_fields(want)[:-1]
        else:
            assert error_fields(got) == error_fields(want)
    assert results[0] is not results[7]  # each place its own dict
    counts = collections.Counter(r["path"] for r in mock.requests())
    # a selector given twice is fetched once; bad ones never
    assert counts == {"/integrations/hubspot": 1, "/integrations/no-such-integration": 1,
                      "/integrations/pipedrive": 1, "/integrations/salesforce": 1,
                      f"/integrations/{HUBSPOT_ID}": 1}


def test_batch_whole_call_failures(run: Runner, mock: MockServer) -> None:
    async def main() -> Any:
        client = new_client(mock)
        assert await client.integrations([]) == []
        assert await client.integrations(iter(())) == []
        with pytest.raises(TypeError, match=r"selectors\[1\]"):
            await client.integrations(["hubspot", 42])  # type: ignore[list-item]
        with pytest.raises(TypeError):
            await client.integrations("hubspot")
        only_bad = await client.integrations([""])
        secrets = await client.integrations(["salesforce"], include_secrets=True)
        await client.aclose()
        with pytest.raises(membrane.ClientClosed):
            await client.integrations(["hubspot"])
        with pytest.raises(membrane.ClientClosed):
            await client.integrations([])
        return only_bad, secrets

    only_bad, secrets = run(main())
    assert keys_of(only_bad) == ["InvalidArgument"]
    assert secrets[0]["parameters"]["clientSecret"] != "********"
    assert [r["path"] for r in mock.requests()] == ["/integrations/salesforce"]


# -- listing ----------------------------------------------------------------------


def list_requests(mock: MockServer) -> List[Dict[str, Any]]:
    return [r for r in mock.requests() if r["path"] == "/integrations"]


def test_list_page_equals_the_sync_page(run: Runner, mock: MockServer, sync_client: membrane.Client) -> None:
    expected = [sync_client.list_page(limit=4), sync_client.list_page(limit=4, cursor="4"),
                sync_client.list_page({"search": "CRM"}, includeArchived=True), sync_client.list_page()]
    mock.clear_requests()

    async def main() -> Any:
        async with new_client(mock) as client:
            return [await client.list_page(limit=4), await client.list_page(limit=4, cursor="4"),
                    await client.list_page({"search": "CRM"}, includeArchived=True),
                    await client.list_page()]

    pages = run(main())
    assert pages == expected
    assert pages[0]["cursor"] == "4" and [i["key"] for i in pages[2]["items"]] == ["legacy-crm"]
    assert [r["query"] for r in list_requests(mock)] == [
        "limit=4", "limit=4&cursor=4", "search=CRM&includeArchived=true", ""]


def test_list_integrations_is_a_lazy_async_iterator(run: Runner, mock: MockServer,
                                                    sync_client: membrane.Client) -> None:
    expected = list(sync_client.list_integrations(limit=3, includeArchived=True))
    mock.clear_requests()

    async def main() -> List[Any]:
        async with new_client(mock) as client:
            items = client.list_integrations(limit=3, includeArchived=True)
            assert list_requests(mock) == []  # nothing before the first item is asked for
            got = [await items.__anext__()]
            assert len(list_requests(mock)) == 1
            got += [await items.__anext__(), await items.__anext__()]
            assert len(list_requests(mock)) == 1  # the rest of the first page: no request
            got.append(await items.__anext__())
            assert len(list_requests(mock)) == 2
            async for item in items:
                got.append(item)
            return got

    got = run(main())
    assert got == expected and len(got) > 6
    assert len(list_requests(mock)) == -(-len(expected) // 3)


def test_list_all_equals_the_sync_listing(run: Runner, mock: MockServer,
                                          sync_client: membrane.Client) -> None:
    expected = sync_client.list_all_integrations(limit=4, includeArchived=True)
    assert list(sync_client.list_integrations(limit=4, includeArchived=True)) == expected
    from_cursor = sync_client.list_all_integrations(limit=5, cursor="6")

    async def main() -> Any:
        async with new_client(mock) as client:
            return (await client.list_all_integrations(limit=4, includeArchived=True),
                    await client.list_all_integrations({"cursor": "6"}, limit=5),
                    await client.list_all_integrations(search="nothing-matches-this"))

    everything, rest, nothing = run(main())
    assert everything == expected
    assert rest == from_cursor
    assert nothing == []


def test_listing_argument_errors_raise_at_the_call(run: Runner, mock: MockServer) -> None:
    async def main() -> None:
        async with new_client(mock) as client:
            with pytest.raises(TypeError):
                client.list_integrations({"limit": [1]})  # before any iteration
            with pytest.raises(membrane.InvalidArgument):
                client.list_integrations(limit=float("nan"))
            with pytest.raises(TypeError):
                await client.list_page(["limit", 1])  # type: ignore[arg-type]
            with pytest.raises(membrane.InvalidArgument):
                await client.list_all_integrations(search="a\0b")
            with pytest.raises(membrane.BadRequest) as info:
                await client.list_page(limit=0)
            assert info.value.key == "invalid_limit"

    run(main())
    assert [r["query"] for r in list_requests(mock)] == ["limit=0"]


def test_repeated_cursor_and_page_cap(run: Runner, mock: MockServer) -> None:
    async def main() -> None:
        async with new_client(mock, max_pages=3) as client:
            mock.fault({"match": "", "json": {"items": [{"name": "one"}], "cursor": "a"}},
                       {"match": "", "json": {"items": [{"name": "two"}], "cursor": "b"}},
                       {"match": "", "json": {"items": [{"name": "three"}], "cursor": "a"}})
            got: List[str] = []
            with pytest.raises(membrane.ProtocolError, match="a second time") as info:
                async for item in client.list_integrations():
                    got.append(item["name"])
            assert got == ["one", "two", "three"] and info.value.http_status == 200

            mock.reset()
            mock.fault({"match": "", "json": {"items": [], "cursor": "same"}, "times": 0})
            with pytest.raises(membrane.ProtocolError, match="a second time"):
                await client.list_all_integrations()
            assert [r["query"] for r in list_requests(mock)] == ["", "cursor=same"]

            mock.reset()
            with pytest.raises(membrane.ProtocolError, match="more than 3 pages"):
                await client.list_all_integrations(limit=2)
            assert len(list_requests(mock)) == 3
            got = []
            with pytest.raises(membrane.ProtocolError, match="more than 3 pages"):
                async for item in client.list_integrations(limit=2):
                    got.append(item["key"])
            assert len(got) == 6

    run(main())


# -- many at once -------------------------------------------------------------------


def test_a_thousand_concurrent_lookups(run: Runner, mock: MockServer,
                                       fixtures: List[Dict[str, Any]]) -> None:
    known = [item["key"] for item in fixtures if item.get("key")]
    selectors = [known[n % len(known)] if n % 5 else f"missing-{n}" for n in range(1000)]

    async def one(client: membrane.AsyncClient, selector: str) -> Any:
        try:
            return await client.integration(selector, include_secrets=True)
        except membrane.NotFound as e:
            return e

    async def main() -> Any:
        async with new_client(mock, max_parallel=16, share_requests=False) as client:  # 1000 requests
            began = time.monotonic()
            results = await asyncio.gather(*(one(client, s) for s in selectors))
            return results, time.monotonic() - began, client._requests_in_flight()

    results, took, left = run(main())
    assert left == 0
    for selector, result in zip(selectors, results):
        if selector.startswith("missing-"):
            assert type(result) is membrane.NotFound and f"'{selector}'" in result.message, result
        else:
            assert result == find_fixture(fixtures, selector), selector
    assert len(mock.requests()) == 1000
    assert took < 30, took


def test_max_parallel_bounds_all_requests_together(run: Runner, mock: MockServer) -> None:
    """Lookups, a batch and a page at once: never more than max_parallel on the wire."""
    assert until_sync(lambda: mock.stats()["requestsInFlight"] == 0, 15), mock.stats()
    mock.fault({"delayMs": 300, "times": 0})
    mock.reset_stats()

    async def main() -> Any:
        async with new_client(mock, max_parallel=3) as client:
            began = time.monotonic()
            results = await asyncio.gather(
                *(client.integration(s) for s in ["hubspot", "salesforce", "pipedrive", "notion"]),
                client.integrations(["jira", "slack", "twilio", "trello", "linear"]),
                client.list_page(limit=2), client.list_page(limit=3), client.list_page(limit=4))
            return results, time.monotonic() - began

    results, took = run(main())
    assert [r["key"] for r in results[:4]] == ["hubspot", "salesforce", "pipedrive", "notion"]
    assert keys_of(results[4]) == ["jira", "slack", "twilio", "trello", "linear"]
    assert [len(page["items"]) for page in results[5:]] == [2, 3, 4]
    assert mock.stats()["maxRequestsInFlight"] == 3
    assert 1.1 <= took < 3.0, took  # 12 requests of 300 ms, 3 at a time


def until_sync(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_no_thread_per_call(run: Runner, mock: MockServer) -> None:
    mock.fault({"delayMs": 200, "times": 0})

    async def main() -> Any:
        async with new_client(mock, max_parallel=64) as client:
            await client.integration("hubspot")  # the client's I/O thread exists from here on
            python_before, os_before = threading.active_count(), os_threads()
            tasks = [asyncio.ensure_future(client.integration("hubspot")) for _ in range(500)]
            python_most, os_most, in_flight_most = python_before, os_before, 0
            while not all(t.done() for t in tasks):
                python_most = max(python_most, threading.active_count())
                os_most = max(os_most, os_threads())
                in_flight_most = max(in_flight_most, client._requests_in_flight())
                await asyncio.sleep(0.02)
            results = await asyncio.gather(*tasks)
            return results, python_before, python_most, os_before, os_most, in_flight_most

    results, python_before, python_most, os_before, os_most, in_flight_most = run(main())
    assert all(r["key"] == "hubspot" for r in results)
    assert in_flight_most >= 400, in_flight_most  # they really were in flight together
    assert python_most == python_before, (python_before, python_most)
    # The OS's count includes the library's own threads: still no more than a few.
    assert os_most <= os_before + 2, (os_before, os_most)


# -- cancellation -------------------------------------------------------------------


def test_cancelling_the_task_cancels_the_request(run: Runner, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "delayMs": 3000}, {"match": "salesforce", "delayMs": 600})

    async def main() -> Any:
        async with new_client(mock) as client:
            slow = asyncio.ensure_future(client.integration("hubspot"))
            other = asyncio.ensure_future(client.integration("salesforce"))
            assert await until(lambda: len(mock.requests_for("/integrations/hubspot")) == 1
                               and len(mock.requests_for("/integrations/salesforce")) == 1)
            assert client._requests_in_flight() == 2
            began = time.monotonic()
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            cancelled_after = time.monotonic() - began
            # The library delivered the request (ECANCELED) long before the 3 s answer.
            assert await until(lambda: client._requests_in_flight() == 1, PROMPT)
            delivered_after = time.monotonic() - began
            other_result = await other
            # The client works on; the fault was used up.
            again = await client.integration("hubspot")
            return cancelled_after, delivered_after, other_result, again

    cancelled_after, delivered_after, other_result, again = run(main())
    assert cancelled_after < PROMPT, cancelled_after
    assert delivered_after < PROMPT, delivered_after
    assert other_result["key"] == "salesforce"
    assert again["key"] == "hubspot"
    assert len(mock.requests_for("/integrations/hubspot")) == 2, "a cancelled request is not retried"


def test_wait_for_timeout_cancels_the_request(run: Runner, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "delayMs": 3000, "times": 0})

    async def main() -> Any:
        async with new_client(mock) as client:
            began = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.integration("hubspot"), 0.3)
            took = time.monotonic() - began
            assert await until(lambda: client._requests_in_flight() == 0, PROMPT)
            delivered = time.monotonic() - began
            # A batch is one request: cancelled whole.
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.integrations(["hubspot", "salesforce"]), 0.3)
            assert await until(lambda: client._requests_in_flight() == 0, PROMPT)
            mock.clear_faults()
            return took, delivered, await client.integration("hubspot")

    took, delivered, again = run(main())
    assert 0.25 <= took < 0.3 + PROMPT, took
    assert delivered < 0.3 + PROMPT, delivered
    assert again["key"] == "hubspot"


def test_client_cancel_raises_canceled_as_the_sync_client(run: Runner, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "delayMs": 3000, "times": 0})

    async def main() -> Any:
        async with new_client(mock) as client:
            tasks = [asyncio.ensure_future(client.integration("hubspot")) for _ in range(3)]
            tasks.append(asyncio.ensure_future(client.integrations(["hubspot", "salesforce"])))
            assert await until(lambda: len(mock.requests_for("/integrations/hubspot")) >= 2)
            began = time.monotonic()
            client.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            took = time.monotonic() - began
            mock.clear_faults()
            return results, took, await client.integration("hubspot")

    results, took, again = run(main())
    assert all(type(r) is membrane.Canceled and r.code == membrane.ECANCELED for r in results), results
    assert took < PROMPT, took
    assert again["key"] == "hubspot"


# -- closing ------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["close", "aclose"])
def test_close_with_requests_in_flight(run: Runner, mock: MockServer, how: str) -> None:
    mock.fault({"delayMs": 3000, "times": 0})

    async def main() -> Any:
        client = new_client(mock, share_requests=False)  # six requests: the three lookups unshared
        tasks = [asyncio.ensure_future(client.integration("hubspot")) for _ in range(3)]
        tasks.append(asyncio.ensure_future(client.integrations(["salesforce", "notion"])))
        tasks.append(asyncio.ensure_future(client.list_page(limit=2)))
        items = client.list_integrations()
        tasks.append(asyncio.ensure_future(items.__anext__()))
        assert await until(lambda: len(mock.requests()) >= 6)
        began = time.monotonic()
        if how == "close":
            client.close()
        else:
            await client.aclose()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        took = time.monotonic() - began
        await items.aclose()
        assert client.closed
        client.close()  # idempotent
        await client.aclose()
        with pytest.raises(membrane.ClientClosed):
            await client.integration("hubspot")
        with pytest.raises(membrane.ClientClosed):
            await client.list_page()
        return results, took

    results, took = run(main())
    assert took < PROMPT, took
    for result in results:
        assert type(result) is membrane.ClientClosed, repr(result)
        assert result.code == membrane.ECANCELED and "closed" in result.message


def test_close_with_abandoned_requests_reports_nothing(run: Runner, mock: MockServer) -> None:
    """Requests whose awaiters were cancelled, then the client closed: no warnings."""
    mock.fault({"delayMs": 3000, "times": 0})

    async def main() -> None:
        client = new_client(mock)
        tasks = [asyncio.ensure_future(client.integration("hubspot")) for _ in range(5)]
        await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        client.close()  # before the loop saw the ECANCELED callbacks
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results), results
        assert client._requests_in_flight() == 0

    run(main())  # the runner fails on any reported exception


def test_async_with_and_repr(run: Runner, mock: MockServer) -> None:
    async def main() -> membrane.AsyncClient:
        async with new_client(mock) as client:
            assert not client.closed and "open" in repr(client) and "AsyncClient" in repr(client)
            await client.integration("hubspot")
        assert client.closed and "closed" in repr(client)
        with pytest.raises(membrane.ClientClosed):
            async with client:
                pass
        return client

    client = run(main())
    assert client.closed and client._handle._ptr is None


def test_forgotten_client_is_freed_and_its_reader_removed(run: Runner, mock: MockServer) -> None:
    async def main() -> None:
        client = new_client(mock)
        await client.integration("hubspot")
        finalizer, handle = client._finalizer, client._handle
        assert finalizer.alive
        del client
        gc.collect()
        assert not finalizer.alive
        assert handle.closed and handle._ptr is None
        # Descriptors are reused: a new client may get the same number, and its
        # reader must not collide with a stale one.
        for _ in range(3):
            async with new_client(mock) as other:
                got = await asyncio.wait_for(other.integration("salesforce"), 5)
                assert got["key"] == "salesforce"

    run(main())


def test_close_outside_the_loop_after_it_ended(run: Runner, mock: MockServer) -> None:
    client = new_client(mock)

    async def main() -> Any:
        return await client.integration("hubspot")

    assert run(main())["key"] == "hubspot"
    assert not client.closed
    client.close()  # the loop is closed: nothing to remove, the client is freed
    assert client.closed and client._handle._ptr is None


# -- one loop per client --------------------------------------------------------------


@pytest.mark.parametrize("second", sorted(LOOP_FACTORIES))
def test_use_from_a_second_loop_raises(run: Runner, mock: MockServer, second: str) -> None:
    client = new_client(mock)

    async def lookup() -> Any:
        return await client.integration("hubspot")

    assert run(lookup())["key"] == "hubspot"  # bound to that loop (closed by now)
    other = Runner(second)
    with pytest.raises(RuntimeError, match="bound to the event loop it was first used on"):
        other(lookup())

    # While the first loop runs, in another thread: the same refusal.
    first = run.new_loop()
    fresh = new_client(mock)
    ready = threading.Event()
    stop = threading.Event()

    async def serve() -> Any:
        got = await fresh.integration("salesforce")
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.01)
        return got

    outcome: List[Any] = []
    thread = threading.Thread(target=lambda: outcome.append(first.run_until_complete(serve())))
    thread.start()
    try:
        assert ready.wait(10)

        async def from_elsewhere() -> Any:
            return await fresh.integration("hubspot")

        with pytest.raises(RuntimeError, match="bound"):
            other(from_elsewhere())
    finally:
        stop.set()
        thread.join(10)
        first.close()
    assert outcome and outcome[0]["key"] == "salesforce"
    client.close()
    fresh.close()
    assert client.closed and fresh.closed


def test_a_client_per_loop(mock: MockServer) -> None:
    """Two loops in two threads at once, each with its own client."""
    results: Dict[str, Any] = {}

    def work(kind: str) -> None:
        async def main() -> List[Any]:
            async with new_client(mock) as client:
                return await asyncio.gather(*(client.integration(s) for s in ["hubspot", "salesforce"] * 20))

        try:
            results[kind] = Runner(kind)(main())
        except BaseException as e:  # noqa: BLE001 - checked below
            results[kind] = e

    threads = [threading.Thread(target=work, args=(kind,)) for kind in sorted(LOOP_FACTORIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for kind in LOOP_FACTORIES:
        assert isinstance(results[kind], list), results[kind]
        assert keys_of(results[kind]) == ["hubspot", "salesforce"] * 20


# -- the example ----------------------------------------------------------------------


def test_async_lookup_example(mock: MockServer, fixtures: List[Dict[str, Any]]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(MEMBRANE_API_URL=mock.url, MEMBRANE_TOKEN=TOKEN)
    result = subprocess.run(
        [sys.executable, str(PYTHON_EXAMPLES / "async_lookup.py"), "hubspot", "salesforce", "nope"],
        capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1, (result.stdout, result.stderr)  # one was not found
    lines = result.stdout.splitlines()
    hubspot, salesforce = find_fixture(fixtures, "hubspot"), find_fixture(fixtures, "salesforce")
    assert lines == [f"hubspot: {hubspot['name']} ({hubspot['state']})",
                     f"salesforce: {salesforce['name']} ({salesforce['state']})"], lines
    assert result.stderr.startswith("async_lookup.py: nope: ") and "Traceback" not in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert sorted(r["path"] for r in mock.requests()) == [
        "/integrations/hubspot", "/integrations/nope", "/integrations/salesforce"]


def test_async_lookup_example_default_selectors(mock: MockServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(MEMBRANE_API_URL=mock.url, MEMBRANE_TOKEN=TOKEN)
    result = subprocess.run([sys.executable, str(PYTHON_EXAMPLES / "async_lookup.py")],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert len(result.stdout.splitlines()) >= 3
