/*
 * The buffer cache: NBUF disk sectors, most recently used first. A hit costs
 * no disk access, which is what makes a page fault "minor" (vmfault.c).
 * A buffer being read is B_BUSY; others wanting it sleep until brelse.
 */
#include "buf.h"
#include "defs.h"
#include "param.h"

static struct buf bufs[NBUF];
static struct buf head;         /* head.next: most recently used */

void binit(void) {
    head.next = head.prev = &head;
    for (int i = 0; i < NBUF; i++) {
        struct buf *b = &bufs[i];
        b->next = head.next;
        b->prev = &head;
        head.next->prev = b;
        head.next = b;
    }
}

static void move_to_front(struct buf *b) {
    b->prev->next = b->next;
    b->next->prev = b->prev;
    b->next = head.next;
    b->prev = &head;
    head.next->prev = b;
    head.next = b;
}

/* The sector, read if it is not cached (*hit says which). NULL on a disk error. */
struct buf *bread(u32 sector, int *hit) {
    struct buf *b;
again:
    for (b = head.next; b != &head; b = b->next) {
        if (b->sector == sector && (b->flags & (B_VALID | B_BUSY))) {
            if (b->flags & B_BUSY) { sleep(b); goto again; }
            b->flags |= B_BUSY;
            move_to_front(b);
            if (hit) *hit = 1;
            return b;
        }
    }
    for (b = head.prev; b != &head; b = b->prev) {      /* least recently used, not busy */
        if (!(b->flags & B_BUSY)) {
            b->sector = sector;
            b->flags = B_BUSY;
            move_to_front(b);
            void *page = b->data;
            int err = ide_io(0, sector, 1, &page, 0);
            if (hit) *hit = 0;
            if (err) { b->flags = 0; wakeup(b); return NULL; }
            b->flags |= B_VALID;
            return b;
        }
    }
    panic("bread: every buffer is busy");
}

void brelse(struct buf *b) {
    b->flags &= ~B_BUSY;
    wakeup(b);
}
