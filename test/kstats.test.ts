// The kernel counter table (emulator/host/kstats.ts) read from a hand-built
// ELF symbol table and a memory image laid out as the kernel's would be.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './guests/run.js';
import { readKernelCounters, formatKernelCounters, counter, KERNEL_BASE } from '../emulator/host/kstats.js';
import { elfSymbols } from '../emulator/host/elf.js';

/** A minimal ELF32 i386 ET_EXEC: one PT_LOAD program header, and .symtab/.strtab with `symbols`. */
function elfWithSymbols(symbols: Record<string, number>): Uint8Array {
  const names = Object.keys(symbols);
  const strtab = [0];
  const nameOffsets = names.map((n) => {
    const at = strtab.length;
    strtab.push(...Buffer.from(n), 0);
    return at;
  });
  const phoff = 52, shoff = 52 + 32;
  const symOff = shoff + 3 * 40;
  const symSize = (names.length + 1) * 16;
  const strOff = symOff + symSize;
  const bytes = new Uint8Array(strOff + strtab.length);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 3, true); // EM_386
  v.setUint32(24, 0x100000, true);
  v.setUint32(28, phoff, true);
  v.setUint32(32, shoff, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 1, true);
  v.setUint16(46, 40, true);
  v.setUint16(48, 3, true);
  v.setUint32(phoff, 1, true); // PT_LOAD, nothing to load
  // Section 1: .symtab (linked to 2), section 2: .strtab.
  v.setUint32(shoff + 40 + 4, 2, true);
  v.setUint32(shoff + 40 + 16, symOff, true);
  v.setUint32(shoff + 40 + 20, symSize, true);
  v.setUint32(shoff + 40 + 24, 2, true);
  v.setUint32(shoff + 80 + 4, 3, true);
  v.setUint32(shoff + 80 + 16, strOff, true);
  v.setUint32(shoff + 80 + 20, strtab.length, true);
  names.forEach((n, i) => {
    const s = symOff + (i + 1) * 16;
    v.setUint32(s, nameOffsets[i]!, true);
    v.setUint32(s + 4, symbols[n]!, true);
    bytes[s + 12] = 1; // STT_OBJECT
  });
  bytes.set(strtab, strOff);
  return bytes;
}

/** 64 KiB of "RAM" holding a kcounters table at 0x1000, nkcounters at 0x800, names at 0x2000, values at 0x3000. */
function kernelMemory(entries: [string, number][]): Uint8Array {
  const ram = new Uint8Array(0x10000);
  const v = new DataView(ram.buffer);
  v.setUint32(0x800, entries.length, true);
  let name = 0x2000;
  entries.forEach(([n, value], i) => {
    ram.set([...Buffer.from(n), 0], name);
    v.setUint32(0x1000 + i * 8, KERNEL_BASE + name, true);
    v.setUint32(0x1000 + i * 8 + 4, KERNEL_BASE + 0x3000 + i * 4, true);
    v.setUint32(0x3000 + i * 4, value, true);
    name += n.length + 1;
  });
  return ram;
}

const SYMBOLS = { kcounters: KERNEL_BASE + 0x1000, nkcounters: KERNEL_BASE + 0x800, other: 0x1234 };
const COUNTERS: [string, number][] = [['minor_faults', 12], ['major_faults', 3], ['swap_outs', 0xfffffffe], ['pages_resident_peak', 700]];

describe('kernel counters (kcounters / nkcounters)', () => {
  it('reads the symbol table of an ELF file', () => {
    expect(elfSymbols(elfWithSymbols(SYMBOLS))).toEqual(new Map(Object.entries(SYMBOLS)));
  });

  it('reads the table: names and u32 values, in table order', () => {
    const counters = readKernelCounters(elfWithSymbols(SYMBOLS), kernelMemory(COUNTERS));
    expect(counters).toEqual(COUNTERS);
    expect(counter(counters, 'swap_outs')).toBe(0xfffffffe);
    expect(counter(counters, 'swap_ins')).toBeUndefined();
  });

  it('formats one aligned line per counter', () => {
    expect(formatKernelCounters(COUNTERS.slice(0, 2))).toEqual(['kernel: minor_faults 12', 'kernel: major_faults 3']);
    expect(formatKernelCounters([])).toEqual([]);
  });

  it('gives null for a kernel without the symbols, or a table that does not make sense', () => {
    const ram = kernelMemory(COUNTERS);
    expect(readKernelCounters(elfWithSymbols({ other: 1 }), ram)).toBeNull();
    expect(readKernelCounters(new Uint8Array(100), ram)).toBeNull(); // not ELF
    // count out of range
    const big = kernelMemory(COUNTERS);
    new DataView(big.buffer).setUint32(0x800, 5000, true);
    expect(readKernelCounters(elfWithSymbols(SYMBOLS), big)).toBeNull();
    // a symbol below the kernel's base, or beyond RAM
    expect(readKernelCounters(elfWithSymbols({ ...SYMBOLS, kcounters: 0x1000 }), ram)).toBeNull();
    expect(readKernelCounters(elfWithSymbols({ ...SYMBOLS, nkcounters: KERNEL_BASE + 0x100000 }), ram)).toBeNull();
    // a value pointer outside RAM
    const badValue = kernelMemory(COUNTERS);
    new DataView(badValue.buffer).setUint32(0x1000 + 4, KERNEL_BASE + 0xfffe, true);
    expect(readKernelCounters(elfWithSymbols(SYMBOLS), badValue)).toBeNull();
    // a name that is not text
    const badName = kernelMemory(COUNTERS);
    badName[0x2000] = 0x01;
    expect(readKernelCounters(elfWithSymbols(SYMBOLS), badName)).toBeNull();
  });
});

describe('atlas386 run --stats: the Atlas kernel\'s counters', () => {
  it('prints one kernel: line per counter when the kernel exports them, none otherwise', () => {
    const exported = elfSymbols(readFileSync(join(root, 'build', 'kernel', 'kernel.elf'))).has('kcounters');
    const r = spawnSync(process.execPath, [join(root, 'dist', 'atlas386.mjs'), 'run', '--stats', 'hello'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('atlas386: kernel: '));
    if (!exported) {
      expect(lines).toEqual([]);
      return;
    }
    for (const line of lines) expect(line).toMatch(/^atlas386: kernel: [a-z0-9_]+ +\d+$/);
    const value = (name: string): number => Number(new RegExp(`kernel: ${name} +(\\d+)`).exec(r.stderr)?.[1]);
    expect(value('minor_faults') + value('major_faults')).toBeGreaterThan(0);
    expect(value('pages_resident_peak')).toBeGreaterThan(0);
    // The kernel lines follow the MMU's.
    expect(r.stderr.indexOf('kernel: ')).toBeGreaterThan(r.stderr.indexOf('page faults'));
  }, 60_000);
});
