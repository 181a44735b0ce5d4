// The Atlas kernel's counters, read from guest memory at the end of a run
// (`--stats`, `atlas386 compare`, the bench).
//
// The ABI (kernel/vmstat.c exports it; the host finds it by ELF symbol):
//
//   struct kcounter { const char *name; const u32 *value; };   /* 8 bytes */
//   const struct kcounter kcounters[];   /* ELF symbol "kcounters" */
//   const u32 nkcounters;                /* ELF symbol "nkcounters": entries */
//
// Every pointer (the two symbols, each name, each value) is a kernel virtual
// address at or above 0xC0000000, where the kernel maps all of RAM, so the
// physical address is va - 0xC0000000. Names are NUL-terminated ASCII
// (minor_faults, major_faults, swap_outs, pages_resident_peak, ...); values
// are little-endian u32. The table is read as it is when the run ends.
//
// Anything that does not fit (a kernel without the symbols, such as the test
// kernels; a count of 1024 or more; a pointer outside RAM; a name that is
// not printable or not terminated) gives null: no counters, and nothing is
// printed, since a kernel that does not export them is not an error.

import { elfSymbols } from './elf.js';

export const KERNEL_BASE = 0xc0000000;
const MAX_COUNTERS = 1024;
const MAX_NAME_BYTES = 64;
const ENTRY_BYTES = 8;

export type KernelCounters = [name: string, value: number][];

/** The physical address of kernel virtual address `va` for `bytes` bytes, or -1 when it is not in RAM. */
function physical(va: number, bytes: number, ram: Uint8Array): number {
  if (va < KERNEL_BASE) return -1;
  const p = va - KERNEL_BASE;
  return p + bytes <= ram.length ? p : -1;
}

function readName(ram: Uint8Array, at: number): string | null {
  let end = at;
  while (end < ram.length && end - at < MAX_NAME_BYTES && ram[end] !== 0) {
    const c = ram[end]!;
    if (c < 0x21 || c > 0x7e) return null;
    end++;
  }
  if (end === at || ram[end] !== 0) return null;
  return String.fromCharCode(...ram.subarray(at, end));
}

/** The symbols' values, or null when the file is not an ELF executable or lacks them. */
function counterSymbols(kernel: Uint8Array): { table: number; count: number } | null {
  let symbols: Map<string, number>;
  try {
    symbols = elfSymbols(kernel);
  } catch {
    return null;
  }
  const table = symbols.get('kcounters');
  const count = symbols.get('nkcounters');
  return table === undefined || count === undefined ? null : { table, count };
}

/** The kernel's counters in table order, or null (see above). */
export function readKernelCounters(kernel: Uint8Array, ram: Uint8Array): KernelCounters | null {
  const symbols = counterSymbols(kernel);
  if (!symbols) return null;
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const countAt = physical(symbols.count, 4, ram);
  if (countAt < 0) return null;
  const n = view.getUint32(countAt, true);
  const tableAt = physical(symbols.table, n * ENTRY_BYTES, ram);
  if (n >= MAX_COUNTERS || tableAt < 0) return null;
  const counters: KernelCounters = [];
  for (let i = 0; i < n; i++) {
    const nameAt = physical(view.getUint32(tableAt + i * ENTRY_BYTES, true), 1, ram);
    const valueAt = physical(view.getUint32(tableAt + i * ENTRY_BYTES + 4, true), 4, ram);
    const name = nameAt < 0 ? null : readName(ram, nameAt);
    if (name === null || valueAt < 0) return null;
    counters.push([name, view.getUint32(valueAt, true)]);
  }
  return counters;
}

/** A counter's value by name (undefined when the kernel has no such counter). */
export function counter(counters: KernelCounters | null, name: string): number | undefined {
  return counters?.find(([n]) => n === name)?.[1];
}

/** `kernel: NAME VALUE` lines, names padded to one column. */
export function formatKernelCounters(counters: KernelCounters): string[] {
  const width = Math.max(0, ...counters.map(([name]) => name.length));
  return counters.map(([name, value]) => `kernel: ${name.padEnd(width)} ${value}`);
}
