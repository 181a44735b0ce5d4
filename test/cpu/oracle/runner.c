/*
 * Atlas386 real-hardware oracle runner.
 *
 * A freestanding static 32-bit Linux program (no libc, raw int $0x80
 * syscalls).  It reads binary test cases from stdin, executes each one
 * natively on the host CPU and writes binary results to stdout.
 * generate.mjs builds it (gcc -m32 -ffreestanding -nostdlib -static) and
 * drives it; see README.md for the case environment.
 *
 * Input record (little endian):
 *   u32 seed, u32 eip, u32 regs[8] (EAX ECX EDX EBX ESP EBP ESI EDI),
 *   u32 eflags, u8 codelen, u8 nmem, u16 reserved,
 *   u8 code[codelen],
 *   nmem x { u32 addr, u16 len, u8 bytes[len] }
 * A record with codelen == 0 ends the stream.
 *
 * Output record:
 *   i32 vector (-1 = reached int3), u32 eip, u32 regs[8], u32 eflags,
 *   u32 trapno, u32 err, u16 sregs[6] (ES CS SS DS FS GS),
 *   u32 hash of the initial memory image (FNV-1a over the 2048 LE words of
 *   DATA, then the 2048 LE words of LOW),
 *   u16 nruns, nruns x { u32 addr, u16 len, u8 bytes[len] }   (LOW runs
 *   first, then DATA runs: ascending addresses)
 *
 * Two data regions (DATA, and LOW inside the first 64 KiB for 16-bit
 * addressing) and two code pages (CODE, and LCODE inside the first 64 KiB for
 * 16-bit operand-size branches) are mapped; both code pages are int3-filled
 * for every case and the instruction is written at eip, in either page.
 * Linux allows MAP_FIXED down to vm.mmap_min_addr (4096 by default).
 */
typedef unsigned int u32;
typedef int i32;
typedef unsigned short u16;
typedef unsigned char u8;

#define DATA    0x00100000u
#define DATASZ  0x2000u
#define CODE    0x00110000u
#define CODESZ  0x1000u
#define LOW     0x00008000u
#define LOWSZ   0x2000u
#define LCODE   0x0000C000u

#define SIGILL  4
#define SIGTRAP 5
#define SIGBUS  7
#define SIGFPE  8
#define SIGSEGV 11

static inline i32 sys1(i32 n, i32 a) {
  i32 r; __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a) : "memory"); return r;
}
static inline i32 sys3(i32 n, i32 a, i32 b, i32 c) {
  i32 r; __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory"); return r;
}
static inline i32 sys4(i32 n, i32 a, i32 b, i32 c, i32 d) {
  i32 r; __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d) : "memory"); return r;
}

static void die(const char *m) {
  i32 n = 0; while (m[n]) n++;
  sys3(4, 2, (i32)m, n);
  sys1(1, 99);
  for (;;) {}
}

/* ---- buffered I/O ---- */
static u8 inbuf[1 << 16]; static u32 inpos, inlen;
static u8 outbuf[1 << 20]; static u32 outlen;

static void readn(void *dst, u32 n) {
  u8 *d = dst;
  while (n) {
    if (inpos == inlen) {
      i32 r = sys3(3, 0, (i32)inbuf, sizeof inbuf);
      if (r <= 0) die("runner: unexpected end of input\n");
      inpos = 0; inlen = (u32)r;
    }
    u32 k = inlen - inpos; if (k > n) k = n;
    for (u32 i = 0; i < k; i++) d[i] = inbuf[inpos + i];
    inpos += k; d += k; n -= k;
  }
}
static void flush(void) {
  u32 off = 0;
  while (off < outlen) {
    i32 r = sys3(4, 1, (i32)(outbuf + off), (i32)(outlen - off));
    if (r <= 0) die("runner: write failed\n");
    off += (u32)r;
  }
  outlen = 0;
}
static void emit(const void *src, u32 n) {
  const u8 *s = src;
  if (outlen + n > sizeof outbuf) flush();
  for (u32 i = 0; i < n; i++) outbuf[outlen + i] = s[i];
  outlen += n;
}
static void emit32(u32 v) { emit(&v, 4); }
static void emit16(u16 v) { emit(&v, 2); }

/* ---- result of the current case, filled by the signal handler ---- */
struct result {
  i32 vector; u32 eip; u32 regs[8]; u32 eflags; u32 trapno; u32 err; u16 sregs[6];
};
static volatile struct result res;
static u16 host_gs, host_fs, host_es, host_ds;

/* trampoline: run_case(image, entry) and the resume point case_return */
u32 saved_esp, entry_ptr;
extern void run_case(u32 image, u32 entry);
extern char case_return[];
extern char sig_restorer[];
__asm__(
  ".text\n"
  ".globl run_case\n"
  "run_case:\n"
  "  push %ebp\n  push %ebx\n  push %esi\n  push %edi\n"
  "  mov %esp, saved_esp\n"
  "  mov 20(%esp), %eax\n"
  "  mov 24(%esp), %ecx\n"
  "  mov %ecx, entry_ptr\n"
  "  mov %eax, %esp\n"
  "  popal\n"
  "  popfl\n"
  "  jmp *entry_ptr\n"
  ".globl case_return\n"
  "case_return:\n"
  "  mov saved_esp, %esp\n"
  "  pop %edi\n  pop %esi\n  pop %ebx\n  pop %ebp\n"
  "  ret\n"
  ".globl sig_restorer\n"
  "sig_restorer:\n"
  "  mov $173, %eax\n"     /* rt_sigreturn */
  "  int $0x80\n"
  "  hlt\n");

/* i386 ucontext: uc_flags, uc_link, uc_stack(12) then struct sigcontext */
enum { SC_GS, SC_FS, SC_ES, SC_DS, SC_EDI, SC_ESI, SC_EBP, SC_ESP, SC_EBX, SC_EDX,
       SC_ECX, SC_EAX, SC_TRAPNO, SC_ERR, SC_EIP, SC_CS, SC_EFLAGS, SC_ESP2, SC_SS };

static void handler(int sig, void *info, void *ucv) {
  (void)info;
  u32 *sc = (u32 *)((u8 *)ucv + 20);
  res.regs[0] = sc[SC_EAX]; res.regs[1] = sc[SC_ECX];
  res.regs[2] = sc[SC_EDX]; res.regs[3] = sc[SC_EBX];
  res.regs[4] = sc[SC_ESP]; res.regs[5] = sc[SC_EBP];
  res.regs[6] = sc[SC_ESI]; res.regs[7] = sc[SC_EDI];
  res.eflags = sc[SC_EFLAGS] & ~0x10000u; /* RF is an artefact of fault delivery */
  res.trapno = sc[SC_TRAPNO];
  res.err = sc[SC_ERR];
  res.sregs[0] = (u16)sc[SC_ES]; res.sregs[1] = (u16)sc[SC_CS];
  res.sregs[2] = (u16)sc[SC_SS]; res.sregs[3] = (u16)sc[SC_DS];
  res.sregs[4] = (u16)sc[SC_FS]; res.sregs[5] = (u16)sc[SC_GS];
  if (sig == SIGTRAP && sc[SC_TRAPNO] == 3) {
    res.vector = -1;
    res.eip = sc[SC_EIP] - 1;
  } else {
    res.vector = (i32)sc[SC_TRAPNO];
    res.eip = sc[SC_EIP];
    if (sig == SIGTRAP) res.vector = 1000 + (i32)sc[SC_TRAPNO];
  }
  /* resume the runner's main loop */
  sc[SC_EIP] = (u32)case_return;
  sc[SC_ESP] = saved_esp;
  sc[SC_EFLAGS] = 0x202;
  sc[SC_CS] = 0x23; sc[SC_SS] = 0x2b;
  sc[SC_DS] = host_ds; sc[SC_ES] = host_es; sc[SC_FS] = host_fs; sc[SC_GS] = host_gs;
}

struct ksigaction { void *handler; u32 flags; void *restorer; u32 mask[2]; };
struct kstack { void *sp; i32 flags; u32 size; };
/* The signal stack is mapped at a fixed, out-of-the-way address rather than
 * living in .bss: if a case leaves ESP pointing into the alternate stack (e.g.
 * SHL ESP,CL turning 0x1009E4 into 0x0804F200, which is inside this program's
 * .bss), the kernel treats the signal as nested, builds the frame below ESP
 * and kills the runner when that overflows the stack's bottom.  A fixed address
 * keeps this independent of the runner's own memory layout. */
#define ALTSTACK   0x3c5a0000u
#define ALTSTACKSZ 0x20000u

static void *map(u32 addr, u32 len, u32 prot) {
  u32 args[6] = { addr, len, prot, 0x02 | 0x20 | 0x10 /* PRIVATE|ANON|FIXED */, (u32)-1, 0 };
  i32 r = sys1(90, (i32)args);
  if ((u32)r != addr) die("runner: mmap failed\n");
  return (void *)addr;
}

static u8 initimg[DATASZ] __attribute__((aligned(4)));
static u8 lowinit[LOWSZ] __attribute__((aligned(4)));

/* maximal runs of bytes that differ from the initial image */
static u16 count_runs(const u8 *cur, const u8 *init, u32 n) {
  u16 k = 0;
  for (u32 i = 0; i < n; i++) if (cur[i] != init[i] && (i == 0 || cur[i - 1] == init[i - 1])) k++;
  return k;
}
static void emit_runs(u32 base, const u8 *cur, const u8 *init, u32 n) {
  for (u32 i = 0; i < n;) {
    if (cur[i] == init[i]) { i++; continue; }
    u32 j = i; while (j < n && cur[j] != init[j]) j++;
    emit32(base + i); emit16((u16)(j - i)); emit(cur + i, j - i);
    i = j;
  }
}

void main_loop(void) {
  u8 *data = map(DATA, DATASZ, 3);
  u8 *code = map(CODE, CODESZ, 7);
  u8 *low = map(LOW, LOWSZ, 3);
  u8 *lcode = map(LCODE, CODESZ, 7);
  u8 *altstack = map(ALTSTACK, ALTSTACKSZ, 3);
  struct kstack ss = { altstack, 0, ALTSTACKSZ };
  if (sys3(186, (i32)&ss, 0, 0) != 0) die("runner: sigaltstack failed\n");
  static const int sigs[] = { SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV };
  for (u32 i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    struct ksigaction sa = { (void *)handler, 0x04000000 | 0x08000000 | 4 /* RESTORER|ONSTACK|SIGINFO */,
                             sig_restorer, { 0, 0 } };
    if (sys4(174, sigs[i], (i32)&sa, 0, 8) != 0) die("runner: rt_sigaction failed\n");
  }
  __asm__ volatile("mov %%gs,%0; mov %%fs,%1; mov %%es,%2; mov %%ds,%3"
                   : "=r"(host_gs), "=r"(host_fs), "=r"(host_es), "=r"(host_ds));

  for (;;) {
    u32 hdr[12];
    readn(hdr, sizeof hdr);
    u32 seed = hdr[0], eip = hdr[1], *regs = hdr + 2, eflags = hdr[10];
    u32 codelen = hdr[11] & 0xff, nmem = (hdr[11] >> 8) & 0xff;
    if (codelen == 0) break;
    /* DATA: xorshift32 fill from the seed */
    u32 x = seed ? seed : 1;
    for (u32 i = 0; i < DATASZ / 4; i++) {
      x ^= x << 13; x ^= x >> 17; x ^= x << 5;
      ((u32 *)data)[i] = x;
    }
    /* LOW: the same xorshift32 sequence continued (words 2048..4095) */
    for (u32 i = 0; i < LOWSZ / 4; i++) {
      x ^= x << 13; x ^= x >> 17; x ^= x << 5;
      ((u32 *)low)[i] = x;
    }
    /* CODE and LCODE: int3 everywhere, instruction at eip (in either page) */
    for (u32 i = 0; i < CODESZ; i++) { code[i] = 0xcc; lcode[i] = 0xcc; }
    u8 insn[32];
    if (codelen > sizeof insn) die("runner: code too long\n");
    readn(insn, codelen);
    if (eip >= CODE && eip + codelen <= CODE + CODESZ) {
      for (u32 i = 0; i < codelen; i++) code[eip - CODE + i] = insn[i];
    } else if (eip >= LCODE && eip + codelen <= LCODE + CODESZ) {
      for (u32 i = 0; i < codelen; i++) lcode[eip - LCODE + i] = insn[i];
    } else die("runner: eip outside the code pages\n");
    /* memory overrides (DATA or LOW) */
    for (u32 m = 0; m < nmem; m++) {
      u32 addr; u16 len;
      readn(&addr, 4); readn(&len, 2);
      if (addr >= DATA && addr + len <= DATA + DATASZ) readn(data + (addr - DATA), len);
      else if (addr >= LOW && addr + len <= LOW + LOWSZ) readn(low + (addr - LOW), len);
      else die("runner: mem override outside DATA/LOW\n");
    }
    /* register image (popal order + eflags) at ESP-36 */
    u32 esp = regs[4];
    if (esp < DATA + 36 || esp > DATA + DATASZ) die("runner: ESP outside DATA\n");
    u32 img[9] = { regs[7], regs[6], regs[5], regs[4], regs[3], regs[2], regs[1], regs[0], eflags };
    u8 *ip = data + (esp - 36 - DATA);
    for (u32 i = 0; i < 36; i++) ip[i] = ((u8 *)img)[i];
    for (u32 i = 0; i < DATASZ; i++) initimg[i] = data[i];
    for (u32 i = 0; i < LOWSZ; i++) lowinit[i] = low[i];

    res.vector = -999;
    run_case(esp - 36, eip);

    emit32((u32)res.vector); emit32(res.eip);
    emit((const void *)res.regs, 32);
    emit32(res.eflags); emit32(res.trapno); emit32(res.err);
    emit((const void *)res.sregs, 12);
    u32 h = 2166136261u;
    for (u32 i = 0; i < DATASZ / 4; i++) { h ^= ((u32 *)initimg)[i]; h *= 16777619u; }
    for (u32 i = 0; i < LOWSZ / 4; i++) { h ^= ((u32 *)lowinit)[i]; h *= 16777619u; }
    emit32(h);
    /* diff: maximal runs of differing bytes, LOW then DATA */
    emit16((u16)(count_runs(low, lowinit, LOWSZ) + count_runs(data, initimg, DATASZ)));
    emit_runs(LOW, low, lowinit, LOWSZ);
    emit_runs(DATA, data, initimg, DATASZ);
  }
  flush();
  sys1(1, 0);
}

__asm__(
  ".text\n"
  ".globl _start\n"
  "_start:\n"
  "  and $-16, %esp\n"
  "  call main_loop\n"
  "  hlt\n");
