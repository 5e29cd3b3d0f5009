/*
 * membrane-watch: watch Membrane integrations from a poll() loop, and print
 * a line whenever one of them changes.
 *
 *   membrane-watch [--interval SECONDS] [--once] [--api-url URL] SELECTOR...
 *
 * Every SECONDS (default 5) it starts one membrane_integration_get_async per
 * selector and goes back to poll(). The library runs the requests on its own
 * I/O thread; the loop here watches the client's completion fd and calls
 * membrane_client_dispatch() when it is readable, which runs the callbacks
 * on this thread. No thread of the program's own, no blocking call.
 *
 * A line is printed only when something changes: the first sighting, a new
 * `state`, the integration's `errors` appearing, changing or going away, a
 * lookup failing (or failing differently) and a lookup working again:
 *
 *   2026-12-05T10:00:00Z hubspot: state READY
 *   2026-12-05T10:00:00Z pipedrive: state SETUP_FAILED; errors: 1 (Failed to set up ...)
 *   2026-12-05T10:00:00Z nope: lookup failed: not found (Integration with selector 'nope' not found (HTTP 404 not_found))
 *   2026-12-05T10:05:00Z notion: state BUILDING -> READY
 *
 * SIGINT or SIGTERM stops it cleanly: the handler only writes to a pipe the
 * loop watches (the self-pipe trick), and membrane_client_free() then
 * delivers the callbacks of requests still in flight (as canceled).
 *
 * The token comes from MEMBRANE_TOKEN; the API URL from --api-url, else
 * MEMBRANE_API_URL, else https://api.getmembrane.com (the library's default).
 *
 * Build against an installed libmembrane (see README.md here):
 *   cc -std=c99 -Wall -Wextra -Werror membrane-watch.c \
 *      $(pkg-config --cflags --libs membrane) -o membrane-watch
 */
#define _POSIX_C_SOURCE 200809L /* poll, sigaction, clock_gettime, gmtime_r */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <membrane.h>

enum {
    EXIT_WATCHED = 0, /* stopped by SIGINT/SIGTERM; with --once: every lookup worked */
    EXIT_FAILED = 1,  /* with --once: a lookup failed; or no client, or poll() failed */
    EXIT_USAGE = 2    /* bad command line or --api-url */
};

#define STATE_MAX 64
#define MESSAGE_MAX 160
#define LINE_MAX_BYTES 1024

/* One watched selector: what was last seen of it. */
struct watch {
    const char *selector;      /* borrowed from argv */
    int in_flight;             /* a request was started and its callback has not run */
    int seen;                  /* some result (integration or failure) was recorded */
    int known;                 /* an integration was seen at least once */
    int code;                  /* the last lookup's code: MEMBRANE_OK or a MEMBRANE_E* */
    char state[STATE_MAX];     /* the last integration's `state`, "-" when absent */
    size_t errors;             /* how many entries its `errors` array had */
    char first_error[MESSAGE_MAX]; /* errors[0].message, "" when none */
};

/* Set while membrane_client_free() delivers what is still in flight: those
   callbacks record nothing and print nothing. */
static int stopping;
/* The self-pipe: the signal handler writes the signal's number to [1]. */
static int signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t signal_seen;

static void usage(FILE *to)
{
    fputs("usage: membrane-watch [--interval SECONDS] [--once] [--api-url URL] SELECTOR...\n"
          "\n"
          "Looks the Membrane integrations SELECTOR... (ids, uuids or keys) up every\n"
          "SECONDS, all at once from one thread, and prints a line, stamped with the\n"
          "time (UTC), when one changes: first sighting, its state, its errors, a\n"
          "lookup failing or working again. Runs until SIGINT (Ctrl-C) or SIGTERM.\n"
          "\n"
          "  --interval SECONDS  time between rounds of lookups (default 5; may be\n"
          "                      fractional, e.g. 0.5). A selector whose last lookup\n"
          "                      is still running is skipped for that round.\n"
          "  --once              one round of lookups, print, exit\n"
          "  --api-url URL       the API's base URL (default: $MEMBRANE_API_URL,\n"
          "                      else https://api.getmembrane.com)\n"
          "  --help              show this help\n"
          "\n"
          "The token is read from $MEMBRANE_TOKEN.\n"
          "\n"
          "Exit status:\n"
          "  0  stopped by SIGINT or SIGTERM; with --once: every lookup worked\n"
          "  1  with --once: a lookup failed; or no lookup could be made\n"
          "  2  usage error\n",
          to);
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "membrane-watch: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
    fputs("usage: membrane-watch [--interval SECONDS] [--once] [--api-url URL] SELECTOR...\n"
          "Try 'membrane-watch --help' for more.\n",
          stderr);
    return EXIT_USAGE;
}

/* ---- text helpers ---------------------------------------------------------- */

/* Copies `src` into dst[size] on one line: control characters become '?'
   (a value from the server cannot break the line or move the cursor), and
   a string that does not fit is cut at a UTF-8 boundary. */
static void copy_line(char *dst, size_t size, const char *src)
{
    size_t n = 0;
    if (size == 0)
        return;
    for (; src != NULL && src[n] != '\0' && n + 1 < size; n++) {
        unsigned char c = (unsigned char)src[n];
        dst[n] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
    }
    if (src != NULL && src[n] != '\0')
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--; /* cut: drop the first bytes of a code point that does not fit whole */
    dst[n] = '\0';
}

/* Appends printf-style text to line[LINE_MAX_BYTES]; silently truncates. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void append(char *line, const char *format, ...)
{
    size_t used = strlen(line);
    va_list ap;
    if (used + 1 >= LINE_MAX_BYTES)
        return;
    va_start(ap, format);
    vsnprintf(line + used, LINE_MAX_BYTES - used, format, ap);
    va_end(ap);
}

/* Prints "<UTC time> <selector>: <what>" and flushes (stdout is line-buffered). */
static void print_change(const struct watch *w, const char *what)
{
    char stamp[32] = "";
    char selector[256];
    struct timespec now;
    struct tm tm;

    if (clock_gettime(CLOCK_REALTIME, &now) == 0 && gmtime_r(&now.tv_sec, &tm) != NULL)
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    copy_line(selector, sizeof selector, w->selector[0] != '\0' ? w->selector : "\"\"");
    printf("%s %s: %s\n", stamp, selector, what);
}

/* ---- what changed ------------------------------------------------------------ */

/* An integration arrived for `w`: compare it with what was seen before. */
static void observe_integration(struct watch *w, const json_t *integration)
{
    const json_t *errors = json_object_get(integration, "errors");
    const json_t *first = json_array_get(errors, 0); /* NULL when not an array or empty */
    char state[STATE_MAX], first_error[MESSAGE_MAX], line[LINE_MAX_BYTES] = "";
    size_t count = json_is_array(errors) ? json_array_size(errors) : 0;
    int failed_before = w->seen && w->code != MEMBRANE_OK;

    copy_line(state, sizeof state, json_string_value(json_object_get(integration, "state")));
    if (state[0] == '\0')
        snprintf(state, sizeof state, "-");
    copy_line(first_error, sizeof first_error, json_string_value(json_object_get(first, "message")));

    if (!w->known) {
        /* First sighting (perhaps after failed lookups). */
        append(line, "%sstate %s", failed_before ? "lookup works again; " : "", state);
        if (count > 0)
            append(line, "; errors: %zu (%s)", count, first_error);
    } else {
        int state_changed = strcmp(state, w->state) != 0;
        int errors_changed = count != w->errors || strcmp(first_error, w->first_error) != 0;
        if (failed_before)
            append(line, "lookup works again");
        if (state_changed)
            append(line, "%sstate %s -> %s", line[0] ? "; " : "", w->state, state);
        else if (failed_before)
            append(line, ", state %s", state);
        if (errors_changed) {
            append(line, "%serrors %zu -> %zu", line[0] ? "; " : "", w->errors, count);
            if (count > 0)
                append(line, " (%s)", first_error);
        }
    }
    if (line[0] != '\0')
        print_change(w, line);

    w->seen = w->known = 1;
    w->code = MEMBRANE_OK;
    memcpy(w->state, state, sizeof state);
    w->errors = count;
    memcpy(w->first_error, first_error, sizeof first_error);
}

/* A lookup of `w` failed with `code`: a line when it did not fail this way
   the last time. What was known of the integration is kept, so that the
   line when it works again can say whether its state changed meanwhile. */
static void observe_failure(struct watch *w, int code, const membrane_error *err)
{
    if (!w->seen || w->code != code) {
        char message[MESSAGE_MAX], line[LINE_MAX_BYTES] = "";
        copy_line(message, sizeof message, err != NULL ? err->message : NULL);
        append(line, "lookup failed: %s", membrane_strerror(code));
        if (message[0] != '\0')
            append(line, " (%s)", message);
        if (err != NULL && err->error_id[0] != '\0')
            append(line, " [error id %.64s]", err->error_id);
        print_change(w, line);
    }
    w->seen = 1;
    w->code = code;
}

/* The callback of membrane_integration_get_async: runs inside
   membrane_client_dispatch() (or membrane_client_free()), on this thread. */
static void on_result(void *payload, int code, json_t *integration, const membrane_error *err)
{
    struct watch *w = payload;

    w->in_flight = 0;
    if (!stopping) {
        if (code == MEMBRANE_OK)
            observe_integration(w, integration);
        else
            observe_failure(w, code, err);
    }
    json_decref(integration); /* ours (a new reference); NULL on failure */
}

/* Starts one lookup per selector whose last one has ended. */
static void start_round(membrane_client *client, struct watch *watches, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++) {
        struct watch *w = &watches[i];
        membrane_error err;
        int rc;

        if (w->in_flight)
            continue; /* still waiting for the last round's answer */
        rc = membrane_integration_get_async(client, w->selector, 0, on_result, w, NULL, &err);
        if (rc == MEMBRANE_OK)
            w->in_flight = 1;
        else
            observe_failure(w, rc, &err); /* refused at once, e.g. an invalid selector */
    }
}

static size_t count_in_flight(const struct watch *watches, size_t count)
{
    size_t i, n = 0;
    for (i = 0; i < count; i++)
        n += watches[i].in_flight != 0;
    return n;
}

/* ---- signals and time -------------------------------------------------------- */

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char byte = (unsigned char)sig;
    ssize_t written = write(signal_pipe[1], &byte, 1); /* async-signal-safe */
    (void)written; /* a full pipe already holds a wake-up */
    signal_seen = sig;
    errno = saved;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fdf = fcntl(fd, F_GETFD);
    return fl < 0 || fdf < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, fdf | FD_CLOEXEC) < 0
               ? -1 : 0;
}

static int install_signal_handlers(void)
{
    struct sigaction sa;

    if (pipe(signal_pipe) != 0 || set_flags(signal_pipe[0]) != 0 || set_flags(signal_pipe[1]) != 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -1;
    return 0;
}

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- main ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *api_url = NULL; /* NULL: the library reads MEMBRANE_API_URL */
    double interval = 5.0, next_round;
    int once = 0, options_done = 0, status = EXIT_WATCHED, fd, i, rc;
    size_t count = 0, k;
    struct watch *watches;
    membrane_client *client = NULL;
    membrane_error err;

    watches = calloc((size_t)(argc > 1 ? argc : 1), sizeof *watches);
    if (watches == NULL) {
        fputs("membrane-watch: out of memory\n", stderr);
        return EXIT_FAILED;
    }
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = 1;
        } else if (!options_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            usage(stdout);
            free(watches);
            return 0;
        } else if (!options_done && strcmp(arg, "--once") == 0) {
            once = 1;
        } else if (!options_done && (strcmp(arg, "--interval") == 0 || strncmp(arg, "--interval=", 11) == 0)) {
            char *end;
            value = arg[10] == '=' ? arg + 11 : i + 1 < argc ? argv[++i] : NULL;
            if (value == NULL) {
                free(watches);
                return usage_error("--interval needs a number of seconds", NULL);
            }
            errno = 0;
            interval = strtod(value, &end);
            if (errno != 0 || end == value || *end != '\0' || !(interval >= 0.01 && interval <= 86400)) {
                free(watches);
                return usage_error("--interval wants seconds from 0.01 to 86400", value);
            }
        } else if (!options_done && (strcmp(arg, "--api-url") == 0 || strncmp(arg, "--api-url=", 10) == 0)) {
            api_url = arg[9] == '=' ? arg + 10 : i + 1 < argc ? argv[++i] : NULL;
            if (api_url == NULL) {
                free(watches);
                return usage_error("--api-url needs a URL", NULL);
            }
        } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            free(watches);
            return usage_error("unknown option", arg);
        } else {
            /* A selector given twice is watched once. */
            for (k = 0; k < count && strcmp(watches[k].selector, arg) != 0; k++)
                ;
            if (k == count)
                watches[count++].selector = arg;
        }
    }
    if (count == 0) {
        free(watches);
        return usage_error("missing SELECTOR", NULL);
    }

    /* Line by line, so that a pipe (tee, grep, a log collector) sees each
       change as it happens. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* NULL token: the library reads MEMBRANE_TOKEN (and says EAUTH if unset). */
    rc = membrane_client_new(&client, api_url, NULL, &err);
    if (rc != MEMBRANE_OK) {
        fprintf(stderr, "membrane-watch: %s\n", err.message[0] ? err.message : membrane_strerror(rc));
        free(watches);
        return rc == MEMBRANE_EINVAL ? EXIT_USAGE : EXIT_FAILED;
    }
    fd = membrane_client_completion_fd(client);
    if (fd < 0) {
        perror("membrane-watch: membrane_client_completion_fd");
        membrane_client_free(client);
        free(watches);
        return EXIT_FAILED;
    }
    if (install_signal_handlers() != 0) {
        perror("membrane-watch: signal handlers");
        membrane_client_free(client);
        free(watches);
        return EXIT_FAILED;
    }

    start_round(client, watches, count);
    next_round = monotonic_now() + interval;
    for (;;) {
        struct pollfd fds[2];
        int timeout_ms = -1;

        if (once && count_in_flight(watches, count) == 0)
            break; /* the one round is over */
        if (!once) {
            double wait = next_round - monotonic_now();
            timeout_ms = wait <= 0 ? 0 : (int)(wait * 1000) + 1; /* rounded up */
        }
        fds[0].fd = fd;
        fds[0].events = POLLIN;
        fds[1].fd = signal_pipe[0];
        fds[1].events = POLLIN;
        fds[0].revents = fds[1].revents = 0;
        if (poll(fds, 2, timeout_ms) < 0) {
            if (errno == EINTR)
                continue; /* a signal: the pipe tells which on the next turn */
            perror("membrane-watch: poll");
            status = EXIT_FAILED;
            break;
        }
        if (fds[1].revents != 0) {
            unsigned char drain[16];
            while (read(signal_pipe[0], drain, sizeof drain) > 0)
                ;
            if (signal_seen != 0)
                break; /* SIGINT or SIGTERM: stop */
        }
        if (fds[0].revents & (POLLERR | POLLNVAL)) {
            fputs("membrane-watch: the completion fd failed\n", stderr);
            status = EXIT_FAILED;
            break;
        }
        if (fds[0].revents & POLLIN) {
            /* Level-triggered: whatever is left is seen on the next poll(). */
            if (membrane_client_dispatch(client, 0) < 0) {
                fputs("membrane-watch: membrane_client_dispatch failed\n", stderr);
                status = EXIT_FAILED;
                break;
            }
        }
        if (!once && monotonic_now() >= next_round) {
            start_round(client, watches, count);
            next_round += interval;
            if (next_round < monotonic_now())
                next_round = monotonic_now() + interval; /* fell behind: no burst of rounds */
        }
    }

    /* Requests still in flight are delivered here (as canceled), on this
       thread, before it returns; `watches` must outlive them. */
    stopping = 1;
    membrane_client_free(client);
    if (count_in_flight(watches, count) != 0) {
        fprintf(stderr, "membrane-watch: %zu callbacks did not run\n", count_in_flight(watches, count));
        status = EXIT_FAILED;
    }
    if (status == EXIT_WATCHED && once) {
        if (signal_seen != 0)
            status = EXIT_FAILED; /* interrupted before every lookup ended */
        for (k = 0; k < count; k++)
            if (watches[k].code != MEMBRANE_OK)
                status = EXIT_FAILED;
    }
    free(watches);
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    if (fflush(stdout) != 0) {
        perror("membrane-watch: stdout");
        status = EXIT_FAILED;
    }
    return status;
}
