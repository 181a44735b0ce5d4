/*
 * serial: the 16550A UART at COM1 (0x3F8, IRQ4): scratch and divisor
 * registers, loopback (data and modem lines), FIFOs and IIR, LSR bits,
 * interrupt identification, and interrupt-driven transmission through the
 * 8259A with MCR OUT2 set.
 *
 * While loopback is on, nothing is printed (it would loop back): results are
 * kept and printed once the UART is back to normal.
 */
#include "lib.h"

#define THR (COM1 + 0)
#define RBR (COM1 + 0)
#define DLL (COM1 + 0)
#define IER (COM1 + 1)
#define DLM (COM1 + 1)
#define IIR (COM1 + 2)
#define FCR (COM1 + 2)
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)
#define SCR (COM1 + 7)

static struct { const char *name; int ok; } results[32];
static int n_results;
static void defer(int ok, const char *name) { results[n_results].name = name; results[n_results++].ok = ok; }
static void flush(void) {
    for (int i = 0; i < n_results; i++) CHECK(results[i].ok, results[i].name);
    n_results = 0;
}

static int wait_lsr(u8 bits) {
    for (u32 n = 0; n < 1000000; n++) if ((inb(LSR) & bits) == bits) return 1;
    return 0;
}

/* ---- interrupt-driven transmit -------------------------------------------- */
static const char message[] = "interrupt-driven transmit: the quick brown fox jumps over the lazy dog\n";
static volatile u32 tx_pos, irq4_count, other_iir;
static volatile int tx_done;

static void com1_handler(struct regs *r) {
    (void)r;
    irq4_count++;
    u8 iir = inb(IIR) & 0x0F;
    if (iir == 0x02) {
        if (tx_pos < sizeof message - 1) outb(THR, (u8)message[tx_pos++]);
        else { outb(IER, 0x00); tx_done = 1; }
    } else {
        other_iir = iir | 0x100;
    }
    pic_eoi(4);
}

int kmain(u32 magic, const void *info) {
    kernel_start("serial", magic, info);

    /* ---- registers ------------------------------------------------------ */
    outb(SCR, 0x5A);
    u8 s1 = inb(SCR);
    outb(SCR, 0xA5);
    u8 s2 = inb(SCR);
    CHECK(s1 == 0x5A && s2 == 0xA5, "16550: scratch register holds what was written");
    outb(LCR, 0x83);
    outb(DLL, 0x0C);
    outb(DLM, 0x00);
    u8 dll = inb(DLL), dlm = inb(DLM), lcr = inb(LCR);
    outb(DLL, 0x01);
    outb(LCR, 0x03);
    CHECK(dll == 0x0C && dlm == 0x00 && lcr == 0x83 && inb(LCR) == 0x03,
          "16550: divisor latch (DLAB=1) and LCR read back");
    outb(IER, 0x05);
    u8 ier = inb(IER);
    outb(IER, 0x00);
    CHECK(ier == 0x05 && inb(IER) == 0x00, "16550: IER reads back");
    CHECK(wait_lsr(0x60), "16550: LSR THRE and TEMT set when idle");
    outb(FCR, 0x07);
    u8 iir_fifo = inb(IIR);
    CHECK(iir_fifo == 0xC1, "16550: IIR = 0xC1 with FIFOs enabled and no interrupt");

    /* ---- loopback: modem lines ------------------------------------------ */
    outb(MCR, 0x10);
    u8 msr0 = inb(MSR) & 0xF0;
    outb(MCR, 0x11); u8 msr_dtr = inb(MSR) & 0xF0;
    outb(MCR, 0x12); u8 msr_rts = inb(MSR) & 0xF0;
    outb(MCR, 0x14); u8 msr_out1 = inb(MSR) & 0xF0;
    outb(MCR, 0x18); u8 msr_out2 = inb(MSR) & 0xF0;
    outb(MCR, 0x1F); u8 msr_all = inb(MSR) & 0xF0;
    outb(MCR, 0x10);
    defer(msr0 == 0x00 && msr_dtr == 0x20 && msr_rts == 0x10 && msr_out1 == 0x40 && msr_out2 == 0x80
              && msr_all == 0xF0,
          "16550 loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD in MSR");

    /* ---- loopback: data without FIFOs ------------------------------------ */
    outb(FCR, 0x00);
    u8 iir_nofifo = inb(IIR);
    defer(iir_nofifo == 0x01, "16550: IIR = 0x01 with FIFOs disabled and no interrupt");
    while (inb(LSR) & 0x01) inb(RBR);
    outb(THR, 0x55);
    int dr = wait_lsr(0x01);
    u8 got = inb(RBR);
    defer(dr && got == 0x55 && !(inb(LSR) & 0x01), "16550 loopback: a byte written to THR is read from RBR, DR follows");
    outb(THR, 0x11);
    wait_lsr(0x41);
    outb(THR, 0x22);
    u8 lsr_oe = 0;                  /* OE clears when LSR is read: collect every read */
    for (u32 i = 0; i < 1000000 && (lsr_oe & 0x41) != 0x41; i++) lsr_oe |= inb(LSR);
    u8 lsr_after = inb(LSR);
    got = inb(RBR);
    defer((lsr_oe & 0x03) == 0x03 && !(lsr_after & 0x02) && got == 0x22,
          "16550 loopback without FIFO: a second byte overruns (OE), reading LSR clears OE");

    /* ---- loopback: FIFO ------------------------------------------------- */
    outb(FCR, 0x07);                /* enable, clear both FIFOs, trigger level 1 */
    static const char pattern[] = "FIFO 16550A!";
    for (int i = 0; pattern[i]; i++) outb(THR, (u8)pattern[i]);
    wait_lsr(0x61);
    char back[sizeof pattern] = {0};
    int n = 0;
    while ((inb(LSR) & 0x01) && n < (int)sizeof pattern - 1) back[n++] = (char)inb(RBR);
    defer(n == (int)sizeof pattern - 1 && memcmp(back, pattern, sizeof pattern - 1) == 0 && !(inb(LSR) & 0x01),
          "16550 loopback with FIFO: 12 bytes come back in order");
    for (int i = 0; i < 4; i++) outb(THR, (u8)('a' + i));
    wait_lsr(0x61);
    outb(FCR, 0x03);                /* clear the receive FIFO */
    defer(!(inb(LSR) & 0x01), "16550: FCR bit 1 empties the receive FIFO");

    /* ---- interrupt identification --------------------------------------- */
    outb(FCR, 0x07);
    outb(IER, 0x01);                /* received data available */
    u8 iir_none = inb(IIR) & 0x0F;
    outb(THR, 0x33);
    wait_lsr(0x61);
    u8 iir_rda = inb(IIR) & 0x0F;
    inb(RBR);
    u8 iir_rda_gone = inb(IIR) & 0x0F;
    defer(iir_none == 0x01 && iir_rda == 0x04 && iir_rda_gone == 0x01,
          "16550: IIR reports received data (0x04) until RBR is read");
    outb(IER, 0x02);                /* THR empty: pending at once */
    u8 iir_thre = inb(IIR) & 0x0F;
    u8 iir_thre_gone = inb(IIR) & 0x0F;
    defer(iir_thre == 0x02 && iir_thre_gone == 0x01, "16550: enabling THRE interrupts with THR empty reports 0x02, reading IIR clears it");
    outb(IER, 0x03);
    outb(THR, 0x44);
    wait_lsr(0x61);
    u8 iir_first = inb(IIR) & 0x0F;
    inb(RBR);
    u8 iir_second = inb(IIR) & 0x0F;
    u8 iir_third = inb(IIR) & 0x0F;
    defer(iir_first == 0x04 && iir_second == 0x02 && iir_third == 0x01,
          "16550: received data has priority over THRE in IIR");
    outb(IER, 0x00);
    outb(MCR, 0x03);                /* loopback off */
    while (inb(LSR) & 0x01) inb(RBR);
    flush();

    /* ---- interrupt-driven transmit through IRQ4 ------------------------- */
    outb(FCR, 0x00);                /* no FIFO: one THRE interrupt per byte */
    isr_install(0x24, com1_handler);
    pic_remap(0xEF, 0xFF);          /* IRQ4 only */
    outb(MCR, 0x0B);                /* DTR, RTS, OUT2 (the IRQ line's enable on a PC) */
    tx_pos = irq4_count = 0;
    tx_done = 0;
    wait_lsr(0x60);
    outb(IER, 0x02);
    sti();
    for (u32 i = 0; i < 20000000 && !tx_done; i++) __asm__ volatile("pause");
    cli();
    outb(MCR, 0x03);
    pic_remap(0xFF, 0xFF);
    outb(FCR, 0x07);
    wait_lsr(0x60);
    if (tx_done && irq4_count == sizeof message && !other_iir)
        pass("16550 + 8259A: interrupt-driven transmit, one IRQ4 per byte plus the final THRE");
    else
        fail("interrupt-driven transmit: done %d, %u of %u bytes, %u interrupts, other IIR %x",
             tx_done, tx_pos, (u32)sizeof message - 1, irq4_count, other_iir);
    return kernel_finish();
}
