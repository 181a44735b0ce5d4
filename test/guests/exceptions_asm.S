/*
 * Exception triggers for exceptions.c. Each trig_* function causes one
 * exception at the label *_insn; the handler checks the saved EIP/CS, then
 * resumes at *_after, from where the function restores what it changed and
 * returns. The handler saves and restores every general register.
 */
    .text
#define FN(name) .globl name; .type name, @function; name:
#define L(name) .globl name; name:

FN(trig_de)
    push    %ebx
    mov     $1, %eax
    xor     %edx, %edx
    xor     %ebx, %ebx
L(de_insn)
    divl    %ebx
L(de_after)
    pop     %ebx
    ret

FN(trig_db)                     /* TF set by POPF: the trap follows the next instruction */
    pushf
    orl     $0x100, (%esp)
    popf
L(db_insn)
    nop
L(db_after)
    nop
    ret

FN(trig_bp)
L(bp_insn)
    int3
L(bp_after)
    ret

FN(trig_of)
    mov     $0x7F, %al
    add     $1, %al             /* OF = 1 */
L(of_insn)
    into
L(of_after)
    ret

FN(trig_of_clear)               /* INTO with OF = 0 does nothing */
    xor     %eax, %eax
    into
    ret

FN(trig_br)
    mov     $20, %eax
L(br_insn)
    bound   %eax, bounds
L(br_after)
    ret

FN(trig_br_ok)                  /* in range: no exception */
    mov     $10, %eax
    bound   %eax, bounds
    ret

FN(trig_ud)
L(ud_insn)
    ud2
L(ud_after)
    ret

FN(trig_nm_em)                  /* CR0.EM = 1: x87 instructions raise #NM */
    mov     %cr0, %eax
    or      $0x4, %eax
    mov     %eax, %cr0
L(nm_em_insn)
    fld1
L(nm_em_after)
    mov     %cr0, %eax
    and     $~0x4, %eax
    mov     %eax, %cr0
    ret

FN(trig_nm_ts)                  /* CR0.TS = 1 (EM = 0): x87 instructions raise #NM */
    mov     %cr0, %eax
    or      $0x8, %eax
    and     $~0x4, %eax
    mov     %eax, %cr0
L(nm_ts_insn)
    fninit
L(nm_ts_after)
    clts
    ret

FN(trig_gp_sel)                 /* selector beyond the GDT limit: #GP(selector) */
    mov     $0x1F8, %eax
L(gp_sel_insn)
    mov     %ax, %ds
L(gp_sel_after)
    ret

#ifdef SEGMENT_CHECKS
FN(trig_gp_null)                /* a null DS loads, but using it faults: #GP(0) */
    xor     %eax, %eax
    mov     %ax, %ds
L(gp_null_insn)
    mov     bounds, %eax
L(gp_null_after)
    mov     $0x10, %ax
    mov     %ax, %ds
    ret
#endif

FN(trig_gp_jmp)                 /* far jump to a data segment: #GP(selector) */
L(gp_jmp_insn)
    ljmp    $0x10, $gp_jmp_after
L(gp_jmp_after)
    ret

#ifdef SEGMENT_CHECKS
FN(trig_gp_cs_write)            /* writing through CS: #GP(0) */
L(gp_cs_write_insn)
    movl    %eax, %cs:scratch
L(gp_cs_write_after)
    ret
#endif

FN(trig_gp_ss_null)             /* null SS at CPL 0: #GP(0) */
    xor     %eax, %eax
L(gp_ss_null_insn)
    mov     %ax, %ss
L(gp_ss_null_after)
    ret

FN(trig_np_ds)                  /* not-present data segment into DS: #NP(selector) */
    mov     $0x30, %eax
L(np_ds_insn)
    mov     %ax, %ds
L(np_ds_after)
    ret

FN(trig_np_gate)                /* INT through a not-present gate: #NP(vector*8+2) */
L(np_gate_insn)
    int     $0x40
L(np_gate_after)
    ret

FN(trig_ss_np)                  /* not-present segment into SS: #SS(selector) */
    mov     $0x30, %eax
L(ss_np_insn)
    mov     %ax, %ss
L(ss_np_after)
    ret

FN(trig_ts_np)                  /* loading a busy TSS with LTR: #GP(selector) */
    mov     $0x28, %eax
L(ltr_busy_insn)
    ltr     %ax
L(ltr_busy_after)
    ret

FN(trig_df)                     /* #GP with gate 13 not present: #NP, so #DF(0) */
    mov     $0x1F8, %eax
L(df_insn)
    mov     %ax, %ds
L(df_after)
    ret

/* ---- ring 3 ------------------------------------------------------------- */
FN(user_main)
    mov     $1, %eax            /* SYS_CHECK: the handler checks its frame */
    mov     %esp, %ebx
    int     $0x80
    mov     %esp, r3_esp_after
    mov     %ebx, r3_esp_before
    mov     %ss, %ax
    mov     %ax, r3_ss_after
    mov     %cs, %ax
    mov     %ax, r3_cs_after
    mov     %ds, %ax
    mov     %ax, r3_ds_after
    pushf
    pop     r3_eflags_after
L(u_hlt_insn)
    hlt
L(u_hlt_after)
L(u_cli_insn)
    cli
L(u_cli_after)
L(u_int81_insn)
    int     $0x81
L(u_int81_after)
L(u_io_insn)
    inb     $0x80, %al
L(u_io_after)
    mov     $0x10, %eax         /* DPL-0 data segment at CPL 3: #GP(selector) */
L(u_ds0_insn)
    mov     %ax, %ds
L(u_ds0_after)
    movl    $0x08, tss+8        /* TSS.SS0 = a code segment: the stack switch of */
    mov     %esp, ts_user_esp   /* int 0x80 raises #TS(0x08), a fault at the INT */
    mov     $1, %eax
L(u_ts_insn)
    int     $0x80
L(u_ts_after)
#ifdef SEGMENT_CHECKS
    mov     %esp, %esi
    mov     $0x43, %eax         /* ring-3 data segment with a 4 KiB limit */
    mov     %ax, %ss
    mov     $0x2000, %esp
L(u_ss_insn)
    push    %eax                /* beyond the limit: #SS(0) */
L(u_ss_after)
    mov     $0x23, %eax
    mov     %ax, %ss
    mov     %esi, %esp
#endif
    mov     $0, %eax            /* SYS_EXIT */
    int     $0x80
    ud2

/*
 * #TS handler, reached through a gate to the conforming ring-0 code segment
 * 0x48: it runs at CPL 3 on the ring-3 stack (no stack switch, so the broken
 * TSS.SS0 is not used), with the ring-3 DS. Frame: error code, EIP, CS, EFLAGS.
 * Records them, restores TSS.SS0 and resumes at u_ts_after.
 */
FN(ts_handler)
    push    %eax
    incl    ts_hits
    lea     4(%esp), %eax
    mov     %eax, ts_frame
    mov     4(%esp), %eax
    mov     %eax, ts_err
    mov     8(%esp), %eax
    mov     %eax, ts_eip
    mov     12(%esp), %eax
    mov     %eax, ts_cs
    xor     %eax, %eax
    mov     %cs, %ax
    mov     %eax, ts_handler_cs
    movl    $0x10, tss+8        /* restore TSS.SS0 */
    movl    $u_ts_after, 8(%esp)
    pop     %eax
    add     $4, %esp            /* drop the error code */
    iret

    .data
    .balign 8
    .globl bounds
bounds:
    .long   0, 10
scratch:
    .long   0
    .globl r3_esp_after, r3_esp_before, r3_ss_after, r3_cs_after, r3_ds_after, r3_eflags_after
r3_esp_after: .long 0
r3_esp_before: .long 0
r3_ss_after: .long 0
r3_cs_after: .long 0
r3_ds_after: .long 0
r3_eflags_after: .long 0
    .globl ts_hits, ts_frame, ts_err, ts_eip, ts_cs, ts_handler_cs, ts_user_esp
ts_hits: .long 0
ts_frame: .long 0
ts_err: .long 0
ts_eip: .long 0
ts_cs: .long 0
ts_handler_cs: .long 0
ts_user_esp: .long 0

    .section .note.GNU-stack, "", @progbits
