/* echo [-n] [ARG...]: prints its arguments separated by spaces, then a
 * newline (none with -n). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int i = 1, newline = 1;
  if (i < argc && !strcmp(argv[i], "-n")) newline = 0, i++;
  char buf[1024];
  int len = 0;
  for (int first = i; i < argc; i++) {
    const char *parts[2] = {i > first ? " " : "", argv[i]};
    for (int k = 0; k < 2; k++)
      for (const char *p = parts[k]; *p; p++) {
        if (len == (int)sizeof buf) write(1, buf, len), len = 0;
        buf[len++] = *p;
      }
  }
  if (newline) {
    if (len == (int)sizeof buf) write(1, buf, len), len = 0;
    buf[len++] = '\n';
  }
  if (len && write(1, buf, len) != len) return 1;
  return 0;
}
