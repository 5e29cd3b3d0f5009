"""Light typed views over the dicts the client returns.

The client returns integrations as plain dicts, exactly as the API sent them.
These views are those same dicts (subclasses of :class:`dict`, copied
shallowly when wrapped), with typed properties for the fields most code
reads::

    from membrane.views import IntegrationView, State

    hubspot = IntegrationView(client.integration("hubspot"))
    if hubspot.state == State.CLIENT_ACTION_REQUIRED and hubspot.connection:
        action = hubspot.connection.client_action
        if action:
            print(action.type, action.description, action.ui_url)
    print(hubspot.is_connected, hubspot.has_missing_parameters)

Enumerations are strings: a value this version does not know (the API adds
states over time) is kept as it came, with ``is_known`` False; it is never
rejected. A property is ``None`` when the API left the field out (or sent
``null``); the library has already checked that fields present have their
documented types.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, FrozenSet, Iterable, List, Optional, Type, TypeVar

__all__ = [
    "Enumeration",
    "State",
    "ClientActionType",
    "AuthType",
    "ErrorDataView",
    "ClientActionView",
    "ConnectionView",
    "IntegrationView",
    "views",
]

_E = TypeVar("_E", bound="Enumeration")


class Enumeration(str):
    """A string from a set the API may grow: known values are class attributes.

    Compares equal to the plain string (``State.READY == "READY"``); an
    unknown value is kept as it came, with :attr:`is_known` False.
    """

    KNOWN: ClassVar[FrozenSet[str]] = frozenset()

    @property
    def is_known(self) -> bool:
        """Whether this version of the package knows the value."""
        return str(self) in self.KNOWN

    @classmethod
    def of(cls: Type[_E], value: Any) -> Optional[_E]:
        """``cls(value)`` for a string, None for anything else (absent, null)."""
        return cls(value) if isinstance(value, str) else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class State(Enumeration):
    """An integration's or connection's lifecycle state."""

    BUILDING: ClassVar["State"]
    CLIENT_ACTION_REQUIRED: ClassVar["State"]
    CONFIGURATION_ERROR: ClassVar["State"]
    SETUP_FAILED: ClassVar["State"]
    READY: ClassVar["State"]
    DISCONNECTING: ClassVar["State"]


class ClientActionType(Enumeration):
    """What a connection in ``CLIENT_ACTION_REQUIRED`` needs from the user."""

    CONNECT: ClassVar["ClientActionType"]  # authenticate or re-authenticate
    PROVIDE_INPUT: ClassVar["ClientActionType"]  # more information is needed


class AuthType(Enumeration):
    """How an integration authenticates."""

    INTEGRATION_APP_TOKEN: ClassVar["AuthType"]  # the legacy name of MEMBRANE_TOKEN
    MEMBRANE_TOKEN: ClassVar["AuthType"]
    OAUTH2: ClassVar["AuthType"]
    OAUTH1: ClassVar["AuthType"]
    CLIENT_CREDENTIALS: ClassVar["AuthType"]
    PROXY: ClassVar["AuthType"]


def _define(cls: Type[Enumeration], values: Dict[str, str]) -> None:
    for name, value in values.items():
        setattr(cls, name, cls(value))
    cls.KNOWN = frozenset(values.values())


_define(State, {
    "BUILDING": "BUILDING",
    "CLIENT_ACTION_REQUIRED": "CLIENT_ACTION_REQUIRED",
    "CONFIGURATION_ERROR": "CONFIGURATION_ERROR",
    "SETUP_FAILED": "SETUP_FAILED",
    "READY": "READY",
    "DISCONNECTING": "DISCONNECTING",
})
_define(ClientActionType, {"CONNECT": "connect", "PROVIDE_INPUT": "provide-input"})
_define(AuthType, {
    "INTEGRATION_APP_TOKEN": "integration-app-token",
    "MEMBRANE_TOKEN": "membrane-token",
    "OAUTH2": "oauth2",
    "OAUTH1": "oauth1",
    "CLIENT_CREDENTIALS": "client-credentials",
    "PROXY": "proxy",
})


class _View(Dict[str, Any]):
    """A dict with typed getters; the data stays the API's, unknown fields included."""

    def _str(self, name: str) -> Optional[str]:
        value = self.get(name)
        return value if isinstance(value, str) else None

    def _bool(self, name: str) -> Optional[bool]:
        value = self.get(name)
        return value if isinstance(value, bool) else None

    def _int(self, name: str) -> Optional[int]:
        value = self.get(name)
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return None

    def _object(self, name: str) -> Optional[Dict[str, Any]]:
        value = self.get(name)
        return value if isinstance(value, dict) else None

    def _errors(self, name: str) -> List["ErrorDataView"]:
        value = self.get(name)
        if not isinstance(value, list):
            return []
        return [ErrorDataView(item) for item in value if isinstance(item, dict)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"


class ErrorDataView(_View):
    """An API error object (``errors`` of an integration or connection)."""

    @property
    def type(self) -> Optional[str]:
        return self._str("type")

    @property
    def key(self) -> Optional[str]:
        return self._str("key")

    @property
    def message(self) -> Optional[str]:
        return self._str("message")

    @property
    def data(self) -> Optional[Dict[str, Any]]:
        return self._object("data")


class ClientActionView(_View):
    """What the user must do to move a connection out of ``CLIENT_ACTION_REQUIRED``."""

    @property
    def type(self) -> Optional[ClientActionType]:
        return ClientActionType.of(self.get("type"))

    @property
    def description(self) -> Optional[str]:
        return self._str("description")

    @property
    def ui_url(self) -> Optional[str]:
        """A page where the user can act (``uiUrl``)."""
        return self._str("uiUrl")

    @property
    def agent_instructions(self) -> Optional[str]:
        return self._str("agentInstructions")


class ConnectionView(_View):
    """A tenant's connection to an integration (``connection``)."""

    @property
    def id(self) -> Optional[str]:
        return self._str("id")

    @property
    def name(self) -> Optional[str]:
        return self._str("name")

    @property
    def state(self) -> Optional[State]:
        return State.of(self.get("state"))

    @property
    def connected(self) -> Optional[bool]:
        return self._bool("connected")

    @property
    def is_defunct(self) -> Optional[bool]:
        return self._bool("isDefunct")

    @property
    def is_test(self) -> Optional[bool]:
        return self._bool("isTest")

    @property
    def auth_option_key(self) -> Optional[str]:
        return self._str("authOptionKey")

    @property
    def errors(self) -> List[ErrorDataView]:
        return self._errors("errors")

    @property
    def client_action(self) -> Optional[ClientActionView]:
        """Present exactly when the state is ``CLIENT_ACTION_REQUIRED``."""
        value = self._object("clientAction")
        return None if value is None else ClientActionView(value)


class IntegrationView(_View):
    """An integration, as ``client.integration()`` returns it."""

    @property
    def id(self) -> Optional[str]:
        return self._str("id")

    @property
    def name(self) -> str:
        """The display name; always present in what the library hands out."""
        return self._str("name") or ""

    @property
    def key(self) -> Optional[str]:
        return self._str("key")

    @property
    def uuid(self) -> Optional[str]:
        return self._str("uuid")

    @property
    def state(self) -> Optional[State]:
        return State.of(self.get("state"))

    @property
    def auth_type(self) -> Optional[AuthType]:
        return AuthType.of(self.get("authType"))

    @property
    def connector_id(self) -> Optional[str]:
        return self._str("connectorId")

    @property
    def is_deactivated(self) -> bool:
        return self._bool("isDeactivated") is True

    @property
    def is_archived(self) -> bool:
        return self._str("archivedAt") is not None

    @property
    def has_missing_parameters(self) -> bool:
        """``hasMissingParameters``; False when the API left it out."""
        return self._bool("hasMissingParameters") is True

    @property
    def parameters(self) -> Dict[str, Any]:
        """The parameters (secrets masked unless the lookup asked for them); {} if none."""
        return self._object("parameters") or {}

    @property
    def errors(self) -> List[ErrorDataView]:
        return self._errors("errors")

    @property
    def connection(self) -> Optional[ConnectionView]:
        """The tenant's connection to this integration, if it has one."""
        value = self._object("connection")
        return None if value is None else ConnectionView(value)

    @property
    def is_connected(self) -> bool:
        """``isConnected`` when the API sends it, else whether the connection says ``connected``."""
        flag = self._bool("isConnected")
        if flag is not None:
            return flag
        connection = self.connection
        return connection is not None and connection.connected is True

    @property
    def client_action(self) -> Optional[ClientActionView]:
        """The connection's client action, if any (a shortcut)."""
        connection = self.connection
        return None if connection is None else connection.client_action


def views(items: Iterable[Any]) -> List[Any]:
    """Wrap each dict of a list (e.g. a batch's or a listing's) in an
    :class:`IntegrationView`; other elements (a batch's errors) stay as they are."""
    return [IntegrationView(item) if isinstance(item, dict) else item for item in items]
