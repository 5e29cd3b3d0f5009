"""The exceptions: one class per return code of the library, each with the fields of
``membrane_error`` (``code``, ``http_status``, ``type``, ``key``, ``message``,
``error_id``; never the token), and :class:`LibraryVersionError` for a library
that does not fit.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

from ._native import (
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
    _CError,
    load_library,
    strerror,
)


class LibraryVersionError(OSError):
    """The libmembrane found is of another major version, or too old for this package."""


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
    message = _text(err.message) or load_library().membrane_strerror(rc).decode("utf-8", "replace")
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
