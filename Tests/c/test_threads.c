/*
 * test_threads.c: 8 threads share one client, 5,000 lookups each (40,000 in
 * all), rotating through fixture selectors and one unknown selector; every
 * lookup of a fixture must succeed and return the integration its selector
 * names, and every lookup of the unknown one must be MEMBRANE_ENOTFOUND
 * (404, "not_found"); nothing else is allowed. Compiled with -pthread.
 *
 * MEMBRANE_THREAD_LOOKUPS (default 5000) sets the lookups per thread; run.sh
 * uses 200 under valgrind.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>

#include "support.h"

#define THREADS 8
#define DEFAULT_LOOKUPS 5000

static int lookups = DEFAULT_LOOKUPS;

static membrane_client *shared_client;

/* Each selector, and the id the first (single-threaded) lookup saw for it. */
/* The last one is not a fixture. */
#define UNKNOWN_SELECTOR "no-such-integration-threads"
static const char *selectors[] = { HUBSPOT_ID,   HUBSPOT_KEY, FIXTURE_UUID, CATALOG_KEY,
                                   "salesforce", "zendesk",   "~app.membrane", UNKNOWN_SELECTOR };
#define SELECTOR_COUNT (sizeof selectors / sizeof selectors[0])
static char expected_ids[SELECTOR_COUNT][128];

typedef struct {
    int index;
    int ok;
    int not_found;
    int failed;
    int wrong;
    int first_error;
    char first_message[256];
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    int i;

    for (i = 0; i < lookups; i++) {
        size_t s = (size_t)(w->index + i) % SELECTOR_COUNT;
        json_t *out = NULL;
        membrane_error err;
        int rc = membrane_integration_get(shared_client, selectors[s],
                                          i % 3 == 0 ? MEMBRANE_INCLUDE_SECRETS : 0, &out,
                                          &err);
        if (s == SELECTOR_COUNT - 1 && rc == MEMBRANE_ENOTFOUND && out == NULL &&
            err.code == MEMBRANE_ENOTFOUND && err.http_status == 404 &&
            strcmp(err.key, "not_found") == 0) {
            w->not_found++;
            continue;
        }
        if (s == SELECTOR_COUNT - 1 && rc == MEMBRANE_OK) {
            w->wrong++; /* the unknown selector was found */
            json_decref(out);
            continue;
        }
        if (rc != MEMBRANE_OK) {
            if (w->failed++ == 0) {
                w->first_error = rc;
                memcpy(w->first_message, err.message, sizeof w->first_message);
                w->first_message[sizeof w->first_message - 1] = '\0';
            }
            continue;
        }
        {
            const char *id = json_string_value(json_object_get(out, "id"));
            if (id != NULL && strcmp(id, expected_ids[s]) == 0)
                w->ok++;
            else
                w->wrong++;
        }
        json_decref(out);
    }
    return NULL;
}

int main(void)
{
    pthread_t threads[THREADS];
    worker workers[THREADS];
    size_t s;
    int t, started = 0, total_ok = 0, total_not_found = 0, expected_not_found = 0;
    const char *env = getenv("MEMBRANE_THREAD_LOOKUPS");
    double t0, elapsed;

    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    if (env != NULL && atoi(env) > 0)
        lookups = atoi(env);
    mock_clear_faults();
    shared_client = new_client(MOCK_TOKEN);
    if (shared_client == NULL) {
        mock_admin_cleanup();
        return check_report();
    }
    /* Every lookup here must reach the server (the count below): concurrent
       lookups of one selector would otherwise share a request (see
       test_sharing.c for that). */
    CHECK_INT(membrane_client_set_long(shared_client, MEMBRANE_OPT_SHARE_REQUESTS, 0), MEMBRANE_OK);

    /* What each selector should give, learned single-threaded. */
    for (s = 0; s + 1 < SELECTOR_COUNT; s++) {
        json_t *out = NULL;
        membrane_error err;
        int rc = membrane_integration_get(shared_client, selectors[s], 0, &out, &err);
        const char *id = json_string_value(json_object_get(out, "id"));
        CHECK_MSG(rc == MEMBRANE_OK && id != NULL, "lookup \"%s\": %d %s", selectors[s], rc,
                  rc == MEMBRANE_OK ? "(no id)" : err.message);
        snprintf(expected_ids[s], sizeof expected_ids[s], "%s", id ? id : "");
        json_decref(out);
    }

    mock_clear_requests();
    memset(workers, 0, sizeof workers);
    t0 = now_ms();
    for (t = 0; t < THREADS; t++) {
        workers[t].index = t;
        if (pthread_create(&threads[t], NULL, run_worker, &workers[t]) != 0)
            break;
        started++;
    }
    CHECK_INT(started, THREADS);
    for (t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    elapsed = now_ms() - t0;
    fprintf(stderr, "note: %d threads x %d lookups on one client: %.0f ms (%.0f lookups/s)\n",
            THREADS, lookups, elapsed, elapsed > 0 ? THREADS * lookups * 1000.0 / elapsed : 0.0);

    for (t = 0; t < started; t++) {
        CHECK_MSG(workers[t].failed == 0, "thread %d: %d lookups failed, first: %d %s", t,
                  workers[t].failed, workers[t].first_error, workers[t].first_message);
        CHECK_MSG(workers[t].wrong == 0, "thread %d: %d lookups returned the wrong id", t,
                  workers[t].wrong);
        total_ok += workers[t].ok;
        total_not_found += workers[t].not_found;
    }
    for (t = 0; t < started; t++) {
        int i;
        for (i = 0; i < lookups; i++)
            if ((size_t)(t + i) % SELECTOR_COUNT == SELECTOR_COUNT - 1)
                expected_not_found++;
    }
    CHECK_INT(total_not_found, expected_not_found);
    CHECK_INT(total_ok + total_not_found, THREADS * lookups);
    /* The server saw every lookup (no lookup answered without a request),
       and the log is cleared for the programs that follow. */
    {
        json_t *requests = mock_requests();
        CHECK_MSG(json_array_size(requests) >= (size_t)(THREADS * lookups),
                  "the server saw %zu requests for %d lookups", json_array_size(requests),
                  THREADS * lookups);
        json_decref(requests);
        mock_clear_requests();
    }

    membrane_client_free(shared_client);
    mock_admin_cleanup();
    return check_report();
}
