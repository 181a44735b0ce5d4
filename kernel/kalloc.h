/* The frame table: one record per physical frame (kalloc.c). */
#ifndef KALLOC_H
#define KALLOC_H
#include "types.h"
enum frame_use {
    FRAME_RESERVED,     /* not RAM we manage: low memory, kernel image, frame table */
    FRAME_FREE,         /* on the free list, or on the free page queue (F_QUEUED) */
    FRAME_KERNEL,       /* kernel data: stacks, page directories, heap */
    FRAME_PGTABLE,      /* a process's page table */
    FRAME_USER,         /* a process's page */
};

/* frame.flags */
#define F_LISTED    0x01    /* on the resident list: a candidate for replacement */
#define F_LOCKED    0x02    /* mlock: never replaced */
#define F_QUEUED    0x04    /* on the free page queue: stolen, contents still valid */
#define F_IO        0x08    /* a disk transfer is in flight: wait for it (sleep on the frame) */
#define F_FILE      0x10    /* holds a page as read from a file (unless the PTE says dirty) */
#define F_READAHEAD 0x20    /* read ahead of need and not yet faulted on */
#define F_ORPHAN    0x40    /* its owner went away during F_IO: free it when the I/O ends */
#define F_PCACHE    0x80    /* in the page cache (pagecache.c): a page of a file, shared read-only */

struct vmspace; struct mapping; struct inode;
struct frame {
    u8 use;             /* enum frame_use */
    u8 flags;
    u16 refcount;       /* mappings (or kernel references) of the frame */
    u32 owner;          /* pid of the process of the first mapping, 0 for the kernel */
    u32 va;             /* the first mapping (FRAME_USER): where vs maps it */
    struct vmspace *vs; /* reverse map (rmap.c): the first mapping's address space, */
    struct mapping *more;   /* and the others */
    u32 swap;           /* swap entry holding a copy (valid while the PTEs are clean), 0: none */
    struct inode *ip;   /* F_PCACHE: the file, */
    u32 index;          /* the page of it (file offset / 4 KiB), */
    u32 hnext;          /* and the next frame of the same hash chain */
    u32 prev, next;     /* links (frame numbers, 0: none) of the resident list or the free page queue */
    u32 last_use;       /* working-set policy: the owner's virtual time when last seen referenced */
    u8 age;             /* LRU policy: the Accessed-bit history, most recent in bit 7 */
};

/* A list of frames, threaded through frame.prev/next (frame 0 is never in one). */
struct framelist { u32 head, tail, count; };
void flist_append(struct framelist *l, u32 fn);
void flist_remove(struct framelist *l, u32 fn);

extern struct frame *frames;
extern u32 nframes;
extern u32 ram_mib;
extern struct framelist resident;   /* replaceable user frames, oldest mapping first */
extern struct framelist freeq;      /* the free page queue, oldest first */
struct multiboot_info;
void mem_detect(struct multiboot_info *mb);
void freeq_add(u32 fn);
void freeq_take(u32 fn);
#define FN(pa) ((u32)(pa) / 4096u)
#endif
