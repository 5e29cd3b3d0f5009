/*
 * Threads: lookups per second with T threads sharing one client (pthreads),
 * and, for reference, the floor of bench_curl.c with T threads (each its own
 * easy handle and connection): what this machine and server allow at all.
 * REPS rounds; in each, every thread count T runs once: a fresh client, T
 * threads that warm up (so the pool holds a connection per thread), then all
 * start together and look up in a loop for SECONDS; the rate is all their
 * lookups over the wall time of the repetition. Median over rounds.
 *
 * Which selectors: without --distinct, every thread asks for "hubspot".
 * Since MEMBRANE_OPT_SHARE_REQUESTS (on by default), lookups of one selector
 * that overlap share one request, so that measures sharing as much as
 * threads. With --distinct FIXTURES, the first K keys of the fixtures file
 * (K = the largest T; keys of plain characters, which nginx serves under the
 * same name) are handed out so that no two threads ever ask for the same
 * one: thread t of T asks for selectors t, t + T, t + 2T, ... below K in
 * turn. With the largest T each thread has a selector of its own; with
 * fewer threads each cycles through several, so when every T divides K all
 * thread counts fetch the same mix of bodies. The floor's threads ask for
 * the same selectors in the same way.
 *
 *   bench_threads URL TOKEN USER_AGENT SECONDS REPS [--distinct FIXTURES] T1 [T2 ... T8]
 *
 * Prints one line of JSON: {"selectors": [...], "distinct": true|false,
 * "threads": [{"threads": T, "reps_per_s": [...], "median_per_s": ...}, ...],
 * "floor": [the same for the floor]}.
 */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <membrane.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bench_common.h"

#define MAX_THREADS 64
#define MAX_SELECTORS MAX_THREADS

/* The selectors, and for the floor their URLs. */
static int nselectors = 1;
static char selectors[MAX_SELECTORS][128] = { "hubspot" };
static char floor_urls[MAX_SELECTORS][2048];

struct shared {
    membrane_client *client;   /* NULL: the floor, a libcurl easy handle per thread */
    const char *authorization, *user_agent;
    int nthreads;
    pthread_barrier_t start, end;
    atomic_int stop;
};

struct worker {
    struct shared *shared;
    pthread_t thread;
    int index;                 /* t of T */
    long count;
};

static void lookup(membrane_client *client, const char *selector)
{
    membrane_error err;
    json_t *integration = NULL;
    int rc = membrane_integration_get(client, selector, 0, &integration, &err);
    if (rc != MEMBRANE_OK) {
        fprintf(stderr, "bench_threads: %s: %s (%s)\n", selector, membrane_strerror(rc), err.message);
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

static void floor_lookup(CURL *easy, struct body *b, const char *url, int set_url)
{
    if (set_url)
        curl_easy_setopt(easy, CURLOPT_URL, url);
    b->length = 0;
    CURLcode code = curl_easy_perform(easy);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    json_t *integration = code == CURLE_OK && status == 200 ? json_loadb(b->data, b->length, 0, NULL) : NULL;
    if (!json_is_object(integration) || !json_is_string(json_object_get(integration, "name"))) {
        fprintf(stderr, "bench_threads: floor lookup of %s failed (%s, HTTP %ld)\n", url, curl_easy_strerror(code),
                status);
        exit(1);
    }
    json_decref(integration);
}

static void *work(void *opaque)
{
    struct worker *w = opaque;
    struct shared *s = w->shared;
    /* This thread's selectors: t, t + T, ... below K (at least one). */
    int mine[MAX_SELECTORS], nmine = 0;
    for (int i = w->index; i < nselectors; i += s->nthreads)
        mine[nmine++] = i;
    if (nmine == 0)
        mine[nmine++] = w->index % nselectors;
    CURL *easy = NULL;
    struct curl_slist *headers = NULL;
    struct body b = { NULL, 0, 0 };
    if (s->client == NULL) {
        easy = curl_easy_init();
        headers = curl_slist_append(NULL, s->authorization);
        headers = curl_slist_append(headers, "Accept: application/json");
        curl_easy_setopt(easy, CURLOPT_URL, floor_urls[mine[0]]);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_USERAGENT, s->user_agent);
        curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &b);
    }
    int next = 0;
    for (int i = 0; i < 200; i++) {
        if (easy)
            floor_lookup(easy, &b, floor_urls[mine[next]], nmine > 1);
        else
            lookup(s->client, selectors[mine[next]]);
        next = next + 1 == nmine ? 0 : next + 1;
    }
    pthread_barrier_wait(&s->start);
    long count = 0;
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        if (easy)
            floor_lookup(easy, &b, floor_urls[mine[next]], nmine > 1);
        else
            lookup(s->client, selectors[mine[next]]);
        next = next + 1 == nmine ? 0 : next + 1;
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
    struct worker workers[MAX_THREADS];
    membrane_error err;
    char authorization[1024];
    snprintf(authorization, sizeof authorization, "Authorization: Bearer %s", token);
    s.authorization = authorization;
    s.user_agent = user_agent;
    s.nthreads = nthreads;
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
        workers[t].index = t;
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
                         double rates[][BENCH_MAX_REPS])
{
    printf(", \"%s\": [", name);
    for (int c = 0; c < ncounts; c++) {
        printf("%s{\"threads\": %d, \"reps_per_s\": [", c ? ", " : "", counts[c]);
        for (int r = 0; r < reps; r++)
            printf("%s%.1f", r ? ", " : "", rates[c][r]);
        printf("], \"median_per_s\": %.1f}", bench_median(rates[c], (size_t)reps));
    }
    printf("]");
}

/* The first `count` keys of the fixtures made only of characters a URL path
   carries as they are (nginx serves each under its own name). */
static int read_keys(const char *path, int count)
{
    json_error_t jerr;
    json_t *fixtures = json_load_file(path, 0, &jerr);
    if (fixtures == NULL) {
        fprintf(stderr, "bench_threads: %s: %s\n", path, jerr.text);
        return -1;
    }
    json_t *list = json_object_get(fixtures, "integrations");
    int n = 0;
    for (size_t i = 0; i < json_array_size(list) && n < count; i++) {
        const char *key = json_string_value(json_object_get(json_array_get(list, i), "key"));
        if (key == NULL || *key == '\0' || strlen(key) >= sizeof selectors[0] ||
            key[strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")] != '\0')
            continue;
        int seen = 0;
        for (int k = 0; k < n; k++)
            seen |= strcmp(selectors[k], key) == 0;
        if (!seen)
            snprintf(selectors[n++], sizeof selectors[0], "%s", key);
    }
    json_decref(fixtures);
    if (n < count) {
        fprintf(stderr, "bench_threads: %s has %d plain keys, %d needed\n", path, n, count);
        return -1;
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *fixtures = NULL;
    int first = 6;
    if (argc > 7 && strcmp(argv[6], "--distinct") == 0) {
        fixtures = argv[7];
        first = 8;
    }
    if (argc < first + 1 || argc - first > 8) {
        fprintf(stderr, "usage: %s URL TOKEN USER_AGENT SECONDS REPS [--distinct FIXTURES] T1 [T2 ... T8]\n",
                argv[0]);
        return 2;
    }
    double seconds = atof(argv[4]);
    int reps = atoi(argv[5]), ncounts = argc - first, counts[8], most = 0;
    if (seconds <= 0 || reps < 1 || reps > BENCH_MAX_REPS) {
        fprintf(stderr, "bench_threads: bad SECONDS or REPS\n");
        return 2;
    }
    for (int c = 0; c < ncounts; c++) {
        counts[c] = atoi(argv[first + c]);
        if (counts[c] < 1 || counts[c] > MAX_THREADS) {
            fprintf(stderr, "bench_threads: bad thread count %s\n", argv[first + c]);
            return 2;
        }
        most = counts[c] > most ? counts[c] : most;
    }
    if (fixtures != NULL && (nselectors = read_keys(fixtures, most)) < 0)
        return 1;
    for (int i = 0; i < nselectors; i++)
        snprintf(floor_urls[i], sizeof floor_urls[i], "%s/integrations/%s?includeSecrets=false", argv[1],
                 selectors[i]);
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
    printf("{\"distinct\": %s, \"selectors\": [", fixtures != NULL ? "true" : "false");
    for (int i = 0; i < nselectors; i++)
        printf("%s\"%s\"", i ? ", " : "", selectors[i]);
    printf("]");
    print_series("threads", ncounts, counts, reps, rates);
    print_series("floor", ncounts, counts, reps, floor_rates);
    printf("}\n");
    curl_global_cleanup();
    return 0;
}
