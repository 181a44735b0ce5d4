/*
 * Accesses for paging.c, at a known instruction each, so the #PF handler can
 * check the saved EIP and resume after a fault.
 *
 * Ring 3 runs code and touches data only on user pages, so everything ring 3
 * executes is in the .text.user section and everything it writes (besides
 * its stack) in .data.user; each starts and ends on a page boundary, and
 * paging.c marks exactly those pages U/S = 1 in the identity map.
 */
    .text
#define FN(name) .globl name; .type name, @function; name:
#define L(name) .globl name; name:

/* ---- ring 0 ------------------------------------------------------------- */

/*
 * rep_movsb(dst, src, count), rep_movsd(dst, src, count): REP MOVSB / MOVSD
 * with DF = 0. A #PF on a destination page resumes at rep_done, with ECX,
 * ESI and EDI as the fault left them (the handler records them).
 */
FN(rep_movsb)
    push    %esi
    push    %edi
    mov     12(%esp), %edi
    mov     16(%esp), %esi
    mov     20(%esp), %ecx
    cld
L(rep_movsb_insn)
    rep movsb
L(rep_done)
    pop     %edi
    pop     %esi
    ret

FN(rep_movsd)
    push    %esi
    push    %edi
    mov     12(%esp), %edi
    mov     16(%esp), %esi
    mov     20(%esp), %ecx
    cld
L(rep_movsd_insn)
    rep movsl
    jmp     rep_done

/* ---- user pages: code ring 3 runs (ring 0 calls the probes too) ---------- */
    .section .text.user, "ax"
    .balign 4096
L(user_text_start)

/*
 * The probes: EAX = linear address, EDX = the value to write. probe_read
 * returns the dword read in EAX; probe_fetch calls the address, where the
 * test page holds a RET (0xC3). A fault at ring 0 resumes at probe_fault
 * (probe_fetch_fault for a fetch: the CALL has pushed its return address
 * before the fetch at its target faulted); at ring 3 the handler returns to
 * the kernel instead.
 */
FN(probe_read)
L(probe_read_insn)
    mov     (%eax), %eax
    ret

FN(probe_write)
L(probe_write_insn)
    mov     %edx, (%eax)
    ret

FN(probe_fetch)
    call    *%eax
    ret

L(probe_fault)
    ret

L(probe_fetch_fault)
    add     $4, %esp
    ret

/*
 * Ring-3 entry for one probe (enter_user with ESP at three dwords: the probe,
 * the address, the value). Calls it, then INT 0x80 with EBX = what it returned:
 * the handler goes back to the kernel (return_to_kernel).
 */
FN(user_probe)
    pop     %ecx
    pop     %eax
    pop     %edx
    call    *%ecx
    mov     %eax, %ebx
    int     $0x80
    ud2

/* Ring 3, with (%esp) = an ESP whose page below is not present: PUSH faults. */
FN(user_push)
    mov     (%esp), %esp
L(user_push_insn)
    push    %eax
    ud2

/* The same with CALL, which pushes its return address. */
FN(user_call)
    mov     (%esp), %esp
L(user_call_insn)
    call    user_call
    ud2

/* Ring 3: INT 0x80, whose ring-0 stack (TSS.ESP0) the test has made not present. */
FN(user_int)
L(user_int_insn)
    int     $0x80
    ud2

/*
 * #DF handler, reached through a gate to the conforming ring-0 code segment
 * SEL_CONFORMING: it runs at CPL 3 on the ring-3 stack, so its delivery needs
 * no TSS.ESP0 (which is the broken part). Frame: error code, EIP, CS, EFLAGS.
 * It records the error code, its frame and CS, repairs TSS.ESP0 (the TSS is
 * on a user page for this) and returns to the kernel through INT 0x80.
 */
FN(df_handler)
    mov     %esp, df_frame
    incl    df_hits
    mov     (%esp), %eax
    mov     %eax, df_err
    xor     %eax, %eax
    mov     %cs, %ax
    mov     %eax, df_cs
    movl    $kstack0_top, utss+4
    int     $0x80
    ud2

    .balign 4096
L(user_text_end)

/* ---- user pages: data ring 3 writes -------------------------------------- */
    .section .data.user, "aw"
    .balign 4096
L(user_data_start)
    .globl utss, df_hits, df_err, df_frame, df_cs
utss:       .skip 104           /* struct tss: the TSS ring 3 enters ring 0 with */
df_hits:    .long 0
df_err:     .long 0
df_frame:   .long 0
df_cs:      .long 0
    .balign 4096
L(user_data_end)

    .section .note.GNU-stack, "", @progbits
