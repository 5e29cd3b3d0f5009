/*
 * test_logging.c: membrane_client_set_log and the version API.
 *
 * Log lines for a success, a retry and a failure arrive with the documented
 * levels and shape, carry the payload, never hold the token, stop when the
 * callback is removed; the versions in the header and the library agree.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>

#include "support.h"

#define MAX_LINES 64

struct captured {
    int count;
    int levels[MAX_LINES];
    char lines[MAX_LINES][512];
    int payload_ok;
};

static void capture(int level, const char *message, void *payload)
{
    struct captured *log = payload;

    if (log == NULL || message == NULL)
        return;
    log->payload_ok = 1;
    if (log->count < MAX_LINES) {
        log->levels[log->count] = level;
        snprintf(log->lines[log->count], sizeof log->lines[0], "%s", message);
        log->count++;
    }
}

/* The index of the first line holding every needle at `level`, or -1. */
static int find_line(const struct captured *log, int level, const char *a, const char *b)
{
    for (int i = 0; i < log->count; i++) {
        if (log->levels[i] == level && contains(log->lines[i], a) && (b == NULL || contains(log->lines[i], b)))
            return i;
    }
    return -1;
}

static void test_lines(void)
{
    static struct captured log;
    const char *token = "log-canary-token-1f2e3d4c";
    membrane_client *client = new_client("mock-token");
    membrane_client *stranger = new_client(token);
    membrane_error err;
    json_t *out = NULL;

    if (client == NULL || stranger == NULL)
        return;
    CHECK_INT(membrane_client_set_log(NULL, capture, &log), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_log(client, capture, &log), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS, 1), MEMBRANE_OK);

    /* Success: one INFO line. */
    CHECK_INT(membrane_integration_get(client, "hubspot", 0, &out, &err), MEMBRANE_OK);
    json_decref(out);
    CHECK(log.payload_ok);
    CHECK_MSG(find_line(&log, MEMBRANE_LOG_INFO, "GET /integrations/hubspot?includeSecrets=false: 200 (attempt 1, ", " ms)") >= 0,
              "no success line among %d", log.count);

    /* Retry: a 503, a retry line, then the 404 of the retried request. */
    CHECK_INT(mock_fault("{\"match\":\"log-retry\",\"status\":503}"), 0);
    CHECK_INT(membrane_integration_get(client, "log-retry", 0, &out, &err), MEMBRANE_ENOTFOUND);
    CHECK(find_line(&log, MEMBRANE_LOG_WARNING, "log-retry", ": 503 (attempt 1, ") >= 0);
    CHECK(find_line(&log, MEMBRANE_LOG_WARNING, "retrying in ", "(attempt 2 of 3)") >= 0);
    CHECK(find_line(&log, MEMBRANE_LOG_INFO, "log-retry", ": 404 (attempt 2, ") >= 0);

    /* Failure without an answer: a refused connection, one WARNING line an attempt. */
    CHECK_INT(mock_fault("{\"match\":\"log-drop\",\"action\":\"reset-before-headers\",\"times\":0}"), 0);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 0), MEMBRANE_OK);
    CHECK_INT(membrane_integration_get(client, "log-drop", 0, &out, &err), MEMBRANE_ENETWORK);
    CHECK(find_line(&log, MEMBRANE_LOG_WARNING, "GET /integrations/log-drop", "(attempt 1, ") >= 0);
    mock_clear_faults();

    /* A rejected token: the line is there, the token is not, in any line. */
    CHECK_INT(membrane_client_set_log(stranger, capture, &log), MEMBRANE_OK);
    CHECK_INT(membrane_integration_get(stranger, "hubspot", 0, &out, &err), MEMBRANE_EAUTH);
    CHECK(find_line(&log, MEMBRANE_LOG_INFO, "hubspot", ": 401 (attempt 1, ") >= 0);
    for (int i = 0; i < log.count; i++)
        CHECK_MSG(!contains(log.lines[i], token) && !contains(log.lines[i], "mock-token"),
                  "line %d holds a token: %s", i, log.lines[i]);

    /* Removed: no more lines. */
    int before = log.count;
    CHECK_INT(membrane_client_set_log(client, NULL, NULL), MEMBRANE_OK);
    CHECK_INT(membrane_integration_get(client, "hubspot", 0, &out, &err), MEMBRANE_OK);
    json_decref(out);
    CHECK_INT(log.count, before);

    membrane_client_free(client);
    membrane_client_free(stranger);
}

static void test_versions(void)
{
    char compiled[32];

    CHECK_STR(membrane_version(), MEMBRANE_VERSION_STRING);
    CHECK_INT(membrane_version_num(), MEMBRANE_VERSION_NUM);
    CHECK_INT(membrane_version_num() >> 16, MEMBRANE_VERSION_MAJOR);
    snprintf(compiled, sizeof compiled, "%d.%d.%d", MEMBRANE_VERSION_MAJOR, MEMBRANE_VERSION_MINOR,
             MEMBRANE_VERSION_PATCH);
    CHECK_STR(compiled, MEMBRANE_VERSION_STRING);
    CHECK_INT(MEMBRANE_VERSION_NUM, (MEMBRANE_VERSION_MAJOR << 16) | (MEMBRANE_VERSION_MINOR << 8) | MEMBRANE_VERSION_PATCH);
}

int main(void)
{
    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    test_versions();
    test_lines();
    return check_report();
}
