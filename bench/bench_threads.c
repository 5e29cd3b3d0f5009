/*
 * Threads: lookups per second with T threads sharing one client (pthreads),
 * and, for reference, the floor of bench_curl.c with T threads (each its own
 * easy handle and connection): what this machine and server allow at all.
 * REPS rounds; in each, every thread count T runs once: a fresh client, T
 * threads that warm up (so the pool holds a connection per thread), then all
 * start together and look "hubspot" up in a loop for SECONDS; the rate is all
 * their lookups over the wall time of the repetition. Median over rounds.
 *
 *   bench_threads URL TOKEN USER_AGENT SECONDS REPS T1 [T2 ...]
 *
 * Prints one line of JSON: {"threads": [{"threads": T, "reps_per_s": [...],
 * "median_per_s": ...}, ...], "floor": [the same for the floor]}.
 */
#include <curl/curl.h>
#include <membrane.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bench_common.h"

struct shared {
    membrane_client *client;   /* NULL: the floor, a libcurl easy handle per thread */
    const char *url, *authorization, *user_agent;
    pthread_barrier_t start, end;
    atomic_int stop;
};

struct worker {
    struct shared *shared;
    pthread_t thread;
    long count;
};

static void lookup(membrane_client *client)
{
    membrane_error err;
    json_t *integration = NULL;
    int rc = membrane_integration_get(client, "hubspot", 0, &integration, &err);
    if (rc != MEMBRANE_OK) {
        fprintf(stderr, "bench_threads: %s (%s)\n", membrane_strerror(rc), err.message);
        exit(1);
    }
    json_decref(integration);
}

/* The floor: what bench_curl.c does, one easy handle (one connection) per thread. */
struct body {
    char *data;
    size_t length, capacity;
};

static size_t write_body(char *data, size_t size, size_t count, void *opaque)
{
    struct body *b = opaque;
    size_t length = size * count;
    if (b->length + length > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 16384;
        while (capacity < b->length + length)
            capacity *= 2;
        char *grown = realloc(b->data, capacity);
        if (grown == NULL)
            return 0;
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, data, length);
    b->length += length;
    return length;
}

static void floor_lookup(CURL *easy, struct body *b)
{
    b->length = 0;
    CURLcode code = curl_easy_perform(easy);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    json_t *integration = code == CURLE_OK && status == 200 ? json_loadb(b->data, b->length, 0, NULL) : NULL;
    if (!json_is_object(integration) || !json_is_string(json_object_get(integration, "name"))) {
        fprintf(stderr, "bench_threads: floor lookup failed (%s, HTTP %ld)\n", curl_easy_strerror(code), status);
        exit(1);
    }
    json_decref(integration);
}

static void *work(void *opaque)
{
    struct worker *w = opaque;
    struct shared *s = w->shared;
    CURL *easy = NULL;
    struct curl_slist *headers = NULL;
    struct body b = { NULL, 0, 0 };
    if (s->client == NULL) {
        easy = curl_easy_init();
        headers = curl_slist_append(NULL, s->authorization);
        headers = curl_slist_append(headers, "Accept: application/json");
        curl_easy_setopt(easy, CURLOPT_URL, s->url);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_USERAGENT, s->user_agent);
        curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &b);
    }
    for (int i = 0; i < 200; i++) {
        if (easy)
            floor_lookup(easy, &b);
        else
            lookup(s->client);
    }
    pthread_barrier_wait(&s->start);
    long count = 0;
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        if (easy)
            floor_lookup(easy, &b);
        else
            lookup(s->client);
        count++;
    }
    w->count = count;
    pthread_barrier_wait(&s->end);
    if (easy) {
        curl_easy_cleanup(easy);
        curl_slist_free_all(headers);
        free(b.data);
    }
    return NULL;
}

/* One repetition with `nthreads` threads on a fresh client (or, for the floor,
   fresh easy handles): lookups per second. */
static double measure(const char *url, const char *token, const char *user_agent, int use_floor,
                      int nthreads, double seconds)
{
    struct shared s;
    struct worker workers[64];
    membrane_error err;
    char floor_url[2048], authorization[1024];
    snprintf(floor_url, sizeof floor_url, "%s/integrations/hubspot?includeSecrets=false", url);
    snprintf(authorization, sizeof authorization, "Authorization: Bearer %s", token);
    s.url = floor_url;
    s.authorization = authorization;
    s.user_agent = user_agent;
    s.client = NULL;
    if (!use_floor && membrane_client_new(&s.client, url, token, &err) != MEMBRANE_OK) {
        fprintf(stderr, "bench_threads: membrane_client_new: %s\n", err.message);
        exit(1);
    }
    pthread_barrier_init(&s.start, NULL, (unsigned)nthreads + 1);
    pthread_barrier_init(&s.end, NULL, (unsigned)nthreads + 1);
    atomic_init(&s.stop, 0);
    for (int t = 0; t < nthreads; t++) {
        workers[t].shared = &s;
        workers[t].count = 0;
        pthread_create(&workers[t].thread, NULL, work, &workers[t]);
    }
    pthread_barrier_wait(&s.start);
    double t0 = bench_now();
    struct timespec nap = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
    nanosleep(&nap, NULL);
    atomic_store(&s.stop, 1);
    pthread_barrier_wait(&s.end);
    double elapsed = bench_now() - t0;
    long total = 0;
    for (int t = 0; t < nthreads; t++) {
        pthread_join(workers[t].thread, NULL);
        total += workers[t].count;
    }
    pthread_barrier_destroy(&s.start);
    pthread_barrier_destroy(&s.end);
    membrane_client_free(s.client);
    return (double)total / elapsed;
}

static void print_series(const char *name, int ncounts, const int *counts, int reps,
                         double rates[][BENCH_MAX_REPS], int first)
{
    printf("%s\"%s\": [", first ? "" : ", ", name);
    for (int c = 0; c < ncounts; c++) {
        printf("%s{\"threads\": %d, \"reps_per_s\": [", c ? ", " : "", counts[c]);
        for (int r = 0; r < reps; r++)
            printf("%s%.1f", r ? ", " : "", rates[c][r]);
        printf("], \"median_per_s\": %.1f}", bench_median(rates[c], (size_t)reps));
    }
    printf("]");
}

int main(int argc, char **argv)
{
    if (argc < 7 || argc - 6 > 8) {
        fprintf(stderr, "usage: %s URL TOKEN USER_AGENT SECONDS REPS T1 [T2 ... T8]\n", argv[0]);
        return 2;
    }
    double seconds = atof(argv[4]);
    int reps = atoi(argv[5]), ncounts = argc - 6, counts[8];
    if (seconds <= 0 || reps < 1 || reps > BENCH_MAX_REPS) {
        fprintf(stderr, "bench_threads: bad SECONDS or REPS\n");
        return 2;
    }
    for (int c = 0; c < ncounts; c++) {
        counts[c] = atoi(argv[6 + c]);
        if (counts[c] < 1 || counts[c] > 64) {
            fprintf(stderr, "bench_threads: bad thread count %s\n", argv[6 + c]);
            return 2;
        }
    }
    curl_global_init(CURL_GLOBAL_ALL);
    /* Rounds: each runs every thread count once, with the library and with
       the floor, so load from elsewhere on the machine hits all alike. */
    static double rates[8][BENCH_MAX_REPS], floor_rates[8][BENCH_MAX_REPS];
    for (int r = 0; r < reps; r++) {
        for (int c = 0; c < ncounts; c++) {
            rates[c][r] = measure(argv[1], argv[2], argv[3], 0, counts[c], seconds);
            floor_rates[c][r] = measure(argv[1], argv[2], argv[3], 1, counts[c], seconds);
        }
    }
    printf("{");
    print_series("threads", ncounts, counts, reps, rates, 1);
    print_series("floor", ncounts, counts, reps, floor_rates, 0);
    printf("}\n");
    curl_global_cleanup();
    return 0;
}
