/*
 * swtch(struct context **old, struct context *new): save the callee-saved
 * registers on the current kernel stack, store that stack pointer in *old,
 * load new's stack and pop its registers. The return address on the new
 * stack is where the other thread continues (in sched(), or forkret for a
 * process that has never run).
 */
    .text
    .globl swtch
swtch:
    mov     4(%esp), %eax
    mov     8(%esp), %edx
    push    %ebp
    push    %ebx
    push    %esi
    push    %edi
    mov     %esp, (%eax)
    mov     %edx, %esp
    pop     %edi
    pop     %esi
    pop     %ebx
    pop     %ebp
    ret

    .section .note.GNU-stack, "", @progbits
