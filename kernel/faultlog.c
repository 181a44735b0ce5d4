/*
 * The page-fault history: the last NFAULTLOG page faults of user processes,
 * each with its address, error code, the faulting instruction and how the
 * kernel resolved it (zero-fill, swap-in, copy-on-write, a kill, ...), for
 * the emulator's debugger (`faults`) to read out of guest memory through
 * the ELF symbols below. Nothing in the kernel reads it.
 *
 * A file of its own, as the counters are (vmstat.c): recording is one
 * concern that vmfault.c's paths only report to (fault_note), and the ring
 * and its exported layout are an ABI with the host (kernel/README.md,
 * "Debugger ABI") that is easier to keep stable in one place than spread
 * over the fault paths.
 *
 * How a fault ends is known deep in vm_fault (which path resolved it, with
 * which frame and slot), where it was caught only in its callers (trap.c
 * for a CPU fault: CR2, the error code, EIP; copyin/copyout for one the
 * kernel takes on a process's behalf). So the paths note their outcome,
 * per process (a fault may sleep on the disk while others fault), and the
 * caller records the fault when vm_fault returns: records are in the order
 * faults were resolved, numbered by kfaults_next.
 */
#include "defs.h"
#include "faultlog.h"
#include "proc.h"
#include "vmstat.h"

struct faultrec kfaults[NFAULTLOG];
u32 kfaults_next = 1;                   /* the sequence number of the next record */

/* The names of enum fault_outcome, for the host (ELF symbol kfault_outcomes). */
const char *const kfault_outcomes[NFAULT_OUTCOMES] = {
    [FO_NONE] = "none", [FO_ZERO] = "zero-fill", [FO_STACK] = "stack-growth",
    [FO_FILE] = "file-read", [FO_FILE_BUFFERED] = "file-buffered", [FO_PCACHE] = "pagecache-hit",
    [FO_SWAPIN] = "swap-in", [FO_SWAPCACHE] = "swap-shared", [FO_RESCUE] = "rescue",
    [FO_READAHEAD] = "readahead-hit", [FO_COW_COPY] = "cow-copy", [FO_COW_REUSE] = "cow-reuse",
    [FO_SPURIOUS] = "spurious", [FO_SEGV] = "segv-kill", [FO_OOM] = "oom-kill", [FO_IOERR] = "io-error",
};

/*
 * The layout, for the host: the ring's records and how to name outcomes
 * (ELF symbol kfaults_layout; see kernel/README.md for the words).
 */
const u32 kfaults_layout[] = {
    NFAULTLOG, sizeof(struct faultrec),
    offsetof(struct faultrec, seq), offsetof(struct faultrec, tick), offsetof(struct faultrec, pid),
    offsetof(struct faultrec, eip), offsetof(struct faultrec, addr), offsetof(struct faultrec, err),
    offsetof(struct faultrec, outcome), offsetof(struct faultrec, frame), offsetof(struct faultrec, swap),
    NFAULT_OUTCOMES, PF_KCOPY,
};

/* What the fault being resolved by each process came to so far (indexed like proc[]). */
static struct { u32 outcome, frame, swap; } notes[NPROC];

void fault_note(u32 outcome, u32 frame, u32 swap) {
    struct proc *p = myproc();
    if (!p) return;
    notes[p - proc].outcome = outcome;
    notes[p - proc].frame = frame;
    notes[p - proc].swap = swap;
}

/*
 * The current process's fault at addr is resolved: vm_fault returned r (0,
 * -1 not legitimate, -2 no memory). Records it with what the paths noted.
 */
void fault_record(u32 addr, u32 err, u32 eip, int r) {
    struct proc *p = myproc();
    if (!p) return;
    u32 outcome = notes[p - proc].outcome;
    if (r == -2) outcome = FO_OOM;
    else if (r < 0 && outcome != FO_IOERR) outcome = FO_SEGV;
    struct faultrec *f = &kfaults[kfaults_next % NFAULTLOG];
    f->seq = kfaults_next++;
    f->tick = ticks;
    f->pid = (u32)p->pid;
    f->eip = eip;
    f->addr = addr;
    f->err = err;
    f->outcome = outcome;
    f->frame = r == 0 ? notes[p - proc].frame : 0;
    f->swap = notes[p - proc].swap;
    notes[p - proc].outcome = FO_NONE;
    notes[p - proc].frame = notes[p - proc].swap = 0;
}
