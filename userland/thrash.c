/* thrash [MAX] [STEP] [PASSES]: grows its working set step by step, STEP at
 * a time (default 256K) up to MAX (default 4M), and at each step sweeps the
 * whole working set PASSES times (default 4), one word read and written per
 * page. While the working set fits in RAM the faults per pass stay flat
 * (none once its pages are in); past the knee every pass faults on every
 * page (a cyclic sweep is the worst case for FIFO and LRU alike). On Atlas
 * the "atlas:" line of each step gives the faults per pass, and a last one
 * the faults of all the sweeps (with MAX small enough to fit, a looping
 * pattern that fits: LRU must take no more than FIFO); the other lines are
 * the same on every OS. */
#include "memtest.h"
#include <sys/mman.h>

int main(int argc, char **argv) {
  unsigned long max = argc > 1 ? parse_size(argv[1]) : 4ul << 20;
  unsigned long step = argc > 2 ? parse_size(argv[2]) : 256ul << 10;
  int passes = argc > 3 ? atoi(argv[3]) : 4;
  if (!max || !step || step > max || passes < 1) {
    fprintf(stderr, "usage: thrash [MAX] [STEP] [PASSES]   (sizes: bytes, or with K, M, G)\n");
    return 2;
  }
  unsigned char *mem = mmap(0, max, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("thrash: mmap");
    return 1;
  }
  printf("thrash: working set from %lu KiB to %lu KiB in steps of %lu KiB, %d passes each\n", step / 1024,
         max / 1024, step / 1024, passes);
  unsigned total = 0;
  long all_major = 0, all_minor = 0, atlas = 0;
  for (unsigned long ws = step; ws <= max; ws += step) {
    unsigned pages = ws / PAGE;
    /* Bring the new pages in first (their zero-fill faults are not the point). */
    for (unsigned p = (ws - step) / PAGE; p < pages; p++) *(unsigned *)(mem + (unsigned long)p * PAGE) = p;
    struct atlas_vmstat v0, v1;
    atlas_vmstat_read(&v0);
    unsigned sum = 0;
    for (int pass = 0; pass < passes; pass++)
      for (unsigned p = 0; p < pages; p++) {
        unsigned *w = (unsigned *)(mem + (unsigned long)p * PAGE);
        sum = (sum ^ *w) * 16777619u; /* FNV-1a */
        *w += 1;
      }
    total += sum;
    printf("thrash: working set %5lu KiB (%4u pages): %d passes, checksum 0x%08x\n", ws / 1024, pages, passes, sum);
    if (atlas_vmstat_read(&v1) == 0 && v0.count) {
      long minor = atlas_vmstat_get(&v1, "self_minor_faults") - atlas_vmstat_get(&v0, "self_minor_faults");
      long major = atlas_vmstat_get(&v1, "self_major_faults") - atlas_vmstat_get(&v0, "self_major_faults");
      all_major += major, all_minor += minor, atlas = 1;
      printf("atlas:   %ld.%02ld major, %ld.%02ld minor faults per pass (%ld%% of the pages)\n", major / passes,
             major * 100 / passes % 100, minor / passes, minor * 100 / passes % 100,
             (major + minor) * 100 / ((long)pages * passes));
    }
  }
  printf("thrash: done, checksum 0x%08x\n", total);
  if (atlas) printf("atlas: faults in all the sweeps: %ld major, %ld minor\n", all_major, all_minor);
  return 0;
}
