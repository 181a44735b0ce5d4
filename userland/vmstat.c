/* vmstat: prints the Atlas VM counters of /proc/vmstat
 * (format: include/atlas/vmstat.h), one per line, global ones first. On an
 * OS whose /proc/vmstat has another format it says so and exits 0; without
 * the file it exits 1. */
#include <atlas/vmstat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  static struct atlas_vmstat vs;
  if (atlas_vmstat_read(&vs) == 0) {
    printf("vmstat: Atlas VM counters\n");
    for (int self = 0; self < 2; self++) {
      printf(self ? "  this process (vmstat):\n" : "  whole machine:\n");
      for (int i = 0; i < vs.count; i++) {
        int is_self = !strncmp(vs.name[i], "self_", 5);
        if (is_self != self) continue;
        printf("    %-20s %10lu\n", vs.name[i] + (self ? 5 : 0), vs.value[i]);
      }
    }
    return 0;
  }
  const char *path = getenv("ATLAS_VMSTAT");
  if (!path || !*path) path = ATLAS_VMSTAT_PATH;
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "vmstat: %s: %s\n", path, strerror(errno));
    return 1;
  }
  char line[128];
  int n = read(fd, line, sizeof line - 1);
  close(fd);
  if (n < 0) n = 0;
  line[n] = 0;
  char *nl = strchr(line, '\n');
  if (nl) *nl = 0;
  printf("vmstat: %s is not in the Atlas format (not running on Atlas?); its first line: %s\n", path, line);
  return 0;
}
