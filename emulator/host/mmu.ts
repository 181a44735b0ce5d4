// The MMU as the host presents it: the TLB geometry option (`--tlb`), and
// the paging counters `atlas386 boot --stats` prints at exit.

import { TLB_NAMES, type Cpu, type TlbGeometry, type TlbName } from './cpu.js';

/** The default geometry: a Pentium II's (P6 family) TLBs. */
export const DEFAULT_TLB_GEOMETRY: Record<TlbName, TlbGeometry> = {
  'code-4k': { entries: 32, ways: 4 },
  'code-4m': { entries: 2, ways: 2 },
  'data-4k': { entries: 64, ways: 4 },
  'data-4m': { entries: 8, ways: 4 },
};

export const TLB_SPEC_HELP =
  'TLB sizes as NAME=ENTRIES/WAYS,... with NAME one of code-4k, code-4m, data-4k, data-4m ' +
  '(default: code-4k=32/4,code-4m=2/2,data-4k=64/4,data-4m=8/4, a Pentium II\'s)';

/**
 * Parses `data-4k=128/4,code-4k=64/8`. The sets (entries / ways) must be a
 * power of two and a TLB has at most 1024 entries. Throws a one-line error.
 */
export function parseTlbSpec(spec: string): Partial<Record<TlbName, TlbGeometry>> {
  const result: Partial<Record<TlbName, TlbGeometry>> = {};
  for (const part of spec.split(',')) {
    const m = /^\s*([a-z0-9-]+)\s*=\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(part);
    if (!m) throw new Error(`bad TLB size "${part}": expected NAME=ENTRIES/WAYS, e.g. data-4k=64/4`);
    const name = m[1] as TlbName;
    if (!TLB_NAMES.includes(name)) throw new Error(`unknown TLB "${m[1]}": one of ${TLB_NAMES.join(', ')}`);
    const entries = Number(m[2]), ways = Number(m[3]);
    const sets = entries / ways;
    if (entries < 1 || entries > 1024 || ways < 1 || !Number.isInteger(sets) || (sets & (sets - 1)) !== 0) {
      throw new Error(`bad TLB size ${name}=${entries}/${ways}: 1 to 1024 entries, and entries / ways a power of two`);
    }
    result[name] = { entries, ways };
  }
  return result;
}

export function applyTlbGeometry(cpu: Cpu, geometry: Partial<Record<TlbName, TlbGeometry>>): void {
  for (const [name, g] of Object.entries(geometry) as [TlbName, TlbGeometry][]) {
    if (!cpu.setTlbGeometry(name, g)) throw new Error(`the core refused TLB size ${name}=${g.entries}/${g.ways}`);
  }
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** The lines `boot --stats` prints: the TLBs' shape and every paging counter. */
export function formatMmuStats(cpu: Cpu): string[] {
  const c = cpu.tlbCounters();
  const shape = TLB_NAMES.map((name) => {
    const g = cpu.tlbGeometry(name);
    return `${name} ${g.entries}/${g.ways}`;
  }).join(', ');
  const hitRate = c.lookups > 0 ? ` (${((c.hits / c.lookups) * 100).toFixed(2)}% hits)` : '';
  return [
    `TLB (entries/ways): ${shape}`,
    `TLB lookups ${fmt(c.lookups)}: hits ${fmt(c.hits)}, misses ${fmt(c.misses)}${hitRate}`,
    `page walks ${fmt(c.walks)}, A/D bits set ${fmt(c.accessedDirtyUpdates)}, evictions ${fmt(c.evictions)}`,
    `flushes: full (CR3 loads, paging-mode changes) ${fmt(c.fullFlushes)}, single (INVLPG) ${fmt(c.pageFlushes)}`,
    `page faults ${fmt(c.pageFaults)}`,
  ];
}
