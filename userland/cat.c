/* cat [FILE...]: copies each file (or standard input, with no file or "-")
 * to standard output. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[4096];

static int copy(int fd, const char *name) {
  for (;;) {
    int n = read(fd, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0) {
      fprintf(stderr, "cat: %s: %s\n", name, strerror(errno));
      return 1;
    }
    for (int off = 0; off < n;) {
      int w = write(1, buf + off, n - off);
      if (w <= 0) {
        fprintf(stderr, "cat: write error: %s\n", strerror(errno));
        return 1;
      }
      off += w;
    }
  }
}

int main(int argc, char **argv) {
  int status = 0;
  if (argc < 2) return copy(0, "stdin");
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-")) {
      status |= copy(0, "stdin");
      continue;
    }
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(stderr, "cat: %s: %s\n", argv[i], strerror(errno));
      status = 1;
      continue;
    }
    status |= copy(fd, argv[i]);
    close(fd);
  }
  return status;
}
