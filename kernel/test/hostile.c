/* Hostile inputs: bad pointers and absurd sizes to system calls, bad executables, garbage code,
 * memory exhaustion, forking until the process table is full (with and without memory touched).
 * The kernel must survive all. Nothing printed may depend on the amount of RAM: QEMU's memory map
 * reserves the top 128 KiB, so its allocator has fewer frames than Atlas386's. */
#include "ulib.h"

static const unsigned char garbage[] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static char vmbuf[4096];

/* frames_free from /proc/vmstat (-1 if it cannot be read). vmbuf is in bss: touch it before the first call. */
static int frames_free(void) {
    int fd = open("/proc/vmstat", 0);
    if (fd < 0) return -1;
    int n = read(fd, vmbuf, sizeof vmbuf - 1);
    close(fd);
    if (n <= 0) return -1;
    vmbuf[n] = 0;
    static const char key[] = "\nframes_free ";
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (key[k] && vmbuf[i + k] == key[k]) k++;
        if (key[k]) continue;
        int v = 0;
        for (char *p = vmbuf + i + k; *p >= '0' && *p <= '9'; p++) v = v * 10 + (*p - '0');
        return v;
    }
    return -1;
}

static void sleep_forever(void) { u32 ts[2] = { 1000, 0 }; for (;;) nanosleep(ts, 0); }

static int wait_child(int pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

int main(void) {
    int fd = open("/motd", 0);
    char *bad_argv[] = { "/hello", (char *)0x1000, 0 };
    printf("hostile: read into text %d, into kernel %d, write from null %d, open unmapped path %d\n",
           read(fd, (char *)main, 8), read(fd, (char *)0xC0000000, 8), write(1, 0, 8), open((char *)0x1000, 0));
    printf("hostile: execve bad path %d, bad argv %d, bad argv string %d\n",
           execve((char *)0x1000, 0, 0), execve("/hello", (char **)0x1000, 0), execve("/hello", bad_argv, 0));
    printf("hostile: waitpid bad status %d, nanosleep bad timespec %d, bad fd %d %d\n",
           waitpid(-1, (int *)0xC0000000, 0), nanosleep(0x1000, 0), read(99, 0, 0), close(99));
    int b0 = brk(0);
    printf("hostile: absurd brk unchanged %d, mmap 3.75 GiB %d, mmap 2 GiB %d, shared %d, munmap unaligned %d\n",
           brk(0xBFFFF000) == b0, mmap2(0, 0xF0000000, 3, 0x22, -1, 0), mmap2(0, 0x7FFFF000, 3, 0x22, -1, 0),
           mmap2(0, 4096, 3, 0x21, -1, 0), munmap(0x1001, 4096));
    printf("hostile: execve truncated ELF %d, non-ELF %d, missing %d, directory-less path %d\n",
           execve("/trunc", 0, 0), execve("/motd", 0, 0), execve("/nope", 0, 0), execve("/", 0, 0));

    int pid = fork();
    if (pid == 0) { ((void (*)(void))garbage)(); exit(0); }
    printf("hostile: garbage code: status %d\n", wait_child(pid));

    pid = fork();
    if (pid == 0) {
        char *m = (char *)mmap2(0, 64 << 20, 3, 0x22, -1, 0);
        for (unsigned i = 0; i < (64u << 20); i += 4096) m[i] = 1;
        exit(0);
    }
    printf("hostile: 64 MiB touched on 32: status %d\n", wait_child(pid));

    int kids[64], n = 0, r;
    for (;;) {
        r = fork();
        if (r == 0) sleep_forever();
        if (r < 0) break;
        kids[n++] = r;
    }
    printf("hostile: fork failed with %d after %d children\n", r, n);
    int killed = 0;
    for (int i = 0; i < n; i++) { kill(kids[i], 9); if (wait_child(kids[i]) == 9) killed++; }
    r = fork();
    if (r == 0) exit(0);
    printf("hostile: %d children killed and reaped; fork works again: %d\n", killed, r > 0 && wait_child(r) == 0);

    /* Fork with 4 MiB touched: fork is copy-on-write, so a child costs a kernel stack and page tables,
     * not 1024 frames, and the process table fills up first, as with nothing touched. Twice: the second
     * round must end with exactly the free frames it began with (the first warms the kernel heap up,
     * which keeps the reverse map's records). */
    int table_full = n;
    char *m = (char *)mmap2(0, 4 << 20, 3, 0x22, -1, 0);
    for (unsigned i = 0; i < (4u << 20); i += 4096) m[i] = 1;
    memset(vmbuf, 0, sizeof vmbuf);
    int before = 0, after = 0, again = 0;
    for (int round = 0; round < 2; round++) {
        before = frames_free();
        n = 0;
        for (;;) {
            r = fork();
            if (r == 0) sleep_forever();
            if (r < 0) break;
            kids[n++] = r;
        }
        killed = 0;
        for (int i = 0; i < n; i++) { kill(kids[i], 9); if (wait_child(kids[i]) == 9) killed++; }
        again = fork();
        if (again == 0) exit(0);
        again = again > 0 && wait_child(again) == 0;
        after = frames_free();
    }
    printf("hostile: 4 MiB touched, fork until the table is full: failed with %d after as many children: %d\n",
           r, n == table_full);
    printf("hostile: all children killed and reaped: %d; fork works again: %d; free frames back to the same count: %d\n",
           killed == n, again, before > 0 && after == before);
    munmap((u32)m, 4 << 20);
    return 0;
}
