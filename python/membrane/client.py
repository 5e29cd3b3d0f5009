"""The client: :class:`Client`, the lifetime of its C handle (calls in flight,
close, cancel), its options, and the marshalling of lookups, batches and
listings between Python values and the library.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import threading
import weakref
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Set,
    Union,
)

from . import _native
from ._logging import _LOG_CALLBACK, _SigintDeferred, _take_pending_interrupt, lines_wanted
from ._native import (
    C_LONG_MAX as _C_LONG_MAX,
    C_LONG_MIN as _C_LONG_MIN,
    DEFAULT_MAX_PAGES,
    EPROTOCOL,
    INCLUDE_SECRETS,
    JSON_COMPACT as _JSON_COMPACT,
    JSON_INT_MAX as _JSON_INT_MAX,
    JSON_INT_MIN as _JSON_INT_MIN,
    JSON_REJECT_DUPLICATES as _JSON_REJECT_DUPLICATES,
    OK,
    OPT_CA_FILE,
    OPT_CONNECT_TIMEOUT_MS,
    OPT_MAX_PAGES,
    OPT_MAX_PARALLEL,
    OPT_MAX_RESPONSE_BYTES,
    OPT_MAX_RETRIES,
    OPT_RETRY_BASE_MS,
    OPT_TIMEOUT_MS,
    OPT_TOKEN_LIFETIME_S,
    OPT_USER_AGENT,
    TOKEN_ADMIN,
    TOKEN_HS256,
    _CError,
    _ClientPtr,
    _JSONError,
    _JSONPtr,
    _LogCallback,
    _TokenProvider,
    jansson_library as _jansson_library,
    load_library as _load,
)
from .errors import (
    EAUTH,
    ClientClosed,
    InternalError,
    InvalidArgument,
    MembraneError,
    NotAuthenticated,
    ProtocolError,
    _error_from_entry,
    _raise_from,
    _text,
)

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

#: Token-provider callbacks handed to the library; never freed (see set_token_provider).
_PROVIDERS: List[Any] = []

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


def _free_client(ptr: Any) -> None:
    lib = _native._lib
    if ptr and lib is not None:
        lib.membrane_client_free(ptr)


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
        token_provider: a callable returning a token (``str``), asked before
            the first request, before the token expires and once after a
            401 (see :meth:`set_token_provider`); instead of ``token``.
        workspace_key, workspace_secret, tenant_key: sign the client's own
            tokens with the workspace secret (see :meth:`use_workspace_secret`);
            without ``tenant_key``, workspace management (admin) tokens.
        token_lifetime_s: how long the tokens the client signs live (default 7200).

    With neither ``token``, ``token_provider`` nor a workspace secret, the
    library reads ``MEMBRANE_TOKEN``, then ``MEMBRANE_WORKSPACE_KEY`` and
    ``MEMBRANE_WORKSPACE_SECRET`` (with ``MEMBRANE_TENANT_KEY``).

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
        token_provider: Optional[Callable[[], StrOrBytes]] = None,
        workspace_key: Optional[StrOrBytes] = None,
        workspace_secret: Optional[StrOrBytes] = None,
        tenant_key: Optional[StrOrBytes] = None,
        token_lifetime_s: Optional[int] = None,
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
        self._finalizer = weakref.finalize(self, self._handle.close, False)
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
            if token_provider is not None:
                self.set_token_provider(token_provider)
            elif workspace_secret is not None:
                if workspace_key is None:
                    raise InvalidArgument("workspace_secret needs workspace_key")
                self.use_workspace_secret(workspace_key, workspace_secret, tenant_key)
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

    # -- tokens ---------------------------------------------------------------

    def _token_call(self, function: Any, *arguments: Any) -> None:
        err = _CError()
        ptr = self._handle.enter()
        try:
            rc = function(ptr, *arguments, ctypes.byref(err))
        finally:
            self._handle.leave()
        if rc != OK:
            _raise_from(rc, err)

    def set_token(self, token: StrOrBytes) -> None:
        """Replace the token; lookups in flight keep the one they started with."""
        self._token_call(_load().membrane_client_set_token, _c_string(token, "token"))

    def set_token_provider(self, provider: Callable[[], StrOrBytes]) -> None:
        """Ask ``provider()`` for tokens: before the first request, when the token
        is about to expire (read from its JWT ``exp``), and once after a 401.

        It runs on a thread the library starts, never twice at once for this
        client; lookups waiting for it longer than their timeout raise
        :class:`Timeout`. An exception it raises fails the lookups waiting for
        it with :class:`NotAuthenticated`, the exception chained as the cause.
        """
        if not callable(provider):
            raise InvalidArgument("token_provider must be callable")

        def call(payload: Any, buf: int, size: int) -> int:
            try:
                token = provider()
                raw = token.encode("utf-8") if isinstance(token, str) else bytes(token)
                if b"\0" in raw or len(raw) >= size:
                    raise InvalidArgument("the token provider returned a token with NUL or over 16 KiB")
            except BaseException as e:  # noqa: BLE001 - any failure becomes the lookups' cause
                self._token_error = e
                return 1
            self._token_error = None
            ctypes.memmove(buf, raw + b"\0", len(raw) + 1)
            return 0

        callback = _TokenProvider(call)
        # Kept for the life of the process: the library may be inside a call
        # of it on its own thread when this client is closed.
        _PROVIDERS.append(callback)
        self._provider_callback = callback
        self._token_call(_load().membrane_client_set_token_provider, callback, None)

    def use_workspace_secret(self, workspace_key: StrOrBytes, workspace_secret: StrOrBytes,
                             tenant_key: Optional[StrOrBytes] = None, *, hs256: bool = False) -> None:
        """Sign the client's own tokens with the workspace secret (HS512, or HS256):
        for ``tenant_key``, or workspace management (admin) tokens without one.
        They live ``token_lifetime_s`` (default 7200 s) and are renewed before
        they expire. The library keeps its own copy of the secret (wiped when
        replaced); this object keeps none."""
        flags = (TOKEN_HS256 if hs256 else 0) | (TOKEN_ADMIN if tenant_key is None else 0)
        self._token_call(_load().membrane_client_use_workspace_secret,
                         _c_string(workspace_key, "workspace_key"),
                         _c_string(workspace_secret, "workspace_secret"),
                         None if tenant_key is None else _c_string(tenant_key, "tenant_key"), flags)

    def use_private_key(self, workspace_key: StrOrBytes, pem_file: PathArg,
                        tenant_key: Optional[StrOrBytes] = None) -> None:
        """Sign the client's own tokens with a private key (PEM file; ES256 for EC
        P-256, RS256 for RSA), for workspaces that uploaded the public key."""
        self._token_call(_load().membrane_client_use_private_key,
                         _c_string(workspace_key, "workspace_key"),
                         _c_string(os.fsencode(pem_file), "pem_file"),
                         None if tenant_key is None else _c_string(tenant_key, "tenant_key"),
                         TOKEN_ADMIN if tenant_key is None else 0)

    def _raise(self, rc: int, err: _CError) -> None:
        """Raise a call's error; a NotAuthenticated that a token provider's
        exception caused carries it as ``__cause__``."""
        cause = self._token_error if rc == EAUTH else None
        if cause is None:
            _raise_from(rc, err)
        try:
            _raise_from(rc, err)
        except NotAuthenticated as e:
            raise e from cause

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
