// A small ELF32 loader for bare-metal guests and, later, the kernel: it checks
// that the file is a 32-bit little-endian x86 executable, copies the PT_LOAD
// segments into guest physical RAM (zeroing the bss part) and returns the
// entry point plus the symbol table (.symtab/.strtab) when there is one.

export interface LoadedElf {
  entry: number;
  /** Symbol name -> address, from .symtab; empty when the file is stripped. */
  symbols: Map<string, number>;
  /** Lowest and highest+1 physical addresses written by PT_LOAD segments. */
  loadStart: number;
  loadEnd: number;
}

const ELF_HEADER_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;
const SYM_SIZE = 16;

const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
const EM_386 = 3;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const STT_SECTION = 3;
const STT_FILE = 4;

/** 0x-prefixed, 8 hex digits. */
export const hex32 = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

export function mib(bytes: number): string {
  const m = bytes / (1024 * 1024);
  return `${Number.isInteger(m) ? m : m.toFixed(2)} MiB`;
}

interface ElfHeader {
  view: DataView;
  entry: number;
  phoff: number;
  phentsize: number;
  phnum: number;
  shoff: number;
  shentsize: number;
  shnum: number;
}

/** Checks that `bytes` is an ELF32 little-endian i386 executable and reads its header (throws one-line errors). */
function elfHeader(bytes: Uint8Array): ElfHeader {
  if (!isElf(bytes)) throw new Error('not an ELF file');
  if (bytes.length < ELF_HEADER_SIZE) throw new Error('truncated ELF file (header incomplete)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (off: number): number => view.getUint16(off, true);
  const u32 = (off: number): number => view.getUint32(off, true);

  const elfClass = bytes[4];
  const dataEncoding = bytes[5];
  const type = u16(16);
  const machine = u16(18);
  if (elfClass !== ELFCLASS32 || dataEncoding !== ELFDATA2LSB || machine !== EM_386) {
    const what = elfClass === 2 ? 'ELF64' : elfClass === ELFCLASS32 ? 'ELF32' : `ELF class ${elfClass}`;
    const endian = dataEncoding === ELFDATA2LSB ? 'little-endian' : 'big-endian';
    throw new Error(`not a 32-bit x86 executable (${what}, ${endian}, machine ${machine})`);
  }
  if (type !== ET_EXEC) {
    const kind = type === 1 ? 'relocatable object' : type === 3 ? 'shared object or PIE' : type === 4 ? 'core dump' : `type ${type}`;
    throw new Error(`not a 32-bit x86 executable (${kind}; link it with ld -m elf_i386)`);
  }
  const header: ElfHeader = {
    view,
    entry: u32(24),
    phoff: u32(28),
    shoff: u32(32),
    phentsize: u16(42),
    phnum: u16(44),
    shentsize: u16(46),
    shnum: u16(48),
  };
  if (header.phnum === 0) throw new Error('ELF file has no program headers');
  if (header.phentsize < PHDR_SIZE || header.phoff + header.phnum * header.phentsize > bytes.length) {
    throw new Error('truncated ELF file (program headers beyond end of file)');
  }
  return header;
}

/** Whether `bytes` starts with the ELF magic number. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 16 && bytes[0] === 0x7f && bytes[1] === 0x45 /* E */ && bytes[2] === 0x4c /* L */ && bytes[3] === 0x46 /* F */;
}

/** A PT_LOAD segment with a non-zero memory size, as the program header describes it. */
export interface ElfSegment {
  /** Physical address (p_paddr): where it is loaded with paging off. */
  paddr: number;
  memsz: number;
  filesz: number;
  /** File offset of the first byte. */
  offset: number;
}

/** The loadable segments of an ELF32 i386 executable (checked as loadElf checks them), without loading anything. */
export function elfLoadSegments(bytes: Uint8Array): ElfSegment[] {
  const { view, phoff, phentsize, phnum } = elfHeader(bytes);
  const u32 = (off: number): number => view.getUint32(off, true);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (u32(ph) !== PT_LOAD) continue;
    const segment = { offset: u32(ph + 4), paddr: u32(ph + 12), filesz: u32(ph + 16), memsz: u32(ph + 20) };
    if (segment.memsz === 0) continue;
    if (segment.filesz > segment.memsz) throw new Error(`bad ELF segment at ${hex32(segment.paddr)} (file size larger than memory size)`);
    if (segment.offset + segment.filesz > bytes.length) {
      throw new Error(`truncated ELF file (segment at ${hex32(segment.paddr)} extends beyond end of file)`);
    }
    segments.push(segment);
  }
  return segments;
}

/** Parse `bytes` as an ELF32 i386 executable and load it into `ram` (physical address 0 = ram[0]). */
export function loadElf(bytes: Uint8Array, ram: Uint8Array): LoadedElf {
  const { view, entry, shoff, shentsize, shnum } = elfHeader(bytes);
  let loadStart = Number.POSITIVE_INFINITY;
  let loadEnd = 0;
  for (const { paddr, memsz, filesz, offset } of elfLoadSegments(bytes)) {
    // paging is off: load at the physical address
    if (paddr + memsz > ram.length) {
      throw new Error(`segment at ${hex32(paddr)}..${hex32(paddr + memsz - 1)} beyond RAM (${mib(ram.length)})`);
    }
    ram.set(bytes.subarray(offset, offset + filesz), paddr);
    ram.fill(0, paddr + filesz, paddr + memsz);
    loadStart = Math.min(loadStart, paddr);
    loadEnd = Math.max(loadEnd, paddr + memsz);
  }
  if (loadEnd === 0) throw new Error('ELF file has no loadable segments');
  if (entry < loadStart || entry >= loadEnd) {
    throw new Error(`entry point ${hex32(entry)} is outside the loaded segments`);
  }

  return { entry, symbols: readSymbols(bytes, view, shoff, shentsize, shnum), loadStart, loadEnd };
}

/** The symbol table of an ELF32 i386 executable (name -> value); empty when stripped. Throws, as loadElf does, on a file that is not one. */
export function elfSymbols(bytes: Uint8Array): Map<string, number> {
  const { view, shoff, shentsize, shnum } = elfHeader(bytes);
  return readSymbols(bytes, view, shoff, shentsize, shnum);
}

function readSymbols(bytes: Uint8Array, view: DataView, shoff: number, shentsize: number, shnum: number): Map<string, number> {
  const symbols = new Map<string, number>();
  if (shoff === 0 || shnum === 0 || shentsize < SHDR_SIZE || shoff + shnum * shentsize > bytes.length) return symbols;
  const u32 = (off: number): number => view.getUint32(off, true);
  const decoder = new TextDecoder();

  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (u32(sh + 4) !== SHT_SYMTAB) continue;
    const symOff = u32(sh + 16);
    const symSize = u32(sh + 20);
    const link = u32(sh + 24);
    if (link >= shnum || symOff + symSize > bytes.length) continue;
    const strSh = shoff + link * shentsize;
    const strOff = u32(strSh + 16);
    const strSize = u32(strSh + 20);
    if (strOff + strSize > bytes.length) continue;
    const strtab = bytes.subarray(strOff, strOff + strSize);

    for (let s = symOff; s + SYM_SIZE <= symOff + symSize; s += SYM_SIZE) {
      const nameOff = u32(s);
      const type = bytes[s + 12] & 0xf;
      if (nameOff === 0 || nameOff >= strtab.length || type === STT_SECTION || type === STT_FILE) continue;
      let end = nameOff;
      while (end < strtab.length && strtab[end] !== 0) end++;
      const name = decoder.decode(strtab.subarray(nameOff, end));
      if (!symbols.has(name)) symbols.set(name, u32(s + 4));
    }
  }
  return symbols;
}

/** A section header, with its name from the section-name string table. */
export interface ElfSection {
  name: string;
  type: number;
  /** Virtual address when the section is loaded (0 for debug sections). */
  addr: number;
  /** File offset and size in bytes. */
  offset: number;
  size: number;
  link: number;
}

/** The section headers of an ELF32 i386 executable (empty when it has none); the debugger finds .debug_line and .symtab through them. */
export function elfSections(bytes: Uint8Array): ElfSection[] {
  const { view, shoff, shentsize, shnum } = elfHeader(bytes);
  if (shoff === 0 || shnum === 0 || shentsize < SHDR_SIZE || shoff + shnum * shentsize > bytes.length) return [];
  const u32 = (off: number): number => view.getUint32(off, true);
  const header = (i: number): number => shoff + i * shentsize;
  // e_shstrndx names the section whose strings the sh_name offsets index
  // (an index past the table leaves every section unnamed)
  const shstrndx = view.getUint16(50, true);
  const namesStart = shstrndx < shnum ? u32(header(shstrndx) + 16) : 0;
  const namesEnd = shstrndx < shnum ? Math.min(namesStart + u32(header(shstrndx) + 20), bytes.length) : 0;
  const sections: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const sh = header(i);
    const name = namesStart + u32(sh) < namesEnd ? cString(bytes, namesStart + u32(sh), namesEnd) : '';
    sections.push({ name, type: u32(sh + 4), addr: u32(sh + 12), offset: u32(sh + 16), size: u32(sh + 20), link: u32(sh + 24) });
  }
  return sections;
}

/** The bytes of the section called `name`, or undefined when the file has none (or it lies beyond the end of the file). */
export function elfSectionBytes(bytes: Uint8Array, sections: ElfSection[], name: string): Uint8Array | undefined {
  const section = sections.find((s) => s.name === name);
  if (!section || section.offset + section.size > bytes.length) return undefined;
  return bytes.subarray(section.offset, section.offset + section.size);
}

/** One .symtab entry, with what elfSymbols leaves out: its size and kind (STT_FUNC 2, STT_OBJECT 1, STT_NOTYPE 0). */
export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  type: number;
  /** STB_LOCAL 0, STB_GLOBAL 1, STB_WEAK 2. */
  bind: number;
  /** Section index (0 = undefined, 0xfff1 = absolute). */
  shndx: number;
}

/** Every named symbol of .symtab but the section and file ones, in table order (a static name may appear more than once). */
export function elfSymbolEntries(bytes: Uint8Array): ElfSymbol[] {
  const sections = elfSections(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const symbols: ElfSymbol[] = [];
  for (const symtab of sections.filter((s) => s.type === SHT_SYMTAB)) {
    const strtab = sections[symtab.link];
    if (!strtab || symtab.offset + symtab.size > bytes.length || strtab.offset + strtab.size > bytes.length) continue;
    for (let s = symtab.offset; s + SYM_SIZE <= symtab.offset + symtab.size; s += SYM_SIZE) {
      const nameOff = view.getUint32(s, true);
      const type = bytes[s + 12] & 0xf;
      if (nameOff === 0 || nameOff >= strtab.size || type === STT_SECTION || type === STT_FILE) continue;
      symbols.push({
        name: cString(bytes, strtab.offset + nameOff, strtab.offset + strtab.size),
        value: view.getUint32(s + 4, true),
        size: view.getUint32(s + 8, true),
        type,
        bind: bytes[s + 12] >> 4,
        shndx: view.getUint16(s + 14, true),
      });
    }
  }
  return symbols;
}

/** The NUL-terminated string at `start` (stopping at `limit` if there is no NUL). */
function cString(bytes: Uint8Array, start: number, limit: number): string {
  let end = start;
  while (end < limit && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(start, end));
}
