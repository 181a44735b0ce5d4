// Symbol lookup for the debugger (issue 8): address -> "function+offset" for
// disassembly, backtraces and stop messages, and name -> address for
// `break vm_fault`. Built from the ELF's .symtab (elf.ts), with the sizes
// that elfSymbols drops, so that an address past the end of the last function
// (padding, data after code) is not blamed on that function.

import { elfSymbolEntries, type ElfSymbol } from './elf.js';

const STT_OBJECT = 1;
const STT_FUNC = 2;
const STB_LOCAL = 0;
const SHN_UNDEF = 0;

export interface SymbolRef {
  name: string;
  /** Bytes from the symbol's start. */
  offset: number;
}

export class SymbolTable {
  /** Sorted by address; one entry per address (the preferred name when several share it). */
  private readonly byAddress: ElfSymbol[];
  private readonly byName = new Map<string, number>();

  constructor(entries: ElfSymbol[]) {
    const defined = entries.filter((s) => s.shndx !== SHN_UNDEF);
    this.byAddress = preferredPerAddress(defined);
    // Globals win over a static of the same name (two files may each have a
    // static `lock`); among statics the first in the table wins, as in gdb.
    for (const s of [...defined].sort((a, b) => Number(a.bind === STB_LOCAL) - Number(b.bind === STB_LOCAL))) {
      if (!this.byName.has(s.name)) this.byName.set(s.name, s.value);
    }
  }

  /** The symbol table of an ELF file (throws on a file that is not an i386 executable). */
  static fromElf(bytes: Uint8Array): SymbolTable {
    return new SymbolTable(elfSymbolEntries(bytes));
  }

  /** The address of `name`, or undefined when no symbol has that name. */
  lookup(name: string): number | undefined {
    return this.byName.get(name);
  }

  /**
   * The symbol `addr` falls in: the closest one at or below it, provided
   * `addr` is inside its size. A symbol without a size (assembler labels)
   * covers everything up to the next symbol.
   */
  nearest(addr: number): SymbolRef | undefined {
    addr >>>= 0;
    const i = this.lastAtOrBelow(addr);
    if (i < 0) return undefined;
    const s = this.byAddress[i];
    if (s.size !== 0 && addr >= s.value + s.size) return undefined;
    return { name: s.name, offset: addr - s.value };
  }

  /** `name` or `name+0x1c`, as objdump writes it; undefined outside every symbol. */
  format(addr: number): string | undefined {
    const ref = this.nearest(addr);
    if (!ref) return undefined;
    return ref.offset === 0 ? ref.name : `${ref.name}+0x${ref.offset.toString(16)}`;
  }

  /** Every symbol with its address and size, sorted by address (for listings). */
  all(): readonly ElfSymbol[] {
    return this.byAddress;
  }

  private lastAtOrBelow(addr: number): number {
    return lastAtOrBelow(this.byAddress, (s) => s.value, addr);
  }
}

/** The index of the last of `sorted` (ascending by `key`) whose key is at most `value`; -1 when there is none. */
export function lastAtOrBelow<T>(sorted: readonly T[], key: (item: T) => number, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(sorted[mid]!) <= value) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** How good a name is for an address several symbols share: functions and objects before labels, globals before locals. */
function rank(s: ElfSymbol): number {
  const kind = s.type === STT_FUNC || s.type === STT_OBJECT ? 0 : 2;
  return kind + (s.bind === STB_LOCAL ? 1 : 0);
}

function preferredPerAddress(symbols: ElfSymbol[]): ElfSymbol[] {
  const sorted = [...symbols].sort((a, b) => a.value - b.value || rank(a) - rank(b));
  return sorted.filter((s, i) => i === 0 || sorted[i - 1].value !== s.value);
}
