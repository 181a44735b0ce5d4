/*
 * bench-stride: paging with a TLB that misses, for `atlas386 bench` (not a
 * PASS/FAIL test).
 *
 * Paging on (the first 16 MiB identity-mapped with 4 KiB pages). A 4 MiB
 * buffer, 1024 pages, is walked one word per page per round: `steps=N`
 * rounds (default 12000) of 1024 accesses, visiting the pages in the order
 * p = 0, 389, 778, ... (mod 1024; every page once per round), at word
 * (s * 17) & 1023 of each page in round s. Each access is a read-modify-write
 * with a little arithmetic:
 *   v = page[p][wo]; acc = rol(acc + (v ^ p), 1); page[p][wo] = v + acc;
 * from a zeroed buffer, acc = 1. Consecutive accesses are on different pages,
 * and a round touches 1024 of them, so a TLB of tens of entries misses on
 * nearly every access. The checksum is acc at the end. Output, one line:
 *   bench-stride: checksum XXXXXXXX pages 1024 steps N
 * then exit status 0 (after a `bench-stride: note: paging is not in effect
 * ...` line on a CPU that ignores CR0.PG).
 */
#include "lib.h"
#include "bench-mmu.h"

#define PAGES 1024u
#define PAGE_WORDS 1024u

static u32 area[PAGES * PAGE_WORDS] __attribute__((aligned(4096)));
static u32 page_dir[1024] __attribute__((aligned(4096)));

int kmain(u32 magic, const void *info) {
    if (mmu_bench_start("bench-stride", magic)) return 1;
    u32 steps = cmdline_number(info, "steps", 12000);
    if ((u32)area + sizeof area > MAP_BYTES) { printf("bench-stride: error: the buffer ends above %x\n", MAP_BYTES); return 1; }
    for (u32 k = 0; k < PAGES * PAGE_WORDS; k++) area[k] = 0;

    mmu_identity_tables();
    mmu_map_dir(page_dir);
    mmu_enable(page_dir);
    if (!mmu_paging_in_effect()) mmu_note_not_in_effect("bench-stride");

    u32 acc = 1;
    for (u32 s = 0; s < steps; s++) {
        u32 *q = area + ((s * 17) & (PAGE_WORDS - 1));
        u32 p = 0;
        for (u32 k = 0; k < PAGES; k++) {
            u32 *w = q + p * PAGE_WORDS;
            u32 v = *w;
            acc += v ^ p;
            acc = (acc << 1) | (acc >> 31);
            *w = v + acc;
            p = (p + 389) & (PAGES - 1);
        }
    }
    printf("bench-stride: checksum %08x pages %u steps %u\n", acc, PAGES, steps);
    return 0;
}
