/*
 * User address spaces and demand paging.
 *
 * A struct vmspace is a page directory plus the list of regions (VMAs) that
 * may be mapped: nothing is mapped when a region is made (exec, brk, mmap).
 * The first touch of a page faults, and vm_fault fills it: from the file
 * for the bytes a region takes from one (a major fault if that needed the
 * disk, minor if the buffer cache had them), with zeros otherwise (a zero-
 * fill fault). A fault outside every region, or against a region's rights,
 * is not legitimate and the caller kills the process.
 *
 * A page that was taken away (pageout.c) is found where its PTE says: on the
 * free page queue (a rescue: mapped again, no I/O) or in a swap slot (read
 * back, with the slots after it as readahead; the process sleeps while the
 * disk works). A write to a shared page copies it (copy-on-write), and
 * text and read-only data come from the page cache, one frame for every
 * process that runs the file. Before taking a frame, the fault makes room: its own pages
 * go first past its RLIMIT_RSS, and when memory is short a page is reclaimed
 * directly (pageout.c's mem_reserve).
 *
 * The kernel touches user memory only through copyin/copyout, which walk
 * the page tables themselves (faulting pages in the same way) and copy
 * through the kernel's map of the frame: a bad user pointer gives -EFAULT,
 * never a kernel page fault.
 */
#include "defs.h"
#include "faultlog.h"
#include "fs.h"
#include "kalloc.h"
#include "mmu.h"
#include "pageout.h"
#include "proc.h"
#include "swap.h"
#include "trap.h"
#include "vmstat.h"
#include "x86.h"

/*
 * For the host (a debugger's `pt` view; kernel/README.md, "Debugger ABI"):
 * the layout of an address space's regions, their flags by name, and how a
 * user PTE says where a page is when its P bit is clear.
 */
const struct knamed kvma_flags[] = {
    { "r", VMA_R }, { "w", VMA_W }, { "x", VMA_X }, { "stack", VMA_STACK },
    { "heap", VMA_HEAP }, { "file", VMA_FILE }, { "mmap", VMA_MMAP },
};
const u32 kvmspace_layout[] = {
    sizeof(struct vmspace), offsetof(struct vmspace, pgdir), offsetof(struct vmspace, vmas), NVMA,
    sizeof(struct vma), offsetof(struct vma, start), offsetof(struct vma, end), offsetof(struct vma, flags),
    offsetof(struct vma, ip), offsetof(struct vma, file_va), offsetof(struct vma, file_off), offsetof(struct vma, file_size),
    offsetof(struct vmspace, heap_start), offsetof(struct vmspace, brk), offsetof(struct vmspace, resident),
    offsetof(struct vmspace, locked), offsetof(struct vmspace, pid),
    offsetof(struct inode, path), MAXPATH, offsetof(struct inode, size), NELEM(kvma_flags),
};
const u32 kpte_layout[] = {
    PTE_P, PTE_W, PTE_U, PTE_A, PTE_D, PTE_PS,
    PTE_SWAPPED, PTE_SWAPSHIFT, PTE_CACHED, PTE_ADDR(~0u), SWAP_SLOT_BITS, KERNBASE,
};

struct vmspace *vmspace_new(int pid) {
    struct vmspace *vs = kmalloc(sizeof *vs);
    if (!vs) return NULL;
    memset(vs, 0, sizeof *vs);
    vs->pid = pid;
    vs->pgdir = pgdir_new();
    if (!vs->pgdir) { kmfree(vs); return NULL; }
    return vs;
}

void vmspace_free(struct vmspace *vs) {
    unmap_range(vs->pgdir, vs, 0, KERNBASE);
    pgdir_free(vs->pgdir);
    kmfree(vs);
}

struct vma *vma_find(struct vmspace *vs, u32 va) {
    for (int i = 0; i < NVMA; i++) {
        struct vma *v = &vs->vmas[i];
        if (v->flags && va >= v->start && va < v->end) return v;
    }
    return NULL;
}

/* Does [start, end) overlap a region (other than skip)? */
static int overlaps(struct vmspace *vs, u32 start, u32 end, struct vma *skip) {
    for (int i = 0; i < NVMA; i++) {
        struct vma *v = &vs->vmas[i];
        if (v != skip && v->flags && start < v->end && v->start < end) return 1;
    }
    return 0;
}

struct vma *vma_add(struct vmspace *vs, u32 start, u32 end, u32 flags) {
    if (start > end || end > KERNBASE || overlaps(vs, start, end, NULL)) return NULL;
    for (int i = 0; i < NVMA; i++) {
        struct vma *v = &vs->vmas[i];
        if (!v->flags) {
            memset(v, 0, sizeof *v);
            v->start = start;
            v->end = end;
            v->flags = flags;
            return v;
        }
    }
    return NULL;
}

/*
 * len bytes of ip from off (on a sector) into zeroed pages[], with one disk
 * command: the file's data is contiguous in the archive. The last sector may
 * run past those bytes; what it brings beyond them is zeroed again. 1, or -1
 * on a disk error.
 */
static int read_file_run(struct inode *ip, u32 off, u32 len, u8 **pages) {
    if (ide_io(0, ip->sector + off / 512, (len + 511) / 512, (void **)pages, 0) < 0) return -1;
    if (len % PGSIZE) memset(pages[len / PGSIZE] + len % PGSIZE, 0, PGSIZE - len % PGSIZE);
    return 1;
}

/*
 * Read npages consecutive pages of region v starting at va into pages[],
 * zero-filling what the file does not cover. A whole run of the file that
 * starts on a sector goes to the disk as one command (read_file_run);
 * anything else goes through the buffer cache.
 * Returns -1 on a disk error, else whether the disk was read.
 */
static int read_file_pages(struct vma *v, u32 va, u8 **pages, u32 npages) {
    u32 end = va + npages * PGSIZE, fend = v->file_va + v->file_size;
    for (u32 i = 0; i < npages; i++) memset(pages[i], 0, PGSIZE);
    u32 lo = va > v->file_va ? va : v->file_va, hi = end < fend ? end : fend;
    if (lo >= hi) return 0;
    u32 off = v->file_off + (lo - v->file_va);
    if (lo == va && off % 512 == 0) return read_file_run(v->ip, off, hi - lo, pages);
    int disk = 0;
    for (u32 i = 0; i < npages; i++) {
        u32 pva = va + i * PGSIZE;
        u32 plo = pva > lo ? pva : lo, phi = pva + PGSIZE < hi ? pva + PGSIZE : hi;
        if (plo >= phi) continue;
        int r = fs_read(v->ip, pages[i] + (plo - pva), v->file_off + (plo - v->file_va), phi - plo, &disk);
        if (r != (int)(phi - plo)) return -1;
    }
    return disk != 0;
}

static int file_backed(struct vma *v, u32 page) {
    return (v->flags & VMA_FILE) && page < v->file_va + v->file_size && page + PGSIZE > v->file_va;
}

/*
 * Map frame fn at page with the region's rights, except that a page others
 * map too (or whose swap slot others hold) is read-only until a write
 * copies it (cow_fault).
 */
static int map_user(struct vmspace *vs, struct vma *v, u32 page, u32 fn) {
    struct frame *f = &frames[fn];
    int shared = rmap_count(fn) > 0 || (f->swap && swap_count(f->swap) > 1);
    if (map_page(vs->pgdir, page, fn * PGSIZE, PTE_U | ((v->flags & VMA_W) && !shared ? PTE_W : 0)) < 0) return -1;
    if (frame_map(vs, page, fn) == 0) return 0;
    *walkpgdir(vs->pgdir, page, 0) = 0;
    invlpg(page);
    return -1;
}

/*
 * Pages of read-only file regions (text, read-only data) go through the page
 * cache, shared by every process that maps them: a page there is the file's
 * page as it is on disk, bytes around the segment included (as Linux maps
 * them), so a region qualifies when nothing in it is zero-filled and its
 * pages fall on the file's pages. The index is the page's offset in the
 * file, in pages.
 */
static int pcache_region(struct vma *v) {
    u32 lead = v->file_va - v->start;           /* bytes of the first page before the segment */
    return (v->flags & VMA_FILE) && !(v->flags & VMA_W) && PGROUNDUP(v->file_va + v->file_size) >= v->end &&
           v->file_off >= lead && (v->file_off - lead) % PGSIZE == 0;
}

static u32 pcache_index(struct vma *v, u32 page) { return (v->file_off + page - v->file_va) / PGSIZE; }

/* npages whole pages of the file from page `index` into pages[] (zeros past its end), one disk command. */
static int read_cache_pages(struct inode *ip, u32 index, u8 **pages, u32 npages) {
    u32 off = index * PGSIZE, end = off + npages * PGSIZE < ip->size ? off + npages * PGSIZE : ip->size;
    for (u32 i = 0; i < npages; i++) memset(pages[i], 0, PGSIZE);
    return off < end ? read_file_run(ip, off, end - off, pages) : 0;
}

/*
 * Anticipatory paging from a file: the pages after `page` in the region
 * that were never touched (and, for page-cache pages, are not cached yet)
 * are read with it, into frames that wait on the free page queue, so that a
 * fault on one is minor. Only while memory is plentiful. Returns how many
 * frames it added to pages[].
 */
static u32 file_readahead(struct vmspace *vs, struct vma *v, u32 page, u8 **pages) {
    int cached = pcache_region(v);
    u32 n = 0;
    for (u32 va = page + PGSIZE; n < vmtune.readahead && va < v->end && file_backed(v, va); va += PGSIZE) {
        pte_t *pte = walkpgdir(vs->pgdir, va, 0);
        if (!pte || *pte || frames_free() <= vmtune.low + 2) break;
        if (cached && pagecache_find(v->ip, pcache_index(v, va))) break;
        pages[1 + n++] = kalloc();
    }
    return n;
}

/* A page read ahead waits on the free page queue: found by the page cache, or by its PTE. */
static void park_readahead(struct vmspace *vs, struct vma *v, u32 va, u32 fn) {
    if (pcache_region(v)) {
        pagecache_insert(fn, v->ip, pcache_index(v, va));
    } else {
        *walkpgdir(vs->pgdir, va, 0) = fn * PGSIZE | PTE_CACHED;
        frames[fn].vs = vs;             /* the PTE that names it, for freeq_forget */
        frames[fn].va = va;
    }
    frames[fn].flags |= F_FILE | F_READAHEAD;
    freeq_add(fn);
    VMSTAT(vs, readahead_read);
}

/* A fault on a page never brought in: read it from the file (with readahead) or zero-fill it. */
static int fill_fault(struct vmspace *vs, struct vma *v, u32 page, char *why, u32 whylen) {
    u8 *pages[1 + 32];
    pages[0] = kalloc();
    u32 fn = FN(V2P(pages[0]));
    if (file_backed(v, page)) {
        u32 extra = file_readahead(vs, v, page, pages);
        /* In the cache and in flight at once, so that another process faulting on it waits for this read. */
        if (pcache_region(v)) pagecache_insert(fn, v->ip, pcache_index(v, page));
        frames[fn].flags |= F_IO;
        int r = pcache_region(v) ? read_cache_pages(v->ip, pcache_index(v, page), pages, 1 + extra)
                                     : read_file_pages(v, page, pages, 1 + extra);
        frames[fn].flags &= ~F_IO;
        wakeup(&frames[fn]);
        if (r < 0) {
            if (frames[fn].flags & F_PCACHE) pagecache_remove(fn);
            for (u32 i = 0; i <= extra; i++) kfree(pages[i]);
            fault_note(FO_IOERR, 0, 0);
            snprintf(why, whylen, "disk error paging in");
            return -1;
        }
        for (u32 i = 1; i <= extra; i++) park_readahead(vs, v, page + i * PGSIZE, FN(V2P(pages[i])));
        frames[fn].flags |= F_FILE;
        if (r) VMSTAT(vs, major_faults);
        else VMSTAT(vs, minor_faults);
        fault_note(r ? FO_FILE : FO_FILE_BUFFERED, fn, 0);
    } else {
        VMSTAT(vs, minor_faults);
        VMSTAT(vs, zero_fill_faults);
        fault_note((v->flags & VMA_STACK) ? FO_STACK : FO_ZERO, fn, 0);
    }
    if (map_user(vs, v, page, fn) == 0) return 0;
    if (frames[fn].flags & F_PCACHE) pagecache_remove(fn);
    kfree(pages[0]);
    snprintf(why, whylen, "out of memory");
    return -2;
}

/* A page-cache hit: map the frame (from the free page queue if nobody maps it now). 1: look again. */
static int pcache_fault(struct vmspace *vs, struct vma *v, u32 page, u32 fn, char *why, u32 whylen) {
    if (frames[fn].flags & F_IO) { sleep(&frames[fn]); return 1; }     /* another process is reading it */
    fault_note((frames[fn].flags & (F_QUEUED | F_READAHEAD)) == (F_QUEUED | F_READAHEAD) ? FO_READAHEAD : FO_PCACHE, fn, 0);
    if (frames[fn].flags & F_QUEUED) {
        freeq_take(fn);
        if (frames[fn].flags & F_READAHEAD) VMSTAT(vs, readahead_used);
        else VMSTAT(vs, rescues);
        frames[fn].flags &= ~F_READAHEAD;
    }
    VMSTAT(vs, minor_faults);
    if (map_user(vs, v, page, fn) == 0) return 0;
    if (!rmap_count(fn)) freeq_add(fn);
    snprintf(why, whylen, "out of memory");
    return -2;
}

/* A rescue: the page's frame was on the free page queue, its contents intact. */
static int rescue(struct vmspace *vs, struct vma *v, u32 page, u32 fn, char *why, u32 whylen) {
    fault_note((frames[fn].flags & F_READAHEAD) ? FO_READAHEAD : FO_RESCUE, fn, frames[fn].swap);
    freeq_take(fn);
    if (frames[fn].vs) rmap_del(fn, vs, page);         /* a private file page's PTE named it: mapped again now */
    if (frames[fn].flags & F_READAHEAD) VMSTAT(vs, readahead_used);
    else VMSTAT(vs, rescues);
    frames[fn].flags &= ~F_READAHEAD;
    VMSTAT(vs, minor_faults);
    if (map_user(vs, v, page, fn) == 0) return 0;
    freeq_add(fn);
    snprintf(why, whylen, "out of memory");
    return -2;
}

/*
 * The frames ahead of a swap-in: the slots after entry that are in use and
 * not cached, as far as they run in one area (at most vmtune.readahead,
 * and only while memory is plentiful). They are cached at once, in flight.
 */
static u32 swap_readahead(u32 entry, u8 **pages) {
    u32 n = 0;
    for (u32 e = entry + 1; n < vmtune.readahead && swap_same_area(entry, e) && swap_count(e) && !swap_cache_get(e); e++) {
        if (frames_free() <= vmtune.low + 2) break;
        pages[1 + n] = kalloc();
        u32 fn = FN(V2P(pages[1 + n]));
        frames[fn].flags |= F_IO;
        frames[fn].swap = e;
        swap_cache_set(e, fn + 1);
        n++;
    }
    return n;
}

/*
 * A fault on a page in swap: take it from the swap cache (on the free page
 * queue, or mapped by another process sharing the slot since a fork), or
 * read it (and the slots after it). The frame then holds one reference to
 * the slot: a clean page with a copy there can be dropped without a write.
 */
static int swap_fault(struct vmspace *vs, struct vma *v, u32 page, u32 entry, char *why, u32 whylen) {
    u32 cached = swap_cache_get(entry), fn;
    if (cached) {
        fn = cached - 1;
        if (frames[fn].swap != entry) panic("swap_fault: the swap cache names frame %x for %x, which holds %x", fn, entry, frames[fn].swap);
        if (frames[fn].flags & F_IO) { sleep(&frames[fn]); return 1; }   /* in flight: look again after */
        if (frames[fn].flags & F_QUEUED) {
            int r = rescue(vs, v, page, fn, why, whylen);
            if (r < 0) return r;
            frames[fn].swap = entry;                /* our PTE's reference moves to the frame */
        } else {
            VMSTAT(vs, minor_faults);               /* another sharer brought it back: share it */
            fault_note(FO_SWAPCACHE, fn, entry);
            if (map_user(vs, v, page, fn) < 0) { snprintf(why, whylen, "out of memory"); return -2; }
            swap_free(entry);                       /* the frame holds a reference already */
        }
    } else {
        u8 *pages[1 + 32];
        pages[0] = kalloc();
        fn = FN(V2P(pages[0]));
        frames[fn].flags |= F_IO;
        frames[fn].swap = entry;
        swap_cache_set(entry, fn + 1);
        u32 extra = swap_readahead(entry, pages);
        int r = swap_read(entry, 1 + extra, (void **)pages);
        for (u32 i = 1; i <= extra; i++) {
            u32 afn = FN(V2P(pages[i]));
            if (frame_io_done(afn)) continue;             /* its slot was freed meanwhile */
            frames[afn].flags |= F_READAHEAD;
            freeq_add(afn);
            VMSTAT(vs, readahead_read);
        }
        frames[fn].flags &= ~F_IO;
        wakeup(&frames[fn]);
        if (r < 0 || map_user(vs, v, page, fn) < 0) {
            if (r < 0) fault_note(FO_IOERR, 0, entry);
            swap_cache_set(entry, 0);
            kfree(pages[0]);
            snprintf(why, whylen, r < 0 ? "disk error paging in from swap" : "out of memory");
            return r < 0 ? -1 : -2;
        }
        VMSTAT(vs, major_faults);
        VMSTAT(vs, swap_ins);
        fault_note(FO_SWAPIN, fn, entry);
    }
    /* While swap is more than half full, a page only we hold gives its slot up. */
    if (swap_count(entry) == 1 && swap_nearly_full()) frame_drop_slot(fn);
    return 0;
}

/* Room for one more page of vs (and a page table): its own RLIMIT_RSS first, then memory. */
static int make_room(struct vmspace *vs) {
    if (vs->rss_limit && vs->resident - vs->locked >= vs->rss_limit) reclaim_one(vs);
    return mem_reserve(vs, 2);
}

/*
 * A write to a present, read-only page of a writable region: copy-on-write.
 * A page nobody else maps any more is just made writable again (it gives up
 * a swap slot others still hold: its contents are about to differ); a shared
 * one is copied. 1: look again (memory had to be made and things moved).
 */
static int cow_fault(struct vmspace *vs, u32 page, u32 fn, char *why, u32 whylen) {
    pte_t *pte = walkpgdir(vs->pgdir, page, 0);
    if (rmap_count(fn) == 1) {
        if (frames[fn].swap && swap_count(frames[fn].swap) > 1) frame_drop_slot(fn);
        *pte |= PTE_W;
        invlpg(page);
        VMSTAT(vs, cow_faults);
        VMSTAT(vs, cow_reused);
        fault_note(FO_COW_REUSE, fn, 0);
        return 0;
    }
    if (make_room(vs) < 0) {
        snprintf(why, whylen, swap_enabled() ? "out of memory and swap" : "out of memory");
        return -2;
    }
    if (*pte != (fn * PGSIZE | (*pte & 0xFFF)) || !(*pte & PTE_P) || rmap_count(fn) == 1) return 1;
    u8 *copy = kalloc();
    memcpy(copy, P2V(fn * PGSIZE), PGSIZE);
    pte_t old = *pte;
    *pte = V2P(copy) | PTE_P | PTE_U | PTE_W;
    invlpg(page);
    frame_unmap_pte(vs, page, fn, old);
    frame_map(vs, page, FN(V2P(copy)));         /* a first mapping: cannot fail */
    VMSTAT(vs, cow_faults);
    VMSTAT(vs, pages_copied);
    fault_note(FO_COW_COPY, FN(V2P(copy)), 0);
    return 0;
}

static const char *access_name[] = { "read", "write", "execute" };

/*
 * Make page va present for an access (0 read, 1 write, 2 execute). Returns
 * 0, or -1 with the reason in why when the access is not legitimate, -2
 * when it is but there is no memory for the page.
 */
int vm_fault(struct vmspace *vs, u32 va, int access, char *why, u32 whylen) {
    const char *acc = access_name[access];
    if (va >= KERNBASE) { snprintf(why, whylen, "%s of kernel address", acc); return -1; }
    struct vma *v = vma_find(vs, va);
    if (!v) {
        for (int i = 0; i < NVMA; i++) {
            struct vma *s = &vs->vmas[i];
            if ((s->flags & VMA_STACK) && va < s->start && va >= s->start - USTACK_GUARD) {
                snprintf(why, whylen, "stack overflow into the guard region");
                return -1;
            }
        }
        snprintf(why, whylen, "%s of unmapped page", acc);
        return -1;
    }
    if (access == 1 && !(v->flags & VMA_W)) { snprintf(why, whylen, "write to read-only page"); return -1; }
    if (!(v->flags & (VMA_R | VMA_X))) { snprintf(why, whylen, "%s of protected page", acc); return -1; }
    u32 page = PGROUNDDOWN(va);
    for (;;) {
        pte_t *pte = walkpgdir(vs->pgdir, page, 0);
        u32 e = pte ? *pte : 0;
        if ((e & PTE_P) && access == 1 && !(e & PTE_W)) {
            int r = cow_fault(vs, page, FN(PTE_ADDR(e)), why, whylen);
            if (r <= 0) return r;
            continue;
        }
        if (e & PTE_P) {
            /* Present and allowed: a translation the TLB held from before a change. */
            invlpg(page);
            fault_note(FO_SPURIOUS, FN(PTE_ADDR(e)), 0);
            return 0;
        }
        if (e & PTE_CACHED) return rescue(vs, v, page, FN(PTE_ADDR(e)), why, whylen);
        u32 cached = !e && pcache_region(v) ? pagecache_find(v->ip, pcache_index(v, page)) : 0;
        if (cached) {
            if (!walkpgdir(vs->pgdir, page, 1)) { snprintf(why, whylen, "out of memory"); return -2; }
            if (pagecache_find(v->ip, pcache_index(v, page)) != cached) continue;   /* the page table's kalloc took it */
            int r = pcache_fault(vs, v, page, cached, why, whylen);
            if (r <= 0) return r;
            continue;
        }
        if (make_room(vs) < 0) {
            snprintf(why, whylen, swap_enabled() ? "out of memory and swap" : "out of memory");
            return -2;
        }
        pte = walkpgdir(vs->pgdir, page, 1);        /* make_room may have slept: look again */
        if (!pte) { snprintf(why, whylen, "out of memory"); return -2; }
        e = *pte;
        if (e & (PTE_P | PTE_CACHED)) continue;
        int r = (e & PTE_SWAPPED) ? swap_fault(vs, v, page, PTE_SWAPENTRY(e), why, whylen)
                                  : fill_fault(vs, v, page, why, whylen);
        if (r <= 0) return r;
    }
}

/* The kernel address of user address va, paged in for reading or writing; NULL if not allowed. */
static u8 *user_page(struct vmspace *vs, u32 va, int write) {
    char why[64];
    if (va >= KERNBASE) return NULL;
    pte_t *pte = walkpgdir(vs->pgdir, va, 0);
    if (!pte || !(*pte & PTE_P) || (write && !(*pte & PTE_W))) {
        /* Recorded in the fault history as the CPU would have raised it, marked as the kernel's copy. */
        u32 err = PF_KCOPY | PF_U | (write ? PF_W : 0) | (pte && (*pte & PTE_P) ? PF_P : 0);
        int r = vm_fault(vs, va, write, why, sizeof why);
        struct proc *p = myproc();
        fault_record(va, err, p && p->tf ? p->tf->eip : 0, r);
        if (r != 0) return NULL;
        pte = walkpgdir(vs->pgdir, va, 0);
    }
    /*
     * The kernel writes through its own map of the frame, so the MMU sets no
     * Dirty bit in the user's PTE: set it, or eviction would drop the page
     * as clean and lose what a read(2) put there. (Setting A and D by hand
     * while the TLB may hold the entry with them clear is harmless: the CPU
     * would only set them again.)
     */
    *pte |= write ? PTE_A | PTE_D : PTE_A;
    return (u8 *)P2V(PTE_ADDR(*pte)) + (va & (PGSIZE - 1));
}

/* Is [addr, addr+n) inside regions allowing the access (without paging anything in)? */
int uaccess_ok(struct vmspace *vs, u32 addr, u32 n, int write) {
    if (addr + n < addr || addr + n > KERNBASE) return 0;
    for (u32 va = PGROUNDDOWN(addr); va < addr + n; va += PGSIZE) {
        struct vma *v = vma_find(vs, va);
        if (!v || (write && !(v->flags & VMA_W)) || !(v->flags & (VMA_R | VMA_X))) return 0;
    }
    return 1;
}

int copyout(struct vmspace *vs, u32 dst, const void *src, u32 n) {
    while (n > 0) {
        u8 *k = user_page(vs, dst, 1);
        if (!k) return -1;
        u32 chunk = PGSIZE - (dst & (PGSIZE - 1));
        if (chunk > n) chunk = n;
        memcpy(k, src, chunk);
        src = (const u8 *)src + chunk;
        dst += chunk;
        n -= chunk;
    }
    return 0;
}

int copyin(struct vmspace *vs, void *dst, u32 src, u32 n) {
    while (n > 0) {
        u8 *k = user_page(vs, src, 0);
        if (!k) return -1;
        u32 chunk = PGSIZE - (src & (PGSIZE - 1));
        if (chunk > n) chunk = n;
        memcpy(dst, k, chunk);
        dst = (u8 *)dst + chunk;
        src += chunk;
        n -= chunk;
    }
    return 0;
}

/* A NUL-terminated string of at most max-1 bytes: its length, -1 on a bad pointer, -2 if too long. */
int copyinstr(struct vmspace *vs, char *dst, u32 src, u32 max) {
    for (u32 i = 0; i < max; i++) {
        u8 *k = user_page(vs, src + i, 0);
        if (!k) return -1;
        dst[i] = (char)*k;
        if (!*k) return (int)i;
    }
    return -2;
}

/*
 * fork, copy-on-write: the child maps the parent's frames, and the writable
 * ones become read-only in both (cow_fault copies a page on the first
 * write by either). A page in swap is shared through its slot. Only page
 * tables are allocated.
 */
static int share_page(struct vmspace *vs, struct vmspace *n, u32 va) {
    if (mem_reserve(vs, 2) < 0) return -1;          /* a page table, a reverse-map record */
    pte_t *child = walkpgdir(n->pgdir, va, 1);
    if (!child) return -1;
    pte_t *parent = walkpgdir(vs->pgdir, va, 0);    /* read now: making room may have evicted it */
    pte_t e = *parent;
    if (!(e & PTE_P)) {
        if (e & PTE_SWAPPED) {
            swap_dup(PTE_SWAPENTRY(e));
            *child = e;
        }                                           /* a file page on the free queue: the child reads it again */
        return 0;
    }
    u32 fn = FN(PTE_ADDR(e));
    if (e & PTE_W) {
        *parent = e & ~PTE_W;
        invlpg(va);                                 /* the parent is the current address space */
    }
    *child = PTE_ADDR(e) | PTE_P | PTE_U;
    if (frame_map(n, va, fn) < 0) { *child = 0; return -1; }
    if (!(frames[fn].flags & F_PCACHE)) frames[fn].flags &= ~F_FILE;   /* shared, it can only go to swap */
    return 0;
}

struct vmspace *vmspace_copy(struct vmspace *vs, int pid) {
    struct vmspace *n = vmspace_new(pid);
    if (!n) return NULL;
    memcpy(n->vmas, vs->vmas, sizeof n->vmas);
    n->heap_start = vs->heap_start;
    n->brk = vs->brk;
    n->rss_limit = vs->rss_limit;
    n->swap_near = vs->swap_near;
    for (u32 va = 0; va < KERNBASE; va += PGSIZE) {
        if (!(vs->pgdir[PDX(va)] & PTE_P)) { va += BIGPGSIZE - PGSIZE; continue; }
        if (*walkpgdir(vs->pgdir, va, 0) && share_page(vs, n, va) < 0) { vmspace_free(n); return NULL; }
    }
    return n;
}

/* mlockall: lock the resident pages (MCL_CURRENT 1) and those to come (MCL_FUTURE 2). */
int vm_mlockall(struct vmspace *vs, u32 flags) {
    if (flags == 0 || (flags & ~3u)) return -22;        /* EINVAL */
    if (flags & 1) {
        for (u32 fn = 1; fn < nframes; fn++) {
            struct frame *f = &frames[fn];
            if (f->vs != vs || !(f->flags & F_LISTED)) continue;
            flist_remove(&resident, fn);
            f->flags = (u8)((f->flags & ~F_LISTED) | F_LOCKED);
            vs->locked++;
            vmc.pages_locked++;
        }
    }
    vs->lock_future = (flags & 2) != 0;
    return 0;
}

/* munlockall: every page replaceable again, newest last. */
int vm_munlockall(struct vmspace *vs) {
    for (u32 fn = 1; fn < nframes; fn++) {
        struct frame *f = &frames[fn];
        if (f->vs != vs || !(f->flags & F_LOCKED)) continue;
        f->flags = (u8)((f->flags & ~F_LOCKED) | F_LISTED);
        flist_append(&resident, fn);
        vs->locked--;
        vmc.pages_locked--;
    }
    vs->lock_future = 0;
    return 0;
}

/* Unmap [start, end) from the page tables and the regions (splitting one if need be). */
static int unmap_region(struct vmspace *vs, u32 start, u32 end) {
    for (int i = 0; i < NVMA; i++) {
        struct vma *v = &vs->vmas[i];
        if (!v->flags || end <= v->start || v->end <= start) continue;
        if (start > v->start && end < v->end) {            /* a hole in the middle: split */
            struct vma tail = *v;
            tail.start = end;
            v->end = start;
            struct vma *t = vma_add(vs, tail.start, tail.end, tail.flags);
            if (!t) { v->end = tail.end; return -12; }      /* ENOMEM */
            *t = tail;
        } else if (start <= v->start && end >= v->end) {
            v->flags = 0;
        } else if (start <= v->start) {
            v->start = end;
        } else {
            v->end = start;
        }
    }
    unmap_range(vs->pgdir, vs, start, end);
    return 0;
}

int vm_munmap(struct vmspace *vs, u32 addr, u32 len) {
    if ((addr & (PGSIZE - 1)) || len == 0 || addr >= KERNBASE || len > KERNBASE - addr) return -22;  /* EINVAL */
    return unmap_region(vs, addr, PGROUNDUP(addr + len));
}

/* Find room for len bytes at MMAP_BASE or above; 0 if there is none. */
static u32 find_gap(struct vmspace *vs, u32 len) {
    u32 limit = USTACK_TOP - USTACK_MAX - USTACK_GUARD;
    u32 addr = MMAP_BASE;
    for (;;) {
        if (addr + len < addr || addr + len > limit) return 0;
        struct vma *hit = NULL;
        for (int i = 0; i < NVMA; i++) {
            struct vma *v = &vs->vmas[i];
            if (v->flags && addr < v->end && v->start < addr + len) { hit = v; break; }
        }
        if (!hit) return addr;
        addr = hit->end;
    }
}

/*
 * mmap2 for private mappings, anonymous (ip NULL) or of a file (pages read
 * from it on first touch, then private). Returns the address or -errno.
 */
u32 vm_mmap(struct vmspace *vs, u32 len, u32 prot, struct inode *ip, u32 off) {
    if (len == 0 || len > KERNBASE) return (u32)-22;             /* EINVAL */
    len = PGROUNDUP(len);
    u32 addr = find_gap(vs, len);
    if (!addr) return (u32)-12;                                  /* ENOMEM */
    u32 flags = ((prot & 1) ? VMA_R : 0) | ((prot & 2) ? VMA_W | VMA_R : 0) | ((prot & 4) ? VMA_X | VMA_R : 0);
    struct vma *v = vma_add(vs, addr, addr + len, flags | VMA_MMAP);  /* in use even with PROT_NONE */
    if (!v) return (u32)-12;
    if (ip) {
        v->flags |= VMA_FILE;
        v->ip = ip;
        v->file_va = addr;
        v->file_off = off;
        v->file_size = off >= ip->size ? 0 : (ip->size - off < len ? ip->size - off : len);
    }
    return addr;
}

/* brk: move the end of the heap; returns the (new or unchanged) break, as Linux's brk does. */
u32 vm_brk(struct vmspace *vs, u32 newbrk) {
    struct vma *heap = NULL;
    for (int i = 0; i < NVMA; i++) if (vs->vmas[i].flags & VMA_HEAP) heap = &vs->vmas[i];
    if (!heap || newbrk < vs->heap_start || newbrk > MMAP_BASE) return vs->brk;
    u32 end = PGROUNDUP(newbrk);
    if (end > heap->end) {
        if (overlaps(vs, heap->end, end, heap)) return vs->brk;
        heap->end = end;
    } else if (end < heap->end) {
        unmap_range(vs->pgdir, vs, end, heap->end);
        heap->end = end;
    }
    vs->brk = newbrk;
    return newbrk;
}
