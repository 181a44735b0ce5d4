// The debugger's building blocks (issue 8) against oracles from outside the
// project, run on the real kernel and on a user program:
// - disassembly (disasm.ts, iced-x86) against objdump -d, same AT&T syntax;
// - source lines (dwarf.ts) against readelf's decoded line table, every row;
// - symbols (symbols.ts) against nm.
//
// Needs binutils (objdump, readelf, nm) and the built kernel and programs
// (`npm run build`). Without binutils the tests skip with a warning, unless
// ATLAS386_REQUIRE_TOOLS=1 (CI), where they fail.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { disassemble } from '../emulator/host/disasm.js';
import { LineTable } from '../emulator/host/dwarf.js';
import { elfSections } from '../emulator/host/elf.js';
import { SymbolTable } from '../emulator/host/symbols.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const KERNEL = join(root, 'build', 'kernel', 'kernel.elf');
const HELLO = join(root, 'build', 'userland', 'hello');
const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';

function tool(name: string, args: string[]): string {
  const r = spawnSync(name, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) throw new Error(`${name} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

const missing = ['objdump', 'readelf', 'nm', 'gcc', 'ld'].filter((t) => spawnSync(t, ['--version']).error);
const skip = missing.length > 0 && !requireTools;
if (skip) console.warn(`debug-info tests skipped: ${missing.join(', ')} not found (install binutils and gcc)`);

/** The bytes at linear address `addr` of a loaded section of `elf`. */
function codeAt(elf: Uint8Array, addr: number): Uint8Array {
  const section = elfSections(elf).find((s) => s.addr !== 0 && addr >= s.addr && addr < s.addr + s.size);
  if (!section) throw new Error(`no section holds 0x${addr.toString(16)}`);
  return elf.subarray(section.offset + addr - section.addr, section.offset + section.size);
}

/**
 * objdump -d's instructions, text normalized for comparison: whitespace
 * collapsed and the `,%eiz,1` objdump writes for a SIB byte without an index
 * dropped (iced-x86 writes `0x0(%esi)` for `0x0(%esi,%eiz,1)`: the same operand).
 */
function objdumpInstructions(file: string, start: number, stop: number): { address: number; text: string }[] {
  const out = tool('objdump', ['-d', '--no-show-raw-insn', `--start-address=0x${start.toString(16)}`, `--stop-address=0x${stop.toString(16)}`, file]);
  return [...out.matchAll(/^\s*([0-9a-f]+):\t(.+)$/gm)].map((m) => ({
    address: parseInt(m[1], 16),
    text: m[2].replace(/\s+/g, ' ').replace(/,%eiz,1\)/g, ')').trim(),
  }));
}

/** Ours, in objdump's spelling of branch targets (`jne c01076c0 <...>`: no 0x). */
function normalizeOurs(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/ 0x([0-9a-f]+) </, ' $1 <');
}

describe.skipIf(skip)('disassembly (iced-x86) matches objdump', () => {
  const elf = readFileSync(KERNEL);
  const symbols = SymbolTable.fromElf(elf);

  it("the kernel's vm_fault, first 30 instructions, AT&T with symbols", () => {
    const start = symbols.lookup('vm_fault');
    expect(start).toBeDefined();
    const ours = disassemble(codeAt(elf, start!), start!, 30, (a) => symbols.format(a));
    const theirs = objdumpInstructions(KERNEL, start!, start! + 256).slice(0, 30);
    expect(ours).toHaveLength(30);
    expect(ours.map((i) => ({ address: i.address, text: normalizeOurs(i.text) }))).toEqual(theirs);
    // each instruction's bytes are where the next one starts
    for (let i = 1; i < ours.length; i++) expect(ours[i].address).toBe(ours[i - 1].address + ours[i - 1].bytes.length);
  });

  it('every instruction of the kernel from vm_fault to the end of .text, and all of hello\'s .text', () => {
    const check = (file: string, symbols: SymbolTable, start: number): void => {
      const elf = readFileSync(file);
      const text = elfSections(elf).find((s) => s.name === '.text')!;
      const theirs = objdumpInstructions(file, start, text.addr + text.size);
      const ours = disassemble(codeAt(elf, start), start, theirs.length + 1, (a) => symbols.format(a));
      expect(ours.map((i) => ({ address: i.address, text: normalizeOurs(i.text) }))).toEqual(theirs);
    };
    check(KERNEL, symbols, symbols.lookup('vm_fault')!);
    const hello = SymbolTable.fromElf(readFileSync(HELLO));
    check(HELLO, hello, elfSections(readFileSync(HELLO)).find((s) => s.name === '.text')!.addr);
  });

  it('undecodable bytes come out as (bad), one byte each, and decoding stops at the end of the input', () => {
    const out = disassemble(new Uint8Array([0x0f, 0xff, 0x90, 0x55]), 0x1000, 10);
    expect(out.map((i) => [i.address, i.text])).toEqual([
      [0x1000, '(bad)'],
      [0x1001, '(bad)'],
      [0x1002, 'nop'],
      [0x1003, 'push %ebp'],
    ]);
    // a call whose target no symbol covers keeps the bare address
    expect(disassemble(new Uint8Array([0xe8, 0, 0, 0, 0]), 0x2000, 1, () => undefined)[0].text).toBe('call 0x2005');
  });
});

interface DecodedRow {
  address: number;
  /** readelf's name: the file's base name. */
  file: string;
  /** The full name readelf printed when the file last changed (kernel/x86.h), when it printed one with a directory. */
  path?: string;
  line: number;
}

/** readelf --debug-dump=decodedline, the rows with a line number (not the end-of-sequence ones, which have `-`). */
function decodedLines(file: string): DecodedRow[] {
  const rows: DecodedRow[] = [];
  let path: string | undefined;
  for (const text of tool('readelf', ['--debug-dump=decodedline', '-W', file]).split('\n')) {
    const header = /^(?:CU: )?(\S.*):$/.exec(text);
    if (header) path = header[1].includes('/') ? header[1] : undefined;
    const row = /^(\S+)\s+(\d+)\s+(0x[0-9a-f]+)\b/.exec(text);
    if (row) rows.push({ file: row[1], line: Number(row[2]), address: parseInt(row[3], 16), path });
  }
  return rows;
}

function checkLines(file: string): number {
  const table = LineTable.fromElf(readFileSync(file));
  // of several rows at one address the last is the line its code belongs to
  const expected = new Map<number, DecodedRow>();
  for (const row of decodedLines(file)) expected.set(row.address, row);
  const wrong: string[] = [];
  for (const [address, row] of expected) {
    const got = table.lineFor(address);
    const fileOk = got !== undefined && basename(got.file) === row.file && (row.path === undefined || got.file === row.path || got.file.endsWith(`/${row.path}`));
    if (!fileOk || got?.line !== row.line) wrong.push(`0x${address.toString(16)}: ${got?.file}:${got?.line}, readelf ${row.path ?? row.file}:${row.line}`);
  }
  expect(wrong.slice(0, 10)).toEqual([]);
  return expected.size;
}

describe.skipIf(skip)('source lines (.debug_line) match readelf', () => {
  it('every address of the kernel', () => {
    expect(checkLines(KERNEL)).toBeGreaterThan(1000);
  });

  it('every address of hello (user programs are built with -g)', () => {
    expect(checkLines(HELLO)).toBeGreaterThan(50);
  });

  it('line tables of versions 3 to 5 (gcc -gdwarf-2 to -gdwarf-5) alike', () => {
    // a small program compiled for each version: gas writes version 3 for -gdwarf-2 and -gdwarf-3
    const dir = mkdtempSync(join(tmpdir(), 'atlas386-dwarf-'));
    try {
      const source = join(dir, 'x.c');
      writeFileSync(source, 'int g;\nstatic int sq(int x) {\n  return x * x;\n}\nint f(int n) {\n  int s = 0;\n  for (int i = 0; i < n; i++)\n    s += sq(i);\n  g = s;\n  return s;\n}\n');
      for (const version of [2, 4, 5]) {
        const object = join(dir, `x${version}.o`);
        const exe = join(dir, `x${version}`);
        tool('gcc', ['-m32', `-gdwarf-${version}`, '-O1', '-ffreestanding', '-nostdlib', '-fno-pic', '-c', source, '-o', object]);
        tool('ld', ['-m', 'elf_i386', '-e', 'f', '-o', exe, object]);
        expect(checkLines(exe), `-gdwarf-${version}`).toBeGreaterThan(3);
        const table = LineTable.fromElf(readFileSync(exe));
        expect(table.addressesFor('x.c', 9), `-gdwarf-${version}`).toHaveLength(1); // g = s;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names files as the table does and finds the addresses of file:line', () => {
    const elf = readFileSync(KERNEL);
    const table = LineTable.fromElf(elf);
    const vmFault = SymbolTable.fromElf(elf).lookup('vm_fault')!;
    const where = table.lineFor(vmFault);
    expect(where?.file).toBe('kernel/vmfault.c');
    expect(table.addressesFor('kernel/vmfault.c', where!.line)).toContain(vmFault);
    expect(table.addressesFor('vmfault.c', where!.line)).toEqual(table.addressesFor('kernel/vmfault.c', where!.line));
    expect(table.addressesFor('ault.c', where!.line)).toEqual([]); // whole path components only
    expect(table.files()).toContain('kernel/x86.h');

    const hello = readFileSync(HELLO);
    const main = SymbolTable.fromElf(hello).lookup('main')!;
    expect(LineTable.fromElf(hello).lineFor(main)?.file).toBe('userland/hello.c');
    expect(LineTable.fromElf(hello).files()).toContain('userland/libc/stdio.c');
  });

  it('an executable without .debug_line has an empty table', () => {
    const table = new LineTable([]);
    expect(table.lineFor(0x1000)).toBeUndefined();
    expect(table.addressesFor('x.c', 1)).toEqual([]);
  });
});

interface NmSymbol {
  address: number;
  size?: number;
  type: string;
  name: string;
}

function nmSymbols(file: string): NmSymbol[] {
  return [...tool('nm', ['-S', file]).matchAll(/^([0-9a-f]{8})(?: ([0-9a-f]{8}))? (\w) (\S+)$/gm)].map((m) => ({
    address: parseInt(m[1], 16),
    size: m[2] === undefined ? undefined : parseInt(m[2], 16),
    type: m[3],
    name: m[4],
  }));
}

function checkSymbols(file: string): void {
  const symbols = SymbolTable.fromElf(readFileSync(file));
  const nm = nmSymbols(file);
  expect(nm.length).toBeGreaterThan(10);
  const namesAt = new Map<number, Set<string>>();
  for (const s of nm) namesAt.set(s.address, (namesAt.get(s.address) ?? new Set()).add(s.name));
  for (const s of nm) {
    // globals are unique; a static name may be in several files, and lookup gives one of them
    const candidates = nm.filter((t) => t.name === s.name).map((t) => t.address);
    if (s.type === s.type.toUpperCase()) expect(symbols.lookup(s.name), s.name).toBe(s.address);
    else expect(candidates, s.name).toContain(symbols.lookup(s.name));
    if (!s.size || !'TtDdBbRr'.includes(s.type)) continue;
    // the first and last byte of a function or object are inside it
    for (const offset of [0, s.size - 1]) {
      const ref = symbols.nearest(s.address + offset);
      expect(ref?.offset, `${s.name}+${offset}`).toBe(offset);
      expect([...namesAt.get(s.address)!], `${s.name}+${offset}`).toContain(ref?.name);
    }
  }
  expect(symbols.lookup('no_such_symbol')).toBeUndefined();
}

describe.skipIf(skip)('symbols match nm', () => {
  it('the kernel', () => checkSymbols(KERNEL));
  it('hello', () => checkSymbols(HELLO));

  it('an address past the end of a sized symbol is not blamed on it', () => {
    const symbols = new SymbolTable([
      { name: 'f', value: 0x1000, size: 0x10, type: 2, bind: 1, shndx: 1 },
      { name: 'label', value: 0x2000, size: 0, type: 0, bind: 0, shndx: 1 },
    ]);
    expect(symbols.nearest(0x100f)).toEqual({ name: 'f', offset: 0xf });
    expect(symbols.nearest(0x1010)).toBeUndefined();
    expect(symbols.nearest(0xfff)).toBeUndefined();
    expect(symbols.format(0x2345)).toBe('label+0x345');
  });
});
