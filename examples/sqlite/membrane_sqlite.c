/*
 * membrane_sqlite: a loadable SQLite extension that looks integrations up.
 *
 *   sqlite> .load .build/examples/membrane_sqlite
 *   sqlite> select json_extract(membrane_integration('hubspot'), '$.state');
 *   READY
 *
 * membrane_integration(selector [, include_secrets]) returns the integration
 * as JSON text, exactly as the API sent it; NULL when there is no such
 * integration; an SQL error carrying the library's message for any other
 * failure. include_secrets is 0 (the default) or 1.
 *
 * The API URL and token come from the environment, MEMBRANE_API_URL and
 * MEMBRANE_TOKEN, as for every libmembrane host (see README.md).
 *
 * One client per database connection, made on the connection's first call
 * (so the extension loads even before a token is set) and freed when the
 * connection closes. SQLite runs a connection's function calls one at a time,
 * and a libmembrane client may serve several threads anyway, so the
 * extension is as thread-safe as the connection it is loaded into.
 *
 * Build (from the repository root, after `make library`; `make` does this):
 *   cc -std=c99 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden -Wl,-z,nodelete \
 *      -I Include examples/sqlite/membrane_sqlite.c -L .build/release -lmembrane \
 *      -Wl,-rpath,"$PWD/.build/release" -o .build/examples/membrane_sqlite.so
 * -z nodelete: SQLite unloads an extension when the connection that loaded it
 * closes, and libmembrane with it; libmembrane carries the Swift runtime,
 * which is not made to be unloaded (its caches and thread-exit destructors
 * would be left pointing into unmapped memory). Kept loaded, it stays safe.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <stdlib.h>
#include <string.h>

#include <membrane.h>

#define FUNCTION_NAME "membrane_integration"

/* What the functions of one connection share: its client, made lazily. Both
   registrations (one and two arguments) hold a reference. */
struct connection_state {
    membrane_client *client;
    int references;
};

static void release_state(void *pointer)
{
    struct connection_state *state = pointer;
    if (--state->references == 0) {
        membrane_client_free(state->client);
        sqlite3_free(state);
    }
}

/* Reports a failed call as an SQL error: the library's message, which never
   holds the token. */
static void report_failure(sqlite3_context *context, const membrane_error *err)
{
    const char *message = err->message[0] != '\0' ? err->message : membrane_strerror(err->code);
    char *text = sqlite3_mprintf(FUNCTION_NAME ": %s", message);
    if (text == NULL) {
        sqlite3_result_error_nomem(context);
        return;
    }
    sqlite3_result_error(context, text, -1);
    sqlite3_free(text);
}

/* The selector argument: TEXT, without a NUL inside. NULL (with an SQL error
   set) otherwise. */
static const char *selector_argument(sqlite3_context *context, sqlite3_value *value)
{
    const char *selector;
    if (sqlite3_value_type(value) != SQLITE_TEXT) {
        sqlite3_result_error(context, FUNCTION_NAME ": the selector must be text (an id, uuid or key)", -1);
        return NULL;
    }
    selector = (const char *)sqlite3_value_text(value);
    if (selector == NULL) {
        sqlite3_result_error_nomem(context);
        return NULL;
    }
    if (strlen(selector) != (size_t)sqlite3_value_bytes(value)) {
        sqlite3_result_error(context, FUNCTION_NAME ": the selector holds a NUL character", -1);
        return NULL;
    }
    return selector;
}

/* include_secrets: the integer 0 or 1 (SQLite's false and true). */
static int flags_argument(sqlite3_context *context, sqlite3_value *value, unsigned int *flags)
{
    sqlite3_int64 n;
    if (sqlite3_value_type(value) != SQLITE_INTEGER || ((n = sqlite3_value_int64(value)) != 0 && n != 1)) {
        sqlite3_result_error(context, FUNCTION_NAME ": include_secrets must be 0 or 1", -1);
        return 0;
    }
    *flags = n ? MEMBRANE_INCLUDE_SECRETS : 0;
    return 1;
}

static void membrane_integration_function(sqlite3_context *context, int argc, sqlite3_value **argv)
{
    struct connection_state *state = sqlite3_user_data(context);
    const char *selector;
    unsigned int flags = 0;
    membrane_error err;
    char *text = NULL;
    size_t length = 0;
    int rc;

    if ((selector = selector_argument(context, argv[0])) == NULL)
        return;
    if (argc > 1 && !flags_argument(context, argv[1], &flags))
        return;

    /* NULL, NULL: MEMBRANE_API_URL (or the default) and MEMBRANE_TOKEN. A
       failure is reported and tried again on the next call. */
    if (state->client == NULL && membrane_client_new(&state->client, NULL, NULL, &err) != MEMBRANE_OK) {
        report_failure(context, &err);
        return;
    }

    rc = membrane_integration_get_text(state->client, selector, flags, &text, &length, &err);
    if (rc == MEMBRANE_ENOTFOUND) {
        sqlite3_result_null(context);
    } else if (rc != MEMBRANE_OK) {
        report_failure(context, &err);
    } else {
        /* SQLite takes the text and frees it with membrane_free (also when
           it is too long for SQLite, which then reports SQLITE_TOOBIG). */
        sqlite3_result_text64(context, text, length, membrane_free, SQLITE_UTF8);
    }
}

/* The entry point SQLite derives from the file name membrane_sqlite.so. */
__attribute__((visibility("default")))
int sqlite3_membranesqlite_init(sqlite3 *db, char **error_message, const sqlite3_api_routines *api)
{
    struct connection_state *state;
    /* Not deterministic (it asks a server); DIRECTONLY: not callable from
       triggers or views, so a database file cannot make lookups with the
       user's token on its own. */
    int function_flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
    int arguments, rc = SQLITE_OK;

    SQLITE_EXTENSION_INIT2(api);
    state = sqlite3_malloc(sizeof *state);
    if (state == NULL)
        return SQLITE_NOMEM;
    state->client = NULL;
    state->references = 1; /* ours, until both registrations hold theirs */
    for (arguments = 1; arguments <= 2 && rc == SQLITE_OK; arguments++) {
        state->references++;
        /* On failure SQLite calls release_state itself. */
        rc = sqlite3_create_function_v2(db, FUNCTION_NAME, arguments, function_flags, state,
                                        membrane_integration_function, NULL, NULL, release_state);
    }
    release_state(state);
    if (rc != SQLITE_OK && error_message != NULL)
        *error_message = sqlite3_mprintf(FUNCTION_NAME ": could not register the function: %s", sqlite3_errstr(rc));
    return rc;
}
