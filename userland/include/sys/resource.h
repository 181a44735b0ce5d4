#ifndef _SYS_RESOURCE_H
#define _SYS_RESOURCE_H
/* Resource limits, as Linux i386 numbers them. Atlas enforces RLIMIT_RSS:
 * a limit on the process's pageable resident pages (in bytes), kept by
 * replacing its own pages under the current policy. */
typedef unsigned long rlim_t;
struct rlimit {
  rlim_t rlim_cur; /* the soft limit: the one enforced */
  rlim_t rlim_max; /* the ceiling for rlim_cur */
};
#define RLIM_INFINITY (~0UL)
#define RLIMIT_CPU     0
#define RLIMIT_FSIZE   1
#define RLIMIT_DATA    2
#define RLIMIT_STACK   3
#define RLIMIT_CORE    4
#define RLIMIT_RSS     5
#define RLIMIT_NPROC   6
#define RLIMIT_NOFILE  7
#define RLIMIT_MEMLOCK 8
#define RLIMIT_AS      9
int getrlimit(int resource, struct rlimit *rlim); /* ugetrlimit (191) */
int setrlimit(int resource, const struct rlimit *rlim); /* setrlimit (75) */
#endif
