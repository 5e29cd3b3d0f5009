"""Request sharing and the answer cache (MEMBRANE_OPT_SHARE_REQUESTS,
MEMBRANE_OPT_CACHE_TTL_MS, MEMBRANE_OPT_CACHE_MAX_ENTRIES,
membrane_client_invalidate) through Client and AsyncClient.

Every claim is counted against the stand-in's request log: how many requests
reached the server for how many lookups.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
import time
from typing import Any, Callable, Dict, Iterator, List

import pytest

import membrane
from conftest import TOKEN, MockServer, find_fixture, wait_until as wait_for
from test_async import LOOP_FACTORIES, Runner

#: The server holds a shared request this long: every caller is waiting on it meanwhile.
DELAY_MS = 300
THREADS = 8
MASKED = "********"


def path(selector: str) -> str:
    return f"/integrations/{selector}"


def count(mock: MockServer, selector: str) -> int:
    """How many requests for `selector` the stand-in received."""
    return len(mock.requests_for(path(selector)))


def new_client(mock: MockServer, **options: Any) -> membrane.Client:
    options.setdefault("timeout_ms", 10_000)
    return membrane.Client(mock.url, TOKEN, **options)


def new_async_client(mock: MockServer, **options: Any) -> membrane.AsyncClient:
    options.setdefault("timeout_ms", 10_000)
    return membrane.AsyncClient(mock.url, TOKEN, **options)


@pytest.fixture(params=sorted(LOOP_FACTORIES))
def run(request: pytest.FixtureRequest) -> Runner:
    """Runs a coroutine in a fresh loop (asyncio's, then uvloop), as test_async.py does."""
    return Runner(request.param)


def at_once(n: int, call: Callable[[int], Any]) -> List[Any]:
    """`call(i)` on n threads released together; each one's result or exception."""
    barrier = threading.Barrier(n)
    results: List[Any] = [None] * n

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except BaseException as e:  # noqa: BLE001 - checked by the test
            results[i] = e

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "lookups hung"
    return results


def masked(fixture: Dict[str, Any]) -> Dict[str, Any]:
    """A fixture as the stand-in sends it without includeSecrets (for the fixtures used
    here: each parameter whose name holds "secret" is masked)."""
    copy = dict(fixture)
    copy["parameters"] = {k: MASKED if "secret" in k.lower() else v
                          for k, v in fixture.get("parameters", {}).items()}
    return copy


def dump(lib: Any, value: Any) -> bytes:
    """A json_t as compact JSON text (membrane_json_dumps)."""
    text = lib.membrane_json_dumps(value, membrane._native.JSON_COMPACT)
    assert text
    try:
        return ctypes.string_at(text)
    finally:
        lib.membrane_free(text)


# ---------------------------------------------------------------------------
# Sharing: Client
# ---------------------------------------------------------------------------


def test_concurrent_lookups_share_one_request(mock: MockServer, fixtures: List[Dict[str, Any]]) -> None:
    mock.fault({"match": "hubspot", "delayMs": DELAY_MS, "times": 0})
    with new_client(mock) as client:
        began = time.monotonic()
        results = at_once(THREADS, lambda _: client.integration("hubspot"))
        took = time.monotonic() - began
    assert count(mock, "hubspot") == 1
    expected = find_fixture(fixtures, "hubspot")
    assert all(isinstance(r, dict) for r in results), results
    assert all(r["key"] == "hubspot" for r in results)
    assert all(r == masked(expected) for r in results)
    assert results[0]["parameters"]["clientSecret"] == MASKED
    assert took < DELAY_MS / 1000 + 1.5, took  # waited together, not one after the other

    # Independent objects: changing one (top level, nested) changes no other.
    assert len({id(r) for r in results}) == THREADS
    assert len({id(r["parameters"]) for r in results}) == THREADS
    results[0]["name"] = "changed"
    results[0]["parameters"]["clientId"] = "changed"
    del results[1]["key"]
    for other in results[2:]:
        assert other["name"] == expected["name"]
        assert other["parameters"]["clientId"] == expected["parameters"]["clientId"]
        assert other["key"] == "hubspot"
    assert results[1]["name"] == expected["name"]


def test_share_requests_false_sends_every_request(mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "delayMs": DELAY_MS, "times": 0})
    with new_client(mock, share_requests=False) as client:
        results = at_once(THREADS, lambda _: client.integration("hubspot"))
    assert all(isinstance(r, dict) and r["key"] == "hubspot" for r in results), results
    assert count(mock, "hubspot") == THREADS


def test_set_share_requests_switches_it_off_and_on(mock: MockServer) -> None:
    mock.fault({"match": "salesforce", "delayMs": DELAY_MS, "times": 0})
    with new_client(mock) as client:
        client.set_share_requests(False)
        at_once(4, lambda _: client.integration("salesforce"))
        assert count(mock, "salesforce") == 4
        client.set_share_requests(True)
        at_once(4, lambda _: client.integration("salesforce"))
        assert count(mock, "salesforce") == 5


def test_shared_failure_gives_each_caller_its_own_exception(mock: MockServer) -> None:
    mock.fault({"match": "no-such-thing", "delayMs": DELAY_MS, "times": 0})
    with new_client(mock) as client:
        results = at_once(THREADS, lambda _: client.integration("no-such-thing"))
    assert count(mock, "no-such-thing") == 1
    assert all(type(r) is membrane.NotFound for r in results), results
    assert len({id(r) for r in results}) == THREADS
    for r in results:
        assert (r.code, r.http_status, r.key) == (membrane.ENOTFOUND, 404, "not_found")
        assert r.message == results[0].message and "'no-such-thing'" in r.message


def test_only_the_same_flags_share(mock: MockServer) -> None:
    """include_secrets is part of what is shared: masked and revealed answers never mix."""
    mock.fault({"match": "hubspot", "delayMs": DELAY_MS, "times": 0})
    with new_client(mock) as client:
        results = at_once(THREADS, lambda i: client.integration("hubspot", include_secrets=i % 2 == 1))
    assert sorted(r.get("query") for r in mock.requests_for(path("hubspot"))) == [
        "includeSecrets=false", "includeSecrets=true"]
    for i, r in enumerate(results):
        secret = r["parameters"]["clientSecret"]
        assert (secret != MASKED) if i % 2 else (secret == MASKED), (i, secret)


def test_different_selectors_do_not_share(mock: MockServer) -> None:
    mock.fault({"delayMs": DELAY_MS, "times": 0})
    selectors = ["hubspot", "salesforce", "pipedrive", "notion"]
    with new_client(mock) as client:
        results = at_once(THREADS, lambda i: client.integration(selectors[i % 4]))
    assert [r["key"] for r in results] == [selectors[i % 4] for i in range(THREADS)]
    assert [count(mock, s) for s in selectors] == [1, 1, 1, 1]


def test_shared_raw_json_objects_are_independent(mock: MockServer) -> None:
    """membrane_integration_get from 8 threads, one request: 8 distinct json_t, each
    with one reference; changing one leaves the others as the API sent them."""
    mock.fault({"match": "hubspot", "delayMs": DELAY_MS, "times": 0})
    lib = membrane.load_library()
    jansson = membrane._native.jansson_library()
    jansson.json_object_set_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    jansson.json_object_set_new.restype = ctypes.c_int
    jansson.json_string.argtypes = [ctypes.c_char_p]
    jansson.json_string.restype = ctypes.c_void_p
    with new_client(mock) as client:
        ptr = client._handle._ptr

        def get(_: int) -> Any:
            out = membrane._native._JSONPtr()
            err = membrane._native._CError()
            rc = lib.membrane_integration_get(ptr, b"hubspot", 0, ctypes.byref(out), ctypes.byref(err))
            assert rc == membrane.OK, err.message
            return out

        outs = at_once(THREADS, get)
        try:
            assert all(isinstance(o, membrane._native._JSONPtr) for o in outs), outs
            assert count(mock, "hubspot") == 1
            addresses = [ctypes.cast(o, ctypes.c_void_p).value for o in outs]
            assert len(set(addresses)) == THREADS, "callers were handed the same json_t"
            # jansson's json_t: {json_type type; size_t refcount;}
            refcounts = [ctypes.c_size_t.from_address(a + ctypes.sizeof(ctypes.c_size_t)).value
                         for a in addresses]
            assert refcounts == [1] * THREADS, refcounts

            before = dump(lib, outs[1])
            assert jansson.json_object_set_new(addresses[0], b"name", jansson.json_string(b"changed")) == 0
            assert b'"name":"changed"' in dump(lib, outs[0])
            assert all(dump(lib, o) == before for o in outs[1:])
        finally:
            for o in outs:
                if isinstance(o, membrane._native._JSONPtr):
                    lib.membrane_json_release(o)


# ---------------------------------------------------------------------------
# The cache: Client
# ---------------------------------------------------------------------------


def test_no_cache_by_default(mock: MockServer) -> None:
    with new_client(mock) as client:
        client.integration("hubspot")
        client.integration("hubspot")
    assert count(mock, "hubspot") == 2


def test_cached_answer_until_the_ttl_expires(mock: MockServer, fixtures: List[Dict[str, Any]]) -> None:
    ttl_ms = 300  # short, with room for a slow machine between the first two lookups
    with new_client(mock, cache_ttl_ms=ttl_ms) as client:
        first = client.integration("hubspot")
        first["name"] = "changed"  # a caller's changes never reach the cache
        second = client.integration("hubspot")
        assert count(mock, "hubspot") == 1
        assert second == masked(find_fixture(fixtures, "hubspot"))
        assert second is not first
        time.sleep(ttl_ms / 1000 + 0.2)
        third = client.integration("hubspot")
        assert count(mock, "hubspot") == 2
        assert third == second
        client.integration("hubspot")  # cached again, from the second request
        assert count(mock, "hubspot") == 2


def test_cached_raw_json_is_a_fresh_copy_each_time(mock: MockServer) -> None:
    """Each hit of membrane_integration_get is a json_t of its own; changing one
    changes neither the cache nor what the next caller gets."""
    lib = membrane.load_library()
    jansson = membrane._native.jansson_library()
    jansson.json_object_del.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    jansson.json_object_del.restype = ctypes.c_int
    with new_client(mock, cache_ttl_ms=60_000) as client:
        ptr = client._handle._ptr
        outs = []
        try:
            for _ in range(3):
                out = membrane._native._JSONPtr()
                err = membrane._native._CError()
                assert lib.membrane_integration_get(ptr, b"hubspot", 0, ctypes.byref(out),
                                                    ctypes.byref(err)) == membrane.OK
                outs.append(out)
                if len(outs) == 2:
                    assert jansson.json_object_del(ctypes.cast(out, ctypes.c_void_p).value,
                                                   b"key") == 0
            addresses = {ctypes.cast(o, ctypes.c_void_p).value for o in outs}
            assert len(addresses) == 3
            assert count(mock, "hubspot") == 1
            dumps = [dump(lib, o) for o in outs]
            assert b'"key":"hubspot"' not in dumps[1]
            assert dumps[0] == dumps[2] and b'"key":"hubspot"' in dumps[2]
        finally:
            for o in outs:
                lib.membrane_json_release(o)
        assert client.integration("hubspot")["key"] == "hubspot"  # the text form: from the cache too
        assert count(mock, "hubspot") == 1


def test_include_secrets_lookups_are_never_cached(mock: MockServer) -> None:
    with new_client(mock, cache_ttl_ms=60_000) as client:
        revealed = client.integration("hubspot", include_secrets=True)
        again = client.integration("hubspot", include_secrets=True)
        assert count(mock, "hubspot") == 2
        assert revealed["parameters"]["clientSecret"] != MASKED
        assert again == revealed
        # Nor do they answer a lookup without it, nor one without answer them.
        assert client.integration("hubspot")["parameters"]["clientSecret"] == MASKED
        assert count(mock, "hubspot") == 3
        assert client.integration("hubspot", include_secrets=True)["parameters"]["clientSecret"] != MASKED
        assert count(mock, "hubspot") == 4
        assert client.integration("hubspot")["parameters"]["clientSecret"] == MASKED
        assert count(mock, "hubspot") == 4  # the masked answer was cached
    queries = [r["query"] for r in mock.requests_for(path("hubspot"))]
    assert queries == ["includeSecrets=true", "includeSecrets=true", "includeSecrets=false",
                       "includeSecrets=true"]


def test_errors_are_never_cached(mock: MockServer) -> None:
    with new_client(mock, cache_ttl_ms=60_000, max_retries=0) as client:
        for _ in range(2):
            with pytest.raises(membrane.NotFound):
                client.integration("no-such-thing")
        assert count(mock, "no-such-thing") == 2

        mock.fault({"match": "salesforce", "status": 500})
        with pytest.raises(membrane.ServerError):
            client.integration("salesforce")
        assert client.integration("salesforce")["key"] == "salesforce"
        assert client.integration("salesforce")["key"] == "salesforce"
        assert count(mock, "salesforce") == 2  # the failure, then the answer (cached)


def test_least_recently_used_is_dropped(mock: MockServer) -> None:
    with new_client(mock, cache_ttl_ms=60_000, cache_max_entries=2) as client:
        client.integration("hubspot")
        client.integration("salesforce")
        client.integration("hubspot")          # a hit: hubspot is now the most recent
        assert (count(mock, "hubspot"), count(mock, "salesforce")) == (1, 1)
        client.integration("pipedrive")        # a third entry: salesforce goes
        client.integration("hubspot")          # still there
        client.integration("pipedrive")        # still there
        assert (count(mock, "hubspot"), count(mock, "pipedrive")) == (1, 1)
        client.integration("salesforce")       # dropped before: a request; hubspot goes now
        assert count(mock, "salesforce") == 2
        client.integration("pipedrive")        # the more recent of the two: kept
        assert count(mock, "pipedrive") == 1
        client.integration("hubspot")          # dropped when salesforce came back
        assert count(mock, "hubspot") == 2


def test_set_cache_max_entries_after_the_constructor(mock: MockServer) -> None:
    with new_client(mock, cache_ttl_ms=60_000) as client:
        client.set_cache_max_entries(1)
        client.integration("hubspot")
        client.integration("salesforce")
        client.integration("salesforce")
        client.integration("hubspot")
    assert (count(mock, "hubspot"), count(mock, "salesforce")) == (2, 1)


def test_invalidate_one_selector_or_all(mock: MockServer) -> None:
    with new_client(mock, cache_ttl_ms=60_000) as client:
        for selector in ("hubspot", "salesforce", "pipedrive"):
            client.integration(selector)
        client.invalidate("hubspot")
        client.invalidate(b"salesforce")
        client.invalidate("not-cached-at-all")  # not an error
        for selector in ("hubspot", "salesforce", "pipedrive"):
            client.integration(selector)
        assert [count(mock, s) for s in ("hubspot", "salesforce", "pipedrive")] == [2, 2, 1]
        client.invalidate()
        for selector in ("hubspot", "salesforce", "pipedrive"):
            client.integration(selector)
        assert [count(mock, s) for s in ("hubspot", "salesforce", "pipedrive")] == [3, 3, 2]
        client.invalidate(None)
        client.integration("pipedrive")
        assert count(mock, "pipedrive") == 3


def test_a_new_token_empties_the_cache(mock: MockServer) -> None:
    with new_client(mock, cache_ttl_ms=60_000, max_retries=0) as client:
        client.integration("hubspot")
        client.integration("salesforce")
        client.set_token("another-token")
        # Not answered from memory with the old token's answer: asked, and refused.
        with pytest.raises(membrane.NotAuthenticated):
            client.integration("hubspot")
        assert count(mock, "hubspot") == 2
        client.set_token(TOKEN)
        assert client.integration("salesforce")["key"] == "salesforce"
        assert count(mock, "salesforce") == 2
        client.integration("salesforce")
        assert count(mock, "salesforce") == 2


def test_a_token_provider_empties_the_cache(mock: MockServer) -> None:
    with new_client(mock, cache_ttl_ms=60_000) as client:
        client.integration("hubspot")
        client.set_token_provider(lambda: TOKEN)
        client.integration("hubspot")
        assert count(mock, "hubspot") == 2


def test_a_lookup_after_a_token_change_never_joins_the_old_tokens_request(mock: MockServer) -> None:
    """A lookup in flight with the old token is not shared with one started after
    set_token: that one makes its own request, with the new token."""
    mock.fault({"match": "hubspot", "delayMs": 500})
    with new_client(mock, max_retries=0) as client:
        before: Dict[str, Any] = {}
        thread = threading.Thread(target=lambda: before.update(r=client.integration("hubspot")))
        thread.start()
        assert wait_for(lambda: count(mock, "hubspot") == 1)
        client.set_token("another-token")
        with pytest.raises(membrane.NotAuthenticated):
            client.integration("hubspot")
        thread.join(10)
    assert before["r"]["key"] == "hubspot"
    assert [r["authorized"] for r in mock.requests_for(path("hubspot"))] == [True, False]


@pytest.mark.parametrize("change", ["invalidate", "invalidate-all", "set_token"])
def test_an_answer_fetched_before_a_change_is_not_kept(mock: MockServer, change: str) -> None:
    """The answer of a lookup in flight when the cache was emptied is not stored after."""
    mock.fault({"match": "hubspot", "delayMs": 500})
    with new_client(mock, cache_ttl_ms=60_000) as client:
        before: Dict[str, Any] = {}
        thread = threading.Thread(target=lambda: before.update(r=client.integration("hubspot")))
        thread.start()
        assert wait_for(lambda: count(mock, "hubspot") == 1)
        if change == "invalidate":
            client.invalidate("hubspot")
        elif change == "invalidate-all":
            client.invalidate()
        else:
            client.set_token(TOKEN)
        thread.join(10)
        assert before["r"]["key"] == "hubspot"
        client.integration("hubspot")
        assert count(mock, "hubspot") == 2
        client.integration("hubspot")  # this one was kept
        assert count(mock, "hubspot") == 2


def test_cache_ttl_zero_empties_and_turns_it_off(mock: MockServer) -> None:
    with new_client(mock, cache_ttl_ms=60_000) as client:
        client.integration("hubspot")
        client.set_cache_ttl(0)
        client.integration("hubspot")
        client.integration("hubspot")
        assert count(mock, "hubspot") == 3
        client.set_cache_ttl(60_000)
        client.integration("hubspot")
        client.integration("hubspot")
        assert count(mock, "hubspot") == 4


def test_concurrent_lookups_with_a_cache(mock: MockServer) -> None:
    """Sharing fills the cache once; the next wave takes no request."""
    mock.fault({"match": "hubspot", "delayMs": DELAY_MS, "times": 0})
    with new_client(mock, cache_ttl_ms=60_000) as client:
        first = at_once(THREADS, lambda _: client.integration("hubspot"))
        second = at_once(THREADS, lambda _: client.integration("hubspot"))
    assert all(isinstance(r, dict) and r["key"] == "hubspot" for r in first + second), first + second
    assert len({id(r) for r in first + second}) == 2 * THREADS
    assert count(mock, "hubspot") == 1


# ---------------------------------------------------------------------------
# AsyncClient
# ---------------------------------------------------------------------------


def test_async_gather_shares_one_request(run: Runner, mock: MockServer,
                                         fixtures: List[Dict[str, Any]]) -> None:
    mock.fault({"match": "hubspot", "delayMs": DELAY_MS, "times": 0})

    async def main() -> List[Dict[str, Any]]:
        async with new_async_client(mock) as client:
            return await asyncio.gather(*(client.integration("hubspot") for _ in range(THREADS)))

    results = run(main())
    assert count(mock, "hubspot") == 1
    assert all(r == masked(find_fixture(fixtures, "hubspot")) for r in results)
    assert len({id(r) for r in results}) == THREADS
    results[0]["parameters"]["clientId"] = "changed"
    assert all(r["parameters"]["clientId"] == "hubspot-client-id-123" for r in results[1:])


def test_async_share_requests_false(run: Runner, mock: MockServer) -> None:
    mock.fault({"match": "hubspot", "delayMs": DELAY_MS, "times": 0})

    async def main() -> List[Dict[str, Any]]:
        async with new_async_client(mock, share_requests=False) as client:
            return await asyncio.gather(*(client.integration("hubspot") for _ in range(THREADS)))

    results = run(main())
    assert [r["key"] for r in results] == ["hubspot"] * THREADS
    assert count(mock, "hubspot") == THREADS


def test_async_shared_failure(run: Runner, mock: MockServer) -> None:
    mock.fault({"match": "no-such-thing", "delayMs": DELAY_MS, "times": 0})

    async def main() -> List[Any]:
        async with new_async_client(mock) as client:
            return await asyncio.gather(*(client.integration("no-such-thing") for _ in range(4)),
                                        return_exceptions=True)

    results = run(main())
    assert count(mock, "no-such-thing") == 1
    assert all(type(r) is membrane.NotFound and r.http_status == 404 for r in results), results
    assert len({id(r) for r in results}) == 4


@pytest.mark.parametrize("cancelled", [0, 3])
def test_async_cancelling_one_sharer_leaves_the_others(run: Runner, mock: MockServer,
                                                       cancelled: int) -> None:
    """Each caller keeps its own cancellation: the others still get the answer.

    Task 0 started the request the others joined; task 3 joined last.
    """
    mock.fault({"match": "hubspot", "delayMs": 600, "times": 0})

    async def main() -> Any:
        async with new_async_client(mock) as client:
            tasks = [asyncio.ensure_future(client.integration("hubspot")) for _ in range(4)]
            assert await until(lambda: count(mock, "hubspot") == 1)
            await asyncio.sleep(0.1)
            tasks[cancelled].cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            return results, client._requests_in_flight()

    results, left = run(main())
    assert isinstance(results.pop(cancelled), asyncio.CancelledError)
    assert [r["key"] for r in results] == ["hubspot"] * 3, results
    assert left == 0
    if cancelled:
        assert count(mock, "hubspot") == 1  # a sharer that leaves does not disturb the request
    else:
        # The library ends the transfer of the caller that started it and the others
        # start a new one (a second request, a full round trip later).
        assert count(mock, "hubspot") in (1, 2)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def test_async_cache_and_invalidate(run: Runner, mock: MockServer) -> None:
    async def main() -> List[int]:
        counts = []
        async with new_async_client(mock, cache_ttl_ms=60_000) as client:
            first = await client.integration("hubspot")
            first["name"] = "changed"
            second = await client.integration("hubspot")
            assert second["name"] != "changed"
            counts.append(count(mock, "hubspot"))
            assert client.invalidate("hubspot") is None  # a plain call, not a coroutine
            await client.integration("hubspot")
            counts.append(count(mock, "hubspot"))
            client.invalidate()
            await client.integration("hubspot")
            await client.integration("hubspot")
            counts.append(count(mock, "hubspot"))
            # include_secrets and failures: never kept
            await client.integration("salesforce", include_secrets=True)
            await client.integration("salesforce", include_secrets=True)
            counts.append(count(mock, "salesforce"))
            for _ in range(2):
                with pytest.raises(membrane.NotFound):
                    await client.integration("no-such-thing")
            counts.append(count(mock, "no-such-thing"))
            client.set_token(TOKEN)  # a change of token empties it
            await client.integration("hubspot")
            counts.append(count(mock, "hubspot"))
        return counts

    assert run(main()) == [1, 2, 3, 2, 2, 4]


def test_async_cache_ttl_expires(run: Runner, mock: MockServer) -> None:
    async def main() -> List[int]:
        counts = []
        async with new_async_client(mock, cache_ttl_ms=300) as client:
            await client.integration("pipedrive")
            await client.integration("pipedrive")
            counts.append(count(mock, "pipedrive"))
            await asyncio.sleep(0.5)
            await client.integration("pipedrive")
            counts.append(count(mock, "pipedrive"))
        return counts

    assert run(main()) == [1, 2]


def test_async_gather_with_a_cache_then_hits(run: Runner, mock: MockServer) -> None:
    mock.fault({"match": "notion", "delayMs": DELAY_MS, "times": 0})

    async def main() -> List[Dict[str, Any]]:
        async with new_async_client(mock, cache_ttl_ms=60_000, cache_max_entries=4) as client:
            first = await asyncio.gather(*(client.integration("notion") for _ in range(4)))
            second = await asyncio.gather(*(client.integration("notion") for _ in range(4)))
            return first + second

    results = run(main())
    assert [r["key"] for r in results] == ["notion"] * 8
    assert count(mock, "notion") == 1


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------


CLIENT_CLASSES = [membrane.Client, membrane.AsyncClient]


@pytest.fixture(params=["Client", "AsyncClient"])
def any_client(request: pytest.FixtureRequest, mock: MockServer) -> Iterator[Any]:
    client = getattr(membrane, request.param)(mock.url, TOKEN)
    try:
        yield client
    finally:
        client.close()


@pytest.mark.parametrize("name", ["Client", "AsyncClient"])
def test_constructor_checks_the_new_options(mock: MockServer, name: str) -> None:
    cls = getattr(membrane, name)
    for good in ({"share_requests": True}, {"share_requests": False}, {"cache_ttl_ms": 0},
                 {"cache_ttl_ms": 86_400_000}, {"cache_max_entries": 1},
                 {"cache_max_entries": 1_000_000}, {"share_requests": None, "cache_ttl_ms": None,
                                                    "cache_max_entries": None}):
        cls(mock.url, TOKEN, **good).close()
    for bad_type in ({"share_requests": 1}, {"share_requests": 0}, {"share_requests": "yes"},
                     {"cache_ttl_ms": "100"}, {"cache_ttl_ms": 1.5}, {"cache_ttl_ms": True},
                     {"cache_max_entries": 2.0}, {"cache_max_entries": False}):
        with pytest.raises(TypeError):
            cls(mock.url, TOKEN, **bad_type)
    for out_of_range in ({"cache_ttl_ms": -1}, {"cache_ttl_ms": 86_400_001},
                         {"cache_ttl_ms": 2 ** 70}, {"cache_max_entries": 0},
                         {"cache_max_entries": -5}, {"cache_max_entries": 1_000_001}):
        with pytest.raises(membrane.InvalidArgument) as info:
            cls(mock.url, TOKEN, **out_of_range)
        assert isinstance(info.value, ValueError)
        (option,) = out_of_range
        assert option in info.value.message
    assert mock.requests() == []


def test_setters_check_their_arguments(any_client: Any) -> None:
    client = any_client
    with pytest.raises(TypeError):
        client.set_share_requests(1)
    with pytest.raises(TypeError):
        client.set_share_requests(None)
    with pytest.raises(TypeError):
        client.set_cache_ttl("5")
    with pytest.raises(TypeError):
        client.set_cache_max_entries(None)
    for bad in (-1, 86_400_001):
        with pytest.raises(membrane.InvalidArgument):
            client.set_cache_ttl(bad)
    for bad in (0, 1_000_001):
        with pytest.raises(membrane.InvalidArgument):
            client.set_cache_max_entries(bad)
    client.set_share_requests(False)
    client.set_cache_ttl(86_400_000)
    client.set_cache_max_entries(1_000_000)


def test_invalidate_checks_its_argument(any_client: Any) -> None:
    client = any_client
    for bad in (1, ["hubspot"], object(), 1.0):
        with pytest.raises(TypeError):
            client.invalidate(bad)
    with pytest.raises(membrane.InvalidArgument):
        client.invalidate("hub\0spot")
    with pytest.raises(membrane.InvalidArgument):
        client.invalidate(b"\xff\xfe")  # not UTF-8
    with pytest.raises(membrane.InvalidArgument):
        client.invalidate("x" * 100_000)  # too long
    assert not asyncio.iscoroutinefunction(client.invalidate)
    client.invalidate("")
    client.close()
    with pytest.raises(membrane.ClientClosed):
        client.invalidate()
    with pytest.raises(membrane.ClientClosed):
        client.set_cache_ttl(1)


def test_raw_invalidate() -> None:
    lib = membrane.load_library()
    assert lib.membrane_client_invalidate(None, None) == membrane.EINVAL
    assert lib.membrane_client_invalidate(None, b"hubspot") == membrane.EINVAL
    assert (membrane.OPT_SHARE_REQUESTS, membrane.OPT_CACHE_TTL_MS,
            membrane.OPT_CACHE_MAX_ENTRIES) == (11, 12, 13)


def test_the_methods_exist_on_both_clients() -> None:
    for cls in CLIENT_CLASSES:
        for name in ("set_share_requests", "set_cache_ttl", "set_cache_max_entries", "invalidate"):
            assert callable(getattr(cls, name)), (cls, name)
            assert not asyncio.iscoroutinefunction(getattr(cls, name)), (cls, name)
