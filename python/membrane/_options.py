"""The options of :class:`Client` (timeouts, retries, limits, user agent, CA
file, token lifetime, request sharing and the cache): one setter each, over
membrane_client_set_long and membrane_client_set_string; and
:meth:`invalidate`, over membrane_client_invalidate."""

from __future__ import annotations

import os
from typing import Any, Optional

from ._marshal import PathArg, StrOrBytes, _c_string
from ._native import (
    C_LONG_MAX as _C_LONG_MAX,
    C_LONG_MIN as _C_LONG_MIN,
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
    OPT_TOKEN_LIFETIME_S,
    OPT_USER_AGENT,
    _CError,
    load_library as _load,
)
from .errors import InvalidArgument, _raise_from


class _OptionMethods:
    """Mixed into :class:`Client`; uses its ``_handle`` and keeps ``_max_pages``."""

    _handle: Any
    _max_pages: int

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

    def set_token_lifetime(self, seconds: int) -> None:
        """How long the tokens the client signs itself live, in seconds (1 to 604800)."""
        self._set_long(OPT_TOKEN_LIFETIME_S, seconds, "token_lifetime_s")

    def set_max_pages(self, count: int) -> None:
        """How many pages a listing reads before it gives up with :class:`ProtocolError` (>= 1)."""
        self._set_long(OPT_MAX_PAGES, count, "max_pages")
        self._max_pages = count

    def set_share_requests(self, share: bool) -> None:
        """Whether single lookups of the same selector (and ``include_secrets``) made at
        the same moment, from any threads or tasks, share one request (default True).

        Each caller still gets its own result (a dict of its own) or its own
        exception, and keeps its own timeout and cancellation. Batches and
        listings never share.
        """
        if not isinstance(share, bool):
            raise TypeError(f"share_requests must be a bool, not {type(share).__name__}")
        self._set_long(OPT_SHARE_REQUESTS, int(share), "share_requests")

    def set_cache_ttl(self, ms: int) -> None:
        """How long successful single lookups (:meth:`integration`) are kept and
        answered from memory, in milliseconds (0 to 86400000; default 0: no cache).

        Lookups with ``include_secrets``, and failures, are never kept; batches
        and listings neither use nor fill the cache. Answers are kept by the
        selector as given (a key and an id are two entries); every answer from
        the cache is a new dict. Setting 0 empties the cache; so does any
        change of token (:meth:`set_token`, a provider, a workspace secret or
        private key). :meth:`invalidate` drops entries by hand.
        """
        self._set_long(OPT_CACHE_TTL_MS, ms, "cache_ttl_ms")

    def set_cache_max_entries(self, count: int) -> None:
        """The most answers the cache keeps (1 to 1000000; default 1024); the least
        recently used go first."""
        self._set_long(OPT_CACHE_MAX_ENTRIES, count, "cache_max_entries")

    def invalidate(self, selector: Optional[StrOrBytes] = None) -> None:
        """Drop the cached answer for ``selector``, or every cached answer when it is
        ``None`` (see :meth:`set_cache_ttl`). A selector not in the cache is not
        an error. Quick: it never waits for the network (on
        :class:`AsyncClient` too, where it is a plain method, not a coroutine).

        Raises:
            TypeError: ``selector`` is neither str, bytes nor None.
            InvalidArgument: a selector the library refuses (a NUL, not UTF-8, too long).
        """
        raw = None if selector is None else _c_string(selector, "selector")
        ptr = self._handle.enter()
        try:
            rc = _load().membrane_client_invalidate(ptr, raw)
        finally:
            self._handle.leave()
        if rc != OK:
            err = _CError()
            err.message = b"invalid selector" if raw is not None else b"membrane_client_invalidate failed"
            _raise_from(rc, err)

    def set_user_agent(self, user_agent: StrOrBytes) -> None:
        """The User-Agent header (non-empty, no control characters)."""
        self._set_string(OPT_USER_AGENT, _c_string(user_agent, "user_agent"), "user_agent")

    def set_ca_file(self, path: Optional[PathArg]) -> None:
        """A PEM bundle of CA certificates to trust instead of the system's; None restores them."""
        value = None if path is None else _c_string(os.fsencode(path), "ca_file")
        self._set_string(OPT_CA_FILE, value, "ca_file")
