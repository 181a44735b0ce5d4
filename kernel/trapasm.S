/*
 * Every interrupt and exception enters through vectors[n]: the stub pushes
 * a zero error code where the CPU pushes none, then the vector number, and
 * jumps to alltraps, which saves the rest of a struct trapframe (trap.h) on
 * the kernel stack and calls trap(tf). trapret undoes it and IRETs; a new
 * process starts by "returning" through trapret into its first trapframe.
 */
#include "mmu.h"
    .text
    .altmacro

.macro STUB n
vector\n:
.if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17)
    push    $\n
.else
    push    $0
    push    $\n
.endif
    jmp     alltraps
.endm

.macro ENTRY n
    .long   vector\n
.endm

    .set    i, 0
.rept 256
    STUB    %i
    .set    i, i + 1
.endr

    .globl alltraps
alltraps:
    push    %ds
    push    %es
    push    %fs
    push    %gs
    pusha
    mov     $KDATA_SEL, %ax
    mov     %ax, %ds
    mov     %ax, %es
    cld
    push    %esp
    call    trap
    add     $4, %esp
    .globl trapret
trapret:
    popa
    pop     %gs
    pop     %fs
    pop     %es
    pop     %ds
    add     $8, %esp
    iret

    .section .rodata
    .balign 4
    .globl vectors
vectors:
    .set    i, 0
.rept 256
    ENTRY   %i
    .set    i, i + 1
.endr

    .section .note.GNU-stack, "", @progbits
