/* belady [FRAMES...]: Belady's anomaly. Replays the classic reference string
 * 1 2 3 4 1 2 5 1 2 3 4 5 under FIFO replacement with each number of frames
 * (default 3 and 4), printing the frames after each reference: 9 faults with
 * 3 frames, 10 with 4. That simulation is the same on every OS.
 *
 * Then it replays the string for real on 5 pages of anonymous memory (page
 * k for reference k), so a kernel that runs it under FIFO with a
 * process-local frame limit shows the same anomaly in its own counters: the
 * "atlas:" line gives the faults the replay took (how the kernel sets the
 * limit is the kernel's business, e.g. its command line). */
#include "memtest.h"
#include <sys/mman.h>

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

  /* The same string on real pages. */
  unsigned char *mem = mmap(0, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("belady: mmap");
    return 1;
  }
  struct atlas_vmstat v0, v1;
  atlas_vmstat_read(&v0);
  unsigned sum = 0;
  for (int r = 0; r < NREFS; r++) {
    volatile unsigned *w = (volatile unsigned *)(mem + (refs[r] - 1) * PAGE);
    *w += refs[r];
    sum = sum * 31 + *w;
  }
  atlas_vmstat_read(&v1);
  printf("belady: replayed the string on 5 pages, checksum 0x%08x\n", sum);
  atlas_report("the replay", "self_", &v0, &v1);
  return 0;
}
