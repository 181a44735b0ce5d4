/*
 * crt0 for Atlas386 bare-metal guests.
 *
 * The host loads the ELF, switches the CPU to 32-bit flat protected mode at
 * CPL 0 (paging off) and jumps here. We set up a stack, call main(), and hand
 * main's return value to the host through port 0xF4: the run ends and the
 * exit status is the byte written (no QEMU-style (value<<1)|1 encoding).
 *
 * Built with -DNATIVE, the same programs run as 32-bit Linux processes
 * (`make native`): a quick way to check a checksum on the real CPU.
 */
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    mov     $stack_top, %esp
    xor     %ebp, %ebp
    cld
    call    main
#ifdef NATIVE
    mov     %eax, %ebx          /* exit(status) */
    mov     $1, %eax
    int     $0x80
#else
    mov     $0xF4, %dx
    outb    %al, %dx            /* isa-debug-exit: the host stops here */
#endif
1:  hlt                         /* not reached on Atlas386 */
    jmp     1b
    .size _start, . - _start

    .section .bss
    .balign 16
stack:
    .skip   65536
stack_top:

    .section .note.GNU-stack, "", @progbits
