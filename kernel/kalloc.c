/*
 * Physical memory: the frame table and the frame allocator.
 *
 * The frame table has one record per physical frame (struct frame): what it
 * is used for, which address space maps it where (the reverse map that
 * replacement needs to find the PTE of a frame), a reference count, and the
 * links of the two lists a user frame can be on: the resident list the
 * replacement policies scan, and the free page queue.
 *
 * Free frames come from two places. The free list holds frames with nothing
 * in them, threaded through the free pages themselves (through the kernel's
 * direct map). The free page queue holds frames the page daemon stole from
 * processes: free to take, but their contents are still valid, so a fault
 * on the page before the frame is reused takes it back without I/O (a
 * rescue, pageout.c). kalloc takes from the free list first, then the
 * oldest frame of the queue, and wakes the page daemon when the two run
 * low; when both are empty, a process reclaims a page itself (and may sleep
 * while it is written out), so that a system call needing a page of kernel
 * memory does not fail while memory holds pages that could go to swap.
 *
 * RAM is sized from the Multiboot memory map, or from mem_lower/mem_upper
 * when there is none. Frames below 1 MiB (BIOS areas, the boot information),
 * the kernel image, the Multiboot modules and the frame table itself are
 * never handed out.
 */
#include "defs.h"
#include "kalloc.h"
#include "mmu.h"
#include "multiboot.h"
#include "proc.h"
#include "vmstat.h"

struct frame *frames;           /* frames[pa / PGSIZE] */
u32 nframes;                    /* records in the table: phys_top / PGSIZE */
u32 phys_top;                   /* end of usable RAM, capped at KMAXPHYS */
u32 ram_mib;                    /* RAM the machine says it has, in MiB (rounded) */
static u32 nfree;
int kalloc_atomic;              /* > 0: kalloc must not sleep (reclaim) even in a process */
struct framelist resident, freeq;
static u32 first_free;          /* lowest physical address we may hand out */

/*
 * For the host (a debugger's `frames` view; kernel/README.md, "Debugger
 * ABI"): the frame table is `frames` (a pointer: frames[fn] is physical
 * frame fn, from 0) with `nframes` records, laid out as kframe_layout says;
 * kframe_uses names enum frame_use by value, kframe_flags the flag bits.
 */
const u32 kframe_layout[] = {
    sizeof(struct frame), 0,
    offsetof(struct frame, use), offsetof(struct frame, flags), offsetof(struct frame, refcount),
    offsetof(struct frame, owner), offsetof(struct frame, va), offsetof(struct frame, vs),
    offsetof(struct frame, more), offsetof(struct frame, swap), offsetof(struct frame, ip),
    offsetof(struct frame, index), offsetof(struct frame, prev), offsetof(struct frame, next),
    offsetof(struct frame, last_use), offsetof(struct frame, age),
    FRAME_USER + 1, 8,         /* the names of kframe_uses and kframe_flags */
};
const char *const kframe_uses[FRAME_USER + 1] = {
    [FRAME_RESERVED] = "reserved", [FRAME_FREE] = "free", [FRAME_KERNEL] = "kernel",
    [FRAME_PGTABLE] = "pgtable", [FRAME_USER] = "user",
};
const struct knamed kframe_flags[8] = {
    { "listed", F_LISTED }, { "locked", F_LOCKED }, { "queued", F_QUEUED }, { "io", F_IO },
    { "file", F_FILE }, { "readahead", F_READAHEAD }, { "orphan", F_ORPHAN }, { "pcache", F_PCACHE },
};

struct run { struct run *next; };
static struct run *freelist;

extern char kernel_end[];

/* The end of RAM (below KMAXPHYS), from the memory map if there is one. */
void mem_detect(struct multiboot_info *mb) {
    u32 top = 0;
    if (mb->flags & MBI_MMAP) {
        u32 p = mb->mmap_addr, end = mb->mmap_addr + mb->mmap_length;
        while (p < end) {
            struct multiboot_mmap *e = P2V(p);
            if (e->type == 1 && e->addr_hi == 0) {
                u32 start = e->addr_lo;
                u32 stop = e->len_hi || start + e->len_lo < start ? 0xFFFFF000u : start + e->len_lo;
                if (stop > top) top = stop;
            }
            p += e->size + 4;
        }
    }
    if (top == 0 && (mb->flags & MBI_MEM)) top = 0x100000 + mb->mem_upper * 1024;
    if (top == 0) top = 0x100000 * 4;    /* nothing said: assume the 4 MiB we run in */
    ram_mib = (top + 0x80000) >> 20;
    phys_top = top > KMAXPHYS ? KMAXPHYS : PGROUNDDOWN(top);
}

static void free_range(u32 start, u32 end) {
    if (start < first_free) start = first_free;
    if (end > phys_top) end = phys_top;
    for (u32 pa = PGROUNDUP(start); pa + PGSIZE <= end; pa += PGSIZE) {
        frames[pa / PGSIZE].use = FRAME_FREE;
        frames[pa / PGSIZE].refcount = 1;
        kfree(P2V(pa));
        vmc.frames_total++;
    }
}

/* After vm_init: RAM is all mapped, so the table and the free list can go anywhere in it. */
void kalloc_init(struct multiboot_info *mb) {
    u32 table_pa = PGROUNDUP(V2P(kernel_end));
    if (mb->flags & MBI_MODS) {
        struct multiboot_mod *mods = P2V(mb->mods_addr);
        for (u32 i = 0; i < mb->mods_count; i++)
            if (mods[i].end > table_pa) table_pa = PGROUNDUP(mods[i].end);
    }
    nframes = phys_top / PGSIZE;
    frames = P2V(table_pa);
    memset(frames, 0, nframes * sizeof *frames);     /* every frame FRAME_RESERVED */
    first_free = PGROUNDUP(table_pa + nframes * sizeof *frames);

    if (mb->flags & MBI_MMAP) {
        u32 p = mb->mmap_addr, end = mb->mmap_addr + mb->mmap_length;
        while (p < end) {
            struct multiboot_mmap *e = P2V(p);
            if (e->type == 1 && e->addr_hi == 0 && e->addr_lo < phys_top) {
                u32 len = e->len_hi || e->addr_lo + e->len_lo < e->addr_lo ? phys_top - e->addr_lo : e->len_lo;
                free_range(e->addr_lo, e->addr_lo + len);
            }
            p += e->size + 4;
        }
    } else {
        free_range(0x100000, phys_top);
    }
}

void flist_append(struct framelist *l, u32 fn) {
    struct frame *f = &frames[fn];
    f->prev = l->tail;
    f->next = 0;
    if (l->tail) frames[l->tail].next = fn;
    else l->head = fn;
    l->tail = fn;
    l->count++;
}

void flist_remove(struct framelist *l, u32 fn) {
    struct frame *f = &frames[fn];
    if (f->prev) frames[f->prev].next = f->next;
    else l->head = f->next;
    if (f->next) frames[f->next].prev = f->prev;
    else l->tail = f->prev;
    f->prev = f->next = 0;
    l->count--;
}

static void count_free(void) {
    vmc.frames_free = nfree + freeq.count;
    vmc.free_queue = freeq.count;
}

/* A stolen frame joins the free page queue (the newest at the tail). */
void freeq_add(u32 fn) {
    frames[fn].flags |= F_QUEUED;
    frames[fn].use = FRAME_FREE;
    flist_append(&freeq, fn);
    count_free();
}

/* A frame leaves the queue: rescued by a fault, or given out by kalloc. */
void freeq_take(u32 fn) {
    flist_remove(&freeq, fn);
    frames[fn].flags &= ~F_QUEUED;
    count_free();
}

/* One zero-filled 4 KiB frame (its kernel address), or NULL when memory is out. */
void *kalloc(void) {
    struct run *r = freelist;
    if (r) {
        freelist = r->next;
        nfree--;
    } else if (freeq.head) {
        u32 fn = freeq.head;
        freeq_take(fn);
        freeq_forget(fn);               /* its old owner must fault it in from disk now */
        frames[fn].refcount = 1;
        r = P2V(fn * PGSIZE);
    } else if (myproc() && !kalloc_atomic && mem_reserve(myproc()->vs, 1) == 0) {
        return kalloc();                /* direct reclaim: a process may wait for the disk */
    } else {
        return NULL;
    }
    count_free();
    kswapd_check();
    struct frame *f = &frames[V2P(r) / PGSIZE];
    f->flags = 0;
    f->vs = NULL;
    f->swap = 0;
    f->use = FRAME_KERNEL;
    f->refcount = 1;
    f->owner = 0;
    f->va = 0;
    memset(r, 0, PGSIZE);
    return r;
}

void kfree(void *page) {
    u32 pa = V2P(page);
    if ((pa & (PGSIZE - 1)) || pa < first_free || pa >= phys_top) panic("kfree: bad frame %p", pa);
    struct frame *f = &frames[pa / PGSIZE];
    if (f->refcount != 1) panic("kfree: frame %p has %u references", pa, f->refcount);
    f->use = FRAME_FREE;
    f->refcount = 0;
    f->owner = 0;
    f->va = 0;
    f->flags = 0;
    f->vs = NULL;
    f->swap = 0;
    struct run *r = page;
    r->next = freelist;
    freelist = r;
    nfree++;
    count_free();
}

/* Record who uses a frame and how. */
void frame_set(u32 pa, u8 use, u32 owner, u32 va) {
    struct frame *f = &frames[pa / PGSIZE];
    f->use = use;
    f->owner = owner;
    f->va = va;
}

/* Drop a reference; frees the frame and returns 1 when it was the last. */
int frame_unref(u32 pa) {
    struct frame *f = &frames[pa / PGSIZE];
    if (f->refcount == 0) panic("frame_unref: free frame %p", pa);
    if (f->refcount > 1) { f->refcount--; return 0; }
    kfree(P2V(pa));
    return 1;
}

/* Frames kalloc can give: the free list and the free page queue. */
u32 frames_free(void) { return nfree + freeq.count; }
u32 frames_total(void) { return vmc.frames_total; }
