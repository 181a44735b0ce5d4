// Runs real-hardware fixture cases (test/cpu/fixtures, made by
// test/cpu/oracle/generate.mjs) on the CPU core, in the same environment the
// native runner gave them: a Linux i386 process at CPL 3 with its selectors,
// two 8 KiB data regions (DATA, and LOW below 64 KiB for 16-bit addressing)
// filled from the case's seed, and two code pages of int3 (CODE, and LCODE
// below 64 KiB for 16-bit operand-size branches).

import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { Cpu, Reg, Seg } from '../../emulator/host/cpu.js';

export const DATA = 0x00100000;
export const DATA_SIZE = 0x2000;
export const CODE = 0x00110000;
export const CODE_SIZE = 0x1000;
export const LOW = 0x00008000;
export const LOW_SIZE = 0x2000;
export const LCODE = 0x0000c000;
const GDT = 0x00001000;
export const RAM_BYTES = 0x00200000;

// The selectors Linux gives a 32-bit process: GDT entries 4 and 5.
export const USER_CS = 0x23;
export const USER_DS = 0x2b;

export interface FixtureCase {
  form: string;
  code: string;
  seed: number;
  in: { eip: number; regs: number[]; eflags: number; mem?: [number, string][] };
  out: {
    vector: number;
    eip: number;
    regs: number[];
    eflags: number;
    flagmask: number;
    mem: [number, string][];
    err?: number;
    sregs?: number[];
    undef_regs?: number[];
  };
}

export const FIXTURE_DIR = join(import.meta.dirname, 'fixtures');

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.jsonl.gz')).sort();
}

export function loadFixtures(file: string): FixtureCase[] {
  const text = gunzipSync(readFileSync(join(FIXTURE_DIR, file))).toString('utf8');
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as FixtureCase);
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export interface InitialMemory { data: Uint8Array; low: Uint8Array }

// The initial data regions: one xorshift32 sequence from the seed (words
// 0..2047 fill DATA, words 2048..4095 fill LOW), then the case's overrides
// (in either region), then the 36-byte popal/popfl image just below ESP (in DATA).
export function initialMemory(c: FixtureCase): InitialMemory {
  const data = new Uint8Array(DATA_SIZE);
  const low = new Uint8Array(LOW_SIZE);
  let x = c.seed >>> 0 || 1;
  for (const region of [data, low]) {
    const view = new DataView(region.buffer);
    for (let i = 0; i < region.length / 4; i++) {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      view.setUint32(4 * i, x, true);
    }
  }
  for (const [addr, hex] of c.in.mem ?? []) {
    if (addr >= LOW && addr < LOW + LOW_SIZE) low.set(hexBytes(hex), addr - LOW);
    else data.set(hexBytes(hex), addr - DATA);
  }
  const view = new DataView(data.buffer);
  const [eax, ecx, edx, ebx, esp, ebp, esi, edi] = c.in.regs;
  const image = [edi, esi, ebp, esp, ebx, edx, ecx, eax, c.in.eflags];
  image.forEach((v, i) => view.setUint32(esp - 36 - DATA + 4 * i, v >>> 0, true));
  return { data, low };
}

export function initialData(c: FixtureCase): Uint8Array {
  return initialMemory(c).data;
}

function putDescriptor(ram: Uint8Array, at: number, base: number, limit: number, access: number): void {
  const v = new DataView(ram.buffer, ram.byteOffset);
  v.setUint32(at, ((base & 0xffff) << 16) | (limit & 0xffff), true);
  v.setUint32(at + 4, (base & 0xff000000) | ((access & 0xf0ff) << 8) | (limit & 0xf0000) | ((base >>> 16) & 0xff), true);
}

export async function createCaseCpu(): Promise<Cpu> {
  const cpu = await Cpu.create({ ramBytes: RAM_BYTES });
  return cpu;
}

function prepare(cpu: Cpu, c: FixtureCase, mem: InitialMemory): void {
  const ram = cpu.ram;
  // GDT: null, three unused, then user code and user data (DPL 3, flat, accessed).
  ram.fill(0, GDT, GDT + 0x30);
  putDescriptor(ram, GDT + 0x20, 0, 0xfffff, 0xc0fb);
  putDescriptor(ram, GDT + 0x28, 0, 0xfffff, 0xc0f3);
  cpu.setGdtr(GDT, 0x2f);
  cpu.setCr(0, 0x11);
  cpu.setSegmentCache(Seg.CS, USER_CS, 0, 0xffffffff, 0xc0fb);
  for (const s of [Seg.ES, Seg.SS, Seg.DS]) cpu.setSegmentCache(s, USER_DS, 0, 0xffffffff, 0xc0f3);
  cpu.setSegmentCache(Seg.FS, 0, 0, 0, 0);
  cpu.setSegmentCache(Seg.GS, 0, 0, 0, 0);
  ram.set(mem.data, DATA);
  ram.set(mem.low, LOW);
  // both code pages are int3 everywhere; the instruction sits at in.eip, in either page
  ram.fill(0xcc, CODE, CODE + CODE_SIZE);
  ram.fill(0xcc, LCODE, LCODE + CODE_SIZE);
  ram.set(hexBytes(c.code), c.in.eip);
  c.in.regs.forEach((v, i) => cpu.setReg(i as Reg, v));
  cpu.eip = c.in.eip;
  cpu.eflags = c.in.eflags;
}

const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0');
const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

// Runs one case; returns a description of every difference (empty: a match).
// `translated`: run the instruction as a translated block instead of through
// the interpreter; returns null when the translator does not handle it.
export function runCase(cpu: Cpu, c: FixtureCase, translated = false): string[] | null {
  const mem = initialMemory(c);
  prepare(cpu, c, mem);
  cpu.discardTranslations();
  if (translated && !cpu.translateNow(c.in.eip)) return null;
  const result = translated ? cpu.run(1) : cpu.step();
  const diffs: string[] = [];
  const vector = result.reason === 'exception' ? result.vector! : -1;
  if (vector !== c.out.vector) diffs.push(`vector ${vector} (${result.reason}), expected ${c.out.vector}`);
  if (cpu.eip !== c.out.eip >>> 0) diffs.push(`eip ${hex(cpu.eip)}, expected ${hex(c.out.eip)}`);
  if (c.out.err !== undefined && result.errorCode !== c.out.err) {
    diffs.push(`error code ${result.errorCode}, expected ${c.out.err}`);
  }
  if (c.out.sregs) {
    const got = [Seg.ES, Seg.CS, Seg.SS, Seg.DS, Seg.FS, Seg.GS].map((s) => cpu.segmentSelector(s));
    if (got.join() !== c.out.sregs.join()) diffs.push(`selectors ${got}, expected ${c.out.sregs}`);
  }
  for (let r = 0; r < 8; r++) {
    if (c.out.undef_regs?.includes(r)) continue;
    const got = cpu.getReg(r as Reg);
    if (got !== c.out.regs[r] >>> 0) diffs.push(`${REG_NAMES[r]} ${hex(got)}, expected ${hex(c.out.regs[r])}`);
  }
  const mask = c.out.flagmask >>> 0;
  const flags = cpu.eflags;
  if (((flags ^ c.out.eflags) & mask) !== 0) {
    diffs.push(`eflags ${hex(flags)}, expected ${hex(c.out.eflags)} (mask ${hex(mask)}, differ ${hex((flags ^ c.out.eflags) & mask)})`);
  }
  // final memory of both regions == initial image with out.mem applied
  for (const [base, size, initial] of [[LOW, LOW_SIZE, mem.low], [DATA, DATA_SIZE, mem.data]] as const) {
    const expected = initial.slice();
    for (const [addr, bytes] of c.out.mem) {
      if (addr >= base && addr < base + size) expected.set(hexBytes(bytes), addr - base);
    }
    const actual = cpu.ram.subarray(base, base + size);
    for (let i = 0; i < size && diffs.length <= 12; i++) {
      if (actual[i] !== expected[i]) {
        diffs.push(`memory ${hex(base + i)} = ${actual[i].toString(16)}, expected ${expected[i].toString(16)}`);
      }
    }
  }
  return diffs;
}
