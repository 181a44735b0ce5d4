/* swapvar [SIZE]: a variable that lives through swapping, for the
 * debugger's watchpoints (test/debugger.test.ts, test/gdbstub.test.ts).
 * `generation.value` sits alone on its page of bss. It is set to 1, then SIZE
 * (default 6M) of anonymous memory is written, more than an Atlas machine
 * of 4 MiB holds, so the untouched page of `generation` is swapped out; then
 * it is incremented: the page comes back from swap, and a watchpoint on
 * `generation` stops at both writes. Prints the generation and a checksum
 * of the memory, the same on any OS. */
#include "memtest.h"
#include <sys/mman.h>

/* A whole page, so that nothing else the program touches shares it. */
volatile struct {
  unsigned value;
  unsigned char rest[PAGE - sizeof(unsigned)];
} generation __attribute__((aligned(PAGE)));

int main(int argc, char **argv) {
  unsigned long size = argc > 1 ? parse_size(argv[1]) : 6ul << 20;
  if (!size) {
    fprintf(stderr, "usage: swapvar [SIZE]   (SIZE: bytes, or with K, M, G)\n");
    return 2;
  }
  generation.value = 1;
  unsigned char *mem = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("swapvar: mmap");
    return 1;
  }
  unsigned sum = 0;
  for (unsigned long i = 0; i < size; i += PAGE) {
    mem[i] = (unsigned char)(i >> 12);
    sum = sum * 31 + mem[i];
  }
  generation.value = generation.value + 1;
  printf("swapvar: generation %u, checksum %08x\n", generation.value, sum);
  return generation.value == 2 ? 0 : 1;
}
