/* Atlas userland libc: system calls (Linux i386 numbers, int 0x80). */
#ifndef _UNISTD_H
#define _UNISTD_H
#include <stddef.h>
#include <sys/types.h>

#define STDIN_FILENO  0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

extern char **environ;

ssize_t read(int fd, void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n);
int close(int fd);
pid_t fork(void);
int execve(const char *path, char *const argv[], char *const envp[]);
pid_t getpid(void);
void _exit(int status) __attribute__((noreturn));
int brk(void *addr);          /* 0 on success, -1 (ENOMEM) on failure */
void *sbrk(intptr_t increment);
long __brk(unsigned long addr); /* the raw system call: returns the new (or unchanged) break */

/* Raw system call: returns the kernel's result (-errno on error). */
long __syscall(long nr, long a, long b, long c, long d, long e, long f);
#endif
