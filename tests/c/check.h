/* The tests' shared check macro and last-error helper (header-only, one per test). */
#ifndef EKS6_TEST_CHECK_H
#define EKS6_TEST_CHECK_H

#include <stdio.h>

#include "eks6.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        checks++;                                                        \
        if (!(cond)) {                                                   \
            failures++;                                                  \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                \
            fprintf(stderr, "\n");                                       \
        }                                                                \
    } while (0)

static const char *last_error(void) {
    static char msg[4096];
    size_t n = 0;
    if (eks6_last_error_message(msg, sizeof msg, &n) != EKS6_OK) {
        return "(message too long)";
    }
    return msg;
}

#endif
