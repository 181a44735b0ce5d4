/*
 * bench-pagefault: page-fault round trips, for `atlas386 bench` (not a
 * PASS/FAIL test).
 *
 * Paging on (the first 16 MiB identity-mapped with 4 KiB pages). The loop
 * (fault_loop, in assembly) reads a word of a page whose PTE is not present:
 * #PF (vector 14, through a 32-bit interrupt gate straight to pf_entry, not
 * the common isr.S path). The handler reads CR2, checks it is that word,
 * sets P in the PTE, INVLPGs the page, counts the fault and IRETs; the read
 * restarts and succeeds. The loop then folds the word into its hash, adds
 * the hash to the word, clears P in the PTE and INVLPGs the page, and goes round
 * again: `faults=N` times (default 1000000), so exactly N faults. Per round,
 * with c counting down from N to 1 and the word starting at 0:
 *   h = rol(h + word + c, 5); word += h
 * from h = 0x9E3779B9; the checksum is h at the end. Output, one line:
 *   bench-pagefault: checksum XXXXXXXX faults F
 * with F the faults the handler counted (N), then exit status 0; 1 after a
 * `bench-pagefault: error: ...` line if F is not N. On a CPU that ignores
 * CR0.PG no fault is taken (F = 0, the same checksum), after a
 * `bench-pagefault: note: paging is not in effect ...` line.
 */
#include "lib.h"
#include "bench-mmu.h"

u32 fault_page[1024] __attribute__((aligned(4096)));  /* only the loop's word lives here */
u32 *pf_pte;                                           /* its PTE */
volatile u32 pf_count;
static u32 page_dir[1024] __attribute__((aligned(4096)));

void pf_entry(void);
u32 fault_loop(u32 n, u32 h);

__asm__(
    "    .text\n"
    /* #PF handler: error code on the stack, then EIP, CS, EFLAGS. */
    "    .globl pf_entry\n"
    "pf_entry:\n"
    "    push    %eax\n"
    "    mov     %cr2, %eax\n"
    "    cmp     $fault_page, %eax\n"
    "    jne     1f\n"
    "    mov     pf_pte, %eax\n"
    "    orl     $1, (%eax)\n"            /* present */
    "    invlpg  fault_page\n"
    "    incl    pf_count\n"
    "    pop     %eax\n"
    "    add     $4, %esp\n"              /* the error code */
    "    iret\n"
    /* Any other fault: the common path (isr.S), which reports it and exits with 1. */
    "1:  pop     %eax\n"
    "    jmp     *isr_table + 14 * 4\n"

    /* u32 fault_loop(u32 n, u32 h): n rounds (n >= 1) of fault, fold, write, not present again. */
    "    .globl fault_loop\n"
    "fault_loop:\n"
    "    push    %ebx\n"
    "    push    %esi\n"
    "    push    %edi\n"
    "    mov     16(%esp), %ecx\n"
    "    mov     20(%esp), %ebx\n"
    "    mov     $fault_page, %esi\n"
    "    mov     pf_pte, %edi\n"
    "2:  mov     (%esi), %eax\n"          /* #PF: the page is not present */
    "    add     %ecx, %eax\n"
    "    add     %eax, %ebx\n"
    "    rol     $5, %ebx\n"
    "    add     %ebx, (%esi)\n"
    "    andl    $~1, (%edi)\n"           /* not present again */
    "    invlpg  (%esi)\n"
    "    dec     %ecx\n"
    "    jnz     2b\n"
    "    mov     %ebx, %eax\n"
    "    pop     %edi\n"
    "    pop     %esi\n"
    "    pop     %ebx\n"
    "    ret\n");

int kmain(u32 magic, const void *info) {
    if (mmu_bench_start("bench-pagefault", magic)) return 1;
    u32 n = cmdline_number(info, "faults", 1000000);
    if (n < 1) { printf("bench-pagefault: error: faults=0\n"); return 1; }

    mmu_identity_tables();
    mmu_map_dir(page_dir);
    mmu_set_gate(14, pf_entry);
    mmu_enable(page_dir);
    int in_effect = mmu_paging_in_effect();
    if (!in_effect) mmu_note_not_in_effect("bench-pagefault");

    fault_page[0] = 0;
    pf_pte = &page_tables[(u32)fault_page >> 12];
    *pf_pte &= ~PTE_P;
    invlpg(fault_page);
    u32 h = fault_loop(n, 0x9E3779B9u);
    *pf_pte |= PTE_P;
    invlpg(fault_page);

    u32 faults = pf_count;
    printf("bench-pagefault: checksum %08x faults %u\n", h, faults);
    if (in_effect && faults != n) {
        printf("bench-pagefault: error: %u faults taken, %u expected\n", faults, n);
        return 1;
    }
    return 0;
}
