/* demand [PAGES]: demand paging made visible. First reads 4 pages of
 * initialized data (on Atlas each comes from the executable on first touch:
 * a major fault) and writes 4 pages of bss (zero-fill faults). Then grows
 * the heap with brk(2) and maps anonymous memory with mmap2(2), PAGES pages
 * each (default 8): nothing is touched when the memory is obtained, then it
 * is written one page at a time and read back. On Atlas, the "atlas:" lines
 * show the VM counters of /proc/vmstat (include/atlas/vmstat.h) moving: no
 * page resident after brk/mmap, one fault per page on first touch, none on
 * the second pass. Every other line is the same on any OS (the tests
 * compare them with a native run). */
#include <atlas/vmstat.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

#define STATIC_PAGES 4

/* Initialized data, a page apart: in the executable's file, paged in on first touch. */
static unsigned char data_pages[STATIC_PAGES * PAGE] __attribute__((aligned(PAGE))) = {
    [0] = 11, [PAGE] = 22, [2 * PAGE] = 33, [3 * PAGE] = 44,
};
/* Uninitialized data: not in the file, a zeroed page on first touch. */
static unsigned char bss_pages[STATIC_PAGES * PAGE] __attribute__((aligned(PAGE)));

static int atlas;
static struct atlas_vmstat before, now;

static long delta(const char *name) { return atlas_vmstat_get(&now, name) - atlas_vmstat_get(&before, name); }

/* Prints how the calling process's counters moved since the last call. */
static void report(const char *what) {
  if (!atlas) return;
  atlas_vmstat_read(&now);
  printf("atlas:   %s: %+ld zero-fill, %+ld minor, %+ld major faults; %ld pages resident\n", what,
         delta("self_zero_fill_faults"), delta("self_minor_faults"), delta("self_major_faults"),
         atlas_vmstat_get(&now, "self_pages_resident"));
  atlas_vmstat_read(&before);
}

static unsigned touch_all(const char *region, unsigned char *mem, int pages) {
  printf("demand: %s: writing one byte to each of %d pages, one page at a time\n", region, pages);
  for (int i = 0; i < pages; i++) {
    mem[i * PAGE + (i * 97) % PAGE] = (unsigned char)(i * 13 + 1);
    printf("demand: %s: page %d written\n", region, i);
    report("that write");
  }
  unsigned sum = 0;
  for (int i = 0; i < pages; i++)
    for (int j = 0; j < PAGE; j += 97) sum = sum * 31 + mem[i * PAGE + j] + mem[i * PAGE + (i * 97) % PAGE];
  printf("demand: %s: read back every page, checksum 0x%08x\n", region, sum);
  report("second pass over resident pages");
  return sum;
}

int main(int argc, char **argv) {
  int pages = argc > 1 ? atoi(argv[1]) : 8;
  if (pages < 1 || pages > 65536) {
    fprintf(stderr, "usage: demand [PAGES]  (1..65536)\n");
    return 2;
  }
  atlas = atlas_vmstat_read(&before) == 0;
  atlas_vmstat_read(&before); /* again, now that its buffer is resident */
  if (atlas) printf("atlas: /proc/vmstat is Atlas's: showing this process's fault counters\n");

  /* Data and bss: mapped by exec, but no page is there until touched. */
  unsigned sum = 0;
  printf("demand: data: reading %d pages of initialized data, one page at a time\n", STATIC_PAGES);
  for (int i = 0; i < STATIC_PAGES; i++) {
    sum = sum * 31 + ((volatile unsigned char *)data_pages)[i * PAGE];
    printf("demand: data: page %d read\n", i);
    report("that read");
  }
  printf("demand: bss: writing %d pages of bss, one page at a time\n", STATIC_PAGES);
  for (int i = 0; i < STATIC_PAGES; i++) {
    ((volatile unsigned char *)bss_pages)[i * PAGE + 1] = (unsigned char)(i + 1);
    sum = sum * 31 + bss_pages[i * PAGE] + bss_pages[i * PAGE + 1];
    printf("demand: bss: page %d written\n", i);
    report("that write");
  }
  printf("demand: data and bss: checksum 0x%08x\n", sum);

  /* The heap: brk(2) moves the break; no page is there until touched. */
  char *cur = sbrk(0);
  unsigned long pad = (PAGE - ((unsigned long)cur & (PAGE - 1))) & (PAGE - 1);
  unsigned char *heap = sbrk(pad + (unsigned long)pages * PAGE);
  if (heap == (void *)-1) {
    perror("demand: sbrk");
    return 1;
  }
  heap += pad;
  printf("demand: heap: grew the break by %d pages\n", pages);
  report("brk");
  unsigned a = touch_all("heap", heap, pages);

  /* Anonymous memory: mmap2(2), the same story. */
  unsigned char *anon = mmap(0, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (anon == MAP_FAILED) {
    perror("demand: mmap");
    return 1;
  }
  printf("demand: mmap: mapped %d anonymous pages\n", pages);
  report("mmap");
  unsigned b = touch_all("mmap", anon, pages);
  if (munmap(anon, (size_t)pages * PAGE) < 0) {
    perror("demand: munmap");
    return 1;
  }
  printf("demand: mmap: unmapped\n");
  report("munmap");
  printf("demand: done, checksum 0x%08x\n", (a ^ (b * 2654435761u)) + sum);
  return 0;
}
