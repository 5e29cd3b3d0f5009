"""Logging: the library's lines go to the :mod:`logging` logger ``"membrane"``
(through one C callback shared by every client), and a Ctrl-C pressed while
the main thread is inside the library is raised once the call returns.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import threading
from typing import Any, Optional

from ._native import LOG_INFO, LOG_WARNING, _LogCallback

#: Where every client's log lines go. As a library should, it only adds a
#: NullHandler: the application decides what is shown (nothing by default,
#: rather than logging's last-resort printing of warnings to stderr).
logger = logging.getLogger("membrane")
logger.addHandler(logging.NullHandler())

_LOG_LEVELS = {1: logging.ERROR, LOG_WARNING: logging.WARNING, LOG_INFO: logging.INFO, 4: logging.DEBUG}


def _python_level(level: int) -> int:
    """The logging level for a MEMBRANE_LOG_* level (unknown ones by their side)."""
    known = _LOG_LEVELS.get(level)
    if known is not None:
        return known
    return logging.ERROR if level < LOG_WARNING else logging.DEBUG


def lines_wanted() -> bool:
    """Whether a line of the library would reach a handler now.

    The library's lines are INFO or WARNING. They are wanted when the logger
    is enabled for WARNING and, on the way up, a handler other than a
    NullHandler waits (or no handler at all: then logging's last resort
    prints warnings). Otherwise, as when the application never configured
    logging, a client does not ask for them: a line costs the library its
    formatting and a call into Python. Checked at every call (under a
    microsecond), so configuring logging later takes effect at the next call.
    """
    if not logger.isEnabledFor(logging.WARNING):
        return False
    found = False
    current: Optional[logging.Logger] = logger
    while current is not None:
        for handler in current.handlers:
            if type(handler) is not logging.NullHandler:
                return True
            found = True
        if not current.propagate:
            break
        current = current.parent  # type: ignore[assignment]
    return not found and logging.lastResort is not None


class _Interrupted(threading.local):
    pending = False  # a class default: reading it never raises AttributeError (slow)


#: Per thread: a KeyboardInterrupt caught in the callback, to raise once the call returns.
_interrupted = _Interrupted()


def _forward_log(level: int, message: Optional[bytes], payload: Any) -> None:
    """The C callback: must never raise into the library, whatever logging does.

    Running Python code, it is also where a Ctrl-C pressed during a call
    surfaces (signal handlers run in the main thread's Python code): that one
    is kept and raised when the call returns (:func:`_raise_pending_interrupt`),
    as it would have been without the callback.
    """
    try:
        python_level = _python_level(level)
        if logger.isEnabledFor(python_level):
            text = message.decode("utf-8", "replace") if message else ""
            logger.log(python_level, text)
    except KeyboardInterrupt:
        try:
            _interrupted.pending = True
        except BaseException:  # noqa: BLE001
            pass
    except BaseException:  # noqa: BLE001 - nothing may propagate into C
        pass


def _take_pending_interrupt() -> bool:
    if _interrupted.pending:
        _interrupted.pending = False
        return True
    return False


#: The C module behind :mod:`signal`: its getsignal() and signal() take and return the
#: handlers as they are, where the wrappers in signal.py convert them to and from enums,
#: which costs microseconds on every call (more than the rest of a lookup's Python).
try:
    import _signal as _signals
except ImportError:  # pragma: no cover - another Python implementation
    _signals = signal  # type: ignore[misc]

_SIGINT = int(signal.SIGINT)
_default_int_handler = signal.default_int_handler


class _SigintDeferred:
    """While the main thread is inside the library, Ctrl-C is noted, then raised after.

    Without a log callback, a SIGINT during a call is handled when the call
    returns. With one, Python code runs in the middle of the call, and the
    interpreter would raise KeyboardInterrupt on entering the callback,
    before any ``try`` in it: ctypes would print it as ignored and it would
    be lost. So, in the main thread and only while Python's default handler
    is installed, a handler that just notes the signal replaces it for the
    duration of the call.
    """

    __slots__ = ("installed", "hit")

    def __init__(self) -> None:
        self.installed = False
        self.hit = False

    def __enter__(self) -> "_SigintDeferred":
        if (_signals.getsignal(_SIGINT) is _default_int_handler
                and threading.get_ident() == threading.main_thread().ident):
            try:
                _signals.signal(_SIGINT, self._note)
            except ValueError:  # not the main interpreter: leave signals alone
                return self
            self.installed = True
        return self

    def _note(self, signum: int, frame: Any) -> None:
        self.hit = True

    def __exit__(self, *exc_info: Any) -> None:
        if self.installed:
            self.installed = False
            _signals.signal(_SIGINT, _default_int_handler)


# One callback for every client, never freed: the library may call it from a
# daemon thread still inside a lookup while the interpreter shuts down, after
# this module's globals are gone, so its reference is deliberately leaked.
_LOG_CALLBACK = _LogCallback(_forward_log)
ctypes.pythonapi.Py_IncRef(ctypes.py_object(_LOG_CALLBACK))
