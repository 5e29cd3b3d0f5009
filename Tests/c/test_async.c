/*
 * test_async.c: the lookups that do not block (membrane.h, "Lookups that do
 * not block: for event loops"), driven the way a host's event loop drives
 * them: poll() on membrane_client_completion_fd(), then
 * membrane_client_dispatch(). Against the stand-in server.
 *
 *   1. exactly once: MEMBRANE_ASYNC_COUNT (default 10000) lookups cycling
 *      through every fixture's id, uuid and key and some unknown selectors:
 *      each callback runs once, with the right integration (or
 *      MEMBRANE_ENOTFOUND, 404), only inside dispatch and on the calling
 *      thread; ids are distinct; no request starts ahead of those started
 *      before it beyond MEMBRANE_OPT_MAX_PARALLEL (8) in flight; nothing
 *      comes after the last one;
 *   2. one connection (MEMBRANE_OPT_MAX_PARALLEL 1), the first request held
 *      300 ms: completions arrive in start order;
 *   3. the completion fd: not readable when nothing waits, readable while
 *      anything does (level-triggered), not after dispatch drained it;
 *      dispatch's `max`; every argument error (EINVAL, request_id 0, no
 *      callback, no request);
 *   4. membrane_request_cancel of a request held by a slow server, of one
 *      still waiting for a connection, of a finished one and of unknown ids;
 *   5. membrane_client_cancel cancels every kind of request in flight, and
 *      later requests work;
 *   6. membrane_client_free with requests in flight, and with results that
 *      were never dispatched: every callback runs before it returns, the fd
 *      is closed and the I/O thread gone (the valgrind run checks leaks);
 *   7. callbacks that start requests (a chain of 50, each waiting inside its
 *      callback until the next result is queued: dispatch must not run it in
 *      the same call), cancel other requests, and dispatch themselves;
 *   8. a host that dispatches late: 200 results wait, one dispatch runs all;
 *   9. deadlines (also for a request still waiting for a connection),
 *      retries after 503s (the request log), and one renewal of a signed
 *      token after a 401;
 *  10. the text, batch and listing variants give what their blocking twins
 *      give;
 *  11. 4 threads start 500 requests each while the main thread dispatches;
 *  12. races: another thread cancels every other request as soon as it has
 *      its id (a cancel that returns OK means a callback with ECANCELED,
 *      ENOTFOUND means the request's own result), another thread calls
 *      membrane_client_cancel every millisecond while requests start and
 *      finish, a request started right after a cancel is not cancelled, and
 *      two threads dispatch at once; each callback runs once.
 *
 * Environment: MEMBRANE_TEST_URL (the stand-in server), MEMBRANE_TIME_SCALE
 * (default 1; multiplies the upper time bounds, for valgrind and TSan),
 * MEMBRANE_ASYNC_COUNT (default 10000: the lookups of part 1; parts 2, 8 and
 * 11 use at most 200, 200 and 4 x 500 of it), MEMBRANE_TEST_WORKSPACE_KEY
 * and MEMBRANE_TEST_WORKSPACE_SECRET (the 401 renewal; skipped without).
 * Timings go to stderr as `note:` lines.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define FIXTURES_PATH "examples/fixtures/integrations.json"
#define REC_MAGIC 0x5eedf00du
#define CANCEL_BOUND_MS 150.0
#define DEFAULT_PARALLEL 8

static double time_scale = 1.0;
static int async_count = 10000;
static pthread_t main_thread;

/* What the callbacks see and count (they all run on the main thread). */
static int in_dispatch;      /* > 0 inside membrane_client_dispatch or _free */
static int delivered;        /* callbacks run, of every kind */
static long seq_counter;     /* the order of the lookups' callbacks */
static int misplaced;        /* callbacks outside dispatch/free or off the main thread */
static int bad_payloads;     /* callbacks with a payload that is not ours */
static int spurious;         /* fd readable, dispatch ran nothing */
static int dispatch_errors;  /* dispatch returned < 0 */
static int start_err_unset;  /* a start succeeded and left err not OK */
static int max_run;          /* the most callbacks one dispatch in pump() ran */

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void sleep_us(long us)
{
    struct timespec ts;
    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (us % 1000000) * 1000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static long scaled(double ms)
{
    return (long)(ms * time_scale);
}

/* ---------------------------------------------------------------------------
 * Selectors: every fixture's id, uuid and key (with its name), and unknown ones
 * ------------------------------------------------------------------------- */

typedef struct {
    char selector[96];
    char name[96]; /* "" for an unknown selector: 404 */
} sel_entry;

static sel_entry sels[64];
static size_t sel_count;

static void add_sel(const char *selector, const char *name)
{
    if (selector == NULL || sel_count >= sizeof sels / sizeof sels[0])
        return;
    snprintf(sels[sel_count].selector, sizeof sels[0].selector, "%s", selector);
    snprintf(sels[sel_count].name, sizeof sels[0].name, "%s", name);
    sel_count++;
}

static int load_selectors(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(FIXTURES_PATH, 0, &jerr);
    json_t *item;
    size_t i;

    CHECK_MSG(root != NULL, "cannot read %s: %s", FIXTURES_PATH, jerr.text);
    if (root == NULL)
        return -1;
    json_array_foreach(json_object_get(root, "integrations"), i, item) {
        const char *name = jstr(item, "name");
        if (name == NULL)
            continue;
        add_sel(jstr(item, "id"), name);
        add_sel(jstr(item, "uuid"), name);
        add_sel(jstr(item, "key"), name);
    }
    json_decref(root);
    CHECK_MSG(sel_count == 45, "%zu fixture selectors, want 45", sel_count);
    add_sel("no-such-async", "");
    add_sel("no-such-async-2", "");
    add_sel("async missing/x?y", "");
    return sel_count > 3 ? 0 : -1;
}

/* The entry for `selector`, or NULL. */
static const sel_entry *find_sel(const char *selector)
{
    size_t i;
    for (i = 0; i < sel_count; i++)
        if (strcmp(sels[i].selector, selector) == 0)
            return &sels[i];
    return NULL;
}

static const char *name_of(const char *selector)
{
    const sel_entry *e = find_sel(selector);
    return e != NULL && e->name[0] != '\0' ? e->name : NULL;
}

/* ---------------------------------------------------------------------------
 * One request's record: what it should get, what its callback got
 * ------------------------------------------------------------------------- */

enum { KIND_LOOKUP, KIND_TEXT, KIND_VALUE };

typedef struct rec rec;
struct rec {
    unsigned magic;
    int kind;
    const char *selector;
    const char *want_name; /* KIND_LOOKUP/TEXT success: the integration's name */
    int want_code;
    int want_status;       /* -1: any */
    unsigned long long id;
    int start_rc;
    int calls;
    int code;
    int http_status;
    int ok;
    char why[240];
    long seq;
    double done_ms;
    json_t *value;         /* KIND_VALUE: the result (owned here) */
    char *text;            /* KIND_TEXT: a copy of the text */
    size_t length;
    void (*then)(rec *r);  /* run by the callback after recording */
    void *ctx;
    int then_rc;
    unsigned long long then_id;
    int then_n;
    int may_cancel;        /* ECANCELED is an acceptable end too */
    int cancel_rc;         /* what membrane_request_cancel said of it */
};

static void rec_init(rec *r, int kind, const char *selector, const char *want_name, int want_code,
                     int want_status)
{
    memset(r, 0, sizeof *r);
    r->magic = REC_MAGIC;
    r->kind = kind;
    r->selector = selector;
    r->want_name = want_name;
    r->want_code = want_code;
    r->want_status = want_status;
    r->start_rc = 12345;
    r->seq = -1;
    r->then_rc = 12345;
}

static void rec_for_entry(rec *r, const sel_entry *e)
{
    if (e->name[0] != '\0')
        rec_init(r, KIND_LOOKUP, e->selector, e->name, MEMBRANE_OK, -1);
    else
        rec_init(r, KIND_LOOKUP, e->selector, NULL, MEMBRANE_ENOTFOUND, 404);
}

static void rec_release(rec *r)
{
    json_decref(r->value);
    r->value = NULL;
    free(r->text);
    r->text = NULL;
}

/* Compares a callback's arguments with what the record wants; sets ok/why. */
static void judge(rec *r, int code, int has_result, const char *name, const membrane_error *err)
{
    r->ok = 0;
    r->code = code;
    if (err == NULL) {
        snprintf(r->why, sizeof r->why, "err is NULL");
        return;
    }
    r->http_status = err->http_status;
    if (!err_terminated(err)) {
        snprintf(r->why, sizeof r->why, "err has an unterminated field");
        return;
    }
    if (err->code != code) {
        snprintf(r->why, sizeof r->why, "err->code %d, code %d", err->code, code);
        return;
    }
    if (r->may_cancel && code == MEMBRANE_ECANCELED) {
        if (has_result) {
            snprintf(r->why, sizeof r->why, "a result with ECANCELED");
            return;
        }
        if (err->message[0] == '\0') {
            snprintf(r->why, sizeof r->why, "empty message for ECANCELED");
            return;
        }
    } else if (r->want_code == MEMBRANE_OK) {
        if (code != MEMBRANE_OK) {
            snprintf(r->why, sizeof r->why, "code %d (%s, HTTP %d: %.120s), want OK", code,
                     membrane_strerror(code), err->http_status, err->message);
            return;
        }
        if (!has_result) {
            snprintf(r->why, sizeof r->why, "success without a result");
            return;
        }
        if (r->want_name != NULL && (name == NULL || strcmp(name, r->want_name) != 0)) {
            snprintf(r->why, sizeof r->why, "name \"%.60s\", want \"%.60s\"", name ? name : "(none)",
                     r->want_name);
            return;
        }
        if (err->message[0] != '\0' || err->type[0] != '\0' || err->key[0] != '\0' ||
            err->error_id[0] != '\0') {
            snprintf(r->why, sizeof r->why, "success with a non-empty err: \"%.100s\"", err->message);
            return;
        }
    } else {
        if (code != r->want_code) {
            snprintf(r->why, sizeof r->why, "code %d (%s, HTTP %d: %.100s), want %d (%s)", code,
                     membrane_strerror(code), err->http_status, err->message, r->want_code,
                     membrane_strerror(r->want_code));
            return;
        }
        if (has_result) {
            snprintf(r->why, sizeof r->why, "a result with code %d", code);
            return;
        }
        if (r->want_status >= 0 && err->http_status != r->want_status) {
            snprintf(r->why, sizeof r->why, "http_status %d, want %d", err->http_status, r->want_status);
            return;
        }
        if (err->message[0] == '\0') {
            snprintf(r->why, sizeof r->why, "empty message for code %d", code);
            return;
        }
        if (r->want_code == MEMBRANE_ENOTFOUND && strcmp(err->key, "not_found") != 0) {
            snprintf(r->why, sizeof r->why, "key \"%s\", want \"not_found\"", err->key);
            return;
        }
    }
    r->ok = 1;
}

/* Every callback: where it runs. */
static void note_callback(void)
{
    if (!pthread_equal(pthread_self(), main_thread) || in_dispatch <= 0)
        misplaced++;
    delivered++;
}

/* Checks the payload; 0 when it is not a record of this kind. */
static int our_rec(const rec *r, int kind)
{
    if (r == NULL || r->magic != REC_MAGIC || r->kind != kind) {
        bad_payloads++;
        return 0;
    }
    return 1;
}

static void on_lookup(void *payload, int code, json_t *integration, const membrane_error *err)
{
    rec *r = payload;

    note_callback();
    if (!our_rec(r, KIND_LOOKUP)) {
        json_decref(integration);
        return;
    }
    r->calls++;
    r->seq = seq_counter++;
    r->done_ms = now_ms();
    if (r->calls == 1)
        judge(r, code, integration != NULL,
              json_is_object(integration) ? jstr(integration, "name") : NULL, err);
    json_decref(integration);
    if (r->then != NULL)
        r->then(r);
}

/* Batch and listing results: the value is kept for the test to compare. */
static void on_value(void *payload, int code, json_t *value, const membrane_error *err)
{
    rec *r = payload;

    note_callback();
    if (!our_rec(r, KIND_VALUE)) {
        json_decref(value);
        return;
    }
    r->calls++;
    r->seq = seq_counter++;
    r->done_ms = now_ms();
    if (r->calls == 1) {
        judge(r, code, value != NULL, NULL, err);
        r->value = value;
    } else {
        json_decref(value);
    }
    if (r->then != NULL)
        r->then(r);
}

static void on_text(void *payload, int code, const char *text, size_t length, const membrane_error *err)
{
    rec *r = payload;
    json_t *parsed = NULL;

    note_callback();
    if (!our_rec(r, KIND_TEXT))
        return;
    r->calls++;
    r->seq = seq_counter++;
    r->done_ms = now_ms();
    if (r->calls != 1)
        return;
    if (text != NULL)
        parsed = json_loadb(text, length, 0, NULL);
    judge(r, code, text != NULL, json_is_object(parsed) ? jstr(parsed, "name") : NULL, err);
    json_decref(parsed);
    if (text == NULL && length != 0) {
        r->ok = 0;
        snprintf(r->why, sizeof r->why, "text NULL with length %zu", length);
    }
    if (text != NULL) {
        if (strlen(text) != length) {
            r->ok = 0;
            snprintf(r->why, sizeof r->why, "length %zu, strlen %zu", length, strlen(text));
        }
        r->text = malloc(length + 1);
        if (r->text != NULL) {
            memcpy(r->text, text, length + 1);
            r->length = length;
        }
    }
    if (r->then != NULL)
        r->then(r);
}

/* ---------------------------------------------------------------------------
 * Starting requests, and the event loop
 * ------------------------------------------------------------------------- */

static int start_failures_printed;
static pthread_mutex_t counters_lock = PTHREAD_MUTEX_INITIALIZER; /* starts come from several threads */

static void started(rec *r, int rc, const membrane_error *err, const char *what)
{
    int print;

    r->start_rc = rc;
    pthread_mutex_lock(&counters_lock);
    if (rc == MEMBRANE_OK && err->code != MEMBRANE_OK)
        start_err_unset++;
    print = rc != MEMBRANE_OK && start_failures_printed++ < 5;
    pthread_mutex_unlock(&counters_lock);
    if (print)
        fprintf(stderr, "%s %s: %d (%s)\n", what, r->selector ? r->selector : "(batch/list)", rc,
                err_terminated(err) ? err->message : "");
}

static int start_lookup(membrane_client *client, rec *r, unsigned int flags)
{
    membrane_error err;
    err_poison(&err);
    r->id = 77;
    started(r, membrane_integration_get_async(client, r->selector, flags, on_lookup, r, &r->id, &err),
            &err, "membrane_integration_get_async");
    return r->start_rc;
}

static int start_text(membrane_client *client, rec *r, unsigned int flags)
{
    membrane_error err;
    err_poison(&err);
    r->id = 77;
    started(r, membrane_integration_get_text_async(client, r->selector, flags, on_text, r, &r->id, &err),
            &err, "membrane_integration_get_text_async");
    return r->start_rc;
}

static int start_many(membrane_client *client, rec *r, const char *const *selectors, size_t count,
                      unsigned int flags)
{
    membrane_error err;
    err_poison(&err);
    r->id = 77;
    started(r, membrane_integrations_get_many_async(client, selectors, count, flags, on_value, r, &r->id,
                                                    &err),
            &err, "membrane_integrations_get_many_async");
    return r->start_rc;
}

static int start_list(membrane_client *client, rec *r, const json_t *query)
{
    membrane_error err;
    err_poison(&err);
    r->id = 77;
    started(r, membrane_integrations_list_async(client, query, on_value, r, &r->id, &err), &err,
            "membrane_integrations_list_async");
    return r->start_rc;
}

static int dispatch(membrane_client *client, int max)
{
    int n;
    in_dispatch++;
    n = membrane_client_dispatch(client, max);
    in_dispatch--;
    return n;
}

static void free_client(membrane_client *client)
{
    in_dispatch++;
    membrane_client_free(client);
    in_dispatch--;
}

/* 1 when `fd` is readable within `timeout_ms` (0: right now). */
static int readable(int fd, long timeout_ms)
{
    struct pollfd p;
    int n;

    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    do {
        n = poll(&p, 1, timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms);
    } while (n < 0 && errno == EINTR);
    return n > 0 && (p.revents & POLLIN) != 0;
}

static int completion_fd(membrane_client *client)
{
    int fd = membrane_client_completion_fd(client);
    if (fd < 0)
        CHECK_MSG(0, "membrane_client_completion_fd: %d", fd);
    return fd;
}

/* One turn of the loop: waits up to `wait_ms` for the fd, dispatches. */
static void loop_once(membrane_client *client, int fd, long wait_ms)
{
    int n;

    if (!readable(fd, wait_ms))
        return;
    n = dispatch(client, 0);
    if (n < 0)
        dispatch_errors++;
    else if (n == 0)
        spurious++;
    if (n > max_run)
        max_run = n;
}

/* The host's loop: poll and dispatch until *count reaches `target`.
   Returns 1 when it did within `timeout_ms`. */
static int pump(membrane_client *client, const int *count, int target, double timeout_ms)
{
    int fd = completion_fd(client);
    double deadline = now_ms() + timeout_ms;

    if (fd < 0)
        return 0;
    while (*count < target) {
        double left = deadline - now_ms();
        if (left <= 0)
            return 0;
        loop_once(client, fd, left > 100 ? 100 : (long)left + 1);
    }
    return 1;
}

/* Keeps the loop running for `ms`; returns how many callbacks ran. */
static int quiet(membrane_client *client, long ms)
{
    int before = delivered;
    int fd = completion_fd(client);
    double end = now_ms() + (double)ms;

    if (fd < 0)
        return -1;
    while (now_ms() < end) {
        double left = end - now_ms();
        loop_once(client, fd, left > 50 ? 50 : (long)left + 1);
    }
    return delivered - before;
}

/* Each accepted request's callback ran once, with the wanted result. */
static void check_recs(rec *rs, size_t n, const char *what)
{
    size_t i;
    int wrong_calls = 0, wrong = 0, not_started = 0;
    long first_calls = -1, first_wrong = -1, first_unstarted = -1;

    for (i = 0; i < n; i++) {
        if (rs[i].start_rc != MEMBRANE_OK) {
            if (not_started++ == 0)
                first_unstarted = (long)i;
            if (rs[i].calls != 0 && wrong_calls++ == 0)
                first_calls = (long)i;
            continue;
        }
        if (rs[i].calls != 1) {
            if (wrong_calls++ == 0)
                first_calls = (long)i;
        } else if (!rs[i].ok) {
            if (wrong++ == 0)
                first_wrong = (long)i;
        }
    }
    CHECK_MSG(not_started == 0, "%s: %d requests not accepted (first: #%ld %s: %d)", what, not_started,
              first_unstarted, first_unstarted >= 0 && rs[first_unstarted].selector ? rs[first_unstarted].selector : "",
              first_unstarted >= 0 ? rs[first_unstarted].start_rc : 0);
    CHECK_MSG(wrong_calls == 0, "%s: %d requests whose callback ran other than once (first: #%ld %s: %d times)",
              what, wrong_calls, first_calls,
              first_calls >= 0 && rs[first_calls].selector ? rs[first_calls].selector : "",
              first_calls >= 0 ? rs[first_calls].calls : 0);
    CHECK_MSG(wrong == 0, "%s: %d wrong results (first: #%ld %s: %s)", what, wrong, first_wrong,
              first_wrong >= 0 && rs[first_wrong].selector ? rs[first_wrong].selector : "",
              first_wrong >= 0 ? rs[first_wrong].why : "");
}

/* Where the callbacks ran, and what the loop saw, since the last call. */
static void check_context(const char *what)
{
    CHECK_MSG(misplaced == 0, "%s: %d callbacks ran outside dispatch/free or off the dispatching thread",
              what, misplaced);
    CHECK_MSG(bad_payloads == 0, "%s: %d callbacks got a payload that is not theirs", what, bad_payloads);
    CHECK_MSG(spurious == 0, "%s: the completion fd was readable %d times when dispatch had nothing to run",
              what, spurious);
    CHECK_MSG(dispatch_errors == 0, "%s: dispatch returned an error %d times", what, dispatch_errors);
    CHECK_MSG(start_err_unset == 0, "%s: %d accepted starts left err->code not MEMBRANE_OK", what,
              start_err_unset);
    misplaced = bad_payloads = spurious = dispatch_errors = start_err_unset = 0;
}

/* The number of the process's threads. */
static int thread_count(void)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *entry;
    int n = 0;

    if (dir == NULL)
        return -1;
    while ((entry = readdir(dir)) != NULL)
        if (entry->d_name[0] != '.')
            n++;
    closedir(dir);
    return n;
}

static int fault(const char *json)
{
    int rc = mock_fault(json);
    CHECK_MSG(rc == 0, "the stand-in refused fault %s", json);
    return rc;
}

static int cmp_ull(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

/* Ids of the accepted requests: >= 1 and all distinct. */
static void check_ids(rec *rs, size_t n, const char *what)
{
    unsigned long long *ids = malloc(n * sizeof *ids);
    size_t i, k = 0;
    int zero = 0, dup = 0;

    if (ids == NULL)
        return;
    for (i = 0; i < n; i++) {
        if (rs[i].start_rc != MEMBRANE_OK)
            continue;
        if (rs[i].id == 0)
            zero++;
        ids[k++] = rs[i].id;
    }
    qsort(ids, k, sizeof *ids, cmp_ull);
    for (i = 1; i < k; i++)
        if (ids[i] == ids[i - 1])
            dup++;
    CHECK_MSG(zero == 0, "%s: %d accepted requests got id 0", what, zero);
    CHECK_MSG(dup == 0, "%s: %d request ids given twice", what, dup);
    free(ids);
}

/* ---------------------------------------------------------------------------
 * 1. Exactly once, right results, right place
 * ------------------------------------------------------------------------- */

static void test_exactly_once(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    size_t n = (size_t)async_count, i;
    rec *rs = calloc(n, sizeof *rs);
    int base = delivered, accepted = 0, out_of_order = 0, reached;
    long worst = 0, worst_index = -1;
    long seq_base = seq_counter;
    double t0, t_started, t_done;
    json_t *stats;

    if (client == NULL || rs == NULL) {
        free(rs);
        membrane_client_free(client);
        return;
    }
    /* One request per lookup, in start order: the same selector comes round
       while it is still in flight, and sharing would merge them. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_SHARE_REQUESTS, 0), MEMBRANE_OK);
    mock_clear_faults();
    mock_clear_requests();
    mock_clear_stats();
    t0 = now_ms();
    for (i = 0; i < n; i++) {
        rec_for_entry(&rs[i], &sels[i % sel_count]);
        if (start_lookup(client, &rs[i], i % 3 == 0 ? MEMBRANE_INCLUDE_SECRETS : 0) == MEMBRANE_OK)
            accepted++;
    }
    t_started = now_ms();
    CHECK_MSG(accepted == (int)n, "%d of %zu lookups accepted", accepted, n);
    CHECK_MSG(delivered == base, "%d callbacks ran inside the *_async calls", delivered - base);

    reached = pump(client, &delivered, base + accepted, 120000.0 * time_scale);
    t_done = now_ms();
    CHECK_MSG(reached, "only %d of %d callbacks within %.0f ms", delivered - base, accepted,
              120000.0 * time_scale);
    CHECK_INT(delivered - base, accepted);
    check_recs(rs, n, "10,000 lookups");
    check_ids(rs, n, "10,000 lookups");

    /* Request i starts only when at most 7 earlier ones are still running,
       so at least i - 7 results are queued before its own: its callback
       cannot come before them. */
    for (i = 0; i < n; i++) {
        long pos = rs[i].seq - seq_base;
        if (rs[i].calls != 1)
            continue;
        if ((long)i - pos > worst) {
            worst = (long)i - pos;
            worst_index = (long)i;
        }
        if (pos < (long)i - DEFAULT_PARALLEL)
            out_of_order++;
    }
    CHECK_MSG(out_of_order == 0,
              "%d requests delivered more than %d places ahead of their start order "
              "(worst: #%ld, %ld places)", out_of_order, DEFAULT_PARALLEL, worst_index, worst);

    /* No more than MEMBRANE_OPT_MAX_PARALLEL (8) at once at the server. */
    stats = mock_stats(NULL);
    if (stats != NULL) {
        json_int_t in_flight = json_integer_value(json_object_get(stats, "maxRequestsInFlight"));
        json_int_t open = json_integer_value(json_object_get(stats, "maxConnectionsOpen"));
        CHECK_MSG(in_flight >= 1 && in_flight <= DEFAULT_PARALLEL,
                  "maxRequestsInFlight %lld, want 1 to %d", (long long)in_flight, DEFAULT_PARALLEL);
        /* + the admin connection, + one being replaced */
        CHECK_MSG(open <= DEFAULT_PARALLEL + 2, "maxConnectionsOpen %lld, want <= %d", (long long)open,
                  DEFAULT_PARALLEL + 2);
        fprintf(stderr, "note: %zu lookups: at most %lld requests in flight, %lld connections open\n", n,
                (long long)in_flight, (long long)open);
        json_decref(stats);
    }
    CHECK_INT(quiet(client, 200), 0); /* nothing after the last one */
    fprintf(stderr, "note: %zu async lookups: started in %.0f ms, all delivered after %.0f ms "
                    "(%.0f lookups/s); a callback came at most %ld places ahead of its start order\n",
            n, t_started - t0, t_done - t0, (double)n * 1000.0 / (t_done - t0 + 0.001), worst);
    free_client(client);
    CHECK_INT(delivered - base, accepted); /* free had nothing left to deliver */
    for (i = 0; i < n; i++)
        rec_release(&rs[i]);
    free(rs);
    check_context("exactly once");
}

/* ---------------------------------------------------------------------------
 * 2. One connection: first in, first out
 * ------------------------------------------------------------------------- */

static void test_fifo(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    size_t n = async_count < 200 ? (size_t)async_count : 200, i, first;
    rec *rs = calloc(n, sizeof *rs);
    int base = delivered, misordered = 0;
    long seq_base = seq_counter, first_bad = -1;
    double t0;
    json_t *stats;

    if (client == NULL || rs == NULL) {
        free(rs);
        membrane_client_free(client);
        return;
    }
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, 1), MEMBRANE_OK);
    /* FIFO over one connection: every lookup its own request (sharing
       would complete a selector's later lookups with its first). */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_SHARE_REQUESTS, 0), MEMBRANE_OK);
    mock_clear_faults();
    mock_clear_stats();
    /* The first request is held 300 ms: with one connection, every other
       one waits behind it. */
    fault("{\"match\":\"hubspot\",\"delayMs\":300,\"times\":1}");
    first = (size_t)(find_sel(HUBSPOT_KEY) - sels);
    t0 = now_ms();
    for (i = 0; i < n; i++) {
        rec_for_entry(&rs[i], &sels[(first + i) % sel_count]);
        start_lookup(client, &rs[i], 0);
    }
    CHECK(pump(client, &delivered, base + (int)n, 30000.0 * time_scale));
    check_recs(rs, n, "one connection");
    for (i = 0; i < n; i++) {
        if (rs[i].seq - seq_base != (long)i) {
            if (misordered++ == 0)
                first_bad = (long)i;
        }
    }
    CHECK_MSG(misordered == 0, "one connection: %d of %zu callbacks out of start order "
                               "(first: #%ld came as #%ld)", misordered, n, first_bad,
              first_bad >= 0 ? rs[first_bad].seq - seq_base : -1L);
    CHECK_MSG(rs[0].done_ms - t0 >= 290, "the held request ended after %.0f ms", rs[0].done_ms - t0);
    stats = mock_stats(NULL);
    if (stats != NULL) {
        json_int_t in_flight = json_integer_value(json_object_get(stats, "maxRequestsInFlight"));
        CHECK_MSG(in_flight == 1, "one connection: maxRequestsInFlight %lld", (long long)in_flight);
        json_decref(stats);
    }
    CHECK_INT(quiet(client, 100), 0);
    free_client(client);
    for (i = 0; i < n; i++)
        rec_release(&rs[i]);
    free(rs);
    mock_clear_faults();
    check_context("one connection");
}

/* Connections kept between bursts: once every request has ended, the
   client's lane has no transfer left, and libcurl's default connection cache
   (4 per transfer still added) would close every idle connection. A second
   burst as wide as the first must reuse them all. */
static void test_connections_kept(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    rec rs[16];
    size_t i;
    int base;
    json_t *stats;

    if (client == NULL)
        return;
    memset(rs, 0, sizeof rs);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, 8), MEMBRANE_OK);
    mock_clear_faults();
    for (int burst = 0; burst < 2; burst++) {
        /* Every request held 100 ms: the burst needs 8 connections at once. */
        fault("{\"delayMs\":100,\"times\":8}");
        mock_clear_stats();
        base = delivered;
        for (i = 0; i < 8; i++) {
            rec *r = &rs[burst * 8 + i];
            rec_for_entry(r, &sels[i % sel_count]);
            start_lookup(client, r, 0);
        }
        CHECK(pump(client, &delivered, base + 8, 10000.0 * time_scale));
        check_recs(&rs[burst * 8], 8, burst == 0 ? "connections: first burst" : "connections: second burst");
        stats = mock_stats(NULL);
        if (stats != NULL) {
            json_int_t opened = json_integer_value(json_object_get(stats, "connectionsOpened"));
            json_int_t in_flight = json_integer_value(json_object_get(stats, "maxRequestsInFlight"));
            CHECK_MSG(in_flight == 8, "connections: burst %d: maxRequestsInFlight %lld, want 8", burst + 1,
                      (long long)in_flight);
            /* The admin request that read the counters opens one of its own. */
            if (burst == 1)
                CHECK_MSG(opened <= 1, "connections: the second burst opened %lld connections "
                                       "(want 0, + 1 for the admin request): idle ones were closed",
                          (long long)opened - 1);
            json_decref(stats);
        }
        CHECK_INT(quiet(client, 50), 0);
    }
    free_client(client);
    for (i = 0; i < 16; i++)
        rec_release(&rs[i]);
    mock_clear_faults();
    check_context("connections kept");
}

/* ---------------------------------------------------------------------------
 * 3. The completion fd, dispatch's max, argument errors
 * ------------------------------------------------------------------------- */

static int total_requests(void)
{
    json_t *requests = mock_requests();
    int n = requests != NULL ? (int)json_array_size(requests) : -1;
    json_decref(requests);
    return n;
}

/* An argument error: EINVAL, request_id 0, err filled. */
#define CHECK_EINVAL(call, id, err)                                                      \
    do {                                                                                 \
        int rc_;                                                                         \
        (id) = 77;                                                                       \
        err_poison(&(err));                                                              \
        rc_ = (call);                                                                    \
        CHECK_MSG(rc_ == MEMBRANE_EINVAL, "%s: %d, want EINVAL", #call, rc_);            \
        CHECK_MSG((id) == 0, "%s: request_id %llu, want 0", #call, (id));                \
        CHECK_MSG((err).code == MEMBRANE_EINVAL && err_terminated(&(err)) &&             \
                      (err).message[0] != '\0',                                          \
                  "%s: err not filled (code %d)", #call, (err).code);                    \
    } while (0)

static void test_fd_and_arguments(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    rec never_lookup, never_text, never_value, a[4], no_err, empty_batch, page;
    membrane_error err;
    unsigned long long id;
    char long_1025[1026];
    const char *two[] = { HUBSPOT_KEY, "salesforce" };
    const char *with_null[] = { HUBSPOT_KEY, NULL };
    const char **huge;
    json_t *not_object, *bad_value, *null_value;
    int fd, fd2, base, i, flags;

    if (client == NULL)
        return;
    mock_clear_faults();
    mock_clear_requests();
    rec_init(&never_lookup, KIND_LOOKUP, "never", NULL, 0, -1);
    rec_init(&never_text, KIND_TEXT, "never", NULL, 0, -1);
    rec_init(&never_value, KIND_VALUE, "never", NULL, 0, -1);
    base = delivered;

    /* The fd before any request. */
    fd = completion_fd(client);
    fd2 = membrane_client_completion_fd(client);
    CHECK_MSG(fd >= 0 && fd2 == fd, "completion fd %d, then %d", fd, fd2);
    if (fd < 0) {
        membrane_client_free(client);
        return;
    }
    flags = fcntl(fd, F_GETFD);
    CHECK_MSG(flags >= 0 && (flags & FD_CLOEXEC), "the completion fd is not close-on-exec (%d)", flags);
    CHECK_MSG(!readable(fd, 0), "the completion fd is readable before any request");
    CHECK_INT(dispatch(client, 0), 0);
    CHECK_INT(dispatch(client, 5), 0);

    /* Argument errors: nothing accepted, no callback, no request. */
    memset(long_1025, 'a', 1025);
    long_1025[1025] = '\0';
    CHECK_EINVAL(membrane_integration_get_async(NULL, HUBSPOT_KEY, 0, on_lookup, &never_lookup, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_async(client, HUBSPOT_KEY, 0, NULL, &never_lookup, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_async(client, NULL, 0, on_lookup, &never_lookup, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_async(client, "", 0, on_lookup, &never_lookup, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_async(client, long_1025, 0, on_lookup, &never_lookup, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_async(client, "\xff\xfe", 0, on_lookup, &never_lookup, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_async(client, "caf\xc3", 0, on_lookup, &never_lookup, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_async(client, HUBSPOT_KEY, 2u, on_lookup, &never_lookup, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_async(client, HUBSPOT_KEY, 0x80000000u, on_lookup, &never_lookup, &id, &err),
                 id, err);
    CHECK_INT(membrane_integration_get_async(client, "", 0, on_lookup, &never_lookup, NULL, NULL), MEMBRANE_EINVAL);

    CHECK_EINVAL(membrane_integration_get_text_async(NULL, HUBSPOT_KEY, 0, on_text, &never_text, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_text_async(client, HUBSPOT_KEY, 0, NULL, &never_text, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_text_async(client, NULL, 0, on_text, &never_text, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_text_async(client, "", 0, on_text, &never_text, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_text_async(client, long_1025, 0, on_text, &never_text, &id, &err), id, err);
    CHECK_EINVAL(membrane_integration_get_text_async(client, HUBSPOT_KEY, 4u, on_text, &never_text, &id, &err), id, err);

    CHECK_EINVAL(membrane_integrations_get_many_async(NULL, two, 2, 0, on_value, &never_value, &id, &err), id, err);
    CHECK_EINVAL(membrane_integrations_get_many_async(client, two, 2, 0, NULL, &never_value, &id, &err), id, err);
    CHECK_EINVAL(membrane_integrations_get_many_async(client, NULL, 2, 0, on_value, &never_value, &id, &err), id, err);
    CHECK_EINVAL(membrane_integrations_get_many_async(client, with_null, 2, 0, on_value, &never_value, &id, &err), id,
                 err);
    CHECK_EINVAL(membrane_integrations_get_many_async(client, two, 2, 2u, on_value, &never_value, &id, &err), id, err);
    huge = malloc(1000001 * sizeof *huge);
    if (huge != NULL) {
        for (i = 0; i < 1000001; i++)
            huge[i] = HUBSPOT_KEY;
        CHECK_EINVAL(membrane_integrations_get_many_async(client, huge, 1000001, 0, on_value, &never_value, &id, &err),
                     id, err);
        free(huge);
    }

    not_object = json_array();
    bad_value = json_pack("{s:[i]}", "limit", 1);
    null_value = json_pack("{s:n}", "search");
    CHECK_EINVAL(membrane_integrations_list_async(NULL, NULL, on_value, &never_value, &id, &err), id, err);
    CHECK_EINVAL(membrane_integrations_list_async(client, NULL, NULL, &never_value, &id, &err), id, err);
    CHECK_EINVAL(membrane_integrations_list_async(client, not_object, on_value, &never_value, &id, &err), id, err);
    CHECK_EINVAL(membrane_integrations_list_async(client, bad_value, on_value, &never_value, &id, &err), id, err);
    CHECK_EINVAL(membrane_integrations_list_async(client, null_value, on_value, &never_value, &id, &err), id, err);
    json_decref(not_object);
    json_decref(bad_value);
    json_decref(null_value);

    CHECK_INT(membrane_request_cancel(NULL, 1), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_completion_fd(NULL), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_dispatch(NULL, 0), MEMBRANE_EINVAL);
    CHECK_INT(dispatch(client, -1), MEMBRANE_EINVAL);
    CHECK_INT(dispatch(client, INT_MIN), MEMBRANE_EINVAL);
    membrane_client_cancel(client); /* nothing to cancel: no callback either */

    CHECK_INT(quiet(client, 300), 0);
    CHECK_MSG(!readable(fd, 0), "the completion fd is readable after calls that accepted nothing");
    CHECK_INT(never_lookup.calls + never_text.calls + never_value.calls, 0);
    CHECK_INT(delivered, base);
    CHECK_INT(total_requests(), 0); /* no request reached the server */

    /* One request: the fd becomes readable, stays so until dispatched. */
    rec_init(&a[0], KIND_LOOKUP, HUBSPOT_KEY, "HubSpot", MEMBRANE_OK, -1);
    CHECK_INT(start_lookup(client, &a[0], 0), MEMBRANE_OK);
    CHECK_MSG(readable(fd, scaled(5000)), "the completion fd did not become readable after a lookup");
    CHECK_MSG(readable(fd, 0) && readable(fd, 10), "the completion fd is not level-triggered");
    CHECK_INT(a[0].calls, 0);
    CHECK_INT(dispatch(client, 1), 1);
    CHECK_INT(a[0].calls, 1);
    CHECK_MSG(!readable(fd, 0), "the completion fd stays readable after dispatch drained the queue");
    CHECK_INT(dispatch(client, 0), 0);

    /* Three waiting: max 1 runs one at a time. */
    rec_init(&a[1], KIND_LOOKUP, "salesforce", "Salesforce", MEMBRANE_OK, -1);
    rec_init(&a[2], KIND_LOOKUP, "no-such-async", NULL, MEMBRANE_ENOTFOUND, 404);
    rec_init(&a[3], KIND_LOOKUP, CATALOG_KEY, "Membrane Search", MEMBRANE_OK, -1);
    for (i = 1; i < 4; i++)
        start_lookup(client, &a[i], 0);
    CHECK(readable(fd, scaled(5000)));
    sleep_ms(scaled(500)); /* all three are surely queued by now */
    base = delivered;
    CHECK_INT(dispatch(client, 1), 1);
    CHECK_INT(delivered - base, 1);
    CHECK_MSG(readable(fd, 0), "the completion fd is not readable with 2 results waiting");
    CHECK_INT(dispatch(client, 1), 1);
    CHECK_INT(delivered - base, 2);
    CHECK_MSG(readable(fd, 0), "the completion fd is not readable with 1 result waiting");
    CHECK_INT(dispatch(client, 10), 1);
    CHECK_INT(delivered - base, 3);
    CHECK_MSG(!readable(fd, 0), "the completion fd is readable after the queue was drained");
    CHECK_INT(dispatch(client, 0), 0);
    check_recs(a, 4, "fd semantics");

    /* Accepted without err or request_id; an empty batch; a page. */
    rec_init(&no_err, KIND_LOOKUP, "zendesk", "Zendesk", MEMBRANE_OK, -1);
    no_err.start_rc = membrane_integration_get_async(client, "zendesk", 0, on_lookup, &no_err, NULL, NULL);
    CHECK_INT(no_err.start_rc, MEMBRANE_OK);
    rec_init(&empty_batch, KIND_VALUE, NULL, NULL, MEMBRANE_OK, -1);
    CHECK_INT(start_many(client, &empty_batch, NULL, 0, 0), MEMBRANE_OK);
    rec_init(&page, KIND_VALUE, NULL, NULL, MEMBRANE_OK, -1);
    CHECK_INT(start_list(client, &page, NULL), MEMBRANE_OK);
    base = delivered;
    CHECK(pump(client, &delivered, base + 3, 10000.0 * time_scale));
    check_recs(&no_err, 1, "started with err and request_id NULL");
    check_recs(&empty_batch, 1, "an empty batch");
    check_recs(&page, 1, "a page");
    CHECK_MSG(json_is_array(empty_batch.value) && json_array_size(empty_batch.value) == 0,
              "an empty batch did not give []");
    CHECK_MSG(json_is_array(json_object_get(page.value, "items")), "a page without items");
    CHECK_INT(quiet(client, 100), 0);
    rec_release(&empty_batch);
    rec_release(&page);
    free_client(client);
    CHECK_INT(never_lookup.calls + never_text.calls + never_value.calls, 0);
    check_context("fd and arguments");
}

/* ---------------------------------------------------------------------------
 * 4. membrane_request_cancel
 * ------------------------------------------------------------------------- */

static void test_request_cancel(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    const char *fast[] = { HUBSPOT_KEY, "salesforce", "zendesk", "notion", "no-such-async" };
    rec slow, others[5], queued, held, waiting, after;
    int base, i, fd;
    double cancel_ms, latency;

    if (client == NULL)
        return;
    mock_clear_faults();
    mock_clear_requests();
    fault("{\"match\":\"slack\",\"delayMs\":3000,\"times\":1}");
    fd = completion_fd(client);
    base = delivered;
    rec_init(&slow, KIND_LOOKUP, "slack", NULL, MEMBRANE_ECANCELED, 0);
    start_lookup(client, &slow, 0);
    for (i = 0; i < 5; i++) {
        rec_for_entry(&others[i], find_sel(fast[i]));
        start_lookup(client, &others[i], 0);
    }
    CHECK(pump(client, &delivered, base + 5, 10000.0 * time_scale));
    check_recs(others, 5, "beside a held request");
    CHECK_MSG(slow.calls == 0, "the held request's callback ran before the cancel (code %d)", slow.code);
    sleep_ms(200); /* the held request is surely at the server */

    cancel_ms = now_ms();
    CHECK_INT(membrane_request_cancel(client, slow.id), MEMBRANE_OK);
    CHECK_MSG(readable(fd, scaled(CANCEL_BOUND_MS)), "the fd is not readable %.0f ms after a cancel",
              CANCEL_BOUND_MS * time_scale);
    CHECK(pump(client, &delivered, base + 6, 5000.0 * time_scale));
    check_recs(&slow, 1, "cancelled while the server holds it");
    latency = slow.done_ms - cancel_ms;
    CHECK_MSG(latency < CANCEL_BOUND_MS * time_scale, "the cancelled callback came %.0f ms after the cancel",
              latency);
    fprintf(stderr, "note: membrane_request_cancel of a held request: its callback %.1f ms later\n", latency);
    CHECK_INT(membrane_request_cancel(client, slow.id), MEMBRANE_ENOTFOUND);      /* again */
    CHECK_INT(membrane_request_cancel(client, others[0].id), MEMBRANE_ENOTFOUND); /* finished */
    CHECK_INT(membrane_request_cancel(client, 0), MEMBRANE_ENOTFOUND);            /* never issued */
    CHECK_INT(membrane_request_cancel(client, slow.id + 1000000ULL), MEMBRANE_ENOTFOUND);
    CHECK_INT(membrane_request_cancel(client, ~0ULL), MEMBRANE_ENOTFOUND);
    CHECK_INT(mock_selector_count("slack"), 1); /* not retried */
    CHECK_INT(quiet(client, 200), 0);
    CHECK_INT(slow.calls, 1);

    /* Finished, its result queued and not yet dispatched: too late. */
    rec_init(&queued, KIND_LOOKUP, HUBSPOT_KEY, "HubSpot", MEMBRANE_OK, -1);
    start_lookup(client, &queued, 0);
    CHECK(readable(fd, scaled(5000)));
    CHECK_INT(membrane_request_cancel(client, queued.id), MEMBRANE_ENOTFOUND);
    CHECK_INT(dispatch(client, 0), 1);
    check_recs(&queued, 1, "cancelled after it finished");
    free_client(client);

    /* Waiting for the one connection: cancelled before it is sent. */
    client = new_client(MOCK_TOKEN);
    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, 1), MEMBRANE_OK);
    mock_clear_requests();
    fault("{\"match\":\"slack\",\"delayMs\":3000,\"times\":1}");
    base = delivered;
    rec_init(&held, KIND_LOOKUP, "slack", NULL, MEMBRANE_ECANCELED, 0);
    rec_init(&waiting, KIND_LOOKUP, "twilio", NULL, MEMBRANE_ECANCELED, 0);
    rec_init(&after, KIND_LOOKUP, "salesforce", "Salesforce", MEMBRANE_OK, -1);
    start_lookup(client, &held, 0);
    start_lookup(client, &waiting, 0);
    start_lookup(client, &after, 0);
    sleep_ms(200);
    cancel_ms = now_ms();
    CHECK_INT(membrane_request_cancel(client, waiting.id), MEMBRANE_OK);
    CHECK(pump(client, &delivered, base + 1, 5000.0 * time_scale));
    check_recs(&waiting, 1, "cancelled while waiting for a connection");
    CHECK_MSG(waiting.done_ms - cancel_ms < CANCEL_BOUND_MS * time_scale,
              "a waiting request's cancel took %.0f ms", waiting.done_ms - cancel_ms);
    CHECK_INT(held.calls + after.calls, 0);
    cancel_ms = now_ms();
    CHECK_INT(membrane_request_cancel(client, held.id), MEMBRANE_OK);
    CHECK(pump(client, &delivered, base + 3, 5000.0 * time_scale));
    check_recs(&held, 1, "the held request");
    check_recs(&after, 1, "the request behind it");
    CHECK_MSG(after.done_ms - cancel_ms < 1000.0 * time_scale,
              "the request behind a cancelled one ended %.0f ms after the cancel", after.done_ms - cancel_ms);
    CHECK_MSG(held.seq < after.seq, "the cancelled request's callback came after the next one's");
    CHECK_INT(mock_selector_count("twilio"), 0); /* never sent */
    CHECK_INT(quiet(client, 100), 0);
    free_client(client);
    mock_clear_faults();
    check_context("request cancel");
}

/* ---------------------------------------------------------------------------
 * 5. membrane_client_cancel
 * ------------------------------------------------------------------------- */

static void test_client_cancel(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    const char *batch[] = { "trello", HUBSPOT_KEY };
    const char *batch_after[] = { "trello", "no-such-async" };
    rec held[9], later[5];
    int base, i, fd, early = 0;
    double cancel_ms, worst = 0;
    json_t *query;

    if (client == NULL)
        return;
    mock_clear_faults();
    fault("{\"match\":\"trello\",\"delayMs\":3000,\"times\":0}");
    fault("{\"match\":\"\",\"delayMs\":3000,\"times\":0}"); /* the listing */
    base = delivered;
    for (i = 0; i < 6; i++) {
        rec_init(&held[i], KIND_LOOKUP, "trello", NULL, MEMBRANE_ECANCELED, 0);
        start_lookup(client, &held[i], 0);
    }
    rec_init(&held[6], KIND_TEXT, "trello", NULL, MEMBRANE_ECANCELED, 0);
    start_text(client, &held[6], 0);
    rec_init(&held[7], KIND_VALUE, NULL, NULL, MEMBRANE_ECANCELED, -1);
    start_many(client, &held[7], batch, 2, 0);
    rec_init(&held[8], KIND_VALUE, NULL, NULL, MEMBRANE_ECANCELED, 0);
    query = json_pack("{s:i}", "limit", 3);
    start_list(client, &held[8], query);
    json_decref(query);
    /* 10 requests, 8 connections: some run, some wait. */
    sleep_ms(300);
    fd = completion_fd(client);
    CHECK_MSG(fd >= 0 && !readable(fd, 0), "a result is queued before the cancel");
    for (i = 0; i < 9; i++)
        early += held[i].calls;
    CHECK_MSG(early == 0, "%d callbacks before the cancel", early);

    cancel_ms = now_ms();
    CHECK_INT(membrane_client_cancel(client), MEMBRANE_OK);
    CHECK(pump(client, &delivered, base + 9, 5000.0 * time_scale));
    check_recs(held, 9, "after membrane_client_cancel");
    for (i = 0; i < 9; i++)
        if (held[i].calls == 1 && held[i].done_ms - cancel_ms > worst)
            worst = held[i].done_ms - cancel_ms;
    CHECK_MSG(worst < CANCEL_BOUND_MS * time_scale, "the last cancelled callback came %.0f ms after the cancel",
              worst);
    fprintf(stderr, "note: membrane_client_cancel of 9 requests: the last callback %.1f ms later\n", worst);
    CHECK_INT(quiet(client, 200), 0);
    for (i = 0; i < 9; i++)
        rec_release(&held[i]);

    /* Later requests run normally. */
    mock_clear_faults();
    base = delivered;
    rec_init(&later[0], KIND_LOOKUP, "trello", "Trello", MEMBRANE_OK, -1);
    rec_init(&later[1], KIND_LOOKUP, HUBSPOT_KEY, "HubSpot", MEMBRANE_OK, -1);
    rec_init(&later[2], KIND_TEXT, "trello", "Trello", MEMBRANE_OK, -1);
    rec_init(&later[3], KIND_VALUE, NULL, NULL, MEMBRANE_OK, -1);
    rec_init(&later[4], KIND_VALUE, NULL, NULL, MEMBRANE_OK, -1);
    start_lookup(client, &later[0], 0);
    start_lookup(client, &later[1], 0);
    start_text(client, &later[2], 0);
    start_many(client, &later[3], batch_after, 2, 0);
    start_list(client, &later[4], NULL);
    CHECK(pump(client, &delivered, base + 5, 10000.0 * time_scale));
    check_recs(later, 5, "after the cancel");
    CHECK_STR(jstr(json_array_get(later[3].value, 0), "name"), "Trello");
    CHECK_MSG(json_is_object(json_object_get(json_array_get(later[3].value, 1), "error")),
              "the unknown selector's element is not an error");
    CHECK_MSG(json_is_array(json_object_get(later[4].value, "items")), "the page after the cancel has no items");
    for (i = 0; i < 5; i++)
        rec_release(&later[i]);
    CHECK_INT(quiet(client, 100), 0);
    free_client(client);
    check_context("client cancel");
}

/* ---------------------------------------------------------------------------
 * 6. membrane_client_free
 * ------------------------------------------------------------------------- */

static membrane_client *freeing_client;
static rec never_in_free;

/* Runs inside membrane_client_free: a new request must be refused. */
static void start_during_free(rec *r)
{
    membrane_error err;
    err_poison(&err);
    r->then_id = 77;
    r->then_rc = membrane_integration_get_async(freeing_client, HUBSPOT_KEY, 0, on_lookup, &never_in_free,
                                                &r->then_id, &err);
}

/* Waits until the fd is readable, then lets the other results queue too. */
static void wait_results(membrane_client *client, long settle_ms)
{
    int fd = completion_fd(client);
    if (fd >= 0)
        CHECK_MSG(readable(fd, scaled(5000)), "no result within %ld ms", scaled(5000));
    sleep_ms(scaled((double)settle_ms));
}

static void test_free(void)
{
    membrane_client *client;
    rec slow[4], fast[3], pending[24];
    const char *batch[] = { "jira", "no-such-async", CATALOG_KEY };
    int base, i, fd, threads_before, threads_during, threads_after = -1, threads_more;
    double t, took;

    /* Requests in flight (the server holds them 5 s) and results queued. */
    threads_before = thread_count();
    client = new_client(MOCK_TOKEN);
    if (client == NULL)
        return;
    mock_clear_faults();
    fault("{\"match\":\"jira\",\"delayMs\":5000,\"times\":4}");
    base = delivered;
    for (i = 0; i < 4; i++) {
        rec_init(&slow[i], KIND_LOOKUP, "jira", NULL, MEMBRANE_ECANCELED, 0);
        start_lookup(client, &slow[i], 0);
    }
    rec_init(&fast[0], KIND_LOOKUP, HUBSPOT_KEY, "HubSpot", MEMBRANE_OK, -1);
    rec_init(&fast[1], KIND_LOOKUP, "salesforce", "Salesforce", MEMBRANE_OK, -1);
    rec_init(&fast[2], KIND_LOOKUP, "no-such-async", NULL, MEMBRANE_ENOTFOUND, 404);
    fast[1].then = start_during_free;
    rec_init(&never_in_free, KIND_LOOKUP, HUBSPOT_KEY, NULL, 0, -1);
    for (i = 0; i < 3; i++)
        start_lookup(client, &fast[i], 0);
    fd = completion_fd(client);
    wait_results(client, 300);
    threads_during = thread_count();
    CHECK_MSG(threads_during >= threads_before + 1, "%d threads before the client, %d with requests in flight",
              threads_before, threads_during);
    CHECK_INT(delivered, base); /* nothing dispatched yet */

    freeing_client = client;
    t = now_ms();
    free_client(client);
    took = now_ms() - t;
    freeing_client = NULL;
    CHECK_INT(delivered - base, 7);
    check_recs(slow, 4, "in flight at free");
    check_recs(fast, 3, "queued at free");
    CHECK_MSG(took < 1000.0 * time_scale, "membrane_client_free took %.0f ms with requests held 5 s", took);
    CHECK_MSG(fast[1].then_rc == MEMBRANE_ECANCELED, "a request started inside free: %d, want ECANCELED",
              fast[1].then_rc);
    CHECK_MSG(fast[1].then_id == 0, "a request refused inside free got id %llu", fast[1].then_id);
    CHECK_INT(never_in_free.calls, 0);
    errno = 0;
    CHECK_MSG(fcntl(fd, F_GETFD) == -1 && errno == EBADF, "the completion fd %d is still open after free", fd);
    for (i = 0; i < 100; i++) {
        threads_after = thread_count();
        if (threads_after <= threads_before)
            break;
        sleep_ms(10);
    }
    CHECK_MSG(threads_after == threads_before, "%d threads before the client, %d after free", threads_before,
              threads_after);
    fprintf(stderr, "note: membrane_client_free with 4 requests in flight and 3 results queued: %.1f ms\n", took);
    mock_clear_faults();
    check_context("free with requests in flight");

    /* Never dispatched: free delivers every queued result (and the valgrind
       run sees that nothing leaks). */
    client = new_client(MOCK_TOKEN);
    if (client == NULL)
        return;
    mock_clear_faults();
    base = delivered;
    for (i = 0; i < 20; i++) {
        rec_for_entry(&pending[i], &sels[(size_t)(i * 7) % sel_count]);
        start_lookup(client, &pending[i], i % 2 ? MEMBRANE_INCLUDE_SECRETS : 0);
    }
    rec_init(&pending[20], KIND_TEXT, HUBSPOT_KEY, "HubSpot", MEMBRANE_OK, -1);
    start_text(client, &pending[20], 0);
    rec_init(&pending[21], KIND_VALUE, NULL, NULL, MEMBRANE_OK, -1);
    start_many(client, &pending[21], batch, 3, 0);
    rec_init(&pending[22], KIND_VALUE, NULL, NULL, MEMBRANE_OK, -1);
    start_list(client, &pending[22], NULL);
    rec_init(&pending[23], KIND_TEXT, "no-such-async", NULL, MEMBRANE_ENOTFOUND, 404);
    start_text(client, &pending[23], 0);
    wait_results(client, 700);
    CHECK_INT(delivered, base);
    free_client(client);
    CHECK_INT(delivered - base, 24);
    check_recs(pending, 24, "never dispatched, delivered by free");
    CHECK_MSG(json_array_size(pending[21].value) == 3, "the batch delivered by free has %zu elements",
              json_array_size(pending[21].value));
    for (i = 0; i < 24; i++)
        rec_release(&pending[i]);

    /* A client whose fd was asked for, and nothing else; and one with a
       single request: one I/O thread, not one per request. */
    client = new_client(MOCK_TOKEN);
    if (client != NULL) {
        fd = completion_fd(client);
        free_client(client);
        errno = 0;
        CHECK_MSG(fd >= 0 && fcntl(fd, F_GETFD) == -1 && errno == EBADF,
                  "the completion fd of an idle client is still open after free");
    }
    membrane_client_free(NULL);
    client = new_client(MOCK_TOKEN);
    if (client != NULL) {
        rec one, many[30];
        threads_before = thread_count();
        fault("{\"match\":\"linear\",\"delayMs\":5000,\"times\":0}");
        rec_init(&one, KIND_LOOKUP, "linear", NULL, MEMBRANE_ECANCELED, 0);
        start_lookup(client, &one, 0);
        sleep_ms(100);
        threads_during = thread_count();
        for (i = 0; i < 30; i++) {
            rec_init(&many[i], KIND_LOOKUP, "linear", NULL, MEMBRANE_ECANCELED, 0);
            start_lookup(client, &many[i], 0);
        }
        sleep_ms(scaled(200));
        threads_more = thread_count();
        CHECK_MSG(threads_during >= threads_before + 1 && threads_more == threads_during,
                  "threads: %d before the first request, %d with one, %d with 31", threads_before,
                  threads_during, threads_more);
        fprintf(stderr, "note: threads: %d before the first request, %d with one, %d with 31\n",
                threads_before, threads_during, threads_more);
        free_client(client);
        check_recs(&one, 1, "one of 31 held at free");
        check_recs(many, 30, "30 of 31 held at free");
        mock_clear_faults();
    }
    check_context("free");
}

/* ---------------------------------------------------------------------------
 * 7. Callbacks that start, cancel and dispatch
 * ------------------------------------------------------------------------- */

#define CHAIN 50

typedef struct {
    membrane_client *client;
    int fd;
    int started;
    int start_failed;
    int not_queued; /* the next result was not queued within the wait */
    rec recs[CHAIN];
} chain_state;

static void chain_next(rec *r)
{
    chain_state *chain = r->ctx;
    rec *next;

    if (chain->started >= CHAIN)
        return;
    next = &chain->recs[chain->started];
    rec_for_entry(next, &sels[(size_t)(chain->started * 5) % sel_count]);
    next->then = chain_next;
    next->ctx = chain;
    chain->started++;
    if (start_lookup(chain->client, next, 0) != MEMBRANE_OK) {
        chain->start_failed++;
        return;
    }
    /* Stay in the callback until the new result is queued: the dispatch
       running this callback must leave it for the next call. */
    if (!readable(chain->fd, scaled(5000)))
        chain->not_queued++;
}

static membrane_client *cancel_client;

static void cancel_other(rec *r)
{
    rec *other = r->ctx;
    r->then_rc = membrane_request_cancel(cancel_client, other->id);
    r->done_ms = now_ms();
}

static void nested_dispatch(rec *r)
{
    if (r->then_n++ == 0)
        r->then_rc = dispatch(cancel_client, 0);
}

static void test_callbacks(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    chain_state *chain = calloc(1, sizeof *chain);
    rec a, b, c, d, e, f;
    int base, fd, outer;

    if (client == NULL || chain == NULL) {
        free(chain);
        membrane_client_free(client);
        return;
    }
    fd = completion_fd(client);
    mock_clear_faults();

    /* A chain: each callback starts the next lookup. */
    chain->client = client;
    chain->fd = fd;
    base = delivered;
    max_run = 0;
    rec_for_entry(&chain->recs[0], find_sel(HUBSPOT_KEY));
    chain->recs[0].then = chain_next;
    chain->recs[0].ctx = chain;
    chain->started = 1;
    start_lookup(client, &chain->recs[0], 0);
    CHECK(pump(client, &delivered, base + CHAIN, 30000.0 * time_scale));
    CHECK_INT(chain->started, CHAIN);
    CHECK_INT(chain->start_failed, 0);
    CHECK_INT(chain->not_queued, 0);
    check_recs(chain->recs, CHAIN, "a chain of lookups started from callbacks");
    CHECK_MSG(max_run == 1, "a dispatch ran %d callbacks of a chain (a result queued during the callback "
                            "must wait for the next dispatch)", max_run);
    CHECK_INT(quiet(client, 100), 0);
    CHECK_INT(delivered - base, CHAIN);

    /* A callback cancels a request the server holds: ECANCELED, once. */
    cancel_client = client;
    fault("{\"match\":\"notion\",\"delayMs\":3000,\"times\":1}");
    base = delivered;
    rec_init(&b, KIND_LOOKUP, "notion", NULL, MEMBRANE_ECANCELED, 0);
    start_lookup(client, &b, 0);
    rec_init(&a, KIND_LOOKUP, HUBSPOT_KEY, "HubSpot", MEMBRANE_OK, -1);
    a.then = cancel_other;
    a.ctx = &b;
    start_lookup(client, &a, 0);
    CHECK(pump(client, &delivered, base + 2, 5000.0 * time_scale));
    CHECK_MSG(a.then_rc == MEMBRANE_OK, "membrane_request_cancel from a callback: %d", a.then_rc);
    check_recs(&a, 1, "the cancelling callback's request");
    check_recs(&b, 1, "cancelled from a callback");
    CHECK_MSG(b.done_ms - a.done_ms < CANCEL_BOUND_MS * time_scale,
              "cancelled from a callback: its own callback %.0f ms later", b.done_ms - a.done_ms);
    CHECK_INT(quiet(client, 200), 0);
    CHECK_INT(b.calls, 1);

    /* Two finished results cancel each other: too late for both. */
    base = delivered;
    rec_init(&c, KIND_LOOKUP, HUBSPOT_KEY, "HubSpot", MEMBRANE_OK, -1);
    rec_init(&d, KIND_LOOKUP, "salesforce", "Salesforce", MEMBRANE_OK, -1);
    c.then = cancel_other;
    c.ctx = &d;
    d.then = cancel_other;
    d.ctx = &c;
    start_lookup(client, &c, 0);
    start_lookup(client, &d, 0);
    wait_results(client, 300);
    CHECK_INT(dispatch(client, 0), 2);
    check_recs(&c, 1, "finished, then cancelled from a callback");
    check_recs(&d, 1, "finished, then cancelled from a callback");
    CHECK_INT(c.then_rc, MEMBRANE_ENOTFOUND);
    CHECK_INT(d.then_rc, MEMBRANE_ENOTFOUND);

    /* A callback dispatches: the nested call runs the other result. */
    base = delivered;
    rec_init(&e, KIND_LOOKUP, "zendesk", "Zendesk", MEMBRANE_OK, -1);
    rec_init(&f, KIND_LOOKUP, "pipedrive", "Pipedrive", MEMBRANE_OK, -1);
    e.then = nested_dispatch;
    f.then = nested_dispatch;
    start_lookup(client, &e, 0);
    start_lookup(client, &f, 0);
    wait_results(client, 300);
    outer = dispatch(client, 1);
    CHECK_INT(outer, 1);
    CHECK_INT(delivered - base, 2);
    check_recs(&e, 1, "nested dispatch");
    check_recs(&f, 1, "nested dispatch");
    CHECK_MSG((e.seq < f.seq ? e.then_rc : f.then_rc) == 1,
              "dispatch inside a callback returned %d, want 1", e.seq < f.seq ? e.then_rc : f.then_rc);
    CHECK_INT(quiet(client, 100), 0);
    cancel_client = NULL;
    free_client(client);
    free(chain);
    mock_clear_faults();
    check_context("callbacks");
}

/* ---------------------------------------------------------------------------
 * 8. Late dispatch
 * ------------------------------------------------------------------------- */

static void test_late_dispatch(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    size_t n = async_count < 200 ? (size_t)async_count : 200, i;
    rec *rs = calloc(n, sizeof *rs);
    int base = delivered, first, fd;

    if (client == NULL || rs == NULL) {
        free(rs);
        membrane_client_free(client);
        return;
    }
    for (i = 0; i < n; i++) {
        rec_for_entry(&rs[i], &sels[(i * 11) % sel_count]);
        start_lookup(client, &rs[i], 0);
    }
    sleep_ms(scaled(1500));
    fd = completion_fd(client);
    CHECK_MSG(fd >= 0 && readable(fd, 0), "the fd is not readable with %zu results waiting", n);
    CHECK_INT(delivered, base);
    first = dispatch(client, 0);
    CHECK_MSG(first == (int)n, "one dispatch after %ld ms ran %d of %zu results", scaled(1500), first, n);
    CHECK(pump(client, &delivered, base + (int)n, 10000.0 * time_scale));
    check_recs(rs, n, "dispatched late");
    CHECK_MSG(fd < 0 || !readable(fd, 0), "the fd is readable after every result ran");
    CHECK_INT(quiet(client, 100), 0);
    free_client(client);
    for (i = 0; i < n; i++)
        rec_release(&rs[i]);
    free(rs);
    check_context("late dispatch");
}

/* ---------------------------------------------------------------------------
 * 9. Deadlines, retries, token renewal
 * ------------------------------------------------------------------------- */

static void test_deadlines_and_retries(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    rec slow, held, behind, retried, exhausted, renewed, refused;
    const char *workspace_key = getenv("MEMBRANE_TEST_WORKSPACE_KEY");
    const char *workspace_secret = getenv("MEMBRANE_TEST_WORKSPACE_SECRET");
    membrane_error err;
    double t0;
    int base;

    if (client == NULL)
        return;
    mock_clear_faults();
    mock_clear_requests();
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, 300), MEMBRANE_OK);
    fault("{\"match\":\"shopify\",\"delayMs\":2000,\"times\":1}");
    base = delivered;
    rec_init(&slow, KIND_LOOKUP, "shopify", NULL, MEMBRANE_ETIMEOUT, 0);
    t0 = now_ms();
    start_lookup(client, &slow, 0);
    CHECK(pump(client, &delivered, base + 1, 5000.0 * time_scale));
    check_recs(&slow, 1, "past its deadline");
    CHECK_MSG(slow.done_ms - t0 >= 295 && slow.done_ms - t0 < 300 + 200.0 * time_scale,
              "a 300 ms deadline ended the request after %.0f ms", slow.done_ms - t0);
    fprintf(stderr, "note: async lookup with a 300 ms deadline, server 2 s: ETIMEOUT after %.0f ms\n",
            slow.done_ms - t0);
    CHECK_INT(mock_selector_count("shopify"), 1); /* timeouts are not retried */
    free_client(client);

    /* The deadline counts from the start, also while a request waits for
       the one connection. */
    client = new_client(MOCK_TOKEN);
    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, 300), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_PARALLEL, 1), MEMBRANE_OK);
    fault("{\"match\":\"shopify\",\"delayMs\":2000,\"times\":1}");
    base = delivered;
    rec_init(&held, KIND_LOOKUP, "shopify", NULL, MEMBRANE_ETIMEOUT, 0);
    rec_init(&behind, KIND_LOOKUP, HUBSPOT_KEY, NULL, MEMBRANE_ETIMEOUT, 0);
    t0 = now_ms();
    start_lookup(client, &held, 0);
    start_lookup(client, &behind, 0);
    CHECK(pump(client, &delivered, base + 2, 5000.0 * time_scale));
    check_recs(&held, 1, "holding the one connection past its deadline");
    check_recs(&behind, 1, "waiting for the one connection past its deadline");
    CHECK_MSG(behind.done_ms - t0 < 300 + 200.0 * time_scale,
              "a request waiting for a connection ended %.0f ms after its start (deadline 300 ms)",
              behind.done_ms - t0);
    free_client(client);

    /* Two 503s, two retries: success on the third request. */
    client = new_client(MOCK_TOKEN);
    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 2), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS, 20), MEMBRANE_OK);
    mock_clear_faults();
    mock_clear_requests();
    fault("{\"match\":\"google-sheets\",\"status\":503,\"times\":2}");
    base = delivered;
    rec_init(&retried, KIND_LOOKUP, "google-sheets", "Google Sheets", MEMBRANE_OK, -1);
    start_lookup(client, &retried, 0);
    CHECK(pump(client, &delivered, base + 1, 10000.0 * time_scale));
    check_recs(&retried, 1, "after two 503s");
    CHECK_INT(mock_selector_count("google-sheets"), 3);
    free_client(client);

    /* Three 503s: the retries run out. */
    client = new_client(MOCK_TOKEN);
    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 2), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS, 20), MEMBRANE_OK);
    fault("{\"match\":\"twilio\",\"status\":503,\"times\":3}");
    base = delivered;
    rec_init(&exhausted, KIND_LOOKUP, "twilio", NULL, MEMBRANE_ESERVER, 503);
    start_lookup(client, &exhausted, 0);
    CHECK(pump(client, &delivered, base + 1, 10000.0 * time_scale));
    check_recs(&exhausted, 1, "three 503s");
    CHECK_INT(mock_selector_count("twilio"), 3);
    free_client(client);
    mock_clear_faults();

    /* A signed token refused once: one new token, then success. */
    if (workspace_key == NULL || workspace_secret == NULL) {
        fprintf(stderr, "note: no MEMBRANE_TEST_WORKSPACE_KEY/SECRET: the 401 renewal is not tested\n");
        check_context("deadlines and retries");
        return;
    }
    client = new_client("unused-initial-token");
    if (client == NULL)
        return;
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, workspace_secret, "tenant-async", 0, &err),
              MEMBRANE_OK);
    mock_clear_requests();
    fault("{\"match\":\"zendesk\",\"status\":401,\"times\":1}");
    base = delivered;
    rec_init(&renewed, KIND_LOOKUP, "zendesk", "Zendesk", MEMBRANE_OK, -1);
    start_lookup(client, &renewed, 0);
    CHECK(pump(client, &delivered, base + 1, 10000.0 * time_scale));
    check_recs(&renewed, 1, "a signed token refused once");
    CHECK_INT(mock_selector_count("zendesk"), 2);

    /* The wrong secret: refused, one new token, refused again. */
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, "not-the-secret-0000", "t", 0, &err),
              MEMBRANE_OK);
    mock_clear_requests();
    base = delivered;
    rec_init(&refused, KIND_LOOKUP, "sel-async-wrong-secret", NULL, MEMBRANE_EAUTH, 401);
    start_lookup(client, &refused, 0);
    CHECK(pump(client, &delivered, base + 1, 10000.0 * time_scale));
    check_recs(&refused, 1, "a wrong workspace secret");
    CHECK_INT(mock_selector_count("sel-async-wrong-secret"), 2);
    free_client(client);
    mock_clear_faults();
    check_context("deadlines and retries");
}

/* ---------------------------------------------------------------------------
 * 10. Text, batch and page: the same as their blocking twins
 * ------------------------------------------------------------------------- */

static void test_variants(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    const char *text_sels[] = { HUBSPOT_KEY, CATALOG_KEY, FIXTURE_UUID, "legacy-crm" };
    rec t[8], missing, many[2], pages[4], bad_page;
    char scribble[32];
    const char *batch[8];
    json_t *queries[4], *blocking;
    membrane_error err;
    int base, i, rc;

    if (client == NULL)
        return;
    mock_clear_faults();

    /* Text: the same bytes. */
    base = delivered;
    for (i = 0; i < 8; i++) {
        rec_init(&t[i], KIND_TEXT, text_sels[i % 4], name_of(text_sels[i % 4]), MEMBRANE_OK, -1);
        start_text(client, &t[i], i >= 4 ? MEMBRANE_INCLUDE_SECRETS : 0);
    }
    rec_init(&missing, KIND_TEXT, "no-such-async-text", NULL, MEMBRANE_ENOTFOUND, 404);
    start_text(client, &missing, 0);
    CHECK(pump(client, &delivered, base + 9, 10000.0 * time_scale));
    check_recs(t, 8, "text");
    check_recs(&missing, 1, "text of an unknown selector");
    for (i = 0; i < 8; i++) {
        char *text = NULL;
        size_t length = 0;
        rc = membrane_integration_get_text(client, text_sels[i % 4], i >= 4 ? MEMBRANE_INCLUDE_SECRETS : 0, &text,
                                           &length, &err);
        CHECK_INT(rc, MEMBRANE_OK);
        CHECK_MSG(rc == MEMBRANE_OK && t[i].text != NULL && t[i].length == length &&
                      memcmp(t[i].text, text, length) == 0,
                  "text of %s (flags %d): %zu bytes async, %zu blocking, or different bytes", text_sels[i % 4],
                  i >= 4, t[i].length, length);
        membrane_free(text);
        rec_release(&t[i]);
    }
    CHECK_MSG(missing.text == NULL && missing.length == 0, "text of an unknown selector: a text");

    /* Batch: the same array; the selectors are copied before the call
       returns. */
    snprintf(scribble, sizeof scribble, "%s", "salesforce");
    batch[0] = HUBSPOT_KEY;
    batch[1] = "no-such-async-batch";
    batch[2] = "";
    batch[3] = scribble;
    batch[4] = HUBSPOT_KEY;
    batch[5] = CATALOG_KEY;
    batch[6] = "\xff\xfe";
    batch[7] = "legacy-crm";
    base = delivered;
    rec_init(&many[0], KIND_VALUE, NULL, NULL, MEMBRANE_OK, -1);
    rec_init(&many[1], KIND_VALUE, NULL, NULL, MEMBRANE_OK, -1);
    start_many(client, &many[0], batch, 8, 0);
    start_many(client, &many[1], batch, 8, MEMBRANE_INCLUDE_SECRETS);
    memset(scribble, 'Z', sizeof scribble - 1);
    scribble[sizeof scribble - 1] = '\0';
    CHECK(pump(client, &delivered, base + 2, 10000.0 * time_scale));
    check_recs(many, 2, "batch");
    snprintf(scribble, sizeof scribble, "%s", "salesforce");
    for (i = 0; i < 2; i++) {
        blocking = NULL;
        rc = membrane_integrations_get_many(client, batch, 8, i ? MEMBRANE_INCLUDE_SECRETS : 0, &blocking, &err);
        CHECK_INT(rc, MEMBRANE_OK);
        CHECK_MSG(blocking != NULL && many[i].value != NULL && json_equal(blocking, many[i].value),
                  "the async batch (flags %d) differs from membrane_integrations_get_many", i);
        if (blocking != NULL && many[i].value != NULL && !json_equal(blocking, many[i].value)) {
            char *x = json_dumps(many[i].value, JSON_COMPACT), *y = json_dumps(blocking, JSON_COMPACT);
            fprintf(stderr, "    async:    %.600s\n    blocking: %.600s\n", x ? x : "", y ? y : "");
            free(x);
            free(y);
        }
        CHECK_STR(jstr(json_array_get(many[i].value, 3), "name"), "Salesforce");
        json_decref(blocking);
        rec_release(&many[i]);
    }

    /* Pages: the same page; the query is read before the call returns. */
    queries[0] = NULL;
    queries[1] = json_pack("{s:i}", "limit", 5);
    queries[2] = json_pack("{s:i,s:s}", "limit", 3, "cursor", "3");
    queries[3] = json_pack("{s:s,s:b}", "search", "crm", "includeArchived", 1);
    base = delivered;
    for (i = 0; i < 4; i++) {
        json_t *copy = queries[i] ? json_deep_copy(queries[i]) : NULL;
        rec_init(&pages[i], KIND_VALUE, NULL, NULL, MEMBRANE_OK, -1);
        start_list(client, &pages[i], copy);
        json_decref(copy); /* the library must have read it already */
    }
    {
        json_t *zero = json_pack("{s:i}", "limit", 0);
        rec_init(&bad_page, KIND_VALUE, NULL, NULL, MEMBRANE_EBADREQUEST, 400);
        start_list(client, &bad_page, zero);
        json_decref(zero);
    }
    CHECK(pump(client, &delivered, base + 5, 10000.0 * time_scale));
    check_recs(pages, 4, "pages");
    check_recs(&bad_page, 1, "a page with limit 0");
    for (i = 0; i < 4; i++) {
        blocking = NULL;
        rc = membrane_integrations_list(client, queries[i], &blocking, &err);
        CHECK_INT(rc, MEMBRANE_OK);
        CHECK_MSG(blocking != NULL && pages[i].value != NULL && json_equal(blocking, pages[i].value),
                  "the async page %d differs from membrane_integrations_list's", i);
        json_decref(blocking);
        json_decref(queries[i]);
        rec_release(&pages[i]);
    }
    {
        json_t *zero = json_pack("{s:i}", "limit", 0);
        blocking = NULL;
        rc = membrane_integrations_list(client, zero, &blocking, &err);
        CHECK_INT(rc, bad_page.code);
        CHECK_INT(err.http_status, bad_page.http_status);
        json_decref(zero);
    }
    CHECK_INT(quiet(client, 100), 0);
    free_client(client);
    check_context("variants");
}

/* ---------------------------------------------------------------------------
 * 11. Several threads start, one dispatches
 * ------------------------------------------------------------------------- */

#define STARTERS 4

typedef struct {
    membrane_client *client;
    rec *recs;
    int count;
    int index;
    int accepted;
} starter;

static pthread_mutex_t starters_lock = PTHREAD_MUTEX_INITIALIZER;
static int starters_done;
static int starters_accepted;

static void *run_starter(void *arg)
{
    starter *s = arg;
    int i;

    for (i = 0; i < s->count; i++) {
        if (start_lookup(s->client, &s->recs[i], (unsigned)(i % 2)) == MEMBRANE_OK) {
            s->accepted++;
            pthread_mutex_lock(&starters_lock);
            starters_accepted++;
            pthread_mutex_unlock(&starters_lock);
        }
    }
    pthread_mutex_lock(&starters_lock);
    starters_done++;
    pthread_mutex_unlock(&starters_lock);
    return NULL;
}

static void test_threads_start(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    int per = async_count / STARTERS < 500 ? async_count / STARTERS : 500;
    int total, base = delivered, i, fd, done = 0, accepted = 0, ok = 0;
    starter starters[STARTERS];
    pthread_t threads[STARTERS];
    int running[STARTERS];
    rec *rs;
    double deadline;

    if (per < 1)
        per = 1;
    total = per * STARTERS;
    rs = calloc((size_t)total, sizeof *rs);
    if (client == NULL || rs == NULL) {
        free(rs);
        membrane_client_free(client);
        return;
    }
    fd = completion_fd(client);
    starters_done = 0;
    starters_accepted = 0;
    for (i = 0; i < total; i++)
        rec_for_entry(&rs[i], &sels[(size_t)(i * 13) % sel_count]);
    for (i = 0; i < STARTERS; i++) {
        starters[i].client = client;
        starters[i].recs = rs + i * per;
        starters[i].count = per;
        starters[i].index = i;
        starters[i].accepted = 0;
        running[i] = pthread_create(&threads[i], NULL, run_starter, &starters[i]) == 0;
        CHECK(running[i]);
    }
    /* The loop runs while the threads start requests. */
    deadline = now_ms() + 120000.0 * time_scale;
    while (now_ms() < deadline) {
        pthread_mutex_lock(&starters_lock);
        done = starters_done;
        accepted = starters_accepted;
        pthread_mutex_unlock(&starters_lock);
        if (done == STARTERS && delivered - base >= accepted) {
            ok = 1;
            break;
        }
        if (fd >= 0)
            loop_once(client, fd, 100);
    }
    for (i = 0; i < STARTERS; i++)
        if (running[i])
            pthread_join(threads[i], NULL);
    CHECK_MSG(ok, "%d threads x %d: %d of %d callbacks within the time", STARTERS, per, delivered - base,
              accepted);
    for (i = 0, accepted = 0; i < STARTERS; i++)
        accepted += starters[i].accepted;
    CHECK_INT(accepted, total);
    CHECK_INT(delivered - base, total);
    check_recs(rs, (size_t)total, "started from 4 threads");
    check_ids(rs, (size_t)total, "started from 4 threads");
    CHECK_INT(quiet(client, 200), 0);
    fprintf(stderr, "note: %d threads started %d lookups each while the main thread dispatched\n", STARTERS, per);
    free_client(client);
    for (i = 0; i < total; i++)
        rec_release(&rs[i]);
    free(rs);
    check_context("threads start");
}

/* ---------------------------------------------------------------------------
 * 12. Races: cancels against completions, several dispatchers, cancel-all
 *     from another thread
 * ------------------------------------------------------------------------- */

typedef struct {
    membrane_client *client;
    rec *recs;
    int count;
    int published;   /* recs[0 .. published) have their ids (under race_lock) */
    int finished;    /* the main thread started them all */
    int stop;
    int cancels;
} race_state;

static pthread_mutex_t race_lock = PTHREAD_MUTEX_INITIALIZER;

/* Cancels every odd request once 0 to 7 later ones have been started
   after it (the main thread starts one about every half millisecond), so
   some cancels come while the request runs and some after it finished. */
static void *run_canceller(void *arg)
{
    race_state *st = arg;
    int next = 1;

    for (;;) {
        int published, finished;
        pthread_mutex_lock(&race_lock);
        published = st->published;
        finished = st->finished;
        pthread_mutex_unlock(&race_lock);
        while (next < published && (finished || published > next + (next / 2) % 8)) {
            st->recs[next].cancel_rc = membrane_request_cancel(st->client, st->recs[next].id);
            next += 2;
        }
        if (finished && next >= published)
            break;
        sched_yield();
    }
    return NULL;
}

/* Calls membrane_client_cancel every millisecond until told to stop. */
static void *run_cancel_all(void *arg)
{
    race_state *st = arg;

    for (;;) {
        int stop;
        pthread_mutex_lock(&race_lock);
        stop = st->stop;
        pthread_mutex_unlock(&race_lock);
        if (stop)
            break;
        if (membrane_client_cancel(st->client) == MEMBRANE_OK)
            st->cancels++;
        sleep_ms(1);
    }
    return NULL;
}

/* Several dispatching threads: each marks itself while it dispatches. */
static pthread_key_t dispatching_key;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static int shared_delivered, shared_misplaced;

static void on_shared(void *payload, int code, json_t *integration, const membrane_error *err)
{
    rec *r = payload;

    pthread_mutex_lock(&shared_lock);
    if (pthread_getspecific(dispatching_key) == NULL)
        shared_misplaced++;
    shared_delivered++;
    if (r != NULL && r->magic == REC_MAGIC) {
        r->calls++;
        if (r->calls == 1)
            judge(r, code, integration != NULL,
                  json_is_object(integration) ? jstr(integration, "name") : NULL, err);
    }
    pthread_mutex_unlock(&shared_lock);
    json_decref(integration);
}

typedef struct {
    membrane_client *client;
    int target;
    double deadline;
    int ran;
    int errors;
} dispatcher;

static void *run_dispatcher(void *arg)
{
    dispatcher *d = arg;
    int fd = membrane_client_completion_fd(d->client);
    static char mark;

    if (fd < 0) {
        d->errors++;
        return NULL;
    }
    for (;;) {
        int n, got;
        pthread_mutex_lock(&shared_lock);
        got = shared_delivered;
        pthread_mutex_unlock(&shared_lock);
        if (got >= d->target || now_ms() > d->deadline)
            break;
        if (!readable(fd, 20))
            continue;
        pthread_setspecific(dispatching_key, &mark);
        n = membrane_client_dispatch(d->client, 0);
        pthread_setspecific(dispatching_key, NULL);
        if (n < 0)
            d->errors++;
        else
            d->ran += n;
    }
    return NULL;
}

static void test_races(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    int n = async_count < 2000 ? async_count : 2000, i, fd, base, wrong = 0, cancelled = 0, canceller_ok;
    int cancel_all_ok, first_wrong = -1;
    rec *rs = calloc((size_t)n, sizeof *rs);
    race_state st;
    pthread_t canceller, cancel_all;
    dispatcher ds[2];
    pthread_t dthreads[2];
    int drunning[2];

    if (client == NULL || rs == NULL) {
        free(rs);
        membrane_client_free(client);
        return;
    }
    mock_clear_faults();

    /* Cancels race completions: a cancel that says OK means the callback
       got ECANCELED; one that says ENOTFOUND, that it got its own result. */
    memset(&st, 0, sizeof st);
    st.client = client;
    st.recs = rs;
    st.count = n;
    for (i = 0; i < n; i++) {
        rec_for_entry(&rs[i], &sels[(size_t)(i * 3) % sel_count]);
        rs[i].may_cancel = i % 2;
        rs[i].cancel_rc = 12345;
    }
    canceller_ok = pthread_create(&canceller, NULL, run_canceller, &st) == 0;
    CHECK(canceller_ok);
    base = delivered;
    fd = completion_fd(client);
    for (i = 0; i < n; i++) {
        start_lookup(client, &rs[i], 0);
        pthread_mutex_lock(&race_lock);
        st.published = i + 1;
        pthread_mutex_unlock(&race_lock);
        if (fd >= 0)
            loop_once(client, fd, 0);
        sleep_us(500); /* slower than the server answers: no backlog */
    }
    pthread_mutex_lock(&race_lock);
    st.finished = 1;
    pthread_mutex_unlock(&race_lock);
    CHECK(pump(client, &delivered, base + n, 60000.0 * time_scale));
    if (canceller_ok)
        pthread_join(canceller, NULL);
    CHECK(pump(client, &delivered, base + n, 5000.0 * time_scale));
    check_recs(rs, (size_t)n, "cancels racing completions");
    for (i = 1; i < n; i += 2) {
        int consistent = (rs[i].cancel_rc == MEMBRANE_OK && rs[i].code == MEMBRANE_ECANCELED) ||
                         (rs[i].cancel_rc == MEMBRANE_ENOTFOUND && rs[i].code != MEMBRANE_ECANCELED);
        if (rs[i].cancel_rc == MEMBRANE_OK)
            cancelled++;
        if (!consistent && wrong++ == 0)
            first_wrong = i;
    }
    CHECK_MSG(wrong == 0, "%d cancels disagree with their callbacks (first: #%d: cancel %d, callback code %d)",
              wrong, first_wrong, first_wrong >= 0 ? rs[first_wrong].cancel_rc : 0,
              first_wrong >= 0 ? rs[first_wrong].code : 0);
    for (i = 0, wrong = 0; i < n; i += 2)
        if (rs[i].code == MEMBRANE_ECANCELED)
            wrong++;
    CHECK_MSG(wrong == 0, "%d requests nobody cancelled got ECANCELED", wrong);
    fprintf(stderr, "note: %d lookups, every other one cancelled at once from another thread: "
                    "%d cancels came in time, %d too late\n", n, cancelled, n / 2 - cancelled);
    CHECK_INT(quiet(client, 100), 0);
    check_context("cancels racing completions");

    /* membrane_client_cancel every millisecond from another thread while
       requests start and finish: each callback still runs once. */
    memset(&st, 0, sizeof st);
    st.client = client;
    for (i = 0; i < n; i++) {
        rec_for_entry(&rs[i], &sels[(size_t)(i * 7) % sel_count]);
        rs[i].may_cancel = 1;
    }
    cancel_all_ok = pthread_create(&cancel_all, NULL, run_cancel_all, &st) == 0;
    CHECK(cancel_all_ok);
    base = delivered;
    for (i = 0; i < n; i++) {
        start_lookup(client, &rs[i], 0);
        if (fd >= 0)
            loop_once(client, fd, 0);
        sleep_us(500); /* slower than the server answers: no backlog */
    }
    CHECK(pump(client, &delivered, base + n, 60000.0 * time_scale));
    pthread_mutex_lock(&race_lock);
    st.stop = 1;
    pthread_mutex_unlock(&race_lock);
    if (cancel_all_ok)
        pthread_join(cancel_all, NULL);
    check_recs(rs, (size_t)n, "membrane_client_cancel from another thread, all the time");
    for (i = 0, cancelled = 0; i < n; i++)
        cancelled += rs[i].code == MEMBRANE_ECANCELED;
    fprintf(stderr, "note: %d lookups under %d membrane_client_cancel calls from another thread: %d cancelled\n",
            n, st.cancels, cancelled);
    CHECK_INT(quiet(client, 100), 0);
    {
        rec after;
        rec_init(&after, KIND_LOOKUP, HUBSPOT_KEY, "HubSpot", MEMBRANE_OK, -1);
        base = delivered;
        start_lookup(client, &after, 0);
        CHECK(pump(client, &delivered, base + 1, 5000.0 * time_scale));
        check_recs(&after, 1, "after the cancelling thread stopped");
    }
    /* Started right after a cancel, before any dispatch: not cancelled. */
    {
        rec held, fresh;
        fault("{\"match\":\"jira\",\"delayMs\":3000,\"times\":1}");
        rec_init(&held, KIND_LOOKUP, "jira", NULL, MEMBRANE_ECANCELED, 0);
        rec_init(&fresh, KIND_LOOKUP, "salesforce", "Salesforce", MEMBRANE_OK, -1);
        base = delivered;
        start_lookup(client, &held, 0);
        sleep_ms(100);
        CHECK_INT(membrane_client_cancel(client), MEMBRANE_OK);
        start_lookup(client, &fresh, 0);
        CHECK(pump(client, &delivered, base + 2, 5000.0 * time_scale));
        check_recs(&held, 1, "cancelled");
        check_recs(&fresh, 1, "started right after membrane_client_cancel");
        mock_clear_faults();
    }
    check_context("membrane_client_cancel from another thread");
    free_client(client);

    /* Two threads dispatch at once: each callback runs once, inside one of
       their dispatch calls. */
    client = new_client(MOCK_TOKEN);
    if (client == NULL) {
        free(rs);
        return;
    }
    pthread_key_create(&dispatching_key, NULL);
    shared_delivered = 0;
    shared_misplaced = 0;
    for (i = 0; i < n; i++)
        rec_for_entry(&rs[i], &sels[(size_t)(i * 5) % sel_count]);
    for (i = 0; i < 2; i++) {
        ds[i].client = client;
        ds[i].target = n;
        ds[i].deadline = now_ms() + 60000.0 * time_scale;
        ds[i].ran = 0;
        ds[i].errors = 0;
        drunning[i] = pthread_create(&dthreads[i], NULL, run_dispatcher, &ds[i]) == 0;
        CHECK(drunning[i]);
    }
    for (i = 0; i < n; i++) {
        membrane_error err;
        rs[i].id = 77;
        rs[i].start_rc = membrane_integration_get_async(client, rs[i].selector, 0, on_shared, &rs[i], &rs[i].id,
                                                        &err);
    }
    for (i = 0; i < 2; i++)
        if (drunning[i])
            pthread_join(dthreads[i], NULL);
    CHECK_INT(shared_delivered, n);
    CHECK_INT(shared_misplaced, 0);
    CHECK_INT(ds[0].errors + ds[1].errors, 0);
    CHECK_INT(ds[0].ran + ds[1].ran, n);
    check_recs(rs, (size_t)n, "two threads dispatching");
    fprintf(stderr, "note: two threads dispatched %d and %d of %d callbacks\n", ds[0].ran, ds[1].ran, n);
    free_client(client);
    CHECK_INT(shared_delivered, n); /* free found nothing left */
    pthread_key_delete(dispatching_key);
    free(rs);
    check_context("two dispatching threads");
}

int main(void)
{
    const char *scale = getenv("MEMBRANE_TIME_SCALE");
    const char *count = getenv("MEMBRANE_ASYNC_COUNT");

    main_thread = pthread_self();
    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    if (scale != NULL && atof(scale) >= 1.0)
        time_scale = atof(scale);
    if (count != NULL && atoi(count) >= 1)
        async_count = atoi(count);
    if (load_selectors() != 0) {
        mock_admin_cleanup();
        return check_report();
    }
    test_fd_and_arguments();
    test_exactly_once();
    test_fifo();
    test_connections_kept();
    test_request_cancel();
    test_client_cancel();
    test_free();
    test_callbacks();
    test_late_dispatch();
    test_deadlines_and_retries();
    test_variants();
    test_threads_start();
    test_races();
    mock_clear_faults();
    mock_admin_cleanup();
    return check_report();
}
