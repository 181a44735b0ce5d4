// A Multiboot (version 1, specification 0.6.96) boot loader: what GRUB does
// between reading a kernel file and jumping to it, done by the host.
//
// - The Multiboot header (magic 0x1BADB002, flags, checksum) is looked for in
//   the first 8192 bytes of the kernel file, 4-byte aligned. Flags bits 0-15
//   are requirements: this loader meets bit 0 (modules page-aligned: they
//   always are) and bit 1 (memory information: always given); any other bit
//   there, video mode (bit 2) included, is refused, as the specification asks.
// - An ELF32 kernel is loaded by its PT_LOAD segments at their physical
//   addresses (bss zeroed). With header flag 16 the a.out kludge fields of
//   the header say where to load the file instead, ELF or not.
// - Modules (files) follow the kernel, each starting on a 4 KiB page.
// - The boot information structure, its memory map, module list and strings,
//   a GDT and a small scratch stack are put in one block of low memory (below
//   0x9FC00, from 0x1000 up: page 0 is left alone) where they do not overlap
//   the kernel or a module; if low memory is taken, after the last module.
// - The kernel is entered as the specification says: EAX = 0x2BADB002,
//   EBX = the information structure, CS a flat 4 GiB execute/read code
//   segment (selector 0x08), DS/ES/FS/GS/SS flat 4 GiB read/write data
//   (0x10), both described by the GDT the loader leaves, with GDTR pointing
//   at it (GRUB leaves its own GDT loaded too; the kernel must still load
//   its own before reloading a segment register), CR0.PE = 1, paging off,
//   EFLAGS = 0x2 (IF = 0). A20 is always on: this machine has no A20 gate.
//   ESP, which the specification leaves undefined, points at the top of a
//   1 KiB scratch stack in the loader's block.

import { Reg, type Cpu } from './cpu.js';
import { elfLoadSegments, hex32, isElf, loadElf, mib } from './elf.js';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
/** The header must lie completely within this many bytes from the start of the file. */
export const MULTIBOOT_SEARCH_BYTES = 8192;

const FLAG_PAGE_ALIGN = 1 << 0;
const FLAG_MEMORY_INFO = 1 << 1;
const FLAG_VIDEO_MODE = 1 << 2;
const FLAG_AOUT_KLUDGE = 1 << 16;
const SUPPORTED_REQUIRED_FLAGS = FLAG_PAGE_ALIGN | FLAG_MEMORY_INFO;

// Boot information flags (which fields are valid).
export const INFO_MEMORY = 1 << 0;
export const INFO_BOOT_DEVICE = 1 << 1;
export const INFO_CMDLINE = 1 << 2;
export const INFO_MODS = 1 << 3;
export const INFO_MMAP = 1 << 6;
export const INFO_BOOT_LOADER_NAME = 1 << 9;

/** The boot information structure's size up to and including the VBE fields (offset 88). */
const INFO_BYTES = 88;
const MMAP_ENTRY_BYTES = 24; // the size field (4) + base (8) + length (8) + type (4)
const MODULE_BYTES = 16;
const GDT_BYTES = 24;
const STACK_BYTES = 1024;
const PAGE = 4096;

/** Low memory the PC gives an OS: 640 KiB less the 1 KiB extended BIOS data area. */
export const LOW_MEMORY_END = 0x9fc00;
const ONE_MIB = 0x100000;
/** The loader's block is not put below this (page 0: real-mode IVT and BIOS data area on a PC). */
const LOW_BLOCK_START = 0x1000;

export const BOOT_LOADER_NAME = 'Atlas386';
/** BIOS drive 0x80 (the first hard disk), whole disk: no partition at any level. */
export const BOOT_DEVICE_HDA = 0x80ffffff;

// Flat 4 GiB descriptors (G=1, D=1, P=1, DPL 0): code execute/read, data read/write, accessed set.
const GDT_ENTRIES: [number, number][] = [
  [0, 0],
  [0x0000ffff, 0x00cf9b00],
  [0x0000ffff, 0x00cf9300],
];
export const CODE_SELECTOR = 0x08;
export const DATA_SELECTOR = 0x10;

/** A kernel or module the loader cannot boot; the message is one line. */
export class MultibootError extends Error {
  override name = 'MultibootError';
}

export interface MultibootHeader {
  /** File offset of the magic number. */
  offset: number;
  flags: number;
  /** Present when flags bit 16 is set. */
  aout?: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entryAddr: number };
}

/** Finds and checks the Multiboot header; throws MultibootError when there is none or it asks for what this loader lacks. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const limit = Math.min(image.length, MULTIBOOT_SEARCH_BYTES);
  let badChecksumAt = -1;
  for (let offset = 0; offset + 12 <= limit; offset += 4) {
    if (view.getUint32(offset, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = view.getUint32(offset + 4, true);
    const checksum = view.getUint32(offset + 8, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) {
      if (badChecksumAt < 0) badChecksumAt = offset;
      continue;
    }
    const unsupported = flags & 0xffff & ~SUPPORTED_REQUIRED_FLAGS;
    if (unsupported !== 0) {
      const what = unsupported & FLAG_VIDEO_MODE ? ' (bit 2: a video mode; this machine has no display)' : '';
      throw new MultibootError(
        `the Multiboot header requires features this loader does not support: flags ${hex32(unsupported)}${what}`,
      );
    }
    const header: MultibootHeader = { offset, flags };
    if (flags & FLAG_AOUT_KLUDGE) {
      if (offset + 32 > limit) throw new MultibootError('the Multiboot header (with address fields) extends past the first 8192 bytes');
      const at = (i: number): number => view.getUint32(offset + 12 + 4 * i, true);
      header.aout = { headerAddr: at(0), loadAddr: at(1), loadEndAddr: at(2), bssEndAddr: at(3), entryAddr: at(4) };
    }
    return header;
  }
  if (badChecksumAt >= 0) {
    throw new MultibootError(`the Multiboot header at file offset ${hex32(badChecksumAt)} has a bad checksum`);
  }
  throw new MultibootError('no Multiboot header (magic 0x1badb002) in the first 8192 bytes');
}

export interface MultibootModule {
  /** The module's string (GRUB: its command line); here the name the caller gives, e.g. the file's base name. */
  name: string;
  data: Uint8Array;
}

export interface MultibootOptions {
  /** Put first in the kernel command line, as GRUB does (e.g. the kernel file's base name). */
  kernelName: string;
  /** The arguments after the kernel's name (`--cmdline`). */
  cmdline?: string;
  modules?: MultibootModule[];
  /** The BIOS boot device (flag 1); omitted when undefined. */
  bootDevice?: number;
}

export interface LoadedModule {
  name: string;
  start: number;
  /** One past the last byte (GRUB's convention). */
  end: number;
}

export interface MultibootBoot {
  entry: number;
  /** The boot information structure (EBX). */
  infoAddress: number;
  gdtAddress: number;
  stackTop: number;
  /** Physical range the kernel image occupies (bss included). */
  kernelStart: number;
  kernelEnd: number;
  modules: LoadedModule[];
  /** The full command line as the kernel sees it. */
  cmdline: string;
  /** The loader's block (info structure, memory map, module list, strings, GDT, stack). */
  blockStart: number;
  blockEnd: number;
}

interface Range {
  start: number;
  end: number;
}

const overlaps = (a: Range, b: Range): boolean => a.start < b.end && b.start < a.end;
const alignUp = (n: number, align: number): number => Math.ceil(n / align) * align;

/** Loads the kernel (and modules) into `ram` and builds the boot information; the CPU is then set up by enterMultiboot. */
export function loadMultiboot(image: Uint8Array, ram: Uint8Array, opts: MultibootOptions): MultibootBoot {
  const header = findMultibootHeader(image);
  let kernel: Range;
  let entry: number;
  if (header.aout) {
    ({ kernel, entry } = loadAout(image, ram, header));
  } else if (isElf(image)) {
    ({ kernel, entry } = loadElfKernel(image, ram));
  } else {
    throw new MultibootError('the kernel is not an ELF32 file and its Multiboot header has no address fields (flag 16)');
  }

  const occupied: Range[] = [kernel];
  const modules: LoadedModule[] = [];
  let next = alignUp(kernel.end, PAGE);
  for (const module of opts.modules ?? []) {
    const start = next;
    const end = start + module.data.length;
    if (end > ram.length) {
      throw new MultibootError(
        `module ${module.name} (${module.data.length} bytes at ${hex32(start)}) does not fit in RAM (${mib(ram.length)})`,
      );
    }
    ram.set(module.data, start);
    modules.push({ name: module.name, start, end });
    occupied.push({ start, end: Math.max(end, start + 1) });
    next = alignUp(Math.max(end, start + 1), PAGE);
  }

  const cmdline = opts.cmdline ? `${opts.kernelName} ${opts.cmdline}` : opts.kernelName;
  const encoder = new TextEncoder();
  const strings = [cmdline, BOOT_LOADER_NAME, ...modules.map((m) => m.name)].map((s) => encoder.encode(s));
  const mmap = memoryMap(ram.length);

  // The block: GDT, info, memory map, module list, strings, then the stack (16-byte aligned top).
  const gdtOffset = 0;
  const infoOffset = GDT_BYTES + 8; // 32: keeps the info structure 8-byte aligned
  const mmapOffset = infoOffset + INFO_BYTES;
  const modsOffset = mmapOffset + mmap.length * MMAP_ENTRY_BYTES;
  const stringsOffset = modsOffset + modules.length * MODULE_BYTES;
  const stringsBytes = strings.reduce((n, s) => n + s.length + 1, 0);
  const stackOffset = alignUp(stringsOffset + stringsBytes, 16);
  const blockBytes = stackOffset + STACK_BYTES;
  const blockStart = placeBlock(blockBytes, occupied, ram.length);

  ram.fill(0, blockStart, blockStart + blockBytes);
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const put32 = (addr: number, v: number): void => view.setUint32(addr, v >>> 0, true);

  const gdtAddress = blockStart + gdtOffset;
  GDT_ENTRIES.forEach(([low, high], i) => {
    put32(gdtAddress + 8 * i, low);
    put32(gdtAddress + 8 * i + 4, high);
  });

  const stringAddresses: number[] = [];
  let at = blockStart + stringsOffset;
  for (const s of strings) {
    stringAddresses.push(at);
    ram.set(s, at);
    ram[at + s.length] = 0;
    at += s.length + 1;
  }

  const mmapAddress = blockStart + mmapOffset;
  mmap.forEach((entry, i) => {
    const e = mmapAddress + i * MMAP_ENTRY_BYTES;
    put32(e, MMAP_ENTRY_BYTES - 4); // size of the entry, not counting this field
    put32(e + 4, entry.base);
    put32(e + 8, 0);
    put32(e + 12, entry.length);
    put32(e + 16, 0);
    put32(e + 20, entry.type);
  });

  const modsAddress = blockStart + modsOffset;
  modules.forEach((m, i) => {
    const e = modsAddress + i * MODULE_BYTES;
    put32(e, m.start);
    put32(e + 4, m.end);
    put32(e + 8, stringAddresses[2 + i]!);
    put32(e + 12, 0);
  });

  const info = blockStart + infoOffset;
  let flags = INFO_MEMORY | INFO_CMDLINE | INFO_MODS | INFO_MMAP | INFO_BOOT_LOADER_NAME;
  put32(info + 4, 640); // mem_lower, KiB: 0..0x9FC00 rounded as GRUB reports it (the BIOS's 640)
  put32(info + 8, Math.floor(Math.max(0, ram.length - ONE_MIB) / 1024)); // mem_upper, KiB from 1 MiB
  if (opts.bootDevice !== undefined) {
    flags |= INFO_BOOT_DEVICE;
    put32(info + 12, opts.bootDevice);
  }
  put32(info + 16, stringAddresses[0]!);
  put32(info + 20, modules.length);
  put32(info + 24, modsAddress);
  put32(info + 44, mmap.length * MMAP_ENTRY_BYTES);
  put32(info + 48, mmapAddress);
  put32(info + 64, stringAddresses[1]!);
  put32(info, flags);

  return {
    entry,
    infoAddress: info,
    gdtAddress,
    stackTop: blockStart + blockBytes,
    kernelStart: kernel.start,
    kernelEnd: kernel.end,
    modules,
    cmdline,
    blockStart,
    blockEnd: blockStart + blockBytes,
  };
}

/** Puts the CPU in the state the specification promises the kernel (see the file comment). */
export function enterMultiboot(cpu: Cpu, boot: MultibootBoot): void {
  cpu.setGdtr(boot.gdtAddress, GDT_BYTES - 1);
  cpu.setIdtr(0, 0x3ff);
  cpu.setCr(0, (cpu.getCr(0) | 1) & 0x7fffffff); // PE on, PG off
  cpu.setFlatProtectedMode(0); // CS 0x08, data 0x10: the descriptors of boot.gdtAddress; EFLAGS = 0x2
  for (const r of [Reg.EAX, Reg.ECX, Reg.EDX, Reg.EBX, Reg.ESP, Reg.EBP, Reg.ESI, Reg.EDI]) cpu.setReg(r, 0);
  cpu.setReg(Reg.EAX, MULTIBOOT_BOOTLOADER_MAGIC);
  cpu.setReg(Reg.EBX, boot.infoAddress);
  cpu.setReg(Reg.ESP, boot.stackTop);
  cpu.eflags = 0x2;
  cpu.eip = boot.entry;
  cpu.discardTranslations();
}

interface MemoryRegion {
  base: number;
  length: number;
  /** 1: available RAM; 2: reserved. */
  type: number;
}

/** The BIOS memory map a PC with `ramBytes` reports: conventional memory, the reserved hole below 1 MiB, extended memory. */
export function memoryMap(ramBytes: number): MemoryRegion[] {
  const map: MemoryRegion[] = [
    { base: 0, length: LOW_MEMORY_END, type: 1 },
    { base: LOW_MEMORY_END, length: ONE_MIB - LOW_MEMORY_END, type: 2 },
  ];
  if (ramBytes > ONE_MIB) map.push({ base: ONE_MIB, length: ramBytes - ONE_MIB, type: 1 });
  return map;
}

/** The lowest 4 KiB-aligned place for `bytes` clear of `occupied`: low memory first, else above everything. */
function placeBlock(bytes: number, occupied: Range[], ramBytes: number): number {
  const fits = (start: number, end: number): boolean => {
    const block = { start, end: start + bytes };
    return block.end <= end && occupied.every((r) => !overlaps(r, block));
  };
  const candidates = [LOW_BLOCK_START, ...occupied.map((r) => alignUp(r.end, PAGE))].sort((a, b) => a - b);
  for (const start of candidates) if (start >= LOW_BLOCK_START && fits(start, LOW_MEMORY_END)) return start;
  for (const start of candidates) if (start >= ONE_MIB && fits(start, ramBytes)) return start;
  throw new MultibootError(`no room in RAM (${mib(ramBytes)}) for the boot information after the kernel and modules`);
}

function checkFits(range: Range, ramBytes: number, what: string): void {
  if (range.end > ramBytes) {
    throw new MultibootError(
      `the kernel does not fit in RAM (${mib(ramBytes)}): ${what} ${hex32(range.start)}..${hex32(range.end - 1)}`,
    );
  }
}

function loadElfKernel(image: Uint8Array, ram: Uint8Array): { kernel: Range; entry: number } {
  let segments;
  try {
    segments = elfLoadSegments(image);
  } catch (e) {
    throw new MultibootError(`kernel: ${(e as Error).message}`);
  }
  const ranges = segments.map((s) => ({ start: s.paddr, end: s.paddr + s.memsz }));
  ranges.forEach((r) => checkFits(r, ram.length, 'segment'));
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (overlaps(ranges[i]!, ranges[j]!)) {
        throw new MultibootError(
          `kernel: ELF segments overlap (${hex32(ranges[i]!.start)}..${hex32(ranges[i]!.end - 1)} and ` +
            `${hex32(ranges[j]!.start)}..${hex32(ranges[j]!.end - 1)})`,
        );
      }
    }
  }
  try {
    const loaded = loadElf(image, ram);
    return { kernel: { start: loaded.loadStart, end: loaded.loadEnd }, entry: loaded.entry };
  } catch (e) {
    throw new MultibootError(`kernel: ${(e as Error).message}`);
  }
}

/** Flag 16: load the file from the header's address fields (specification 3.1.3). */
function loadAout(image: Uint8Array, ram: Uint8Array, header: MultibootHeader): { kernel: Range; entry: number } {
  const { headerAddr, loadAddr, loadEndAddr, bssEndAddr, entryAddr } = header.aout!;
  if (loadAddr > headerAddr) {
    throw new MultibootError(`bad Multiboot address fields: load_addr ${hex32(loadAddr)} is above header_addr ${hex32(headerAddr)}`);
  }
  const fileStart = header.offset - (headerAddr - loadAddr);
  if (fileStart < 0) {
    throw new MultibootError(`bad Multiboot address fields: load_addr ${hex32(loadAddr)} is before the start of the file`);
  }
  let loadEnd: number;
  if (loadEndAddr === 0) loadEnd = loadAddr + (image.length - fileStart);
  else {
    if (loadEndAddr < loadAddr) throw new MultibootError(`bad Multiboot address fields: load_end_addr ${hex32(loadEndAddr)} is below load_addr`);
    if (loadEndAddr - loadAddr > image.length - fileStart) {
      throw new MultibootError(`bad Multiboot address fields: load_end_addr ${hex32(loadEndAddr)} is past the end of the file`);
    }
    loadEnd = loadEndAddr;
  }
  let bssEnd = loadEnd;
  if (bssEndAddr !== 0) {
    if (bssEndAddr < loadEnd) throw new MultibootError(`bad Multiboot address fields: bss_end_addr ${hex32(bssEndAddr)} is below load_end_addr`);
    bssEnd = bssEndAddr;
  }
  const kernel = { start: loadAddr, end: bssEnd };
  checkFits(kernel, ram.length, 'image');
  if (entryAddr < loadAddr || entryAddr >= Math.max(loadEnd, loadAddr + 1)) {
    throw new MultibootError(`bad Multiboot address fields: entry_addr ${hex32(entryAddr)} is outside the loaded image`);
  }
  ram.set(image.subarray(fileStart, fileStart + (loadEnd - loadAddr)), loadAddr);
  ram.fill(0, loadEnd, bssEnd);
  return { kernel: { start: kernel.start, end: Math.max(kernel.end, kernel.start + 1) }, entry: entryAddr };
}
