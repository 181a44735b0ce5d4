// The PC's I/O port space as the machine wires it: devices claim ports, and
// the bus routes each IN/OUT the CPU executes to the device that owns the
// port. A port nobody claims behaves like an undriven ISA bus: reads return
// all ones (0xFF per byte) and writes are ignored. Each distinct unclaimed
// port is reported once (the CLI prints it under --verbose), so a guest
// probing for hardware we do not have is visible without flooding the log.

import type { PortDevice, PortSize } from '../devices/device.js';

/** `rep insw`/`rep outsw` fast path: moves `count` elements between a port and guest memory; returns how many it moved (0: do them one by one). */
export interface BlockPortDevice extends PortDevice {
  portInBlock?(port: number, size: PortSize, count: number, memoryAddress: number): number;
  portOutBlock?(port: number, size: PortSize, count: number, memoryAddress: number): number;
}

export interface UnclaimedAccess {
  port: number;
  direction: 'in' | 'out';
  size: PortSize;
  /** The value written (out only). */
  value?: number;
}

const PORT_COUNT = 0x10000;

export class PortBus {
  private readonly owners: (BlockPortDevice | undefined)[] = new Array(PORT_COUNT);
  private readonly names: (string | undefined)[] = new Array(PORT_COUNT);
  private readonly reported = new Set<number>();
  /** Called once per distinct unclaimed port, on its first access. */
  onUnclaimed: (access: UnclaimedAccess) => void = () => {};
  /** Called before every port access is routed (the machine brings virtual time up to date). */
  beforeAccess: () => void = () => {};

  /** Gives `ports` to `device`; a port already claimed is an error (a wiring bug). */
  register(name: string, ports: Iterable<number>, device: BlockPortDevice): void {
    for (const port of ports) {
      if (!Number.isInteger(port) || port < 0 || port >= PORT_COUNT) throw new RangeError(`${name}: bad port ${port}`);
      const owner = this.names[port];
      if (owner !== undefined) throw new Error(`${name}: port 0x${port.toString(16)} is already claimed by ${owner}`);
      this.owners[port] = device;
      this.names[port] = name;
    }
  }

  /** The name of the device owning `port`, if any. */
  ownerOf(port: number): string | undefined {
    return this.names[port & 0xffff];
  }

  /** Distinct unclaimed ports accessed so far, in order of first access. */
  get unclaimedPorts(): number[] {
    return [...this.reported];
  }

  portIn(port: number, size: PortSize): number {
    this.beforeAccess();
    port &= 0xffff;
    const device = this.owners[port];
    if (device !== undefined) return device.portIn(port, size) >>> 0;
    if (size === 1) return this.unclaimedIn(port);
    // A wide access at an unclaimed port: byte lanes, each from whoever owns that port.
    let value = 0;
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xffff;
      const owner = this.owners[p];
      const byte = owner !== undefined ? owner.portIn(p, 1) & 0xff : this.unclaimedIn(p);
      value |= byte << (8 * i);
    }
    return value >>> 0;
  }

  portOut(port: number, size: PortSize, value: number): void {
    this.beforeAccess();
    port &= 0xffff;
    const device = this.owners[port];
    if (device !== undefined) {
      device.portOut(port, size, value >>> 0);
      return;
    }
    if (size === 1) {
      this.report({ port, direction: 'out', size, value: value & 0xff });
      return;
    }
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xffff;
      const byte = (value >>> (8 * i)) & 0xff;
      const owner = this.owners[p];
      if (owner !== undefined) owner.portOut(p, 1, byte);
      else this.report({ port: p, direction: 'out', size: 1, value: byte });
    }
  }

  portInBlock(port: number, size: PortSize, count: number, memoryAddress: number): number {
    this.beforeAccess();
    return this.owners[port & 0xffff]?.portInBlock?.(port & 0xffff, size, count, memoryAddress) ?? 0;
  }

  portOutBlock(port: number, size: PortSize, count: number, memoryAddress: number): number {
    this.beforeAccess();
    return this.owners[port & 0xffff]?.portOutBlock?.(port & 0xffff, size, count, memoryAddress) ?? 0;
  }

  private unclaimedIn(port: number): number {
    this.report({ port, direction: 'in', size: 1 });
    return 0xff;
  }

  private report(access: UnclaimedAccess): void {
    if (this.reported.has(access.port)) return;
    this.reported.add(access.port);
    this.onUnclaimed(access);
  }
}
