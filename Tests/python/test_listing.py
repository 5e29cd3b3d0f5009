"""Listing: client.list_page(), the lazy client.list_integrations(), list_all_integrations()."""

from __future__ import annotations

import math
import urllib.parse
from typing import Any, Dict, List

import pytest

import membrane
from conftest import TOKEN, MockServer


def listed(fixtures: List[Dict[str, Any]], archived: bool = False) -> List[str]:
    """The keys GET /integrations serves, in order (archived ones only when asked)."""
    return [item["key"] for item in fixtures if archived or not item.get("archivedAt")]


def list_requests(mock: MockServer) -> List[Dict[str, Any]]:
    return [r for r in mock.requests() if r["path"] == "/integrations"]


def test_one_page(mock: MockServer, client: membrane.Client, fixtures: List[Dict[str, Any]]) -> None:
    page = client.list_page(limit=4)
    assert [item["key"] for item in page["items"]] == listed(fixtures)[:4]
    assert page["cursor"] == "4"
    page = client.list_page(limit=4, cursor=page["cursor"])
    assert [item["key"] for item in page["items"]] == listed(fixtures)[4:8]
    last = client.list_page(limit=1000)
    assert "cursor" not in last and len(last["items"]) == len(listed(fixtures))
    assert [r["query"] for r in list_requests(mock)] == ["limit=4", "limit=4&cursor=4", "limit=1000"]


def test_no_query(mock: MockServer, client: membrane.Client, fixtures: List[Dict[str, Any]]) -> None:
    page = client.list_page()
    assert len(page["items"]) == min(20, len(listed(fixtures)))
    assert mock.last_request()["query"] == ""
    assert client.list_page({}, search=None)["items"] == page["items"]  # None: left out
    assert mock.last_request()["query"] == ""


@pytest.mark.parametrize("limit", [1, 3, 4, 5, 14, 100])
def test_every_page(mock: MockServer, client: membrane.Client, fixtures: List[Dict[str, Any]],
                    limit: int) -> None:
    expected = listed(fixtures)
    assert [item["key"] for item in client.list_integrations(limit=limit)] == expected
    requests = list_requests(mock)
    assert len(requests) == math.ceil(len(expected) / limit)
    offsets = [urllib.parse.parse_qs(r["query"]).get("cursor", ["0"])[0] for r in requests]
    assert offsets == [str(n * limit) for n in range(len(requests))]
    for r in requests:  # the cursor goes last, after the caller's parameters
        assert r["query"].startswith(f"limit={limit}")


def test_list_all_matches_the_iterator(mock: MockServer, client: membrane.Client,
                                       fixtures: List[Dict[str, Any]]) -> None:
    everything = client.list_all_integrations(limit=4, includeArchived=True)
    assert [item["key"] for item in everything] == listed(fixtures, archived=True)
    assert list(client.list_integrations(limit=4, includeArchived=True)) == everything
    assert len(list_requests(mock)) == 2 * math.ceil(len(everything) / 4)


def test_query_encoding(mock: MockServer, client: membrane.Client) -> None:
    client.list_page({"search": "a & b/ü~*+=?#%", "limit": 5, "includeArchived": True,
                      "ratio": 0.5, "negative": -7, "off": False, "na me": "x y", "empty": ""})
    raw = mock.last_request()["query"]
    # Percent-encoded by the library, in the order given; true/false spelled out.
    assert raw == ("search=a%20%26%20b%2F%C3%BC~%2A%2B%3D%3F%23%25&limit=5&includeArchived=true"
                   "&ratio=0.5&negative=-7&off=false&na%20me=x%20y&empty=")
    assert urllib.parse.parse_qsl(raw, keep_blank_values=True) == [
        ("search", "a & b/ü~*+=?#%"), ("limit", "5"), ("includeArchived", "true"),
        ("ratio", "0.5"), ("negative", "-7"), ("off", "false"), ("na me", "x y"), ("empty", "")]


def test_keyword_arguments_and_mapping_merge(mock: MockServer, client: membrane.Client) -> None:
    client.list_page({"limit": 2, "search": "s"}, search="sales", includeArchived=True)
    assert mock.last_request()["query"] == "limit=2&search=sales&includeArchived=true"


def test_search_and_archived(client: membrane.Client, fixtures: List[Dict[str, Any]]) -> None:
    assert [i["key"] for i in client.list_integrations(search="CRM")] == []
    assert [i["key"] for i in client.list_integrations(search="CRM", includeArchived=True)] == [
        "legacy-crm"]


def test_the_iterator_is_lazy(mock: MockServer, client: membrane.Client,
                              fixtures: List[Dict[str, Any]]) -> None:
    limit = 3
    expected = listed(fixtures)
    items = client.list_integrations(limit=limit)
    assert list_requests(mock) == []  # nothing before the first item is asked for
    first = next(items)
    assert first["key"] == expected[0]
    assert len(list_requests(mock)) == 1
    for _ in range(limit - 1):  # the rest of the first page: no new request
        next(items)
    assert len(list_requests(mock)) == 1
    next(items)  # the first item of the second page
    assert len(list_requests(mock)) == 2
    rest = list(items)
    assert len(rest) == len(expected) - limit - 1
    assert len(list_requests(mock)) == math.ceil(len(expected) / limit)
    assert list(items) == []  # exhausted: no more requests
    assert len(list_requests(mock)) == math.ceil(len(expected) / limit)


def test_start_cursor(mock: MockServer, client: membrane.Client, fixtures: List[Dict[str, Any]]) -> None:
    keys = [item["key"] for item in client.list_integrations(limit=5, cursor="6")]
    assert keys == listed(fixtures)[6:]
    assert list_requests(mock)[0]["query"] == "limit=5&cursor=6"
    assert [item["key"] for item in client.list_integrations({"cursor": 6}, limit=5)] == keys


def test_repeated_cursor(mock: MockServer, client: membrane.Client) -> None:
    mock.fault({"match": "", "json": {"items": [], "cursor": "same"}, "times": 0})
    with pytest.raises(membrane.ProtocolError) as caught:
        list(client.list_integrations())
    assert caught.value.code == membrane.EPROTOCOL and caught.value.http_status == 200
    assert "a second time" in caught.value.message
    assert [r["query"] for r in list_requests(mock)] == ["", "cursor=same"]
    # The library's own loop stops the same way.
    mock.clear_requests()
    with pytest.raises(membrane.ProtocolError, match="a second time"):
        client.list_all_integrations()
    assert [r["query"] for r in list_requests(mock)] == ["", "cursor=same"]


def test_cursor_cycle_with_items(mock: MockServer, client: membrane.Client) -> None:
    """a -> b -> a: the items read before the loop is noticed are handed out."""
    mock.fault({"match": "", "json": {"items": [{"name": "one"}], "cursor": "a"}},
               {"match": "", "json": {"items": [{"name": "two"}], "cursor": "b"}},
               {"match": "", "json": {"items": [{"name": "three"}], "cursor": "a"}})
    got: List[str] = []
    with pytest.raises(membrane.ProtocolError):
        for item in client.list_integrations():
            got.append(item["name"])
    assert got == ["one", "two", "three"]
    assert len(list_requests(mock)) == 3


def test_empty_cursor_ends_the_listing(mock: MockServer, client: membrane.Client) -> None:
    mock.fault({"match": "", "json": {"items": [{"name": "only"}], "cursor": ""}})
    assert [item["name"] for item in client.list_integrations()] == ["only"]
    assert len(list_requests(mock)) == 1


def test_page_cap(mock: MockServer, fixtures: List[Dict[str, Any]]) -> None:
    expected = listed(fixtures)
    pages = math.ceil(len(expected) / 2)
    with membrane.Client(mock.url, TOKEN, max_pages=3) as client:
        got: List[str] = []
        with pytest.raises(membrane.ProtocolError, match="more than 3 pages") as caught:
            for item in client.list_integrations(limit=2):
                got.append(item["key"])
        assert caught.value.http_status == 200
        assert got == expected[:6]
        assert len(list_requests(mock)) == 3
        mock.clear_requests()
        with pytest.raises(membrane.ProtocolError, match="more than 3 pages"):
            client.list_all_integrations(limit=2)
        assert len(list_requests(mock)) == 3

        # Exactly as many pages as the cap allows: fine.
        client.set_max_pages(pages)
        assert [item["key"] for item in client.list_integrations(limit=2)] == expected
        assert len(client.list_all_integrations(limit=2)) == len(expected)


def test_page_cap_is_taken_when_the_iteration_starts(mock: MockServer) -> None:
    with membrane.Client(mock.url, TOKEN) as client:
        client.set_max_pages(1)
        items = client.list_integrations(limit=2)
        client.set_max_pages(1000)
        with pytest.raises(membrane.ProtocolError, match="more than 1 pages"):
            list(items)


def test_max_pages_option_range(mock: MockServer) -> None:
    with membrane.Client(mock.url, TOKEN) as client:
        for bad in (0, -1):
            with pytest.raises(membrane.InvalidArgument):
                client.set_max_pages(bad)
        client.set_max_pages(2)
        client.set_max_pages(10 ** 9)


@pytest.mark.parametrize("query, error", [
    ({"limit": [1]}, TypeError),
    ({"limit": {"a": 1}}, TypeError),
    ({"search": b"bytes"}, TypeError),
    ({"limit": float("nan")}, membrane.InvalidArgument),
    ({"limit": float("inf")}, membrane.InvalidArgument),
    ({"limit": 2 ** 63}, membrane.InvalidArgument),
    ({"search": "a\0b"}, membrane.InvalidArgument),
    ({"search": "\ud800"}, membrane.InvalidArgument),
    ({"a\0b": "x"}, membrane.InvalidArgument),
    ({1: "x"}, TypeError),
])
def test_bad_query_values(mock: MockServer, client: membrane.Client, query: Any, error: type) -> None:
    with pytest.raises(error):
        client.list_page(query)
    with pytest.raises(error):
        client.list_integrations(query)  # checked at the call, not at the first next()
    with pytest.raises(error):
        client.list_all_integrations(query)
    with pytest.raises(TypeError):
        client.list_page(["limit", 1])  # type: ignore[arg-type]
    assert list_requests(mock) == []


def test_api_errors(mock: MockServer, client: membrane.Client) -> None:
    with pytest.raises(membrane.BadRequest) as caught:
        client.list_page(limit=0)
    assert caught.value.http_status == 400 and caught.value.key == "invalid_limit"
    with pytest.raises(membrane.BadRequest, match="cursor"):
        next(client.list_integrations(cursor="nope"))
    with membrane.Client(mock.url, "wrong-token") as stranger:
        with pytest.raises(membrane.NotAuthenticated):
            next(stranger.list_integrations())


def test_a_failing_page_midway(mock: MockServer, strict_client: membrane.Client,
                               fixtures: List[Dict[str, Any]]) -> None:
    items = strict_client.list_integrations(limit=5)
    got = [next(items) for _ in range(5)]
    mock.fault({"match": "", "status": 500})
    with pytest.raises(membrane.ServerError):
        next(items)
    assert [item["key"] for item in got] == listed(fixtures)[:5]


def test_bad_items_are_refused(mock: MockServer, client: membrane.Client) -> None:
    mock.fault({"match": "", "json": {"items": [{"name": 5}]}})
    with pytest.raises(membrane.ProtocolError):
        client.list_page()


def test_closed_client(mock: MockServer) -> None:
    client = membrane.Client(mock.url, TOKEN)
    items = client.list_integrations(limit=2)
    next(items)
    client.close()
    with pytest.raises(membrane.ClientClosed):
        list(items)
    with pytest.raises(membrane.ClientClosed):
        client.list_page()
