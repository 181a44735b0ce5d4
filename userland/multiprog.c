/* multiprog N [SIZE] [PASSES]: N memory-hungry processes at once. Forks N
 * children; child i maps SIZE (default 1M) of anonymous memory, fills it
 * with its own pattern, then sweeps it PASSES times (default 4), checking
 * every word, and exits 0 if all were right. The parent waits for them all
 * and reports each in order. Run for N = 1..8 on Atlas with little RAM, the
 * "atlas:" line shows the faults, and the CPU utilisation when the kernel
 * counts busy/idle time (Denning's thrashing curve: utilisation rises with N,
 * then collapses). */
#include "memtest.h"
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXPROCS 64

static int child(unsigned seed, unsigned long size, int passes) {
  unsigned pages = size / PAGE;
  unsigned char *mem = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 3;
  for (unsigned p = 0; p < pages; p++) fill_page((unsigned *)(mem + (unsigned long)p * PAGE), seed, p);
  unsigned long bad = 0;
  for (int pass = 0; pass < passes; pass++) {
    unsigned sum = 0;
    for (unsigned p = 0; p < pages; p++) bad += check_page((unsigned *)(mem + (unsigned long)p * PAGE), seed, p, &sum);
  }
  return bad ? 1 : 0;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  unsigned long size = argc > 2 ? parse_size(argv[2]) : 1ul << 20;
  int passes = argc > 3 ? atoi(argv[3]) : 4;
  if (n < 1 || n > MAXPROCS || !size || passes < 1) {
    fprintf(stderr, "usage: multiprog N [SIZE] [PASSES]   (N: 1..%d; SIZE: bytes, or with K, M, G)\n", MAXPROCS);
    return 2;
  }
  printf("multiprog: %d processes of %lu KiB each, %d passes\n", n, size / 1024, passes);
  struct atlas_vmstat v0, v1;
  atlas_vmstat_read(&v0);
  int pids[MAXPROCS], status[MAXPROCS];
  for (int i = 0; i < n; i++) {
    pids[i] = fork();
    if (pids[i] < 0) {
      printf("multiprog: fork %d: %s\n", i + 1, strerror(errno));
      n = i;
      break;
    }
    if (pids[i] == 0) _exit(child(i + 1, size, passes));
  }
  for (int done = 0; done < n; done++) {
    int st, pid = wait(&st);
    if (pid < 0) {
      perror("multiprog: wait");
      return 1;
    }
    for (int i = 0; i < n; i++)
      if (pids[i] == pid) status[i] = st;
  }
  int ok = 0;
  for (int i = 0; i < n; i++) {
    int st = status[i];
    if (WIFSIGNALED(st)) printf("multiprog: process %d: killed by signal %d\n", i + 1, WTERMSIG(st));
    else if (WEXITSTATUS(st) == 0) printf("multiprog: process %d: every word verified\n", i + 1), ok++;
    else if (WEXITSTATUS(st) == 3) printf("multiprog: process %d: could not map its memory\n", i + 1);
    else printf("multiprog: process %d: MEMORY CORRUPTED\n", i + 1);
  }
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
