/* System call wrappers: Linux i386 numbers, which the Atlas kernel uses too.
 * A result in [-4095, -1] is -errno: errno is set and -1 returned. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
  SYS_exit = 1, SYS_fork = 2, SYS_read = 3, SYS_write = 4, SYS_open = 5,
  SYS_close = 6, SYS_waitpid = 7, SYS_execve = 11, SYS_getpid = 20,
  SYS_kill = 37, SYS_brk = 45, SYS_setrlimit = 75, SYS_munmap = 91,
  SYS_mlockall = 152, SYS_munlockall = 153, SYS_nanosleep = 162,
  SYS_ugetrlimit = 191, SYS_mmap2 = 192,
};

int errno;
char **environ;

static long ret(long r) {
  if ((unsigned long)r > -4096UL) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

#define S0(n) __syscall(n, 0, 0, 0, 0, 0, 0)
#define S1(n, a) __syscall(n, (long)(a), 0, 0, 0, 0, 0)
#define S2(n, a, b) __syscall(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define S3(n, a, b, c) __syscall(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

void _exit(int status) {
  for (;;) S1(SYS_exit, status);
}
pid_t fork(void) { return ret(S0(SYS_fork)); }
ssize_t read(int fd, void *buf, size_t n) { return ret(S3(SYS_read, fd, buf, n)); }
ssize_t write(int fd, const void *buf, size_t n) { return ret(S3(SYS_write, fd, buf, n)); }
int open(const char *path, int flags, ...) {
  int mode = 0;
  if (flags & O_CREAT) {
    __builtin_va_list ap;
    __builtin_va_start(ap, flags);
    mode = __builtin_va_arg(ap, int);
    __builtin_va_end(ap);
  }
  return ret(S3(SYS_open, path, flags, mode));
}
int close(int fd) { return ret(S1(SYS_close, fd)); }
pid_t waitpid(pid_t pid, int *status, int options) { return ret(S3(SYS_waitpid, pid, status, options)); }
pid_t wait(int *status) { return waitpid(-1, status, 0); }
int execve(const char *path, char *const argv[], char *const envp[]) {
  return ret(S3(SYS_execve, path, argv, envp));
}
pid_t getpid(void) { return S0(SYS_getpid); }
int kill(pid_t pid, int sig) { return ret(S2(SYS_kill, pid, sig)); }
int nanosleep(const struct timespec *req, struct timespec *rem) { return ret(S2(SYS_nanosleep, req, rem)); }
int munmap(void *addr, size_t len) { return ret(S2(SYS_munmap, addr, len)); }
int mlockall(int flags) { return ret(S1(SYS_mlockall, flags)); }
int munlockall(void) { return ret(S0(SYS_munlockall)); }
/* ugetrlimit: the old getrlimit (76) clips RLIM_INFINITY to 0x7fffffff. */
int getrlimit(int resource, struct rlimit *rlim) { return ret(S2(SYS_ugetrlimit, resource, rlim)); }
int setrlimit(int resource, const struct rlimit *rlim) { return ret(S2(SYS_setrlimit, resource, rlim)); }

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset) {
  if (offset & 4095) {
    errno = EINVAL;
    return MAP_FAILED;
  }
  long r = __syscall(SYS_mmap2, (long)addr, (long)len, prot, flags, fd, offset >> 12);
  return (void *)ret(r);
}

/* brk(2) as the kernel has it: returns the new break, or the old one when it
 * cannot move it; brk(0) asks for the current one. */
long __brk(unsigned long addr) { return S1(SYS_brk, addr); }

static unsigned long cur_brk;

int brk(void *addr) {
  unsigned long r = (unsigned long)__brk((unsigned long)addr);
  cur_brk = r;
  if (r < (unsigned long)addr) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

void *sbrk(intptr_t inc) {
  if (!cur_brk) cur_brk = (unsigned long)__brk(0);
  unsigned long old = cur_brk;
  if (inc == 0) return (void *)old;
  unsigned long want = old + (unsigned long)inc;
  if ((inc > 0 && want < old) || (inc < 0 && want > old)) {
    errno = ENOMEM;
    return (void *)-1;
  }
  if (brk((void *)want) < 0 || cur_brk != want) {
    errno = ENOMEM;
    return (void *)-1;
  }
  return (void *)old;
}
