/*
 * test_threads.c: 8 threads share one client, 250 lookups each, rotating
 * through the fixture selectors; every lookup must succeed and return the
 * integration its selector names. Compiled with -pthread.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>

#include "support.h"

#define THREADS 8
#define LOOKUPS 250

static membrane_client *shared_client;

/* Each selector, and the id the first (single-threaded) lookup saw for it. */
static const char *selectors[] = { HUBSPOT_ID, HUBSPOT_KEY, FIXTURE_UUID, CATALOG_KEY };
#define SELECTOR_COUNT (sizeof selectors / sizeof selectors[0])
static char expected_ids[SELECTOR_COUNT][128];

typedef struct {
    int index;
    int ok;
    int failed;
    int wrong;
    int first_error;
    char first_message[256];
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    int i;

    for (i = 0; i < LOOKUPS; i++) {
        size_t s = (size_t)(w->index + i) % SELECTOR_COUNT;
        json_t *out = NULL;
        membrane_error err;
        int rc = membrane_integration_get(shared_client, selectors[s],
                                          i % 3 == 0 ? MEMBRANE_INCLUDE_SECRETS : 0, &out,
                                          &err);
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
    int t, started = 0, total_ok = 0;

    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    mock_clear_faults();
    shared_client = new_client(MOCK_TOKEN);
    if (shared_client == NULL) {
        mock_admin_cleanup();
        return check_report();
    }

    /* What each selector should give, learned single-threaded. */
    for (s = 0; s < SELECTOR_COUNT; s++) {
        json_t *out = NULL;
        membrane_error err;
        int rc = membrane_integration_get(shared_client, selectors[s], 0, &out, &err);
        const char *id = json_string_value(json_object_get(out, "id"));
        CHECK_MSG(rc == MEMBRANE_OK && id != NULL, "lookup \"%s\": %d %s", selectors[s], rc,
                  rc == MEMBRANE_OK ? "(no id)" : err.message);
        snprintf(expected_ids[s], sizeof expected_ids[s], "%s", id ? id : "");
        json_decref(out);
    }

    memset(workers, 0, sizeof workers);
    for (t = 0; t < THREADS; t++) {
        workers[t].index = t;
        if (pthread_create(&threads[t], NULL, run_worker, &workers[t]) != 0)
            break;
        started++;
    }
    CHECK_INT(started, THREADS);
    for (t = 0; t < started; t++)
        pthread_join(threads[t], NULL);

    for (t = 0; t < started; t++) {
        CHECK_MSG(workers[t].failed == 0, "thread %d: %d lookups failed, first: %d %s", t,
                  workers[t].failed, workers[t].first_error, workers[t].first_message);
        CHECK_MSG(workers[t].wrong == 0, "thread %d: %d lookups returned the wrong id", t,
                  workers[t].wrong);
        total_ok += workers[t].ok;
    }
    CHECK_INT(total_ok, THREADS * LOOKUPS);

    membrane_client_free(shared_client);
    mock_admin_cleanup();
    return check_report();
}
