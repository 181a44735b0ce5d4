/* The kernel's test programs' tiny C library: Linux i386 system calls through INT 0x80, printf. */
#ifndef ULIB_H
#define ULIB_H
#include <stdarg.h>
typedef unsigned int u32;
static inline int sys(int n, u32 a, u32 b, u32 c, u32 d, u32 e) {
    int r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e) : "memory");
    return r;
}
#define exit(s) sys(1, (u32)(s), 0, 0, 0, 0)
#define fork() sys(2, 0, 0, 0, 0, 0)
#define read(fd, b, n) sys(3, (u32)(fd), (u32)(b), (u32)(n), 0, 0)
#define write(fd, b, n) sys(4, (u32)(fd), (u32)(b), (u32)(n), 0, 0)
#define open(p, f) sys(5, (u32)(p), (u32)(f), 0, 0, 0)
#define close(fd) sys(6, (u32)(fd), 0, 0, 0, 0)
#define waitpid(p, s, o) sys(7, (u32)(p), (u32)(s), (u32)(o), 0, 0)
#define execve(p, a, e) sys(11, (u32)(p), (u32)(a), (u32)(e), 0, 0)
#define getpid() sys(20, 0, 0, 0, 0, 0)
#define kill(p, s) sys(37, (u32)(p), (u32)(s), 0, 0, 0)
#define brk(a) sys(45, (u32)(a), 0, 0, 0, 0)
#define munmap(a, l) sys(91, (u32)(a), (u32)(l), 0, 0, 0)
#define nanosleep(r, m) sys(162, (u32)(r), (u32)(m), 0, 0, 0)
int mmap2(u32 addr, u32 len, u32 prot, u32 flags, int fd, u32 pgoff);
int printf(const char *fmt, ...);
unsigned strlen(const char *s);
int strcmp(const char *a, const char *b);
void *memset(void *d, int c, unsigned n);
#endif
