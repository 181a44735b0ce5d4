/*
 * Page directories and page tables.
 *
 * The kernel half (KERNBASE and up) is the same in every address space: all
 * of RAM mapped with 4 MiB pages, supervisor-only and global (so a CR3 load
 * keeps its TLB entries). A process's page directory starts as a copy of
 * those PDEs; below KERNBASE it has 4 KiB page tables filled on demand by the
 * page fault handler (vmfault.c).
 *
 * The TLB may hold any present translation of the current address space.
 * So whenever a present PTE of the current page directory changes, the
 * changer INVLPGs that page (map_page, unmap_range do it).
 */
#include "defs.h"
#include "kalloc.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"

static pde_t kpgdir_page[1024] __attribute__((aligned(4096)));
pde_t *kpgdir = kpgdir_page;

/* Map [0, phys_top) at KERNBASE and switch to it: low memory is no longer mapped. */
void vm_init(void) {
    if (!(cpuid_edx() & (1u << 13))) panic("vm_init: the CPU has no PGE");
    for (u32 pa = 0; pa < phys_top; pa += BIGPGSIZE)
        kpgdir[PDX(KERNBASE + pa)] = pa | PTE_P | PTE_W | PTE_PS | PTE_G;
    __asm__ volatile("mov %%cr4, %%eax; or %0, %%eax; mov %%eax, %%cr4" : : "i"(CR4_PGE) : "eax");
    write_cr3(V2P(kpgdir));
}

static int is_current(pde_t *pgdir) { return read_cr3() == V2P(pgdir); }

/* A new address space: the kernel half shared, nothing below it. */
pde_t *pgdir_new(void) {
    pde_t *pgdir = kalloc();
    if (!pgdir) return NULL;
    for (u32 i = PDX(KERNBASE); i < 1024; i++) pgdir[i] = kpgdir[i];
    return pgdir;
}

/* The PTE for va, allocating its page table when create is set (NULL if absent or out of memory). */
pte_t *walkpgdir(pde_t *pgdir, u32 va, int create) {
    pde_t *pde = &pgdir[PDX(va)];
    if (!(*pde & PTE_P)) {
        if (!create) return NULL;
        pte_t *table = kalloc();
        if (!table) return NULL;
        frame_set(V2P(table), FRAME_PGTABLE, 0, PGROUNDDOWN(va));
        /* Rights are given per page in the PTE; the PDE allows everything. */
        *pde = V2P(table) | PTE_P | PTE_W | PTE_U;
    }
    pte_t *table = P2V(PTE_ADDR(*pde));
    return &table[PTX(va)];
}

/* Map the user page va to frame pa. Returns -1 when a page table cannot be had. */
int map_page(pde_t *pgdir, u32 va, u32 pa, u32 perm) {
    pte_t *pte = walkpgdir(pgdir, va, 1);
    if (!pte) return -1;
    int was_present = *pte & PTE_P;
    *pte = pa | perm | PTE_P;
    if (was_present && is_current(pgdir)) invlpg(va);
    return 0;
}

/*
 * Unmap [start, end): every PTE that holds something, present or not (a
 * swap slot, a frame on the free page queue), is let go by pte_release
 * (pageout.c) and cleared.
 */
void unmap_range(pde_t *pgdir, struct vmspace *vs, u32 start, u32 end) {
    int current = is_current(pgdir);
    for (u32 va = PGROUNDDOWN(start); va < end && va < KERNBASE; va += PGSIZE) {
        if (!(pgdir[PDX(va)] & PTE_P)) { va = (va | (BIGPGSIZE - 1)) - PGSIZE + 1; continue; }
        pte_t *pte = walkpgdir(pgdir, va, 0);
        pte_t e = *pte;
        if (!e) continue;
        *pte = 0;
        if (current && (e & PTE_P)) invlpg(va);
        pte_release(vs, va, e);
    }
}

/* Free the page tables and the directory of an address space already unmapped. */
void pgdir_free(pde_t *pgdir) {
    if (is_current(pgdir)) switch_kvm();
    for (u32 i = 0; i < PDX(KERNBASE); i++)
        if (pgdir[i] & PTE_P) kfree(P2V(PTE_ADDR(pgdir[i])));
    kfree(pgdir);
}

void switch_kvm(void) { write_cr3(V2P(kpgdir)); }

/* Run p: its kernel stack for traps from ring 3, its address space. */
void switch_uvm(struct proc *p) {
    tss_set_kstack((u32)p->kstack + KSTACKSIZE);
    write_cr3(V2P(p->vs->pgdir));
}
