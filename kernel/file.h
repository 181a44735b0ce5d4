/* An open file (file.c). */
#ifndef FILE_H
#define FILE_H
#include "types.h"
#define FD_NONE    0
#define FD_INODE   1            /* a file of the root filesystem */
#define FD_CONSOLE 2
#define FD_MEM     3            /* a pseudo-file: text made at open (/proc/vmstat) */
struct inode;
struct file {
    int type;
    int refs;
    int readable, writable;
    u32 off;
    struct inode *ip;
    char *data;                 /* FD_MEM: kalloc'd page */
    u32 len;
};
#endif
