"""Look up Membrane integrations from Python through libmembrane.

A :mod:`ctypes` binding to ``libmembrane.so`` (see ``Include/membrane.h``), the
C client of the Membrane API (formerly Integration.app). Each lookup answers
``GET {api}/integrations/{selector}`` and returns the integration as a plain
:class:`dict`, exactly as the API sent it (unknown fields included);
:mod:`membrane.views` offers light typed views over those dicts.

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

        for result in client.integrations(["hubspot", "salesforce"]):   # concurrently
            print(result if isinstance(result, membrane.MembraneError) else result["name"])

        for item in client.list_integrations(search="crm", limit=100):  # page by page, lazily
            print(item["key"])

``api_url=None`` reads ``MEMBRANE_API_URL`` (falling back to
``https://api.getmembrane.com``) and ``token=None`` reads ``MEMBRANE_TOKEN``.

The library is loaded on first use, from the first of:

1. the path in the environment variable ``MEMBRANE_LIBRARY`` (the only
   candidate when set);
2. in a source checkout of libmembrane, its build folder
   ``.build/release/libmembrane.so``;
3. the system's ``libmembrane.so.0``, found by the dynamic loader
   (``LD_LIBRARY_PATH``, then the ``ldconfig`` cache).

A library of another major version, or one too old to report its version,
is refused with :class:`LibraryVersionError` (an :class:`OSError`).

Failures raise a subclass of :class:`MembraneError` chosen by the library's
return code; every one carries ``code``, ``http_status``, ``type``, ``key``,
``message`` and ``error_id``. The token never appears in any of them.

Lookups are retried by the library after a 429, 502, 503 or 504, or a
connection that failed before any response byte (``max_retries``,
``retry_base_ms``; a Retry-After header is honoured); ``timeout_ms`` bounds the
whole call, waits included. The exception then describes the last attempt and
its message ends with ``(after N attempts)``.

Threads: one :class:`Client` may be shared by many threads; the GIL is
released while the library works. Set options before sharing a client.
:meth:`Client.close` waits for calls in flight to finish before freeing;
:meth:`Client.cancel`, from any thread, makes them raise :class:`Canceled`.

Logging: every client sends the library's lines (one per request attempt,
one per retry; never the token) to the :mod:`logging` logger ``"membrane"``:
answers at INFO, failures, 5xx answers and retries at WARNING.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import math
import os
import signal
import threading
import weakref
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    Type,
    Union,
)

__version__ = "0.2.0"

#: The libmembrane major version this package binds (``MEMBRANE_VERSION_MAJOR``).
REQUIRED_MAJOR = 0
#: The oldest libmembrane it works with, as ``0xMMmmpp``: 0.2.0 added the calls it binds.
MINIMUM_VERSION_NUM = 0x000200

__all__ = [
    "Client",
    "version",
    "version_num",
    "library_path",
    "strerror",
    "load_library",
    "error_class",
    "LibraryVersionError",
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
    "LOG_WARNING",
    "LOG_INFO",
    "REQUIRED_MAJOR",
    "MINIMUM_VERSION_NUM",
    "QueryValue",
    "BatchResult",
    "views",
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
OPT_MAX_PARALLEL = 8
OPT_MAX_PAGES = 9

#: Levels of the library's log lines (``MEMBRANE_LOG_*``).
LOG_WARNING = 2
LOG_INFO = 3

#: The library's default page cap (``MEMBRANE_OPT_MAX_PAGES``).
DEFAULT_MAX_PAGES = 1000

_JSON_COMPACT = 0x20  # jansson's JSON_COMPACT flag for json_dumps()
_JSON_REJECT_DUPLICATES = 0x1  # jansson's flag for json_loads()
_JSON_INT_MIN = -(2 ** 63)  # json_int_t is long long
_JSON_INT_MAX = 2 ** 63 - 1

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


def _error_from_entry(detail: Any) -> MembraneError:
    """The exception for one failed element of a batch: ``{"code", "http_status", ...}``."""
    if not isinstance(detail, dict):
        return ProtocolError(f"a batch element has an unexpected error value: {detail!r:.200}")

    def text(name: str) -> str:
        value = detail.get(name)
        return value if isinstance(value, str) else ""

    code = detail.get("code")
    if isinstance(code, bool) or not isinstance(code, int):
        code = EINTERNAL
    status = detail.get("http_status")
    if isinstance(status, bool) or not isinstance(status, int):
        status = 0
    return error_class(code)(
        text("message") or strerror(code),
        code=code,
        http_status=status,
        type=text("type"),
        key=text("key"),
        error_id=text("error_id"),
    )


# ---------------------------------------------------------------------------
# Loading the library
# ---------------------------------------------------------------------------


class LibraryVersionError(OSError):
    """The libmembrane found is of another major version, or too old for this package."""


class _OpaqueClient(ctypes.Structure):
    """``membrane_client``: opaque."""


class _OpaqueJSON(ctypes.Structure):
    """jansson's ``json_t``: opaque here."""


class _JSONError(ctypes.Structure):
    """jansson's ``json_error_t``."""

    _fields_ = [
        ("line", ctypes.c_int),
        ("column", ctypes.c_int),
        ("position", ctypes.c_int),
        ("source", ctypes.c_char * 80),
        ("text", ctypes.c_char * 160),
    ]


class _DlInfo(ctypes.Structure):
    """``Dl_info`` of dladdr(3)."""

    _fields_ = [
        ("dli_fname", ctypes.c_char_p),
        ("dli_fbase", ctypes.c_void_p),
        ("dli_sname", ctypes.c_char_p),
        ("dli_saddr", ctypes.c_void_p),
    ]


_ClientPtr = ctypes.POINTER(_OpaqueClient)
_JSONPtr = ctypes.POINTER(_OpaqueJSON)

#: ``void (*)(int level, const char *message, void *payload)``
_LogCallback = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)

_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None
_jansson: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()

#: The SONAME of the major version this package binds.
_SONAME = f"libmembrane.so.{REQUIRED_MAJOR}"


def _source_checkout_library() -> Optional[Path]:
    """The build folder's library when this file sits in a libmembrane checkout.

    ``<repo>/python/membrane/__init__.py``: an installed copy (in
    site-packages) has no ``Include/membrane.h`` two folders up.
    """
    repo = Path(__file__).resolve().parents[2]
    built = repo / ".build" / "release" / "libmembrane.so"
    if (repo / "Include" / "membrane.h").is_file() and built.exists():
        return built
    return None


def _candidates() -> List[str]:
    env = os.environ.get("MEMBRANE_LIBRARY")
    if env:
        # An explicit choice is the only candidate: a typo must not silently
        # fall back to another copy of the library.
        return [env]
    found = []
    built = _source_checkout_library()
    if built is not None:
        found.append(str(built))
    found.append(_SONAME)  # LD_LIBRARY_PATH, then the ldconfig cache
    return found


def _file_of(lib: Any, symbol: str, fallback: str) -> str:
    """The path of the file `lib` was loaded from (dladdr on one of its symbols)."""
    try:
        address = ctypes.cast(getattr(lib, symbol), ctypes.c_void_p)
        dladdr = ctypes.CDLL(None).dladdr
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
        dladdr.restype = ctypes.c_int
        info = _DlInfo()
        if dladdr(address, ctypes.byref(info)) and info.dli_fname:
            return os.path.abspath(os.fsdecode(info.dli_fname))
    except (AttributeError, OSError, TypeError, ValueError):
        pass
    return fallback


def _format_version_num(num: int) -> str:
    return f"{num >> 16}.{(num >> 8) & 0xFF}.{num & 0xFF}"


def _check_version(lib: Any, where: str) -> int:
    """The library's ``membrane_version_num()``; raises LibraryVersionError if it does not fit.

    `lib` is anything with the library's functions as attributes (a CDLL, or
    a stand-in in tests); `where` names it in the message.
    """
    wanted = f"libmembrane {REQUIRED_MAJOR}.x, {_format_version_num(MINIMUM_VERSION_NUM)} or later"
    try:
        function = lib.membrane_version_num
    except AttributeError:
        raise LibraryVersionError(
            f"{where} is too old for this package (membrane {__version__}): it has no "
            f"membrane_version_num(), which libmembrane 0.2.0 introduced; this package needs "
            f"{wanted}. Install a matching libmembrane, or set MEMBRANE_LIBRARY to one."
        ) from None
    function.argtypes = []
    function.restype = ctypes.c_uint
    num = int(function())
    found = _format_version_num(num)
    try:
        version_function = lib.membrane_version
        version_function.argtypes = []
        version_function.restype = ctypes.c_char_p
        text = version_function()
        if isinstance(text, bytes) and text:
            found = text.decode("utf-8", "replace")
    except AttributeError:
        pass
    major = num >> 16
    if major != REQUIRED_MAJOR:
        raise LibraryVersionError(
            f"{where} is libmembrane {found} (major version {major}), but this package "
            f"(membrane {__version__}) is built for major version {REQUIRED_MAJOR}: it needs "
            f"{wanted}. Install a matching libmembrane, or set MEMBRANE_LIBRARY to one."
        )
    if num < MINIMUM_VERSION_NUM:
        raise LibraryVersionError(
            f"{where} is libmembrane {found}, too old for this package (membrane "
            f"{__version__}): it needs {wanted}. Install a matching libmembrane, or set "
            f"MEMBRANE_LIBRARY to one."
        )
    return num


def _declare(lib: ctypes.CDLL) -> None:
    lib.membrane_version.argtypes = []
    lib.membrane_version.restype = ctypes.c_char_p

    lib.membrane_version_num.argtypes = []
    lib.membrane_version_num.restype = ctypes.c_uint

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

    lib.membrane_client_set_log.argtypes = [_ClientPtr, _LogCallback, ctypes.c_void_p]
    lib.membrane_client_set_log.restype = ctypes.c_int

    lib.membrane_integration_get.argtypes = [
        _ClientPtr,
        ctypes.c_char_p,
        ctypes.c_uint,
        ctypes.POINTER(_JSONPtr),
        ctypes.POINTER(_CError),
    ]
    lib.membrane_integration_get.restype = ctypes.c_int

    lib.membrane_integrations_get_many.argtypes = [
        _ClientPtr,
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.POINTER(_JSONPtr),
        ctypes.POINTER(_CError),
    ]
    lib.membrane_integrations_get_many.restype = ctypes.c_int

    for name in ("membrane_integrations_list", "membrane_integrations_list_all"):
        function = getattr(lib, name)
        function.argtypes = [_ClientPtr, _JSONPtr, ctypes.POINTER(_JSONPtr), ctypes.POINTER(_CError)]
        function.restype = ctypes.c_int

    lib.membrane_json_release.argtypes = [_JSONPtr]
    lib.membrane_json_release.restype = None

    # c_void_p, not c_char_p: the pointer itself is needed to free the string.
    lib.membrane_json_dumps.argtypes = [_JSONPtr, ctypes.c_size_t]
    lib.membrane_json_dumps.restype = ctypes.c_void_p

    lib.membrane_free.argtypes = [ctypes.c_void_p]
    lib.membrane_free.restype = None


def load_library() -> ctypes.CDLL:
    """Load libmembrane (once), check its version and declare its functions.

    Raises:
        LibraryVersionError: the first library found is of another major
            version, or older than this package needs.
        OSError: no candidate could be loaded (the message lists each).
    """
    global _lib, _lib_path
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
                # The first library that loads decides: one of the wrong
                # version is an error, not a reason to look further.
                path = _file_of(lib, "membrane_version_num", _file_of(lib, "membrane_version", candidate))
                _check_version(lib, path)
                try:
                    _declare(lib)
                except AttributeError as e:  # a function this package binds is missing
                    raise LibraryVersionError(
                        f"{path} (libmembrane {_format_version_num(int(lib.membrane_version_num()))}) "
                        f"lacks a function this package (membrane {__version__}) needs: {e}"
                    ) from None
                _lib_path = path
                _lib = lib
                break
            else:
                raise OSError(
                    "cannot load libmembrane (install it, or set MEMBRANE_LIBRARY to its path): "
                    + "; ".join(errors)
                )
    return _lib


_load = load_library


def _jansson_library() -> ctypes.CDLL:
    """The jansson libmembrane uses (already loaded with it: found by its SONAME)."""
    global _jansson
    if _jansson is not None:
        return _jansson
    _load()
    with _lib_lock:
        if _jansson is None:
            errors = []
            for candidate in ("libjansson.so.4", ctypes.util.find_library("jansson")):
                if not candidate:
                    continue
                try:
                    lib = ctypes.CDLL(candidate)
                except OSError as e:
                    errors.append(f"{candidate}: {e}")
                    continue
                lib.json_loads.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(_JSONError)]
                lib.json_loads.restype = _JSONPtr
                _jansson = lib
                break
            else:
                raise OSError("cannot load jansson (libjansson.so.4): " + "; ".join(errors))
    return _jansson


def version() -> str:
    """The loaded library's version, e.g. ``"0.2.0"``."""
    raw: bytes = _load().membrane_version()
    return raw.decode("utf-8")


def version_num() -> int:
    """The loaded library's version as ``0xMMmmpp``, e.g. ``0x000200`` for 0.2.0."""
    return int(_load().membrane_version_num())


def library_path() -> str:
    """The file the library was loaded from (loading it if needed)."""
    _load()
    if _lib_path is None:  # pragma: no cover - set together with _lib
        raise InternalError("the library's path is unknown")
    return _lib_path


def strerror(code: int) -> str:
    """A short English description of a return code; ``"unknown error code"`` if unknown."""
    code = int(code)
    if not _C_INT_MIN <= code <= _C_INT_MAX:
        code = _C_INT_MIN  # not representable, so certainly not a code
    raw: bytes = _load().membrane_strerror(code)
    return raw.decode("utf-8", "replace")


# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------

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


#: Per thread: a KeyboardInterrupt caught in the callback, to raise once the call returns.
_interrupted = threading.local()


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
    if getattr(_interrupted, "pending", False):
        _interrupted.pending = False
        return True
    return False


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
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            try:
                signal.signal(signal.SIGINT, self._note)
            except ValueError:  # not the main interpreter: leave signals alone
                return self
            self.installed = True
        return self

    def _note(self, signum: int, frame: Any) -> None:
        self.hit = True

    def __exit__(self, *exc_info: Any) -> None:
        if self.installed:
            self.installed = False
            signal.signal(signal.SIGINT, signal.default_int_handler)


# One callback for every client, never freed: the library may call it from a
# daemon thread still inside a lookup while the interpreter shuts down, after
# this module's globals are gone, so its reference is deliberately leaked.
_LOG_CALLBACK = _LogCallback(_forward_log)
ctypes.pythonapi.Py_IncRef(ctypes.py_object(_LOG_CALLBACK))


# ---------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------

StrOrBytes = Union[str, bytes, bytearray]
PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
#: A value of a listing query: sent as text (``True`` as ``true``); ``None`` leaves the parameter out.
QueryValue = Union[str, int, float, bool, None]
#: One element of :meth:`Client.integrations`: the integration, or the error of its lookup.
BatchResult = Union[Dict[str, Any], "MembraneError"]


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

    __slots__ = ("_ptr", "_cond", "_busy", "_closed", "_free_when_idle", "log_callback",
                 "__weakref__")

    def __init__(self, ptr: Any) -> None:
        self.log_callback: Any = None
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
        max_parallel: how many requests :meth:`integrations` runs at once,
            and so the most connections it opens (1 to 256; default 8).
        max_pages: how many pages :meth:`list_integrations` and
            :meth:`list_all_integrations` read before they give up with a
            :class:`ProtocolError` (>= 1; default 1000).

    The client sends the library's log lines to the logger ``"membrane"``.

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
        max_parallel: Optional[int] = None,
        max_pages: Optional[int] = None,
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
        self._max_pages = DEFAULT_MAX_PAGES
        try:
            self._forward_logs()
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
            if max_parallel is not None:
                self.set_max_parallel(max_parallel)
            if max_pages is not None:
                self.set_max_pages(max_pages)
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

    # -- logging ------------------------------------------------------------

    def _forward_logs(self) -> None:
        """Send the library's lines to the ``membrane`` logger (see :func:`_forward_log`)."""
        # The callback is module-wide and never freed, so it outlives the
        # client; the handle holds it too, for whoever reads the code.
        self._handle.log_callback = _LOG_CALLBACK
        ptr = self._handle.enter()
        try:
            rc = _load().membrane_client_set_log(ptr, _LOG_CALLBACK, None)
        finally:
            self._handle.leave()
        if rc != OK:
            err = _CError()
            err.message = b"membrane_client_set_log failed"
            _raise_from(rc, err)

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

    def set_max_parallel(self, count: int) -> None:
        """How many requests :meth:`integrations` runs at once (1 to 256)."""
        self._set_long(OPT_MAX_PARALLEL, count, "max_parallel")

    def set_max_pages(self, count: int) -> None:
        """How many pages a listing reads before it gives up with :class:`ProtocolError` (>= 1)."""
        self._set_long(OPT_MAX_PAGES, count, "max_pages")
        self._max_pages = count

    def set_user_agent(self, user_agent: StrOrBytes) -> None:
        """The User-Agent header (non-empty, no control characters)."""
        self._set_string(OPT_USER_AGENT, _c_string(user_agent, "user_agent"), "user_agent")

    def set_ca_file(self, path: Optional[PathArg]) -> None:
        """A PEM bundle of CA certificates to trust instead of the system's; None restores them."""
        value = None if path is None else _c_string(os.fsencode(path), "ca_file")
        self._set_string(OPT_CA_FILE, value, "ca_file")

    # -- calls --------------------------------------------------------------

    def _call(self, what: str, call: Callable[[Any, Any, Any], int]) -> Any:
        """Run one C call that hands out a new ``json_t``; return it as Python data.

        `call(client, out, err)` makes the call (the GIL is released during it);
        the client cannot be freed under it.
        """
        lib = _load()
        out = _JSONPtr()
        err = _CError()
        with _SigintDeferred() as sigint:
            ptr = self._handle.enter()
            try:
                rc = call(ptr, ctypes.byref(out), ctypes.byref(err))
            finally:
                self._handle.leave()
        try:
            if _take_pending_interrupt() or sigint.hit:
                raise KeyboardInterrupt  # pressed during the call: now that it is over
            if rc != OK:
                _raise_from(rc, err)
            if not out:
                raise InternalError(f"{what} succeeded without a result")
            text = lib.membrane_json_dumps(out, _JSON_COMPACT)
            if not text:
                raise InternalError("membrane_json_dumps failed")
            try:
                data = ctypes.string_at(text)
            finally:
                lib.membrane_free(text)
        finally:
            lib.membrane_json_release(out)  # NULL (failure) is a no-op
        return json.loads(data.decode("utf-8"))

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
        result = self._call(
            "membrane_integration_get",
            lambda ptr, out, err: lib.membrane_integration_get(ptr, raw, flags, out, err),
        )
        if not isinstance(result, dict):
            raise ProtocolError("the integration is not a JSON object", code=EPROTOCOL)
        return result

    def integrations(
        self, selectors: Iterable[StrOrBytes], include_secrets: bool = False
    ) -> List[BatchResult]:
        """Look up many integrations at once, concurrently (``membrane_integrations_get_many``).

        At most ``max_parallel`` requests are in flight, over reused
        connections; a selector given twice is fetched once. Each lookup has
        the retry and deadline rules of :meth:`integration`.

        Returns a list in the order of `selectors`: each element is the
        integration (a dict), or, for a selector whose lookup failed, the
        :class:`MembraneError` subclass instance describing why (returned,
        not raised): e.g. :class:`NotFound` with ``http_status`` 404, or
        :class:`InvalidArgument` for an empty selector or one holding a NUL.

        Raises only when the whole call fails: :class:`TypeError` for an
        element that is not str or bytes (or a lone str given as `selectors`),
        :class:`InvalidArgument` (more than 1,000,000 selectors),
        :class:`Canceled` (:meth:`cancel`), :class:`ClientClosed`,
        :class:`InternalError`.
        """
        if isinstance(selectors, (str, bytes, bytearray)):
            raise TypeError("selectors must be an iterable of selectors, not a single "
                            + type(selectors).__name__)
        items = list(selectors)
        if self.closed:
            raise ClientClosed("the client is closed")
        results: List[Optional[BatchResult]] = [None] * len(items)
        raws: List[bytes] = []
        positions: List[int] = []
        for index, selector in enumerate(items):
            if not isinstance(selector, (str, bytes, bytearray)):
                raise TypeError(f"selectors[{index}] must be str or bytes, not {type(selector).__name__}")
            try:
                raws.append(_c_string(selector, "the selector"))
            except InvalidArgument as e:  # as the library does for a selector it cannot read
                results[index] = e
                continue
            positions.append(index)
        if raws:
            lib = _load()
            flags = INCLUDE_SECRETS if include_secrets else 0
            array = (ctypes.c_char_p * len(raws))(*raws)
            count = len(raws)
            data = self._call(
                "membrane_integrations_get_many",
                lambda ptr, out, err: lib.membrane_integrations_get_many(ptr, array, count, flags, out, err),
            )
            if not isinstance(data, list) or len(data) != count:
                raise InternalError(f"membrane_integrations_get_many returned {type(data).__name__} "
                                    f"of the wrong length for {count} selectors")
            for index, element in zip(positions, data):
                results[index] = _batch_element(element)
        return [result if result is not None else InternalError("no result") for result in results]

    # -- listing ------------------------------------------------------------

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
        merged = _merge_query(query, params)
        _query_json(merged)  # check the arguments now, not at the first next()
        cursor = merged.pop("cursor", None)
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
        page = self._with_query(text, "membrane_integrations_list")
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise ProtocolError("the page is not an object with an array \"items\"", code=EPROTOCOL)
        return page

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
        seen: Set[str] = set()
        page_number = 0
        while True:
            page_number += 1
            query = dict(base)
            if cursor is not None:
                query["cursor"] = cursor  # last, as the library puts it
            page = self._page(_query_json(query))
            yield from page["items"]
            next_cursor = page.get("cursor")
            if not isinstance(next_cursor, str) or not next_cursor:
                return  # the last page: no cursor (or an empty one)
            if next_cursor in seen:
                # Unlike the library's message, not the cursor itself: this
                # object does not know the token, so it could not hide it if
                # a server echoed it there.
                raise ProtocolError(
                    f"the API returned a cursor a second time (on page {page_number}); "
                    "stopping rather than looping",
                    http_status=200,
                )
            seen.add(next_cursor)
            if page_number >= max_pages:
                raise ProtocolError(
                    f"more than {max_pages} pages; stopping (raise the page cap to read further)",
                    http_status=200,
                )
            cursor = next_cursor


def _batch_element(element: Any) -> BatchResult:
    """One element of a batch's array: the integration, or its error as an exception."""
    if isinstance(element, dict):
        if "error" in element and "name" not in element:
            return _error_from_entry(element["error"])
        return element
    return InternalError(f"a batch element is not a JSON object: {element!r:.200}")


def _merge_query(query: Optional[Mapping[str, QueryValue]],
                 params: Mapping[str, QueryValue]) -> Dict[str, QueryValue]:
    merged: Dict[str, QueryValue] = {}
    if query is not None:
        if not isinstance(query, Mapping):
            raise TypeError(f"query must be a mapping, not {type(query).__name__}")
        merged.update(query)
    merged.update(params)
    return merged


def _query_json(query: Mapping[str, QueryValue]) -> Optional[bytes]:
    """The query as JSON text for json_loads; None when it has no parameter.

    Refuses what the library would refuse or could not be given: values that
    are not str, int, float or bool (TypeError), a NUL or a lone surrogate,
    an integer beyond 64 bits, an infinite or NaN float (InvalidArgument).
    """
    members: Dict[str, Union[str, int, float, bool]] = {}
    for name, value in query.items():
        if not isinstance(name, str):
            raise TypeError(f"query parameter names must be str, not {type(name).__name__}")
        _c_string(name, "a query parameter name")
        what = f"query parameter {name!r}"
        if value is None:
            continue
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            if not _JSON_INT_MIN <= value <= _JSON_INT_MAX:
                raise InvalidArgument(f"{what} is out of range: {value}")
            value = int(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidArgument(f"{what} must be finite, not {value}")
            value = float(value)
        elif isinstance(value, str):
            _c_string(value, what)
            value = str(value)
        else:
            raise TypeError(f"{what} must be str, int, float or bool, not {type(value).__name__}")
        members[name] = value
    if not members:
        return None
    return json.dumps(members, ensure_ascii=True, allow_nan=False).encode("ascii")


def _new_json(text: bytes) -> Any:
    """A new jansson value parsed from `text` (release it with membrane_json_release)."""
    error = _JSONError()
    value = _jansson_library().json_loads(text, _JSON_REJECT_DUPLICATES, ctypes.byref(error))
    if not value:
        raise InternalError("cannot build the query: " + _text(error.text))
    return value


from . import views  # noqa: E402 - typed views over the dicts: membrane.views.IntegrationView
