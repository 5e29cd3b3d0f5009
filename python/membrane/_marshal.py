"""Python values to and from what the library takes and gives: C strings,
listing queries (JSON for json_loads), and the elements of a batch."""

from __future__ import annotations

import ctypes
import json
import math
import os
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from ._native import (
    JSON_INT_MAX as _JSON_INT_MAX,
    JSON_INT_MIN as _JSON_INT_MIN,
    JSON_REJECT_DUPLICATES as _JSON_REJECT_DUPLICATES,
    _JSONError,
    jansson_library as _jansson_library,
)
from .errors import InternalError, InvalidArgument, MembraneError, _error_from_entry, _text

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


def _batch_element(element: Any) -> BatchResult:
    """One element of a batch's array: the integration, or its error as an exception."""
    if isinstance(element, dict):
        if "error" in element and "name" not in element:
            return _error_from_entry(element["error"])
        return element
    return InternalError(f"a batch element is not a JSON object: {element!r:.200}")


def _prepare_batch(selectors: Iterable[StrOrBytes], check_open: Callable[[], None],
                   ) -> Tuple[List[Optional[BatchResult]], List[bytes], List[int]]:
    """The checks and encoding of a batch's selectors, before any request.

    Returns the results list (None where a lookup is to be made; the
    :class:`InvalidArgument` for a selector C cannot be given), the selectors
    to send as C strings, and the places of their results. Raises TypeError for
    a lone str or bytes or an element of another type; `check_open()` runs once
    the iterable has been read, before the elements are checked.
    """
    if isinstance(selectors, (str, bytes, bytearray)):
        raise TypeError("selectors must be an iterable of selectors, not a single "
                        + type(selectors).__name__)
    items = list(selectors)
    check_open()
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
    return results, raws, positions


def _finish_batch(results: List[Optional[BatchResult]], positions: List[int], data: Any,
                  name: str) -> List[BatchResult]:
    """The batch's results: the library's array (`data`, parsed) put in the places of
    the selectors it was given."""
    count = len(positions)
    if not isinstance(data, list) or len(data) != count:
        raise InternalError(f"{name} returned {type(data).__name__} "
                            f"of the wrong length for {count} selectors")
    for index, element in zip(positions, data):
        results[index] = _batch_element(element)
    return [result if result is not None else InternalError("no result") for result in results]


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
