/* fault KIND: does one illegal thing (the kernel must kill it and run on). */
#include "ulib.h"
static const char text_const[] = "x";
static volatile int depth_limit = 1 << 30;
static int recurse(int n) { volatile char pad[1024]; pad[0] = (char)n; if (n > depth_limit) return 0; return recurse(n + 1) + pad[0]; }
int main(int argc, char **argv) {
    if (argc < 2) return 1;
    const char *k = argv[1];
    if (!strcmp(k, "null")) return *(volatile int *)0;
    if (!strcmp(k, "text")) { *(volatile char *)main = 0; return 0; }
    if (!strcmp(k, "kernel")) return *(volatile int *)0xC0100000;
    if (!strcmp(k, "jump")) { ((void (*)(void))0xC0100000)(); return 0; }
    if (!strcmp(k, "exec")) { ((void (*)(void))0x30000000)(); return 0; }
    if (!strcmp(k, "rodata")) { *(volatile char *)text_const = 0; return 0; }
    if (!strcmp(k, "stack")) return recurse(0);
    if (!strcmp(k, "ud2")) { __asm__ volatile("ud2"); return 0; }
    if (!strcmp(k, "cli")) { __asm__ volatile("cli"); return 0; }
    return 1;
}
