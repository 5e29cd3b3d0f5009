/*
 * membrane-get: print one Membrane integration as JSON.
 *
 *   membrane-get [--include-secrets] [--api-url URL] SELECTOR
 *
 * The token comes from MEMBRANE_TOKEN; the API URL from --api-url, else
 * MEMBRANE_API_URL, else https://api.getmembrane.com (the library's default).
 * The exit status says what went wrong; see usage() or `membrane-get --help`.
 *
 * Build (from the repository root, after `make`):
 *   cc -std=c99 -Wall -Wextra -Werror -I Include examples/c/membrane-get.c \
 *      -L .build/release -lmembrane -ljansson -Wl,-rpath,"$PWD/.build/release" \
 *      -o membrane-get
 */
#include <stdio.h>
#include <string.h>

#include <membrane.h>

enum {
    EXIT_USAGE = 2,    /* bad command line or invalid argument (MEMBRANE_EINVAL) */
    EXIT_AUTH = 3,     /* MEMBRANE_EAUTH: 401, or no token */
    EXIT_ACCESS = 4,   /* MEMBRANE_EACCESS: 403 */
    EXIT_NOTFOUND = 5, /* MEMBRANE_ENOTFOUND: 404 */
    EXIT_RATELIMIT = 6,
    EXIT_BADREQUEST = 7,
    EXIT_SERVER = 8,
    EXIT_NETWORK = 9,
    EXIT_TIMEOUT = 10,
    EXIT_TLS = 11,
    EXIT_PROTOCOL = 12,
    EXIT_INTERNAL = 13,
    EXIT_CANCELED = 14 /* MEMBRANE_ECANCELED: membrane_client_cancel (not used here) */
};

static void usage(FILE *to)
{
    fputs("usage: membrane-get [--include-secrets] [--api-url URL] SELECTOR\n"
          "\n"
          "Prints the Membrane integration SELECTOR (its id, uuid or key) as JSON.\n"
          "\n"
          "  --include-secrets  ask the API for secret values (e.g. clientSecret)\n"
          "  --api-url URL      the API's base URL (default: $MEMBRANE_API_URL,\n"
          "                     else https://api.getmembrane.com)\n"
          "  --help             show this help\n"
          "\n"
          "The token is read from $MEMBRANE_TOKEN.\n"
          "\n"
          "Exit status:\n"
          "   0  success\n"
          "   2  usage error or invalid argument\n"
          "   3  not authenticated (HTTP 401, or no token)\n"
          "   4  access denied (HTTP 403)\n"
          "   5  not found (HTTP 404)\n"
          "   6  rate limited (HTTP 429)\n"
          "   7  other client error (other HTTP 4xx)\n"
          "   8  server error (HTTP 5xx; the error id is printed when there is one)\n"
          "   9  network error\n"
          "  10  timeout\n"
          "  11  TLS error\n"
          "  12  protocol error (unexpected response)\n"
          "  13  internal error\n"
          "  14  canceled\n",
          to);
}

static int exit_code_for(int code)
{
    switch (code) {
    case MEMBRANE_EINVAL:      return EXIT_USAGE;
    case MEMBRANE_EAUTH:       return EXIT_AUTH;
    case MEMBRANE_EACCESS:     return EXIT_ACCESS;
    case MEMBRANE_ENOTFOUND:   return EXIT_NOTFOUND;
    case MEMBRANE_ERATELIMIT:  return EXIT_RATELIMIT;
    case MEMBRANE_EBADREQUEST: return EXIT_BADREQUEST;
    case MEMBRANE_ESERVER:     return EXIT_SERVER;
    case MEMBRANE_ENETWORK:    return EXIT_NETWORK;
    case MEMBRANE_ETIMEOUT:    return EXIT_TIMEOUT;
    case MEMBRANE_ETLS:        return EXIT_TLS;
    case MEMBRANE_EPROTOCOL:   return EXIT_PROTOCOL;
    case MEMBRANE_ECANCELED:   return EXIT_CANCELED;
    default:                   return EXIT_INTERNAL;
    }
}

/* Prints `membrane-get: <message>` (and the error id of a server error) and
   returns the exit status for err->code. */
static int fail(const membrane_error *err)
{
    const char *message = err->message[0] != '\0' ? err->message : membrane_strerror(err->code);
    fprintf(stderr, "membrane-get: %s\n", message);
    if (err->error_id[0] != '\0')
        fprintf(stderr, "membrane-get: error id: %s\n", err->error_id);
    return exit_code_for(err->code);
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "membrane-get: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
    fputs("usage: membrane-get [--include-secrets] [--api-url URL] SELECTOR\n"
          "Try 'membrane-get --help' for more.\n",
          stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *api_url = NULL; /* NULL: the library reads MEMBRANE_API_URL */
    const char *selector = NULL;
    unsigned flags = 0;
    int options_done = 0;
    int i, rc;
    membrane_client *client = NULL;
    membrane_error err;
    json_t *integration = NULL;
    char *text;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = 1;
        } else if (!options_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            usage(stdout);
            return 0;
        } else if (!options_done && strcmp(arg, "--include-secrets") == 0) {
            flags |= MEMBRANE_INCLUDE_SECRETS;
        } else if (!options_done && strcmp(arg, "--api-url") == 0) {
            if (i + 1 >= argc)
                return usage_error("--api-url needs a URL", NULL);
            api_url = argv[++i];
        } else if (!options_done && strncmp(arg, "--api-url=", 10) == 0) {
            api_url = arg + 10;
        } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            return usage_error("unknown option", arg);
        } else if (selector == NULL) {
            selector = arg;
        } else {
            return usage_error("more than one selector", arg);
        }
    }
    if (selector == NULL)
        return usage_error("missing SELECTOR", NULL);

    /* NULL token: the library reads MEMBRANE_TOKEN (and says EAUTH if unset). */
    rc = membrane_client_new(&client, api_url, NULL, &err);
    if (rc != MEMBRANE_OK)
        return fail(&err);

    rc = membrane_integration_get(client, selector, flags, &integration, &err);
    membrane_client_free(client); /* the integration stays valid */
    if (rc != MEMBRANE_OK)
        return fail(&err);

    text = membrane_json_dumps(integration, JSON_INDENT(2));
    membrane_json_release(integration);
    if (text == NULL) {
        fputs("membrane-get: could not serialise the integration\n", stderr);
        return EXIT_INTERNAL;
    }
    rc = puts(text) < 0 || fflush(stdout) != 0;
    membrane_free(text);
    if (rc) {
        perror("membrane-get: stdout");
        return EXIT_INTERNAL;
    }
    return 0;
}
