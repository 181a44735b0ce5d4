/* Fixed-width types for a freestanding i386 kernel. */
#ifndef TYPES_H
#define TYPES_H
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char i8;
typedef short i16;
typedef int i32;
typedef long long i64;
typedef unsigned int uintptr;
typedef unsigned int size_t;
typedef u32 pde_t;
typedef u32 pte_t;
#define NULL ((void *)0)
#endif
