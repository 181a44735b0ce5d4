/*
 * bench-timer: interrupt delivery under load, for `atlas386 bench` (not a
 * PASS/FAIL test).
 *
 * Programs the 8254 channel 0 in mode 2 with divisor 119 (1193182 / 119 =
 * 10.03 kHz) and unmasks IRQ0 alone. Its handler (through the isr.S stubs and
 * isr_dispatch) counts the tick and sends a non-specific EOI; on the last
 * tick it masks IRQ0, so exactly TICKS interrupts are taken (default 20000;
 * `ticks=N` on the Multiboot command line). Meanwhile the main loop, with
 * IF=1, runs steps of integer work (xorshift32, an LCG, rotates, a divide
 * every 16th step) until the count is reached. The work depends only on the
 * number of steps, so a test can recompute the checksum from it
 * (test/bench-guests.test.ts). Output, one line:
 *   bench-timer: checksum XXXXXXXX ticks N steps M
 * then exit status 0.
 */
#include "lib.h"

#define PIT_DIVISOR 119

static volatile u32 ticks;
static u32 target;

static void timer_handler(struct regs *r) {
    (void)r;
    if (++ticks >= target) outb(PIC1_DATA, 0xFF);   /* the last one: mask IRQ0 */
    pic_eoi(0);
}

int kmain(u32 magic, const void *info) {
    serial_init();
    gdt_init();
    idt_init();
    pic_remap(0xFF, 0xFF);
    if (magic != 0x2BADB002) { printf("bench-timer: error: Multiboot magic %x\n", magic); return 1; }
    target = cmdline_number(info, "ticks", 20000);
    if (target < 1) { printf("bench-timer: error: ticks=0\n"); return 1; }

    isr_install(IRQ_BASE + 0, timer_handler);
    outb(0x43, 0x34);                   /* channel 0, lobyte/hibyte, mode 2, binary */
    outb(0x40, PIT_DIVISOR & 0xFF);
    outb(0x40, PIT_DIVISOR >> 8);
    outb(PIC1_DATA, 0xFE);              /* IRQ0 only */

    u32 x = 0x12345678u, y = 0x9E3779B9u, acc = 0, steps = 0;
    sti();
    while (ticks < target) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        y = y * 1664525u + 1013904223u;
        acc += x ^ (y >> 7);
        if (x & 0x80) acc = (acc << 3) | (acc >> 29);
        if ((steps & 15) == 0) acc ^= y / ((x >> 20) | 1);
        steps++;
    }
    cli();
    printf("bench-timer: checksum %08x ticks %u steps %u\n", acc ^ x ^ y, ticks, steps);
    return 0;
}
