/* mock_admin.c: see mock_admin.h. */
#define _POSIX_C_SOURCE 200809L

#include "mock_admin.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char base_url[512];

typedef struct {
    char  *data;
    size_t len;
} buffer;

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    buffer *buf = userdata;
    size_t n = size * nmemb;
    char *grown = realloc(buf->data, buf->len + n + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + buf->len, ptr, n);
    buf->len += n;
    grown[buf->len] = '\0';
    buf->data = grown;
    return n;
}

/* One admin request. Returns the HTTP status (0 when none came back); the
   body, when `body_out` is not NULL, is handed over NUL-terminated. */
static long admin_request_ex(const char *method, const char *path, const char *body,
                             char **body_out, int quiet)
{
    char url[1024];
    buffer buf = { NULL, 0 };
    struct curl_slist *headers = NULL;
    long status = 0;
    CURLcode rc;
    CURL *curl = curl_easy_init();

    if (body_out != NULL)
        *body_out = NULL;
    if (curl == NULL) {
        fprintf(stderr, "mock_admin: curl_easy_init failed\n");
        return 0;
    }
    snprintf(url, sizeof url, "%s%s", base_url, path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "mock_admin: %s %s: %s\n", method, url, curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (!quiet && (status < 200 || status > 299))
            fprintf(stderr, "mock_admin: %s %s: HTTP %ld: %s\n", method, url, status,
                    buf.data ? buf.data : "");
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (body_out != NULL)
        *body_out = buf.data;
    else
        free(buf.data);
    return status;
}

static long admin_request(const char *method, const char *path, const char *body,
                          char **body_out)
{
    return admin_request_ex(method, path, body, body_out, 0);
}

int mock_admin_init(void)
{
    const char *url = getenv("MEMBRANE_TEST_URL");
    size_t len;

    if (url == NULL || url[0] == '\0') {
        fprintf(stderr, "mock_admin: MEMBRANE_TEST_URL is not set (run Tests/c/run.sh)\n");
        return -1;
    }
    len = strlen(url);
    if (len >= sizeof base_url) {
        fprintf(stderr, "mock_admin: MEMBRANE_TEST_URL is too long\n");
        return -1;
    }
    memcpy(base_url, url, len + 1);
    while (len > 0 && base_url[len - 1] == '/')
        base_url[--len] = '\0';
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "mock_admin: curl_global_init failed\n");
        return -1;
    }
    return 0;
}

void mock_admin_cleanup(void)
{
    curl_global_cleanup();
}

const char *mock_url(void)
{
    return base_url;
}

static int ok_status(long status)
{
    return status >= 200 && status <= 299 ? 0 : -1;
}

int mock_fault(const char *fault_json)
{
    return ok_status(admin_request("POST", "/_mock/faults", fault_json, NULL));
}

long mock_fault_status(const char *fault_json, char **body_out)
{
    return admin_request_ex("POST", "/_mock/faults", fault_json, body_out, 1);
}

int mock_clear_faults(void)
{
    return ok_status(admin_request("DELETE", "/_mock/faults", NULL, NULL));
}

int mock_clear_requests(void)
{
    return ok_status(admin_request("DELETE", "/_mock/requests", NULL, NULL));
}

json_t *mock_requests(void)
{
    char *body = NULL;
    long status = admin_request("GET", "/_mock/requests", NULL, &body);
    json_t *root, *requests;
    json_error_t jerr;

    if (ok_status(status) != 0 || body == NULL) {
        free(body);
        return NULL;
    }
    root = json_loads(body, 0, &jerr);
    if (root == NULL) {
        fprintf(stderr, "mock_admin: /_mock/requests is not JSON: %s\n", jerr.text);
        free(body);
        return NULL;
    }
    free(body);
    requests = json_object_get(root, "requests");
    if (!json_is_array(requests)) {
        fprintf(stderr, "mock_admin: /_mock/requests has no \"requests\" array\n");
        json_decref(root);
        return NULL;
    }
    json_incref(requests);
    json_decref(root);
    return requests;
}

const char *mock_request_header(json_t *request, const char *name)
{
    json_t *headers = json_object_get(request, "headers");
    const char *key;
    json_t *value;

    if (!json_is_object(headers))
        return NULL;
    json_object_foreach(headers, key, value) {
        if (strcasecmp(key, name) != 0)
            continue;
        if (json_is_string(value))
            return json_string_value(value);
        if (json_is_array(value) && json_is_string(json_array_get(value, 0)))
            return json_string_value(json_array_get(value, 0));
        return NULL;
    }
    return NULL;
}

const char *mock_request_string(json_t *request, const char *field)
{
    return json_string_value(json_object_get(request, field));
}

int mock_request_count(const char *path)
{
    json_t *requests = mock_requests();
    json_t *request;
    size_t i;
    int count = 0;

    if (requests == NULL)
        return -1;
    json_array_foreach(requests, i, request) {
        const char *p = mock_request_string(request, "path");
        if (p != NULL && strcmp(p, path) == 0)
            count++;
    }
    json_decref(requests);
    return count;
}

long mock_admin_json(const char *method, const char *path, const char *body, json_t **json_out)
{
    char *text = NULL;
    long status = admin_request_ex(method, path, body, &text, 1);

    if (json_out != NULL) {
        *json_out = text != NULL ? json_loads(text, 0, NULL) : NULL;
    }
    free(text);
    return status;
}

json_t *mock_stats(long *status_out)
{
    json_t *stats = NULL;
    long status = mock_admin_json("GET", "/_mock/stats", NULL, &stats);

    if (status_out != NULL)
        *status_out = status;
    if (status < 200 || status > 299 || !json_is_object(stats)) {
        json_decref(stats);
        return NULL;
    }
    return stats;
}

long mock_clear_stats(void)
{
    return mock_admin_json("DELETE", "/_mock/stats", NULL, NULL);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int mock_percent_decode(const char *in, char *out, size_t size)
{
    size_t n = 0;

    if (size == 0)
        return -1;
    while (*in != '\0') {
        char c = *in;
        if (c == '%') {
            int hi = hex_value(in[1]);
            int lo = hi < 0 ? -1 : hex_value(in[2]);
            if (hi < 0 || lo < 0) {
                out[n] = '\0';
                return -1;
            }
            c = (char)(hi * 16 + lo);
            in += 3;
        } else {
            in++;
        }
        if (n + 1 >= size) {
            out[n] = '\0';
            return -1;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

int mock_selector_count(const char *selector)
{
    json_t *requests = mock_requests();
    json_t *request;
    size_t i;
    int count = 0;

    if (requests == NULL)
        return -1;
    /* The server records each lookup's selector, decoded once. */
    json_array_foreach(requests, i, request) {
        const char *recorded = mock_request_string(request, "selector");
        if (recorded != NULL && strcmp(recorded, selector) == 0)
            count++;
    }
    json_decref(requests);
    return count;
}

int mock_list_count(void)
{
    return mock_request_count("/integrations");
}

json_t *mock_list_queries(void)
{
    json_t *requests = mock_requests();
    json_t *request, *queries;
    size_t i;

    if (requests == NULL)
        return NULL;
    queries = json_array();
    json_array_foreach(requests, i, request) {
        const char *p = mock_request_string(request, "path");
        const char *q = mock_request_string(request, "query");
        if (p != NULL && strcmp(p, "/integrations") == 0)
            json_array_append_new(queries, json_string(q != NULL ? q : ""));
    }
    json_decref(requests);
    return queries;
}

/* A TCP port on 127.0.0.1 that was bound and closed again: nothing listens. */
int closed_port(void)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int port = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    close(fd);
    return port;
}
