/*
 * Memory: one process, one client, lookups of "hubspot" in a loop (each
 * result released); at checkpoints it reads the peak RSS (VmHWM) and the
 * current RSS (VmRSS) from /proc/self/status and ru_maxrss from getrusage.
 *
 *   bench_memory URL TOKEN [LAST]   checkpoints 0, 1000, 10000, LAST/2, LAST (default 100000)
 *
 * Prints one line of JSON: {"checkpoints": [{"lookups": n, "vmhwm_kb": ...,
 * "vmrss_kb": ..., "maxrss_kb": ...}, ...]}.
 */
#include <membrane.h>
#include <sys/resource.h>

#include "bench_common.h"

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t len = strlen(field);
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kb = strtol(line + len + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

static void checkpoint(long lookups, int first)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("%s{\"lookups\": %ld, \"vmhwm_kb\": %ld, \"vmrss_kb\": %ld, \"maxrss_kb\": %ld}",
           first ? "" : ", ", lookups, status_kb("VmHWM"), status_kb("VmRSS"), usage.ru_maxrss);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s URL TOKEN [LAST]\n", argv[0]);
        return 2;
    }
    long last = argc == 4 ? atol(argv[3]) : 100000;
    if (last < 10000) {
        fprintf(stderr, "bench_memory: LAST must be at least 10000\n");
        return 2;
    }
    long marks[] = { 1000, 10000, last / 2, last };
    membrane_client *client;
    membrane_error err;
    if (membrane_client_new(&client, argv[1], argv[2], &err) != MEMBRANE_OK) {
        fprintf(stderr, "bench_memory: membrane_client_new: %s\n", err.message);
        return 1;
    }
    printf("{\"checkpoints\": [");
    checkpoint(0, 1);
    long done = 0;
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        for (; done < marks[m]; done++) {
            json_t *integration = NULL;
            int rc = membrane_integration_get(client, "hubspot", 0, &integration, &err);
            if (rc != MEMBRANE_OK) {
                fprintf(stderr, "bench_memory: lookup %ld: %s (%s)\n", done, membrane_strerror(rc), err.message);
                return 1;
            }
            json_decref(integration);
        }
        checkpoint(done, 0);
    }
    membrane_client_free(client);
    printf("]}\n");
    return 0;
}
