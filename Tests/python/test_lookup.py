"""Lookups that reach the API: found, not found, secrets, authentication."""

from __future__ import annotations

import pytest

import membrane
from conftest import TOKEN, MockServer, find_fixture, query_of

HUBSPOT_ID = "67c05c5f0872bad5078153b9"
HUBSPOT_UUID = "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c1a01"
CATALOG_KEY = "~search.membrane--getmembrane_com"


@pytest.mark.parametrize(
    "selector",
    [HUBSPOT_ID, HUBSPOT_UUID, "hubspot", CATALOG_KEY, "salesforce", "pipedrive", "zendesk"],
    ids=["hubspot-by-id", "hubspot-by-uuid", "hubspot-by-key", "catalog-key",
         "salesforce", "pipedrive", "zendesk"],
)
def test_found(client: membrane.Client, mock: MockServer, fixtures, selector: str) -> None:
    expected = find_fixture(fixtures, selector)
    got = client.integration(selector)
    assert isinstance(got, dict)
    for field in ("id", "key", "name", "uuid"):
        assert got.get(field) == expected.get(field), field
    assert selector in (got.get("id"), got.get("uuid"), got.get("key"))
    # One request, to the integration route, authorised.
    (request,) = mock.requests()
    assert request["method"] == "GET"
    assert request["authorized"] is True


def test_hubspot_selectors_name_one_integration(client: membrane.Client) -> None:
    by_id = client.integration(HUBSPOT_ID)
    assert by_id["id"] == HUBSPOT_ID
    assert client.integration(HUBSPOT_UUID) == by_id
    assert client.integration("hubspot") == by_id


def test_catalog_integration_is_read_only(client: membrane.Client, fixtures) -> None:
    got = client.integration(CATALOG_KEY)
    assert got["key"] == CATALOG_KEY
    assert got["isReadOnly"] is True
    assert got["isReadOnly"] == find_fixture(fixtures, CATALOG_KEY)["isReadOnly"]


@pytest.mark.parametrize("selector", ["zendesk", "salesforce", "pipedrive", CATALOG_KEY])
def test_whole_body_comes_back_intact(client: membrane.Client, fixtures, selector: str) -> None:
    """Everything the API sent is handed back: unknown fields, unknown enum values, nesting."""
    expected = find_fixture(fixtures, selector)
    assert client.integration(selector, include_secrets=True) == expected


def test_unknown_enum_and_extra_fields(client: membrane.Client, fixtures) -> None:
    expected = find_fixture(fixtures, "zendesk")
    got = client.integration("zendesk")
    assert got["state"] == "SETTING_UP" == expected["state"]
    known = {
        "id", "name", "logoUri", "uuid", "key", "description", "revision", "createdAt",
        "updatedAt", "archivedAt", "meta", "parameters", "spec", "optionsConfig", "state",
        "errors", "isDeactivated", "isReadOnly", "hasMissingParameters", "hasDocumentation",
        "hasOperations", "hasData", "hasEvents", "hasGlobalWebhooks", "hasUdm", "isTest",
        "operationsCount", "dataCollectionsCount", "eventsCount", "connectorId",
        "connectorVersion", "oAuthCallbackUri", "externalAppId", "authType", "connection",
        "appUri", "isConnected",
    }
    extra = set(expected) - known
    assert extra, "the zendesk fixture should carry unknown fields"
    for field in extra:
        assert got[field] == expected[field], field


def test_connection_client_action(client: membrane.Client, fixtures) -> None:
    expected = find_fixture(fixtures, "salesforce")["connection"]
    got = client.integration("salesforce")["connection"]
    assert got["state"] == "CLIENT_ACTION_REQUIRED"
    assert got["clientAction"] == expected["clientAction"]
    assert got["clientAction"]["type"] in ("connect", "provide-input")


def test_nested_caused_by_error(client: membrane.Client, fixtures) -> None:
    expected = find_fixture(fixtures, "pipedrive")
    got = client.integration("pipedrive")
    assert got["state"] == "SETUP_FAILED"
    assert got["errors"] == expected["errors"]
    assert any("causedByError" in e for e in got["errors"])


# -- secrets ------------------------------------------------------------------


def test_include_secrets_reveals_them(client: membrane.Client, mock: MockServer) -> None:
    got = client.integration("hubspot", include_secrets=True)
    assert got["parameters"]["clientId"] == "hubspot-client-id-123"
    assert got["parameters"]["clientSecret"] == "hubspot-client-secret-456"
    assert query_of(mock.last_request()).get("includeSecrets") == ["true"]


def test_secrets_are_masked_by_default(client: membrane.Client, mock: MockServer) -> None:
    got = client.integration("hubspot")
    assert got["parameters"]["clientSecret"] == "********"
    assert "hubspot-client-secret-456" not in str(got)
    assert query_of(mock.last_request()).get("includeSecrets") == ["false"]


def test_include_secrets_false_is_explicit(client: membrane.Client, mock: MockServer) -> None:
    got = client.integration("hubspot", include_secrets=False)
    assert got["parameters"]["clientSecret"] == "********"
    assert query_of(mock.last_request()).get("includeSecrets") == ["false"]


# -- not found ----------------------------------------------------------------


def test_not_found(client: membrane.Client, mock: MockServer) -> None:
    with pytest.raises(membrane.NotFound) as info:
        client.integration("no-such-integration")
    e = info.value
    assert e.code == membrane.ENOTFOUND
    assert e.http_status == 404
    assert e.key == "not_found"
    assert e.type == "bad_request"
    assert e.message and str(e) == e.message
    assert isinstance(e, LookupError) and isinstance(e, membrane.MembraneError)
    assert len(mock.requests()) == 1


# -- authentication -----------------------------------------------------------


def test_wrong_token(mock: MockServer) -> None:
    secret = "wrong-token-5f3a9c1e7d"
    with membrane.Client(mock.url, secret) as c:
        with pytest.raises(membrane.NotAuthenticated) as info:
            c.integration("hubspot")
    e = info.value
    assert e.code == membrane.EAUTH == -2
    assert e.http_status == 401
    assert e.key == "not_authenticated"
    assert e.message
    for text in (str(e), repr(e), e.message, e.type, e.key, e.error_id, *map(str, e.args)):
        assert secret not in text
    assert secret not in repr(vars(e))
    (request,) = mock.requests()
    assert request["authorized"] is False


def test_token_with_control_characters_is_refused(mock: MockServer) -> None:
    with pytest.raises(membrane.InvalidArgument) as info:
        membrane.Client(mock.url, "abc\r\nX-Evil: 1")
    assert "X-Evil" not in str(info.value)
    assert mock.requests() == []


def test_no_token(mock: MockServer, no_env) -> None:
    with pytest.raises(membrane.NotAuthenticated) as info:
        membrane.Client(mock.url, None)
    assert info.value.code == membrane.EAUTH == -2
    assert info.value.http_status == 0
    assert info.value.message
    assert mock.requests() == []


def test_token_from_environment(mock: MockServer, no_env, monkeypatch) -> None:
    monkeypatch.setenv("MEMBRANE_TOKEN", TOKEN)
    with membrane.Client(mock.url) as c:
        assert c.integration("hubspot")["key"] == "hubspot"
    assert mock.last_request()["authorized"] is True


def test_api_url_from_environment(mock: MockServer, no_env, monkeypatch) -> None:
    monkeypatch.setenv("MEMBRANE_API_URL", mock.url)
    with membrane.Client(None, TOKEN) as c:
        assert c.integration("hubspot")["key"] == "hubspot"
    assert len(mock.requests()) == 1


def test_api_url_with_trailing_slash(mock: MockServer) -> None:
    with membrane.Client(mock.url + "/", TOKEN) as c:
        assert c.integration("hubspot")["key"] == "hubspot"
    assert mock.last_request()["path"] == "/integrations/hubspot"


def test_explicit_token_wins_over_environment(mock: MockServer, monkeypatch) -> None:
    monkeypatch.setenv("MEMBRANE_TOKEN", "not-the-token")
    with membrane.Client(mock.url, TOKEN) as c:
        assert c.integration("hubspot")["key"] == "hubspot"
