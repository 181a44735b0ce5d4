/*
 * bench-string: string workload. memcpy/memset/strlen written with the
 * string instructions (rep movsd, rep stosd, repne scasb) next to plain
 * byte loops doing the same work. Prints a deterministic checksum.
 */
#include "lib.h"

#define SIZE 65536u

static u8 src[SIZE], dst[SIZE];

static void rep_memcpy(void *d, const void *s, u32 n)
{
    u32 dwords = n >> 2, rest = n & 3;
    __asm__ volatile("rep movsl\n\t"
                     "mov %3, %%ecx\n\t"
                     "rep movsb"
                     : "+D"(d), "+S"(s), "+c"(dwords)
                     : "r"(rest)
                     : "memory");
}

static void rep_memset(void *d, u8 c, u32 n)
{
    u32 dwords = n >> 2, rest = n & 3;
    u32 v = c * 0x01010101u;
    __asm__ volatile("rep stosl\n\t"
                     "mov %3, %%ecx\n\t"
                     "rep stosb"
                     : "+D"(d), "+c"(dwords), "+a"(v)
                     : "r"(rest)
                     : "memory");
}

static u32 rep_strlen(const char *s)
{
    u32 count = 0xFFFFFFFFu;
    __asm__ volatile("repne scasb" : "+D"(s), "+c"(count) : "a"(0) : "memory");
    return ~count - 1;
}

static void byte_copy(u8 *d, const u8 *s, u32 n)
{
    for (u32 i = 0; i < n; i++)
        d[i] = s[i];
}

static u32 byte_strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (u32)(p - s);
}

static u32 hash(const u8 *p, u32 n, u32 h)
{
    for (u32 i = 0; i < n; i += 61)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

int main(void)
{
    u32 h = 2166136261u;
    for (u32 round = 0; round < 1000; round++) {
        u32 len = SIZE - 1 - (round * 131) % 4096;
        rep_memset(src, (u8)('a' + round % 26), len);
        src[len] = 0;
        src[(round * 7919) % len] = (u8)('A' + round % 26);
        u32 n1 = rep_strlen((const char *)src);
        rep_memcpy(dst, src + (round & 3), n1 - 3);
        h = hash(dst, n1 - 3, h ^ n1);
        if (round % 4 == 0) {
            byte_copy(dst + 1, src, n1 / 2);
            dst[n1 / 2 + 1] = 0;
            h = hash(dst, n1 / 2, h ^ byte_strlen((const char *)dst + 1));
        }
    }
    kprintf("bench-string: checksum %08x\n", h);
    return 0;
}
