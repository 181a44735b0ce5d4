/*
 * Page-out: taking pages away from processes when memory runs short.
 *
 * Every replaceable user frame is on the resident list (kalloc.h), in the
 * order it was mapped; the policy (replace.c) picks a victim from it, and
 * evict() takes the page away from every process that maps it, through the
 * reverse map (rmap.c):
 *
 * - a clean page of a file is dropped: nothing to write, the file has it;
 * - a page with a valid copy in swap (swapped in and not written since) is
 *   dropped too;
 * - any other page is written to a swap slot first (swap.c).
 *
 * Either way the frame is not freed but joins the free page queue with its
 * contents, and the PTE records where the page is (mmu.h: PTE_SWAPPED with
 * the slot, whose swap cache entry names the frame, or PTE_CACHED with the
 * frame of a file page). A fault before kalloc reuses the frame takes it
 * back without I/O: a rescue (vmfault.c).
 *
 * Who evicts: the page daemon (kswapd, a kernel thread) wakes when the free
 * frames (free list and queue) drop below the low watermark and steals
 * until they reach the high one, then pre-cleans: it writes out the dirty
 * pages nearest the front of the resident list while they stay mapped, so
 * that their eviction will need no write. A fault that still finds no free
 * frame reclaims directly, in the faulting process (direct reclaim), from
 * its own pages when replacement is local or it is over its RLIMIT_RSS.
 *
 * Writes sleep; meanwhile the frame is F_IO and nobody else may reuse or
 * rescue it. If its owner exits during the write the frame becomes
 * F_ORPHAN and the writer frees it.
 */
#include "defs.h"
#include "kalloc.h"
#include "mmu.h"
#include "pageout.h"
#include "proc.h"
#include "swap.h"
#include "vmstat.h"
#include "x86.h"

static struct proc *kswapd_proc;
static int kswapd_chan;

static int is_current(struct vmspace *vs) { return read_cr3() == V2P(vs->pgdir); }

/*
 * The OR of some PTE bits over every mapping of a resident frame; with
 * clear, they are cleared too (and the TLB made to forget them where the
 * address space is the current one).
 */
u32 frame_pte_bits(u32 fn, u32 bits, int clear) {
    u32 got = 0, va;
    struct vmspace *vs;
    for (u32 i = 0; rmap_nth(fn, i, &vs, &va); i++) {
        pte_t *pte = walkpgdir(vs->pgdir, va, 0);
        got |= *pte & bits;
        if (clear && (*pte & bits)) {
            *pte &= ~bits;
            if (is_current(vs)) invlpg(va);
        }
    }
    return got;
}

/* Test and clear the Accessed bits of a resident frame's mappings. */
int frame_referenced(u32 fn) { return frame_pte_bits(fn, PTE_A, 1) != 0; }

static int frame_dirty(u32 fn) { return frame_pte_bits(fn, PTE_D, 0) != 0; }

/*
 * vs now maps frame fn at va (the PTE is written): one more mapping. The
 * first makes the frame resident, and replaceable unless vs locks its pages.
 * -1 when the reverse map has no room (the caller undoes the PTE).
 */
int frame_map(struct vmspace *vs, u32 va, u32 fn) {
    struct frame *f = &frames[fn];
    int first = rmap_count(fn) == 0;
    if (rmap_add(fn, vs, va) < 0) return -1;
    vs->resident++;
    if (!first) return 0;
    f->use = FRAME_USER;
    f->owner = (u32)vs->pid;
    f->last_use = vs->vtime;
    f->age = 0x80;
    if (vs->lock_future) {
        f->flags |= F_LOCKED;
        vs->locked++;
        vmc.pages_locked++;
    } else {
        f->flags |= F_LISTED;
        flist_append(&resident, fn);
    }
    vmstat_resident(1);
    return 0;
}

/* The last mapping went: the frame is not resident any more. */
static void unlist(u32 fn) {
    struct frame *f = &frames[fn];
    if (f->flags & F_LISTED) flist_remove(&resident, fn);
    f->flags &= ~F_LISTED;
    vmstat_resident(-1);
}

/* A lock belongs to the first mapping's address space; it goes with that mapping. */
static void unlock_for(u32 fn, struct vmspace *vs, u32 va) {
    struct frame *f = &frames[fn];
    if (!(f->flags & F_LOCKED) || f->vs != vs || f->va != va) return;
    f->flags &= ~F_LOCKED;
    vs->locked--;
    vmc.pages_locked--;
    f->flags |= F_LISTED;
    flist_append(&resident, fn);
}

static void free_frame(u32 fn) {
    frames[fn].refcount = 1;
    kfree(P2V(fn * PGSIZE));
}

/* A frame whose I/O just ended: wake those waiting for it; free it if its owner left meanwhile. Returns 1 if freed. */
int frame_io_done(u32 fn) {
    frames[fn].flags &= ~F_IO;
    wakeup(&frames[fn]);
    if (!(frames[fn].flags & F_ORPHAN)) return 0;
    free_frame(fn);
    return 1;
}

/*
 * A swap entry stops being referenced by a PTE: free the slot, and a frame
 * that caches it once nobody else can want it.
 */
static void swap_entry_release(u32 entry) {
    u32 cached = swap_cache_get(entry);
    if (cached && swap_count(entry) == 1) {
        u32 fn = cached - 1;
        frames[fn].swap = 0;
        if (frames[fn].flags & F_IO) frames[fn].flags |= F_ORPHAN;
        else if (frames[fn].flags & F_QUEUED) { freeq_take(fn); free_frame(fn); }
    }
    swap_free(entry);
}

/* The frame stops holding its swap slot (its page is about to differ from the slot's). */
void frame_drop_slot(u32 fn) {
    struct frame *f = &frames[fn];
    if (!f->swap) return;
    if (swap_cache_get(f->swap) == fn + 1) swap_cache_set(f->swap, 0);
    swap_free(f->swap);
    f->swap = 0;
}

/*
 * vs's mapping of fn at va is gone (its PTE already changed). When it was
 * the last, the frame is freed, or, if the page cache holds it, waits on the
 * free page queue for the next process that runs the file.
 */
void frame_unmap(struct vmspace *vs, u32 va, u32 fn) {
    struct frame *f = &frames[fn];
    unlock_for(fn, vs, va);
    rmap_del(fn, vs, va);
    vs->resident--;
    if (rmap_count(fn)) return;
    unlist(fn);
    if (f->flags & F_PCACHE) { freeq_add(fn); return; }
    frame_drop_slot(fn);                                /* others may still hold the slot: not this frame */
    if (f->flags & F_IO) f->flags |= F_ORPHAN;          /* being pre-cleaned: its writer frees it */
    else free_frame(fn);
}

/*
 * As frame_unmap, for a mapping whose PTE was e: if the page was written
 * through it, the Dirty bit goes with the PTE, so the slot's copy must stop
 * counting as valid for the sharers left (evict will write a new one).
 */
void frame_unmap_pte(struct vmspace *vs, u32 va, u32 fn, pte_t e) {
    frame_unmap(vs, va, fn);
    if ((e & PTE_D) && rmap_count(fn)) frame_drop_slot(fn);
}

/* Unmapping: whatever a user PTE of vs holds is let go (vs NULL: a kernel test's plain frames). */
void pte_release(struct vmspace *vs, u32 va, pte_t e) {
    if (e & PTE_P) {
        u32 fn = FN(PTE_ADDR(e));
        if (!vs || frames[fn].use != FRAME_USER) frame_unref(PTE_ADDR(e));
        else frame_unmap_pte(vs, va, fn, e);
    } else if (e & PTE_SWAPPED) {
        swap_entry_release(PTE_SWAPENTRY(e));
    } else if (e & PTE_CACHED) {
        u32 fn = FN(PTE_ADDR(e));
        freeq_take(fn);
        free_frame(fn);
    }
}

/* kalloc takes a frame off the free page queue: whoever had its page must fault it in from disk now. */
void freeq_forget(u32 fn) {
    struct frame *f = &frames[fn];
    if (f->flags & F_PCACHE) {
        pagecache_remove(fn);
    } else if (f->swap) {
        if (swap_cache_get(f->swap) == fn + 1) swap_cache_set(f->swap, 0);
    } else if (f->vs) {
        pte_t *pte = walkpgdir(f->vs->pgdir, f->va, 0);
        if (pte && *pte == (fn * PGSIZE | PTE_CACHED)) *pte = 0;
    }
    f->flags &= ~(F_READAHEAD | F_FILE);
}

/*
 * Every mapping of fn gets PTE `e` instead (a non-present one); the frame
 * is no longer resident. With a swap entry, each PTE holds a reference to
 * the slot: the frame's own moves to the first, the others are new.
 */
static void unmap_all(u32 fn, pte_t e, u32 entry) {
    struct vmspace *vs;
    u32 va;
    for (u32 i = 0; rmap_nth(fn, i, &vs, &va); i++) {
        *walkpgdir(vs->pgdir, va, 0) = e;
        if (is_current(vs)) invlpg(va);
        vs->resident--;
        vs->st.evictions++;
        if (entry && i > 0) swap_dup(entry);
    }
    vmc.evictions++;
    unlist(fn);
    if (e & PTE_CACHED) return;         /* a private file page: its one mapping stays, for freeq_forget */
    while (rmap_nth(fn, 0, &vs, &va)) rmap_del(fn, vs, va);
}

/* A slot the frame may write its page to: its own, unless others share it and the page changed. 0: swap is full. */
static u32 writable_slot(u32 fn, int dirty) {
    struct frame *f = &frames[fn];
    if (f->swap && dirty && swap_count(f->swap) > 1) frame_drop_slot(fn);
    if (!f->swap) {
        f->swap = swap_alloc(f->vs->swap_near);
        if (f->swap) f->vs->swap_near = f->swap;
    }
    return f->swap;
}

/*
 * Take the page in frame fn away from all its sharers onto the free page
 * queue, writing it to swap first if no valid copy exists anywhere. Returns
 * -1 when it would need swap and there is no free slot.
 */
static int evict(u32 fn) {
    struct frame *f = &frames[fn];
    int dirty = frame_dirty(fn);
    if ((f->flags & F_PCACHE) || ((f->flags & F_FILE) && !dirty)) {
        /* The file has it: page-cache sharers find it again through the cache, a private page through its PTE. */
        unmap_all(fn, (f->flags & F_PCACHE) ? 0 : fn * PGSIZE | PTE_CACHED, 0);
        vmc.evictions_file++;
        freeq_add(fn);
        return 0;
    }
    /* Anonymous, or a file page written since: only swap can keep it. */
    int write = dirty || !f->swap;
    u32 entry = writable_slot(fn, dirty);
    if (!entry) return -1;
    struct vmspace *vs = f->vs;
    unmap_all(fn, PTE_MKSWAP(entry), entry);
    swap_cache_set(entry, fn + 1);
    f->flags &= ~F_FILE;
    vmc.evictions_anon++;
    if (write) {
        VMSTAT(vs, swap_outs);          /* counted now: vs may be gone when the write ends */
        f->flags |= F_IO;
        if (swap_write(entry, P2V(fn * PGSIZE)) < 0) printf("swap: write error, slot %x\n", entry);
        if (frame_io_done(fn)) return 0;
    }
    freeq_add(fn);
    return 0;
}

/* The swappiness credit: of every 100 evictions, at most `swappiness` may take anonymous pages while file pages remain. */
static u32 anon_credit;

static u32 pick_victim(struct vmspace *only) {
    u32 fn = 0;
    if (vmtune.swappiness < 100) {
        anon_credit += vmtune.swappiness;
        if (anon_credit >= 100) anon_credit -= 100;
        else fn = policy_victim(only, VICTIM_FILE);
    }
    return fn ? fn : policy_victim(only, 0);
}

/* Evict one page (of `only`, or anyone's); -1 when nothing can go. May sleep. */
int reclaim_one(struct vmspace *only) {
    u32 fn = pick_victim(only);
    if (!fn) return -1;
    if (evict(fn) == 0) return 0;
    fn = policy_victim(only, VICTIM_FILE);          /* swap is full: only file pages can go now */
    return fn ? evict(fn) : -1;
}

/*
 * Make sure n frames can be had (direct reclaim if need be): from vs's own
 * pages under local replacement, from anyone's otherwise. -1: memory and
 * swap are both full. May sleep.
 */
int mem_reserve(struct vmspace *vs, u32 n) {
    while (frames_free() < n) {
        if (vmtune.local && vs && reclaim_one(vs) == 0) continue;
        if (reclaim_one(NULL) < 0) return -1;
    }
    return 0;
}

/* kalloc ran the free frames down: time for the page daemon. */
void kswapd_check(void) {
    if (kswapd_proc && frames_free() < vmtune.low) wakeup(&kswapd_chan);
}

/* Is the page in a resident frame dirty with respect to its copy (swap or file)? */
static int needs_write(u32 fn) {
    struct frame *f = &frames[fn];
    return !(f->flags & F_PCACHE) && (frame_dirty(fn) || (!(f->flags & F_FILE) && !f->swap));
}

/*
 * Write the dirty pages among the next ones the front of the resident list
 * holds, leaving them mapped but clean. A page written to again meanwhile
 * gets its Dirty bit back from the CPU, so it is never dropped stale.
 */
static void preclean(void) {
    u32 batch[32], n = 0;
    for (u32 fn = resident.head; fn && n < vmtune.preclean && n < NELEM(batch); fn = frames[fn].next)
        if (!(frames[fn].flags & F_IO) && needs_write(fn)) batch[n++] = fn;
    for (u32 i = 0; i < n; i++) {
        u32 fn = batch[i];
        struct frame *f = &frames[fn];
        if (!(f->flags & F_LISTED) || (f->flags & F_IO) || !needs_write(fn)) continue;   /* changed while we slept */
        u32 entry = writable_slot(fn, frame_dirty(fn));
        if (!entry) return;
        frame_pte_bits(fn, PTE_D, 1);
        f->flags &= ~F_FILE;
        f->flags |= F_IO;
        VMSTAT(f->vs, swap_outs);
        VMSTAT(f->vs, precleaned);
        swap_write(entry, P2V(fn * PGSIZE));
        frame_io_done(fn);
    }
}

/* The page daemon's thread. */
static void kswapd(void) {
    for (;;) {
        while (frames_free() >= vmtune.low) sleep(&kswapd_chan);
        vmc.kswapd_wakeups++;
        while (frames_free() < vmtune.high && reclaim_one(NULL) == 0) vmc.kswapd_stolen++;
        if (vmtune.preclean && swap_enabled()) preclean();
        if (frames_free() < vmtune.low) sleep(&ticks);    /* nothing more to take: try again next tick */
    }
}

void kswapd_start(void) {
    if (!vmtune.kswapd || vmtune.local) return;
    kswapd_proc = kthread_start("kswapd", kswapd);
}
