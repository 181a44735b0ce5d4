/*
 * Page-out: taking pages away from processes when memory runs short.
 *
 * Every replaceable user frame is on the resident list (kalloc.h), in the
 * order it was mapped; the policy (replace.c) picks a victim from it, and
 * evict() takes the page away through the reverse map (frame.vs, frame.va):
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

/* The PTE that maps a listed frame (its owner's). */
pte_t *frame_pte(u32 fn) {
    struct frame *f = &frames[fn];
    return walkpgdir(f->vs->pgdir, f->va, 0);
}

/* Test and clear the Accessed bit of a listed frame's PTE (the TLB must forget it too). */
int frame_referenced(u32 fn) {
    pte_t *pte = frame_pte(fn);
    if (!(*pte & PTE_A)) return 0;
    *pte &= ~PTE_A;
    if (is_current(frames[fn].vs)) invlpg(frames[fn].va);
    return 1;
}

/* A frame was just mapped at va in vs: it becomes resident, and replaceable unless locked. */
void user_frame_mapped(struct vmspace *vs, u32 va, u32 fn) {
    struct frame *f = &frames[fn];
    f->use = FRAME_USER;
    f->owner = (u32)vs->pid;
    f->va = va;
    f->vs = vs;
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
    vs->resident++;
    vmstat_resident(1);
}

/* The frame stops being resident in its owner (unmapped or evicted). */
static void unlist(u32 fn) {
    struct frame *f = &frames[fn];
    if (f->flags & F_LISTED) flist_remove(&resident, fn);
    if (f->flags & F_LOCKED) {
        f->vs->locked--;
        vmc.pages_locked--;
    }
    f->flags &= ~(F_LISTED | F_LOCKED);
    f->vs->resident--;
    vmstat_resident(-1);
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
void swap_entry_release(u32 entry) {
    u32 cached = swap_cache_get(entry);
    if (cached && swap_count(entry) == 1) {
        u32 fn = cached - 1;
        frames[fn].swap = 0;
        if (frames[fn].flags & F_IO) frames[fn].flags |= F_ORPHAN;
        else if (frames[fn].flags & F_QUEUED) { freeq_take(fn); free_frame(fn); }
    }
    swap_free(entry);
}

/* Unmapping: whatever a user PTE of vs holds is let go (vs NULL: a kernel test's plain frames). */
void pte_release(struct vmspace *vs, pte_t e) {
    if (e & PTE_P) {
        u32 fn = FN(PTE_ADDR(e));
        struct frame *f = &frames[fn];
        if (!vs || f->use != FRAME_USER) { frame_unref(PTE_ADDR(e)); return; }
        unlist(fn);
        if (f->swap) { swap_entry_release(f->swap); f->swap = 0; }
        if (f->flags & F_IO) f->flags |= F_ORPHAN;      /* being pre-cleaned: its writer frees it */
        else frame_unref(PTE_ADDR(e));
    } else if (e & PTE_SWAPPED) {
        swap_entry_release(PTE_SWAPENTRY(e));
    } else if (e & PTE_CACHED) {
        u32 fn = FN(PTE_ADDR(e));
        freeq_take(fn);
        free_frame(fn);
    }
}

/* kalloc takes a frame off the free page queue: its page's owner must now fault it in from disk. */
void freeq_forget(u32 fn) {
    struct frame *f = &frames[fn];
    if (f->swap) {
        if (swap_cache_get(f->swap) == fn + 1) swap_cache_set(f->swap, 0);
    } else if (f->vs) {
        pte_t *pte = walkpgdir(f->vs->pgdir, f->va, 0);
        if (pte && *pte == (fn * PGSIZE | PTE_CACHED)) *pte = 0;
    }
    f->flags &= ~(F_READAHEAD | F_FILE);
}

/*
 * Take the page in frame fn away from its owner onto the free page queue,
 * writing it to swap first if no valid copy exists anywhere. Returns -1 when
 * it would need swap and there is no free slot.
 */
static int evict(u32 fn) {
    struct frame *f = &frames[fn];
    struct vmspace *vs = f->vs;
    pte_t *pte = frame_pte(fn);
    int dirty = (*pte & PTE_D) != 0;
    if ((f->flags & F_FILE) && !dirty) {
        unlist(fn);
        *pte = fn * PGSIZE | PTE_CACHED;
        if (is_current(vs)) invlpg(f->va);
        VMSTAT(vs, evictions);
        vmc.evictions_file++;
        freeq_add(fn);
        return 0;
    }
    /* Anonymous, or a file page written since: only swap can keep it. */
    int write = dirty || !f->swap;
    if (!f->swap) {
        f->swap = swap_alloc(vs->swap_near);
        if (!f->swap) return -1;
        vs->swap_near = f->swap;
    }
    u32 entry = f->swap;
    unlist(fn);
    *pte = PTE_MKSWAP(entry);
    if (is_current(vs)) invlpg(f->va);
    swap_cache_set(entry, fn + 1);
    f->flags &= ~F_FILE;
    f->vs = NULL;                       /* from now on the frame is found through its slot */
    VMSTAT(vs, evictions);
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
    while (frames_available() < n) {
        if (vmtune.local && vs && reclaim_one(vs) == 0) continue;
        if (reclaim_one(NULL) < 0) return -1;
    }
    return 0;
}

/* kalloc ran the free frames down: time for the page daemon. */
void kswapd_check(void) {
    if (kswapd_proc && frames_available() < vmtune.low) wakeup(&kswapd_chan);
}

/* Is the page in a listed frame dirty with respect to its copy (swap or file)? */
static int needs_write(u32 fn) {
    struct frame *f = &frames[fn];
    return (*frame_pte(fn) & PTE_D) || (!(f->flags & F_FILE) && !f->swap);
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
        if (!f->swap) {
            f->swap = swap_alloc(f->vs->swap_near);
            if (!f->swap) return;
            f->vs->swap_near = f->swap;
        }
        *frame_pte(fn) &= ~PTE_D;       /* our CR3 is the kernel's: no TLB entry of it to flush */
        f->flags &= ~F_FILE;
        f->flags |= F_IO;
        VMSTAT(f->vs, swap_outs);
        VMSTAT(f->vs, precleaned);
        swap_write(f->swap, P2V(fn * PGSIZE));
        frame_io_done(fn);
    }
}

/* The page daemon's thread. */
static void kswapd(void) {
    for (;;) {
        while (frames_available() >= vmtune.low) sleep(&kswapd_chan);
        vmc.kswapd_wakeups++;
        while (frames_available() < vmtune.high && reclaim_one(NULL) == 0) vmc.kswapd_stolen++;
        if (vmtune.preclean && swap_enabled()) preclean();
        if (frames_available() < vmtune.low) sleep(&ticks);    /* nothing more to take: try again next tick */
    }
}

void kswapd_start(void) {
    if (!vmtune.kswapd || vmtune.local) return;
    kswapd_proc = kthread_start("kswapd", kswapd);
}
