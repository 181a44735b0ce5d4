/* A cached disk sector (bio.c), and the unit of an ATA transfer (ide.c). */
#ifndef BUF_H
#define BUF_H
#include "types.h"
#define B_VALID 0x1             /* data holds the sector */
#define B_BUSY  0x2             /* someone is using or reading it */
#define B_ERROR 0x4             /* the drive reported an error */
struct buf {
    u32 flags;
    u32 sector;
    u32 refs;
    struct buf *prev, *next;    /* LRU list, most recently used first */
    struct buf *qnext;          /* ide.c's request queue */
    u8 data[512];
};
#endif
