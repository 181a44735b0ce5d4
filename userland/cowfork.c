/*
 * cowfork [PAGES] [CHILD_WRITES] [crash]: copy-on-write after fork, counted.
 *
 * Maps PAGES (default 256) anonymous pages and fills them with pattern seed
 * 1, then forks. The child writes CHILD_WRITES (default 8) of the pages
 * (evenly spread) with pattern seed 2, checks every page (its own writes
 * there, the parent's pattern everywhere else), prints
 *     cowfork: child: verified PAGES pages, checksum 0x...
 *     atlas: child: pages copied C, cow faults F, reused R
 * and exits. With "crash", the child dereferences NULL right after its
 * writes instead (killed by SIGSEGV while it still shares every page it did
 * not write). The parent waits for the child, checks that every page still
 * holds its own pattern (nothing the child did reached it), then writes
 * every page with pattern seed 3, checks them, and prints
 *     cowfork: parent: the child exited with status 0   (or: was killed by signal 11)
 *     cowfork: parent: verified PAGES pages after the child, checksum 0x...
 *     cowfork: parent: rewrote and verified PAGES pages, checksum 0x...
 *     atlas: parent: pages copied C, cow faults F, reused R
 * The checksums depend only on the arguments, so the native run is the
 * oracle.
 *
 * The atlas: numbers are the self_cow_faults, self_pages_copied and
 * self_cow_reused deltas over a window that holds nothing but the writes to
 * the buffer (and reads): before the window each process writes once every
 * page it writes in the window apart from the buffer (the static vmstat
 * structures, the reader's static buffer, the stack the reader runs on) by
 * reading /proc/vmstat into both structures, so those are private already.
 * With copy-on-write as issue 7 specifies, the child (the parent still
 * alive, asleep in waitpid) copies exactly CHILD_WRITES pages, and the
 * parent, writing after the child has gone, finds no other sharer on any
 * page: PAGES cow faults, 0 copies, PAGES reused.
 */
#include "memtest.h"
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEED_PARENT 1
#define SEED_CHILD 2
#define SEED_REWRITE 3

static struct atlas_vmstat before, after;

/* Writes the 8 KiB of stack below the caller's frame (the reader and
 * printf need less), so that no stack page written in the window is still
 * shared with the other process. */
static void __attribute__((noinline)) touch_stack(void) {
  volatile unsigned char pad[8192];
  for (unsigned i = 0; i < sizeof pad; i += 256) pad[i] = 0;
}

/* The warm-up (see above), then `before`. */
static void window_start(void) {
  touch_stack();
  atlas_vmstat_read(&after);
  atlas_vmstat_read(&before);
  atlas_vmstat_read(&before);
}

static void window_report(const char *who) {
  if (atlas_vmstat_read(&after) != 0 || !before.count) return;
  long c0 = atlas_vmstat_get(&before, "self_pages_copied"), c1 = atlas_vmstat_get(&after, "self_pages_copied");
  long f0 = atlas_vmstat_get(&before, "self_cow_faults"), f1 = atlas_vmstat_get(&after, "self_cow_faults");
  long r0 = atlas_vmstat_get(&before, "self_cow_reused"), r1 = atlas_vmstat_get(&after, "self_cow_reused");
  if (c0 < 0 || c1 < 0 || f0 < 0 || f1 < 0 || r0 < 0 || r1 < 0)
    printf("atlas: %s: the kernel has no self_cow_faults/self_pages_copied/self_cow_reused counters\n", who);
  else
    printf("atlas: %s: pages copied %ld, cow faults %ld, reused %ld\n", who, c1 - c0, f1 - f0, r1 - r0);
}

/* Is page p one of the `writes` pages the child writes? (Spread evenly.) */
static int child_writes(unsigned p, unsigned pages, unsigned writes) {
  return writes && (unsigned long)p * writes % pages < writes;
}

/* Checks every page against `seed`, or SEED_CHILD on the child's pages when `child_pages`; counts wrong words. */
static unsigned long check_all(unsigned char *mem, unsigned pages, unsigned writes, int child_pages, unsigned seed,
                               unsigned *sum) {
  unsigned long bad = 0;
  *sum = 0;
  for (unsigned p = 0; p < pages; p++) {
    unsigned s = child_pages && child_writes(p, pages, writes) ? SEED_CHILD : seed;
    bad += check_page((unsigned *)(mem + (unsigned long)p * PAGE), s, p, sum);
  }
  return bad;
}

int main(int argc, char **argv) {
  long pages = argc > 1 ? atol(argv[1]) : 256;
  long writes = argc > 2 ? atol(argv[2]) : 8;
  int crash = argc > 3 && !strcmp(argv[3], "crash");
  if (argc > 4 || (argc > 3 && !crash) || pages < 1 || pages > 262144 || writes < 0 || writes > pages) {
    fprintf(stderr, "usage: cowfork [PAGES] [CHILD_WRITES] [crash]   (PAGES: 1..262144, CHILD_WRITES: 0..PAGES)\n");
    return 2;
  }
  unsigned n = pages, w = writes;
  printf("cowfork: %u pages, the child writes %u of them%s\n", n, w, crash ? " and crashes" : "");
  unsigned char *mem = mmap(0, (unsigned long)n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    printf("cowfork: cannot map %u pages\n", n);
    return 1;
  }
  for (unsigned p = 0; p < n; p++) fill_page((unsigned *)(mem + (unsigned long)p * PAGE), SEED_PARENT, p);
  atlas_vmstat_read(&before); /* touched once before fork: the child's warm-up then has little to copy */
  atlas_vmstat_read(&after);

  int pid = fork();
  if (pid < 0) {
    printf("cowfork: cannot fork\n");
    return 1;
  }
  if (pid == 0) {
    window_start();
    for (unsigned p = 0; p < n; p++)
      if (child_writes(p, n, w)) fill_page((unsigned *)(mem + (unsigned long)p * PAGE), SEED_CHILD, p);
    if (crash) *(volatile int *)0 = 1; /* killed here, sharing every page it did not write */
    unsigned sum;
    unsigned long bad = check_all(mem, n, w, 1, SEED_PARENT, &sum);
    window_report("child");
    if (bad) printf("cowfork: child: %lu wrong words, checksum 0x%08x, MEMORY CORRUPTED\n", bad, sum);
    else printf("cowfork: child: verified %u pages, checksum 0x%08x\n", n, sum);
    _exit(bad ? 1 : 0);
  }

  int st, ok = 1;
  if (waitpid(pid, &st, 0) != pid) {
    printf("cowfork: parent: waitpid failed\n");
    return 1;
  }
  if (WIFSIGNALED(st)) {
    printf("cowfork: parent: the child was killed by signal %d\n", WTERMSIG(st));
    ok = crash && WTERMSIG(st) == 11;
  } else {
    printf("cowfork: parent: the child exited with status %d\n", WEXITSTATUS(st));
    ok = !crash && WEXITSTATUS(st) == 0;
  }
  window_start();
  unsigned sum;
  unsigned long bad = check_all(mem, n, w, 0, SEED_PARENT, &sum);
  if (bad) printf("cowfork: parent: %lu wrong words after the child, checksum 0x%08x, MEMORY CORRUPTED\n", bad, sum);
  else printf("cowfork: parent: verified %u pages after the child, checksum 0x%08x\n", n, sum);
  ok = ok && !bad;
  for (unsigned p = 0; p < n; p++) fill_page((unsigned *)(mem + (unsigned long)p * PAGE), SEED_REWRITE, p);
  bad = check_all(mem, n, w, 0, SEED_REWRITE, &sum);
  window_report("parent");
  if (bad) printf("cowfork: parent: %lu wrong words after rewriting, checksum 0x%08x, MEMORY CORRUPTED\n", bad, sum);
  else printf("cowfork: parent: rewrote and verified %u pages, checksum 0x%08x\n", n, sum);
  ok = ok && !bad;
  printf("cowfork: %s\n", ok ? "every page verified" : "FAILED");
  return ok ? 0 : 1;
}
