/*
 * Multiboot entry. The loader leaves us in protected mode with paging off at
 * the *physical* address of _start (the ELF entry is entry_phys), while the
 * kernel is linked at KERNBASE + 1 MiB. So before any C runs we turn on
 * paging with boot_pgdir: two 4 MiB PSE pages that map physical 0-4 MiB
 * both at 0 (so the next instruction fetch still works) and at KERNBASE
 * (where the kernel is linked). Then we jump high, switch to the kernel
 * stack and call kmain(magic, info). vm.c replaces boot_pgdir with the real
 * kernel page directory, which no longer maps low memory.
 */
#include "mmu.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003     /* page-aligned modules, memory information */

    .section .multiboot, "a"
    .balign 4
    .long   MB_MAGIC
    .long   MB_FLAGS
    .long   -(MB_MAGIC + MB_FLAGS)

    .section .text.start, "ax"
    .globl _start
    .globl entry_phys
    .set entry_phys, _start - KERNBASE
_start:
    cli
    mov     %eax, %esi              /* keep the Multiboot magic and info */
    mov     %ebx, %edi
    mov     %cr4, %eax
    or      $CR4_PSE, %eax
    mov     %eax, %cr4
    mov     $(boot_pgdir - KERNBASE), %eax
    mov     %eax, %cr3
    mov     %cr0, %eax
    or      $(CR0_PG | CR0_WP), %eax
    mov     %eax, %cr0
    mov     $high, %eax
    jmp     *%eax
high:
    mov     $boot_stack_top, %esp
    xor     %ebp, %ebp              /* ends the backtrace */
    pushl   $0
    popfl
    push    %edi
    push    %esi
    call    kmain
1:  cli
    hlt
    jmp     1b

    .section .data
    .balign 4096
    .globl boot_pgdir
boot_pgdir:
    .long   0x00000000 | PTE_P | PTE_W | PTE_PS
    .fill   (KERNBASE >> 22) - 1, 4, 0
    .long   0x00000000 | PTE_P | PTE_W | PTE_PS
    .fill   1024 - (KERNBASE >> 22) - 1, 4, 0

    .section .bss
    .balign 4096
    .globl boot_stack, boot_stack_top
boot_stack:
    .skip   16384
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
