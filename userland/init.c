/* init [ROOT]: the first user process. Runs the demo script below, each
 * program in a child (fork, execve, waitpid), printing a "== ... ==" header
 * before each and how it ended after, then exits: on Atlas, init's exit
 * powers the machine off, with init's status (0 when every program ended as
 * expected, else the number that did not).
 *
 * Paths are those of the root image (disk-images/README.md). ROOT, if
 * given, is put in front of every absolute path, so the demo also runs on
 * another OS from an unpacked root image (`init build/rootfs`). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Each step: the argument vector (argv[0] is the program's path). */
static const char *const script[][6] = {
    {"/bin/hello"},
    {"/bin/echo", "echo", "echoes", "its", "arguments"},
    {"/bin/cat", "/etc/motd"},
    {"/bin/demand"},
    {"/bin/stackgrow"},
    {"/bin/segv"},
    {"/bin/sh", "/etc/demo.sh"},
    {"/bin/vmstat"},
};

static const char *root = "";

static char *rooted(const char *path, char *buf, int size) {
  if (path[0] != '/' || !*root) return (char *)path;
  snprintf(buf, size, "%s%s", root, path);
  return buf;
}

int main(int argc, char **argv) {
  if (argc > 1) root = argv[1];
  /* The environment of every program: PATH for the shell. */
  static char pathvar[256];
  snprintf(pathvar, sizeof pathvar, "PATH=%s/bin", root);
  char *envp[] = {pathvar, 0};
  int steps = sizeof script / sizeof script[0], failed = 0;
  printf("init: running the demo (%d programs)\n", steps);
  for (int s = 0; s < steps; s++) {
    static char bufs[6][256];
    char *args[7];
    int n = 0;
    for (; n < 6 && script[s][n]; n++) args[n] = rooted(script[s][n], bufs[n], sizeof bufs[n]);
    args[n] = 0;
    printf("\n== %s", script[s][0]);
    for (int i = 1; i < n; i++) printf(" %s", script[s][i]);
    printf(" ==\n");
    int pid = fork();
    if (pid < 0) {
      printf("init: fork: %s\n", strerror(errno));
      failed++;
      continue;
    }
    if (pid == 0) {
      execve(args[0], args, envp);
      printf("init: cannot run %s: %s\n", args[0], strerror(errno));
      _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) {
      printf("init: waitpid: %s\n", strerror(errno));
      failed++;
      continue;
    }
    if (WIFSIGNALED(st)) {
      printf("init: %s killed by signal %d\n", script[s][0], WTERMSIG(st));
      failed++;
    } else if (WEXITSTATUS(st)) {
      printf("init: %s exited with status %d\n", script[s][0], WEXITSTATUS(st));
      failed++;
    }
  }
  printf("\ninit: demo done, %d of %d programs ended as expected; powering off\n", steps - failed, steps);
  return failed;
}
