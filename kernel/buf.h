/* A cached disk sector of the root disk, hda (bio.c). */
#ifndef BUF_H
#define BUF_H
#include "types.h"
#define B_VALID 0x1             /* data holds the sector */
#define B_BUSY  0x2             /* someone is using or reading it */
struct buf {
    u32 flags;
    u32 sector;
    u32 refs;
    struct buf *prev, *next;    /* LRU list, most recently used first */
    u8 data[512];
};
#endif
