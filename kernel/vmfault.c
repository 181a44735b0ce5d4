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
 * The kernel touches user memory only through copyin/copyout, which walk
 * the page tables themselves (faulting pages in the same way) and copy
 * through the kernel's map of the frame: a bad user pointer gives -EFAULT,
 * never a kernel page fault.
 */
#include "defs.h"
#include "fs.h"
#include "kalloc.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"

struct vmstats vm_global;               /* all processes since boot */

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

/* Fill the frame for page va of region v; returns -1 on a disk error. Counts the fault's kind. */
static int fill_page(struct vmspace *vs, struct vma *v, u32 va, u8 *frame) {
    int from_file = 0, disk_reads = 0;
    if (v->flags & VMA_FILE) {
        u32 lo = va > v->file_va ? va : v->file_va;
        u32 hi = va + PGSIZE < v->file_va + v->file_size ? va + PGSIZE : v->file_va + v->file_size;
        if (lo < hi) {
            from_file = 1;
            int r = fs_read(v->ip, frame + (lo - va), v->file_off + (lo - v->file_va), hi - lo, &disk_reads);
            if (r != (int)(hi - lo)) return -1;
        }
    }
    struct vmstats *g = &vm_global, *s = &vs->st;
    if (!from_file) { g->zeroflt++; s->zeroflt++; }
    else if (disk_reads) { g->majflt++; s->majflt++; }
    else { g->minflt++; s->minflt++; }
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
    pte_t *pte = walkpgdir(vs->pgdir, page, 0);
    if (pte && (*pte & PTE_P)) {
        /* Present and allowed: a translation the TLB held from before a change. */
        invlpg(page);
        return 0;
    }
    u8 *frame = kalloc();
    if (!frame) { snprintf(why, whylen, "out of memory"); return -2; }
    if (fill_page(vs, v, page, frame) < 0) { kfree(frame); snprintf(why, whylen, "disk error paging in"); return -1; }
    if (map_page(vs->pgdir, page, V2P(frame), PTE_U | ((v->flags & VMA_W) ? PTE_W : 0)) < 0) {
        kfree(frame);
        snprintf(why, whylen, "out of memory");
        return -2;
    }
    frame_set(V2P(frame), FRAME_USER, (u32)vs->pid, page);
    vs->resident++;
    return 0;
}

/* The kernel address of user address va, paged in for reading or writing; NULL if not allowed. */
static u8 *user_page(struct vmspace *vs, u32 va, int write) {
    char why[64];
    if (va >= KERNBASE) return NULL;
    pte_t *pte = walkpgdir(vs->pgdir, va, 0);
    if (!pte || !(*pte & PTE_P) || (write && !(*pte & PTE_W))) {
        if (vm_fault(vs, va, write, why, sizeof why) != 0) return NULL;
        pte = walkpgdir(vs->pgdir, va, 0);
    }
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

/* fork: the same regions, and a copy of every resident page (copy-on-write comes later). */
struct vmspace *vmspace_copy(struct vmspace *vs, int pid) {
    struct vmspace *n = vmspace_new(pid);
    if (!n) return NULL;
    memcpy(n->vmas, vs->vmas, sizeof n->vmas);
    n->heap_start = vs->heap_start;
    n->brk = vs->brk;
    for (u32 va = 0; va < KERNBASE; va += PGSIZE) {
        if (!(vs->pgdir[PDX(va)] & PTE_P)) { va += BIGPGSIZE - PGSIZE; continue; }
        pte_t *pte = walkpgdir(vs->pgdir, va, 0);
        if (!(*pte & PTE_P)) continue;
        u8 *frame = kalloc();
        if (!frame) { vmspace_free(n); return NULL; }
        memcpy(frame, P2V(PTE_ADDR(*pte)), PGSIZE);
        if (map_page(n->pgdir, va, V2P(frame), *pte & (PTE_W | PTE_U)) < 0) { kfree(frame); vmspace_free(n); return NULL; }
        frame_set(V2P(frame), FRAME_USER, (u32)pid, va);
        n->resident++;
    }
    return n;
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
    u32 freed = 0;
    unmap_range(vs->pgdir, start, end, &freed);
    vs->resident -= freed;
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
    struct vma *v = vma_add(vs, addr, addr + len, flags | 0x100);   /* 0x100: in use even with PROT_NONE */
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
        u32 freed = 0;
        unmap_range(vs->pgdir, end, heap->end, &freed);
        vs->resident -= freed;
        heap->end = end;
    }
    vs->brk = newbrk;
    return newbrk;
}

/*
 * /proc/vmstat, in the Atlas format (userland/include/atlas/vmstat.h): a
 * magic line, then "name value" lines; unprefixed counters are global, the
 * self_ ones the reading process's. minor_faults includes the zero-fill ones.
 */
int vmstat_format(char *buf, u32 size) {
    struct vmspace *me = myproc() ? myproc()->vs : NULL;
    struct vmstats z = { 0, 0, 0 }, *s = me ? &me->st : &z;
    return snprintf(buf, size,
                    "atlas-vmstat 1\n"
                    "minor_faults %u\nmajor_faults %u\nzero_fill_faults %u\npages_resident %u\n"
                    "frames_total %u\nframes_free %u\n"
                    "self_minor_faults %u\nself_major_faults %u\nself_zero_fill_faults %u\nself_pages_resident %u\n",
                    vm_global.minflt + vm_global.zeroflt, vm_global.majflt, vm_global.zeroflt,
                    frames_used_for(FRAME_USER), frames_total(), frames_free(),
                    s->minflt + s->zeroflt, s->majflt, s->zeroflt, me ? me->resident : 0);
}
