/*
 * Swap areas (swap.c): whole disks hdb, hdc, hdd named on the command line
 * (`swap=hdb:10,hdc:10,hdd:1`, disk:priority). A slot holds one page: slot
 * s of an area is sectors [8s, 8s + 8) of its disk.
 *
 * A swap entry (u32) names a slot: 0 is no entry, else
 * ((area + 1) << 24) | slot, area 0..2 for hdb..hdd, slot < 2^24. So an
 * entry is below 2^26 (< 2^27): it can be kept in a non-present PTE
 * shifted left by 4 or more, leaving bit 0 (P) clear.
 *
 * Each slot has a reference count (swap_alloc gives 1; swap_dup for every
 * more PTE that holds the entry, swap_free for each that drops it) and a
 * swap-cache entry: the frame that holds the slot's page (+1), 0 if none.
 */
#ifndef SWAP_H
#define SWAP_H
#include "types.h"

#define SWAP_AREAS 3
#define SWAP_SLOT_BITS 24
#define SWAP_ENTRY(area, slot) ((((u32)(area) + 1) << SWAP_SLOT_BITS) | (slot))

/*
 * swapareas[0..2] are hdb, hdc, hdd whether or not they are swap areas.
 * The five u32 counters come first and are what /proc/vmstat and the host's
 * statistics read; the rest is swap.c's.
 */
struct swaparea {
    u32 slots;          /* pages the area holds; 0: not a swap area */
    u32 used;           /* slots with a reference count above 0 */
    u32 priority;       /* 0..32767, higher first */
    u32 pages_in;       /* pages read from the area */
    u32 pages_out;      /* pages written to it */
    /* swap.c's own */
    u32 rotor;          /* where the next search for a free slot starts */
    u16 **refs;         /* refs[s / 2048][s % 2048]: the slot's reference count */
    u32 **cache;        /* cache[s / 1024][s % 1024]: frame number + 1, 0 if not cached */
};
extern struct swaparea swapareas[SWAP_AREAS];

void swap_init(const char *cmdline);
int swap_enabled(void);
int swap_nearly_full(void);
u32 swap_alloc(u32 near);
void swap_dup(u32 e);
void swap_free(u32 e);
u32 swap_cache_get(u32 e);
void swap_cache_set(u32 e, u32 frame_plus_1);
int swap_write(u32 e, void *page);
int swap_read(u32 e, u32 n, void **pages);
u32 swap_count(u32 e);
int swap_same_area(u32 a, u32 b);
#endif
