/* Entry of the kernel's test programs: the Linux i386 initial stack is argc, argv[], NULL, envp[]. */
    .text
    .globl _start
_start:
    xor     %ebp, %ebp
    mov     (%esp), %eax            /* argc */
    lea     4(%esp), %ebx           /* argv */
    lea     8(%esp,%eax,4), %ecx    /* envp */
    and     $~15, %esp
    sub     $4, %esp
    push    %ecx
    push    %ebx
    push    %eax
    call    main
    push    %eax
    mov     %eax, %ebx
    mov     $1, %eax
    int     $0x80
    .section .note.GNU-stack, "", @progbits
