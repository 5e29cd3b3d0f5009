/*
 * test_sharing.c: shared in-flight lookups (MEMBRANE_OPT_SHARE_REQUESTS) and
 * the cache (MEMBRANE_OPT_CACHE_TTL_MS, MEMBRANE_OPT_CACHE_MAX_ENTRIES,
 * membrane_client_invalidate), counted against the stand-in server's
 * request log.
 *
 * Sharing:
 *   - 8 threads (a barrier) look up one selector the server delays: one
 *     request; every thread succeeds with its own json_t (distinct pointers,
 *     refcount 1, nested values too: one thread's edits show in no other);
 *   - with sharing off, 8 requests; different flags never share;
 *   - a delayed 503 (no retries): one request, 8 errors of their own;
 *   - membrane_client_cancel while 8 wait: all ECANCELED promptly, and no
 *     follower sends a request of its own;
 *   - async lookups share with blocking ones, whichever leads; cancelling
 *     the leading async request by id fails only that one, and its
 *     request runs on for the others (no second request);
 *   - each caller keeps its own deadline (options are read when a call
 *     starts): a follower with a shorter one times out alone; a leader that
 *     times out hands over to a follower, which sends its own request;
 *   - the option accepts only 0 and 1.
 *
 * Cache:
 *   - off by default; a hit makes no request and is a new copy (edits of
 *     the object a miss or a hit handed out never reach the next hit);
 *     an expired answer is fetched again;
 *   - MAX_ENTRIES evicts the least recently used; lowering it evicts;
 *   - invalidate one selector, all (NULL), an unknown one; bad arguments;
 *   - MEMBRANE_INCLUDE_SECRETS lookups are never stored nor served from
 *     answers stored without secrets; errors are never stored;
 *   - set_token and TTL 0 empty it, also for a lookup that was in flight
 *     when the token changed (its answer, fetched with the old token, must
 *     not be kept); the same for invalidate of its selector (and a lookup
 *     after it does not follow the request sent before), while answers for
 *     other selectors in flight are kept;
 *   - the text call and the async calls are served from it too;
 *   - option ranges.
 *
 * The server's delays are 300 ms times MEMBRANE_TIME_SCALE (run.sh sets 4
 * under valgrind), and so are the cache TTLs and the waits; the upper time
 * bounds are multiplied by it.
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "support.h"

#define THREADS 8
#define DELAY_MS 300
#define CANCEL_BOUND_MS 150.0
#define MASK "********"

static double time_scale = 1.0;

/* Milliseconds scaled for slow runs. */
static long scaled(long ms)
{
    return (long)((double)ms * time_scale);
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Queues one fault, printf-style. */
static void add_fault(const char *format, ...)
{
    char json[512];
    va_list args;

    va_start(args, format);
    vsnprintf(json, sizeof json, format, args);
    va_end(args);
    CHECK_MSG(mock_fault(json) == 0, "queue fault %s", json);
}

/* Requests the server saw for `selector`. */
static int requests_for(const char *selector)
{
    return mock_selector_count(selector);
}

/* Requests the server saw for `selector` with includeSecrets=`secrets`. */
static int requests_with_secrets(const char *selector, int secrets)
{
    json_t *requests = mock_requests();
    json_t *request;
    size_t i;
    int count = 0;
    const char *want = secrets ? "includeSecrets=true" : "includeSecrets=false";

    if (requests == NULL)
        return -1;
    json_array_foreach(requests, i, request) {
        const char *recorded = mock_request_string(request, "selector");
        const char *query = mock_request_string(request, "query");
        if (recorded != NULL && strcmp(recorded, selector) == 0 && contains(query, want))
            count++;
    }
    json_decref(requests);
    return count;
}

/* A lookup that must succeed; its result (new reference) or NULL. */
static json_t *get_ok(membrane_client *client, const char *selector, unsigned int flags)
{
    json_t *out = POISON_JSON;
    membrane_error err;
    int rc;

    err_poison(&err);
    rc = membrane_integration_get(client, selector, flags, &out, &err);
    CHECK_MSG(rc == MEMBRANE_OK && out != NULL && out != POISON_JSON, "lookup \"%s\" (flags %u): %d %s",
              selector, flags, rc, rc == MEMBRANE_OK || !err_terminated(&err) ? "" : err.message);
    return rc == MEMBRANE_OK && out != POISON_JSON ? out : NULL;
}

/* A lookup whose result is only counted. */
static void get_and_drop(membrane_client *client, const char *selector, unsigned int flags)
{
    json_decref(get_ok(client, selector, flags));
}

/* parameters.clientSecret of a hubspot answer, or NULL. */
static const char *client_secret(const json_t *integration)
{
    return jstr(json_object_get(integration, "parameters"), "clientSecret");
}

/* The first member of an object that is itself an object or an array (a
   nested value), or NULL. */
static json_t *nested(json_t *integration)
{
    const char *key;
    json_t *value;

    json_object_foreach(integration, key, value) {
        if (json_is_object(value) || json_is_array(value))
            return value;
    }
    return NULL;
}

/* Edits an integration at the top and inside every nested object and array
   (and, for hubspot, optionsConfig.oauth2.parameters.scopes, four levels
   down), as a host might. */
static void mutate(json_t *integration, int who)
{
    const char *key;
    json_t *value;
    json_t *scopes = json_object_get(
        json_object_get(json_object_get(json_object_get(integration, "optionsConfig"), "oauth2"), "parameters"),
        "scopes");

    CHECK(nested(integration) != NULL);
    json_object_foreach(integration, key, value) {
        if (json_is_object(value))
            json_object_set_new(value, "mutatedBy", json_integer(who));
        else if (json_is_array(value))
            json_array_append_new(value, json_integer(who));
    }
    json_object_set_new(integration, "mutatedBy", json_integer(who));
    json_object_set_new(integration, "name", json_string("mutated"));
    if (json_is_array(scopes))
        json_array_clear(scopes);
}

/* ---------------------------------------------------------------------------
 * Blocking calls on threads
 * ------------------------------------------------------------------------- */

typedef struct {
    membrane_client *client;
    const char *selector;
    unsigned int flags;
    pthread_barrier_t *barrier;
    int rc;
    membrane_error err;
    json_t *out;
    double started_ms;
    double returned_ms;
} call;

static void *run_call(void *arg)
{
    call *c = arg;

    if (c->barrier != NULL)
        pthread_barrier_wait(c->barrier);
    c->started_ms = now_ms();
    c->rc = membrane_integration_get(c->client, c->selector, c->flags, &c->out, &c->err);
    c->returned_ms = now_ms();
    return NULL;
}

typedef struct {
    call calls[THREADS];
    pthread_t threads[THREADS];
    int started[THREADS];
    int count;
    pthread_barrier_t barrier;
} group;

/* Starts `count` lookups of `selector` on threads that wait for each other
   at a barrier; `flags_odd` is the flags of the odd-numbered ones. */
static void group_start(group *g, int count, membrane_client *client, const char *selector,
                        unsigned int flags_even, unsigned int flags_odd)
{
    int i;

    memset(g, 0, sizeof *g);
    g->count = count;
    pthread_barrier_init(&g->barrier, NULL, (unsigned)count);
    for (i = 0; i < count; i++) {
        call *c = &g->calls[i];
        c->client = client;
        c->selector = selector;
        c->flags = i % 2 == 0 ? flags_even : flags_odd;
        c->barrier = &g->barrier;
        c->out = POISON_JSON;
        err_poison(&c->err);
        g->started[i] = pthread_create(&g->threads[i], NULL, run_call, c) == 0;
        CHECK_MSG(g->started[i], "pthread_create %d", i);
        if (!g->started[i]) {
            /* Without it the others would wait at the barrier forever. */
            fprintf(stderr, "cannot start thread %d\n", i);
            exit(3);
        }
    }
}

static void group_join(group *g)
{
    int i;

    for (i = 0; i < g->count; i++)
        if (g->started[i])
            pthread_join(g->threads[i], NULL);
    pthread_barrier_destroy(&g->barrier);
}

static void group_release(group *g)
{
    int i;

    for (i = 0; i < g->count; i++)
        if (g->calls[i].out != NULL && g->calls[i].out != POISON_JSON)
            json_decref(g->calls[i].out);
}

/* Every call succeeded with an object equal to `reference`, each its own
   (distinct pointers, nested values included, refcount 1). */
static void check_own_successes(group *g, const json_t *reference, const char *what)
{
    int i, j;

    for (i = 0; i < g->count; i++) {
        call *c = &g->calls[i];
        CHECK_MSG(c->rc == MEMBRANE_OK, "%s: thread %d got %d (%s)", what, i, c->rc,
                  err_terminated(&c->err) ? c->err.message : "");
        CHECK_SUCCESS(c->rc, c->err);
        CHECK_MSG(c->out != NULL && c->out != POISON_JSON, "%s: thread %d has no object", what, i);
        if (c->out == NULL || c->out == POISON_JSON)
            continue;
        CHECK_MSG(json_equal(c->out, (json_t *)reference), "%s: thread %d's object differs", what, i);
        CHECK_INT(c->out->refcount, 1);
        for (j = 0; j < i; j++) {
            call *d = &g->calls[j];
            if (d->out == NULL || d->out == POISON_JSON)
                continue;
            CHECK_MSG(c->out != d->out, "%s: threads %d and %d got the same json_t", what, i, j);
            CHECK_MSG(nested(c->out) != NULL && nested(c->out) != nested(d->out),
                      "%s: threads %d and %d share a nested object", what, i, j);
        }
    }
}

/* ---------------------------------------------------------------------------
 * Async calls
 * ------------------------------------------------------------------------- */

static int async_callbacks;

typedef struct {
    int called;
    int code;
    json_t *out;
    membrane_error err;
    double at_ms;
    unsigned long long id;
} async_result;

static void on_integration(void *payload, int code, json_t *integration, const membrane_error *err)
{
    async_result *r = payload;

    r->called++;
    r->code = code;
    if (r->out != NULL) /* a second callback: keep no leak */
        json_decref(r->out);
    r->out = integration;
    if (err != NULL)
        r->err = *err;
    r->at_ms = now_ms();
    async_callbacks++;
}

typedef struct {
    int called;
    int code;
    char *text;
    size_t length;
    membrane_error err;
} text_result;

static void on_text(void *payload, int code, const char *text, size_t length, const membrane_error *err)
{
    text_result *r = payload;

    r->called++;
    r->code = code;
    r->length = length;
    free(r->text);
    r->text = NULL;
    if (text != NULL) {
        r->text = malloc(length + 1);
        if (r->text != NULL) {
            memcpy(r->text, text, length);
            r->text[length] = '\0';
        }
    }
    if (err != NULL)
        r->err = *err;
    async_callbacks++;
}

/* Dispatches until `want` callbacks have run in all (async_callbacks), or
   the time is up. */
static void pump(membrane_client *client, int want, long timeout_ms, const char *what)
{
    int fd = membrane_client_completion_fd(client);
    double end = now_ms() + (double)timeout_ms;
    int bad = 0;

    CHECK_MSG(fd >= 0, "%s: completion fd %d", what, fd);
    while (fd >= 0 && async_callbacks < want && now_ms() < end) {
        struct pollfd p;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        (void)poll(&p, 1, 20);
        if (membrane_client_dispatch(client, 0) < 0)
            bad++;
    }
    CHECK_MSG(bad == 0, "%s: membrane_client_dispatch failed %d times", what, bad);
    CHECK_MSG(async_callbacks >= want, "%s: %d of %d callbacks ran", what, async_callbacks, want);
}

/* ---------------------------------------------------------------------------
 * (a) Sharing
 * ------------------------------------------------------------------------- */

static void test_coalesce(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    json_t *reference;
    group g;
    int i;
    double first_start, last_return;

    if (client == NULL)
        return;
    reference = get_ok(client, HUBSPOT_KEY, 0);
    CHECK_INT(mock_clear_requests(), 0);
    add_fault("{\"match\":\"hubspot\",\"delayMs\":%ld,\"times\":0}", scaled(DELAY_MS));

    group_start(&g, THREADS, client, HUBSPOT_KEY, 0, 0);
    group_join(&g);
    CHECK_INT(mock_clear_faults(), 0);

    CHECK_INT(requests_for(HUBSPOT_KEY), 1);
    check_own_successes(&g, reference, "8 threads, one selector");
    first_start = g.calls[0].started_ms;
    last_return = g.calls[0].returned_ms;
    for (i = 1; i < THREADS; i++) {
        if (g.calls[i].started_ms < first_start)
            first_start = g.calls[i].started_ms;
        if (g.calls[i].returned_ms > last_return)
            last_return = g.calls[i].returned_ms;
    }
    fprintf(stderr, "note: 8 threads sharing one lookup (server delay %ld ms): all done %.0f ms "
                    "after the first started\n", scaled(DELAY_MS), last_return - first_start);

    /* One thread edits its object, at the top and deep inside: the others'
       are untouched. */
    if (g.calls[0].rc == MEMBRANE_OK && g.calls[0].out != NULL && reference != NULL) {
        mutate(g.calls[0].out, 0);
        CHECK(!json_equal(g.calls[0].out, reference));
        for (i = 1; i < THREADS; i++)
            CHECK_MSG(g.calls[i].out != NULL && json_equal(g.calls[i].out, reference),
                      "thread 0's edits show in thread %d's object", i);
    }
    group_release(&g);
    json_decref(reference);
    membrane_client_free(client);
}

static void test_share_off(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    json_t *reference;
    group g;

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_SHARE_REQUESTS, 0), MEMBRANE_OK);
    reference = get_ok(client, HUBSPOT_KEY, 0);
    CHECK_INT(mock_clear_requests(), 0);
    add_fault("{\"match\":\"hubspot\",\"delayMs\":%ld,\"times\":0}", scaled(DELAY_MS));

    group_start(&g, THREADS, client, HUBSPOT_KEY, 0, 0);
    group_join(&g);
    CHECK_INT(mock_clear_faults(), 0);

    CHECK_INT(requests_for(HUBSPOT_KEY), THREADS);
    check_own_successes(&g, reference, "sharing off");
    group_release(&g);

    /* On again: shared again. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_SHARE_REQUESTS, 1), MEMBRANE_OK);
    CHECK_INT(mock_clear_requests(), 0);
    add_fault("{\"match\":\"hubspot\",\"delayMs\":%ld,\"times\":0}", scaled(DELAY_MS));
    group_start(&g, THREADS, client, HUBSPOT_KEY, 0, 0);
    group_join(&g);
    CHECK_INT(mock_clear_faults(), 0);
    CHECK_INT(requests_for(HUBSPOT_KEY), 1);
    check_own_successes(&g, reference, "sharing on again");
    group_release(&g);

    json_decref(reference);
    membrane_client_free(client);
}

static void test_flags_do_not_share(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    group g;
    int i;

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_requests(), 0);
    add_fault("{\"match\":\"hubspot\",\"delayMs\":%ld,\"times\":0}", scaled(DELAY_MS));
    /* Even threads without secrets, odd ones with. */
    group_start(&g, THREADS, client, HUBSPOT_KEY, 0, MEMBRANE_INCLUDE_SECRETS);
    group_join(&g);
    CHECK_INT(mock_clear_faults(), 0);

    CHECK_INT(requests_for(HUBSPOT_KEY), 2);
    CHECK_INT(requests_with_secrets(HUBSPOT_KEY, 0), 1);
    CHECK_INT(requests_with_secrets(HUBSPOT_KEY, 1), 1);
    for (i = 0; i < THREADS; i++) {
        call *c = &g.calls[i];
        CHECK_MSG(c->rc == MEMBRANE_OK, "flags: thread %d got %d", i, c->rc);
        if (c->rc != MEMBRANE_OK)
            continue;
        if (i % 2 == 0) {
            CHECK_STR(client_secret(c->out), MASK);
        } else {
            CHECK_MSG(client_secret(c->out) != NULL && strcmp(client_secret(c->out), MASK) != 0,
                      "thread %d asked for secrets and got a masked answer", i);
        }
        if (i >= 2 && g.calls[i - 2].rc == MEMBRANE_OK)
            CHECK(json_equal(c->out, g.calls[i - 2].out));
    }
    group_release(&g);
    membrane_client_free(client);
}

static void test_shared_error(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    group g;
    int i;

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 0), MEMBRANE_OK);
    CHECK_INT(mock_clear_requests(), 0);
    add_fault("{\"match\":\"salesforce\",\"status\":503,\"delayMs\":%ld,\"times\":0}", scaled(DELAY_MS));

    group_start(&g, THREADS, client, "salesforce", 0, 0);
    group_join(&g);
    CHECK_INT(mock_clear_faults(), 0);

    CHECK_INT(requests_for("salesforce"), 1);
    for (i = 0; i < THREADS; i++) {
        call *c = &g.calls[i];
        CHECK_FAIL(c->rc, c->err, MEMBRANE_ESERVER);
        CHECK_INT(c->err.http_status, 503);
        CHECK_MSG(c->out == NULL, "503: thread %d: out not set to NULL", i);
        if (i > 0) {
            CHECK_STR(c->err.key, g.calls[0].err.key);
            CHECK_STR(c->err.message, g.calls[0].err.message);
            CHECK(&c->err != &g.calls[0].err);
        }
    }
    group_release(&g);

    /* The client is fine afterwards, and the error was not kept anywhere. */
    CHECK_INT(mock_clear_requests(), 0);
    get_and_drop(client, "salesforce", 0);
    CHECK_INT(requests_for("salesforce"), 1);
    membrane_client_free(client);
}

static void test_cancel_all_waiting(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    group g;
    double cancel_ms;
    int i;
    double worst = 0;

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_requests(), 0);
    add_fault("{\"match\":\"sharing-cancel\",\"delayMs\":5000,\"times\":0}");

    group_start(&g, THREADS, client, "sharing-cancel", 0, 0);
    sleep_ms(scaled(DELAY_MS));
    cancel_ms = now_ms();
    CHECK_INT(membrane_client_cancel(client), MEMBRANE_OK);
    group_join(&g);

    for (i = 0; i < THREADS; i++) {
        call *c = &g.calls[i];
        double latency = c->returned_ms - cancel_ms;
        CHECK_FAIL(c->rc, c->err, MEMBRANE_ECANCELED);
        CHECK_MSG(c->out == NULL, "cancel: thread %d: out not set to NULL", i);
        CHECK_MSG(latency >= 0 && latency < CANCEL_BOUND_MS * time_scale,
                  "cancel: thread %d returned %.1f ms after the cancel (bound %.0f)", i, latency,
                  CANCEL_BOUND_MS * time_scale);
        if (latency > worst)
            worst = latency;
    }
    fprintf(stderr, "note: cancel of 8 threads sharing one lookup: the last returned %.1f ms after "
                    "membrane_client_cancel\n", worst);
    /* One request, and no follower sent its own after the cancel. */
    CHECK_INT(requests_for("sharing-cancel"), 1);
    sleep_ms(100);
    CHECK_INT(requests_for("sharing-cancel"), 1);
    CHECK_INT(mock_clear_faults(), 0);
    group_release(&g);

    /* The next lookup works. */
    json_decref(get_ok(client, HUBSPOT_KEY, 0));
    membrane_client_free(client);
}

#define ASYNC_COUNT 5
#define BLOCKING_COUNT 3

/* 5 get_async and 3 blocking threads on one delayed selector: one request.
   `async_first`: the async requests start first (one of them leads),
   otherwise the blocking threads do. */
static void test_async_and_blocking(int async_first)
{
    const char *what = async_first ? "async leading" : "blocking leading";
    membrane_client *client = new_client(MOCK_TOKEN);
    async_result results[ASYNC_COUNT];
    json_t *reference;
    group g;
    int i, j;

    if (client == NULL)
        return;
    reference = get_ok(client, "zendesk", 0);
    memset(results, 0, sizeof results);
    async_callbacks = 0;
    CHECK_INT(mock_clear_requests(), 0);
    add_fault("{\"match\":\"zendesk\",\"delayMs\":%ld,\"times\":0}", scaled(DELAY_MS));

    if (!async_first) {
        group_start(&g, BLOCKING_COUNT, client, "zendesk", 0, 0);
        sleep_ms(scaled(100));
    }
    for (i = 0; i < ASYNC_COUNT; i++) {
        membrane_error err;
        int rc = membrane_integration_get_async(client, "zendesk", 0, on_integration, &results[i],
                                                &results[i].id, &err);
        CHECK_INT(rc, MEMBRANE_OK);
        CHECK(results[i].id > 0);
    }
    if (async_first)
        group_start(&g, BLOCKING_COUNT, client, "zendesk", 0, 0);
    pump(client, ASYNC_COUNT, scaled(10000), what);
    group_join(&g);
    CHECK_INT(mock_clear_faults(), 0);

    CHECK_MSG(requests_for("zendesk") == 1, "%s: %d requests for 5 async and 3 blocking lookups", what,
              requests_for("zendesk"));
    check_own_successes(&g, reference, what);
    for (i = 0; i < ASYNC_COUNT; i++) {
        async_result *r = &results[i];
        CHECK_INT(r->called, 1);
        CHECK_INT(r->code, MEMBRANE_OK);
        CHECK_SUCCESS(r->code, r->err);
        CHECK_MSG(r->out != NULL && json_equal(r->out, reference), "%s: callback %d's object", what, i);
        if (r->out == NULL)
            continue;
        CHECK_INT(r->out->refcount, 1);
        for (j = 0; j < i; j++)
            CHECK(r->out != results[j].out);
        for (j = 0; j < BLOCKING_COUNT; j++)
            CHECK(r->out != g.calls[j].out);
    }
    for (i = 0; i < ASYNC_COUNT; i++)
        for (j = 0; j < i; j++)
            CHECK(results[i].id != results[j].id);
    /* Edits of one callback's object reach no other. */
    if (results[0].out != NULL && reference != NULL) {
        mutate(results[0].out, 100);
        for (i = 1; i < ASYNC_COUNT; i++)
            CHECK(results[i].out != NULL && json_equal(results[i].out, reference));
        for (i = 0; i < BLOCKING_COUNT; i++)
            CHECK(g.calls[i].out != NULL && json_equal(g.calls[i].out, reference));
    }
    for (i = 0; i < ASYNC_COUNT; i++)
        json_decref(results[i].out);
    group_release(&g);
    json_decref(reference);
    membrane_client_free(client);
}

/* Cancelling the async request that leads a shared lookup ends only that
   one: its request runs on for the others (async and blocking), who get
   their answers from it, with no request of their own. */
static void test_cancel_leader_by_id(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    async_result results[3];
    json_t *reference;
    group g;
    double cancel_ms, start_ms;
    int i;

    if (client == NULL)
        return;
    reference = get_ok(client, "notion", 0);
    memset(results, 0, sizeof results);
    async_callbacks = 0;
    CHECK_INT(mock_clear_requests(), 0);
    add_fault("{\"match\":\"notion\",\"delayMs\":%ld,\"times\":0}", scaled(DELAY_MS));

    start_ms = now_ms();
    for (i = 0; i < 3; i++)
        CHECK_INT(membrane_integration_get_async(client, "notion", 0, on_integration, &results[i],
                                                 &results[i].id, NULL),
                  MEMBRANE_OK);
    group_start(&g, 2, client, "notion", 0, 0);
    sleep_ms(scaled(100));
    cancel_ms = now_ms();
    CHECK_INT(membrane_request_cancel(client, results[0].id), MEMBRANE_OK);
    pump(client, 3, scaled(10000), "cancel the leader by id");
    group_join(&g);
    CHECK_INT(mock_clear_faults(), 0);

    CHECK_INT(results[0].called, 1);
    CHECK_INT(results[0].code, MEMBRANE_ECANCELED);
    CHECK(results[0].out == NULL);
    CHECK_MSG(results[0].at_ms - cancel_ms < CANCEL_BOUND_MS * time_scale,
              "the cancelled leader's callback ran %.0f ms after the cancel", results[0].at_ms - cancel_ms);
    for (i = 1; i < 3; i++) {
        CHECK_INT(results[i].called, 1);
        CHECK_MSG(results[i].code == MEMBRANE_OK, "a follower of the cancelled leader got %d (%s)",
                  results[i].code, err_terminated(&results[i].err) ? results[i].err.message : "");
        CHECK(results[i].out != NULL && json_equal(results[i].out, reference));
    }
    check_own_successes(&g, reference, "followers of a cancelled leader");
    /* The cancelled one's request served all the others. */
    CHECK_INT(requests_for("notion"), 1);
    fprintf(stderr, "note: followers of a leader cancelled at %.0f ms had their answers at %.0f ms "
                    "(server delay %ld ms)\n", cancel_ms - start_ms, results[1].at_ms - start_ms, scaled(DELAY_MS));
    for (i = 0; i < 3; i++)
        json_decref(results[i].out);
    group_release(&g);
    json_decref(reference);
    membrane_client_free(client);
}

/* A blocking lookup on its own thread, with the options of the moment it
   starts (a call in flight keeps the options it started with). */
static int start_one(call *c, pthread_t *thread, membrane_client *client, const char *selector)
{
    memset(c, 0, sizeof *c);
    c->client = client;
    c->selector = selector;
    c->out = POISON_JSON;
    err_poison(&c->err);
    return pthread_create(thread, NULL, run_call, c) == 0;
}

/* Each caller keeps its own deadline: a follower with a shorter one times
   out alone; a leader that runs out of time hands over to a follower still
   in time, which sends its own request. */
static void test_own_deadlines(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);
    call leader, follower;
    pthread_t leader_thread, follower_thread;
    int leader_started, follower_started;
    long delay = scaled(600), short_timeout = scaled(200);

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_requests(), 0);
    add_fault("{\"match\":\"jira\",\"delayMs\":%ld,\"times\":0}", delay);

    /* Follower with the shorter deadline. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, scaled(10000)), MEMBRANE_OK);
    leader_started = start_one(&leader, &leader_thread, client, "jira");
    sleep_ms(scaled(50));
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, short_timeout), MEMBRANE_OK);
    follower_started = start_one(&follower, &follower_thread, client, "jira");
    CHECK(leader_started && follower_started);
    if (follower_started)
        pthread_join(follower_thread, NULL);
    if (leader_started)
        pthread_join(leader_thread, NULL);
    CHECK_FAIL(follower.rc, follower.err, MEMBRANE_ETIMEOUT);
    CHECK_MSG(follower.returned_ms - follower.started_ms < (double)short_timeout + CANCEL_BOUND_MS * time_scale,
              "the follower with a %ld ms deadline returned after %.0f ms", short_timeout,
              follower.returned_ms - follower.started_ms);
    CHECK_MSG(leader.rc == MEMBRANE_OK, "the leader got %d (%s) after its follower timed out", leader.rc,
              err_terminated(&leader.err) ? leader.err.message : "");
    CHECK_INT(requests_for("jira"), 1);
    if (leader.rc == MEMBRANE_OK)
        json_decref(leader.out);

    /* Leader with the shorter deadline: the follower goes on by itself. */
    CHECK_INT(mock_clear_requests(), 0);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, short_timeout), MEMBRANE_OK);
    leader_started = start_one(&leader, &leader_thread, client, "jira");
    sleep_ms(scaled(50));
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, scaled(10000)), MEMBRANE_OK);
    follower_started = start_one(&follower, &follower_thread, client, "jira");
    CHECK(leader_started && follower_started);
    if (follower_started)
        pthread_join(follower_thread, NULL);
    if (leader_started)
        pthread_join(leader_thread, NULL);
    CHECK_FAIL(leader.rc, leader.err, MEMBRANE_ETIMEOUT);
    CHECK_MSG(follower.rc == MEMBRANE_OK, "the follower of a leader that timed out got %d (%s)", follower.rc,
              err_terminated(&follower.err) ? follower.err.message : "");
    CHECK_STR(jstr(follower.rc == MEMBRANE_OK ? follower.out : NULL, "key"), "jira");
    CHECK_INT(requests_for("jira"), 2);
    if (follower.rc == MEMBRANE_OK)
        json_decref(follower.out);
    CHECK_INT(mock_clear_faults(), 0);
    membrane_client_free(client);
}

static void test_share_option(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_SHARE_REQUESTS, 2), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_SHARE_REQUESTS, -1), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_SHARE_REQUESTS, 0), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_SHARE_REQUESTS, 1), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(NULL, MEMBRANE_OPT_SHARE_REQUESTS, 1), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_SHARE_REQUESTS, "1"), MEMBRANE_EINVAL);
    membrane_client_free(client);
}

/* ---------------------------------------------------------------------------
 * (b) Cache
 * ------------------------------------------------------------------------- */

/* A client with the cache on (`ttl_ms` already scaled). */
static membrane_client *cached_client(long ttl_ms)
{
    membrane_client *client = new_client(MOCK_TOKEN);

    if (client != NULL)
        CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_TTL_MS, ttl_ms), MEMBRANE_OK);
    return client;
}

static void test_cache_off_by_default(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_requests(), 0);
    get_and_drop(client, HUBSPOT_KEY, 0);
    get_and_drop(client, HUBSPOT_KEY, 0);
    CHECK_INT(requests_for(HUBSPOT_KEY), 2);
    membrane_client_free(client);
}

static void test_cache_hit_copy_expiry(void)
{
    long ttl = scaled(500);
    membrane_client *client = cached_client(ttl);
    json_t *first, *second, *third, *pristine;
    double stored_ms;

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_requests(), 0);
    first = get_ok(client, HUBSPOT_KEY, 0);
    stored_ms = now_ms();
    CHECK_INT(requests_for(HUBSPOT_KEY), 1);
    if (first == NULL) {
        membrane_client_free(client);
        return;
    }
    pristine = json_deep_copy(first);
    /* Edits of the object a miss handed out do not reach the cache. */
    mutate(first, 1);

    second = get_ok(client, HUBSPOT_KEY, 0);
    CHECK_INT(requests_for(HUBSPOT_KEY), 1);
    CHECK(second != NULL && second != first);
    CHECK_MSG(second != NULL && json_equal(second, pristine), "a hit is not the answer as fetched");
    CHECK(second != NULL && second->refcount == 1);
    CHECK(second != NULL && nested(second) != NULL && nested(second) != nested(first));
    /* Nor do edits of a hit reach the next hit. */
    if (second != NULL)
        mutate(second, 2);
    third = get_ok(client, HUBSPOT_KEY, 0);
    CHECK_INT(requests_for(HUBSPOT_KEY), 1);
    CHECK(third != NULL && third != second && third != first);
    CHECK(third != NULL && json_equal(third, pristine));
    CHECK_MSG(now_ms() - stored_ms < (double)ttl, "the hits took longer than the TTL (%ld ms); "
              "the counts above mean nothing", ttl);
    json_decref(first);
    json_decref(second);
    json_decref(third);

    /* After the TTL: fetched again, then kept again. */
    sleep_ms(ttl + scaled(100));
    get_and_drop(client, HUBSPOT_KEY, 0);
    CHECK_INT(requests_for(HUBSPOT_KEY), 2);
    third = get_ok(client, HUBSPOT_KEY, 0);
    CHECK_INT(requests_for(HUBSPOT_KEY), 2);
    CHECK(third != NULL && json_equal(third, pristine));
    json_decref(third);

    /* Other selectors are their own entries. */
    get_and_drop(client, "salesforce", 0);
    CHECK_INT(requests_for("salesforce"), 1);

    /* TTL 0 empties the cache: on again, still a miss. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_TTL_MS, 0), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_TTL_MS, scaled(60000)), MEMBRANE_OK);
    get_and_drop(client, HUBSPOT_KEY, 0);
    CHECK_INT(requests_for(HUBSPOT_KEY), 3);
    json_decref(pristine);
    membrane_client_free(client);
}

#define A HUBSPOT_KEY
#define B "salesforce"
#define C "zendesk"

static void test_cache_lru(void)
{
    membrane_client *client = cached_client(60000);

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_MAX_ENTRIES, 2), MEMBRANE_OK);

    /* A, B, C: A (the oldest) is gone. */
    CHECK_INT(mock_clear_requests(), 0);
    get_and_drop(client, A, 0);
    get_and_drop(client, B, 0);
    get_and_drop(client, C, 0);
    get_and_drop(client, A, 0);
    CHECK_INT(requests_for(A), 2);
    /* C stayed (A's return evicted B, then the least recently used). */
    get_and_drop(client, C, 0);
    CHECK_INT(requests_for(C), 1);
    CHECK_INT(requests_for(B), 1);

    /* A, B, A again (a hit makes A the most recent), C: B is gone, not A. */
    CHECK_INT(membrane_client_invalidate(client, NULL), MEMBRANE_OK);
    CHECK_INT(mock_clear_requests(), 0);
    get_and_drop(client, A, 0);
    get_and_drop(client, B, 0);
    get_and_drop(client, A, 0);
    CHECK_INT(requests_for(A), 1);
    get_and_drop(client, C, 0);
    get_and_drop(client, A, 0);
    CHECK_MSG(requests_for(A) == 1, "LRU: A was touched before C came, yet was evicted (%d requests)",
              requests_for(A));
    get_and_drop(client, B, 0);
    CHECK_MSG(requests_for(B) == 2, "LRU: B, the least recently used, was kept (%d requests)",
              requests_for(B));

    /* Lowering the maximum evicts the oldest at once. */
    CHECK_INT(membrane_client_invalidate(client, NULL), MEMBRANE_OK);
    CHECK_INT(mock_clear_requests(), 0);
    get_and_drop(client, A, 0);
    get_and_drop(client, B, 0);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_MAX_ENTRIES, 1), MEMBRANE_OK);
    get_and_drop(client, B, 0);
    CHECK_INT(requests_for(B), 1);
    get_and_drop(client, A, 0);
    CHECK_INT(requests_for(A), 2);
    membrane_client_free(client);
}

static void test_cache_invalidate(void)
{
    membrane_client *client = cached_client(60000);
    char long_selector[1026];

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_requests(), 0);
    get_and_drop(client, A, 0);
    get_and_drop(client, B, 0);
    get_and_drop(client, A, 0);
    get_and_drop(client, B, 0);
    CHECK_INT(requests_for(A), 1);
    CHECK_INT(requests_for(B), 1);

    /* One selector. */
    CHECK_INT(membrane_client_invalidate(client, A), MEMBRANE_OK);
    get_and_drop(client, A, 0);
    get_and_drop(client, B, 0);
    CHECK_INT(requests_for(A), 2);
    CHECK_INT(requests_for(B), 1);

    /* Everything. */
    CHECK_INT(membrane_client_invalidate(client, NULL), MEMBRANE_OK);
    get_and_drop(client, A, 0);
    get_and_drop(client, B, 0);
    CHECK_INT(requests_for(A), 3);
    CHECK_INT(requests_for(B), 2);

    /* Not cached, or never seen: fine, and nothing else goes. */
    CHECK_INT(membrane_client_invalidate(client, "sharing-never-looked-up"), MEMBRANE_OK);
    CHECK_INT(membrane_client_invalidate(client, C), MEMBRANE_OK);
    get_and_drop(client, A, 0);
    CHECK_INT(requests_for(A), 3);

    /* Bad arguments. */
    CHECK_INT(membrane_client_invalidate(NULL, A), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_invalidate(NULL, NULL), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_invalidate(client, "bad-\xff\xfe-utf8"), MEMBRANE_EINVAL);
    memset(long_selector, 'x', sizeof long_selector - 1);
    long_selector[sizeof long_selector - 1] = '\0'; /* 1025 bytes */
    CHECK_INT(membrane_client_invalidate(client, long_selector), MEMBRANE_EINVAL);
    /* ...and they dropped nothing. */
    get_and_drop(client, A, 0);
    CHECK_INT(requests_for(A), 3);
    membrane_client_free(client);
}

static void test_cache_secrets(void)
{
    membrane_client *client = cached_client(60000);
    json_t *out;

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_requests(), 0);
    /* With secrets: never kept. */
    get_and_drop(client, A, MEMBRANE_INCLUDE_SECRETS);
    get_and_drop(client, A, MEMBRANE_INCLUDE_SECRETS);
    CHECK_INT(requests_with_secrets(A, 1), 2);
    /* ...nor served to a lookup without them. */
    out = get_ok(client, A, 0);
    CHECK_INT(requests_with_secrets(A, 0), 1);
    CHECK_STR(client_secret(out), MASK);
    json_decref(out);
    /* That one is kept... */
    get_and_drop(client, A, 0);
    CHECK_INT(requests_with_secrets(A, 0), 1);
    /* ...and never served to a lookup with secrets. */
    out = get_ok(client, A, MEMBRANE_INCLUDE_SECRETS);
    CHECK_INT(requests_with_secrets(A, 1), 3);
    CHECK_MSG(client_secret(out) != NULL && strcmp(client_secret(out), MASK) != 0,
              "a lookup with secrets got the masked answer");
    json_decref(out);
    CHECK_INT(requests_for(A), 4);
    membrane_client_free(client);
}

static void test_cache_errors(void)
{
    membrane_client *client = cached_client(60000);
    int i;

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_MAX_RETRIES, 0), MEMBRANE_OK);
    CHECK_INT(mock_clear_requests(), 0);
    for (i = 0; i < 2; i++) {
        json_t *out = POISON_JSON;
        membrane_error err;
        int rc = membrane_integration_get(client, "sharing-no-such", 0, &out, &err);
        CHECK_FAIL(rc, err, MEMBRANE_ENOTFOUND);
        CHECK_INT(err.http_status, 404);
        CHECK(out == NULL);
    }
    CHECK_INT(requests_for("sharing-no-such"), 2);

    /* A 503 is not kept; the success after it is. */
    add_fault("{\"match\":\"pipedrive\",\"status\":503,\"times\":1}");
    {
        json_t *out = POISON_JSON;
        membrane_error err;
        int rc = membrane_integration_get(client, "pipedrive", 0, &out, &err);
        CHECK_FAIL(rc, err, MEMBRANE_ESERVER);
        CHECK(out == NULL);
    }
    get_and_drop(client, "pipedrive", 0);
    get_and_drop(client, "pipedrive", 0);
    CHECK_INT(requests_for("pipedrive"), 2);
    CHECK_INT(mock_clear_faults(), 0);
    membrane_client_free(client);
}

typedef struct {
    membrane_client *client;
    const char *selector;
    int rc;
} background_lookup;

static void *run_background(void *arg)
{
    background_lookup *b = arg;
    json_t *out = NULL;

    b->rc = membrane_integration_get(b->client, b->selector, 0, &out, NULL);
    json_decref(out);
    return NULL;
}

/* Waits until the server has received a request for `selector` (it then
   holds it for the fault's delay). */
static void wait_for_request(const char *selector)
{
    double end = now_ms() + (double)scaled(3000);

    while (requests_for(selector) < 1 && now_ms() < end)
        sleep_ms(5);
    CHECK_MSG(requests_for(selector) == 1, "the request for %s never reached the server", selector);
}

static void test_cache_token_change(void)
{
    membrane_client *client = cached_client(60000);
    membrane_error err;
    background_lookup b;
    pthread_t thread;

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_requests(), 0);
    get_and_drop(client, A, 0);
    get_and_drop(client, A, 0);
    CHECK_INT(requests_for(A), 1);
    CHECK_INT(membrane_client_set_token(client, MOCK_TOKEN, &err), MEMBRANE_OK);
    get_and_drop(client, A, 0);
    CHECK_INT(requests_for(A), 2);
    get_and_drop(client, A, 0);
    CHECK_INT(requests_for(A), 2);

    /* A lookup in flight when the token changes: its answer (fetched with
       the old token) must not fill the emptied cache. */
    add_fault("{\"match\":\"slack\",\"delayMs\":%ld,\"times\":1}", scaled(DELAY_MS));
    b.client = client;
    b.selector = "slack";
    b.rc = 12345;
    if (pthread_create(&thread, NULL, run_background, &b) == 0) {
        wait_for_request("slack");
        CHECK_INT(membrane_client_set_token(client, MOCK_TOKEN, &err), MEMBRANE_OK);
        pthread_join(thread, NULL);
        CHECK_INT(b.rc, MEMBRANE_OK);
        CHECK_INT(requests_for("slack"), 1);
        get_and_drop(client, "slack", 0);
        CHECK_MSG(requests_for("slack") == 2,
                  "an answer fetched with the old token, landing after set_token, was served from the "
                  "cache (%d requests)", requests_for("slack"));
    } else {
        CHECK_MSG(0, "pthread_create");
    }

    /* The same with membrane_client_invalidate(client, selector) instead of
       a new token: the answer in flight is not kept, and a lookup started
       after the invalidation does not follow the request sent before it. */
    CHECK_INT(mock_clear_requests(), 0);
    add_fault("{\"match\":\"twilio\",\"delayMs\":%ld,\"times\":2}", scaled(DELAY_MS));
    b.selector = "twilio";
    b.rc = 12345;
    if (pthread_create(&thread, NULL, run_background, &b) == 0) {
        wait_for_request("twilio");
        CHECK_INT(membrane_client_invalidate(client, "twilio"), MEMBRANE_OK);
        get_and_drop(client, "twilio", 0); /* while the first is still held */
        CHECK_MSG(requests_for("twilio") == 2, "a lookup after invalidate(\"twilio\") followed the request "
                                               "sent before it (%d requests)", requests_for("twilio"));
        pthread_join(thread, NULL);
        CHECK_INT(b.rc, MEMBRANE_OK);
        /* The second lookup's answer is kept; the first's, landing after it,
           must not replace it, nor be served. Either way: a hit now. */
        get_and_drop(client, "twilio", 0);
        CHECK_INT(requests_for("twilio"), 2);
    } else {
        CHECK_MSG(0, "pthread_create");
    }

    /* Only that selector: a lookup of another in flight during
       invalidate("twilio") is kept. */
    CHECK_INT(mock_clear_requests(), 0);
    CHECK_INT(membrane_client_invalidate(client, "notion"), MEMBRANE_OK);
    add_fault("{\"match\":\"notion\",\"delayMs\":%ld,\"times\":1}", scaled(DELAY_MS));
    b.selector = "notion";
    b.rc = 12345;
    if (pthread_create(&thread, NULL, run_background, &b) == 0) {
        wait_for_request("notion");
        CHECK_INT(membrane_client_invalidate(client, "twilio"), MEMBRANE_OK);
        pthread_join(thread, NULL);
        CHECK_INT(b.rc, MEMBRANE_OK);
        get_and_drop(client, "notion", 0);
        CHECK_MSG(requests_for("notion") == 1, "an answer in flight during invalidate(\"twilio\") was not kept "
                                               "for \"notion\" (%d requests)", requests_for("notion"));
    } else {
        CHECK_MSG(0, "pthread_create");
    }
    CHECK_INT(mock_clear_faults(), 0);
    membrane_client_free(client);
}

static void test_cache_text_and_async(void)
{
    membrane_client *client = cached_client(60000);
    char *text1 = NULL, *text2 = NULL;
    size_t length1 = 0, length2 = 0;
    membrane_error err;
    json_t *parsed = NULL, *out;
    async_result result;
    text_result text_async;
    int rc;

    if (client == NULL)
        return;
    CHECK_INT(mock_clear_requests(), 0);
    /* The text call fills the cache and is served from it. */
    rc = membrane_integration_get_text(client, A, 0, &text1, &length1, &err);
    CHECK_SUCCESS(rc, err);
    CHECK_INT(requests_for(A), 1);
    rc = membrane_integration_get_text(client, A, 0, &text2, &length2, &err);
    CHECK_SUCCESS(rc, err);
    CHECK_INT(requests_for(A), 1);
    CHECK(text1 != NULL && text2 != NULL && text1 != text2);
    CHECK_INT(length2, length1);
    CHECK_MSG(text1 != NULL && text2 != NULL && length1 == length2 && memcmp(text1, text2, length1) == 0 &&
                  text2[length2] == '\0',
              "the text of a hit differs from the text fetched");
    if (text1 != NULL)
        parsed = json_loadb(text1, length1, 0, NULL);
    CHECK(parsed != NULL);

    /* The json call is served from what the text call fetched. */
    out = get_ok(client, A, 0);
    CHECK_INT(requests_for(A), 1);
    CHECK(out != NULL && parsed != NULL && json_equal(out, parsed));
    json_decref(out);

    /* So are the async calls. */
    memset(&result, 0, sizeof result);
    async_callbacks = 0;
    CHECK_INT(membrane_integration_get_async(client, A, 0, on_integration, &result, &result.id, &err),
              MEMBRANE_OK);
    CHECK(result.id > 0);
    /* A hit has finished already: nothing to cancel; its callback runs once,
       with its result. */
    CHECK_INT(membrane_request_cancel(client, result.id), MEMBRANE_ENOTFOUND);
    pump(client, 1, scaled(5000), "async hit");
    CHECK_INT(result.called, 1);
    CHECK_INT(result.code, MEMBRANE_OK);
    CHECK_SUCCESS(result.code, result.err);
    CHECK(result.out != NULL && parsed != NULL && json_equal(result.out, parsed));
    CHECK(result.out != NULL && result.out->refcount == 1);
    json_decref(result.out);

    memset(&text_async, 0, sizeof text_async);
    async_callbacks = 0;
    CHECK_INT(membrane_integration_get_text_async(client, A, 0, on_text, &text_async, NULL, &err), MEMBRANE_OK);
    pump(client, 1, scaled(5000), "async text hit");
    CHECK_INT(text_async.called, 1);
    CHECK_INT(text_async.code, MEMBRANE_OK);
    CHECK_INT(text_async.length, length1);
    CHECK_MSG(text_async.text != NULL && text1 != NULL && text_async.length == length1 &&
                  memcmp(text_async.text, text1, length1) == 0,
              "the async text of a hit differs from the text fetched");
    CHECK_INT(requests_for(A), 1);
    free(text_async.text);

    /* And the other way round: what the json call fetched serves the text
       call and the async calls. */
    CHECK_INT(membrane_client_invalidate(client, NULL), MEMBRANE_OK);
    memset(&result, 0, sizeof result);
    async_callbacks = 0;
    CHECK_INT(membrane_integration_get_async(client, B, 0, on_integration, &result, NULL, &err), MEMBRANE_OK);
    pump(client, 1, scaled(5000), "async miss");
    CHECK_INT(result.code, MEMBRANE_OK);
    CHECK_INT(requests_for(B), 1);
    {
        char *text3 = NULL;
        size_t length3 = 0;
        json_t *reparsed = NULL;
        rc = membrane_integration_get_text(client, B, 0, &text3, &length3, &err);
        CHECK_SUCCESS(rc, err);
        CHECK_INT(requests_for(B), 1);
        if (text3 != NULL)
            reparsed = json_loadb(text3, length3, 0, NULL);
        CHECK(reparsed != NULL && result.out != NULL && json_equal(reparsed, result.out));
        json_decref(reparsed);
        membrane_free(text3);
    }
    json_decref(result.out);
    /* An async lookup with secrets is not served from the cache. */
    memset(&result, 0, sizeof result);
    async_callbacks = 0;
    CHECK_INT(membrane_integration_get_async(client, B, MEMBRANE_INCLUDE_SECRETS, on_integration, &result, NULL,
                                             &err),
              MEMBRANE_OK);
    pump(client, 1, scaled(5000), "async with secrets");
    CHECK_INT(result.code, MEMBRANE_OK);
    CHECK_INT(requests_for(B), 2);
    json_decref(result.out);

    json_decref(parsed);
    membrane_free(text1);
    membrane_free(text2);
    membrane_client_free(client);
}

static void test_cache_options(void)
{
    membrane_client *client = new_client(MOCK_TOKEN);

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_TTL_MS, -1), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_TTL_MS, 86400001L), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_TTL_MS, 86400000L), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_TTL_MS, 0), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_MAX_ENTRIES, 0), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_MAX_ENTRIES, -5), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_MAX_ENTRIES, 1000001L), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_MAX_ENTRIES, 1000000L), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_CACHE_MAX_ENTRIES, 1), MEMBRANE_OK);
    CHECK_INT(membrane_client_set_long(NULL, MEMBRANE_OPT_CACHE_TTL_MS, 1000), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_string(client, MEMBRANE_OPT_CACHE_TTL_MS, "1000"), MEMBRANE_EINVAL);

    /* A refused value changes nothing: the cache stays off. */
    CHECK_INT(mock_clear_requests(), 0);
    get_and_drop(client, A, 0);
    get_and_drop(client, A, 0);
    CHECK_INT(requests_for(A), 2);
    membrane_client_free(client);
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
    mock_clear_faults();

    test_coalesce();
    test_share_off();
    test_flags_do_not_share();
    test_shared_error();
    test_cancel_all_waiting();
    test_async_and_blocking(1);
    test_async_and_blocking(0);
    test_cancel_leader_by_id();
    test_own_deadlines();
    test_share_option();

    test_cache_off_by_default();
    test_cache_hit_copy_expiry();
    test_cache_lru();
    test_cache_invalidate();
    test_cache_secrets();
    test_cache_errors();
    test_cache_token_change();
    test_cache_text_and_async();
    test_cache_options();

    mock_clear_faults();
    mock_clear_requests();
    mock_admin_cleanup();
    return check_report();
}
