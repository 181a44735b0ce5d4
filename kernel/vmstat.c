/*
 * The VM counters: one table of named 32-bit counters that /proc/vmstat
 * prints and the emulator reads at exit (`atlas386 boot --stats`).
 *
 * The table is self-describing, so the host needs no copy of the kernel's
 * structures: `kcounters` (ELF symbol) is an array of `nkcounters` entries
 * { const char *name; const u32 *value; }, 8 bytes each, kernel virtual
 * addresses (physical = virtual - KERNBASE). Counters that are computed
 * rather than counted (frames_free, pages_resident) are kept up to date
 * where they change, so that reading one is a load, here and from the host.
 *
 * Time is counted in timer ticks of virtual time, sampled like Unix does:
 * a tick that interrupts a process counts as busy; one that finds the CPU
 * idle counts as I/O wait if a disk request is outstanding, else idle.
 */
#include "defs.h"
#include "kalloc.h"
#include "proc.h"
#include "swap.h"
#include "vmstat.h"

struct vmcounters vmc;

#define C(n) { #n, &vmc.n }
#define S(disk, field) { "swap_" disk "_" #field, &swapareas[disk[2] - 'b'].field }
const struct kcounter kcounters[] = {
    C(minor_faults), C(major_faults), C(zero_fill_faults),
    C(swap_ins), C(swap_outs), C(evictions), C(evictions_file), C(evictions_anon),
    C(rescues), C(precleaned), C(readahead_read), C(readahead_used),
    C(cow_faults), C(pages_copied), C(cow_reused), C(shared_frames), C(file_frames),
    C(kswapd_wakeups), C(kswapd_stolen), C(oom_kills),
    C(pages_resident), C(pages_resident_peak), C(pages_locked),
    C(frames_total), C(frames_free), C(free_queue),
    C(ticks_busy), C(ticks_idle), C(ticks_iowait),
    S("hdb", slots), S("hdb", used), S("hdb", priority), S("hdb", pages_in), S("hdb", pages_out),
    S("hdc", slots), S("hdc", used), S("hdc", priority), S("hdc", pages_in), S("hdc", pages_out),
    S("hdd", slots), S("hdd", used), S("hdd", priority), S("hdd", pages_in), S("hdd", pages_out),
};
const u32 nkcounters = NELEM(kcounters);

/* The per-process counters, printed with a self_ prefix for the reader. */
#define P(n) { #n, offsetof(struct vmstats, n) }
static const struct { const char *name; u32 offset; } self_counters[] = {
    P(minor_faults), P(major_faults), P(zero_fill_faults), P(swap_ins), P(swap_outs),
    P(evictions), P(rescues), P(precleaned), P(readahead_read), P(readahead_used),
    P(cow_faults), P(pages_copied), P(cow_reused),
};

/* A timer tick: who had the CPU (see the top of the file). */
void vmstat_tick(int busy) {
    if (busy) vmc.ticks_busy++;
    else if (ide_busy()) vmc.ticks_iowait++;
    else vmc.ticks_idle++;
}

void vmstat_resident(int delta) {
    vmc.pages_resident += (u32)delta;
    if (vmc.pages_resident > vmc.pages_resident_peak) vmc.pages_resident_peak = vmc.pages_resident;
}

/* A fault's kind, counted globally and for the process. */
void vmstat_fault(struct vmspace *vs, u32 offset) {
    (*(u32 *)((u8 *)&vmc + offset))++;
    if (vs) (*(u32 *)((u8 *)&vs->st + offset))++;
}

/*
 * /proc/vmstat, in the Atlas format (userland/include/atlas/vmstat.h): a
 * magic line, then "name value" lines; unprefixed counters are global, the
 * self_ ones the reading process's. minor_faults includes the zero-fill ones.
 */
int vmstat_format(char *buf, u32 size) {
    struct vmspace *me = myproc() ? myproc()->vs : NULL;
    int n = snprintf(buf, size, "atlas-vmstat 1\n");
    for (u32 i = 0; i < nkcounters && (u32)n < size; i++)
        n += snprintf(buf + n, size - n, "%s %u\n", kcounters[i].name, *kcounters[i].value);
    for (u32 i = 0; i < NELEM(self_counters) && (u32)n < size; i++) {
        u32 v = me ? *(u32 *)((u8 *)&me->st + self_counters[i].offset) : 0;
        n += snprintf(buf + n, size - n, "self_%s %u\n", self_counters[i].name, v);
    }
    if ((u32)n < size) n += snprintf(buf + n, size - n, "self_pages_resident %u\n", me ? me->resident : 0);
    return n;
}
