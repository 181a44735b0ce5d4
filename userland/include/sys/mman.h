#ifndef _SYS_MMAN_H
#define _SYS_MMAN_H
#include <sys/types.h>
#define PROT_NONE  0
#define PROT_READ  1
#define PROT_WRITE 2
#define PROT_EXEC  4
#define MAP_SHARED    0x01
#define MAP_PRIVATE   0x02
#define MAP_FIXED     0x10
#define MAP_ANONYMOUS 0x20
#define MAP_ANON MAP_ANONYMOUS
#define MAP_FAILED ((void *)-1)
/* mmap2 (192): the offset is in 4096-byte pages. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset);
int munmap(void *addr, size_t len);
/* mlockall (152): lock the pages mapped now (MCL_CURRENT) and/or those
 * mapped later (MCL_FUTURE) in memory; munlockall (153) undoes it. */
#define MCL_CURRENT 1
#define MCL_FUTURE  2
int mlockall(int flags);
int munlockall(void);
#endif
