/*
 * exceptions: CPU exceptions delivered through a 32-bit IDT, error codes,
 * saved EIP/CS (fault vs trap), ring 3 and the TSS stack switch.
 */
#include "lib.h"

/* Labels in exceptions_asm.S */
#define TRIG(n) extern void trig_##n(void); extern char n##_insn[], n##_after[];
TRIG(de) TRIG(db) TRIG(bp) TRIG(of) TRIG(br) TRIG(ud) TRIG(nm_em) TRIG(nm_ts)
TRIG(gp_sel) TRIG(gp_jmp) TRIG(gp_ss_null)
TRIG(np_ds) TRIG(np_gate) TRIG(ss_np) TRIG(df)
extern void trig_of_clear(void), trig_br_ok(void), trig_ts_np(void);
extern char ltr_busy_insn[], ltr_busy_after[];
extern char u_hlt_insn[], u_hlt_after[], u_cli_insn[], u_cli_after[], u_int81_insn[], u_int81_after[];
extern char u_io_insn[], u_io_after[], u_ds0_insn[], u_ds0_after[], u_ss_insn[], u_ss_after[];
extern char u_ts_insn[], u_ts_after[];
extern void user_main(void), ts_handler(void);
extern u32 ts_hits, ts_frame, ts_err, ts_eip, ts_cs, ts_handler_cs, ts_user_esp;
extern u32 r3_esp_after, r3_esp_before, r3_ss_after, r3_cs_after, r3_ds_after, r3_eflags_after;

#define NO_ERR 0xFFFFFFFFu
#define SEL_TS_CODE 0x48  /* conforming ring-0 code, for the #TS handler */

/* What the next exceptions must look like, in order, and what they looked like. */
struct expect {
    const char *name;
    u32 vector, err;  /* err NO_ERR: the CPU pushes none (the stub pushes 0) */
    char *eip;        /* saved EIP; NULL: not checked (#DF: undefined) */
    u32 cs;
    char *resume;
};
struct got { int hit; u32 vector, err, eip, cs, eflags; };

#define MAX_EXPECT 16
static const struct expect *expects[MAX_EXPECT];
static struct got gots[MAX_EXPECT];
static volatile int n_expected, n_seen;

static void exception_handler(struct regs *r) {
    if (n_seen >= n_expected) {
        fail("unexpected exception: vector %u error %x at %x:%x", r->vector, r->err, r->cs & 0xFFFF, r->eip);
        guest_exit(kernel_finish());
    }
    const struct expect *e = expects[n_seen];
    struct got *g = &gots[n_seen++];
    g->hit = 1;
    g->vector = r->vector;
    g->err = r->err;
    g->eip = r->eip;
    g->cs = r->cs & 0xFFFF;
    g->eflags = r->eflags;
    r->eip = (u32)e->resume;
    r->eflags &= ~0x100u;  /* stop single-stepping */
}

static void arm(const struct expect *e) {
    expects[n_expected] = e;
    gots[n_expected].hit = 0;
    n_expected++;
}

static void verify(int i) {
    const struct expect *e = expects[i];
    const struct got *g = &gots[i];
    u32 err = e->err == NO_ERR ? 0 : e->err;
    if (!g->hit) fail("%s: no exception", e->name);
    else if (g->vector != e->vector || g->err != err || (e->eip && g->eip != (u32)e->eip) || g->cs != e->cs)
        fail("%s: vector %u error %x at %x:%x, expected vector %u error %x at %x:%x", e->name,
             g->vector, g->err, g->cs, g->eip, e->vector, err, e->cs, (u32)e->eip);
    else pass(e->name);
}

static void run(const struct expect *e, void (*trigger)(void)) {
    n_expected = n_seen = 0;
    arm(e);
    trigger();
    if (n_seen > 1) fail("%s: %d exceptions", e->name, n_seen);
    verify(0);
}

static void run_none(const char *name, void (*trigger)(void)) {
    n_expected = n_seen = 0;
    trigger();
    pass(name);  /* an exception would have failed in the handler */
}

/* ---- int 0x80 from ring 3 ------------------------------------------------ */
static struct { int hit; u32 frame_top, cs, ss, useresp, ebx, if_in_handler; } sys;

static void syscall_handler(struct regs *r) {
    if (r->eax == 0) return_to_kernel();
    sys.hit = 1;
    sys.frame_top = (u32)&r->eip;
    sys.cs = r->cs & 0xFFFF;
    sys.ss = r->ss & 0xFFFF;
    sys.useresp = r->useresp;
    sys.ebx = r->ebx;
    sys.if_in_handler = (read_eflags() >> 9) & 1;
}

static u8 user_stack[8192] __attribute__((aligned(16)));
static u8 user_small_stack[4096] __attribute__((aligned(4096)));

#define T(nm, vec, n) static const struct expect x_##n = { nm, vec, NO_ERR, n##_after, SEL_KCODE, n##_after };
#define E(nm, vec, er, n, sel) static const struct expect x_##n = { nm, vec, er, n##_insn, sel, n##_after };

E("#DE divide by zero: fault at DIV", 0, NO_ERR, de, SEL_KCODE)
T("#BP int3: trap, EIP after INT3", 3, bp)
T("#OF into with OF=1: trap, EIP after INTO", 4, of)
E("#BR bound out of range: fault at BOUND", 5, NO_ERR, br, SEL_KCODE)
E("#UD ud2: fault at UD2", 6, NO_ERR, ud, SEL_KCODE)
E("#NM x87 with CR0.EM=1", 7, NO_ERR, nm_em, SEL_KCODE)
E("#NM x87 with CR0.TS=1", 7, NO_ERR, nm_ts, SEL_KCODE)
E("#GP selector beyond GDT limit into DS: error = selector", 13, 0x1F8, gp_sel, SEL_KCODE)
E("#GP far jump to a data segment: error = selector", 13, 0x10, gp_jmp, SEL_KCODE)
E("#GP null SS at CPL 0: error 0", 13, 0, gp_ss_null, SEL_KCODE)
E("#NP not-present segment into DS: error = selector", 11, 0x30, np_ds, SEL_KCODE)
E("#NP INT through not-present gate: error = vector*8+2", 11, 0x40 * 8 + 2, np_gate, SEL_KCODE)
E("#SS not-present segment into SS: error = selector", 12, 0x30, ss_np, SEL_KCODE)
E("#GP LTR of a busy TSS: error = selector", 13, 0x28, ltr_busy, SEL_KCODE)
E("ring 3: HLT raises #GP(0)", 13, 0, u_hlt, SEL_UCODE)
E("ring 3: CLI with IOPL 0 raises #GP(0)", 13, 0, u_cli, SEL_UCODE)
E("ring 3: INT 0x81 to a DPL-0 gate raises #GP(0x81*8+2)", 13, 0x81 * 8 + 2, u_int81, SEL_UCODE)
E("ring 3: IN with IOPL 0 and no I/O bitmap raises #GP(0)", 13, 0, u_io, SEL_UCODE)
E("ring 3: DPL-0 data segment into DS raises #GP(selector)", 13, 0x10, u_ds0, SEL_UCODE)
#ifdef SEGMENT_CHECKS
/* QEMU's TCG does not check segment limits, null selectors or writability on
 * memory accesses, so these run only when built with -DSEGMENT_CHECKS. */
TRIG(gp_null) TRIG(gp_cs_write)
E("#GP access through null DS: error 0", 13, 0, gp_null, SEL_KCODE)
E("#GP write through CS: error 0", 13, 0, gp_cs_write, SEL_KCODE)
E("ring 3: push beyond the SS limit raises #SS(0)", 12, 0, u_ss, SEL_UCODE)
#endif
static const struct expect x_db = { "#DB single step (TF set by POPF): trap after the next instruction", 1, NO_ERR, db_after, SEL_KCODE, db_after };
static const struct expect x_df = { "#DF: #GP through a not-present gate, error 0", 8, 0, NULL, SEL_KCODE, df_after };

int kmain(u32 magic, const void *info) {
    kernel_start("exceptions", magic, info);
    gdt_set(6, 0, 0xFFFFF, 0x12 | 0x00, 0xC);        /* 0x30: not-present ring-0 data */
    gdt_set(8, (u32)user_small_stack, 0xFFF, 0xF2, 0x4); /* 0x43: ring-3 data, limit 4 KiB - 1 */
    for (int v = 0; v < 32; v++) isr_install(v, exception_handler);
    isr_install(0x80, syscall_handler);
    idt_set_gate(0x80, GATE_TRAP, 3, 1);
    idt_set_gate(0x81, GATE_INT, 0, 1);
    idt_set_gate(0x40, GATE_INT, 0, 0);

    run(&x_de, trig_de);
    run(&x_db, trig_db);
    run(&x_bp, trig_bp);
    run(&x_of, trig_of);
    run_none("INTO with OF=0: no exception", trig_of_clear);
    run(&x_br, trig_br);
    run_none("BOUND in range: no exception", trig_br_ok);
    run(&x_ud, trig_ud);
    run(&x_nm_em, trig_nm_em);
    run(&x_nm_ts, trig_nm_ts);
    run(&x_gp_sel, trig_gp_sel);
    run(&x_gp_jmp, trig_gp_jmp);
    run(&x_gp_ss_null, trig_gp_ss_null);
    run(&x_np_ds, trig_np_ds);
    run(&x_np_gate, trig_np_gate);
    run(&x_ss_np, trig_ss_np);
    run(&x_ltr_busy, trig_ts_np);
#ifdef SEGMENT_CHECKS
    run(&x_gp_null, trig_gp_null);
    run(&x_gp_cs_write, trig_gp_cs_write);
#endif

    idt_set_gate(13, GATE_INT, 0, 0);
    run(&x_df, trig_df);
    idt_set_gate(13, GATE_INT, 0, 1);

    /* Ring 3: int 0x80 through a DPL-3 trap gate, then privileged instructions. */
    n_expected = n_seen = 0;
    arm(&x_u_hlt); arm(&x_u_cli); arm(&x_u_int81); arm(&x_u_io); arm(&x_u_ds0);
#ifdef SEGMENT_CHECKS
    arm(&x_u_ss);
#endif
    /* #TS: gate 10 (trap gate) to ts_handler in the conforming ring-0 code segment 0x48. */
    gdt_set(9, 0, 0xFFFFF, 0x9E, 0xC);
    struct { u16 limit; u32 base; } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    u32 off = (u32)ts_handler;
    ((u64 *)idtr.base)[10] = (off & 0xFFFF) | ((u64)SEL_TS_CODE << 16) | ((u64)(0x80 | GATE_TRAP) << 40)
                           | ((u64)(off >> 16) << 48);
    enter_user(user_main, user_stack + sizeof user_stack);
    if (!sys.hit) fail("ring 3: int 0x80 not delivered");
    else {
        CHECK(sys.cs == SEL_UCODE && sys.ss == SEL_UDATA && sys.useresp == sys.ebx,
              "ring 3: int 0x80 frame holds the ring-3 CS, SS and ESP");
        CHECK(sys.frame_top == (u32)kstack0_top - 20, "ring 3: int 0x80 runs on the TSS.ESP0 stack");
        CHECK(sys.if_in_handler == 1, "ring 3: a trap gate leaves IF set");
    }
    CHECK(r3_esp_after == r3_esp_before && (r3_ss_after & 0xFFFF) == SEL_UDATA && (r3_cs_after & 0xFFFF) == SEL_UCODE
              && (r3_ds_after & 0xFFFF) == SEL_UDATA,
          "ring 3: IRET returns to ring 3 with its ESP, SS, CS and DS");
    CHECK((r3_eflags_after & 0x3200) == 0x0200, "ring 3: EFLAGS after IRET has IF=1, IOPL=0");
    if (n_seen != n_expected) fail("ring 3: %d exceptions, expected %d", n_seen, n_expected);
    for (int i = 0; i < n_expected; i++) verify(i);
    /* #TS(0x08): int 0x80 from ring 3 with TSS.SS0 = 0x08 (a code segment). The
     * handler runs at CPL 3 (CS 0x4B) on the ring-3 stack: frame of 4 dwords. */
    if (ts_hits != 1 || ts_err != 0x08 || ts_eip != (u32)u_ts_insn || (ts_cs & 0xFFFF) != SEL_UCODE
        || (ts_handler_cs & 0xFFFF) != (SEL_TS_CODE | 3) || ts_frame != ts_user_esp - 16 || tss.ss0 != SEL_KDATA)
        fail("#TS bad SS0 in the TSS on int 0x80 from ring 3: %u #TS, error %x at %x:%x (handler CS %x, frame %x,"
             " ring-3 ESP %x, SS0 %x), expected error 8 at %x:%x, handler CS %x, frame ESP-16, SS0 %x",
             ts_hits, ts_err, ts_cs & 0xFFFF, ts_eip, ts_handler_cs, ts_frame, ts_user_esp, tss.ss0,
             SEL_UCODE, (u32)u_ts_insn, SEL_TS_CODE | 3, SEL_KDATA);
    else pass("#TS bad SS0 in the TSS on int 0x80 from ring 3: error = selector");
    return kernel_finish();
}
