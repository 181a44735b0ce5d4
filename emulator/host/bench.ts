// The machine workloads of `atlas386 bench`: Multiboot kernels from
// test/guests/ (built into build/guests/) run on the whole PC through the
// Machine class, measuring the devices' paths as well as the CPU's.
//
// - bench-disk: 32 MiB written to the primary master with ATA PIO and read
//   back (polled WRITE/READ MULTIPLE, rep outsw/insw), on a 33 MiB in-memory
//   disk with no disk latency: the rate is (bytes written + bytes read) per
//   host second, in MB/s (10^6 bytes).
// - bench-timer: 20,000 IRQ0s from the 8254 at 10 kHz taken while the guest
//   does integer work with IF=1: the rate is interrupts per host second.
//
// Each run is deterministic (virtual time depends only on the instructions
// retired), so every run of a workload retires the same instructions.

import { DiskImage, Machine, type MachineResult } from './machine.js';
import { Collector } from './output.js';
import { enterMultiboot, loadMultiboot } from './multiboot.js';

const MiB = 1024 * 1024;

export const MACHINE_WORKLOADS = ['bench-disk', 'bench-timer'] as const;
export type MachineWorkload = (typeof MACHINE_WORKLOADS)[number];

/** bench-disk's disk: 33 MiB of zeros (32 MiB of data and room to spare), never written to a file. */
export const BENCH_DISK_IMAGE_BYTES = 33 * MiB;

export interface MachineWorkloadOptions {
  ramBytes: number;
  translate?: boolean;
  /** Multiboot command line after the kernel's name (`mib=N`, `ticks=N`); default none: the full-size run. */
  cmdline?: string;
  maxInstructions?: number;
}

export interface MachineWorkloadRun {
  name: MachineWorkload;
  result: MachineResult;
  /** Everything the guest printed on COM1. */
  output: string;
  /** The `checksum XXXXXXXX` the guest printed. */
  checksum: string;
  instructions: number;
  /** Host time of Machine.run() alone (not the machine's creation or the kernel's loading). */
  hostSeconds: number;
  /** MB/s (10^6 bytes written + read per host second) for bench-disk; interrupts per host second for bench-timer. */
  rate: number;
  rateUnit: 'MB/s' | 'interrupts/s';
}

/** Boots one machine workload's kernel on a fresh machine and runs it to its exit; throws unless it exits with 0 and prints a checksum. */
export async function runMachineWorkload(name: MachineWorkload, kernel: Uint8Array, opts: MachineWorkloadOptions): Promise<MachineWorkloadRun> {
  const out = new Collector();
  const disk = name === 'bench-disk';
  const machine = await Machine.create({
    ramBytes: opts.ramBytes,
    output: out,
    disks: disk ? [new DiskImage(new Uint8Array(BENCH_DISK_IMAGE_BYTES))] : [],
    diskLatencyNs: 0, // the emulator's speed, not a simulated disk's
    translate: opts.translate,
  });
  enterMultiboot(machine.cpu, loadMultiboot(kernel, machine.ram, { kernelName: `${name}.elf`, cmdline: opts.cmdline }));
  const start = performance.now();
  const result = await machine.run({ maxInstructions: opts.maxInstructions });
  const hostSeconds = (performance.now() - start) / 1000;
  const output = out.text();
  const printed = JSON.stringify(output.trim());
  if (result.reason !== 'exit') throw new Error(`${name}: ${result.message ?? result.reason} (output: ${printed})`);
  if (result.exitStatus !== 0) throw new Error(`${name} exited with status ${result.exitStatus} (output: ${printed})`);
  const checksum = /checksum ([0-9a-f]{8})/.exec(output)?.[1];
  if (!checksum) throw new Error(`${name} printed no checksum (output: ${printed})`);
  let rate: number;
  if (disk) {
    const m = /written (\d+) read (\d+)/.exec(output);
    if (!m) throw new Error(`${name} did not print the bytes it moved (output: ${printed})`);
    rate = (Number(m[1]) + Number(m[2])) / hostSeconds / 1e6;
  } else {
    rate = result.trace.interrupts / hostSeconds;
  }
  return {
    name,
    result,
    output,
    checksum,
    instructions: result.instructions,
    hostSeconds,
    rate,
    rateUnit: disk ? 'MB/s' : 'interrupts/s',
  };
}
