/*
 * bench_common.h: timing helpers shared by the C benchmarks.
 *
 * A "row" is measured as: a warm-up of BENCH_WARMUP_SECONDS (default 0.3 s,
 * at least 20 operations), which also estimates the cost of one operation
 * (its fastest chunk of 10);
 * then BENCH_REPS repetitions (default 5) of N operations, N chosen so one
 * repetition takes about BENCH_REP_SECONDS (default 0.4 s). (run.sh sets 15
 * and 0.2 s.) The result is one line of JSON on stdout: {"n": N,
 * "reps_us": [...], "reps_cpu_us": [...], "median_us": ...,
 * "median_cpu_us": ...}: the wall-clock microseconds per
 * operation of each repetition, the process's CPU time (all its threads) per
 * operation, and their medians. The CPU time is the client's own cost, which
 * the wall time mixes with the server's and with waiting for a core.
 *
 * With BENCH_SERVE=1 (how bench/driver.py runs every row), the program warms
 * up, prints {"ready": true, "n": N}, then runs one repetition for each line
 * "run" read on stdin and answers {"us": ..., "cpu_us": ...}; EOF or "quit"
 * ends it. The driver so interleaves the repetitions of all rows, and a burst
 * of load from elsewhere on the machine hits every row alike instead of one.
 *
 * With BENCH_COUNT=N it runs exactly N operations and times nothing: run.sh
 * counts their instructions under callgrind (--toggle-collect=lookup).
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (all its threads), in seconds. */
static inline double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double bench_env_double(const char *name, double fallback)
{
    const char *value = getenv(name);
    if (value == NULL || *value == '\0')
        return fallback;
    double parsed = strtod(value, NULL);
    return parsed > 0 ? parsed : fallback;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of `count` values (the array is sorted in place). */
static inline double bench_median(double *values, size_t count)
{
    if (count == 0)
        return 0;
    qsort(values, count, sizeof *values, bench_cmp_double);
    return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

/* One operation; returns 0 on success. Failures abort the benchmark: a
   number measured over failing requests would be meaningless. */
typedef int (*bench_op)(void *context);

#define BENCH_MAX_REPS 50

/* One repetition of n operations: wall and process-CPU microseconds per operation. */
struct bench_rep {
    double us, cpu_us;
};

static inline struct bench_rep bench_repetition(bench_op op, void *context, long n, int r)
{
    double t0 = bench_now(), c0 = bench_cpu();
    for (long i = 0; i < n; i++) {
        if (op(context) != 0) {
            fprintf(stderr, "bench: operation %ld of repetition %d failed\n", i, r);
            exit(1);
        }
    }
    struct bench_rep rep = { (bench_now() - t0) * 1e6 / (double)n, (bench_cpu() - c0) * 1e6 / (double)n };
    return rep;
}

static inline void bench_run_row(bench_op op, void *context)
{
    /* BENCH_COUNT=N: exactly N operations, no timing (for counting
       instructions under callgrind, where clocks mean little). */
    long count = (long)bench_env_double("BENCH_COUNT", 0);
    if (count > 0) {
        for (long i = 0; i < count; i++) {
            if (op(context) != 0) {
                fprintf(stderr, "bench: operation %ld failed\n", i);
                exit(1);
            }
        }
        printf("{\"count\": %ld}\n", count);
        return;
    }

    double warmup = bench_env_double("BENCH_WARMUP_SECONDS", 0.3);
    double rep_seconds = bench_env_double("BENCH_REP_SECONDS", 0.4);
    int reps = (int)bench_env_double("BENCH_REPS", 5);
    if (reps > BENCH_MAX_REPS)
        reps = BENCH_MAX_REPS;

    /* The warm-up runs in chunks of 10 operations; the fastest chunk gives
       the cost of one operation, so a stall during the warm-up (the machine
       is shared) does not shrink N to a few milliseconds' worth. */
    long done = 0;
    double start = bench_now(), now, per_op = 1e9;
    do {
        double chunk = bench_now();
        for (int i = 0; i < 10; i++) {
            if (op(context) != 0) {
                fprintf(stderr, "bench: operation failed during warm-up\n");
                exit(1);
            }
        }
        done += 10;
        now = bench_now();
        if ((now - chunk) / 10 < per_op)
            per_op = (now - chunk) / 10;
    } while (now - start < warmup || done < 20);

    long n = (long)(rep_seconds / per_op);
    if (n < 50)
        n = 50;
    if (n > 5000000)
        n = 5000000;

    const char *serve = getenv("BENCH_SERVE");
    if (serve != NULL && strcmp(serve, "1") == 0) {
        char line[64];
        printf("{\"ready\": true, \"n\": %ld}\n", n);
        fflush(stdout);
        for (int r = 0; fgets(line, sizeof line, stdin) != NULL && strncmp(line, "run", 3) == 0; r++) {
            struct bench_rep rep = bench_repetition(op, context, n, r);
            printf("{\"us\": %.3f, \"cpu_us\": %.3f}\n", rep.us, rep.cpu_us);
            fflush(stdout);
        }
        return;
    }

    double us[BENCH_MAX_REPS], cpu[BENCH_MAX_REPS];
    for (int r = 0; r < reps; r++) {
        struct bench_rep rep = bench_repetition(op, context, n, r);
        us[r] = rep.us;
        cpu[r] = rep.cpu_us;
    }
    printf("{\"n\": %ld, \"reps_us\": [", n);
    for (int r = 0; r < reps; r++)
        printf("%s%.3f", r ? ", " : "", us[r]);
    printf("], \"reps_cpu_us\": [");
    for (int r = 0; r < reps; r++)
        printf("%s%.3f", r ? ", " : "", cpu[r]);
    printf("], \"median_us\": %.3f, ", bench_median(us, (size_t)reps));
    printf("\"median_cpu_us\": %.3f}\n", bench_median(cpu, (size_t)reps));
}

#endif /* BENCH_COMMON_H */
