/*
 * The page cache: pages of files, keyed by (file, page index), so that
 * every process running the same program maps the same frames for its text
 * and read-only data, however it was started (fork, exec, or another
 * process entirely).
 *
 * Only whole pages of read-only file regions come here (vmfault.c decides):
 * they are never written, so one frame serves every sharer. A cached frame
 * is mapped by its sharers (rmap.c) or, once none is left or the page daemon
 * took it, waits on the free page queue, still in the cache: the next fault
 * on it, by anyone, is minor. Only when kalloc reuses the frame does it
 * leave the cache (pageout.c's freeq_forget).
 */
#include "defs.h"
#include "kalloc.h"
#include "vmstat.h"

#define NBUCKET 256

static u32 buckets[NBUCKET];            /* frame numbers, 0: empty */

static u32 *bucket(struct inode *ip, u32 index) {
    return &buckets[((u32)ip / 4 * 31 + index) % NBUCKET];
}

/* The frame holding page `index` of ip, 0 if none. */
u32 pagecache_find(struct inode *ip, u32 index) {
    for (u32 fn = *bucket(ip, index); fn; fn = frames[fn].hnext)
        if (frames[fn].ip == ip && frames[fn].index == index) return fn;
    return 0;
}

void pagecache_insert(u32 fn, struct inode *ip, u32 index) {
    struct frame *f = &frames[fn];
    u32 *b = bucket(ip, index);
    f->ip = ip;
    f->index = index;
    f->hnext = *b;
    f->flags |= F_PCACHE;
    *b = fn;
    vmc.file_frames++;
}

void pagecache_remove(u32 fn) {
    struct frame *f = &frames[fn];
    u32 *pp = bucket(f->ip, f->index);
    while (*pp != fn) pp = &frames[*pp].hnext;
    *pp = f->hnext;
    f->flags &= ~F_PCACHE;
    f->ip = NULL;
    f->hnext = 0;
    vmc.file_frames--;
}
