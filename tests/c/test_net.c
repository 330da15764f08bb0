/* The address functions of libeks6 through their C ABI: every vector of
 * tests/vectors/ipv6.json (converted to tests/c/vectors.h by make), NULL for each
 * pointer, buffers of size 0, 1 and one short, invalid UTF-8, every status name, and
 * the allocator and table handles. Built with -Wall -Wextra -Werror and ASan/UBSan. */
#include "eks6.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vectors.h"

#include "check.h"

typedef eks6_status (*text_fn)(const char *, char *, size_t, size_t *);

static void expect_text(text_fn f, const char *in, const char *want, const char *what) {
    char buf[128];
    size_t n = 0;
    eks6_status s = f(in, buf, sizeof buf, &n);
    CHECK(s == EKS6_OK, "%s(%s): %s: %s", what, in, eks6_status_name(s), last_error());
    if (s == EKS6_OK) {
        CHECK(strcmp(buf, want) == 0, "%s(%s) = %s, want %s", what, in, buf, want);
        CHECK(n == strlen(want) + 1, "%s(%s) out_len %zu", what, in, n);
    }
}

static void test_vectors(void) {
    for (size_t i = 0; i < sizeof CANONICAL / sizeof CANONICAL[0]; i++) {
        expect_text(eks6_canonical, CANONICAL[i].input, CANONICAL[i].canonical, "canonical");
        expect_text(eks6_expanded, CANONICAL[i].input, CANONICAL[i].expanded, "expanded");
        expect_text(eks6_reverse_name, CANONICAL[i].input, CANONICAL[i].reverse, "reverse");
    }
    for (size_t i = 0; i < sizeof INVALID / sizeof INVALID[0]; i++) {
        char buf[128];
        size_t n = 0;
        eks6_status s = eks6_canonical(INVALID[i], buf, sizeof buf, &n);
        CHECK(s == EKS6_INVALID_ADDRESS, "%s: %s", INVALID[i], eks6_status_name(s));
        CHECK(strstr(last_error(), "invalid IPv6 address") != NULL, "%s: message %s", INVALID[i], last_error());
    }
    for (size_t i = 0; i < sizeof CARVE / sizeof CARVE[0]; i++) {
        uint64_t count = 0;
        eks6_status s = eks6_subnet_count(CARVE[i].parent, CARVE[i].new_len, &count);
        CHECK(s == EKS6_OK && count == CARVE[i].count, "count %s /%u: %s %llu", CARVE[i].parent, CARVE[i].new_len,
              eks6_status_name(s), (unsigned long long)count);
        char buf[128];
        size_t n = 0;
        s = eks6_nth_subnet(CARVE[i].parent, CARVE[i].new_len, CARVE[i].n, buf, sizeof buf, &n);
        CHECK(s == EKS6_OK && strcmp(buf, CARVE[i].nth) == 0, "nth %s #%llu: %s", CARVE[i].parent,
              (unsigned long long)CARVE[i].n, s == EKS6_OK ? buf : last_error());
    }
    for (size_t i = 0; i < sizeof CARVE_INVALID / sizeof CARVE_INVALID[0]; i++) {
        char buf[128];
        size_t n = 0;
        eks6_status s = eks6_nth_subnet(CARVE_INVALID[i].parent, CARVE_INVALID[i].new_len, CARVE_INVALID[i].n, buf,
                                        sizeof buf, &n);
        CHECK(s != EKS6_OK, "%s /%u #%llu should fail (%s)", CARVE_INVALID[i].parent, CARVE_INVALID[i].new_len,
              (unsigned long long)CARVE_INVALID[i].n, CARVE_INVALID[i].why);
    }
    for (size_t i = 0; i < sizeof CONTAINS / sizeof CONTAINS[0]; i++) {
        bool out = !CONTAINS[i].expect;
        eks6_status s = eks6_contains(CONTAINS[i].prefix, CONTAINS[i].addr, &out);
        CHECK(s == EKS6_OK && out == CONTAINS[i].expect, "%s in %s", CONTAINS[i].addr, CONTAINS[i].prefix);
    }
    for (size_t i = 0; i < sizeof AGGREGATE / sizeof AGGREGATE[0]; i++) {
        size_t n = 0;
        eks6_status s = eks6_aggregate(AGGREGATE[i].input, AGGREGATE[i].input_len, NULL, 0, &n);
        CHECK(s == EKS6_BUFFER_TOO_SMALL, "aggregate size query: %s", eks6_status_name(s));
        char *buf = malloc(n);
        s = eks6_aggregate(AGGREGATE[i].input, AGGREGATE[i].input_len, buf, n, &n);
        CHECK(s == EKS6_OK && strcmp(buf, AGGREGATE[i].output) == 0, "aggregate #%zu: %s", i, buf);
        free(buf);
    }
    for (size_t i = 0; i < sizeof URLS / sizeof URLS[0]; i++) {
        char buf[256];
        size_t n = 0;
        eks6_status s = eks6_bracketed_url(URLS[i].scheme, URLS[i].host, URLS[i].port, URLS[i].path, buf, sizeof buf, &n);
        CHECK(s == EKS6_OK && strcmp(buf, URLS[i].url) == 0, "url %s: %s", URLS[i].host, s == EKS6_OK ? buf : last_error());
    }
}

static void test_buffers(void) {
    const char *addr = "2001:db8:0:0:1:0:0:1"; /* canonical: 2001:db8::1:0:0:1, 17 chars + NUL */
    char buf[64];
    size_t n = 0;
    /* The size query. */
    CHECK(eks6_canonical(addr, NULL, 0, &n) == EKS6_BUFFER_TOO_SMALL && n == 18, "size query %zu", n);
    /* 0, 1 and one short: nothing written. */
    size_t sizes[] = {0, 1, 17};
    for (size_t i = 0; i < 3; i++) {
        memset(buf, 'x', sizeof buf);
        n = 0;
        CHECK(eks6_canonical(addr, buf, sizes[i], &n) == EKS6_BUFFER_TOO_SMALL, "len %zu", sizes[i]);
        CHECK(n == 18, "len %zu: out_len %zu", sizes[i], n);
        CHECK(buf[0] == 'x' && buf[16] == 'x', "len %zu: the buffer was written", sizes[i]);
    }
    CHECK(eks6_canonical(addr, buf, 18, &n) == EKS6_OK && strcmp(buf, "2001:db8::1:0:0:1") == 0, "exact fit");
}

static void test_nulls_and_utf8(void) {
    char buf[64];
    size_t n;
    bool b;
    uint64_t u;
    CHECK(eks6_canonical(NULL, buf, sizeof buf, &n) == EKS6_NULL_ARGUMENT, "addr NULL");
    CHECK(strstr(last_error(), "addr") != NULL, "message names the argument: %s", last_error());
    CHECK(eks6_canonical("::1", buf, sizeof buf, NULL) == EKS6_NULL_ARGUMENT, "out_len NULL");
    CHECK(eks6_expanded(NULL, buf, sizeof buf, &n) == EKS6_NULL_ARGUMENT, "expanded NULL");
    CHECK(eks6_reverse_name("::1", buf, sizeof buf, NULL) == EKS6_NULL_ARGUMENT, "reverse NULL");
    CHECK(eks6_subnet_count(NULL, 64, &u) == EKS6_NULL_ARGUMENT, "count prefix NULL");
    CHECK(eks6_subnet_count("2600::/56", 64, NULL) == EKS6_NULL_ARGUMENT, "count out NULL");
    CHECK(eks6_nth_subnet(NULL, 64, 0, buf, sizeof buf, &n) == EKS6_NULL_ARGUMENT, "nth NULL");
    CHECK(eks6_nth_subnet("2600::/56", 64, 0, buf, sizeof buf, NULL) == EKS6_NULL_ARGUMENT, "nth out_len NULL");
    CHECK(eks6_contains(NULL, "::1", &b) == EKS6_NULL_ARGUMENT, "contains prefix NULL");
    CHECK(eks6_contains("::/0", NULL, &b) == EKS6_NULL_ARGUMENT, "contains addr NULL");
    CHECK(eks6_contains("::/0", "::1", NULL) == EKS6_NULL_ARGUMENT, "contains out NULL");
    CHECK(eks6_bracketed_url("http", NULL, -1, "/", buf, sizeof buf, &n) == EKS6_NULL_ARGUMENT, "url host NULL");
    CHECK(eks6_bracketed_url(NULL, "::1", -1, NULL, buf, sizeof buf, &n) == EKS6_OK && strcmp(buf, "http://[::1]/") == 0,
          "url defaults: %s", buf);
    CHECK(eks6_aggregate(NULL, 1, buf, sizeof buf, &n) == EKS6_NULL_ARGUMENT, "aggregate NULL");
    CHECK(eks6_last_error_message(buf, sizeof buf, NULL) == EKS6_NULL_ARGUMENT, "last error out_len NULL");
    /* Ask for the size, then read the message: the first call must not replace it. */
    CHECK(eks6_canonical("2001:db8::35000000", buf, sizeof buf, &n) == EKS6_INVALID_ADDRESS, "bad group");
    size_t need = 0;
    CHECK(eks6_last_error_message(NULL, 0, &need) == EKS6_BUFFER_TOO_SMALL && need > 1, "message size %zu", need);
    char *msg = malloc(need);
    CHECK(msg != NULL && eks6_last_error_message(msg, need, &n) == EKS6_OK && n == need, "message read");
    CHECK(msg != NULL && strstr(msg, "35000000") != NULL, "the address error, not the size query: %s", msg ? msg : "");
    free(msg);
    const char bad[] = {'2', '6', (char)0xff, ':', ':', '1', 0};
    CHECK(eks6_canonical(bad, buf, sizeof buf, &n) == EKS6_INVALID_UTF8, "invalid UTF-8");
    CHECK(eks6_bracketed_url("http", "::1", 70000, "/", buf, sizeof buf, &n) == EKS6_INVALID_URL, "port 70000");
    CHECK(eks6_bracketed_url("http", "::1", 0, "/", buf, sizeof buf, &n) == EKS6_INVALID_URL, "port 0");
    CHECK(eks6_subnet_count("::/0", 128, &u) == EKS6_OUT_OF_RANGE, "2^128 does not fit");
    CHECK(eks6_subnet_count("::/0", 64, &u) == EKS6_OUT_OF_RANGE, "2^64 does not fit");
    CHECK(eks6_subnet_count("::/1", 64, &u) == EKS6_OK && u == (uint64_t)1 << 63, "2^63 fits");
    CHECK(eks6_nth_subnet("2600:1f13:812::1/56", 64, 0, buf, sizeof buf, &n) == EKS6_INVALID_PREFIX, "host bits");
    CHECK(strstr(last_error(), "did you mean 2600:1f13:812::/56?") != NULL, "%s", last_error());
}

/* Subnets past 2^64 (the 128-bit form), the documented size query, and the last error
   kept until the next failure. */
static void test_nth_128_and_size_query(void) {
    char buf[64];
    size_t n = 0;
    eks6_status s = eks6_nth_subnet_128("::/0", 128, UINT64_MAX, UINT64_MAX, buf, sizeof buf, &n);
    CHECK(s == EKS6_OK && strcmp(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128") == 0, "last /128: %s", buf);
    s = eks6_nth_subnet_128("::/0", 128, 1, 0, buf, sizeof buf, &n);
    CHECK(s == EKS6_OK && strcmp(buf, "0:0:0:1::/128") == 0, "2^64: %s", buf);
    s = eks6_nth_subnet_128("2600::/56", 64, 1, 0, buf, sizeof buf, &n);
    CHECK(s == EKS6_OUT_OF_RANGE, "past the last /64: %s", eks6_status_name(s));
    /* The size query: NULL and 0 give the size, write nothing. */
    n = 0;
    s = eks6_canonical("2001:DB8::1", NULL, 0, &n);
    CHECK(s == EKS6_BUFFER_TOO_SMALL && n == strlen("2001:db8::1") + 1, "size query: %s %zu", eks6_status_name(s), n);
    /* Errno-style: a failure sets the message, a success leaves it. */
    CHECK(eks6_canonical("nope", buf, sizeof buf, &n) == EKS6_INVALID_ADDRESS, "a failure");
    char before[256];
    snprintf(before, sizeof before, "%s", last_error());
    CHECK(eks6_canonical("::1", buf, sizeof buf, &n) == EKS6_OK, "a success");
    CHECK(strcmp(before, last_error()) == 0 && strstr(before, "nope"), "kept: %s / %s", before, last_error());
    CHECK(eks6_bracketed_url(NULL, "::1", -5, NULL, buf, sizeof buf, &n) == EKS6_INVALID_URL, "port -5");
    CHECK(strstr(last_error(), "port -5") != NULL, "names the port: %s", last_error());
}

static void test_status_names(void) {
    const eks6_status all[] = {EKS6_OK, EKS6_INVALID_ADDRESS, EKS6_INVALID_PREFIX, EKS6_INVALID_LENGTH, EKS6_OUT_OF_RANGE,
                               EKS6_PREFIX_CONFLICT, EKS6_EXHAUSTED, EKS6_INVALID_URL, EKS6_INVALID_ARGUMENT,
                               EKS6_INVALID_PLAN,
                               EKS6_PLAN_REJECTED, EKS6_REGION_MISMATCH, EKS6_AWS_INVALID_INPUT, EKS6_AWS_NOT_FOUND,
                               EKS6_AWS_CONFLICT, EKS6_AWS_THROTTLED, EKS6_AWS_SERVICE, EKS6_AWS_NETWORK,
                               EKS6_AWS_CREDENTIALS, EKS6_AWS_QUOTA, EKS6_TIMEOUT, EKS6_CANCELLED, EKS6_IO, EKS6_LOCKED,
                               EKS6_PROBE_REFUSED, EKS6_PROBE_TARGET, EKS6_PROBE_NETWORK, EKS6_KUBE_UNAUTHORIZED,
                               EKS6_KUBE_API, EKS6_KUBE_NETWORK, EKS6_INTERNAL,
                               EKS6_NULL_ARGUMENT, EKS6_INVALID_UTF8,
                               EKS6_BUFFER_TOO_SMALL, EKS6_PANIC};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *name = eks6_status_name((uint32_t)all[i]);
        CHECK(strncmp(name, "EKS6_", 5) == 0 && strcmp(name, "EKS6_UNKNOWN_STATUS") != 0, "status %u: %s",
              (unsigned)all[i], name);
    }
    CHECK(strcmp(eks6_status_name(0), "EKS6_OK") == 0, "EKS6_OK");
    CHECK(strcmp(eks6_status_name(9999), "EKS6_UNKNOWN_STATUS") == 0, "unknown");
    CHECK(strcmp(eks6_status_name(UINT32_MAX), "EKS6_UNKNOWN_STATUS") == 0, "unknown max");
    CHECK(strlen(eks6_version()) > 0, "version");
}

static void test_handles(void) {
    const char *used[] = {"2600:1f13:812::/64", "2600:1f13:812:2::/64"};
    eks6_allocator *a = NULL;
    CHECK(eks6_allocator_new("2600:1f13:812::/56", used, 2, &a) == EKS6_OK && a != NULL, "allocator_new: %s", last_error());
    char buf[64];
    size_t n = 0;
    CHECK(eks6_allocator_allocate(a, 64, buf, 1, &n) == EKS6_BUFFER_TOO_SMALL, "too small takes nothing");
    CHECK(eks6_allocator_allocate(a, 64, buf, sizeof buf, &n) == EKS6_OK && strcmp(buf, "2600:1f13:812:1::/64") == 0,
          "first free: %s", buf);
    CHECK(eks6_allocator_allocate(a, 64, buf, sizeof buf, &n) == EKS6_OK && strcmp(buf, "2600:1f13:812:3::/64") == 0,
          "next free: %s", buf);
    CHECK(eks6_allocator_release(a, "2600:1f13:812:1::/64") == EKS6_OK, "release");
    CHECK(eks6_allocator_release(a, "2600:1f13:812:1::/64") == EKS6_PREFIX_CONFLICT, "double release");
    CHECK(eks6_allocator_allocate(a, 48, buf, sizeof buf, &n) == EKS6_INVALID_LENGTH, "shorter than parent");
    CHECK(eks6_allocator_allocate(NULL, 64, buf, sizeof buf, &n) == EKS6_NULL_ARGUMENT, "NULL allocator");
    eks6_allocator_free(a);
    eks6_allocator_free(NULL);
    eks6_allocator *full = NULL;
    CHECK(eks6_allocator_new("2600::/63", NULL, 0, &full) == EKS6_OK, "allocator with nothing used");
    CHECK(eks6_allocator_allocate(full, 63, buf, sizeof buf, &n) == EKS6_OK, "the whole parent");
    CHECK(eks6_allocator_allocate(full, 64, buf, sizeof buf, &n) == EKS6_EXHAUSTED, "exhausted: %s", last_error());
    eks6_allocator_free(full);

    eks6_table *t = NULL;
    CHECK(eks6_table_new(&t) == EKS6_OK && t != NULL, "table_new");
    CHECK(eks6_table_insert(t, "2600:1f13:812::/64", 64) == EKS6_OK, "insert /64");
    CHECK(eks6_table_insert(t, "2600:1f13:812:0:46f9::/80", 80) == EKS6_OK, "insert /80");
    CHECK(eks6_table_insert(t, "2600:1f13:812::1/64", 1) == EKS6_INVALID_PREFIX, "strict prefix");
    bool found = false;
    uint64_t v = 0;
    CHECK(eks6_table_lookup(t, "2600:1f13:812:0:46f9::1", &found, &v) == EKS6_OK && found && v == 80, "pod -> node");
    CHECK(eks6_table_lookup(t, "2600:1f13:812::5", &found, &v) == EKS6_OK && found && v == 64, "-> subnet");
    CHECK(eks6_table_lookup(t, "2600:1f13:813::5", &found, &v) == EKS6_OK && !found, "no match");
    CHECK(eks6_table_lookup(t, "bogus", &found, &v) == EKS6_INVALID_ADDRESS, "bad address");
    CHECK(eks6_table_lookup(NULL, "::1", &found, &v) == EKS6_NULL_ARGUMENT, "NULL table");
    eks6_table_free(t);
    eks6_table_free(NULL);
}

/* A small seeded generator (xorshift64*), so every run sees the same garbage. */
static uint64_t rng_state = 0x5eedc0de;
static uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

/* Hostile input: 20,000 seeded strings, mostly from the characters addresses, prefixes
 * and URLs are made of, some any byte, up to 80 long. Every function answers OK or a
 * defined error (never a panic), keeps its buffer rules, and ASan/valgrind watch the
 * memory. */
static void test_garbage(void) {
    static const char alphabet[] = "0123456789abcdefABCDEF:::..//%%[]-x ";
    int panics = 0, oks = 0;
    for (int n = 0; n < 20000; n++) {
        char in[81];
        size_t len = rng() % 81;
        for (size_t i = 0; i < len; i++) {
            uint64_t r = rng();
            in[i] = (r % 8 == 0) ? (char)(1 + (r >> 8) % 255) : alphabet[(r >> 8) % (sizeof alphabet - 1)];
        }
        in[len] = 0;
        char buf[128];
        size_t out = 0;
        eks6_status s[6];
        s[0] = eks6_canonical(in, buf, sizeof buf, &out);
        s[1] = eks6_reverse_name(in, buf, sizeof buf, &out);
        s[2] = eks6_nth_subnet(in, (uint8_t)(rng() % 140), rng() % 1000, buf, sizeof buf, &out);
        bool hit = false;
        s[3] = eks6_contains(in, "2600::1", &hit);
        s[4] = eks6_bracketed_url(NULL, in, (int32_t)(rng() % 70000) - 2, "/", buf, sizeof buf, &out);
        uint64_t count = 0;
        s[5] = eks6_subnet_count(in, (uint8_t)(rng() % 140), &count);
        for (int k = 0; k < 6; k++) {
            if (s[k] == EKS6_PANIC || strcmp(eks6_status_name(s[k]), "EKS6_UNKNOWN_STATUS") == 0) {
                panics++;
                CHECK(0, "garbage #%d (function %d) gave %s: %s", n, k, eks6_status_name(s[k]), last_error());
            }
            oks += s[k] == EKS6_OK;
        }
        if (s[0] == EKS6_OK) {
            CHECK(out == strlen(buf) + 1, "garbage #%d: out_len %zu for %s", n, out, buf);
        }
    }
    CHECK(panics == 0, "%d panics", panics);
    CHECK(oks > 0, "no garbage input was valid: the generator is too hostile to prove much");
}

int main(void) {
    test_nth_128_and_size_query();
    test_vectors();
    test_garbage();
    test_buffers();
    test_nulls_and_utf8();
    test_status_names();
    test_handles();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
