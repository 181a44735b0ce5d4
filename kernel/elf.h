/* ELF32 executable headers (the fields exec.c reads). */
#ifndef ELF_H
#define ELF_H
#include "types.h"
#define ELF_MAGIC 0x464C457Fu   /* "\x7FELF" */
struct elfhdr {
    u32 magic;
    u8 class, data, version, osabi, pad[8];
    u16 type, machine;
    u32 version2, entry, phoff, shoff, flags;
    u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct proghdr { u32 type, off, vaddr, paddr, filesz, memsz, flags, align; };
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4
#endif
