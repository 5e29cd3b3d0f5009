"""asyncio: :class:`AsyncClient`, the lookups of :class:`membrane.Client` as coroutines.

The library runs the requests of a client on one I/O thread of its own and
queues each finished one; its completion file descriptor is readable while the
queue holds anything (``membrane_client_completion_fd``). The client watches
that descriptor with ``loop.add_reader`` and, when it is readable, runs the
finished requests' callbacks on the loop's thread
(``membrane_client_dispatch``); each callback resolves the future its
coroutine awaits. No thread per call, no executor: a thousand lookups in
flight are a thousand futures and one reader.

Usage::

    import asyncio
    import membrane

    async def main() -> None:
        async with membrane.AsyncClient(timeout_ms=5000) as client:
            hubspot, salesforce = await asyncio.gather(
                client.integration("hubspot"), client.integration("salesforce"))
            for result in await client.integrations(["hubspot", "nope"]):
                print(result if isinstance(result, membrane.MembraneError) else result["name"])
            async for item in client.list_integrations(limit=100):   # page by page, lazily
                print(item["key"])

    asyncio.run(main())

Results and exceptions are those of the blocking :class:`membrane.Client`:
the same dicts, lists and :class:`MembraneError` subclasses, decoded the same
way. Cancelling the task that awaits a lookup (``task.cancel()``,
``asyncio.wait_for`` running out) cancels the request in the library
(``membrane_request_cancel``): its transfer stops at once.

A client is bound to the event loop it is first used on (the reader lives
there); using it from another loop raises :class:`RuntimeError`. Make one
client per loop. It works with any loop that implements ``add_reader``: the
default loop on Linux, uvloop.
"""

from __future__ import annotations

import ctypes
import weakref
from typing import Any, AsyncIterator, Callable, Dict, Iterable, List, Mapping, Optional

from ._listing import _checked_page, _listing_arguments, _Pages
from ._logging import lines_wanted
from ._marshal import (
    BatchResult,
    QueryValue,
    StrOrBytes,
    _c_string,
    _finish_batch,
    _merge_query,
    _new_json,
    _prepare_batch,
    _query_json,
)
from ._native import (
    INCLUDE_SECRETS,
    OK,
    _CError,
    load_library as _load,
)
from ._reactor import (
    _JSON_CALLBACK,
    _KEYS,
    _PENDING,
    _TEXT_CALLBACK,
    _integration_result,
    _Reactor,
    _Request,
)
from .client import _SELECTORS, _SELECTORS_KEPT, _ClientBase
from .errors import ClientClosed

__all__ = ["AsyncClient"]

_GET_MANY = "membrane_integrations_get_many"


class AsyncClient(_ClientBase):
    """A connection to the Membrane API for asyncio: the lookups of
    :class:`membrane.Client` as coroutines, driven by the event loop.

    Same arguments as :class:`membrane.Client` (``api_url``, ``token``,
    ``timeout_ms``, ``max_retries``, ``max_parallel``, ``max_pages``,
    ``token_provider``, ``workspace_key`` and the rest), and the same
    option and token methods (:meth:`set_timeout`, :meth:`set_token`, ...,
    quick calls that do not wait for the network). ``max_parallel`` bounds
    all of the client's requests together: at most that many connections,
    requests beyond wait, in the order they were started. Each request has
    the retry and deadline rules of its blocking twin; its ``timeout_ms``
    starts when it is started.

    ``share_requests``, ``cache_ttl_ms`` and ``cache_max_entries`` work as
    for :class:`membrane.Client`: :meth:`integration` coroutines awaiting
    the same selector at once share one request (each gets its own dict),
    and with a cache, answers within its lifetime take no request at all.
    :meth:`invalidate` is a plain method, not a coroutine: it never waits.

    The client is bound to the event loop it is first used on, where it adds
    a reader for the library's completion fd; the reader goes with
    :meth:`close` (or :meth:`aclose`, or the end of ``async with``). Using
    it from another loop raises :class:`RuntimeError`.

    Raises:
        NotAuthenticated: no token given or configured.
        InvalidArgument: a malformed URL, a bad token or option value.
    """

    _reactor: _Reactor

    def _new_finalizer(self) -> Any:
        self._reactor = _Reactor(self._handle)
        return weakref.finalize(self, self._reactor.close, False)

    # -- lifetime -----------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._handle.closed or self._reactor.closing

    def close(self) -> None:
        """Remove the reader from the loop and free the client; idempotent.

        Requests still in flight end at once: their awaiters get
        :class:`ClientClosed` (``code`` ECANCELED). Call it from the loop's
        thread (or once the loop is closed); from another thread while the loop
        runs, the work is handed to the loop's thread and this returns at once.
        """
        self._reactor.close(True)
        self._finalizer.detach()

    async def aclose(self) -> None:
        """:meth:`close`, for ``await`` and ``async with``."""
        self.close()

    async def __aenter__(self) -> "AsyncClient":
        if self.closed:
            raise ClientClosed("the client is closed")
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def _check_open(self) -> None:
        if self.closed:
            raise ClientClosed("the client is closed")

    def _requests_in_flight(self) -> int:
        """How many requests the library accepted whose callbacks have not run."""
        return len(self._reactor.keys)

    # -- requests -----------------------------------------------------------

    def _start(self, convert: Callable[[Any], Any],
               start: Callable[[Any, int, Any, Any], int]) -> _Request:
        """Start one request: ``start(client, payload, request_id_out, err)`` makes the
        C call. The request is in :data:`_PENDING` until its callback runs."""
        self._check_open()
        reactor = self._reactor
        loop = reactor.bind()
        handle = self._handle
        logs = lines_wanted()
        if logs is not handle.log_on:
            self._sync_log(logs)
        request = _Request(loop.create_future(), reactor, self, convert)
        key = next(_KEYS)
        request_id = ctypes.c_ulonglong()
        err = _CError()
        _PENDING[key] = request
        reactor.keys.add(key)
        rc = -1
        try:
            ptr = handle.enter()
            try:
                rc = start(ptr, key, ctypes.byref(request_id), ctypes.byref(err))
            finally:
                handle.leave()
        finally:
            if rc != OK:  # accepted nothing: no callback will come
                _PENDING.pop(key, None)
                reactor.keys.discard(key)
        request.request_id = request_id.value
        if rc != OK:
            self._raise(rc, err)
        return request

    async def _wait(self, request: _Request) -> Any:
        """The request's result; when the awaiter is cancelled (or goes away), the
        request is cancelled in the library and its future with it."""
        future = request.future
        try:
            return await future
        finally:
            if not request.delivered:
                future.cancel()
                self._reactor.cancel(request)

    # -- lookups ------------------------------------------------------------

    async def integration(self, selector: StrOrBytes, include_secrets: bool = False) -> Dict[str, Any]:
        """Look up one integration by id, uuid or key (catalog keys start with ``~``).

        As :meth:`membrane.Client.integration`, without blocking
        (``membrane_integration_get_text_async``): returns the integration
        object as the API sent it; raises the same :class:`MembraneError`
        subclasses. Cancelling the awaiting task cancels the request.
        """
        raw = _SELECTORS.get(selector) if type(selector) is str else None
        if raw is None:
            raw = _c_string(selector, "selector")
            if type(selector) is str and len(_SELECTORS) < _SELECTORS_KEPT:
                _SELECTORS[selector] = raw
        flags = INCLUDE_SECRETS if include_secrets else 0
        function = _load().membrane_integration_get_text_async
        request = self._start(
            _integration_result,
            lambda ptr, key, request_id, err: function(ptr, raw, flags, _TEXT_CALLBACK, key,
                                                       request_id, err))
        result: Dict[str, Any] = await self._wait(request)
        return result

    async def integrations(self, selectors: Iterable[StrOrBytes],
                           include_secrets: bool = False) -> List[BatchResult]:
        """Look up many integrations at once (``membrane_integrations_get_many_async``).

        As :meth:`membrane.Client.integrations`: a list in the order of
        `selectors`, each element the integration or the
        :class:`MembraneError` of its lookup (returned, not raised); a
        selector given twice is fetched once. Raises only when the whole call
        fails (:class:`TypeError` for an element that is not str or bytes,
        :class:`Canceled`, :class:`ClientClosed`, ...). Cancelling the
        awaiting task cancels the whole batch.
        """
        results, raws, positions = _prepare_batch(selectors, self._check_open)
        if not raws:
            return _finish_batch(results, positions, [], _GET_MANY)
        flags = INCLUDE_SECRETS if include_secrets else 0
        array = (ctypes.c_char_p * len(raws))(*raws)
        count = len(raws)
        function = _load().membrane_integrations_get_many_async
        request = self._start(
            lambda data: _finish_batch(results, positions, data, _GET_MANY),
            lambda ptr, key, request_id, err: function(ptr, array, count, flags, _JSON_CALLBACK, key,
                                                       request_id, err))
        batch: List[BatchResult] = await self._wait(request)
        return batch

    # -- listing ------------------------------------------------------------

    async def list_page(self, query: Optional[Mapping[str, QueryValue]] = None, /,
                        **params: QueryValue) -> Dict[str, Any]:
        """Read one page of integrations: ``GET /integrations?{query}``
        (``membrane_integrations_list_async``).

        As :meth:`membrane.Client.list_page`: the query is `query` updated
        with `params`; returns ``{"items": [...], "cursor": "..."}``,
        ``cursor`` absent on the last page.
        """
        return await self._page(_query_json(_merge_query(query, params)))

    def list_integrations(self, query: Optional[Mapping[str, QueryValue]] = None, /,
                          **params: QueryValue) -> AsyncIterator[Dict[str, Any]]:
        """Every integration matching the query, as an async iterator that reads pages
        lazily (``async for item in client.list_integrations(limit=100)``).

        As :meth:`membrane.Client.list_integrations`: each page is requested
        when the previous one is used up; a cursor handed out a second time,
        or a page beyond ``max_pages``, ends the iteration with
        :class:`ProtocolError` after the items already read. Arguments are
        checked at once; request failures raise from ``__anext__``.
        """
        merged, cursor = _listing_arguments(query, params)
        return self._iterate(merged, cursor, self._max_pages)

    async def list_all_integrations(self, query: Optional[Mapping[str, QueryValue]] = None, /,
                                    **params: QueryValue) -> List[Dict[str, Any]]:
        """Every integration matching the query, as one list (or an exception and nothing).

        Same query and rules as :meth:`list_integrations` (the cursor loop
        and ``max_pages`` checks), page after page.
        """
        merged, cursor = _listing_arguments(query, params)
        pages = _Pages(merged, cursor, self._max_pages)
        items: List[Dict[str, Any]] = []
        while True:
            page = await self._page(pages.next_query())
            items.extend(page["items"])
            if not pages.advance(page):
                return items

    async def _iterate(self, base: Dict[str, QueryValue], cursor: QueryValue,
                       max_pages: int) -> AsyncIterator[Dict[str, Any]]:
        pages = _Pages(base, cursor, max_pages)
        while True:
            page = await self._page(pages.next_query())
            for item in page["items"]:
                yield item
            if not pages.advance(page):
                return

    async def _page(self, text: Optional[bytes]) -> Dict[str, Any]:
        lib = _load()
        function = lib.membrane_integrations_list_async
        query = _new_json(text) if text is not None else None
        try:  # the library reads the query before the call returns
            request = self._start(
                _checked_page,
                lambda ptr, key, request_id, err: function(ptr, query, _JSON_CALLBACK, key,
                                                           request_id, err))
        finally:
            if query is not None:
                lib.membrane_json_release(query)
        page: Dict[str, Any] = await self._wait(request)
        return page
