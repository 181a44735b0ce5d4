/* belady [FRAMES...]: Belady's anomaly. Replays the classic reference string
 * 1 2 3 4 1 2 5 1 2 3 4 5 under FIFO replacement with each number of frames
 * (default 3 and 4), printing the frames after each reference: 9 faults with
 * 3 frames, 10 with 4. That simulation is the same on every OS.
 *
 * Then it replays the string for real on 5 fresh pages of anonymous memory
 * (page k for reference k) under a process-local frame limit of each number
 * of frames: setrlimit(RLIMIT_RSS), after mlockall(MCL_CURRENT) has locked
 * what it had touched before (code, stack, data: locked pages are not
 * counted in the limit), so the 5 pages are the only ones replaced. On Atlas
 * with policy=fifo the "atlas:" lines give the faults of each replay (the
 * self_ minor and major faults it took): 9 and 10, the anomaly in a real
 * kernel. Elsewhere the limit does nothing and only the checksums show. */
#include "memtest.h"
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

static const int refs[] = {1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5};
#define NREFS ((int)(sizeof refs / sizeof refs[0]))
#define MAXFRAMES 8

static int fifo(int frames, int verbose) {
  int frame[MAXFRAMES], next = 0, faults = 0;
  for (int f = 0; f < frames; f++) frame[f] = 0;
  if (verbose) printf("belady: FIFO with %d frames\n", frames);
  for (int r = 0; r < NREFS; r++) {
    int hit = 0;
    for (int f = 0; f < frames; f++) hit |= frame[f] == refs[r];
    if (!hit) {
      frame[next] = refs[r]; /* replace the page that came in first */
      next = (next + 1) % frames;
      faults++;
    }
    if (verbose) {
      char line[64];
      int n = snprintf(line, sizeof line, "belady:   ref %d: %-5s [", refs[r], hit ? "hit" : "FAULT");
      for (int f = 0; f < frames; f++) n += snprintf(line + n, sizeof line - n, f ? " %c" : "%c", frame[f] ? '0' + frame[f] : '-');
      printf("%s]\n", line);
    }
  }
  return faults;
}

static int faults(const struct atlas_vmstat *v) {
  return atlas_vmstat_get(v, "self_minor_faults") + atlas_vmstat_get(v, "self_major_faults");
}

/* Grows the stack deeper than the replay will, before mlockall locks it. */
static void __attribute__((noinline)) touch_stack(void) {
  volatile char pad[16 * 1024];
  for (unsigned i = 0; i < sizeof pad; i += PAGE / 2) pad[i] = 0;
}

int main(int argc, char **argv) {
  int counts[MAXFRAMES + 1], nframes[MAXFRAMES + 1], n = 0;
  for (int i = 1; i < argc && n <= MAXFRAMES; i++) nframes[n++] = atoi(argv[i]);
  if (argc == 1) nframes[n++] = 3, nframes[n++] = 4;
  for (int i = 0; i < n; i++)
    if (nframes[i] < 1 || nframes[i] > MAXFRAMES) {
      fprintf(stderr, "usage: belady [FRAMES...]   (1..%d each; default 3 4)\n", MAXFRAMES);
      return 2;
    }
  printf("belady: reference string");
  for (int r = 0; r < NREFS; r++) printf(" %d", refs[r]);
  printf("\n");
  for (int i = 0; i < n; i++) counts[i] = fifo(nframes[i], 1);
  for (int i = 0; i < n; i++) printf("belady: FIFO with %d frames: %d faults\n", nframes[i], counts[i]);
  for (int i = 1; i < n; i++)
    if (nframes[i] > nframes[i - 1] && counts[i] > counts[i - 1])
      printf("belady: %d frames fault more than %d: Belady's anomaly\n", nframes[i], nframes[i - 1]);

  /* The same string on real pages, under each frame limit. */
  static struct atlas_vmstat v0, v1;
  int atlas = atlas_vmstat_read(&v0) == 0 && atlas_vmstat_read(&v1) == 0; /* touches them and the reader's buffer */
  touch_stack();
  if (mlockall(MCL_CURRENT) < 0 && atlas) printf("atlas: mlockall: %s\n", strerror(errno));
  for (int i = 0; i < n; i++) {
    struct rlimit rl = {nframes[i] * PAGE, RLIM_INFINITY};
    if (setrlimit(RLIMIT_RSS, &rl) < 0 && atlas) printf("atlas: setrlimit(RLIMIT_RSS): %s\n", strerror(errno));
    unsigned char *mem = mmap(0, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      perror("belady: mmap");
      return 1;
    }
    atlas_vmstat_read(&v0);
    unsigned sum = 0;
    for (int r = 0; r < NREFS; r++) {
      volatile unsigned *w = (volatile unsigned *)(mem + (refs[r] - 1) * PAGE);
      *w += refs[r];
      sum = sum * 31 + *w;
    }
    atlas_vmstat_read(&v1);
    munmap(mem, 5 * PAGE);
    printf("belady: replayed the string on 5 pages with a limit of %d frames, checksum 0x%08x\n", nframes[i], sum);
    if (atlas) {
      counts[i] = faults(&v1) - faults(&v0);
      printf("atlas: FIFO replay with %d frames: %d faults\n", nframes[i], counts[i]);
    }
  }
  for (int i = 1; atlas && i < n; i++)
    if (nframes[i] > nframes[i - 1] && counts[i] > counts[i - 1])
      printf("atlas: the replay with %d frames faults more than with %d: Belady's anomaly\n", nframes[i], nframes[i - 1]);
  return 0;
}
