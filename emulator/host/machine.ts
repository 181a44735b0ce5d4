// The PC: the CPU core, physical RAM and the devices on their standard ports
// and IRQ lines, driven in virtual time.
//
// | Device                        | Ports                       | IRQ |
// | ----------------------------- | --------------------------- | --- |
// | 8259A pair (master, slave)    | 0x20-0x21, 0xA0-0xA1        | INTR to the CPU |
// | 8254 PIT                      | 0x40-0x43                   | 0 (counter 0) |
// | system control port B         | 0x61                        |     |
// | 16550A UART, COM1             | 0x3F8-0x3FF                 | 4   |
// | ATA primary (hda, hdb)        | 0x1F0-0x1F7, 0x3F6          | 14  |
// | ATA secondary (hdc, hdd)      | 0x170-0x177, 0x376          | 15  |
// | POST diagnostic port          | 0x80 (writes ignored)       |     |
// | debugcon (Bochs/QEMU)         | 0xE9 (a write prints a byte)|     |
// | isa-debug-exit                | 0xF4 (a write ends the run) |     |
//
// Virtual time. The machine clock (integer nanoseconds) is derived from the
// CPU: every retired instruction is one cycle of a 100 MHz clock (10 ns), and
// time spent halted is added as idle cycles (the core counts them too, so
// RDTSC reads the same cycle count). The run loop runs the CPU up to the next
// device event, then lets the events fire; a port access first brings the
// clock up to the instruction doing it, so a guest polling the PIT or a disk
// sees time pass. A HLT with interrupts enabled skips the clock to the next
// event. Nothing depends on host time, so the same kernel, disk images,
// input and options give the same run, bit for bit.
//
// Serial input. Bytes for COM1 wait in a queue; every 1 ms of virtual time
// the machine moves as many as the UART's receiver has room for (16 with its
// FIFO on, 1 without) into it. Input is held until the guest first shows it
// is listening (reads LSR or IIR, or enables the received-data interrupt),
// so bytes given ahead are not lost while it initialises the UART.

import { Pic8259Pair } from '../devices/pic8259.js';
import { Pit8254 } from '../devices/pit8254.js';
import { Uart16550 } from '../devices/uart16550.js';
import { AtaChannel, DiskImage } from '../devices/ata.js';
import { ByteDevice, VirtualClock, type PortDevice, type PortSize } from '../devices/device.js';
import { Cpu, EXCEPTION_NAMES, Reg, Seg, type RunResult } from './cpu.js';
import { PortBus, type BlockPortDevice, type UnclaimedAccess } from './portbus.js';
import { hex32 } from './elf.js';
import { LineBuffer, type OutputSink } from './output.js';
import type { CpuState } from './cpu.js';
import { DeviceState, DiskHistory } from './snapshot.js';

/** Virtual nanoseconds per cycle (one retired instruction): a 100 MHz CPU. */
export const NS_PER_CYCLE = 10;
export const CPU_HZ = 1_000_000_000 / NS_PER_CYCLE;
/** Most instructions per cpu.run() call when no device event comes sooner. */
const SLICE = 1_000_000;
/** Serial input is offered to the UART at this interval of virtual time. */
const SERIAL_INPUT_INTERVAL_NS = 1_000_000;
/** Port 0x61 bit 4 toggles with each DRAM refresh request, every 15.085 µs on the AT. */
const REFRESH_TOGGLE_NS = 15_085;
/** How often (host ms) a long run yields to the host event loop (stdin, signals). */
const YIELD_EVERY_MS = 50;

export const MIN_RAM_BYTES = 1024 * 1024;
export const MAX_RAM_BYTES = 3 * 1024 * 1024 * 1024;

export const COM1_BASE = 0x3f8;
export const DEBUGCON_PORT = 0xe9;
export const DEBUG_EXIT_PORT = 0xf4;
export const POST_PORT = 0x80;
export const SYSTEM_CONTROL_PORT = 0x61;


/** A disk access takes 2 ms of virtual time by default, like a fast real disk's seek and rotation. */
export const DEFAULT_DISK_LATENCY_NS = 2_000_000;

export interface MachineOptions {
  ramBytes: number;
  /** Where COM1's (and debugcon's) output goes; default: process.stdout. */
  output?: OutputSink;
  /** Bytes queued for COM1's receiver at power-on. */
  input?: Uint8Array;
  /** hda, hdb (primary master/slave), hdc, hdd (secondary master/slave). */
  disks?: (DiskImage | null | undefined)[];
  /** ATA medium access time in ns (default DEFAULT_DISK_LATENCY_NS; 0 for none). */
  diskLatencyNs?: number;
  /** ATA sustained transfer rate after the access, in bytes per second (default the ATA model's 16 MB/s; Infinity: no transfer time). */
  diskBytesPerSecond?: number;
  /** Translate hot blocks to wasm (default true). */
  translate?: boolean;
  /** Use dist/core.debug.wasm. */
  debug?: boolean;
  /** Called once per distinct port no device claims. */
  onUnclaimedPort?: (access: UnclaimedAccess) => void;
}

export interface RunOptions {
  /** Stop after this many instructions (default: no limit). */
  maxInstructions?: number;
  /**
   * Interactive use: an idle guest's virtual time does not run ahead of host
   * time, and a guest halted with nothing pending waits for input instead of
   * ending the run. Not deterministic (input arrives when the user types).
   */
  realtime?: boolean;
  /** A debugger attached to the run (emulator/host/gdbstub.ts). */
  debugger?: RunDebugger;
}

/**
 * What the run loop needs from a debugger: it may hold the guest at an
 * instruction boundary, and it runs the CPU itself so that it can stop at
 * breakpoints and after single steps.
 */
export interface RunDebugger {
  /** At each turn of the run loop: a promise while the guest must stay stopped (resolves when it may go on). */
  pause(): Promise<void> | undefined;
  /** Runs up to `budget` instructions, as cpu.run() would, stopping early where the debugger wants. */
  execute(budget: number): RunResult;
}

export type StopReason = 'exit' | 'halted' | 'halted-forever' | 'max-instructions' | 'triple-fault' | 'exception' | 'host-stop';

export interface MachineResult {
  reason: StopReason;
  /** 'exit': the value written to port 0xF4. */
  exitStatus?: number;
  /** Every reason but 'exit': one line saying why and where the run ended. */
  message?: string;
  instructions: number;
  /** Virtual time at the end, ns. */
  virtualNs: number;
  trace: TraceSummary;
}

export interface TraceSummary {
  /** FNV-1a (32-bit) over every interrupt delivery (instruction count, vector) and every output byte. */
  hash: string;
  interrupts: number;
  outputBytes: number;
}

/**
 * A memory size: a whole number with an optional unit K, M or G (KiB, MiB,
 * GiB; `KiB`/`KB` spellings too); a bare number is MiB, as in QEMU's -m.
 * Must be a multiple of 4 KiB from 1 MiB to 3 GiB.
 */
export function parseMemorySize(value: string): number {
  const m = /^(\d+)\s*(?:([kmg])(?:i?b)?)?$/i.exec(value.trim());
  const unit = m?.[2]?.toLowerCase() ?? 'm';
  const bytes = m ? Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : 1024 ** 3) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < MIN_RAM_BYTES || bytes > MAX_RAM_BYTES || bytes % 4096 !== 0) {
    throw new Error('Expected a size from 1M to 3G, a multiple of 4K (e.g. 32M, 1G, 65536K; a bare number is MiB).');
  }
  return bytes;
}

/** A raw disk image file's contents, checked: a whole number of 512-byte sectors. */
export function checkDiskImage(name: string, bytes: Uint8Array): void {
  if (bytes.length === 0 || bytes.length % 512 !== 0) {
    throw new Error(`disk image ${name} is ${bytes.length} bytes, not a whole number of 512-byte sectors`);
  }
}

/** A running hash of what a determinism test compares. */
class Trace {
  private h = 0x811c9dc5;
  interrupts = 0;
  outputBytes = 0;

  private mix(byte: number): void {
    this.h = Math.imul(this.h ^ (byte & 0xff), 0x01000193) >>> 0;
  }

  private mix32(v: number): void {
    for (let i = 0; i < 4; i++) this.mix(v >>> (8 * i));
  }

  interrupt(instructions: number, vector: number): void {
    this.interrupts++;
    this.mix(0x01);
    this.mix32(instructions % 0x1_0000_0000);
    this.mix32(Math.floor(instructions / 0x1_0000_0000));
    this.mix(vector);
  }

  output(byte: number): void {
    this.outputBytes++;
    this.mix(0x02);
    this.mix(byte);
  }

  summary(): TraceSummary {
    return { hash: this.h.toString(16).padStart(8, '0'), interrupts: this.interrupts, outputBytes: this.outputBytes };
  }
}

/**
 * The whole machine at one instruction boundary (Machine.snapshot()): CPU,
 * RAM, devices, virtual clock and its events, trace, disks. Valid until an
 * older snapshot of the same machine is restored or it is discarded.
 */
export interface MachineSnapshot {
  /** Instructions retired when it was taken. */
  readonly instructions: number;
  /** Virtual time when it was taken, ns. */
  readonly virtualNs: number;
  /** Bytes it holds, besides the disk journals it shares with its neighbours (Machine.snapshotJournalBytes). */
  readonly bytes: number;
}

class SnapshotRecord implements MachineSnapshot {
  /** 'invalidated': an older snapshot was restored; 'discarded': by discardSnapshot(). */
  status: 'live' | 'invalidated' | 'discarded' = 'live';
  invalidatedBy = 0;
  constructor(
    readonly instructions: number,
    readonly virtualNs: number,
    readonly cpu: CpuState,
    readonly devices: DeviceState,
  ) {}
  get bytes(): number { return this.cpu.memory.length; }
}

/** Port 0x61 (the AT's "port B"): PIT gate 2 and speaker enable, refresh toggle and PIT OUT2 status. */
class SystemControlPort extends ByteDevice {
  private bits = 0; // bits 0-3 as written: timer 2 gate, speaker data, parity and I/O check disables

  constructor(private readonly pit: Pit8254, private readonly clock: VirtualClock) {
    super();
  }

  protected readByte(): number {
    const refresh = Math.floor(this.clock.now() / REFRESH_TOGGLE_NS) & 1 ? 0x10 : 0;
    const out2 = this.pit.output(2) ? 0x20 : 0;
    return this.bits | refresh | out2; // bits 6/7 (I/O channel check, parity error) never set
  }

  protected writeByte(_port: number, value: number): void {
    this.bits = value & 0x0f;
    this.pit.setGate(2, (value & 1) !== 0);
  }
}

/** Watches the guest's accesses to COM1 to tell when it starts listening (see the file comment). */
class UartPort implements PortDevice {
  listening = false;
  constructor(private readonly uart: Uart16550, private readonly base: number) {}
  portIn(port: number, size: PortSize): number {
    const offset = port - this.base;
    if (offset === 2 || offset === 5) this.listening = true; // IIR, LSR
    return this.uart.portIn(port, size);
  }
  portOut(port: number, size: PortSize, value: number): void {
    // IER with ERBFI set (or DLM: harmless, the guest is initialising the port anyway).
    if (port - this.base === 1 && value & 1) this.listening = true;
    this.uart.portOut(port, size, value);
  }
}

export class Machine {
  readonly clock = new VirtualClock();
  readonly bus = new PortBus();
  readonly pic = new Pic8259Pair();
  readonly pit: Pit8254;
  readonly uart: Uart16550;
  readonly ata: [AtaChannel, AtaChannel];

  private readonly out: LineBuffer;
  private readonly trace = new Trace();
  private readonly uartPort: UartPort;
  private readonly inputQueue: number[] = [];
  private inputEvent: ReturnType<VirtualClock['schedule']> | undefined;
  private inputOpen = false;
  private inputWaiter: (() => void) | undefined;
  private idleCycles = 0;
  /** The instruction count at the last HLT that found an interrupt pending (the next run delivers it; a second time, time must pass). */
  private haltedAt = -1;
  private exitStatus: number | undefined;
  private hostStop = false;
  private readonly portB: SystemControlPort;
  private readonly disks: DiskImage[];
  /** Output bytes shown so far: a replay after a restore shows only what comes after them. */
  private outputShown = 0;
  /** Live snapshots, oldest first (the disk journals are aligned with them). */
  private readonly snapshots: SnapshotRecord[] = [];
  private diskHistories: DiskHistory[] | undefined;

  private constructor(readonly cpu: Cpu, opts: MachineOptions, wiring: { ack: { fn: () => number } }) {
    const sink = opts.output ?? { write: (chunk: Uint8Array) => process.stdout.write(chunk) };
    this.out = new LineBuffer(sink);
    this.bus.onUnclaimed = opts.onUnclaimedPort ?? (() => {});
    this.bus.beforeAccess = () => this.syncClock();

    this.pic.onChange = () => cpu.setInterruptLine(this.pic.interruptPending());
    wiring.ack.fn = () => {
      const vector = this.pic.acknowledge();
      this.trace.interrupt(cpu.instructionsRetired, vector);
      return vector;
    };
    this.bus.register('8259A PIC', Pic8259Pair.PORTS, this.pic);

    this.pit = new Pit8254(this.clock, this.pic.irq(0));
    this.bus.register('8254 PIT', Pit8254.PORTS, this.pit);
    this.portB = new SystemControlPort(this.pit, this.clock);
    this.bus.register('system control port', [SYSTEM_CONTROL_PORT], this.portB);

    this.uart = new Uart16550(COM1_BASE, this.pic.irq(4), (byte) => this.emit(byte), this.clock);
    // As a PC BIOS leaves COM1: 115200 baud (divisor 1), 8 data bits, no parity, 1 stop bit.
    // (Power-on LCR is 0: 5-bit characters, which would cut every byte a guest that relies on the firmware sends.)
    this.uart.portOut(COM1_BASE + 3, 1, 0x80);
    this.uart.portOut(COM1_BASE + 0, 1, 0x01);
    this.uart.portOut(COM1_BASE + 1, 1, 0x00);
    this.uart.portOut(COM1_BASE + 3, 1, 0x03);
    this.uartPort = new UartPort(this.uart, COM1_BASE);
    this.bus.register('16550A UART (COM1)', this.uart.ports, this.uartPort);

    const disks = opts.disks ?? [];
    this.disks = disks.filter((d): d is DiskImage => d instanceof DiskImage);
    const channel = (index: 0 | 1, command: number, control: number, irq: number): AtaChannel => {
      const ch = new AtaChannel(command, control, this.pic.irq(irq), this.clock, [disks[2 * index] ?? null, disks[2 * index + 1] ?? null], opts.diskLatencyNs ?? DEFAULT_DISK_LATENCY_NS, opts.diskBytesPerSecond);
      this.bus.register(index === 0 ? 'ATA primary' : 'ATA secondary', ch.ports, this.blockDevice(ch, command));
      return ch;
    };
    this.ata = [channel(0, 0x1f0, 0x3f6, 14), channel(1, 0x170, 0x376, 15)];

    this.bus.register('POST diagnostic port', [POST_PORT], { portIn: () => 0xff, portOut: () => {} });
    this.bus.register('debugcon', [DEBUGCON_PORT], {
      portIn: () => DEBUGCON_PORT, // Bochs answers 0xE9: guests use it to detect the port
      portOut: (_port, _size, value) => this.emit(value & 0xff),
    });
    this.bus.register('isa-debug-exit', [DEBUG_EXIT_PORT], {
      portIn: () => 0xff,
      portOut: (_port, size, value) => {
        this.exitStatus = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
        cpu.stop();
      },
    });

    if (opts.input && opts.input.length > 0) this.queueInput(opts.input);
  }

  static async create(opts: MachineOptions): Promise<Machine> {
    if (!Number.isInteger(opts.ramBytes) || opts.ramBytes < MIN_RAM_BYTES || opts.ramBytes > MAX_RAM_BYTES) {
      throw new Error(`RAM size ${opts.ramBytes} bytes is out of range (1 MiB to 3 GiB)`);
    }
    if (opts.disks && opts.disks.length > 4) throw new Error('at most 4 disks (hda, hdb, hdc, hdd)');
    const bus: { machine?: Machine } = {};
    const wiring = { ack: { fn: (): number => 0xff } };
    const cpu = await Cpu.create({
      ramBytes: opts.ramBytes,
      debug: opts.debug,
      translate: opts.translate,
      deliverThroughIdt: true,
      acknowledgeInterrupt: () => wiring.ack.fn(),
      ports: {
        portIn: (port, size) => bus.machine!.bus.portIn(port, size),
        portOut: (port, size, value) => bus.machine!.bus.portOut(port, size, value),
        portInBlock: (port, size, count, address) => bus.machine!.bus.portInBlock(port, size, count, address),
        portOutBlock: (port, size, count, address) => bus.machine!.bus.portOutBlock(port, size, count, address),
      },
    });
    bus.machine = new Machine(cpu, opts, wiring);
    return bus.machine;
  }

  /** Physical RAM. */
  get ram(): Uint8Array {
    return this.cpu.ram;
  }

  /** Cycles since power-on: instructions retired plus idle cycles. */
  get cycles(): number {
    return this.cpu.instructionsRetired + this.idleCycles;
  }

  get traceSummary(): TraceSummary {
    return this.trace.summary();
  }

  /** Bytes arriving on COM1's serial line (paced into the UART, see the file comment). */
  queueInput(bytes: Uint8Array): void {
    for (const b of bytes) this.inputQueue.push(b);
    this.scheduleInput();
    this.inputWaiter?.();
  }

  /** Interactive input: more may come (a halted guest waits for it under `realtime`) until endInput(). */
  openInput(): void {
    this.inputOpen = true;
  }

  endInput(): void {
    this.inputOpen = false;
    this.inputWaiter?.();
  }

  /** Ends the run at the next instruction boundary (e.g. the user's quit key). */
  requestStop(): void {
    this.hostStop = true;
    this.cpu.stop();
    this.inputWaiter?.();
  }

  flushOutput(): void {
    this.out.flush();
  }

  private emit(byte: number): void {
    const index = this.trace.outputBytes;
    this.trace.output(byte);
    if (index < this.outputShown) return; // shown before a restore took the machine back
    this.outputShown = index + 1;
    this.out.put(byte);
  }

  // ---- snapshots (emulator/host/snapshot.ts) ----

  /**
   * The machine now (between instructions: not from inside a port handler).
   * Costs a copy of the wasm memory (RAM + about 0.3 MiB); disk writes made
   * after it are journalled (the first write to a 4 KiB chunk saves its old
   * contents).
   */
  snapshot(): MachineSnapshot {
    if (!this.diskHistories) this.diskHistories = this.disks.map((d) => new DiskHistory(d));
    const record = new SnapshotRecord(this.cpu.instructionsRetired, this.clock.now(), this.cpu.saveState(), this.deviceState());
    for (const h of this.diskHistories) h.push();
    this.snapshots.push(record);
    return record;
  }

  /**
   * Puts the machine back as it was at `snapshot`. Snapshots taken after it
   * become invalid (their disk journals are undone): restoring one throws.
   * Output already shown is not shown again when the guest repeats it.
   */
  restore(snapshot: MachineSnapshot): void {
    const record = snapshot as SnapshotRecord;
    const index = this.snapshots.indexOf(record);
    if (index < 0) {
      if (record.status === 'invalidated') {
        throw new Error(`snapshot at instruction ${record.instructions} is no longer valid: the machine was restored to an earlier snapshot (at instruction ${record.invalidatedBy}), which drops every later one`);
      }
      throw new Error(record.status === 'discarded' ? `snapshot at instruction ${record.instructions} was discarded` : 'not a snapshot of this machine');
    }
    for (const h of this.diskHistories!) h.rollback(index);
    for (const later of this.snapshots.splice(index + 1)) {
      later.status = 'invalidated';
      later.invalidatedBy = record.instructions;
    }
    this.cpu.restoreState(record.cpu);
    record.devices.restore();
  }

  /** Frees a snapshot (its disk journal is merged into the previous one's). Harmless on one already invalid. */
  discardSnapshot(snapshot: MachineSnapshot): void {
    const record = snapshot as SnapshotRecord;
    const index = this.snapshots.indexOf(record);
    if (index < 0) return;
    for (const h of this.diskHistories!) h.remove(index);
    this.snapshots.splice(index, 1);
    record.status = 'discarded';
  }

  /** Bytes the disk journals of the live snapshots hold. */
  get snapshotJournalBytes(): number {
    return (this.diskHistories ?? []).reduce((n, h) => n + h.bytes, 0);
  }

  private deviceState(): DeviceState {
    return new DeviceState([
      { target: this.clock }, { target: this.pic }, { target: this.pit }, { target: this.portB }, { target: this.uart },
      { target: this.uartPort }, { target: this.ata[0] }, { target: this.ata[1] }, { target: this.trace },
      // Not the host's side: output sink and high-water mark, interactive input state, stop requests.
      { target: this, only: ['inputQueue', 'inputEvent', 'idleCycles', 'exitStatus', 'haltedAt'] },
    ], new Set<object>([this.cpu, this.bus, this.out, ...this.disks]));
  }

  /** Brings the clock up to the CPU's cycle count, firing the events due. */
  private syncClock(): void {
    const t = this.cycles * NS_PER_CYCLE;
    if (t > this.clock.now()) this.clock.advanceTo(t);
  }

  private blockDevice(channel: AtaChannel, dataPort: number): BlockPortDevice {
    const ram = this.cpu.ram;
    return {
      portIn: (port, size) => channel.portIn(port, size),
      portOut: (port, size, value) => channel.portOut(port, size, value),
      portInBlock: (port, size, count, address) =>
        port === dataPort && size === 2 && address + 2 * count <= ram.length ? channel.readData(count, ram, address) : 0,
      portOutBlock: (port, size, count, address) =>
        port === dataPort && size === 2 && address + 2 * count <= ram.length ? channel.writeData(count, ram, address) : 0,
    };
  }

  private scheduleInput(): void {
    if (this.inputEvent !== undefined || this.inputQueue.length === 0) return;
    const next = (Math.floor(this.clock.now() / SERIAL_INPUT_INTERVAL_NS) + 1) * SERIAL_INPUT_INTERVAL_NS;
    this.inputEvent = this.clock.schedule(next, () => {
      this.inputEvent = undefined;
      this.feedInput();
      this.scheduleInput();
    });
  }

  private feedInput(): void {
    if (!this.uartPort.listening) return;
    const room = Math.min(this.uart.receiverRoom(), this.inputQueue.length);
    if (room > 0) this.uart.receive(Uint8Array.from(this.inputQueue.splice(0, room)));
  }

  /** Runs the guest until it exits, halts for good, faults beyond repair or reaches the instruction limit. */
  async run(opts: RunOptions = {}): Promise<MachineResult> {
    const cpu = this.cpu;
    const limit = opts.maxInstructions ?? Number.POSITIVE_INFINITY;
    const start = cpu.instructionsRetired;
    const hostStart = performance.now();
    const virtualStart = this.clock.now();
    let lastYield = hostStart;
    const finish = (reason: StopReason, message?: string): MachineResult => {
      this.out.flush();
      const result: MachineResult = {
        reason,
        instructions: cpu.instructionsRetired - start,
        virtualNs: this.clock.now(),
        trace: this.trace.summary(),
      };
      if (reason === 'exit') result.exitStatus = this.exitStatus;
      if (message !== undefined) result.message = message;
      return result;
    };

    for (;;) {
      this.syncClock();
      if (this.exitStatus !== undefined) return finish('exit');
      if (this.hostStop) return finish('host-stop', 'stopped by the user');
      const pausing = opts.debugger?.pause();
      if (pausing) {
        // Stopped by the debugger: no virtual time passes until it resumes.
        this.out.flush();
        await pausing;
        lastYield = performance.now();
        continue;
      }
      const executed = cpu.instructionsRetired - start;
      if (executed >= limit) {
        return finish('max-instructions', `stopped after ${executed} instructions (--max-instructions) at ${this.where()}`);
      }
      const next = this.clock.nextEventAt();
      const untilEvent = next === Infinity ? SLICE : Math.max(1, Math.ceil((next - this.clock.now()) / NS_PER_CYCLE));
      const budget = Math.min(untilEvent, SLICE, limit - executed);
      const result = opts.debugger ? opts.debugger.execute(budget) : cpu.run(budget);
      this.syncClock();

      switch (result.reason) {
        case 'budget':
        case 'stopped':
          break;
        case 'triple-fault':
          return finish('triple-fault', `triple fault (vector ${result.vector ?? '?'}): ${this.cpuState()}`);
        case 'exception':
        case 'delivered':
          return finish('exception', `unexpected guest exception ${EXCEPTION_NAMES[result.vector ?? -1] ?? result.vector} at ${this.where()}`);
        case 'halt': {
          if (this.exitStatus !== undefined || this.hostStop) break;
          if (!cpu.interruptsEnabled) {
            return finish('halted', `guest halted with interrupts disabled at ${this.where(result)}`);
          }
          // The next run delivers a pending interrupt (unless that already failed to happen once).
          if (this.pic.interruptPending() && cpu.instructionsRetired !== this.haltedAt) {
            this.haltedAt = cpu.instructionsRetired;
            break;
          }
          const wake = this.clock.nextEventAt();
          if (wake === Infinity) {
            if (opts.realtime && this.inputOpen) {
              this.out.flush();
              await new Promise<void>((resolve) => { this.inputWaiter = resolve; });
              this.inputWaiter = undefined;
              lastYield = performance.now();
              continue;
            }
            return finish(
              'halted-forever',
              `guest halted forever at ${this.where(result)}: interrupts are enabled but no device has an event pending`,
            );
          }
          const idle = Math.max(1, Math.ceil((wake - this.cycles * NS_PER_CYCLE) / NS_PER_CYCLE));
          this.idleCycles += idle;
          cpu.addIdleCycles(idle);
          if (opts.realtime) {
            // Let host time catch up with virtual time while the guest idles.
            const ahead = (this.cycles * NS_PER_CYCLE - virtualStart) / 1e6 - (performance.now() - hostStart);
            if (ahead > 1) {
              this.out.flush();
              await new Promise<void>((resolve) => {
                const timer = setTimeout(done, Math.min(ahead, 20));
                function done(): void { clearTimeout(timer); resolve(); }
                this.inputWaiter = done;
              });
              this.inputWaiter = undefined;
              lastYield = performance.now();
            }
          }
          break;
        }
      }

      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        this.out.flush();
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
  }

  /** `eip=0x... cs=0x0008` for messages. */
  private where(result?: RunResult): string {
    const eip = result?.eip ?? this.cpu.eip;
    return `eip=${hex32(eip)} cs=0x${this.cpu.segmentSelector(Seg.CS).toString(16).padStart(4, '0')}`;
  }

  /** The CPU state in one line (triple fault report). */
  cpuState(): string {
    const cpu = this.cpu;
    const regs = (['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const)
      .map((name, i) => `${name}=${hex32(cpu.getReg(i as Reg))}`)
      .join(' ');
    const crs = ([0, 2, 3, 4] as const).map((n) => `cr${n}=${hex32(cpu.getCr(n))}`).join(' ');
    const cs = cpu.segmentSelector(Seg.CS).toString(16).padStart(4, '0');
    return `eip=${hex32(cpu.eip)} cs=0x${cs} eflags=${hex32(cpu.eflags)} ${regs} ${crs}`;
  }
}

export { DiskImage };
