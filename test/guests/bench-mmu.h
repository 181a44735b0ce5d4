/*
 * Paging set-up shared by the paging bench kernels (bench-paging, bench-stride,
 * bench-cr3, bench-pagefault): an identity map of the first 16 MiB with 4 KiB
 * pages (page 0 left not present), page directories and tables in .bss.
 */
#ifndef BENCH_MMU_H
#define BENCH_MMU_H

#include "lib.h"

#define PTE_P 0x001u
#define PTE_W 0x002u
#define PAGE_SIZE 4096u
#define MAP_BYTES (16u << 20)
#define MAP_PAGES (MAP_BYTES / PAGE_SIZE)
#define MAP_TABLES (MAP_BYTES >> 22)

/* The PTE of linear page n (n < MAP_PAGES) is page_tables[n]: the tables are contiguous. */
extern u32 page_tables[MAP_PAGES];

/*
 * The start every paging bench kernel shares: COM1, GDT, IDT, all IRQs
 * masked, and the Multiboot magic checked. Returns 0, or 1 after printing
 * the error (the kernel then returns it as its exit status).
 */
int mmu_bench_start(const char *kernel, u32 magic);
/* Fills page_tables with the identity map (page 0 not present); call once, before mmu_map_dir. */
void mmu_identity_tables(void);
/* Points `dir` (4 KiB aligned, 1024 entries) at page_tables: the identity map, every other entry not present. */
void mmu_map_dir(u32 *dir);
/* CR3 = dir, then CR0.PG = 1 (and WP = 0: ring 0 writes anything). */
void mmu_enable(u32 *dir);
/*
 * With paging on: maps one spare page to another, writes through one and reads
 * through the other. Returns 1 when the CPU translated the address (paging in
 * effect), 0 when it did not (linear = physical: an emulator ignoring CR0.PG).
 * Leaves the identity map as it found it.
 */
int mmu_paging_in_effect(void);
/* Points IDT entry `vec` at `entry` (a 32-bit ring-0 interrupt gate), through SIDT. */
void mmu_set_gate(int vec, void (*entry)(void));
/* The line a kernel prints when mmu_paging_in_effect() says no (bench.ts looks for it). */
void mmu_note_not_in_effect(const char *kernel);

static inline void write_cr3(u32 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void invlpg(const volatile void *p) { __asm__ volatile("invlpg (%0)" : : "r"(p) : "memory"); }

#endif
