/* The STI interrupt shadow, for interrupts.c: called with IF = 0 and IRQ0 pending. */
    .text
#define FN(name) .globl name; .type name, @function; name:
#define L(name) .globl name; name:

FN(shadow_sti_nop)              /* the interrupt is taken after the NOP, not before it */
    sti
L(shadow_nop)
    nop
L(shadow_nop_after)
    nop
    cli
    ret

FN(shadow_sti_hlt)              /* STI; HLT: the HLT runs, the interrupt wakes it */
    sti
L(shadow_hlt)
    hlt
L(shadow_hlt_after)
    cli
    ret

    .section .note.GNU-stack, "", @progbits
