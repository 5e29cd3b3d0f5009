/*
 * test_api.c: the library-level functions (version, strerror, memory
 * helpers) and every way a caller can get MEMBRANE_EINVAL, with and without
 * an error struct. Invalid lookups must make no request: the stand-in
 * server's request log proves it.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <stdlib.h>

#include "support.h"

/* "digits.digits.digits", optionally followed by a -prerelease or +build. */
static int looks_like_version(const char *v)
{
    int part;
    if (v == NULL)
        return 0;
    for (part = 0; part < 3; part++) {
        if (!isdigit((unsigned char)*v))
            return 0;
        while (isdigit((unsigned char)*v))
            v++;
        if (part < 2) {
            if (*v != '.')
                return 0;
            v++;
        }
    }
    return *v == '\0' || *v == '-' || *v == '+';
}

static void test_version(void)
{
    const char *v = membrane_version();
    CHECK(v != NULL);
    CHECK_MSG(looks_like_version(v), "membrane_version() = \"%s\"", v ? v : "NULL");
    CHECK(membrane_version() == v || strcmp(membrane_version(), v) == 0);
}

/* The lowest (most negative) return code the header defines. */
#define LOWEST_CODE MEMBRANE_ECANCELED

static void test_strerror(void)
{
    const char *names[1 - LOWEST_CODE];
    int code, other;

    CHECK_INT(LOWEST_CODE, -13);
    for (code = 0; code >= LOWEST_CODE; code--) {
        const char *s = membrane_strerror(code);
        names[-code] = s;
        CHECK_MSG(s != NULL && s[0] != '\0', "membrane_strerror(%d) is empty", code);
        CHECK_MSG(s != NULL && strcmp(s, "unknown error code") != 0,
                  "membrane_strerror(%d) = \"unknown error code\"", code);
    }
    for (code = 0; code <= -LOWEST_CODE; code++)
        for (other = code + 1; other <= -LOWEST_CODE; other++)
            CHECK_MSG(names[code] && names[other] && strcmp(names[code], names[other]) != 0,
                      "membrane_strerror(%d) == membrane_strerror(%d) == \"%s\"", -code,
                      -other, names[code] ? names[code] : "NULL");
    CHECK_STR(membrane_strerror(MEMBRANE_ECANCELED), "canceled");
    CHECK_STR(membrane_strerror(1), "unknown error code");
    CHECK_STR(membrane_strerror(LOWEST_CODE - 1), "unknown error code");
    CHECK_STR(membrane_strerror(-14), "unknown error code");
    CHECK_STR(membrane_strerror(1000), "unknown error code");
    CHECK_STR(membrane_strerror(-1000), "unknown error code");
    CHECK_STR(membrane_strerror(2147483647), "unknown error code");
    CHECK_STR(membrane_strerror(-2147483647 - 1), "unknown error code");
}

static void test_memory_helpers(void)
{
    json_t *value;
    char *text;

    CHECK(membrane_json_dumps(NULL, 0) == NULL);
    CHECK(membrane_json_dumps(NULL, JSON_INDENT(2)) == NULL);
    membrane_free(NULL);
    membrane_json_release(NULL);
    membrane_client_free(NULL);
    CHECK(1); /* the no-ops above did not crash */

    value = json_pack("{s:s, s:i, s:[b]}", "name", "x\xc3\xa9", "n", 3, "a", 1);
    CHECK(value != NULL);
    text = membrane_json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(text, "{\"a\":[true],\"n\":3,\"name\":\"x\xc3\xa9\"}");
    membrane_free(text);
    text = membrane_json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS);
    CHECK(contains(text, "\n  \"a\": ["));
    membrane_free(text);

    /* membrane_json_release drops exactly one reference. */
    json_incref(value);
    CHECK_INT(value->refcount, 2);
    membrane_json_release(value);
    CHECK_INT(value->refcount, 1);
    membrane_json_release(value);
}

static void test_client_new_invalid(void)
{
    membrane_client *client;
    membrane_error err;
    int rc;
    size_t i;
    const char *bad_urls[] = {
        "ftp://x",
        "not a url",
        "",
        "http://",
        "https://",
        "http://exa\r\nmple.com",
        "http://\xff\xfe.example",
    };
    const char *bad_tokens[] = {
        "mock-token\r\nX-Injected: 1",
        "mock\ntoken",
        "mock\x01token",
        "mock\x7ftoken",
        "mock-\xff\xfe",
    };

    err_poison(&err);
    rc = membrane_client_new(NULL, mock_url(), MOCK_TOKEN, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_new(NULL, mock_url(), MOCK_TOKEN, NULL), MEMBRANE_EINVAL);

    for (i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        client = POISON_CLIENT;
        err_poison(&err);
        rc = membrane_client_new(&client, bad_urls[i], MOCK_TOKEN, &err);
        CHECK_MSG(rc == MEMBRANE_EINVAL, "api_url #%zu: got %d, want EINVAL", i, rc);
        CHECK_MSG(err.code == MEMBRANE_EINVAL, "api_url #%zu: err.code %d", i, err.code);
        CHECK_MSG(client == NULL, "api_url #%zu: out not set to NULL", i);
        CHECK(err_terminated(&err) && err.message[0] != '\0');
        if (rc == MEMBRANE_OK && client != POISON_CLIENT)
            membrane_client_free(client);

        client = POISON_CLIENT;
        rc = membrane_client_new(&client, bad_urls[i], MOCK_TOKEN, NULL);
        CHECK_MSG(rc == MEMBRANE_EINVAL && client == NULL, "api_url #%zu, err NULL: got %d",
                  i, rc);
        if (rc == MEMBRANE_OK && client != POISON_CLIENT)
            membrane_client_free(client);
    }

    for (i = 0; i < sizeof bad_tokens / sizeof bad_tokens[0]; i++) {
        client = POISON_CLIENT;
        err_poison(&err);
        rc = membrane_client_new(&client, mock_url(), bad_tokens[i], &err);
        CHECK_MSG(rc == MEMBRANE_EINVAL, "token #%zu: got %d, want EINVAL", i, rc);
        CHECK_MSG(err.code == MEMBRANE_EINVAL, "token #%zu: err.code %d", i, err.code);
        CHECK_MSG(client == NULL, "token #%zu: out not set to NULL", i);
        CHECK(err_terminated(&err) && err.message[0] != '\0');
        CHECK_MSG(!contains(err.message, "mock-token") && !contains(err.message, "mock\n") &&
                      !contains(err.message, "X-Injected"),
                  "token #%zu: message shows the token: %s", i, err.message);
        if (rc == MEMBRANE_OK && client != POISON_CLIENT)
            membrane_client_free(client);

        client = POISON_CLIENT;
        rc = membrane_client_new(&client, mock_url(), bad_tokens[i], NULL);
        CHECK_MSG(rc == MEMBRANE_EINVAL && client == NULL, "token #%zu, err NULL: got %d", i,
                  rc);
        if (rc == MEMBRANE_OK && client != POISON_CLIENT)
            membrane_client_free(client);
    }
}

static void test_no_token(void)
{
    membrane_client *client = POISON_CLIENT;
    membrane_error err;
    int rc;
    char *saved = getenv("MEMBRANE_TOKEN") ? strdup(getenv("MEMBRANE_TOKEN")) : NULL;

    unsetenv("MEMBRANE_TOKEN");
    err_poison(&err);
    rc = membrane_client_new(&client, mock_url(), NULL, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EAUTH);
    CHECK(client == NULL);
    CHECK_INT(err.http_status, 0);
    if (rc == MEMBRANE_OK && client != POISON_CLIENT)
        membrane_client_free(client);

    client = POISON_CLIENT;
    rc = membrane_client_new(&client, mock_url(), NULL, NULL);
    CHECK_INT(rc, MEMBRANE_EAUTH);
    CHECK(client == NULL);
    if (rc == MEMBRANE_OK && client != POISON_CLIENT)
        membrane_client_free(client);

    if (saved != NULL) {
        setenv("MEMBRANE_TOKEN", saved, 1);
        free(saved);
    }
}

static void test_options(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    if (client == NULL)
        return;

    /* Valid values. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, 20000), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, 1), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CONNECT_TIMEOUT_MS, 5000),
              MEMBRANE_OK);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_USER_AGENT, "c-tests/1.0"),
              MEMBRANE_OK);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_CA_FILE, NULL), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 0), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 10), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 2), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS, 1), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS, 250), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS, 8000), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RESPONSE_BYTES, 1), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RESPONSE_BYTES, 33554432L),
              MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RESPONSE_BYTES, 2147483647L),
              MEMBRANE_OK);

    /* NULL client. */
    CHECK_INT(membrane_client_set_long(NULL, MEMBRANE_OPT_TIMEOUT_MS, 1000), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(NULL, MEMBRANE_OPT_MAX_RETRIES, 1), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(NULL, MEMBRANE_OPT_RETRY_BASE_MS, 100), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(NULL, MEMBRANE_OPT_MAX_RESPONSE_BYTES, 100),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(NULL, MEMBRANE_OPT_USER_AGENT, "x"), MEMBRANE_EINVAL);

    /* Unknown options. */
    CHECK_INT(membrane_client_set_long(client, 0, 1000), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, 8, 1000), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, 99, 1000), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, -1, 1000), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, 0, "x"), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, 8, "x"), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, 99, "x"), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, -1, "x"), MEMBRANE_EINVAL);

    /* The wrong setter for the option's type. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_USER_AGENT, 5), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CA_FILE, 5), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_TIMEOUT_MS, "5000"),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_CONNECT_TIMEOUT_MS, "5000"),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_MAX_RETRIES, "1"), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_RETRY_BASE_MS, "100"),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_MAX_RESPONSE_BYTES, "100"),
              MEMBRANE_EINVAL);

    /* Out of range. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, 0), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, -1), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, -2147483647L),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CONNECT_TIMEOUT_MS, 0),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CONNECT_TIMEOUT_MS, -5),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, -1), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 11), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 2147483647L),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS, 0), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS, -1), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RESPONSE_BYTES, 0),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RESPONSE_BYTES, -1),
              MEMBRANE_EINVAL);

    /* membrane_client_cancel: NULL is EINVAL; with nothing in flight it is a
       no-op that leaves later calls alone. */
    CHECK_INT(membrane_client_cancel(NULL), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_cancel(client), MEMBRANE_OK);
    CHECK_INT(membrane_client_cancel(client), MEMBRANE_OK);

    /* Bad strings. */
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_USER_AGENT, NULL),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_USER_AGENT, ""), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_USER_AGENT, "a\r\nX-Evil: 1"),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_USER_AGENT, "a\x01"),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_USER_AGENT, "\xff\xfe"),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_CA_FILE, "/tmp/a\nb.pem"),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_CA_FILE, "/tmp/\xff.pem"),
              MEMBRANE_EINVAL);

    /* The rejected values changed nothing, and the earlier cancel (with
       nothing in flight) does not cancel this later call: the client still
       answers with the last valid settings. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, 10000), MEMBRANE_OK);
    {
        json_t *out = NULL;
        membrane_error err;
        int rc;

        err_poison(&err);
        rc = membrane_integration_get(client, HUBSPOT_KEY, 0, &out, &err);
        CHECK_SUCCESS(rc, err);
        CHECK_STR(jstr(out, "key"), HUBSPOT_KEY);
        json_decref(out);
    }

    membrane_client_free(client);
}

/* Looks up `selector` and expects EINVAL, out set to NULL, with and without
   an error struct. */
static void expect_lookup_einval(membrane_client *client, const char *selector,
                                 const char *what)
{
    json_t *out = POISON_JSON;
    membrane_error err;
    int rc;

    err_poison(&err);
    rc = membrane_integration_get(client, selector, 0, &out, &err);
    CHECK_MSG(rc == MEMBRANE_EINVAL, "%s: got %d, want EINVAL", what, rc);
    CHECK_MSG(err.code == MEMBRANE_EINVAL, "%s: err.code %d", what, err.code);
    CHECK_MSG(err_terminated(&err) && err.message[0] != '\0', "%s: no message", what);
    CHECK_MSG(err.http_status == 0, "%s: http_status %d", what, err.http_status);
    CHECK_MSG(out == NULL, "%s: out not set to NULL", what);
    if (rc == MEMBRANE_OK && out != POISON_JSON)
        json_decref(out);

    out = POISON_JSON;
    rc = membrane_integration_get(client, selector, 0, &out, NULL);
    CHECK_MSG(rc == MEMBRANE_EINVAL && out == NULL, "%s, err NULL: got %d", what, rc);
    if (rc == MEMBRANE_OK && out != POISON_JSON)
        json_decref(out);
}

static void test_lookup_invalid(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    membrane_error err;
    json_t *out = POISON_JSON;
    json_t *requests;
    char long_selector[1026];
    int rc;

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_requests(), 0);

    /* NULL client. */
    err_poison(&err);
    rc = membrane_integration_get(NULL, HUBSPOT_KEY, 0, &out, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EINVAL);
    CHECK(out == NULL);
    out = POISON_JSON;
    CHECK_INT(membrane_integration_get(NULL, HUBSPOT_KEY, 0, &out, NULL), MEMBRANE_EINVAL);
    CHECK(out == NULL);

    /* NULL out. */
    err_poison(&err);
    rc = membrane_integration_get(client, HUBSPOT_KEY, 0, NULL, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EINVAL);
    CHECK_INT(membrane_integration_get(client, HUBSPOT_KEY, 0, NULL, NULL), MEMBRANE_EINVAL);

    /* Bad selectors. */
    expect_lookup_einval(client, NULL, "NULL selector");
    expect_lookup_einval(client, "", "empty selector");
    memset(long_selector, 'a', 1025);
    long_selector[1025] = '\0';
    expect_lookup_einval(client, long_selector, "1025-byte selector");
    expect_lookup_einval(client, "\xff\xfe", "selector \\xff\\xfe");
    expect_lookup_einval(client, "ab\xc3", "selector cut inside a character");
    expect_lookup_einval(client, "\xc0\xaf", "overlong encoding");
    expect_lookup_einval(client, "\xed\xa0\x80", "UTF-16 surrogate");
    expect_lookup_einval(client, "\xf4\x90\x80\x80", "code point above U+10FFFF");

    /* None of these may have reached the server. */
    requests = mock_requests();
    CHECK(requests != NULL);
    CHECK_MSG(json_array_size(requests) == 0, "invalid lookups made %zu request(s)",
              json_array_size(requests));
    json_decref(requests);

    /* 1024 bytes is still a valid selector: it reaches the server. */
    long_selector[1024] = '\0';
    out = POISON_JSON;
    err_poison(&err);
    rc = membrane_integration_get(client, long_selector, 0, &out, &err);
    CHECK_FAIL(rc, err, MEMBRANE_ENOTFOUND);
    CHECK(out == NULL);

    membrane_client_free(client);
}

int main(void)
{
    if (mock_admin_init() != 0)
        return 2;
    test_version();
    test_strerror();
    test_memory_helpers();
    test_client_new_invalid();
    test_no_token();
    test_options();
    test_lookup_invalid();
    mock_admin_cleanup();
    return check_report();
}
