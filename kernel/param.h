/* Tunable limits of the kernel. */
#ifndef PARAM_H
#define PARAM_H
#define NPROC      32          /* processes at once */
#define NOFILE     16          /* open files per process */
#define NFILE      128         /* open files in the system */
#define NVMA       16          /* mapped regions per process */
#define NBUF       64          /* disk sectors cached */
#define KSTACKSIZE 4096        /* per-process kernel stack: one frame */
#define MAXARG     32          /* execve argv/envp entries */
#define MAXARGLEN  4096        /* bytes of argv+envp strings */
#define HZ         100         /* timer ticks per second */
#define MAXPATH    128
/* The user address space. */
#define USTACK_TOP   0xC0000000u    /* the stack starts just under the kernel */
#define USTACK_MAX   0x00800000u    /* and may grow to 8 MiB */
#define USTACK_GUARD 0x00010000u    /* below which 64 KiB fault as a stack overflow */
#define MMAP_BASE    0x40000000u    /* mmap looks for room from here up; brk stays below */
#endif
