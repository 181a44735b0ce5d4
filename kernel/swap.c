/*
 * Swap areas: where pages go when memory runs short (see swap.h for the
 * entry format). An area is a whole disk, hdb, hdc or hdd, named on the
 * command line with a priority.
 *
 * Allocation: the highest-priority areas with free slots are used first,
 * round-robin across areas of equal priority, so that consecutive new
 * clusters of 16 slots stripe across disks and their I/O overlaps (each
 * channel works on its own). A page whose owner already has a slot nearby
 * (`near`) goes right after it, in the same cluster or the next: pages of a
 * process that were swapped out together stay contiguous on disk, so that
 * swap_read can read them back with one command (one seek).
 *
 * The per-slot tables come from kalloc() pages, two levels deep (a page of
 * pointers to pages) because kalloc pages are not contiguous.
 */
#include "defs.h"
#include "mmu.h"
#include "swap.h"
#include "vmstat.h"

#define SECT_PER_SLOT 8
#define CLUSTER 16                      /* slots */
#define REFS_PER_PAGE (PGSIZE / 2)      /* u16 */
#define CACHE_PER_PAGE (PGSIZE / 4)     /* u32 */
#define MAX_SLOTS (1024u * CACHE_PER_PAGE)  /* what one directory page of cache pages covers: 4 GiB */
#define MAX_CLUSTER_READ 32             /* 256 sectors: one ATA command */

struct swaparea swapareas[SWAP_AREAS];
/* The areas' disks; with kswap_layout, for the host (kernel/README.md, "Debugger ABI"). */
const char *const kswap_names[SWAP_AREAS] = { "hdb", "hdc", "hdd" };
#define names kswap_names
const u32 kswap_layout[] = {
    SWAP_AREAS, sizeof(struct swaparea),
    offsetof(struct swaparea, slots), offsetof(struct swaparea, used), offsetof(struct swaparea, priority),
    offsetof(struct swaparea, pages_in), offsetof(struct swaparea, pages_out),
    offsetof(struct swaparea, refs), REFS_PER_PAGE, offsetof(struct swaparea, cache), CACHE_PER_PAGE,
    SWAP_SLOT_BITS, SECT_PER_SLOT,
};
static int last_area = SWAP_AREAS - 1;  /* where the last round-robin pick went */

static u16 *ref_of(struct swaparea *a, u32 s) { return &a->refs[s / REFS_PER_PAGE][s % REFS_PER_PAGE]; }
static u32 *cache_of(struct swaparea *a, u32 s) { return &a->cache[s / CACHE_PER_PAGE][s % CACHE_PER_PAGE]; }

/* The area and slot of an entry; a bad entry is a kernel bug. */
static struct swaparea *entry_area(u32 e, u32 *slot) {
    u32 i = (e >> SWAP_SLOT_BITS) - 1;
    *slot = e & ((1u << SWAP_SLOT_BITS) - 1);
    if (e == 0 || i >= SWAP_AREAS || *slot >= swapareas[i].slots) panic("swap: bad entry %x", e);
    return &swapareas[i];
}

int swap_enabled(void) {
    for (int i = 0; i < SWAP_AREAS; i++)
        if (swapareas[i].slots) return 1;
    return 0;
}

/*
 * More than half of all slots in use? Then a page read back from swap gives
 * its slot up rather than keep its copy there (as Linux's vm_swap_full):
 * kept copies save writes, but they make swap hold pages that are also in
 * memory, and a small swap area would run out with memory to spare.
 */
int swap_nearly_full(void) {
    u32 used = 0, slots = 0;
    for (int i = 0; i < SWAP_AREAS; i++) {
        used += swapareas[i].used;
        slots += swapareas[i].slots;
    }
    return used > slots / 2;
}

/* ---- allocation ---- */

static int has_free(struct swaparea *a) { return a->used < a->slots; }

/* The highest priority of an area with a free slot, -1 if every area is full. */
static int best_priority(void) {
    int best = -1;
    for (int i = 0; i < SWAP_AREAS; i++)
        if (has_free(&swapareas[i]) && (int)swapareas[i].priority > best) best = swapareas[i].priority;
    return best;
}

static u32 take(int i, u32 s) {
    struct swaparea *a = &swapareas[i];
    *ref_of(a, s) = 1;
    a->used++;
    return SWAP_ENTRY(i, s);
}

/* A free slot right after near's: in its cluster or the next. 0 if none (or near is not usable). */
static u32 alloc_near(u32 near, int best) {
    u32 i = (near >> SWAP_SLOT_BITS) - 1, slot = near & ((1u << SWAP_SLOT_BITS) - 1);
    if (near == 0 || i >= SWAP_AREAS) return 0;
    struct swaparea *a = &swapareas[i];
    if (slot >= a->slots || !has_free(a) || (int)a->priority != best) return 0;
    u32 end = (slot / CLUSTER + 2) * CLUSTER;
    if (end > a->slots) end = a->slots;
    for (u32 s = slot + 1; s < end; s++)
        if (*ref_of(a, s) == 0) return take(i, s);
    return 0;
}

/*
 * The first free slot at or after the area's rotor (wrapping). The rotor
 * then moves to the next cluster: a new owner starts a cluster of its own
 * and leaves the rest of this one for alloc_near.
 */
static u32 alloc_rotor(int i) {
    struct swaparea *a = &swapareas[i];
    for (u32 n = 0, s = a->rotor; n < a->slots; n++, s = s + 1 < a->slots ? s + 1 : 0) {
        if (*ref_of(a, s)) continue;
        a->rotor = (s / CLUSTER + 1) * CLUSTER;
        if (a->rotor >= a->slots) a->rotor = 0;
        return take(i, s);
    }
    panic("swap: %s has no free slot but counts %u used of %u", names[i], a->used, a->slots);
}

/* A slot with reference count 1, or 0 when every area is full. */
u32 swap_alloc(u32 near) {
    int best = best_priority();
    if (best < 0) return 0;
    u32 e = alloc_near(near, best);
    if (e) return e;
    for (int n = 1; n <= SWAP_AREAS; n++) {
        int i = (last_area + n) % SWAP_AREAS;
        if (has_free(&swapareas[i]) && (int)swapareas[i].priority == best) {
            last_area = i;
            return alloc_rotor(i);
        }
    }
    panic("swap_alloc: no area of priority %d", best);
}

void swap_dup(u32 e) {
    u32 s;
    struct swaparea *a = entry_area(e, &s);
    u16 *r = ref_of(a, s);
    if (*r == 0 || *r == 0xFFFF) panic("swap_dup: entry %x has %u references", e, *r);
    (*r)++;
}

/* Drops a reference; the last one frees the slot and forgets its cached frame. */
void swap_free(u32 e) {
    u32 s;
    struct swaparea *a = entry_area(e, &s);
    u16 *r = ref_of(a, s);
    if (*r == 0) panic("swap_free: entry %x is free", e);
    if (--*r) return;
    a->used--;
    *cache_of(a, s) = 0;
}

/* ---- the swap cache: which frame holds a slot's page ---- */

/* How many PTEs hold the entry (0: a free slot, or not an entry of an area). */
u32 swap_count(u32 e) {
    u32 i = (e >> SWAP_SLOT_BITS) - 1, s = e & ((1u << SWAP_SLOT_BITS) - 1);
    if (e == 0 || i >= SWAP_AREAS || s >= swapareas[i].slots) return 0;
    return *ref_of(&swapareas[i], s);
}

int swap_same_area(u32 a, u32 b) { return (a >> SWAP_SLOT_BITS) == (b >> SWAP_SLOT_BITS); }

u32 swap_cache_get(u32 e) {
    u32 s;
    struct swaparea *a = entry_area(e, &s);
    return *cache_of(a, s);
}

void swap_cache_set(u32 e, u32 frame_plus_1) {
    u32 s;
    struct swaparea *a = entry_area(e, &s);
    *cache_of(a, s) = frame_plus_1;
}

/* ---- I/O ---- */

static int drive_of(struct swaparea *a) { return (int)(a - swapareas) + 1; }

/* One page (a kernel address) to the slot. 0, or -1 on a disk error. */
int swap_write(u32 e, void *page) {
    u32 s;
    struct swaparea *a = entry_area(e, &s);
    if (ide_io(drive_of(a), s * SECT_PER_SLOT, SECT_PER_SLOT, &page, 1)) return -1;
    a->pages_out++;
    return 0;
}

/*
 * n consecutive slots from e (one area) into pages[], with one disk command
 * (one access time for them all: what makes readahead pay). 0, or -1 on a
 * disk error.
 */
int swap_read(u32 e, u32 n, void **pages) {
    u32 s;
    struct swaparea *a = entry_area(e, &s);
    if (n == 0 || n > MAX_CLUSTER_READ || s + n > a->slots) panic("swap_read: %u slots from %x", n, e);
    if (ide_io(drive_of(a), s * SECT_PER_SLOT, n * SECT_PER_SLOT, pages, 0)) return -1;
    a->pages_in += n;
    return 0;
}

/* ---- set-up from the command line ---- */

/* A kalloc'd directory of up to 1024 kalloc'd pages; how many pages it got (it may run out of memory). */
static u32 alloc_table(void ***dir, u32 pages) {
    *dir = kalloc();
    if (!*dir) return 0;
    u32 n = 0;
    while (n < pages && ((*dir)[n] = kalloc()) != NULL) n++;
    return n;
}

/* The tables for an area of `slots`; the slots they cover (fewer if memory ran out). */
static u32 area_tables(struct swaparea *a, u32 slots) {
    u32 rp = alloc_table((void ***)&a->refs, (slots + REFS_PER_PAGE - 1) / REFS_PER_PAGE);
    u32 cp = alloc_table((void ***)&a->cache, (slots + CACHE_PER_PAGE - 1) / CACHE_PER_PAGE);
    if (rp * REFS_PER_PAGE < slots) slots = rp * REFS_PER_PAGE;
    if (cp * CACHE_PER_PAGE < slots) slots = cp * CACHE_PER_PAGE;
    return slots;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* One `disk[:priority]` item of swap=; a warning and nothing else for a bad one. */
static void swap_add(const char *item, u32 len) {
    char word[24];
    strncpy_z(word, item, len + 1 < sizeof word ? len + 1 : sizeof word);
    int i = len >= 3 && !strncmp(item, "hd", 2) ? item[2] - 'b' : -1;
    u32 prio = 0, p = 3;
    if (len > 3 && item[3] == ':') {
        for (p = 4; p < len && is_digit(item[p]) && prio <= 32767; p++) prio = prio * 10 + (item[p] - '0');
        if (p == 4) p = 0;                              /* hdb: with no number */
    }
    if (len >= 3 && !strncmp(item, "hda", 3) && (len == 3 || item[3] == ':')) {
        bootlog("swap: %s refused: hda is the root filesystem\n", word);
        return;
    }
    if (i < 0 || i >= SWAP_AREAS || p != len || prio > 32767) {
        bootlog("swap: bad area '%s' (want hdb, hdc or hdd, and :priority 0..32767)\n", word);
        return;
    }
    struct swaparea *a = &swapareas[i];
    if (a->slots) { bootlog("swap: %s given twice, the second ignored\n", names[i]); return; }
    u32 slots = ide_sectors(i + 1) / SECT_PER_SLOT;
    if (slots == 0) { bootlog("swap: %s: no such disk (or smaller than a page)\n", names[i]); return; }
    if (slots > MAX_SLOTS) slots = MAX_SLOTS;
    u32 got = area_tables(a, slots);
    if (got < slots) bootlog("swap: %s: memory for %u of its %u slots only\n", names[i], got, slots);
    a->slots = got;
    a->priority = prio;
    if (got) bootlog("swap: %s, %u slots (%u MiB), priority %u\n", names[i], got, got >> 8, prio);
}

/* The command line's word starting with `key`, its length in *len; NULL if none. */
static const char *find_word(const char *cmdline, const char *key, u32 *len) {
    u32 n = strlen(key);
    for (const char *p = cmdline; *p; p++) {
        if ((p != cmdline && p[-1] != ' ') || strncmp(p, key, n)) continue;
        for (*len = 0; p[*len] && p[*len] != ' '; (*len)++) {}
        return p;
    }
    return NULL;
}

static void swaptest(void);

/* Sets up the areas of the `swap=` word (none without it); `swaptest` then tests them. */
void swap_init(const char *cmdline) {
    u32 len, n;
    const char *w = find_word(cmdline, "swap=", &len);
    if (w) {
        const char *end = w + len;
        for (const char *p = w + 5; p < end; p += n + 1) {
            for (n = 0; p + n < end && p[n] != ','; n++) {}
            if (n) swap_add(p, n);
        }
    }
    if (find_word(cmdline, "swaptest", &len) && len == 8) swaptest();
}

/* ---- boot-time test (the `swaptest` word), polled I/O before processes exist ---- */

#define TEST_PAGES 64

static u32 pattern(u32 page, u32 word) { return (page * 0x9E3779B1u) ^ (word * 0x85EBCA6Bu) ^ 0x5A5A0000u; }

static void fill(void *page, u32 n) {
    for (u32 w = 0; w < PGSIZE / 4; w++) ((u32 *)page)[w] = pattern(n, w);
}

/* The first word that differs from page n's pattern, -1 if none. */
static int check(void *page, u32 n) {
    for (u32 w = 0; w < PGSIZE / 4; w++)
        if (((u32 *)page)[w] != pattern(n, w)) return (int)w;
    return -1;
}

/*
 * 64 slots from the allocator (they must follow one another), the first 32
 * written with one ide_io command, the others with swap_write; then read
 * back with two 32-slot reads and compared; then freed.
 */
static const char *test_run(void **pages, u32 *e) {
    for (u32 i = 0; i < TEST_PAGES; i++) e[i] = 0;
    if (!swap_enabled()) return "no swap area";
    for (int i = 0; i < MAX_CLUSTER_READ; i++)
        if (!(pages[i] = kalloc())) return "out of memory";
    for (u32 i = 0; i < TEST_PAGES; i++) {
        e[i] = swap_alloc(i ? e[i - 1] : 0);
        if (!e[i] || (i && e[i] != e[i - 1] + 1)) return "slots not contiguous";
    }
    for (u32 i = 0; i < MAX_CLUSTER_READ; i++) fill(pages[i], i);
    u32 s0 = e[0] & ((1u << SWAP_SLOT_BITS) - 1);
    if (ide_io(e[0] >> SWAP_SLOT_BITS, s0 * SECT_PER_SLOT, 256, pages, 1)) return "ide_io write failed";
    for (u32 i = MAX_CLUSTER_READ; i < TEST_PAGES; i++) {
        fill(pages[0], i);
        if (swap_write(e[i], pages[0])) return "swap_write failed";
    }
    for (u32 half = 0; half < TEST_PAGES; half += MAX_CLUSTER_READ) {
        for (int i = 0; i < MAX_CLUSTER_READ; i++) memset(pages[i], 0, PGSIZE);
        if (swap_read(e[half], MAX_CLUSTER_READ, pages)) return "swap_read failed";
        for (u32 i = 0; i < MAX_CLUSTER_READ; i++) {
            int w = check(pages[i], half + i);
            if (w >= 0) {
                printf("swaptest: page %u (entry %x) differs at word %d\n", half + i, e[half + i], w);
                return "mismatch";
            }
        }
    }
    return NULL;
}

/*
 * Two fresh allocations: from the highest priority, on two areas when two
 * share it (striping), else in two clusters of the one; and the reference
 * counts and cache of one of them.
 */
static const char *test_policy(void) {
    u32 a = swap_alloc(0), b = swap_alloc(0), sa, sb;
    if (!a || !b) return "swap_alloc failed";
    struct swaparea *aa = entry_area(a, &sa), *ab = entry_area(b, &sb);
    int top = 0;
    for (int i = 0; i < SWAP_AREAS; i++) top += swapareas[i].slots && (int)swapareas[i].priority == best_priority();
    if ((int)aa->priority != best_priority() || (int)ab->priority != best_priority()) return "not the highest priority";
    if (top > 1 ? aa == ab : sa / CLUSTER == sb / CLUSTER) return "no striping across areas or clusters";
    swap_dup(a);
    swap_cache_set(a, 42);
    swap_free(a);
    if (swap_cache_get(a) != 42 || *ref_of(aa, sa) != 1) return "swap_dup/swap_free counts";
    swap_free(a);
    swap_free(b);
    if (*ref_of(aa, sa) || *cache_of(aa, sa)) return "swap_free left the slot in use or cached";
    return NULL;
}

static void swaptest(void) {
    static void *pages[MAX_CLUSTER_READ];
    u32 e[TEST_PAGES];
    const char *why = test_run(pages, e);
    if (!why) why = test_policy();
    for (u32 i = 0; i < TEST_PAGES; i++)
        if (e[i]) swap_free(e[i]);
    for (int i = 0; i < MAX_CLUSTER_READ; i++)
        if (pages[i]) kfree(pages[i]);
    u32 used = swapareas[0].used + swapareas[1].used + swapareas[2].used;
    if (why) printf("swaptest: FAILED: %s\n", why);
    else printf("swaptest: ok (%u pages through %s, %u slots in use after)\n", TEST_PAGES, names[(e[0] >> SWAP_SLOT_BITS) - 1], used);
}
