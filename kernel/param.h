/* Tunable limits of the kernel. */
#ifndef PARAM_H
#define PARAM_H
#define NPROC      32          /* processes at once */
#define NOFILE     16          /* open files per process */
#define NFILE      128         /* open files in the system */
#define NVMA       16          /* mapped regions per process */
#define NBUF       64          /* disk sectors cached */
#define KSTACKSIZE 8192        /* per-process kernel stack */
#define MAXARG     32          /* execve argv/envp entries */
#define MAXARGLEN  4096        /* bytes of argv+envp strings */
#define HZ         100         /* timer ticks per second */
#define MAXPATH    128
#endif
