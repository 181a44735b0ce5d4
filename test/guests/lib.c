/* Freestanding support library for the Atlas386 test kernels (see lib.h). */
#include <stdarg.h>
#include "lib.h"

/* ---- memory ------------------------------------------------------------- */
void *memset(void *d, int c, size_t n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, size_t n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }
int memcmp(const void *a, const void *b, size_t n) {
    const u8 *p = a, *q = b;
    for (; n; n--, p++, q++) if (*p != *q) return *p < *q ? -1 : 1;
    return 0;
}

/* ---- serial ------------------------------------------------------------- */
void serial_init(void) {
    outb(COM1 + 1, 0x00);  /* IER: no interrupts */
    outb(COM1 + 3, 0x80);  /* DLAB */
    outb(COM1 + 0, 0x01);  /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);  /* 8N1 */
    outb(COM1 + 2, 0x07);  /* FIFOs on and cleared */
    outb(COM1 + 4, 0x03);  /* DTR, RTS; OUT2 off: no IRQ4 */
}

void putc(char c) {
    for (u32 n = 0; n < 10000000 && !(inb(COM1 + 5) & 0x20); n++) {}
    outb(COM1, (u8)c);
}

void puts(const char *s) { while (*s) putc(*s++); }

static void put_num(u32 v, unsigned base, int width, char pad, int neg) {
    char buf[16];
    int n = 0;
    do { buf[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    if (neg) buf[n++] = '-';
    while (n < width) { putc(pad); width--; }
    while (n) putc(buf[--n]);
}

static void vprintf(const char *fmt, va_list ap) {
    for (; *fmt; fmt++) {
        if (*fmt != '%') { putc(*fmt); continue; }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'd': { i32 v = va_arg(ap, i32); put_num(v < 0 ? -(u32)v : (u32)v, 10, width, pad, v < 0); break; }
        case 'u': put_num(va_arg(ap, u32), 10, width, pad, 0); break;
        case 'x': put_num(va_arg(ap, u32), 16, width, pad, 0); break;
        case 'c': putc((char)va_arg(ap, int)); break;
        case 's': { const char *s = va_arg(ap, const char *); puts(s ? s : "(null)"); break; }
        case '%': putc('%'); break;
        case 0: return;
        default: putc('%'); putc(*fmt); break;
        }
    }
}

int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    return 0;
}

/* ---- results ------------------------------------------------------------ */
int failures;

void pass(const char *name) { printf("PASS %s\n", name); }

void fail(const char *fmt, ...) {
    va_list ap;
    failures++;
    puts("FAIL ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putc('\n');
}

void guest_exit(int status) {
    outb(0xF4, (u8)status);
    for (;;) __asm__ volatile("cli; hlt");
}

struct multiboot_info { u32 flags, mem_lower, mem_upper; };

void kernel_start(const char *name, u32 magic, const void *info) {
    serial_init();
    printf("== %s ==\n", name);
    const struct multiboot_info *mb = info;
    /* QEMU gives mem_lower = 640; mem_upper depends on -m (the tests use 32 MiB). */
    if (magic != 0x2BADB002) fail("multiboot: magic %x", magic);
    else if (!(mb->flags & 1)) fail("multiboot: no memory info (flags %x)", mb->flags);
    else if (mb->mem_lower < 512 || mb->mem_lower > 640 || mb->mem_upper < 15 * 1024)
        fail("multiboot: mem_lower %u mem_upper %u", mb->mem_lower, mb->mem_upper);
    else pass("multiboot handoff (magic, memory info)");
    gdt_init();
    idt_init();
    pic_remap(0xFF, 0xFF);
}

int kernel_finish(void) {
    cli();
    if (failures) { printf("DONE %d failure(s)\n", failures); return 1; }
    puts("DONE all passed\n");
    return 0;
}

/* ---- GDT and TSS -------------------------------------------------------- */
static u64 gdt[GDT_ENTRIES];
struct tss tss;

void gdt_set(int index, u32 base, u32 limit, u8 access, u8 flags) {
    u64 d = (limit & 0xFFFF) | ((u64)(base & 0xFFFFFF) << 16) | ((u64)access << 40)
          | ((u64)((limit >> 16) & 0xF) << 48) | ((u64)(flags & 0xF) << 52) | ((u64)(base >> 24) << 56);
    gdt[index] = d;
}

void gdt_init(void) {
    memset(gdt, 0, sizeof gdt);
    gdt_set(1, 0, 0xFFFFF, 0x9A, 0xC);  /* 0x08 ring-0 code, flat 4 GiB, 32-bit */
    gdt_set(2, 0, 0xFFFFF, 0x92, 0xC);  /* 0x10 ring-0 data */
    gdt_set(3, 0, 0xFFFFF, 0xFA, 0xC);  /* 0x18 ring-3 code */
    gdt_set(4, 0, 0xFFFFF, 0xF2, 0xC);  /* 0x20 ring-3 data */
    memset(&tss, 0, sizeof tss);
    tss.ss0 = SEL_KDATA;
    tss.esp0 = (u32)kstack0_top;
    tss.iomap = sizeof tss;             /* no I/O bitmap: ring 3 port I/O faults */
    gdt_set(5, (u32)&tss, sizeof tss - 1, 0x89, 0x0);  /* 0x28 available 32-bit TSS */
    struct { u16 limit; u32 base; } __attribute__((packed)) gdtr = { sizeof gdt - 1, (u32)gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "ljmp $0x08, $1f\n"
        "1:\n\t"
        "mov $0x10, %%ax\n\t"
        "mov %%ax, %%ds\n\t"
        "mov %%ax, %%es\n\t"
        "mov %%ax, %%fs\n\t"
        "mov %%ax, %%gs\n\t"
        "mov %%ax, %%ss\n\t"
        "mov $0x28, %%ax\n\t"
        "ltr %%ax\n\t"
        : : "m"(gdtr) : "eax", "memory");
}

/* ---- IDT ---------------------------------------------------------------- */
static u64 idt[256];
static isr_fn handlers[256];
extern const u32 isr_table[256];

void idt_set_gate(int vec, u8 type, int dpl, int present) {
    u32 off = isr_table[vec];
    idt[vec] = (off & 0xFFFF) | ((u64)SEL_KCODE << 16)
             | ((u64)(type | (dpl << 5) | (present ? 0x80 : 0)) << 40)
             | ((u64)(off >> 16) << 48);
}

void isr_install(int vec, isr_fn fn) { handlers[vec] = fn; }

void idt_init(void) {
    for (int v = 0; v < 256; v++) { idt_set_gate(v, GATE_INT, 0, 1); handlers[v] = 0; }
    struct { u16 limit; u32 base; } __attribute__((packed)) idtr = { sizeof idt - 1, (u32)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void isr_dispatch(struct regs *r) {
    isr_fn fn = handlers[r->vector & 0xFF];
    if (fn) { fn(r); return; }
    fail("unexpected interrupt: vector %u error %x at %x:%x", r->vector, r->err, r->cs & 0xFFFF, r->eip);
    guest_exit(kernel_finish());
}

/* ---- PIC ---------------------------------------------------------------- */
void pic_remap(u8 master_mask, u8 slave_mask) {
    outb(PIC1_CMD, 0x11); io_delay();   /* ICW1: edge, cascade, ICW4 needed */
    outb(PIC2_CMD, 0x11); io_delay();
    outb(PIC1_DATA, 0x20); io_delay();  /* ICW2: vector bases */
    outb(PIC2_DATA, 0x28); io_delay();
    outb(PIC1_DATA, 0x04); io_delay();  /* ICW3: slave on IR2 */
    outb(PIC2_DATA, 0x02); io_delay();  /* ICW3: slave identity 2 */
    outb(PIC1_DATA, 0x01); io_delay();  /* ICW4: 8086 mode, normal EOI */
    outb(PIC2_DATA, 0x01); io_delay();
    outb(PIC1_DATA, master_mask);
    outb(PIC2_DATA, slave_mask);
}

void pic_eoi(int irq) {
    if (irq >= 8) outb(PIC2_CMD, 0x20);
    outb(PIC1_CMD, 0x20);
}

u16 pic_read_irr(void) {
    outb(PIC1_CMD, 0x0A); outb(PIC2_CMD, 0x0A);
    return inb(PIC1_CMD) | (inb(PIC2_CMD) << 8);
}

u16 pic_read_isr(void) {
    outb(PIC1_CMD, 0x0B); outb(PIC2_CMD, 0x0B);
    u16 v = inb(PIC1_CMD) | (inb(PIC2_CMD) << 8);
    outb(PIC1_CMD, 0x0A); outb(PIC2_CMD, 0x0A);
    return v;
}

/* ---- PIT ---------------------------------------------------------------- */
void pit2_start(void) {
    outb(0x61, (inb(0x61) & ~0x03) | 0x01);  /* gate 2 on, speaker off */
    outb(0x43, 0xB4);                         /* ch2, lobyte/hibyte, mode 2, binary */
    outb(0x42, 0x00);
    outb(0x42, 0x00);                         /* count 65536 */
}

u16 pit_latch(int channel) {
    outb(0x43, (u8)(channel << 6));           /* counter latch command */
    u8 lo = inb(0x40 + channel);
    u8 hi = inb(0x40 + channel);
    return (u16)(lo | (hi << 8));
}

/* `key=N` in the Multiboot command line (flags bit 2, cmdline at offset 16), or `dflt`. */
u32 cmdline_number(const void *info, const char *key, u32 dflt) {
    const u32 *mb = info;
    if (!(mb[0] & 4) || !mb[4]) return dflt;
    const char *s = (const char *)mb[4];
    while (*s) {
        while (*s == ' ') s++;
        const char *k = key, *p = s;
        while (*k && *p == *k) { k++; p++; }
        if (!*k && *p == '=' && p[1] >= '0' && p[1] <= '9') {
            u32 v = 0;
            for (p++; *p >= '0' && *p <= '9'; p++) v = v * 10 + (u32)(*p - '0');
            return v;
        }
        while (*s && *s != ' ') s++;
    }
    return dflt;
}
