/* The kernel test image's /init: runs each test program in a child and reports how it ended. */
#include "ulib.h"

static void report(const char *what, int status) {
    if ((status & 0x7f) == 0) printf("init: %s exited with %d\n", what, (status >> 8) & 0xff);
    else printf("init: %s killed by signal %d\n", what, status & 0x7f);
}

static void run(char **argv) {
    static char *envp[] = { "HOME=/", "TERM=atlas", 0 };
    int pid = fork();
    if (pid == 0) {
        execve(argv[0], argv, envp);
        printf("init: execve %s failed\n", argv[0]);
        exit(127);
    }
    int status = 0;
    int r = waitpid(pid, &status, 0);
    if (r != pid) printf("init: waitpid returned %d\n", r);
    report(argv[1] ? argv[1] : argv[0], status);
}

int main(int argc, char **argv) {
    printf("init: pid %d, argc %d, argv[0] %s\n", getpid(), argc, argv[0]);
    char *hello[] = { "/hello", "a b", "c", 0 };
    run(hello);
    char *demand[] = { "/demand", 0 };
    run(demand);
    static const char *kinds[] = { "null", "text", "kernel", "jump", "exec", "rodata", "stack", "ud2", "cli" };
    for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char *fault[] = { "/fault", (char *)kinds[i], 0 };
        run(fault);
    }
    printf("init: bad pointers: write %d, read %d, open %d, waitpid %d, nosys %d\n",
           write(1, (char *)0xC0000000, 4), read(0, (char *)0, 4), open((char *)0x1234, 0),
           waitpid(-1, (int *)0xC0001000, 0), sys(9999, 0, 0, 0, 0, 0));
    char *nonelf[] = { "/motd", 0 };
    printf("init: execve of a non-ELF: %d\n", execve("/motd", nonelf, 0));
    int fd = open("/motd", 0);
    char buf[128];
    int n = read(fd, buf, sizeof buf - 1);
    if (n >= 0) buf[n] = 0;
    printf("init: /motd (%d bytes): %s", n, buf);
    u32 ts[2] = { 0, 50000000 };
    printf("init: nanosleep %d\n", nanosleep(ts, 0));
    int spinner = fork();
    if (spinner == 0) for (;;) {}
    nanosleep(ts, 0);                   /* returns only if the spinner is preempted */
    int status = 0;
    printf("init: preempted the spinner; kill %d\n", kill(spinner, 9));
    waitpid(spinner, &status, 0);
    report("spinner", status);
    printf("init: done\n");
    return 0;
}
