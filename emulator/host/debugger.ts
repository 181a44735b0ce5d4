// The debugger's engine: run control, breakpoints, watchpoints and reverse
// execution over a Machine. Two front ends drive it: the REPL of
// `atlas386 debug` (debugrepl.ts) and the gdb remote stub (gdbstub.ts).
//
// The machine's run loop stays in charge of time and devices; the engine is
// its RunDebugger. While the guest is stopped, pause() holds the loop; to go
// on, a front end sets a mode (continue, step, next...) and gets a promise of
// the next stop. execute() runs the CPU with the core's own debug hooks
// (emulator/core/debug.ts) armed for that mode: execution breakpoints, which
// stop before the instruction; vector breaks, which stop at the first
// instruction of a handler once the CPU has delivered the interrupt or
// exception; and watchpoints, which stop after the instruction whose access
// touched the watched bytes. With nothing armed the core runs at full speed.
//
// Positions and reverse execution. A stop is a position in the run: the
// count of instructions retired (and EIP, since a stop at a handler's first
// instruction comes after a delivery, at the same count as the stop before
// it). Runs are deterministic, so the engine takes a snapshot of the whole
// machine every `snapshotInterval` instructions (at exact multiples, the
// first when the engine first runs), and goes back by restoring the latest
// snapshot before the target and running forward to it with its output
// swallowed (Machine keeps a high-water mark of the output). reverse-step
// goes back one instruction; reverse-continue replays each interval since
// the latest snapshot, newest first, noting every breakpoint or watchpoint
// hit, and stops at the last hit before where it started, or at the first
// snapshot ("the beginning of the recorded history").

import { Expression, type ExpressionContext } from './debugexpr.js';
import { disassemble } from './disasm.js';
import { REGISTER_NAMES, SEGMENT_NAMES, isReadFailure, linearReader, readU32 } from './inspect.js';
import { Reg, Seg, type Cpu, type RunResult, type WatchKind } from './cpu.js';
import type { Machine, MachineResult, MachineSnapshot, RunDebugger } from './machine.js';

export const MAX_BREAKPOINTS = 16;
export const MAX_WATCHPOINTS = 8;
/** Instructions between snapshots, by default (a few tens of ms of host time). */
export const DEFAULT_SNAPSHOT_INTERVAL = 5_000_000;
/** Snapshots kept; past this (or past SNAPSHOT_BYTES of them) the interval doubles and every other one goes. */
const MAX_SNAPSHOTS = 24;
const SNAPSHOT_BYTES = 512 * 1024 * 1024;

export type WatchAccess = 'read' | 'write' | 'access';

export interface Breakpoint {
  id: number;
  type: 'break';
  address: number;
  /** How the user named it: `vm_fault`, `vmfault.c:120`, `*0xc0101234`. */
  label: string;
  condition?: Expression;
  /** A user program's breakpoint stops only in processes running that program. */
  program?: string;
  hits: number;
}
export interface VectorBreak {
  id: number;
  type: 'vector';
  vector: number;
  label: string;
  hits: number;
}
export interface Watchpoint {
  id: number;
  type: 'watch';
  address: number;
  length: number;
  access: WatchAccess;
  space: 'linear' | 'physical';
  label: string;
  hits: number;
}
export type StopPoint = Breakpoint | VectorBreak | Watchpoint;

export type StopEvent =
  | { kind: 'step' }
  | { kind: 'breakpoint'; point: Breakpoint }
  | { kind: 'vector'; point: VectorBreak; vector: number; errorCode?: number }
  | { kind: 'watch'; point: Watchpoint; access: WatchKind; linear: number; physical: number; size: number; eip: number }
  /** next, finish, until: the place asked for was reached. */
  | { kind: 'reached' }
  /** Ctrl-C, or a gdb client's interrupt. */
  | { kind: 'interrupted' }
  /** reverse-continue found no earlier hit: the first snapshot. */
  | { kind: 'history-begin' }
  /** The run ended: guest exit (status), triple fault, halt forever... */
  | { kind: 'ended'; result: MachineResult };

type Mode =
  | { kind: 'stopped' }
  /** Detached: no stops at all. */
  | { kind: 'free' }
  | { kind: 'continue'; temporary?: TemporaryStop }
  | { kind: 'step'; remaining: number }
  /** Replay quietly to an exact position. */
  | { kind: 'to'; instructions: number; eip?: number }
  /** Replay to `end`, noting every hit without stopping. */
  | { kind: 'scan'; end: number; hits: Hit[] };

/** next/finish/until: stop at `address` once ESP is at least `minEsp` (the frame has returned). */
interface TemporaryStop { address: number; minEsp: number }

interface Hit { instructions: number; eip: number; event: StopEvent }

interface Snapshot { instructions: number; state: MachineSnapshot }

type Waiter = (event: StopEvent) => void;

export interface DebuggerOptions {
  snapshotInterval?: number;
  /** Resolves symbols in conditions and addresses (kernel first, then the current user program). */
  symbol?: (name: string) => number | undefined;
}

export class Debugger implements RunDebugger {
  readonly cpu: Cpu;
  private mode: Mode = { kind: 'stopped' };
  private readonly points = new Map<number, StopPoint>();
  private nextId = 1;
  private armed = '';
  /** The next run does not stop on a breakpoint at the current EIP (we are stopped on it). */
  private resumeOver = false;
  private interruptRequested = false;
  private pendingStop: StopEvent | undefined;
  private waiters: Waiter[] = [];
  private release: (() => void) | undefined;
  private ended: MachineResult | undefined;
  private snapshots: Snapshot[] = [];
  private snapshotInterval: number;
  /** Listeners told of every stop a user sees (not the internal ones of reverse execution). */
  readonly onStop: ((event: StopEvent) => void)[] = [];
  lastStop: StopEvent | undefined;
  symbol: (name: string) => number | undefined;
  /** The name of the program the current process runs (kernel views); undefined when unknown. */
  currentProgram: () => string | undefined = () => undefined;

  constructor(readonly machine: Machine, opts: DebuggerOptions = {}) {
    this.cpu = machine.cpu;
    this.snapshotInterval = opts.snapshotInterval ?? DEFAULT_SNAPSHOT_INTERVAL;
    this.symbol = opts.symbol ?? (() => undefined);
  }

  // ---- state ----

  get stopped(): boolean { return this.mode.kind === 'stopped'; }
  get running(): boolean { return !this.stopped && this.ended === undefined; }
  get finished(): MachineResult | undefined { return this.ended; }
  get instructions(): number { return this.cpu.instructionsRetired; }
  get linearEip(): number { return (this.cpu.segmentBase(Seg.CS) + this.cpu.eip) >>> 0; }
  /** Positions the recorded history covers: from the first snapshot to now. */
  get historyStart(): number | undefined { return this.snapshots[0]?.instructions; }
  /** Snapshots held, and the instructions between them now (the interval doubles as they thin out). */
  get snapshotCount(): number { return this.snapshots.length; }
  get currentSnapshotInterval(): number { return this.snapshotInterval; }

  // ---- breakpoints, vector breaks, watchpoints ----

  addBreakpoint(address: number, label: string, condition?: string, program?: string): Breakpoint {
    const breaks = this.list().filter((p) => p.type === 'break');
    if (breaks.length >= MAX_BREAKPOINTS) throw new Error(`at most ${MAX_BREAKPOINTS} breakpoints`);
    const point: Breakpoint = { id: this.nextId++, type: 'break', address: address >>> 0, label, hits: 0 };
    if (condition !== undefined) point.condition = new Expression(condition);
    if (program !== undefined) point.program = program;
    this.points.set(point.id, point);
    this.armed = '';
    return point;
  }

  addVectorBreak(vector: number, label: string): VectorBreak {
    if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new Error(`vector ${vector} is not 0..255`);
    const point: VectorBreak = { id: this.nextId++, type: 'vector', vector, label, hits: 0 };
    this.points.set(point.id, point);
    this.armed = '';
    return point;
  }

  addWatchpoint(address: number, length: number, access: WatchAccess, space: 'linear' | 'physical', label: string): Watchpoint {
    if (this.list().filter((p) => p.type === 'watch').length >= MAX_WATCHPOINTS) throw new Error(`at most ${MAX_WATCHPOINTS} watchpoints`);
    if (!Number.isInteger(length) || length < 1 || length > 4096) throw new Error('a watchpoint covers 1 to 4096 bytes');
    if (space === 'physical' && address + length > this.cpu.ram.length) throw new Error(`physical address 0x${address.toString(16)} is beyond RAM`);
    const point: Watchpoint = { id: this.nextId++, type: 'watch', address: address >>> 0, length, access, space, label, hits: 0 };
    this.points.set(point.id, point);
    this.armed = '';
    return point;
  }

  /** Deletes a breakpoint, vector break or watchpoint by number; false when there is none. */
  delete(id: number): boolean {
    this.armed = '';
    return this.points.delete(id);
  }

  deleteAll(): void {
    this.points.clear();
    this.armed = '';
  }

  list(): StopPoint[] {
    return [...this.points.values()];
  }

  /** Evaluates an expression against the stopped machine (print, conditions, addresses). */
  evaluate(text: string | Expression): number {
    const e = typeof text === 'string' ? new Expression(text) : text;
    return e.evaluate(this.expressionContext());
  }

  expressionContext(): ExpressionContext {
    return {
      register: (name) => registerValue(this.cpu, name, this.instructions),
      symbol: (name) => this.symbol(name),
      readU32: (linear) => readU32(linearReader(this.cpu), linear),
    };
  }

  /** Bytes at a linear address through the current page tables (no A/D bits, no TLB fill); undefined if a page is not mapped. */
  readLinear(address: number, length: number): Uint8Array | undefined {
    const bytes = linearReader(this.cpu)(address, length);
    return isReadFailure(bytes) ? undefined : bytes;
  }

  translate(linear: number): number | undefined {
    if (!this.cpu.pagingEnabled) return linear;
    const walk = this.cpu.walk(linear);
    return walk.faultCode === undefined ? walk.physical : undefined;
  }

  // ---- run control (front ends) ----

  continue(): Promise<StopEvent> { return this.resume({ kind: 'continue' }); }

  /** Executes `count` instructions, stepping into interrupt and exception handlers (a delivery counts as a step). */
  step(count = 1): Promise<StopEvent> {
    if (!Number.isInteger(count) || count < 1) throw new Error('step: expected a positive count');
    return this.resume({ kind: 'step', remaining: count });
  }

  /** One instruction, but a CALL runs until it returns (a breakpoint or watchpoint inside still stops). */
  next(): Promise<StopEvent> {
    const eip = this.linearEip;
    const bytes = this.readLinear(eip, 16);
    const insn = bytes ? disassemble(bytes, eip, 1)[0] : undefined;
    if (!insn || !/^call/.test(insn.text)) return this.step(1);
    const esp = this.cpu.getReg(Reg.ESP);
    return this.resume({ kind: 'continue', temporary: { address: (eip + insn.bytes.length) >>> 0, minEsp: esp } });
  }

  /**
   * Runs until the current function returns, by its frame pointer: the
   * return address at [EBP+4] (at the function's first instruction, before
   * the prologue, at [ESP]).
   */
  finish(atFunctionEntry: boolean): Promise<StopEvent> {
    const esp = this.cpu.getReg(Reg.ESP), ebp = this.cpu.getReg(Reg.EBP);
    const slot = atFunctionEntry ? esp : ebp + 4;
    const ret = this.readLinear(slot, 4);
    if (!ret) throw new Error(`finish: cannot read the return address at 0x${slot.toString(16)}`);
    const address = new DataView(ret.buffer).getUint32(0, true);
    return this.resume({ kind: 'continue', temporary: { address, minEsp: (slot + 4) >>> 0 } });
  }

  /** Runs until EIP reaches `address` (in any frame), or something else stops it. */
  until(address: number): Promise<StopEvent> {
    return this.resume({ kind: 'continue', temporary: { address: address >>> 0, minEsp: 0 } });
  }

  /** Ctrl-C: stop the running guest at the next instruction boundary. */
  interrupt(): void {
    if (this.running) this.interruptRequested = true;
  }

  /** Lets the guest run on with no stops (gdb detached). */
  detach(): void {
    this.deleteAll();
    this.mode = { kind: 'free' };
    this.releaseLoop();
  }

  /** Goes back `count` instructions. */
  async reverseStep(count = 1): Promise<StopEvent> {
    this.mustBeStopped();
    const target = this.instructions - count;
    const begin = this.historyStart;
    if (begin === undefined || target < begin) {
      if (begin !== undefined && begin < this.instructions) await this.replayTo(begin);
      return this.report({ kind: 'history-begin' });
    }
    await this.replayTo(target);
    return this.report({ kind: 'step' });
  }

  /** Goes back to the last breakpoint, vector break or watchpoint hit before now. */
  async reverseContinue(): Promise<StopEvent> {
    this.mustBeStopped();
    const now = this.instructions;
    let end = now;
    for (let k = this.snapshotIndexBefore(now); k >= 0; k--) {
      const start = this.snapshots[k]!;
      this.restore(k);
      const hits = await this.runInternal({ kind: 'scan', end, hits: [] });
      const last = hits.filter((h) => h.instructions < now).pop();
      if (last) {
        this.restore(k);
        await this.runInternal({ kind: 'to', instructions: last.instructions, eip: last.eip });
        countHit(last.event);
        return this.report(last.event);
      }
      end = start.instructions;
    }
    if (this.snapshots.length > 0) this.restore(0);
    return this.report({ kind: 'history-begin' });
  }

  // ---- RunDebugger (the machine's loop) ----

  pause(): Promise<void> | undefined {
    if (this.pendingStop !== undefined) {
      const event = this.pendingStop;
      this.pendingStop = undefined;
      this.mode = { kind: 'stopped' };
      this.wake(event);
    }
    if (this.mode.kind !== 'stopped') return undefined;
    return new Promise<void>((resolve) => { this.release = resolve; });
  }

  execute(budget: number): RunResult {
    const cpu = this.cpu;
    const mode = this.mode;
    if (mode.kind === 'free') { this.arm(false, false); return cpu.run(budget); }
    this.takeSnapshotIfDue();
    if (this.interruptRequested && (mode.kind === 'continue' || mode.kind === 'step')) {
      this.interruptRequested = false;
      return this.stopWith({ kind: 'interrupted' });
    }
    // Never run past the next snapshot point: snapshots sit at exact multiples.
    const nextSnapshot = this.nextSnapshotAt() - this.instructions;
    if (nextSnapshot > 0) budget = Math.min(budget, nextSnapshot);

    switch (mode.kind) {
      case 'stopped':
        return { reason: 'stopped', eip: cpu.eip };
      case 'step': {
        this.arm(false, true);
        const r = this.runCore(1);
        if (r.event) return this.stopWith(r.event);
        if (--mode.remaining <= 0 || r.result.reason !== 'budget') return this.stopWith({ kind: 'step' }, r.result);
        return r.result;
      }
      case 'to': {
        const left = mode.instructions - this.instructions;
        if (left <= 0) {
          if (mode.eip !== undefined && this.linearEip !== mode.eip) {
            // The stop was after a delivery at this count: deliver it again, and stop at the handler.
            this.arm(true, false);
            const r = this.runCore(1);
            return this.stopWith(r.event ?? { kind: 'reached' }, r.result);
          }
          return this.stopWith({ kind: 'reached' });
        }
        this.arm(false, false);
        return this.runCore(Math.min(budget, left)).result;
      }
      case 'scan': {
        const left = mode.end - this.instructions;
        if (left <= 0) return this.stopWith({ kind: 'reached' });
        this.arm(true, false);
        const r = this.runCore(Math.min(budget, left));
        if (r.event) {
          mode.hits.push({ instructions: this.instructions, eip: this.linearEip, event: r.event });
          this.resumeOver = true;
        }
        return { ...r.result, reason: r.result.reason === 'stopped' ? 'budget' : r.result.reason };
      }
      case 'continue': {
        this.arm(true, false, mode.temporary?.address);
        const r = this.runCore(budget);
        if (r.event) {
          countHit(r.event);
          return this.stopWith(r.event, r.result);
        }
        return r.result;
      }
    }
  }

  /** The machine's run ended (exit, triple fault...): whoever waits hears of it. */
  runEnded(result: MachineResult): void {
    this.ended = result;
    this.mode = { kind: 'stopped' };
    this.wake({ kind: 'ended', result });
  }

  // ---- internals ----

  private mustBeStopped(): void {
    if (this.ended) throw new Error(`the run has ended (${describeEnd(this.ended)})`);
    if (!this.stopped) throw new Error('the guest is running');
  }

  private resume(mode: Mode): Promise<StopEvent> {
    this.mustBeStopped();
    const promise = new Promise<StopEvent>((resolve) => this.waiters.push((e) => resolve(e)));
    this.mode = mode;
    this.resumeOver = true;
    this.releaseLoop();
    return promise.then((e) => this.report(e));
  }

  /** Runs a mode for the engine's own purposes: the stop is not reported. Resolves with the hits of a scan. */
  private runInternal(mode: Mode): Promise<Hit[]> {
    const promise = new Promise<Hit[]>((resolve, reject) => this.waiters.push((e) => {
      if (e.kind === 'ended') reject(new Error(`the run ended while replaying (${describeEnd(e.result)})`));
      else resolve(mode.kind === 'scan' ? mode.hits : []);
    }));
    this.mode = mode;
    this.resumeOver = true;
    this.releaseLoop();
    return promise;
  }

  private report(event: StopEvent): StopEvent {
    this.lastStop = event;
    for (const listener of this.onStop) listener(event);
    return event;
  }

  private wake(event: StopEvent): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(event);
  }

  private releaseLoop(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  private stopWith(event: StopEvent, result?: RunResult): RunResult {
    this.pendingStop = event;
    return { reason: 'stopped', eip: result?.eip ?? this.cpu.eip };
  }

  /**
   * Arms the core's hooks for a mode: the breakpoints (and a temporary
   * one), vector breaks and watchpoints when `points`; every vector when
   * `everyVector` (a single step stops at a handler's first instruction).
   */
  private arm(points: boolean, everyVector: boolean, temporary?: number): void {
    const key = `${points}/${everyVector}/${temporary}`;
    if (key === this.armed) return;
    this.armed = key;
    const all = points ? this.list() : [];
    const breaks = all.filter((p): p is Breakpoint => p.type === 'break').map((p) => p.address);
    if (temporary !== undefined && !breaks.includes(temporary)) breaks.push(temporary);
    this.cpu.setBreakpoints(breaks);
    const vectors = everyVector ? [...Array(256).keys()] : all.filter((p): p is VectorBreak => p.type === 'vector').map((p) => p.vector);
    this.cpu.setVectorBreaks(vectors);
    this.cpu.setWatchpoints(all.filter((p): p is Watchpoint => p.type === 'watch')
      .map((p) => ({ address: p.address, length: p.length, kind: p.access, space: p.space })));
  }

  /**
   * Runs the core up to `budget` instructions with the hooks as armed, and
   * turns the core's debug stops into events: a breakpoint whose condition
   * is false, or a temporary stop in a deeper frame, is passed over.
   */
  private runCore(budget: number): { result: RunResult; event?: StopEvent } {
    const cpu = this.cpu;
    const target = this.instructions + budget;
    for (;;) {
      const resumeOver = this.resumeOver;
      this.resumeOver = false;
      const result = cpu.run(target - this.instructions, { resumeOverBreakpoint: resumeOver });
      switch (result.reason) {
        case 'breakpoint': {
          const event = this.breakpointEvent();
          if (event) return { result: { reason: 'stopped', eip: result.eip }, event };
          this.resumeOver = true;
          if (this.instructions >= target) return { result: { reason: 'budget', eip: result.eip } };
          continue;
        }
        case 'vector': {
          const vector = result.vector ?? -1;
          const point = this.list().find((p): p is VectorBreak => p.type === 'vector' && p.vector === vector);
          if (this.mode.kind === 'step' || !point) return { result: { reason: 'stopped', eip: result.eip }, event: { kind: 'step' } };
          const event: StopEvent = { kind: 'vector', point, vector };
          if (result.errorCode !== undefined) event.errorCode = result.errorCode;
          return { result: { reason: 'stopped', eip: result.eip }, event };
        }
        case 'watch': {
          const w = result.watch!;
          const point = this.list().filter((p): p is Watchpoint => p.type === 'watch')[w.index];
          if (!point) return { result: { reason: 'budget', eip: result.eip } };
          return {
            result: { reason: 'stopped', eip: result.eip },
            event: { kind: 'watch', point, access: w.kind, linear: w.linear, physical: w.physical, size: w.size, eip: w.eip },
          };
        }
        case 'delivered':
          return { result: { reason: 'budget', eip: result.eip } };
        default:
          return { result };
      }
    }
  }

  /** At a breakpoint stop: the event to report, or undefined to go on (condition false, deeper frame). */
  private breakpointEvent(): StopEvent | undefined {
    const eip = this.linearEip;
    const mode = this.mode;
    if (mode.kind === 'continue' && mode.temporary?.address === eip && this.cpu.getReg(Reg.ESP) >= mode.temporary.minEsp) {
      return { kind: 'reached' };
    }
    for (const p of this.list()) {
      if (p.type !== 'break' || p.address !== eip) continue;
      if (p.program !== undefined && this.currentProgram() !== p.program) continue;
      if (p.condition) {
        let holds: boolean;
        try {
          holds = p.condition.evaluate(this.expressionContext()) !== 0;
        } catch {
          holds = true; // a condition that cannot be evaluated stops, as gdb does
        }
        if (!holds) continue;
      }
      return { kind: 'breakpoint', point: p };
    }
    return undefined;
  }

  // ---- snapshots ----

  private nextSnapshotAt(): number {
    const last = this.snapshots[this.snapshots.length - 1];
    if (!last) return this.instructions;
    return (Math.floor(last.instructions / this.snapshotInterval) + 1) * this.snapshotInterval;
  }

  private takeSnapshotIfDue(): void {
    const last = this.snapshots[this.snapshots.length - 1];
    if (last && this.instructions < this.nextSnapshotAt()) return;
    if (last && last.instructions === this.instructions) return;
    const state = this.machine.snapshot();
    this.snapshots.push({ instructions: this.instructions, state });
    const most = Math.max(4, Math.min(MAX_SNAPSHOTS, Math.floor(SNAPSHOT_BYTES / state.bytes)));
    if (this.snapshots.length > most) this.thinSnapshots();
  }

  /** Keeps the first snapshot and those at multiples of twice the interval. */
  private thinSnapshots(): void {
    this.snapshotInterval *= 2;
    const keep = this.snapshots.filter((s, i) => i === 0 || s.instructions % this.snapshotInterval === 0 || i === this.snapshots.length - 1);
    for (const s of this.snapshots) if (!keep.includes(s)) this.machine.discardSnapshot(s.state);
    this.snapshots = keep;
  }

  private snapshotIndexBefore(instructions: number): number {
    let k = -1;
    for (let i = 0; i < this.snapshots.length; i++) if (this.snapshots[i]!.instructions < instructions) k = i;
    return k;
  }

  /** Restores snapshot k; the later ones are dropped (they will be taken again on the way forward). */
  private restore(k: number): void {
    this.machine.restore(this.snapshots[k]!.state);
    for (const s of this.snapshots.splice(k + 1)) this.machine.discardSnapshot(s.state);
    this.armed = '';
  }

  private async replayTo(instructions: number, eip?: number): Promise<void> {
    const k = this.snapshotIndexBefore(instructions + 1);
    if (k < 0) throw new Error('no snapshot before that point');
    this.restore(k);
    if (this.instructions === instructions && eip === undefined) return;
    await this.runInternal({ kind: 'to', instructions, eip });
  }
}

function countHit(event: StopEvent): void {
  if (event.kind === 'breakpoint' || event.kind === 'vector' || event.kind === 'watch') event.point.hits++;
}

export function describeEnd(result: MachineResult): string {
  if (result.reason === 'exit') return `the guest exited with status ${result.exitStatus ?? 0}`;
  return result.message ?? result.reason;
}

/** A register's value by name, for expressions: eax..edi, ax..di, eip, eflags, cr0-4, cpl, segment selectors, count. */
export function registerValue(cpu: Cpu, name: string, instructions: number): number | undefined {
  const r = (REGISTER_NAMES as readonly string[]).indexOf(name);
  if (r >= 0) return cpu.getReg(r as Reg);
  const r16 = (REGISTER_NAMES as readonly string[]).indexOf(`e${name}`);
  if (r16 >= 0 && name.length === 2) return cpu.getReg(r16 as Reg) & 0xffff;
  const s = (SEGMENT_NAMES as readonly string[]).indexOf(name);
  if (s >= 0) return cpu.segmentSelector(s as Seg);
  switch (name) {
    case 'eip': case 'pc': return cpu.eip;
    case 'eflags': return cpu.eflags;
    case 'cr0': case 'cr2': case 'cr3': case 'cr4': return cpu.getCr(Number(name[2]) as 0 | 2 | 3 | 4);
    case 'cpl': return cpu.cpl;
    case 'count': return instructions >>> 0;
    default: return undefined;
  }
}
