/*
 * Row (a): libmembrane from C. One client; each operation is
 * membrane_integration_get(client, selector, 0, &out, &err) + json_decref(out).
 *
 *   bench_membrane URL TOKEN [SELECTOR]   one row as JSON (see bench_common.h)
 *   bench_membrane --version              prints membrane_version()
 */
#include <membrane.h>

#include "bench_common.h"

struct context {
    membrane_client *client;
    const char *selector;
};

static int lookup(void *opaque)
{
    struct context *ctx = opaque;
    membrane_error err;
    json_t *integration = NULL;
    int rc = membrane_integration_get(ctx->client, ctx->selector, 0, &integration, &err);
    if (rc != MEMBRANE_OK) {
        fprintf(stderr, "bench_membrane: %s: %s (%s)\n", ctx->selector, membrane_strerror(rc), err.message);
        return 1;
    }
    json_decref(integration);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("%s\n", membrane_version());
        return 0;
    }
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s URL TOKEN [SELECTOR] | --version\n", argv[0]);
        return 2;
    }
    struct context ctx = { NULL, argc == 4 ? argv[3] : "hubspot" };
    membrane_error err;
    if (membrane_client_new(&ctx.client, argv[1], argv[2], &err) != MEMBRANE_OK) {
        fprintf(stderr, "bench_membrane: membrane_client_new: %s\n", err.message);
        return 1;
    }
    bench_run_row(lookup, &ctx);
    membrane_client_free(ctx.client);
    return 0;
}
