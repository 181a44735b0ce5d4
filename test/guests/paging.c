/*
 * paging: 32-bit paging (Intel SDM vol. 3, chapter 4) and the page-fault
 * exception (chapter 6, #PF), checked from the inside.
 *
 * Memory. The kernel runs identity-mapped: pd[0] and pd[1] point at pt_low,
 * which maps 0-8 MiB with 4 KiB supervisor pages (page 0 not present), except
 * the pages ring 3 needs (paging_asm.S's .text.user and .data.user sections
 * and user_stack), which are user pages. The tests use linear addresses far
 * from it:
 *
 *   0x40000000-0x403FFFFF  pd[256] -> pt_test: 4 KiB pages onto frames[]
 *   0x40400000-0x407FFFFF  pd[257]: one 4 MiB page onto physical 4 MiB
 *   0xFFC00000-0xFFFFFFFF  pd[1023] -> pd itself, for the recursive mapping
 *
 * Part 1 tries every combination of the P, R/W and U/S bits of the PDE and
 * PTE (and of a 4 MiB PDE), with a read, a write and an instruction fetch,
 * at CPL 0 and 3, with CR0.WP 0 and 1: 864 cases, each from a fresh TLB
 * (MOV CR3) and fresh entries (A = D = 0). Each must fault exactly when the
 * SDM's rules say, with the right error code, CR2 and saved CS:EIP, and leave
 * the A and D bits as the SDM says. One line per entry combination shows
 * what happened in each case (QEMU is the reference for what the SDM leaves
 * open, such as the A bits after a fault).
 *
 * Part 2 checks the TLB where the SDM says what must happen: INVLPG, MOV CR3,
 * global pages, D after a cached read, aliases, the recursive mapping, and
 * faults in the middle of an instruction (page-crossing accesses, PUSH and
 * CALL, REP MOVS, an interrupt whose ring-0 stack is not present).
 *
 * Where the SDM allows a stale translation to be used (a PTE changed without
 * INVLPG), the outcome goes on a line starting with "sdm: ": QEMU's TLB need
 * not show it, so the comparison with QEMU leaves those lines out, and a test
 * of its own checks that Atlas386's TLB (a faithful one) shows the stale one.
 */
#include "lib.h"

/* Paging-structure entry bits (SDM tables 4-4 to 4-6). */
#define PG_P   0x001u  /* present */
#define PG_W   0x002u  /* R/W: writes allowed */
#define PG_U   0x004u  /* U/S: user-mode accesses allowed */
#define PG_A   0x020u  /* accessed */
#define PG_D   0x040u  /* dirty (in the entry that maps the page) */
#define PG_PS  0x080u  /* PDE: maps a 4 MiB page (with CR4.PSE = 1) */
#define PG_G   0x100u  /* global (with CR4.PGE = 1) */
#define PG_PWU (PG_P | PG_W | PG_U)

/* #PF error code bits (SDM figure 6-11). */
#define PF_P    0x01u  /* 1: protection violation; 0: not present */
#define PF_W    0x02u  /* write */
#define PF_U    0x04u  /* CPL 3 */
#define PF_RSVD 0x08u  /* reserved bit set in an entry */
#define PF_ID   0x10u  /* instruction fetch (only with NX or SMEP) */

#define CR0_WP  (1u << 16)
#define CR0_PG  (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PGE (1u << 7)

#define PAGE 4096u
#define OFF  0x100u                  /* offset of the tested dword in a page */

#define PDI_4K  256                  /* pd index of the 4 KiB test region */
#define PDI_4M  257                  /* pd index of the 4 MiB test page */
#define VA_4K   0x40000000u          /* part 1: pt_test[0] -> frames[0] */
#define VA_4M   0x40400000u          /* part 1: the 4 MiB page -> BIG_FRAME */
#define BIG_FRAME 0x00400000u        /* physical, above the kernel, identity-mapped */
#define VA_T    0x40001000u          /* part 2: the TLB tests' page */
#define VA_T2   0x40002000u          /* part 2: an alias of VA_T */
#define VA_CROSS 0x40010000u         /* present; the page after it is not */
#define VA_STACK 0x40020000u         /* not present: a ring-3 stack page */
#define VA_REP  0x40030000u          /* present; the page after it is not */
#define VA_ESP0 0x40040000u          /* not present: a ring-0 stack page */
#define RECURSIVE_PDE(va) (0xFFFFF000u + ((va) >> 22) * 4)
#define RECURSIVE_PTE(va) (0xFFC00000u + ((va) >> 12) * 4)

#define SEL_UTSS       0x30          /* GDT entry 6: utss */
#define SEL_CONFORMING 0x38          /* GDT entry 7: conforming ring-0 code, for #DF */

#define INITIAL 0x5A5A00C3u          /* a test dword: its first byte is RET */
#define WVAL    0xA5A5A5A5u          /* what the write probe writes */
#define FAULTED 0xDEADFA17u          /* read0's answer when the read faulted */

/* paging_asm.S */
extern void probe_read(void), probe_write(void), probe_fetch(void);
extern void user_probe(void), user_push(void), user_call(void), user_int(void), df_handler(void);
extern void rep_movsb(u32 dst, const void *src, u32 count), rep_movsd(u32 dst, const void *src, u32 count);
extern char probe_read_insn[], probe_write_insn[], probe_fault[], probe_fetch_fault[];
extern char rep_movsb_insn[], rep_movsd_insn[], rep_done[], user_push_insn[], user_call_insn[];
extern char user_text_start[], user_text_end[], user_data_start[], user_data_end[];
extern struct tss utss;
extern volatile u32 df_hits, df_err, df_frame, df_cs;

static inline u32 read_cr2(void) { u32 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline void write_cr3(u32 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline u32 read_cr4(void) { u32 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr4(u32 v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline void invlpg(u32 va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

static u32 pd[1024] __attribute__((aligned(4096)));
static u32 pt_low[2048] __attribute__((aligned(4096)));   /* 0-8 MiB: entry n maps page n */
static u32 pt_test[1024] __attribute__((aligned(4096)));
static u8 frames[4][PAGE] __attribute__((aligned(4096)));
static u8 user_stack[PAGE] __attribute__((aligned(4096)));
static u8 src_buf[32];

/* ---- set-up -------------------------------------------------------------- */

static void flush_tlb(void) { write_cr3((u32)pd); }

static void set_wp(int on) { write_cr0(on ? read_cr0() | CR0_WP : read_cr0() & ~CR0_WP); }

/* Makes the identity-mapped pages of [start, end) user pages. */
static void user_pages(const void *start, const void *end) {
    for (u32 a = (u32)start & ~(PAGE - 1); a < (u32)end; a += PAGE) pt_low[a / PAGE] |= PG_U;
}

/*
 * The identity map (supervisor, writable, page 0 not present), the test
 * region's PDE, CR4.PSE for the 4 MiB pages, then CR0.PG. pd[0] is a user
 * PDE so that the user PTEs in it count; pd[1] (4-8 MiB) is the kernel's.
 */
static void paging_init(void) {
    for (u32 n = 1; n < 2048; n++) pt_low[n] = n * PAGE | PG_P | PG_W;
    user_pages(user_text_start, user_text_end);
    user_pages(user_data_start, user_data_end);
    user_pages(user_stack, user_stack + PAGE);
    pd[0] = (u32)&pt_low[0] | PG_PWU;
    pd[1] = (u32)&pt_low[1024] | PG_P | PG_W;
    pd[PDI_4K] = (u32)pt_test | PG_PWU;
    write_cr3((u32)pd);
    write_cr4(read_cr4() | CR4_PSE);
    write_cr0(read_cr0() | CR0_PG);
    __asm__ volatile("jmp 1f\n1:" ::: "memory");
}

/*
 * Ring 3 enters ring 0 with utss, on a user page, so that the #DF handler,
 * which runs at CPL 3, can repair its ESP0 (see double_fault_on_esp0).
 */
static void tss_init(void) {
    memset(&utss, 0, sizeof utss);
    utss.ss0 = SEL_KDATA;
    utss.esp0 = (u32)kstack0_top;
    utss.iomap = sizeof utss;
    gdt_set(6, (u32)&utss, sizeof utss - 1, 0x89, 0x0);
    gdt_set(7, 0, 0xFFFFF, 0x9E, 0xC);  /* conforming ring-0 code, flat */
    __asm__ volatile("ltr %w0" : : "r"(SEL_UTSS));
}

/* Points IDT entry `vec` at sel:fn, a present 32-bit interrupt gate. */
static void set_gate(int vec, u16 sel, void (*fn)(void)) {
    struct { u16 limit; u32 base; } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    u32 off = (u32)fn;
    ((u64 *)idtr.base)[vec] = (off & 0xFFFF) | ((u64)sel << 16) | ((u64)(0x80 | GATE_INT) << 40)
                            | ((u64)(off >> 16) << 48);
}

/* ---- page faults and ring 3 ------------------------------------------------ */

/* What the last page faults looked like (hits: how many since it was cleared). */
static volatile struct {
    int hits;
    u32 err, cr2, eip, cs, esp, eax, ecx, edx, esi, edi;
} pf;
static volatile u32 pf_resume;  /* where a ring-0 fault resumes; 0: no fault expected */
static volatile u32 sys_ebx;    /* EBX at the last INT 0x80 (user_probe's result) */

/*
 * Records the fault. A fault at ring 3 ends the ring-3 run (back from
 * enter_user); one at ring 0 resumes at pf_resume, a probe's fault exit.
 * At ring 0 the frame has no ESP: the interrupted one is where it ends.
 */
static void pf_handler(struct regs *r) {
    pf.hits++;
    pf.err = r->err;
    pf.cr2 = read_cr2();
    pf.eip = r->eip;
    pf.cs = r->cs & 0xFFFF;
    pf.eax = r->eax; pf.ecx = r->ecx; pf.edx = r->edx; pf.esi = r->esi; pf.edi = r->edi;
    if ((r->cs & 3) == 3) {
        pf.esp = r->useresp;
        return_to_kernel();
    }
    pf.esp = (u32)&r->useresp;
    if (!pf_resume) {
        fail("unexpected #PF: error %x CR2 %x at %x:%x", pf.err, pf.cr2, pf.cs, pf.eip);
        guest_exit(kernel_finish());
    }
    r->eip = pf_resume;
}

/* INT 0x80: ring 3 is done; back to the kernel. */
static void sys_handler(struct regs *r) {
    sys_ebx = r->ebx;
    return_to_kernel();
}

enum { READ, WRITE, FETCH };
static void (*const probes[3])(void) = { probe_read, probe_write, probe_fetch };

/* One access at CPL 0: the dword read (READ), or the address back after a fault. */
static u32 access0(int kind, u32 va, u32 value) {
    u32 a = va, d = value;
    pf_resume = kind == FETCH ? (u32)probe_fetch_fault : (u32)probe_fault;
    __asm__ volatile("call *%2" : "+a"(a), "+d"(d) : "r"(probes[kind]) : "ecx", "memory", "cc");
    pf_resume = 0;
    return a;
}

/* The same access at CPL 3: user_probe finds the probe and its arguments on its stack. */
static u32 access3(int kind, u32 va, u32 value) {
    u32 *sp = (u32 *)(user_stack + PAGE) - 3;
    sp[0] = (u32)probes[kind];
    sp[1] = va;
    sp[2] = value;
    sys_ebx = 0;
    enter_user(user_probe, sp);
    return sys_ebx;
}

/* A read at CPL 0 that may fault: the dword, or FAULTED (pf holds the fault). */
static u32 read0(u32 va) {
    pf.hits = 0;
    u32 v = access0(READ, va, 0);
    return pf.hits ? FAULTED : v;
}

/* ---- part 1: every combination of the permission bits ---------------------- */

/* One case: the entries' P/W/U bits (PG_P, PG_W, PG_U), the access, CPL, CR0.WP. */
struct pcase { int big; u32 pde, pte; int kind, cpl, wp; };
/* What it did: the fault, the dword read, the entries and the dword in memory after. */
struct result { int faulted; u32 err, cr2, eip, cs, value, pde, pte, mem; };

static const char *const pwu[8] = { "---", "P--", "-W-", "PW-", "--U", "P-U", "-WU", "PWU" };
static const char kind_char[3] = { 'r', 'w', 'x' };

/*
 * The #PF error code the SDM predicts (sections 4.6 and 6.15), or -1 for no
 * fault. Without NX and SMEP a fetch is checked as a read. CPL 3 needs U/S = 1
 * at both levels, a write at CPL 3 needs R/W = 1 at both; at CPL 0 a write
 * needs R/W = 1 only with CR0.WP = 1 (on user and supervisor pages alike).
 */
static int expected_error(const struct pcase *c) {
    u32 pte = c->big ? PG_PWU : c->pte;  /* a 4 MiB page has no PTE */
    u32 bits = (c->kind == WRITE ? PF_W : 0) | (c->cpl == 3 ? PF_U : 0);
    if (!(c->pde & PG_P) || !(pte & PG_P)) return (int)bits;
    int user_ok = (c->pde & pte & PG_U) != 0;
    int write_ok = (c->pde & pte & PG_W) != 0;
    if (c->cpl == 3 && !user_ok) return (int)(bits | PF_P);
    if (c->kind == WRITE && !write_ok && (c->cpl == 3 || c->wp)) return (int)(bits | PF_P);
    return -1;
}

/* Sets up the entries for one case, from a flushed TLB, and performs its access. */
static void run_case(const struct pcase *c, struct result *r) {
    u32 va = (c->big ? VA_4M : VA_4K) + OFF;
    volatile u32 *mem = c->big ? (u32 *)(BIG_FRAME + OFF) : (u32 *)(frames[0] + OFF);
    set_wp(c->wp);
    *mem = INITIAL;
    pd[PDI_4K] = c->big ? 0 : (u32)pt_test | c->pde;
    pd[PDI_4M] = c->big ? BIG_FRAME | PG_PS | c->pde : 0;
    pt_test[0] = (u32)frames[0] | c->pte;
    flush_tlb();
    pf.hits = 0;
    r->value = c->cpl ? access3(c->kind, va, WVAL) : access0(c->kind, va, WVAL);
    r->faulted = pf.hits;
    r->err = pf.err;
    r->cr2 = pf.cr2;
    r->eip = pf.eip;
    r->cs = pf.cs;
    r->pde = pd[c->big ? PDI_4M : PDI_4K];
    r->pte = pt_test[0];
    r->mem = *mem;
}

/* A check over all the cases: how many went wrong, and the first that did. */
struct tally { const char *name; u32 bad; struct pcase first; u32 got, want; };

static struct tally t_fault = {
    .name = "permissions: a #PF exactly when the SDM says (P, U/S and R/W of PDE and PTE, CPL, CR0.WP)" };
static struct tally t_err = { .name = "#PF error code: P, W/R and U/S as the SDM says, RSVD = 0" };
static struct tally t_cr2 = { .name = "#PF: CR2 = the linear address accessed" };
static struct tally t_eip = {
    .name = "#PF: saved CS:EIP = the faulting instruction (for a fetch, the CALL's target)" };
static struct tally t_data = {
    .name = "data: a read gets the frame's dword, a write reaches the frame, a faulting write does not" };
static struct tally t_acc = { .name = "A bit: set in the PDE and the PTE by every access that does not fault" };
static struct tally t_dirty = {
    .name = "D bit: set in the page's entry by a write, not by a read or a fetch, nor by a faulting write" };
static u32 n_cases;

/* What the SDM leaves open, counted to print as observed. */
static struct { u32 fetch_faults, fetch_id, pde4k, pde4k_a, pte4k, pte4k_a, pde4m, pde4m_a; } seen;

static void tally(struct tally *t, const struct pcase *c, int ok, u32 got, u32 want) {
    if (ok) return;
    if (!t->bad++) { t->first = *c; t->got = got; t->want = want; }
}

static void report(const struct tally *t) {
    if (!t->bad) { pass(t->name); return; }
    const struct pcase *c = &t->first;
    fail("%s: %u of %u cases wrong; first: %s pde %s pte %s, %c at CPL %d, WP=%d: got %x, expected %x",
         t->name, t->bad, n_cases, c->big ? "4M" : "4K", pwu[c->pde], c->big ? "none" : pwu[c->pte],
         kind_char[c->kind], c->cpl, c->wp, t->got, t->want);
}

/* Checks one case against the SDM and counts what it leaves open. */
static void check_case(const struct pcase *c, const struct result *r) {
    int want = expected_error(c);
    u32 va = (c->big ? VA_4M : VA_4K) + OFF;
    u32 leaf = c->big ? r->pde : r->pte;  /* the entry that maps the page */
    n_cases++;
    tally(&t_fault, c, (want >= 0) == r->faulted, r->faulted ? r->err : 0xFFFFFFFFu, (u32)want);
    if (r->faulted && want >= 0) {
        u32 eip = c->kind == READ ? (u32)probe_read_insn : c->kind == WRITE ? (u32)probe_write_insn : va;
        tally(&t_err, c, (r->err & (PF_P | PF_W | PF_U | PF_RSVD)) == (u32)want, r->err, (u32)want);
        tally(&t_cr2, c, r->cr2 == va, r->cr2, va);
        tally(&t_eip, c, r->eip == eip && r->cs == (c->cpl ? SEL_UCODE : SEL_KCODE), r->eip, eip);
        tally(&t_data, c, r->mem == INITIAL, r->mem, INITIAL);
        tally(&t_dirty, c, !(leaf & PG_D), leaf, leaf & ~PG_D);
        if (c->kind == FETCH) { seen.fetch_faults++; seen.fetch_id += (r->err & PF_ID) != 0; }
        if (c->big && (c->pde & PG_P)) { seen.pde4m++; seen.pde4m_a += (r->pde & PG_A) != 0; }
        if (!c->big && (c->pde & PG_P)) { seen.pde4k++; seen.pde4k_a += (r->pde & PG_A) != 0; }
        if (!c->big && (c->pde & PG_P) && (c->pte & PG_P)) { seen.pte4k++; seen.pte4k_a += (r->pte & PG_A) != 0; }
    } else if (!r->faulted) {
        u32 mem_want = c->kind == WRITE ? WVAL : INITIAL;
        int data_ok = r->mem == mem_want && (c->kind != READ || r->value == INITIAL);
        tally(&t_data, c, data_ok, c->kind == READ ? r->value : r->mem, mem_want);
        tally(&t_acc, c, (r->pde & PG_A) && (c->big || (r->pte & PG_A)), r->pde, r->pte);
        tally(&t_dirty, c, ((leaf & PG_D) != 0) == (c->kind == WRITE), leaf, leaf ^ PG_D);
    }
}

/* One token: "ok" or the #PF error code, then A/D of the PDE (and PTE) after. */
static void print_token(const struct pcase *c, const struct result *r) {
    if (r->faulted) printf(" %02x:", r->err);
    else puts(" ok:");
    putc(r->pde & PG_A ? 'A' : '-');
    putc(r->pde & PG_D ? 'D' : '-');
    if (c->big) return;
    putc(r->pte & PG_A ? 'A' : '-');
    putc(r->pte & PG_D ? 'D' : '-');
}

/* The 12 cases of one entry combination (WP 0 then 1; r w x at CPL 0, then at CPL 3), on one line. */
static void run_combination(int big, u32 pde, u32 pte) {
    if (big) printf("4M pde %s        ", pwu[pde]);
    else printf("4K pde %s pte %s", pwu[pde], pwu[pte]);
    for (int wp = 0; wp < 2; wp++) {
        puts(wp ? " | wp1" : " wp0");
        for (int cpl = 0; cpl <= 3; cpl += 3)
            for (int kind = READ; kind <= FETCH; kind++) {
                struct pcase c = { big, pde, pte, kind, cpl, wp };
                struct result r;
                run_case(&c, &r);
                check_case(&c, &r);
                print_token(&c, &r);
            }
    }
    putc('\n');
}

static void permissions(void) {
    puts("permissions: one line per PDE/PTE combination (P, W = R/W, U = U/S set or -); for CR0.WP = 0\n"
         "  then 1, read/write/fetch at CPL 0 then 3: ok or the #PF error code, then A/D of the PDE (and PTE)\n");
    for (u32 pde = 0; pde < 8; pde++)
        for (u32 pte = 0; pte < 8; pte++) run_combination(0, pde, pte);
    for (u32 pde = 0; pde < 8; pde++) run_combination(1, pde, 0);
    set_wp(0);
    pd[PDI_4K] = (u32)pt_test | PG_PWU;
    pd[PDI_4M] = 0;
    pt_test[0] = 0;
    flush_tlb();

    printf("permissions: %u cases\n", n_cases);
    report(&t_fault);
    report(&t_err);
    report(&t_cr2);
    report(&t_eip);
    report(&t_data);
    report(&t_acc);
    report(&t_dirty);
    printf("observed: #PF error code bit 4 (I/D) set in %u of %u instruction-fetch faults\n",
           seen.fetch_id, seen.fetch_faults);
    printf("observed: after a #PF, the A bit is set in %u of %u present 4 KiB PDEs, %u of %u present PTEs,"
           " %u of %u present 4 MiB PDEs\n",
           seen.pde4k_a, seen.pde4k, seen.pte4k_a, seen.pte4k, seen.pde4m_a, seen.pde4m);
}

/* ---- part 2: the TLB, and faults in the middle of an instruction ---------- */

static u32 marker(int i) { return 0xF1A00000u + (u32)i; }
static u32 frame_word(int i) { return *(volatile u32 *)(frames[i] + OFF); }

/* Maps the test page `va` (0x40000000-0x403FFFFF) to `frame`; flags 0 unmaps it. */
static void map(u32 va, const void *frame, u32 flags) {
    pt_test[(va >> 12) & 1023] = flags ? (u32)frame | flags : 0;
}
static u32 pte_of(u32 va) { return pt_test[(va >> 12) & 1023]; }

/* Fresh frames (marker i at OFF in frame i), the test region unmapped, a flushed TLB. */
static void tlb_reset(void) {
    for (int i = 0; i < 4; i++) *(volatile u32 *)(frames[i] + OFF) = marker(i);
    memset(pt_test, 0, sizeof pt_test);
    flush_tlb();
}

/* PASS, or FAIL with what the last #PF looked like. */
static void check_fault(int ok, const char *name) {
    if (ok) pass(name);
    else fail("%s: %d #PF, error %x CR2 %x at %x:%x, EAX %x ECX %x EDX %x ESI %x EDI %x ESP %x", name, pf.hits,
              pf.err, pf.cr2, pf.cs, pf.eip, pf.eax, pf.ecx, pf.edx, pf.esi, pf.edi, pf.esp);
}

/* What a read after a change without invalidation found: the old or new frame, or a fault. */
static const char *outcome(u32 v, u32 old, u32 new) {
    return v == FAULTED ? "fault" : v == old ? "old" : v == new ? "new" : "other";
}

/* Paging must be on before anything else makes sense (Atlas386 before its MMU: it is not). */
static int paging_in_effect(void) {
    tlb_reset();
    map(VA_T, frames[1], PG_P | PG_W);
    u32 v = *(volatile u32 *)(VA_T + OFF);
    map(VA_T, 0, 0);
    flush_tlb();
    return v == marker(1);
}

static void tlb_invlpg(void) {
    tlb_reset();
    map(VA_T, frames[1], PG_P | PG_W);
    u32 a = read0(VA_T + OFF);  /* caches the translation to frame 1 */
    map(VA_T, frames[2], PG_P | PG_W);
    u32 b = read0(VA_T + OFF);
    printf("sdm: PTE's frame changed without INVLPG: read=%s\n", outcome(b, marker(1), marker(2)));
    invlpg(VA_T);
    u32 c = read0(VA_T + OFF);
    CHECK(a == marker(1) && c == marker(2), "INVLPG: after a PTE's frame changes, INVLPG makes the new frame visible");
}

static void tlb_not_present(void) {
    tlb_reset();
    map(VA_T, frames[1], PG_P | PG_W);
    u32 a = read0(VA_T + OFF);
    map(VA_T, frames[1], PG_W);  /* P = 0, the frame left in */
    u32 b = read0(VA_T + OFF);
    printf("sdm: PTE's P cleared without INVLPG: read=%s\n", outcome(b, marker(1), 0));
    invlpg(VA_T);
    u32 c = read0(VA_T + OFF);
    check_fault(a == marker(1) && c == FAULTED && pf.err == 0 && pf.cr2 == VA_T + OFF,
                "INVLPG after clearing P: the read faults, error 0 (not present)");
}

static void tlb_cr3(void) {
    tlb_reset();
    map(VA_T, frames[1], PG_P | PG_W);
    u32 a = read0(VA_T + OFF);
    map(VA_T, frames[2], PG_P | PG_W);
    flush_tlb();
    u32 c = read0(VA_T + OFF);
    CHECK(a == marker(1) && c == marker(2), "MOV CR3: a non-global translation is flushed");
}

/*
 * CR4.PGE = 1 and G = 1: the translation may survive MOV CR3 (the SDM says
 * it is not invalidated; QEMU flushes it anyway), but INVLPG and clearing
 * CR4.PGE must flush it.
 */
static void tlb_global(void) {
    tlb_reset();
    write_cr4(read_cr4() | CR4_PGE);
    map(VA_T, frames[1], PG_P | PG_W | PG_G);
    u32 a = read0(VA_T + OFF);
    map(VA_T, frames[2], PG_P | PG_W | PG_G);
    flush_tlb();
    u32 b = read0(VA_T + OFF);
    printf("sdm: global PTE's frame changed, then MOV CR3: read=%s\n", outcome(b, marker(1), marker(2)));
    invlpg(VA_T);
    u32 c = read0(VA_T + OFF);
    CHECK(a == marker(1) && c == marker(2), "global translation (CR4.PGE = 1, G = 1): INVLPG flushes it");
    map(VA_T, frames[3], PG_P | PG_W | PG_G);
    write_cr4(read_cr4() & ~CR4_PGE);
    u32 d = read0(VA_T + OFF);
    CHECK(d == marker(3), "global translation: clearing CR4.PGE flushes it");
}

/*
 * A user read caches a read-only translation; the PTE then allows writes,
 * without INVLPG. The SDM allows the write to fault on the stale entry (a
 * "spurious" #PF), but the fault invalidates it, so a retry must succeed.
 */
static void tlb_made_writable(void) {
    tlb_reset();
    map(VA_T, frames[1], PG_P | PG_U);
    pf.hits = 0;
    u32 a = access3(READ, VA_T + OFF, 0);
    int read_faulted = pf.hits;
    map(VA_T, frames[1], PG_P | PG_W | PG_U);
    pf.hits = 0;
    access3(WRITE, VA_T + OFF, 0x600D0001u);
    int first = pf.hits;
    u32 first_err = pf.err;
    printf("sdm: PTE made writable without INVLPG: ring-3 write=%s\n", first ? "fault" : "ok");
    pf.hits = 0;
    access3(WRITE, VA_T + OFF, 0x600D0002u);
    CHECK(!read_faulted && a == marker(1) && (!first || first_err == (PF_P | PF_W | PF_U)) && !pf.hits
              && frame_word(1) == 0x600D0002u,
          "PTE made writable without INVLPG: a write succeeds, at the latest after one #PF");
}

/* A read caches a translation with D = 0; the first write after it must still set D. */
static void dirty_after_read(void) {
    tlb_reset();
    map(VA_T, frames[1], PG_P | PG_W);
    u32 a = read0(VA_T + OFF);
    u32 after_read = pte_of(VA_T);
    access0(WRITE, VA_T + OFF, 0x0D127000u);
    u32 after_write = pte_of(VA_T);
    CHECK(a == marker(1) && (after_read & (PG_A | PG_D)) == PG_A && (after_write & (PG_A | PG_D)) == (PG_A | PG_D)
              && frame_word(1) == 0x0D127000u,
          "D bit: a read sets A only; the first write after it sets D");
}

/* One frame at two linear addresses. */
static void alias(void) {
    tlb_reset();
    map(VA_T, frames[1], PG_P | PG_W);
    map(VA_T2, frames[1], PG_P | PG_W);
    u32 a = read0(VA_T + OFF), b = read0(VA_T2 + OFF);
    access0(WRITE, VA_T + OFF, 0xA11A5000u);
    u32 c = read0(VA_T2 + OFF);
    CHECK(a == marker(1) && b == marker(1) && c == 0xA11A5000u,
          "aliases: a write through one linear address is read through the other");
}

/*
 * PDE 1023 points at the page directory itself: the page directory is then
 * also the page table of 0xFFC00000-0xFFFFFFFF, so every page table appears
 * at 0xFFC00000 + 4 KiB * (its PDE's index) and the directory at 0xFFFFF000.
 */
static void recursive(void) {
    tlb_reset();
    map(VA_T, frames[1], PG_P | PG_W);
    pd[1023] = (u32)pd | PG_P | PG_W;
    flush_tlb();
    u32 pde = read0(RECURSIVE_PDE(VA_T));
    CHECK(pde == pd[PDI_4K], "recursive PDE 1023: a PDE read through 0xFFFFF000");
    u32 pte = read0(RECURSIVE_PTE(VA_T));
    CHECK(pte == pte_of(VA_T), "recursive PDE 1023: a PTE read through 0xFFC00000");
    access0(WRITE, RECURSIVE_PTE(VA_T), (u32)frames[2] | PG_P | PG_W);
    invlpg(VA_T);
    u32 v = read0(VA_T + OFF);
    CHECK((pte_of(VA_T) & ~(PG_A | PG_D)) == ((u32)frames[2] | PG_P | PG_W) && v == marker(2),
          "recursive PDE 1023: a PTE written through 0xFFC00000 maps the page");
    pd[1023] = 0;
    pd[PDI_4K] = (u32)pt_test | PG_PWU;  /* the writes set A and D in it (as a PTE) */
    flush_tlb();
}

/*
 * A dword at the last 2 bytes of a present page, the next page not present:
 * #PF with CR2 = the first byte of the second page; nothing is written to the
 * first page and the registers are as before the instruction.
 */
static void crossing(void) {
    u32 addr = VA_CROSS + PAGE - 2;
    tlb_reset();
    map(VA_CROSS, frames[1], PG_P | PG_W);
    frames[1][PAGE - 2] = frames[1][PAGE - 1] = 0xEE;
    read0(addr);
    check_fault(pf.hits == 1 && pf.err == 0 && pf.cr2 == VA_CROSS + PAGE && pf.eip == (u32)probe_read_insn
                    && pf.eax == addr,
                "page-crossing read, second page not present: #PF, CR2 = the second page, EAX unchanged");
    pf.hits = 0;
    access0(WRITE, addr, 0x11223344u);
    const char *name =
        "page-crossing write, second page not present: #PF, CR2 = the second page, the first page not written";
    if (frames[1][PAGE - 2] != 0xEE || frames[1][PAGE - 1] != 0xEE)
        fail("%s: the first page's last bytes became %x %x", name, frames[1][PAGE - 2], frames[1][PAGE - 1]);
    else check_fault(pf.hits == 1 && pf.err == PF_W && pf.cr2 == VA_CROSS + PAGE && pf.eip == (u32)probe_write_insn
                         && pf.eax == addr && pf.edx == 0x11223344u, name);
}

/*
 * PUSH and CALL at ring 3 with ESP at the top of a not-present page (at ring
 * 0 the #PF could not be delivered on that stack). ESP must be unchanged.
 */
static void stack_fault(void (*fn)(void), const char *insn, const char *name) {
    u32 *sp = (u32 *)(user_stack + PAGE) - 1;
    tlb_reset();
    *sp = VA_STACK + PAGE;
    pf.hits = 0;
    enter_user(fn, sp);
    check_fault(pf.hits == 1 && pf.err == (PF_W | PF_U) && pf.cr2 == VA_STACK + PAGE - 4 && pf.eip == (u32)insn
                    && pf.cs == SEL_UCODE && pf.esp == VA_STACK + PAGE,
                name);
}

/*
 * REP MOVSB (32 bytes) and REP MOVSD (8 dwords) to 16 bytes before a
 * not-present page: the fault comes after the iterations that fit, with
 * ECX, ESI and EDI counting them, EIP at the REP, and their bytes copied.
 */
static void rep_fault(int dwords) {
    u32 dst = VA_REP + PAGE - 16;
    tlb_reset();
    map(VA_REP, frames[3], PG_P | PG_W);
    memset(frames[3] + PAGE - 16, 0, 16);
    for (u32 i = 0; i < sizeof src_buf; i++) src_buf[i] = (u8)(0x40 + i);
    pf.hits = 0;
    pf_resume = (u32)rep_done;
    if (dwords) rep_movsd(dst, src_buf, 8);
    else rep_movsb(dst, src_buf, 32);
    pf_resume = 0;
    check_fault(pf.hits == 1 && pf.err == PF_W && pf.cr2 == VA_REP + PAGE
                    && pf.eip == (u32)(dwords ? rep_movsd_insn : rep_movsb_insn) && pf.ecx == (dwords ? 4u : 16u)
                    && pf.esi == (u32)src_buf + 16 && pf.edi == VA_REP + PAGE
                    && !memcmp(frames[3] + PAGE - 16, src_buf, 16),
                dwords ? "REP MOVSD into a not-present page: #PF after 4 dwords, ECX/ESI/EDI count them,"
                         " the bytes copied"
                       : "REP MOVSB into a not-present page: #PF after 16 bytes, ECX/ESI/EDI count them,"
                         " the bytes copied");
}

/*
 * INT 0x80 from ring 3 with TSS.ESP0 at the top of a not-present page: the
 * stack switch's first push faults (#PF), delivering that #PF needs the same
 * stack and faults again, so #DF(0). Without a task gate the #DF could not be
 * delivered on that stack either, so its gate leads to the conforming code
 * segment: df_handler runs at CPL 3 on the ring-3 stack, records what it got,
 * repairs TSS.ESP0 and returns through INT 0x80. Our #PF handler never runs.
 */
static void double_fault_on_esp0(void) {
    u32 *top = (u32 *)(user_stack + PAGE);
    tlb_reset();
    set_gate(8, SEL_CONFORMING, df_handler);
    utss.esp0 = VA_ESP0 + PAGE;
    df_hits = 0;
    pf.hits = 0;
    enter_user(user_int, top);
    idt_set_gate(8, GATE_INT, 0, 1);
    u32 cr2 = read_cr2();
    CHECK(df_hits == 1 && df_err == 0 && df_cs == (SEL_CONFORMING | 3) && df_frame == (u32)top - 16 && pf.hits == 0
              && utss.esp0 == (u32)kstack0_top && cr2 >= VA_ESP0 && cr2 < VA_ESP0 + PAGE,
          "INT from ring 3, TSS.ESP0's page not present: #PF while delivering #PF, so #DF(0)");
    printf("observed: that #DF leaves CR2 = ESP0 - %u\n", VA_ESP0 + PAGE - cr2);
}

/* With CR4.PSE = 0 a PDE's PS bit is ignored: the PDE still points to a page table. */
static void pse_off(void) {
    tlb_reset();
    write_cr4(read_cr4() & ~CR4_PSE);
    pd[PDI_4K] = (u32)pt_test | PG_PS | PG_PWU;
    map(VA_T, frames[1], PG_P | PG_W);
    flush_tlb();
    u32 v = read0(VA_T + OFF);
    pd[PDI_4K] = (u32)pt_test | PG_PWU;
    write_cr4(read_cr4() | CR4_PSE);
    flush_tlb();
    CHECK(v == marker(1), "CR4.PSE = 0: a PDE's PS bit is ignored");
}

int kmain(u32 magic, const void *info) {
    kernel_start("paging", magic, info);
    tss_init();
    isr_install(14, pf_handler);
    isr_install(0x80, sys_handler);
    idt_set_gate(0x80, GATE_TRAP, 3, 1);
    paging_init();
    if (!paging_in_effect()) {
        fail("paging: with CR0.PG = 1, a linear address does not reach its PTE's frame");
        return kernel_finish();
    }
    pass("paging on: a linear address reaches its PTE's frame");

    permissions();

    tlb_invlpg();
    tlb_not_present();
    tlb_cr3();
    tlb_global();
    tlb_made_writable();
    dirty_after_read();
    alias();
    recursive();
    crossing();
    stack_fault(user_push, user_push_insn,
                "PUSH at ring 3, stack page not present: #PF, CR2 = ESP - 4, ESP unchanged");
    stack_fault(user_call, user_call_insn,
                "CALL at ring 3, stack page not present: #PF, CR2 = ESP - 4, ESP unchanged");
    rep_fault(0);
    rep_fault(1);
    double_fault_on_esp0();
    pse_off();
    return kernel_finish();
}
