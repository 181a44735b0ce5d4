// Host-side tests: the ELF loader, bare-metal guests on the CPU core (checked
// against values computed here and against the same programs run natively on
// the real CPU), and the atlas386 command's error handling.
//
// Needs `npm run build` first (npm test does it through pretest).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBareMetal } from '../emulator/host/baremetal.js';
import { loadElf } from '../emulator/host/elf.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const guestDir = join(root, 'build', 'baremetal');
const cli = join(root, 'dist', 'atlas386.mjs');
const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';
const MiB = 1024 * 1024;

function artifact(path: string): Uint8Array {
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  return readFileSync(path);
}

async function runGuest(name: string): Promise<{ exitCode: number; output: string; instructions: number }> {
  const chunks: Uint8Array[] = [];
  const r = await runBareMetal(artifact(join(guestDir, `${name}.elf`)), {
    ramBytes: 32 * MiB,
    maxInstructions: 2_000_000_000,
    stdout: { write: (c: Uint8Array) => chunks.push(c) },
  });
  return { exitCode: r.exitCode, output: Buffer.concat(chunks).toString('latin1'), instructions: r.instructions };
}

/** File offset of the byte loaded at physical address `addr` (first PT_LOAD holding it). */
function fileOffsetOf(elf: Uint8Array, addr: number): number {
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const phoff = v.getUint32(28, true);
  for (let i = 0; i < v.getUint16(44, true); i++) {
    const ph = phoff + i * v.getUint16(42, true);
    const paddr = v.getUint32(ph + 12, true);
    if (v.getUint32(ph, true) === 1 && addr >= paddr && addr < paddr + v.getUint32(ph + 16, true)) {
      return v.getUint32(ph + 4, true) + (addr - paddr);
    }
  }
  throw new Error(`address 0x${addr.toString(16)} is not in the file`);
}

/** A minimal ELF32 i386 executable: `code` loaded and entered at 0x00100054. */
function tinyElf(code: number[]): Uint8Array {
  const elf = new Uint8Array(52 + 32 + code.length);
  const v = new DataView(elf.buffer);
  const base = 0x00100000;
  elf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 3, true); // EM_386
  v.setUint32(20, 1, true);
  v.setUint32(24, base + 84, true); // entry
  v.setUint32(28, 52, true); // phoff
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 1, true);
  v.setUint16(46, 40, true);
  for (const [off, value] of [[0, 1], [4, 0], [8, base], [12, base], [16, elf.length], [20, elf.length], [24, 5], [28, 0x1000]]) {
    v.setUint32(52 + off!, value!, true);
  }
  elf.set(code, 84);
  return elf;
}

describe('ELF loader', () => {
  it('rejects a file that is not ELF', () => {
    expect(() => loadElf(new TextEncoder().encode('#!/bin/sh\necho hello, world\n'), new Uint8Array(MiB))).toThrow(
      /^not an ELF file$/,
    );
    expect(() => loadElf(new Uint8Array(0), new Uint8Array(MiB))).toThrow(/^not an ELF file$/);
  });

  it('rejects ELF files that are not 32-bit x86 executables', () => {
    const elf64 = new Uint8Array(64);
    elf64.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    new DataView(elf64.buffer).setUint16(16, 2, true);
    new DataView(elf64.buffer).setUint16(18, 62, true); // EM_X86_64
    expect(() => loadElf(elf64, new Uint8Array(MiB))).toThrow('not a 32-bit x86 executable (ELF64, little-endian, machine 62)');

    const object = artifact(join(guestDir, 'demo.o')); // ET_REL
    expect(() => loadElf(object, new Uint8Array(MiB))).toThrow(/^not a 32-bit x86 executable \(relocatable object/);
  });

  it('rejects a truncated file', () => {
    const demo = artifact(join(guestDir, 'demo.elf'));
    expect(() => loadElf(demo.subarray(0, 40), new Uint8Array(4 * MiB))).toThrow(/^truncated ELF file/);
    expect(() => loadElf(demo.subarray(0, 200), new Uint8Array(4 * MiB))).toThrow(/^truncated ELF file/);
  });

  it('rejects segments that do not fit in RAM', () => {
    const demo = artifact(join(guestDir, 'demo.elf'));
    expect(() => loadElf(demo, new Uint8Array(MiB))).toThrow(/^segment at 0x00100000\.\.0x[0-9a-f]{8} beyond RAM \(1 MiB\)$/);
  });

  it('loads segments, zeroes the bss and reads the symbol table', () => {
    const demo = artifact(join(guestDir, 'demo.elf'));
    const ram = new Uint8Array(4 * MiB).fill(0xaa);
    const { entry, symbols } = loadElf(demo, ram);
    expect(entry).toBe(0x00100000);
    expect(symbols.get('_start')).toBe(entry);
    expect(symbols.get('main')).toBeGreaterThan(entry);
    // The code at the entry point is the file's bytes: crt0 begins with `mov $stack_top, %esp` (bc imm32).
    const off = fileOffsetOf(demo, entry);
    expect(Array.from(ram.subarray(entry, entry + 16))).toEqual(Array.from(demo.subarray(off, off + 16)));
    expect(ram[entry]).toBe(0xbc);
    expect(new DataView(ram.buffer).getUint32(entry + 1, true)).toBe(symbols.get('stack_top'));
    // The sieve array and the stack live in .bss, which must read as zero.
    const sieve = symbols.get('composite')!;
    expect(sieve).toBeDefined();
    expect(ram.subarray(sieve, sieve + 200).every((b) => b === 0)).toBe(true);
    const stack = symbols.get('stack')!;
    expect(ram.subarray(stack, symbols.get('stack_top')).every((b) => b === 0)).toBe(true);
    // Nothing below the image was touched.
    expect(ram.subarray(0, entry).every((b) => b === 0xaa)).toBe(true);
  });
});

// --- values the demo prints, computed independently ---

function primesBelow(n: number): number[] {
  const out: number[] = [];
  for (let i = 2; i < n; i++) if (out.every((p) => i % p !== 0)) out.push(i);
  return out;
}

function fibonacci(count: number): number[] {
  const out = [0, 1];
  while (out.length < count) out.push(out[out.length - 1]! + out[out.length - 2]!);
  return out.slice(0, count);
}

function crc32(text: string): number {
  let crc = ~0;
  for (const byte of Buffer.from(text, 'latin1')) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('bare-metal guests on the CPU core', () => {
  it('runs the demo to exit status 0 with the right output', async () => {
    const { exitCode, output, instructions } = await runGuest('demo');
    expect(exitCode).toBe(0);
    const primes = primesBelow(200);
    expect(output).toContain(`primes below 200: ${primes.join(' ')}\n${primes.length} primes\n`);
    expect(output).toContain(`fibonacci: ${fibonacci(30).join(' ')}\n`);
    const text = 'The quick brown fox jumps over the lazy dog';
    expect(output).toContain(`crc32("${text}") = ${crc32(text).toString(16).padStart(8, '0')}\n`);
    expect(crc32(text)).toBe(0x414fa339); // the published CRC-32 of this sentence
    const fact12 = [...Array(12).keys()].reduce((a, i) => a * (i + 1), 1);
    expect(output).toContain(
      `12! = ${fact12}, 1000000007 / 97 = ${Math.floor(1000000007 / 97)} rem ${1000000007 % 97}, -12345 / 7 = ${Math.trunc(-12345 / 7)}\n`,
    );
    expect(instructions).toBeGreaterThan(10_000);
  });

  // The same programs, built for Linux (`make native`), run on the real CPU: their output must match.
  const native = nativeBuild();
  const workloads = ['demo', 'bench-int', 'bench-mem', 'bench-string'];
  it.skipIf(!native.ok && !requireTools).each(workloads)('%s prints what it prints on the real CPU', async (name) => {
    if (!native.ok) throw new Error(`cannot run native 32-bit programs (needed with ATLAS386_REQUIRE_TOOLS=1): ${native.why}`);
    const real = spawnSync(join(guestDir, 'native', name), { encoding: 'latin1' });
    expect(real.status).toBe(0);
    const emulated = await runGuest(name);
    expect(emulated.exitCode).toBe(0);
    expect(emulated.output).toBe(real.stdout);
    if (name !== 'demo') expect(emulated.output).toMatch(/checksum [0-9a-f]{8}/);
  });
});

function nativeBuild(): { ok: boolean; why: string } {
  const make = spawnSync('make', ['-s', '-C', join(root, 'userland', 'baremetal'), 'native'], { encoding: 'utf8' });
  if (make.error || make.status !== 0) return { ok: false, why: `make native failed: ${make.error?.message ?? make.stderr.trim()}` };
  const probe = spawnSync(join(guestDir, 'native', 'demo'), { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { ok: false, why: `a 32-bit Linux executable did not run: ${probe.error?.message ?? `status ${probe.status}`}` };
  }
  return { ok: true, why: '' };
}

describe('atlas386 command', () => {
  let work: string;
  beforeAll(() => {
    artifact(cli);
    work = mkdtempSync(join(tmpdir(), 'atlas386-test-'));
  });

  function atlas(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  function expectOneLineError(r: { status: number | null; stderr: string }, message: RegExp): void {
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  }

  it('reports a missing file in one line', () => {
    expectOneLineError(atlas('baremetal', 'no-such-program.elf'), /^atlas386: cannot read no-such-program\.elf: no such file$/);
  });

  it('reports a bad number in one line', () => {
    const demo = join(guestDir, 'demo.elf');
    expectOneLineError(atlas('baremetal', demo, '--ram', 'lots'), /^atlas386: option '--ram <MiB>' argument 'lots' is invalid\./);
    expectOneLineError(atlas('baremetal', demo, '--max-instructions', '-5'), /^atlas386: .*'-5'/);
    expectOneLineError(atlas('bench', '--runs', '0'), /^atlas386: option '--runs <N>' argument '0' is invalid\./);
  });

  it('reports a file that is not an ELF executable in one line', () => {
    const junk = join(work, 'junk.elf');
    writeFileSync(junk, 'this is not a program\n');
    expectOneLineError(atlas('baremetal', junk), /^atlas386: not an ELF file$/);
  });

  it('reports a guest fault in one line', () => {
    const faulty = join(work, 'ud2.elf');
    writeFileSync(faulty, tinyElf([0x90, 0x0f, 0x0b, 0xcc])); // nop; ud2
    expectOneLineError(atlas('baremetal', faulty), /^atlas386: guest fault: #UD \(invalid opcode\) at eip=0x00100055 bytes=0f 0b cc 00 00 00 00 00$/);
  });

  it('reports a guest that halts without an exit status in one line', () => {
    const halts = join(work, 'hlt.elf');
    writeFileSync(halts, tinyElf([0xf4])); // hlt
    expectOneLineError(atlas('baremetal', halts), /^atlas386: guest halted \(HLT\) at eip=0x0010005[45] without writing an exit status to port 0xF4$/);
  });

  it('passes the value written to port 0xF4 through as the exit status', () => {
    const exits = join(work, 'exit42.elf');
    writeFileSync(exits, tinyElf([0xb0, 0x2a, 0xe6, 0xf4, 0xf4])); // mov al, 42; out 0xf4, al; hlt
    const r = atlas('baremetal', exits);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(42);
  });

  it('reports a runaway guest in one line', () => {
    expectOneLineError(
      atlas('baremetal', join(guestDir, 'bench-int.elf'), '--max-instructions', '1000'),
      /^atlas386: guest did not exit within 1000 instructions \(eip=0x[0-9a-f]{8}\)$/,
    );
  });

  it('runs a guest and passes its exit status through', () => {
    const r = atlas('baremetal', join(guestDir, 'demo.elf'), '--stats');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('46 primes\n');
    expect(r.stderr).toMatch(/^atlas386: exit status 0, [\d,]+ instructions, [\d.]+ guest MIPS\n$/);
  });
});
