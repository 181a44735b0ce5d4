/*
 * bench-int: integer ALU workload (add/sub/xor, shifts and rotates,
 * multiplies, divides, data-dependent branches). About 150 million
 * instructions; prints a deterministic checksum.
 */
#include "lib.h"

#define ROUNDS 3000000u

static u32 collatz_steps(u32 n)
{
    u32 steps = 0;
    while (n != 1) {
        n = (n & 1) ? 3 * n + 1 : n >> 1;
        steps++;
    }
    return steps;
}

int main(void)
{
    u32 x = 0x12345678u, y = 0x9E3779B9u, acc = 0;
    for (u32 i = 0; i < ROUNDS; i++) {
        /* xorshift32 */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        y = y * 1664525u + 1013904223u;
        u32 r = (y << (i & 31)) | (y >> ((32 - (i & 31)) & 31));
        if (x & 0x100)
            acc += r ^ x;
        else
            acc -= (r >> 3) + i;
        if ((i & 7) == 0)
            acc ^= x / ((y >> 16) | 1);
        if ((int)acc < 0)
            acc = acc * 3 + 1;
        acc += (u32)((int)x >> 7) & 0xFF;
    }
    u32 steps = 0;
    for (u32 n = 1; n < 20000; n++)
        steps += collatz_steps(n);
    kprintf("bench-int: checksum %08x collatz %u\n", acc ^ x ^ y, steps);
    return 0;
}
