/* The 8254, channel 0 in mode 2 (rate generator): IRQ0 HZ times a second. */
#include "defs.h"
#include "param.h"
#include "x86.h"

#define PIT_HZ 1193182

void timer_init(void) {
    u32 divisor = (PIT_HZ + HZ / 2) / HZ;
    outb(0x43, 0x34);                    /* channel 0, lobyte/hibyte, mode 2 */
    outb(0x40, (u8)divisor);
    outb(0x40, (u8)(divisor >> 8));
    pic_enable(0);
}
