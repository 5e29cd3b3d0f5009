"""The lifetime of a client's C handle: calls counted in and out, so that
close() (and the finalizer) never frees the pointer under a call in flight,
and cancel() still reaches calls that close() waits for."""

from __future__ import annotations

import threading
from typing import Any

from . import _native
from .errors import ClientClosed


class _Handle:
    """The C client pointer, with the bookkeeping that keeps free() from racing calls.

    Lookups never wait for each other: the lock is only held to count calls in
    and out. close() refuses new calls, waits for those in flight, then frees.
    Kept apart from Client so that the finalizer does not keep the Client alive.
    """

    __slots__ = ("_ptr", "_lock", "_cond", "_busy", "_closed", "_free_when_idle", "log_callback",
                 "log_on", "log_lock", "__weakref__")

    def __init__(self, ptr: Any) -> None:
        self.log_callback: Any = None
        self.log_on = False  # whether the library has the callback (see Client._sync_log)
        self.log_lock = threading.Lock()
        self._ptr = ptr
        # Calls take the lock itself (a C-level with); only close() waits on the condition.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._busy = 0
        self._closed = False
        self._free_when_idle = False

    @property
    def closed(self) -> bool:
        return self._closed

    def enter(self) -> Any:
        with self._lock:
            if self._closed:
                raise ClientClosed("the client is closed")
            self._busy += 1
            return self._ptr

    def leave(self) -> None:
        with self._lock:
            self._busy -= 1
            if self._busy or not self._closed:
                return  # nobody waits: close() sets _closed before it waits
            self._cond.notify_all()
            if not self._free_when_idle:
                return
            ptr, self._ptr, self._free_when_idle = self._ptr, None, False
        _free_client(ptr)

    def enter_even_if_closing(self) -> Any:
        """The pointer for a call that must not wait for, nor be refused by, close().

        For cancel(): it has to reach the lookups that close() is waiting
        for. Counted in like any call, so the pointer cannot be freed under
        it; None once the client has been freed (nothing left to reach).
        """
        with self._cond:
            if self._ptr is None:
                return None
            self._busy += 1
            return self._ptr

    def close(self, wait: bool = True) -> None:
        with self._cond:
            if self._closed and not wait:
                return
            self._closed = True
            if self._busy and not wait:
                # Finalizer at interpreter exit with a daemon thread mid-call:
                # the last call out frees.
                self._free_when_idle = True
                return
            while self._busy:
                self._cond.wait()
            ptr, self._ptr = self._ptr, None
        _free_client(ptr)


def _free_client(ptr: Any) -> None:
    lib = _native._lib
    if ptr and lib is not None:
        lib.membrane_client_free(ptr)
