/*
 * The i386 MMU as the kernel sees it: the higher-half layout, page table
 * entry bits and segment selectors.
 *
 * The kernel is linked at KERNBASE + 1 MiB and maps all physical RAM (up to
 * KMAXPHYS) at KERNBASE, so P2V/V2P convert between a frame and the kernel's
 * address for it. Everything below KERNBASE belongs to the current process.
 */
#ifndef MMU_H
#define MMU_H

#define KERNBASE   0xC0000000u
#define KMAXPHYS   0x38000000u          /* 896 MiB of direct map at most */
#define PGSIZE     4096u
#define BIGPGSIZE  0x400000u
#define PGROUNDUP(a)   (((a) + PGSIZE - 1) & ~(PGSIZE - 1))
#define PGROUNDDOWN(a) ((a) & ~(PGSIZE - 1))

#define V2P(a) ((u32)(a) - KERNBASE)
#define P2V(a) ((void *)((u32)(a) + KERNBASE))

#define PDX(va) (((u32)(va) >> 22) & 0x3FF)
#define PTX(va) (((u32)(va) >> 12) & 0x3FF)

#define PTE_P   0x001   /* present */
#define PTE_W   0x002   /* writable */
#define PTE_U   0x004   /* user */
#define PTE_A   0x020   /* accessed */
#define PTE_D   0x040   /* dirty */
#define PTE_PS  0x080   /* 4 MiB page (in a PDE) */
#define PTE_G   0x100   /* global: kept across CR3 loads */
#define PTE_ADDR(e) ((e) & ~0xFFFu)

/*
 * A user PTE with P clear is the kernel's: 0 means the page was never
 * brought in (demand paging fills it), otherwise it says where the page is.
 */
#define PTE_SWAPPED 0x002   /* in swap: bits 31:4 hold the swap entry (swap.h) */
#define PTE_CACHED  0x004   /* a clean file page on the free page queue: bits 31:12 its frame */
#define PTE_SWAPSHIFT   4
#define PTE_MKSWAP(e)   (((e) << PTE_SWAPSHIFT) | PTE_SWAPPED)
#define PTE_SWAPENTRY(p) ((p) >> PTE_SWAPSHIFT)

#define CR0_WP  0x00010000u
#define CR0_PG  0x80000000u
#define CR4_PSE 0x00000010u
#define CR4_PGE 0x00000080u

/* GDT slots and the selectors that name them. */
#define SEG_KCODE 1
#define SEG_KDATA 2
#define SEG_UCODE 3
#define SEG_UDATA 4
#define SEG_TSS   5
#define NSEGS     6
#define KCODE_SEL (SEG_KCODE << 3)
#define KDATA_SEL (SEG_KDATA << 3)
#define UCODE_SEL ((SEG_UCODE << 3) | 3)
#define UDATA_SEL ((SEG_UDATA << 3) | 3)
#define TSS_SEL   (SEG_TSS << 3)

/* Page fault error code bits. */
#define PF_P 1
#define PF_W 2
#define PF_U 4

#define T_PGFLT   14
#define T_IRQ0    32
#define T_SYSCALL 0x80
#define IRQ_TIMER 0
#define IRQ_COM1  4
#define IRQ_IDE   14
#define IRQ_IDE2  15
#endif
