/* segv: each kind of illegal memory access, in a child process of its own.
 * The parent waits for each child and reports how it died; every one should
 * be killed by SIGSEGV (signal 11), on Atlas as on Linux. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char _end[]; /* the linker's end of the bss */

#define KERNEL_DATA 0xC0000000u /* the first byte of the higher-half kernel */
#define KERNEL_CODE 0xC0100000u /* where the kernel's code would be */

static unsigned long beyond_end(void) {
  /* One MiB past the page holding the end of the bss: nothing is mapped there. */
  return (((unsigned long)_end + 4095) & ~4095ul) + 0x100000;
}

static void null_read(void) { (void)*(volatile int *)0; }
static void write_text(void) { *(volatile unsigned char *)(unsigned long)&null_read = 0xC3; }
static void read_kernel(void) { (void)*(volatile int *)KERNEL_DATA; }
static void exec_beyond(void) { ((void (*)(void))beyond_end())(); }
static void jump_kernel(void) { ((void (*)(void))KERNEL_CODE)(); }

struct kind {
  const char *name;
  void (*run)(void);
  unsigned long addr;
};

int main(void) {
  struct kind kinds[] = {
      {"null read", null_read, 0},
      {"write to text", write_text, (unsigned long)&null_read},
      {"read kernel memory", read_kernel, KERNEL_DATA},
      {"execute beyond the mapped area", exec_beyond, beyond_end()},
      {"jump to a kernel address", jump_kernel, KERNEL_CODE},
  };
  int n = sizeof kinds / sizeof kinds[0], segvs = 0;
  for (int i = 0; i < n; i++) {
    printf("segv: %s at 0x%08lx\n", kinds[i].name, kinds[i].addr);
    int pid = fork();
    if (pid < 0) {
      perror("segv: fork");
      return 1;
    }
    if (pid == 0) {
      kinds[i].run();
      printf("segv: %s: the child survived!\n", kinds[i].name);
      _exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) {
      perror("segv: waitpid");
      return 1;
    }
    if (WIFSIGNALED(status)) {
      int sig = WTERMSIG(status);
      printf("segv: %s: child killed by signal %d%s\n", kinds[i].name, sig,
             sig == SIGSEGV ? " (SIGSEGV)" : "");
      segvs += sig == SIGSEGV;
    } else {
      printf("segv: %s: child exited with status %d\n", kinds[i].name, WEXITSTATUS(status));
    }
  }
  printf("segv: %d of %d children killed by SIGSEGV\n", segvs, n);
  return segvs == n ? 0 : 1;
}
