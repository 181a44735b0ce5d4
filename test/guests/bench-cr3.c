/*
 * bench-cr3: address-space switches, for `atlas386 bench` (not a PASS/FAIL
 * test).
 *
 * Paging on, with two page directories (distinct frames, the same identity
 * map of the first 16 MiB through the same page tables). `loads=N` (default
 * 200000) times, CR3 is loaded with the other directory, which flushes the
 * TLB, then a chunk of ordinary loop work (about 1,000 instructions) runs, so
 * the code, stack and data pages it touches are looked up again after each
 * load. A chunk is 50 steps over a 16 KiB buffer (4 pages) of 32-bit words,
 * starting at word (n * 50) & 4095 for chunk n and advancing by 33 words:
 *   v = buf[i]; acc = (acc ^ v) * 0x01000193 + n; buf[i] = v + (acc >> 11);
 *   i = (i + 33) & 4095
 * from buf[k] = k * 0x9E3779B1, acc = 0x811C9DC5. The checksum is acc at the
 * end. Output, one line:
 *   bench-cr3: checksum XXXXXXXX cr3 loads N
 * then exit status 0 (after a `bench-cr3: note: paging is not in effect ...`
 * line on a CPU that ignores CR0.PG).
 */
#include "lib.h"
#include "bench-mmu.h"

#define WORDS 4096u  /* 16 KiB */
#define CHUNK 50u

static u32 buf[WORDS] __attribute__((aligned(4096)));
static u32 dirs[2][1024] __attribute__((aligned(4096)));

int kmain(u32 magic, const void *info) {
    if (mmu_bench_start("bench-cr3", magic)) return 1;
    u32 loads = cmdline_number(info, "loads", 200000);

    for (u32 k = 0; k < WORDS; k++) buf[k] = k * 0x9E3779B1u;
    mmu_identity_tables();
    mmu_map_dir(dirs[0]);
    mmu_map_dir(dirs[1]);
    mmu_enable(dirs[0]);
    if (!mmu_paging_in_effect()) mmu_note_not_in_effect("bench-cr3");

    u32 acc = 0x811C9DC5u;
    for (u32 n = 0; n < loads; n++) {
        write_cr3((u32)dirs[(n & 1) ^ 1]);
        u32 i = (n * CHUNK) & (WORDS - 1);
        for (u32 k = 0; k < CHUNK; k++) {
            u32 v = buf[i];
            acc = (acc ^ v) * 0x01000193u + n;
            buf[i] = v + (acc >> 11);
            i = (i + 33) & (WORDS - 1);
        }
    }
    printf("bench-cr3: checksum %08x cr3 loads %u\n", acc, loads);
    return 0;
}
