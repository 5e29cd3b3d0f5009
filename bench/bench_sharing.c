/*
 * Shared requests: THREADS threads ask one client for the same selector at
 * the same moment, against the stand-in server while a fault delays that
 * selector's requests by DELAY ms (POST /_mock/faults {"match": SELECTOR,
 * "delayMs": DELAY, "times": 0}), so every thread arrives while the first
 * request is still in flight. With MEMBRANE_OPT_SHARE_REQUESTS 1 (the
 * default) the client should send one request per round; with 0, one per
 * thread.
 *
 * A round: THREADS new threads wait on a barrier; the main thread joins it,
 * which releases them all at once, and each calls
 * membrane_integration_get(client, SELECTOR) once. The round's wall time
 * runs from the barrier until the last thread has its answer. Afterwards the
 * server's request log (GET /_mock/requests) says how many requests for the
 * selector arrived during the round, and is cleared (DELETE /_mock/requests).
 * Every thread must get MEMBRANE_OK and an object of its own (distinct
 * pointers: each caller gets its own copy).
 *
 * Two clients, sharing on and sharing off, are warmed up first (one round
 * each: the client without sharing then holds THREADS connections). Then
 * ROUNDS rounds alternate between them, so load from elsewhere on the
 * machine hits both alike.
 *
 *   bench_sharing MOCK_URL TOKEN SELECTOR THREADS DELAY_MS ROUNDS
 *
 * Prints one line of JSON (see the end of main).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>

#include <curl/curl.h>
#include <membrane.h>

#include "bench_common.h"
#include "bench_admin.h"

#define MAX_THREADS 64

/* Requests for `selector` in the server's request log; clears the log. */
static long requests_for(const char *selector)
{
    json_t *log = admin("GET", "/_mock/requests", NULL);
    json_t *list = json_object_get(log, "requests");
    long seen = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *s = json_string_value(json_object_get(json_array_get(list, i), "selector"));
        if (s != NULL && strcmp(s, selector) == 0)
            seen++;
    }
    json_decref(log);
    json_decref(admin("DELETE", "/_mock/requests", NULL));
    return seen;
}

struct round {
    membrane_client *client;
    const char *selector;
    pthread_barrier_t start;
};

struct worker {
    struct round *round;
    pthread_t thread;
    int rc;
    json_t *integration;
    char message[256];
};

static void *work(void *opaque)
{
    struct worker *w = opaque;
    membrane_error err;
    pthread_barrier_wait(&w->round->start);
    w->rc = membrane_integration_get(w->round->client, w->round->selector, 0, &w->integration, &err);
    if (w->rc != MEMBRANE_OK)
        snprintf(w->message, sizeof w->message, "%s", err.message);
    return NULL;
}

/* One round: `nthreads` lookups released together. Returns the wall-clock
   milliseconds from the release to the last answer; counts failures (and
   answers that were not objects of their own) into *failed. */
static double one_round(membrane_client *client, const char *selector, int nthreads, long *failed)
{
    struct round round;
    struct worker workers[MAX_THREADS];
    round.client = client;
    round.selector = selector;
    pthread_barrier_init(&round.start, NULL, (unsigned)nthreads + 1);
    for (int t = 0; t < nthreads; t++) {
        workers[t].round = &round;
        workers[t].rc = MEMBRANE_EINTERNAL;
        workers[t].integration = NULL;
        workers[t].message[0] = '\0';
        if (pthread_create(&workers[t].thread, NULL, work, &workers[t]) != 0) {
            fprintf(stderr, "bench_sharing: pthread_create failed\n");
            exit(1);
        }
    }
    pthread_barrier_wait(&round.start);
    double t0 = bench_now();
    for (int t = 0; t < nthreads; t++)
        pthread_join(workers[t].thread, NULL);
    double ms = (bench_now() - t0) * 1e3;
    pthread_barrier_destroy(&round.start);
    for (int t = 0; t < nthreads; t++) {
        int own = workers[t].rc == MEMBRANE_OK && json_is_string(json_object_get(workers[t].integration, "name"));
        for (int u = 0; u < t && own; u++)
            own = workers[u].integration != workers[t].integration;
        if (!own) {
            if ((*failed)++ == 0)
                fprintf(stderr, "bench_sharing: thread %d: %s (%s)\n", t, membrane_strerror(workers[t].rc),
                        workers[t].rc == MEMBRANE_OK ? "not an object of its own" : workers[t].message);
        }
    }
    for (int t = 0; t < nthreads; t++)
        json_decref(workers[t].integration);
    return ms;
}

struct row {
    const char *name;
    long share;
    membrane_client *client;
    double ms[BENCH_MAX_REPS], requests[BENCH_MAX_REPS];
    long failed;
};

static void print_series(const char *name, const double *values, int reps, const char *format)
{
    double sorted[BENCH_MAX_REPS];
    printf("\"%s\": [", name);
    for (int r = 0; r < reps; r++) {
        if (r)
            fputs(", ", stdout);
        printf(format, values[r]);
        sorted[r] = values[r];
    }
    printf("], \"median_%s\": ", name);
    printf(format, bench_median(sorted, (size_t)reps));
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s MOCK_URL TOKEN SELECTOR THREADS DELAY_MS ROUNDS\n", argv[0]);
        return 2;
    }
    bench_mock_url = argv[1];
    bench_program = "bench_sharing";
    const char *token = argv[2], *selector = argv[3];
    int nthreads = atoi(argv[4]), rounds = atoi(argv[6]);
    long delay = atol(argv[5]);
    if (nthreads < 1 || nthreads > MAX_THREADS || delay < 0 || rounds < 1 || rounds > BENCH_MAX_REPS ||
        strlen(selector) > 200 || strpbrk(selector, "\"\\") != NULL) {
        fprintf(stderr, "bench_sharing: bad SELECTOR, THREADS, DELAY_MS or ROUNDS\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_ALL);

    static struct row rows[2] = { { "sharing on (default)", 1, NULL, { 0 }, { 0 }, 0 },
                                  { "sharing off", 0, NULL, { 0 }, { 0 }, 0 } };
    char fault[512];
    snprintf(fault, sizeof fault, "{\"match\": \"%s\", \"delayMs\": %ld, \"times\": 0}", selector, delay);
    json_decref(admin("DELETE", "/_mock/faults", NULL));
    json_decref(admin("POST", "/_mock/faults", fault));
    for (int i = 0; i < 2; i++) {
        membrane_error err;
        if (membrane_client_new(&rows[i].client, bench_mock_url, token, &err) != MEMBRANE_OK) {
            fprintf(stderr, "bench_sharing: membrane_client_new: %s\n", err.message);
            return 1;
        }
        if (membrane_client_set_long(rows[i].client, MEMBRANE_OPT_SHARE_REQUESTS, rows[i].share) != MEMBRANE_OK) {
            fprintf(stderr, "bench_sharing: MEMBRANE_OPT_SHARE_REQUESTS %ld refused\n", rows[i].share);
            return 1;
        }
        long failed = 0;
        one_round(rows[i].client, selector, nthreads, &failed); /* warm-up: connections open */
        if (failed) {
            fprintf(stderr, "bench_sharing: the warm-up round failed\n");
            return 1;
        }
    }
    requests_for(selector);

    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) {
            struct row *row = &rows[(r + k) % 2]; /* which goes first alternates */
            row->ms[r] = one_round(row->client, selector, nthreads, &row->failed);
            row->requests[r] = (double)requests_for(selector);
        }
    }
    json_decref(admin("DELETE", "/_mock/faults", NULL));

    printf("{\"selector\": \"%s\", \"threads\": %d, \"delay_ms\": %ld, \"rounds\": %d, \"rows\": [", selector,
           nthreads, delay, rounds);
    for (int i = 0; i < 2; i++) {
        struct row *row = &rows[i];
        double most = 0, least = 1e9;
        for (int r = 0; r < rounds; r++) {
            most = row->requests[r] > most ? row->requests[r] : most;
            least = row->requests[r] < least ? row->requests[r] : least;
        }
        printf("%s{\"name\": \"%s\", \"share_requests\": %ld, ", i ? ", " : "", row->name, row->share);
        print_series("requests", row->requests, rounds, "%.0f");
        printf(", \"max_requests\": %.0f, \"min_requests\": %.0f, ", most, least);
        print_series("ms", row->ms, rounds, "%.1f");
        printf(", \"failed\": %ld}", row->failed);
    }
    printf("]}\n");

    for (int i = 0; i < 2; i++)
        membrane_client_free(rows[i].client);
    curl_global_cleanup();
    return 0;
}
