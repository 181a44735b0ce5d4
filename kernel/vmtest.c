/*
 * A boot-time check of the memory code (milestone 2): the heap reuses what
 * it frees, a fresh address space maps user pages, remapping a page the TLB
 * holds shows the new frame (map_page's INVLPG), and freeing the address
 * space gives every frame back.
 */
#include "defs.h"
#include "kalloc.h"
#include "mmu.h"
#include "x86.h"

static int check(int ok, const char *what) {
    if (!ok) printf("vm self-test FAILED: %s\n", what);
    return ok;
}

void vm_selftest(void) {
    int ok = 1;

    void *a = kmalloc(100), *b = kmalloc(100);
    ok &= check(a && b && a != b, "kmalloc gives distinct blocks");
    kmfree(a);
    ok &= check(kmalloc(90) == a, "kmalloc reuses a freed block");
    kmfree(a);
    kmfree(b);

    u32 free0 = frames_free();              /* the heap keeps its page */
    pde_t *pgdir = pgdir_new();
    u8 *f1 = kalloc(), *f2 = kalloc();
    f1[0] = 'A';
    f2[0] = 'B';
    const u32 va = 0x08048000;
    map_page(pgdir, va, V2P(f1), PTE_W | PTE_U);
    write_cr3(V2P(pgdir));
    volatile u8 *p = (u8 *)va;
    ok &= check(*p == 'A', "a new mapping reads its frame");
    map_page(pgdir, va, V2P(f2), PTE_W | PTE_U);
    ok &= check(*p == 'B', "a remapped page reads the new frame (INVLPG)");
    *p = 'C';
    ok &= check(f2[0] == 'C', "writes go to the new frame");
    unmap_range(pgdir, NULL, va, va + PGSIZE);
    switch_kvm();
    frame_unref(V2P(f1));                   /* map_page dropped its mapping, not its frame */
    pgdir_free(pgdir);
    ok &= check(frames_free() == free0, "every frame comes back");
    if (ok) bootlog("vm: self-test ok\n");
}
