/*
 * test_tokens.c: where a client's token comes from, against the stand-in
 * server, which accepts the fixed token "mock-token" and JWTs for the
 * workspace MEMBRANE_TEST_WORKSPACE_KEY signed with
 * MEMBRANE_TEST_WORKSPACE_SECRET (HS256/HS512) or with the EC key whose
 * private half is in MEMBRANE_TEST_EC_KEY (ES256) (Tests/c/run.sh sets them).
 *
 *   - membrane_client_set_token replaces the token;
 *   - a provider is asked once, shared by threads, asked again after a 401
 *     (one more attempt, never more), and its failures, garbage and
 *     slowness end lookups cleanly within their deadline;
 *   - tokens signed with the workspace secret or an EC key are accepted,
 *     carry the documented claims, and are renewed before they expire:
 *     8 threads looking up for MEMBRANE_TOKEN_SOAK_MS (default 10000)
 *     through a client whose tokens live 2 s see no failure, with about one
 *     renewal per 2 s (the same with a provider that signs its own 2 s
 *     tokens with libcrypto's HMAC);
 *   - no token or secret appears in any message.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "support.h"

static const char *workspace_key;
static const char *workspace_secret;
static const char *ec_key;

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

/* The error message holds none of the secrets of this test. */
static void check_clean(const membrane_error *err, const char *what)
{
    CHECK_MSG(err_terminated(err), "%s: unterminated error", what);
    CHECK_MSG(!contains(err->message, workspace_secret), "%s: the secret is in the message", what);
    CHECK_MSG(!contains(err->message, "bad-token-5c1d"), "%s: a token is in the message", what);
    CHECK_MSG(!contains(err->message, "eyJ"), "%s: a JWT is in the message: %s", what, err->message);
}

static int lookup(membrane_client *client, const char *selector, unsigned int flags, membrane_error *err)
{
    json_t *out = NULL;
    int rc = membrane_integration_get(client, selector, flags, &out, err);
    json_decref(out);
    return rc;
}

/* ---------------------------------------------------------------------------
 * membrane_client_set_token
 * ------------------------------------------------------------------------- */

static void test_set_token(void)
{
    membrane_client *client = new_client("wrong-token-for-set");
    membrane_error err;

    if (client == NULL)
        return;
    CHECK_INT(lookup(client, HUBSPOT_KEY, 0, &err), MEMBRANE_EAUTH);
    CHECK_INT(mock_selector_count("hubspot") > 0, 1);
    /* A fixed token is not retried after a 401. */
    mock_clear_requests();
    CHECK_INT(lookup(client, "sel-fixed-401", 0, &err), MEMBRANE_EAUTH);
    CHECK_INT(mock_selector_count("sel-fixed-401"), 1);

    CHECK_INT(membrane_client_set_token(client, MOCK_TOKEN, &err), MEMBRANE_OK);
    CHECK_INT(lookup(client, HUBSPOT_KEY, 0, &err), MEMBRANE_OK);

    CHECK_INT(membrane_client_set_token(client, NULL, &err), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_token(NULL, MOCK_TOKEN, &err), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_token(client, "", &err), MEMBRANE_EAUTH);
    CHECK_INT(membrane_client_set_token(client, "a\nb", &err), MEMBRANE_EINVAL);
    CHECK_MSG(!contains(err.message, "a\nb"), "the refused token is quoted");
    /* A refused replacement leaves the working token in place. */
    CHECK_INT(lookup(client, HUBSPOT_KEY, 0, &err), MEMBRANE_OK);
    membrane_client_free(client);
}

/* A fixed JWT whose exp has passed: the 401's message says when it expired. */
static void test_expired_fixed_token(void)
{
    /* {"alg":"HS512","typ":"JWT"} . {"exp":1700000000,"workspaceKey":"x"} . signature */
    const char *expired = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9."
                          "eyJleHAiOjE3MDAwMDAwMDAsIndvcmtzcGFjZUtleSI6IngifQ.c2lnbmF0dXJl";
    membrane_client *client = new_client(expired);
    membrane_error err;

    if (client == NULL)
        return;
    CHECK_INT(lookup(client, HUBSPOT_KEY, 0, &err), MEMBRANE_EAUTH);
    CHECK_MSG(contains(err.message, "expired at 2023-11-14T22:13:20Z"), "message: %s", err.message);
    CHECK_MSG(!contains(err.message, "eyJ"), "the token is in the message");
    membrane_client_free(client);
}

/* ---------------------------------------------------------------------------
 * Providers
 * ------------------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t lock;
    int calls;
    const char *token;     /* written into buf */
    int status;            /* returned */
    long delay_ms;         /* slept first */
    int fill;              /* 1: fill the whole buffer, no NUL */
} provider_state;

static int provide(void *payload, char *buf, size_t size)
{
    provider_state *p = payload;
    pthread_mutex_lock(&p->lock);
    p->calls++;
    pthread_mutex_unlock(&p->lock);
    if (p->delay_ms > 0)
        sleep_ms(p->delay_ms);
    if (p->fill) {
        memset(buf, 'x', size);
        return 0;
    }
    snprintf(buf, size, "%s", p->token);
    return p->status;
}

static int calls(provider_state *p)
{
    int n;
    pthread_mutex_lock(&p->lock);
    n = p->calls;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static membrane_client *provider_client(provider_state *p)
{
    membrane_client *client = new_client("unused-initial-token");
    membrane_error err;
    if (client != NULL)
        CHECK_INT(membrane_client_set_token_provider(client, provide, p, &err), MEMBRANE_OK);
    return client;
}

static void test_provider_basics(void)
{
    provider_state p = { PTHREAD_MUTEX_INITIALIZER, 0, MOCK_TOKEN, 0, 0, 0 };
    membrane_client *client = provider_client(&p);
    membrane_error err;
    int i;

    if (client == NULL)
        return;
    CHECK_INT(calls(&p), 0); /* asked before the first request, not before */
    for (i = 0; i < 3; i++)
        CHECK_INT(lookup(client, HUBSPOT_KEY, 0, &err), MEMBRANE_OK);
    CHECK_INT(calls(&p), 1); /* a token without exp is kept */
    CHECK_INT(membrane_client_set_token_provider(client, NULL, NULL, &err), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_token_provider(NULL, provide, &p, &err), MEMBRANE_EINVAL);
    membrane_client_free(client);
}

/* The server refuses every token: each lookup ends after exactly two
   attempts, with one new token between them. */
static void test_provider_401_storm(void)
{
    provider_state p = { PTHREAD_MUTEX_INITIALIZER, 0, "bad-token-5c1d-never-accepted", 0, 0, 0 };
    membrane_client *client = provider_client(&p);
    membrane_error err;

    if (client == NULL)
        return;
    mock_clear_requests();
    CHECK_INT(lookup(client, "sel-storm", 0, &err), MEMBRANE_EAUTH);
    CHECK_INT(err.http_status, 401);
    CHECK_INT(mock_selector_count("sel-storm"), 2);
    CHECK_INT(calls(&p), 2);
    check_clean(&err, "401 storm");
    CHECK_INT(lookup(client, "sel-storm", 0, &err), MEMBRANE_EAUTH);
    CHECK_INT(mock_selector_count("sel-storm"), 4);
    CHECK_INT(calls(&p), 3);
    membrane_client_free(client);
}

/* A wrong token, then the right one: the 401 brings the new token and the
   lookup succeeds on its second attempt. */
static void test_provider_recovers_after_401(void)
{
    provider_state p = { PTHREAD_MUTEX_INITIALIZER, 0, "bad-token-5c1d-first", 0, 0, 0 };
    membrane_client *client = provider_client(&p);
    membrane_error err;

    if (client == NULL)
        return;
    CHECK_INT(lookup(client, "sel-before", 0, &err), MEMBRANE_EAUTH);
    p.token = MOCK_TOKEN; /* the provider's next answer (no lookup runs now) */
    mock_clear_requests();
    CHECK_INT(lookup(client, HUBSPOT_KEY, 0, &err), MEMBRANE_OK);
    CHECK_INT(mock_selector_count("hubspot"), 2);
    membrane_client_free(client);
}

static void test_provider_failures(void)
{
    provider_state failing = { PTHREAD_MUTEX_INITIALIZER, 0, MOCK_TOKEN, 7, 0, 0 };
    provider_state control = { PTHREAD_MUTEX_INITIALIZER, 0, "bad\ntoken", 0, 0, 0 };
    provider_state unterminated = { PTHREAD_MUTEX_INITIALIZER, 0, "", 0, 0, 1 };
    provider_state empty = { PTHREAD_MUTEX_INITIALIZER, 0, "", 0, 0, 0 };
    provider_state *cases[] = { &failing, &control, &unterminated, &empty };
    const char *names[] = { "returns 7", "control characters", "no NUL", "empty" };
    size_t i;

    for (i = 0; i < 4; i++) {
        membrane_client *client = provider_client(cases[i]);
        membrane_error err;
        if (client == NULL)
            continue;
        mock_clear_requests();
        CHECK_MSG(lookup(client, "sel-provider-failure", 0, &err) == MEMBRANE_EAUTH,
                  "provider that %s: %d %s", names[i], err.code, err.message);
        CHECK_MSG(mock_selector_count("sel-provider-failure") == 0, "provider that %s: a request was made",
                  names[i]);
        CHECK_MSG(err.message[0] != '\0' && err_terminated(&err), "provider that %s: no message", names[i]);
        membrane_client_free(client);
    }
}

typedef struct {
    membrane_client *client;
    int rc;
    double elapsed_ms;
} timed_lookup;

static void *run_timed_lookup(void *arg)
{
    timed_lookup *t = arg;
    membrane_error err;
    double start = now_ms();
    t->rc = lookup(t->client, HUBSPOT_KEY, 0, &err);
    t->elapsed_ms = now_ms() - start;
    return NULL;
}

/* A provider that takes 1.5 s, lookups with 300 ms to spare: they end with
   MEMBRANE_ETIMEOUT at their deadline, the provider is asked once for both,
   and its late answer serves the next lookups. */
static void test_slow_provider(void)
{
    provider_state p = { PTHREAD_MUTEX_INITIALIZER, 0, MOCK_TOKEN, 0, 1500, 0 };
    membrane_client *client = provider_client(&p);
    timed_lookup a, b;
    pthread_t ta, tb;
    membrane_error err;

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, 300), MEMBRANE_OK);
    a.client = b.client = client;
    pthread_create(&ta, NULL, run_timed_lookup, &a);
    pthread_create(&tb, NULL, run_timed_lookup, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_INT(a.rc, MEMBRANE_ETIMEOUT);
    CHECK_INT(b.rc, MEMBRANE_ETIMEOUT);
    CHECK_MSG(a.elapsed_ms < 300 * 3 && b.elapsed_ms < 300 * 3, "took %.0f and %.0f ms", a.elapsed_ms,
              b.elapsed_ms);
    CHECK_INT(calls(&p), 1);
    sleep_ms(1600);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TIMEOUT_MS, 5000), MEMBRANE_OK);
    CHECK_INT(lookup(client, HUBSPOT_KEY, 0, &err), MEMBRANE_OK);
    CHECK_INT(calls(&p), 1);
    membrane_client_free(client);
}

/* ---------------------------------------------------------------------------
 * Signed tokens
 * ------------------------------------------------------------------------- */

/* The claims the stand-in verified for the last request for `selector`,
   as a new reference, or NULL. */
static json_t *last_claims(const char *selector)
{
    json_t *requests = mock_requests(), *request, *claims = NULL;
    size_t i;
    json_array_foreach(requests, i, request) {
        const char *s = mock_request_string(request, "selector");
        if (s != NULL && strcmp(s, selector) == 0 && json_is_object(json_object_get(request, "claims"))) {
            json_decref(claims);
            claims = json_incref(json_object_get(request, "claims"));
        }
    }
    json_decref(requests);
    return claims;
}

static void test_workspace_secret(void)
{
    membrane_client *client = new_client("unused-initial-token");
    membrane_error err;
    json_t *claims;

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, workspace_secret, "tenant-c1", 0, &err),
              MEMBRANE_OK);
    mock_clear_requests();
    CHECK_INT(lookup(client, "hubspot", 0, &err), MEMBRANE_OK);
    claims = last_claims("hubspot");
    CHECK_MSG(claims != NULL, "the stand-in recorded no verified claims");
    if (claims != NULL) {
        json_int_t iat = json_integer_value(json_object_get(claims, "iat"));
        json_int_t exp = json_integer_value(json_object_get(claims, "exp"));
        CHECK_STR(jstr(claims, "workspaceKey"), workspace_key);
        CHECK_STR(jstr(claims, "tenantKey"), "tenant-c1");
        CHECK(json_object_get(claims, "isAdmin") == NULL);
        /* exp is rounded up to a whole second: 7200 or 7201 after iat. */
        CHECK_MSG(exp - iat == 7200 || exp - iat == 7201, "lifetime %lld s, want 7200", (long long)(exp - iat));
        CHECK_MSG(llabs((long long)iat - (long long)time(NULL)) <= 5, "iat %lld is not now", (long long)iat);
        json_decref(claims);
    }
    /* A tenant token may not ask for secrets; an admin token may. */
    CHECK_INT(lookup(client, "hubspot", MEMBRANE_INCLUDE_SECRETS, &err), MEMBRANE_EACCESS);
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, workspace_secret, NULL,
                                                   MEMBRANE_TOKEN_ADMIN | MEMBRANE_TOKEN_HS256, &err),
              MEMBRANE_OK);
    CHECK_INT(lookup(client, "hubspot", MEMBRANE_INCLUDE_SECRETS, &err), MEMBRANE_OK);
    claims = last_claims("hubspot");
    if (claims != NULL) {
        CHECK(json_is_true(json_object_get(claims, "isAdmin")));
        CHECK(json_object_get(claims, "tenantKey") == NULL);
        json_decref(claims);
    }
    /* The option shortens the next tokens' lives. */
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TOKEN_LIFETIME_S, 0), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TOKEN_LIFETIME_S, 600), MEMBRANE_OK);
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, workspace_secret, "tenant-c2", 0, &err),
              MEMBRANE_OK);
    CHECK_INT(lookup(client, "salesforce", 0, &err), MEMBRANE_OK);
    claims = last_claims("salesforce");
    if (claims != NULL) {
        json_int_t lifetime = json_integer_value(json_object_get(claims, "exp")) -
                              json_integer_value(json_object_get(claims, "iat"));
        CHECK_MSG(lifetime == 600 || lifetime == 601, "lifetime %lld s, want 600", (long long)lifetime);
        json_decref(claims);
    }

    /* Wrong secret: refused, one new token, refused again, then the end. */
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, "not-the-secret-0000", "t", 0, &err),
              MEMBRANE_OK);
    mock_clear_requests();
    CHECK_INT(lookup(client, "sel-wrong-secret", 0, &err), MEMBRANE_EAUTH);
    CHECK_INT(mock_selector_count("sel-wrong-secret"), 2);
    check_clean(&err, "wrong secret");

    /* Arguments. */
    CHECK_INT(membrane_client_use_workspace_secret(client, NULL, workspace_secret, "t", 0, &err), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, NULL, "t", 0, &err), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, "", "t", 0, &err), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, workspace_secret, NULL, 0, &err),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, workspace_secret, "t",
                                                   MEMBRANE_TOKEN_ADMIN, &err), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, workspace_secret, "t", 64, &err),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_use_workspace_secret(client, "a\tb", workspace_secret, "t", 0, &err), MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_use_workspace_secret(NULL, workspace_key, workspace_secret, "t", 0, &err),
              MEMBRANE_EINVAL);
    check_clean(&err, "argument errors");
    membrane_client_free(client);
}

static void test_private_key(void)
{
    membrane_client *client = new_client("unused-initial-token");
    membrane_error err;
    json_t *claims;

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_use_private_key(client, workspace_key, ec_key, "tenant-ec", 0, &err), MEMBRANE_OK);
    mock_clear_requests();
    CHECK_INT(lookup(client, "pipedrive", 0, &err), MEMBRANE_OK);
    claims = last_claims("pipedrive");
    CHECK_MSG(claims != NULL && strcmp(jstr(claims, "tenantKey"), "tenant-ec") == 0, "claims of the ES256 token");
    json_decref(claims);
    CHECK_INT(membrane_client_use_private_key(client, workspace_key, "/nonexistent/key.pem", "t", 0, &err),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_use_private_key(client, workspace_key, "Include/membrane.h", "t", 0, &err),
              MEMBRANE_EINVAL);
    CHECK_INT(membrane_client_use_private_key(client, workspace_key, ec_key, "t", MEMBRANE_TOKEN_HS256, &err),
              MEMBRANE_EINVAL);
    /* The failed calls left the working key in place. */
    CHECK_INT(lookup(client, "pipedrive", 0, &err), MEMBRANE_OK);
    membrane_client_free(client);
}

/* ---------------------------------------------------------------------------
 * Renewal under load
 * ------------------------------------------------------------------------- */

typedef struct {
    membrane_client *client;
    double until_ms;
    int ok, failed;
    int last_rc;
    char last_message[256];
} soak_worker;

static void *soak(void *arg)
{
    soak_worker *w = arg;
    static const char *const selectors[] = { "hubspot", "salesforce", "notion", "jira" };
    int i = 0;
    while (now_ms() < w->until_ms) {
        membrane_error err;
        int rc = lookup(w->client, selectors[i++ % 4], 0, &err);
        if (rc == MEMBRANE_OK) {
            w->ok++;
        } else {
            w->failed++;
            w->last_rc = rc;
            snprintf(w->last_message, sizeof w->last_message, "%s", err.message);
        }
        sleep_ms(20);
    }
    return NULL;
}

/* Distinct tokens the server saw (by their iat and exp), in the request log. */
static int distinct_tokens(void)
{
    json_t *requests = mock_requests(), *request, *seen = json_object();
    size_t i;
    int n;
    json_array_foreach(requests, i, request) {
        json_t *claims = json_object_get(request, "claims");
        char key[64];
        if (!json_is_object(claims))
            continue;
        snprintf(key, sizeof key, "%lld-%lld", (long long)json_integer_value(json_object_get(claims, "iat")),
                 (long long)json_integer_value(json_object_get(claims, "exp")));
        json_object_set_new(seen, key, json_true());
    }
    n = (int)json_object_size(seen);
    json_decref(seen);
    json_decref(requests);
    return n;
}

static void run_soak(membrane_client *client, long duration_ms, const char *what, int *ok_out, int *failed_out)
{
    soak_worker workers[8];
    pthread_t threads[8];
    int i, ok = 0, failed = 0;
    double until = now_ms() + (double)duration_ms;

    for (i = 0; i < 8; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].client = client;
        workers[i].until_ms = until;
        pthread_create(&threads[i], NULL, soak, &workers[i]);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        ok += workers[i].ok;
        failed += workers[i].failed;
        if (workers[i].failed > 0)
            fprintf(stderr, "  [%s] thread %d: %d failed, last %d %s\n", what, i, workers[i].failed,
                    workers[i].last_rc, workers[i].last_message);
    }
    *ok_out = ok;
    *failed_out = failed;
}

static void test_renewal_soak(void)
{
    const char *soak_env = getenv("MEMBRANE_TOKEN_SOAK_MS");
    long duration = soak_env != NULL && atol(soak_env) > 0 ? atol(soak_env) : 10000;
    membrane_client *client = new_client("unused-initial-token");
    membrane_error err;
    int ok = 0, failed = 0, tokens;
    long expected = duration / 2000 + 1;

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_long(client, MEMBRANE_OPT_TOKEN_LIFETIME_S, 2), MEMBRANE_OK);
    CHECK_INT(membrane_client_use_workspace_secret(client, workspace_key, workspace_secret, "tenant-soak", 0, &err),
              MEMBRANE_OK);
    mock_clear_requests();
    run_soak(client, duration, "signed", &ok, &failed);
    tokens = distinct_tokens();
    printf("renewal soak (signed, 2 s tokens, 8 threads, %ld ms): %d lookups, %d failed, %d tokens (%ld expected)\n",
           duration, ok + failed, failed, tokens, expected);
    CHECK_INT(failed, 0);
    CHECK_MSG(ok > 8 * 10, "only %d lookups", ok);
    /* About one token per 2 s: not one per thread per renewal, not one per
       lookup. */
    CHECK_MSG(tokens >= expected - 1 && tokens <= expected + 2, "%d tokens for %ld ms, want about %ld", tokens,
              duration, expected);
    membrane_client_free(client);
}

/* A provider that makes its own tokens, as a host's backend would: HS256
   JWTs for the test workspace that live 2 s, signed here with libcrypto's
   HMAC (not with the library). */
static void base64url(const unsigned char *in, size_t n, char *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i, o = 0;
    for (i = 0; i < n; i += 3) {
        unsigned long group = (unsigned long)in[i] << 16 | (i + 1 < n ? (unsigned long)in[i + 1] << 8 : 0) |
                              (i + 2 < n ? in[i + 2] : 0);
        out[o++] = alphabet[group >> 18 & 63];
        out[o++] = alphabet[group >> 12 & 63];
        if (i + 1 < n) out[o++] = alphabet[group >> 6 & 63];
        if (i + 2 < n) out[o++] = alphabet[group & 63];
    }
    out[o] = '\0';
}

static int provide_signed(void *payload, char *buf, size_t size)
{
    provider_state *p = payload;
    char claims[256], header64[64], claims64[400], input[512], signature64[64];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_length = 0;
    struct timespec clock_now;
    long now, exp;
    const char *header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

    clock_gettime(CLOCK_REALTIME, &clock_now);
    now = (long)clock_now.tv_sec;
    exp = now + 2 + (clock_now.tv_nsec > 0); /* 2 s from now, rounded up, as a backend would */

    pthread_mutex_lock(&p->lock);
    p->calls++;
    pthread_mutex_unlock(&p->lock);
    snprintf(claims, sizeof claims, "{\"workspaceKey\":\"%s\",\"tenantKey\":\"provided\",\"iat\":%ld,\"exp\":%ld}",
             workspace_key, now, exp);
    base64url((const unsigned char *)header, strlen(header), header64);
    base64url((const unsigned char *)claims, strlen(claims), claims64);
    snprintf(input, sizeof input, "%s.%s", header64, claims64);
    if (HMAC(EVP_sha256(), workspace_secret, (int)strlen(workspace_secret), (const unsigned char *)input,
             strlen(input), mac, &mac_length) == NULL)
        return 1;
    base64url(mac, mac_length, signature64);
    return snprintf(buf, size, "%s.%s", input, signature64) < (int)size ? 0 : 1;
}

static void test_provider_soak(void)
{
    const char *soak_env = getenv("MEMBRANE_TOKEN_SOAK_MS");
    long duration = soak_env != NULL && atol(soak_env) > 0 ? atol(soak_env) : 10000;
    long expected = duration / 2000 + 1;
    provider_state p = { PTHREAD_MUTEX_INITIALIZER, 0, "", 0, 0, 0 };
    membrane_client *client = new_client("unused-initial-token");
    membrane_error err;
    int ok = 0, failed = 0;

    if (client == NULL)
        return;
    CHECK_INT(membrane_client_set_token_provider(client, provide_signed, &p, &err), MEMBRANE_OK);
    run_soak(client, duration, "provider", &ok, &failed);
    printf("renewal soak (provider, 2 s tokens, 8 threads, %ld ms): %d lookups, %d failed, %d provider calls "
           "(%ld expected)\n", duration, ok + failed, failed, calls(&p), expected);
    CHECK_INT(failed, 0);
    CHECK_MSG(calls(&p) >= expected - 1 && calls(&p) <= expected + 2, "%d provider calls for %ld ms, want about %ld",
              calls(&p), duration, expected);
    membrane_client_free(client);
}

int main(void)
{
    if (mock_admin_init() != 0)
        return 2;
    unsetenv("MEMBRANE_TOKEN");
    unsetenv("MEMBRANE_API_URL");
    workspace_key = getenv("MEMBRANE_TEST_WORKSPACE_KEY");
    workspace_secret = getenv("MEMBRANE_TEST_WORKSPACE_SECRET");
    ec_key = getenv("MEMBRANE_TEST_EC_KEY");
    if (workspace_key == NULL || workspace_secret == NULL || ec_key == NULL) {
        fprintf(stderr, "test_tokens: set MEMBRANE_TEST_WORKSPACE_KEY, _SECRET and MEMBRANE_TEST_EC_KEY "
                        "(Tests/c/run.sh does)\n");
        CHECK(0);
        return check_report();
    }
    test_set_token();
    test_expired_fixed_token();
    test_provider_basics();
    test_provider_401_storm();
    test_provider_recovers_after_401();
    test_provider_failures();
    test_slow_provider();
    test_workspace_secret();
    test_private_key();
    test_renewal_soak();
    test_provider_soak();
    mock_admin_cleanup();
    return check_report();
}
