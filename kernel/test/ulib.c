#include "ulib.h"

/* mmap2 takes six arguments: the sixth goes in EBP, which the compiler will not let us name. */
int mmap2(u32 addr, u32 len, u32 prot, u32 flags, int fd, u32 pgoff) {
    int r;
    u32 args[2] = { (u32)fd, pgoff };
    __asm__ volatile("push %%ebp\n mov 4(%%edi), %%ebp\n mov (%%edi), %%edi\n int $0x80\n pop %%ebp"
                     : "=a"(r) : "a"(192), "b"(addr), "c"(len), "d"(prot), "S"(flags), "D"(args) : "memory");
    return r;
}

unsigned strlen(const char *s) { unsigned n = 0; while (s[n]) n++; return n; }
int strcmp(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return (unsigned char)*a - (unsigned char)*b; }
void *memset(void *d, int c, unsigned n) { char *p = d; while (n--) *p++ = (char)c; return d; }

static char out[512];
static unsigned outn;
static void flush(void) { if (outn) write(1, out, outn); outn = 0; }
static void put(char c) { if (outn == sizeof out) flush(); out[outn++] = c; }

static void num(u32 v, u32 base, int width, char pad, int neg) {
    char t[12]; int n = 0;
    do { t[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    if (neg) t[n++] = '-';
    for (; width > n; width--) put(pad);
    while (n) put(t[--n]);
}

int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') { put(*fmt); continue; }
        fmt++;
        char pad = ' '; int width = 0;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'd': { int v = va_arg(ap, int); num(v < 0 ? -(u32)v : (u32)v, 10, width, pad, v < 0); break; }
        case 'u': num(va_arg(ap, u32), 10, width, pad, 0); break;
        case 'x': num(va_arg(ap, u32), 16, width, pad, 0); break;
        case 's': { const char *s = va_arg(ap, const char *); while (*s) put(*s++); break; }
        case 'c': put((char)va_arg(ap, int)); break;
        default: put(*fmt); break;
        }
    }
    va_end(ap);
    flush();
    return 0;
}
