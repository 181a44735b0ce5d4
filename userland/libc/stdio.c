/* printf family: %d %i %u %x %X %o %s %c %p %%, with the l and ll length
 * modifiers, flags '-', '0', '+', ' ', '#', a width and a precision (or
 * '*'). Output goes through a sink: a string buffer, or a 1 KiB buffer
 * flushed to a file descriptor (one write(2) per call when the text fits). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static FILE files[3] = {{0}, {1}, {2}};
FILE *stdin = &files[0], *stdout = &files[1], *stderr = &files[2];

struct sink {
  char *buf;
  size_t cap;  /* string: the buffer size; fd: the buffer size */
  size_t len;  /* bytes in buf */
  size_t total;
  int fd;      /* -1 for a string */
};

static void flush(struct sink *s) {
  size_t off = 0;
  while (off < s->len) {
    ssize_t n = write(s->fd, s->buf + off, s->len - off);
    if (n <= 0) break;
    off += n;
  }
  s->len = 0;
}

static void put(struct sink *s, char c) {
  s->total++;
  if (s->fd < 0) {
    if (s->len + 1 < s->cap) s->buf[s->len++] = c;
    return;
  }
  if (s->len == s->cap) flush(s);
  s->buf[s->len++] = c;
}

static void pad(struct sink *s, char c, int n) {
  while (n-- > 0) put(s, c);
}

/* Digits of v in base (8, 10, 16), without gcc's 64-bit division helpers:
 * the 64-bit value is divided in 32-bit halves. Returns the digit count. */
static int digits(char *out, unsigned long long v, unsigned base, int upper) {
  const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int n = 0;
  do {
    unsigned hi = (unsigned)(v >> 32), lo = (unsigned)v, r;
    unsigned qhi = hi / base;
    r = hi % base;
    /* (r:lo) / base with r < base fits a 32-bit quotient. */
    unsigned qlo;
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(base));
    tmp[n++] = dig[r];
    v = ((unsigned long long)qhi << 32) | qlo;
  } while (v);
  for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

static void format(struct sink *s, const char *fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      put(s, *fmt);
      continue;
    }
    int left = 0, zero = 0, plus = 0, space = 0, alt = 0, width = 0, prec = -1, lng = 0;
    for (;; fmt++) {
      if (fmt[1] == '-') left = 1;
      else if (fmt[1] == '0') zero = 1;
      else if (fmt[1] == '+') plus = 1;
      else if (fmt[1] == ' ') space = 1;
      else if (fmt[1] == '#') alt = 1;
      else break;
    }
    fmt++;
    if (*fmt == '*') {
      width = va_arg(ap, int);
      if (width < 0) left = 1, width = -width;
      fmt++;
    } else {
      while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    }
    if (*fmt == '.') {
      fmt++;
      prec = 0;
      if (*fmt == '*') {
        prec = va_arg(ap, int);
        fmt++;
      } else {
        while (*fmt >= '0' && *fmt <= '9') prec = prec * 10 + (*fmt++ - '0');
      }
    }
    while (*fmt == 'l') lng++, fmt++;
    if (*fmt == 'z' || *fmt == 'h') fmt++;
    char c = *fmt;
    if (!c) break;
    char num[32];
    const char *str = num;
    int len = 0;
    const char *prefix = "";
    switch (c) {
    case 'd':
    case 'i': {
      long long v = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
      unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
      prefix = v < 0 ? "-" : plus ? "+" : space ? " " : "";
      len = digits(num, u, 10, 0);
      break;
    }
    case 'u':
    case 'x':
    case 'X':
    case 'o': {
      unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long)
                             : lng   ? va_arg(ap, unsigned long)
                                     : va_arg(ap, unsigned);
      len = digits(num, v, c == 'u' ? 10 : c == 'o' ? 8 : 16, c == 'X');
      if (alt && v) prefix = c == 'x' ? "0x" : c == 'X' ? "0X" : c == 'o' ? "0" : "";
      break;
    }
    case 'p': {
      unsigned long v = (unsigned long)va_arg(ap, void *);
      prefix = "0x";
      len = digits(num, v, 16, 0);
      break;
    }
    case 'c':
      num[0] = (char)va_arg(ap, int);
      len = 1;
      break;
    case 's':
      str = va_arg(ap, const char *);
      if (!str) str = "(null)";
      len = prec >= 0 ? (int)strnlen(str, prec) : (int)strlen(str);
      prec = -1;
      break;
    default: /* '%' and anything unknown print as themselves */
      num[0] = c;
      len = 1;
      break;
    }
    int zeros = 0;
    if (c != 's' && c != 'c' && prec >= 0) {
      if (prec > len) zeros = prec - len;
      if (prec == 0 && len == 1 && num[0] == '0') len = 0;
      zero = 0;
    }
    int plen = strlen(prefix);
    int fill = width - plen - zeros - len;
    if (zero && !left && c != 's' && c != 'c') zeros += fill > 0 ? fill : 0, fill = 0;
    if (!left) pad(s, ' ', fill);
    for (int i = 0; i < plen; i++) put(s, prefix[i]);
    pad(s, '0', zeros);
    for (int i = 0; i < len; i++) put(s, str[i]);
    if (left) pad(s, ' ', fill);
  }
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap) {
  struct sink s = {buf, n, 0, 0, -1};
  format(&s, fmt, ap);
  if (n) buf[s.len] = 0;
  return (int)s.total;
}

int snprintf(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  return r;
}

int sprintf(char *buf, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(buf, 0x7fffffff, fmt, ap);
  va_end(ap);
  return r;
}

int vdprintf(int fd, const char *fmt, va_list ap) {
  char buf[1024];
  struct sink s = {buf, sizeof buf, 0, 0, fd};
  format(&s, fmt, ap);
  flush(&s);
  return (int)s.total;
}

int dprintf(int fd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vdprintf(fd, fmt, ap);
  va_end(ap);
  return r;
}

int vfprintf(FILE *f, const char *fmt, va_list ap) { return vdprintf(f->fd, fmt, ap); }
int vprintf(const char *fmt, va_list ap) { return vdprintf(1, fmt, ap); }

int fprintf(FILE *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vdprintf(f->fd, fmt, ap);
  va_end(ap);
  return r;
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vdprintf(1, fmt, ap);
  va_end(ap);
  return r;
}

int fputs(const char *str, FILE *f) { return dprintf(f->fd, "%s", str); }
int puts(const char *str) { return dprintf(1, "%s\n", str); }

int putchar(int c) {
  char ch = (char)c;
  return write(1, &ch, 1) == 1 ? (unsigned char)c : EOF;
}

void perror(const char *str) {
  if (str && *str) dprintf(2, "%s: %s\n", str, strerror(errno));
  else dprintf(2, "%s\n", strerror(errno));
}
