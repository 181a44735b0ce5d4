/*
 * Multiboot (v1) entry shared by the test kernels.
 *
 * The header asks for memory information (flags bit 1) and nothing else: the
 * kernels are ELF files, so the loader takes the load addresses from the
 * program headers. On entry EAX = 0x2BADB002, EBX = the multiboot_info
 * address, the CPU is in 32-bit protected mode with flat 4 GiB CS/DS/ES/SS,
 * paging off and IF = 0; GDTR/IDTR and ESP are undefined. We set up a stack,
 * call kmain(magic, info) and write its return value to port 0xF4
 * (isa-debug-exit on QEMU; Atlas386 exits with the value itself).
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002

    .section .multiboot, "a"
    .balign 4
    .long   MB_MAGIC
    .long   MB_FLAGS
    .long   -(MB_MAGIC + MB_FLAGS)

    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    cli
    mov     $boot_stack_top, %esp
    xor     %ebp, %ebp
    pushl   $0
    popfl                       /* known EFLAGS: IF, DF, TF, NT, IOPL all 0 */
    push    %ebx
    push    %eax
    call    kmain
    push    %eax
    call    guest_exit
1:  cli
    hlt
    jmp     1b
    .size _start, . - _start

    .section .bss
    .balign 16
    .globl boot_stack_top
boot_stack:
    .skip   65536
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
