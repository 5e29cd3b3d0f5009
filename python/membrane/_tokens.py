"""Where a client's tokens come from (a fixed token, a provider, the
workspace secret or a private key): the token methods of :class:`Client`,
kept apart from the lookups they serve."""

from __future__ import annotations

import ctypes
import os
from typing import Any, Callable, List, Optional

from ._marshal import PathArg, StrOrBytes, _c_string
from ._native import OK, TOKEN_ADMIN, TOKEN_HS256, _CError, _TokenProvider, load_library as _load
from .errors import EAUTH, InvalidArgument, NotAuthenticated, _raise_from

#: Token-provider callbacks handed to the library; never freed (see set_token_provider).
_PROVIDERS: List[Any] = []


class _TokenMethods:
    """Mixed into :class:`Client`; uses its ``_handle`` and ``_token_error``."""

    _handle: Any
    _token_error: Optional[BaseException]
    _provider_callback: Any

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
