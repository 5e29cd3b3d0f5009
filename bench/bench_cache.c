/*
 * Cache hits: the cost of a lookup answered from the client's cache
 * (MEMBRANE_OPT_CACHE_TTL_MS), next to the same loop with the cache off
 * (every lookup over the loopback). One client; each operation is
 *
 *   get:  membrane_integration_get(client, selector, 0, &out, &err) + json_decref(out)
 *   text: membrane_integration_get_text(client, selector, 0, &text, &length, &err) + membrane_free(text)
 *
 * With TTL_MS > 0 the cache is on: one lookup before the row starts puts the
 * answer in it, and every operation after that must be a hit. A log
 * callback (membrane_client_set_log: one line per request attempt) counts
 * the requests the client sends, and an operation that sent one fails the
 * row, so the numbers are hits only. With TTL_MS 0 the cache is off (the
 * default) and no log callback is set: "get" is then row (a) of
 * bench_membrane.c, "text" its membrane_integration_get_text twin.
 *
 *   bench_cache URL TOKEN get|text TTL_MS [SELECTOR]   one row as JSON (see bench_common.h)
 *
 * BENCH_SERVE=1 and BENCH_COUNT=N work as for every row (bench_common.h);
 * under callgrind, only the function `lookup` is counted, not the lookup
 * that fills the cache.
 */
#define _POSIX_C_SOURCE 200809L

#include <membrane.h>

#include "bench_common.h"

struct context {
    membrane_client *client;
    const char *selector;
    int text;          /* membrane_integration_get_text instead of membrane_integration_get */
    int cached;        /* the cache is on: every operation must be a hit */
    long requests;     /* request attempts the client logged */
};

static void count_request(int level, const char *message, void *payload)
{
    (void)level;
    (void)message;
    ((struct context *)payload)->requests++;
}

static int fetch(struct context *ctx)
{
    membrane_error err;
    int rc;
    if (ctx->text) {
        char *text = NULL;
        size_t length = 0;
        rc = membrane_integration_get_text(ctx->client, ctx->selector, 0, &text, &length, &err);
        if (rc == MEMBRANE_OK && (text == NULL || length == 0)) {
            fprintf(stderr, "bench_cache: %s: empty text\n", ctx->selector);
            rc = MEMBRANE_EINTERNAL;
        }
        membrane_free(text);
    } else {
        json_t *integration = NULL;
        rc = membrane_integration_get(ctx->client, ctx->selector, 0, &integration, &err);
        json_decref(integration);
    }
    if (rc != MEMBRANE_OK) {
        fprintf(stderr, "bench_cache: %s: %s (%s)\n", ctx->selector, membrane_strerror(rc), err.message);
        return 1;
    }
    return 0;
}

/* The operation measured (and, under callgrind, counted: kept out of line,
   so that callgrind's --toggle-collect=lookup finds it). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int lookup(void *opaque)
{
    struct context *ctx = opaque;
    if (fetch(ctx) != 0)
        return 1;
    if (ctx->cached && ctx->requests != 1) {
        fprintf(stderr, "bench_cache: a lookup went to the server (%ld requests in all): not a cache hit\n",
                ctx->requests);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6 || (strcmp(argv[3], "get") != 0 && strcmp(argv[3], "text") != 0)) {
        fprintf(stderr, "usage: %s URL TOKEN get|text TTL_MS [SELECTOR]\n", argv[0]);
        return 2;
    }
    long ttl = atol(argv[4]);
    struct context ctx = { NULL, argc == 6 ? argv[5] : "hubspot", strcmp(argv[3], "text") == 0, ttl > 0, 0 };
    membrane_error err;
    if (membrane_client_new(&ctx.client, argv[1], argv[2], &err) != MEMBRANE_OK) {
        fprintf(stderr, "bench_cache: membrane_client_new: %s\n", err.message);
        return 1;
    }
    if (ttl > 0) {
        if (membrane_client_set_long(ctx.client, MEMBRANE_OPT_CACHE_TTL_MS, ttl) != MEMBRANE_OK) {
            fprintf(stderr, "bench_cache: MEMBRANE_OPT_CACHE_TTL_MS %ld refused\n", ttl);
            return 1;
        }
        membrane_client_set_log(ctx.client, count_request, &ctx);
        /* The one lookup that fills the cache (outside `lookup`). */
        if (fetch(&ctx) != 0)
            return 1;
        if (ctx.requests != 1) {
            fprintf(stderr, "bench_cache: the first lookup made %ld requests, not 1\n", ctx.requests);
            return 1;
        }
    }
    bench_run_row(lookup, &ctx);
    membrane_client_free(ctx.client);
    return 0;
}
