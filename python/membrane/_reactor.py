"""The event-loop side of :class:`membrane.AsyncClient`: each request in flight
(:class:`_Request`, found by the payload key the library hands back), the C
callbacks that settle their futures, and :class:`_Reactor`, the reader on a
client's completion fd that runs ``membrane_client_dispatch`` on the loop's
thread and frees the C client.

Kept apart from :mod:`membrane.aio`, which holds the client's public
coroutines, so that each file has one job.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import json
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Set

from ._handle import _Handle
from ._logging import _SigintDeferred, _take_pending_interrupt
from ._native import (
    ECANCELED,
    EPROTOCOL,
    JSON_COMPACT as _JSON_COMPACT,
    OK,
    _CError,
    _IntegrationCallback,
    _TextCallback,
    load_library as _load,
)
from .client import _decode_utf8, _parse
from .errors import Canceled, ClientClosed, InternalError, ProtocolError, error_class

if TYPE_CHECKING:  # pragma: no cover
    from .aio import AsyncClient


class _Request:
    """One request the library accepted and has not yet called back for.

    Found by the integer key handed to the library as the callback's payload
    (in :data:`_PENDING`); the callback takes it out and settles its future.
    """

    __slots__ = ("future", "reactor", "client", "convert", "request_id", "delivered")

    def __init__(self, future: "asyncio.Future[Any]", reactor: "_Reactor", client: "AsyncClient",
                 convert: Callable[[Any], Any]) -> None:
        self.future = future
        self.reactor = reactor
        self.client = client
        #: From the request's data (the body as text, or the parsed JSON) to its result.
        self.convert = convert
        self.request_id = 0
        self.delivered = False

    def error(self, code: int, err: Any) -> BaseException:
        """The exception for a request that ended with `code`, as the blocking call raises it."""
        if code == ECANCELED and self.reactor.freeing:
            return ClientClosed("the client was closed while the request was in flight",
                                code=ECANCELED)
        if code == OK:
            return InternalError("the request succeeded without a result")
        try:
            self.client._raise(code, err.contents if err else _CError())
        except BaseException as e:  # noqa: BLE001 - the exception is the outcome
            return e
        return InternalError(f"no exception for code {code}")  # pragma: no cover

    def settle(self, outcome: Any, failed: bool) -> None:
        """Resolve the future, on its loop's thread (at once when this is it)."""
        reactor = self.reactor
        loop = reactor.loop
        if loop is None or loop.is_closed():
            return  # nothing can await it any more
        if threading.get_ident() == reactor.thread:
            _settle(self.future, outcome, failed)
        else:  # membrane_client_free on another thread (a finalizer)
            try:
                loop.call_soon_threadsafe(_settle, self.future, outcome, failed)
            except RuntimeError:  # the loop closed meanwhile
                pass


def _settle(future: "asyncio.Future[Any]", outcome: Any, failed: bool) -> None:
    if future.done():
        return  # cancelled by its awaiter
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


#: The requests in flight in this process, by the key given to the library as payload.
_PENDING: Dict[int, _Request] = {}
_KEYS = itertools.count(1)


def _take(payload: Optional[int]) -> Optional[_Request]:
    request = _PENDING.pop(payload or 0, None)
    if request is not None:
        request.delivered = True
        request.reactor.keys.discard(payload or 0)
    return request


class _Interrupted:
    pending = False


#: A KeyboardInterrupt (or SystemExit) caught in a callback, raised once dispatch returns.
_interrupted = _Interrupted()


def _failure(e: BaseException) -> BaseException:
    """What a request's future gets when turning its data into a result raised `e`."""
    if isinstance(e, (KeyboardInterrupt, SystemExit)):
        _interrupted.pending = True
        return Canceled("interrupted while the result was being delivered", code=ECANCELED)
    return e


def _on_text(payload: Optional[int], code: int, text: Optional[int], length: int, err: Any) -> None:
    """The C callback of membrane_integration_get_text_async: never raises into C."""
    try:
        request = _take(payload)
        if request is None:
            return
        try:
            if code == OK and text:
                # As Client.integration: decoded where the library left it, then parsed.
                outcome, failed = request.convert(_decode_utf8(text, length, None)), False
            else:
                outcome, failed = request.error(code, err), True
        except BaseException as e:  # noqa: BLE001 - becomes the request's outcome
            outcome, failed = _failure(e), True
        request.settle(outcome, failed)
    except BaseException as e:  # noqa: BLE001 - nothing may propagate into C
        _failure(e)


def _on_json(payload: Optional[int], code: int, value: Any, err: Any) -> None:
    """The C callback of the batch and page requests: never raises into C; always
    releases the value it owns."""
    try:
        try:
            request = _take(payload)
            if request is None:
                return
            try:
                if code == OK and value:
                    outcome, failed = request.convert(_json_data(value)), False
                else:
                    outcome, failed = request.error(code, err), True
            except BaseException as e:  # noqa: BLE001 - becomes the request's outcome
                outcome, failed = _failure(e), True
            request.settle(outcome, failed)
        finally:
            if value:
                _load().membrane_json_release(value)
    except BaseException as e:  # noqa: BLE001 - nothing may propagate into C
        _failure(e)


def _json_data(value: Any) -> Any:
    """A json_t as Python data: serialised by the library, parsed by json, as Client does."""
    lib = _load()
    text = lib.membrane_json_dumps(value, _JSON_COMPACT)
    if not text:
        raise InternalError("membrane_json_dumps failed")
    try:
        data = ctypes.string_at(text)
    finally:
        lib.membrane_free(text)
    return json.loads(data.decode("utf-8"))


# One of each for the whole process, never freed: the library may deliver a
# callback from membrane_client_free while the interpreter shuts down.
_TEXT_CALLBACK = _TextCallback(_on_text)
_JSON_CALLBACK = _IntegrationCallback(_on_json)
ctypes.pythonapi.Py_IncRef(ctypes.py_object(_TEXT_CALLBACK))
ctypes.pythonapi.Py_IncRef(ctypes.py_object(_JSON_CALLBACK))


def _integration_result(text: str) -> Dict[str, Any]:
    result = _parse(text)
    if not isinstance(result, dict):
        raise ProtocolError("the integration is not a JSON object", code=EPROTOCOL)
    return result


class _Reactor:
    """A client's side of the event loop: the loop it is bound to, the reader on
    the completion fd, the requests in flight, and the freeing of the C client.

    Kept apart from :class:`AsyncClient` so that neither the loop's reader nor
    the finalizer keeps the client alive.
    """

    __slots__ = ("handle", "loop", "thread", "fd", "keys", "closing", "freeing", "__weakref__")

    def __init__(self, handle: _Handle) -> None:
        self.handle = handle
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.thread = 0  # the loop's thread (threading.get_ident())
        self.fd = -1
        self.keys: Set[int] = set()  # the keys of the requests in flight
        self.closing = False
        self.freeing = False  # membrane_client_free has begun: ECANCELED means closed

    def bind(self) -> asyncio.AbstractEventLoop:
        """The running loop, the one this client is bound to; the reader is added
        on first use. RuntimeError outside a loop or in another one."""
        loop = asyncio.get_running_loop()
        if loop is self.loop:
            return loop
        if self.loop is not None:
            raise RuntimeError(
                "this membrane.AsyncClient is bound to the event loop it was first used on "
                f"({'closed' if self.loop.is_closed() else 'still open'}); it cannot be used "
                "from another one: make one client per event loop")
        lib = _load()
        ptr = self.handle.enter()
        try:
            fd = lib.membrane_client_completion_fd(ptr)
        finally:
            self.handle.leave()
        if fd < 0:
            raise error_class(fd)("cannot watch the client's completion fd "
                                  f"(membrane_client_completion_fd returned {fd})", code=fd)
        loop.add_reader(fd, self.readable)
        self.loop, self.thread, self.fd = loop, threading.get_ident(), fd
        return loop

    def readable(self) -> None:
        """The loop's reader: run the callbacks of the finished requests."""
        handle = self.handle
        try:
            ptr = handle.enter()
        except ClientClosed:
            self.remove_reader()
            return
        with _SigintDeferred() as sigint:  # Python runs in the middle of the call: the callbacks
            try:
                _load().membrane_client_dispatch(ptr, 0)
            finally:
                handle.leave()
        if sigint.hit or _take_pending_interrupt() or _interrupted.pending:
            _interrupted.pending = False
            raise KeyboardInterrupt  # pressed during dispatch: now that it is over

    def cancel(self, request: _Request) -> None:
        """Cancel a request in the library; its callback comes with ECANCELED."""
        if request.delivered or not request.request_id:
            return
        ptr = self.handle.enter_even_if_closing()
        if ptr is None:
            return  # freed: every callback has run
        try:
            _load().membrane_request_cancel(ptr, request.request_id)  # ENOTFOUND: it just ended
        finally:
            self.handle.leave()

    def remove_reader(self) -> None:
        loop, fd = self.loop, self.fd
        if loop is None or fd < 0:
            return
        self.fd = -1
        if loop.is_closed():
            return  # its selector is gone, and the reader with it
        try:
            loop.remove_reader(fd)
        except Exception:  # noqa: BLE001 - a loop shutting down
            pass

    def close(self, wait: bool = True) -> None:
        """Remove the reader (on the loop's thread), then free the C client, which
        delivers every request still in flight (ECANCELED: :class:`ClientClosed`).

        From another thread while the loop runs (a finalizer), the work is
        handed to the loop's thread: the reader must be gone before the
        library closes the descriptor it watches.
        """
        if self.handle.closed:
            return
        self.closing = True
        loop = self.loop
        if (loop is not None and threading.get_ident() != self.thread and loop.is_running()
                and not loop.is_closed()):
            try:
                loop.call_soon_threadsafe(self._close_here, wait)
                return
            except RuntimeError:  # closed meanwhile: free here
                pass
        self._close_here(wait)

    def _close_here(self, wait: bool) -> None:
        self.remove_reader()
        self.freeing = True
        self.handle.close(wait)
        if self.handle._ptr is None:  # freed: each callback has run
            for key in list(self.keys):  # none, unless the library broke its promise
                request = _take(key)
                if request is not None:
                    request.settle(ClientClosed("the client was closed while the request was in "
                                                "flight, and the library never delivered it",
                                                code=ECANCELED), True)
