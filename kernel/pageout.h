/* Page replacement and the page daemon: tunables and what the fault path needs (pageout.c, replace.c). */
#ifndef PAGEOUT_H
#define PAGEOUT_H
#include "types.h"

enum policy { POLICY_FIFO, POLICY_CLOCK, POLICY_LRU, POLICY_RANDOM, POLICY_WS };

/* Set from the kernel command line at boot (replace_init); see kernel/README.md. */
struct vmtune {
    enum policy policy;
    int local;              /* scope=local: a process short of memory replaces its own pages */
    u32 seed;               /* random policy */
    u32 tau;                /* working-set window, in ticks of the process's own CPU time */
    u32 readahead;          /* pages read ahead of a fault from swap or a file; 0: none */
    u32 swappiness;         /* 0..100: the share of evictions that may take anonymous pages */
    u32 low, high;          /* free-frame watermarks of the page daemon */
    int kswapd;             /* the page daemon runs (kswapd=0: direct reclaim only) */
    u32 preclean;           /* dirty pages the daemon writes ahead per wakeup; 0: none */
};
extern struct vmtune vmtune;
extern const char *const policy_names[];

#define VICTIM_FILE 1       /* only a clean page of a file will do */

#endif
