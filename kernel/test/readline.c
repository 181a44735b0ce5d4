/* Reads standard input up to a newline (the console's interrupt-driven input) and prints what came. */
#include "ulib.h"
int main(void) {
    char line[128];
    unsigned n = 0;
    while (n < sizeof line - 1) {
        int r = read(0, line + n, sizeof line - 1 - n);
        if (r <= 0) break;
        n += (unsigned)r;
        if (line[n - 1] == '\n') break;
    }
    line[n] = 0;
    printf("readline: %u bytes: %s", n, line);
    return 0;
}
