"""The native layer: finding and loading libmembrane, its version gate, the one
table of C signatures, and the constants of ``Include/membrane.h``.

Nothing here is loaded at import time: :func:`load_library` runs on first use.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

#: The package's version; it follows the library's (``MEMBRANE_VERSION_STRING``).
__version__ = "0.2.0"

#: The libmembrane major version this package binds (``MEMBRANE_VERSION_MAJOR``).
REQUIRED_MAJOR = 0
#: The oldest libmembrane it works with, as ``0xMMmmpp``: 0.2.0 added the calls it binds.
MINIMUM_VERSION_NUM = 0x000200

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
OPT_TOKEN_LIFETIME_S = 10
OPT_SHARE_REQUESTS = 11
OPT_CACHE_TTL_MS = 12
OPT_CACHE_MAX_ENTRIES = 13

#: Flags of membrane_client_use_workspace_secret / _use_private_key.
TOKEN_ADMIN = 1
TOKEN_HS256 = 2

#: Levels of the library's log lines (``MEMBRANE_LOG_*``).
LOG_WARNING = 2
LOG_INFO = 3

#: The library's default page cap (``MEMBRANE_OPT_MAX_PAGES``).
DEFAULT_MAX_PAGES = 1000

JSON_COMPACT = 0x20  # jansson's JSON_COMPACT flag for json_dumps()
JSON_REJECT_DUPLICATES = 0x1  # jansson's flag for json_loads()
JSON_INT_MIN = -(2 ** 63)  # json_int_t is long long
JSON_INT_MAX = 2 ** 63 - 1

C_INT_MIN = -(2 ** 31)
C_INT_MAX = 2 ** 31 - 1
_C_LONG_BITS = 8 * ctypes.sizeof(ctypes.c_long)
C_LONG_MIN = -(2 ** (_C_LONG_BITS - 1))
C_LONG_MAX = 2 ** (_C_LONG_BITS - 1) - 1

# ---------------------------------------------------------------------------
# C types
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
#: ``int (*membrane_token_provider)(void *payload, char *buf, size_t size)``; buf as a
#: plain address, so the callback writes into it with ctypes.memmove.
_TokenProvider = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)

_c_int, _c_uint, _c_long, _c_size_t = ctypes.c_int, ctypes.c_uint, ctypes.c_long, ctypes.c_size_t
_c_char_p, _c_void_p = ctypes.c_char_p, ctypes.c_void_p
_c_ulonglong = ctypes.c_ulonglong
_ErrorPtr = ctypes.POINTER(_CError)

#: ``membrane_integration_callback``: ``void (*)(void *payload, int code, json_t *integration,
#: const membrane_error *err)``; the callback owns `integration` (a new reference).
_IntegrationCallback = ctypes.CFUNCTYPE(None, _c_void_p, _c_int, _JSONPtr, _ErrorPtr)
#: ``membrane_text_callback``: ``void (*)(void *payload, int code, const char *text, size_t
#: length, const membrane_error *err)``; text as a plain address (borrowed: decoded in place).
_TextCallback = ctypes.CFUNCTYPE(None, _c_void_p, _c_int, _c_void_p, _c_size_t, _ErrorPtr)

#: Every function this package binds: name -> (return type, argument types).
#: Strings the caller must free come back as c_void_p (the pointer is needed to free them).
SIGNATURES: Dict[str, Tuple[Any, Sequence[Any]]] = {
    "membrane_version": (_c_char_p, []),
    "membrane_version_num": (_c_uint, []),
    "membrane_strerror": (_c_char_p, [_c_int]),
    "membrane_client_new": (_c_int, [ctypes.POINTER(_ClientPtr), _c_char_p, _c_char_p, _ErrorPtr]),
    "membrane_client_free": (None, [_ClientPtr]),
    "membrane_client_set_long": (_c_int, [_ClientPtr, _c_int, _c_long]),
    "membrane_client_set_string": (_c_int, [_ClientPtr, _c_int, _c_char_p]),
    "membrane_client_invalidate": (_c_int, [_ClientPtr, _c_char_p]),
    "membrane_client_cancel": (_c_int, [_ClientPtr]),
    "membrane_client_set_log": (_c_int, [_ClientPtr, _LogCallback, _c_void_p]),
    "membrane_client_set_token": (_c_int, [_ClientPtr, _c_char_p, _ErrorPtr]),
    "membrane_client_set_token_provider": (_c_int, [_ClientPtr, _TokenProvider, _c_void_p, _ErrorPtr]),
    "membrane_client_use_workspace_secret": (_c_int, [_ClientPtr, _c_char_p, _c_char_p, _c_char_p, _c_uint,
                                                      _ErrorPtr]),
    "membrane_client_use_private_key": (_c_int, [_ClientPtr, _c_char_p, _c_char_p, _c_char_p, _c_uint,
                                                 _ErrorPtr]),
    "membrane_integration_get": (_c_int, [_ClientPtr, _c_char_p, _c_uint, ctypes.POINTER(_JSONPtr),
                                          _ErrorPtr]),
    "membrane_integration_get_text": (_c_int, [_ClientPtr, _c_char_p, _c_uint,
                                               ctypes.POINTER(_c_void_p), ctypes.POINTER(_c_size_t),
                                               _ErrorPtr]),
    "membrane_integrations_get_many": (_c_int, [_ClientPtr, ctypes.POINTER(_c_char_p), _c_size_t,
                                                _c_uint, ctypes.POINTER(_JSONPtr), _ErrorPtr]),
    "membrane_integrations_list": (_c_int, [_ClientPtr, _JSONPtr, ctypes.POINTER(_JSONPtr),
                                            _ErrorPtr]),
    "membrane_integrations_list_all": (_c_int, [_ClientPtr, _JSONPtr, ctypes.POINTER(_JSONPtr),
                                                _ErrorPtr]),
    "membrane_integration_get_async": (_c_int, [_ClientPtr, _c_char_p, _c_uint, _IntegrationCallback,
                                                _c_void_p, ctypes.POINTER(_c_ulonglong), _ErrorPtr]),
    "membrane_integration_get_text_async": (_c_int, [_ClientPtr, _c_char_p, _c_uint, _TextCallback,
                                                     _c_void_p, ctypes.POINTER(_c_ulonglong), _ErrorPtr]),
    "membrane_integrations_get_many_async": (_c_int, [_ClientPtr, ctypes.POINTER(_c_char_p), _c_size_t,
                                                      _c_uint, _IntegrationCallback, _c_void_p,
                                                      ctypes.POINTER(_c_ulonglong), _ErrorPtr]),
    "membrane_integrations_list_async": (_c_int, [_ClientPtr, _JSONPtr, _IntegrationCallback, _c_void_p,
                                                  ctypes.POINTER(_c_ulonglong), _ErrorPtr]),
    "membrane_request_cancel": (_c_int, [_ClientPtr, _c_ulonglong]),
    "membrane_client_completion_fd": (_c_int, [_ClientPtr]),
    "membrane_client_dispatch": (_c_int, [_ClientPtr, _c_int]),
    "membrane_json_release": (None, [_JSONPtr]),
    "membrane_json_dumps": (_c_void_p, [_JSONPtr, _c_size_t]),
    "membrane_free": (None, [_c_void_p]),
}

# ---------------------------------------------------------------------------
# Finding the library
# ---------------------------------------------------------------------------

_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None
_jansson: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()

#: The SONAME of the major version this package binds.
_SONAME = f"libmembrane.so.{REQUIRED_MAJOR}"

_PACKAGE_DIR = Path(__file__).resolve().parent


def _bundled_library() -> Optional[Path]:
    """The copy a wheel built by ``make wheel`` carries in ``membrane/_lib``."""
    bundled = _PACKAGE_DIR / "_lib" / _SONAME
    return bundled if bundled.is_file() else None


def _source_checkout_library() -> Optional[Path]:
    """The build folder's library when this file sits in a libmembrane checkout.

    ``<repo>/python/membrane/_native.py``: an installed copy (in
    site-packages) has no ``Include/membrane.h`` two folders up.
    """
    repo = _PACKAGE_DIR.parents[1]
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
    for local in (_bundled_library(), _source_checkout_library()):
        if local is not None:
            found.append(str(local))
    found.append(_SONAME)  # LD_LIBRARY_PATH, then the ldconfig cache
    return found


#: What the system must provide, by the start of the file name the loader looks for:
#: (what it is, how to install it).
_SYSTEM_DEPENDENCIES = {
    "libjansson.so": ("jansson, the JSON library",
                      "apt-get install libjansson{major} (Debian, Ubuntu), dnf install jansson "
                      "(Fedora, RHEL), apk add jansson (Alpine)"),
    "libcurl.so": ("libcurl, the HTTP client library",
                   "apt-get install libcurl{major} (libcurl4t64 on Debian 13 and Ubuntu 24.04 "
                   "and later), dnf install libcurl (Fedora, RHEL), apk add libcurl (Alpine)"),
}

_CANNOT_OPEN = re.compile(r"^(?P<name>[^:\s]+): cannot open shared object file")


def missing_dependency(candidate: str, error: str) -> Optional[str]:
    """The message for a library that could not load because a library it needs is
    missing (the loader's `error` names it), or None when `error` is about something else.
    """
    match = _CANNOT_OPEN.match(error)
    if match is None:
        return None
    name = match["name"]
    if os.path.basename(name) == os.path.basename(candidate):
        return None  # the candidate itself is not there
    for prefix, (what, how) in _SYSTEM_DEPENDENCIES.items():
        if name.startswith(prefix):
            major = name[len(prefix):].lstrip(".").split(".")[0] or "4"
            return (f"cannot load libmembrane ({candidate}): it needs {name} ({what}), which "
                    f"this system does not have. Install it: {how.format(major=major)}.")
    return (f"cannot load libmembrane ({candidate}): it needs {name}, which this system does "
            f"not have. Install the package that provides {name}.")


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


# ---------------------------------------------------------------------------
# The version gate
# ---------------------------------------------------------------------------


def _format_version_num(num: int) -> str:
    return f"{num >> 16}.{(num >> 8) & 0xFF}.{num & 0xFF}"


def _check_version(lib: Any, where: str) -> int:
    """The library's ``membrane_version_num()``; raises LibraryVersionError if it does not fit.

    `lib` is anything with the library's functions as attributes (a CDLL, or
    a stand-in in tests); `where` names it in the message.
    """
    from .errors import LibraryVersionError

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
    """Give every bound function its signature (AttributeError if one is missing)."""
    for name, (restype, argtypes) in SIGNATURES.items():
        function = getattr(lib, name)
        function.argtypes = list(argtypes)
        function.restype = restype


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def load_library() -> ctypes.CDLL:
    """Load libmembrane (once), check its version and declare its functions.

    Raises:
        LibraryVersionError: the first library found is of another major
            version, or older than this package needs.
        OSError: no candidate could be loaded (the message lists each), or
            the first one found needs a system library that is missing (the
            message names it and how to install it).
    """
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    from .errors import LibraryVersionError

    with _lib_lock:
        if _lib is None:
            errors = []
            for candidate in _candidates():
                try:
                    lib = ctypes.CDLL(candidate)
                except OSError as e:
                    missing = missing_dependency(candidate, str(e))
                    if missing is not None:
                        # Every other copy would need it as well.
                        raise OSError(missing) from None
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


def jansson_library() -> ctypes.CDLL:
    """The jansson libmembrane uses (already loaded with it: found by its SONAME)."""
    global _jansson
    if _jansson is not None:
        return _jansson
    load_library()
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
    raw: bytes = load_library().membrane_version()
    return raw.decode("utf-8")


def version_num() -> int:
    """The loaded library's version as ``0xMMmmpp``, e.g. ``0x000200`` for 0.2.0."""
    return int(load_library().membrane_version_num())


def library_path() -> str:
    """The file the library was loaded from (loading it if needed)."""
    load_library()
    if _lib_path is None:  # pragma: no cover - set together with _lib
        from .errors import InternalError

        raise InternalError("the library's path is unknown")
    return _lib_path


def strerror(code: int) -> str:
    """A short English description of a return code; ``"unknown error code"`` if unknown."""
    code = int(code)
    if not C_INT_MIN <= code <= C_INT_MAX:
        code = C_INT_MIN  # not representable, so certainly not a code
    raw: bytes = load_library().membrane_strerror(code)
    return raw.decode("utf-8", "replace")
