/*
 * The reverse map: every (address space, virtual address) whose PTE maps a
 * resident user frame. Replacement needs it to take a page away from all
 * its sharers at once (pageout.c), and copy-on-write to know whether a
 * writer is the last one (vmfault.c).
 *
 * The first mapping lives in the frame itself (frame.vs, frame.va): most
 * frames have one, and need no allocation. The others hang off frame.more.
 * frame.refcount counts them all; shared_frames counts the frames with more
 * than one.
 */
#include "defs.h"
#include "kalloc.h"
#include "vmstat.h"

struct mapping {
    struct vmspace *vs;
    u32 va;
    struct mapping *next;
};

/* For the host (a debugger's `frames` view; kernel/README.md, "Debugger ABI"): the list at frame.more. */
const u32 krmap_layout[] = {
    sizeof(struct mapping), offsetof(struct mapping, vs), offsetof(struct mapping, va), offsetof(struct mapping, next),
};

/* Add a mapping; -1 when the kernel heap has no room for it. */
int rmap_add(u32 fn, struct vmspace *vs, u32 va) {
    struct frame *f = &frames[fn];
    if (!f->vs) {
        f->vs = vs;
        f->va = va;
        f->refcount = 1;
        return 0;
    }
    /* No reclaim in here: the caller has written the PTE already, and evicting this very frame
     * while its new mapping is not recorded would leave that PTE behind. Callers make room first. */
    kalloc_atomic++;
    struct mapping *m = kmalloc(sizeof *m);
    kalloc_atomic--;
    if (!m) return -1;
    m->vs = vs;
    m->va = va;
    m->next = f->more;
    f->more = m;
    if (f->refcount++ == 1) vmc.shared_frames++;
    return 0;
}

/* Remove a mapping (the next one becomes the first if it was). */
void rmap_del(u32 fn, struct vmspace *vs, u32 va) {
    struct frame *f = &frames[fn];
    if (f->vs == vs && f->va == va) {
        struct mapping *m = f->more;
        f->vs = m ? m->vs : NULL;
        f->va = m ? m->va : 0;
        f->more = m ? m->next : NULL;
        if (m) kmfree(m);
    } else {
        struct mapping **pp = &f->more;
        while (*pp && ((*pp)->vs != vs || (*pp)->va != va)) pp = &(*pp)->next;
        if (!*pp) panic("rmap_del: frame %x is not mapped at %p", fn, va);
        struct mapping *m = *pp;
        *pp = m->next;
        kmfree(m);
    }
    if (f->refcount-- == 2) vmc.shared_frames--;
    if (f->refcount == 0) f->refcount = 1;      /* unmapped: the frame's own reference, for kfree */
}

u32 rmap_count(u32 fn) { return frames[fn].vs ? frames[fn].refcount : 0; }

/* The i-th mapping of the frame (0: the first); 0 when there are fewer. */
int rmap_nth(u32 fn, u32 i, struct vmspace **vs, u32 *va) {
    struct frame *f = &frames[fn];
    if (!f->vs) return 0;
    if (i == 0) { *vs = f->vs; *va = f->va; return 1; }
    struct mapping *m = f->more;
    while (m && --i) m = m->next;
    if (!m) return 0;
    *vs = m->vs;
    *va = m->va;
    return 1;
}
