/*
 * membrane.h: look up Membrane integrations from C.
 *
 * libmembrane is a client for the Membrane API (formerly Integration.app).
 * It answers `GET {api}/integrations/{selector}` and hands the result back as
 * a jansson `json_t *`, exactly as the API sent it.
 *
 * Conventions, as in jansson and libgit2:
 *   - Functions return MEMBRANE_OK (0) or a negative MEMBRANE_E* code.
 *   - Out-parameters come first among a function's outputs and are set to
 *     NULL on failure.
 *   - "Return value: New reference." means the caller owns one reference and
 *     must release it with json_decref() (or membrane_json_release()).
 *     "Borrowed reference" means the caller must not release it.
 *   - `membrane_error *err` may be NULL. When it is not, it is filled on
 *     failure and set to MEMBRANE_OK with empty strings on success.
 *   - Every string passed in must be NUL-terminated UTF-8; anything else is
 *     MEMBRANE_EINVAL. No argument makes the library crash the host.
 *   - The token never appears in any message the library produces.
 */
#ifndef MEMBRANE_H
#define MEMBRANE_H

#include <stddef.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Versions
 *
 * Within 0.x, a minor release may change the API and ABI (the CHANGELOG says
 * how); from 1.0 on, every 1.x release keeps both: code built against 1.y
 * runs with any 1.z, z >= y. The SONAME's number is the major version.
 * ------------------------------------------------------------------------- */

#define MEMBRANE_VERSION_MAJOR  0
#define MEMBRANE_VERSION_MINOR  2
#define MEMBRANE_VERSION_PATCH  0
/* 0xMMmmpp, e.g. 0x000200 for 0.2.0: compare with >=. */
#define MEMBRANE_VERSION_NUM    ((MEMBRANE_VERSION_MAJOR << 16) | (MEMBRANE_VERSION_MINOR << 8) | MEMBRANE_VERSION_PATCH)
#define MEMBRANE_VERSION_STRING "0.2.0"

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

/*
 * What went wrong, filled by any function that takes a `membrane_error *`.
 * Every string field is NUL-terminated (truncated at a UTF-8 boundary when
 * longer than its buffer). The layout is part of the ABI: 424 bytes, no
 * padding, fields at byte offsets code 0, http_status 4, type 8, key 40,
 * message 104, error_id 360 (Tests/ffi checks this at compile time).
 *
 * For FFI users: read each char array up to its first NUL byte and no
 * further; the bytes after it are left as they were, not cleared.
 */
typedef struct membrane_error {
    int  code;           /* MEMBRANE_OK or a MEMBRANE_E* value */
    int  http_status;    /* 0 when no HTTP response was received */
    char type[32];       /* API error type, e.g. "bad_request"; "" if none */
    char key[64];        /* API error key, e.g. "not_found"; "" if none */
    char message[256];   /* human-readable, NUL-terminated; never holds the token */
    char error_id[64];   /* data.errorId of internal errors, to quote to support; "" if none */
} membrane_error;

/*
 * Return codes. The API's error `key` is the finer detail: branch on the code
 * first, then on `err->key` if needed.
 */
enum {
    MEMBRANE_OK          =   0,
    MEMBRANE_EINVAL      =  -1, /* bad argument: NULL, empty or over-long selector, bad option */
    MEMBRANE_EAUTH       =  -2, /* 401 not_authenticated, or no token configured */
    MEMBRANE_EACCESS     =  -3, /* 403 access_denied */
    MEMBRANE_ENOTFOUND   =  -4, /* 404 not_found */
    MEMBRANE_ERATELIMIT  =  -5, /* 429 rate_limit_exceeded */
    MEMBRANE_EBADREQUEST =  -6, /* any other 4xx */
    MEMBRANE_ESERVER     =  -7, /* 5xx */
    MEMBRANE_ENETWORK    =  -8, /* DNS failure, refused, reset, closed early */
    MEMBRANE_ETIMEOUT    =  -9, /* the call took longer than MEMBRANE_OPT_TIMEOUT_MS */
    MEMBRANE_ETLS        = -10, /* certificate or handshake failure */
    MEMBRANE_EPROTOCOL   = -11, /* not JSON, wrong shape or types, too large, unexpected status */
    MEMBRANE_EINTERNAL   = -12, /* out of memory, or a bug */
    MEMBRANE_ECANCELED   = -13  /* membrane_client_cancel was called while the call ran */
};

/* ---------------------------------------------------------------------------
 * Flags and options
 * ------------------------------------------------------------------------- */

/* Flag for membrane_integration_get: ask the API for secret values (such as
   an OAuth clientSecret in `parameters`). Without it the API masks them. */
#define MEMBRANE_INCLUDE_SECRETS 1u

/* Options for membrane_client_set_long and membrane_client_set_string. */
enum {
    /* long, milliseconds, >= 1: the longest one call may take.
       Default 30000. */
    MEMBRANE_OPT_TIMEOUT_MS = 1,
    /* long, milliseconds, >= 1: the longest connecting (TCP and TLS) may take.
       Default 10000. */
    MEMBRANE_OPT_CONNECT_TIMEOUT_MS,
    /* string, non-empty: the User-Agent header.
       Default "libmembrane/<version>". */
    MEMBRANE_OPT_USER_AGENT,
    /* string: path of a PEM bundle of CA certificates to trust instead of the
       system's. Verification of the server stays on. NULL restores the
       system's bundle. */
    MEMBRANE_OPT_CA_FILE = 4,
    /* long, 0 to 10: how many times a lookup is retried after a 429, 502,
       503 or 504, or a connection that failed before any response byte.
       Default 2. 0 turns retries off. */
    MEMBRANE_OPT_MAX_RETRIES = 5,
    /* long, milliseconds, >= 1: the base of the exponential backoff between
       retries (full jitter, capped at 8 s). Default 250. A Retry-After
       header, in seconds or as an HTTP date, takes precedence. */
    MEMBRANE_OPT_RETRY_BASE_MS = 6,
    /* long, bytes, >= 1: the largest response body accepted, after
       decompression. Default 33554432 (32 MiB; the API's documented maximum
       is 30 MB). A larger body fails with MEMBRANE_EPROTOCOL as soon as it
       is announced or grows past the limit, and is never buffered whole. */
    MEMBRANE_OPT_MAX_RESPONSE_BYTES = 7,
    /* long, 1 to 256: the most connections membrane_integrations_get_many
       opens (and, for all of them together, the *_async requests), and over
       HTTP/1.1 the most requests each runs at once. Once the
       server answers over HTTP/2, up to 16 requests share each connection as
       streams. Default 8. */
    MEMBRANE_OPT_MAX_PARALLEL = 8,
    /* long, >= 1: how many pages membrane_integrations_list_all reads before
       it gives up with MEMBRANE_EPROTOCOL. Default 1000. */
    MEMBRANE_OPT_MAX_PAGES = 9,
    /* long, seconds, 1 to 604800: how long the tokens the client signs
       itself live (membrane_client_use_workspace_secret,
       membrane_client_use_private_key). Default 7200. */
    MEMBRANE_OPT_TOKEN_LIFETIME_S = 10,
    /* long, 0 or 1: whether single lookups (membrane_integration_get, _text
       and their _async forms) of the same selector with the same flags,
       made at the same moment from any threads, share one request. Each
       caller still receives its own result object and its own error, and
       keeps its own deadline and cancellation (membrane_request_cancel on
       the request that was sent first ends only that caller: the request
       runs on for the others). Batches and pages never share. Default 1. */
    MEMBRANE_OPT_SHARE_REQUESTS = 11,
    /* long, milliseconds, 0 to 86400000: how long successful single lookups
       are kept and answered from memory. Default 0: no cache. Answers asked
       for with MEMBRANE_INCLUDE_SECRETS, and errors, are never kept. Every
       hit is a new copy (mutating it changes nothing else). Setting 0
       empties the cache; so does any change of token (set_token, a
       provider, workspace secret, private key). */
    MEMBRANE_OPT_CACHE_TTL_MS = 12,
    /* long, 1 to 1000000: the most answers the cache keeps; the least
       recently used go first. Default 1024. */
    MEMBRANE_OPT_CACHE_MAX_ENTRIES = 13
};

/* Flags for membrane_client_use_workspace_secret and
   membrane_client_use_private_key. */
/* A workspace management token: isAdmin true, no tenantKey (tenant_key NULL). */
#define MEMBRANE_TOKEN_ADMIN 1u
/* Sign with HS256 instead of HS512 (workspace secret only). */
#define MEMBRANE_TOKEN_HS256 2u

/* ---------------------------------------------------------------------------
 * Library
 * ------------------------------------------------------------------------- */

/*
 * The version of the library loaded at run time, e.g. "0.2.0" (the header's
 * MEMBRANE_VERSION_STRING is the version compiled against).
 * Return value: static storage; never NULL. Thread-safe.
 */
const char *membrane_version(void);

/*
 * The version of the library loaded at run time as 0xMMmmpp, to compare
 * with MEMBRANE_VERSION_NUM: a host built against 0.2 can check
 * membrane_version_num() >> 16 == MEMBRANE_VERSION_MAJOR. Thread-safe.
 */
unsigned int membrane_version_num(void);

/*
 * A short English description of a return code, e.g. "not found".
 * Unknown codes give "unknown error code".
 * Return value: static storage; never NULL. Thread-safe.
 */
const char *membrane_strerror(int code);

/* ---------------------------------------------------------------------------
 * Client
 * ------------------------------------------------------------------------- */

/*
 * A client: the API's address, a token, options, and a pool of kept-alive
 * connections. Opaque.
 *
 * Thread-safety: one client may be used by many threads at once for lookups
 * (membrane_integration_get). Set options before the client is shared;
 * membrane_client_free must not race with any other call on the client.
 */
typedef struct membrane_client membrane_client;

/*
 * Creates a client.
 *
 * out:     receives the new client, to be freed with membrane_client_free;
 *          NULL on failure.
 * api_url: the API's base URL, http:// or https://, e.g.
 *          "https://api.getmembrane.com". NULL reads the environment variable
 *          MEMBRANE_API_URL, and falls back to "https://api.getmembrane.com".
 * token:   the API token (sent as "Authorization: Bearer <token>"). NULL
 *          reads MEMBRANE_TOKEN; without it, MEMBRANE_WORKSPACE_KEY and
 *          MEMBRANE_WORKSPACE_SECRET make the client sign its own tokens
 *          (HS512; for MEMBRANE_TENANT_KEY, or admin tokens without it; see
 *          membrane_client_use_workspace_secret). The library keeps its own
 *          copy.
 * err:     may be NULL.
 *
 * Returns MEMBRANE_OK; MEMBRANE_EINVAL for a NULL `out`, a malformed URL or a
 * token holding control characters; MEMBRANE_EAUTH when no token is given or
 * configured; MEMBRANE_EINTERNAL when libcurl cannot be initialised.
 * Thread-safe.
 *
 * The first call in a process also does the library's one-time set-up (a
 * few milliseconds): it runs each kind of call once against canned answers
 * on a socket of its own on 127.0.0.1, so that nothing is first set up
 * while threads share a client. Thread checkers (valgrind's helgrind and
 * DRD) then report no errors in libmembrane; share/membrane/membrane.supp
 * holds suppressions for the libraries it uses.
 */
int membrane_client_new(membrane_client **out, const char *api_url, const char *token,
                        membrane_error *err);

/*
 * Frees a client and closes its connections. NULL is a no-op. References
 * returned by earlier lookups stay valid.
 *
 * Requests started with the *_async calls and not yet delivered are
 * delivered before it returns, on the calling thread: finished ones with
 * their results, the others with MEMBRANE_ECANCELED. Their callbacks may not
 * start new requests on this client (that returns MEMBRANE_ECANCELED). It
 * stops the client's I/O thread and closes its completion fd.
 */
void membrane_client_free(membrane_client *client);

/*
 * Sets a numeric option (MEMBRANE_OPT_TIMEOUT_MS, MEMBRANE_OPT_CONNECT_TIMEOUT_MS,
 * MEMBRANE_OPT_MAX_RETRIES, MEMBRANE_OPT_RETRY_BASE_MS,
 * MEMBRANE_OPT_MAX_RESPONSE_BYTES, MEMBRANE_OPT_MAX_PARALLEL,
 * MEMBRANE_OPT_MAX_PAGES, MEMBRANE_OPT_TOKEN_LIFETIME_S, MEMBRANE_OPT_SHARE_REQUESTS,
 * MEMBRANE_OPT_CACHE_TTL_MS, MEMBRANE_OPT_CACHE_MAX_ENTRIES).
 *
 * Returns MEMBRANE_OK; MEMBRANE_EINVAL for a NULL client, an unknown option,
 * an option that takes a string, or a value out of range.
 * Thread-safety: safe to call, but set options before sharing the client;
 * a call already in flight keeps the options it started with.
 */
int membrane_client_set_long(membrane_client *client, int option, long value);

/*
 * Sets a string option (MEMBRANE_OPT_USER_AGENT, MEMBRANE_OPT_CA_FILE). The
 * library keeps its own copy of `value`.
 *
 * Returns MEMBRANE_OK; MEMBRANE_EINVAL for a NULL client, an unknown option,
 * an option that takes a number, a value that is not UTF-8 or holds control
 * characters, or NULL where the option needs a value.
 * Thread-safety: as membrane_client_set_long.
 */
int membrane_client_set_string(membrane_client *client, int option, const char *value);

/*
 * Drops the cached answer for `selector` (see MEMBRANE_OPT_CACHE_TTL_MS), or
 * every cached answer when `selector` is NULL. A selector not in the cache
 * is not an error. A lookup of that selector in flight meanwhile does not
 * store its answer, and a lookup started afterwards sends a request of its
 * own rather than share one sent before (lookups of other selectors are
 * not affected). Selectors are cached as given: invalidating a key leaves
 * the same integration cached under its id.
 *
 * Returns MEMBRANE_OK; MEMBRANE_EINVAL for a NULL client or a selector that
 * is not valid UTF-8 or too long. Thread-safe.
 */
int membrane_client_invalidate(membrane_client *client, const char *selector);

/*
 * Makes every call in flight on `client` return MEMBRANE_ECANCELED, within
 * 100 ms, including one waiting between retries; every request started by
 * a *_async call and not yet finished is cancelled as by
 * membrane_request_cancel(). Calls started afterwards run normally. Meant to be called from another thread (a shutdown path, a
 * signal-handling thread, a UI's cancel button).
 *
 * Returns MEMBRANE_OK, or MEMBRANE_EINVAL for a NULL client.
 * Thread-safe; not async-signal-safe.
 */
int membrane_client_cancel(membrane_client *client);

/* ---------------------------------------------------------------------------
 * Tokens
 *
 * A client's token comes from one of: a fixed token (membrane_client_new,
 * membrane_client_set_token), a provider callback, or tokens the client
 * signs itself with the workspace secret or a private key. Each call replaces
 * the one before; calls already in flight keep the token they started with.
 * Provided and signed tokens are renewed before they expire (read from the
 * JWT's `exp`: when less than a tenth of its lifetime or 60 s remains,
 * whichever is less). After a 401, a lookup gets one new token and one more
 * attempt, never more; a fixed token is not retried, and when its `exp` has
 * passed the message says when it expired. Tokens, secrets and keys never
 * appear in a message or log line, and the library wipes its copies of
 * secrets when they are replaced or the client is freed.
 * ------------------------------------------------------------------------- */

/*
 * Replaces the token with `token` (copied; the same checks as in
 * membrane_client_new).
 *
 * Returns MEMBRANE_OK; MEMBRANE_EINVAL for a NULL client or token, or a token
 * that is too long (16 KiB), not UTF-8 or holds control characters;
 * MEMBRANE_EAUTH for an empty token.
 * Thread-safe.
 */
int membrane_client_set_token(membrane_client *client, const char *token, membrane_error *err);

/*
 * A token provider: writes a NUL-terminated token of at most size - 1 bytes
 * into `buf` and returns 0, or returns non-zero to fail the lookups waiting
 * for it with MEMBRANE_EAUTH. `size` is 16385. `payload` is the pointer given
 * to membrane_client_set_token_provider.
 *
 * Called before the client's first request, when its token is about to
 * expire, and once after a 401; never twice at once for one client. It runs
 * on a thread the library starts, so it must be safe to call from any
 * thread. A lookup that waits for it longer than its MEMBRANE_OPT_TIMEOUT_MS
 * fails with MEMBRANE_ETIMEOUT (the provider's answer still serves the next
 * lookups). A token that is empty, too long, not NUL-terminated or holds
 * control characters fails them with MEMBRANE_EAUTH.
 */
typedef int (*membrane_token_provider)(void *payload, char *buf, size_t size);

/*
 * Makes `provider` the client's source of tokens (see membrane_token_provider).
 *
 * Returns MEMBRANE_OK, or MEMBRANE_EINVAL for a NULL client or provider.
 * Thread-safe. `payload` must stay valid until the provider is replaced
 * and the client freed.
 */
int membrane_client_set_token_provider(membrane_client *client, membrane_token_provider provider,
                                       void *payload, membrane_error *err);

/*
 * Makes the client sign its own tokens (JWTs with the claims workspaceKey,
 * tenantKey or isAdmin, iat and exp) with the workspace secret: HS512, or
 * HS256 with MEMBRANE_TOKEN_HS256. For `tenant_key`; or, with tenant_key
 * NULL and MEMBRANE_TOKEN_ADMIN in `flags`, workspace management tokens
 * (isAdmin: true). They live MEMBRANE_OPT_TOKEN_LIFETIME_S and are renewed
 * before they expire. Signing uses OpenSSL's libcrypto. The key and secret
 * are copied.
 *
 * Returns MEMBRANE_OK; MEMBRANE_EINVAL for a NULL client, key or secret, an
 * empty or over-long one (keys: 1024 bytes, secret: 16 KiB), control
 * characters, unknown flags, a NULL tenant_key without MEMBRANE_TOKEN_ADMIN
 * or one given with it.
 * Thread-safe.
 */
int membrane_client_use_workspace_secret(membrane_client *client, const char *workspace_key,
                                         const char *workspace_secret, const char *tenant_key,
                                         unsigned int flags, membrane_error *err);

/*
 * As membrane_client_use_workspace_secret, signing with the private key in
 * the PEM file at `pem_path` (unencrypted; read once, here): ES256 for an EC
 * P-256 key, RS256 for an RSA key of 2048 bits or more. For workspaces that
 * uploaded the matching public key. `flags`: 0 or MEMBRANE_TOKEN_ADMIN.
 *
 * Returns MEMBRANE_OK; MEMBRANE_EINVAL as above, or for a file that cannot be
 * read or holds no such key.
 * Thread-safe.
 */
int membrane_client_use_private_key(membrane_client *client, const char *workspace_key,
                                    const char *pem_path, const char *tenant_key,
                                    unsigned int flags, membrane_error *err);

/* Levels of the lines membrane_client_set_log delivers. */
enum {
    MEMBRANE_LOG_WARNING = 2, /* a request failed, got a 5xx, or is being retried */
    MEMBRANE_LOG_INFO    = 3  /* a request got an answer */
};

/*
 * Receives a client's log lines: one per request attempt, e.g.
 *   "GET /integrations/hubspot?includeSecrets=false: 200 (attempt 1, 3 ms)"
 * and one per retry, e.g.
 *   "GET /integrations/x?includeSecrets=false: retrying in 180 ms (attempt 2 of 3)".
 * Lines never hold the token or secret values.
 *
 * callback: called with a level (MEMBRANE_LOG_*), a NUL-terminated UTF-8
 *           line (borrowed: valid only during the callback) and `payload`.
 *           It runs on the thread that made the call, while the call runs,
 *           so several threads may call it at once; it must not call back
 *           into this client. NULL turns logging off (the default).
 * payload:  passed through untouched.
 *
 * Returns MEMBRANE_OK, or MEMBRANE_EINVAL for a NULL client.
 * Thread-safety: as membrane_client_set_long.
 */
int membrane_client_set_log(membrane_client *client,
                            void (*callback)(int level, const char *message, void *payload),
                            void *payload);

/* ---------------------------------------------------------------------------
 * Integrations
 * ------------------------------------------------------------------------- */

/*
 * Looks up one integration: GET {api}/integrations/{selector}.
 *
 * client:   a client from membrane_client_new.
 * selector: the integration's id, uuid or key (catalog keys start with "~"),
 *           1 to 1024 bytes of UTF-8. It is sent percent-encoded as exactly
 *           one path segment.
 * flags:    0, or MEMBRANE_INCLUDE_SECRETS.
 * out:      on success, the integration object exactly as the API sent it,
 *           unknown fields included; NULL on failure.
 *           Return value: New reference (release with json_decref or
 *           membrane_json_release).
 * err:      may be NULL.
 *
 * The body is checked before it is handed out: it must be a JSON object with
 * a string "name", and every known field present must have its documented
 * type; otherwise MEMBRANE_EPROTOCOL names the field.
 *
 * Failures: a 429, 502, 503 or 504, or a connection that failed before any
 * response byte arrived, is retried (MEMBRANE_OPT_MAX_RETRIES), and the last
 * attempt's error is reported; err->message then says how many attempts
 * were made. The whole call, waits included, ends within
 * MEMBRANE_OPT_TIMEOUT_MS (plus a few milliseconds); a Retry-After that
 * reaches past it ends the call at once. Redirects are not followed: a 3xx
 * is MEMBRANE_EPROTOCOL naming the status and the Location.
 *
 * Returns MEMBRANE_OK, or MEMBRANE_EINVAL (bad argument, no request made),
 * MEMBRANE_EAUTH, MEMBRANE_EACCESS, MEMBRANE_ENOTFOUND, MEMBRANE_ERATELIMIT,
 * MEMBRANE_EBADREQUEST, MEMBRANE_ESERVER (see err->error_id),
 * MEMBRANE_ENETWORK, MEMBRANE_ETIMEOUT, MEMBRANE_ETLS, MEMBRANE_EPROTOCOL,
 * MEMBRANE_EINTERNAL, MEMBRANE_ECANCELED.
 * Thread-safe: many threads may look up through one client at once.
 */
int membrane_integration_get(membrane_client *client, const char *selector, unsigned int flags,
                             json_t **out, membrane_error *err);

/*
 * Looks up one integration, as membrane_integration_get does, and hands back
 * the response body as text instead of a json_t: for hosts that parse JSON
 * themselves (Python's json.loads, an FFI without jansson).
 *
 * out:    on success, the body exactly as the API sent it (after content
 *         decoding: gzip and deflate are undone), NUL-terminated UTF-8.
 *         The caller owns it and frees it with membrane_free(). NULL on
 *         failure.
 * length: may be NULL; on success receives the body's length in bytes,
 *         without the terminating NUL (0 on failure).
 *
 * The body passes the same checks as membrane_integration_get's (valid JSON,
 * an object with a string "name", documented types), so the text always
 * parses; it is not serialised again. Same arguments, retries, deadline,
 * return codes and thread-safety as membrane_integration_get.
 */
int membrane_integration_get_text(membrane_client *client, const char *selector, unsigned int flags,
                                  char **out, size_t *length, membrane_error *err);

/*
 * Looks up many integrations at once, concurrently: over at most
 * MEMBRANE_OPT_MAX_PARALLEL reused connections (one request at a time on
 * each over HTTP/1.1; up to 16 streams on each once the server is seen to
 * speak HTTP/2), each with the same
 * retry and deadline rules as membrane_integration_get (a request's
 * deadline starts when the request starts). A selector given twice is
 * fetched once; each of its places gets its own copy.
 *
 * selectors: `count` selectors; each non-NULL. May be NULL when count is 0.
 * count:     0 to 1000000.
 * flags:     0, or MEMBRANE_INCLUDE_SECRETS.
 * out:       on success, a new array of `count` elements in input order.
 *            Each element is the integration, or, for a selector that failed,
 *            an object {"error": {"code": int, "http_status": int,
 *            "type": str, "key": str, "message": str, "error_id": str}}
 *            (an invalid selector gives code MEMBRANE_EINVAL there).
 *            Return value: New reference. NULL on failure.
 * err:       may be NULL.
 *
 * Returns MEMBRANE_OK even when some (or all) lookups failed; the whole call
 * fails only with MEMBRANE_EINVAL (NULL client or out, NULL selectors with
 * count > 0, a NULL element, count too large, unknown flags),
 * MEMBRANE_EINTERNAL, or MEMBRANE_ECANCELED (membrane_client_cancel).
 * Thread-safe.
 */
int membrane_integrations_get_many(membrane_client *client, const char *const *selectors, size_t count,
                                   unsigned int flags, json_t **out, membrane_error *err);

/*
 * Reads one page of integrations: GET {api}/integrations?{query}.
 *
 * query: NULL, or an object of the API's parameters (borrowed reference),
 *        e.g. {"limit": 100, "search": "crm", "includeArchived": true,
 *        "connectorId": "...", "cursor": "..."}. Values are strings,
 *        integers, reals or booleans; they are percent-encoded.
 * out:   on success, the page {"items": [...], "cursor": "..."} exactly as
 *        the API sent it ("cursor" is absent on the last page), each item
 *        checked like a single integration.
 *        Return value: New reference. NULL on failure.
 * err:   may be NULL.
 *
 * Returns MEMBRANE_OK; MEMBRANE_EINVAL for a NULL client or out, a query
 * that is not an object or holds a value of another type; otherwise the
 * codes of membrane_integration_get.
 * Thread-safe.
 */
int membrane_integrations_list(membrane_client *client, const json_t *query, json_t **out,
                               membrane_error *err);

/*
 * Reads every page of integrations matching `query` (as for
 * membrane_integrations_list; a "cursor" in it is where reading starts),
 * following the cursor until a page has none.
 *
 * out:  on success, a new array of all the items, in order.
 *       Return value: New reference. NULL on failure.
 *
 * A server that hands out a cursor it handed out before, or more pages than
 * MEMBRANE_OPT_MAX_PAGES, ends the call with MEMBRANE_EPROTOCOL rather than
 * looping forever. Returns the codes of membrane_integrations_list.
 * Thread-safe.
 */
int membrane_integrations_list_all(membrane_client *client, const json_t *query, json_t **out,
                                   membrane_error *err);

/* ---------------------------------------------------------------------------
 * Lookups that do not block: for event loops
 *
 * The *_async calls start a request and return at once. The requests of one
 * client run on one I/O thread of its own (started by the first *_async
 * call; none per request), over the client's kept-alive connections: at most
 * MEMBRANE_OPT_MAX_PARALLEL of them, each carrying one request at a time
 * over HTTP/1.1 and up to 16 as streams once the server is seen to speak
 * HTTP/2. Requests beyond that wait, in the order they were started. Each
 * request follows the rules of its blocking twin: retries, its own deadline
 * (MEMBRANE_OPT_TIMEOUT_MS from the moment it is started), the size limit,
 * tokens (renewed without blocking the I/O thread; one more attempt after a
 * 401) and the same return codes.
 *
 * A finished request waits in the client's completion queue until the host
 * calls membrane_client_dispatch(), which runs its callback on the calling
 * thread. membrane_client_completion_fd() is a file descriptor that is
 * readable while the queue holds anything: add it to poll(), epoll, libuv,
 * libevent, GLib or asyncio, and call membrane_client_dispatch() when it is.
 * The model is librdkafka's rd_kafka_queue_io_event_enable(): the host's
 * loop stays in charge, and no callback ever runs on a library thread.
 *
 * Every request a *_async call accepted (it returned MEMBRANE_OK) has its
 * callback run exactly once: with its result, with MEMBRANE_ECANCELED after
 * membrane_request_cancel() or membrane_client_cancel(), or from
 * membrane_client_free(). A call that returns an error has accepted
 * nothing and never runs the callback.
 * ------------------------------------------------------------------------- */

/*
 * The callback of membrane_integration_get_async (and of the async batch and
 * listing calls, which hand over their array or page in `integration`).
 *
 * payload:     the pointer given when the request was started.
 * code:        MEMBRANE_OK, or a MEMBRANE_E* code as membrane_integration_get
 *              returns it.
 * integration: on success, the result. Return value: New reference (the
 *              callback owns it and releases it with json_decref() or
 *              membrane_json_release()). NULL on failure.
 * err:         borrowed; valid only during the callback. Filled as
 *              membrane_integration_get fills its `err`; code and empty
 *              strings on success.
 *
 * Runs inside membrane_client_dispatch() (or membrane_client_free()), on
 * that caller's thread, with no library lock held: it may start requests,
 * cancel others, and call membrane_client_dispatch() itself. It must not
 * free the client.
 */
typedef void (*membrane_integration_callback)(void *payload, int code, json_t *integration,
                                              const membrane_error *err);

/*
 * The callback of membrane_integration_get_text_async.
 *
 * text:   on success, the body as membrane_integration_get_text hands it
 *         out, NUL-terminated; borrowed, valid only during the callback
 *         (copy it to keep it). NULL on failure.
 * length: its length in bytes without the NUL; 0 on failure.
 * Otherwise as membrane_integration_callback.
 */
typedef void (*membrane_text_callback)(void *payload, int code, const char *text, size_t length,
                                       const membrane_error *err);

/*
 * Starts looking up one integration, as membrane_integration_get does, and
 * returns at once; `callback` receives the result later, from
 * membrane_client_dispatch().
 *
 * selector, flags: as for membrane_integration_get.
 * callback:   must not be NULL.
 * payload:    handed to the callback as it is; may be NULL.
 * request_id: may be NULL; receives the request's id (1 or more, never
 *             reused by the client) for membrane_request_cancel(); 0 on
 *             failure.
 * err:        may be NULL; filled when the call fails (the request's own
 *             errors go to the callback).
 *
 * Returns MEMBRANE_OK (the request is accepted: the callback will run once);
 * MEMBRANE_EINVAL for a NULL client or callback, an invalid selector or
 * unknown flags; MEMBRANE_ECANCELED while membrane_client_free() runs;
 * MEMBRANE_EINTERNAL when the I/O thread or the completion fd cannot be
 * created.
 * Thread-safe: any thread may start requests, including a callback.
 */
int membrane_integration_get_async(membrane_client *client, const char *selector, unsigned int flags,
                                   membrane_integration_callback callback, void *payload,
                                   unsigned long long *request_id, membrane_error *err);

/*
 * membrane_integration_get_text_async: membrane_integration_get_text without
 * blocking, for hosts that parse JSON themselves. Arguments, codes and
 * thread-safety as membrane_integration_get_async.
 */
int membrane_integration_get_text_async(membrane_client *client, const char *selector, unsigned int flags,
                                        membrane_text_callback callback, void *payload,
                                        unsigned long long *request_id, membrane_error *err);

/*
 * membrane_integrations_get_many without blocking: the selectors' requests
 * run on the I/O thread (interleaved with other requests, in order), and
 * the callback runs once, when all have ended, with the array
 * membrane_integrations_get_many would return (code MEMBRANE_OK, a new
 * reference), or with MEMBRANE_ECANCELED and NULL. One request id covers
 * the whole batch. The selectors are copied before the call returns.
 * Argument checks and codes as membrane_integrations_get_many and
 * membrane_integration_get_async. Thread-safe.
 */
int membrane_integrations_get_many_async(membrane_client *client, const char *const *selectors, size_t count,
                                         unsigned int flags, membrane_integration_callback callback,
                                         void *payload, unsigned long long *request_id, membrane_error *err);

/*
 * membrane_integrations_list without blocking: one page; the callback
 * receives the page object. `query` (borrowed) is read before the call
 * returns. Argument checks and codes as membrane_integrations_list and
 * membrane_integration_get_async. Thread-safe.
 */
int membrane_integrations_list_async(membrane_client *client, const json_t *query,
                                     membrane_integration_callback callback, void *payload,
                                     unsigned long long *request_id, membrane_error *err);

/*
 * Cancels one request started by a *_async call: its transfer stops, and
 * its callback is queued at once with MEMBRANE_ECANCELED (the completion
 * fd becomes readable; the next membrane_client_dispatch() runs it).
 *
 * Returns MEMBRANE_OK when the request was cancelled; MEMBRANE_ENOTFOUND
 * when no unfinished request has that id (it has already finished, and its
 * callback has run or is queued with its own result; or the id was never
 * issued); MEMBRANE_EINVAL for a NULL client.
 * Thread-safe, and safe from inside a callback.
 */
int membrane_request_cancel(membrane_client *client, unsigned long long request_id);

/*
 * The client's completion file descriptor: readable while finished
 * requests wait for membrane_client_dispatch(). Level-triggered (it stays
 * readable until the queue is empty; an edge-triggered watcher must
 * dispatch with max 0). The same descriptor for the client's life; the
 * library owns it and closes it in membrane_client_free(): watch it, never
 * read, write or close it. Created by the first call (or the first *_async
 * call) and close-on-exec.
 *
 * Returns the descriptor (>= 0); MEMBRANE_EINVAL for a NULL client;
 * MEMBRANE_EINTERNAL when it cannot be created (err is not available here:
 * errno says why). Thread-safe.
 */
int membrane_client_completion_fd(membrane_client *client);

/*
 * Runs the callbacks of finished requests on the calling thread, oldest
 * first, without blocking: at most `max` of them, or all that are queued
 * when it starts if `max` is 0 (callbacks queued meanwhile wait for the
 * next call, so a callback that starts a request which fails at once
 * cannot keep it running forever).
 *
 * Returns how many callbacks ran (0 when none were waiting);
 * MEMBRANE_EINVAL for a NULL client or a negative `max`.
 * Thread-safe: several threads may dispatch at once (each callback still
 * runs once), though a host usually dispatches from its loop's thread.
 */
int membrane_client_dispatch(membrane_client *client, int max);

/* ---------------------------------------------------------------------------
 * Memory
 * ------------------------------------------------------------------------- */

/*
 * Releases one reference to a JSON value: json_decref() as a real function,
 * for hosts that cannot call jansson's inline one (ctypes, FFIs). NULL is a
 * no-op. Thread-safe for distinct values.
 */
void membrane_json_release(json_t *value);

/*
 * Serialises a JSON value with jansson's json_dumps() flags (JSON_INDENT(n),
 * JSON_SORT_KEYS, JSON_COMPACT, ...). `value` is a borrowed reference.
 * Return value: a new NUL-terminated UTF-8 string to free with
 * membrane_free(); NULL if `value` is NULL or on failure.
 */
char *membrane_json_dumps(const json_t *value, size_t flags);

/*
 * Frees memory the library allocated for the caller (membrane_json_dumps,
 * membrane_integration_get_text). NULL is a no-op. Thread-safe.
 */
void membrane_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* MEMBRANE_H */
