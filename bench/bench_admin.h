/*
 * bench_admin.h: the stand-in server's admin requests (faults, request log,
 * counters) for the rows that run against it. Include after bench_common.h
 * and <curl/curl.h>; set bench_mock_url (and bench_program, for messages)
 * before the first call.
 */
#ifndef BENCH_ADMIN_H
#define BENCH_ADMIN_H

static const char *bench_mock_url;
static const char *bench_program = "bench";

struct bench_buffer {
    char *data;
    size_t length;
};

static size_t bench_collect(char *data, size_t size, size_t count, void *opaque)
{
    struct bench_buffer *b = opaque;
    size_t length = size * count;
    char *grown = realloc(b->data, b->length + length + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + b->length, data, length);
    b->data = grown;
    b->length += length;
    b->data[b->length] = '\0';
    return length;
}

/* An admin request to the stand-in server, on a connection of its own
   (closed afterwards, so the server's connection counters see only the
   client's); returns its JSON answer (new reference). Exits on failure:
   a row cannot go on without it. */
static json_t *admin(const char *method, const char *path, const char *body)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", bench_mock_url, path);
    CURL *easy = curl_easy_init();
    struct bench_buffer answer = { NULL, 0 };
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    }
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, bench_collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    CURLcode code = curl_easy_perform(easy);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
    json_t *json = code == CURLE_OK && answer.data ? json_loads(answer.data, 0, NULL) : NULL;
    if (code != CURLE_OK || status != 200 || json == NULL) {
        fprintf(stderr, "%s: %s %s failed: %s HTTP %ld %s\n", bench_program, method, path,
                curl_easy_strerror(code), status, answer.data ? answer.data : "");
        exit(1);
    }
    free(answer.data);
    return json;
}

#endif
