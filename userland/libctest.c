/* libctest: exercises the libc (printf formats, string functions, 64-bit
 * division, malloc/free/realloc on brk and mmap) and prints results the
 * tests check; every line is the same on any OS. Exit status 0 if all the
 * self-checks pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what) {
  if (!ok) {
    printf("FAIL %s\n", what);
    failures++;
  }
}

int main(void) {
  char buf[128];
  printf("[%d] [%5d] [%-5d] [%05d] [%+d] [%i]\n", -42, 42, 42, -42, 7, 0);
  printf("[%u] [%x] [%X] [%08x] [%o] [%#x]\n", 4294967295u, 0xbeefu, 0xbeefu, 0x1234u, 8u, 255u);
  printf("[%ld] [%lu] [%lx] [%lld] [%llu] [%llx]\n", -2147483647L - 1, 4000000000UL, 0xdeadbeefUL,
         -9000000000000000000LL, 18446744073709551615ULL, 0x0123456789abcdefULL);
  printf("[%s] [%8s] [%-8s] [%.3s] [%c] [%%] [%p] [%*d]\n", "str", "right", "left", "truncate", 'x',
         (void *)0x1000, 4, 9);
  int n = snprintf(buf, 8, "%s", "0123456789");
  printf("snprintf truncates: [%s] returns %d\n", buf, n);

  unsigned long long big = 0xfedcba9876543210ULL;
  long long neg = -1234567890123LL;
  printf("64-bit division: %llu %llu %lld %lld\n", big / 1000000007ULL, big % 1000000007ULL, neg / 1000LL,
         neg % 1000LL);

  check(strlen("hello") == 5, "strlen");
  check(strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0 && !strcmp("x", "x"), "strcmp");
  check(!strncmp("abcdef", "abcxyz", 3), "strncmp");
  const char *hello = "hello";
  check(strchr(hello, 'l') == hello + 2 && strchr(hello, 0) == hello + 5 && !strchr(hello, 'q'), "strchr");
  check(strrchr("a/b/c", '/') != 0 && strrchr("a/b/c", '/')[1] == 'c', "strrchr");
  check(strstr("paging and swapping", "swap") != 0, "strstr");
  memset(buf, 'z', 10);
  memmove(buf + 2, buf, 5);
  check(!memcmp(buf, "zzzzzzzzzz", 10), "memset/memmove");
  strcpy(buf, "over");
  memmove(buf + 1, buf, 5);
  check(!strcmp(buf, "oover"), "memmove overlapping");
  check(strtol("-0x1f", 0, 0) == -31 && atoi("123abc") == 123 && strtoul("777", 0, 8) == 511, "strtol");

  /* malloc: many small blocks, freed in a scrambled order, then reused. */
  enum { N = 500 };
  static unsigned char *blocks[N];
  for (int i = 0; i < N; i++) {
    blocks[i] = malloc(1 + (i * 37) % 300);
    check(blocks[i] && ((unsigned long)blocks[i] & 15) == 0, "malloc small, 16-byte aligned");
    memset(blocks[i], i & 0xff, 1 + (i * 37) % 300);
  }
  int intact = 1;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < 1 + (i * 37) % 300; j++) intact &= blocks[i][j] == (i & 0xff);
  check(intact, "small blocks keep their contents");
  for (int i = 0; i < N; i++) free(blocks[(i * 7) % N]);
  void *again = malloc(100000);
  check(again != 0, "malloc after frees");
  free(again);
  /* Large blocks come from mmap and go back with munmap. */
  for (int round = 0; round < 4; round++) {
    unsigned char *large = malloc(1 << 20);
    check(large != 0, "malloc 1 MiB");
    if (large) {
      large[0] = 1, large[(1 << 20) - 1] = 2;
      free(large);
    }
  }
  char *s = strdup("grow me");
  s = realloc(s, 4000);
  check(s && !strcmp(s, "grow me"), "realloc keeps the contents");
  free(s);
  int *zeros = calloc(1000, sizeof(int));
  int allzero = zeros != 0;
  for (int i = 0; allzero && i < 1000; i++) allzero = zeros[i] == 0;
  check(allzero, "calloc zeroes");
  free(zeros);
  check(malloc(0xfffffff0u) == 0, "absurd malloc fails");

  printf("libctest: %s\n", failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
