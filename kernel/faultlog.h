/*
 * The page-fault history (faultlog.c): the last NFAULTLOG page faults and
 * how each ended, for a debugger on the host to read (kernel/README.md,
 * "Debugger ABI").
 */
#ifndef FAULTLOG_H
#define FAULTLOG_H
#include "types.h"

#define NFAULTLOG 64            /* records in the ring (a power of two) */

/* How a fault ended: the index of its name in kfault_outcomes[]. */
enum fault_outcome {
    FO_NONE,            /* not resolved (never recorded: a bug if seen) */
    FO_ZERO,            /* zero-fill: a fresh zeroed frame (minor) */
    FO_STACK,           /* zero-fill in the stack region: the stack grew (minor) */
    FO_FILE,            /* read from the file, the disk read (major) */
    FO_FILE_BUFFERED,   /* read from the file, the buffer cache had the sectors (minor) */
    FO_PCACHE,          /* page-cache hit: the file's frame, mapped by others or waiting on the free page queue (minor) */
    FO_SWAPIN,          /* read back from swap (major) */
    FO_SWAPCACHE,       /* in swap, but another sharer of the slot had brought it back: shared (minor) */
    FO_RESCUE,          /* taken back from the free page queue, no I/O (minor) */
    FO_READAHEAD,       /* a page read ahead of need, found on the free page queue (minor) */
    FO_COW_COPY,        /* a write to a shared page: copied */
    FO_COW_REUSE,       /* a write to a copy-on-write page nobody else maps: made writable */
    FO_SPURIOUS,        /* present and allowed: a stale TLB entry, flushed */
    FO_SEGV,            /* not a legitimate access: killed with SIGSEGV (or -EFAULT for the kernel's copy) */
    FO_OOM,             /* legitimate, but no memory and no swap: killed with SIGKILL (oom-kill) */
    FO_IOERR,           /* a disk error paging in: killed with SIGSEGV */
    NFAULT_OUTCOMES
};

/*
 * One record. err is the CPU's #PF error code (PF_P, PF_W, PF_U, bit 3
 * RSVD, bit 4 I/D), or, for a fault the kernel took on a process's behalf
 * in copyin/copyout (no CPU trap), PF_KCOPY with PF_W for a write.
 */
#define PF_KCOPY 0x10000
struct faultrec {
    u32 seq;            /* 1, 2, ...: kfaults_next when it was recorded; 0: an empty record */
    u32 tick;           /* timer ticks since boot when it was resolved */
    u32 pid;
    u32 eip;            /* the faulting instruction (the system call's return address for PF_KCOPY) */
    u32 addr;           /* CR2: the faulting linear address */
    u32 err;
    u32 outcome;        /* enum fault_outcome */
    u32 frame;          /* the frame number mapped at addr afterwards, 0 if none */
    u32 swap;           /* the swap entry involved (swap-in, rescue from swap, shared slot), 0 if none */
};

extern struct faultrec kfaults[NFAULTLOG];
extern u32 kfaults_next;
#endif
