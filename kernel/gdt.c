/*
 * The GDT: flat kernel and user code/data segments (the MMU, not
 * segmentation, separates user from kernel) and the TSS, whose only job is
 * to give the CPU the kernel stack (SS0:ESP0) to switch to on a trap from
 * ring 3. proc.c points ESP0 at the running process's kernel stack.
 */
#include "defs.h"
#include "mmu.h"
#include "x86.h"

struct tss {
    u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
    u32 es, cs, ss, ds, fs, gs, ldt;
    u16 trap, iomap;
};

static u64 gdt[NSEGS];
static struct tss tss;

/* A descriptor: base, limit (in 4 KiB units when g), type/S/DPL/P byte and flags. */
static u64 segment(u32 base, u32 limit, u8 access, u8 flags) {
    u64 d = limit & 0xFFFF;
    d |= (u64)(base & 0xFFFFFF) << 16;
    d |= (u64)access << 40;
    d |= (u64)((limit >> 16) & 0xF) << 48;
    d |= (u64)(flags & 0xF) << 52;
    d |= (u64)(base >> 24) << 56;
    return d;
}

void gdt_init(void) {
    gdt[SEG_KCODE] = segment(0, 0xFFFFF, 0x9A, 0xC);    /* present, ring 0, code, readable */
    gdt[SEG_KDATA] = segment(0, 0xFFFFF, 0x92, 0xC);    /* present, ring 0, data, writable */
    gdt[SEG_UCODE] = segment(0, 0xFFFFF, 0xFA, 0xC);    /* ring 3 */
    gdt[SEG_UDATA] = segment(0, 0xFFFFF, 0xF2, 0xC);
    tss.ss0 = KDATA_SEL;
    tss.iomap = sizeof tss;                              /* no I/O bitmap */
    gdt[SEG_TSS] = segment((u32)&tss, sizeof tss - 1, 0x89, 0x0);  /* 32-bit available TSS */

    struct { u16 limit; u32 base; } __attribute__((packed)) gdtr = { sizeof gdt - 1, (u32)gdt };
    __asm__ volatile(
        "lgdt %0\n"
        "ljmp %1, $1f\n"
        "1: mov %2, %%ax\n"
        "mov %%ax, %%ds\n mov %%ax, %%es\n mov %%ax, %%ss\n"
        "xor %%ax, %%ax\n mov %%ax, %%fs\n mov %%ax, %%gs\n"
        : : "m"(gdtr), "i"(KCODE_SEL), "i"(KDATA_SEL) : "eax", "memory");
    ltr(TSS_SEL);
}

void tss_set_kstack(u32 esp0) { tss.esp0 = esp0; }
