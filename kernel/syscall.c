/*
 * System calls: INT 0x80 with Linux i386 numbers and registers (EAX the
 * number; EBX, ECX, EDX, ESI, EDI, EBP the arguments; the result in EAX,
 * -errno on failure), so the same static binaries run on Linux. Every user
 * pointer goes through copyin/copyout (vmfault.c): a bad one is -EFAULT.
 */
#include "defs.h"
#include "file.h"
#include "fs.h"
#include "mmu.h"
#include "param.h"
#include "proc.h"
#include "trap.h"

#define EPERM 1
#define ENOENT 2
#define EBADF 9
#define ECHILD 10
#define ENOMEM 12
#define EFAULT 14
#define EINVAL 22
#define EMFILE 24
#define ENOTTY 25
#define EROFS 30
#define ENAMETOOLONG 36
#define ENOSYS 38
#define ENODEV 19

static struct vmspace *uvs(void) { return myproc()->vs; }

static struct file *getfile(int fd) {
    if (fd < 0 || fd >= NOFILE) return NULL;
    return myproc()->ofile[fd];
}

static int fdalloc(struct file *f) {
    struct proc *p = myproc();
    for (int fd = 0; fd < NOFILE; fd++) if (!p->ofile[fd]) { p->ofile[fd] = f; return fd; }
    return -EMFILE;
}

static int sys_exit(u32 status) { proc_exit((int)status); }

static int sys_fork(void) { return proc_fork(); }

/*
 * read and write move at most a page at a time through a kernel bounce page.
 * A read stops early at a short chunk, and at the console after a line.
 */
static int transfer(u32 fd, u32 buf, u32 n, int writing) {
    struct file *f = getfile((int)fd);
    if (!f) return -EBADF;
    if ((int)n < 0) return -EINVAL;
    if (!uaccess_ok(uvs(), buf, n, !writing)) return -EFAULT;
    u8 *bounce = kalloc();
    if (!bounce) return -ENOMEM;
    u32 done = 0;
    int r = 0;
    while (done < n) {
        u32 chunk = n - done > PGSIZE ? PGSIZE : n - done;
        if (writing && copyin(uvs(), bounce, buf + done, chunk) < 0) { r = -EFAULT; break; }
        r = writing ? file_write(f, bounce, chunk) : file_read(f, bounce, chunk);
        if (r <= 0) break;
        if (!writing && copyout(uvs(), buf + done, bounce, (u32)r) < 0) { r = -EFAULT; break; }
        done += (u32)r;
        if (!writing && ((u32)r < chunk || f->type == FD_CONSOLE)) break;
    }
    kfree(bounce);
    return done > 0 ? (int)done : r;
}

static int fetch_path(u32 upath, char *path) {
    int n = copyinstr(uvs(), path, upath, MAXPATH);
    if (n == -1) return -EFAULT;
    if (n == -2) return -ENAMETOOLONG;
    return 0;
}

static int sys_open(u32 upath, u32 flags) {
    char path[MAXPATH];
    int r = fetch_path(upath, path);
    if (r < 0) return r;
    if ((flags & 3) != 0 || (flags & 0x40)) return fs_lookup(path) || (flags & 0x40) ? -EROFS : -ENOENT;  /* O_WRONLY/O_RDWR, O_CREAT */
    int err = 0;
    struct file *f = file_open(path, &err);
    if (!f) return -err;
    int fd = fdalloc(f);
    if (fd < 0) file_close(f);
    return fd;
}

static int sys_close(u32 fd) {
    struct file *f = getfile((int)fd);
    if (!f) return -EBADF;
    myproc()->ofile[fd] = NULL;
    file_close(f);
    return 0;
}

static int sys_waitpid(u32 pid, u32 ustatus, u32 options) {
    if (ustatus && !uaccess_ok(uvs(), ustatus, 4, 1)) return -EFAULT;
    if (options & ~1u) return -EINVAL;
    int status = 0;
    int r = proc_wait((int)pid, &status, (int)options);
    if (r > 0 && ustatus && copyout(uvs(), ustatus, &status, 4) < 0) return -EFAULT;
    return r == -10 ? -ECHILD : r;
}

/* Copy a NULL-terminated vector of strings into the page at buf: pointers first, then the strings. */
static int fetch_vector(u32 uvec, char **vec, u32 max, char **space, u32 *room) {
    u32 n = 0;
    for (;; n++) {
        u32 uptr;
        if (n >= max) return -7;                        /* E2BIG */
        if (uvec == 0) break;
        if (copyin(uvs(), &uptr, uvec + n * 4, 4) < 0) return -EFAULT;
        if (uptr == 0) break;
        int len = copyinstr(uvs(), *space, uptr, *room);
        if (len == -1) return -EFAULT;
        if (len < 0) return -7;
        vec[n] = *space;
        *space += len + 1;
        *room -= (u32)len + 1;
    }
    vec[n] = NULL;
    return 0;
}

static int sys_execve(u32 upath, u32 uargv, u32 uenvp) {
    char path[MAXPATH];
    int r = fetch_path(upath, path);
    if (r < 0) return r;
    char *page = kalloc();
    if (!page) return -ENOMEM;
    char **argv = (char **)page, **envp = argv + MAXARG + 1;
    char *space = (char *)(envp + MAXARG + 1);
    u32 room = PGSIZE - (u32)(space - page);
    r = fetch_vector(uargv, argv, MAXARG, &space, &room);
    if (r == 0) r = fetch_vector(uenvp, envp, MAXARG, &space, &room);
    if (r == 0) r = kexec(path, argv, envp);
    kfree(page);
    return r;
}

static int sys_getpid(void) { return myproc()->pid; }

static int sys_brk(u32 addr) { return (int)vm_brk(uvs(), addr); }

static int sys_munmap(u32 addr, u32 len) { return vm_munmap(uvs(), addr, len); }

/* mmap2: private mappings only, anonymous or of a file; the address is a hint we do not take. */
static int sys_mmap2(u32 addr, u32 len, u32 prot, u32 flags, u32 fd, u32 pgoff) {
    (void)addr;
    if (!(flags & 0x02) || (flags & 0x01) || (flags & 0x10)) return -EINVAL;  /* need MAP_PRIVATE; no MAP_SHARED, MAP_FIXED */
    struct inode *ip = NULL;
    if (!(flags & 0x20)) {                              /* not MAP_ANONYMOUS: a file */
        struct file *f = getfile((int)fd);
        if (!f) return -EBADF;
        if (f->type != FD_INODE) return -ENODEV;
        if (pgoff >= (1u << 20)) return -EINVAL;
        ip = f->ip;
    }
    return (int)vm_mmap(uvs(), len, prot, ip, pgoff * PGSIZE);
}

static int sys_nanosleep(u32 ureq, u32 urem) {
    u32 ts[2];
    if (copyin(uvs(), ts, ureq, sizeof ts) < 0) return -EFAULT;
    if ((int)ts[0] < 0 || ts[1] >= 1000000000u) return -EINVAL;
    u32 nticks = ts[0] > 10000000u ? 0xFFFFFFFFu / 2 : ts[0] * HZ + (ts[1] + 9999999u) / 10000000u;
    u32 until = ticks + nticks;
    while ((i32)(ticks - until) < 0) {
        if (proc_killed()) return -4;                   /* EINTR */
        sleep(&ticks);
    }
    u32 zero[2] = { 0, 0 };
    if (urem && copyout(uvs(), urem, zero, sizeof zero) < 0) return -EFAULT;
    return 0;
}

/*
 * Resource limits: only RLIMIT_RSS (5) does something here, in pages: a
 * process over it replaces its own pages (pageout.c). The others read as
 * unlimited and cannot be set.
 */
#define RLIMIT_RSS 5
#define RLIM_INFINITY 0xFFFFFFFFu

static int sys_getrlimit(u32 resource, u32 ulim) {
    if (resource >= 16) return -EINVAL;
    u32 rss = uvs()->rss_limit, lim[2] = { RLIM_INFINITY, RLIM_INFINITY };
    if (resource == RLIMIT_RSS && rss) lim[0] = rss * PGSIZE;
    return copyout(uvs(), ulim, lim, sizeof lim) < 0 ? -EFAULT : 0;
}

static int sys_setrlimit(u32 resource, u32 ulim) {
    u32 lim[2];
    if (copyin(uvs(), lim, ulim, sizeof lim) < 0) return -EFAULT;
    if (resource != RLIMIT_RSS || lim[0] > lim[1]) return -EINVAL;
    uvs()->rss_limit = lim[0] == RLIM_INFINITY ? 0 : (lim[0] < PGSIZE ? 1 : lim[0] / PGSIZE);
    return 0;
}

static int sys_kill(u32 pid, u32 sig) { return proc_signal((int)pid, (int)sig); }

static int sys_ioctl(u32 fd) { return getfile((int)fd) ? -ENOTTY : -EBADF; }

enum {
    SYS_exit = 1, SYS_fork = 2, SYS_read = 3, SYS_write = 4, SYS_open = 5, SYS_close = 6, SYS_waitpid = 7,
    SYS_execve = 11, SYS_getpid = 20, SYS_kill = 37, SYS_brk = 45, SYS_ioctl = 54, SYS_munmap = 91, SYS_nanosleep = 162,
    SYS_setrlimit = 75, SYS_getrlimit = 76, SYS_mlockall = 152, SYS_munlockall = 153, SYS_ugetrlimit = 191,
    SYS_mmap2 = 192, SYS_exit_group = 252,
};

void syscall(struct trapframe *tf) {
    u32 a = tf->ebx, b = tf->ecx, c = tf->edx, d = tf->esi, e = tf->edi, f = tf->ebp;
    int r;
    switch (tf->eax) {
    case SYS_exit:
    case SYS_exit_group: sys_exit(a); break;
    case SYS_fork: r = sys_fork(); break;
    case SYS_read: r = transfer(a, b, c, 0); break;
    case SYS_write: r = transfer(a, b, c, 1); break;
    case SYS_open: r = sys_open(a, b); break;
    case SYS_close: r = sys_close(a); break;
    case SYS_waitpid: r = sys_waitpid(a, b, c); break;
    case SYS_execve: r = sys_execve(a, b, c); if (r == 0) return; break;  /* the new image's registers stand */
    case SYS_getpid: r = sys_getpid(); break;
    case SYS_kill: r = sys_kill(a, b); break;
    case SYS_brk: r = sys_brk(a); break;
    case SYS_ioctl: r = sys_ioctl(a); break;
    case SYS_munmap: r = sys_munmap(a, b); break;
    case SYS_nanosleep: r = sys_nanosleep(a, b); break;
    case SYS_mmap2: r = sys_mmap2(a, b, c, d, e, f); break;
    case SYS_setrlimit: r = sys_setrlimit(a, b); break;
    case SYS_getrlimit:
    case SYS_ugetrlimit: r = sys_getrlimit(a, b); break;
    case SYS_mlockall: r = vm_mlockall(uvs(), a); break;
    case SYS_munlockall: r = vm_munlockall(uvs()); break;
    default: r = -ENOSYS; break;
    }
    tf->eax = (u32)r;
}
