/*
 * The kernel heap: kmalloc/kmfree for objects smaller than a page, in power-
 * of-two size classes from 16 to 2048 bytes. Each class carves whole frames
 * into blocks and keeps freed blocks on its own list; a block's 8-byte header
 * remembers its class. (Whole pages come from kalloc directly.)
 */
#include "defs.h"
#include "mmu.h"

#define MINSHIFT 4
#define NCLASS   8              /* 16, 32, ..., 2048 */
#define MAGIC    0xA71A5u

struct block { u32 class; u32 magic; struct block *next; };
static struct block *freelists[NCLASS];

void *kmalloc(u32 n) {
    u32 class = 0;
    while ((1u << (class + MINSHIFT)) < n + 8) class++;
    if (class >= NCLASS) panic("kmalloc: %u bytes is too big", n);
    if (!freelists[class]) {
        u8 *page = kalloc();
        if (!page) return NULL;
        u32 size = 1u << (class + MINSHIFT);
        for (u32 off = 0; off + size <= PGSIZE; off += size) {
            struct block *b = (struct block *)(page + off);
            b->class = class;
            b->next = freelists[class];
            freelists[class] = b;
        }
    }
    struct block *b = freelists[class];
    freelists[class] = b->next;
    b->magic = MAGIC;
    return (u8 *)b + 8;
}

void kmfree(void *p) {
    if (!p) return;
    struct block *b = (struct block *)((u8 *)p - 8);
    if (b->magic != MAGIC || b->class >= NCLASS) panic("kmfree: bad pointer %p", (u32)p);
    b->magic = 0;
    b->next = freelists[b->class];
    freelists[b->class] = b;
}
