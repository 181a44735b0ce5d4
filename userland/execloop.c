/*
 * execloop N: N exec-and-exit round trips. Each forks a child that execs
 * this program again with "-x" (which exits at once), and waits for it: the
 * cost of creating a process, loading an executable and tearing both down,
 * which `npm run bench` measures on Atlas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-x") == 0) return 7;
  int n = argc > 1 ? atoi(argv[1]) : 100;
  char *child_argv[] = { argv[0], "-x", NULL };
  char *envp[] = { NULL };
  for (int i = 0; i < n; i++) {
    int pid = fork();
    if (pid < 0) { printf("execloop: fork failed at round %d\n", i); return 1; }
    if (pid == 0) {
      execve(argv[0], child_argv, envp);
      _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 7) {
      printf("execloop: round %d: the child did not exit with 7 (status %d)\n", i, status);
      return 1;
    }
  }
  printf("execloop: %d exec-and-exit round trips\n", n);
  return 0;
}
