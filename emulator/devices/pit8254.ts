// The Intel 8254 Programmable Interval Timer of the PC (ports 0x40-0x43).
//
// Three counters are clocked at 1,193,182 Hz. Nothing is simulated tick by
// tick: each counter keeps a description of what its counting element (CE) is
// doing from the tick it was last loaded (a "run"), so the count and the OUT
// level at any tick are computed from (tick - load tick), and a counter whose
// OUT drives something (counter 0 -> IRQ0) schedules one clock event for its
// next OUT transition only. A long idle period costs nothing.
//
// Time convention: input clock tick k happens at floor(k * 1e9 / 1193182) ns
// (tick 0 at 0 ns). A port access or gate change at time t happens after every
// tick at or before t, so "the next CLK pulse" after it is lastTickBy(t) + 1.

import { ByteDevice, type ClockEvent, type IrqLine, type VirtualClock } from './device.js';

const NS_PER_SECOND = 1_000_000_000;
const INPUT_HZ = 1_193_182;

/** floor(a / b) for non-negative integers below 2^53, exactly: a % b is exact in floating point. */
function floorDiv(a: number, b: number): number {
  return (a - (a % b)) / b;
}

/** a mod m, non-negative (JS % keeps the sign of a). */
function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * Virtual time (ns) of input clock tick k: floor(k * 1e9 / 1193182). Whole
 * seconds are split off first so no intermediate product reaches 2^53.
 */
export function pitTickTime(k: number): number {
  const seconds = floorDiv(k, INPUT_HZ);
  return seconds * NS_PER_SECOND + floorDiv((k - seconds * INPUT_HZ) * NS_PER_SECOND, INPUT_HZ);
}

/**
 * The last tick at or before time t (ns): the largest k with pitTickTime(k) <= t,
 * which is floor(((t + 1) * 1193182 - 1) / 1e9), again split by whole seconds.
 */
export function pitLastTickBy(t: number): number {
  const seconds = floorDiv(t, NS_PER_SECOND);
  const rest = t - seconds * NS_PER_SECOND;
  return seconds * INPUT_HZ + floorDiv((rest + 1) * INPUT_HZ - 1, NS_PER_SECOND);
}

/** RW1-RW0 of a control word: 1 LSB only, 2 MSB only, 3 LSB then MSB (0 is the latch command). */
type Access = 1 | 2 | 3;

/** What the counting element does from `start` on (see the file comment). */
interface Run {
  /** Tick at which the CE held its initial value (loaded, or resumed after a gate pause). */
  readonly start: number;
  /**
   * Modes 0/1/4/5: ticks from `start` to terminal count when `armed`, else the
   * raw CE value at `start`. Modes 2/3: the initial count N (1..65536).
   */
  readonly count: number;
  /** Modes 0/1/4/5: the OUT action at terminal count is still ahead. */
  readonly armed: boolean;
  /** Mode 3: OUT level during the first half-cycle of the run. */
  readonly startsHigh: boolean;
  /** Last tick on which the CE counts (gate low, or counting disabled); Infinity while counting. */
  frozenAt: number;
}

/** A CR -> CE transfer due on a known future tick. */
interface PendingLoad {
  readonly tick: number;
  readonly count: number;
  readonly startsHigh: boolean;
}

function toBcd(value: number): number {
  return (
    (Math.floor(value / 1000) % 10) * 0x1000 +
    (Math.floor(value / 100) % 10) * 0x100 +
    (Math.floor(value / 10) % 10) * 0x10 +
    (value % 10)
  );
}

/** BCD digits above 9 are taken at face value: the datasheet leaves them undefined. */
function fromBcd(raw: number): number {
  return ((raw >> 12) & 15) * 1000 + ((raw >> 8) & 15) * 100 + ((raw >> 4) & 15) * 10 + (raw & 15);
}

class Counter {
  /** Mode bits exactly as written: the status byte reports them (6 and 7 included). */
  private programmedMode = 0;
  private access: Access = 3;
  private bcd = false;

  /** Initial count in clock ticks (1..65536, or 1..10000 in BCD); null until one is written. */
  private countRegister: number | null = null;
  private pendingLsb: number | null = null;
  private readMsbNext = false;
  private nullCount = true;
  private latchedCount: number | null = null;
  private latchedStatus: number | null = null;

  /** Null while counting is disabled by programming (control word, first byte of a mode 0 count). */
  private run: Run | null = null;
  /** The CE value while `run` is null: the count stops where it was. */
  private heldValue = 0;
  private pending: PendingLoad | null = null;
  /** OUT held at a level regardless of the run (after a control word, mode 0 rewrite, gate low in 2/3). */
  private outForced: boolean | null = false;
  private reportedOut = false;
  private event: ClockEvent | null = null;
  private eventTick = -1;

  constructor(
    private readonly clock: VirtualClock,
    private gate: boolean,
    /** Called on each OUT change; only a counter with a listener schedules clock events. */
    private readonly onOut: ((level: boolean) => void) | null,
  ) {}

  private get mode(): number {
    return this.programmedMode > 5 ? this.programmedMode - 4 : this.programmedMode;
  }

  private get modulus(): number {
    return this.bcd ? 10000 : 65536;
  }

  private tickNow(): number {
    return pitLastTickBy(this.clock.now());
  }

  // ---- programming -------------------------------------------------------

  /** A control word for this counter: all control logic resets and OUT goes to its initial level. */
  program(access: Access, mode: number, bcd: boolean): void {
    this.stopCounting(this.settle());
    this.programmedMode = mode;
    this.access = access;
    this.bcd = bcd;
    this.countRegister = null;
    this.pendingLsb = null;
    this.readMsbNext = false;
    this.nullCount = true;
    // "held until read (or the counter is reprogrammed)"
    this.latchedCount = null;
    this.latchedStatus = null;
    this.outForced = this.mode !== 0;
    this.refresh();
  }

  writeCount(byte: number): void {
    const now = this.settle();
    if (this.access === 3 && this.pendingLsb === null) {
      this.pendingLsb = byte;
      // Mode 0: the first byte of a two-byte count stops counting and drops OUT at once.
      if (this.mode === 0) {
        this.stopCounting(now);
        this.outForced = false;
      }
      this.refresh();
      return;
    }
    const raw = this.access === 1 ? byte : this.access === 2 ? byte << 8 : (byte << 8) | this.pendingLsb!;
    this.pendingLsb = null;
    const count = this.bcd ? fromBcd(raw) : raw;
    this.countRegister = count === 0 ? this.modulus : count;
    this.nullCount = true;
    this.startCount(now, this.countRegister);
    this.refresh();
  }

  /** The CE keeps its current value and counts no more until the next load. */
  private stopCounting(now: number): void {
    this.heldValue = this.valueAt(now);
    this.run = null;
    this.pending = null;
  }

  /** What a completed count write does, per mode. */
  private startCount(now: number, count: number): void {
    switch (this.mode) {
      case 0:
        this.outForced = false;
        this.pending = { tick: now + 1, count, startsHigh: true };
        return;
      case 4:
        this.pending = { tick: now + 1, count, startsHigh: true };
        return;
      case 1:
      case 5:
        return; // loaded by the next gate trigger
      default:
        this.pending = this.isCounting()
          ? this.reloadAtBoundary(now, count)
          : { tick: now + 1, count, startsHigh: true };
    }
  }

  /** Modes 2/3: a new count waits for the end of the current cycle (mode 2) or half-cycle (mode 3). */
  private reloadAtBoundary(now: number, count: number): PendingLoad {
    const run = this.run!;
    const position = mod(now - run.start, run.count);
    const periodStart = now - position;
    const tick = this.mode === 2 ? periodStart + run.count : this.nextPeriodicEdge(run, now) ?? periodStart + 1;
    return { tick, count, startsHigh: this.periodicOut(run, tick) };
  }

  private isCounting(): boolean {
    return this.run !== null && this.run.frozenAt === Infinity;
  }

  latchCount(): void {
    if (this.latchedCount !== null) return; // a second latch before the read is ignored
    const now = this.settle();
    this.latchedCount = this.valueAt(now);
    this.reschedule(now);
  }

  latchStatus(): void {
    if (this.latchedStatus !== null) return;
    const now = this.settle();
    const out = this.outAt(now) ? 0x80 : 0;
    const nullCount = this.nullCount ? 0x40 : 0;
    this.latchedStatus = out | nullCount | (this.access << 4) | (this.programmedMode << 1) | (this.bcd ? 1 : 0);
    this.reschedule(now);
  }

  /** Status first if latched, then the latched count, else the live count, per the RW mode and flip-flop. */
  read(): number {
    const now = this.settle();
    this.reschedule(now);
    if (this.latchedStatus !== null) {
      const status = this.latchedStatus;
      this.latchedStatus = null;
      return status;
    }
    const latched = this.latchedCount !== null;
    const value = this.latchedCount ?? this.valueAt(now);
    const word = this.bcd ? toBcd(value) : value;
    const msb = this.access === 2 || (this.access === 3 && this.readMsbNext);
    if (this.access === 3) this.readMsbNext = !this.readMsbNext;
    // The latch is released once the read sequence for this RW mode is complete.
    if (latched && (this.access !== 3 || !this.readMsbNext)) this.latchedCount = null;
    return msb ? (word >> 8) & 0xff : word & 0xff;
  }

  // ---- gate and output ---------------------------------------------------

  setGate(level: boolean): void {
    const now = this.settle();
    if (level === this.gate) return;
    this.gate = level;
    if (level) this.gateRose(now);
    else this.gateFell(now);
    this.refresh();
  }

  /** The gate is sampled on the clock: a change at time t affects the ticks after `now`. */
  private gateFell(now: number): void {
    const mode = this.mode;
    if (mode === 0 || mode === 4) {
      this.freeze(now);
    } else if (mode === 2 || mode === 3) {
      this.freeze(now);
      this.pending = null; // the next trigger loads the count register
      this.outForced = true; // "OUT is set high immediately"
    }
  }

  private gateRose(now: number): void {
    const mode = this.mode;
    if (mode === 0 || mode === 4) {
      this.resume(now);
    } else if (this.countRegister !== null) {
      // A trigger: modes 1/5 start the one-shot, modes 2/3 restart the period, on the next CLK pulse.
      this.pending = { tick: now + 1, count: this.countRegister, startsHigh: true };
    }
  }

  output(): boolean {
    this.refresh();
    return this.reportedOut;
  }

  /** Brings the counter to the current tick and publishes OUT. Called by clock events too. */
  refresh(): void {
    const now = this.settle();
    const out = this.outAt(now);
    if (out !== this.reportedOut) {
      this.reportedOut = out;
      this.onOut?.(out);
    }
    this.reschedule(now);
  }

  // ---- the counting element ----------------------------------------------

  /** Applies a pending load that is due; returns the current tick. */
  private settle(): number {
    const now = this.tickNow();
    const pending = this.pending;
    if (pending !== null && pending.tick <= now) {
      this.pending = null;
      this.install(pending);
    }
    return now;
  }

  private install(load: PendingLoad): void {
    const mode = this.mode;
    const periodic = mode === 2 || mode === 3;
    // Modes 0/2/3/4 load regardless of the gate, but only count while it is high.
    const held = !this.gate && mode !== 1 && mode !== 5;
    this.run = {
      start: load.tick,
      count: load.count,
      armed: !periodic,
      startsHigh: load.startsHigh,
      frozenAt: held ? load.tick : Infinity,
    };
    this.nullCount = false;
    this.outForced = held && periodic ? true : null;
  }

  private freeze(now: number): void {
    if (this.run !== null && this.run.frozenAt > now) this.run.frozenAt = now;
  }

  /** Modes 0/4: counting continues from the frozen value on the ticks after `now`. */
  private resume(now: number): void {
    const run = this.run;
    if (run === null || run.frozenAt === Infinity) return;
    const terminal = run.start + run.count;
    const armed = run.armed && run.frozenAt < terminal;
    const count = armed ? terminal - run.frozenAt : this.valueAt(run.frozenAt);
    this.run = { start: now, count, armed, startsHigh: true, frozenAt: Infinity };
  }

  /** The raw CE value (binary 0..65535, or decimal 0..9999 in BCD) at tick `tick`. */
  private valueAt(tick: number): number {
    const run = this.run;
    if (run === null) return this.heldValue;
    const at = Math.min(tick, run.frozenAt);
    const mode = this.mode;
    if (mode === 2 || mode === 3) return mod(this.periodicValue(run, at - run.start), this.modulus);
    return mod(run.start + run.count - at, this.modulus);
  }

  private periodicValue(run: Run, elapsed: number): number {
    const n = run.count;
    const position = elapsed % n;
    if (this.mode === 2) return n - position;
    const half = this.squareWaveHalf(run, position);
    if (half.step === 0) return n;
    if (n % 2 === 0) return n - 2 * half.step;
    // Odd N: the high half starts by decrementing 1, the low half by 3, then both by 2.
    return half.high ? n + 1 - 2 * half.step : n - 1 - 2 * half.step;
  }

  /** Mode 3: whether `position` (ticks into the period) is in a high half, and how far into it. */
  private squareWaveHalf(run: Run, position: number): { high: boolean; step: number } {
    const first = this.firstHalfLength(run);
    const inFirst = position < first;
    return { high: inFirst === run.startsHigh, step: inFirst ? position : position - first };
  }

  /** Odd N: high for (N+1)/2 ticks, low for (N-1)/2. */
  private firstHalfLength(run: Run): number {
    return run.startsHigh ? Math.ceil(run.count / 2) : Math.floor(run.count / 2);
  }

  private outAt(tick: number): boolean {
    if (this.outForced !== null) return this.outForced;
    const run = this.run;
    if (run === null) return false;
    const mode = this.mode;
    if (mode === 2 || mode === 3) return this.periodicOut(run, tick);
    return this.oneShotOut(run, tick);
  }

  private periodicOut(run: Run, tick: number): boolean {
    const n = run.count;
    if (n === 1) return true; // N = 1 is illegal in modes 2 and 3 (minimum 2); OUT just stays high
    const position = (Math.min(tick, run.frozenAt) - run.start) % n;
    if (this.mode === 2) return position !== n - 1; // low for the one tick at count 1
    return this.squareWaveHalf(run, position).high;
  }

  /** Modes 0/1 go high at terminal count; modes 4/5 strobe low for that one tick. */
  private oneShotOut(run: Run, tick: number): boolean {
    const terminal = run.start + run.count;
    const reached = run.armed && terminal <= tick && terminal <= run.frozenAt;
    const mode = this.mode;
    if (mode === 0 || mode === 1) return !run.armed || reached;
    return !(reached && tick === terminal);
  }

  // ---- scheduling --------------------------------------------------------

  /** The next tick after `now` at which OUT may change or a pending load is due; null if none. */
  private nextChangeAfter(now: number): number | null {
    const edge = this.nextEdge(now);
    const load = this.pending?.tick ?? null;
    if (edge === null) return load;
    return load === null ? edge : Math.min(edge, load);
  }

  private nextEdge(now: number): number | null {
    const run = this.run;
    if (run === null || this.outForced !== null || run.frozenAt !== Infinity) return null;
    const mode = this.mode;
    if (mode === 2 || mode === 3) return this.nextPeriodicEdge(run, now);
    if (!run.armed) return null;
    const terminal = run.start + run.count;
    if (terminal > now) return terminal;
    const strobeEnds = (mode === 4 || mode === 5) && terminal + 1 > now;
    return strobeEnds ? terminal + 1 : null;
  }

  private nextPeriodicEdge(run: Run, now: number): number | null {
    const n = run.count;
    if (n === 1) return null;
    const position = (now - run.start) % n;
    const periodStart = now - position;
    const firstEdge = this.mode === 2 ? n - 1 : this.firstHalfLength(run);
    return periodStart + (position < firstEdge ? firstEdge : n);
  }

  private reschedule(now: number): void {
    if (this.onOut === null) return;
    const next = this.nextChangeAfter(now);
    if (next === this.eventTick && this.event !== null) return;
    if (this.event !== null) this.clock.cancel(this.event);
    this.event = null;
    this.eventTick = -1;
    if (next === null) return;
    this.eventTick = next;
    this.event = this.clock.schedule(pitTickTime(next), () => {
      this.event = null;
      this.eventTick = -1;
      this.refresh();
    });
  }
}

export class Pit8254 extends ByteDevice {
  static readonly PORTS: number[] = [0x40, 0x41, 0x42, 0x43];
  static readonly INPUT_HZ = INPUT_HZ;

  private readonly counters: Counter[];

  constructor(clock: VirtualClock, irq0: IrqLine) {
    super();
    // On the PC, gates 0 and 1 are tied high; gate 2 is port 0x61 bit 0, which resets to 0.
    this.counters = [
      new Counter(clock, true, (level) => irq0.set(level)),
      new Counter(clock, true, null),
      new Counter(clock, false, null),
    ];
  }

  setGate(channel: number, level: boolean): void {
    this.counter(channel).setGate(level);
  }

  output(channel: number): boolean {
    return this.counter(channel).output();
  }

  private counter(channel: number): Counter {
    const counter = this.counters[channel];
    if (counter === undefined) throw new RangeError(`8254 has no counter ${channel}`);
    return counter;
  }

  protected readByte(port: number): number {
    const index = port - 0x40;
    // The control register cannot be read (the bus floats).
    return index >= 0 && index < 3 ? this.counters[index]!.read() : 0xff;
  }

  protected writeByte(port: number, byte: number): void {
    const index = port - 0x40;
    if (index >= 0 && index < 3) this.counters[index]!.writeCount(byte);
    else if (index === 3) this.writeControl(byte);
  }

  private writeControl(byte: number): void {
    const select = byte >> 6;
    if (select === 3) {
      this.readBack(byte);
      return;
    }
    const access = (byte >> 4) & 3;
    const counter = this.counters[select]!;
    if (access === 0) counter.latchCount();
    else counter.program(access as Access, (byte >> 1) & 7, (byte & 1) !== 0);
  }

  /** Read-back: bit 5 low latches counts, bit 4 low latches status, bits 1-3 select counters 0-2. */
  private readBack(byte: number): void {
    const count = (byte & 0x20) === 0;
    const status = (byte & 0x10) === 0;
    this.counters.forEach((counter, index) => {
      if ((byte & (2 << index)) === 0) return;
      if (count) counter.latchCount();
      if (status) counter.latchStatus();
    });
  }
}
