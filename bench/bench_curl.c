/*
 * Row (b): the floor for this stack. A hand-written loop over libcurl and
 * jansson with no library in between: one easy handle reused for every
 * request (so one kept-alive connection), the same URL and headers the
 * library sends (Authorization, Accept, User-Agent, Accept-Encoding), the
 * body gathered in a reused buffer, json_loadb, a check that the answer is
 * a 200 and an object with a string "name", json_decref.
 *
 *   bench_curl URL TOKEN USER_AGENT [SELECTOR]   one row as JSON (see bench_common.h)
 */
#include <curl/curl.h>
#include <jansson.h>

#include "bench_common.h"

struct buffer {
    char *data;
    size_t length, capacity;
};

struct context {
    CURL *easy;
    struct buffer body;
};

static size_t write_body(char *data, size_t size, size_t count, void *opaque)
{
    struct buffer *body = opaque;
    size_t length = size * count;
    if (body->length + length > body->capacity) {
        size_t capacity = body->capacity ? body->capacity : 16384;
        while (capacity < body->length + length)
            capacity *= 2;
        char *grown = realloc(body->data, capacity);
        if (grown == NULL)
            return 0;
        body->data = grown;
        body->capacity = capacity;
    }
    memcpy(body->data + body->length, data, length);
    body->length += length;
    return length;
}

static int lookup(void *opaque)
{
    struct context *ctx = opaque;
    ctx->body.length = 0;
    CURLcode code = curl_easy_perform(ctx->easy);
    if (code != CURLE_OK) {
        fprintf(stderr, "bench_curl: %s\n", curl_easy_strerror(code));
        return 1;
    }
    long status = 0;
    curl_easy_getinfo(ctx->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "bench_curl: HTTP %ld\n", status);
        return 1;
    }
    json_error_t error;
    json_t *integration = json_loadb(ctx->body.data, ctx->body.length, 0, &error);
    if (!json_is_object(integration) || !json_is_string(json_object_get(integration, "name"))) {
        fprintf(stderr, "bench_curl: not an integration: %s\n", integration ? "wrong shape" : error.text);
        json_decref(integration);
        return 1;
    }
    json_decref(integration);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s URL TOKEN USER_AGENT [SELECTOR]\n", argv[0]);
        return 2;
    }
    const char *selector = argc == 5 ? argv[4] : "hubspot";
    char url[2048], authorization[1024];
    snprintf(url, sizeof url, "%s/integrations/%s?includeSecrets=false", argv[1], selector);
    snprintf(authorization, sizeof authorization, "Authorization: Bearer %s", argv[2]);

    curl_global_init(CURL_GLOBAL_ALL);
    struct context ctx = { curl_easy_init(), { NULL, 0, 0 } };
    struct curl_slist *headers = curl_slist_append(NULL, authorization);
    headers = curl_slist_append(headers, "Accept: application/json");
    curl_easy_setopt(ctx.easy, CURLOPT_URL, url);
    curl_easy_setopt(ctx.easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(ctx.easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(ctx.easy, CURLOPT_USERAGENT, argv[3]);
    curl_easy_setopt(ctx.easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(ctx.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ctx.easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(ctx.easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(ctx.easy, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(ctx.easy, CURLOPT_WRITEDATA, &ctx.body);

    bench_run_row(lookup, &ctx);

    curl_slist_free_all(headers);
    curl_easy_cleanup(ctx.easy);
    free(ctx.body.data);
    curl_global_cleanup();
    return 0;
}
