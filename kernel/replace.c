/*
 * Replacement policies: which resident page to take when memory runs short.
 *
 * All of them work on the resident list (kalloc.h), which holds the
 * replaceable user frames in the order they were mapped, and on the
 * Accessed bits the MMU sets in the PTEs (found through the reverse map):
 *
 * - fifo:   the page mapped longest ago, whatever its use (Belady's anomaly
 *           lives here);
 * - clock:  second chance: from the front, a page with its Accessed bit set
 *           has the bit cleared and goes to the back; the first without it
 *           goes;
 * - lru:    least recently used, approximated by aging: at most once per
 *           tick, each page's 8-bit age shifts right and takes its Accessed
 *           bit into bit 7 (the bit is cleared); the smallest age goes
 *           (with an Accessed bit set since, a page counts as newest);
 * - random: any page, from a seeded xorshift generator (reproducible);
 * - ws:     Denning's working set, as WSClock: a page not referenced within
 *           the last tau ticks of its owner's own CPU time is outside the
 *           working set and may go; a scan that finds every page inside
 *           takes the one idle longest.
 *
 * The Accessed and Dirty bits of a shared page are those of all its
 * mappings (pageout.c's frame_pte_bits). `only` restricts the choice to
 * pages only one address space maps (local replacement); VICTIM_FILE to
 * clean pages of files (swappiness). Pages under I/O are never chosen.
 */
#include "defs.h"
#include "kalloc.h"
#include "mmu.h"
#include "pageout.h"
#include "proc.h"

struct vmtune vmtune = {
    .policy = POLICY_CLOCK, .seed = 1, .tau = 10, .readahead = 4, .swappiness = 60,
    .kswapd = 1, .preclean = 8,
};
const char *const policy_names[] = { "fifo", "clock", "lru", "random", "ws" };

/* Only `only`'s own pages: every mapping of the frame is in that address space. */
static int owned_by(u32 fn, struct vmspace *only) {
    struct vmspace *vs;
    u32 va;
    for (u32 i = 0; rmap_nth(fn, i, &vs, &va); i++)
        if (vs != only) return 0;
    return 1;
}

static int eligible(u32 fn, struct vmspace *only, int want) {
    struct frame *f = &frames[fn];
    if (f->flags & F_IO) return 0;
    if (only && !owned_by(fn, only)) return 0;
    if ((want & VICTIM_FILE) && (!(f->flags & (F_FILE | F_PCACHE)) || frame_pte_bits(fn, PTE_D, 0))) return 0;
    return 1;
}

static u32 fifo_victim(struct vmspace *only, int want) {
    for (u32 fn = resident.head; fn; fn = frames[fn].next)
        if (eligible(fn, only, want)) return fn;
    return 0;
}

static void to_back(u32 fn) {
    flist_remove(&resident, fn);
    flist_append(&resident, fn);
}

static u32 clock_victim(struct vmspace *only, int want) {
    u32 steps = 2 * resident.count + 1;
    for (u32 fn = resident.head; fn && steps--;) {
        u32 next = frames[fn].next;
        if (eligible(fn, only, want)) {
            if (!frame_referenced(fn)) return fn;
            to_back(fn);
            if (!next) next = resident.head;
        }
        fn = next;
    }
    return fifo_victim(only, want);
}

static u32 last_aged = ~0u;

static void age_pages(void) {
    if (last_aged == ticks) return;
    last_aged = ticks;
    for (u32 fn = resident.head; fn; fn = frames[fn].next)
        frames[fn].age = (u8)((frames[fn].age >> 1) | (frame_referenced(fn) ? 0x80 : 0));
}

static u32 lru_victim(struct vmspace *only, int want) {
    age_pages();
    u32 best = 0, best_key = ~0u;
    for (u32 fn = resident.head; fn; fn = frames[fn].next) {
        if (!eligible(fn, only, want)) continue;
        u32 key = frames[fn].age | (frame_pte_bits(fn, PTE_A, 0) ? 0x100u : 0);
        if (key < best_key) { best = fn; best_key = key; }
    }
    return best;
}

static u32 rng_state;

static u32 xorshift(void) {
    u32 x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static u32 random_victim(struct vmspace *only, int want) {
    u32 n = 0;
    for (u32 fn = resident.head; fn; fn = frames[fn].next) n += eligible(fn, only, want);
    if (n == 0) return 0;
    u32 k = xorshift() % n;
    for (u32 fn = resident.head; fn; fn = frames[fn].next)
        if (eligible(fn, only, want) && k-- == 0) return fn;
    return 0;
}

static u32 ws_victim(struct vmspace *only, int want) {
    u32 steps = resident.count, oldest = 0, oldest_idle = 0;
    for (u32 fn = resident.head; fn && steps--;) {
        u32 next = frames[fn].next;
        if (eligible(fn, only, want)) {
            struct frame *f = &frames[fn];
            if (frame_referenced(fn)) f->last_use = f->vs->vtime;
            u32 idle = f->vs->vtime - f->last_use;
            if (idle > vmtune.tau) return fn;
            if (!oldest || idle > oldest_idle) { oldest = fn; oldest_idle = idle; }
            to_back(fn);
            if (!next) next = resident.head;
        }
        fn = next;
    }
    return oldest;
}

u32 policy_victim(struct vmspace *only, int want) {
    switch (vmtune.policy) {
    case POLICY_FIFO: return fifo_victim(only, want);
    case POLICY_CLOCK: return clock_victim(only, want);
    case POLICY_LRU: return lru_victim(only, want);
    case POLICY_RANDOM: return random_victim(only, want);
    case POLICY_WS: return ws_victim(only, want);
    }
    return 0;
}

/* A number after key= on the command line, clamped to [lo, hi]; keeps *v when absent or bad. */
static void tune(const char *key, u32 *v, u32 lo, u32 hi) {
    const char *s = cmdline_arg(key);
    if (!s) return;
    u32 n = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') n = n * 10 + (u32)(*p++ - '0');
    if (p == s || (*p && *p != ' ') || n < lo || n > hi) {
        bootlog("vm: ignoring %s%s (a number from %u to %u)\n", key, s, lo, hi);
        return;
    }
    *v = n;
}

/* The policy and its tunables, from the command line (kernel/README.md lists them). */
void replace_init(void) {
    const char *s = cmdline_arg("policy=");
    if (s) {
        u32 i;
        for (i = 0; i < NELEM(policy_names); i++) {
            u32 n = strlen(policy_names[i]);
            if (!strncmp(s, policy_names[i], n) && (s[n] == 0 || s[n] == ' ')) break;
        }
        if (i < NELEM(policy_names)) vmtune.policy = (enum policy)i;
        else bootlog("vm: unknown policy, using %s (fifo, clock, lru, random, ws)\n", policy_names[vmtune.policy]);
    }
    s = cmdline_arg("scope=");
    if (s) vmtune.local = !strncmp(s, "local", 5);
    u32 kswapd = (u32)vmtune.kswapd;
    tune("seed=", &vmtune.seed, 1, 0xFFFFFFFFu);
    tune("tau=", &vmtune.tau, 1, 100000);
    tune("readahead=", &vmtune.readahead, 0, 31);   /* with the faulting page: 32 pages, one ATA command */
    tune("swappiness=", &vmtune.swappiness, 0, 100);
    tune("kswapd=", &kswapd, 0, 1);
    tune("preclean=", &vmtune.preclean, 0, 32);
    vmtune.kswapd = (int)kswapd;
    vmtune.low = frames_total() / 64 < 8 ? 8 : frames_total() / 64;
    tune("lowmem=", &vmtune.low, 2, 1u << 20);
    vmtune.high = 2 * vmtune.low;
    tune("highmem=", &vmtune.high, vmtune.low, 1u << 20);
    rng_state = vmtune.seed;
    /* Not the watermarks: they follow the RAM, which QEMU's memory map trims, and the boot lines must match. */
    bootlog("vm: %s replacement (%s), readahead %u, swappiness %u%s\n", policy_names[vmtune.policy],
            vmtune.local ? "local" : "global", vmtune.readahead, vmtune.swappiness,
            vmtune.kswapd && !vmtune.local ? ", page daemon" : "");
}
