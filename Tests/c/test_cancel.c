/*
 * test_cancel.c: membrane_client_cancel from a second thread.
 *
 *   - while a lookup waits for a slow server (headers after 5 s): the call
 *     returns MEMBRANE_ECANCELED soon after the cancel (the header promises
 *     100 ms; we allow 150), and the next lookup on the same client works;
 *   - while a lookup waits between retries (503 forever, backoff base 2 s):
 *     the same;
 *   - every call in flight on the client is canceled, and a call on another
 *     client is not.
 *
 * The latencies are printed as `note:` lines. MEMBRANE_TIME_SCALE (default
 * 1) multiplies the upper time bounds, for slow runs (valgrind).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "support.h"

#define CANCEL_AFTER_MS 300
#define CANCEL_BOUND_MS 150.0

static double time_scale = 1.0;

typedef struct {
    membrane_client *client;
    const char *selector;
    int rc;
    membrane_error err;
    json_t *out;
    double started_ms;
    double returned_ms;
} call;

static void *run_call(void *arg)
{
    call *c = arg;
    c->out = POISON_JSON;
    err_poison(&c->err);
    c->started_ms = now_ms();
    c->rc = membrane_integration_get(c->client, c->selector, 0, &c->out, &c->err);
    c->returned_ms = now_ms();
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* The request count for GET /integrations/<selector> (selector URL-safe). */
static int requests_for(const char *selector)
{
    char path[256];
    snprintf(path, sizeof path, "/integrations/%s", selector);
    return mock_request_count(path);
}

/* Checks a canceled call and releases what it returned. */
static void check_canceled(call *c, double cancel_ms, const char *what)
{
    double latency = c->returned_ms - cancel_ms;

    CHECK_MSG(c->rc == MEMBRANE_ECANCELED, "%s: got %d (%s), want ECANCELED", what, c->rc,
              err_terminated(&c->err) ? c->err.message : "");
    CHECK_INT(c->err.code, c->rc);
    CHECK(err_terminated(&c->err) && c->err.message[0] != '\0');
    CHECK_MSG(c->out == NULL, "%s: out not set to NULL", what);
    CHECK_MSG(c->returned_ms >= cancel_ms,
              "%s: returned %.0f ms before the cancel, after %.0f ms", what,
              cancel_ms - c->returned_ms, c->returned_ms - c->started_ms);
    CHECK_MSG(latency < CANCEL_BOUND_MS * time_scale,
              "%s: returned %.1f ms after the cancel, bound %.0f ms", what, latency,
              CANCEL_BOUND_MS * time_scale);
    fprintf(stderr, "note: cancel %s: returned %.1f ms after membrane_client_cancel "
                    "(%.0f ms into the call; http_status %d; \"%s\")\n",
            what, latency, cancel_ms - c->started_ms, c->err.http_status,
            err_terminated(&c->err) ? c->err.message : "");
    if (c->rc == MEMBRANE_OK && c->out != NULL && c->out != POISON_JSON)
        json_decref(c->out);
}

/* The next lookup on the client works. */
static void check_next_lookup(membrane_client *client, const char *what)
{
    json_t *out = NULL;
    membrane_error err;
    int rc;

    err_poison(&err);
    rc = membrane_integration_get(client, HUBSPOT_KEY, 0, &out, &err);
    CHECK_MSG(rc == MEMBRANE_OK, "%s: the next lookup got %d (%s)", what, rc,
              err_terminated(&err) ? err.message : "");
    CHECK_SUCCESS(rc, err);
    CHECK_STR(jstr(out, "key"), HUBSPOT_KEY);
    json_decref(out);
}

/* Starts `c` on a thread, waits CANCEL_AFTER_MS, cancels, joins. Returns
   the time of the cancel call. */
static double cancel_during(call *c)
{
    pthread_t thread;
    double cancel_ms;

    if (pthread_create(&thread, NULL, run_call, c) != 0) {
        CHECK_MSG(0, "pthread_create failed");
        return 0;
    }
    sleep_ms(CANCEL_AFTER_MS);
    cancel_ms = now_ms();
    CHECK_INT(membrane_client_cancel(c->client), MEMBRANE_OK);
    pthread_join(thread, NULL);
    return cancel_ms;
}

static void test_cancel_slow_server(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    call c;
    double cancel_ms;

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_faults(), 0);
    CHECK_INT(mock_clear_requests(), 0);
    CHECK_INT(mock_fault("{\"match\":\"c-slow\",\"delayMs\":5000,\"times\":0}"), 0);

    memset(&c, 0, sizeof c);
    c.client = client;
    c.selector = "c-slow";
    cancel_ms = cancel_during(&c);
    check_canceled(&c, cancel_ms, "while waiting for headers (delayMs 5000)");
    CHECK_INT(c.err.http_status, 0);
    CHECK_MSG(c.returned_ms - c.started_ms >= CANCEL_AFTER_MS - 5,
              "the call ended after %.0f ms, before the cancel",
              c.returned_ms - c.started_ms);
    CHECK_INT(requests_for("c-slow"), 1); /* a canceled call is not retried */
    CHECK_INT(mock_clear_faults(), 0);

    check_next_lookup(client, "after a cancel while waiting for headers");
    membrane_client_free(client);
}

static void test_cancel_backoff(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    call c;
    double cancel_ms;
    int requests;

    if (client == NULL)
        return;
    /* Every answer is a 503 and every wait is long: with a 2 s base and 10
       retries, the call is waiting between attempts (not in a request,
       which takes a millisecond) when the cancel comes. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_RETRY_BASE_MS, 2000), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 10), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, 20000), MEMBRANE_OK);
    CHECK_INT(mock_clear_faults(), 0);
    CHECK_INT(mock_clear_requests(), 0);
    CHECK_INT(mock_fault("{\"match\":\"c-backoff\",\"status\":503,\"times\":0}"), 0);

    memset(&c, 0, sizeof c);
    c.client = client;
    c.selector = "c-backoff";
    cancel_ms = cancel_during(&c);
    check_canceled(&c, cancel_ms, "during a backoff wait (503, base 2000 ms)");
    requests = requests_for("c-backoff");
    CHECK_MSG(requests >= 1 && requests <= 11, "%d requests before the cancel", requests);
    fprintf(stderr, "note: cancel during a backoff wait: %d request(s) were made first\n",
            requests);
    CHECK_INT(mock_clear_faults(), 0);

    /* No request after the cancel. */
    sleep_ms(100);
    CHECK_INT(requests_for("c-backoff"), requests);

    check_next_lookup(client, "after a cancel during a backoff wait");
    membrane_client_free(client);
}

#define MANY 3

static void test_cancel_all_in_flight(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    membrane_client *other = new_client(MOCK_TOKEN);
    call calls[MANY], bystander;
    pthread_t threads[MANY], bystander_thread;
    int started[MANY];
    int bystander_started = 0;
    double cancel_ms;
    int i;

    if (client == NULL || other == NULL) {
        membrane_client_free(client);
        membrane_client_free(other);
        return;
    }
    CHECK_INT(mock_clear_faults(), 0);
    CHECK_INT(mock_fault("{\"match\":\"c-many\",\"delayMs\":5000,\"times\":0}"), 0);
    /* The other client's call finishes normally, 300 ms after the cancel. */
    CHECK_INT(mock_fault("{\"match\":\"hubspot\",\"delayMs\":600,\"times\":1}"), 0);

    memset(calls, 0, sizeof calls);
    memset(&bystander, 0, sizeof bystander);
    bystander.client = other;
    bystander.selector = HUBSPOT_KEY;
    bystander_started = pthread_create(&bystander_thread, NULL, run_call, &bystander) == 0;
    CHECK(bystander_started);
    for (i = 0; i < MANY; i++) {
        calls[i].client = client;
        calls[i].selector = "c-many";
        started[i] = pthread_create(&threads[i], NULL, run_call, &calls[i]) == 0;
        CHECK(started[i]);
    }
    sleep_ms(CANCEL_AFTER_MS);
    cancel_ms = now_ms();
    CHECK_INT(membrane_client_cancel(client), MEMBRANE_OK);
    for (i = 0; i < MANY; i++) {
        if (!started[i])
            continue;
        pthread_join(threads[i], NULL);
        check_canceled(&calls[i], cancel_ms, i == 0   ? "of call 1 of 3 in flight"
                                             : i == 1 ? "of call 2 of 3 in flight"
                                                      : "of call 3 of 3 in flight");
    }
    if (bystander_started) {
        pthread_join(bystander_thread, NULL);
        CHECK_MSG(bystander.rc == MEMBRANE_OK, "a call on another client got %d (%s)",
                  bystander.rc, err_terminated(&bystander.err) ? bystander.err.message : "");
        CHECK_MSG(bystander.returned_ms - bystander.started_ms >= 550,
                  "the other client's call returned after %.0f ms, before its 600 ms delay",
                  bystander.returned_ms - bystander.started_ms);
        if (bystander.rc == MEMBRANE_OK && bystander.out != POISON_JSON)
            json_decref(bystander.out);
    }
    CHECK_INT(mock_clear_faults(), 0);
    check_next_lookup(client, "after canceling 3 calls");
    membrane_client_free(client);
    membrane_client_free(other);
}

int main(void)
{
    const char *scale = getenv("MEMBRANE_TIME_SCALE");

    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    if (scale != NULL && atof(scale) >= 1.0)
        time_scale = atof(scale);
    test_cancel_slow_server();
    test_cancel_backoff();
    test_cancel_all_in_flight();
    mock_clear_faults();
    mock_admin_cleanup();
    return check_report();
}
