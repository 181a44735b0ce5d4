/*
 * The IDT and the C side of every trap. All 256 vectors are interrupt gates
 * (the CPU clears IF on entry), so the kernel always runs with interrupts
 * off: on one CPU that makes every kernel path atomic, and the only places
 * interrupts are taken are user mode and the scheduler's idle HLT. Vector
 * 0x80 (system calls) has DPL 3 so that INT 0x80 works from ring 3.
 */
#include "defs.h"
#include "mmu.h"
#include "proc.h"
#include "trap.h"
#include "vmstat.h"
#include "x86.h"

struct gate { u16 off_lo, sel; u8 zero, type; u16 off_hi; } __attribute__((packed));

/*
 * For the host (a debugger's backtrace through interrupt frames; kernel/README.md,
 * "Debugger ABI"): the size of struct trapframe and where its fields are.
 * `trapret` is the return address that marks a trap frame on a kernel stack.
 */
const u32 ktrapframe_layout[] = {
    sizeof(struct trapframe), offsetof(struct trapframe, trapno), offsetof(struct trapframe, err),
    offsetof(struct trapframe, eip), offsetof(struct trapframe, cs), offsetof(struct trapframe, eflags),
    offsetof(struct trapframe, esp), offsetof(struct trapframe, ss), offsetof(struct trapframe, ebp),
};

static struct gate idt[256];
extern u32 vectors[];
u32 ticks;

static const char *exception_names[] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range exceeded",
    "invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
    "invalid TSS", "segment not present", "stack-segment fault", "general protection fault",
    "page fault", "reserved", "x87 floating-point error", "alignment check",
    "machine check", "SIMD floating-point error",
};

void idt_init(void) {
    for (int v = 0; v < 256; v++) {
        idt[v].off_lo = (u16)vectors[v];
        idt[v].off_hi = (u16)(vectors[v] >> 16);
        idt[v].sel = KCODE_SEL;
        idt[v].zero = 0;
        idt[v].type = v == T_SYSCALL ? 0xEE : 0x8E;     /* present, 32-bit interrupt gate, DPL 3 or 0 */
    }
    struct { u16 limit; u32 base; } __attribute__((packed)) idtr = { sizeof idt - 1, (u32)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

static const char *trap_name(u32 trapno) {
    return trapno < NELEM(exception_names) ? exception_names[trapno] : "unexpected trap";
}

/* Signals a fault kills with (the waitpid status of the dead process). */
#define SIGILL 4
#define SIGFPE 8
#define SIGKILL 9
#define SIGSEGV 11

/* A user page fault: page the page in, or kill the process with the reason. */
static void user_page_fault(struct trapframe *tf) {
    u32 addr = read_cr2();
    int access = (tf->err & PF_W) ? 1 : (addr == tf->eip ? 2 : 0);
    char why[64];
    int r = vm_fault(myproc()->vs, addr, access, why, sizeof why);
    fault_record(addr, tf->err, tf->eip, r);
    if (r == 0) return;
    /* Where memory ran out depends on how much the machine has: the line does not say. */
    if (r == -2) {
        vmc.oom_kills++;
        proc_kill(SIGKILL, "killed: %s (eip=%p)", why, tf->eip);
    }
    proc_kill(SIGSEGV, "segmentation fault at %p (%s) eip=%p", addr, why, tf->eip);
}

void trap(struct trapframe *tf) {
    int from_user = (tf->cs & 3) == 3;
    switch (tf->trapno) {
    case T_SYSCALL:
        syscall(tf);
        proc_check_killed();
        return;
    case T_IRQ0 + IRQ_TIMER:
        ticks++;
        pic_eoi(IRQ_TIMER);
        proc_timer_tick();
        if (from_user && myproc()) {
            yield();                            /* preempt: round-robin on ticks */
            proc_check_killed();
        }
        return;
    case T_IRQ0 + IRQ_COM1:
        console_intr();
        pic_eoi(IRQ_COM1);
        return;
    case T_IRQ0 + IRQ_IDE:
        ide_intr(IRQ_IDE);
        pic_eoi(IRQ_IDE);
        return;
    case T_IRQ0 + IRQ_IDE2:
        ide_intr(IRQ_IDE2);
        pic_eoi(IRQ_IDE2);
        return;
    case T_IRQ0 + 7:
        return;                 /* spurious: no EOI for a spurious IRQ */
    }
    if (!from_user || !myproc()) panic_trap(trap_name(tf->trapno), tf);
    if (tf->trapno == T_PGFLT) {
        user_page_fault(tf);
        proc_check_killed();                    /* killed while paging in from disk */
        return;
    }
    int sig = tf->trapno == 6 ? SIGILL : (tf->trapno == 0 || tf->trapno == 16) ? SIGFPE : SIGSEGV;
    proc_kill(sig, "%s eip=%p", trap_name(tf->trapno), tf->eip);
}
