/*
 * demo: the program `npm start` runs on the Atlas386 CPU core.
 * A sieve of Eratosthenes, Fibonacci numbers and a CRC32, printed on the
 * debug console (port 0xE9). Returns 0, which becomes the exit status.
 */
#include "lib.h"

#define SIEVE_LIMIT 200

static u8 composite[SIEVE_LIMIT];

static u32 crc32(const u8 *p, u32 n)
{
    u32 crc = 0xFFFFFFFFu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
    }
    return ~crc;
}

int main(void)
{
    kprintf("Atlas386 bare-metal demo: running on the emulated i386 CPU core\n");

    u32 count = 0;
    kprintf("primes below %d:", SIEVE_LIMIT);
    for (u32 i = 2; i < SIEVE_LIMIT; i++) {
        if (composite[i])
            continue;
        count++;
        kprintf(" %u", i);
        for (u32 j = i * i; j < SIEVE_LIMIT; j += i)
            composite[j] = 1;
    }
    kprintf("\n%u primes\n", count);

    u32 a = 0, b = 1;
    kprintf("fibonacci:");
    for (int i = 0; i < 30; i++) {
        kprintf(" %u", a);
        u32 t = a + b;
        a = b;
        b = t;
    }
    kprintf("\n");

    static const char text[] = "The quick brown fox jumps over the lazy dog";
    kprintf("crc32(\"%s\") = %08x\n", text, crc32((const u8 *)text, sizeof text - 1));

    u32 fact = 1;
    for (u32 i = 1; i <= 12; i++)
        fact *= i;
    kprintf("12! = %u, 1000000007 / 97 = %u rem %u, -12345 / 7 = %d\n",
            fact, 1000000007u / 97u, 1000000007u % 97u, -12345 / (volatile int){7});
    return 0;
}
