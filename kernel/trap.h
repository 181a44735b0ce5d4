/* What alltraps (trapasm.S) saves on the kernel stack: the layout of the pushes. */
#ifndef TRAP_H
#define TRAP_H
#include "types.h"
struct trapframe {
    u32 edi, esi, ebp, oesp, ebx, edx, ecx, eax;   /* pusha */
    u32 gs, fs, es, ds;
    u32 trapno, err;
    u32 eip, cs, eflags;                           /* pushed by the CPU */
    u32 esp, ss;                                   /* only from ring 3 */
};
#endif
