/* The VM counters (vmstat.c): global ones, and the per-process struct vmstats. */
#ifndef VMSTAT_H
#define VMSTAT_H
#include "types.h"

struct kcounter { const char *name; const u32 *value; };

/* A named constant (a flag bit, a code) in the tables the debugger reads (kernel/README.md, "Debugger ABI"). */
struct knamed { const char *name; u32 value; };
extern const struct kcounter kcounters[];
extern const u32 nkcounters;

/* Counted for the machine (vmc) and, for the first group, per process (vs->st). */
#define VMSTATS_PER_PROCESS \
    u32 minor_faults;       /* resolved without disk I/O (zero-fill and rescues included) */ \
    u32 major_faults;       /* needed a disk read */ \
    u32 zero_fill_faults;   /* a freshly zeroed frame */ \
    u32 swap_ins;           /* pages read back from swap for a fault */ \
    u32 swap_outs;          /* pages written to swap */ \
    u32 evictions;          /* pages taken away (stolen or replaced) */ \
    u32 rescues;            /* faults that took a page back from the free page queue */ \
    u32 precleaned;         /* dirty pages written early by the page daemon */ \
    u32 readahead_read;     /* pages read ahead of a fault (from swap or a file) */ \
    u32 readahead_used;     /* of those, pages a later fault found */ \
    u32 cow_faults;         /* writes to copy-on-write pages */ \
    u32 pages_copied;       /* of those, the ones that copied the page */ \
    u32 cow_reused;         /* the ones that found no other sharer: made writable, no copy */

struct vmstats { VMSTATS_PER_PROCESS };

struct vmcounters {
    VMSTATS_PER_PROCESS
    u32 evictions_file, evictions_anon;   /* of the evictions: clean file pages dropped, anonymous */
    u32 kswapd_wakeups, kswapd_stolen;
    u32 oom_kills;
    u32 pages_resident, pages_resident_peak, pages_locked;
    u32 shared_frames;              /* frames mapped more than once (rmap.c) */
    u32 file_frames;                /* frames in the page cache (pagecache.c) */
    u32 frames_total, frames_free, free_queue;
    u32 ticks_busy, ticks_idle, ticks_iowait;
};
extern struct vmcounters vmc;

#define offsetof(t, m) __builtin_offsetof(t, m)
#define VMSTAT(vs, field) vmstat_fault((vs), offsetof(struct vmstats, field))
#endif
