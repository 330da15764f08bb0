// The header compiles as C++17 and two functions link and work from C++.
#include "eks6.h"

#include <cstdio>
#include <cstring>
#include <string>

int main() {
    char buf[64];
    size_t n = 0;
    if (eks6_canonical("2001:DB8:0:0:1::1", buf, sizeof buf, &n) != EKS6_OK || std::string(buf) != "2001:db8::1:0:0:1") {
        std::fprintf(stderr, "canonical from C++ failed\n");
        return 1;
    }
    bool in = false;
    if (eks6_contains("2600::46f9:0:0:0/80", "2600::46f9:0:0:1", &in) != EKS6_OK || !in) {
        std::fprintf(stderr, "contains from C++ failed\n");
        return 1;
    }
    std::printf("2 passed, 0 failed\n");
    return 0;
}
