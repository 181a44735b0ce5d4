/*
 * Open files: root filesystem files (read-only), the console, and pseudo-
 * files whose text is made when they are opened (/proc/vmstat). A struct
 * file is shared by every descriptor that refers to it (dup by fork), and
 * carries the offset.
 */
#include "defs.h"
#include "file.h"
#include "fs.h"
#include "mmu.h"
#include "param.h"

#define ENOENT 2
#define EISDIR 21
#define ENFILE 23
#define ENOMEM 12

static struct file ftable[NFILE];

static struct file *file_alloc(void) {
    for (int i = 0; i < NFILE; i++) {
        if (ftable[i].refs == 0) {
            memset(&ftable[i], 0, sizeof ftable[i]);
            ftable[i].refs = 1;
            return &ftable[i];
        }
    }
    return NULL;
}

struct file *file_console(int writable) {
    struct file *f = file_alloc();
    if (!f) return NULL;
    f->type = FD_CONSOLE;
    f->readable = !writable;
    f->writable = writable;
    return f;
}

/* Open for reading (the filesystem is read-only). *err gets a positive errno. */
struct file *file_open(const char *path, int *err) {
    struct file *f = file_alloc();
    if (!f) { *err = ENFILE; return NULL; }
    f->readable = 1;
    if (!strcmp(path, "/proc/vmstat")) {
        f->data = kalloc();
        if (!f->data) { f->refs = 0; *err = ENOMEM; return NULL; }
        f->len = (u32)vmstat_format(f->data, PGSIZE);
        if (f->len >= PGSIZE) f->len = PGSIZE - 1;
        f->type = FD_MEM;
        return f;
    }
    struct inode *ip = fs_lookup(path);
    if (!ip) { f->refs = 0; *err = ENOENT; return NULL; }
    if (ip->type == I_DIR) { f->refs = 0; *err = EISDIR; return NULL; }
    f->type = FD_INODE;
    f->ip = ip;
    return f;
}

struct file *file_dup(struct file *f) { f->refs++; return f; }

void file_close(struct file *f) {
    if (--f->refs > 0) return;
    if (f->type == FD_MEM) kfree(f->data);
    f->type = FD_NONE;
}

/* Read into a kernel buffer. */
int file_read(struct file *f, void *dst, u32 n) {
    if (!f->readable) return -9;    /* EBADF */
    switch (f->type) {
    case FD_CONSOLE:
        return console_read(dst, n);
    case FD_MEM: {
        if (f->off >= f->len) return 0;
        if (n > f->len - f->off) n = f->len - f->off;
        memcpy(dst, f->data + f->off, n);
        f->off += n;
        return (int)n;
    }
    case FD_INODE: {
        int r = fs_read(f->ip, dst, f->off, n, NULL);
        if (r < 0) return -5;       /* EIO */
        f->off += (u32)r;
        return r;
    }
    }
    return -9;
}

int file_write(struct file *f, const void *src, u32 n) {
    if (!f->writable || f->type != FD_CONSOLE) return -9;  /* EBADF */
    const char *s = src;
    for (u32 i = 0; i < n; i++) console_putc(s[i]);
    return (int)n;
}
