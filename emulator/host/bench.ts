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
// - bench-paging-off / bench-paging-on: one kernel (bench-paging), the same
//   TLB-friendly integer/memory loop over 32 KiB with paging off (`paging=0`)
//   or on (`paging=1`, identity-mapped with 4 KiB pages): the rate is MIPS,
//   and on/off is the cost of paging when the TLB hits.
// - bench-stride: paging on, one access per page over 1024 pages (4 MiB) in
//   turn, so a TLB of tens of entries misses on nearly every access: MIPS.
// - bench-cr3: paging on, CR3 reloaded (alternating two page directories)
//   every ~1,000 instructions of loop work: MIPS; it prints the CR3 loads.
// - bench-pagefault: paging on, a read of a not-present page whose #PF
//   handler sets P, then P cleared again, 1,000,000 times: the rate is page
//   fault round trips per host second.
//
// Each run is deterministic (virtual time depends only on the instructions
// retired), so every run of a workload retires the same instructions.

import { DEFAULT_DISK_LATENCY_NS, DiskImage, Machine, type MachineResult } from './machine.js';
import { programCommandLine, runAtlas } from './atlasrun.js';
import { counter } from './kstats.js';
import { Collector } from './output.js';
import { enterMultiboot, loadMultiboot } from './multiboot.js';

const MiB = 1024 * 1024;

export const MACHINE_WORKLOADS = [
  'bench-disk',
  'bench-timer',
  'bench-paging-off',
  'bench-paging-on',
  'bench-stride',
  'bench-cr3',
  'bench-pagefault',
] as const;
export type MachineWorkload = (typeof MACHINE_WORKLOADS)[number];

export type MachineRateUnit = 'MB/s' | 'interrupts/s' | 'MIPS' | 'faults/s';

/** Each workload's kernel (build/guests/<kernel>.elf), the command line it always gets, and its rate's unit. */
export const MACHINE_WORKLOAD_SPECS: Record<MachineWorkload, { kernel: string; cmdline?: string; rateUnit: MachineRateUnit }> = {
  'bench-disk': { kernel: 'bench-disk', rateUnit: 'MB/s' },
  'bench-timer': { kernel: 'bench-timer', rateUnit: 'interrupts/s' },
  'bench-paging-off': { kernel: 'bench-paging', cmdline: 'paging=0', rateUnit: 'MIPS' },
  'bench-paging-on': { kernel: 'bench-paging', cmdline: 'paging=1', rateUnit: 'MIPS' },
  'bench-stride': { kernel: 'bench-stride', rateUnit: 'MIPS' },
  'bench-cr3': { kernel: 'bench-cr3', rateUnit: 'MIPS' },
  'bench-pagefault': { kernel: 'bench-pagefault', rateUnit: 'faults/s' },
};

/** The kernel file a workload runs, relative to the package root. */
export function machineWorkloadKernel(name: MachineWorkload): string[] {
  return ['build', 'guests', `${MACHINE_WORKLOAD_SPECS[name].kernel}.elf`];
}

/** bench-disk's disk: 33 MiB of zeros (32 MiB of data and room to spare), never written to a file. */
export const BENCH_DISK_IMAGE_BYTES = 33 * MiB;

export interface MachineWorkloadOptions {
  ramBytes: number;
  translate?: boolean;
  /**
   * Multiboot command line after the kernel's name and the workload's own options (`paging=1` for
   * bench-paging-on): `mib=N`, `ticks=N`, `passes=N`, `steps=N`, `loads=N`, `faults=N`; default none: the full-size run.
   */
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
  /**
   * MB/s (10^6 bytes written + read per host second) for bench-disk; interrupts per host second for
   * bench-timer; page faults per host second for bench-pagefault; guest MIPS for the other paging workloads.
   */
  rate: number;
  rateUnit: MachineRateUnit;
  /** The paging workloads: false when the guest found CR0.PG set but linear addresses untranslated (a core without the MMU). */
  pagingInEffect?: boolean;
  /** bench-cr3: the CR3 loads it made. */
  cr3Loads?: number;
  /** bench-pagefault: the page faults its handler took. */
  faults?: number;
}

/** Boots one machine workload's kernel on a fresh machine and runs it to its exit; throws unless it exits with 0 and prints a checksum. */
export async function runMachineWorkload(name: MachineWorkload, kernel: Uint8Array, opts: MachineWorkloadOptions): Promise<MachineWorkloadRun> {
  const spec = MACHINE_WORKLOAD_SPECS[name];
  const out = new Collector();
  const disk = name === 'bench-disk';
  const machine = await Machine.create({
    ramBytes: opts.ramBytes,
    output: out,
    disks: disk ? [new DiskImage(new Uint8Array(BENCH_DISK_IMAGE_BYTES))] : [],
    diskLatencyNs: 0, // the emulator's speed, not a simulated disk's: no access time,
    diskBytesPerSecond: Infinity, // and no transfer time
    translate: opts.translate,
  });
  const cmdline = [spec.cmdline, opts.cmdline].filter((s) => s).join(' ') || undefined;
  enterMultiboot(machine.cpu, loadMultiboot(kernel, machine.ram, { kernelName: `${spec.kernel}.elf`, cmdline }));
  const start = performance.now();
  const result = await machine.run({ maxInstructions: opts.maxInstructions });
  const hostSeconds = (performance.now() - start) / 1000;
  const output = out.text();
  const printed = JSON.stringify(output.trim());
  if (result.reason !== 'exit') throw new Error(`${name}: ${result.message ?? result.reason} (output: ${printed})`);
  if (result.exitStatus !== 0) throw new Error(`${name} exited with status ${result.exitStatus} (output: ${printed})`);
  const checksum = /checksum ([0-9a-f]{8})/.exec(output)?.[1];
  if (!checksum) throw new Error(`${name} printed no checksum (output: ${printed})`);
  const run: MachineWorkloadRun = {
    name,
    result,
    output,
    checksum,
    instructions: result.instructions,
    hostSeconds,
    rate: result.instructions / hostSeconds / 1e6,
    rateUnit: spec.rateUnit,
  };
  if (disk) {
    const m = /written (\d+) read (\d+)/.exec(output);
    if (!m) throw new Error(`${name} did not print the bytes it moved (output: ${printed})`);
    run.rate = (Number(m[1]) + Number(m[2])) / hostSeconds / 1e6;
  } else if (name === 'bench-timer') {
    run.rate = result.trace.interrupts / hostSeconds;
  } else if (name !== 'bench-paging-off') {
    run.pagingInEffect = !output.includes('note: paging is not in effect');
  }
  if (name === 'bench-cr3') {
    const m = /cr3 loads (\d+)/.exec(output);
    if (!m) throw new Error(`${name} did not print its CR3 loads (output: ${printed})`);
    run.cr3Loads = Number(m[1]);
  } else if (name === 'bench-pagefault') {
    const m = /faults (\d+)/.exec(output);
    if (!m) throw new Error(`${name} did not print the faults it took (output: ${printed})`);
    run.faults = Number(m[1]);
    run.rate = run.faults / hostSeconds;
  }
  return run;
}

// ---- the Atlas kernel (build/kernel/kernel.elf with disk-images/root.img) ----
//
// - boot: from power-on to the first user instruction (the CPU's first entry
//   to ring 3, which the core records), booting `quiet init=/bin/hello`. A
//   first run finds that instruction count; each timed run stops there.
// - exec: exec-and-exit round trips (userland/execloop.c: fork, execve of a
//   program that exits at once, waitpid). Two runs of different lengths, so
//   the boot and power-off cancel out: rounds / the difference in host time.

export interface AtlasImages { kernel: Uint8Array; rootImage: Uint8Array }

async function bootAtlas(images: AtlasImages, cmdline: string, ramBytes: number, translate: boolean | undefined, maxInstructions?: number) {
  const out = new Collector();
  const machine = await Machine.create({
    ramBytes,
    output: out,
    disks: [new DiskImage(images.rootImage)],
    translate,
  });
  enterMultiboot(machine.cpu, loadMultiboot(images.kernel, machine.ram, { kernelName: 'kernel.elf', cmdline }));
  const start = performance.now();
  const result = await machine.run({ maxInstructions });
  return { machine, result, output: out.text(), hostSeconds: (performance.now() - start) / 1000 };
}

export interface AtlasBootRun {
  /** Instructions retired up to and including the one that entered ring 3. */
  instructions: number;
  /** Virtual time at that point. */
  virtualMs: number;
  hostMs: number;
}

/** Boot to the first user instruction; `instructions` from a previous run skips the run that finds it. */
export async function runAtlasBoot(images: AtlasImages, ramBytes: number, translate?: boolean, instructions?: number): Promise<AtlasBootRun> {
  const cmdline = 'quiet init=/bin/hello';
  if (instructions === undefined) {
    const first = await bootAtlas(images, cmdline, ramBytes, translate);
    if (first.result.reason !== 'exit' || first.result.exitStatus !== 0 || first.output !== 'hello, world\n') {
      throw new Error(`the Atlas kernel did not boot to hello (${first.result.message ?? first.result.reason}, output ${JSON.stringify(first.output)})`);
    }
    instructions = first.machine.cpu.instructionsBeforeUserMode;
    if (instructions === 0) throw new Error('the Atlas kernel never entered user mode');
  }
  const r = await bootAtlas(images, cmdline, ramBytes, translate, instructions);
  if (r.machine.cpu.instructionsBeforeUserMode !== instructions) {
    throw new Error(`boot to user mode took ${r.machine.cpu.instructionsBeforeUserMode} instructions, then ${instructions}: not deterministic`);
  }
  return { instructions, virtualMs: r.result.virtualNs / 1e6, hostMs: r.hostSeconds * 1000 };
}

export interface AtlasExecRun { rounds: number; instructionsPerRound: number; roundTripsPerSecond: number }

export async function runAtlasExec(images: AtlasImages, ramBytes: number, translate?: boolean, rounds = 200): Promise<AtlasExecRun> {
  // A first, untimed run warms the host up (V8's compilation of the emulator, the core's translations
  // of the kernel): without it the short run pays for that, and the difference can come out negative.
  await bootAtlas(images, `quiet init=/bin/execloop -- ${rounds / 4}`, ramBytes, translate);
  const runs = [];
  for (const n of [rounds / 4, rounds + rounds / 4]) {
    const r = await bootAtlas(images, `quiet init=/bin/execloop -- ${n}`, ramBytes, translate);
    if (r.result.reason !== 'exit' || r.result.exitStatus !== 0 || !r.output.includes(`execloop: ${n} exec-and-exit round trips`)) {
      throw new Error(`execloop ${n} failed on the Atlas kernel (${r.result.message ?? r.result.reason}, output ${JSON.stringify(r.output)})`);
    }
    runs.push(r);
  }
  const [short, long] = runs as [Awaited<ReturnType<typeof bootAtlas>>, Awaited<ReturnType<typeof bootAtlas>>];
  return {
    rounds,
    instructionsPerRound: (long.result.instructions - short.result.instructions) / rounds,
    roundTripsPerSecond: rounds / (long.hostSeconds - short.hostSeconds),
  };
}

// - swap: `memhog 12M random` on 4 MiB of RAM with the swap disk on hdb
//   (disk-images/swap.img) and the default 2 ms disk latency: a working set
//   three times the memory, touched in random page order, so nearly every
//   page is swapped out and back in. The kernel's counters (kstats.ts) give
//   the major faults; host time / major faults is what one costs the
//   emulator, kernel path, disk and all.

export const SWAP_WORKLOAD = { program: '/bin/memhog', args: ['12M', 'random'], ramBytes: 4 * MiB } as const;

export interface AtlasSwapRun {
  instructions: number;
  virtualMs: number;
  hostSeconds: number;
  /** undefined: the kernel exports no counters. */
  majorFaults?: number;
}

export async function runAtlasSwap(images: AtlasImages & { swapImage: Uint8Array }, translate?: boolean): Promise<AtlasSwapRun> {
  const { program, args, ramBytes } = SWAP_WORKLOAD;
  const run = await runAtlas({
    ...images,
    ramBytes,
    cmdline: programCommandLine(program, [...args], [], true),
    diskLatencyNs: DEFAULT_DISK_LATENCY_NS,
    translate,
  });
  if (run.result.reason !== 'exit' || run.result.exitStatus !== 0) {
    throw new Error(`${program} ${args.join(' ')} failed on the Atlas kernel (${run.result.message ?? `exit status ${run.result.exitStatus}`})`);
  }
  return {
    instructions: run.result.instructions,
    virtualMs: run.result.virtualNs / 1e6,
    hostSeconds: run.hostMs / 1000,
    majorFaults: counter(run.counters, 'major_faults'),
  };
}
