/* memhog SIZE [seq|random] [PASSES]: touches SIZE of memory (e.g. 8M, 512K)
 * and verifies it. Maps SIZE of anonymous memory, fills every page with a
 * pseudo-random pattern in sequential or (seeded, reproducible) random page
 * order, then PASSES times (default 1) reads every page back in the same
 * kind of order and checks each word. On Atlas with less RAM than SIZE, the
 * pages go to swap and come back: the checksum must equal the native run's.
 * Exit status 0 when every word was right. */
#include "memtest.h"
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
  unsigned long size = argc > 1 ? parse_size(argv[1]) : 0;
  int random = argc > 2 && !strcmp(argv[2], "random");
  int passes = argc > 3 ? atoi(argv[3]) : 1;
  if (!size || (argc > 2 && !random && strcmp(argv[2], "seq")) || passes < 1) {
    fprintf(stderr, "usage: memhog SIZE [seq|random] [PASSES]   (SIZE: bytes, or with K, M, G)\n");
    return 2;
  }
  unsigned pages = size / PAGE;
  printf("memhog: %lu KiB (%u pages), %s order, %d verify pass%s\n", size / 1024, pages,
         random ? "random" : "sequential", passes, passes == 1 ? "" : "es");
  struct atlas_vmstat v0, v1;
  atlas_vmstat_read(&v0);
  unsigned char *mem = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("memhog: mmap");
    return 1;
  }
  unsigned *order = malloc(pages * sizeof *order);
  if (!order) {
    perror("memhog: malloc");
    return 1;
  }
  for (unsigned i = 0; i < pages; i++) order[i] = i;
  unsigned rng = 0x2545F491u;
  unsigned long bad = 0;
  unsigned sum = 0;
  for (int pass = 0; pass <= passes; pass++) {
    if (random) /* Fisher-Yates: a new order for each pass */
      for (unsigned i = pages - 1; i > 0; i--) {
        unsigned j = xorshift(&rng) % (i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
      }
    sum = 0;
    for (unsigned i = 0; i < pages; i++) {
      unsigned p = order[i];
      unsigned *page = (unsigned *)(mem + (unsigned long)p * PAGE);
      if (pass == 0) {
        fill_page(page, 1, p);
        continue;
      }
      unsigned b = check_page(page, 1, p, &sum);
      if (b && !bad) printf("memhog: pass %d: page %u has %u wrong words\n", pass, p, b);
      bad += b;
    }
    if (pass == 0) printf("memhog: wrote %u pages\n", pages);
    else printf("memhog: pass %d: read %u pages back, checksum 0x%08x\n", pass, pages, sum);
  }
  atlas_vmstat_read(&v1);
  atlas_report("this process", "self_", &v0, &v1);
  atlas_swap_report(&v1); /* while its pages are still out there */
  printf("memhog: %s\n", bad ? "MEMORY CORRUPTED" : "every word verified");
  return bad ? 1 : 0;
}
