// The Atlas kernel's process table, read from guest memory by the host (a
// test's view of which processes exist and where their page directories
// are), and the program headers of a user executable.
//
// The ABI (issue 7; the kernel exports it, the host finds it by ELF symbol):
//
//   struct proc proc[NPROC];            /* ELF symbol "proc" */
//   const u32 kproc_layout[8] = {       /* ELF symbol "kproc_layout" */
//     NPROC, sizeof(struct proc),
//     offsetof(struct proc, state), offsetof(struct proc, pid),
//     offsetof(struct proc, name),      /* char[16], NUL-terminated */
//     offsetof(struct proc, vs),        /* struct vmspace *, kernel virtual */
//     offsetof(struct vmspace, pgdir),  /* pde_t *, kernel virtual */
//     UNUSED,                           /* the state of a free slot (0) */
//   };
//
// Kernel virtual addresses are physical + 0xC0000000 (the kernel maps all
// the RAM it uses there), so a live process's page directory is at
// vs->pgdir - 0xC0000000: the CR3 it runs with.

import { elfSymbols } from '../emulator/host/elf.js';
import { KERNEL_BASE } from '../emulator/host/kstats.js';

export interface KernelProc {
  /** Slot in proc[]. */
  slot: number;
  state: number;
  pid: number;
  name: string;
  /** Physical address of its page directory (its CR3); null for a process without an address space (a kernel thread, a zombie). */
  cr3: number | null;
}

const LAYOUT_WORDS = 8;

/** The live (not UNUSED) processes, or an Error saying what is missing or malformed. */
export function readKernelProcs(kernel: Uint8Array, ram: Uint8Array): KernelProc[] {
  const symbols = elfSymbols(kernel);
  const layoutVa = symbols.get('kproc_layout');
  const procVa = symbols.get('proc');
  if (layoutVa === undefined || procVa === undefined) {
    throw new Error('the kernel exports no process table (ELF symbols kproc_layout and proc: issue 7)');
  }
  const layoutAt = physical(ram, layoutVa, LAYOUT_WORDS * 4, 'kproc_layout');
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const layout = Array.from({ length: LAYOUT_WORDS }, (_, i) => view.getUint32(layoutAt + i * 4, true));
  return readProcTable(ram, procVa, layout);
}

function physical(ram: Uint8Array, va: number, bytes: number, what: string): number {
  const p = va - KERNEL_BASE;
  if (va < KERNEL_BASE || p + bytes > ram.length) throw new Error(`${what} at 0x${va.toString(16)} is not in RAM`);
  return p;
}

/** The live processes of the table at kernel virtual address `procVa`, laid out as `layout` (kproc_layout's 8 words) says. */
export function readProcTable(ram: Uint8Array, procVa: number, layout: number[]): KernelProc[] {
  const [nproc, size, stateOff, pidOff, nameOff, vsOff, pgdirOff, unused] = layout as [number, number, number, number, number, number, number, number];
  if (layout.length !== LAYOUT_WORDS || nproc < 1 || nproc > 4096 || size < 16 || [stateOff, pidOff, nameOff + 12, vsOff].some((o) => o + 4 > size)) {
    throw new Error(`kproc_layout does not make sense: ${layout.join(' ')}`);
  }
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const table = physical(ram, procVa, nproc * size, 'proc[]');
  const procs: KernelProc[] = [];
  for (let slot = 0; slot < nproc; slot++) {
    const at = table + slot * size;
    const state = view.getUint32(at + stateOff, true);
    if (state === unused) continue;
    const nameBytes = ram.subarray(at + nameOff, at + nameOff + 16);
    const end = nameBytes.indexOf(0);
    const name = Buffer.from(nameBytes.subarray(0, end < 0 ? 16 : end)).toString('latin1');
    const vs = view.getUint32(at + vsOff, true);
    let cr3: number | null = null;
    if (vs !== 0) {
      const pgdir = view.getUint32(physical(ram, vs, pgdirOff + 4, `proc[${slot}].vs`) + pgdirOff, true);
      if (pgdir !== 0) cr3 = physical(ram, pgdir, 4096, `proc[${slot}].vs->pgdir`);
    }
    procs.push({ slot, state, pid: view.getInt32(at + pidOff, true), name, cr3 });
  }
  return procs;
}

/** A program header (PT_LOAD and others) of an ELF32 executable. */
export interface ProgramHeader {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  /** PF_X 1, PF_W 2, PF_R 4. */
  flags: number;
}

export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;

export function programHeaders(elf: Uint8Array): ProgramHeader[] {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const phoff = view.getUint32(28, true);
  const phentsize = view.getUint16(42, true);
  const phnum = view.getUint16(44, true);
  return Array.from({ length: phnum }, (_, i) => {
    const ph = phoff + i * phentsize;
    return {
      type: view.getUint32(ph, true),
      offset: view.getUint32(ph + 4, true),
      vaddr: view.getUint32(ph + 8, true),
      filesz: view.getUint32(ph + 16, true),
      memsz: view.getUint32(ph + 20, true),
      flags: view.getUint32(ph + 24, true),
    };
  });
}

/** The page-aligned addresses a segment covers. */
export function segmentPages(ph: ProgramHeader): number[] {
  const pages: number[] = [];
  for (let va = ph.vaddr & ~0xfff; va < ph.vaddr + ph.memsz; va += 0x1000) pages.push(va >>> 0);
  return pages;
}
