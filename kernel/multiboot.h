/* The Multiboot v1 information structure (the parts the kernel reads). */
#ifndef MULTIBOOT_H
#define MULTIBOOT_H
#include "types.h"
#define MB_BOOT_MAGIC 0x2BADB002
#define MBI_MEM     (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS    (1u << 3)
#define MBI_MMAP    (1u << 6)
#define MBI_LOADER  (1u << 9)
struct multiboot_info {
    u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    u32 syms[4];
    u32 mmap_length, mmap_addr;
    u32 drives_length, drives_addr, config_table, boot_loader_name;
};
struct multiboot_mmap {
    u32 size;
    u32 addr_lo, addr_hi, len_lo, len_hi;
    u32 type;                   /* 1 = available RAM */
} __attribute__((packed));
struct multiboot_mod { u32 start, end, string, reserved; };
#endif
