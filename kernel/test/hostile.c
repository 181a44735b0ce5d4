/* Hostile inputs: bad pointers and absurd sizes to system calls, bad executables, garbage code,
 * memory exhaustion, and forking until the process table is full. The kernel must survive all. */
#include "ulib.h"

static const unsigned char garbage[] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

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
        if (r == 0) { u32 ts[2] = { 1000, 0 }; for (;;) nanosleep(ts, 0); }
        if (r < 0) break;
        kids[n++] = r;
    }
    printf("hostile: fork failed with %d after %d children\n", r, n);
    int killed = 0;
    for (int i = 0; i < n; i++) { kill(kids[i], 9); if (wait_child(kids[i]) == 9) killed++; }
    r = fork();
    if (r == 0) exit(0);
    printf("hostile: %d children killed and reaped; fork works again: %d\n", killed, r > 0 && wait_child(r) == 0);
    return 0;
}
