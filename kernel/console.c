/*
 * The console: COM1, a 16550A. Output is polled (wait for THR empty, write
 * the byte), so printf works from anywhere, even in panic with interrupts
 * off. Input is interrupt-driven: IRQ4 moves received bytes into a ring
 * buffer and wakes readers. The 16550 drives its IRQ line only when MCR.OUT2
 * is set, as on a real PC.
 *
 * By default input is raw: bytes reach readers as they come, unechoed (what
 * a program reading a pipe sees, so piped runs print what they print on
 * Linux). With `tty` on the command line (for a person at a terminal) it is
 * cooked, like xv6's console: typed characters are echoed, backspace edits
 * the line and a reader gets whole lines. In both modes Ctrl-D is
 * end-of-file: a serial line has no other way to say the input is over
 * (atlas386 sends one after the last byte of piped input).
 */
#include "defs.h"
#include "x86.h"

#define COM1 0x3F8
#define INBUF 256

#define CTRL_D 0x04

static struct {
    char buf[INBUF];
    u32 r;                      /* next byte a reader takes */
    u32 w;                      /* end of what readers may take (r == w: nothing) */
    u32 e;                      /* end of the line being edited (tty mode; == w otherwise) */
} input;
int console_tty;                /* cooked mode: echo, line editing */

void console_init(void) {
    outb(COM1 + 1, 0x00);       /* IER off while we program it */
    outb(COM1 + 3, 0x80);       /* DLAB */
    outb(COM1 + 0, 0x01);       /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);       /* 8N1 */
    outb(COM1 + 2, 0x00);       /* no FIFOs: switching them on drops a byte already received (QEMU) */
    outb(COM1 + 4, 0x0B);       /* DTR, RTS, OUT2: IRQ4 reaches the PIC */
}

/*
 * Once the PIC is set up: interrupt on received data. The 8259 takes IRQs on
 * a rising edge, so drain whatever is already there: a line left high by
 * earlier bytes would never interrupt again.
 */
void console_start_input(void) {
    outb(COM1 + 1, 0x01);
    (void)inb(COM1 + 2);
    console_intr();
}

/*
 * Wait for the transmitter, however long it takes: QEMU holds THRE clear
 * while its host side cannot take the byte (a loaded host), and a byte
 * written before then would replace the one still waiting. Only a missing
 * UART (all ones) gives up.
 */
void console_putc(char c) {
    for (;;) {
        u8 lsr = inb(COM1 + 5);
        if (lsr == 0xFF) return;
        if (lsr & 0x20) break;
    }
    outb(COM1, (u8)c);
}

/* One received byte: into the buffer (dropped when full), echoed and edited in tty mode. */
static void console_input(char c) {
    if (c == '\r') c = '\n';
    if (console_tty && (c == 0x7F || c == '\b')) {
        if (input.e != input.w) {
            input.e--;
            console_putc('\b'); console_putc(' '); console_putc('\b');
        }
        return;
    }
    if (input.e - input.r >= INBUF) return;
    input.buf[input.e++ % INBUF] = c;
    if (!console_tty) { input.w = input.e; return; }
    if (c != CTRL_D) console_putc(c);
    if (c == '\n' || c == CTRL_D || input.e - input.r == INBUF) input.w = input.e;   /* a whole line */
}

/* IRQ4: drain the receiver. */
void console_intr(void) {
    while (inb(COM1 + 5) & 0x01) console_input((char)inb(COM1));
    wakeup(&input);
}

/* Read what is buffered (up to a newline), sleeping until there is something. */
int console_read(char *dst, u32 n) {
    while (input.r == input.w) {
        if (proc_killed()) return -4;                   /* EINTR */
        sleep(&input);
    }
    u32 got = 0;
    while (got < n && input.r != input.w) {
        char c = input.buf[input.r % INBUF];
        if (c == CTRL_D) {
            if (got == 0) input.r++;    /* end of file now; after some bytes, on the next read */
            break;
        }
        input.r++;
        dst[got++] = c;
        if (c == '\n') break;
    }
    return (int)got;
}

/* ---- formatted output ---------------------------------------------------- */

struct sink { char *buf; u32 size, len; };   /* buf == NULL: the console */

static void emit(struct sink *s, char c) {
    if (!s->buf) console_putc(c);
    else if (s->len + 1 < s->size) s->buf[s->len] = c;
    s->len++;
}

static void emit_num(struct sink *s, u32 v, u32 base, int width, char pad, int neg) {
    char tmp[12];
    int n = 0;
    do { tmp[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    if (neg) tmp[n++] = '-';
    for (; width > n; width--) emit(s, pad);
    while (n) emit(s, tmp[--n]);
}

static void format(struct sink *s, const char *fmt, va_list ap) {
    for (; *fmt; fmt++) {
        if (*fmt != '%') { emit(s, *fmt); continue; }
        fmt++;
        char pad = ' ';
        int width = 0, left = 0;
        if (*fmt == '-') { left = 1; fmt++; }
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'd': { i32 v = va_arg(ap, i32); emit_num(s, v < 0 ? -(u32)v : (u32)v, 10, width, pad, v < 0); break; }
        case 'u': emit_num(s, va_arg(ap, u32), 10, width, pad, 0); break;
        case 'x': emit_num(s, va_arg(ap, u32), 16, width, pad, 0); break;
        case 'p': emit(s, '0'); emit(s, 'x'); emit_num(s, va_arg(ap, u32), 16, 8, '0', 0); break;
        case 'c': emit(s, (char)va_arg(ap, int)); break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str) str = "(null)";
            int len = (int)strlen(str);
            if (!left) for (; width > len; width--) emit(s, ' ');
            while (*str) emit(s, *str++);
            if (left) for (; width > len; width--) emit(s, ' ');
            break;
        }
        case '%': emit(s, '%'); break;
        case 0: return;
        default: emit(s, '%'); emit(s, *fmt); break;
        }
    }
}

int vprintf(const char *fmt, va_list ap) {
    struct sink s = { NULL, 0, 0 };
    format(&s, fmt, ap);
    return (int)s.len;
}

/* Boot progress lines: printf, unless the command line says `quiet`. */
int boot_quiet;

int bootlog(const char *fmt, ...) {
    if (boot_quiet) return 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* Like C's: at most size-1 characters and a NUL; returns the full length. */
int snprintf(char *buf, u32 size, const char *fmt, ...) {
    struct sink s = { buf, size, 0 };
    va_list ap;
    va_start(ap, fmt);
    format(&s, fmt, ap);
    va_end(ap);
    if (size) buf[s.len < size ? s.len : size - 1] = 0;
    return (int)s.len;
}
