/*
 * test_errors.c: every error code a lookup can return, provoked through the
 * stand-in server's faults (or a closed port, or TLS against plain HTTP),
 * with and without an error struct.
 *
 * These tests are about how one answer maps to a code, so their clients have
 * retries off (MEMBRANE_OPT_MAX_RETRIES 0): a one-shot 429/502/503/504 or a
 * dropped connection must then come back as such, after exactly one request,
 * with no "(after N attempts)" in the message. Retries themselves are tested
 * in test_faults.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support.h"

static membrane_client *client;

/* Requests the server saw for the last lookup_with_fault's selector. */
static int last_request_count;

/* The request count for GET /integrations/<selector> (selector URL-safe). */
static int requests_for(const char *selector)
{
    char path[256];
    snprintf(path, sizeof path, "/integrations/%s", selector);
    return mock_request_count(path);
}

/* Installs `fault` (a JSON object), looks up `selector` and returns the
   code; `err` and `out` are checked for the failure shape. */
static int lookup_with_fault(const char *fault, const char *selector, membrane_error *err)
{
    json_t *out = POISON_JSON;
    int rc;

    CHECK_INT(mock_clear_faults(), 0);
    CHECK_INT(mock_clear_requests(), 0);
    if (fault != NULL)
        CHECK_MSG(mock_fault(fault) == 0, "could not install fault %s", fault);
    err_poison(err);
    rc = membrane_integration_get(client, selector, 0, &out, err);
    last_request_count = requests_for(selector);
    if (rc == MEMBRANE_OK) {
        CHECK(out != NULL && out != POISON_JSON);
        if (out != NULL && out != POISON_JSON)
            json_decref(out);
    } else {
        CHECK_MSG(out == NULL, "out not set to NULL (code %d)", rc);
        CHECK(err_terminated(err) && err->message[0] != '\0');
        CHECK_MSG(err_terminated(err) && !contains(err->message, "attempts"),
                  "retries are off, yet the message counts attempts: %s", err->message);
    }
    CHECK_INT(err->code, rc);
    CHECK_INT(mock_clear_faults(), 0);
    return rc;
}

/* The same, with a NULL error struct. */
static int lookup_with_fault_no_err(const char *fault, const char *selector)
{
    json_t *out = POISON_JSON;
    int rc;

    CHECK_INT(mock_clear_faults(), 0);
    if (fault != NULL)
        CHECK_MSG(mock_fault(fault) == 0, "could not install fault %s", fault);
    rc = membrane_integration_get(client, selector, 0, &out, NULL);
    if (rc == MEMBRANE_OK) {
        if (out != NULL && out != POISON_JSON)
            json_decref(out);
    } else {
        CHECK(out == NULL);
    }
    CHECK_INT(mock_clear_faults(), 0);
    return rc;
}

static void test_http_statuses(void)
{
    membrane_error err;
    int rc;

    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":403}", HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EACCESS);
    CHECK_INT(err.http_status, 403);
    CHECK_STR(err.key, "access_denied");
    CHECK_INT(lookup_with_fault_no_err("{\"match\":\"hubspot\",\"status\":403}", HUBSPOT_KEY),
              MEMBRANE_EACCESS);

    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":429}", HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_ERATELIMIT);
    CHECK_INT(err.http_status, 429);
    CHECK_STR(err.key, "rate_limit_exceeded");
    CHECK_INT(last_request_count, 1);
    CHECK_INT(lookup_with_fault_no_err("{\"match\":\"hubspot\",\"status\":429}", HUBSPOT_KEY),
              MEMBRANE_ERATELIMIT);

    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":400,\"json\":{\"type\":\"bad_request\","
                           "\"key\":\"invalid_input\",\"message\":\"bad selector\"}}",
                           HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EBADREQUEST);
    CHECK_INT(err.http_status, 400);
    CHECK_STR(err.type, "bad_request");
    CHECK_STR(err.key, "invalid_input");
    CHECK_MSG(contains(err.message, "bad selector"), "400 message: %s", err.message);

    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":422}", HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EBADREQUEST);
    CHECK_INT(err.http_status, 422);
    CHECK_INT(lookup_with_fault_no_err("{\"match\":\"hubspot\",\"status\":422}", HUBSPOT_KEY),
              MEMBRANE_EBADREQUEST);

    /* 500 with the API's internal error body: the error id is kept. */
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":500,\"json\":{\"type\":\"internal\","
                           "\"key\":\"internal_error\",\"message\":\"boom\","
                           "\"data\":{\"errorId\":\"err-c-1\"}}}",
                           HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_ESERVER);
    CHECK_INT(err.http_status, 500);
    CHECK_STR(err.error_id, "err-c-1");
    CHECK_STR(err.type, "internal");
    CHECK_STR(err.key, "internal_error");
    CHECK_MSG(contains(err.message, "boom"), "500 message: %s", err.message);

    /* 500 with the server's default body: some error id. */
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":500}", HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_ESERVER);
    CHECK_INT(err.http_status, 500);
    CHECK_MSG(err_terminated(&err) && err.error_id[0] != '\0', "no error id for a plain 500");

    /* Other 5xx, with HTML from a proxy. */
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"action\":\"html\"}", HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_ESERVER);
    CHECK_INT(err.http_status, 502);
    CHECK_STR(err.error_id, "");
    CHECK_INT(last_request_count, 1);
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":503,\"body\":\"unavailable\","
                           "\"contentType\":\"text/plain\"}",
                           HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_ESERVER);
    CHECK_INT(err.http_status, 503);
    CHECK_INT(last_request_count, 1);
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":504}", HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_ESERVER);
    CHECK_INT(err.http_status, 504);
    CHECK_INT(last_request_count, 1);
    CHECK_INT(lookup_with_fault_no_err("{\"match\":\"hubspot\",\"status\":500}", HUBSPOT_KEY),
              MEMBRANE_ESERVER);

    /* A fault for another selector leaves this one alone. */
    rc = lookup_with_fault("{\"match\":\"someone-else\",\"status\":500}", HUBSPOT_KEY, &err);
    CHECK_SUCCESS(rc, err);
}

static void test_network(void)
{
    membrane_client *refused = NULL;
    membrane_error err;
    json_t *out = POISON_JSON;
    char url[64];
    int rc, port = closed_port();

    CHECK(port > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    rc = membrane_client_new(&refused, url, MOCK_TOKEN, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    if (rc == MEMBRANE_OK) {
        CHECK_INT(membrane_client_set_long(refused, MEMBRANE_OPT_MAX_RETRIES, 0), MEMBRANE_OK);
        err_poison(&err);
        rc = membrane_integration_get(refused, HUBSPOT_KEY, 0, &out, &err);
        CHECK_FAIL(rc, err, MEMBRANE_ENETWORK);
        CHECK_INT(err.http_status, 0);
        CHECK_MSG(!contains(err.message, "attempts"), "refused, retries off: %s", err.message);
        CHECK(out == NULL);
        out = POISON_JSON;
        CHECK_INT(membrane_integration_get(refused, HUBSPOT_KEY, 0, &out, NULL),
                  MEMBRANE_ENETWORK);
        CHECK(out == NULL);
        membrane_client_free(refused);
    }

    /* The server closes the connection without an answer. Twice: libcurl
       itself retries a request once on a fresh connection when a reused
       (kept-alive) one closes before any byte of the answer, because it
       cannot tell that from a stale connection; a single drop is therefore
       invisible when the client reuses a connection. */
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"action\":\"drop\",\"times\":2}", HUBSPOT_KEY,
                           &err);
    CHECK_FAIL(rc, err, MEMBRANE_ENETWORK);
    CHECK_INT(err.http_status, 0);
    CHECK_MSG(last_request_count >= 1 && last_request_count <= 2,
              "a drop with retries off: %d requests, want 1 (2 with libcurl's own retry)",
              last_request_count);
    CHECK_INT(lookup_with_fault_no_err("{\"match\":\"hubspot\",\"action\":\"drop\",\"times\":2}",
                                       HUBSPOT_KEY),
              MEMBRANE_ENETWORK);

    /* Hung up after the headers, mid-body (Content-Length says more). */
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"action\":\"short-content-length\"}",
                           HUBSPOT_KEY, &err);
    CHECK_MSG(rc == MEMBRANE_ENETWORK || rc == MEMBRANE_EPROTOCOL,
              "short body: got %d, want ENETWORK (or EPROTOCOL)", rc);

    /* And the client recovers on the next call. */
    rc = lookup_with_fault(NULL, HUBSPOT_KEY, &err);
    CHECK_SUCCESS(rc, err);
}

static void test_timeout(void)
{
    membrane_client *fast = new_client(MOCK_TOKEN);
    membrane_error err;
    json_t *out = POISON_JSON;
    double start, elapsed;
    int rc;

    if (fast == NULL)
        return;
    CHECK_INT(membrane_client_set_long(fast, MEMBRANE_OPT_TIMEOUT_MS, 300), MEMBRANE_OK);
    CHECK_INT(mock_clear_faults(), 0);
    CHECK_INT(mock_fault("{\"match\":\"hubspot\",\"delayMs\":3000}"), 0);
    err_poison(&err);
    start = now_ms();
    rc = membrane_integration_get(fast, HUBSPOT_KEY, 0, &out, &err);
    elapsed = now_ms() - start;
    CHECK_FAIL(rc, err, MEMBRANE_ETIMEOUT);
    CHECK_INT(err.http_status, 0);
    CHECK(out == NULL);
    CHECK_MSG(elapsed < 2000.0, "a 300 ms timeout returned after %.0f ms", elapsed);
    CHECK_MSG(elapsed >= 250.0, "a 300 ms timeout returned after only %.0f ms", elapsed);

    /* A slow body counts against the same deadline. */
    CHECK_INT(mock_fault("{\"match\":\"hubspot\",\"action\":\"slow-body\",\"chunkDelayMs\":400}"),
              0);
    out = POISON_JSON;
    start = now_ms();
    rc = membrane_integration_get(fast, HUBSPOT_KEY, 0, &out, NULL);
    elapsed = now_ms() - start;
    CHECK_INT(rc, MEMBRANE_ETIMEOUT);
    CHECK(out == NULL);
    CHECK_MSG(elapsed < 2000.0, "a slow body with a 300 ms timeout took %.0f ms", elapsed);
    CHECK_INT(mock_clear_faults(), 0);

    /* With no fault the same client still answers. */
    CHECK_INT(membrane_client_set_long(fast, MEMBRANE_OPT_TIMEOUT_MS, 10000), MEMBRANE_OK);
    out = NULL;
    rc = membrane_integration_get(fast, HUBSPOT_KEY, 0, &out, &err);
    CHECK_SUCCESS(rc, err);
    json_decref(out);
    membrane_client_free(fast);
}

static void test_protocol(void)
{
    membrane_error err;
    int rc;

    rc = lookup_with_fault("{\"match\":\"hubspot\",\"action\":\"truncate\"}", HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_INT(err.http_status, 200);

    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":200,\"body\":\"this is not json\","
                           "\"contentType\":\"text/plain\"}",
                           HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);

    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":200,\"json\":[1,2,3]}", HUBSPOT_KEY,
                           &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);

    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":200,\"json\":{\"name\":\"x\","
                           "\"state\":5}}",
                           HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_MSG(contains(err.message, "state"), "message does not name the field: %s",
              err.message);

    /* No name at all. */
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":200,\"json\":{\"id\":\"x\"}}",
                           HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_MSG(contains(err.message, "name"), "message does not name the field: %s",
              err.message);

    /* A minimal valid body with unknown fields and an unknown enum value
       is handed out as it came. */
    {
        json_t *out = NULL;
        CHECK_INT(mock_clear_faults(), 0);
        CHECK_INT(mock_fault("{\"match\":\"hubspot\",\"status\":200,\"json\":{\"name\":\"x\","
                             "\"state\":\"SOMETHING_NEW\",\"futureField\":{\"a\":[1]}}}"),
                  0);
        err_poison(&err);
        rc = membrane_integration_get(client, HUBSPOT_KEY, 0, &out, &err);
        CHECK_SUCCESS(rc, err);
        CHECK_STR(jstr(out, "state"), "SOMETHING_NEW");
        CHECK(json_is_object(json_object_get(out, "futureField")));
        json_decref(out);
        CHECK_INT(mock_clear_faults(), 0);
    }

    CHECK_INT(lookup_with_fault_no_err("{\"match\":\"hubspot\",\"action\":\"truncate\"}",
                                       HUBSPOT_KEY),
              MEMBRANE_EPROTOCOL);

    /* Success statuses without an integration. */
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":204}", HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_INT(err.http_status, 204);
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":200,\"body\":\"\"}", HUBSPOT_KEY,
                           &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    /* A redirect is not followed: an unexpected status. */
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":302,\"body\":\"\","
                           "\"headers\":{\"Location\":\"http://127.0.0.1:1/elsewhere\"}}",
                           HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_INT(err.http_status, 302);
}

/* Bodies over the library's 32 MiB limit, announced or not. */
static void test_oversized(void)
{
    membrane_error err;
    int rc;

    rc = lookup_with_fault("{\"match\":\"hubspot\",\"action\":\"oversized\","
                           "\"sizeBytes\":34603008}",
                           HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_MSG(contains(err.message, "large") || contains(err.message, "limit") ||
                  contains(err.message, "size"),
              "oversized: message: %s", err.message);
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"action\":\"oversized-chunked\","
                           "\"sizeBytes\":34603008}",
                           HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);

    /* A large body under the limit is fine. */
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"action\":\"oversized\","
                           "\"sizeBytes\":2097152}",
                           HUBSPOT_KEY, &err);
    CHECK_SUCCESS(rc, err);

    /* The client works afterwards. */
    rc = lookup_with_fault(NULL, HUBSPOT_KEY, &err);
    CHECK_SUCCESS(rc, err);
}

/* What proxies and the transport may add on top of the API. */
static void test_transport_variants(void)
{
    membrane_error err;
    json_t *out = NULL;
    int rc;

    /* A gzip-compressed answer is decompressed. */
    CHECK_INT(mock_clear_faults(), 0);
    CHECK_INT(mock_fault("{\"match\":\"hubspot\",\"action\":\"gzip\"}"), 0);
    err_poison(&err);
    rc = membrane_integration_get(client, HUBSPOT_KEY, 0, &out, &err);
    CHECK_SUCCESS(rc, err);
    CHECK_STR(jstr(out, "key"), HUBSPOT_KEY);
    json_decref(out);

    /* An HTML 429 from a proxy is still a rate limit. */
    rc = lookup_with_fault("{\"match\":\"hubspot\",\"action\":\"html\",\"status\":429}",
                           HUBSPOT_KEY, &err);
    CHECK_FAIL(rc, err, MEMBRANE_ERATELIMIT);
    CHECK_INT(err.http_status, 429);
    CHECK_INT(last_request_count, 1);

    /* Extra headers (Retry-After, request ids) change nothing; with retries
       off a Retry-After is not waited for. */
    {
        double start = now_ms(), elapsed;
        rc = lookup_with_fault("{\"match\":\"hubspot\",\"status\":429,"
                               "\"headers\":{\"Retry-After\":\"1\",\"X-Request-Id\":\"r-1\"}}",
                               HUBSPOT_KEY, &err);
        elapsed = now_ms() - start;
        CHECK_FAIL(rc, err, MEMBRANE_ERATELIMIT);
        CHECK_STR(err.key, "rate_limit_exceeded");
        CHECK_INT(last_request_count, 1);
        CHECK_MSG(elapsed < 900.0, "429 + Retry-After 1 with retries off took %.0f ms",
                  elapsed);
    }
}

/* https:// against the plain-HTTP server: the handshake cannot succeed.
   libcurl with OpenSSL reports "wrong version number" (CURLE_SSL_CONNECT_ERROR),
   so ETLS is expected; ENETWORK is accepted when the server closes first. */
static void test_tls(void)
{
    membrane_client *tls = NULL;
    membrane_error err;
    json_t *out = POISON_JSON;
    char url[600];
    int rc;

    if (strncmp(mock_url(), "http://", 7) != 0) {
        CHECK_MSG(0, "MEMBRANE_TEST_URL is not http://: %s", mock_url());
        return;
    }
    snprintf(url, sizeof url, "https://%s", mock_url() + 7);
    rc = membrane_client_new(&tls, url, MOCK_TOKEN, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    if (rc != MEMBRANE_OK)
        return;
    CHECK_INT(membrane_client_set_long(tls, MEMBRANE_OPT_TIMEOUT_MS, 5000), MEMBRANE_OK);
    err_poison(&err);
    rc = membrane_integration_get(tls, HUBSPOT_KEY, 0, &out, &err);
    CHECK_MSG(rc == MEMBRANE_ETLS || rc == MEMBRANE_ENETWORK,
              "https to a plain HTTP port: got %d (%s), want ETLS or ENETWORK", rc,
              err_terminated(&err) ? err.message : "");
    CHECK_INT(err.code, rc);
    CHECK(err_terminated(&err) && err.message[0] != '\0');
    CHECK_INT(err.http_status, 0);
    CHECK(out == NULL);
    fprintf(stderr, "note: https:// to the plain HTTP mock gave %s (%d): %s\n",
            rc == MEMBRANE_ETLS ? "MEMBRANE_ETLS" : rc == MEMBRANE_ENETWORK ? "MEMBRANE_ENETWORK"
                                                                             : "?",
            rc, err_terminated(&err) ? err.message : "");

    /* A CA file that does not exist cannot verify anything. */
    CHECK_INT(membrane_client_set_string(tls, MEMBRANE_OPT_CA_FILE,
                                         "/nonexistent/membrane-test-ca.pem"),
              MEMBRANE_OK);
    out = POISON_JSON;
    rc = membrane_integration_get(tls, HUBSPOT_KEY, 0, &out, NULL);
    CHECK_MSG(rc == MEMBRANE_ETLS || rc == MEMBRANE_ENETWORK, "with a missing CA file: got %d",
              rc);
    CHECK(out == NULL);
    membrane_client_free(tls);
}

int main(void)
{
    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    client = new_client(MOCK_TOKEN);
    if (client != NULL)
        CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 0), MEMBRANE_OK);
    if (client != NULL) {
        test_http_statuses();
        test_network();
        test_timeout();
        test_protocol();
        test_oversized();
        test_transport_variants();
        membrane_client_free(client);
    }
    test_tls();
    mock_clear_faults();
    mock_admin_cleanup();
    return check_report();
}
