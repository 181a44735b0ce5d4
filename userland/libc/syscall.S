/* long __syscall(long nr, long a, long b, long c, long d, long e, long f)
 * int 0x80 with eax = nr, ebx, ecx, edx, esi, edi, ebp = a..f; returns eax
 * (-errno on error). */
	.text
	.globl __syscall
	.type __syscall, @function
__syscall:
	pushl %ebp
	pushl %edi
	pushl %esi
	pushl %ebx
	movl 20(%esp), %eax
	movl 24(%esp), %ebx
	movl 28(%esp), %ecx
	movl 32(%esp), %edx
	movl 36(%esp), %esi
	movl 40(%esp), %edi
	movl 44(%esp), %ebp
	int $0x80
	popl %ebx
	popl %esi
	popl %edi
	popl %ebp
	ret
	.size __syscall, . - __syscall
	.section .note.GNU-stack, "", @progbits
