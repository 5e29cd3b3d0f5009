/*
 * membrane-status: look several Membrane integrations up at once and print
 * their status as a table.
 *
 *   membrane-status [--api-url URL] SELECTOR...
 *
 * All the lookups go out in ONE membrane_integrations_get_many call (the
 * library runs them concurrently over reused connections). A selector that
 * fails does not stop the others: its row says why, and the full message
 * goes to stderr.
 *
 *   $ membrane-status hubspot salesforce nope
 *   SELECTOR    NAME        KEY         STATE                   CONNECTED  MISSING PARAMS  NOTE
 *   hubspot     HubSpot     hubspot     READY                   yes        no
 *   salesforce  Salesforce  salesforce  CLIENT_ACTION_REQUIRED  no         no              waiting for user: connect
 *   nope        -           -           -                       -          -               error: not found
 *
 * The token comes from MEMBRANE_TOKEN; the API URL from --api-url, else
 * MEMBRANE_API_URL, else https://api.getmembrane.com (the library's default).
 *
 * Exit status: 0 every selector was looked up, 1 at least one failed (or no
 * lookup could be made: no token, out of memory), 2 usage error.
 *
 * Build against an installed libmembrane (see README.md here):
 *   cc -std=c99 -Wall -Wextra -Werror membrane-status.c \
 *      $(pkg-config --cflags --libs membrane) -o membrane-status
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <membrane.h>

enum {
    EXIT_ALL_FOUND = 0,   /* every selector was looked up */
    EXIT_SOME_FAILED = 1, /* at least one lookup failed, or none could be made */
    EXIT_USAGE = 2        /* bad command line or --api-url */
};

/* The table's columns. */
enum { COL_SELECTOR, COL_NAME, COL_KEY, COL_STATE, COL_CONNECTED, COL_MISSING, COL_NOTE, NCOLS };

static const char *const headers[NCOLS] = {
    "SELECTOR", "NAME", "KEY", "STATE", "CONNECTED", "MISSING PARAMS", "NOTE"
};

/* A cell is a fixed prefix (a string literal, may be "") and a text (the
   selector, or a string borrowed from the result, valid while it lives). */
struct cell {
    const char *prefix;
    const char *text;
};

struct row {
    struct cell cell[NCOLS];
};

static void usage(FILE *to)
{
    fputs("usage: membrane-status [--api-url URL] SELECTOR...\n"
          "\n"
          "Looks the Membrane integrations SELECTOR... (ids, uuids or keys) up at\n"
          "once and prints a table: name, key, state, whether the connection is\n"
          "connected (yes/no, - without a connection), whether parameters are\n"
          "missing, and a note: the action the connection waits for from the\n"
          "user, or why the lookup failed.\n"
          "\n"
          "  --api-url URL  the API's base URL (default: $MEMBRANE_API_URL,\n"
          "                 else https://api.getmembrane.com)\n"
          "  --help         show this help\n"
          "\n"
          "The token is read from $MEMBRANE_TOKEN.\n"
          "\n"
          "Exit status:\n"
          "  0  every selector was looked up\n"
          "  1  at least one lookup failed (or none could be made)\n"
          "  2  usage error\n",
          to);
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "membrane-status: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
    fputs("usage: membrane-status [--api-url URL] SELECTOR...\n"
          "Try 'membrane-status --help' for more.\n",
          stderr);
    return EXIT_USAGE;
}

/* The string member `name` of `object`, or "-" when it is absent or not a
   string. Borrowed from `object`. */
static const char *string_or_dash(const json_t *object, const char *name)
{
    const char *value = json_string_value(json_object_get(object, name));
    return value != NULL ? value : "-";
}

/* "yes"/"no" for a boolean member, "-" when it is absent or not a boolean. */
static const char *yes_no_dash(const json_t *object, const char *name)
{
    const json_t *value = json_object_get(object, name);
    if (json_is_true(value))
        return "yes";
    if (json_is_false(value))
        return "no";
    return "-";
}

/* Fills `row` from one element of membrane_integrations_get_many's array.
   Returns 1 when the element is an integration, 0 when it is a failure
   ({"error": {...}}), which is then reported on stderr. */
static int fill_row(struct row *row, const char *selector, const json_t *item)
{
    const json_t *error = json_object_get(item, "error");
    int i;

    for (i = 0; i < NCOLS; i++) {
        row->cell[i].prefix = "";
        row->cell[i].text = "-";
    }
    row->cell[COL_SELECTOR].text = selector[0] != '\0' ? selector : "\"\"";
    row->cell[COL_NOTE].text = "";

    if (json_is_object(error) && !json_is_string(json_object_get(item, "name"))) {
        int code = (int)json_integer_value(json_object_get(error, "code"));
        const char *message = json_string_value(json_object_get(error, "message"));
        const char *error_id = json_string_value(json_object_get(error, "error_id"));

        row->cell[COL_NOTE].prefix = "error: ";
        row->cell[COL_NOTE].text = membrane_strerror(code); /* e.g. "not found" */
        fprintf(stderr, "membrane-status: %s: %s\n", row->cell[COL_SELECTOR].text,
                message != NULL && message[0] != '\0' ? message : membrane_strerror(code));
        if (error_id != NULL && error_id[0] != '\0')
            fprintf(stderr, "membrane-status: %s: error id: %s\n", row->cell[COL_SELECTOR].text, error_id);
        return 0;
    }

    {
        const json_t *connection = json_object_get(item, "connection");
        const json_t *action = json_object_get(connection, "clientAction");

        row->cell[COL_NAME].text = string_or_dash(item, "name");
        row->cell[COL_KEY].text = string_or_dash(item, "key");
        row->cell[COL_STATE].text = string_or_dash(item, "state");
        row->cell[COL_CONNECTED].text = yes_no_dash(connection, "connected");
        row->cell[COL_MISSING].text = yes_no_dash(item, "hasMissingParameters");
        /* A connection that waits for the user (to connect, reconnect,
           fill in parameters...) says so in clientAction. */
        if (json_is_object(action)) {
            row->cell[COL_NOTE].prefix = "waiting for user: ";
            row->cell[COL_NOTE].text = string_or_dash(action, "type");
        }
    }
    return 1;
}

/* Display width of UTF-8 text, counted in code points (enough for a table). */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static size_t cell_width(const struct cell *cell)
{
    return text_width(cell->prefix) + text_width(cell->text);
}

/* Prints text with control characters replaced by '?', so that a name from
   the server cannot break the table or move the terminal's cursor. */
static void put_text(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        putchar(c < 0x20 || c == 0x7f ? '?' : c);
    }
}

static void print_row(const struct cell *cells, const size_t *widths)
{
    int i, last = NCOLS - 1;
    size_t pad;

    while (last > 0 && cell_width(&cells[last]) == 0)
        last--; /* no trailing spaces */
    for (i = 0; i <= last; i++) {
        put_text(cells[i].prefix);
        put_text(cells[i].text);
        if (i < last)
            for (pad = cell_width(&cells[i]); pad < widths[i] + 2; pad++)
                putchar(' ');
    }
    putchar('\n');
}

int main(int argc, char **argv)
{
    const char *api_url = NULL; /* NULL: the library reads MEMBRANE_API_URL */
    const char **selectors;
    size_t count = 0, i;
    size_t widths[NCOLS];
    struct cell header_cells[NCOLS];
    struct row *rows;
    int options_done = 0, failures = 0, rc, c;
    membrane_client *client = NULL;
    membrane_error err;
    json_t *results = NULL;

    selectors = malloc((size_t)argc * sizeof *selectors); /* argc >= 1: never 0 bytes */
    if (selectors == NULL) {
        fputs("membrane-status: out of memory\n", stderr);
        return EXIT_SOME_FAILED;
    }
    for (c = 1; c < argc; c++) {
        const char *arg = argv[c];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = 1;
        } else if (!options_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            free(selectors);
            usage(stdout);
            return 0;
        } else if (!options_done && strcmp(arg, "--api-url") == 0) {
            if (c + 1 >= argc) {
                free(selectors);
                return usage_error("--api-url needs a URL", NULL);
            }
            api_url = argv[++c];
        } else if (!options_done && strncmp(arg, "--api-url=", 10) == 0) {
            api_url = arg + 10;
        } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            free(selectors);
            return usage_error("unknown option", arg);
        } else {
            selectors[count++] = arg;
        }
    }
    if (count == 0) {
        free(selectors);
        return usage_error("missing SELECTOR", NULL);
    }

    /* NULL token: the library reads MEMBRANE_TOKEN (and says EAUTH if unset). */
    rc = membrane_client_new(&client, api_url, NULL, &err);
    if (rc != MEMBRANE_OK) {
        fprintf(stderr, "membrane-status: %s\n", err.message[0] != '\0' ? err.message : membrane_strerror(rc));
        free(selectors);
        return rc == MEMBRANE_EINVAL ? EXIT_USAGE : EXIT_SOME_FAILED;
    }

    /* One call for every selector. It succeeds even when lookups fail: each
       element of `results` is the integration or {"error": {...}}. */
    rc = membrane_integrations_get_many(client, selectors, count, 0, &results, &err);
    membrane_client_free(client); /* the results stay valid */
    if (rc != MEMBRANE_OK) {
        fprintf(stderr, "membrane-status: %s\n", err.message[0] != '\0' ? err.message : membrane_strerror(rc));
        free(selectors);
        return rc == MEMBRANE_EINVAL ? EXIT_USAGE : EXIT_SOME_FAILED;
    }

    rows = malloc(count * sizeof *rows);
    if (rows == NULL) {
        fputs("membrane-status: out of memory\n", stderr);
        json_decref(results);
        free(selectors);
        return EXIT_SOME_FAILED;
    }
    for (c = 0; c < NCOLS; c++) {
        header_cells[c].prefix = "";
        header_cells[c].text = headers[c];
        widths[c] = text_width(headers[c]);
    }
    for (i = 0; i < count; i++) {
        /* json_array_get: borrowed reference, NULL past the end (never here). */
        if (!fill_row(&rows[i], selectors[i], json_array_get(results, i)))
            failures++;
        for (c = 0; c < NCOLS; c++) {
            size_t w = cell_width(&rows[i].cell[c]);
            if (w > widths[c])
                widths[c] = w;
        }
    }

    print_row(header_cells, widths);
    for (i = 0; i < count; i++)
        print_row(rows[i].cell, widths);
    rc = fflush(stdout);

    free(rows);
    json_decref(results); /* new reference: ours to release (after printing: cells borrow from it) */
    free(selectors);
    if (rc != 0) {
        perror("membrane-status: stdout");
        return EXIT_SOME_FAILED;
    }
    return failures > 0 ? EXIT_SOME_FAILED : EXIT_ALL_FOUND;
}
