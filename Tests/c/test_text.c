/*
 * test_text.c: membrane_integration_get_text. The text is the body exactly
 * as the server sent it (compared byte for byte with a plain libcurl fetch of
 * the same URL), gzip undone, NUL-terminated with the right length; it
 * parses to the same object membrane_integration_get returns; failures give
 * the same codes, NULL and length 0; bad arguments never make a request.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>

#include <curl/curl.h>

#include "support.h"

#define POISON_TEXT ((char *)support_poison())

struct buffer {
    char *data;
    size_t size;
};

static size_t collect(char *data, size_t size, size_t count, void *userdata)
{
    struct buffer *buffer = userdata;
    size_t n = size * count;
    char *grown = realloc(buffer->data, buffer->size + n + 1);

    if (grown == NULL)
        return 0;
    memcpy(grown + buffer->size, data, n);
    buffer->data = grown;
    buffer->size += n;
    buffer->data[buffer->size] = '\0';
    return n;
}

/* The body the server sends for GET /integrations/<selector>, fetched with
   libcurl directly (the library under test is not involved); free() it. */
static char *raw_body(const char *selector, size_t *size)
{
    struct buffer buffer = { NULL, 0 };
    struct curl_slist *headers = curl_slist_append(NULL, "Authorization: Bearer " MOCK_TOKEN);
    char url[512];
    CURL *curl = curl_easy_init();
    CURLcode rc;

    snprintf(url, sizeof url, "%s/integrations/%s?includeSecrets=false", mock_url(), selector);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buffer);
    rc = curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    CHECK_MSG(rc == CURLE_OK && buffer.data != NULL, "raw fetch of %s failed", url);
    *size = buffer.size;
    return buffer.data;
}

/* A successful text lookup: the same bytes the server sent, the same object
   membrane_integration_get gives. */
static void test_same_bytes(membrane_client *client, const char *selector)
{
    char *text = POISON_TEXT;
    size_t length = 12345, raw_size = 0;
    membrane_error err;
    json_t *parsed, *object = NULL;
    char *raw = raw_body(selector, &raw_size);
    int rc;

    err_poison(&err);
    rc = membrane_integration_get_text(client, selector, 0, &text, &length, &err);
    CHECK_SUCCESS(rc, err);
    CHECK(text != NULL && text != POISON_TEXT);
    if (rc != MEMBRANE_OK || text == NULL || text == POISON_TEXT) {
        free(raw);
        return;
    }
    CHECK_INT(length, strlen(text));
    CHECK_MSG(raw != NULL && raw_size == length && memcmp(raw, text, length) == 0,
              "%s: the text is not the body the server sent (%zu bytes, raw %zu)", selector,
              length, raw_size);
    parsed = json_loadb(text, length, 0, NULL);
    CHECK(json_is_object(parsed));
    CHECK_INT(membrane_integration_get(client, selector, 0, &object, &err), MEMBRANE_OK);
    CHECK_MSG(parsed != NULL && object != NULL && json_equal(parsed, object),
              "%s: the text does not parse to what membrane_integration_get returns", selector);
    json_decref(parsed);
    json_decref(object);
    membrane_free(text);
    free(raw);
}

/* `length` may be NULL. */
static void test_length_optional(membrane_client *client)
{
    char *text = NULL;
    membrane_error err;
    int rc = membrane_integration_get_text(client, HUBSPOT_KEY, 0, &text, NULL, &err);

    CHECK_SUCCESS(rc, err);
    CHECK(contains(text, "\"" HUBSPOT_KEY "\""));
    membrane_free(text);
    /* err may be NULL too. */
    text = NULL;
    CHECK_INT(membrane_integration_get_text(client, HUBSPOT_KEY, 0, &text, NULL, NULL), MEMBRANE_OK);
    CHECK(text != NULL);
    membrane_free(text);
}

/* Failures: out NULL, length 0, the lookup's code and message. */
static void test_failures(membrane_client *client)
{
    char *text = POISON_TEXT;
    size_t length = 12345;
    membrane_error err;
    int rc;

    err_poison(&err);
    rc = membrane_integration_get_text(client, "no-such-integration", 0, &text, &length, &err);
    CHECK_FAIL(rc, err, MEMBRANE_ENOTFOUND);
    CHECK_INT(err.http_status, 404);
    CHECK(text == NULL);
    CHECK_INT(length, 0);

    /* A body of the wrong shape is refused, as for the json_t lookup. */
    CHECK_INT(mock_fault("{\"match\":\"t-shape\",\"status\":200,\"json\":[1,2],\"times\":0}"), 0);
    text = POISON_TEXT;
    length = 12345;
    rc = membrane_integration_get_text(client, "t-shape", 0, &text, &length, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK(text == NULL);
    CHECK_INT(length, 0);

    /* Not JSON at all. */
    CHECK_INT(mock_fault("{\"match\":\"t-html\",\"status\":200,\"body\":\"<html>\",\"times\":0}"), 0);
    text = POISON_TEXT;
    rc = membrane_integration_get_text(client, "t-html", 0, &text, &length, &err);
    CHECK_FAIL(rc, err, MEMBRANE_EPROTOCOL);
    CHECK(text == NULL);
    CHECK_INT(mock_clear_faults(), 0);
}

/* A gzip-encoded answer comes back decoded, equal to the plain one. */
static void test_gzip(membrane_client *client)
{
    char *plain = NULL, *zipped = NULL;
    size_t plain_length = 0, zipped_length = 0;

    CHECK_INT(membrane_integration_get_text(client, "shopify", 0, &plain, &plain_length, NULL),
              MEMBRANE_OK);
    CHECK_INT(mock_fault("{\"match\":\"shopify\",\"action\":\"gzip\",\"times\":0}"), 0);
    CHECK_INT(membrane_integration_get_text(client, "shopify", 0, &zipped, &zipped_length, NULL),
              MEMBRANE_OK);
    CHECK_INT(mock_clear_faults(), 0);
    CHECK_MSG(plain != NULL && zipped != NULL && plain_length == zipped_length &&
                  memcmp(plain, zipped, plain_length) == 0,
              "gzip: the text differs from the plain answer");
    membrane_free(plain);
    membrane_free(zipped);
}

/* Bad arguments: MEMBRANE_EINVAL, out NULL, and no request reaches the server. */
static void test_arguments(membrane_client *client)
{
    char *text = POISON_TEXT;
    size_t length = 12345;
    char long_selector[1100];
    membrane_error err;
    int before = mock_selector_count(HUBSPOT_KEY);

    memset(long_selector, 'a', sizeof long_selector - 1);
    long_selector[sizeof long_selector - 1] = '\0';

    err_poison(&err);
    CHECK_FAIL(membrane_integration_get_text(client, HUBSPOT_KEY, 0, NULL, &length, &err), err,
               MEMBRANE_EINVAL);
    CHECK_INT(length, 0);
    CHECK_FAIL(membrane_integration_get_text(NULL, HUBSPOT_KEY, 0, &text, &length, &err), err,
               MEMBRANE_EINVAL);
    CHECK(text == NULL);
    text = POISON_TEXT;
    CHECK_FAIL(membrane_integration_get_text(client, NULL, 0, &text, &length, &err), err,
               MEMBRANE_EINVAL);
    CHECK(text == NULL);
    text = POISON_TEXT;
    CHECK_FAIL(membrane_integration_get_text(client, HUBSPOT_KEY, 8, &text, &length, &err), err,
               MEMBRANE_EINVAL);
    CHECK(text == NULL);
    CHECK_FAIL(membrane_integration_get_text(client, long_selector, 0, &text, &length, &err), err,
               MEMBRANE_EINVAL);
    CHECK_FAIL(membrane_integration_get_text(client, "\xff\xfe", 0, &text, &length, &err), err,
               MEMBRANE_EINVAL);
    CHECK_FAIL(membrane_integration_get_text(client, "", 0, &text, &length, &err), err,
               MEMBRANE_EINVAL);
    CHECK_INT(mock_selector_count(HUBSPOT_KEY), before);
    /* NULL is a no-op for membrane_free. */
    membrane_free(NULL);
}

int main(void)
{
    membrane_client *client;

    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    mock_clear_faults();

    client = new_client(MOCK_TOKEN);
    if (client != NULL) {
        test_same_bytes(client, HUBSPOT_KEY);
        test_same_bytes(client, HUBSPOT_ID);
        test_same_bytes(client, "salesforce");
        test_length_optional(client);
        test_failures(client);
        test_gzip(client);
        test_arguments(client);
        membrane_client_free(client);
    }
    mock_admin_cleanup();
    return check_report();
}
