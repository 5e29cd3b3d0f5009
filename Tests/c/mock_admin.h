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

#endif /* MEMBRANE_TESTS_MOCK_ADMIN_H */
