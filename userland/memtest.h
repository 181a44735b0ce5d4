/* Shared by the swapping programs (memhog, thrash, multiprog): sizes on the
 * command line, a pseudo-random pattern to fill memory with and check, and
 * the Atlas counters they print on "atlas:" lines. */
#ifndef MEMTEST_H
#define MEMTEST_H
#include <atlas/vmstat.h>
#include <stdio.h>
#include <stdlib.h>

#define PAGE 4096u
#define WORDS_PER_PAGE (PAGE / 4)

/* "8M", "512K", "1G" or a number of bytes; rounded up to whole pages.
 * Returns 0 for something else. */
static inline unsigned long parse_size(const char *s) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  unsigned long mul = 1;
  if (*end == 'k' || *end == 'K') mul = 1024, end++;
  else if (*end == 'm' || *end == 'M') mul = 1024 * 1024, end++;
  else if (*end == 'g' || *end == 'G') mul = 1024 * 1024 * 1024, end++;
  if (end == s || *end || v == 0 || v > 0xffffffffUL / mul) return 0;
  v *= mul;
  if (v > 0xffffffffUL - PAGE) return 0;
  return (v + PAGE - 1) & ~(PAGE - 1);
}

/* The word stored at word `index` of page `page` by a process with `seed`
 * (a hash: every word differs, the same on every OS). */
static inline unsigned pattern(unsigned seed, unsigned page, unsigned index) {
  unsigned x = seed * 0x9E3779B9u ^ page * 0x85EBCA6Bu ^ index * 0xC2B2AE35u;
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  x ^= x >> 16;
  return x;
}

static inline void fill_page(unsigned *p, unsigned seed, unsigned page) {
  for (unsigned i = 0; i < WORDS_PER_PAGE; i++) p[i] = pattern(seed, page, i);
}

/* Number of wrong words in the page; adds its words to *sum. */
static inline unsigned check_page(const unsigned *p, unsigned seed, unsigned page, unsigned *sum) {
  unsigned bad = 0, s = 0;
  for (unsigned i = 0; i < WORDS_PER_PAGE; i++) {
    bad += p[i] != pattern(seed, page, i);
    s += p[i] * (2 * i + 1);
  }
  *sum += s ^ (page * 0x01000193u);
  return bad;
}

/* xorshift32: the reproducible random numbers of the random orders. */
static inline unsigned xorshift(unsigned *state) {
  unsigned x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

/* Counters of /proc/vmstat that the "atlas:" lines show when present. */
static const char *const atlas_counters[] = {
    "minor_faults", "major_faults", "zero_fill_faults", "swap_ins", "swap_outs", "evictions", "rescues",
};

/* Prints "atlas: WHAT: name +delta ..." for the counters (prefix "self_" or
 * "") that the kernel has, if this is Atlas. */
static inline void atlas_report(const char *what, const char *prefix, const struct atlas_vmstat *before,
                                const struct atlas_vmstat *after) {
  if (!before->count || !after->count) return;
  char line[512];
  int n = snprintf(line, sizeof line, "atlas: %s:", what);
  for (unsigned i = 0; i < sizeof atlas_counters / sizeof atlas_counters[0]; i++) {
    char name[40];
    snprintf(name, sizeof name, "%s%s", prefix, atlas_counters[i]);
    long a = atlas_vmstat_get(before, name), b = atlas_vmstat_get(after, name);
    if (a >= 0 && b >= 0 && n < (int)sizeof line)
      n += snprintf(line + n, sizeof line - n, " %s %+ld", atlas_counters[i], b - a);
  }
  printf("%s\n", line);
}

/* Prints "atlas: swap areas: hdb 512 of 512 slots used, ..." for the swap
 * areas the kernel reports (swap_hdX_slots, swap_hdX_used), if any. */
static inline void atlas_swap_report(const struct atlas_vmstat *v) {
  char line[256];
  int n = snprintf(line, sizeof line, "atlas: swap areas:"), areas = 0;
  for (char d = 'b'; d <= 'd'; d++) {
    char slots[24], used[24];
    snprintf(slots, sizeof slots, "swap_hd%c_slots", d);
    snprintf(used, sizeof used, "swap_hd%c_used", d);
    long s = atlas_vmstat_get(v, slots), u = atlas_vmstat_get(v, used);
    if (s > 0 && n < (int)sizeof line)
      n += snprintf(line + n, sizeof line - n, "%s hd%c %ld of %ld slots used", areas++ ? "," : "", d, u, s);
  }
  if (areas) printf("%s\n", line);
}
#endif
