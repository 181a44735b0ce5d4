// The machine: the port bus, the devices wired to the CPU, virtual time and
// the run loop's ways of ending, serial input pacing, a Multiboot kernel
// taking timer interrupts (run twice: the same trace), and the `atlas386
// boot` command's errors.
//
// Needs `npm run build` first (npm test does it through pretest). The tests
// that assemble a kernel need gcc -m32 and ld -m elf_i386.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Reg } from '../emulator/host/cpu.js';
import { DiskImage, Machine, parseMemorySize, type MachineOptions } from '../emulator/host/machine.js';
import { enterMultiboot, loadMultiboot } from '../emulator/host/multiboot.js';
import { PortBus, type UnclaimedAccess } from '../emulator/host/portbus.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'atlas386.mjs');
const MiB = 1024 * 1024;
const CODE = 0x1000;

/** A machine running `code` at 0x1000 in flat protected mode (no loader), stack at 0x8000. */
async function bareMachine(code: number[], opts: Partial<MachineOptions> & { out?: number[] } = {}): Promise<Machine> {
  const out = opts.out ?? [];
  const m = await Machine.create({ ramBytes: MiB, output: { write: (c: Uint8Array) => out.push(...c) }, translate: false, ...opts });
  m.cpu.setFlatProtectedMode(0);
  m.ram.set(code, CODE);
  m.cpu.setReg(Reg.ESP, 0x8000);
  m.cpu.eip = CODE;
  return m;
}

describe('port bus', () => {
  it('unclaimed ports read all ones, ignore writes, and are reported once each', () => {
    const bus = new PortBus();
    const seen: UnclaimedAccess[] = [];
    bus.onUnclaimed = (a) => seen.push(a);
    expect(bus.portIn(0x70, 1)).toBe(0xff);
    expect(bus.portIn(0x70, 1)).toBe(0xff);
    bus.portOut(0x70, 1, 0x8f);
    expect(bus.portIn(0x300, 2)).toBe(0xffff);
    expect(bus.portIn(0x304, 4)).toBe(0xffffffff);
    bus.portOut(0x71, 1, 0);
    expect(seen.map((a) => [a.port, a.direction])).toEqual([
      [0x70, 'in'], [0x300, 'in'], [0x301, 'in'], [0x304, 'in'], [0x305, 'in'], [0x306, 'in'], [0x307, 'in'], [0x71, 'out'],
    ]);
    expect(bus.unclaimedPorts).toEqual([0x70, 0x300, 0x301, 0x304, 0x305, 0x306, 0x307, 0x71]);
  });

  it('routes accesses to the owner, whole; a wide access at an unclaimed port goes byte by byte', () => {
    const bus = new PortBus();
    const log: string[] = [];
    bus.register('dev', [0x1f0, 0x1f1], {
      portIn: (port, size) => { log.push(`in ${port.toString(16)}/${size}`); return 0x1234; },
      portOut: (port, size, value) => { log.push(`out ${port.toString(16)}/${size}=${value.toString(16)}`); },
    });
    expect(bus.portIn(0x1f0, 2)).toBe(0x1234);
    bus.portOut(0x1f0, 4, 0xdeadbeef);
    expect(bus.portIn(0x1ef, 2)).toBe(0x34ff); // 0x1EF unclaimed (0xFF), 0x1F0 the device's low byte
    expect(log).toEqual(['in 1f0/2', 'out 1f0/4=deadbeef', 'in 1f0/1']);
    expect(() => bus.register('other', [0x1f1], { portIn: () => 0, portOut: () => {} })).toThrow(/already claimed by dev/);
  });
});

describe('run loop', () => {
  it('isa-debug-exit: a write to 0xF4 ends the run with the value written as the status', async () => {
    const m = await bareMachine([0xb0, 0x07, 0xe6, 0xf4, 0xeb, 0xfe]); // mov al,7; out 0xf4,al; jmp $
    const r = await m.run();
    expect(r).toMatchObject({ reason: 'exit', exitStatus: 7, instructions: 2 });
  });

  it('HLT with interrupts disabled ends the run with one clear line', async () => {
    const m = await bareMachine([0xfa, 0x90, 0xf4]); // cli; nop; hlt
    const r = await m.run();
    expect(r.reason).toBe('halted');
    expect(r.message).toBe('guest halted with interrupts disabled at eip=0x00001003 cs=0x0008');
  });

  it('HLT with interrupts enabled and nothing to wake it is reported as halted forever', async () => {
    const m = await bareMachine([0xfb, 0xf4]); // sti; hlt
    const r = await m.run();
    expect(r.reason).toBe('halted-forever');
    expect(r.message).toMatch(/^guest halted forever at eip=0x00001002 cs=0x0008: /);
  });

  it('--max-instructions stops the run saying where the CPU was', async () => {
    const m = await bareMachine([0x90, 0xeb, 0xfd]); // nop; jmp back
    const r = await m.run({ maxInstructions: 1001 });
    expect(r).toMatchObject({ reason: 'max-instructions', instructions: 1001 });
    expect(r.message).toBe('stopped after 1001 instructions (--max-instructions) at eip=0x00001001 cs=0x0008');
  });

  it('a triple fault is reported with the CPU state', async () => {
    const m = await bareMachine([0x0f, 0x0b]); // ud2 with IDTR limit 0
    m.cpu.setIdtr(0, 0);
    const r = await m.run();
    expect(r.reason).toBe('triple-fault');
    expect(r.message).toMatch(/^triple fault \(vector \d+\): eip=0x00001000 cs=0x0008 eflags=0x\w{8} eax=.* cr0=0x\w{8} cr2=.* cr3=.* cr4=0x\w{8}$/);
  });

  it('unclaimed ports reach the callback once each; debugcon (0xE9) prints', async () => {
    const seen: number[] = [];
    const out: number[] = [];
    // in al,0x70 (twice); mov al,'A'; out 0xe9,al; out 0xf4,al
    const m = await bareMachine([0xe4, 0x70, 0xe4, 0x70, 0xb0, 0x41, 0xe6, 0xe9, 0xe6, 0xf4], {
      out, onUnclaimedPort: (a) => seen.push(a.port),
    });
    const r = await m.run();
    expect(r).toMatchObject({ reason: 'exit', exitStatus: 0x41 });
    expect(seen).toEqual([0x70]);
    expect(String.fromCharCode(...out)).toBe('A');
  });

  it('virtual time: 10 ns per instruction; port 0x61 gates PIT counter 2 and reads its OUT', async () => {
    // Program counter 2 mode 0 with count 2 (OUT rises after ~1.7 µs), gate on, poll port 0x61 bit 5.
    const code = [
      0xb0, 0xb0, 0xe6, 0x43, // mov al,0xb0 (ctr 2, lsb/msb, mode 0); out 0x43,al
      0xb0, 0x02, 0xe6, 0x42, 0xb0, 0x00, 0xe6, 0x42, // count 2
      0xb0, 0x01, 0xe6, 0x61, // gate 2 on
      0xe4, 0x61, 0xa8, 0x20, 0x74, 0xfa, // poll: in al,0x61; test al,0x20; jz poll
      0xe6, 0xf4, // out 0xf4,al
    ];
    const m = await bareMachine(code);
    const r = await m.run({ maxInstructions: 100_000 });
    expect(r.reason).toBe('exit');
    expect(r.exitStatus! & 0x21).toBe(0x21); // OUT2 high, gate bit as written
    // Terminal count comes 3 PIT ticks (838 ns each) after the count was written: a few hundred instructions, not one.
    expect(r.instructions).toBeGreaterThan(100);
    expect(r.instructions).toBeLessThan(400);
    expect(r.virtualNs).toBe(r.instructions * 10);
  });

  it('serial input is paced into the UART: a polling echo loop gets every byte, deterministically', async () => {
    // poll: in al,dx (LSR) ; test al,1 ; jz poll ; in al,dx (RBR) ; out dx,al (THR) ; cmp al,'.' ; jne poll ; out 0xf4
    const code = [
      0x66, 0xba, 0xfd, 0x03, 0xec, 0xa8, 0x01, 0x74, 0xfb, // mov dx,0x3fd; in al,dx; test al,1; jz
      0x66, 0xba, 0xf8, 0x03, 0xec, 0xee, 0x3c, 0x2e, 0x75, 0xed, // mov dx,0x3f8; in al,dx; out dx,al; cmp al,'.'; jne top
      0xe6, 0xf4,
    ];
    const input = new TextEncoder().encode('the quick brown fox jumps over the lazy dog, twice: the quick brown fox.');
    const runOnce = async (): Promise<{ text: string; instructions: number; hash: string }> => {
      const out: number[] = [];
      const m = await bareMachine(code, { out, input });
      const r = await m.run({ maxInstructions: 50_000_000 });
      expect(r.reason).toBe('exit');
      return { text: String.fromCharCode(...out), instructions: r.instructions, hash: r.trace.hash };
    };
    const a = await runOnce();
    expect(a.text).toBe(new TextDecoder().decode(input));
    expect(await runOnce()).toEqual(a);
  });

  it('parses memory sizes', () => {
    expect(parseMemorySize('32M')).toBe(32 * MiB);
    expect(parseMemorySize('1G')).toBe(1024 * MiB);
    expect(parseMemorySize('65536K')).toBe(64 * MiB);
    expect(parseMemorySize('64')).toBe(64 * MiB);
    expect(parseMemorySize('16MiB')).toBe(16 * MiB);
    for (const bad of ['0', '512K', '4G', '1.5M', '12X', '', '1025K']) expect(() => parseMemorySize(bad)).toThrow(/^Expected a size/);
  });

  it('1 GiB of RAM', async () => {
    const m = await Machine.create({ ramBytes: 1024 * MiB, output: { write: () => {} } });
    expect(m.ram.length).toBe(1024 * MiB);
  });
});

// --- Kernels assembled with gcc -------------------------------------------

const hasTools = spawnSync('gcc', ['-m32', '--version']).status === 0 && spawnSync('ld', ['-m', 'elf_i386', '--version']).status === 0;
const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';
const withTools = hasTools || requireTools ? describe : describe.skip;

function assemble(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'atlas386-mb-'));
  writeFileSync(join(dir, 'k.S'), source);
  for (const [cmd, args] of [
    ['gcc', ['-m32', '-c', 'k.S', '-o', 'k.o']],
    ['ld', ['-m', 'elf_i386', '-Ttext', '0x100000', '-e', 'start', 'k.o', '-o', 'k.elf']],
  ] as const) {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  }
  return join(dir, 'k.elf');
}

/** Multiboot kernel: remaps the PIC to 0x20, runs the PIT at ~1 kHz, takes TICKS timer interrupts with sti;hlt, prints, exits 42. */
const TIMER_KERNEL = `
#define TICKS 25
        .text
        .align 4
        .long 0x1BADB002, 3, -(0x1BADB002 + 3)
        .globl start
start:  mov $stack_top, %esp
        cmp $0x2BADB002, %eax
        jne bad
        mov 16(%ebx), %esi          /* cmdline */
        call puts
        mov $newline, %esi
        call puts
        mov $idt, %edi
        xor %ecx, %ecx
1:      mov $fault, %eax
        cmp $0x20, %ecx
        jne 2f
        mov $timer, %eax
2:      mov %ax, (%edi)
        movw $0x08, 2(%edi)
        movw $0x8E00, 4(%edi)
        shr $16, %eax
        mov %ax, 6(%edi)
        add $8, %edi
        inc %ecx
        cmp $256, %ecx
        jne 1b
        lidt idtr
        mov $0x11, %al; out %al, $0x20; out %al, $0xA0
        mov $0x20, %al; out %al, $0x21
        mov $0x28, %al; out %al, $0xA1
        mov $0x04, %al; out %al, $0x21
        mov $0x02, %al; out %al, $0xA1
        mov $0x01, %al; out %al, $0x21; out %al, $0xA1
        mov $0xFE, %al; out %al, $0x21
        mov $0xFF, %al; out %al, $0xA1
        mov $0x34, %al; out %al, $0x43
        mov $(1193 & 0xff), %al; out %al, $0x40
        mov $(1193 >> 8), %al; out %al, $0x40
3:      sti
        hlt
        cli
        cmpl $TICKS, ticks
        jb 3b
        mov $msg_ticks, %esi
        call puts
        mov $42, %al
        out %al, $0xF4
bad:    mov $99, %al
        out %al, $0xF4
fault:  mov $0xEE, %al
        out %al, $0xF4
timer:  push %eax
        incl ticks
        mov $'.', %al
        call putc
        mov $0x20, %al
        out %al, $0x20
        pop %eax
        iret
putc:   push %edx
        push %eax
        mov $0x3FD, %dx
4:      in %dx, %al
        test $0x20, %al
        jz 4b
        pop %eax
        mov $0x3F8, %dx
        out %al, %dx
        pop %edx
        ret
puts:   lodsb
        test %al, %al
        jz 5f
        call putc
        jmp puts
5:      ret
        .data
newline: .asciz "\\n"
msg_ticks: .asciz "\\n25 ticks\\n"
        .align 8
idtr:   .word 256*8-1
        .long idt
        .bss
        .align 8
ticks:  .long 0
idt:    .space 256*8
        .space 4096
stack_top:
`;

/** Multiboot kernel: reads sector 1 of hda with READ SECTORS (LBA, polled, rep insw) and prints its first 16 bytes. */
const ATA_KERNEL = `
        .text
        .align 4
        .long 0x1BADB002, 3, -(0x1BADB002 + 3)
        .globl start
start:  mov $stack_top, %esp
        mov $0x1F6, %dx; mov $0xE0, %al; out %al, %dx   /* LBA, device 0 */
        mov $0x1F2, %dx; mov $1, %al; out %al, %dx      /* 1 sector */
        mov $0x1F3, %dx; mov $1, %al; out %al, %dx      /* LBA 1 */
        mov $0x1F4, %dx; xor %al, %al; out %al, %dx
        mov $0x1F5, %dx; out %al, %dx
        mov $0x1F7, %dx; mov $0x20, %al; out %al, %dx   /* READ SECTORS */
1:      in %dx, %al
        test $0x80, %al
        jnz 1b
        test $0x08, %al
        jz bad
        mov $buf, %edi
        mov $256, %ecx
        mov $0x1F0, %dx
        rep insw
        mov $buf, %esi
        mov $16, %ecx
2:      lodsb
        mov $0x3F8, %dx
        out %al, %dx
        loop 2b
        mov $0, %al
        out %al, $0xF4
bad:    mov $1, %al
        out %al, $0xF4
        .bss
buf:    .space 512
        .space 1024
stack_top:
`;

withTools('Multiboot kernels on the machine', () => {
  let timerKernel: string;
  let ataKernel: string;
  beforeAll(() => {
    timerKernel = assemble(TIMER_KERNEL);
    ataKernel = assemble(ATA_KERNEL);
  });

  async function boot(kernel: string, opts: Partial<MachineOptions> = {}, cmdline?: string) {
    const out: number[] = [];
    const m = await Machine.create({ ramBytes: 32 * MiB, output: { write: (c: Uint8Array) => out.push(...c) }, ...opts });
    enterMultiboot(m.cpu, loadMultiboot(readFileSync(kernel), m.ram, { kernelName: 'k.elf', cmdline }));
    const r = await m.run({ maxInstructions: 100_000_000 });
    return { r, text: String.fromCharCode(...out) };
  }

  it('takes timer interrupts with sti; hlt, prints over the UART and exits via 0xF4; two runs give the same trace', async () => {
    const a = await boot(timerKernel, {}, 'hello world');
    expect(a.r).toMatchObject({ reason: 'exit', exitStatus: 42 });
    expect(a.text).toBe(`k.elf hello world\n${'.'.repeat(25)}\n25 ticks\n`);
    expect(a.r.trace.interrupts).toBe(25);
    // 25 periods of 1193 PIT ticks (~1 ms each): the guest idled through virtual time.
    expect(a.r.virtualNs).toBeGreaterThan(24 * 999_000);
    expect(a.r.virtualNs).toBeLessThan(26 * 1_001_000);
    const b = await boot(timerKernel, {}, 'hello world');
    expect(b.r.trace).toEqual(a.r.trace);
    expect(b.r.instructions).toBe(a.r.instructions);
    expect(b.r.virtualNs).toBe(a.r.virtualNs);
    // The interpreter alone gives the same run.
    const c = await boot(timerKernel, { translate: false }, 'hello world');
    expect(c.r.trace).toEqual(a.r.trace);
    expect(c.r.instructions).toBe(a.r.instructions);
  });

  it('ATA primary master: READ SECTORS with rep insw reads the image', async () => {
    const image = new Uint8Array(4 * 512);
    image.set(new TextEncoder().encode('sector one says hi'), 512);
    const { r, text } = await boot(ataKernel, { disks: [new DiskImage(image)] });
    expect(r).toMatchObject({ reason: 'exit', exitStatus: 0 });
    expect(text).toBe('sector one says ');
  });

  it('atlas386 boot: console output on stdout, the guest status as exit status, --verbose statistics', () => {
    const r = spawnSync('node', [cli, 'boot', '--kernel', timerKernel, '--cmdline', 'x=1', '--verbose'], { encoding: 'latin1' });
    expect(r.stdout).toBe(`k.elf x=1\n${'.'.repeat(25)}\n25 ticks\n`);
    expect(r.status).toBe(42);
    expect(r.stderr).toMatch(/^atlas386: kernel .* entry 0x0010000c, boot information at 0x\w{8}, 0 module\(s\), 32 MiB RAM\n/);
    expect(r.stderr).toMatch(/atlas386: [\d,]+ instructions, [\d.]+ ms of virtual time, 25 interrupts, trace [0-9a-f]{8}\n$/);
  });

  it('atlas386 boot --max-instructions and --hda', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atlas386-img-'));
    const img = join(dir, 'disk.img');
    const image = new Uint8Array(2 * 512);
    image.set(new TextEncoder().encode('0123456789abcdefXYZ'), 512);
    writeFileSync(img, image);
    const ok = spawnSync('node', [cli, 'boot', '--kernel', ataKernel, '--hda', img], { encoding: 'latin1' });
    expect([ok.stdout, ok.stderr, ok.status]).toEqual(['0123456789abcdef', '', 0]);
    const capped = spawnSync('node', [cli, 'boot', '--kernel', timerKernel, '--max-instructions', '500'], { encoding: 'latin1' });
    expect(capped.stderr).toMatch(/^atlas386: stopped after 500 instructions \(--max-instructions\) at eip=0x\w{8} cs=0x0008\n$/);
    expect(capped.status).toBe(1);
  });
});

describe('atlas386 boot errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atlas386-err-'));
  const run = (...args: string[]) => spawnSync('node', [cli, 'boot', ...args], { encoding: 'utf8', input: '' });
  const expectOneLine = (r: ReturnType<typeof run>, pattern: RegExp): void => {
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.(m?js|ts):\d+/); // no stack trace
    expect(r.status).not.toBe(0);
  };
  const notMultiboot = join(dir, 'plain.elf');
  const noHeader = join(dir, 'noheader.bin');
  const badImage = join(dir, 'bad.img');
  writeFileSync(noHeader, new Uint8Array(100));
  writeFileSync(badImage, new Uint8Array(1000));
  // An ELF32 file with no Multiboot header: the same tiny ELF test/multiboot.test.ts builds, without the header.
  const elf = new Uint8Array(84 + 4);
  const v = new DataView(elf.buffer);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); v.setUint16(18, 3, true); v.setUint32(24, 0x100054, true); v.setUint32(28, 52, true);
  v.setUint16(42, 32, true); v.setUint16(44, 1, true);
  for (const [off, value] of [[0, 1], [4, 0], [8, 0x100000], [12, 0x100000], [16, 88], [20, 88]] as const) v.setUint32(52 + off, value, true);
  writeFileSync(notMultiboot, elf);
  // The same with a Multiboot header (flags 3) at file offset 84, loaded at 1 MiB.
  const bigKernel = join(dir, 'mb.elf');
  const mb = new Uint8Array(84 + 12);
  mb.set(elf.subarray(0, 84));
  const mv = new DataView(mb.buffer);
  mv.setUint32(52 + 16, 96, true);
  mv.setUint32(52 + 20, 96, true);
  mv.setUint32(84, 0x1badb002, true);
  mv.setUint32(88, 3, true);
  mv.setUint32(92, -(0x1badb002 + 3) >>> 0, true);
  writeFileSync(bigKernel, mb);

  it('missing --kernel, missing or unreadable files', () => {
    // No --kernel: the Atlas kernel and root image the build leaves, or one line saying to build them.
    if (!existsSync(join(root, 'build', 'kernel', 'kernel.elf'))) expectOneLine(run(), /^atlas386: build\/kernel\/kernel\.elf not found; run `npm run build` first\n$/);
    else if (!existsSync(join(root, 'disk-images', 'root.img'))) expectOneLine(run(), /^atlas386: disk-images\/root\.img not found; run `npm run build` first\n$/);
    else expect(run('--max-instructions', '1000').stderr).not.toMatch(/--kernel|not found/);
    expectOneLine(run('--kernel', join(dir, 'nope.elf')), /^atlas386: cannot read .*nope\.elf: no such file\n$/);
    expectOneLine(run('--kernel', dir), /^atlas386: cannot read .*: is a directory\n$/);
    expectOneLine(run('--kernel', noHeader, '--module', join(dir, 'nomod')), /^atlas386: cannot read .*nomod: no such file\n$/);
  });

  it('no Multiboot header; a kernel or modules that do not fit', () => {
    expectOneLine(run('--kernel', notMultiboot), /^atlas386: no Multiboot header \(magic 0x1badb002\) in the first 8192 bytes\n$/);
    expectOneLine(run('--kernel', noHeader), /^atlas386: no Multiboot header/);
    expectOneLine(run('--kernel', bigKernel, '--mem', '1M'), /^atlas386: the kernel does not fit in RAM \(1 MiB\): segment 0x00100000\.\.0x0010005f\n$/);
    const bigModule = join(dir, 'big.mod');
    writeFileSync(bigModule, new Uint8Array(1536 * 1024));
    expectOneLine(run('--kernel', bigKernel, '--mem', '2M', '--module', badImage, '--module', bigModule),
      /^atlas386: module big\.mod \(1572864 bytes at 0x00102000\) does not fit in RAM \(2 MiB\)\n$/);
  });

  it('bad sizes and numbers', () => {
    expectOneLine(run('--kernel', notMultiboot, '--mem', '12X'), /^atlas386: option '--mem <SIZE>' argument '12X' is invalid\. Expected a size/);
    expectOneLine(run('--kernel', notMultiboot, '--mem', '4G'), /argument '4G' is invalid/);
    expectOneLine(run('--kernel', notMultiboot, '--max-instructions', '-5'), /argument '-5' is invalid/);
    expectOneLine(run('--kernel', notMultiboot, '--disk-latency', 'soon'), /argument 'soon' is invalid/);
    expectOneLine(run('--kernel', notMultiboot, '--tlb', 'data-4k=6/4'), /argument 'data-4k=6\/4' is invalid\. bad TLB size data-4k=6\/4: 1 to 1024 entries/);
    expectOneLine(run('--kernel', notMultiboot, '--tlb', 'l2=64/4'), /unknown TLB "l2": one of code-4k, code-4m, data-4k, data-4m/);
    expectOneLine(run('--kernel', notMultiboot, '--tlb', 'data-4k'), /expected NAME=ENTRIES\/WAYS/);
  });

  it('a disk image whose size is not a multiple of 512 bytes', () => {
    expectOneLine(run('--kernel', notMultiboot, '--hdb', badImage), /^atlas386: disk image .*bad\.img is 1000 bytes, not a whole number of 512-byte sectors\n$/);
  });
});
