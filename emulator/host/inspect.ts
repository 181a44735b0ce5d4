// The debugger's views of the CPU (issue 8): registers with EFLAGS and the
// control registers decoded, segment registers with their descriptors,
// exceptions and their error codes, memory dumps through the page tables,
// backtraces that cross interrupt frames into user space, and disassembly
// listings with source lines. Pure functions over a Cpu (read only: nothing
// here changes what the guest sees) and a memory reader, returning lines of
// text or typed data with a formatter; the REPL and the gdb stub's `monitor`
// call them.
//
// Memory is read through the side-effect-free walker (Cpu.walk): no A/D bits,
// no TLB fills. A read that hits an unmapped page returns a ReadFailure that
// says where and why (the page walk's reason), never throws.

import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Reg, Seg, type AccessKind, type Cpu, type PageWalk } from './cpu.js';
import { disassemble } from './disasm.js';
import { LineTable, type SourceLine } from './dwarf.js';
import { elfSections, hex32 } from './elf.js';
import { KERNEL_BASE } from './kstats.js';
import { SymbolTable, type SymbolRef } from './symbols.js';

// ---- small helpers ----

/** `0x0804a000`: eight hex digits. */
export const hex8 = hex32;
const hex4 = (v: number): string => `0x${(v & 0xffff).toString(16).padStart(4, '0')}`;
const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** The kernel's half of the address space starts here (kernel/link.ld). */
export { KERNEL_BASE };

/** Names an address (`vm_fault+0x45`), or undefined when no symbol covers it. */
export type Symbolizer = (addr: number) => string | undefined;

/** What the debugger needs of a symbol table (SymbolTable has both). */
export interface SymbolLookup {
  format(addr: number): string | undefined;
  nearest(addr: number): SymbolRef | undefined;
}

function symbolizerOf(s: Symbolizer | SymbolLookup | undefined): Symbolizer {
  if (!s) return () => undefined;
  return typeof s === 'function' ? s : (a) => s.format(a);
}

// ---- memory readers ----

/** Why a read stopped: the first byte that could not be read, and the reason in words. */
export interface ReadFailure {
  failedAt: number;
  reason: string;
}

/** Reads `length` bytes at `address` (linear or physical, as the reader was made), or says why it cannot. */
export type MemoryReader = (address: number, length: number) => Uint8Array | ReadFailure;

export function isReadFailure(r: Uint8Array | ReadFailure): r is ReadFailure {
  return !(r instanceof Uint8Array);
}

/** Physical memory: `ram` itself; past its end a clear "beyond RAM" failure. */
export function physicalReader(ram: Uint8Array): MemoryReader {
  return (address, length) => {
    address >>>= 0;
    if (address + length > ram.length) {
      const failedAt = Math.max(address, ram.length) >>> 0;
      return { failedAt, reason: `physical address ${hex8(failedAt)} is beyond RAM (${ram.length / 1024} KiB, up to ${hex8(ram.length - 1)})` };
    }
    return ram.slice(address, address + length);
  };
}

/** Why a walk did not produce a physical address, e.g. `PDE[1] @0x00123004 = 0x00000000: not present`. */
export function walkFailureReason(walk: PageWalk): string {
  const linear = walk.linear;
  if ((walk.pde & 1) === 0) {
    return `not mapped: PDE[${linear >>> 22}] @${hex8(walk.pdeAddress)} = ${hex8(walk.pde)} not present (cr3=${hex8(walk.directory)})`;
  }
  if (walk.pte !== undefined && walk.pteAddress !== undefined && (walk.pte & 1) === 0) {
    return `not mapped: PTE[${(linear >>> 12) & 0x3ff}] @${hex8(walk.pteAddress)} = ${hex8(walk.pte)} not present (cr3=${hex8(walk.directory)})`;
  }
  if (walk.faultCode !== undefined) return `access denied: #PF error code ${hex(walk.faultCode)} (${decodeFaultCode(walk.faultCode)})`;
  return 'not mapped';
}

/**
 * Linear memory as the CPU sees it now (paging on: through the page tables at
 * `directory`, default CR3, as a supervisor read would; off: linear =
 * physical), with no side effects. An unmapped page gives a ReadFailure with
 * the page walk's reason; a frame beyond RAM too.
 */
export function linearReader(cpu: Cpu, opts: { directory?: number } = {}): MemoryReader {
  return (address, length) => {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const linear = (address + done) >>> 0;
      let physical = linear;
      if (opts.directory !== undefined || cpu.pagingEnabled) {
        const walk = cpu.walk(linear, { directory: opts.directory });
        if (walk.physical === undefined) return { failedAt: linear, reason: walkFailureReason(walk) };
        physical = walk.physical >>> 0;
      }
      const pageLeft = 0x1000 - (linear & 0xfff);
      const n = Math.min(pageLeft, length - done);
      if (physical + n > cpu.ram.length) {
        return { failedAt: linear, reason: `${hex8(linear)} maps to ${hex8(physical)}, beyond RAM (${cpu.ram.length / 1024} KiB)` };
      }
      out.set(cpu.ram.subarray(physical, physical + n), done);
      done += n;
    }
    return out;
  };
}

/** A little-endian u32 through a reader, or undefined. */
export function readU32(read: MemoryReader, address: number): number | undefined {
  const r = read(address >>> 0, 4);
  if (isReadFailure(r)) return undefined;
  return (r[0]! | (r[1]! << 8) | (r[2]! << 16) | (r[3]! << 24)) >>> 0;
}

// ---- page walks (also `monitor pagewalk` in gdbstub.ts) ----

const ENTRY_FLAGS: [number, string][] = [[1, 'W'], [2, 'U'], [3, 'PWT'], [4, 'PCD'], [5, 'A'], [6, 'D'], [8, 'G']];

/** A page-table entry's flags, e.g. `P W U A`; `not present` when bit 0 is clear. */
export function entryFlags(entry: number, pde: boolean): string {
  if ((entry & 1) === 0) return 'not present';
  const names = ['P'];
  for (const [bit, name] of ENTRY_FLAGS) if ((entry >>> bit) & 1) names.push(name);
  if ((entry >>> 7) & 1) names.push(pde ? 'PS' : 'PAT');
  const avl = (entry >>> 9) & 7;
  if (avl !== 0) names.push(`avl=${avl}`);
  return names.join(' ');
}

/** A #PF error code in words, e.g. `not present, write, user`. */
export function decodeFaultCode(code: number): string {
  const parts = [
    code & 1 ? 'protection' : 'not present',
    code & 16 ? 'fetch' : code & 2 ? 'write' : 'read',
    code & 4 ? 'user' : 'supervisor',
  ];
  if (code & 8) parts.push('reserved bit');
  return parts.join(', ');
}

/** A page walk in lines: the PDE, the PTE, their flags, the physical address or the fault. */
export function formatPageWalk(walk: PageWalk, access: AccessKind, user: boolean): string[] {
  const linear = walk.linear;
  const lines = [`${hex8(linear)} (${user ? 'user' : 'supervisor'} ${access}) cr3=${hex8(walk.directory)}`];
  lines.push(`  PDE[${linear >>> 22}] @${hex8(walk.pdeAddress)} = ${hex8(walk.pde)}  ${entryFlags(walk.pde, true)}`);
  if (walk.pte !== undefined && walk.pteAddress !== undefined) {
    lines.push(`  PTE[${(linear >>> 12) & 0x3ff}] @${hex8(walk.pteAddress)} = ${hex8(walk.pte)}  ${entryFlags(walk.pte, false)}`);
  } else if (walk.large && walk.pde & 1) {
    lines.push('  (4 MiB page)');
  }
  if (walk.physical !== undefined) lines.push(`  physical ${hex8(walk.physical)}`);
  if (walk.faultCode !== undefined) {
    const step = (walk.pde & 1) === 0 ? 'at the PDE' : walk.physical === undefined ? 'at the PTE' : 'on the permissions';
    lines.push(`  #PF ${step}: error code ${hex(walk.faultCode)} (${decodeFaultCode(walk.faultCode)})`);
  }
  return lines;
}

// ---- 1. registers ----

const EFLAGS_BITS: [number, string][] = [
  [21, 'ID'], [20, 'VIP'], [19, 'VIF'], [18, 'AC'], [17, 'VM'], [16, 'RF'], [14, 'NT'], [11, 'OF'], [10, 'DF'],
  [9, 'IF'], [8, 'TF'], [7, 'SF'], [6, 'ZF'], [4, 'AF'], [2, 'PF'], [0, 'CF'],
];
const CR0_BITS: [number, string][] = [
  [31, 'PG'], [30, 'CD'], [29, 'NW'], [18, 'AM'], [16, 'WP'], [5, 'NE'], [4, 'ET'], [3, 'TS'], [2, 'EM'], [1, 'MP'], [0, 'PE'],
];
const CR4_BITS: [number, string][] = [
  [10, 'OSXMMEXCPT'], [9, 'OSFXSR'], [8, 'PCE'], [7, 'PGE'], [6, 'MCE'], [5, 'PAE'], [4, 'PSE'], [3, 'DE'], [2, 'TSD'], [1, 'PVI'], [0, 'VME'],
];

function flagNames(value: number, bits: [number, string][]): string[] {
  return bits.filter(([bit]) => (value >>> bit) & 1).map(([, name]) => name);
}

/** `eflags 0x00000246 [ IF ZF PF ] IOPL=0` (flags from the highest bit down). */
export function decodeEflags(value: number): string {
  return `eflags ${hex8(value)} [ ${[...flagNames(value, EFLAGS_BITS), ''].join(' ')}] IOPL=${(value >>> 12) & 3}`;
}

/** `cr0 0x80010011 [ PG WP ET PE ]`. */
export function decodeCr0(value: number): string {
  return `cr0 ${hex8(value)} [ ${[...flagNames(value, CR0_BITS), ''].join(' ')}]`;
}

/** `cr3 0x00123000 [ directory 0x00123000 PWT PCD ]` (PWT and PCD only when set). */
export function decodeCr3(value: number): string {
  const extra = [(value >>> 3) & 1 ? 'PWT' : '', (value >>> 4) & 1 ? 'PCD' : ''].filter((s) => s !== '');
  return `cr3 ${hex8(value)} [ directory ${hex8(value & ~0xfff)} ${[...extra, ''].join(' ')}]`;
}

/** `cr4 0x00000090 [ PGE PSE ]`. */
export function decodeCr4(value: number): string {
  return `cr4 ${hex8(value)} [ ${[...flagNames(value, CR4_BITS), ''].join(' ')}]`;
}

export const REGISTER_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export const SEGMENT_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

export interface RegisterState {
  /** eax..edi by name. */
  general: Record<(typeof REGISTER_NAMES)[number], number>;
  eip: number;
  eflags: number;
  /** Selectors by name. */
  segments: Record<(typeof SEGMENT_NAMES)[number], number>;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  cpl: number;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  tr: number;
  ldtr: number;
}

export function readRegisters(cpu: Cpu): RegisterState {
  const general = Object.fromEntries(REGISTER_NAMES.map((n, i) => [n, cpu.getReg(i as Reg)])) as RegisterState['general'];
  const segments = Object.fromEntries(SEGMENT_NAMES.map((n, i) => [n, cpu.segmentSelector(i as Seg)])) as RegisterState['segments'];
  return {
    general, eip: cpu.eip, eflags: cpu.eflags, segments,
    cr0: cpu.getCr(0), cr2: cpu.getCr(2), cr3: cpu.getCr(3), cr4: cpu.getCr(4),
    cpl: cpu.cpl, gdtr: cpu.gdtr, idtr: cpu.idtr, tr: cpu.taskRegister, ldtr: cpu.ldtr,
  };
}

/** The register state in lines, EIP with its symbol. */
export function formatRegisters(s: RegisterState, symbolize?: Symbolizer | SymbolLookup): string[] {
  const name = symbolizerOf(symbolize)(s.eip);
  const g = s.general;
  const row = (names: (typeof REGISTER_NAMES)[number][]): string => names.map((n) => `${n} ${hex8(g[n])}`).join('  ');
  return [
    row(['eax', 'ebx', 'ecx', 'edx']),
    row(['esi', 'edi', 'ebp', 'esp']),
    `eip ${hex8(s.eip)}${name === undefined ? '' : ` <${name}>`}`,
    decodeEflags(s.eflags),
    (['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const).map((n) => `${n} ${hex4(s.segments[n])}`).join('  '),
    decodeCr0(s.cr0),
    `cr2 ${hex8(s.cr2)}`,
    decodeCr3(s.cr3),
    decodeCr4(s.cr4),
    `cpl ${s.cpl}  gdtr base=${hex8(s.gdtr.base)} limit=${hex4(s.gdtr.limit)}  idtr base=${hex8(s.idtr.base)} limit=${hex4(s.idtr.limit)}  tr ${hex4(s.tr)}  ldtr ${hex4(s.ldtr)}`,
  ];
}

/** readRegisters + formatRegisters. */
export function registers(cpu: Cpu, symbolize?: Symbolizer | SymbolLookup): string[] {
  return formatRegisters(readRegisters(cpu), symbolize);
}

// ---- 2. segments ----

export interface SelectorFields {
  index: number;
  /** Table indicator: the LDT rather than the GDT. */
  ldt: boolean;
  rpl: number;
}

export function decodeSelector(selector: number): SelectorFields {
  return { index: (selector & 0xffff) >>> 3, ldt: (selector & 4) !== 0, rpl: selector & 3 };
}

/** `index 1 GDT RPL 0`, or `null selector`. */
export function formatSelector(selector: number): string {
  const f = decodeSelector(selector);
  if (f.index === 0 && !f.ldt) return `null selector (RPL ${f.rpl})`;
  return `index ${f.index} ${f.ldt ? 'LDT' : 'GDT'} RPL ${f.rpl}`;
}

/** A descriptor's fields; `access` is descriptor bits 40-55 as the CPU's segment cache keeps them. */
export interface Descriptor {
  base: number;
  /** The limit in bytes (scaled by 4 KiB when G is set). */
  limit: number;
  access: number;
  type: number;
  /** S: a code or data segment (false: a system descriptor). */
  codeOrData: boolean;
  dpl: number;
  present: boolean;
  /** D/B: 32-bit code, or a big stack / 4 GiB expand-down data segment. */
  big: boolean;
  /** G: limit in 4 KiB units. */
  granular: boolean;
}

/** A descriptor from its two words (low: bytes 0-3, high: bytes 4-7). */
export function decodeDescriptor(low: number, high: number): Descriptor {
  const base = ((low >>> 16) | ((high & 0xff) << 16) | (high & 0xff000000)) >>> 0;
  const raw = (low & 0xffff) | (high & 0x000f0000);
  const granular = (high & (1 << 23)) !== 0;
  const limit = (granular ? (raw << 12) | 0xfff : raw) >>> 0;
  return { base, limit, ...accessFields((high >>> 8) & 0xf0ff) };
}

function accessFields(access: number): Omit<Descriptor, 'base' | 'limit'> {
  return {
    access, type: access & 0xf, codeOrData: (access & 0x10) !== 0, dpl: (access >>> 5) & 3, present: (access & 0x80) !== 0,
    big: (access & 0x4000) !== 0, granular: (access & 0x8000) !== 0,
  };
}

const SYSTEM_TYPES: Record<number, string> = {
  1: '16-bit TSS (available)', 2: 'LDT', 3: '16-bit TSS (busy)', 4: '16-bit call gate', 5: 'task gate',
  6: '16-bit interrupt gate', 7: '16-bit trap gate', 9: '32-bit TSS (available)', 11: '32-bit TSS (busy)',
  12: '32-bit call gate', 14: '32-bit interrupt gate', 15: '32-bit trap gate',
};

/**
 * The access bits in words, e.g. `code execute/read, accessed, DPL 0,
 * present, 32-bit, G` or `data read/write, DPL 3, present, big, G`.
 */
export function describeAccess(access: number): string {
  const d = accessFields(access);
  const parts: string[] = [];
  if (d.codeOrData) {
    if (d.type & 8) {
      parts.push(`code ${d.type & 2 ? 'execute/read' : 'execute-only'}`);
      if (d.type & 4) parts.push('conforming');
    } else {
      parts.push(`data ${d.type & 2 ? 'read/write' : 'read-only'}`);
      if (d.type & 4) parts.push('expand-down');
    }
    if (d.type & 1) parts.push('accessed');
  } else {
    parts.push(`system: ${SYSTEM_TYPES[d.type] ?? `reserved type ${d.type}`}`);
  }
  parts.push(`DPL ${d.dpl}`, d.present ? 'present' : 'not present');
  if (d.codeOrData) parts.push(d.type & 8 ? (d.big ? '32-bit' : '16-bit') : d.big ? 'big' : 'small');
  if (d.granular) parts.push('G');
  return parts.join(', ');
}

export interface SegmentView {
  /** cs, ss, ds, es, fs, gs, tr, ldtr. */
  name: string;
  selector: number;
  fields: SelectorFields;
  /** The descriptor in the GDT (or LDT) as it reads now; absent for a null selector. */
  descriptor?: Descriptor;
  /** The descriptor's address and words. */
  descriptorAddress?: number;
  raw?: [low: number, high: number];
  /** Why the descriptor could not be read (beyond the table's limit, unmapped). */
  descriptorError?: string;
  /** The segment register's hidden cache (what the CPU uses), for cs..gs. */
  cache?: { base: number; limit: number; access: Descriptor };
}

/** Reads the descriptor `selector` names, from the GDT (or the LDT, whose base comes from its own GDT descriptor). */
export function readDescriptor(cpu: Cpu, read: MemoryReader, selector: number): Pick<SegmentView, 'descriptor' | 'descriptorAddress' | 'raw' | 'descriptorError'> {
  const f = decodeSelector(selector);
  if (f.index === 0 && !f.ldt) return {};
  let tableBase = cpu.gdtr.base;
  let tableLimit = cpu.gdtr.limit;
  if (f.ldt) {
    const ldtr = cpu.ldtr;
    if ((ldtr & 0xfffc) === 0) return { descriptorError: 'TI=1 but LDTR is null' };
    const ldt = readDescriptor(cpu, read, ldtr & 0xfffb);
    if (!ldt.descriptor) return { descriptorError: `cannot read the LDT descriptor: ${ldt.descriptorError ?? 'null'}` };
    tableBase = ldt.descriptor.base;
    tableLimit = ldt.descriptor.limit;
  }
  const offset = f.index * 8;
  const table = f.ldt ? 'LDT' : 'GDT';
  if (offset + 7 > tableLimit) return { descriptorError: `index ${f.index} is beyond the ${table} limit ${hex4(tableLimit)}` };
  const address = (tableBase + offset) >>> 0;
  const bytes = read(address, 8);
  if (isReadFailure(bytes)) return { descriptorAddress: address, descriptorError: `${table} entry at ${hex8(address)}: ${bytes.reason}` };
  const v = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const low = v.getUint32(0, true), high = v.getUint32(4, true);
  return { descriptor: decodeDescriptor(low, high), descriptorAddress: address, raw: [low, high] };
}

/** CS SS DS ES FS GS, TR and LDTR: selector, descriptor from the table (through the current paging) and the hidden cache. */
export function readSegments(cpu: Cpu, read: MemoryReader): SegmentView[] {
  const order: [string, Seg][] = [['cs', Seg.CS], ['ss', Seg.SS], ['ds', Seg.DS], ['es', Seg.ES], ['fs', Seg.FS], ['gs', Seg.GS]];
  const views: SegmentView[] = order.map(([name, seg]) => {
    const selector = cpu.segmentSelector(seg);
    const access = cpu.segmentAccess(seg);
    return {
      name, selector, fields: decodeSelector(selector), ...readDescriptor(cpu, read, selector),
      cache: { base: cpu.segmentBase(seg), limit: cpu.segmentLimit(seg), access: { base: cpu.segmentBase(seg), limit: cpu.segmentLimit(seg), ...accessFields(access) } },
    };
  });
  for (const [name, selector] of [['tr', cpu.taskRegister], ['ldtr', cpu.ldtr]] as [string, number][]) {
    views.push({ name, selector, fields: decodeSelector(selector), ...readDescriptor(cpu, read, selector) });
  }
  return views;
}

function describeDescriptor(d: Descriptor): string {
  return `base=${hex8(d.base)} limit=${hex8(d.limit)} ${describeAccess(d.access)}`;
}

export function formatSegments(views: SegmentView[]): string[] {
  const lines: string[] = [];
  for (const v of views) {
    lines.push(`${v.name.padEnd(4)} ${hex4(v.selector)} (${formatSelector(v.selector)})`);
    if (v.descriptor) lines.push(`     descriptor @${hex8(v.descriptorAddress!)} = ${hex8(v.raw![1])}:${hex8(v.raw![0])}  ${describeDescriptor(v.descriptor)}`);
    else if (v.descriptorError) lines.push(`     descriptor: ${v.descriptorError}`);
    if (v.cache) lines.push(`     cache      base=${hex8(v.cache.base)} limit=${hex8(v.cache.limit)} ${describeAccess(v.cache.access.access)}`);
  }
  return lines;
}

/** readSegments + formatSegments. */
export function segments(cpu: Cpu, read: MemoryReader): string[] {
  return formatSegments(readSegments(cpu, read));
}

/** Every GDT entry, one line each (`gdt` command). */
export function gdtEntries(cpu: Cpu, read: MemoryReader): string[] {
  const { base, limit } = cpu.gdtr;
  const lines = [`gdt base=${hex8(base)} limit=${hex4(limit)} (${Math.floor((limit + 1) / 8)} entries)`];
  for (let i = 0; i * 8 + 7 <= limit; i++) {
    const d = readDescriptor(cpu, read, i * 8);
    if (i === 0) { lines.push(`  [0] ${hex4(0)} null`); continue; }
    lines.push(d.descriptor ? `  [${i}] ${hex4(i * 8)} ${describeDescriptor(d.descriptor)}` : `  [${i}] ${hex4(i * 8)} ${d.descriptorError}`);
  }
  return lines;
}

// ---- 3. exceptions ----

export const EXCEPTIONS: Record<number, [mnemonic: string, name: string, errorCode: boolean]> = {
  0: ['#DE', 'divide error', false], 1: ['#DB', 'debug', false], 2: ['NMI', 'non-maskable interrupt', false],
  3: ['#BP', 'breakpoint', false], 4: ['#OF', 'overflow', false], 5: ['#BR', 'bound range exceeded', false],
  6: ['#UD', 'invalid opcode', false], 7: ['#NM', 'device not available', false], 8: ['#DF', 'double fault', true],
  9: ['', 'coprocessor segment overrun', false], 10: ['#TS', 'invalid TSS', true], 11: ['#NP', 'segment not present', true],
  12: ['#SS', 'stack fault', true], 13: ['#GP', 'general protection', true], 14: ['#PF', 'page fault', true],
  16: ['#MF', 'x87 floating-point error', false], 17: ['#AC', 'alignment check', true], 18: ['#MC', 'machine check', false],
  19: ['#XM', 'SIMD floating-point error', false],
};

export interface ExceptionInfo {
  vector: number;
  /** `#PF`; `INT 0x80` and `IRQ n` style names for the rest. */
  mnemonic: string;
  name: string;
  errorCode?: number;
  /** The error code in words; absent when the vector has none. */
  errorText?: string;
  /** One line: `#PF (14) page fault: not-present write from user mode at 0x0804a000`. */
  summary: string;
}

/** A #PF error code as a phrase: `not-present write from user mode`, `protection violation on read from supervisor mode`. */
export function describePageFault(code: number): string {
  const access = code & 16 ? 'instruction fetch' : code & 2 ? 'write' : 'read';
  const mode = code & 4 ? 'user' : 'supervisor';
  let text = code & 1 ? `protection violation on ${access} from ${mode} mode` : `not-present ${access} from ${mode} mode`;
  if (code & 8) text += ', reserved bit set in a paging entry';
  return text;
}

/** A selector error code (#TS #NP #SS #GP): `GDT index 5 (selector 0x28)`, `IDT vector 13`, `+ EXT`; 0: no selector. */
export function describeSelectorError(code: number): string {
  if ((code & 0xffff) === 0) return 'no selector (error code 0)';
  const index = (code & 0xfff8) >>> 3;
  let text: string;
  if (code & 2) text = `IDT vector ${index} (${hex(index)})`;
  else text = `${code & 4 ? 'LDT' : 'GDT'} index ${index} (selector ${hex4(code & 0xfffc)})`;
  if (code & 1) text += ', EXT: during delivery of an external event';
  return text;
}

/** Names vector `vector` and decodes its error code (cr2: the faulting address of a #PF). */
export function decodeException(vector: number, errorCode?: number, cr2?: number): ExceptionInfo {
  const known = EXCEPTIONS[vector];
  let mnemonic: string, name: string;
  if (known) [mnemonic, name] = known;
  else if (vector >= 32 && vector < 48) { mnemonic = `IRQ ${vector - 32}`; name = 'hardware interrupt (8259A, vectors 32-47 as Atlas maps them)'; }
  else if (vector === 0x80) { mnemonic = 'INT 0x80'; name = 'system call'; }
  else { mnemonic = `INT ${hex(vector)}`; name = vector < 32 ? 'reserved exception' : 'software interrupt'; }
  if (mnemonic === '') mnemonic = `#${vector}`;
  const info: ExceptionInfo = { vector, mnemonic, name, summary: '' };
  const hasCode = known?.[2] ?? false;
  if (errorCode !== undefined && hasCode) {
    info.errorCode = errorCode >>> 0;
    if (vector === 14) info.errorText = describePageFault(errorCode);
    else if (vector === 8 || vector === 17) info.errorText = `error code ${hex(errorCode)} (always 0)`;
    else info.errorText = describeSelectorError(errorCode);
  }
  let summary = `${mnemonic} (${vector}) ${name}`;
  if (info.errorText !== undefined) summary += `: ${info.errorText}, error code ${hex(info.errorCode!)}`;
  if (vector === 14 && cr2 !== undefined) summary += ` at ${hex8(cr2)}`;
  info.summary = summary;
  return info;
}

// ---- 4. memory dumps ----

export type DumpFormat = 'x' | 'd' | 'u' | 'o' | 't' | 'c' | 's' | 'i';
export type DumpUnit = 1 | 2 | 4;

export interface DumpOptions {
  symbolize?: Symbolizer | SymbolLookup;
  /** For `i`: mark this address with `=>`. */
  eip?: number;
  /** For `i`: source lines (objdump -S style). */
  lineFor?: (addr: number) => SourceLine | undefined;
  sourceText?: SourceText;
}

/** The address prefix of a dump line: `0xc0100000 <kmain+0x10>:`. */
function addressLabel(address: number, symbolize: Symbolizer): string {
  const name = symbolize(address);
  return `${hex8(address)}${name === undefined ? '' : ` <${name}>`}:`;
}

function formatUnit(value: number, unit: DumpUnit, format: DumpFormat): string {
  const bits = unit * 8;
  switch (format) {
    case 'd': return String(bits === 32 ? value | 0 : (value << (32 - bits)) >> (32 - bits));
    case 'u': return String(value >>> 0);
    case 'o': return `0${(value >>> 0).toString(8)}`;
    case 't': return (value >>> 0).toString(2).padStart(bits, '0');
    case 'c': return `${value & 0xff} ${charLiteral(value & 0xff)}`;
    default: return `0x${(value >>> 0).toString(16).padStart(unit * 2, '0')}`;
  }
}

function charLiteral(b: number): string {
  const escapes: Record<number, string> = { 0: '\\0', 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };
  if (escapes[b] !== undefined) return `'${escapes[b]}'`;
  if (b >= 0x20 && b < 0x7f) return `'${String.fromCharCode(b)}'`;
  return `'\\${b.toString(8).padStart(3, '0')}'`;
}

function stringLiteral(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b === 34 ? '\\"' : b === 39 ? "'" : charLiteral(b).slice(1, -1);
  return `"${s}"`;
}

/**
 * `x/COUNT{UNIT}{FORMAT} ADDRESS` as gdb prints it: `count` units of `unit`
 * bytes (c: bytes; s: NUL-terminated strings; i: instructions), a line per
 * 16 bytes (8 chars). Where the memory cannot be read (an unmapped page
 * through a linearReader, beyond RAM through a physicalReader), what came
 * before is printed and then one line with the address and the reason.
 */
export function dumpMemory(read: MemoryReader, address: number, count: number, unit: DumpUnit, format: DumpFormat, opts: DumpOptions = {}): string[] {
  address >>>= 0;
  const symbolize = symbolizerOf(opts.symbolize);
  const failureLine = (f: ReadFailure): string => `${hex8(f.failedAt)}: cannot read: ${f.reason}`;
  if (format === 'i') {
    return listing(read, address, count, opts.symbolize ?? symbolize, opts.lineFor, { eip: opts.eip, sourceText: opts.sourceText });
  }
  if (format === 's') {
    const lines: string[] = [];
    let at = address;
    for (let n = 0; n < count; n++) {
      const bytes: number[] = [];
      let failure: ReadFailure | undefined;
      for (; bytes.length < 200; ) {
        const r = read((at + bytes.length) >>> 0, 1);
        if (isReadFailure(r)) { failure = r; break; }
        if (r[0] === 0) break;
        bytes.push(r[0]!);
      }
      if (failure && bytes.length === 0) { lines.push(failureLine(failure)); break; }
      lines.push(`${addressLabel(at, symbolize)}\t${stringLiteral(Uint8Array.from(bytes))}${bytes.length === 200 ? '...' : ''}`);
      if (failure) { lines.push(failureLine(failure)); break; }
      at = (at + bytes.length + 1) >>> 0;
    }
    return lines;
  }
  if (format === 'c') unit = 1;
  const total = count * unit;
  let data = read(address, total);
  let failure: ReadFailure | undefined;
  if (isReadFailure(data)) {
    failure = data;
    const readable = (data.failedAt - address) >>> 0;
    const prefix = readable > 0 && readable < total ? read(address, readable) : new Uint8Array(0);
    data = isReadFailure(prefix) ? new Uint8Array(0) : prefix;
  }
  const perLine = unit === 4 ? (format === 't' ? 2 : 4) : format === 't' && unit === 2 ? 4 : 8;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const lines: string[] = [];
  const units = Math.floor(data.length / unit);
  for (let i = 0; i < units; i += perLine) {
    const values: string[] = [];
    for (let j = i; j < Math.min(units, i + perLine); j++) {
      const v = unit === 1 ? view.getUint8(j) : unit === 2 ? view.getUint16(j * 2, true) : view.getUint32(j * 4, true);
      values.push(formatUnit(v, unit, format));
    }
    lines.push(`${addressLabel((address + i * unit) >>> 0, symbolize)}\t${values.join('\t')}`);
  }
  if (failure) lines.push(failureLine(failure));
  return lines;
}

// ---- 5. backtraces ----

/** Where the kernel's struct trapframe keeps what the backtrace needs (the kernel's `ktrapframe_layout`). */
export interface TrapframeLayout {
  size: number;
  trapno: number;
  err: number;
  eip: number;
  cs: number;
  eflags: number;
  esp: number;
  ss: number;
  ebp: number;
}

const LAYOUT_FIELDS = ['size', 'trapno', 'err', 'eip', 'cs', 'eflags', 'esp', 'ss', 'ebp'] as const;

/** The layout from ktrapframe_layout's nine u32 words: sizeof, then the offsets of trapno err eip cs eflags esp ss ebp. */
export function parseTrapframeLayout(words: ArrayLike<number>): TrapframeLayout {
  if (words.length < LAYOUT_FIELDS.length) throw new Error(`ktrapframe_layout: ${words.length} words, expected ${LAYOUT_FIELDS.length}`);
  const layout = Object.fromEntries(LAYOUT_FIELDS.map((f, i) => [f, words[i]! >>> 0])) as unknown as TrapframeLayout;
  if (layout.size < 20 || layout.size > 4096 || LAYOUT_FIELDS.slice(1).some((f) => layout[f] % 4 !== 0 || layout[f] + 4 > layout.size)) {
    throw new Error(`ktrapframe_layout does not make sense: ${Array.from(words).join(' ')}`);
  }
  return layout;
}

/** ktrapframe_layout read from the kernel's ELF file (its initialized data); undefined when the kernel does not export it. */
export function trapframeLayoutFromElf(elf: Uint8Array, symbols: SymbolTable = SymbolTable.fromElf(elf)): TrapframeLayout | undefined {
  const at = symbols.lookup('ktrapframe_layout');
  if (at === undefined) return undefined;
  const bytes = elfBytesAt(elf, at, LAYOUT_FIELDS.length * 4);
  if (!bytes) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return parseTrapframeLayout(LAYOUT_FIELDS.map((_, i) => v.getUint32(i * 4, true)));
}

/** The file bytes of `length` bytes at virtual address `addr` of an ELF's loaded sections (not .bss). */
export function elfBytesAt(elf: Uint8Array, addr: number, length: number): Uint8Array | undefined {
  const SHT_NOBITS = 8;
  const s = elfSections(elf).find((x) => x.addr !== 0 && x.type !== SHT_NOBITS && addr >= x.addr && addr + length <= x.addr + x.size);
  if (!s || s.offset + (addr - s.addr) + length > elf.length) return undefined;
  return elf.subarray(s.offset + addr - s.addr, s.offset + addr - s.addr + length);
}

export interface BacktraceOptions {
  /** Kernel symbols (addresses at or above kernelBase). */
  symbols?: Symbolizer | SymbolLookup;
  /** The user program's symbols (addresses below kernelBase). */
  userSymbols?: Symbolizer | SymbolLookup;
  /** The address of `trapret`: a return to it, or to the `add $4,%esp` just before it, marks trap()'s caller alltraps. */
  trapret?: number;
  /** Needed to cross an interrupt frame; without it the walk stops at trapret. */
  trapframe?: TrapframeLayout;
  /** Default 64. */
  maxFrames?: number;
  kernelBase?: number;
  /** Start here instead of the CPU's registers (e.g. a sleeping process's saved context). */
  start?: { eip: number; ebp: number; esp: number };
}

export interface CodeFrame {
  kind: 'frame';
  /** #n. */
  level: number;
  pc: number;
  /** The frame pointer (ebp) of this frame, when known. */
  fp: number;
  user: boolean;
  symbol?: string;
}

export interface InterruptFrame {
  kind: 'interrupt';
  /** Where the struct trapframe is. */
  address: number;
  trapno: number;
  err: number;
  eip: number;
  cs: number;
  eflags: number;
  ebp: number;
  /** Present when it came from user mode. */
  esp?: number;
  ss?: number;
  fromUser: boolean;
}

export interface BacktraceEnd {
  kind: 'end';
  /** `outermost` (ebp 0): a clean end; the others say why the walk gave up. */
  reason: 'outermost' | 'bad-frame-pointer' | 'loop' | 'max-frames' | 'unreadable-trapframe' | 'no-trapframe-layout';
  message?: string;
}

export type BacktraceEntry = CodeFrame | InterruptFrame | BacktraceEnd;

/** Bytes of a `push %ebp; mov %esp,%ebp` prologue. */
const PUSH_EBP = 0x55;

/**
 * Walks the frame-pointer chain ([ebp] the caller's ebp, [ebp+4] the return
 * address) from the CPU's EIP/EBP. A return address equal to `trapret`
 * means the caller is alltraps, and above the frame is a struct trapframe
 * (the tf argument at [ebp+8]): it is reported as an interrupt frame and
 * the walk goes on from tf->eip with tf->ebp (in user space when tf->cs's
 * RPL is 3, named with userSymbols). At the first instruction of a function
 * (or just after its `push %ebp`), where EBP is still the caller's, the
 * return address is read from the stack instead. Stops cleanly at ebp 0, at
 * an unaligned or unmapped ebp, at a loop, and after maxFrames frames.
 */
export function backtrace(cpu: Cpu, read: MemoryReader, opts: BacktraceOptions = {}): BacktraceEntry[] {
  const kernelBase = opts.kernelBase ?? KERNEL_BASE;
  const maxFrames = opts.maxFrames ?? 64;
  const lookups = { kernel: opts.symbols, user: opts.userSymbols };
  const lookupFor = (addr: number): Symbolizer | SymbolLookup | undefined => ((addr >>> 0) >= kernelBase ? lookups.kernel : lookups.user);
  const nameOf = (pc: number, isReturn: boolean): string | undefined => {
    const s = lookupFor(pc);
    if (!s) return undefined;
    if (typeof s === 'function') return s(pc);
    if (!isReturn) return s.format(pc);
    // a return address may be just past the function (a call to a noreturn function): name the call's function
    const ref = s.nearest(pc - 1);
    return ref ? `${ref.name}+0x${(ref.offset + 1).toString(16)}` : undefined;
  };
  const out: BacktraceEntry[] = [];
  let level = 0;
  const push = (pc: number, fp: number, isReturn: boolean): void => {
    const frame: CodeFrame = { kind: 'frame', level: level++, pc: pc >>> 0, fp: fp >>> 0, user: (pc >>> 0) < kernelBase };
    const symbol = nameOf(pc >>> 0, isReturn);
    if (symbol !== undefined) frame.symbol = symbol;
    out.push(frame);
  };

  const start = opts.start ?? { eip: cpu.eip, ebp: cpu.getReg(Reg.EBP), esp: cpu.getReg(Reg.ESP) };
  let pc = start.eip >>> 0;
  let fp = start.ebp >>> 0;
  let esp: number | undefined = start.esp >>> 0;
  push(pc, fp, false);
  const seen = new Set<number>();

  for (;;) {
    if (level >= maxFrames) { out.push({ kind: 'end', reason: 'max-frames', message: `stopped after ${maxFrames} frames` }); break; }
    // In a prologue, EBP is still the caller's: the return address is on the stack.
    const prologue: number | undefined = esp === undefined ? undefined : prologueReturn(read, lookupFor(pc), pc, esp);
    let ret: number | undefined;
    let nextFp = fp;
    let frameFp = fp;
    if (prologue !== undefined) {
      ret = prologue;
    } else {
      if (fp === 0) { out.push({ kind: 'end', reason: 'outermost' }); break; }
      if (fp % 4 !== 0) { out.push({ kind: 'end', reason: 'bad-frame-pointer', message: `frame pointer ${hex8(fp)} is not aligned` }); break; }
      if (seen.has(fp)) { out.push({ kind: 'end', reason: 'loop', message: `frame pointer ${hex8(fp)} seen before: a loop` }); break; }
      seen.add(fp);
      const saved = readU32(read, fp);
      ret = readU32(read, fp + 4);
      if (saved === undefined || ret === undefined) {
        const r = read(fp, 8);
        out.push({ kind: 'end', reason: 'bad-frame-pointer', message: `frame pointer ${hex8(fp)}: ${isReadFailure(r) ? r.reason : 'unreadable'}` });
        break;
      }
      nextFp = saved;
    }
    esp = undefined;
    if (opts.trapret !== undefined && isTrapReturn(read, ret, opts.trapret >>> 0)) {
      // the caller is alltraps: a struct trapframe sits above trap()'s frame (its argument tf at [ebp+8])
      const layout = opts.trapframe;
      if (!layout) { push(ret, nextFp, true); out.push({ kind: 'end', reason: 'no-trapframe-layout', message: 'interrupt frame: no trapframe layout (ktrapframe_layout) to read it with' }); break; }
      const tfAddress: number | undefined = prologue !== undefined ? undefined : readU32(read, frameFp + 8);
      const tf: InterruptFrame | undefined = tfAddress === undefined ? undefined : readTrapframe(read, tfAddress, layout);
      if (!tf) { out.push({ kind: 'end', reason: 'unreadable-trapframe', message: `cannot read the trapframe${tfAddress === undefined ? '' : ` at ${hex8(tfAddress)}`}` }); break; }
      out.push(tf);
      pc = tf.eip;
      fp = tf.ebp;
      // the interrupted code's stack pointer: pushed by the CPU from user mode; from ring 0, just past the frame's eflags
      esp = tf.fromUser ? tf.esp : (tf.address + layout.eflags + 4) >>> 0;
      seen.clear(); // another stack
      push(pc, fp, false);
      continue;
    }
    if (ret === 0) { out.push({ kind: 'end', reason: 'outermost' }); break; }
    if (prologue === undefined && nextFp !== 0 && nextFp <= fp && (nextFp >>> 0) >= kernelBase === fp >= kernelBase) {
      out.push({ kind: 'end', reason: 'loop', message: `saved frame pointer ${hex8(nextFp)} is not above ${hex8(fp)}` });
      break;
    }
    pc = ret >>> 0;
    fp = nextFp;
    push(pc, fp, true);
  }
  return out;
}

/**
 * Whether `ret` returns into alltraps after its `call trap`: `trapret`
 * itself, or the `add $4,%esp` (83 c4 ib) that pops trap's argument just
 * before it (kernel/trapasm.S).
 */
function isTrapReturn(read: MemoryReader, ret: number, trapret: number): boolean {
  if (ret === trapret) return true;
  if (((ret + 3) >>> 0) !== trapret) return false;
  const b = read(ret, 2);
  return !isReadFailure(b) && b[0] === 0x83 && b[1] === 0xc4;
}

/** The return address when `pc` is at a function's first instruction or just after its `push %ebp`; else undefined. */
function prologueReturn(read: MemoryReader, lookup: Symbolizer | SymbolLookup | undefined, pc: number, esp: number): number | undefined {
  if (!lookup || typeof lookup === 'function') return undefined;
  const ref = lookup.nearest(pc);
  if (!ref || ref.offset > 1) return undefined;
  if (ref.offset === 0) return readU32(read, esp);
  const first = read((pc - 1) >>> 0, 1);
  if (isReadFailure(first) || first[0] !== PUSH_EBP) return undefined;
  return readU32(read, esp + 4);
}

function readTrapframe(read: MemoryReader, address: number, layout: TrapframeLayout): InterruptFrame | undefined {
  const bytes = read(address >>> 0, layout.size);
  if (isReadFailure(bytes)) {
    // from ring 0 the CPU pushes no esp/ss: the frame may end 8 bytes early (at the top of a stack)
    return undefined;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u = (off: number): number => v.getUint32(off, true);
  const cs = u(layout.cs) & 0xffff;
  const fromUser = (cs & 3) === 3;
  const tf: InterruptFrame = {
    kind: 'interrupt', address: address >>> 0, trapno: u(layout.trapno), err: u(layout.err), eip: u(layout.eip), cs,
    eflags: u(layout.eflags), ebp: u(layout.ebp), fromUser,
  };
  if (fromUser) { tf.esp = u(layout.esp); tf.ss = u(layout.ss) & 0xffff; }
  return tf;
}

/** `#0 0xc0102345 in vm_fault+0x45`, `--- interrupt frame: #PF (14) err 0x6 from user mode ---`. */
export function formatBacktrace(entries: BacktraceEntry[]): string[] {
  const lines: string[] = [];
  for (const e of entries) {
    if (e.kind === 'frame') {
      lines.push(`#${e.level} ${hex8(e.pc)} in ${e.symbol ?? '??'}${e.user ? ' (user)' : ''}`);
    } else if (e.kind === 'interrupt') {
      const x = decodeException(e.trapno);
      const err = EXCEPTIONS[e.trapno]?.[2] ? ` err ${hex(e.err)}` : '';
      lines.push(`--- interrupt frame: ${x.mnemonic} (${e.trapno})${err} from ${e.fromUser ? 'user' : 'kernel'} mode ---`);
    } else if (e.reason !== 'outermost') {
      lines.push(`(backtrace stopped: ${e.message ?? e.reason})`);
    }
  }
  return lines;
}

// ---- 6. listings ----

/** The lines of a source file by its line-table name (kernel/vmfault.c), or undefined. */
export type SourceText = (file: string) => string[] | undefined;

/** Source files read from a directory (the repository: the line tables name files relative to it), cached. */
export function repositorySource(root: string): SourceText {
  const cache = new Map<string, string[] | undefined>();
  return (file) => {
    if (!cache.has(file)) {
      let lines: string[] | undefined;
      try {
        const path = file.startsWith('/') ? file : join(root, file);
        lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n') : undefined;
      } catch {
        lines = undefined;
      }
      cache.set(file, lines);
    }
    return cache.get(file);
  };
}

export interface ListingOptions {
  /** Marks the instruction at this address with `=>`. */
  eip?: number;
  sourceText?: SourceText;
}

/**
 * `count` instructions from `address`, like objdump -d -S: a `<symbol>:`
 * label where a function begins (and `<symbol+off>:` on the first line), a
 * `file.c:123` line (and the source line when `sourceText` has the file)
 * where an instruction begins a new source line, then `=> c0101234:  55  push %ebp`
 * with the current EIP marked. Stops at the first unreadable byte with a
 * line saying why.
 */
export function listing(
  read: MemoryReader, address: number, count: number, symbolize?: Symbolizer | SymbolLookup,
  lineFor?: (addr: number) => SourceLine | undefined, opts: ListingOptions = {},
): string[] {
  address >>>= 0;
  const sym = symbolizerOf(symbolize);
  const lookup = symbolize && typeof symbolize !== 'function' ? symbolize : undefined;
  // read as much as the instructions may need, up to the first unreadable byte
  let want = count * 15;
  let bytes = read(address, want);
  let failure: ReadFailure | undefined;
  if (isReadFailure(bytes)) {
    failure = bytes;
    want = (bytes.failedAt - address) >>> 0;
    const prefix = want > 0 && want < count * 15 ? read(address, want) : new Uint8Array(0);
    bytes = isReadFailure(prefix) ? new Uint8Array(0) : prefix;
  }
  const instructions = disassemble(bytes, address, count, sym);
  // the bytes of an instruction cut short by the unreadable page come out as (bad): not shown
  if (failure) {
    while (instructions.length > 0 && instructions[instructions.length - 1]!.text === '(bad)' && instructions[instructions.length - 1]!.address + 15 > address + bytes.length) instructions.pop();
  }
  const lines: string[] = [];
  let lastLine: SourceLine | undefined;
  instructions.forEach((insn, i) => {
    const ref = lookup?.nearest(insn.address);
    const name = ref ? (ref.offset === 0 ? ref.name : undefined) : sym(insn.address);
    if (ref && ref.offset === 0) {
      if (lines.length > 0) lines.push('');
      lines.push(`${hex8(insn.address)} <${ref.name}>:`);
    } else if (i === 0) {
      const here = name ?? sym(insn.address);
      if (here !== undefined) lines.push(`${hex8(insn.address)} <${here}>:`);
    }
    const src = lineFor?.(insn.address);
    if (src && (!lastLine || lastLine.file !== src.file || lastLine.line !== src.line)) {
      lines.push(`${src.file}:${src.line}`);
      const text = opts.sourceText?.(src.file)?.[src.line - 1];
      if (text !== undefined) lines.push(`${String(src.line).padStart(6)}\t${text}`);
    }
    lastLine = src;
    const mark = opts.eip !== undefined && insn.address === opts.eip >>> 0 ? '=> ' : '   ';
    const hexBytes = Array.from(insn.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`${mark}${insn.address.toString(16).padStart(8, '0')}:\t${hexBytes.padEnd(21)}\t${insn.text}`);
  });
  if (failure && instructions.length < count) {
    lines.push(`${hex8(failure.failedAt)}: cannot read: ${failure.reason}`);
  }
  return lines;
}

// ---- 7. programs: symbols and line tables ----

export interface ProgramInfo {
  /** The program's name (`kernel`, `demand`). */
  name: string;
  /** Where it was read from, when it came from a file. */
  path?: string;
  elf: Uint8Array;
  symbols: SymbolTable;
  lines: LineTable;
}

const infoCache = new WeakMap<Uint8Array, ProgramInfo>();

/** Symbols and line table of an ELF executable, parsed once per byte array. */
export function programInfo(elf: Uint8Array, name = 'program', path?: string): ProgramInfo {
  let info = infoCache.get(elf);
  if (!info) {
    info = { name, elf, symbols: SymbolTable.fromElf(elf), lines: LineTable.fromElf(elf) };
    if (path !== undefined) info.path = path;
    infoCache.set(elf, info);
  }
  return info;
}

/** A member of a ustar archive (the root image), or undefined. */
export function ustarFile(archive: Uint8Array, path: string): Uint8Array | undefined {
  const want = path.replace(/^(\.\/|\/)+/, '');
  const field = (h: Uint8Array, off: number, len: number): string => {
    let end = off;
    while (end < off + len && h[end] !== 0) end++;
    return Buffer.from(h.subarray(off, end)).toString('latin1');
  };
  for (let at = 0; at + 512 <= archive.length;) {
    const header = archive.subarray(at, at + 512);
    if (header.every((b) => b === 0) || field(header, 257, 5) !== 'ustar') return undefined;
    const prefix = field(header, 345, 155);
    const name = (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100)).replace(/^(\.\/|\/)+/, '');
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    if (name === want && header[156] !== 0x35) return archive.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

export interface ProgramLoaderOptions {
  /** The package root (default: where package.json is). */
  root: string;
  /** The kernel ELF (default ROOT/build/kernel/kernel.elf). */
  kernelPath?: string;
  /** Where the userland executables are built (default ROOT/build/userland, userland/Makefile's OUT). */
  userlandDir?: string;
  /** The root image the programs are on (/bin/NAME), used when userlandDir has no such file. */
  rootImage?: Uint8Array;
}

/**
 * Finds and caches the kernel's and the user programs' symbols and lines. A
 * process is named by its program's last path component (kernel/exec.c), so
 * the program of process `demand` is build/userland/demand, or /bin/demand
 * of the root image.
 */
export class ProgramLoader {
  private readonly cache = new Map<string, ProgramInfo | undefined>();

  constructor(private readonly opts: ProgramLoaderOptions) {}

  kernel(): ProgramInfo {
    const path = this.opts.kernelPath ?? join(this.opts.root, 'build', 'kernel', 'kernel.elf');
    const cached = this.cache.get(`kernel:${path}`);
    if (cached) return cached;
    const info = programInfo(readFileSync(path), 'kernel', path);
    this.cache.set(`kernel:${path}`, info);
    return info;
  }

  /** The program process `name` runs, or undefined when there is none by that name. */
  user(name: string): ProgramInfo | undefined {
    const base = name.replace(/^.*\//, '');
    if (base === '' || base === '.' || base === '..') return undefined;
    const key = `user:${base}`;
    if (this.cache.has(key)) return this.cache.get(key);
    let info: ProgramInfo | undefined;
    const path = join(this.opts.userlandDir ?? join(this.opts.root, 'build', 'userland'), base);
    if (existsSync(path)) info = programInfo(readFileSync(path), base, path);
    else if (this.opts.rootImage) {
      const bytes = ustarFile(this.opts.rootImage, `bin/${base}`);
      if (bytes) info = programInfo(Uint8Array.from(bytes), base, `/bin/${base}`);
    }
    this.cache.set(key, info);
    return info;
  }
}
