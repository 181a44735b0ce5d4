// Source lines for the debugger (issue 8): the DWARF line tables
// (.debug_line) of the kernel and of the user programs, address -> file:line
// for stops and listings and file:line -> addresses for `break file:line`.
//
// The line-number program is interpreted here, by hand: no well-kept npm
// package parses DWARF line tables (the registry's DWARF packages are for
// WebAssembly debugging or unrelated), and the interpreter is small and
// fully specified (DWARF 5, section 6.2). Versions 2 to 5 are read: gcc 12
// emits version 5 for -m32 -g, gas the same for .S files, and older
// toolchains versions 2 to 4. Only what i386 executables use is supported:
// 4-byte addresses and one operation per instruction (no VLIW op_index).
//
// File names are the table's: the directory joined with the file name, the
// compilation directory first for relative ones. The kernel and userland are
// compiled with -ffile-prefix-map, so names read like kernel/vmfault.c and
// userland/libc/stdio.c whatever the build directory was.

import { elfSectionBytes, elfSections } from './elf.js';
import { lastAtOrBelow } from './symbols.js';

export interface LineRow {
  address: number;
  file: string;
  line: number;
  /** A recommended breakpoint location (the table's is_stmt). */
  isStmt: boolean;
  /** The first address past a sequence of code (its line and file mean nothing). */
  endSequence: boolean;
}

export interface SourceLine {
  file: string;
  line: number;
}

// standard opcodes
const DW_LNS_copy = 1;
const DW_LNS_advance_pc = 2;
const DW_LNS_advance_line = 3;
const DW_LNS_set_file = 4;
const DW_LNS_negate_stmt = 6;
const DW_LNS_const_add_pc = 8;
const DW_LNS_fixed_advance_pc = 9;
// extended opcodes
const DW_LNE_end_sequence = 1;
const DW_LNE_set_address = 2;
const DW_LNE_define_file = 3;
// DWARF 5 entry-format content types and the forms gcc and gas use for them
const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;
const DW_FORM_block2 = 0x03;
const DW_FORM_block4 = 0x04;
const DW_FORM_data2 = 0x05;
const DW_FORM_data4 = 0x06;
const DW_FORM_data8 = 0x07;
const DW_FORM_string = 0x08;
const DW_FORM_block = 0x09;
const DW_FORM_block1 = 0x0a;
const DW_FORM_data1 = 0x0b;
const DW_FORM_sdata = 0x0d;
const DW_FORM_strp = 0x0e;
const DW_FORM_udata = 0x0f;
const DW_FORM_data16 = 0x1e;
const DW_FORM_line_strp = 0x1f;

/** A little-endian cursor over a section, with the LEB128 and string reads DWARF needs. */
class Reader {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  s8(): number {
    return (this.u8() << 24) >> 24;
  }
  u16(): number {
    this.need(2);
    this.pos += 2;
    return this.view.getUint16(this.pos - 2, true);
  }
  u32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getUint32(this.pos - 4, true);
  }
  /** A 64-bit value that must fit a JavaScript number (offsets and lengths do in any real file). */
  u64(): number {
    const low = this.u32();
    return this.u32() * 2 ** 32 + low;
  }
  /** An offset into another section: 4 bytes in 32-bit DWARF, 8 in 64-bit DWARF. */
  offset(size: 4 | 8): number {
    return size === 4 ? this.u32() : this.u64();
  }
  uleb(): number {
    return this.leb(false);
  }
  sleb(): number {
    return this.leb(true);
  }
  /** LEB128: 7 bits a byte, low first; signed, bit 6 of the last byte is the sign. */
  private leb(signed: boolean): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return signed && byte & 0x40 ? result - scale : result;
    }
  }
  cstring(): string {
    const end = this.bytes.indexOf(0, this.pos);
    if (end < 0) throw new Error('DWARF: unterminated string');
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new Error('DWARF: line table truncated');
  }
}

/** The string sections DW_FORM_strp and DW_FORM_line_strp point into. */
interface StringSections {
  str?: Uint8Array;
  lineStr?: Uint8Array;
}

/** The part of a line-program header the state machine needs. */
interface LineHeader {
  version: number;
  minInstLength: number;
  defaultIsStmt: boolean;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  standardOpcodeLengths: number[];
  /** Full names, indexed as the program's DW_LNS_set_file operands index them. */
  files: string[];
  /** The first byte past the program. */
  end: number;
}

function stringAt(section: Uint8Array | undefined, offset: number, what: string): string {
  if (!section || offset >= section.length) throw new Error(`DWARF: ${what} offset 0x${offset.toString(16)} out of range`);
  return new Reader(section, offset).cstring();
}

/** One attribute value of a DWARF 5 directory or file entry: a string for the path, a number for the rest, undefined for skipped ones. */
function readForm(r: Reader, form: number, offsetSize: 4 | 8, strings: StringSections): string | number | undefined {
  switch (form) {
    case DW_FORM_string: return r.cstring();
    case DW_FORM_line_strp: return stringAt(strings.lineStr, r.offset(offsetSize), '.debug_line_str');
    case DW_FORM_strp: return stringAt(strings.str, r.offset(offsetSize), '.debug_str');
    case DW_FORM_udata: return r.uleb();
    case DW_FORM_sdata: return r.sleb();
    case DW_FORM_data1: return r.u8();
    case DW_FORM_data2: return r.u16();
    case DW_FORM_data4: return r.u32();
    case DW_FORM_data8: return r.u64();
    case DW_FORM_data16: r.skip(16); return undefined; // an MD5 checksum
    case DW_FORM_block: r.skip(r.uleb()); return undefined;
    case DW_FORM_block1: r.skip(r.u8()); return undefined;
    case DW_FORM_block2: r.skip(r.u16()); return undefined;
    case DW_FORM_block4: r.skip(r.u32()); return undefined;
    default: throw new Error(`DWARF: unsupported form 0x${form.toString(16)} in a line table header`);
  }
}

/** A DWARF 5 directory or file-name table: each entry's path and directory index. */
function readEntryTable(r: Reader, offsetSize: 4 | 8, strings: StringSections): { path: string; dir: number }[] {
  const format: [number, number][] = [];
  for (let n = r.u8(); n > 0; n--) format.push([r.uleb(), r.uleb()]);
  const entries: { path: string; dir: number }[] = [];
  for (let n = r.uleb(); n > 0; n--) {
    const entry = { path: '', dir: 0 };
    for (const [contentType, form] of format) {
      const value = readForm(r, form, offsetSize, strings);
      if (contentType === DW_LNCT_path && typeof value === 'string') entry.path = value;
      if (contentType === DW_LNCT_directory_index && typeof value === 'number') entry.dir = value;
    }
    entries.push(entry);
  }
  return entries;
}

/** `dir/name`, unless name is absolute; a relative directory other than the compilation directory (dirs[0]) is under it. */
function joinPath(dirs: string[], dirIndex: number, name: string): string {
  if (name.startsWith('/')) return name;
  let dir = dirs[dirIndex] ?? '';
  if (dirIndex !== 0 && dir !== '' && !dir.startsWith('/') && dirs[0]) dir = `${dirs[0]}/${dir}`;
  return dir === '' ? name : `${dir}/${name}`;
}

/** Version 2-4 tables: NUL-terminated lists; directory 0 and file 0 are implicit (the compilation directory and file). */
function readLegacyTables(r: Reader): string[] {
  const dirs = [''];
  for (let d = r.cstring(); d !== ''; d = r.cstring()) dirs.push(d);
  const files = [''];
  for (let name = r.cstring(); name !== ''; name = r.cstring()) {
    const dir = r.uleb();
    r.uleb(); // modification time
    r.uleb(); // length
    files.push(joinPath(dirs, dir, name));
  }
  return files;
}

function readHeader(r: Reader, strings: StringSections): LineHeader {
  let offsetSize: 4 | 8 = 4;
  let unitLength = r.u32();
  if (unitLength === 0xffffffff) {
    offsetSize = 8;
    unitLength = r.u64();
  }
  const end = r.pos + unitLength;
  const version = r.u16();
  if (version < 2 || version > 5) throw new Error(`DWARF: line table version ${version} not supported (2 to 5 are)`);
  if (version >= 5) {
    const addressSize = r.u8();
    r.u8(); // segment selector size
    if (addressSize !== 4) throw new Error(`DWARF: ${addressSize}-byte addresses in the line table (i386 has 4)`);
  }
  const headerLength = r.offset(offsetSize);
  const programStart = r.pos + headerLength;
  const minInstLength = r.u8();
  if (version >= 4) r.u8(); // maximum operations per instruction: 1 on x86
  const defaultIsStmt = r.u8() !== 0;
  const lineBase = r.s8();
  const lineRange = r.u8();
  const opcodeBase = r.u8();
  const standardOpcodeLengths = [0];
  for (let i = 1; i < opcodeBase; i++) standardOpcodeLengths.push(r.u8());
  let files: string[];
  if (version >= 5) {
    const dirs = readEntryTable(r, offsetSize, strings).map((d) => d.path);
    files = readEntryTable(r, offsetSize, strings).map((f) => joinPath(dirs, f.dir, f.path));
  } else {
    files = readLegacyTables(r);
  }
  r.pos = programStart;
  return { version, minInstLength, defaultIsStmt, lineBase, lineRange, opcodeBase, standardOpcodeLengths, files, end };
}

/** Runs one unit's line-number program and appends its rows. */
function runProgram(r: Reader, h: LineHeader, rows: LineRow[]): void {
  // registers: DWARF numbers files from 1 before version 5, from 0 since
  let address = 0;
  let file = 1;
  let line = 1;
  let isStmt = h.defaultIsStmt;
  const reset = (): void => {
    address = 0;
    file = 1;
    line = 1;
    isStmt = h.defaultIsStmt;
  };
  const emit = (endSequence: boolean): void => {
    rows.push({ address: address >>> 0, file: h.files[file] ?? `<file ${file}>`, line, isStmt, endSequence });
  };
  while (r.pos < h.end) {
    const opcode = r.u8();
    if (opcode >= h.opcodeBase) {
      // special opcode: advance address and line together, then add a row
      const adjusted = opcode - h.opcodeBase;
      address += Math.floor(adjusted / h.lineRange) * h.minInstLength;
      line += h.lineBase + (adjusted % h.lineRange);
      emit(false);
    } else if (opcode === 0) {
      const length = r.uleb();
      const next = r.pos + length;
      const sub = r.u8();
      if (sub === DW_LNE_end_sequence) {
        emit(true);
        reset();
      } else if (sub === DW_LNE_set_address) {
        address = r.u32();
      } else if (sub === DW_LNE_define_file) {
        h.files.push(r.cstring());
      }
      r.pos = next; // unknown extended opcodes (and discriminators) are skipped by their length
    } else {
      switch (opcode) {
        case DW_LNS_copy: emit(false); break;
        case DW_LNS_advance_pc: address += r.uleb() * h.minInstLength; break;
        case DW_LNS_advance_line: line += r.sleb(); break;
        case DW_LNS_set_file: file = r.uleb(); break;
        case DW_LNS_negate_stmt: isStmt = !isStmt; break;
        case DW_LNS_const_add_pc: address += Math.floor((255 - h.opcodeBase) / h.lineRange) * h.minInstLength; break;
        case DW_LNS_fixed_advance_pc: address += r.u16(); break;
        default:
          // set_column, basic_block, prologue_end, ...: their operands are ULEB128s, as many as the header says
          for (let i = 0; i < h.standardOpcodeLengths[opcode]; i++) r.uleb();
      }
    }
  }
}

/** Every row of every line-number program in a .debug_line section, in table order. */
export function parseDebugLine(debugLine: Uint8Array, strings: StringSections = {}): LineRow[] {
  const rows: LineRow[] = [];
  const r = new Reader(debugLine);
  while (r.pos < debugLine.length) {
    const header = readHeader(r, strings);
    runProgram(r, header, rows);
    r.pos = header.end;
  }
  return rows;
}

export class LineTable {
  /** Rows sorted by address, end-of-sequence rows before the others at one address (a sequence may start where another ends). */
  private readonly sorted: LineRow[];

  constructor(readonly rows: LineRow[]) {
    this.sorted = [...rows].sort((a, b) => a.address - b.address || Number(b.endSequence) - Number(a.endSequence));
  }

  /** The line table of an ELF executable; empty when it has no .debug_line (built without -g, or stripped). */
  static fromElf(bytes: Uint8Array): LineTable {
    const sections = elfSections(bytes);
    const debugLine = elfSectionBytes(bytes, sections, '.debug_line');
    if (!debugLine) return new LineTable([]);
    const strings = { str: elfSectionBytes(bytes, sections, '.debug_str'), lineStr: elfSectionBytes(bytes, sections, '.debug_line_str') };
    return new LineTable(parseDebugLine(debugLine, strings));
  }

  /**
   * The source line `addr` belongs to: the last row at or below it, unless
   * that row ends a sequence (the address is in no compiled code). Of rows
   * at one address, the last in table order wins, as the code there is the
   * last line's (the earlier ones are empty, e.g. a function's opening line).
   */
  lineFor(addr: number): SourceLine | undefined {
    addr >>>= 0;
    const found = lastAtOrBelow(this.sorted, (row) => row.address, addr);
    if (found < 0 || this.sorted[found].endSequence) return undefined;
    const { file, line } = this.sorted[found];
    return { file, line };
  }

  /**
   * Where `break file:line` stops: the addresses at which execution enters
   * that line (statement rows whose previous row is another line), sorted.
   * `file` is the table's name (kernel/vmfault.c) or any tail of it made of
   * whole path components (vmfault.c). Empty when the line has no code.
   */
  addressesFor(file: string, line: number): number[] {
    const addresses = new Set<number>();
    let previous: LineRow | undefined;
    for (const row of this.rows) {
      const entering = !previous || previous.endSequence || previous.line !== row.line || previous.file !== row.file;
      if (!row.endSequence && row.isStmt && entering && row.line === line && sameFile(row.file, file)) addresses.add(row.address);
      previous = row;
    }
    return [...addresses].sort((a, b) => a - b);
  }

  /** The file names the table knows (for completion and for a clear error on `break nosuch.c:3`). */
  files(): string[] {
    return [...new Set(this.rows.map((r) => r.file))].sort();
  }
}

/** Whether the table's `full` name is `wanted` or ends with `/wanted`. */
function sameFile(full: string, wanted: string): boolean {
  return full === wanted || full.endsWith(`/${wanted}`);
}
