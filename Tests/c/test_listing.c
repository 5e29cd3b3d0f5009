/*
 * test_listing.c: membrane_integrations_list and membrane_integrations_list_all
 * against the stand-in server.
 *
 *   - pages: {"limit": 4} gives 4 items and a cursor, the cursor the next 4,
 *     the last page no cursor; list_all follows the cursors (14 non-archived
 *     fixtures in ceil(14/4) = 4 requests; 15 with includeArchived) and
 *     starts at a given cursor;
 *   - query encoding, as the server's request log shows it: reserved
 *     characters and UTF-8 percent-encoded, booleans "true"/"false",
 *     integers as digits;
 *   - bad queries (not an object; nested object, array or null values) and
 *     NULL arguments: EINVAL before any request;
 *   - a server that repeats a cursor, or hands out more pages than
 *     MEMBRANE_OPT_MAX_PAGES: EPROTOCOL after exactly so many requests; the
 *     option's range;
 *   - pages of the wrong shape: EPROTOCOL naming the field;
 *   - an error on a later page fails the whole call.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>

#include "support.h"

#define FIXTURES_PATH "examples/fixtures/integrations.json"

/* The fixtures' ids, in file order: all of them, and the non-archived ones
   (the list's default order). */
static const char *all_ids[32];
static size_t all_count;
static const char *live_ids[32];
static size_t live_count;
static json_t *fixtures;

static int load_fixtures(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(FIXTURES_PATH, 0, &jerr);
    json_t *fx;
    size_t i;

    CHECK_MSG(root != NULL, "cannot read %s: %s", FIXTURES_PATH, jerr.text);
    if (root == NULL)
        return -1;
    fixtures = json_incref(json_object_get(root, "integrations"));
    json_decref(root);
    json_array_foreach(fixtures, i, fx) {
        json_t *archived = json_object_get(fx, "archivedAt");
        if (all_count < 32)
            all_ids[all_count++] = jstr(fx, "id");
        if ((archived == NULL || json_is_null(archived)) && live_count < 32)
            live_ids[live_count++] = jstr(fx, "id");
    }
    CHECK_INT(all_count, 15);
    CHECK_INT(live_count, 14);
    return all_count == 15 && live_count == 14 ? 0 : -1;
}

/* Parses a JSON literal (a test constant). */
static json_t *J(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        fprintf(stderr, "test bug: bad JSON %s: %s\n", text, jerr.text);
    return v;
}

/* One list call: checks the shape of a success (an object with an "items"
   array) or of a failure (out NULL, err filled). Returns the code. */
static int list_page(membrane_client *client, const json_t *query, json_t **out,
                     membrane_error *err)
{
    int rc;

    *out = POISON_JSON;
    err_poison(err);
    rc = membrane_integrations_list(client, query, out, err);
    CHECK_INT(err->code, rc);
    CHECK(err_terminated(err));
    if (rc == MEMBRANE_OK) {
        CHECK_SUCCESS(rc, *err);
        CHECK_MSG(*out != POISON_JSON && json_is_object(*out) &&
                      json_is_array(json_object_get(*out, "items")),
                  "list succeeded without a page");
    } else {
        CHECK_MSG(*out == NULL, "list failed (%d) and left out non-NULL", rc);
        CHECK_MSG(err->message[0] != '\0', "list failed (%d) with an empty message", rc);
    }
    if (*out == POISON_JSON)
        *out = NULL;
    return rc;
}

/* The same for list_all: a success is an array. */
static int list_all(membrane_client *client, const json_t *query, json_t **out,
                    membrane_error *err)
{
    int rc;

    *out = POISON_JSON;
    err_poison(err);
    rc = membrane_integrations_list_all(client, query, out, err);
    CHECK_INT(err->code, rc);
    CHECK(err_terminated(err));
    if (rc == MEMBRANE_OK) {
        CHECK_SUCCESS(rc, *err);
        CHECK_MSG(*out != POISON_JSON && json_is_array(*out), "list_all succeeded without an array");
    } else {
        CHECK_MSG(*out == NULL, "list_all failed (%d) and left out non-NULL", rc);
        CHECK_MSG(err->message[0] != '\0', "list_all failed (%d) with an empty message", rc);
    }
    if (*out == POISON_JSON)
        *out = NULL;
    return rc;
}

/* 1 when `items` holds exactly the integrations `ids[0..n)` in that order;
   otherwise 0, and the difference is printed. */
static int items_are(const json_t *items, const char *const *ids, size_t n, const char *what)
{
    size_t i;

    if (!json_is_array(items)) {
        fprintf(stderr, "    %s: no items array\n", what);
        return 0;
    }
    if (json_array_size(items) != n) {
        fprintf(stderr, "    %s: %zu items, want %zu\n", what, json_array_size(items), n);
        return 0;
    }
    for (i = 0; i < n; i++) {
        const char *id = jstr(json_array_get(items, i), "id");
        if (id == NULL || strcmp(id, ids[i]) != 0) {
            fprintf(stderr, "    %s: item %zu is %s, want %s\n", what, i, id ? id : "(no id)",
                    ids[i]);
            return 0;
        }
    }
    return 1;
}

/* The raw query of the last list request the server saw (static copy). */
static const char *last_list_query(void)
{
    static char copy[4096];
    json_t *queries = mock_list_queries();
    size_t n = json_array_size(queries);

    copy[0] = '\0';
    if (n == 0) {
        json_decref(queries);
        return NULL;
    }
    snprintf(copy, sizeof copy, "%s", json_string_value(json_array_get(queries, n - 1)));
    json_decref(queries);
    return copy;
}

/* 1 when the raw query `q` has the parameter `pair` ("name=value") as one
   of its &-separated parts. */
static int has_param(const char *q, const char *pair)
{
    size_t len = strlen(pair);
    const char *p = q;

    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, pair, len) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* The decoded value of parameter `name` in the raw query `q`: 0, or -1
   when it is missing or malformed. */
static int param_value(const char *q, const char *name, char *out, size_t size)
{
    size_t len = strlen(name);
    const char *p = q;

    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > len && strncmp(p, name, len) == 0 && p[len] == '=') {
            char raw[512];
            if (n - len - 1 >= sizeof raw)
                return -1;
            memcpy(raw, p + len + 1, n - len - 1);
            raw[n - len - 1] = '\0';
            return mock_percent_decode(raw, out, size);
        }
        p = end ? end + 1 : NULL;
    }
    return -1;
}

static void test_pages(membrane_client *client)
{
    json_t *query, *page1, *page2, *page, *items;
    membrane_error err;
    int rc;
    const char *cursor;
    char cursor_copy[64] = "";
    size_t i, j, seen = 0;
    const char *q;

    CHECK_INT(mock_clear_requests(), 0);
    query = J("{\"limit\": 4}");
    rc = list_page(client, query, &page1, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    items = json_object_get(page1, "items");
    CHECK_INT(json_array_size(items), 4);
    CHECK_MSG(items_are(items, live_ids, 4, "page 1"), "page 1 is not the first 4 fixtures");
    cursor = jstr(page1, "cursor");
    CHECK_MSG(cursor != NULL && cursor[0] != '\0', "page 1 has no cursor");
    snprintf(cursor_copy, sizeof cursor_copy, "%s", cursor ? cursor : "");
    q = last_list_query();
    CHECK_MSG(q != NULL && has_param(q, "limit=4") && !contains(q, "cursor"),
              "page 1 query: %s", q ? q : "(none)");
    /* Every item is a whole integration, unknown fields included. */
    CHECK(json_is_object(json_object_get(json_array_get(items, 0), "connection")));
    CHECK(json_is_object(json_object_get(json_array_get(items, 0), "meta")));

    /* The cursor gives the next 4, with no overlap. */
    json_object_set_new(query, "cursor", json_string(cursor_copy));
    rc = list_page(client, query, &page2, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(items_are(json_object_get(page2, "items"), live_ids + 4, 4, "page 2"),
              "page 2 is not fixtures 5-8");
    for (i = 0; i < json_array_size(items); i++)
        for (j = 0; j < json_array_size(json_object_get(page2, "items")); j++)
            if (json_equal(json_object_get(json_array_get(items, i), "id"),
                           json_object_get(json_array_get(json_object_get(page2, "items"), j),
                                           "id")))
                seen++;
    CHECK_MSG(seen == 0, "pages 1 and 2 overlap in %zu items", seen);
    q = last_list_query();
    {
        char want[96];
        snprintf(want, sizeof want, "cursor=%s", cursor_copy);
        CHECK_MSG(q != NULL && has_param(q, want) && has_param(q, "limit=4"),
                  "page 2 query: %s", q ? q : "(none)");
    }
    CHECK(jstr(page2, "cursor") != NULL && strcmp(jstr(page2, "cursor"), cursor_copy) != 0);

    /* Following the cursors to the end: 4 pages, the last without a cursor. */
    {
        int pages = 2;
        const char *next = jstr(page2, "cursor");
        json_t *prev = page2;
        size_t total = 8;
        json_incref(prev);
        while (next != NULL && pages < 10) {
            json_object_set_new(query, "cursor", json_string(next));
            rc = list_page(client, query, &page, &err);
            CHECK_INT(rc, MEMBRANE_OK);
            if (rc != MEMBRANE_OK)
                break;
            pages++;
            total += json_array_size(json_object_get(page, "items"));
            json_decref(prev);
            prev = page;
            next = jstr(page, "cursor");
        }
        CHECK_INT(pages, 4);
        CHECK_INT(total, 14);
        CHECK_INT(json_array_size(json_object_get(prev, "items")), 2);
        CHECK_MSG(json_object_get(prev, "cursor") == NULL, "the last page has a cursor");
        json_decref(prev);
    }
    json_decref(page1);
    json_decref(page2);
    json_decref(query);

    /* No query: the server's default page (20), everything in one. */
    CHECK_INT(mock_clear_requests(), 0);
    rc = list_page(client, NULL, &page, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(items_are(json_object_get(page, "items"), live_ids, 14, "no query"),
              "a list without query is not the 14 non-archived fixtures");
    CHECK(json_object_get(page, "cursor") == NULL);
    json_decref(page);
    q = last_list_query();
    CHECK_MSG(q != NULL && q[0] == '\0', "no query sent \"%s\"", q ? q : "(none)");

    /* An empty object: the same. */
    query = json_object();
    rc = list_page(client, query, &page, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_INT(json_array_size(json_object_get(page, "items")), 14);
    json_decref(page);
    json_decref(query);
}

static void test_list_all(membrane_client *client)
{
    json_t *query, *out, *queries;
    membrane_error err;
    int rc;
    char *before, *after;
    size_t i;

    /* limit 4: 4 requests, every non-archived fixture in order. */
    CHECK_INT(mock_clear_requests(), 0);
    query = J("{\"limit\": 4}");
    before = json_dumps(query, JSON_SORT_KEYS);
    rc = list_all(client, query, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(items_are(out, live_ids, 14, "list_all limit 4"),
              "list_all is not the 14 non-archived fixtures");
    for (i = 0; i < json_array_size(out); i++)
        CHECK_MSG(json_object_get(json_array_get(out, i), "archivedAt") == NULL ||
                      json_is_null(json_object_get(json_array_get(out, i), "archivedAt")),
                  "item %zu is archived", i);
    json_decref(out);
    CHECK_INT(mock_list_count(), 4);
    queries = mock_list_queries();
    CHECK_INT(json_array_size(queries), 4);
    {
        const char *q0 = json_string_value(json_array_get(queries, 0));
        CHECK_MSG(q0 != NULL && !contains(q0, "cursor"), "first list_all query: %s",
                  q0 ? q0 : "(none)");
        for (i = 0; i < json_array_size(queries); i++)
            CHECK_MSG(has_param(json_string_value(json_array_get(queries, i)), "limit=4"),
                      "list_all query %zu lost the limit: %s", i,
                      json_string_value(json_array_get(queries, i)));
        CHECK(has_param(json_string_value(json_array_get(queries, 1)), "cursor=4"));
        CHECK(has_param(json_string_value(json_array_get(queries, 2)), "cursor=8"));
        CHECK(has_param(json_string_value(json_array_get(queries, 3)), "cursor=12"));
    }
    json_decref(queries);
    /* The caller's query is untouched. */
    after = json_dumps(query, JSON_SORT_KEYS);
    CHECK_STR(after, before);
    free(before);
    free(after);
    json_decref(query);

    /* includeArchived: all 15, in 4 requests. */
    CHECK_INT(mock_clear_requests(), 0);
    query = J("{\"limit\": 4, \"includeArchived\": true}");
    rc = list_all(client, query, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(items_are(out, all_ids, 15, "list_all includeArchived"),
              "list_all with includeArchived is not the 15 fixtures");
    json_decref(out);
    CHECK_INT(mock_list_count(), 4);
    json_decref(query);

    /* No query: one page. */
    CHECK_INT(mock_clear_requests(), 0);
    rc = list_all(client, NULL, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_INT(json_array_size(out), 14);
    json_decref(out);
    CHECK_INT(mock_list_count(), 1);

    /* limit 1: 14 pages. */
    CHECK_INT(mock_clear_requests(), 0);
    query = J("{\"limit\": 1}");
    rc = list_all(client, query, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(items_are(out, live_ids, 14, "list_all limit 1"), "list_all limit 1");
    json_decref(out);
    CHECK_INT(mock_list_count(), 14);
    json_decref(query);

    /* A cursor in the query is where reading starts. */
    CHECK_INT(mock_clear_requests(), 0);
    query = J("{\"limit\": 4, \"cursor\": \"8\"}");
    rc = list_all(client, query, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(items_are(out, live_ids + 8, 6, "list_all from cursor 8"),
              "list_all from cursor 8 is not fixtures 9-14");
    json_decref(out);
    CHECK_INT(mock_list_count(), 2);
    queries = mock_list_queries();
    CHECK(has_param(json_string_value(json_array_get(queries, 0)), "cursor=8"));
    json_decref(queries);
    json_decref(query);

    /* A search matching one integration. */
    query = J("{\"search\": \"HUB\"}");
    rc = list_all(client, query, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_INT(json_array_size(out), 1);
    CHECK_STR(jstr(json_array_get(out, 0), "key"), HUBSPOT_KEY);
    json_decref(out);
    json_decref(query);

    /* Nothing matching: an empty array. */
    query = J("{\"search\": \"no-integration-has-this\"}");
    rc = list_all(client, query, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK(json_is_array(out) && json_array_size(out) == 0);
    json_decref(out);
    json_decref(query);

    /* Secrets are the server's business: includeSecrets goes through. */
    query = J("{\"search\": \"hubspot\", \"includeSecrets\": true}");
    rc = list_all(client, query, &out, &err);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_STR(jstr(json_object_get(json_array_get(out, 0), "parameters"), "clientSecret"),
              "hubspot-client-secret-456");
    json_decref(out);
    json_decref(query);
}

/* Lists with `query_text` and returns the raw query the server saw (static
   copy) or NULL; `rc_out` gets the code. */
static const char *query_seen(membrane_client *client, const char *query_text, int *rc_out,
                              size_t *items_out)
{
    json_t *query = J(query_text), *page;
    membrane_error err;

    CHECK_INT(mock_clear_requests(), 0);
    *rc_out = list_page(client, query, &page, &err);
    if (items_out != NULL)
        *items_out = json_array_size(json_object_get(page, "items"));
    json_decref(page);
    json_decref(query);
    return last_list_query();
}

static void test_encoding(membrane_client *client)
{
    const char *q;
    int rc;
    size_t items;

    /* Reserved characters inside a value are escaped. */
    q = query_seen(client, "{\"search\": \"hub spot&x=1\"}", &rc, &items);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_INT(items, 0);
    CHECK_MSG(contains(q, "search=hub%20spot%26x%3D1"), "query: %s", q ? q : "(none)");
    CHECK_MSG(q != NULL && strchr(q, ' ') == NULL, "raw space in the query: %s", q ? q : "");
    CHECK_MSG(q != NULL && strchr(q, '&') == NULL, "raw & in the query: %s", q ? q : "");
    CHECK_MSG(q != NULL && strchr(q, '=') == strrchr(q, '='), "raw = in the value: %s",
              q ? q : "");

    /* A + would be a space to the server. */
    q = query_seen(client, "{\"search\": \"a+b\"}", &rc, NULL);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(contains(q, "search=a%2Bb"), "query: %s", q ? q : "(none)");

    /* Other reserved characters: # ? / % and a control character. */
    q = query_seen(client, "{\"search\": \"#?/%\\n\"}", &rc, NULL);
    CHECK_INT(rc, MEMBRANE_OK);
    {
        char value[64];
        CHECK_MSG(param_value(q, "search", value, sizeof value) == 0 &&
                      strcmp(value, "#?/%\n") == 0,
                  "query: %s", q ? q : "(none)");
        CHECK_MSG(q != NULL && strchr(q, '#') == NULL && strchr(q, '\n') == NULL &&
                      contains(q, "%25"),
                  "#, %% or a newline sent raw: %s", q ? q : "(none)");
    }

    /* UTF-8, byte by byte. */
    q = query_seen(client, "{\"search\": \"Z\\u00fcrich \\u2713 \\ud83d\\ude00\"}", &rc, NULL);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(contains(q, "search=Z%C3%BCrich%20%E2%9C%93%20%F0%9F%98%80"), "query: %s",
              q ? q : "(none)");

    /* Names are escaped too. */
    q = query_seen(client, "{\"a b&c\": \"d\"}", &rc, NULL);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(contains(q, "a%20b%26c=d"), "query: %s", q ? q : "(none)");

    /* Booleans and integers. */
    q = query_seen(client, "{\"includeArchived\": true, \"limit\": 20}", &rc, &items);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(q != NULL && has_param(q, "includeArchived=true") && has_param(q, "limit=20"),
              "query: %s", q ? q : "(none)");
    CHECK_INT(items, 15);
    q = query_seen(client, "{\"includeArchived\": false}", &rc, &items);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(has_param(q, "includeArchived=false"), "query: %s", q ? q : "(none)");
    CHECK_INT(items, 14);
    q = query_seen(client, "{\"limit\": 7}", &rc, &items);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(has_param(q, "limit=7"), "query: %s", q ? q : "(none)");
    CHECK_INT(items, 7);
    q = query_seen(client, "{\"limit\": 1000}", &rc, NULL);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(has_param(q, "limit=1000"), "query: %s", q ? q : "(none)");
    q = query_seen(client, "{\"big\": 9007199254740993}", &rc, NULL);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(has_param(q, "big=9007199254740993"), "query: %s", q ? q : "(none)");
    q = query_seen(client, "{\"weight\": 0.5}", &rc, NULL);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_MSG(has_param(q, "weight=0.5"), "query: %s", q ? q : "(none)");

    /* The server's own verdict on a bad value is its error. */
    {
        json_t *query = J("{\"limit\": -3}"), *page;
        membrane_error err;
        CHECK_INT(mock_clear_requests(), 0);
        rc = list_page(client, query, &page, &err);
        CHECK_INT(rc, MEMBRANE_EBADREQUEST);
        CHECK_INT(err.http_status, 400);
        CHECK_STR(err.key, "invalid_limit");
        CHECK_MSG(has_param(last_list_query(), "limit=-3"), "query: %s",
                  last_list_query() ? last_list_query() : "(none)");
        json_decref(query);
    }
}

/* Expects EINVAL from both list calls, with out NULL and no request. */
static void expect_query_einval(membrane_client *client, json_t *query, const char *what)
{
    json_t *out;
    membrane_error err;
    int rc;

    CHECK_INT(mock_clear_requests(), 0);
    rc = list_page(client, query, &out, &err);
    CHECK_MSG(rc == MEMBRANE_EINVAL, "list %s: got %d, want EINVAL", what, rc);
    if (rc == MEMBRANE_OK)
        json_decref(out);
    rc = list_all(client, query, &out, &err);
    CHECK_MSG(rc == MEMBRANE_EINVAL, "list_all %s: got %d, want EINVAL", what, rc);
    if (rc == MEMBRANE_OK)
        json_decref(out);
    CHECK_MSG(mock_list_count() == 0, "%s: %d request(s) made", what, mock_list_count());
    json_decref(query);
}

static void test_invalid(membrane_client *client)
{
    json_t *out;
    membrane_error err;
    int rc;
    json_t *query = J("{\"limit\": 4}");

    expect_query_einval(client, J("[]"), "query []");
    expect_query_einval(client, J("\"limit=4\""), "query \"limit=4\"");
    expect_query_einval(client, J("4"), "query 4");
    expect_query_einval(client, J("null"), "query null (a JSON null, not a NULL pointer)");
    expect_query_einval(client, J("{\"a\": {}}"), "a nested object");
    expect_query_einval(client, J("{\"a\": {\"b\": 1}}"), "a nested object with a field");
    expect_query_einval(client, J("{\"a\": []}"), "an empty array value");
    expect_query_einval(client, J("{\"a\": [1, 2]}"), "an array value");
    expect_query_einval(client, J("{\"a\": null}"), "a null value");
    expect_query_einval(client, J("{\"limit\": 4, \"search\": null}"),
                        "a null value after a good one");

    /* NULL client, NULL out. */
    out = POISON_JSON;
    err_poison(&err);
    rc = membrane_integrations_list(NULL, query, &out, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EINVAL);
    CHECK(out == NULL);
    err_poison(&err);
    rc = membrane_integrations_list(client, query, NULL, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EINVAL);
    out = POISON_JSON;
    err_poison(&err);
    rc = membrane_integrations_list_all(NULL, query, &out, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EINVAL);
    CHECK(out == NULL);
    err_poison(&err);
    rc = membrane_integrations_list_all(client, query, NULL, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EINVAL);
    CHECK_INT(membrane_integrations_list(NULL, NULL, NULL, NULL), MEMBRANE_EINVAL);
    CHECK_INT(membrane_integrations_list_all(NULL, NULL, NULL, NULL), MEMBRANE_EINVAL);

    /* err may be NULL on success. */
    out = POISON_JSON;
    CHECK_INT(membrane_integrations_list(client, query, &out, NULL), MEMBRANE_OK);
    CHECK(out != POISON_JSON && json_array_size(json_object_get(out, "items")) == 4);
    if (out != POISON_JSON)
        json_decref(out);
    out = POISON_JSON;
    CHECK_INT(membrane_integrations_list_all(client, query, &out, NULL), MEMBRANE_OK);
    CHECK(out != POISON_JSON && json_array_size(out) == 14);
    if (out != POISON_JSON)
        json_decref(out);
    json_decref(query);

    /* The wrong token. */
    {
        membrane_client *wrong = new_client("wrong-token-listing-7f3a");
        if (wrong != NULL) {
            rc = list_all(wrong, NULL, &out, &err);
            CHECK_FAIL(rc, err, MEMBRANE_EAUTH);
            CHECK_INT(err.http_status, 401);
            CHECK(!contains(err.message, "7f3a"));
            rc = list_page(wrong, NULL, &out, &err);
            CHECK_FAIL(rc, err, MEMBRANE_EAUTH);
            membrane_client_free(wrong);
        }
    }
}

/* Installs `fault` (for the list route), runs list_all with `query_text`,
   and returns the code; `requests` gets how many list requests were made. */
static int list_all_with_fault(membrane_client *client, const char *fault, const char *query_text,
                               membrane_error *err, int *requests)
{
    json_t *query = query_text != NULL ? J(query_text) : NULL, *out;
    int rc;

    CHECK_INT(mock_clear_faults(), 0);
    CHECK_INT(mock_clear_requests(), 0);
    if (fault != NULL)
        CHECK_MSG(mock_fault(fault) == 0, "could not install fault %s", fault);
    rc = list_all(client, query, &out, err);
    if (rc == MEMBRANE_OK)
        json_decref(out);
    *requests = mock_list_count();
    CHECK_INT(mock_clear_faults(), 0);
    json_decref(query);
    return rc;
}

/* The same for one page. */
static int list_with_fault(membrane_client *client, const char *fault, membrane_error *err)
{
    json_t *out;
    int rc;

    CHECK_INT(mock_clear_faults(), 0);
    CHECK_MSG(mock_fault(fault) == 0, "could not install fault %s", fault);
    rc = list_page(client, NULL, &out, err);
    if (rc == MEMBRANE_OK)
        json_decref(out);
    CHECK_INT(mock_clear_faults(), 0);
    return rc;
}

static void test_cursor_loop(membrane_client *client)
{
    membrane_error err;
    int rc, requests;

    /* The same cursor forever. */
    rc = list_all_with_fault(client,
                             "{\"match\":\"\",\"json\":{\"items\":[],\"cursor\":\"same\"},"
                             "\"times\":0}",
                             NULL, &err, &requests);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_MSG(contains(err.message, "cursor"), "message: %s", err.message);
    CHECK_INT(requests, 2);

    /* A, B, then A again. */
    rc = list_all_with_fault(client,
                             "[{\"match\":\"\",\"json\":{\"items\":[],\"cursor\":\"A\"}},"
                             "{\"match\":\"\",\"json\":{\"items\":[],\"cursor\":\"B\"}},"
                             "{\"match\":\"\",\"json\":{\"items\":[],\"cursor\":\"A\"}},"
                             "{\"match\":\"\",\"json\":{\"items\":[]},\"times\":0}]",
                             NULL, &err, &requests);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_MSG(contains(err.message, "cursor"), "message: %s", err.message);
    CHECK_INT(requests, 3);

    /* The cursor the caller started from, handed out again. */
    rc = list_all_with_fault(client,
                             "{\"match\":\"\",\"json\":{\"items\":[],\"cursor\":\"start\"},"
                             "\"times\":0}",
                             "{\"cursor\": \"start\"}", &err, &requests);
    CHECK_MSG(rc == MEMBRANE_EPROTOCOL && requests <= 2,
              "a page handing back the starting cursor: %d after %d requests", rc, requests);

    /* Distinct cursors (A, B, C, then none) are fine. */
    rc = list_all_with_fault(client,
                             "[{\"match\":\"\",\"json\":{\"items\":[{\"name\":\"one\"}],"
                             "\"cursor\":\"A\"}},"
                             "{\"match\":\"\",\"json\":{\"items\":[],\"cursor\":\"B\"}},"
                             "{\"match\":\"\",\"json\":{\"items\":[{\"name\":\"two\"}],"
                             "\"cursor\":\"C\"}},"
                             "{\"match\":\"\",\"json\":{\"items\":[{\"name\":\"three\"}]}}]",
                             NULL, &err, &requests);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_INT(requests, 4);
}

static void test_page_cap(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    membrane_error err;
    int rc, requests;

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PAGES, 0), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PAGES, -1), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(NULL, MEMBRANE_OPT_MAX_PAGES, 2), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_MAX_PAGES, "2"), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PAGES, 1), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PAGES, 2), MEMBRANE_OK);

    /* 7 pages of 2 needed, 2 allowed. */
    rc = list_all_with_fault(client, NULL, "{\"limit\": 2}", &err, &requests);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_INT(requests, 2);
    fprintf(stderr, "note: page cap message: %s\n", err.message);

    /* Exactly 7 allowed: fine. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PAGES, 7), MEMBRANE_OK);
    rc = list_all_with_fault(client, NULL, "{\"limit\": 2}", &err, &requests);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_INT(requests, 7);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PAGES, 6), MEMBRANE_OK);
    rc = list_all_with_fault(client, NULL, "{\"limit\": 2}", &err, &requests);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_INT(requests, 6);

    /* One page allowed and one needed. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PAGES, 1), MEMBRANE_OK);
    rc = list_all_with_fault(client, NULL, NULL, &err, &requests);
    CHECK_INT(rc, MEMBRANE_OK);
    CHECK_INT(requests, 1);

    /* The cap does not limit a single list call. */
    {
        json_t *query = J("{\"limit\": 2}"), *page;
        rc = list_page(client, query, &page, &err);
        CHECK_INT(rc, MEMBRANE_OK);
        json_decref(page);
        json_decref(query);
    }
    membrane_client_free(client);
}

static void test_bad_pages(membrane_client *client)
{
    static const struct {
        const char *fault;
        const char *names; /* the message must contain this, or NULL */
    } cases[] = {
        { "{\"match\":\"\",\"json\":{\"items\":[{\"name\":5}]}}", "items[0].name" },
        { "{\"match\":\"\",\"json\":{\"items\":[{\"name\":\"ok\"},{\"name\":\"x\",\"id\":5}]}}",
          "items[1].id" },
        { "{\"match\":\"\",\"json\":{\"items\":[{\"key\":\"no-name\"}]}}", "items[0].name" },
        { "{\"match\":\"\",\"json\":{\"items\":[5]}}", "items[0]" },
        { "{\"match\":\"\",\"json\":{\"cursor\":\"x\"}}", "items" },
        { "{\"match\":\"\",\"json\":{}}", "items" },
        { "{\"match\":\"\",\"json\":{\"items\":{}}}", "items" },
        { "{\"match\":\"\",\"json\":{\"items\":null}}", "items" },
        { "{\"match\":\"\",\"json\":[]}", NULL },
        { "{\"match\":\"\",\"json\":null}", NULL },
        { "{\"match\":\"\",\"json\":{\"items\":[],\"cursor\":5}}", "cursor" },
        { "{\"match\":\"\",\"body\":\"{\\\"items\\\": [\"}", NULL },
    };
    size_t i;
    membrane_error err;
    int rc, requests;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rc = list_with_fault(client, cases[i].fault, &err);
        CHECK_MSG(rc == MEMBRANE_EPROTOCOL, "list, page %s: got %d, want EPROTOCOL",
                  cases[i].fault, rc);
        if (cases[i].names != NULL)
            CHECK_MSG(contains(err.message, cases[i].names), "list, page %s: message \"%s\" "
                                                             "does not name %s",
                      cases[i].fault, err.message, cases[i].names);
        rc = list_all_with_fault(client, cases[i].fault, NULL, &err, &requests);
        CHECK_MSG(rc == MEMBRANE_EPROTOCOL, "list_all, page %s: got %d, want EPROTOCOL",
                  cases[i].fault, rc);
        if (cases[i].names != NULL)
            CHECK_MSG(contains(err.message, cases[i].names), "list_all, page %s: message \"%s\" "
                                                             "does not name %s",
                      cases[i].fault, err.message, cases[i].names);
        CHECK_INT(requests, 1);
    }

    /* A good page's unknown fields are kept, exactly as sent. */
    {
        json_t *page;
        CHECK_INT(mock_clear_faults(), 0);
        CHECK_INT(mock_fault("{\"match\":\"\",\"json\":{\"items\":[{\"name\":\"ok\",\"extra\":"
                             "[1,{\"x\":null}]}],\"total\":1}}"),
                  0);
        rc = list_page(client, NULL, &page, &err);
        CHECK_INT(rc, MEMBRANE_OK);
        CHECK_INT(json_integer_value(json_object_get(page, "total")), 1);
        {
            json_t *want = J("[1,{\"x\":null}]");
            CHECK(json_equal(json_object_get(json_array_get(json_object_get(page, "items"), 0),
                                             "extra"),
                             want));
            json_decref(want);
        }
        json_decref(page);
        CHECK_INT(mock_clear_faults(), 0);
    }

    /* A failure on a later page fails the whole call. */
    rc = list_all_with_fault(client,
                             "[{\"match\":\"\",\"delayMs\":1},"
                             "{\"match\":\"\",\"status\":403}]",
                             "{\"limit\": 4}", &err, &requests);
    CHECK_FAIL(rc, err, MEMBRANE_EACCESS);
    CHECK_INT(err.http_status, 403);
    CHECK_INT(requests, 2);
    rc = list_all_with_fault(client,
                             "[{\"match\":\"\",\"delayMs\":1},{\"match\":\"\",\"delayMs\":1},"
                             "{\"match\":\"\",\"json\":{\"items\":[{\"name\":5}]}}]",
                             "{\"limit\": 4}", &err, &requests);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK_MSG(contains(err.message, "items[0].name"), "message: %s", err.message);
    CHECK_INT(requests, 3);
    rc = list_all_with_fault(client, "{\"match\":\"\",\"status\":500}", NULL, &err, &requests);
    CHECK_FAIL(rc, err, MEMBRANE_ESERVER);
    CHECK(strncmp(err.error_id, "err-", 4) == 0);
}

int main(void)
{
    membrane_client *client;

    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    mock_clear_faults();
    if (load_fixtures() != 0) {
        json_decref(fixtures);
        mock_admin_cleanup();
        return check_report();
    }
    client = new_client(MOCK_TOKEN);
    if (client != NULL) {
        test_pages(client);
        test_list_all(client);
        test_encoding(client);
        test_invalid(client);
        test_cursor_loop(client);
        test_bad_pages(client);
        membrane_client_free(client);
    }
    test_page_cap();
    mock_clear_faults();
    mock_clear_requests();
    json_decref(fixtures);
    mock_admin_cleanup();
    return check_report();
}
