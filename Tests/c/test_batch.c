/*
 * test_batch.c: membrane_integrations_get_many against the stand-in server.
 *
 *   - results in input order; failures in place, as {"error": {...}}, with
 *     invalid selectors (empty, 1025 bytes, not UTF-8) answered without a
 *     request;
 *   - a selector given several times is fetched once (the request log);
 *   - an empty list; 1,000 distinct selectors, each answered right and each
 *     fetched exactly once;
 *   - the whole call's EINVAL cases (NULL client, out, selectors or element,
 *     unknown flags, count too large), with no request made;
 *   - MEMBRANE_INCLUDE_SECRETS;
 *   - MEMBRANE_OPT_MAX_PARALLEL: its range, and (every request delayed by
 *     100 ms) 12 selectors take >= 4 rounds with 3 in parallel and < 2 with
 *     12, and 16 take 2 rounds with the default 8; when the server serves
 *     GET /_mock/stats, its counters show at most 3 (12, 8) requests in
 *     flight and connections open at once, and 3 connections reused;
 *   - membrane_client_cancel during a slow batch: the whole call returns
 *     MEMBRANE_ECANCELED within 200 ms;
 *   - concurrent batches on one client.
 *
 * Timings are printed as `note:` lines. MEMBRANE_TIME_SCALE (default 1)
 * multiplies the upper time bounds, for slow runs (valgrind).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "support.h"

#define FIXTURES_PATH "examples/fixtures/integrations.json"
#define HUBSPOT_SECRET "hubspot-client-secret-456"

static double time_scale = 1.0;

/* The fixtures' integrations (examples/fixtures/integrations.json). */
static json_t *fixtures;

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int load_fixtures(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(FIXTURES_PATH, 0, &jerr);

    CHECK_MSG(root != NULL, "cannot read %s: %s", FIXTURES_PATH, jerr.text);
    if (root == NULL)
        return -1;
    fixtures = json_incref(json_object_get(root, "integrations"));
    json_decref(root);
    CHECK_MSG(json_array_size(fixtures) == 15, "%zu fixtures, want 15",
              json_array_size(fixtures));
    return json_is_array(fixtures) ? 0 : -1;
}

/* The number of requests in the server's log, or -1. */
static int total_requests(void)
{
    json_t *requests = mock_requests();
    int n = requests != NULL ? (int)json_array_size(requests) : -1;
    json_decref(requests);
    return n;
}

/* One get_many call; checks the shape of a success (array of `count`) or of
   a failure (out NULL, err filled). Returns the code; *out gets the array. */
static int get_many(membrane_client *client, const char *const *selectors, size_t count,
                    unsigned flags, json_t **out, membrane_error *err)
{
    int rc;

    *out = POISON_JSON;
    err_poison(err);
    rc = membrane_integrations_get_many(client, selectors, count, flags, out, err);
    CHECK_INT(err->code, rc);
    CHECK(err_terminated(err));
    if (rc == MEMBRANE_OK) {
        CHECK_MSG(*out != NULL && *out != POISON_JSON && json_is_array(*out),
                  "get_many succeeded without an array");
        if (*out == POISON_JSON)
            *out = NULL;
        CHECK_MSG(json_array_size(*out) == count, "get_many: %zu elements for %zu selectors",
                  json_array_size(*out), count);
        CHECK_SUCCESS(rc, *err);
    } else {
        CHECK_MSG(*out == NULL, "get_many failed (%d) and left out non-NULL", rc);
        if (*out == POISON_JSON)
            *out = NULL;
        CHECK_MSG(err->message[0] != '\0', "get_many failed (%d) with an empty message", rc);
    }
    return rc;
}

/* 1 when `element` is {"error": {...}} with this code and status (and key,
   unless NULL), every field present with its type; else 0 and `why` says
   what differs. */
static int is_error_element(const json_t *element, int code, int http_status, const char *key,
                            char *why, size_t why_size)
{
    const json_t *e = json_object_get(element, "error");
    const char *fields[] = { "type", "key", "message", "error_id" };
    size_t i;

    if (!json_is_object(element) || json_object_size(element) != 1 || !json_is_object(e)) {
        snprintf(why, why_size, "not an {\"error\": {...}} object");
        return 0;
    }
    if (!json_is_integer(json_object_get(e, "code")) ||
        json_integer_value(json_object_get(e, "code")) != code) {
        snprintf(why, why_size, "code %lld, want %d",
                 (long long)json_integer_value(json_object_get(e, "code")), code);
        return 0;
    }
    if (!json_is_integer(json_object_get(e, "http_status")) ||
        json_integer_value(json_object_get(e, "http_status")) != http_status) {
        snprintf(why, why_size, "http_status %lld, want %d",
                 (long long)json_integer_value(json_object_get(e, "http_status")), http_status);
        return 0;
    }
    for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!json_is_string(json_object_get(e, fields[i]))) {
            snprintf(why, why_size, "field \"%s\" missing or not a string", fields[i]);
            return 0;
        }
    }
    if (key != NULL && strcmp(jstr(e, "key"), key) != 0) {
        snprintf(why, why_size, "key \"%s\", want \"%s\"", jstr(e, "key"), key);
        return 0;
    }
    if (jstr(e, "message")[0] == '\0') {
        snprintf(why, why_size, "empty message");
        return 0;
    }
    return 1;
}

#define CHECK_ERROR_ELEMENT(array, index, code, status, key)                              \
    do {                                                                                 \
        char why_[160] = "";                                                             \
        int ok_ = is_error_element(json_array_get((array), (index)), (code), (status), (key), \
                                   why_, sizeof why_);                                   \
        CHECK_MSG(ok_, "element %d: %s", (int)(index), why_);                           \
    } while (0)

/* The element's "key" (an integration), or NULL. */
static const char *element_key(const json_t *array, size_t index)
{
    return jstr(json_array_get(array, index), "key");
}

static void test_order(membrane_client *client)
{
    const char *selectors[] = { "salesforce", HUBSPOT_KEY, CATALOG_KEY };
    json_t *out;
    membrane_error err;
    int rc;

    rc = get_many(client, selectors, 3, 0, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_STR(element_key(out, 0), "salesforce");
    CHECK_STR(element_key(out, 1), HUBSPOT_KEY);
    CHECK_STR(element_key(out, 2), CATALOG_KEY);
    json_decref(out);

    /* The reverse order gives the reverse array. */
    {
        const char *reversed[] = { CATALOG_KEY, HUBSPOT_KEY, "salesforce" };
        rc = get_many(client, reversed, 3, 0, &out, &err);
        CHECK_INT(rc, MEMBRANE_OK);
        CHECK_STR(element_key(out, 0), CATALOG_KEY);
        CHECK_STR(element_key(out, 1), HUBSPOT_KEY);
        CHECK_STR(element_key(out, 2), "salesforce");
        json_decref(out);
    }

    /* Ids, uuids and keys mixed, each giving its own integration. */
    {
        const char *mixed[] = { FIXTURE_UUID, "zendesk", HUBSPOT_ID };
        rc = get_many(client, mixed, 3, 0, &out, &err);
        CHECK_INT(rc, MEMBRANE_OK);
        CHECK_STR(jstr(json_array_get(out, 0), "uuid"), FIXTURE_UUID);
        CHECK_STR(element_key(out, 1), "zendesk");
        CHECK_STR(jstr(json_array_get(out, 2), "id"), HUBSPOT_ID);
        json_decref(out);
    }
}

static void test_mixed(membrane_client *client)
{
    char long_1025[1026], long_1024[1025];
    const char *selectors[9];
    json_t *out;
    membrane_error err;
    int rc;

    memset(long_1025, 'a', 1025);
    long_1025[1025] = '\0';
    memset(long_1024, 'b', 1024);
    long_1024[1024] = '\0';
    selectors[0] = HUBSPOT_KEY;
    selectors[1] = "no-such-batch-a";
    selectors[2] = "";
    selectors[3] = long_1025;
    selectors[4] = "salesforce";
    selectors[5] = "caf\xc3";   /* truncated UTF-8 */
    selectors[6] = long_1024;   /* the longest valid selector: a request, 404 */
    selectors[7] = "no-such-batch-b";
    selectors[8] = "\xff\xfe";  /* not UTF-8 */

    CHECK_INT(mock_clear_requests(), 0);
    rc = get_many(client, selectors, 9, 0, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_STR(element_key(out, 0), HUBSPOT_KEY);
    CHECK_ERROR_ELEMENT(out, 1, MEMBRANE_ENOTFOUND, 404, "not_found");
    CHECK_ERROR_ELEMENT(out, 2, MEMBRANE_EINVAL, 0, NULL);
    CHECK_ERROR_ELEMENT(out, 3, MEMBRANE_EINVAL, 0, NULL);
    CHECK_STR(element_key(out, 4), "salesforce");
    CHECK_ERROR_ELEMENT(out, 5, MEMBRANE_EINVAL, 0, NULL);
    CHECK_ERROR_ELEMENT(out, 6, MEMBRANE_ENOTFOUND, 404, "not_found");
    CHECK_ERROR_ELEMENT(out, 7, MEMBRANE_ENOTFOUND, 404, "not_found");
    CHECK_ERROR_ELEMENT(out, 8, MEMBRANE_EINVAL, 0, NULL);

    /* The 404's details are the API's. */
    {
        json_t *e = json_object_get(json_array_get(out, 1), "error");
        CHECK_STR(jstr(e, "type"), "bad_request");
        CHECK_STR(jstr(e, "error_id"), "");
        CHECK_MSG(contains(jstr(e, "message"), "no-such-batch-a"),
                  "404 message does not name the selector: %s",
                  jstr(e, "message") ? jstr(e, "message") : "(none)");
    }
    /* An invalid selector's error has no HTTP details. */
    {
        json_t *e = json_object_get(json_array_get(out, 2), "error");
        CHECK_STR(jstr(e, "type"), "");
        CHECK_STR(jstr(e, "key"), "");
        CHECK_STR(jstr(e, "error_id"), "");
    }
    json_decref(out);

    /* Five requests: hubspot, salesforce, the two unknown ones and the
       1024-byte one; none for the invalid selectors. */
    CHECK_INT(total_requests(), 5);
    CHECK_INT(mock_selector_count("no-such-batch-a"), 1);
    CHECK_INT(mock_selector_count(long_1024), 1);
    CHECK_INT(mock_selector_count(""), 0);
    CHECK_INT(mock_request_count("/integrations"), 0);
    CHECK_INT(mock_request_count("/integrations/"), 0);

    /* Every lookup failing is still a successful call. */
    {
        const char *all_bad[] = { "", "no-such-batch-c" };
        rc = get_many(client, all_bad, 2, 0, &out, &err);
        CHECK_INT(rc, MEMBRANE_OK);
        CHECK_ERROR_ELEMENT(out, 0, MEMBRANE_EINVAL, 0, NULL);
        CHECK_ERROR_ELEMENT(out, 1, MEMBRANE_ENOTFOUND, 404, "not_found");
        json_decref(out);
    }

    /* A server error in one place: the code and the error id there. */
    {
        const char *with_500[] = { HUBSPOT_KEY, "batch-500", "salesforce" };
        CHECK_INT(mock_clear_faults(), 0);
        CHECK_INT(mock_fault("{\"match\":\"batch-500\",\"status\":500,\"json\":{\"type\":"
                             "\"internal\",\"key\":\"internal_error\",\"message\":\"boom\","
                             "\"data\":{\"errorId\":\"err-batch-1\"}}}"),
                  0);
        rc = get_many(client, with_500, 3, 0, &out, &err);
        CHECK_INT(rc, MEMBRANE_OK);
        CHECK_STR(element_key(out, 0), HUBSPOT_KEY);
        CHECK_ERROR_ELEMENT(out, 1, MEMBRANE_ESERVER, 500, "internal_error");
        CHECK_STR(jstr(json_object_get(json_array_get(out, 1), "error"), "error_id"),
                  "err-batch-1");
        CHECK_STR(jstr(json_object_get(json_array_get(out, 1), "error"), "type"), "internal");
        CHECK_STR(element_key(out, 2), "salesforce");
        json_decref(out);
        CHECK_INT(mock_clear_faults(), 0);
    }
}

static void test_duplicates(membrane_client *client)
{
    const char *same[] = { HUBSPOT_KEY, HUBSPOT_KEY, HUBSPOT_KEY, HUBSPOT_KEY, HUBSPOT_KEY };
    const char *mixed[] = { "dup-missing", "salesforce", "dup-missing", "salesforce",
                            "dup-missing", "" , "" };
    json_t *out;
    membrane_error err;
    int rc;
    size_t i;

    CHECK_INT(mock_clear_requests(), 0);
    rc = get_many(client, same, 5, 0, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    for (i = 0; i < 5; i++) {
        CHECK_STR(element_key(out, i), HUBSPOT_KEY);
        CHECK_MSG(json_equal(json_array_get(out, i), json_array_get(out, 0)),
                  "duplicate %zu differs from the first", i);
    }
    /* (The header promises equal elements, not distinct json_t values.) */
    fprintf(stderr, "note: a duplicated selector's elements are %s\n",
            json_array_get(out, 0) != NULL && json_array_get(out, 0) == json_array_get(out, 1)
                ? "one shared json_t (changing one changes all)"
                : "separate json_t values");
    json_decref(out);
    CHECK_INT(mock_selector_count(HUBSPOT_KEY), 1);
    CHECK_INT(total_requests(), 1);

    CHECK_INT(mock_clear_requests(), 0);
    rc = get_many(client, mixed, 7, 0, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_ERROR_ELEMENT(out, 0, MEMBRANE_ENOTFOUND, 404, "not_found");
    CHECK_STR(element_key(out, 1), "salesforce");
    CHECK_ERROR_ELEMENT(out, 2, MEMBRANE_ENOTFOUND, 404, "not_found");
    CHECK_STR(element_key(out, 3), "salesforce");
    CHECK_ERROR_ELEMENT(out, 4, MEMBRANE_ENOTFOUND, 404, "not_found");
    CHECK_ERROR_ELEMENT(out, 5, MEMBRANE_EINVAL, 0, NULL);
    CHECK_ERROR_ELEMENT(out, 6, MEMBRANE_EINVAL, 0, NULL);
    CHECK(json_equal(json_array_get(out, 0), json_array_get(out, 2)));
    CHECK(json_equal(json_array_get(out, 0), json_array_get(out, 4)));
    CHECK(json_equal(json_array_get(out, 1), json_array_get(out, 3)));
    json_decref(out);
    CHECK_INT(mock_selector_count("dup-missing"), 1);
    CHECK_INT(mock_selector_count("salesforce"), 1);
    CHECK_INT(total_requests(), 2);
}

static void test_empty(membrane_client *client)
{
    const char *one[] = { HUBSPOT_KEY };
    json_t *out;
    membrane_error err;
    int rc;

    CHECK_INT(mock_clear_requests(), 0);
    rc = get_many(client, NULL, 0, 0, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK(json_is_array(out) && json_array_size(out) == 0);
    json_decref(out);

    rc = get_many(client, one, 0, 0, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK(json_is_array(out) && json_array_size(out) == 0);
    json_decref(out);

    /* err may be NULL. */
    out = POISON_JSON;
    rc = membrane_integrations_get_many(client, NULL, 0, 0, &out, NULL);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK(out != POISON_JSON && json_is_array(out) && json_array_size(out) == 0);
    if (out != POISON_JSON)
        json_decref(out);
    CHECK_INT(total_requests(), 0);
}

/* Expects the whole call to fail with EINVAL and no request. */
static void expect_einval(membrane_client *client, const char *const *selectors, size_t count,
                          unsigned flags, const char *what)
{
    json_t *out;
    membrane_error err;
    int rc;

    CHECK_INT(mock_clear_requests(), 0);
    rc = get_many(client, selectors, count, flags, &out, &err);
    CHECK_MSG(rc == MEMBRANE_EINVAL, "%s: got %d, want EINVAL", what, rc);
    CHECK_MSG(total_requests() == 0, "%s: %d request(s) made", what, total_requests());
    if (rc == MEMBRANE_OK)
        json_decref(out);

    /* The same without an error struct. */
    out = POISON_JSON;
    rc = membrane_integrations_get_many(client, selectors, count, flags, &out, NULL);
    CHECK_MSG(rc == MEMBRANE_EINVAL, "%s (err NULL): got %d, want EINVAL", what, rc);
    CHECK_MSG(out == NULL, "%s (err NULL): out not set to NULL", what);
    if (rc == MEMBRANE_OK && out != POISON_JSON)
        json_decref(out);
}

static void test_invalid(membrane_client *client)
{
    const char *two[] = { HUBSPOT_KEY, "salesforce" };
    const char *with_null_last[] = { HUBSPOT_KEY, "salesforce", NULL };
    const char *with_null_first[] = { NULL, HUBSPOT_KEY };
    json_t *out;
    membrane_error err;
    int rc;

    /* NULL client, NULL out. */
    out = POISON_JSON;
    err_poison(&err);
    rc = membrane_integrations_get_many(NULL, two, 2, 0, &out, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EINVAL);
    CHECK(out == NULL);
    err_poison(&err);
    rc = membrane_integrations_get_many(client, two, 2, 0, NULL, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EINVAL);
    CHECK_INT(membrane_integrations_get_many(NULL, NULL, 0, 0, NULL, NULL), MEMBRANE_EINVAL);

    expect_einval(client, NULL, 3, 0, "NULL selectors with count 3");
    expect_einval(client, with_null_last, 3, 0, "a NULL last element");
    expect_einval(client, with_null_first, 2, 0, "a NULL first element");
    expect_einval(client, two, 2, 2u, "flags 2");
    expect_einval(client, two, 2, MEMBRANE_INCLUDE_SECRETS | 4u, "flags 5");
    expect_einval(client, two, 2, 0x80000000u, "flags 0x80000000");

    /* count too large: a real array of 1,000,001 pointers, so that a library
       that reads it before checking the count stays in bounds. */
    {
        size_t n = 1000001, i;
        const char **many = malloc(n * sizeof *many);
        CHECK(many != NULL);
        if (many != NULL) {
            for (i = 0; i < n; i++)
                many[i] = HUBSPOT_KEY;
            expect_einval(client, many, n, 0, "count 1000001");
            expect_einval(client, many, (size_t)-1, 0, "count SIZE_MAX");
            free(many);
        }
    }
}

static void test_secrets(membrane_client *client)
{
    const char *selectors[] = { HUBSPOT_KEY, "no-such-secret" };
    json_t *out, *requests;
    membrane_error err;
    int rc;
    const char *secret, *query;

    CHECK_INT(mock_clear_requests(), 0);
    rc = get_many(client, selectors, 2, MEMBRANE_INCLUDE_SECRETS, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    secret = jstr(json_object_get(json_array_get(out, 0), "parameters"), "clientSecret");
    CHECK_STR(secret, HUBSPOT_SECRET);
    CHECK_ERROR_ELEMENT(out, 1, MEMBRANE_ENOTFOUND, 404, "not_found");
    json_decref(out);
    requests = mock_requests();
    CHECK_INT(json_array_size(requests), 2);
    query = mock_request_string(json_array_get(requests, 0), "query");
    CHECK_MSG(contains(query, "includeSecrets=true"), "query with the flag: %s",
              query ? query : "(none)");
    json_decref(requests);

    CHECK_INT(mock_clear_requests(), 0);
    rc = get_many(client, selectors, 1, 0, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    secret = jstr(json_object_get(json_array_get(out, 0), "parameters"), "clientSecret");
    CHECK_STR(secret, "********");
    json_decref(out);
    requests = mock_requests();
    query = mock_request_string(json_array_get(requests, 0), "query");
    CHECK_MSG(query != NULL && !contains(query, "includeSecrets=true"),
              "query without the flag: %s",
              query ? query : "(none)");
    json_decref(requests);
}

/* 1,000 distinct selectors: every fixture's id, uuid and key (45), and 955
   unknown ones, shuffled. */
static void test_thousand(membrane_client *client)
{
    enum { N = 1000 };
    static char names[N][48];
    const char *selectors[N];
    int expected[N]; /* fixture index, or -1 for an unknown selector */
    size_t f, i;
    size_t known = 0;
    unsigned long seed = 12345;
    json_t *out, *requests, *counts, *request;
    membrane_error err;
    int rc, wrong = 0, miscounted = 0;
    double t0, elapsed;
    static const char *const fields[] = { "id", "uuid", "key" };

    for (f = 0; f < json_array_size(fixtures); f++) {
        size_t k;
        for (k = 0; k < 3; k++) {
            const char *value = jstr(json_array_get(fixtures, f), fields[k]);
            if (value == NULL || known >= N)
                continue;
            snprintf(names[known], sizeof names[known], "%s", value);
            expected[known] = (int)f;
            known++;
        }
    }
    CHECK_INT(known, 45);
    for (i = known; i < N; i++) {
        snprintf(names[i], sizeof names[i], "missing-%04zu", i);
        expected[i] = -1;
    }
    /* A fixed shuffle (Fisher-Yates with a small LCG). */
    for (i = N - 1; i > 0; i--) {
        size_t j;
        char tmp[48];
        int e;
        seed = seed * 1103515245UL + 12345UL;
        j = (size_t)((seed >> 16) % (i + 1));
        memcpy(tmp, names[i], sizeof tmp);
        memcpy(names[i], names[j], sizeof tmp);
        memcpy(names[j], tmp, sizeof tmp);
        e = expected[i];
        expected[i] = expected[j];
        expected[j] = e;
    }
    for (i = 0; i < N; i++)
        selectors[i] = names[i];

    CHECK_INT(mock_clear_requests(), 0);
    t0 = now_ms();
    rc = get_many(client, selectors, N, 0, &out, &err);
    elapsed = now_ms() - t0;
    CHECK_INT(rc, MEMBRANE_OK);
    fprintf(stderr, "note: get_many of 1,000 selectors (45 found, 955 not): %.0f ms\n", elapsed);

    for (i = 0; i < N && rc == MEMBRANE_OK; i++) {
        json_t *element = json_array_get(out, i);
        char why[160] = "";
        int ok;
        if (expected[i] >= 0) {
            const char *want_id = jstr(json_array_get(fixtures, (size_t)expected[i]), "id");
            ok = jstr(element, "id") != NULL && strcmp(jstr(element, "id"), want_id) == 0 &&
                 jstr(element, "name") != NULL;
            if (!ok)
                snprintf(why, sizeof why, "id %s, want %s",
                         jstr(element, "id") ? jstr(element, "id") : "(none)", want_id);
        } else {
            ok = is_error_element(element, MEMBRANE_ENOTFOUND, 404, "not_found", why, sizeof why);
        }
        if (!ok && wrong++ < 5)
            fprintf(stderr, "    element %zu (\"%s\"): %s\n", i, selectors[i], why);
    }
    CHECK_MSG(wrong == 0, "%d of 1000 elements wrong", wrong);
    json_decref(out);

    /* Each selector fetched exactly once. */
    requests = mock_requests();
    CHECK_INT(json_array_size(requests), N);
    counts = json_object();
    json_array_foreach(requests, i, request) {
        const char *selector = mock_request_string(request, "selector");
        if (selector != NULL) {
            json_int_t n = json_integer_value(json_object_get(counts, selector));
            json_object_set_new(counts, selector, json_integer(n + 1));
        }
    }
    for (i = 0; i < N; i++) {
        json_int_t n = json_integer_value(json_object_get(counts, selectors[i]));
        if (n != 1 && miscounted++ < 5)
            fprintf(stderr, "    selector \"%s\": %lld requests\n", selectors[i], (long long)n);
    }
    CHECK_MSG(miscounted == 0, "%d selectors not fetched exactly once", miscounted);
    json_decref(counts);
    json_decref(requests);
}

/* The 12 first non-archived fixture keys. */
static size_t fixture_keys(const char **keys, size_t max)
{
    size_t f, n = 0;
    for (f = 0; f < json_array_size(fixtures) && n < max; f++) {
        json_t *fx = json_array_get(fixtures, f);
        json_t *archived = json_object_get(fx, "archivedAt");
        if (jstr(fx, "key") != NULL && (archived == NULL || json_is_null(archived)))
            keys[n++] = jstr(fx, "key");
    }
    return n;
}

/* Runs one timed batch of `count` selectors with every request delayed by
   100 ms. Returns the elapsed time; checks every element is found. */
static double timed_batch(membrane_client *client, const char *const *selectors, size_t count)
{
    json_t *out;
    membrane_error err;
    int rc;
    double t0, elapsed;
    size_t i;
    int wrong = 0;

    t0 = now_ms();
    rc = get_many(client, selectors, count, 0, &out, &err);
    elapsed = now_ms() - t0;
    CHECK_MSG(rc == MEMBRANE_OK, "delayed batch: %d %s", rc, err.message);
    for (i = 0; i < count && rc == MEMBRANE_OK; i++) {
        const char *key = element_key(out, i);
        const char *id = jstr(json_array_get(out, i), "id");
        if (!(key != NULL && strcmp(key, selectors[i]) == 0) &&
            !(id != NULL && strcmp(id, selectors[i]) == 0))
            wrong++;
    }
    CHECK_MSG(wrong == 0, "delayed batch: %d of %zu elements wrong", wrong, count);
    json_decref(out);
    return elapsed;
}

/* A counter from /_mock/stats, or -1. */
static long stat_value(const json_t *stats, const char *name)
{
    const json_t *v = json_object_get(stats, name);
    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

/* Waits until the server answers no API request and holds no connection but
   the one asking (requests of earlier tests, e.g. canceled ones inside a
   5 s delayMs, stay in flight until their delay is over). Returns 1 when it
   got quiet. */
static int wait_until_quiet(const char *what)
{
    double t0 = now_ms(), limit = 8000.0 * time_scale;
    long in_flight = -1, open = -1;

    for (;;) {
        json_t *stats = mock_stats(NULL);
        in_flight = stat_value(stats, "requestsInFlight");
        open = stat_value(stats, "connectionsOpen");
        json_decref(stats);
        if (in_flight == 0 && open == 1)
            break;
        if (now_ms() - t0 > limit) {
            CHECK_MSG(0, "%s: the server did not get quiet within %.0f ms (requestsInFlight "
                         "%ld, connectionsOpen %ld)", what, limit, in_flight, open);
            return 0;
        }
        sleep_ms(50);
    }
    if (now_ms() - t0 > 100.0)
        fprintf(stderr, "note: %s: waited %.0f ms for earlier requests to end\n", what,
                now_ms() - t0);
    return 1;
}

/* Runs the 12-selector batch with `parallel` (0: the default), timing it;
   with the server's counters when it has them: it waits for a quiet server,
   resets them just before the batch and reads them right after, with no
   admin call in between (so the only admin connection they count is the
   one reading them). Returns the elapsed time; the counters go to
   `stats_out` (new reference, or NULL). */
static double measured_batch(int have_stats, long parallel, const char *const *selectors,
                             size_t count, json_t **stats_out, const char *what)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    double elapsed;

    *stats_out = NULL;
    if (client == NULL)
        return 0;
    if (parallel > 0)
        CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, parallel),
                  MEMBRANE_OK);
    CHECK_INT(mock_clear_requests(), 0);
    if (have_stats) {
        wait_until_quiet(what);
        CHECK_INT(mock_clear_stats(), 200);
    }
    elapsed = timed_batch(client, selectors, count);
    if (have_stats) {
        *stats_out = mock_stats(NULL);
        CHECK_MSG(*stats_out != NULL, "%s: GET /_mock/stats failed", what);
        if (*stats_out != NULL) {
            char *text = json_dumps(*stats_out, JSON_COMPACT | JSON_SORT_KEYS);
            fprintf(stderr, "note: %s: /_mock/stats after the batch: %s\n", what,
                    text ? text : "");
            free(text);
        }
    }
    CHECK_MSG(total_requests() == (int)count, "%s: %d requests for %zu selectors", what,
              total_requests(), count);
    membrane_client_free(client);
    return elapsed;
}

static void test_parallel(void)
{
    const char *keys[16];
    size_t nkeys = fixture_keys(keys, 12);
    membrane_client *client;
    double elapsed;
    long stats_status = 0;
    int have_stats;
    json_t *stats;
    const char *distinct[16];
    size_t f, n = 0;

    CHECK_INT(nkeys, 12);

    /* The option's range. */
    client = new_client(MOCK_TOKEN);
    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, 0), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, 257), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, -1), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, 1000000L),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, 1), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, 256), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_MAX_PARALLEL, "3"),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(NULL, MEMBRANE_OPT_MAX_PARALLEL, 3), MEMBRANE_EINVAL);
    membrane_client_free(client);

    /* Does the server count connections and requests? */
    stats = mock_stats(&stats_status);
    have_stats = stats != NULL;
    json_decref(stats);
    if (!have_stats) {
        CHECK_MSG(stats_status == 404, "GET /_mock/stats answered %ld (want 200, or 404 while "
                                       "the server has no such endpoint)", stats_status);
        fprintf(stderr, "note: the server has no GET /_mock/stats (HTTP %ld): parallelism "
                        "checked by elapsed time only\n", stats_status);
    }

    CHECK_INT(mock_clear_faults(), 0);
    CHECK_INT(mock_fault("{\"delayMs\":100,\"times\":0}"), 0);

    /* 3 at once: 12 requests take 4 rounds. */
    elapsed = measured_batch(have_stats, 3, keys, nkeys, &stats, "parallel 3");
    fprintf(stderr, "note: parallel 3, 12 selectors, 100 ms each: %.0f ms\n", elapsed);
    CHECK_MSG(elapsed >= 400.0, "parallel 3: %.0f ms, want >= 4 rounds of 100 ms", elapsed);
    CHECK_MSG(elapsed < 1000.0 * time_scale,
              "parallel 3: %.0f ms, want < %.0f (12 one at a time take 1200)", elapsed,
              1000.0 * time_scale);
    if (stats != NULL) {
        long in_flight = stat_value(stats, "maxRequestsInFlight");
        long conns = stat_value(stats, "maxConnectionsOpen");
        long opened = stat_value(stats, "connectionsOpened");
        CHECK_MSG(in_flight >= 2 && in_flight <= 3,
                  "parallel 3: maxRequestsInFlight %ld, want at most 3 (and 2 or more)",
                  in_flight);
        /* +1: the admin connection reading the counters, while the client
           keeps its 3 alive. */
        CHECK_MSG(conns >= 1 && conns <= 3 + 1,
                  "parallel 3: maxConnectionsOpen %ld, want at most 3 (+1 admin)", conns);
        CHECK_MSG(opened >= 1 && opened <= 3 + 1,
                  "parallel 3: connectionsOpened %ld, want at most 3 (+1 admin): the "
                  "connections are reused", opened);
        json_decref(stats);
    }

    /* 12 at once: one round. */
    elapsed = measured_batch(have_stats, 12, keys, nkeys, &stats, "parallel 12");
    fprintf(stderr, "note: parallel 12, 12 selectors, 100 ms each: %.0f ms\n", elapsed);
    CHECK_MSG(elapsed >= 100.0, "parallel 12: %.0f ms, shorter than one delay", elapsed);
    CHECK_MSG(elapsed < 200.0 * time_scale,
              "parallel 12: %.0f ms, want < %.0f (under 2 rounds of 100 ms)", elapsed,
              200.0 * time_scale);
    if (stats != NULL) {
        long in_flight = stat_value(stats, "maxRequestsInFlight");
        long conns = stat_value(stats, "maxConnectionsOpen");
        CHECK_MSG(in_flight > 8 && in_flight <= 12,
                  "parallel 12: maxRequestsInFlight %ld, want 9..12", in_flight);
        CHECK_MSG(conns <= 12 + 1, "parallel 12: maxConnectionsOpen %ld, want <= 12 (+1 admin)",
                  conns);
        json_decref(stats);
    }

    /* The default, 8 at once: 16 distinct selectors (the 12 keys and 4 ids)
       take 2 rounds. */
    for (f = 0; f < 12; f++)
        distinct[n++] = keys[f];
    for (f = 0; f < json_array_size(fixtures) && n < 16; f++)
        distinct[n++] = jstr(json_array_get(fixtures, f), "id");
    elapsed = measured_batch(have_stats, 0, distinct, n, &stats, "default parallelism");
    fprintf(stderr, "note: default parallelism, 16 selectors, 100 ms each: %.0f ms\n", elapsed);
    CHECK_MSG(elapsed >= 200.0, "default (8): %.0f ms, want >= 2 rounds of 100 ms", elapsed);
    CHECK_MSG(elapsed < 300.0 * time_scale, "default (8): %.0f ms, want < %.0f (3 rounds)",
              elapsed, 300.0 * time_scale);
    if (stats != NULL) {
        long in_flight = stat_value(stats, "maxRequestsInFlight");
        long conns = stat_value(stats, "maxConnectionsOpen");
        CHECK_MSG(in_flight >= 2 && in_flight <= 8,
                  "default parallelism: maxRequestsInFlight %ld, want at most 8", in_flight);
        CHECK_MSG(conns <= 8 + 1,
                  "default parallelism: maxConnectionsOpen %ld, want at most 8 (+1 admin)",
                  conns);
        json_decref(stats);
    }

    CHECK_INT(mock_clear_faults(), 0);
}

typedef struct {
    membrane_client *client;
    const char *const *selectors;
    size_t count;
    int rc;
    membrane_error err;
    json_t *out;
    double started_ms;
    double returned_ms;
} batch_call;

static void *run_batch(void *arg)
{
    batch_call *c = arg;
    c->out = POISON_JSON;
    err_poison(&c->err);
    c->started_ms = now_ms();
    c->rc = membrane_integrations_get_many(c->client, c->selectors, c->count, 0, &c->out,
                                           &c->err);
    c->returned_ms = now_ms();
    return NULL;
}

static void test_cancel(void)
{
    const char *keys[12];
    size_t nkeys = fixture_keys(keys, 12);
    membrane_client *client = new_client(MOCK_TOKEN);
    batch_call c;
    pthread_t thread;
    double cancel_ms, latency;

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, 3), MEMBRANE_OK);
    CHECK_INT(mock_clear_faults(), 0);
    CHECK_INT(mock_fault("{\"delayMs\":5000,\"times\":0}"), 0);

    memset(&c, 0, sizeof c);
    c.client = client;
    c.selectors = keys;
    c.count = nkeys;
    if (pthread_create(&thread, NULL, run_batch, &c) != 0) {
        CHECK_MSG(0, "pthread_create failed");
        membrane_client_free(client);
        return;
    }
    sleep_ms(300);
    cancel_ms = now_ms();
    CHECK_INT(membrane_client_cancel(client), MEMBRANE_OK);
    pthread_join(thread, NULL);
    latency = c.returned_ms - cancel_ms;
    fprintf(stderr, "note: cancel during a slow batch: returned %.1f ms after "
                    "membrane_client_cancel (\"%s\")\n",
            latency, err_terminated(&c.err) ? c.err.message : "");
    CHECK_MSG(c.rc == MEMBRANE_ECANCELED, "canceled batch: got %d (%s), want ECANCELED", c.rc,
              err_terminated(&c.err) ? c.err.message : "");
    CHECK_INT(c.err.code, c.rc);
    CHECK(err_terminated(&c.err) && c.err.message[0] != '\0');
    CHECK_MSG(c.out == NULL, "canceled batch: out not set to NULL");
    CHECK_MSG(c.returned_ms >= cancel_ms, "the batch ended %.0f ms before the cancel",
              cancel_ms - c.returned_ms);
    CHECK_MSG(latency < 200.0 * time_scale, "canceled batch returned %.1f ms after the "
                                            "cancel, bound %.0f ms",
              latency, 200.0 * time_scale);
    if (c.out != NULL && c.out != POISON_JSON)
        json_decref(c.out);
    CHECK_INT(mock_clear_faults(), 0);

    /* The client works afterwards. */
    {
        json_t *out;
        membrane_error err;
        const char *two[] = { HUBSPOT_KEY, "salesforce" };
        int rc = get_many(client, two, 2, 0, &out, &err);
        CHECK_MSG(rc == MEMBRANE_OK, "batch after a cancel: %d %s", rc, err.message);
        CHECK_STR(element_key(out, 0), HUBSPOT_KEY);
        CHECK_STR(element_key(out, 1), "salesforce");
        json_decref(out);
    }
    membrane_client_free(client);
}

/* Several threads run batches on one client at once. */
#define BATCH_THREADS 4
#define BATCH_ROUNDS 10

typedef struct {
    membrane_client *client;
    int index;
    int failed;
    int wrong;
} batch_worker;

static void *run_batch_worker(void *arg)
{
    batch_worker *w = arg;
    const char *selectors[30];
    char unknown[10][32];
    int round;
    size_t i, n;

    n = fixture_keys(selectors, 12);
    for (i = 0; i < 10; i++) {
        snprintf(unknown[i], sizeof unknown[i], "conc-%d-%zu", w->index, i);
        selectors[n++] = unknown[i];
    }
    for (round = 0; round < BATCH_ROUNDS; round++) {
        json_t *out = NULL;
        membrane_error err;
        int rc = membrane_integrations_get_many(w->client, selectors, n, 0, &out, &err);
        if (rc != MEMBRANE_OK) {
            w->failed++;
            continue;
        }
        for (i = 0; i < n; i++) {
            json_t *e = json_array_get(out, i);
            if (i < 12 ? !(element_key(out, i) && strcmp(element_key(out, i), selectors[i]) == 0)
                       : json_integer_value(json_object_get(json_object_get(e, "error"),
                                                            "code")) != MEMBRANE_ENOTFOUND)
                w->wrong++;
        }
        json_decref(out);
    }
    return NULL;
}

static void test_concurrent_batches(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    pthread_t threads[BATCH_THREADS];
    batch_worker workers[BATCH_THREADS];
    int t, started = 0;

    if (client == NULL)
        return;
    memset(workers, 0, sizeof workers);
    for (t = 0; t < BATCH_THREADS; t++) {
        workers[t].client = client;
        workers[t].index = t;
        if (pthread_create(&threads[t], NULL, run_batch_worker, &workers[t]) != 0)
            break;
        started++;
    }
    CHECK_INT(started, BATCH_THREADS);
    for (t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
        CHECK_MSG(workers[t].failed == 0, "thread %d: %d batches failed", t, workers[t].failed);
        CHECK_MSG(workers[t].wrong == 0, "thread %d: %d elements wrong", t, workers[t].wrong);
    }
    membrane_client_free(client);
}

int main(void)
{
    const char *scale = getenv("MEMBRANE_TIME_SCALE");
    membrane_client *client;

    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    if (scale != NULL && atof(scale) >= 1.0)
        time_scale = atof(scale);
    mock_clear_faults();
    if (load_fixtures() != 0) {
        mock_admin_cleanup();
        return check_report();
    }
    client = new_client(MOCK_TOKEN);
    if (client != NULL) {
        test_order(client);
        test_mixed(client);
        test_duplicates(client);
        test_empty(client);
        test_invalid(client);
        test_secrets(client);
        test_thousand(client);
        membrane_client_free(client);
    }
    test_parallel();
    test_cancel();
    test_concurrent_batches();
    mock_clear_faults();
    mock_clear_requests();
    json_decref(fixtures);
    mock_admin_cleanup();
    return check_report();
}
