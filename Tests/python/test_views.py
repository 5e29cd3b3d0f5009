"""membrane.views: typed views over the dicts the client returns."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import membrane
from membrane.views import (
    AuthType,
    ClientActionType,
    ClientActionView,
    ConnectionView,
    IntegrationView,
    State,
    views,
)


def test_views_are_the_dicts(client: membrane.Client) -> None:
    raw = client.integration("hubspot")
    view = IntegrationView(raw)
    assert isinstance(view, dict) and view == raw
    assert json.loads(json.dumps(view)) == raw
    assert view.name == raw["name"] and view.id == raw["id"] and view.key == "hubspot"


def test_states_of_every_fixture(client: membrane.Client, fixtures: List[Dict[str, Any]]) -> None:
    for item in views(client.list_integrations(includeArchived=True)):
        assert isinstance(item, IntegrationView)
        raw_state = item.get("state")
        if raw_state is None:
            assert item.state is None
        else:
            assert isinstance(item.state, State) and item.state == raw_state
    known = {"BUILDING", "CLIENT_ACTION_REQUIRED", "CONFIGURATION_ERROR", "SETUP_FAILED", "READY",
             "DISCONNECTING"}
    assert State.KNOWN == known
    assert State.READY == "READY" and State.READY.is_known


def test_an_unknown_state_is_kept() -> None:
    view = IntegrationView({"name": "x", "state": "SETTING_UP", "authType": "saml"})
    assert view.state == "SETTING_UP" and not view.state.is_known  # type: ignore[union-attr]
    assert repr(view.state) == "State('SETTING_UP')"
    assert view.auth_type == "saml" and not view.auth_type.is_known  # type: ignore[union-attr]


def test_client_action(client: membrane.Client) -> None:
    salesforce = IntegrationView(client.integration("salesforce"))
    assert salesforce.state == State.CLIENT_ACTION_REQUIRED
    connection = salesforce.connection
    assert isinstance(connection, ConnectionView)
    assert connection.state == State.CLIENT_ACTION_REQUIRED and connection.connected is False
    action = connection.client_action
    assert isinstance(action, ClientActionView)
    assert action.type == ClientActionType.CONNECT and action.type.is_known  # type: ignore[union-attr]
    assert action.description and action.ui_url and action.ui_url.startswith("https://")
    assert salesforce.client_action == action
    assert salesforce.is_connected is False
    assert salesforce.auth_type == AuthType.OAUTH2


def test_connected_and_missing_parameters(client: membrane.Client) -> None:
    hubspot, notion, search = (IntegrationView(r) for r in client.integrations(
        ["hubspot", "notion", "~search.membrane--getmembrane_com"]))
    assert hubspot.is_connected is True and hubspot.connection is not None
    assert hubspot.client_action is None
    assert notion.has_missing_parameters is True and hubspot.has_missing_parameters is False
    assert search.connection is None and search.is_connected is False
    assert search.auth_type == AuthType.MEMBRANE_TOKEN


def test_missing_and_null_fields() -> None:
    view = IntegrationView({"name": "bare", "state": None, "connection": None, "parameters": None})
    assert view.state is None and view.connection is None and view.client_action is None
    assert view.parameters == {} and view.errors == []
    assert view.is_connected is False and view.has_missing_parameters is False
    assert view.is_deactivated is False and view.is_archived is False
    assert IntegrationView({"name": "n", "isConnected": True}).is_connected is True


def test_errors() -> None:
    view = IntegrationView({"name": "n", "errors": [{"type": "t", "key": "k", "message": "m"}, 3]})
    [error] = view.errors
    assert (error.type, error.key, error.message, error.data) == ("t", "k", "m", None)


def test_views_leave_batch_errors(client: membrane.Client) -> None:
    wrapped = views(client.integrations(["hubspot", "no-such-integration"]))
    assert isinstance(wrapped[0], IntegrationView)
    assert isinstance(wrapped[1], membrane.NotFound)
