/*
 * panic(): print the reason, the registers (for a trap) and a backtrace with
 * symbol names, then power off with a non-zero status. The backtrace follows
 * the saved-EBP chain (the kernel is built with -fno-omit-frame-pointer);
 * names come from ksyms, a table of function addresses the second link
 * fills in (mksyms.sh).
 */
#include "defs.h"
#include "trap.h"
#include "x86.h"
#include "mmu.h"

#define PANIC_STATUS 3

struct ksym { u32 addr; const char *name; };
extern const u32 ksyms_count;
extern const struct ksym ksyms[];

/* Writing the status to port 0xF4 ends the run (isa-debug-exit on QEMU). */
void poweroff(int status) {
    cli();
    outb(0xF4, (u8)status);
    for (;;) hlt();
}

/* The function containing addr: the last symbol at or below it. */
const char *symbol_for(u32 addr, u32 *offset) {
    const char *name = "?";
    u32 base = 0;
    for (u32 i = 0; i < ksyms_count && ksyms[i].addr <= addr; i++) { name = ksyms[i].name; base = ksyms[i].addr; }
    *offset = addr - base;
    return name;
}

void backtrace(u32 ebp) {
    printf("backtrace:\n");
    for (int depth = 0; depth < 16 && ebp >= KERNBASE && (ebp & 3) == 0; depth++) {
        u32 *frame = (u32 *)ebp;
        u32 ret = frame[1], off;
        if (ret < KERNBASE) break;
        const char *name = symbol_for(ret, &off);
        printf("  %p %s+0x%x\n", ret, name, off);
        ebp = frame[0];
    }
}

void panic(const char *fmt, ...) {
    cli();
    va_list ap;
    printf("panic: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    backtrace(read_ebp());
    poweroff(PANIC_STATUS);
}

/* A trap the kernel cannot handle: the reason, the trap frame, the backtrace from it. */
void panic_trap(const char *what, struct trapframe *tf) {
    cli();
    u32 off;
    const char *name = symbol_for(tf->eip, &off);
    printf("panic: %s (trap %u, error 0x%x) at eip=%p %s+0x%x\n", what, tf->trapno, tf->err, tf->eip, name, off);
    printf("  eax=%p ebx=%p ecx=%p edx=%p\n", tf->eax, tf->ebx, tf->ecx, tf->edx);
    printf("  esi=%p edi=%p ebp=%p esp=%p\n", tf->esi, tf->edi, tf->ebp, (u32)&tf->esp);
    printf("  cs=%x ds=%x eflags=%p cr2=%p cr3=%p\n", tf->cs & 0xFFFF, tf->ds & 0xFFFF, tf->eflags, read_cr2(), read_cr3());
    backtrace(tf->ebp);
    poweroff(PANIC_STATUS);
}
