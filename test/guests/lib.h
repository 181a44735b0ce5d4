/* Freestanding support library for the Atlas386 test kernels. */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef signed int i32;
typedef unsigned long long u64;
typedef unsigned int size_t;

#define NULL ((void *)0)

/* ---- port I/O ---------------------------------------------------------- */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void insw(u16 port, void *buf, u32 words) {
    __asm__ volatile("cld; rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}
static inline void outsw(u16 port, const void *buf, u32 words) {
    __asm__ volatile("cld; rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline u32 read_eflags(void) { u32 f; __asm__ volatile("pushf; pop %0" : "=r"(f)); return f; }
static inline u32 read_cr0(void) { u32 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline void write_cr0(u32 v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void io_delay(void) { outb(0x80, 0); }

/* ---- selectors of the GDT built by gdt_init() -------------------------- */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B  /* 0x18 | RPL 3 */
#define SEL_UDATA 0x23  /* 0x20 | RPL 3 */
#define SEL_TSS   0x28
#define GDT_ENTRIES 16  /* entries 6..15 are free for the tests (gdt_set) */

/* ---- interrupt frame (isr.S) -------------------------------------------- */
struct regs {
    u32 gs, fs, es, ds;
    u32 edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    u32 vector, err;
    u32 eip, cs, eflags;
    u32 useresp, ss;  /* only when the interrupt came from ring 3 */
};
typedef void (*isr_fn)(struct regs *);

struct tss {
    u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
    u32 es, cs, ss, ds, fs, gs, ldt;
    u16 trap, iomap;
} __attribute__((packed));

extern struct tss tss;
extern u8 kstack0_top[];  /* TSS.ESP0 */

/* Gate types */
#define GATE_INT  0xE
#define GATE_TRAP 0xF

void gdt_init(void);
void gdt_set(int index, u32 base, u32 limit, u8 access, u8 flags);
void idt_init(void);
void idt_set_gate(int vec, u8 type, int dpl, int present);
void isr_install(int vec, isr_fn fn);
void enter_user(void (*fn)(void), void *user_stack_top);
void return_to_kernel(void) __attribute__((noreturn));

/* ---- 8259A PIC ---------------------------------------------------------- */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define IRQ_BASE 0x20
void pic_remap(u8 master_mask, u8 slave_mask);  /* vectors 0x20-0x2F */
void pic_eoi(int irq);
u16 pic_read_irr(void);
u16 pic_read_isr(void);

/* ---- 8254 PIT ----------------------------------------------------------- */
#define PIT_HZ 1193182u
/* Channel 2 as a free-running reference timer (mode 2, count 65536, gate on). */
void pit2_start(void);
u16 pit_latch(int channel);

/* ---- serial console (COM1) and output ---------------------------------- */
#define COM1 0x3F8
void serial_init(void);
void putc(char c);
void puts(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- test results ------------------------------------------------------- */
extern int failures;
void pass(const char *name);
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define CHECK(cond, name) ((cond) ? pass(name) : fail("%s", name))
/* Prints the banner and checks the Multiboot handoff; common to every kernel. */
void kernel_start(const char *name, u32 magic, const void *info);
/* Prints the final line and returns the exit status for port 0xF4. */
int kernel_finish(void);
void guest_exit(int status) __attribute__((noreturn));

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* `key=N` from the Multiboot command line, or `dflt`. */
u32 cmdline_number(const void *info, const char *key, u32 dflt);

#endif
