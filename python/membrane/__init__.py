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
2. the copy bundled in the package (``membrane/_lib/libmembrane.so.0``, in a
   wheel built by ``make wheel``);
3. in a source checkout of libmembrane, its build folder
   ``.build/release/libmembrane.so``;
4. the system's ``libmembrane.so.0``, found by the dynamic loader
   (``LD_LIBRARY_PATH``, then the ``ldconfig`` cache).

The library needs jansson and libcurl from the system; when one is missing,
the :class:`OSError` names it and the package that provides it.

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

asyncio: :class:`AsyncClient` (module :mod:`membrane.aio`) has the same
constructor, options and lookups as coroutines (``await
client.integration("hubspot")``, ``async for item in
client.list_integrations()``), driven by the event loop through the library's
completion fd: no thread per call. Cancelling the awaiting task cancels the
request.

Sharing and caching: lookups of the same selector made at the same moment
(from threads or tasks) share one request (``share_requests``, default on);
each caller gets its own dict. With ``cache_ttl_ms`` (default 0: off),
successful lookups are answered from memory for that long
(``cache_max_entries``, :meth:`Client.invalidate`); never with
``include_secrets``, never failures; a change of token empties the cache.

Threads: one :class:`Client` may be shared by many threads; the GIL is
released while the library works. Set options before sharing a client.
:meth:`Client.close` waits for calls in flight to finish before freeing;
:meth:`Client.cancel`, from any thread, makes them raise :class:`Canceled`.

Logging: every client sends the library's lines (one per request attempt,
one per retry; never the token) to the :mod:`logging` logger ``"membrane"``:
answers at INFO, failures, 5xx answers and retries at WARNING.

The package's modules, by job: ``_native`` (finding and loading the library,
the version gate, the C signatures, the header's constants), ``errors``,
``_logging``, ``client``, ``aio`` (asyncio), ``views``; this one is the public front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import views
from ._logging import logger
from ._native import (
    CODES,
    DEFAULT_MAX_PAGES,
    EACCESS,
    EAUTH,
    EBADREQUEST,
    ECANCELED,
    EINTERNAL,
    EINVAL,
    ENETWORK,
    ENOTFOUND,
    EPROTOCOL,
    ERATELIMIT,
    ESERVER,
    ETIMEOUT,
    ETLS,
    INCLUDE_SECRETS,
    LOG_INFO,
    LOG_WARNING,
    MINIMUM_VERSION_NUM,
    OK,
    OPT_CA_FILE,
    OPT_CACHE_MAX_ENTRIES,
    OPT_CACHE_TTL_MS,
    OPT_CONNECT_TIMEOUT_MS,
    OPT_MAX_PAGES,
    OPT_MAX_PARALLEL,
    OPT_MAX_RESPONSE_BYTES,
    OPT_MAX_RETRIES,
    OPT_RETRY_BASE_MS,
    OPT_SHARE_REQUESTS,
    OPT_TIMEOUT_MS,
    OPT_USER_AGENT,
    REQUIRED_MAJOR,
    __version__,
    library_path,
    load_library,
    strerror,
    version,
    version_num,
)
from ._marshal import BatchResult, PathArg, QueryValue, StrOrBytes
from .client import Client
from .errors import (
    AccessDenied,
    BadRequest,
    Canceled,
    ClientClosed,
    InternalError,
    InvalidArgument,
    LibraryVersionError,
    MembraneError,
    NetworkError,
    NotAuthenticated,
    NotFound,
    ProtocolError,
    RateLimited,
    ServerError,
    TLSError,
    Timeout,
    error_class,
)

if TYPE_CHECKING:
    from .aio import AsyncClient


def __getattr__(name: str) -> Any:
    # AsyncClient is imported on first use: programs that never use it do not import asyncio.
    if name == "AsyncClient":
        from .aio import AsyncClient

        return AsyncClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Client",
    "AsyncClient",
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
