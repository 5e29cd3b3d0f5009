"""Look up Membrane integrations from Python through libmembrane.

A thin :mod:`ctypes` binding to ``libmembrane.so`` (see ``Include/membrane.h``),
the C client of the Membrane API (formerly Integration.app). Each lookup
answers ``GET {api}/integrations/{selector}`` and returns the integration as a
plain :class:`dict`, exactly as the API sent it (unknown fields included).

Usage::

    import membrane

    with membrane.Client("https://api.getmembrane.com", token, timeout_ms=5000) as client:
        try:
            hubspot = client.integration("hubspot", include_secrets=True)
        except membrane.NotFound as e:
            print("no such integration:", e.message)
        except membrane.MembraneError as e:
            print(f"lookup failed ({e.code}, HTTP {e.http_status}): {e}")
        else:
            print(hubspot["id"], hubspot["name"], hubspot.get("state"))

``api_url=None`` reads ``MEMBRANE_API_URL`` (falling back to
``https://api.getmembrane.com``) and ``token=None`` reads ``MEMBRANE_TOKEN``.

The library is loaded on first use, from the first of:

1. the path in the environment variable ``MEMBRANE_LIBRARY``;
2. the repository's build folder, ``../../.build/release/libmembrane.so``
   relative to this file;
3. the system: ``libmembrane.so.0`` (or whatever ``ctypes.util.find_library``
   finds for ``membrane``).

Failures raise a subclass of :class:`MembraneError` chosen by the library's
return code; every one carries ``code``, ``http_status``, ``type``, ``key``,
``message`` and ``error_id``. The token never appears in any of them.

Lookups are retried by the library after a 429, 502, 503 or 504, or a
connection that failed before any response byte (``max_retries``,
``retry_base_ms``; a Retry-After header is honoured); ``timeout_ms`` bounds the
whole call, waits included. The exception then describes the last attempt and
its message ends with ``(after N attempts)``.

Threads: one :class:`Client` may be shared by many threads for lookups; the GIL
is released while the library works. Set options before sharing a client.
:meth:`Client.close` waits for lookups in flight to finish before freeing;
:meth:`Client.cancel`, from any thread, makes them raise :class:`Canceled`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import threading
import weakref
from pathlib import Path
from typing import Any, Dict, List, Optional, Type, Union

__all__ = [
    "Client",
    "version",
    "strerror",
    "load_library",
    "error_class",
    "MembraneError",
    "InvalidArgument",
    "ClientClosed",
    "NotAuthenticated",
    "AccessDenied",
    "NotFound",
    "RateLimited",
    "BadRequest",
    "ServerError",
    "NetworkError",
    "Timeout",
    "TLSError",
    "ProtocolError",
    "InternalError",
    "Canceled",
    "OK",
    "EINVAL",
    "EAUTH",
    "EACCESS",
    "ENOTFOUND",
    "ERATELIMIT",
    "EBADREQUEST",
    "ESERVER",
    "ENETWORK",
    "ETIMEOUT",
    "ETLS",
    "EPROTOCOL",
    "EINTERNAL",
    "ECANCELED",
    "CODES",
    "INCLUDE_SECRETS",
]

# ---------------------------------------------------------------------------
# Constants (membrane.h)
# ---------------------------------------------------------------------------

OK = 0
EINVAL = -1
EAUTH = -2
EACCESS = -3
ENOTFOUND = -4
ERATELIMIT = -5
EBADREQUEST = -6
ESERVER = -7
ENETWORK = -8
ETIMEOUT = -9
ETLS = -10
EPROTOCOL = -11
EINTERNAL = -12
ECANCELED = -13

#: Every return code the library defines, by name.
CODES: Dict[str, int] = {
    "OK": OK,
    "EINVAL": EINVAL,
    "EAUTH": EAUTH,
    "EACCESS": EACCESS,
    "ENOTFOUND": ENOTFOUND,
    "ERATELIMIT": ERATELIMIT,
    "EBADREQUEST": EBADREQUEST,
    "ESERVER": ESERVER,
    "ENETWORK": ENETWORK,
    "ETIMEOUT": ETIMEOUT,
    "ETLS": ETLS,
    "EPROTOCOL": EPROTOCOL,
    "EINTERNAL": EINTERNAL,
    "ECANCELED": ECANCELED,
}

INCLUDE_SECRETS = 1

OPT_TIMEOUT_MS = 1
OPT_CONNECT_TIMEOUT_MS = 2
OPT_USER_AGENT = 3
OPT_CA_FILE = 4
OPT_MAX_RETRIES = 5
OPT_RETRY_BASE_MS = 6
OPT_MAX_RESPONSE_BYTES = 7

_JSON_COMPACT = 0x20  # jansson's JSON_COMPACT flag for json_dumps()

_C_INT_MIN = -(2 ** 31)
_C_INT_MAX = 2 ** 31 - 1
_C_LONG_BITS = 8 * ctypes.sizeof(ctypes.c_long)
_C_LONG_MIN = -(2 ** (_C_LONG_BITS - 1))
_C_LONG_MAX = 2 ** (_C_LONG_BITS - 1) - 1

# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class _CError(ctypes.Structure):
    """``membrane_error``: the layout is part of the library's ABI."""

    _fields_ = [
        ("code", ctypes.c_int),
        ("http_status", ctypes.c_int),
        ("type", ctypes.c_char * 32),
        ("key", ctypes.c_char * 64),
        ("message", ctypes.c_char * 256),
        ("error_id", ctypes.c_char * 64),
    ]


class MembraneError(Exception):
    """A failed call. Subclasses name the return code.

    Attributes:
        code: the library's return code (a negative ``E*`` constant).
        http_status: the HTTP status received, 0 when there was no response.
        type: the API's error type (e.g. ``"bad_request"``), ``""`` if none.
        key: the API's error key (e.g. ``"not_found"``), ``""`` if none.
        message: a human-readable description; never holds the token.
        error_id: ``data.errorId`` of internal server errors, ``""`` if none.
    """

    #: The return code this class stands for (the base class: none in particular).
    default_code: int = EINTERNAL

    def __init__(
        self,
        message: str = "",
        *,
        code: Optional[int] = None,
        http_status: int = 0,
        type: str = "",  # noqa: A002 - mirrors membrane_error.type
        key: str = "",
        error_id: str = "",
    ) -> None:
        super().__init__(message)
        self.code: int = self.default_code if code is None else code
        self.http_status: int = http_status
        self.type: str = type
        self.key: str = key
        self.message: str = message
        self.error_id: str = error_id

    def __str__(self) -> str:
        return self.message or strerror(self.code)

    def __reduce__(self) -> Any:
        # Pickle (e.g. across multiprocessing) keeps every attribute.
        return (self.__class__, (self.message,), self.__dict__.copy())

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(code={self.code}, http_status={self.http_status}, "
            f"type={self.type!r}, key={self.key!r}, message={self.message!r}, "
            f"error_id={self.error_id!r})"
        )


class InvalidArgument(MembraneError, ValueError):
    """MEMBRANE_EINVAL: a bad argument; no request was made."""

    default_code = EINVAL


class ClientClosed(InvalidArgument):
    """The client was used after :meth:`Client.close`."""


class NotAuthenticated(MembraneError):
    """MEMBRANE_EAUTH: 401 not_authenticated, or no token given or configured."""

    default_code = EAUTH


class AccessDenied(MembraneError):
    """MEMBRANE_EACCESS: 403 access_denied."""

    default_code = EACCESS


class NotFound(MembraneError, LookupError):
    """MEMBRANE_ENOTFOUND: 404 not_found."""

    default_code = ENOTFOUND


class RateLimited(MembraneError):
    """MEMBRANE_ERATELIMIT: 429 rate_limit_exceeded."""

    default_code = ERATELIMIT


class BadRequest(MembraneError):
    """MEMBRANE_EBADREQUEST: any other 4xx."""

    default_code = EBADREQUEST


class ServerError(MembraneError):
    """MEMBRANE_ESERVER: a 5xx answer; quote ``error_id`` to support."""

    default_code = ESERVER


class NetworkError(MembraneError):
    """MEMBRANE_ENETWORK: DNS failure, connection refused, reset, closed early."""

    default_code = ENETWORK


class Timeout(MembraneError):
    """MEMBRANE_ETIMEOUT: the call took longer than the client's timeout."""

    default_code = ETIMEOUT


class TLSError(MembraneError):
    """MEMBRANE_ETLS: certificate or handshake failure."""

    default_code = ETLS


class ProtocolError(MembraneError):
    """MEMBRANE_EPROTOCOL: not JSON, wrong shape or types, too large, unexpected status."""

    default_code = EPROTOCOL


class InternalError(MembraneError):
    """MEMBRANE_EINTERNAL: out of memory, or a bug."""

    default_code = EINTERNAL


class Canceled(MembraneError):
    """MEMBRANE_ECANCELED: :meth:`Client.cancel` was called while the lookup ran."""

    default_code = ECANCELED


_ERROR_CLASSES: Dict[int, Type[MembraneError]] = {
    EINVAL: InvalidArgument,
    EAUTH: NotAuthenticated,
    EACCESS: AccessDenied,
    ENOTFOUND: NotFound,
    ERATELIMIT: RateLimited,
    EBADREQUEST: BadRequest,
    ESERVER: ServerError,
    ENETWORK: NetworkError,
    ETIMEOUT: Timeout,
    ETLS: TLSError,
    EPROTOCOL: ProtocolError,
    EINTERNAL: InternalError,
    ECANCELED: Canceled,
}


def error_class(code: int) -> Type[MembraneError]:
    """The exception class raised for a return code (InternalError if unknown)."""
    return _ERROR_CLASSES.get(code, InternalError)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _raise_from(rc: int, err: _CError) -> None:
    """Raise the exception for a failed call: the class and code follow the return code."""
    message = _text(err.message) or _load().membrane_strerror(rc).decode("utf-8", "replace")
    raise error_class(rc)(
        message,
        code=rc,
        http_status=err.http_status,
        type=_text(err.type),
        key=_text(err.key),
        error_id=_text(err.error_id),
    )


# ---------------------------------------------------------------------------
# Loading the library
# ---------------------------------------------------------------------------


class _OpaqueClient(ctypes.Structure):
    """``membrane_client``: opaque."""


class _OpaqueJSON(ctypes.Structure):
    """jansson's ``json_t``: opaque here."""


_ClientPtr = ctypes.POINTER(_OpaqueClient)
_JSONPtr = ctypes.POINTER(_OpaqueJSON)

_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()


def _candidates() -> List[str]:
    env = os.environ.get("MEMBRANE_LIBRARY")
    if env:
        # An explicit choice is the only candidate: a typo must not silently
        # fall back to another copy of the library.
        return [env]
    found = []
    built = Path(__file__).resolve().parent.parent.parent / ".build" / "release" / "libmembrane.so"
    if built.exists():
        found.append(str(built))
    found.append("libmembrane.so.0")
    system = ctypes.util.find_library("membrane")
    if system:
        found.append(system)
    return found


def _declare(lib: ctypes.CDLL) -> None:
    lib.membrane_version.argtypes = []
    lib.membrane_version.restype = ctypes.c_char_p

    lib.membrane_strerror.argtypes = [ctypes.c_int]
    lib.membrane_strerror.restype = ctypes.c_char_p

    lib.membrane_client_new.argtypes = [
        ctypes.POINTER(_ClientPtr),
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.POINTER(_CError),
    ]
    lib.membrane_client_new.restype = ctypes.c_int

    lib.membrane_client_free.argtypes = [_ClientPtr]
    lib.membrane_client_free.restype = None

    lib.membrane_client_set_long.argtypes = [_ClientPtr, ctypes.c_int, ctypes.c_long]
    lib.membrane_client_set_long.restype = ctypes.c_int

    lib.membrane_client_set_string.argtypes = [_ClientPtr, ctypes.c_int, ctypes.c_char_p]
    lib.membrane_client_set_string.restype = ctypes.c_int

    lib.membrane_client_cancel.argtypes = [_ClientPtr]
    lib.membrane_client_cancel.restype = ctypes.c_int

    lib.membrane_integration_get.argtypes = [
        _ClientPtr,
        ctypes.c_char_p,
        ctypes.c_uint,
        ctypes.POINTER(_JSONPtr),
        ctypes.POINTER(_CError),
    ]
    lib.membrane_integration_get.restype = ctypes.c_int

    lib.membrane_json_release.argtypes = [_JSONPtr]
    lib.membrane_json_release.restype = None

    # c_void_p, not c_char_p: the pointer itself is needed to free the string.
    lib.membrane_json_dumps.argtypes = [_JSONPtr, ctypes.c_size_t]
    lib.membrane_json_dumps.restype = ctypes.c_void_p

    lib.membrane_free.argtypes = [ctypes.c_void_p]
    lib.membrane_free.restype = None


def load_library() -> ctypes.CDLL:
    """Load libmembrane (once) and declare its functions. Raises OSError."""
    global _lib
    if _lib is not None:
        return _lib
    with _lib_lock:
        if _lib is None:
            errors = []
            for candidate in _candidates():
                try:
                    lib = ctypes.CDLL(candidate)
                except OSError as e:
                    errors.append(f"{candidate}: {e}")
                    continue
                _declare(lib)
                _lib = lib
                break
            else:
                raise OSError(
                    "cannot load libmembrane (set MEMBRANE_LIBRARY to its path): "
                    + "; ".join(errors)
                )
    return _lib


_load = load_library


def version() -> str:
    """The library's version, e.g. ``"0.1.0"``."""
    return _load().membrane_version().decode("utf-8")


def strerror(code: int) -> str:
    """A short English description of a return code; ``"unknown error code"`` if unknown."""
    code = int(code)
    if not _C_INT_MIN <= code <= _C_INT_MAX:
        code = _C_INT_MIN  # not representable, so certainly not a code
    return _load().membrane_strerror(code).decode("utf-8", "replace")


# ---------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------

StrOrBytes = Union[str, bytes, bytearray]
PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def _c_string(value: StrOrBytes, what: str) -> bytes:
    """A str as UTF-8, bytes as they are; refuses an embedded NUL (C would cut there)."""
    if isinstance(value, str):
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError as e:  # lone surrogates
            raise InvalidArgument(f"{what} is not valid Unicode: {e.reason}") from None
    elif isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    else:
        raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")
    if b"\0" in raw:
        raise InvalidArgument(f"{what} holds a NUL character")
    return raw


class _Handle:
    """The C client pointer, with the bookkeeping that keeps free() from racing calls.

    Lookups never wait for each other: the lock is only held to count calls in
    and out. close() refuses new calls, waits for those in flight, then frees.
    Kept apart from Client so that the finalizer does not keep the Client alive.
    """

    __slots__ = ("_ptr", "_cond", "_busy", "_closed", "_free_when_idle", "__weakref__")

    def __init__(self, ptr: Any) -> None:
        self._ptr = ptr
        self._cond = threading.Condition(threading.Lock())
        self._busy = 0
        self._closed = False
        self._free_when_idle = False

    @property
    def closed(self) -> bool:
        return self._closed

    def enter(self) -> Any:
        with self._cond:
            if self._closed:
                raise ClientClosed("the client is closed")
            self._busy += 1
            return self._ptr

    def leave(self) -> None:
        with self._cond:
            self._busy -= 1
            if self._busy:
                return
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
    if ptr and _lib is not None:
        _lib.membrane_client_free(ptr)


class Client:
    """A connection to the Membrane API: its address, a token, options and a pool.

    Args:
        api_url: the API's base URL (``http://`` or ``https://``); ``None``
            reads ``MEMBRANE_API_URL``, then ``https://api.getmembrane.com``.
        token: the API token; ``None`` reads ``MEMBRANE_TOKEN``. The library
            keeps its own copy; this object does not keep one.
        timeout_ms: the longest one call may take (library default 30000).
        connect_timeout_ms: the longest connecting may take (default 10000).
        user_agent: the User-Agent header (default ``libmembrane/<version>``).
        ca_file: a PEM bundle of CA certificates to trust instead of the system's.
        max_retries: how many times a lookup is retried after a 429, 502, 503,
            504 or a connection that failed before any response byte (0 to 10;
            library default 2; 0 turns retries off).
        retry_base_ms: the base of the exponential backoff between retries
            (>= 1; default 250; full jitter, capped at 8 s). A Retry-After
            header from the server takes precedence.
        max_response_bytes: the largest response body accepted, after
            decompression (>= 1; default 32 MiB). A larger one is a
            :class:`ProtocolError`.

    Raises:
        NotAuthenticated: no token given or configured.
        InvalidArgument: a malformed URL, a bad token or option value.
    """

    def __init__(
        self,
        api_url: Optional[StrOrBytes] = None,
        token: Optional[StrOrBytes] = None,
        *,
        timeout_ms: Optional[int] = None,
        connect_timeout_ms: Optional[int] = None,
        user_agent: Optional[StrOrBytes] = None,
        ca_file: Optional[PathArg] = None,
        max_retries: Optional[int] = None,
        retry_base_ms: Optional[int] = None,
        max_response_bytes: Optional[int] = None,
    ) -> None:
        lib = _load()
        url_c = None if api_url is None else _c_string(api_url, "api_url")
        token_c = None if token is None else _c_string(token, "token")
        ptr = _ClientPtr()
        err = _CError()
        rc = lib.membrane_client_new(ctypes.byref(ptr), url_c, token_c, ctypes.byref(err))
        del token_c
        if rc != OK:
            _raise_from(rc, err)
        if not ptr:
            raise InternalError("membrane_client_new succeeded without a client")
        self._handle = _Handle(ptr)
        self._finalizer = weakref.finalize(self, self._handle.close, False)
        try:
            if timeout_ms is not None:
                self.set_timeout(timeout_ms)
            if connect_timeout_ms is not None:
                self.set_connect_timeout(connect_timeout_ms)
            if user_agent is not None:
                self.set_user_agent(user_agent)
            if ca_file is not None:
                self.set_ca_file(ca_file)
            if max_retries is not None:
                self.set_max_retries(max_retries)
            if retry_base_ms is not None:
                self.set_retry_base(retry_base_ms)
            if max_response_bytes is not None:
                self.set_max_response_bytes(max_response_bytes)
        except BaseException:
            self.close()
            raise

    # -- lifetime -----------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._handle.closed

    def close(self) -> None:
        """Free the client and its connections. Waits for lookups in flight; idempotent."""
        self._handle.close(wait=True)
        self._finalizer.detach()

    def cancel(self) -> None:
        """Make every lookup in flight on this client raise :class:`Canceled` promptly.

        Meant to be called from another thread (a shutdown path, a UI's cancel
        button); lookups waiting between retries are woken too. Lookups started
        afterwards run normally. Never waits for lookups or for :meth:`close`:
        while ``close()`` waits for lookups in flight, ``cancel()`` ends them.
        After the client was freed it does nothing (no lookup can be running).
        """
        ptr = self._handle.enter_even_if_closing()
        if ptr is None:
            return
        try:
            rc = _load().membrane_client_cancel(ptr)
        finally:
            self._handle.leave()
        if rc != OK:
            err = _CError()
            err.message = b"membrane_client_cancel failed"
            _raise_from(rc, err)

    def __enter__(self) -> "Client":
        if self.closed:
            raise ClientClosed("the client is closed")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<membrane.Client {state} at {id(self):#x}>"

    # -- options ------------------------------------------------------------

    def _set_long(self, option: int, value: int, what: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{what} must be an int, not {type(value).__name__}")
        if not _C_LONG_MIN <= value <= _C_LONG_MAX:
            raise InvalidArgument(f"{what} is out of range: {value}")
        err = _CError()  # set_long reports through its return code only
        ptr = self._handle.enter()
        try:
            rc = _load().membrane_client_set_long(ptr, option, value)
        finally:
            self._handle.leave()
        if rc != OK:
            err.message = f"invalid {what}: {value}".encode()
            _raise_from(rc, err)

    def _set_string(self, option: int, value: Optional[bytes], what: str) -> None:
        ptr = self._handle.enter()
        try:
            rc = _load().membrane_client_set_string(ptr, option, value)
        finally:
            self._handle.leave()
        if rc != OK:
            err = _CError()
            err.message = f"invalid {what}".encode()
            _raise_from(rc, err)

    def set_timeout(self, ms: int) -> None:
        """The longest one call may take, in milliseconds (>= 1)."""
        self._set_long(OPT_TIMEOUT_MS, ms, "timeout_ms")

    def set_connect_timeout(self, ms: int) -> None:
        """The longest connecting (TCP and TLS) may take, in milliseconds (>= 1)."""
        self._set_long(OPT_CONNECT_TIMEOUT_MS, ms, "connect_timeout_ms")

    def set_max_retries(self, count: int) -> None:
        """How many times a lookup is retried (0 to 10; 0 turns retries off)."""
        self._set_long(OPT_MAX_RETRIES, count, "max_retries")

    def set_retry_base(self, ms: int) -> None:
        """The base of the exponential backoff between retries, in milliseconds (>= 1)."""
        self._set_long(OPT_RETRY_BASE_MS, ms, "retry_base_ms")

    def set_max_response_bytes(self, size: int) -> None:
        """The largest response body accepted, in bytes (>= 1)."""
        self._set_long(OPT_MAX_RESPONSE_BYTES, size, "max_response_bytes")

    def set_user_agent(self, user_agent: StrOrBytes) -> None:
        """The User-Agent header (non-empty, no control characters)."""
        self._set_string(OPT_USER_AGENT, _c_string(user_agent, "user_agent"), "user_agent")

    def set_ca_file(self, path: Optional[PathArg]) -> None:
        """A PEM bundle of CA certificates to trust instead of the system's; None restores them."""
        value = None if path is None else _c_string(os.fsencode(path), "ca_file")
        self._set_string(OPT_CA_FILE, value, "ca_file")

    # -- lookups ------------------------------------------------------------

    def integration(self, selector: StrOrBytes, include_secrets: bool = False) -> Dict[str, Any]:
        """Look up one integration by id, uuid or key (catalog keys start with ``~``).

        ``selector`` as str is sent as UTF-8; bytes are passed as they are.
        With ``include_secrets`` the API reveals secret values (such as an
        OAuth ``clientSecret`` in ``parameters``); without it they are masked.

        Returns the integration object as the API sent it.
        Raises a :class:`MembraneError` subclass on failure.
        """
        raw = _c_string(selector, "selector")
        flags = INCLUDE_SECRETS if include_secrets else 0
        lib = _load()
        out = _JSONPtr()
        err = _CError()
        ptr = self._handle.enter()
        try:
            rc = lib.membrane_integration_get(ptr, raw, flags, ctypes.byref(out), ctypes.byref(err))
        finally:
            self._handle.leave()
        try:
            if rc != OK:
                _raise_from(rc, err)
            if not out:
                raise InternalError("membrane_integration_get succeeded without a result")
            text = lib.membrane_json_dumps(out, _JSON_COMPACT)
            if not text:
                raise InternalError("membrane_json_dumps failed")
            try:
                data = ctypes.string_at(text)
            finally:
                lib.membrane_free(text)
        finally:
            lib.membrane_json_release(out)  # NULL (failure) is a no-op
        result = json.loads(data.decode("utf-8"))
        if not isinstance(result, dict):
            raise ProtocolError("the integration is not a JSON object", code=EPROTOCOL)
        return result
