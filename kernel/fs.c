/*
 * The root filesystem: a ustar archive on the primary master, read-only.
 * At boot fs_init walks the archive's 512-byte headers once and keeps a
 * table of its entries (path, type, size, where the data starts); a file's
 * data is contiguous after its header, so reading at an offset is a sector
 * computation and bread.
 */
#include "buf.h"
#include "defs.h"
#include "fs.h"

#define NINODE 128

static struct inode inodes[NINODE];
static u32 ninodes;

static u32 octal(const u8 *p, int n) {
    u32 v = 0;
    for (int i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++) v = v * 8 + (p[i] - '0');
    return v;
}

/* Strip leading "/" and "./" and trailing "/" (in place). */
static char *normalize(char *p) {
    for (;;) {
        if (p[0] == '/') p++;
        else if (p[0] == '.' && p[1] == '/') p += 2;
        else break;
    }
    u32 n = strlen(p);
    while (n && p[n - 1] == '/') p[--n] = 0;
    return p;
}

void fs_init(void) {
    u32 sector = 0;
    if (!ide_present()) { bootlog("fs: no root disk\n"); return; }
    while (ninodes < NINODE) {
        struct buf *b = bread(sector, NULL);
        if (!b) break;
        const u8 *h = b->data;
        if (h[0] == 0 || memcmp(h + 257, "ustar", 5)) { brelse(b); break; }
        struct inode *ip = &inodes[ninodes];
        char full[MAXPATH + 160];
        u32 n = 0;
        if (h[345]) {                           /* prefix "/" name */
            for (int i = 0; i < 155 && h[345 + i]; i++) full[n++] = (char)h[345 + i];
            full[n++] = '/';
        }
        for (int i = 0; i < 100 && h[i]; i++) full[n++] = (char)h[i];
        full[n] = 0;
        strncpy_z(ip->path, normalize(full), sizeof ip->path);
        ip->size = octal(h + 124, 12);
        ip->mode = octal(h + 100, 8);
        ip->type = h[156] == '5' ? I_DIR : I_FILE;
        ip->sector = sector + 1;
        if (h[156] == '0' || h[156] == 0 || h[156] == '5') ninodes++;   /* regular files and directories */
        brelse(b);
        sector += 1 + (ip->size + 511) / 512;
    }
    bootlog("fs: %u files on the root disk\n", ninodes);
}

struct inode *fs_lookup(const char *path) {
    char tmp[MAXPATH];
    strncpy_z(tmp, path, sizeof tmp);
    char *p = normalize(tmp);
    if (*p == 0) return NULL;
    for (u32 i = 0; i < ninodes; i++)
        if (!strcmp(inodes[i].path, p)) return &inodes[i];
    return NULL;
}

/*
 * Read up to n bytes at off into dst (a kernel address). Returns the bytes
 * read (0 at or past the end), -1 on a disk error; *disk_reads counts the
 * sectors that were not in the buffer cache.
 */
int fs_read(struct inode *ip, void *dst, u32 off, u32 n, int *disk_reads) {
    if (off >= ip->size) return 0;
    if (n > ip->size - off) n = ip->size - off;
    u32 done = 0;
    while (done < n) {
        int hit = 1;
        struct buf *b = bread(ip->sector + (off + done) / 512, &hit);
        if (!b) return -1;
        if (!hit && disk_reads) (*disk_reads)++;
        u32 at = (off + done) % 512, chunk = 512 - at;
        if (chunk > n - done) chunk = n - done;
        memcpy((u8 *)dst + done, b->data + at, chunk);
        brelse(b);
        done += chunk;
    }
    return (int)done;
}
