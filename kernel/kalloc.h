/* The frame table: one record per physical frame (kalloc.c). */
#ifndef KALLOC_H
#define KALLOC_H
#include "types.h"
enum frame_use {
    FRAME_RESERVED,     /* not RAM we manage: low memory, kernel image, frame table */
    FRAME_FREE,
    FRAME_KERNEL,       /* kernel data: stacks, page directories, heap */
    FRAME_PGTABLE,      /* a process's page table */
    FRAME_USER,         /* a process's page */
};
struct frame {
    u8 use;             /* enum frame_use */
    u8 flags;
    u16 refcount;       /* mappings (or kernel references) of the frame */
    u32 owner;          /* pid of the owning process, 0 for the kernel */
    u32 va;             /* where the owner maps it (FRAME_USER) */
};
extern struct frame *frames;
extern u32 nframes;
extern u32 ram_mib;
struct multiboot_info;
void mem_detect(struct multiboot_info *mb);
u32 frames_used_for(u8 use);
#endif
