"""Listing integrations (``GET /integrations``): one page, all pages, or a
lazy iterator over the pages, for :class:`Client`."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from ._marshal import QueryValue, _merge_query, _new_json, _query_json
from ._native import EPROTOCOL, load_library as _load
from .errors import ProtocolError


class _ListingMethods:
    """Mixed into :class:`Client`; uses its ``_call`` and ``_max_pages``."""

    _max_pages: int
    _call: Callable[..., Any]

    def list_page(self, query: Optional[Mapping[str, QueryValue]] = None, /,
                  **params: QueryValue) -> Dict[str, Any]:
        """Read one page of integrations: ``GET /integrations?{query}``.

        The query is `query` (for names that are not Python identifiers)
        updated with `params`, e.g. ``limit=100, search="crm",
        includeArchived=True, cursor="..."``: names as the API spells them,
        values str, int, float or bool (``None`` leaves a parameter out),
        percent-encoded by the library in this order.

        Returns the page as the API sent it: ``{"items": [...], "cursor":
        "..."}``, ``cursor`` absent on the last page.
        Raises :class:`TypeError` for a value of another type, and the
        :class:`MembraneError` subclasses of :meth:`integration`.
        """
        text = _query_json(_merge_query(query, params))
        return self._page(text)

    def list_integrations(self, query: Optional[Mapping[str, QueryValue]] = None, /,
                          **params: QueryValue) -> Iterator[Dict[str, Any]]:
        """Every integration matching the query, as an iterator that reads pages lazily.

        The query is as for :meth:`list_page` (``limit`` is the page size; a
        ``cursor`` is where reading starts). The first page is requested
        when the first item is taken, each next page when the previous one is
        used up, passing its ``cursor`` back; the last page has none.

        As the library's ``membrane_integrations_list_all`` does, a cursor
        the API hands out a second time, or a page beyond ``max_pages``
        (default 1000), ends the iteration with :class:`ProtocolError`
        (after the items already read). Arguments are checked at once;
        request failures raise from ``next()``.
        """
        merged, cursor = _listing_arguments(query, params)
        return self._iterate(merged, cursor, self._max_pages)

    def list_all_integrations(self, query: Optional[Mapping[str, QueryValue]] = None, /,
                              **params: QueryValue) -> List[Dict[str, Any]]:
        """Every integration matching the query, read in one library call
        (``membrane_integrations_list_all``): a list, or an exception and nothing.

        Same query and rules as :meth:`list_integrations`.
        """
        text = _query_json(_merge_query(query, params))
        result = self._with_query(text, "membrane_integrations_list_all")
        if not isinstance(result, list):
            raise ProtocolError("the listing is not a JSON array", code=EPROTOCOL)
        return result

    def _page(self, text: Optional[bytes]) -> Dict[str, Any]:
        return _checked_page(self._with_query(text, "membrane_integrations_list"))

    def _with_query(self, text: Optional[bytes], name: str) -> Any:
        lib = _load()
        function = getattr(lib, name)
        query = _new_json(text) if text is not None else None
        try:
            return self._call(name, lambda ptr, out, err: function(ptr, query, out, err))
        finally:
            if query is not None:
                lib.membrane_json_release(query)

    def _iterate(self, base: Dict[str, QueryValue], cursor: QueryValue,
                 max_pages: int) -> Iterator[Dict[str, Any]]:
        pages = _Pages(base, cursor, max_pages)
        while True:
            page = self._page(pages.next_query())
            yield from page["items"]
            if not pages.advance(page):
                return


def _checked_page(page: Any) -> Dict[str, Any]:
    """A page as the listing hands it out: an object with an array ``items``."""
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        raise ProtocolError("the page is not an object with an array \"items\"", code=EPROTOCOL)
    return page


def _listing_arguments(query: Optional[Mapping[str, QueryValue]],
                       params: Mapping[str, QueryValue]) -> Tuple[Dict[str, QueryValue], QueryValue]:
    """The query of a listing, checked at once, without its ``cursor``; and the cursor."""
    merged = _merge_query(query, params)
    _query_json(merged)  # check the arguments now, not at the first page
    cursor = merged.pop("cursor", None)
    return merged, cursor


class _Pages:
    """The cursor loop of a listing read page by page (the sync and the async
    iterators share it): the query of each page, and the checks that stop a
    server from keeping the reader going forever.

    As the library's ``membrane_integrations_list_all`` does, a cursor handed
    out a second time, or a page beyond `max_pages`, is a :class:`ProtocolError`.
    """

    __slots__ = ("base", "cursor", "max_pages", "seen", "page_number")

    def __init__(self, base: Dict[str, QueryValue], cursor: QueryValue, max_pages: int) -> None:
        self.base = base
        self.cursor = cursor
        self.max_pages = max_pages
        self.seen: Set[str] = set()
        self.page_number = 0

    def next_query(self) -> Optional[bytes]:
        """The query of the next page, as JSON text for json_loads (None: no parameter)."""
        self.page_number += 1
        query = dict(self.base)
        if self.cursor is not None:
            query["cursor"] = self.cursor  # last, as the library puts it
        return _query_json(query)

    def advance(self, page: Dict[str, Any]) -> bool:
        """Whether another page follows `page` (then its cursor is the next query's)."""
        next_cursor = page.get("cursor")
        if not isinstance(next_cursor, str) or not next_cursor:
            return False  # the last page: no cursor (or an empty one)
        if next_cursor in self.seen:
            # Unlike the library's message, not the cursor itself: this
            # object does not know the token, so it could not hide it if
            # a server echoed it there.
            raise ProtocolError(
                f"the API returned a cursor a second time (on page {self.page_number}); "
                "stopping rather than looping",
                http_status=200,
            )
        self.seen.add(next_cursor)
        if self.page_number >= self.max_pages:
            raise ProtocolError(
                f"more than {self.max_pages} pages; stopping (raise the page cap to read further)",
                http_status=200,
            )
        self.cursor = next_cursor
        return True
