/*
 * first_lookups.c: 16 threads make their first lookups at the same moment
 * through one fresh client. Run under valgrind's helgrind and DRD by
 * Tests/threadcheck/run.sh, which expects no error from either: any one-time
 * set-up inside the library must have happened before the client was
 * handed out, not race in the threads' first calls.
 *
 * Usage: first_lookups URL [LOOKUPS_PER_THREAD]   (token: mock-token)
 * Prints "N passed, M failed" and exits 0 when every lookup succeeded.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <membrane.h>

#define THREADS 16

static const char *const selectors[] = { "hubspot", "salesforce", "shopify",
                                         "67c05c5f0872bad5078153b9" };

struct worker {
    membrane_client *client;
    pthread_barrier_t *start;
    int index;
    int lookups;
    int ok;
    int failed;
};

static void *work(void *argument)
{
    struct worker *worker = argument;

    /* Everyone starts together, so the first calls really do overlap. */
    pthread_barrier_wait(worker->start);
    for (int i = 0; i < worker->lookups; i++) {
        const char *selector = selectors[(worker->index + i) % 4];
        membrane_error err;
        json_t *integration = NULL;
        char *text = NULL;
        int rc = (i % 2 == 0)
                     ? membrane_integration_get(worker->client, selector, 0, &integration, &err)
                     : membrane_integration_get_text(worker->client, selector, 0, &text, NULL, &err);
        if (rc == MEMBRANE_OK) {
            worker->ok++;
        } else {
            worker->failed++;
            fprintf(stderr, "thread %d: %s: %d %s\n", worker->index, selector, rc, err.message);
        }
        membrane_json_release(integration);
        membrane_free(text);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    membrane_client *client = NULL;
    membrane_error err;
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    pthread_barrier_t start;
    int lookups = argc > 2 ? atoi(argv[2]) : 2;
    int passed = 0, failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [LOOKUPS_PER_THREAD]\n", argv[0]);
        return 2;
    }
    if (membrane_client_new(&client, argv[1], "mock-token", &err) != MEMBRANE_OK) {
        fprintf(stderr, "membrane_client_new: %s\n", err.message);
        return 2;
    }
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){ client, &start, i, lookups, 0, 0 };
        pthread_create(&threads[i], NULL, work, &workers[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        passed += workers[i].ok;
        failed += workers[i].failed;
    }
    pthread_barrier_destroy(&start);
    membrane_client_free(client);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed == THREADS * lookups ? 0 : 1;
}
