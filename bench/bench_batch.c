/*
 * Batch: 100 distinct selectors against the stand-in server while a fault
 * delays every API request by DELAY ms (POST /_mock/faults {"delayMs": DELAY,
 * "times": 0}; DELETE /_mock/faults at the end).
 *
 * The selectors: every id, uuid and key in the fixtures file (45 for the
 * default fixtures, all found), padded with "bench-unknown-NN" selectors the
 * server answers with a 404 (each still one real, delayed request). The
 * library fetches a repeated selector once, so all 100 are distinct.
 *
 * Compared: a sequential loop of membrane_integration_get over the 100, and
 * membrane_integrations_get_many with MEMBRANE_OPT_MAX_PARALLEL at the
 * default (8) and at each PARALLEL given. Every client is warmed up before
 * the fault is set (its connections are open). The calls are made in rounds,
 * each round one call of every row (the sequential loop only in the first
 * SEQ_REPS rounds). After each measured call the server's request log is read
 * and cleared, so the table can say how many requests each call really made.
 *
 *   bench_batch MOCK_URL TOKEN FIXTURES DELAY_MS SEQ_REPS MANY_REPS [PARALLEL ...]
 *
 * Prints one line of JSON (see the end of main).
 */
#include <curl/curl.h>
#include <membrane.h>

#include "bench_common.h"
#include "bench_admin.h"

#define COUNT 100

/* How many API requests the server saw since the last call; clears its log. */
static long requests_seen(void)
{
    json_t *log = admin("GET", "/_mock/requests", NULL);
    long seen = (long)json_array_size(json_object_get(log, "requests"));
    json_decref(log);
    json_decref(admin("DELETE", "/_mock/requests", NULL));
    return seen;
}

static membrane_client *new_client(const char *token, long parallel)
{
    membrane_client *client;
    membrane_error err;
    if (membrane_client_new(&client, bench_mock_url, token, &err) != MEMBRANE_OK) {
        fprintf(stderr, "bench_batch: membrane_client_new: %s\n", err.message);
        exit(1);
    }
    if (parallel > 0 && membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, parallel) != MEMBRANE_OK) {
        fprintf(stderr, "bench_batch: MEMBRANE_OPT_MAX_PARALLEL %ld refused\n", parallel);
        exit(1);
    }
    return client;
}

struct outcome {
    int ok, not_found, other;
};

static void count_rc(struct outcome *o, int rc)
{
    if (rc == MEMBRANE_OK)
        o->ok++;
    else if (rc == MEMBRANE_ENOTFOUND)
        o->not_found++;
    else
        o->other++;
}

static struct outcome sequential(membrane_client *client, const char *const *selectors)
{
    struct outcome o = { 0, 0, 0 };
    for (int i = 0; i < COUNT; i++) {
        json_t *integration = NULL;
        membrane_error err;
        count_rc(&o, membrane_integration_get(client, selectors[i], 0, &integration, &err));
        json_decref(integration);
    }
    return o;
}

static struct outcome many(membrane_client *client, const char *const *selectors)
{
    struct outcome o = { 0, 0, 0 };
    json_t *results = NULL;
    membrane_error err;
    int rc = membrane_integrations_get_many(client, selectors, COUNT, 0, &results, &err);
    if (rc != MEMBRANE_OK) {
        fprintf(stderr, "bench_batch: get_many: %s (%s)\n", membrane_strerror(rc), err.message);
        exit(1);
    }
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *item = json_array_get(results, i);
        json_t *error = json_object_get(item, "error");
        if (json_is_string(json_object_get(item, "name")))
            o.ok++;
        else
            count_rc(&o, error ? (int)json_integer_value(json_object_get(error, "code")) : MEMBRANE_EINTERNAL);
    }
    json_decref(results);
    return o;
}

struct row {
    char name[96];
    long parallel;
    int is_many, reps;
    membrane_client *client;
    double ms[BENCH_MAX_REPS];
    long seen[BENCH_MAX_REPS];
    struct outcome last;
};

/* One measured call of a row (the server's request log cleared before). */
static void measure(struct row *row, const char *const *selectors, int r)
{
    double t0 = bench_now();
    row->last = row->is_many ? many(row->client, selectors) : sequential(row->client, selectors);
    row->ms[r] = (bench_now() - t0) * 1e3;
    row->seen[r] = requests_seen();
}

static void print_row(struct row *row, int first)
{
    printf("%s{\"name\": \"%s\", \"parallel\": %ld, \"reps_ms\": [", first ? "" : ", ", row->name,
           row->parallel);
    for (int r = 0; r < row->reps; r++)
        printf("%s%.1f", r ? ", " : "", row->ms[r]);
    printf("], \"requests_per_call\": [");
    for (int r = 0; r < row->reps; r++)
        printf("%s%ld", r ? ", " : "", row->seen[r]);
    printf("], \"ok\": %d, \"not_found\": %d, \"other_errors\": %d, \"median_ms\": %.1f}",
           row->last.ok, row->last.not_found, row->last.other, bench_median(row->ms, (size_t)row->reps));
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: %s MOCK_URL TOKEN FIXTURES DELAY_MS SEQ_REPS MANY_REPS [PARALLEL ...]\n", argv[0]);
        return 2;
    }
    bench_mock_url = argv[1];
    bench_program = "bench_batch";
    const char *token = argv[2];
    long delay = atol(argv[4]);
    int seq_reps = atoi(argv[5]), many_reps = atoi(argv[6]);
    if (seq_reps < 1 || seq_reps > BENCH_MAX_REPS || many_reps < 1 || many_reps > BENCH_MAX_REPS || argc - 7 > 7) {
        fprintf(stderr, "bench_batch: bad repetitions or too many PARALLEL values\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_ALL);

    /* 100 distinct selectors: ids, uuids, keys from the fixtures, then unknown ones. */
    json_error_t jerr;
    json_t *fixtures = json_load_file(argv[3], 0, &jerr);
    if (fixtures == NULL) {
        fprintf(stderr, "bench_batch: %s: %s\n", argv[3], jerr.text);
        return 1;
    }
    static char storage[COUNT][128];
    const char *selectors[COUNT];
    int n = 0, valid;
    json_t *list = json_object_get(fixtures, "integrations");
    static const char *const fields[] = { "id", "uuid", "key" };
    for (size_t i = 0; i < json_array_size(list) && n < COUNT; i++) {
        for (int f = 0; f < 3 && n < COUNT; f++) {
            const char *value = json_string_value(json_object_get(json_array_get(list, i), fields[f]));
            if (value == NULL || strlen(value) >= sizeof storage[0])
                continue;
            int seen = 0;
            for (int k = 0; k < n; k++)
                seen |= strcmp(storage[k], value) == 0;
            if (!seen)
                snprintf(storage[n++], sizeof storage[0], "%s", value);
        }
    }
    valid = n;
    for (int k = 0; n < COUNT; k++)
        snprintf(storage[n++], sizeof storage[0], "bench-unknown-%02d", k);
    for (int i = 0; i < COUNT; i++)
        selectors[i] = storage[i];
    json_decref(fixtures);

    /* Rows: the sequential loop, then get_many at the default parallelism
       and at each PARALLEL given; clients warmed up without the fault, so
       their connections are open. */
    static struct row rows[9];
    int nrows = 2 + (argc - 7);
    for (int i = 0; i < nrows; i++) {
        struct row *row = &rows[i];
        row->is_many = i > 0;
        row->parallel = i == 0 ? 1 : i == 1 ? 8 : atol(argv[7 + i - 2]);
        row->reps = i == 0 ? seq_reps : many_reps;
        row->client = new_client(token, i >= 2 ? row->parallel : 0);
        snprintf(row->name, sizeof row->name, "%s", i == 0 ? "sequential membrane_integration_get"
                 : i == 1 ? "membrane_integrations_get_many (default)" : "membrane_integrations_get_many");
        if (row->is_many)
            many(row->client, selectors);
        else
            sequential(row->client, selectors);
    }

    json_decref(admin("DELETE", "/_mock/faults", NULL));
    char fault[128];
    snprintf(fault, sizeof fault, "{\"delayMs\": %ld, \"times\": 0}", delay);
    json_decref(admin("POST", "/_mock/faults", fault));
    requests_seen();

    /* Rounds: each measures every row once (the sequential loop only in the
       first SEQ_REPS rounds), so load from elsewhere hits all rows alike. */
    int rounds = seq_reps > many_reps ? seq_reps : many_reps;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < nrows; i++)
            if (r < rows[i].reps)
                measure(&rows[i], selectors, r);

    printf("{\"selectors\": %d, \"valid\": %d, \"delay_ms\": %ld, \"rows\": [", COUNT, valid, delay);
    for (int i = 0; i < nrows; i++)
        print_row(&rows[i], i == 0);
    printf("]}\n");

    json_decref(admin("DELETE", "/_mock/faults", NULL));
    for (int i = 0; i < nrows; i++)
        membrane_client_free(rows[i].client);
    curl_global_cleanup();
    return 0;
}
