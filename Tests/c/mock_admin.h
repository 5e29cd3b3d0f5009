/*
 * mock_admin.h: talks to the stand-in server's admin API (no auth) from the
 * C tests, with libcurl directly, so the library under test is not involved.
 *
 * The server's base URL comes from the environment variable
 * MEMBRANE_TEST_URL (set by Tests/c/run.sh), e.g. "http://127.0.0.1:40123".
 */
#ifndef MEMBRANE_TESTS_MOCK_ADMIN_H
#define MEMBRANE_TESTS_MOCK_ADMIN_H

#include <jansson.h>

/* Reads MEMBRANE_TEST_URL and initialises libcurl. Returns 0, or -1 (and
   prints why) when the variable is missing or curl cannot start. */
int mock_admin_init(void);

/* Releases what mock_admin_init took. */
void mock_admin_cleanup(void);

/* The server's base URL without a trailing slash (valid after init). */
const char *mock_url(void);

/* POST /_mock/faults with `fault_json` (one fault object or an array).
   Returns 0 on a 2xx answer, -1 otherwise (and prints why). */
int mock_fault(const char *fault_json);

/* POST /_mock/faults without printing anything: returns the HTTP status (0
   when no answer came), and hands the answer's body over in `body_out` when
   that is not NULL (free() it). Lets a test tell a fault the server does not
   know (400 invalid_fault) from one it queued. */
long mock_fault_status(const char *fault_json, char **body_out);

/* DELETE /_mock/faults. Returns 0 on a 2xx answer, -1 otherwise. */
int mock_clear_faults(void);

/* DELETE /_mock/requests. Returns 0 on a 2xx answer, -1 otherwise. */
int mock_clear_requests(void);

/* GET /_mock/requests. Returns the "requests" array (new reference), or NULL
   (and prints why). */
json_t *mock_requests(void);

/* How many recorded requests have exactly this raw `path` (e.g.
   "/integrations/hubspot"), or -1 (and prints why) when the log cannot be
   read. */
int mock_request_count(const char *path);

/* The value of header `name` (case-insensitive) in one recorded request's
   "headers" object, or NULL. Borrowed from `request`. */
const char *mock_request_header(json_t *request, const char *name);

/* A string field of one recorded request ("method", "path", "query"), or
   NULL. Borrowed from `request`. */
const char *mock_request_string(json_t *request, const char *field);

/* Any admin request (METHOD PATH [BODY]) without printing anything: returns
   the HTTP status (0 when no answer came) and, when `json_out` is not NULL,
   the answer parsed as JSON (new reference, NULL if it is not JSON). */
long mock_admin_json(const char *method, const char *path, const char *body, json_t **json_out);

/* GET /_mock/stats: the server's connection and request counters
   (connectionsOpened, connectionsOpen, maxConnectionsOpen, requestsInFlight,
   maxRequestsInFlight) as a new reference, or NULL. `status_out` (may be
   NULL) receives the HTTP status: 404 while the server has no such
   endpoint. */
json_t *mock_stats(long *status_out);

/* DELETE /_mock/stats. Returns the HTTP status (0 when no answer came). */
long mock_clear_stats(void);

/* Decodes %XX escapes of `in` into `out` (at most `size` - 1 bytes, then
   NUL), for the raw query strings the server records. Returns 0, or -1 for
   a malformed escape or when `out` is too small. */
int mock_percent_decode(const char *in, char *out, size_t size);

/* How many recorded requests are lookups of `selector`, as the server
   decoded it from the path (so any valid encoding of it counts), or -1 when
   the log cannot be read. */
int mock_selector_count(const char *selector);

/* How many recorded requests went to the list route (path exactly
   "/integrations"), or -1 when the log cannot be read. */
int mock_list_count(void);

/* The raw query strings of the recorded requests to the list route, in
   arrival order, as a new JSON array of strings, or NULL. */
json_t *mock_list_queries(void);

/* A TCP port on 127.0.0.1 that was bound and closed again (nothing listens
   there), or -1. For tests of refused connections. */
int closed_port(void);

#endif /* MEMBRANE_TESTS_MOCK_ADMIN_H */
