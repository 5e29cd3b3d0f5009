/*
 * test_faults.c: the fault matrix, from C. The rows are data, in
 * Tests/faults/matrix.json (MEMBRANE_FAULT_ROWS names another file), shared
 * with the Python runner (Tests/python/faultmatrix.py); the file says what
 * each field means. Each row uses
 *   - a fresh client (libcurl silently retries a request once when a reused
 *     kept-alive connection closes before the answer, so fresh clients keep
 *     request counts exact),
 *   - its own selector (the fault's `match`), so that the stand-in server's
 *     request log tells how many requests this row made,
 *   - the library's default retries (2) with a 20 ms backoff base unless the
 *     row says otherwise, so that "not retried" is proven, not assumed,
 * and checks the return code, err.http_status, the number of requests the
 * server saw for the row's selector, the elapsed time (CLOCK_MONOTONIC), the
 * message, key, type and error id, and on success the integration itself.
 *
 * The table (name, code, HTTP status, requests, elapsed ms) goes to stdout
 * and to the file named by MEMBRANE_FAULT_MATRIX (default
 * .build/test-logs/fault-matrix-c.txt). MEMBRANE_TIME_SCALE (default 1)
 * multiplies every upper time bound, for slow runs (valgrind).
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define RETRY_BASE_MS 20L
#define DEFAULT_TIMEOUT_MS 10000L
#define ROWS_FILE "Tests/faults/matrix.json"

static double time_scale = 1.0;
static FILE *table;

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static const char *code_name(int code)
{
    switch (code) {
    case MEMBRANE_OK:          return "OK";
    case MEMBRANE_EINVAL:      return "EINVAL";
    case MEMBRANE_EAUTH:       return "EAUTH";
    case MEMBRANE_EACCESS:     return "EACCESS";
    case MEMBRANE_ENOTFOUND:   return "ENOTFOUND";
    case MEMBRANE_ERATELIMIT:  return "ERATELIMIT";
    case MEMBRANE_EBADREQUEST: return "EBADREQUEST";
    case MEMBRANE_ESERVER:     return "ESERVER";
    case MEMBRANE_ENETWORK:    return "ENETWORK";
    case MEMBRANE_ETIMEOUT:    return "ETIMEOUT";
    case MEMBRANE_ETLS:        return "ETLS";
    case MEMBRANE_EPROTOCOL:   return "EPROTOCOL";
    case MEMBRANE_EINTERNAL:   return "EINTERNAL";
    case MEMBRANE_ECANCELED:   return "ECANCELED";
    default:                   return "?";
    }
}

/* 1 when the server accepts a fault with this action, 0 when it answers
   400 (an older stand-in server without it); nothing stays queued. */
static int action_supported(const char *action)
{
    char fault[256];
    char *body = NULL;
    long status;

    snprintf(fault, sizeof fault, "{\"match\":\"f-probe\",\"action\":\"%s\"}", action);
    status = mock_fault_status(fault, &body);
    CHECK_INT(mock_clear_faults(), 0);
    if (status == 400) {
        fprintf(stderr, "note: the stand-in server does not know action \"%s\" (%s); "
                        "its row falls back\n",
                action, body ? body : "");
        free(body);
        return 0;
    }
    free(body);
    CHECK_MSG(status >= 200 && status <= 299, "probing action %s: HTTP %ld", action, status);
    return status >= 200 && status <= 299;
}

/* ---------------------------------------------------------------------------
 * Rows from the data file
 * ------------------------------------------------------------------------- */

static int code_value(const char *name)
{
    static const struct { const char *name; int code; } codes[] = {
        {"OK", MEMBRANE_OK}, {"EINVAL", MEMBRANE_EINVAL}, {"EAUTH", MEMBRANE_EAUTH},
        {"EACCESS", MEMBRANE_EACCESS}, {"ENOTFOUND", MEMBRANE_ENOTFOUND},
        {"ERATELIMIT", MEMBRANE_ERATELIMIT}, {"EBADREQUEST", MEMBRANE_EBADREQUEST},
        {"ESERVER", MEMBRANE_ESERVER}, {"ENETWORK", MEMBRANE_ENETWORK},
        {"ETIMEOUT", MEMBRANE_ETIMEOUT}, {"ETLS", MEMBRANE_ETLS},
        {"EPROTOCOL", MEMBRANE_EPROTOCOL}, {"EINTERNAL", MEMBRANE_EINTERNAL},
        {"ECANCELED", MEMBRANE_ECANCELED},
    };
    size_t i;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (name != NULL && strcmp(codes[i].name, name) == 0)
            return codes[i].code;
    CHECK_MSG(0, "unknown code name \"%s\" in the rows file", name ? name : "(null)");
    return 12345;
}

/* `text` with the file's placeholders filled in, as a new string: $MOCK_URL
   (a prefix), "$HTTP_DATE+N" (an HTTP date N s ahead), "$PADDING" (1500 p's). */
static char *expand(const char *text)
{
    char *out;
    if (strncmp(text, "$MOCK_URL", 9) == 0) {
        size_t n = strlen(mock_url()) + strlen(text + 9) + 1;
        out = malloc(n);
        if (out != NULL)
            snprintf(out, n, "%s%s", mock_url(), text + 9);
        return out;
    }
    if (strncmp(text, "$HTTP_DATE+", 11) == 0) {
        time_t later = time(NULL) + atoi(text + 11);
        struct tm tm;
        out = malloc(64);
        gmtime_r(&later, &tm);
        if (out != NULL)
            strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        return out;
    }
    if (strcmp(text, "$PADDING") == 0) {
        out = malloc(1501);
        if (out != NULL) {
            memset(out, 'p', 1500);
            out[1500] = '\0';
        }
        return out;
    }
    return strdup(text);
}

/* Fills the placeholders in every string of `value`, in place. */
static void expand_all(json_t *value)
{
    const char *key;
    json_t *member;
    size_t i;
    void *tmp;

    if (json_is_string(value)) {
        char *text = expand(json_string_value(value));
        if (text != NULL)
            json_string_set(value, text);
        free(text);
    } else if (json_is_object(value)) {
        json_object_foreach_safe(value, tmp, key, member)
            expand_all(member);
    } else if (json_is_array(value)) {
        json_array_foreach(value, i, member)
            expand_all(member);
    }
}

static const char *str_or(const json_t *object, const char *field, const char *fallback)
{
    const char *text = json_string_value(json_object_get(object, field));
    return text != NULL ? text : fallback;
}

static long long_or(const json_t *object, const char *field, long fallback)
{
    const json_t *value = json_object_get(object, field);
    return json_is_integer(value) ? (long)json_integer_value(value) : fallback;
}

/* The row's faults, each matched to `selector`, placeholders filled, and an
   action the stand-in lacks replaced by the row's fallback. New reference. */
static json_t *row_faults(const json_t *row, const char *selector, const char **note)
{
    json_t *faults = json_deep_copy(json_object_get(row, "faults"));
    json_t *fallback = json_object_get(row, "fallback");
    json_t *fault;
    size_t i;

    if (faults == NULL)
        faults = json_array();
    json_array_foreach(faults, i, fault) {
        const char *action, *replacement;
        json_object_set_new(fault, "match", json_string(selector));
        expand_all(fault); /* first: it replaces every string, so no pointer into one survives it */
        action = json_string_value(json_object_get(fault, "action"));
        replacement = action ? json_string_value(json_object_get(fallback, action)) : NULL;
        if (replacement != NULL && !action_supported(action)) {
            json_object_set_new(fault, "action", json_string(replacement));
            *note = "FALLBACK: the stand-in lacks the row's action";
        }
    }
    return faults;
}

/* A plain lookup of `selector` (no fault queued): what a success must equal. */
static json_t *plain_lookup(const char *selector)
{
    membrane_client *c = new_client(MOCK_TOKEN);
    membrane_error err;
    json_t *out = NULL;
    if (c != NULL) {
        CHECK_INT(membrane_integration_get(c, selector, 0, &out, &err), MEMBRANE_OK);
        membrane_client_free(c);
    }
    return out;
}

/* ---------------------------------------------------------------------------
 * One row
 * ------------------------------------------------------------------------- */

static int rows_run;

static void table_line(const char *line)
{
    fputs(line, stdout);
    if (table != NULL)
        fputs(line, table);
}

static void table_header(void)
{
    char line[512];
    snprintf(line, sizeof line, "%-30s %-16s %5s %9s %11s  %s\n", "row", "code", "http",
             "requests", "elapsed ms", "remark");
    table_line(line);
    snprintf(line, sizeof line, "%-30s %-16s %5s %9s %11s  %s\n",
             "------------------------------", "----------------", "-----", "---------",
             "-----------", "------");
    table_line(line);
}

static void run_row(const json_t *row)
{
    const char *id = str_or(row, "id", "?");
    const json_t *expect = json_object_get(row, "expect");
    const json_t *options = json_object_get(row, "options");
    char default_selector[128], url[128], codebuf[32], line[512];
    const char *selector, *note = str_or(row, "note", "");
    const char *same_as = str_or(expect, "same_as", NULL);
    const char *not_requested = str_or(expect, "not_requested", NULL);
    int want_rc = code_value(str_or(expect, "code", NULL));
    int want_status = (int)long_or(expect, "http_status", -1);
    int count_requests = json_is_integer(json_object_get(expect, "requests"));
    int want_requests = (int)long_or(expect, "requests", -1);
    double max_ms = (double)long_or(expect, "max_ms", 1000) * time_scale;
    double min_ms = (double)long_or(expect, "min_ms", 0);
    membrane_client *client = NULL;
    membrane_error cerr, err;
    json_t *faults, *plain = NULL, *out, *words, *word;
    int before = 0, rc, requests = 0;
    size_t i;
    double start, elapsed;

    snprintf(default_selector, sizeof default_selector, "fm-%s", id);
    selector = str_or(row, "selector", default_selector);
    rows_run++;

    CHECK_INT(mock_clear_faults(), 0);
    if (same_as != NULL)
        plain = plain_lookup(same_as);
    faults = row_faults(row, selector, &note);
    if (json_array_size(faults) > 0) {
        char *text = json_dumps(faults, JSON_COMPACT);
        CHECK_MSG(text != NULL && mock_fault(text) == 0, "%s: could not install faults %s", id,
                  text ? text : "");
        free(text);
    }
    json_decref(faults);
    before = mock_selector_count(selector);

    if (strcmp(str_or(row, "target", "mock"), "refused") == 0) {
        int port = closed_port();
        CHECK(port > 0);
        snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    } else {
        snprintf(url, sizeof url, "%s", mock_url());
    }
    rc = membrane_client_new(&client, url, MOCK_TOKEN, &cerr);
    CHECK_MSG(rc == MEMBRANE_OK, "%s: membrane_client_new: %d %s", id, rc, cerr.message);
    if (rc != MEMBRANE_OK) {
        json_decref(plain);
        return;
    }
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS,
                                       long_or(options, "timeout_ms", DEFAULT_TIMEOUT_MS)), MEMBRANE_OK);
    if (json_object_get(options, "max_retries") != NULL)
        CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES,
                                           long_or(options, "max_retries", 2)), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS,
                                       long_or(options, "retry_base_ms", RETRY_BASE_MS)), MEMBRANE_OK);
    if (json_object_get(options, "max_response_bytes") != NULL)
        CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RESPONSE_BYTES,
                                           long_or(options, "max_response_bytes", 0)), MEMBRANE_OK);

    err_poison(&err);
    out = POISON_JSON;
    start = now_ms();
    rc = membrane_integration_get(client, selector, 0, &out, &err);
    elapsed = now_ms() - start;
    membrane_client_free(client);
    requests = mock_selector_count(selector) - before;
    CHECK_INT(mock_clear_faults(), 0);

    /* The checks. */
    CHECK_MSG(rc == want_rc, "%s: got %d (%s), want %d (%s); message: %s", id, rc, code_name(rc),
              want_rc, code_name(want_rc), err_terminated(&err) ? err.message : "(unterminated)");
    CHECK_MSG(err.code == rc, "%s: err.code %d, returned %d", id, err.code, rc);
    CHECK_MSG(err_terminated(&err), "%s: err fields not terminated", id);
    if (rc == MEMBRANE_OK) {
        CHECK_MSG(out != NULL && out != POISON_JSON, "%s: no integration", id);
        CHECK_MSG(err.message[0] == '\0', "%s: message after success: %s", id, err.message);
        if (same_as != NULL)
            CHECK_MSG(plain != NULL && out != NULL && out != POISON_JSON && json_equal(plain, out),
                      "%s: the integration differs from a plain lookup of %s", id, same_as);
        if (out != NULL && out != POISON_JSON)
            json_decref(out);
    } else {
        CHECK_MSG(out == NULL, "%s: out not set to NULL", id);
        CHECK_MSG(err_terminated(&err) && err.message[0] != '\0', "%s: empty message", id);
        if (out != NULL && out != POISON_JSON)
            json_decref(out);
    }
    json_decref(plain);
    if (want_status >= 0)
        CHECK_MSG(err.http_status == want_status, "%s: http_status %d, want %d", id, err.http_status,
                  want_status);
    if (count_requests)
        CHECK_MSG(requests == want_requests, "%s: the server saw %d request(s), want %d", id, requests,
                  want_requests);
    CHECK_MSG(elapsed < max_ms, "%s: took %.0f ms, bound %.0f ms", id, elapsed, max_ms);
    if (min_ms > 0)
        CHECK_MSG(elapsed >= min_ms, "%s: took only %.0f ms, want >= %.0f ms", id, elapsed, min_ms);
    words = json_object_get(expect, "says");
    json_array_foreach(words, i, word) {
        char *text = expand(json_string_value(word));
        CHECK_MSG(text != NULL && err_terminated(&err) && contains(err.message, text),
                  "%s: message lacks \"%s\": %s", id, text ? text : "", err.message);
        free(text);
    }
    words = json_object_get(expect, "never_says");
    json_array_foreach(words, i, word)
        CHECK_MSG(err_terminated(&err) && !contains(err.message, json_string_value(word)),
                  "%s: message has \"%s\": %s", id, json_string_value(word), err.message);
    if (json_object_get(expect, "key") != NULL)
        CHECK_STR(err.key, str_or(expect, "key", ""));
    if (json_object_get(expect, "type") != NULL)
        CHECK_STR(err.type, str_or(expect, "type", ""));
    if (json_object_get(expect, "error_id") != NULL)
        CHECK_STR(err.error_id, str_or(expect, "error_id", ""));
    if (not_requested != NULL)
        CHECK_MSG(mock_selector_count(not_requested) == 0, "%s: %s was requested", id, not_requested);

    snprintf(codebuf, sizeof codebuf, "%s (%d)", code_name(rc), rc);
    snprintf(line, sizeof line, "%-30s %-16s %5d %9d %11.0f  %s\n", id, codebuf, err.http_status,
             requests, elapsed, note);
    table_line(line);
    if (rc != MEMBRANE_OK)
        fprintf(stderr, "  [%s] message: %s\n", id, err_terminated(&err) ? err.message : "(unterminated)");
}

static void test_matrix(void)
{
    const char *path = getenv("MEMBRANE_FAULT_ROWS");
    json_error_t error;
    json_t *document, *row;
    size_t i;

    if (path == NULL || path[0] == '\0')
        path = ROWS_FILE;
    document = json_load_file(path, 0, &error);
    CHECK_MSG(document != NULL, "cannot read %s: %s (line %d)", path, error.text, error.line);
    if (document == NULL)
        return;
    CHECK_MSG(json_array_size(json_object_get(document, "rows")) > 0, "%s has no rows", path);
    table_header();
    json_array_foreach(json_object_get(document, "rows"), i, row)
        run_row(row);
    json_decref(document);
}

/* ---------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------- */

static void open_table(void)
{
    const char *path = getenv("MEMBRANE_FAULT_MATRIX");
    if (path == NULL || path[0] == '\0') {
        mkdir(".build", 0777);
        mkdir(".build/test-logs", 0777);
        path = ".build/test-logs/fault-matrix-c.txt";
    }
    table = fopen(path, "w");
    if (table == NULL)
        fprintf(stderr, "note: cannot write the fault table to %s: %s\n", path,
                strerror(errno));
    else
        fprintf(table, "# libmembrane fault matrix (C, Tests/c/test_faults.c); "
                       "time scale %.1f\n", time_scale);
}

int main(void)
{
    const char *scale = getenv("MEMBRANE_TIME_SCALE");
    double start;

    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    if (scale != NULL && atof(scale) >= 1.0)
        time_scale = atof(scale);
    open_table();

    start = now_ms();
    test_matrix();
    {
        char line[128];
        snprintf(line, sizeof line, "%d rows in %.0f ms\n", rows_run, now_ms() - start);
        table_line(line);
    }
    if (table != NULL)
        fclose(table);
    mock_clear_faults();
    mock_admin_cleanup();
    return check_report();
}
