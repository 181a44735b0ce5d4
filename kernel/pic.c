/*
 * The 8259A pair: IRQs 0-15 remapped to vectors 0x20-0x2F (out of the way of
 * CPU exceptions), everything masked until a driver enables its line.
 */
#include "defs.h"
#include "x86.h"

#define PIC1 0x20
#define PIC2 0xA0

static u16 mask = 0xFFFF & ~(1u << 2);     /* the cascade line stays open */

static void set_mask(void) { outb(PIC1 + 1, (u8)mask); outb(PIC2 + 1, (u8)(mask >> 8)); }

void pic_init(void) {
    outb(PIC1, 0x11); outb(PIC2, 0x11);     /* ICW1: edge, cascade, ICW4 */
    outb(PIC1 + 1, 0x20); outb(PIC2 + 1, 0x28);  /* ICW2: vector bases */
    outb(PIC1 + 1, 0x04); outb(PIC2 + 1, 0x02);  /* ICW3: slave on IRQ2 */
    outb(PIC1 + 1, 0x01); outb(PIC2 + 1, 0x01);  /* ICW4: 8086 mode */
    set_mask();
}

void pic_enable(int irq) { mask &= ~(1u << irq); set_mask(); }

void pic_eoi(int irq) {
    if (irq >= 8) outb(PIC2, 0x20);
    outb(PIC1, 0x20);
}
