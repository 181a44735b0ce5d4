// The host's handle on the CPU core (dist/core.wasm): loads the module,
// wires the port space to the machine's devices, and turns the core's
// exception traps into results the machine can act on.

import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Translator, type TranslatorCore } from '../translator/translate.js';

export const enum Reg { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI }
export const enum Seg { ES, CS, SS, DS, FS, GS }

export interface RunResult {
  /**
   * 'exception': reported, not delivered (bare metal); 'delivered': delivered
   * through the IDT (step() only; run() goes on into the handler);
   * 'triple-fault': a fault while delivering #DF.
   * The debugger's stops (see setBreakpoints, setVectorBreaks, setWatchpoints;
   * emulator/core/debug.ts): 'breakpoint': EIP is on a breakpoint, its
   * instruction not executed; 'vector': a vector break's vector (`vector`,
   * `errorCode` when it pushed one) was just delivered, EIP is on the
   * handler's first instruction, not executed; 'watch': the instruction
   * (`watch.eip`) made the access in `watch` and completed (a REP string
   * instruction: the iteration; EIP is then still on it).
   */
  reason: 'budget' | 'halt' | 'stopped' | 'exception' | 'delivered' | 'triple-fault' | 'breakpoint' | 'vector' | 'watch';
  vector?: number;
  errorCode?: number;
  eip: number;
  /** reason 'watch': the access that hit. */
  watch?: WatchHit;
}

/** A watched access's kind. */
export type WatchKind = 'read' | 'write';

/** A watchpoint: `length` (1..4096) bytes at `address`, linear or physical, for reads, writes or both ('access'). */
export interface WatchSpec {
  address: number;
  length: number;
  kind: WatchKind | 'access';
  space: 'linear' | 'physical';
}

/** The access that hit a watchpoint. */
export interface WatchHit {
  /** Index of the watchpoint in the list given to setWatchpoints(). */
  index: number;
  /** The access's linear address, and the physical address of its first byte. */
  linear: number;
  physical: number;
  /** In bytes (1, 2 or 4). */
  size: number;
  kind: WatchKind;
  /** EIP of the instruction that made it (for an interrupt frame, of the interrupted instruction). */
  eip: number;
}

/** The last exception (vector 0-31, not an external interrupt) delivered through the IDT. */
export interface ExceptionRecord {
  vector: number;
  /** Absent when the vector pushes none. */
  errorCode?: number;
  /** The EIP pushed: the faulting instruction for a fault, the next one for a trap or INT n. */
  eip: number;
  /** CR2 after the delivery (the faulting address for #PF). */
  cr2: number;
  /** Instructions retired when it was delivered. */
  instructions: number;
}

export interface RunOptions {
  /**
   * Pass over a breakpoint at the current CS.base + EIP (once: the first time
   * the CPU is about to execute there; an interrupt taken first does not use
   * it up). Resume with it after a 'breakpoint' or 'vector' stop.
   */
  resumeOverBreakpoint?: boolean;
}

export interface PortHandlers {
  portIn(port: number, size: 1 | 2 | 4): number;
  portOut(port: number, size: 1 | 2 | 4, value: number): void;
  /**
   * `rep ins` in bulk: reads `count` elements of `size` bytes from `port` into
   * physical memory at `address`; returns how many it moved (0: the core
   * then does them one by one through portIn).
   */
  portInBlock?(port: number, size: 1 | 2 | 4, count: number, address: number): number;
  /** `rep outs` in bulk, the other way. */
  portOutBlock?(port: number, size: 1 | 2 | 4, count: number, address: number): number;
}

export const EXCEPTION_NAMES: Record<number, string> = {
  0: '#DE (divide error)', 1: '#DB (debug)', 3: '#BP (breakpoint)', 4: '#OF (overflow)',
  5: '#BR (bound range exceeded)', 6: '#UD (invalid opcode)', 7: '#NM (device not available)',
  8: '#DF (double fault)', 10: '#TS (invalid TSS)', 11: '#NP (segment not present)',
  12: '#SS (stack fault)', 13: '#GP (general protection)', 14: '#PF (page fault)',
};

interface CoreExports {
  memory: WebAssembly.Memory;
  init(ramBytes: number): void;
  ramPointer(): number;
  run(max: number): number;
  step(): number;
  stop(): void;
  getReg(r: number): number;
  setReg(r: number, v: number): void;
  getEip(): number;
  setEip(v: number): void;
  getEflags(): number;
  setEflags(v: number): void;
  getCr(n: number): number;
  setCr(n: number, v: number): void;
  setGdtr(base: number, limit: number): void;
  setIdtr(base: number, limit: number): void;
  getGdtBase(): number;
  getGdtLimit(): number;
  getIdtBase(): number;
  getIdtLimit(): number;
  getLdtr(): number;
  getSegmentLimit(seg: number): number;
  getSegmentAccess(seg: number): number;
  setSegmentCache(seg: number, selector: number, base: number, limit: number, access: number): void;
  loadSegment(seg: number, selector: number): void;
  getSegmentSelector(seg: number): number;
  getSegmentBase(seg: number): number;
  getInstructionCount(): number;
  getFirstUserModeInstructions(): number;
  pendingVector(): number;
  pendingErrorCode(): number;
  abortInstruction(): void;
  clearPending(): void;
  enableTranslation(on: boolean): void;
  setDeliverThroughIdt(on: boolean): void;
  deliverPendingException(): number;
  getCpl(): number;
  getTr(): number;
  setInterruptLine(level: boolean): void;
  isHalted(): number;
  addIdleCycles(n: number): void;
  getInterruptsEnabled(): number;
  getTranslateRequest(): number;
  getTranslateRequestPhysical(): number;
  discardAllBlocks(): void;
  walk(directory: number, linear: number, access: number, user: boolean): number;
  isPagingEnabled(): number;
  setTlbGeometry(tlb: number, entries: number, ways: number): number;
  tlbEntries(tlb: number): number;
  tlbWays(tlb: number): number;
  tlbEntryPage(tlb: number, index: number): number;
  tlbEntryFrame(tlb: number, index: number): number;
  tlbEntryFlags(tlb: number, index: number): number;
  tlbCounter(which: number): number;
  resetTlbCounters(): void;
  recordReferences(on: boolean): void;
  drainReferences(): void;
  saveState(): void;
  restoreState(): number;
  clearBreakpoints(): void;
  addBreakpoint(linear: number): number;
  setVectorBreakWord(index: number, bits: number): void;
  clearWatchpoints(): void;
  addWatchpoint(first: number, length: number, flags: number): number;
  resumeOverBreakpoint(): void;
  discardDebugStop(): void;
  vectorHit(which: number): number;
  watchHit(which: number): number;
  lastException(which: number): number;
  lastExceptionInstructionCount(): number;
}

/**
 * The CPU core's whole state (emulator/core/snapshot.ts): a copy of the
 * wasm memory (RAM, registers, TLBs...) with the core's globals written
 * into it. Restorable only into the Cpu (or another with the same RAM
 * size and core build) it came from.
 */
export interface CpuState {
  readonly memory: Uint8Array;
  readonly instructionsRetired: number;
}

/**
 * Receives recorded page references as they are drained from the core: a
 * view of (page directory, virtual page number) u32 pairs, valid only
 * during the call.
 */
export type ReferenceSink = (pairs: Uint32Array) => void;

/** The four TLBs, in the core's order. */
export const TLB_NAMES = ['code-4k', 'code-4m', 'data-4k', 'data-4m'] as const;
export type TlbName = (typeof TLB_NAMES)[number];

export interface TlbGeometry { entries: number; ways: number }

/** One cached translation. */
export interface TlbEntry {
  tlb: TlbName;
  /** Index of the entry within its TLB (set * ways + way). */
  index: number;
  /** The linear address of the page it translates (4 KiB or 4 MiB aligned). */
  linear: number;
  /** The physical address of the frame. */
  physical: number;
  user: boolean;
  writable: boolean;
  dirty: boolean;
  global: boolean;
}

export const TLB_COUNTER_NAMES = ['hits', 'misses', 'walks', 'accessedDirtyUpdates', 'fullFlushes', 'pageFlushes', 'evictions', 'pageFaults'] as const;
export type TlbCounters = Record<(typeof TLB_COUNTER_NAMES)[number] | 'lookups', number>;

export type AccessKind = 'read' | 'write' | 'fetch';
const ACCESS_CODES: Record<AccessKind, number> = { read: 0, write: 1, fetch: 2 };

/** A page walk as the MMU would do it now, with no side effects. */
export interface PageWalk {
  linear: number;
  directory: number;
  pdeAddress: number;
  pde: number;
  /** Absent for a 4 MiB page and when the walk stopped at a not-present PDE. */
  pteAddress?: number;
  pte?: number;
  /** The physical address, when the entries map the page (even if the access is denied). */
  physical?: number;
  large: boolean;
  /** The #PF error code the access would raise; absent when it would succeed. */
  faultCode?: number;
}

const STOP_REASONS: RunResult['reason'][] = ['budget', 'halt', 'stopped'];
const STOP_TRANSLATE = 3;
const STOP_TRIPLE_FAULT = 4;
// emulator/core/debug.ts
const STOP_BREAKPOINT = 5, STOP_VECTOR = 6, STOP_WATCH = 7, STOP_CONTINUE = 8;
export const MAX_CORE_BREAKPOINTS = 16;
export const MAX_CORE_WATCHPOINTS = 8;

// Flat 4 GiB segments: access byte P=1, S=1, type (code: execute/read, data:
// read/write, both accessed), G=1, D/B=1.
const FLAT_CODE_ACCESS = 0xC09B;
const FLAT_DATA_ACCESS = 0xC093;

export function packageRoot(): string {
  // Works from the sources (emulator/host) and from the bundle (dist/).
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the atlas386 package root');
    dir = parent;
  }
  return dir;
}

export function wasmPath(debug = false): string {
  return join(packageRoot(), 'dist', debug ? 'core.debug.wasm' : 'core.wasm');
}

const modules = new Map<string, Promise<WebAssembly.Module>>();

async function loadModule(path: string): Promise<WebAssembly.Module> {
  let m = modules.get(path);
  if (!m) {
    m = readFile(path).then((bytes) => WebAssembly.compile(bytes)).catch((e: unknown) => {
      modules.delete(path);
      throw new Error(`cannot load the CPU core ${path} (run npm run build): ${(e as Error).message}`);
    });
    modules.set(path, m);
  }
  return m;
}

const unclaimedPorts: PortHandlers = {
  portIn: (_port, size) => (size === 4 ? 0xffffffff : (1 << (size * 8)) - 1),
  portOut: () => {},
};

export interface CpuOptions {
  ramBytes: number;
  /** Use dist/core.debug.wasm. */
  debug?: boolean;
  ports?: PortHandlers;
  /** Translate hot blocks to wasm (default true); off: interpret every instruction. */
  translate?: boolean;
  /** Deliver exceptions and INT n through the IDT (a machine running an OS); default: report them (bare metal). */
  deliverThroughIdt?: boolean;
  /** The interrupt acknowledge cycle: the interrupt controller's vector for the pending interrupt. */
  acknowledgeInterrupt?: () => number;
}

export class Cpu {
  readonly ram: Uint8Array;
  ports: PortHandlers;
  private readonly translator: Translator;

  private constructor(private readonly core: CoreExports, table: WebAssembly.Table, opts: CpuOptions) {
    this.ports = opts.ports ?? unclaimedPorts;
    core.init(opts.ramBytes);
    this.ram = new Uint8Array(core.memory.buffer, core.ramPointer(), opts.ramBytes);
    this.translator = new Translator(core as unknown as TranslatorCore & Record<string, unknown>, table, this.ram);
    core.enableTranslation(opts.translate ?? true);
    this.deliverThroughIdt = opts.deliverThroughIdt ?? false;
    core.setDeliverThroughIdt(this.deliverThroughIdt);
  }

  private readonly deliverThroughIdt: boolean;
  private referenceSink: ReferenceSink | undefined;
  private get wasmMemory(): WebAssembly.Memory { return this.core.memory; }

  /**
   * Records the page reference string (emulator/core/refs.ts): every
   * user-mode access below 0xC0000000 as (CR3, virtual page), consecutive
   * repeats left out. `sink` receives them whenever the core's buffer fills,
   * and at flushReferences(); undefined stops recording. While recording,
   * user accesses bypass the fast tables (slower, same guest behaviour).
   */
  recordReferences(sink: ReferenceSink | undefined): void {
    if (!sink) this.flushReferences();
    this.referenceSink = sink;
    this.core.recordReferences(sink !== undefined);
  }

  /** Hands the references the core still buffers to the sink (at the end of a run). */
  flushReferences(): void { this.core.drainReferences(); }

  get cpl(): number { return this.core.getCpl(); }
  /** The INTR input from the interrupt controller. */
  setInterruptLine(level: boolean): void { this.core.setInterruptLine(level); }
  /** EFLAGS.IF: will an interrupt end a HLT? */
  get interruptsEnabled(): boolean { return this.core.getInterruptsEnabled() !== 0; }
  get halted(): boolean { return this.core.isHalted() !== 0; }
  /** Time the machine spent with the CPU halted, in cycles (RDTSC counts them). */
  addIdleCycles(n: number): void { this.core.addIdleCycles(n); }
  get taskRegister(): number { return this.core.getTr(); }

  static async create(opts: CpuOptions): Promise<Cpu> {
    if (!Number.isInteger(opts.ramBytes) || opts.ramBytes < 4096 || opts.ramBytes > 0xC0000000) {
      throw new Error(`RAM size ${opts.ramBytes} is out of range (4 KiB to 3 GiB)`);
    }
    const module = await loadModule(wasmPath(opts.debug));
    let cpu: Cpu | undefined;
    // The core's function table, shared with the translated blocks it calls.
    // Block indices start at 2: the core reads 0 and 1 as lookup results.
    const table = new WebAssembly.Table({ initial: 2, element: 'anyfunc' });
    const instance = await WebAssembly.instantiate(module, {
      env: {
        table,
        portIn: (port: number, size: number) => cpu!.ports.portIn(port, size as 1 | 2 | 4) >>> 0,
        portOut: (port: number, size: number, value: number) => cpu!.ports.portOut(port, size as 1 | 2 | 4, value >>> 0),
        portInBlock: (port: number, size: number, count: number, address: number) =>
          cpu!.ports.portInBlock?.(port, size as 1 | 2 | 4, count, address >>> 0) ?? 0,
        portOutBlock: (port: number, size: number, count: number, address: number) =>
          cpu!.ports.portOutBlock?.(port, size as 1 | 2 | 4, count, address >>> 0) ?? 0,
        drainReferences: (pointer: number, count: number) =>
          cpu!.referenceSink?.(new Uint32Array(cpu!.wasmMemory.buffer, pointer >>> 0, count * 2)),
        acknowledgeInterrupt: () => {
          if (!opts.acknowledgeInterrupt) throw new Error('interrupt delivered with no interrupt controller');
          return opts.acknowledgeInterrupt();
        },
        abort: () => { throw new Error('CPU core aborted'); },
      },
    });
    cpu = new Cpu(instance.exports as unknown as CoreExports, table, opts);
    return cpu;
  }

  getReg(r: Reg): number { return this.core.getReg(r) >>> 0; }
  setReg(r: Reg, v: number): void { this.core.setReg(r, v >>> 0); }
  get eip(): number { return this.core.getEip() >>> 0; }
  set eip(v: number) { this.core.setEip(v >>> 0); }
  get eflags(): number { return this.core.getEflags() >>> 0; }
  set eflags(v: number) { this.core.setEflags(v >>> 0); }
  getCr(n: 0 | 2 | 3 | 4): number { return this.core.getCr(n) >>> 0; }
  setCr(n: 0 | 2 | 3 | 4, v: number): void { this.core.setCr(n, v >>> 0); }
  setGdtr(base: number, limit: number): void { this.core.setGdtr(base >>> 0, limit); }
  setIdtr(base: number, limit: number): void { this.core.setIdtr(base >>> 0, limit); }
  /** GDTR and IDTR as LGDT/LIDT loaded them (debugger views). */
  get gdtr(): { base: number; limit: number } { return { base: this.core.getGdtBase() >>> 0, limit: this.core.getGdtLimit() }; }
  get idtr(): { base: number; limit: number } { return { base: this.core.getIdtBase() >>> 0, limit: this.core.getIdtLimit() }; }
  get ldtr(): number { return this.core.getLdtr(); }
  /** A segment register's hidden cache: the limit in bytes, and the access bits (descriptor bits 40-55: type, S, DPL, P, AVL, D/B, G). */
  segmentLimit(s: Seg): number { return this.core.getSegmentLimit(s) >>> 0; }
  segmentAccess(s: Seg): number { return this.core.getSegmentAccess(s) >>> 0; }
  get instructionsRetired(): number { return this.core.getInstructionCount(); }
  /** Instructions retired up to and including the one that first entered ring 3; 0 while it has not. */
  get instructionsBeforeUserMode(): number { return this.core.getFirstUserModeInstructions(); }
  segmentSelector(s: Seg): number { return this.core.getSegmentSelector(s); }
  segmentBase(s: Seg): number { return this.core.getSegmentBase(s) >>> 0; }

  setSegmentCache(s: Seg, selector: number, base: number, limit: number, access: number): void {
    this.core.setSegmentCache(s, selector, base >>> 0, limit >>> 0, access);
  }

  // Loads a segment register through its descriptor, as MOV Sreg does.
  loadSegment(s: Seg, selector: number): RunResult | undefined {
    return this.guard(() => { this.core.loadSegment(s, selector); return undefined; });
  }

  // 32-bit protected mode with flat 4 GiB segments and paging off, as a
  // Multiboot loader leaves the machine. Selectors 0x08/0x10 (ring 0) or
  // 0x1B/0x23 (ring 3) name the segments; no GDT is needed for that state.
  setFlatProtectedMode(cpl: 0 | 3): void {
    this.setCr(0, this.getCr(0) | 1);
    const code = cpl === 0 ? 0x08 : 0x1b;
    const data = cpl === 0 ? 0x10 : 0x23;
    const dpl = cpl << 5;
    this.setSegmentCache(Seg.CS, code, 0, 0xffffffff, FLAT_CODE_ACCESS | dpl);
    for (const s of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) {
      this.setSegmentCache(s, data, 0, 0xffffffff, FLAT_DATA_ACCESS | dpl);
    }
    this.eflags = 0x2;
  }

  /**
   * Runs up to `maxInstructions`. With breakpoints, vector breaks or
   * watchpoints armed it may stop early with 'breakpoint', 'vector' or
   * 'watch' (see RunResult); `opts.resumeOverBreakpoint` passes over the
   * breakpoint the CPU is stopped on.
   */
  run(maxInstructions: number, opts: RunOptions = {}): RunResult {
    const start = this.core.getInstructionCount();
    if (opts.resumeOverBreakpoint) this.core.resumeOverBreakpoint();
    for (;;) {
      const left = maxInstructions - (this.core.getInstructionCount() - start);
      if (left <= 0) return { reason: 'budget', eip: this.eip };
      const result = this.guard(() => this.core.run(left));
      if (typeof result !== 'number') {
        if (result.reason === 'exception' || result.reason === 'triple-fault') return result;
        continue; // delivered through the IDT: the handler runs on
      }
      // The core stops to have a hot block translated, then goes on.
      if (result === STOP_TRANSLATE) {
        this.translator.translate(this.core.getTranslateRequest() >>> 0, this.core.getTranslateRequestPhysical() >>> 0);
      } else if (result === STOP_TRIPLE_FAULT) {
        return { reason: 'triple-fault', vector: 14, eip: this.eip };
      } else if (result === STOP_CONTINUE) {
        continue; // a watch hit undone by its instruction's page fault
      } else if (result >= STOP_BREAKPOINT) {
        return this.debugStop(result);
      } else {
        return { reason: STOP_REASONS[result]!, eip: this.eip };
      }
    }
  }

  // ---- the debugger's hooks (emulator/core/debug.ts) ----

  private breakpoints: number[] = [];
  private vectorBreaks: number[] = [];
  private watchpoints: WatchSpec[] = [];

  /**
   * Execution breakpoints: up to 16 linear addresses (CS.base + EIP). run()
   * stops with 'breakpoint' before executing an instruction at one, at every
   * instruction boundary, including a handler's first instruction right after
   * an interrupt or exception is delivered. While any is set, translated code
   * is not run (slower, same guest behaviour). [] disarms.
   */
  setBreakpoints(linears: readonly number[]): void {
    if (linears.length > MAX_CORE_BREAKPOINTS) throw new Error(`at most ${MAX_CORE_BREAKPOINTS} breakpoints`);
    this.breakpoints = linears.map((a) => a >>> 0);
    this.applyBreakpoints();
  }

  /**
   * Vector breaks: run() stops with 'vector' right after the CPU delivers
   * one of these vectors (0-255) through the IDT (an exception, INT n or an
   * external interrupt), before the handler's first instruction runs. [] disarms.
   */
  setVectorBreaks(vectors: readonly number[]): void {
    for (const v of vectors) if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error(`vector ${v} is not 0-255`);
    this.vectorBreaks = [...vectors];
    this.applyVectorBreaks();
  }

  /**
   * Watchpoints: up to 8. A data access by the CPU (not instruction fetch,
   * not the page walker's page-table accesses; interrupt frames, descriptor
   * table and TSS accesses included) that succeeds and touches a watched
   * byte with a watched kind makes run() stop with 'watch' after the
   * instruction (after the iteration, for a REP string instruction); an
   * instruction that faults counts no hit. The first hit of an instruction
   * is reported. While any is set, every access takes the MMU's slow path
   * and translated code is not run (slower, same guest behaviour). [] disarms.
   */
  setWatchpoints(watchpoints: readonly WatchSpec[]): void {
    if (watchpoints.length > MAX_CORE_WATCHPOINTS) throw new Error(`at most ${MAX_CORE_WATCHPOINTS} watchpoints`);
    for (const w of watchpoints) {
      if (!Number.isInteger(w.length) || w.length < 1 || w.length > 4096) throw new Error(`watchpoint length ${w.length} is not 1-4096`);
    }
    this.watchpoints = watchpoints.map((w) => ({ ...w, address: w.address >>> 0 }));
    this.applyWatchpoints();
  }

  /** The last exception (vectors 0-31, not external interrupts) delivered through the IDT; undefined before the first. */
  lastException(): ExceptionRecord | undefined {
    const vector = this.core.lastException(0);
    if (vector < 0) return undefined;
    const record: ExceptionRecord = {
      vector,
      eip: this.core.lastException(2) >>> 0,
      cr2: this.core.lastException(3) >>> 0,
      instructions: this.core.lastExceptionInstructionCount(),
    };
    const errorCode = this.core.lastException(1);
    if (errorCode >= 0) record.errorCode = errorCode;
    return record;
  }

  /** Sends the hooks to the core again (after restoreState(), which copies the core's memory back). */
  private applyDebugHooks(): void {
    this.applyBreakpoints();
    this.applyVectorBreaks();
    this.applyWatchpoints();
  }

  private applyBreakpoints(): void {
    this.core.clearBreakpoints();
    for (const a of this.breakpoints) this.core.addBreakpoint(a);
  }

  private applyVectorBreaks(): void {
    const words = new Uint32Array(8);
    for (const v of this.vectorBreaks) words[v >>> 5]! |= 1 << (v & 31);
    words.forEach((bits, i) => this.core.setVectorBreakWord(i, bits | 0));
  }

  private applyWatchpoints(): void {
    this.core.clearWatchpoints();
    for (const w of this.watchpoints) {
      const flags = (w.kind === 'write' ? 0 : 1) | (w.kind === 'read' ? 0 : 2) | (w.space === 'physical' ? 4 : 0);
      this.core.addWatchpoint(w.address, w.length, flags);
    }
  }

  private debugStop(code: number): RunResult {
    const eip = this.eip;
    if (code === STOP_BREAKPOINT) return { reason: 'breakpoint', eip };
    if (code === STOP_VECTOR) {
      const result: RunResult = { reason: 'vector', eip, vector: this.core.vectorHit(0) };
      const errorCode = this.core.vectorHit(1);
      if (errorCode >= 0) result.errorCode = errorCode;
      return result;
    }
    return {
      reason: 'watch', eip,
      watch: {
        index: this.core.watchHit(0),
        linear: this.core.watchHit(1) >>> 0,
        physical: this.core.watchHit(2) >>> 0,
        size: this.core.watchHit(3),
        kind: this.core.watchHit(4) !== 0 ? 'write' : 'read',
        eip: this.core.watchHit(5) >>> 0,
      },
    };
  }

  /** Translates the block at `eip` now (tests). Returns false if it cannot be translated. */
  translateNow(eip: number): boolean {
    return this.translator.translate(eip >>> 0);
  }

  // ---- the MMU (nothing here changes what the guest sees) ----

  get pagingEnabled(): boolean { return this.core.isPagingEnabled() !== 0; }

  /**
   * Walks `linear` through the page tables at `directory` (default CR3) as an
   * access of `access` kind from user or supervisor mode would, under the
   * current CR0.WP and CR4, without setting A/D bits or touching the TLB.
   */
  walk(linear: number, opts: { directory?: number; access?: AccessKind; user?: boolean } = {}): PageWalk {
    const directory = (opts.directory ?? this.getCr(3)) >>> 0;
    const at = this.core.walk(directory, linear >>> 0, ACCESS_CODES[opts.access ?? 'read'], opts.user ?? false);
    const words = new Uint32Array(this.core.memory.buffer, at, 7);
    const [pdeAddress, pde, pteAddress, pte, physical, fault, large] = words as unknown as number[];
    const walk: PageWalk = { linear: linear >>> 0, directory, pdeAddress: pdeAddress!, pde: pde!, large: large === 1 };
    if (pteAddress !== 0) { walk.pteAddress = pteAddress!; walk.pte = pte!; }
    const mapped = (pde! & 1) !== 0 && (walk.large || (pte! & 1) !== 0);
    if (mapped) walk.physical = physical!;
    if (fault !== 0xffffffff) walk.faultCode = fault!;
    return walk;
  }

  /** Sets one TLB's size; false if `ways` does not divide `entries` into a power of two of sets (at most 1024 entries). Flushes every TLB. */
  setTlbGeometry(tlb: TlbName, geometry: TlbGeometry): boolean {
    return this.core.setTlbGeometry(TLB_NAMES.indexOf(tlb), geometry.entries, geometry.ways) !== 0;
  }

  tlbGeometry(tlb: TlbName): TlbGeometry {
    const i = TLB_NAMES.indexOf(tlb);
    return { entries: this.core.tlbEntries(i), ways: this.core.tlbWays(i) };
  }

  /** The valid entries of every TLB. */
  tlbEntries(): TlbEntry[] {
    const entries: TlbEntry[] = [];
    TLB_NAMES.forEach((tlb, i) => {
      const n = this.core.tlbEntries(i);
      for (let index = 0; index < n; index++) {
        const flags = this.core.tlbEntryFlags(i, index);
        if ((flags & 1) === 0) continue;
        const shift = i % 2 === 1 ? 22 : 12;
        entries.push({
          tlb, index,
          linear: (this.core.tlbEntryPage(i, index) * 2 ** shift) >>> 0,
          physical: this.core.tlbEntryFrame(i, index) >>> 0,
          user: (flags & 2) !== 0, writable: (flags & 4) !== 0, dirty: (flags & 8) !== 0, global: (flags & 16) !== 0,
        });
      }
    });
    return entries;
  }

  tlbCounters(): TlbCounters {
    const c = Object.fromEntries(TLB_COUNTER_NAMES.map((name, i) => [name, this.core.tlbCounter(i)])) as TlbCounters;
    c.lookups = c.hits + c.misses;
    return c;
  }

  resetTlbCounters(): void { this.core.resetTlbCounters(); }

  /**
   * The core's state (see CpuState). Buffered page references are handed to
   * the sink first. Costs one copy of the wasm memory (RAM + about 0.3 MiB).
   */
  saveState(): CpuState {
    this.flushReferences();
    this.core.saveState();
    return { memory: new Uint8Array(this.core.memory.buffer).slice(), instructionsRetired: this.instructionsRetired };
  }

  /**
   * Puts the core back as saveState() found it. Translated blocks are
   * forgotten (the translator keeps its compiled code, which it reuses only
   * after checking the guest bytes are the same: translation changes speed,
   * never results). Host options (translation, IDT delivery, reference
   * recording) stay as they are now.
   */
  restoreState(state: CpuState): void {
    const memory = new Uint8Array(this.core.memory.buffer);
    if (state.memory.length !== memory.length) {
      throw new Error(`CPU state of ${state.memory.length} bytes does not fit this core's ${memory.length}-byte memory`);
    }
    this.flushReferences();
    memory.set(state.memory);
    if (this.core.restoreState() === 0) throw new Error('not a saved CPU state (no snapshot marker in it)');
    this.applyDebugHooks(); // the debugger's settings are not part of the state
  }

  /** Blocks compiled to wasm so far. */
  get blocksTranslated(): number { return this.translator.blocksTranslated; }

  /** Forgets all translated code: call after writing guest code into `ram` directly. */
  discardTranslations(): void {
    this.core.discardAllBlocks();
  }

  // One whole instruction (a REP string instruction with all its iterations;
  // with watchpoints armed, up to the iteration that hit one: 'watch').
  // Breakpoints are not checked; a vector break on an exception it delivers
  // is dropped (the result is 'delivered' with the vector).
  step(): RunResult {
    const result = this.guard(() => this.core.step());
    if (typeof result !== 'number') {
      this.core.discardDebugStop();
      return result;
    }
    if (result === STOP_WATCH) return this.debugStop(result);
    if (result === STOP_CONTINUE) return { reason: 'budget', eip: this.eip };
    return { reason: STOP_REASONS[result]!, eip: this.eip };
  }

  stop(): void { this.core.stop(); }

  // A guest exception traps out of the core: rewind to the faulting
  // instruction and report it. (Delivery through the IDT comes with the
  // protected-mode machine.)
  private guard<T>(body: () => T): T | RunResult {
    try {
      return body();
    } catch (e) {
      if (!this.isGuestException(e)) throw e;
      const vector = this.core.pendingVector();
      const errorCode = this.core.pendingErrorCode();
      this.core.abortInstruction();
      if (this.deliverThroughIdt) {
        return this.deliverPending()
          ? { reason: 'delivered', eip: this.eip, vector }
          : { reason: 'triple-fault', vector, eip: this.eip };
      }
      this.core.clearPending();
      const result: RunResult = { reason: 'exception', vector, eip: this.eip };
      if (errorCode >= 0) result.errorCode = errorCode;
      return result;
    }
  }

  private isGuestException(e: unknown): boolean {
    return e instanceof WebAssembly.RuntimeError && this.core.pendingVector() >= 0;
  }

  /** Delivers the pending exception through the IDT; a fault on the way becomes #DF, then a triple fault (false). */
  private deliverPending(): boolean {
    for (;;) {
      try {
        return this.core.deliverPendingException() !== 0;
      } catch (e) {
        if (!this.isGuestException(e)) throw e;
        this.core.abortInstruction();
      }
    }
  }
}
