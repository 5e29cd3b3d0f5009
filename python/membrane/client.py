"""The client: :class:`Client`, its options, and its lookups, batches and
listings. The handle's lifetime is in _handle, the marshalling of values in
_marshal, the token sources in _tokens.
"""

from __future__ import annotations

import ctypes
import json
import weakref
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
)

from ._logging import _LOG_CALLBACK, _SigintDeferred, _take_pending_interrupt, lines_wanted
from ._native import (
    DEFAULT_MAX_PAGES,
    EPROTOCOL,
    INCLUDE_SECRETS,
    JSON_COMPACT as _JSON_COMPACT,
    OK,
    _CError,
    _ClientPtr,
    _JSONPtr,
    _LogCallback,
    load_library as _load,
)
from .errors import (
    ClientClosed,
    InternalError,
    InvalidArgument,
    ProtocolError,
    _raise_from,
)
from ._handle import _Handle
from ._marshal import (
    BatchResult,
    PathArg,
    StrOrBytes,
    _c_string,
    _finish_batch,
    _prepare_batch,
)
from ._listing import _ListingMethods
from ._options import _OptionMethods
from ._tokens import _TokenMethods


class _Scratch:
    """The out-parameters of one lookup, made once and reused: a lookup takes one from
    _SCRATCH and gives it back, so threads (and a logging handler that looks
    something up in the middle of a lookup) never share one."""

    __slots__ = ("err", "err_ref", "text", "text_ref", "length", "length_ref")

    def __init__(self) -> None:
        self.err = _CError()
        self.err_ref = ctypes.byref(self.err)
        self.text = ctypes.c_void_p()
        self.text_ref = ctypes.byref(self.text)
        self.length = ctypes.c_size_t()
        self.length_ref = ctypes.byref(self.length)


_SCRATCH: List[_Scratch] = []

_NO_CALLBACK = _LogCallback()  # NULL: membrane_client_set_log turns logging off

#: Selectors (str) already encoded and checked: most programs look the same few up again.
_SELECTORS: Dict[str, bytes] = {}
_SELECTORS_KEPT = 1024

# The library's functions for the lookup path, bound once the library is loaded
# (a Client exists only then): no per-call attribute lookups on the CDLL.
_integration_get_text: Any = None
_free: Any = None

# The body's bytes, decoded where the library left them: one copy, not two.
_decode_utf8 = ctypes.pythonapi.PyUnicode_DecodeUTF8
_decode_utf8.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_char_p]
_decode_utf8.restype = ctypes.py_object


_scan_once = json.JSONDecoder().scan_once  # json.loads's decoder, without its wrappers


def _parse(text: str) -> Any:
    """json.loads(text) for a body the library checked: the decoder's scanner called
    directly (json.loads adds two whitespace matches and a call, about a tenth of its
    time here); any text it does not take whole goes to json.loads."""
    try:
        value, end = _scan_once(text, 0)
    except (StopIteration, ValueError):  # leading whitespace, or not JSON after all
        return json.loads(text)
    if end != len(text):
        return json.loads(text)  # trailing whitespace (or an error, raised as json.loads would)
    return value


def _bind(lib: ctypes.CDLL) -> None:
    global _integration_get_text, _free
    if _free is None:
        _integration_get_text = lib.membrane_integration_get_text
        _free = lib.membrane_free


class _ClientBase(_TokenMethods, _OptionMethods):
    """What :class:`Client` and :class:`membrane.AsyncClient` share: the constructor
    (a C client, its options and token source), :attr:`closed`, :meth:`cancel`
    and the forwarding of log lines. Each adds its lookups and its close()."""

    _handle: _Handle
    _finalizer: Any

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
        token_provider: Optional[Callable[[], StrOrBytes]] = None,
        workspace_key: Optional[StrOrBytes] = None,
        workspace_secret: Optional[StrOrBytes] = None,
        tenant_key: Optional[StrOrBytes] = None,
        token_lifetime_s: Optional[int] = None,
        share_requests: Optional[bool] = None,
        cache_ttl_ms: Optional[int] = None,
        cache_max_entries: Optional[int] = None,
    ) -> None:
        lib = _load()
        url_c = None if api_url is None else _c_string(api_url, "api_url")
        token_c = None if token is None else _c_string(token, "token")
        if token_c is None and (token_provider is not None or workspace_secret is not None):
            # Replaced before any request: the provider or the signer below.
            token_c = b"placeholder-never-sent"
        self._token_error: Optional[BaseException] = None
        self._provider_callback: Any = None
        ptr = _ClientPtr()
        err = _CError()
        rc = lib.membrane_client_new(ctypes.byref(ptr), url_c, token_c, ctypes.byref(err))
        del token_c
        if rc != OK:
            _raise_from(rc, err)
        if not ptr:
            raise InternalError("membrane_client_new succeeded without a client")
        _bind(lib)
        self._handle = _Handle(ptr)
        self._finalizer = self._new_finalizer()
        self._max_pages = DEFAULT_MAX_PAGES
        try:
            self._sync_log(lines_wanted())
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
            if token_lifetime_s is not None:
                self.set_token_lifetime(token_lifetime_s)
            if share_requests is not None:
                self.set_share_requests(share_requests)
            if cache_max_entries is not None:
                self.set_cache_max_entries(cache_max_entries)
            if cache_ttl_ms is not None:
                self.set_cache_ttl(cache_ttl_ms)
            if token_provider is not None:
                self.set_token_provider(token_provider)
            elif workspace_secret is not None:
                if workspace_key is None:
                    raise InvalidArgument("workspace_secret needs workspace_key")
                self.use_workspace_secret(workspace_key, workspace_secret, tenant_key)
        except BaseException:
            self.close()
            raise

    def _new_finalizer(self) -> Any:
        """What frees the C client when this object is forgotten without close()."""
        return weakref.finalize(self, self._handle.close, False)

    def close(self) -> None:  # pragma: no cover - each subclass has its own
        raise NotImplementedError

    # -- lifetime -----------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._handle.closed

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

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<membrane.{type(self).__name__} {state} at {id(self):#x}>"

    # -- logging ------------------------------------------------------------

    def _sync_log(self, wanted: bool) -> None:
        """Have the library send its lines to the ``membrane`` logger (through
        :func:`_forward_log`) when `wanted` (see :func:`lines_wanted`), or not.

        Each call checks, so that a change of the logging configuration takes
        effect at the next call; a call in flight keeps what it started with.
        """
        handle = self._handle
        with handle.log_lock:  # two threads switching at once end as the last one decided
            if handle.log_on is wanted:
                return
            # The callback is module-wide and never freed, so it outlives the
            # client; the handle holds it too, for whoever reads the code.
            handle.log_callback = _LOG_CALLBACK
            ptr = handle.enter()
            try:
                rc = _load().membrane_client_set_log(ptr, _LOG_CALLBACK if wanted else _NO_CALLBACK, None)
            finally:
                handle.leave()
            if rc != OK:
                err = _CError()
                err.message = b"membrane_client_set_log failed"
                _raise_from(rc, err)
            handle.log_on = wanted


class Client(_ClientBase, _ListingMethods):
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
        token_provider: a callable returning a token (``str``), asked before
            the first request, before the token expires and once after a
            401 (see :meth:`set_token_provider`); instead of ``token``.
        workspace_key, workspace_secret, tenant_key: sign the client's own
            tokens with the workspace secret (see :meth:`use_workspace_secret`);
            without ``tenant_key``, workspace management (admin) tokens.
        token_lifetime_s: how long the tokens the client signs live (default 7200).
        share_requests: whether lookups of the same selector (and
            ``include_secrets``) made at the same moment share one request
            (default True); each caller still gets its own dict or exception
            (see :meth:`set_share_requests`).
        cache_ttl_ms: how long successful lookups are kept and answered from
            memory, in milliseconds (0 to 86400000; default 0: no cache). Never
            ``include_secrets`` lookups nor failures; emptied by a change of
            token; :meth:`invalidate` drops entries (see :meth:`set_cache_ttl`).
        cache_max_entries: the most answers the cache keeps, the least
            recently used going first (1 to 1000000; default 1024).

    With neither ``token``, ``token_provider`` nor a workspace secret, the
    library reads ``MEMBRANE_TOKEN``, then ``MEMBRANE_WORKSPACE_KEY`` and
    ``MEMBRANE_WORKSPACE_SECRET`` (with ``MEMBRANE_TENANT_KEY``).

    The client sends the library's log lines to the logger ``"membrane"``.

    Raises:
        NotAuthenticated: no token given or configured.
        InvalidArgument: a malformed URL, a bad token or option value.
    """

    # -- lifetime -----------------------------------------------------------

    def close(self) -> None:
        """Free the client and its connections. Waits for lookups in flight; idempotent."""
        self._handle.close(wait=True)
        self._finalizer.detach()

    def __enter__(self) -> "Client":
        if self.closed:
            raise ClientClosed("the client is closed")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- calls --------------------------------------------------------------

    def _call(self, what: str, call: Callable[[Any, Any, Any], int]) -> Any:
        """Run one C call that hands out a new ``json_t``; return it as Python data.

        `call(client, out, err)` makes the call (the GIL is released during it);
        the client cannot be freed under it.
        """
        lib = _load()
        wanted = lines_wanted()
        if wanted is not self._handle.log_on:
            self._sync_log(wanted)
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
                self._raise(rc, err)
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
        # The body as the API sent it (validated by the library), straight into
        # json.loads: no json_t built for Python to serialise again.
        raw = _SELECTORS.get(selector) if type(selector) is str else None
        if raw is None:
            raw = _c_string(selector, "selector")
            if type(selector) is str and len(_SELECTORS) < _SELECTORS_KEPT:
                _SELECTORS[selector] = raw
        handle = self._handle
        logs = lines_wanted()
        if logs is not handle.log_on:
            self._sync_log(logs)
        try:
            scratch = _SCRATCH.pop()
        except IndexError:
            scratch = _Scratch()
        try:
            scratch.text.value = None
            flags = INCLUDE_SECRETS if include_secrets else 0
            if logs:
                # Python runs in the middle of the call (the log callback): defer Ctrl-C.
                with _SigintDeferred() as sigint:
                    ptr = handle.enter()
                    try:
                        rc = _integration_get_text(ptr, raw, flags, scratch.text_ref,
                                                   scratch.length_ref, scratch.err_ref)
                    finally:
                        handle.leave()
                interrupted = sigint.hit or _take_pending_interrupt()
            else:
                # No Python runs during the call: a Ctrl-C is raised once it returns.
                ptr = handle.enter()
                try:
                    rc = _integration_get_text(ptr, raw, flags, scratch.text_ref,
                                               scratch.length_ref, scratch.err_ref)
                finally:
                    handle.leave()
                # (the callback is not set: no interrupt can be pending from it)
                interrupted = False
            data = None
            if rc == OK:
                address = scratch.text.value
                if address:
                    try:
                        data = _decode_utf8(address, scratch.length.value, None)
                    finally:
                        _free(address)
            if interrupted:
                raise KeyboardInterrupt  # pressed during the call: now that it is over
            if rc != OK:
                self._raise(rc, scratch.err)
            if data is None:
                raise InternalError("membrane_integration_get_text succeeded without a result")
        finally:
            _SCRATCH.append(scratch)
        result = _parse(data)
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
        results, raws, positions = _prepare_batch(selectors, self._check_open)
        if not raws:
            return _finish_batch(results, positions, [], "membrane_integrations_get_many")
        lib = _load()
        flags = INCLUDE_SECRETS if include_secrets else 0
        array = (ctypes.c_char_p * len(raws))(*raws)
        count = len(raws)
        data = self._call(
            "membrane_integrations_get_many",
            lambda ptr, out, err: lib.membrane_integrations_get_many(ptr, array, count, flags, out, err),
        )
        return _finish_batch(results, positions, data, "membrane_integrations_get_many")

    def _check_open(self) -> None:
        if self.closed:
            raise ClientClosed("the client is closed")
