/* A program built with `cc prog.c $(pkg-config --cflags --libs eks6)`. */
#include <eks6.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    char buf[64];
    size_t n = 0;
    if (eks6_canonical("2600:0:0:0:46f9::1", buf, sizeof buf, &n) != EKS6_OK || strcmp(buf, "2600::46f9:0:0:1") != 0) {
        fprintf(stderr, "eks6_canonical failed\n");
        return 1;
    }
    printf("libeks6 %s: %s; 1 passed, 0 failed\n", eks6_version(), buf);
    return 0;
}
