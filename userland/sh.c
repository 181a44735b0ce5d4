/* sh [FILE | -c COMMAND]: a tiny shell. Reads command lines from standard
 * input (prompt "$ " on standard error), from FILE (each line echoed as
 * "$ line" on standard output before it runs) or from -c COMMAND. A line is
 * words separated by blanks; '#' starts a comment. The first word names the
 * program: with a '/' it is a path, otherwise it is looked up in the
 * directories of $PATH (default /bin). Each runs in a child (fork, execve,
 * waitpid). Built in: `exit [N]`. The shell's status is the last command's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXLINE 1024
#define MAXARGS 64

static int status;

static int split(char *line, char **argv) {
  int argc = 0;
  char *p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\r') p++;
    if (!*p || *p == '#') break;
    if (argc == MAXARGS - 1) {
      fprintf(stderr, "sh: too many arguments\n");
      return -1;
    }
    argv[argc++] = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\r') p++;
    if (*p) *p++ = 0;
  }
  argv[argc] = 0;
  return argc;
}

static void exec_path(char **argv) {
  if (strchr(argv[0], '/')) {
    execve(argv[0], argv, environ);
    return;
  }
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/bin";
  int err = ENOENT;
  while (*path) {
    const char *colon = strchr(path, ':');
    int len = colon ? colon - path : (int)strlen(path);
    char full[256];
    if (len > 0 && len + strlen(argv[0]) + 2 <= sizeof full) {
      memcpy(full, path, len);
      full[len] = '/';
      strcpy(full + len + 1, argv[0]);
      execve(full, argv, environ);
      if (errno != ENOENT) err = errno;
    }
    if (!colon) break;
    path = colon + 1;
  }
  errno = err;
}

static void run(char *line) {
  char *argv[MAXARGS];
  int argc = split(line, argv);
  if (argc <= 0) return;
  if (!strcmp(argv[0], "exit")) exit(argc > 1 ? atoi(argv[1]) : status);
  int pid = fork();
  if (pid < 0) {
    fprintf(stderr, "sh: fork: %s\n", strerror(errno));
    status = 1;
    return;
  }
  if (pid == 0) {
    exec_path(argv);
    fprintf(stderr, "sh: %s: %s\n", argv[0], errno == ENOENT ? "command not found" : strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  int st;
  if (waitpid(pid, &st, 0) < 0) {
    fprintf(stderr, "sh: waitpid: %s\n", strerror(errno));
    status = 1;
    return;
  }
  if (WIFSIGNALED(st)) {
    fprintf(stderr, "sh: %s: killed by signal %d\n", argv[0], WTERMSIG(st));
    status = 128 + WTERMSIG(st);
  } else {
    status = WEXITSTATUS(st);
  }
}

/* Reads one line byte by byte (so a child reading the same input gets what
 * follows it). Returns 0 at the end of the input. */
static int read_line(int fd, char *line) {
  int len = 0, any = 0;
  char c;
  while (read(fd, &c, 1) == 1) {
    any = 1;
    if (c == '\n') break;
    if (len < MAXLINE - 1) line[len++] = c;
  }
  line[len] = 0;
  return any;
}

int main(int argc, char **argv) {
  static char line[MAXLINE];
  if (argc > 2 && !strcmp(argv[1], "-c")) {
    strncpy(line, argv[2], MAXLINE - 1);
    run(line);
    return status;
  }
  int fd = 0, script = argc > 1;
  if (script && (fd = open(argv[1], O_RDONLY)) < 0) {
    fprintf(stderr, "sh: %s: %s\n", argv[1], strerror(errno));
    return 127;
  }
  for (;;) {
    if (!script) write(2, "$ ", 2);
    if (!read_line(fd, line)) break;
    if (script) {
      char *p = line;
      while (*p == ' ' || *p == '\t') p++;
      if (*p && *p != '#') printf("$ %s\n", line);
    }
    run(line);
  }
  if (!script) write(2, "\n", 1);
  return status;
}
