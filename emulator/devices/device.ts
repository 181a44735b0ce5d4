// What a PC device sees of the machine: I/O ports, interrupt request lines,
// and virtual time. Devices never see the CPU or host time; the machine
// routes port accesses to them, wires their IRQ lines to the interrupt
// controller, and advances the clock from the instructions the CPU executes,
// so a run is the same every time.

export type PortSize = 1 | 2 | 4;

/** A device's I/O ports, as the machine's port bus calls them. */
export interface PortDevice {
  /** Reads `size` bytes at `port` (a port the device was registered for). */
  portIn(port: number, size: PortSize): number;
  portOut(port: number, size: PortSize, value: number): void;
}

/** An 8-bit ISA device: a wider access reaches it as byte accesses at consecutive ports. */
export abstract class ByteDevice implements PortDevice {
  protected abstract readByte(port: number): number;
  protected abstract writeByte(port: number, value: number): void;

  portIn(port: number, size: PortSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.readByte(port + i) << (8 * i);
    return value >>> 0;
  }

  portOut(port: number, size: PortSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (8 * i)) & 0xff);
  }
}

/** An interrupt request wire into the interrupt controller; the device drives its level. */
export interface IrqLine {
  set(level: boolean): void;
}

export interface ClockEvent {
  readonly at: number;
}

/**
 * Virtual time in nanoseconds (an integer), and events scheduled on it. The
 * machine advances the clock; events due at or before the new time fire in
 * time order (ties in the order they were scheduled).
 */
export class VirtualClock {
  private time = 0;
  private sequence = 0;
  private queue: { at: number; seq: number; fire: () => void }[] = [];

  now(): number {
    return this.time;
  }

  /** Calls `fire` when the clock reaches `at` (immediately on the next advance if `at` is past). */
  schedule(at: number, fire: () => void): ClockEvent {
    const event = { at: Math.max(at, this.time), seq: this.sequence++, fire };
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]!.at > event.at)) i--;
    this.queue.splice(i, 0, event);
    return event;
  }

  cancel(event: ClockEvent): void {
    const i = this.queue.indexOf(event as (typeof this.queue)[number]);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** When the next event is due, or Infinity. */
  nextEventAt(): number {
    return this.queue.length > 0 ? this.queue[0]!.at : Infinity;
  }

  /** Moves time forward to `to`, firing the events due on the way. */
  advanceTo(to: number): void {
    if (to < this.time) throw new Error(`virtual time cannot go back (${to} < ${this.time})`);
    while (this.queue.length > 0 && this.queue[0]!.at <= to) {
      const event = this.queue.shift()!;
      this.time = event.at;
      event.fire();
    }
    this.time = to;
  }
}
