/* stackgrow [DEPTH]: recursion DEPTH levels deep (default 256), each level
 * with a 4 KiB frame that it fills with a pattern, so the stack grows page
 * by page (on Atlas, each new page is a zero-fill fault below the stack).
 * On the way back up each level checks its pattern and folds it into a
 * checksum. The output does not depend on the OS, except the "atlas:" line
 * (Atlas's stack fault counts, printed only on Atlas). */
#include <atlas/vmstat.h>
#include <stdio.h>
#include <stdlib.h>

#define FRAME 4000

static unsigned long lowest, highest;
static int bad;

static __attribute__((noinline)) unsigned recurse(int level, int depth) {
  volatile unsigned char buf[FRAME];
  for (int i = 0; i < FRAME; i++) buf[i] = (unsigned char)(level * 31 + i * 7);
  unsigned long here = (unsigned long)buf;
  if (here < lowest || !lowest) lowest = here;
  if (here > highest) highest = here;
  unsigned h = level < depth ? recurse(level + 1, depth) : 2166136261u;
  for (int i = 0; i < FRAME; i++) {
    unsigned char b = buf[i];
    if (b != (unsigned char)(level * 31 + i * 7)) bad++;
    h = (h ^ b) * 16777619u; /* FNV-1a */
  }
  return h;
}

static long counter(const struct atlas_vmstat *vs, const char *name) {
  return atlas_vmstat_get(vs, name);
}

int main(int argc, char **argv) {
  int depth = argc > 1 ? atoi(argv[1]) : 256;
  if (depth < 1 || depth > 100000) {
    fprintf(stderr, "usage: stackgrow [DEPTH]  (1..100000)\n");
    return 2;
  }
  struct atlas_vmstat before, after;
  int atlas = atlas_vmstat_read(&before) == 0;
  unsigned sum = recurse(1, depth);
  printf("stackgrow: reached depth %d, %lu KiB of stack below the first frame\n", depth,
         (highest - lowest) / 1024);
  printf("stackgrow: checksum 0x%08x, %s\n", sum, bad ? "PATTERN ERRORS" : "every frame intact");
  if (atlas && atlas_vmstat_read(&after) == 0)
    printf("atlas: stack growth took %ld zero-fill faults, %ld minor faults; %ld pages resident\n",
           counter(&after, "self_zero_fill_faults") - counter(&before, "self_zero_fill_faults"),
           counter(&after, "self_minor_faults") - counter(&before, "self_minor_faults"),
           counter(&after, "self_pages_resident"));
  return bad ? 1 : 0;
}
