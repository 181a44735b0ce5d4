/* malloc/free: first fit over an address-ordered free list, on memory from
 * brk(2) (grown in 64 KiB steps); blocks of MMAP_MIN or more get their own
 * anonymous mmap2(2) mapping and go back with munmap(2). Every block has a
 * 16-byte header, so user pointers are 16-byte aligned. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HDR 16u
#define MMAP_MIN (128u * 1024)
#define GROW (64u * 1024)
#define MAGIC_USED 0xA11C0000u
#define MAGIC_FREE 0xF4EE0000u
#define MAGIC_MMAP 0x3A3A0000u

struct block {
  size_t size;          /* whole block, header included, multiple of 16 */
  unsigned magic;
  struct block *next;   /* free list only */
  unsigned pad;
};

static struct block *free_list;

static void insert_free(struct block *b) {
  struct block **pp = &free_list;
  while (*pp && *pp < b) pp = &(*pp)->next;
  b->magic = MAGIC_FREE;
  b->next = *pp;
  *pp = b;
  /* Merge with the next block, then with the previous one. */
  if (b->next && (char *)b + b->size == (char *)b->next) {
    b->size += b->next->size;
    b->next = b->next->next;
  }
  if (pp != &free_list) {
    struct block *prev = (struct block *)((char *)pp - offsetof(struct block, next));
    if ((char *)prev + prev->size == (char *)b) {
      prev->size += b->size;
      prev->next = b->next;
    }
  }
}

void *malloc(size_t n) {
  if (n > 0x7fffffffu - 2 * 4096) {
    errno = ENOMEM;
    return 0;
  }
  size_t need = (n + HDR + 15) & ~15u;
  if (need >= MMAP_MIN) {
    size_t len = (need + 4095) & ~4095u;
    struct block *b = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED) return 0;
    b->size = len;
    b->magic = MAGIC_MMAP;
    return (char *)b + HDR;
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    for (struct block **pp = &free_list; *pp; pp = &(*pp)->next) {
      struct block *b = *pp;
      if (b->size < need) continue;
      if (b->size - need >= 2 * HDR) {
        struct block *rest = (struct block *)((char *)b + need);
        rest->size = b->size - need;
        rest->magic = MAGIC_FREE;
        rest->next = b->next;
        *pp = rest;
        b->size = need;
      } else {
        *pp = b->next;
      }
      b->magic = MAGIC_USED;
      return (char *)b + HDR;
    }
    /* Nothing fits: grow the heap (aligning the first block to 16 bytes). */
    char *cur = sbrk(0);
    if (cur == (char *)-1) return 0;
    size_t align = (16 - ((uintptr_t)cur & 15)) & 15;
    size_t grow = (need + align + GROW - 1) & ~(GROW - 1);
    char *p = sbrk(grow);
    if (p == (char *)-1) return 0;
    struct block *b = (struct block *)(p + align);
    b->size = (grow - align) & ~15u;
    insert_free(b);
  }
  errno = ENOMEM;
  return 0;
}

void free(void *p) {
  if (!p) return;
  struct block *b = (struct block *)((char *)p - HDR);
  if (b->magic == MAGIC_MMAP) {
    munmap(b, b->size);
    return;
  }
  if (b->magic != MAGIC_USED) abort(); /* double free or a wild pointer */
  insert_free(b);
}

void *calloc(size_t n, size_t size) {
  if (size && n > 0xffffffffu / size) {
    errno = ENOMEM;
    return 0;
  }
  void *p = malloc(n * size);
  if (p) memset(p, 0, n * size);
  return p;
}

void *realloc(void *p, size_t n) {
  if (!p) return malloc(n);
  struct block *b = (struct block *)((char *)p - HDR);
  size_t have = b->size - HDR;
  if (n <= have) return p;
  void *q = malloc(n);
  if (!q) return 0;
  memcpy(q, p, have);
  free(p);
  return q;
}
