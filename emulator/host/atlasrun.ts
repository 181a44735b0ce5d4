// Running the Atlas kernel from code: the kernel command line the commands
// build (`run`, `boot` without --kernel, `compare`, the bench), and one quiet
// run of a program with its counters and reference string, for `compare`
// and the bench.

import { DiskImage, Machine, type MachineResult } from './machine.js';
import { Collector, type OutputSink } from './output.js';
import { enterMultiboot, loadMultiboot, BOOT_DEVICE_HDA } from './multiboot.js';
import { readKernelCounters, type KernelCounters } from './kstats.js';
import type { ReferenceRecorder } from './refs.js';

/** The swap area the commands give the kernel by default: hdb (disk-images/swap.img), priority 10. */
export const DEFAULT_SWAP_WORD = 'swap=hdb:10';

/** Ctrl-D: the Atlas console's end of file (kernel/console.c). */
export const END_OF_INPUT = 0x04;

/**
 * `cmdline` with `words` added as kernel words: before `init=` (everything
 * after the `--` that follows it is the program's), else at the end.
 */
export function withKernelWords(cmdline: string | undefined, words: string[]): string {
  const all = (cmdline ?? '').split(/\s+/).filter(Boolean);
  const init = all.findIndex((w) => w.startsWith('init='));
  const at = init < 0 ? all.length : init;
  return [...all.slice(0, at), ...words, ...all.slice(at)].join(' ');
}

/** Does the command line already name swap areas? (Then the default one is not added.) */
export function hasSwapWord(cmdline: string | undefined): boolean {
  return (cmdline ?? '').split(/\s+/).some((w) => w.startsWith('swap='));
}

/**
 * The words of --kernel-args, checked: no `--` (it would start the
 * program's arguments) and no `init=` (the command names the program).
 */
export function parseKernelArgs(text: string | undefined): string[] {
  const words = (text ?? '').split(/\s+/).filter(Boolean);
  for (const w of words) {
    if (w.startsWith('--')) throw new Error(`--kernel-args: ${JSON.stringify(w)}: kernel words cannot start with "--" (it would begin the program's arguments)`);
    if (w.startsWith('init=')) throw new Error(`--kernel-args: ${JSON.stringify(w)}: the program is named by the command, not by init=`);
  }
  return words;
}

/** `quiet [kernel words] [swap=...] init=PATH -- ARGS`: one program as the first process, no boot lines. */
export function programCommandLine(path: string, args: string[], kernelWords: string[], swap: boolean): string {
  const words = ['quiet', ...kernelWords];
  if (swap && !words.some((w) => w.startsWith('swap='))) words.push(DEFAULT_SWAP_WORD);
  return [...words, `init=${path}`, '--', ...args].join(' ');
}

export interface AtlasRunOptions {
  kernel: Uint8Array;
  rootImage: Uint8Array;
  /** hdb; null: none. */
  swapImage: Uint8Array | null;
  ramBytes: number;
  cmdline: string;
  /** Disk latency in virtual ns (default: the machine's, 2 ms). */
  diskLatencyNs?: number;
  translate?: boolean;
  maxInstructions?: number;
  /** Records the page reference string of the run. */
  recorder?: ReferenceRecorder;
  /** Where the console goes (default: collected, in `output`). */
  output?: OutputSink;
}

export interface AtlasRun {
  result: MachineResult;
  /** The kernel's counters at exit (null: the kernel exports none). */
  counters: KernelCounters | null;
  /** The console output, when it was collected. */
  output: string;
  hostMs: number;
  machine: Machine;
}

/** Boots the Atlas kernel with its root image (and a swap disk) on `cmdline`, input at end of file, to the end of the run. */
export async function runAtlas(opts: AtlasRunOptions): Promise<AtlasRun> {
  const collector = new Collector();
  const machine = await Machine.create({
    ramBytes: opts.ramBytes,
    output: opts.output ?? collector,
    input: Uint8Array.of(END_OF_INPUT),
    disks: [new DiskImage(opts.rootImage), opts.swapImage ? new DiskImage(opts.swapImage) : null],
    diskLatencyNs: opts.diskLatencyNs,
    translate: opts.translate,
  });
  enterMultiboot(machine.cpu, loadMultiboot(opts.kernel, machine.ram, { kernelName: 'kernel.elf', cmdline: opts.cmdline, bootDevice: BOOT_DEVICE_HDA }));
  if (opts.recorder) machine.cpu.recordReferences(opts.recorder.sink);
  const start = performance.now();
  const result = await machine.run({ maxInstructions: opts.maxInstructions });
  const hostMs = performance.now() - start;
  if (opts.recorder) machine.cpu.recordReferences(undefined);
  return { result, counters: readKernelCounters(opts.kernel, machine.ram), output: collector.text(), hostMs, machine };
}
