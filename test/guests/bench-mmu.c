/* Paging set-up shared by the paging bench kernels (see bench-mmu.h). */
#include "bench-mmu.h"

u32 page_tables[MAP_PAGES] __attribute__((aligned(4096)));

/* Two spare pages for mmu_paging_in_effect(). */
static volatile u32 probe_a[1024] __attribute__((aligned(4096)));
static volatile u32 probe_b[1024] __attribute__((aligned(4096)));

void mmu_identity_tables(void) {
    page_tables[0] = 0;
    for (u32 n = 1; n < MAP_PAGES; n++) page_tables[n] = n * PAGE_SIZE | PTE_W | PTE_P;
}

void mmu_map_dir(u32 *dir) {
    for (u32 i = 0; i < 1024; i++) dir[i] = i < MAP_TABLES ? ((u32)&page_tables[i * 1024] | PTE_W | PTE_P) : 0;
}

void mmu_enable(u32 *dir) {
    write_cr3((u32)dir);
    write_cr0((read_cr0() | 0x80000000u) & ~0x00010000u);
    /* A jump after setting PG, as the SDM asks (the code is identity-mapped either way). */
    __asm__ volatile("jmp 1f\n1:" ::: "memory");
}

int mmu_paging_in_effect(void) {
    u32 a = (u32)probe_a >> 12;
    probe_a[0] = 0;
    probe_b[0] = 0;
    page_tables[a] = (u32)probe_b | PTE_W | PTE_P;  /* probe_a's page -> probe_b's frame */
    invlpg(probe_a);
    probe_b[0] = 0x5EED1234u;
    int translated = probe_a[0] == 0x5EED1234u;
    page_tables[a] = a * PAGE_SIZE | PTE_W | PTE_P;
    invlpg(probe_a);
    return translated;
}

void mmu_set_gate(int vec, void (*entry)(void)) {
    struct { u16 limit; u32 base; } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    volatile u32 *gate = (volatile u32 *)(idtr.base + (u32)vec * 8);
    u32 off = (u32)entry;
    gate[0] = (off & 0xFFFF) | ((u32)SEL_KCODE << 16);
    gate[1] = (off & 0xFFFF0000u) | 0x8E00;  /* present, DPL 0, 32-bit interrupt gate */
}

void mmu_note_not_in_effect(const char *kernel) {
    printf("%s: note: paging is not in effect (CR0.PG is set but linear addresses are not translated)\n", kernel);
}

int mmu_bench_start(const char *kernel, u32 magic) {
    serial_init();
    gdt_init();
    idt_init();
    pic_remap(0xFF, 0xFF);
    if (magic == 0x2BADB002) return 0;
    printf("%s: error: Multiboot magic %x\n", kernel, magic);
    return 1;
}
