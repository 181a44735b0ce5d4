/* Processes and their address spaces. */
#ifndef PROC_H
#define PROC_H
#include "param.h"
#include "types.h"
#include "vmstat.h"

/* A region of a user address space (what may be mapped there, and from where). */
#define VMA_R     0x01
#define VMA_W     0x02
#define VMA_X     0x04
#define VMA_STACK 0x10          /* grows down to its start; a guard region lies below */
#define VMA_HEAP  0x20          /* the brk area */
#define VMA_FILE  0x40          /* part of its contents come from a file */
#define VMA_MMAP  0x100         /* made by mmap2 (in use even with PROT_NONE) */

struct inode;
struct vma {
    u32 start, end;             /* page-aligned, end exclusive; start == end: unused slot */
    u32 flags;
    struct inode *ip;           /* VMA_FILE: bytes [file_va, file_va + file_size) */
    u32 file_va, file_off, file_size;   /* come from ip at file_off; the rest is zeros */
};

struct vmspace {
    pde_t *pgdir;
    struct vma vmas[NVMA];
    u32 heap_start, brk;        /* the heap VMA covers [heap_start, PGROUNDUP(brk)) */
    u32 resident;               /* user pages mapped */
    u32 locked;                 /* of those, locked by mlockall (never replaced) */
    int lock_future;            /* mlockall(MCL_FUTURE): lock pages as they are mapped */
    u32 rss_limit;              /* RLIMIT_RSS in pages (0: none): past it, replace own pages */
    u32 vtime;                  /* ticks of CPU time (the working-set policy's clock) */
    u32 swap_near;              /* last swap entry given to a page of ours (slots near it next) */
    struct vmstats st;
    int pid;                    /* owner, for the frame table */
};

struct context { u32 edi, esi, ebx, ebp, eip; };     /* what swtch saves */

enum procstate { UNUSED, EMBRYO, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

struct proc {
    enum procstate state;
    int pid;
    char name[16];
    struct proc *parent;
    u8 *kstack;                 /* KSTACKSIZE bytes; the trapframe sits at its top */
    struct trapframe *tf;
    struct context *context;    /* where swtch left this process's kernel thread */
    struct vmspace *vs;
    struct file *ofile[NOFILE];
    void *chan;                 /* SLEEPING on this */
    u32 wake_tick;              /* nanosleep: wake at this tick */
    int xstatus;                /* for waitpid, in Linux's encoding */
    int killed;                 /* kill(2): the signal to die of on the way back to user mode */
};

extern struct proc proc[NPROC];
#endif
