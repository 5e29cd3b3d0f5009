/*
 * Async: LOOKUPS lookups from ONE thread through membrane_integration_get_async,
 * all started up front, their callbacks run by membrane_client_dispatch()
 * from a poll() loop on the client's completion fd, against the stand-in
 * server while a fault delays every API request by DELAY ms
 * (POST /_mock/faults {"delayMs": DELAY, "times": 0}).
 *
 * With MEMBRANE_OPT_MAX_PARALLEL = P and HTTP/1.1 (the stand-in server), at
 * most P requests are on the wire at once, each taking at least DELAY ms: the
 * bound is P * 1000 / DELAY lookups per second. The run reports lookups/s
 * against that bound, and what the server saw (/_mock/stats: the most
 * requests in flight at once, and how many connections the client opened
 * during the run: 0 when it kept using its warm ones).
 *
 * The stand-in server is a debug build. To show it is not what limits the
 * delayed runs, every round also runs the same LOOKUPS with no fault at all
 * (delay 0): that rate is what the server and the client manage flat out,
 * and it should sit well above the bound.
 *
 * Every client runs with MEMBRANE_OPT_SHARE_REQUESTS 0: the lookups cycle
 * through a few dozen selectors with thousands in flight, and with sharing
 * on (the default) those of one selector would ride on one request, so the
 * rate would no longer be bounded by P connections (it measured ten times
 * the bound). Here every lookup is a request of its own.
 *
 * With BENCH_SERVER_PID set (run.sh sets it to the stand-in's pid), the
 * server's own CPU time per lookup is read from /proc before and after each
 * run, and how many cores it kept busy (its CPU seconds per wall second).
 *
 * Rounds: each runs, for every P given, the delayed run, then the undelayed
 * one, so load from elsewhere on the machine hits them alike. Every client
 * is warmed up first (P delayed lookups at once, so its P connections are
 * open). The request log of the server is cleared after every run.
 *
 *   bench_async MOCK_URL TOKEN FIXTURES DELAY_MS LOOKUPS REPS PARALLEL [PARALLEL ...]
 *
 * Prints one line of JSON (see the end of main).
 */
#include <poll.h>
#include <unistd.h>

#include <curl/curl.h>
#include <membrane.h>

#include "bench_common.h"
#include "bench_admin.h"

#define MAX_SELECTORS 256
#define MAX_ROWS 8

/* CPU seconds (user + system) the process `pid` has used so far; -1 when
   /proc cannot say. */
static double process_cpu(long pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p = strrchr(text, ')'); /* after the command name, which may hold spaces */
    unsigned long utime, stime;
    /* fields 3..15: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void set_delay(long delay_ms)
{
    json_decref(admin("DELETE", "/_mock/faults", NULL));
    if (delay_ms > 0) {
        char fault[128];
        snprintf(fault, sizeof fault, "{\"delayMs\": %ld, \"times\": 0}", delay_ms);
        json_decref(admin("POST", "/_mock/faults", fault));
    }
}

/* What one run left behind. */
struct tally {
    long done, ok, failed;
    int first_error;
    char first_message[256];
};

static void on_result(void *payload, int code, json_t *integration, const membrane_error *err)
{
    struct tally *t = payload;
    t->done++;
    if (code == MEMBRANE_OK && json_is_string(json_object_get(integration, "name"))) {
        t->ok++;
    } else {
        if (t->failed++ == 0) {
            t->first_error = code;
            snprintf(t->first_message, sizeof t->first_message, "%s", err ? err->message : "");
        }
    }
    json_decref(integration);
}

/* Starts `count` lookups (cycling through the selectors) and runs the poll()
   loop until every callback has run. Returns the wall-clock seconds. */
static double run_lookups(membrane_client *client, int fd, const char *const *selectors, int nselectors,
                          long count, struct tally *t)
{
    memset(t, 0, sizeof *t);
    double t0 = bench_now();
    for (long i = 0; i < count; i++) {
        membrane_error err;
        int rc = membrane_integration_get_async(client, selectors[i % nselectors], 0, on_result, t, NULL, &err);
        if (rc != MEMBRANE_OK) {
            fprintf(stderr, "bench_async: membrane_integration_get_async: %s (%s)\n", membrane_strerror(rc),
                    err.message);
            exit(1);
        }
    }
    while (t->done < count) {
        struct pollfd p = { fd, POLLIN, 0 };
        int ready = poll(&p, 1, 30000);
        if (ready < 0) {
            perror("bench_async: poll");
            exit(1);
        }
        if (ready == 0) {
            fprintf(stderr, "bench_async: no completion for 30 s (%ld of %ld done)\n", t->done, count);
            exit(1);
        }
        if (membrane_client_dispatch(client, 0) < 0) {
            fprintf(stderr, "bench_async: membrane_client_dispatch failed\n");
            exit(1);
        }
    }
    return bench_now() - t0;
}

struct row {
    long parallel;
    membrane_client *client;
    int fd;
    /* [0]: the delayed runs; [1]: no delay. */
    double per_s[2][BENCH_MAX_REPS], cpu_us[2][BENCH_MAX_REPS];
    double server_cpu_us[2][BENCH_MAX_REPS], server_cores[2][BENCH_MAX_REPS];
    long opened[BENCH_MAX_REPS], max_in_flight[BENCH_MAX_REPS];
    long ok[2], failed[2];
};

static long stat_field(const json_t *stats, const char *name)
{
    return (long)json_integer_value(json_object_get(stats, name));
}

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
    if (argc < 8) {
        fprintf(stderr, "usage: %s MOCK_URL TOKEN FIXTURES DELAY_MS LOOKUPS REPS PARALLEL [PARALLEL ...]\n",
                argv[0]);
        return 2;
    }
    bench_mock_url = argv[1];
    bench_program = "bench_async";
    const char *token = argv[2];
    long delay = atol(argv[4]), lookups = atol(argv[5]);
    int reps = atoi(argv[6]), nrows = argc - 7;
    if (delay < 1 || lookups < 1 || reps < 1 || reps > BENCH_MAX_REPS || nrows > MAX_ROWS) {
        fprintf(stderr, "bench_async: bad DELAY_MS, LOOKUPS, REPS or too many PARALLEL values\n");
        return 2;
    }
    long server_pid = (long)bench_env_double("BENCH_SERVER_PID", 0);
    curl_global_init(CURL_GLOBAL_ALL);

    /* The selectors: every id, uuid and key of the fixtures (all found). */
    json_error_t jerr;
    json_t *fixtures = json_load_file(argv[3], 0, &jerr);
    if (fixtures == NULL) {
        fprintf(stderr, "bench_async: %s: %s\n", argv[3], jerr.text);
        return 1;
    }
    static char storage[MAX_SELECTORS][128];
    const char *selectors[MAX_SELECTORS];
    int nselectors = 0;
    json_t *list = json_object_get(fixtures, "integrations");
    static const char *const fields[] = { "id", "uuid", "key" };
    for (size_t i = 0; i < json_array_size(list) && nselectors < MAX_SELECTORS; i++) {
        for (int f = 0; f < 3 && nselectors < MAX_SELECTORS; f++) {
            const char *value = json_string_value(json_object_get(json_array_get(list, i), fields[f]));
            if (value != NULL && strlen(value) < sizeof storage[0]) {
                snprintf(storage[nselectors], sizeof storage[0], "%s", value);
                selectors[nselectors] = storage[nselectors];
                nselectors++;
            }
        }
    }
    json_decref(fixtures);
    if (nselectors == 0) {
        fprintf(stderr, "bench_async: no selectors in %s\n", argv[3]);
        return 1;
    }

    /* Clients, each warmed up with the fault on: P lookups at once open its
       P connections. */
    static struct row rows[MAX_ROWS];
    struct tally tally;
    set_delay(delay);
    for (int i = 0; i < nrows; i++) {
        struct row *row = &rows[i];
        membrane_error err;
        row->parallel = atol(argv[7 + i]);
        if (membrane_client_new(&row->client, bench_mock_url, token, &err) != MEMBRANE_OK) {
            fprintf(stderr, "bench_async: membrane_client_new: %s\n", err.message);
            return 1;
        }
        if (membrane_client_set_long(row->client, MEMBRANE_OPT_MAX_PARALLEL, row->parallel) != MEMBRANE_OK ||
            membrane_client_set_long(row->client, MEMBRANE_OPT_TIMEOUT_MS, 120000) != MEMBRANE_OK) {
            fprintf(stderr, "bench_async: MEMBRANE_OPT_MAX_PARALLEL %ld refused\n", row->parallel);
            return 1;
        }
        /* One request per lookup (see the top of this file). */
        if (membrane_client_set_long(row->client, MEMBRANE_OPT_SHARE_REQUESTS, 0) != MEMBRANE_OK) {
            fprintf(stderr, "bench_async: MEMBRANE_OPT_SHARE_REQUESTS 0 refused\n");
            return 1;
        }
        row->fd = membrane_client_completion_fd(row->client);
        if (row->fd < 0) {
            perror("bench_async: membrane_client_completion_fd");
            return 1;
        }
        run_lookups(row->client, row->fd, selectors, nselectors, row->parallel, &tally);
        json_decref(admin("DELETE", "/_mock/requests", NULL));
    }

    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < nrows; i++) {
            struct row *row = &rows[i];
            for (int d = 0; d < 2; d++) {
                set_delay(d == 0 ? delay : 0);
                json_decref(admin("DELETE", "/_mock/stats", NULL));
                double c0 = bench_cpu(), s0 = server_pid > 0 ? process_cpu(server_pid) : -1;
                double seconds = run_lookups(row->client, row->fd, selectors, nselectors, lookups, &tally);
                double s1 = server_pid > 0 ? process_cpu(server_pid) : -1;
                row->cpu_us[d][r] = (bench_cpu() - c0) * 1e6 / (double)lookups;
                row->per_s[d][r] = (double)lookups / seconds;
                row->server_cpu_us[d][r] = s0 >= 0 && s1 >= 0 ? (s1 - s0) * 1e6 / (double)lookups : -1;
                row->server_cores[d][r] = s0 >= 0 && s1 >= 0 ? (s1 - s0) / seconds : -1;
                if (d == 0) {
                    json_t *stats = admin("DELETE", "/_mock/stats", NULL); /* the counters of the run */
                    /* less the connection this admin call itself came on */
                    row->opened[r] = stat_field(stats, "connectionsOpened") - 1;
                    row->max_in_flight[r] = stat_field(stats, "maxRequestsInFlight");
                    json_decref(stats);
                }
                json_decref(admin("DELETE", "/_mock/requests", NULL));
                row->ok[d] += tally.ok;
                row->failed[d] += tally.failed;
                if (tally.failed)
                    fprintf(stderr, "bench_async: P=%ld delay %ld: %ld of %ld lookups failed, first: %s (%s)\n",
                            row->parallel, d == 0 ? delay : 0L, tally.failed, lookups,
                            membrane_strerror(tally.first_error), tally.first_message);
                fprintf(stderr, "[bench_async] round %d, P=%ld, delay %ld ms: %.0f lookups/s, client %.0f CPU us "
                        "per lookup, server %.0f CPU us per lookup (%.2f cores)\n", r + 1, row->parallel,
                        d == 0 ? delay : 0L, row->per_s[d][r], row->cpu_us[d][r], row->server_cpu_us[d][r],
                        row->server_cores[d][r]);
            }
        }
    }
    set_delay(0);

    printf("{\"lookups\": %ld, \"delay_ms\": %ld, \"selectors\": %d, \"reps\": %d, \"cores\": %ld, \"rows\": [",
           lookups, delay, nselectors, reps, sysconf(_SC_NPROCESSORS_ONLN));
    for (int i = 0; i < nrows; i++) {
        struct row *row = &rows[i];
        double conns[BENCH_MAX_REPS], inflight[BENCH_MAX_REPS];
        for (int r = 0; r < reps; r++) {
            conns[r] = (double)row->opened[r];
            inflight[r] = (double)row->max_in_flight[r];
        }
        printf("%s{\"parallel\": %ld, \"bound_per_s\": %.1f, ", i ? ", " : "", row->parallel,
               (double)row->parallel * 1000.0 / (double)delay);
        print_series("per_s", row->per_s[0], reps, "%.1f");
        printf(", ");
        print_series("cpu_us", row->cpu_us[0], reps, "%.2f");
        printf(", ");
        print_series("undelayed_per_s", row->per_s[1], reps, "%.1f");
        printf(", ");
        print_series("undelayed_cpu_us", row->cpu_us[1], reps, "%.2f");
        printf(", ");
        if (server_pid > 0) {
            print_series("server_cpu_us", row->server_cpu_us[0], reps, "%.1f");
            printf(", ");
            print_series("server_cores", row->server_cores[0], reps, "%.2f");
            printf(", ");
            print_series("undelayed_server_cpu_us", row->server_cpu_us[1], reps, "%.1f");
            printf(", ");
            print_series("undelayed_server_cores", row->server_cores[1], reps, "%.2f");
            printf(", ");
        }
        print_series("connections_opened", conns, reps, "%.0f");
        printf(", ");
        print_series("max_in_flight", inflight, reps, "%.0f");
        printf(", \"ok\": %ld, \"failed\": %ld, \"undelayed_ok\": %ld, \"undelayed_failed\": %ld}", row->ok[0],
               row->failed[0], row->ok[1], row->failed[1]);
    }
    printf("]}\n");

    for (int i = 0; i < nrows; i++)
        membrane_client_free(rows[i].client);
    curl_global_cleanup();
    return 0;
}
