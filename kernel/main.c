/*
 * kmain: entered from entry.S on the boot page directory, with interrupts off.
 * Sets up the machine in dependency order, then starts the first process.
 */
#include "defs.h"
#include "kalloc.h"
#include "mmu.h"
#include "multiboot.h"
#include "param.h"
#include "x86.h"

static int cmdline_has(const char *cmdline, const char *word) {
    u32 n = strlen(word);
    for (const char *p = cmdline; *p; p++) {
        if ((p == cmdline || p[-1] == ' ') && !strncmp(p, word, n) && (p[n] == 0 || p[n] == ' ')) return 1;
    }
    return 0;
}

static char cmdline[256];

/* The value of a key=value word of the command line (before `--`), or NULL. */
const char *cmdline_arg(const char *key) {
    u32 n = strlen(key);
    for (const char *p = cmdline; *p; p++) {
        if (p != cmdline && p[-1] != ' ') continue;
        if (!strncmp(p, "-- ", 3) || !strcmp(p, "--")) return NULL;
        if (!strncmp(p, key, n)) return p + n;
    }
    return NULL;
}

/* Two real frames under panic(), so the backtrace test has names to show. */
__attribute__((noinline)) static void crash_inner(void) { panic("test panic requested on the command line"); }
__attribute__((noinline)) static void crash_outer(void) { crash_inner(); __asm__ volatile(""); }

/*
 * The first program and its arguments, from the command line: `init=PATH`
 * replaces /bin/init, and the words after `--` are its arguments (how
 * `atlas386 run PROGRAM ARGS...` can run one program; its exit status
 * becomes the machine's).
 */
static char *init_words[MAXARG + 1];

static void parse_init(char *cmdline) {
    int n = 1, after_dashes = 0;
    init_words[0] = NULL;
    for (char *p = cmdline; *p;) {
        while (*p == ' ') *p++ = 0;
        if (!*p) break;
        char *word = p;
        while (*p && *p != ' ') p++;
        if (*p) *p++ = 0;
        if (after_dashes) { if (n < MAXARG) init_words[n++] = word; }
        else if (!strcmp(word, "--")) after_dashes = 1;
        else if (!strncmp(word, "init=", 5)) init_words[0] = word + 5;
    }
    init_words[n] = NULL;
}

void kmain(u32 magic, u32 info_pa) {
    console_init();
    if (magic != MB_BOOT_MAGIC) panic("not booted by Multiboot (magic 0x%x)", magic);
    struct multiboot_info *mb = P2V(info_pa);
    if (mb->flags & MBI_CMDLINE) strncpy_z(cmdline, P2V(mb->cmdline), sizeof cmdline);
    boot_quiet = cmdline_has(cmdline, "quiet");
    console_tty = cmdline_has(cmdline, "tty");
    bootlog("Atlas kernel booting\n");
    mem_detect(mb);
    vm_init();
    kalloc_init(mb);
    bootlog("memory: %u MiB of RAM", ram_mib);
    if (phys_top < (ram_mib << 20) - 0x100000) bootlog(", the first %u MiB used", phys_top >> 20);
    bootlog("\n");
    vm_selftest();
    gdt_init();
    idt_init();
    pic_init();
    timer_init();
    pic_enable(IRQ_COM1);
    console_start_input();
    bootlog("gdt, idt, pic, pit: ok\n");
    sti();
    while (ticks < 10) hlt();
    cli();
    bootlog("timer: 10 ticks\n");
    if (cmdline_has(cmdline, "panic")) crash_outer();
    if (cmdline_has(cmdline, "kfault")) *(volatile u32 *)0 = 0;   /* a kernel page fault: panic_trap */
    binit();
    ide_init();
    fs_init();
    swap_init(cmdline);
    replace_init();
    static char words[256];
    strncpy_z(words, cmdline, sizeof words);
    parse_init(words);
    userinit(init_words);
    kswapd_start();
    scheduler();
}
