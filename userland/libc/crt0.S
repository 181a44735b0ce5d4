/* Process entry. The initial stack (Linux i386 ABI, and Atlas's):
 *   (%esp) argc, 4(%esp) argv[0..argc-1], NULL, envp[...], NULL, auxv...
 * Calls main(argc, argv, envp) with a 16-byte aligned stack, then exit(). */
	.text
	.globl _start
	.type _start, @function
_start:
	xorl %ebp, %ebp			/* outermost frame: backtraces stop here */
	movl (%esp), %eax		/* argc */
	leal 4(%esp), %ecx		/* argv */
	leal 8(%esp,%eax,4), %edx	/* envp = argv + argc + 1 */
	movl %edx, environ
	andl $-16, %esp
	subl $4, %esp
	pushl %edx
	pushl %ecx
	pushl %eax
	call main
	addl $12, %esp
	pushl %eax
	call exit
	hlt				/* not reached */
	.size _start, . - _start
	.section .note.GNU-stack, "", @progbits
