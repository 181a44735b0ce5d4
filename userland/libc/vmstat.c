/* The Atlas /proc/vmstat reader (format: include/atlas/vmstat.h). */
#include <atlas/vmstat.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int atlas_vmstat_parse(struct atlas_vmstat *vs, const char *text, int len) {
  int ml = strlen(ATLAS_VMSTAT_MAGIC);
  vs->count = 0;
  if (len <= ml || memcmp(text, ATLAS_VMSTAT_MAGIC, ml) || text[ml] != '\n') return -1;
  int i = ml + 1;
  while (i < len) {
    int start = i;
    while (i < len && text[i] != ' ' && text[i] != '\n') i++;
    int nlen = i - start;
    unsigned long v = 0;
    int ok = i < len && text[i] == ' ' && nlen > 0 && nlen < 32;
    if (i < len && text[i] == ' ') i++;
    int digits = 0;
    while (i < len && text[i] >= '0' && text[i] <= '9') v = v * 10 + (text[i++] - '0'), digits++;
    ok = ok && digits > 0 && (i == len || text[i] == '\n');
    while (i < len && text[i] != '\n') i++;
    i++;
    if (!ok || vs->count == ATLAS_VMSTAT_NAMES) continue;
    memcpy(vs->name[vs->count], text + start, nlen);
    vs->name[vs->count][nlen] = 0;
    vs->value[vs->count++] = v;
  }
  return 0;
}

int atlas_vmstat_read(struct atlas_vmstat *vs) {
  static char buf[ATLAS_VMSTAT_MAX];
  vs->count = 0;
  /* ATLAS_VMSTAT names another file to read instead (the tests use it to
   * check the Atlas format's readers on any OS). */
  const char *path = getenv("ATLAS_VMSTAT");
  int fd = open(path && *path ? path : ATLAS_VMSTAT_PATH, O_RDONLY);
  if (fd < 0) return -1;
  int len = 0;
  for (;;) {
    int n = read(fd, buf + len, sizeof buf - len);
    if (n <= 0) break;
    len += n;
    if (len == (int)sizeof buf) break;
  }
  close(fd);
  return atlas_vmstat_parse(vs, buf, len);
}

long atlas_vmstat_get(const struct atlas_vmstat *vs, const char *name) {
  for (int i = 0; i < vs->count; i++)
    if (!strcmp(vs->name[i], name)) return (long)vs->value[i];
  return -1;
}
