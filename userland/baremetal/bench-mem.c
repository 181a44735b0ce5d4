/*
 * bench-mem: memory-heavy workload over a 4 MiB buffer: sequential writes
 * and reads, strided sweeps, and pseudo-random read-modify-writes.
 * Prints a deterministic checksum.
 */
#include "lib.h"

#define WORDS (1u << 20) /* 4 MiB of u32 */

static u32 buf[WORDS];

int main(void)
{
    u32 sum = 0;
    for (u32 pass = 0; pass < 4; pass++) {
        for (u32 i = 0; i < WORDS; i++)
            buf[i] = i * 2654435761u + pass;
        for (u32 i = 0; i < WORDS; i++)
            sum += buf[i] ^ (sum >> 3);
        for (u32 stride = 1024 + pass; stride < 1024 + 16 + pass; stride += 4)
            for (u32 i = 0; i < WORDS; i += stride)
                sum ^= buf[i] + stride;
    }
    u32 seed = 0xC0FFEEu;
    for (u32 i = 0; i < 4000000u; i++) {
        seed = seed * 1103515245u + 12345u;
        u32 idx = (seed >> 8) & (WORDS - 1);
        buf[idx] += seed;
        sum += buf[(idx * 7) & (WORDS - 1)];
    }
    const u8 *bytes = (const u8 *)buf;
    for (u32 i = 0; i < WORDS * 4; i += 97)
        sum = (sum << 1 | sum >> 31) ^ bytes[i];
    kprintf("bench-mem: checksum %08x\n", sum);
    return 0;
}
