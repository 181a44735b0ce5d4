/*
 * bench-paging: the cost of paging on TLB-friendly code, for `atlas386 bench`
 * (not a PASS/FAIL test).
 *
 * The same integer/memory loop runs with paging off (`paging=0`, the default)
 * or on (`paging=1` on the Multiboot command line: the first 16 MiB
 * identity-mapped with 4 KiB pages, CR0.PG set before the loop). The loop
 * makes `passes=N` (default 1200) passes over a 32 KiB buffer (8 pages) of
 * 32-bit words; each step reads word i (in order) and word j (j advances by
 * 1025 words, about a page, each step, so consecutive steps hop between the
 * pages), folds both into a hash and stores into word j:
 *   v = buf[i]; w = buf[j]; acc = (acc ^ v) * 0x01000193 + w; buf[j] = w + v;
 *   j = (j + 1025) & 8191
 * from buf[k] = k * 0x9E3779B1, acc = 0x811C9DC5, j = 0. Everything it touches
 * (code, stack, buffer) fits in a TLB of a dozen entries. The checksum is acc
 * after the last pass, the same with paging on or off. Output, one line:
 *   bench-paging: checksum XXXXXXXX paging P passes N
 * then exit status 0. With paging=1 on a CPU that ignores CR0.PG, a
 * `bench-paging: note: paging is not in effect ...` line comes first.
 */
#include "lib.h"
#include "bench-mmu.h"

#define WORDS 8192u  /* 32 KiB */

static u32 buf[WORDS] __attribute__((aligned(4096)));
static u32 page_dir[1024] __attribute__((aligned(4096)));

int kmain(u32 magic, const void *info) {
    if (mmu_bench_start("bench-paging", magic)) return 1;
    u32 paging = cmdline_number(info, "paging", 0);
    u32 passes = cmdline_number(info, "passes", 1200);
    if (paging > 1) { printf("bench-paging: error: paging=%u (0 or 1)\n", paging); return 1; }

    for (u32 k = 0; k < WORDS; k++) buf[k] = k * 0x9E3779B1u;
    if (paging) {
        mmu_identity_tables();
        mmu_map_dir(page_dir);
        mmu_enable(page_dir);
        if (!mmu_paging_in_effect()) mmu_note_not_in_effect("bench-paging");
    }

    u32 acc = 0x811C9DC5u, j = 0;
    for (u32 p = 0; p < passes; p++) {
        for (u32 i = 0; i < WORDS; i++) {
            u32 v = buf[i], w = buf[j];
            acc = (acc ^ v) * 0x01000193u + w;
            buf[j] = w + v;
            j = (j + 1025) & (WORDS - 1);
        }
    }
    printf("bench-paging: checksum %08x paging %u passes %u\n", acc, paging, passes);
    return 0;
}
