/*
 * test_faults.c: the fault matrix. One row per way the server (or the
 * network) can misbehave; each row uses
 *   - a fresh client (libcurl silently retries a request once when a reused
 *     kept-alive connection closes before the answer, so fresh clients keep
 *     request counts exact),
 *   - its own selector (the fault's `match`), so that the stand-in server's
 *     request log tells how many requests this row made,
 *   - the library's default retries (2) with a 20 ms backoff base unless the
 *     row says otherwise, so that "not retried" is proven, not assumed,
 * and checks the return code, err.http_status, the number of requests the
 * server saw for the row's path and an upper bound on the elapsed time
 * (CLOCK_MONOTONIC; some rows also a lower bound).
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

/* err.http_status when the transfer was abandoned after the status line had
   arrived (reset or closed mid-body, a body past the deadline, a body over
   MEMBRANE_OPT_MAX_RESPONSE_BYTES): the status that arrived, 200 in these
   rows, although the body did not. */
#define TRANSPORT_STATUS 200

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

/* Requests the server logged for GET /integrations/<selector> (URL-safe). */
static int requests_for(const char *selector)
{
    char path[512];
    snprintf(path, sizeof path, "/integrations/%s", selector);
    return mock_request_count(path);
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
 * One row
 * ------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *selector;      /* the fault's match, and the looked-up selector */
    const char *fault;         /* one fault object or an array; NULL: none */
    const char *url;           /* NULL: the stand-in server */
    long timeout_ms;           /* 0: the default (30000) */
    long max_retries;          /* -1: the default (2) */
    long retry_base_ms;        /* 0: RETRY_BASE_MS */
    long max_bytes;            /* 0: the default (32 MiB) */
    int want_rc;
    int want_status;           /* err.http_status */
    int want_requests;         /* -1: not checked (no server) */
    double min_ms;             /* lower bound on elapsed (not scaled); 0: none */
    double max_ms;             /* upper bound on elapsed (scaled) */
    const char *message_has[3];
    const char *note;          /* a remark printed in the table, or NULL */
} row_spec;

typedef struct {
    int rc;
    membrane_error err;
    json_t *out;               /* on success; the caller releases it */
    int requests;
    double elapsed_ms;
} row_result;

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
    snprintf(line, sizeof line, "%-34s %-16s %5s %9s %11s  %s\n", "fault", "code", "http",
             "requests", "elapsed ms", "remark");
    table_line(line);
    snprintf(line, sizeof line, "%-34s %-16s %5s %9s %11s  %s\n",
             "----------------------------------", "----------------", "-----", "---------",
             "-----------", "------");
    table_line(line);
}

/* Runs one row: fresh client, fault, lookup, checks. `res->out` holds the
   integration on success (release it). */
static void run_row(const row_spec *row, row_result *res)
{
    membrane_client *client = NULL;
    membrane_error cerr;
    char url[128];
    char codebuf[32];
    char line[512];
    double start;
    int before = 0, rc, i;
    double max_ms = row->max_ms * time_scale;

    memset(res, 0, sizeof *res);
    res->rc = 12345;
    res->requests = -1;
    rows_run++;

    CHECK_INT(mock_clear_faults(), 0);
    if (row->fault != NULL)
        CHECK_MSG(mock_fault(row->fault) == 0, "%s: could not install fault %s", row->name,
                  row->fault);
    if (row->want_requests >= 0)
        before = requests_for(row->selector);

    snprintf(url, sizeof url, "%s", row->url != NULL ? row->url : mock_url());
    rc = membrane_client_new(&client, url, MOCK_TOKEN, &cerr);
    CHECK_MSG(rc == MEMBRANE_OK, "%s: membrane_client_new: %d %s", row->name, rc, cerr.message);
    if (rc != MEMBRANE_OK)
        return;
    if (row->timeout_ms > 0)
        CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, row->timeout_ms),
                  MEMBRANE_OK);
    if (row->max_retries >= 0)
        CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, row->max_retries),
                  MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS,
                                       row->retry_base_ms > 0 ? row->retry_base_ms
                                                              : RETRY_BASE_MS),
              MEMBRANE_OK);
    if (row->max_bytes > 0)
        CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RESPONSE_BYTES,
                                           row->max_bytes),
                  MEMBRANE_OK);

    err_poison(&res->err);
    res->out = POISON_JSON;
    start = now_ms();
    res->rc = membrane_integration_get(client, row->selector, 0, &res->out, &res->err);
    res->elapsed_ms = now_ms() - start;
    membrane_client_free(client);

    if (row->want_requests >= 0) {
        int after = requests_for(row->selector);
        res->requests = (after >= 0 && before >= 0) ? after - before : -1;
    } else {
        res->requests = 0;
    }
    CHECK_INT(mock_clear_faults(), 0);

    /* The checks. */
    CHECK_MSG(res->rc == row->want_rc, "%s: got %d (%s), want %d (%s); message: %s",
              row->name, res->rc, code_name(res->rc), row->want_rc, code_name(row->want_rc),
              err_terminated(&res->err) ? res->err.message : "(unterminated)");
    CHECK_MSG(res->err.code == res->rc, "%s: err.code %d, returned %d", row->name,
              res->err.code, res->rc);
    CHECK_MSG(err_terminated(&res->err), "%s: err fields not terminated", row->name);
    if (res->rc == MEMBRANE_OK) {
        CHECK_MSG(res->out != NULL && res->out != POISON_JSON, "%s: no integration", row->name);
        CHECK_MSG(res->err.message[0] == '\0', "%s: message after success: %s", row->name,
                  res->err.message);
    } else {
        CHECK_MSG(res->out == NULL, "%s: out not set to NULL", row->name);
        CHECK_MSG(err_terminated(&res->err) && res->err.message[0] != '\0',
                  "%s: empty message", row->name);
        if (res->out != NULL && res->out != POISON_JSON)
            json_decref(res->out);
        res->out = NULL;
    }
    CHECK_MSG(res->err.http_status == row->want_status, "%s: http_status %d, want %d",
              row->name, res->err.http_status, row->want_status);
    if (row->want_requests >= 0)
        CHECK_MSG(res->requests == row->want_requests, "%s: the server saw %d request(s), want %d",
                  row->name, res->requests, row->want_requests);
    CHECK_MSG(res->elapsed_ms < max_ms, "%s: took %.0f ms, bound %.0f ms", row->name,
              res->elapsed_ms, max_ms);
    if (row->min_ms > 0)
        CHECK_MSG(res->elapsed_ms >= row->min_ms, "%s: took only %.0f ms, want >= %.0f ms",
                  row->name, res->elapsed_ms, row->min_ms);
    for (i = 0; i < 3 && row->message_has[i] != NULL; i++)
        CHECK_MSG(err_terminated(&res->err) && contains(res->err.message, row->message_has[i]),
                  "%s: message lacks \"%s\": %s", row->name, row->message_has[i],
                  err_terminated(&res->err) ? res->err.message : "(unterminated)");

    snprintf(codebuf, sizeof codebuf, "%s (%d)", code_name(res->rc), res->rc);
    snprintf(line, sizeof line, "%-34s %-16s %5d %9d %11.0f  %s\n", row->name, codebuf,
             res->err.http_status, res->requests, res->elapsed_ms, row->note ? row->note : "");
    table_line(line);
    if (res->rc != MEMBRANE_OK)
        fprintf(stderr, "  [%s] message: %s\n", row->name,
                err_terminated(&res->err) ? res->err.message : "(unterminated)");
}

/* A row spec with the defaults filled in. */
static row_spec row_defaults(const char *name, const char *selector)
{
    row_spec r;
    memset(&r, 0, sizeof r);
    r.name = name;
    r.selector = selector;
    r.max_retries = -1;
    r.want_requests = 1;
    r.max_ms = 1000;
    return r;
}

/* ---------------------------------------------------------------------------
 * The matrix
 * ------------------------------------------------------------------------- */

static void test_matrix(void)
{
    row_spec r;
    row_result res;
    char fault[1024];
    char url[64];
    json_t *plain = NULL;
    int port;
    int have_reset_before = action_supported("reset-before-headers");
    int have_reset_mid = action_supported("reset-mid-body");

    table_header();

    /* Connection refused: nothing listens. Retried (no response byte), so
       three attempts; the server sees nothing. */
    port = closed_port();
    CHECK(port > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    r = row_defaults("refused", "f-refused");
    r.url = url;
    r.want_rc = MEMBRANE_ENETWORK;
    r.want_status = 0;
    r.want_requests = -1;
    r.message_has[0] = "(after 3 attempts)";
    r.note = "closed port; retried";
    run_row(&r, &res);

    /* Reset before any header: a connection failure before the first
       response byte, retried; every attempt meets the fault (times 0). */
    if (have_reset_before) {
        r = row_defaults("reset before headers", "f-reset-before");
        r.fault = "{\"match\":\"f-reset-before\",\"action\":\"reset-before-headers\",\"times\":0}";
        r.note = "retried";
    } else {
        /* FALLBACK: the stand-in server has no "reset-before-headers" yet;
           "drop" (FIN without a byte) is the nearest failure. */
        r = row_defaults("reset before headers [drop]", "f-reset-before");
        r.fault = "{\"match\":\"f-reset-before\",\"action\":\"drop\",\"times\":0}";
        r.note = "FALLBACK action drop; retried";
    }
    r.want_rc = MEMBRANE_ENETWORK;
    r.want_status = 0;
    r.want_requests = 3;
    r.message_has[0] = "(after 3 attempts)";
    run_row(&r, &res);

    /* Reset in the middle of the body: bytes arrived, so not retried. */
    if (have_reset_mid) {
        r = row_defaults("reset mid-body", "f-reset-mid");
        r.fault = "{\"match\":\"f-reset-mid\",\"status\":200,\"json\":{\"name\":\"x\","
                  "\"padding\":\"" "0123456789012345678901234567890123456789012345678901234567890123"
                  "0123456789012345678901234567890123456789012345678901234567890123\"},"
                  "\"action\":\"reset-mid-body\",\"times\":0}";
        r.note = "not retried";
    } else {
        /* FALLBACK: no "reset-mid-body" yet; "short-content-length" also
           ends the connection mid-body. */
        r = row_defaults("reset mid-body [short-c-l]", "f-reset-mid");
        r.fault = "{\"match\":\"f-reset-mid\",\"status\":200,\"json\":{\"name\":\"x\"},"
                  "\"action\":\"short-content-length\",\"times\":0}";
        r.note = "FALLBACK short-content-length; not retried";
    }
    r.want_rc = MEMBRANE_ENETWORK;
    r.want_status = TRANSPORT_STATUS;
    r.want_requests = 1;
    run_row(&r, &res);

    /* Content-Length 1024 bytes longer than the body, then close. */
    r = row_defaults("Content-Length > body", "f-short-cl");
    r.fault = "{\"match\":\"f-short-cl\",\"status\":200,\"json\":{\"name\":\"x\"},"
              "\"action\":\"short-content-length\",\"times\":0}";
    r.want_rc = MEMBRANE_ENETWORK;
    r.want_status = TRANSPORT_STATUS;
    r.note = "not retried: bytes arrived";
    run_row(&r, &res);

    /* Invalid JSON: the body cut in half, with a matching Content-Length. */
    r = row_defaults("invalid JSON (truncated)", "f-truncate");
    r.fault = "{\"match\":\"f-truncate\",\"status\":200,\"json\":{\"name\":\"truncated\","
              "\"key\":\"f-truncate\",\"state\":\"READY\"},\"action\":\"truncate\",\"times\":0}";
    r.want_rc = MEMBRANE_EPROTOCOL;
    r.want_status = 200;
    run_row(&r, &res);

    /* JSON of the wrong shape: an array. */
    r = row_defaults("JSON of the wrong shape", "f-shape");
    r.fault = "{\"match\":\"f-shape\",\"status\":200,\"json\":[1,2],\"times\":0}";
    r.want_rc = MEMBRANE_EPROTOCOL;
    r.want_status = 200;
    run_row(&r, &res);

    /* A known field of the wrong type. */
    r = row_defaults("field of the wrong type", "f-type");
    r.fault = "{\"match\":\"f-type\",\"status\":200,\"json\":{\"name\":\"x\",\"state\":5},"
              "\"times\":0}";
    r.want_rc = MEMBRANE_EPROTOCOL;
    r.want_status = 200;
    r.message_has[0] = "state";
    run_row(&r, &res);

    /* 48 MiB announced by Content-Length: refused before the body. */
    r = row_defaults("oversized, announced (48 MiB)", "f-oversized");
    r.fault = "{\"match\":\"f-oversized\",\"action\":\"oversized\",\"sizeBytes\":50331648,"
              "\"times\":0}";
    r.want_rc = MEMBRANE_EPROTOCOL;
    r.want_status = TRANSPORT_STATUS;
    r.max_ms = 500;
    run_row(&r, &res);

    /* 48 MiB chunked: refused once 32 MiB have arrived. */
    r = row_defaults("oversized, chunked (48 MiB)", "f-oversized-ch");
    r.fault = "{\"match\":\"f-oversized-ch\",\"action\":\"oversized-chunked\","
              "\"sizeBytes\":50331648,\"times\":0}";
    r.want_rc = MEMBRANE_EPROTOCOL;
    r.want_status = TRANSPORT_STATUS;
    r.max_ms = 5000;
    run_row(&r, &res);

    /* A normal fixture (1.7 kB) over a 1000-byte limit. */
    r = row_defaults("MAX_RESPONSE_BYTES 1000", "salesforce");
    r.max_bytes = 1000;
    r.want_rc = MEMBRANE_EPROTOCOL;
    r.want_status = TRANSPORT_STATUS;
    r.note = "fixture salesforce, ~1.7 kB";
    run_row(&r, &res);

    /* Headers later than the deadline. Timeouts are not retried. */
    r = row_defaults("headers after the deadline", "f-slow-headers");
    r.fault = "{\"match\":\"f-slow-headers\",\"delayMs\":3000,\"times\":0}";
    r.timeout_ms = 500;
    r.want_rc = MEMBRANE_ETIMEOUT;
    r.want_status = 0;
    r.min_ms = 450;
    r.max_ms = 700;
    r.note = "timeout 500 ms";
    run_row(&r, &res);

    /* A body trickling past the deadline (64 bytes per 300 ms of a 1.5 kB
       fixture). */
    r = row_defaults("body trickling past the deadline", "zendesk");
    r.fault = "{\"match\":\"zendesk\",\"action\":\"slow-body\",\"chunkDelayMs\":300,\"times\":0}";
    r.timeout_ms = 700;
    r.want_rc = MEMBRANE_ETIMEOUT;
    r.want_status = TRANSPORT_STATUS;
    r.min_ms = 650;
    r.max_ms = 900;
    r.note = "timeout 700 ms; fixture zendesk";
    run_row(&r, &res);

    /* 429 with Retry-After: 1 (seconds), then the normal answer. */
    r = row_defaults("429 Retry-After 1 s, then 200", "linear");
    r.fault = "{\"match\":\"linear\",\"status\":429,\"headers\":{\"Retry-After\":\"1\"}}";
    r.want_rc = MEMBRANE_OK;
    r.want_status = 0;
    r.want_requests = 2;
    r.min_ms = 950;
    r.max_ms = 2500;
    r.note = "fixture linear";
    run_row(&r, &res);
    if (res.rc == MEMBRANE_OK)
        CHECK_STR(jstr(res.out, "key"), "linear");
    json_decref(res.out);

    /* 429 with Retry-After as an HTTP date 2 s ahead (1 s resolution: the
       wait is 1 to 2 s). */
    {
        char date[64];
        time_t later = time(NULL) + 2;
        struct tm tm;
        gmtime_r(&later, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        snprintf(fault, sizeof fault,
                 "{\"match\":\"google-sheets\",\"status\":429,\"headers\":{\"Retry-After\":\"%s\"}}",
                 date);
        r = row_defaults("429 Retry-After HTTP date +2 s", "google-sheets");
        r.fault = fault;
        r.want_rc = MEMBRANE_OK;
        r.want_status = 0;
        r.want_requests = 2;
        r.min_ms = 900;
        r.max_ms = 3000;
        r.note = "fixture google-sheets";
        run_row(&r, &res);
        if (res.rc == MEMBRANE_OK)
            CHECK_STR(jstr(res.out, "key"), "google-sheets");
        json_decref(res.out);
    }

    /* 429 with a Retry-After beyond the deadline: ends at once. */
    r = row_defaults("429 Retry-After past deadline", "f-ra-120");
    r.fault = "{\"match\":\"f-ra-120\",\"status\":429,\"headers\":{\"Retry-After\":\"120\"},"
              "\"times\":0}";
    r.timeout_ms = 2000;
    r.want_rc = MEMBRANE_ERATELIMIT;
    r.want_status = 429;
    r.max_ms = 300;
    r.note = "Retry-After 120, timeout 2000";
    run_row(&r, &res);
    CHECK_STR(res.err.key, "rate_limit_exceeded");

    /* 503 twice, then the normal answer. */
    r = row_defaults("503 twice, then 200", "trello");
    r.fault = "{\"match\":\"trello\",\"status\":503,\"times\":2}";
    r.want_rc = MEMBRANE_OK;
    r.want_status = 0;
    r.want_requests = 3;
    r.note = "fixture trello";
    run_row(&r, &res);
    if (res.rc == MEMBRANE_OK)
        CHECK_STR(jstr(res.out, "key"), "trello");
    json_decref(res.out);

    /* 500 with an error id: not retried. */
    r = row_defaults("500 with data.errorId", "f-500");
    r.fault = "{\"match\":\"f-500\",\"status\":500,\"json\":{\"type\":\"internal\","
              "\"key\":\"internal_error\",\"message\":\"boom\",\"data\":{\"errorId\":\"err-matrix-500\"}},"
              "\"times\":0}";
    r.want_rc = MEMBRANE_ESERVER;
    r.want_status = 500;
    r.note = "not retried";
    run_row(&r, &res);
    CHECK_STR(res.err.error_id, "err-matrix-500");
    CHECK_STR(res.err.key, "internal_error");

    /* 400 with a key the library does not know: kept as sent. */
    r = row_defaults("400 with an unknown key", "f-400");
    r.fault = "{\"match\":\"f-400\",\"status\":400,\"json\":{\"type\":\"bad_request\","
              "\"key\":\"some_future_key\",\"message\":\"nope\"},\"times\":0}";
    r.want_rc = MEMBRANE_EBADREQUEST;
    r.want_status = 400;
    run_row(&r, &res);
    CHECK_STR(res.err.key, "some_future_key");
    CHECK_STR(res.err.type, "bad_request");

    r = row_defaults("401", "f-401");
    r.fault = "{\"match\":\"f-401\",\"status\":401,\"times\":0}";
    r.want_rc = MEMBRANE_EAUTH;
    r.want_status = 401;
    run_row(&r, &res);
    CHECK_STR(res.err.key, "not_authenticated");

    r = row_defaults("403", "f-403");
    r.fault = "{\"match\":\"f-403\",\"status\":403,\"times\":0}";
    r.want_rc = MEMBRANE_EACCESS;
    r.want_status = 403;
    run_row(&r, &res);
    CHECK_STR(res.err.key, "access_denied");

    /* A real 404: the selector is not in the fixtures. */
    r = row_defaults("404 (unknown selector)", "f-404");
    r.want_rc = MEMBRANE_ENOTFOUND;
    r.want_status = 404;
    run_row(&r, &res);
    CHECK_STR(res.err.key, "not_found");

    /* An HTML 502 from a proxy: retried, then reported. */
    r = row_defaults("HTML 502", "f-html");
    r.fault = "{\"match\":\"f-html\",\"action\":\"html\",\"times\":0}";
    r.want_rc = MEMBRANE_ESERVER;
    r.want_status = 502;
    r.want_requests = 3;
    r.message_has[0] = "text/html";
    r.message_has[1] = "(after 3 attempts)";
    r.note = "retried";
    run_row(&r, &res);
    CHECK_STR(res.err.error_id, "");

    /* An empty 200. */
    r = row_defaults("empty 200", "f-empty");
    r.fault = "{\"match\":\"f-empty\",\"status\":200,\"body\":\"\",\"times\":0}";
    r.want_rc = MEMBRANE_EPROTOCOL;
    r.want_status = 200;
    r.message_has[0] = "empty";
    run_row(&r, &res);

    /* gzip: the same integration as without. */
    {
        membrane_client *c = new_client(MOCK_TOKEN);
        membrane_error err;
        if (c != NULL) {
            CHECK_INT(mock_clear_faults(), 0);
            CHECK_INT(membrane_integration_get(c, "shopify", 0, &plain, &err), MEMBRANE_OK);
            membrane_client_free(c);
        }
    }
    r = row_defaults("gzip body", "shopify");
    r.fault = "{\"match\":\"shopify\",\"action\":\"gzip\",\"times\":0}";
    r.want_rc = MEMBRANE_OK;
    r.want_status = 0;
    r.note = "fixture shopify; equals the plain answer";
    run_row(&r, &res);
    CHECK_MSG(plain != NULL && res.out != NULL && json_equal(plain, res.out),
              "gzip: the integration differs from the uncompressed one");
    json_decref(res.out);
    json_decref(plain);

    /* A redirect, not followed. The Location points at this server so that
       following it would show in the request log. */
    {
        char location[256];
        snprintf(location, sizeof location, "%s/integrations/f-redirect-target", mock_url());
        snprintf(fault, sizeof fault,
                 "{\"match\":\"f-redirect\",\"status\":302,\"body\":\"\","
                 "\"headers\":{\"Location\":\"%s\"},\"times\":0}",
                 location);
        r = row_defaults("302 with Location", "f-redirect");
        r.fault = fault;
        r.want_rc = MEMBRANE_EPROTOCOL;
        r.want_status = 302;
        r.message_has[0] = "302";
        r.message_has[1] = location;
        r.note = "Location never requested";
        run_row(&r, &res);
        CHECK_MSG(requests_for("f-redirect-target") == 0, "the redirect was followed");
    }
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
