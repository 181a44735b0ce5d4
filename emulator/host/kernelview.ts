// The MMU-aware debugger's kernel-level views (issue 8): the Atlas kernel's
// own data structures read out of guest RAM through its ELF symbols and the
// layouts it exports (kernel/README.md, "Debugger ABI"), never through a
// side channel: the process table, the page-fault history, the frame table,
// the swap areas, and a process's address space as its regions and page
// tables say.
//
//   const view = new KernelView(kernelElfBytes, machine.ram);
//   console.log(formatFaults(view.faultHistory(), view.processes()));
//
// Kernel virtual addresses are physical + 0xC0000000 (the kernel maps all
// the RAM it uses there). A kernel without a view's symbols (an older one,
// a bare-metal guest) or with a layout that does not make sense gives a
// KernelViewError that says what is missing; nothing here throws anything
// else for bad guest data. Reading changes nothing in the guest.

import { elfSymbolEntries } from './elf.js';
import { KERNEL_BASE } from './kstats.js';

export class KernelViewError extends Error {
  override name = 'KernelViewError';
}

const PAGE = 4096;
const hex = (n: number, width = 8): string => '0x' + (n >>> 0).toString(16).padStart(width, '0');
const hexShort = (n: number): string => '0x' + (n >>> 0).toString(16);

// ---- types ----

export interface KernelProcess {
  slot: number;
  pid: number;
  name: string;
  state: string;
  /** Kernel virtual address of its struct vmspace, 0 for none (a kernel thread, a zombie). */
  vmspace: number;
  /** Physical address of its page directory (the CR3 it runs with), null without an address space. */
  cr3: number | null;
}

/** The #PF error code, decoded. */
export interface FaultError {
  present: boolean;
  write: boolean;
  user: boolean;
  reserved: boolean;
  fetch: boolean;
  /** Not a CPU fault: the kernel's copyin/copyout faulted the page in for a system call. */
  kernelCopy: boolean;
}

export interface FaultRecord {
  seq: number;
  tick: number;
  pid: number;
  eip: number;
  /** CR2. */
  addr: number;
  err: number;
  error: FaultError;
  outcome: string;
  outcomeCode: number;
  /** Frame number mapped at addr afterwards, 0 if none. */
  frame: number;
  /** Swap entry involved, 0 if none; `swapArea`/`swapSlot` decode it. */
  swap: number;
  swapArea?: string;
  swapSlot?: number;
}

export type FrameKind = 'reserved' | 'free' | 'queued' | 'kernel' | 'pgtable' | 'user' | 'pagecache' | 'unknown';

export interface FrameMapping {
  pid: number;
  va: number;
  /** The PTE that maps it (read from the page table), undefined if unreadable. */
  pte?: number;
}

export interface FrameInfo {
  frame: number;
  /** The frame table's use, by the kernel's name (reserved, free, kernel, pgtable, user). */
  use: string;
  kind: FrameKind;
  flags: string[];
  flagBits: number;
  refcount: number;
  /** The pid of the first mapping's address space (the frame table's owner when there is none). */
  owner: number;
  /** Every mapping through the reverse map (empty for a frame no address space maps). */
  mappings: FrameMapping[];
  sharers: number;
  accessed: boolean;
  dirty: boolean;
  locked: boolean;
  age: number;
  lastUse: number;
  /** Swap entry holding a copy, 0: none. */
  swap: number;
  swapArea?: string;
  swapSlot?: number;
  /** Page-cache frames: the file's page (file offset / 4096) and the file's path. */
  fileIndex?: number;
  file?: string;
}

export interface SwapAreaInfo {
  index: number;
  drive: string;
  /** 0: not a swap area. */
  slots: number;
  used: number;
  priority: number;
  pagesIn: number;
  pagesOut: number;
  /** Per slot: the reference count (PTEs and frames holding it), and the frame caching it (-1: none). */
  refs: Uint16Array;
  cache: Int32Array;
}

export type PageState = 'resident' | 'swapped' | 'cached' | 'file' | 'zero' | 'stray';

export interface Region {
  start: number;
  end: number;
  flags: number;
  flagNames: string[];
  /** The file's path, `[heap]`, `[stack]`, `[mmap]` or `[anon]`. */
  name: string;
  file?: { path: string; inode: number; fileVa: number; fileOff: number; fileSize: number };
}

export interface PtRange {
  start: number;
  end: number;
  state: PageState;
  region: Region | null;
  /** From the PTE for resident pages, else from the region. */
  writable: boolean;
  user: boolean;
  accessed: boolean;
  dirty: boolean;
  /** Resident pages whose frame others map too, or that are page-cache pages. */
  shared: boolean;
  pagecache: boolean;
  /** resident and cached: the frame of each page. */
  frames: number[];
  /** swapped: each page's entry (area + slot). */
  slots: { area: string; slot: number; entry: number }[];
  /** file: the file offset of the range's first page. */
  fileOffset?: number;
}

export interface AddressSpace {
  pid: number;
  name: string;
  cr3: number;
  vmspace: number;
  heapStart: number;
  brk: number;
  /** The kernel's own count of the pages it maps (vmspace.resident). */
  resident: number;
  regions: Region[];
  ranges: PtRange[];
}

// ---- the reader ----

interface Symbol { value: number; size: number }

export class KernelView {
  private readonly symbols = new Map<string, Symbol>();
  private readonly view: DataView;

  constructor(kernel: Uint8Array, readonly ram: Uint8Array) {
    let entries;
    try {
      entries = elfSymbolEntries(kernel);
    } catch (e) {
      throw new KernelViewError(`not a kernel ELF file: ${(e as Error).message}`);
    }
    for (const s of entries) if (!this.symbols.has(s.name) && s.shndx !== 0) this.symbols.set(s.name, { value: s.value, size: s.size });
    this.view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  }

  // ---- memory ----

  private phys(va: number, bytes: number, what: string): number {
    const p = (va >>> 0) - KERNEL_BASE;
    if (va >>> 0 < KERNEL_BASE || p + bytes > this.ram.length) throw new KernelViewError(`${what} at ${hex(va)} is not in RAM`);
    return p;
  }
  private u32(va: number, what: string): number { return this.view.getUint32(this.phys(va, 4, what), true); }
  private pu32(pa: number): number | undefined { return pa >= 0 && pa + 4 <= this.ram.length ? this.view.getUint32(pa, true) : undefined; }
  private field(at: number, off: number, size: 1 | 2 | 4): number {
    return size === 1 ? this.ram[at + off]! : size === 2 ? this.view.getUint16(at + off, true) : this.view.getUint32(at + off, true);
  }
  private cstring(va: number, max: number, what: string): string {
    const at = this.phys(va, 1, what);
    let end = at;
    while (end < this.ram.length && end - at < max && this.ram[end] !== 0) end++;
    return Buffer.from(this.ram.subarray(at, end)).toString('latin1');
  }

  private sym(names: string[], view: string): Symbol[] {
    const missing = names.filter((n) => !this.symbols.has(n));
    if (missing.length) {
      throw new KernelViewError(`the kernel exports no ${view} (missing ELF symbol${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: an older kernel, or not the Atlas kernel)`);
    }
    return names.map((n) => this.symbols.get(n)!);
  }

  /** A u32 layout array of at least `words` words (checked against the symbol's size when it has one). */
  private layout(name: string, words: number, view: string): number[] {
    const [s] = this.sym([name], view);
    if (s!.size !== 0 && s!.size < words * 4) throw new KernelViewError(`${name} has ${s!.size / 4} words, ${words} expected: a kernel of another version`);
    const at = this.phys(s!.value, words * 4, name);
    return Array.from({ length: words }, (_, i) => this.view.getUint32(at + i * 4, true));
  }

  /** count names at `va` (an array of char pointers). */
  private names(va: number, count: number, what: string): string[] {
    if (count > 256) throw new KernelViewError(`${what}: ${count} names does not make sense`);
    return Array.from({ length: count }, (_, i) => {
      const p = this.u32(va + i * 4, what);
      return p === 0 ? '' : this.cstring(p, 64, what);
    });
  }

  /** count {name, value} pairs at `va` (struct knamed). */
  private named(va: number, count: number, what: string): { name: string; value: number }[] {
    if (count > 256) throw new KernelViewError(`${what}: ${count} entries does not make sense`);
    return Array.from({ length: count }, (_, i) => ({ name: this.cstring(this.u32(va + i * 8, what), 64, what), value: this.u32(va + i * 8 + 4, what) }));
  }

  // ---- processes ----

  processes(): KernelProcess[] {
    const [procSym] = this.sym(['proc'], 'process table');
    const [nproc, size, stateOff, pidOff, nameOff, vsOff, pgdirOff, unused] = this.layout('kproc_layout', 8, 'process table');
    if (nproc! < 1 || nproc! > 4096 || size! < 16 || [stateOff!, pidOff!, nameOff! + 12, vsOff!].some((o) => o + 4 > size!)) {
      throw new KernelViewError(`kproc_layout does not make sense`);
    }
    let states: string[] = [];
    const st = this.symbols.get('kproc_states');
    if (st) for (let i = 0; i < 16; i++) { const p = this.u32(st.value + i * 4, 'kproc_states'); if (p === 0) break; states.push(this.cstring(p, 32, 'kproc_states')); }
    const table = this.phys(procSym!.value, nproc! * size!, 'proc[]');
    const procs: KernelProcess[] = [];
    for (let slot = 0; slot < nproc!; slot++) {
      const at = table + slot * size!;
      const state = this.view.getUint32(at + stateOff!, true);
      if (state === unused) continue;
      const nameBytes = this.ram.subarray(at + nameOff!, at + nameOff! + 16);
      const end = nameBytes.indexOf(0);
      const name = Buffer.from(nameBytes.subarray(0, end < 0 ? 16 : end)).toString('latin1');
      const vs = this.view.getUint32(at + vsOff!, true);
      let cr3: number | null = null;
      if (vs !== 0) {
        const pgdir = this.u32(vs + pgdirOff!, `proc[${slot}].vs->pgdir`);
        if (pgdir !== 0) cr3 = this.phys(pgdir, PAGE, `proc[${slot}].vs->pgdir`);
      }
      procs.push({ slot, pid: this.view.getInt32(at + pidOff!, true), name, state: states[state] ?? String(state), vmspace: vs, cr3 });
    }
    return procs;
  }

  // ---- the page-fault history ----

  faultHistory(): FaultRecord[] {
    const view = 'page-fault history';
    const [ring, nextSym, namesSym] = this.sym(['kfaults', 'kfaults_next', 'kfault_outcomes'], view);
    const [n, size, seqO, tickO, pidO, eipO, addrO, errO, outO, frameO, swapO, nOutcomes, kcopy] = this.layout('kfaults_layout', 13, view) as number[];
    if (n! < 1 || n! > 65536 || size! < 4 || [seqO, tickO, pidO, eipO, addrO, errO, outO, frameO, swapO].some((o) => o! + 4 > size!)) {
      throw new KernelViewError('kfaults_layout does not make sense');
    }
    const outcomes = this.names(namesSym!.value, nOutcomes!, 'kfault_outcomes');
    const next = this.u32(nextSym!.value, 'kfaults_next');
    const base = this.phys(ring!.value, n! * size!, 'kfaults');
    const swapNames = this.swapDecoder();
    const records: FaultRecord[] = [];
    const first = Math.max(1, next - n!);
    for (let seq = first; seq < next; seq++) {
      const at = base + (seq % n!) * size!;
      const f = (o: number) => this.view.getUint32(at + o, true);
      if (f(seqO!) !== seq) continue; // being written when the machine stopped
      const err = f(errO!);
      const code = f(outO!);
      const swap = f(swapO!);
      const rec: FaultRecord = {
        seq, tick: f(tickO!), pid: f(pidO!), eip: f(eipO!), addr: f(addrO!), err, error: decodeFaultError(err, kcopy!),
        outcome: outcomes[code] ?? `outcome ${code}`, outcomeCode: code, frame: f(frameO!), swap,
      };
      if (swap) Object.assign(rec, swapNames(swap));
      records.push(rec);
    }
    return records;
  }

  // ---- swap ----

  /** Entry -> { swapArea, swapSlot } (with the names from kswap_names when the kernel has them). */
  private swapDecoder(): (entry: number) => { swapArea: string; swapSlot: number } {
    let bits = 24;
    let names: string[] = [];
    try {
      const l = this.layout('kswap_layout', 13, 'swap areas');
      bits = l[11]!;
      names = this.names(this.sym(['kswap_names'], 'swap areas')[0]!.value, l[0]!, 'kswap_names');
    } catch { /* entries still decode, with numbered areas */ }
    return (e) => {
      const area = (e >>> bits) - 1;
      return { swapArea: names[area] ?? `area${area}`, swapSlot: e & ((1 << bits) - 1) };
    };
  }

  swapAreas(): SwapAreaInfo[] {
    const view = 'swap areas';
    const [areasSym, namesSym] = this.sym(['swapareas', 'kswap_names'], view);
    const [n, size, slotsO, usedO, prioO, inO, outO, refsO, refsPer, cacheO, cachePer] = this.layout('kswap_layout', 13, view) as number[];
    if (n! < 1 || n! > 16 || refsPer! < 1 || cachePer! < 1 || [slotsO, usedO, prioO, inO, outO, refsO, cacheO].some((o) => o! + 4 > size!)) {
      throw new KernelViewError('kswap_layout does not make sense');
    }
    const names = this.names(namesSym!.value, n!, 'kswap_names');
    const areas: SwapAreaInfo[] = [];
    for (let i = 0; i < n!; i++) {
      const a = areasSym!.value + i * size!;
      const slots = this.u32(a + slotsO!, 'swapareas');
      if (slots > 1 << 24) throw new KernelViewError(`swap area ${names[i]}: ${slots} slots does not make sense`);
      const refs = new Uint16Array(slots);
      const cache = new Int32Array(slots).fill(-1);
      if (slots) {
        const refDir = this.u32(a + refsO!, 'swaparea.refs');
        const cacheDir = this.u32(a + cacheO!, 'swaparea.cache');
        for (let p = 0; p * refsPer! < slots; p++) {
          const page = this.phys(this.u32(refDir + p * 4, 'swaparea.refs'), 2 * refsPer!, 'a page of swap reference counts');
          for (let s = p * refsPer!; s < Math.min(slots, (p + 1) * refsPer!); s++) refs[s] = this.view.getUint16(page + (s - p * refsPer!) * 2, true);
        }
        for (let p = 0; p * cachePer! < slots; p++) {
          const page = this.phys(this.u32(cacheDir + p * 4, 'swaparea.cache'), 4 * cachePer!, 'a page of the swap cache');
          for (let s = p * cachePer!; s < Math.min(slots, (p + 1) * cachePer!); s++) cache[s] = this.view.getUint32(page + (s - p * cachePer!) * 4, true) - 1;
        }
      }
      areas.push({
        index: i, drive: names[i]!, slots, used: this.u32(a + usedO!, 'swapareas'), priority: this.u32(a + prioO!, 'swapareas'),
        pagesIn: this.u32(a + inO!, 'swapareas'), pagesOut: this.u32(a + outO!, 'swapareas'), refs, cache,
      });
    }
    return areas;
  }

  // ---- frames ----

  frames(): FrameInfo[] {
    const view = 'frame table';
    const [framesSym, nframesSym, usesSym, flagsSym] = this.sym(['frames', 'nframes', 'kframe_uses', 'kframe_flags'], view);
    const l = this.layout('kframe_layout', 18, view);
    const [size, first, useO, flagsO, refO, ownerO, vaO, vsO, moreO, swapO, ipO, indexO, , , lastO, ageO, nUses, nFlags] = l as number[];
    if (size! < 8 || size! > 256 || first !== 0 || [ownerO, vaO, vsO, moreO, swapO, ipO, indexO, lastO].some((o) => o! + 4 > size!)) {
      throw new KernelViewError('kframe_layout does not make sense');
    }
    const uses = this.names(usesSym!.value, nUses!, 'kframe_uses');
    const flagNames = this.named(flagsSym!.value, nFlags!, 'kframe_flags');
    const bit = (name: string) => flagNames.find((f) => f.name === name)?.value ?? 0;
    const [fQueued, fLocked, fPcache] = [bit('queued'), bit('locked'), bit('pcache')];
    const nframes = this.u32(nframesSym!.value, 'nframes');
    const tableVa = this.u32(framesSym!.value, 'frames');
    if (nframes > this.ram.length / PAGE + 1) throw new KernelViewError(`nframes ${nframes} does not fit the RAM`);
    const table = this.phys(tableVa, nframes * size!, 'frames[]');
    const vsInfo = this.vmspaceReader();
    const rmap = this.symbols.has('krmap_layout') ? this.layout('krmap_layout', 4, view) : null;
    const swapNames = this.swapDecoder();
    const inodePath = this.inodePathReader();
    const out: FrameInfo[] = [];
    for (let fn = 0; fn < nframes; fn++) {
      const at = table + fn * size!;
      const use = this.field(at, useO!, 1);
      const flags = this.field(at, flagsO!, 1);
      const vs = this.field(at, vsO!, 4);
      const mappings: FrameMapping[] = [];
      if (vs) {
        mappings.push(vsInfo.mapping(vs, this.field(at, vaO!, 4)));
        if (rmap) {
          for (let m = this.field(at, moreO!, 4), guard = 0; m !== 0 && guard < 4096; guard++) {
            const mat = this.phys(m, rmap[0]!, 'struct mapping');
            mappings.push(vsInfo.mapping(this.field(mat, rmap[1]!, 4), this.field(mat, rmap[2]!, 4)));
            m = this.field(mat, rmap[3]!, 4);
          }
        }
      }
      const useName = uses[use] ?? `use ${use}`;
      let kind: FrameKind = (['reserved', 'free', 'kernel', 'pgtable', 'user'] as const).find((k) => k === useName) ?? 'unknown';
      if (kind === 'free' && flags & fQueued) kind = 'queued';
      if (kind === 'user' && flags & fPcache) kind = 'pagecache';
      const ptes = mappings.map((m) => m.pte ?? 0);
      const swap = this.field(at, swapO!, 4);
      const info: FrameInfo = {
        frame: fn, use: useName, kind, flags: flagNames.filter((f) => flags & f.value).map((f) => f.name), flagBits: flags,
        refcount: this.field(at, refO!, 2), owner: mappings[0]?.pid ?? this.field(at, ownerO!, 4), mappings,
        sharers: mappings.length, accessed: ptes.some((p) => p & 0x20), dirty: ptes.some((p) => p & 0x40),
        locked: (flags & fLocked) !== 0, age: this.field(at, ageO!, 1), lastUse: this.field(at, lastO!, 4), swap,
      };
      if (swap) Object.assign(info, swapNames(swap));
      if (flags & fPcache) {
        info.fileIndex = this.field(at, indexO!, 4);
        const ip = this.field(at, ipO!, 4);
        if (ip) info.file = inodePath(ip);
      }
      out.push(info);
    }
    return out;
  }

  // ---- address spaces ----

  private vmLayout() {
    const l = this.layout('kvmspace_layout', 21, 'address-space regions');
    const [size, pgdirO, vmasO, nvma, vmaSize, startO, endO, flagsO, ipO, fileVaO, fileOffO, fileSizeO, heapO, brkO, resO, , pidO, pathO, maxPath, , nFlags] = l as number[];
    if (nvma! < 1 || nvma! > 1024 || [startO, endO, flagsO, ipO, fileVaO, fileOffO, fileSizeO].some((o) => o! + 4 > vmaSize!) || [pgdirO, heapO, brkO, resO, pidO].some((o) => o! + 4 > size!)) {
      throw new KernelViewError('kvmspace_layout does not make sense');
    }
    return { size: size!, pgdirO: pgdirO!, vmasO: vmasO!, nvma: nvma!, vmaSize: vmaSize!, startO: startO!, endO: endO!, flagsO: flagsO!, ipO: ipO!, fileVaO: fileVaO!, fileOffO: fileOffO!, fileSizeO: fileSizeO!, heapO: heapO!, brkO: brkO!, resO: resO!, pidO: pidO!, pathO: pathO!, maxPath: maxPath!, nFlags: nFlags! };
  }

  private inodePathReader(): (ip: number) => string {
    let pathO = -1, max = 128;
    try { const l = this.vmLayout(); pathO = l.pathO; max = l.maxPath; } catch { /* no paths */ }
    return (ip) => (pathO < 0 ? `inode ${hex(ip)}` : '/' + this.cstring(ip + pathO, max, 'inode path'));
  }

  /** (vmspace, va) -> the pid and the PTE, cached per vmspace. */
  private vmspaceReader() {
    let l: ReturnType<KernelView['vmLayout']> | null = null;
    try { l = this.vmLayout(); } catch { l = null; }
    const cache = new Map<number, { pid: number; pgdir: number }>();
    const info = (vs: number) => {
      let i = cache.get(vs);
      if (!i) {
        const pgdirOff = l ? l.pgdirO : this.layout('kproc_layout', 8, 'process table')[6]!;
        const pgdir = this.u32(vs + pgdirOff, 'vmspace.pgdir');
        i = { pid: l ? this.u32(vs + l.pidO, 'vmspace.pid') : -1, pgdir: pgdir ? this.phys(pgdir, PAGE, 'vmspace.pgdir') : -1 };
        cache.set(vs, i);
      }
      return i;
    };
    return {
      mapping: (vs: number, va: number): FrameMapping => {
        const i = info(vs);
        const m: FrameMapping = { pid: i.pid, va };
        const pte = i.pgdir < 0 ? undefined : this.pte(i.pgdir, va);
        if (pte !== undefined) m.pte = pte;
        return m;
      },
    };
  }

  /** The PTE of va in the page directory at physical pgdir; undefined when no page table covers it. */
  private pte(pgdir: number, va: number): number | undefined {
    const pde = this.pu32(pgdir + (va >>> 22) * 4);
    if (pde === undefined || !(pde & 1) || pde & 0x80) return undefined;
    return this.pu32((pde & ~0xfff) + ((va >>> 12) & 0x3ff) * 4);
  }

  /** A process's user address space, by pid or by CR3 (its page directory's physical address). */
  addressSpace(target: { pid: number } | { cr3: number }): AddressSpace {
    const view = 'address-space regions';
    const l = this.vmLayout();
    const [vmaFlagsSym] = this.sym(['kvma_flags'], view);
    const pteL = this.layout('kpte_layout', 12, view);
    const [, pteW, pteU, pteA, pteD, , pteSwapped, swapShift, pteCached, cachedMask] = pteL as number[];
    const flagNames = this.named(vmaFlagsSym!.value, l.nFlags, 'kvma_flags');
    const procs = this.processes();
    const p = 'pid' in target ? procs.find((x) => x.pid === target.pid) : procs.find((x) => x.cr3 === target.cr3 >>> 0);
    if (!p) throw new KernelViewError('pid' in target ? `no process ${target.pid}` : `no process runs with CR3 ${hex(target.cr3)}`);
    if (!p.vmspace || p.cr3 === null) throw new KernelViewError(`pid ${p.pid} (${p.name}) has no address space (a kernel thread or a zombie)`);
    const vs = this.phys(p.vmspace, l.size, 'struct vmspace');
    const bit = (name: string) => flagNames.find((f) => f.name === name)?.value ?? 0;
    const inodePath = this.inodePathReader();
    const regions: Region[] = [];
    for (let i = 0; i < l.nvma; i++) {
      const at = vs + l.vmasO + i * l.vmaSize;
      const flags = this.field(at, l.flagsO, 4);
      if (!flags) continue;
      const r: Region = {
        start: this.field(at, l.startO, 4), end: this.field(at, l.endO, 4), flags,
        flagNames: flagNames.filter((f) => flags & f.value).map((f) => f.name), name: '',
      };
      const ip = this.field(at, l.ipO, 4);
      if (flags & bit('file') && ip) {
        r.file = { path: inodePath(ip), inode: ip, fileVa: this.field(at, l.fileVaO, 4), fileOff: this.field(at, l.fileOffO, 4), fileSize: this.field(at, l.fileSizeO, 4) };
        r.name = r.file.path;
      } else {
        r.name = flags & bit('stack') ? '[stack]' : flags & bit('heap') ? '[heap]' : flags & bit('mmap') ? '[mmap]' : '[anon]';
      }
      regions.push(r);
    }
    regions.sort((a, b) => a.start - b.start);

    const frameTable = (() => { try { return this.frames(); } catch { return null; } })();
    const swapNames = this.swapDecoder();
    const cr3 = p.cr3;
    const pages: { va: number; pte: number; region: Region | null }[] = [];
    const seen = new Set<number>();
    for (const r of regions) {
      for (let va = r.start; va < r.end; va += PAGE) {
        pages.push({ va, pte: this.pte(cr3, va) ?? 0, region: r });
        seen.add(va);
      }
    }
    // PTEs that no region covers (there should be none): shown as stray.
    for (let pdx = 0; pdx < KERNEL_BASE >>> 22; pdx++) {
      const pde = this.pu32(cr3 + pdx * 4);
      if (pde === undefined || !(pde & 1) || pde & 0x80) continue;
      for (let ptx = 0; ptx < 1024; ptx++) {
        const va = ((pdx << 22) | (ptx << 12)) >>> 0;
        const pte = this.pu32((pde & ~0xfff) + ptx * 4) ?? 0;
        if (pte && !seen.has(va)) pages.push({ va, pte, region: null });
      }
    }
    pages.sort((a, b) => a.va - b.va);

    const ranges: PtRange[] = [];
    for (const { va, pte, region } of pages) {
      const present = (pte & 1) !== 0;
      let state: PageState;
      if (!region) state = 'stray';
      else if (present) state = 'resident';
      else if (pte & pteSwapped!) state = 'swapped';
      else if (pte & pteCached!) state = 'cached';
      else if (pte === 0 && region.file && va < region.file.fileVa + region.file.fileSize && va + PAGE > region.file.fileVa) state = 'file';
      else state = 'zero';
      const frame = present || state === 'cached' ? ((pte & cachedMask!) >>> 12) : -1;
      const fi = frame >= 0 && frameTable ? frameTable[frame] : undefined;
      const pagecache = present && fi?.kind === 'pagecache';
      const shared = present && ((fi?.sharers ?? 0) > 1 || pagecache);
      const writable = present ? (pte & pteW!) !== 0 : !!region && (region.flags & bit('w')) !== 0;
      const user = present ? (pte & pteU!) !== 0 : true;
      const accessed = present && (pte & pteA!) !== 0;
      const dirty = present && (pte & pteD!) !== 0;
      const last = ranges[ranges.length - 1];
      const fileOffset = state === 'file' ? region!.file!.fileOff + (va - region!.file!.fileVa) : undefined;
      const same = last && last.end === va && last.region === region && last.state === state && last.writable === writable &&
        last.user === user && last.accessed === accessed && last.dirty === dirty && last.shared === shared && last.pagecache === pagecache;
      const range: PtRange = same ? last : { start: va, end: va, state, region, writable, user, accessed, dirty, shared, pagecache, frames: [], slots: [] };
      if (!same) {
        if (fileOffset !== undefined) range.fileOffset = fileOffset;
        ranges.push(range);
      }
      range.end = va + PAGE;
      if (frame >= 0) range.frames.push(frame);
      if (state === 'swapped') {
        const entry = pte >>> swapShift!;
        const { swapArea, swapSlot } = swapNames(entry);
        range.slots.push({ area: swapArea, slot: swapSlot, entry });
      }
    }
    return {
      pid: p.pid, name: p.name, cr3, vmspace: p.vmspace, heapStart: this.field(vs, l.heapO, 4), brk: this.field(vs, l.brkO, 4),
      resident: this.field(vs, l.resO, 4), regions, ranges,
    };
  }
}

// ---- formatting ----

export function decodeFaultError(err: number, kernelCopyBit = 0x10000): FaultError {
  return {
    present: (err & 1) !== 0, write: (err & 2) !== 0, user: (err & 4) !== 0, reserved: (err & 8) !== 0,
    fetch: (err & 16) !== 0, kernelCopy: (err & kernelCopyBit) !== 0,
  };
}

/** `not-present write from user mode` (and `reserved-bit`, `fetch`, `by the kernel's copy` when they apply). */
export function describeFaultError(e: FaultError): string {
  const parts = [e.present ? 'protection' : 'not-present', e.fetch ? 'fetch' : e.write ? 'write' : 'read'];
  if (e.reserved) parts.push('reserved-bit');
  parts.push(e.user ? 'from user mode' : 'from kernel mode');
  if (e.kernelCopy) parts.push('(kernel copyin/copyout)');
  return parts.join(' ');
}

/** One line per fault, oldest first: `#1234 t=512 pid 5 (demand) eip=0x0804812a addr=0x0804c000 not-present write from user mode -> zero-fill frame 0x3a1`. */
export function formatFaults(faults: FaultRecord[], processes: KernelProcess[] = []): string {
  if (faults.length === 0) return 'no page faults recorded\n';
  const names = new Map(processes.map((p) => [p.pid, p.name]));
  return faults.map((f) => {
    const name = names.get(f.pid);
    let line = `#${f.seq} t=${f.tick} pid ${f.pid}${name ? ` (${name})` : ''} eip=${hex(f.eip)} addr=${hex(f.addr)} ${describeFaultError(f.error)} -> ${f.outcome}`;
    if (f.frame) line += ` frame ${hexShort(f.frame)}`;
    if (f.swap) line += ` swap ${f.swapArea}:${f.swapSlot}`;
    return line;
  }).join('\n') + '\n';
}

const FRAME_CHARS: [string, string][] = [
  ['-', 'reserved (not managed: low memory, the kernel, the frame table)'],
  ['.', 'free'],
  ['q', 'free page queue (contents still valid: a fault rescues it)'],
  ['K', 'kernel (stacks, page directories, heap)'],
  ['T', 'page table'],
  ['u', 'user page, one mapping'],
  ['s', 'user page, shared (several mappings)'],
  ['p', 'page cache (a file\'s page)'],
  ['L', 'user page locked (mlockall)'],
  ['!', 'disk I/O in flight'],
];

export function frameChar(f: FrameInfo): string {
  if (f.flags.includes('io')) return '!';
  switch (f.kind) {
    case 'reserved': return '-';
    case 'free': return '.';
    case 'queued': return 'q';
    case 'kernel': return 'K';
    case 'pgtable': return 'T';
    case 'pagecache': return 'p';
    case 'user': return f.locked ? 'L' : f.sharers > 1 ? 's' : 'u';
    default: return '?';
  }
}

/** A map of all frames (one char each, 64 a line) with a legend; with `list`, a line per user frame (of `pid` only if given). */
export function formatFrames(frames: FrameInfo[], opts: { list?: boolean; pid?: number } = {}): string {
  const lines: string[] = [];
  if (!opts.list) {
    const counts = new Map<string, number>();
    for (let i = 0; i < frames.length; i += 64) {
      const row = frames.slice(i, i + 64).map(frameChar).join('');
      for (const c of row) counts.set(c, (counts.get(c) ?? 0) + 1);
      lines.push(`${hex(i * PAGE)} ${row}`);
    }
    lines.push('legend: ' + FRAME_CHARS.filter(([c]) => counts.has(c)).map(([c, what]) => `${c} ${what} (${counts.get(c)})`).join('; '));
    return lines.join('\n') + '\n';
  }
  const user = frames.filter((f) => (f.kind === 'user' || f.kind === 'pagecache') && (opts.pid === undefined || f.mappings.some((m) => m.pid === opts.pid)));
  for (const f of user) {
    const maps = f.mappings.map((m) => `${m.pid}:${hex(m.va)}`).join(' ');
    let line = `frame ${hexShort(f.frame).padEnd(7)} ${f.kind.padEnd(9)} owner ${String(f.owner).padStart(3)} sharers ${f.sharers} ${f.accessed ? 'A' : '-'}${f.dirty ? 'D' : '-'} age ${hex(f.age, 2)} last_use ${f.lastUse}`;
    if (f.swap) line += ` swap ${f.swapArea}:${f.swapSlot}`;
    if (f.file !== undefined) line += ` file ${f.file} page ${f.fileIndex}`;
    if (f.flags.length) line += ` [${f.flags.join(',')}]`;
    lines.push(`${line} maps ${maps}`);
  }
  lines.push(`${user.length} user frame${user.length === 1 ? '' : 's'}${opts.pid === undefined ? '' : ` mapped by pid ${opts.pid}`}`);
  return lines.join('\n') + '\n';
}

/** The map character of a swap slot. */
export function slotChar(a: SwapAreaInfo, s: number): string {
  const r = a.refs[s]!;
  if (r === 0) return '.';
  const cached = a.cache[s]! >= 0;
  return r > 1 ? (cached ? 'S' : 's') : cached ? 'c' : '#';
}

/** Per swap area: drive, priority, slots used, pages in/out, and (unless `map: false`) its slot map, 64 slots a line. */
export function formatSwap(areas: SwapAreaInfo[], opts: { map?: boolean } = {}): string {
  const used = areas.filter((a) => a.slots > 0);
  if (used.length === 0) return 'no swap areas\n';
  const lines: string[] = [];
  for (const a of used) {
    lines.push(`${a.drive}: priority ${a.priority}, ${a.used} of ${a.slots} slots used, ${a.pagesIn} pages in, ${a.pagesOut} out`);
    if (opts.map === false) continue;
    // Trailing free lines are summed up rather than printed.
    let lastUsed = -1;
    for (let s = 0; s < a.slots; s++) if (a.refs[s]) lastUsed = s;
    for (let s = 0; s <= lastUsed; s += 64) {
      let row = '';
      for (let t = s; t < Math.min(a.slots, s + 64); t++) row += slotChar(a, t);
      lines.push(`  ${String(s).padStart(6)} ${row}`);
    }
    const rest = lastUsed < 0 ? 0 : Math.floor(lastUsed / 64) * 64 + 64;
    if (rest < a.slots) lines.push(`  ${String(rest).padStart(6)} ... free to ${a.slots - 1}`);
  }
  lines.push('legend: . free; # in use; s shared (reference count > 1); c in use, cached in RAM; S shared, cached in RAM');
  return lines.join('\n') + '\n';
}

/**
 * Runs of consecutive numbers, up or down (frames are often handed out from
 * the top): `0x3a1-0x3a4,0x3b0,0x26f-0x26a` (at most `max` runs, then `...`).
 */
function runs(ns: number[], fmt: (n: number) => string, max = 6): string {
  const parts: string[] = [];
  for (let i = 0; i < ns.length;) {
    let j = i;
    const step = i + 1 < ns.length && ns[i + 1] === ns[i]! - 1 ? -1 : 1;
    while (j + 1 < ns.length && ns[j + 1] === ns[j]! + step) j++;
    parts.push(i === j ? fmt(ns[i]!) : `${fmt(ns[i]!)}-${fmt(ns[j]!)}`);
    i = j + 1;
  }
  return parts.length > max ? parts.slice(0, max).join(',') + `,... (${parts.length} runs)` : parts.join(',');
}

/** `pt`: one line per range of pages with the same state, rights and region. */
export function formatPt(as: AddressSpace): string {
  const lines = [`pid ${as.pid} (${as.name}) cr3 ${hex(as.cr3)}: ${as.resident} pages resident, heap ${hex(as.heapStart)}-${hex(as.brk)}`];
  for (const r of as.ranges) {
    const n = (r.end - r.start) / PAGE;
    const rights = `${r.writable ? 'rw' : 'r-'} ${r.user ? 'u' : 's'} ${r.accessed ? 'A' : '-'}${r.dirty ? 'D' : '-'}`;
    let where: string;
    switch (r.state) {
      case 'resident': where = `resident frames ${runs(r.frames, hexShort)}${r.pagecache ? ' (page cache)' : ''}${r.shared && !r.pagecache ? ' (shared)' : ''}`; break;
      case 'cached': where = `cached (free page queue) frames ${runs(r.frames, hexShort)}`; break;
      case 'swapped': {
        const areas = [...new Set(r.slots.map((s) => s.area))];
        where = `swapped ${areas.map((a) => `${a} slots ${runs(r.slots.filter((s) => s.area === a).map((s) => s.slot), String)}`).join(', ')}`;
        break;
      }
      case 'file': where = `file, not yet faulted: ${r.region!.file!.path} +${hexShort(r.fileOffset!)}`; break;
      case 'zero': where = 'zero-fill, not yet faulted'; break;
      default: where = `stray PTE outside every region`;
    }
    const region = r.region ? `${r.region.name} [${r.region.flagNames.join(',')}]` : '';
    lines.push(`${hex(r.start)}-${hex(r.end)} ${String(n).padStart(5)} page${n === 1 ? ' ' : 's'} ${rights}  ${where}  ${region}`);
  }
  return lines.join('\n') + '\n';
}

/** `ps`: pid, name, state, cr3. */
export function formatProcesses(procs: KernelProcess[]): string {
  return procs.map((p) => `${String(p.pid).padStart(4)} ${p.name.padEnd(16)} ${p.state.padEnd(9)} ${p.cr3 === null ? '-' : hex(p.cr3)}`).join('\n') + '\n';
}
