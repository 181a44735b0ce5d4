/* Touches pages of a big bss array, the heap and an mmap region, and checks the data. */
#include "ulib.h"
static char big[64 * 4096];
static int data[1024] = { 1, 2, 3 };
int main(void) {
    for (int i = 0; i < 64; i += 4) big[i * 4096] = (char)i;
    int sum = 0;
    for (int i = 0; i < 64; i += 4) sum += big[i * 4096];
    u32 cur = (u32)brk(0);
    u32 top = (u32)brk(cur + 3 * 4096);
    char *heap = (char *)cur;
    heap[0] = 1; heap[3 * 4096 - 1] = 2;
    char *m = (char *)mmap2(0, 8 * 4096, 3, 0x22, -1, 0);
    for (int i = 0; i < 8; i++) m[i * 4096] = (char)(i + 1);
    int msum = 0;
    for (int i = 0; i < 8; i++) msum += m[i * 4096];
    int un = munmap(m + 4096, 4096);
    printf("demand: bss sum %d, data %d %d %d, heap grew %u bytes, mmap sum %d, munmap %d\n",
           sum, data[0], data[1], data[2], top - cur, msum, un);
    int fd = open("/proc/vmstat", 0);
    char buf[1024];
    int n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 1;
    buf[n] = 0;
    /* The self_ lines (the frame counts depend on the machine's memory map). */
    for (char *line = buf; *line;) {
        char *end = line;
        while (*end && *end != '\n') end++;
        char c = *end;
        *end = 0;
        if (line[0] == 's' && line[1] == 'e' && line[2] == 'l' && line[3] == 'f') printf("%s\n", line);
        if (!c) break;
        line = end + 1;
    }
    return 0;
}
