/*
 * support.h: helpers shared by the C tests (header-only, static inline).
 */
#ifndef MEMBRANE_TESTS_SUPPORT_H
#define MEMBRANE_TESTS_SUPPORT_H

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "membrane.h"
#include "check.h"
#include "mock_admin.h"

/* The token the stand-in server accepts (run.sh starts it with it). */
#define MOCK_TOKEN "mock-token"

/* Fixture selectors (examples/fixtures/integrations.json). */
#define HUBSPOT_ID     "67c05c5f0872bad5078153b9"
#define HUBSPOT_KEY    "hubspot"
#define FIXTURE_UUID   "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c1a01"
#define CATALOG_KEY    "~search.membrane--getmembrane_com"

/* A non-NULL pointer that is not a JSON value: put in an out-parameter
   before a call to see whether the call sets it to NULL. */
static inline void *support_poison(void)
{
    static char poison_byte;
    return &poison_byte;
}
#define POISON_JSON ((json_t *)support_poison())
#define POISON_CLIENT ((membrane_client *)support_poison())

/* Fills every byte of an error with junk, so that a test sees which fields a
   call wrote. */
static inline void err_poison(membrane_error *err)
{
    memset(err, 'x', sizeof *err);
    err->code = 12345;
    err->http_status = 12345;
}

/* 1 when every string field of `err` is NUL-terminated inside its buffer. */
static inline int err_terminated(const membrane_error *err)
{
    return memchr(err->type, '\0', sizeof err->type) != NULL &&
           memchr(err->key, '\0', sizeof err->key) != NULL &&
           memchr(err->message, '\0', sizeof err->message) != NULL &&
           memchr(err->error_id, '\0', sizeof err->error_id) != NULL;
}

/* Checks a failure: the return code, err->code, a non-empty message and
   terminated fields. */
#define CHECK_FAIL(rc, err, want)                                               \
    do {                                                                        \
        CHECK_INT((rc), (want));                                                \
        CHECK_INT((err).code, (want));                                          \
        CHECK(err_terminated(&(err)));                                          \
        CHECK_MSG(err_terminated(&(err)) && (err).message[0] != '\0',          \
                  "err.message is empty for code %d", (int)(want));            \
    } while (0)

/* Checks a success: return code 0, err->code 0 and empty strings. */
#define CHECK_SUCCESS(rc, err)                                                  \
    do {                                                                        \
        CHECK_INT((rc), MEMBRANE_OK);                                           \
        CHECK_INT((err).code, MEMBRANE_OK);                                     \
        CHECK(err_terminated(&(err)));                                          \
        CHECK_MSG(err_terminated(&(err)) && (err).message[0] == '\0' &&         \
                      (err).type[0] == '\0' && (err).key[0] == '\0' &&          \
                      (err).error_id[0] == '\0',                                \
                  "after success: message \"%.60s\" type \"%.20s\" key \"%.20s\"", \
                  err_terminated(&(err)) ? (err).message : "(unterminated)",   \
                  err_terminated(&(err)) ? (err).type : "(unterminated)",      \
                  err_terminated(&(err)) ? (err).key : "(unterminated)");      \
    } while (0)

/* A client for the stand-in server with `token` (NULL: MEMBRANE_TOKEN), or
   NULL (and a failed check) when it cannot be made. */
static inline membrane_client *new_client(const char *token)
{
    membrane_client *client = NULL;
    membrane_error err;
    int rc = membrane_client_new(&client, mock_url(), token, &err);

    CHECK_MSG(rc == MEMBRANE_OK && client != NULL, "membrane_client_new(%s): %d %s",
              mock_url(), rc, rc == MEMBRANE_OK ? "" : err.message);
    return rc == MEMBRANE_OK ? client : NULL;
}

/* A string field of a JSON object, or NULL. */
static inline const char *jstr(const json_t *object, const char *field)
{
    return json_string_value(json_object_get(object, field));
}

/* Monotonic time in milliseconds. */
static inline double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* 1 when `haystack` contains `needle` (both may be NULL: then 0). */
static inline int contains(const char *haystack, const char *needle)
{
    return haystack != NULL && needle != NULL && strstr(haystack, needle) != NULL;
}

#endif /* MEMBRANE_TESTS_SUPPORT_H */
