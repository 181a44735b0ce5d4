/* A file of the root filesystem: one entry of the ustar archive (fs.c). */
#ifndef FS_H
#define FS_H
#include "param.h"
#include "types.h"
#define I_FILE 1
#define I_DIR  2
struct inode {
    char path[MAXPATH];         /* without a leading '/' or a trailing '/' */
    u32 type;
    u32 mode;
    u32 size;
    u32 sector;                 /* first data sector on the disk */
};
#endif
