"""A selector travels as exactly one percent-encoded path segment."""

from __future__ import annotations

import re
import urllib.parse
from typing import Union

import pytest

import membrane
from conftest import MockServer

PREFIX = "/integrations/"
# RFC 3986 pchar: unreserved / pct-encoded / sub-delims / ":" / "@". Nothing else may
# appear raw in a segment (in particular no "/", "?", "#", space or non-ASCII byte).
SEGMENT = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$")

NOT_FOUND_SELECTORS = [
    "a/b",
    "../connections",
    "a?b=c",
    "a#b",
    "%2F",
    "with space",
    "ünïcødé",
    "a+b",
    "a;b=c",
    "a%b",
    "50%",
    "back\\slash",
    "quote\"d",
    "<tag>",
    "{x}|[y]^`",
    "日本語",
    "emoji-😀",
    "hubspot/",
    "/hubspot",
    "hubspot?includeSecrets=true",
    "~",
    "-",
]


def check_wire_path(mock: MockServer, selector: Union[str, bytes]) -> str:
    """The one recorded request's raw path is /integrations/ + one segment decoding to selector."""
    raw = selector if isinstance(selector, bytes) else selector.encode("utf-8")
    (request,) = mock.requests()
    path = request["path"]
    assert path.startswith(PREFIX), path
    segment = path[len(PREFIX):]
    for ch in "/?# ":
        assert ch not in segment, f"raw {ch!r} in {path!r}"
    assert SEGMENT.match(segment), f"not one percent-encoded segment: {path!r}"
    if isinstance(selector, str):
        # The stand-in records the selector it decoded (once) from the raw path.
        assert request["selector"] == selector, request
    else:
        # Bytes that are not UTF-8 are no selector the server can name.
        assert urllib.parse.unquote_to_bytes(segment) == raw, path
    return segment


@pytest.mark.parametrize("selector", NOT_FOUND_SELECTORS)
def test_selector_is_one_segment(client: membrane.Client, mock: MockServer, selector: str) -> None:
    with pytest.raises(membrane.NotFound) as info:
        client.integration(selector)
    assert info.value.key == "not_found"
    assert info.value.http_status == 404
    check_wire_path(mock, selector)


def test_percent_2f_is_not_decoded_twice(client: membrane.Client, mock: MockServer) -> None:
    with pytest.raises(membrane.NotFound):
        client.integration("%2F")
    segment = check_wire_path(mock, "%2F")
    assert segment.upper() == "%252F"


def test_catalog_key_is_found(client: membrane.Client, mock: MockServer) -> None:
    selector = "~search.membrane--getmembrane_com"
    got = client.integration(selector)
    assert got["key"] == selector
    check_wire_path(mock, selector)


def test_plain_id_goes_unescaped(client: membrane.Client, mock: MockServer) -> None:
    client.integration("67c05c5f0872bad5078153b9")
    assert mock.last_request()["path"] == "/integrations/67c05c5f0872bad5078153b9"


def test_bytes_selector_is_passed_as_is(client: membrane.Client, mock: MockServer) -> None:
    assert client.integration(b"hubspot")["key"] == "hubspot"
    with pytest.raises(membrane.NotFound):
        client.integration("ünïcødé".encode("utf-8"))
    mock.clear_requests()
    with pytest.raises(membrane.NotFound):
        client.integration("ünïcødé".encode("utf-8"))
    check_wire_path(mock, "ünïcødé")


def test_longest_selector_is_one_segment(client: membrane.Client, mock: MockServer) -> None:
    selector = "/?#%" * 256  # 1024 bytes, every one of them to be escaped
    with pytest.raises(membrane.NotFound):
        client.integration(selector)
    check_wire_path(mock, selector)


@pytest.mark.parametrize("selector", ["tab\there", "line\nbreak", "bell\x07", "del\x7f"])
def test_control_characters(client: membrane.Client, mock: MockServer, selector: str) -> None:
    """Valid UTF-8, so either sent percent-encoded or refused before any request."""
    try:
        client.integration(selector)
    except membrane.NotFound:
        check_wire_path(mock, selector)
    except membrane.InvalidArgument:
        assert mock.requests() == []
    else:
        raise AssertionError("a control-character selector cannot match a fixture")


@pytest.mark.parametrize("selector", [".", ".."])
def test_dot_segments_are_not_resolved(client: membrane.Client, mock: MockServer,
                                       selector: str) -> None:
    """"." and ".." must not turn GET /integrations/.. into GET / (or be refused up front)."""
    try:
        client.integration(selector)
    except membrane.NotFound:
        (request,) = mock.requests()
        path = request["path"]
        assert path.startswith(PREFIX), f"dot segment resolved: {path!r}"
        assert request["selector"] == selector, request
    except membrane.InvalidArgument:
        assert mock.requests() == []
    else:
        raise AssertionError(f"{selector!r} cannot match a fixture")


# -- hostile selectors: one encoded segment, or refused before any request ------------

#: 1024 bytes (the longest selector allowed), every printable ASCII character in turn.
LONG_HOSTILE = ("".join(chr(c) for c in range(0x20, 0x7F)) * 11)[:1024]

HOSTILE = [
    "../connections",
    "a/b",
    "a?b=c",
    "a#b",
    "%2F",
    " ",
    "  leading and trailing  ",
    "with space",
    LONG_HOSTILE,
    "ünïcødé",
    "日本語",
    "emoji-😀",
    "\u200b",  # zero-width space
    "\u202eevil",  # right-to-left override
    "ß/../x",
    "%00",
    "%",
    "..%2F..%2Fconnections",
    b"\xff",
    b"\xc3\x28",
    b"\xe2\x82",
    b"\xf0\x28\x8c\xbc",
    b"\xed\xbf\xbf",
    b"\xf8\x88\x80\x80\x80",
]


def _hostile_id(selector: Union[str, bytes]) -> str:
    text = repr(selector)
    return text if len(text) <= 32 else f"{text[:24]}...({len(selector)})"


@pytest.mark.parametrize("selector", HOSTILE, ids=_hostile_id)
def test_hostile_selector(client: membrane.Client, mock: MockServer,
                          selector: Union[str, bytes]) -> None:
    """Either the server sees exactly one percent-encoded segment that decodes to the
    selector (and answers 404: nothing is named so), or the library refuses it with
    InvalidArgument before sending anything."""
    raw = selector if isinstance(selector, bytes) else selector.encode("utf-8")
    assert len(raw) <= 1024 and b"\0" not in raw
    try:
        client.integration(selector)
    except membrane.NotFound as e:
        assert e.http_status == 404
        check_wire_path(mock, selector)
        (request,) = mock.requests()
        assert request["method"] == "GET"
    except membrane.InvalidArgument as e:
        assert e.http_status == 0
        assert mock.requests() == [], "refused, yet a request was made"
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise AssertionError(f"valid UTF-8 refused: {selector!r}: {e.message}")
    else:
        raise AssertionError(f"{selector!r} cannot match a fixture")


def test_hostile_1024_byte_selector_is_1024_bytes() -> None:
    assert len(LONG_HOSTILE.encode("utf-8")) == 1024
