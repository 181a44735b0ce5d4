/*
 * The Atlas VM statistics pseudo-file, /proc/vmstat.
 *
 * Atlas's /proc/vmstat is a text file: a first line that identifies the
 * format, then one counter per line, a name and a decimal value separated
 * by one space, each line ending in '\n':
 *
 *     atlas-vmstat 1
 *     minor_faults 123
 *     major_faults 45
 *     zero_fill_faults 67
 *     pages_resident 89
 *     frames_total 8032
 *     frames_free 7511
 *     self_minor_faults 3
 *     self_major_faults 2
 *     self_zero_fill_faults 5
 *     self_pages_resident 10
 *
 * The first line is ATLAS_VMSTAT_MAGIC ("atlas-vmstat" and the format
 * version, 1). Names are [a-z0-9_]+, values are unsigned decimal numbers
 * (up to 2^32 - 1). Counters without the self_ prefix are global (the whole
 * machine since boot; pages_resident is the number of user pages mapped in
 * all address spaces); the self_ ones are those of the process that reads
 * the file (its faults since it was created, counted across execve, and its
 * resident user pages now). The order of the lines is free and a reader
 * ignores names it does not know, so the kernel may add counters (swap-ins,
 * swap-outs, ... for swapping) without breaking the programs.
 *
 *   minor_faults      page faults resolved without disk I/O
 *                     (including the zero-fill ones)
 *   major_faults      page faults that read the disk (executable pages paged in)
 *   zero_fill_faults  page faults resolved by a freshly zeroed frame
 *                     (bss, heap, anonymous mmap, stack)
 *   pages_resident    user pages currently mapped to a frame
 *   frames_total      physical frames the allocator manages
 *   frames_free       of those, frames free now
 *
 * Swapping (issue 6) adds, globally and with self_ versions:
 *   swap_ins          pages read back from a swap area
 *   swap_outs         pages written to a swap area
 *   evictions         resident pages taken away from a process
 *   rescues           faults on a page stolen but whose frame was not yet
 *                     reused: the frame is taken back without disk I/O
 * and global only: precleaned (dirty pages written out early by the page
 * daemon), readahead_read and readahead_used (pages read ahead, and of
 * those the ones a fault later found), free_queue (frames in the page
 * daemon's free queue), kswapd_wakeups, oom_kills, pages_resident_peak,
 * ticks_busy, ticks_idle, ticks_iowait (timer ticks of virtual time the CPU
 * spent running something, idle with no I/O in flight, idle waiting for a
 * disk: multiprog prints the CPU utilisation from them), and per swap area
 * swap_hdX_slots, swap_hdX_used, ... (X = b, c, d: its size and the slots
 * in use, in pages). vmstat prints whatever counters the file has.
 *
 * Sharing and copy-on-write (issue 7) add, global only:
 *   shared_frames     frames mapped by more than one address space now
 *                     (shared code, pages shared after fork)
 *   file_frames       resident frames holding pages of files: the page
 *                     cache, one frame per (file, page) however many
 *                     processes map it
 * and globally and with self_ versions:
 *   cow_faults        write faults on copy-on-write pages (writable pages
 *                     that fork left read-only in parent and child)
 *   pages_copied      of those, the ones that copied the page (another
 *                     address space still mapped it)
 *   cow_reused        of those, the ones that found no other sharer left and
 *                     just made the page writable again
 * so cow_faults = pages_copied + cow_reused. sharedtext prints file_frames
 * and shared_frames, cowfork the self_ copy-on-write counters.
 *
 * The whole file is at most ATLAS_VMSTAT_MAX bytes and one read(2) of that
 * size returns it all. Linux also has a /proc/vmstat, in another format
 * (its first line is "nr_free_pages N"): atlas_vmstat_read() tells them apart
 * by the first line.
 */
#ifndef ATLAS_VMSTAT_H
#define ATLAS_VMSTAT_H

#define ATLAS_VMSTAT_PATH  "/proc/vmstat"
#define ATLAS_VMSTAT_MAGIC "atlas-vmstat 1"
#define ATLAS_VMSTAT_MAX   4096
#define ATLAS_VMSTAT_NAMES 128

struct atlas_vmstat {
  int count;
  char name[ATLAS_VMSTAT_NAMES][32];
  unsigned long value[ATLAS_VMSTAT_NAMES];
};

/* Reads and parses /proc/vmstat (or the file named by the environment
 * variable ATLAS_VMSTAT, if set: for tests on other OSes). Returns 0 if it is there and in the Atlas
 * format, -1 otherwise (missing file, or another OS's format). */
int atlas_vmstat_read(struct atlas_vmstat *vs);

/* Parses text already read (len bytes); same result as atlas_vmstat_read. */
int atlas_vmstat_parse(struct atlas_vmstat *vs, const char *text, int len);

/* The value of a counter, or -1 if the file has no such line. */
long atlas_vmstat_get(const struct atlas_vmstat *vs, const char *name);

#endif
