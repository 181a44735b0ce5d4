/*
 * sharedtext N [SECONDS]: N copies of one program at once, each started by
 * execve (so each is an independent image, not a fork sharing its parent's
 * pages), to show that their code lives in physical memory only once.
 *
 * The parent starts child 1 (fork, then execve of this program with
 * "--child 1 N SECONDS"); child K touches every page of its read-only
 * segments (the ELF program headers, which the first PT_LOAD maps at
 * __executable_start, say where they are: code, and read-only data), writes
 * its number into a data page of its own, prints
 *     sharedtext: child K ready (T text pages, R read-only data pages)
 * then starts child K+1 the same way, sleeps SECONDS (default 1), waits for
 * child K+1 and exits. So the ready lines come in the order 1..N on any OS,
 * and all N copies are alive together. The parent sleeps half of SECONDS,
 * reads /proc/vmstat and, on Atlas, prints
 *     atlas: N copies of P read-only pages: F frames hold them (file_frames went up by F), shared_frames S
 * where P = T + R and F is how much the page cache grew since the parent
 * started child 1: about P (the parent had only the pages it runs cached
 * already), not N x P. Then it waits for child 1 and says how the copies
 * ended.
 *
 * The code includes BLOB_PAGES pages that nothing runs (a block of `ret`
 * instructions): the children read them, the parent never does, so F
 * counts at least those pages once however many copies read them.
 *
 * test/sharing.test.ts stops the machine when the Nth ready line appears and
 * checks through the emulator's page walker that the children map the same
 * frames for their read-only pages and different ones for their data page.
 */
#include <atlas/vmstat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define BLOB_PAGES 24
#define MAXCOPIES 16
#define STR(x) #x
#define XSTR(x) STR(x)

/* Code only the children read (never run). */
__asm__(".section .text.sharedtext_blob,\"ax\",@progbits\n"
        ".globl sharedtext_blob\n"
        "sharedtext_blob:\n"
        ".fill " XSTR(BLOB_PAGES) "*4096,1,0xc3\n" /* BLOB_PAGES pages of ret */
        ".previous\n");

/* The ELF header, which the first PT_LOAD (file offset 0) maps here. */
extern const unsigned char __executable_start[];

/* In .data (initialised, so not bss): each child writes its number here, so
 * the page is a private copy in every child. */
volatile int child_number = -1;

struct phdr { unsigned type, offset, vaddr, paddr, filesz, memsz, flags, align; };
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2

/* Counts the pages of the read-only PT_LOAD segments, the executable ones in
 * *text and the others in *rodata; with touch, also reads one byte of each
 * (returning their sum, so that the reads happen). */
static unsigned readonly_pages(int touch, unsigned *text, unsigned *rodata) {
  const unsigned char *ehdr = __executable_start;
  unsigned phoff, sum = 0;
  unsigned short phentsize, phnum;
  memcpy(&phoff, ehdr + 28, 4);
  memcpy(&phentsize, ehdr + 42, 2);
  memcpy(&phnum, ehdr + 44, 2);
  *text = *rodata = 0;
  for (unsigned i = 0; i < phnum; i++) {
    struct phdr ph;
    memcpy(&ph, ehdr + phoff + i * phentsize, sizeof ph);
    if (ph.type != PT_LOAD || ph.memsz == 0 || (ph.flags & PF_W)) continue;
    unsigned first = ph.vaddr & ~(PAGE - 1), end = (ph.vaddr + ph.memsz + PAGE - 1) & ~(PAGE - 1);
    for (unsigned va = first; va < end; va += PAGE) {
      if (touch) sum += *(const volatile unsigned char *)(va > ph.vaddr ? va : ph.vaddr);
      if (ph.flags & PF_X) ++*text;
      else ++*rodata;
    }
  }
  return sum;
}

/* The path this program was started from: argv[0] if it has a '/', else the
 * first directory of $PATH (default /bin) that has it, as a shell finds it. */
static const char *self_path(const char *argv0) {
  static char path[256];
  if (strchr(argv0, '/')) return argv0;
  const char *dirs = getenv("PATH");
  if (!dirs) dirs = "/bin";
  while (*dirs) {
    const char *end = strchr(dirs, ':');
    int len = end ? (int)(end - dirs) : (int)strlen(dirs);
    snprintf(path, sizeof path, "%.*s/%s", len, dirs, argv0);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
      close(fd);
      return path;
    }
    dirs += len + (end != 0);
  }
  return argv0;
}

/* fork, then execve(self, "--child", K, N, SECONDS) in the new process. */
static int start_copy(const char *self, int k, int n, const char *seconds) {
  char ks[12], ns[12];
  snprintf(ks, sizeof ks, "%d", k);
  snprintf(ns, sizeof ns, "%d", n);
  char *argv[] = {(char *)self, "--child", ks, ns, (char *)seconds, NULL};
  char *envp[] = {NULL};
  int pid = fork();
  if (pid == 0) {
    execve(self, argv, envp);
    printf("sharedtext: copy %d: cannot execute %s\n", k, self);
    _exit(127);
  }
  if (pid < 0) printf("sharedtext: copy %d: cannot fork\n", k);
  return pid;
}

/* Waits for copy k; returns how many of copies k..n ended well (from its status). */
static int wait_copy(int pid, int k) {
  int st;
  if (pid <= 0) return 0;
  if (waitpid(pid, &st, 0) != pid) {
    printf("sharedtext: copy %d: waitpid failed\n", k);
    return 0;
  }
  if (WIFSIGNALED(st)) {
    printf("sharedtext: copy %d: killed by signal %d\n", k, WTERMSIG(st));
    return 0;
  }
  return WEXITSTATUS(st);
}

static int child(const char *self, int k, int n, int seconds, const char *secs) {
  unsigned text, rodata;
  readonly_pages(1, &text, &rodata);
  child_number = k;
  printf("sharedtext: child %d ready (%u text pages, %u read-only data pages)\n", k, text, rodata);
  int pid = k < n ? start_copy(self, k + 1, n, secs) : 0;
  struct timespec t = {seconds, 0};
  nanosleep(&t, 0);
  int below = k < n ? wait_copy(pid, k + 1) : 0;
  return below + (child_number == k); /* its data page still holds its own number */
}

int main(int argc, char **argv) {
  if (argc == 5 && !strcmp(argv[1], "--child")) {
    int k = atoi(argv[2]), n = atoi(argv[3]), s = atoi(argv[4]);
    return child(argv[0], k, n, s, argv[4]);
  }
  int n = argc > 1 ? atoi(argv[1]) : 0;
  int seconds = argc > 2 ? atoi(argv[2]) : 1;
  if (argc > 3 || n < 1 || n > MAXCOPIES || seconds < 1 || seconds > 60) {
    fprintf(stderr, "usage: sharedtext N [SECONDS]   (N: 1..%d copies, SECONDS: 1..60)\n", MAXCOPIES);
    return 2;
  }
  char secs[12];
  snprintf(secs, sizeof secs, "%d", seconds);
  printf("sharedtext: %d cop%s of this program, %d s each\n", n, n == 1 ? "y" : "ies", seconds);
  static struct atlas_vmstat v0, v1;
  atlas_vmstat_read(&v0);
  int pid = start_copy(self_path(argv[0]), 1, n, secs);
  struct timespec half = {seconds / 2, seconds % 2 * 500000000L};
  nanosleep(&half, 0);
  if (atlas_vmstat_read(&v1) == 0 && v0.count) {
    unsigned text, rodata;
    readonly_pages(0, &text, &rodata); /* the parent only counts: it must not bring pages in */
    long f0 = atlas_vmstat_get(&v0, "file_frames"), f1 = atlas_vmstat_get(&v1, "file_frames");
    long shared = atlas_vmstat_get(&v1, "shared_frames");
    if (f0 >= 0 && f1 >= 0 && shared >= 0)
      printf("atlas: %d copies of %u read-only pages: %ld frames hold them (file_frames went up by %ld), shared_frames %ld\n",
             n, text + rodata, f1 - f0, f1 - f0, shared);
    else
      printf("atlas: the kernel has no file_frames/shared_frames counters\n");
  }
  int ok = wait_copy(pid, 1);
  printf("sharedtext: %d of %d copies ran and kept their own data page\n", ok, n);
  return ok == n ? 0 : 1;
}
