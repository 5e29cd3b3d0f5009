/*
 * test_lookup.c: lookups that reach the stand-in server: found by id, key,
 * uuid and catalog key; not found; wrong token; secrets on and off; the
 * environment fallbacks; what goes over the wire (one path segment, the
 * headers); and that results outlive their client.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <strings.h>

#include "support.h"

/* Looks up `selector`, expecting success; returns the object (new
   reference) or NULL. */
static json_t *lookup_ok(membrane_client *client, const char *selector, unsigned flags)
{
    json_t *out = POISON_JSON;
    membrane_error err;
    int rc;

    err_poison(&err);
    rc = membrane_integration_get(client, selector, flags, &out, &err);
    CHECK_SUCCESS(rc, err);
    CHECK_MSG(rc == MEMBRANE_OK, "lookup \"%s\": %d %s", selector, rc,
              err_terminated(&err) ? err.message : "");
    if (rc != MEMBRANE_OK) {
        CHECK(out == NULL);
        return NULL;
    }
    CHECK(out != NULL && out != POISON_JSON);
    if (out == NULL || out == POISON_JSON)
        return NULL;
    CHECK(json_is_object(out));
    CHECK_MSG(jstr(out, "name") != NULL && jstr(out, "name")[0] != '\0',
              "lookup \"%s\": no name", selector);
    return out;
}

/* The last request the server recorded (new reference), or NULL. */
static json_t *last_request(void)
{
    json_t *requests = mock_requests();
    json_t *last = NULL;
    size_t n = json_array_size(requests);

    if (n > 0) {
        last = json_array_get(requests, n - 1);
        json_incref(last);
    }
    json_decref(requests);
    return last;
}

static void test_found(membrane_client *client)
{
    json_t *by_id, *by_key, *by_uuid, *by_catalog, *again;
    const char *uuid;

    by_id = lookup_ok(client, HUBSPOT_ID, 0);
    CHECK_STR(jstr(by_id, "id"), HUBSPOT_ID);

    by_key = lookup_ok(client, HUBSPOT_KEY, 0);
    CHECK_STR(jstr(by_key, "key"), HUBSPOT_KEY);
    /* The same integration, whichever selector finds it. */
    if (by_id != NULL && by_key != NULL) {
        CHECK_STR(jstr(by_key, "id"), jstr(by_id, "id"));
        CHECK_STR(jstr(by_key, "name"), jstr(by_id, "name"));
        CHECK_STR(jstr(by_id, "key"), HUBSPOT_KEY);
    }

    by_uuid = lookup_ok(client, FIXTURE_UUID, 0);
    CHECK_STR(jstr(by_uuid, "uuid"), FIXTURE_UUID);
    CHECK(jstr(by_uuid, "id") != NULL);

    by_catalog = lookup_ok(client, CATALOG_KEY, 0);
    CHECK_STR(jstr(by_catalog, "key"), CATALOG_KEY);
    CHECK(jstr(by_catalog, "id") != NULL);
    if (by_catalog != NULL) {
        /* A catalog integration, found again by its own id and uuid. */
        json_t *read_only = json_object_get(by_catalog, "isReadOnly");
        CHECK_MSG(read_only == NULL || json_is_true(read_only),
                  "a catalog (~) integration has isReadOnly false");
        if (jstr(by_catalog, "id") != NULL) {
            again = lookup_ok(client, jstr(by_catalog, "id"), 0);
            CHECK_STR(jstr(again, "key"), CATALOG_KEY);
            json_decref(again);
        }
        uuid = jstr(by_catalog, "uuid");
        if (uuid != NULL) {
            again = lookup_ok(client, uuid, 0);
            CHECK_STR(jstr(again, "key"), CATALOG_KEY);
            json_decref(again);
        }
    }

    json_decref(by_id);
    json_decref(by_key);
    json_decref(by_uuid);
    json_decref(by_catalog);
}

static void test_not_found(membrane_client *client)
{
    json_t *out = POISON_JSON;
    membrane_error err;
    int rc;

    err_poison(&err);
    rc = membrane_integration_get(client, "no-such-integration", 0, &out, &err);
    CHECK_FAIL(rc, err, MEMBRANE_ENOTFOUND);
    CHECK_INT(err.http_status, 404);
    CHECK_STR(err.key, "not_found");
    CHECK(out == NULL);

    out = POISON_JSON;
    CHECK_INT(membrane_integration_get(client, "no-such-integration", 0, &out, NULL),
              MEMBRANE_ENOTFOUND);
    CHECK(out == NULL);
}

/* 1 when any string field of `err` contains `secret`. */
static int err_mentions(const membrane_error *err, const char *secret)
{
    return contains(err->message, secret) || contains(err->type, secret) ||
           contains(err->key, secret) || contains(err->error_id, secret);
}

static void test_wrong_token(void)
{
    const char *token = "wrong-token-c-7f3a9e";
    membrane_client *client = new_client(token);
    json_t *out = POISON_JSON;
    membrane_error err;
    int rc;

    if (client == NULL)
        return;
    err_poison(&err);
    rc = membrane_integration_get(client, HUBSPOT_KEY, 0, &out, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EAUTH);
    CHECK_INT(err.http_status, 401);
    CHECK_STR(err.key, "not_authenticated");
    CHECK(out == NULL);
    CHECK_MSG(!contains(err.message, token), "err.message holds the token: %s", err.message);
    CHECK_MSG(!err_mentions(&err, token), "an err field holds the token");
    CHECK_MSG(!err_mentions(&err, "7f3a9e"), "an err field holds part of the token");

    out = POISON_JSON;
    CHECK_INT(mock_clear_requests(), 0);
    CHECK_INT(membrane_integration_get(client, HUBSPOT_KEY, 0, &out, NULL), MEMBRANE_EAUTH);
    CHECK(out == NULL);
    {
        json_t *request = last_request();
        CHECK(request != NULL && json_is_false(json_object_get(request, "authorized")));
        json_decref(request);
    }
    membrane_client_free(client);
}

static void test_secrets(membrane_client *client)
{
    json_t *with, *without, *request;
    const char *secret;

    CHECK_INT(mock_clear_requests(), 0);
    with = lookup_ok(client, HUBSPOT_KEY, MEMBRANE_INCLUDE_SECRETS);
    request = last_request();
    CHECK_MSG(contains(mock_request_string(request, "query"), "includeSecrets=true"),
              "query with MEMBRANE_INCLUDE_SECRETS: \"%s\"",
              mock_request_string(request, "query") ? mock_request_string(request, "query")
                                                     : "(none)");
    json_decref(request);
    secret = jstr(json_object_get(with, "parameters"), "clientSecret");
    CHECK_STR(secret, "hubspot-client-secret-456");

    CHECK_INT(mock_clear_requests(), 0);
    without = lookup_ok(client, HUBSPOT_KEY, 0);
    request = last_request();
    CHECK_MSG(!contains(mock_request_string(request, "query"), "includeSecrets=true"),
              "query without the flag: \"%s\"", mock_request_string(request, "query"));
    json_decref(request);
    secret = jstr(json_object_get(without, "parameters"), "clientSecret");
    CHECK_MSG(secret == NULL || strcmp(secret, "hubspot-client-secret-456") != 0,
              "the secret came back without MEMBRANE_INCLUDE_SECRETS");
    CHECK(without == NULL || json_object_get(without, "parameters") != NULL);

    json_decref(with);
    json_decref(without);
}

/* What goes over the wire: a bearer token, a User-Agent, the selector as
   exactly one percent-encoded path segment. */
static void test_request_shape(membrane_client *client)
{
    static const struct {
        const char *selector;
        const char *encoded; /* the path the server must see */
    } cases[] = {
        { "a/b", "/integrations/a%2Fb" },
        { "x y?z#w", "/integrations/x%20y%3Fz%23w" },
        { "..", "/integrations/%2E%2E" },
        { "100%", "/integrations/100%25" },
        { "caf\xc3\xa9", "/integrations/caf%C3%A9" },
        { "a\nb", "/integrations/a%0Ab" },
    };
    size_t i;
    json_t *out, *request;
    membrane_error err;
    int rc;
    char expected_agent[64];

    CHECK_INT(mock_clear_requests(), 0);
    out = lookup_ok(client, HUBSPOT_KEY, 0);
    json_decref(out);
    request = last_request();
    CHECK(request != NULL);
    CHECK_STR(mock_request_string(request, "method"), "GET");
    CHECK_STR(mock_request_string(request, "path"), "/integrations/" HUBSPOT_KEY);
    /* The server logs whether the bearer token matched, never the token. */
    CHECK(json_is_true(json_object_get(request, "authorized")));
    snprintf(expected_agent, sizeof expected_agent, "libmembrane/%s", membrane_version());
    CHECK_STR(mock_request_header(request, "User-Agent"), expected_agent);
    json_decref(request);

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path;
        CHECK_INT(mock_clear_requests(), 0);
        out = POISON_JSON;
        err_poison(&err);
        rc = membrane_integration_get(client, cases[i].selector, 0, &out, &err);
        /* Reached the route as one segment, and no such integration. */
        CHECK_MSG(rc == MEMBRANE_ENOTFOUND && err.http_status == 404 &&
                      strcmp(err.key, "not_found") == 0,
                  "selector #%zu: got %d, HTTP %d, key \"%s\"", i, rc, err.http_status,
                  err_terminated(&err) ? err.key : "");
        CHECK(out == NULL);
        request = last_request();
        path = mock_request_string(request, "path");
        if (i == 2) {
            /* ".." must not collapse the path; "." may be sent as is. */
            CHECK_MSG(path != NULL && (strcasecmp(path, cases[i].encoded) == 0 ||
                                       strcmp(path, "/integrations/..") == 0),
                      "selector \"..\": path %s", path ? path : "(none)");
        } else {
            CHECK_MSG(path != NULL && strcasecmp(path, cases[i].encoded) == 0,
                      "selector #%zu: path %s, want %s", i, path ? path : "(none)",
                      cases[i].encoded);
        }
        json_decref(request);
    }

    /* A custom User-Agent. */
    {
        membrane_client *custom = new_client(MOCK_TOKEN);
        if (custom != NULL) {
            CHECK_INT(membrane_client_set_string(custom, MEMBRANE_OPT_USER_AGENT, "c-tests/1.0"),
                      MEMBRANE_OK);
            CHECK_INT(mock_clear_requests(), 0);
            out = lookup_ok(custom, HUBSPOT_KEY, 0);
            json_decref(out);
            request = last_request();
            CHECK_STR(mock_request_header(request, "User-Agent"), "c-tests/1.0");
            json_decref(request);
            membrane_client_free(custom);
        }
    }
}

/* NULL api_url reads MEMBRANE_API_URL; NULL token reads MEMBRANE_TOKEN. */
static void test_environment(void)
{
    membrane_client *client = NULL;
    membrane_error err;
    json_t *out;
    int rc;

    setenv("MEMBRANE_API_URL", mock_url(), 1);
    setenv("MEMBRANE_TOKEN", MOCK_TOKEN, 1);
    err_poison(&err);
    rc = membrane_client_new(&client, NULL, NULL, &err);
    CHECK_SUCCESS(rc, err);
    if (rc == MEMBRANE_OK) {
        out = lookup_ok(client, HUBSPOT_KEY, 0);
        CHECK_STR(jstr(out, "key"), HUBSPOT_KEY);
        json_decref(out);
        membrane_client_free(client);
    }

    /* An explicit token wins over MEMBRANE_TOKEN. */
    setenv("MEMBRANE_TOKEN", "not-the-token", 1);
    client = NULL;
    rc = membrane_client_new(&client, NULL, MOCK_TOKEN, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    if (rc == MEMBRANE_OK) {
        out = lookup_ok(client, HUBSPOT_KEY, 0);
        json_decref(out);
        membrane_client_free(client);
    }

    /* The environment's token is read, not ignored. */
    client = NULL;
    rc = membrane_client_new(&client, mock_url(), NULL, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    if (rc == MEMBRANE_OK) {
        out = POISON_JSON;
        CHECK_INT(membrane_integration_get(client, HUBSPOT_KEY, 0, &out, &err), MEMBRANE_EAUTH);
        CHECK(out == NULL);
        CHECK(!contains(err.message, "not-the-token"));
        membrane_client_free(client);
    }

    unsetenv("MEMBRANE_API_URL");
    unsetenv("MEMBRANE_TOKEN");
}

/* A reference from a lookup stays valid after the client is freed. */
static void test_outlives_client(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    json_t *out;
    char *text;

    if (client == NULL)
        return;
    out = lookup_ok(client, HUBSPOT_KEY, MEMBRANE_INCLUDE_SECRETS);
    membrane_client_free(client);
    CHECK_STR(jstr(out, "key"), HUBSPOT_KEY);
    text = membrane_json_dumps(out, JSON_INDENT(2));
    CHECK(contains(text, "\"key\": \"" HUBSPOT_KEY "\""));
    membrane_free(text);
    CHECK(out == NULL || out->refcount == 1);
    membrane_json_release(out);
}

/* A client keeps working after failures, and after many lookups. */
static void test_reuse(membrane_client *client)
{
    int i;
    for (i = 0; i < 20; i++) {
        json_t *out = POISON_JSON;
        int rc = membrane_integration_get(client, i % 2 ? HUBSPOT_KEY : "missing", 0, &out, NULL);
        CHECK_INT(rc, i % 2 ? MEMBRANE_OK : MEMBRANE_ENOTFOUND);
        if (rc == MEMBRANE_OK)
            json_decref(out);
        else
            CHECK(out == NULL);
    }
}

int main(void)
{
    membrane_client *client;

    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    mock_clear_faults();

    client = new_client(MOCK_TOKEN);
    if (client != NULL) {
        test_found(client);
        test_not_found(client);
        test_secrets(client);
        test_request_shape(client);
        test_reuse(client);
        membrane_client_free(client);
    }
    test_wrong_token();
    test_environment();
    test_outlives_client();

    mock_admin_cleanup();
    return check_report();
}
