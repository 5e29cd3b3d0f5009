/*
 * check.h: a tiny test harness for the C tests.
 *
 * Each CHECK counts one pass or one failure; a failure prints the file, line
 * and expression to stderr and the test goes on. A test program ends with
 * `return check_report();`, which prints exactly one line `N passed, M failed`
 * on stdout and gives the exit status (non-zero when anything failed).
 *
 * Header-only: every test program is one translation unit that includes it.
 */
#ifndef MEMBRANE_TESTS_CHECK_H
#define MEMBRANE_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed_count;
static int check_failed_count;

static inline void check_record(int ok, const char *file, int line, const char *expr)
{
    if (ok) {
        check_passed_count++;
    } else {
        check_failed_count++;
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, expr);
    }
}

static inline void check_record_int(long got, long want, const char *file, int line, const char *expr)
{
    if (got == want) {
        check_passed_count++;
    } else {
        check_failed_count++;
        fprintf(stderr, "%s:%d: FAILED: %s: got %ld, want %ld\n", file, line, expr, got, want);
    }
}

static inline void check_record_str(const char *got, const char *want, const char *file, int line,
                             const char *expr)
{
    if (got != NULL && want != NULL && strcmp(got, want) == 0) {
        check_passed_count++;
    } else {
        check_failed_count++;
        fprintf(stderr, "%s:%d: FAILED: %s: got %s%s%s, want \"%s\"\n", file, line, expr,
                got ? "\"" : "", got ? got : "NULL", got ? "\"" : "", want ? want : "NULL");
    }
}

/* A condition. */
#define CHECK(cond) check_record((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* Two integers (printed on failure). */
#define CHECK_INT(got, want) \
    check_record_int((long)(got), (long)(want), __FILE__, __LINE__, #got " == " #want)

/* Two NUL-terminated strings (printed on failure); NULL never matches. */
#define CHECK_STR(got, want) \
    check_record_str((got), (want), __FILE__, __LINE__, #got " == " #want)

/* A condition with an explanation printed on failure. */
#define CHECK_MSG(cond, ...)                                             \
    do {                                                                 \
        int check_ok_ = (cond) ? 1 : 0;                                  \
        check_record(check_ok_, __FILE__, __LINE__, #cond);              \
        if (!check_ok_) {                                                \
            fprintf(stderr, "    ");                                     \
            fprintf(stderr, __VA_ARGS__);                                \
            fprintf(stderr, "\n");                                       \
        }                                                                \
    } while (0)

/* Prints `N passed, M failed` and returns the process's exit status. */
static inline int check_report(void)
{
    fflush(stderr);
    printf("%d passed, %d failed\n", check_passed_count, check_failed_count);
    fflush(stdout);
    return check_failed_count > 0 ? 1 : 0;
}

#endif /* MEMBRANE_TESTS_CHECK_H */
