/* exit, environment, number parsing. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void exit(int status) { _exit(status); }

void abort(void) {
  kill(getpid(), SIGABRT);
  _exit(127);
}

char *getenv(const char *name) {
  size_t n = strlen(name);
  if (!environ) return 0;
  for (char **e = environ; *e; e++)
    if (!strncmp(*e, name, n) && (*e)[n] == '=') return *e + n + 1;
  return 0;
}

unsigned long strtoul(const char *s, char **end, int base) {
  unsigned long v = 0;
  int neg = 0;
  while (*s == ' ' || *s == '\t' || *s == '\n') s++;
  if (*s == '+' || *s == '-') neg = *s++ == '-';
  if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2;
    base = 16;
  } else if (base == 0) {
    base = s[0] == '0' ? 8 : 10;
  }
  for (;; s++) {
    int d;
    if (*s >= '0' && *s <= '9') d = *s - '0';
    else if (*s >= 'a' && *s <= 'z') d = *s - 'a' + 10;
    else if (*s >= 'A' && *s <= 'Z') d = *s - 'A' + 10;
    else break;
    if (d >= base) break;
    v = v * base + d;
  }
  if (end) *end = (char *)s;
  return neg ? -v : v;
}

long strtol(const char *s, char **end, int base) { return (long)strtoul(s, end, base); }
int atoi(const char *s) { return (int)strtol(s, 0, 10); }
long atol(const char *s) { return strtol(s, 0, 10); }
