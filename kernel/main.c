/*
 * kmain: entered from entry.S on the boot page directory, with interrupts off.
 * Sets up the machine in dependency order, then starts the first process.
 */
#include "defs.h"
#include "kalloc.h"
#include "mmu.h"
#include "multiboot.h"
#include "x86.h"

static int cmdline_has(const char *cmdline, const char *word) {
    u32 n = strlen(word);
    for (const char *p = cmdline; *p; p++) {
        if ((p == cmdline || p[-1] == ' ') && !strncmp(p, word, n) && (p[n] == 0 || p[n] == ' ')) return 1;
    }
    return 0;
}

/* Two real frames under panic(), so the backtrace test has names to show. */
__attribute__((noinline)) static void crash_inner(void) { panic("test panic requested on the command line"); }
__attribute__((noinline)) static void crash_outer(void) { crash_inner(); __asm__ volatile(""); }

void kmain(u32 magic, u32 info_pa) {
    console_init();
    printf("Atlas kernel booting\n");
    if (magic != MB_BOOT_MAGIC) panic("not booted by Multiboot (magic 0x%x)", magic);
    struct multiboot_info *mb = P2V(info_pa);
    static char cmdline[256];
    if (mb->flags & MBI_CMDLINE) strncpy_z(cmdline, P2V(mb->cmdline), sizeof cmdline);
    mem_detect(mb);
    vm_init();
    kalloc_init(mb);
    printf("memory: %u MiB of RAM\n", (phys_top + 0x80000) >> 20);
    vm_selftest();
    gdt_init();
    idt_init();
    pic_init();
    timer_init();
    pic_enable(IRQ_COM1);
    printf("gdt, idt, pic, pit: ok\n");
    sti();
    while (ticks < 10) hlt();
    cli();
    printf("timer: 10 ticks\n");
    if (cmdline_has(cmdline, "panic")) crash_outer();
    binit();
    ide_init();
    fs_init();
    userinit();
    scheduler();
}
