/* Tiny runtime for Atlas386 bare-metal guests: console on port 0xE9. */
#ifndef ATLAS386_BAREMETAL_LIB_H
#define ATLAS386_BAREMETAL_LIB_H

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

void putchar_e9(char c);
void puts_e9(const char *s);
/* printf subset: %d %u %x %08x (zero pad + width) %s %c %% */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* gcc may emit calls to these even in freestanding code. */
void *memcpy(void *dst, const void *src, u32 n);
void *memset(void *dst, int c, u32 n);
u32 strlen(const char *s);

#endif
