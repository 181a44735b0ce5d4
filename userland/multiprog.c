/* multiprog N [SIZE] [PASSES] [THINK]: N memory-hungry processes at once.
 * Process i (1..N) maps SIZE (default 1M) of anonymous memory, fills it
 * with its own pattern (seed i), then sweeps it PASSES times (default 4),
 * checking every word, and sleeping THINK milliseconds (default 0) after
 * each sweep, as a job that waits for a terminal or a device between bursts
 * of computing; then it prints its checksum: the same as on any OS when no page
 * was lost. The processes are a chain (the parent forks process N, which
 * forks N-1 before its work, and so on), and each prints its line after the
 * one it forked has ended, so the lines come in the order 1..N whatever the
 * scheduling. Run for N = 1..8 on Atlas with little RAM, the "atlas:" lines
 * show the faults, and the CPU utilisation when the kernel counts busy and
 * idle time. With a think time, that is Denning's thrashing curve: one
 * process leaves the CPU idle while it sleeps, more processes fill those
 * gaps (utilisation rises with N), until their memory no longer fits and
 * they wait for the paging disk instead (utilisation collapses). */
#include "memtest.h"
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXPROCS 64

/* Process i's memory test: 0 if every word was right, 1 if not, 3 if it
 * could not map its memory; *sum is the last pass's checksum. */
static int test_memory(unsigned seed, unsigned long size, int passes, int think_ms, unsigned *sum) {
  struct timespec think = {think_ms / 1000, think_ms % 1000 * 1000000L};
  unsigned pages = size / PAGE;
  unsigned char *mem = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 3;
  for (unsigned p = 0; p < pages; p++) fill_page((unsigned *)(mem + (unsigned long)p * PAGE), seed, p);
  unsigned long bad = 0;
  for (int pass = 0; pass < passes; pass++) {
    *sum = 0;
    for (unsigned p = 0; p < pages; p++) bad += check_page((unsigned *)(mem + (unsigned long)p * PAGE), seed, p, sum);
    if (think_ms) nanosleep(&think, 0);
  }
  return bad ? 1 : 0;
}

/* Process i: forks process i-1, tests its memory, waits for i-1 and prints
 * its line. Returns how many of processes 1..i verified their memory. */
static int process(int i, unsigned long size, int passes, int think_ms) {
  int pid = 0, below = 0, st;
  if (i > 1 && (pid = fork()) == 0) _exit(process(i - 1, size, passes, think_ms));
  if (pid < 0) printf("multiprog: process %d: cannot fork process %d: %s\n", i, i - 1, strerror(errno));
  unsigned sum = 0;
  int r = test_memory(i, size, passes, think_ms, &sum);
  if (pid > 0 && waitpid(pid, &st, 0) == pid) {
    if (WIFSIGNALED(st)) printf("multiprog: process %d: killed by signal %d\n", i - 1, WTERMSIG(st));
    else below = WEXITSTATUS(st);
  }
  if (r == 0) printf("multiprog: process %d: checksum 0x%08x, every word verified\n", i, sum);
  else if (r == 3) printf("multiprog: process %d: could not map its memory\n", i);
  else printf("multiprog: process %d: checksum 0x%08x, MEMORY CORRUPTED\n", i, sum);
  return below + (r == 0);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  unsigned long size = argc > 2 ? parse_size(argv[2]) : 1ul << 20;
  int passes = argc > 3 ? atoi(argv[3]) : 4;
  int think_ms = argc > 4 ? atoi(argv[4]) : 0;
  if (n < 1 || n > MAXPROCS || !size || passes < 1 || think_ms < 0 || think_ms > 60000) {
    fprintf(stderr, "usage: multiprog N [SIZE] [PASSES] [THINK]   (N: 1..%d; SIZE: bytes, or with K, M, G; THINK: ms)\n",
            MAXPROCS);
    return 2;
  }
  printf("multiprog: %d process%s of %lu KiB each, %d pass%s, %d ms of think time after each\n", n, n == 1 ? "" : "es",
         size / 1024, passes, passes == 1 ? "" : "es", think_ms);
  struct atlas_vmstat v0, v1;
  atlas_vmstat_read(&v0);
  int ok = 0, st, pid = fork();
  if (pid == 0) _exit(process(n, size, passes, think_ms));
  if (pid < 0 || waitpid(pid, &st, 0) != pid) {
    perror("multiprog: fork/wait");
    return 1;
  }
  if (WIFSIGNALED(st)) printf("multiprog: process %d: killed by signal %d\n", n, WTERMSIG(st));
  else ok = WEXITSTATUS(st);
  if (atlas_vmstat_read(&v1) == 0 && v0.count) {
    atlas_report("all processes", "", &v0, &v1);
    long busy = atlas_vmstat_get(&v1, "ticks_busy") - atlas_vmstat_get(&v0, "ticks_busy");
    long idle = atlas_vmstat_get(&v1, "ticks_idle") - atlas_vmstat_get(&v0, "ticks_idle");
    long iowait = atlas_vmstat_get(&v1, "ticks_iowait") - atlas_vmstat_get(&v0, "ticks_iowait");
    if (atlas_vmstat_get(&v1, "ticks_busy") >= 0 && busy + idle + iowait > 0)
      printf("atlas: CPU utilisation %ld%% (%ld ticks busy, %ld waiting for I/O, %ld idle)\n",
             busy * 100 / (busy + idle + iowait), busy, iowait, idle);
  }
  printf("multiprog: %d of %d processes verified their memory\n", ok, n);
  return ok == n ? 0 : 1;
}
