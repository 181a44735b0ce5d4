#include <stdarg.h>
#include "lib.h"

#ifdef NATIVE
void putchar_e9(char c)
{
    int ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(4), "b"(1), "c"(&c), "d"(1) : "memory");
}
#else
void putchar_e9(char c)
{
    __asm__ volatile("outb %0, %1" : : "a"(c), "Nd"((u16)0xE9));
}
#endif

void puts_e9(const char *s)
{
    while (*s)
        putchar_e9(*s++);
}

static void put_uint(u32 v, u32 base, int width, char pad)
{
    char buf[12];
    int n = 0;
    do {
        u32 d = v % base;
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (width-- > n)
        putchar_e9(pad);
    while (n)
        putchar_e9(buf[--n]);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putchar_e9(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'd': {
            int v = va_arg(ap, int);
            if (v < 0) {
                putchar_e9('-');
                put_uint(-(u32)v, 10, width ? width - 1 : 0, pad);
            } else {
                put_uint((u32)v, 10, width, pad);
            }
            break;
        }
        case 'u': put_uint(va_arg(ap, u32), 10, width, pad); break;
        case 'x': put_uint(va_arg(ap, u32), 16, width, pad); break;
        case 's': puts_e9(va_arg(ap, const char *)); break;
        case 'c': putchar_e9((char)va_arg(ap, int)); break;
        case '%': putchar_e9('%'); break;
        case '\0': va_end(ap); return;
        default: putchar_e9('%'); putchar_e9(*fmt); break;
        }
    }
    va_end(ap);
}

void *memcpy(void *dst, const void *src, u32 n)
{
    u8 *d = dst;
    const u8 *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, u32 n)
{
    u8 *d = dst;
    while (n--)
        *d++ = (u8)c;
    return dst;
}

u32 strlen(const char *s)
{
    u32 n = 0;
    while (s[n])
        n++;
    return n;
}
