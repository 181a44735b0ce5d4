/*
 * Interrupt entry stubs: one per vector (isr_table[v]), each pushing a dummy
 * error code when the CPU pushes none (every vector but 8, 10-14 and 17), then
 * the vector, then jumping to isr_common, which saves the registers in the
 * layout of struct regs (lib.h), loads the kernel data segments and calls
 * isr_dispatch(struct regs *). A handler may change any field of the frame
 * (EIP to resume elsewhere, EFLAGS, ...); the stub restores it and IRETs.
 */
    .text
    .altmacro

.macro STUB n
    .balign 8
isr_\n:
.if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17)
    push    $\n
.else
    push    $0
    push    $\n
.endif
    jmp     isr_common
.endm

.macro ENTRY n
    .long   isr_\n
.endm

    .set    i, 0
.rept 256
    STUB    %i
    .set    i, i + 1
.endr

isr_common:
    pusha
    push    %ds
    push    %es
    push    %fs
    push    %gs
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    cld
    push    %esp
    call    isr_dispatch
    add     $4, %esp
    pop     %gs
    pop     %fs
    pop     %es
    pop     %ds
    popa
    add     $8, %esp
    iret

    .section .rodata
    .balign 4
    .globl isr_table
isr_table:
    .set    i, 0
.rept 256
    ENTRY   %i
    .set    i, i + 1
.endr

/*
 * enter_user(void (*fn)(void), void *user_stack_top): IRET to ring 3 at fn
 * with SS:ESP = 0x23:user_stack_top, CS = 0x1B, DS/ES/FS/GS = 0x23, IF = 1,
 * IOPL = 0. Returns when ring-3 code asks (return_to_kernel from a handler).
 */
    .text
    .globl enter_user
enter_user:
    push    %ebp
    push    %ebx
    push    %esi
    push    %edi
    mov     %esp, kernel_saved_esp
    mov     20(%esp), %ecx
    mov     24(%esp), %edx
    mov     $0x23, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %fs
    mov     %ax, %gs
    push    $0x23
    push    %edx
    pushf
    orl     $0x200, (%esp)
    andl    $~0x3100, (%esp)        /* IOPL 0, TF 0 */
    push    $0x1B
    push    %ecx
    iret

/* return_to_kernel(void): called from a handler; abandons its frame and returns from enter_user. */
    .globl return_to_kernel
return_to_kernel:
    cli
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %fs
    mov     %ax, %gs
    mov     kernel_saved_esp, %esp
    pop     %edi
    pop     %esi
    pop     %ebx
    pop     %ebp
    ret

    .section .bss
    .balign 4
kernel_saved_esp:
    .long   0
    .balign 16
    .skip   16384               /* ring-0 stack for interrupts from ring 3 */
    .globl kstack0_top
kstack0_top:

    .section .note.GNU-stack, "", @progbits
