// The `atlas386` command. Bundled by esbuild into dist/atlas386.mjs.
//
// Every failure (bad option, missing file, bad ELF, guest fault) ends with one
// line on stderr, `atlas386: ...`, and exit status 1; never a stack trace.

import { closeSync, existsSync, fstatSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { runBareMetal, type BareMetalResult } from './baremetal.js';
import { Collector, stdoutSink } from './output.js';
import {
  MACHINE_WORKLOADS, machineWorkloadKernel, runAtlasBoot, runAtlasExec, runAtlasSwap, runMachineWorkload, SWAP_WORKLOAD,
  type AtlasImages, type AtlasSwapRun, type MachineWorkload,
} from './bench.js';
import { packageRoot } from './cpu.js';
import { checkDiskImage, DiskImage, Machine, parseMemorySize } from './machine.js';
import { enterMultiboot, loadMultiboot, BOOT_DEVICE_HDA } from './multiboot.js';
import { ustarNames } from './ustar.js';
import { applyTlbGeometry, formatMmuStats, parseTlbSpec, TLB_SPEC_HELP } from './mmu.js';
import type { TlbGeometry, TlbName } from './cpu.js';
import { DEFAULT_SWAP_WORD, END_OF_INPUT, hasSwapWord, parseKernelArgs, programCommandLine, withKernelWords } from './atlasrun.js';
import { formatKernelCounters, readKernelCounters } from './kstats.js';
import { ReferenceFileWriter } from './refs.js';
import { compareAtSize, defaultSizes, faultPoints, formatCompareTable, parsePolicies, parseSizes, POLICIES, type SizeResult } from './compare.js';
import { renderFaultChart } from './plot.js';
import { GdbStub } from './gdbstub.js';
import { Debugger } from './debugger.js';
import { DebugSession, runRepl } from './debugrepl.js';
import { DebugViews } from './debugviews.js';

const DEFAULT_RAM_MIB = 32;
const MiB = 1024 * 1024;
/** `boot` of the Atlas kernel (what `npm start` runs): small enough that the demo swaps. */
const ATLAS_BOOT_RAM_BYTES = 4 * MiB;
const MAX_RAM_MIB = 3072;
/** Default guard against runaway guests: about a minute or two at current speeds. */
const DEFAULT_MAX_INSTRUCTIONS = 10_000_000_000;
const BENCH_WORKLOADS = ['bench-int', 'bench-mem', 'bench-string'] as const;

function readInput(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new Error(`cannot read ${file}: ${reason}`);
  }
}

/** The bytes of a built artifact (see artifactPath). */
function readArtifact(...parts: string[]): Uint8Array {
  return readInput(artifactPath(...parts));
}

function integer(min: number, max: number, expected: string) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`Expected ${expected}.`);
    return n;
  };
}

const ramOption = integer(1, MAX_RAM_MIB, `a whole number of MiB from 1 to ${MAX_RAM_MIB}`);
const countOption = integer(1, Number.MAX_SAFE_INTEGER, 'a positive whole number');
const runsOption = integer(1, 1000, 'a number of runs from 1 to 1000');

function memoryOption(value: string): number {
  try {
    return parseMemorySize(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function tlbOption(value: string): Partial<Record<TlbName, TlbGeometry>> {
  try {
    return parseTlbSpec(value);
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message}.`);
  }
}

const latencyOption = integer(0, 10_000_000, 'a whole number of microseconds from 0 to 10000000');
const portOption = integer(1, 65535, 'a TCP port from 1 to 65535');
const collect = (value: string, previous: string[]): string[] => [...previous, value];


const mips = (r: BareMetalResult): number => r.instructions / r.hostSeconds / 1e6;
const fmtInt = (n: number): string => n.toLocaleString('en-US');

async function demo(opts: { ram: number }): Promise<void> {
  const elf = readArtifact('build', 'baremetal', 'demo.elf');
  console.log('Atlas386 demo: a bare-metal test program (userland/baremetal/demo.c) running directly on the');
  console.log('emulated i386 CPU core, with no OS underneath (`npm start` boots the Atlas kernel instead).\n');
  const r = await runBareMetal(elf, { ramBytes: opts.ram * 1024 * 1024, maxInstructions: DEFAULT_MAX_INSTRUCTIONS, stdout: stdoutSink });
  console.log(
    `\n[guest exited with status ${r.exitCode} after ${fmtInt(r.instructions)} instructions, ` +
      `${(r.hostSeconds * 1000).toFixed(1)} ms, ${mips(r).toFixed(1)} guest MIPS; a run this short is mostly warm-up, ` +
      '`npm run bench` measures sustained speed]',
  );
  process.exitCode = r.exitCode;
}

async function run(
  file: string,
  opts: { ram: number; maxInstructions: number; debug?: boolean; stats?: boolean; translate: boolean },
): Promise<void> {
  const elf = readInput(file);
  const r = await runBareMetal(elf, {
    ramBytes: opts.ram * 1024 * 1024,
    maxInstructions: opts.maxInstructions,
    stdout: stdoutSink,
    debug: opts.debug,
    translate: opts.translate,
  });
  if (opts.stats) {
    process.stderr.write(
      `atlas386: exit status ${r.exitCode}, ${fmtInt(r.instructions)} instructions, ${mips(r).toFixed(1)} guest MIPS\n`,
    );
  }
  process.exitCode = r.exitCode;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function bench(opts: { runs: number; ram: number; translate: boolean }): Promise<void> {
  const elfs = BENCH_WORKLOADS.map((name) => ({ name, elf: readArtifact('build', 'baremetal', `${name}.elf`) }));
  const engine = opts.translate ? 'interpreter + block translation' : 'interpreter only';
  console.log(`Atlas386 bench: ${opts.runs} run(s) per workload, release core (${engine}), Node ${process.version}`);
  console.log('\nBare-metal workloads (ELF programs on the CPU core alone):');
  const header = ['workload', 'instructions', 'median MIPS', 'min MIPS', 'max MIPS', 'checksum'];
  const widths = [14, 14, 12, 10, 10, 10];
  const row = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(row(header));
  console.log(row(widths.map((w) => '-'.repeat(w))));
  for (const { name, elf } of elfs) {
    const speeds: number[] = [];
    let instructions = 0;
    let checksum = '';
    for (let i = 0; i < opts.runs; i++) {
      const out = new Collector();
      const r = await runBareMetal(elf, {
        ramBytes: opts.ram * 1024 * 1024,
        maxInstructions: DEFAULT_MAX_INSTRUCTIONS,
        stdout: out,
        translate: opts.translate,
      });
      if (r.exitCode !== 0) throw new Error(`${name} exited with status ${r.exitCode}`);
      const sum = /checksum ([0-9a-f]{8})/.exec(out.text())?.[1];
      if (!sum) throw new Error(`${name} printed no checksum (output: ${JSON.stringify(out.text().trim())})`);
      if (checksum && sum !== checksum) throw new Error(`${name}: checksum changed between runs (${checksum}, then ${sum})`);
      if (instructions && r.instructions !== instructions) {
        throw new Error(`${name}: instruction count changed between runs (${instructions}, then ${r.instructions})`);
      }
      checksum = sum;
      instructions = r.instructions;
      speeds.push(mips(r));
    }
    console.log(
      row([name, fmtInt(instructions), median(speeds).toFixed(1), Math.min(...speeds).toFixed(1), Math.max(...speeds).toFixed(1), checksum]),
    );
  }

  // Multiboot kernels on the whole PC (emulator/host/bench.ts): devices and interrupts as well as the CPU.
  const kernels = MACHINE_WORKLOADS.map((name) => ({ name, elf: readArtifact(...machineWorkloadKernel(name)) }));
  console.log('\nMachine workloads (Multiboot kernels on the whole PC; bench-disk: 33 MiB disk in memory, no access or transfer time):');
  const mHeader = ['workload', 'instructions', 'median MIPS', 'min MIPS', 'max MIPS', 'median rate', 'checksum'];
  const mWidths = [16, 14, 12, 10, 10, 18, 10];
  const medianMips = new Map<MachineWorkload, number>();
  const notes: string[] = [];
  let pagingIgnored = false;
  const mRow = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(mWidths[i]!) : c.padStart(mWidths[i]!))).join('  ');
  console.log(mRow(mHeader));
  console.log(mRow(mWidths.map((w) => '-'.repeat(w))));
  for (const { name, elf } of kernels) {
    const speeds: number[] = [];
    const rates: number[] = [];
    let instructions = 0;
    let checksum = '';
    let unit = '';
    let counts = '';
    for (let i = 0; i < opts.runs; i++) {
      const r = await runMachineWorkload(name, elf, {
        ramBytes: opts.ram * 1024 * 1024,
        translate: opts.translate,
        maxInstructions: DEFAULT_MAX_INSTRUCTIONS,
      });
      if (checksum && r.checksum !== checksum) throw new Error(`${name}: checksum changed between runs (${checksum}, then ${r.checksum})`);
      if (instructions && r.instructions !== instructions) {
        throw new Error(`${name}: instruction count changed between runs (${instructions}, then ${r.instructions})`);
      }
      checksum = r.checksum;
      instructions = r.instructions;
      unit = r.rateUnit;
      speeds.push(r.instructions / r.hostSeconds / 1e6);
      rates.push(r.rate);
      if (r.pagingInEffect === false) pagingIgnored = true;
      if (r.cr3Loads !== undefined) {
        const every = fmtInt(Math.round(r.instructions / Math.max(r.cr3Loads, 1)));
        counts = `${name}: ${fmtInt(r.cr3Loads)} CR3 loads per run (one per ${every} instructions)`;
      }
      if (r.faults !== undefined) counts = `${name}: ${fmtInt(r.faults)} page faults per run`;
    }
    const rate = median(rates);
    medianMips.set(name, median(speeds));
    if (counts) notes.push(counts);
    const rateText =
      unit === 'MB/s'
        ? `${rate.toFixed(1)} MB/s`
        : unit === 'MIPS'
          ? `${rate.toFixed(1)} MIPS`
          : `${fmtInt(Math.round(rate))} ${unit === 'faults/s' ? 'faults/s' : 'irq/s'}`;
    console.log(
      mRow([
        name,
        fmtInt(instructions),
        median(speeds).toFixed(1),
        Math.min(...speeds).toFixed(1),
        Math.max(...speeds).toFixed(1),
        rateText,
        checksum,
      ]),
    );
  }
  const off = medianMips.get('bench-paging-off');
  const on = medianMips.get('bench-paging-on');
  if (off && on) console.log(`\nbench-paging: paging on / off = ${((on / off) * 100).toFixed(1)}% of the median MIPS (target: at least 80%)`);
  for (const note of notes) console.log(note);

  // The Atlas kernel on the whole PC, with its root image (emulator/host/bench.ts).
  const images = { kernel: readArtifact(...DEFAULT_KERNEL), rootImage: readArtifact(...DEFAULT_ROOT_IMAGE) };
  const ramBytes = opts.ram * 1024 * 1024;
  console.log('\nThe Atlas kernel (build/kernel/kernel.elf, disk-images/root.img, 2 ms disk latency in virtual time):');
  const bootMs: number[] = [];
  let boot = await runAtlasBoot(images, ramBytes, opts.translate);
  bootMs.push(boot.hostMs);
  for (let i = 1; i < opts.runs; i++) {
    boot = await runAtlasBoot(images, ramBytes, opts.translate, boot.instructions);
    bootMs.push(boot.hostMs);
  }
  console.log(
    `boot to the first user instruction: ${fmtInt(boot.instructions)} instructions, ${boot.virtualMs.toFixed(1)} ms of virtual time, ` +
      `median ${median(bootMs).toFixed(1)} ms of host time (min ${Math.min(...bootMs).toFixed(1)}, max ${Math.max(...bootMs).toFixed(1)})`,
  );
  const rates: number[] = [];
  let exec = await runAtlasExec(images, ramBytes, opts.translate);
  rates.push(exec.roundTripsPerSecond);
  for (let i = 1; i < opts.runs; i++) {
    exec = await runAtlasExec(images, ramBytes, opts.translate);
    rates.push(exec.roundTripsPerSecond);
  }
  console.log(
    `exec-and-exit round trip (fork, execve, exit, waitpid): ${fmtInt(Math.round(exec.instructionsPerRound))} instructions each, ` +
      `median ${fmtInt(Math.round(median(rates)))} per host second (min ${fmtInt(Math.round(Math.min(...rates)))}, max ${fmtInt(Math.round(Math.max(...rates)))})`,
  );
  await benchSwap({ ...images, swapImage: readArtifact(...DEFAULT_SWAP_IMAGE) }, opts.runs, opts.translate);
  if (pagingIgnored) {
    console.log('note: paging is not in effect in this core (CR0.PG set, linear = physical): the paging workloads ran identity-mapped without a TLB');
  }
}

/**
 * The bench's swap line (emulator/host/bench.ts runAtlasSwap): wall time,
 * MIPS, major faults and host time per major fault. A kernel that cannot
 * run it gets one line saying so, and the rest of the bench stands.
 */
async function benchSwap(images: AtlasImages & { swapImage: Uint8Array }, runs: number, translate: boolean): Promise<void> {
  const { program, args, ramBytes } = SWAP_WORKLOAD;
  const what = `${basename(program)} ${args.join(' ')} on ${ramBytes / MiB} MiB, swap on hdb, 2 ms disk latency`;
  const seconds: number[] = [];
  let run: AtlasSwapRun | undefined;
  try {
    for (let i = 0; i < runs; i++) {
      const r = await runAtlasSwap(images, translate);
      if (run && r.instructions !== run.instructions) {
        throw new Error(`instruction count changed between runs (${run.instructions}, then ${r.instructions})`);
      }
      run = r;
      seconds.push(r.hostSeconds);
    }
  } catch (err) {
    console.log(`swap (${what}): failed: ${(err as Error).message}`);
    return;
  }
  const wall = median(seconds);
  const faults = run!.majorFaults;
  const perFault = faults ? `${fmtInt(faults)} major faults, ${fmtInt(Math.round((wall * 1e6) / faults))} µs of host time per major fault` : 'major faults not counted (the kernel exports no counters)';
  console.log(
    `swap (${what}): ${fmtInt(run!.instructions)} instructions, ${run!.virtualMs.toFixed(1)} ms of virtual time, ` +
      `median ${wall.toFixed(2)} s of host time (min ${Math.min(...seconds).toFixed(2)}, max ${Math.max(...seconds).toFixed(2)}), ` +
      `${(run!.instructions / wall / 1e6).toFixed(1)} MIPS; ${perFault}`,
  );
}

interface BootOptions {
  kernel?: string;
  cmdline?: string;
  /** Default: 4 MiB for the Atlas kernel's `boot`, 32 MiB otherwise (`run` passes its own). */
  mem?: number;
  hda?: string;
  hdb?: string;
  hdc?: string;
  hdd?: string;
  module: string[];
  persist?: boolean;
  maxInstructions?: number;
  diskLatency?: number;
  verbose?: boolean;
  stats?: boolean;
  tlb?: Partial<Record<TlbName, TlbGeometry>>;
  translate: boolean;
  debug?: boolean;
  /** --record-refs: the page reference string goes to this file (emulator/host/refs.ts). */
  recordRefs?: string;
  /** --gdb: wait for gdb on this TCP port of 127.0.0.1 and let it drive the run (emulator/host/gdbstub.ts). */
  gdb?: number;
}

/** Listens for gdb and holds the guest until it connects (the guest then waits for gdb's first continue). */
async function attachGdb(engine: Debugger, port: number, views?: DebugViews): Promise<GdbStub> {
  const machine = engine.machine;
  const stub = new GdbStub(engine, () => machine.requestStop(), views ? (command, args) => views.monitor(command, args) : undefined);
  const { connected } = await stub.listen(port);
  process.stderr.write(`atlas386: waiting for gdb on localhost:${port}\n`);
  await connected;
  return stub;
}

/**
 * The debugger's views of the machine and the kernel: symbols, line tables
 * and the kernel's tables need an ELF kernel. `debug` needs them; under
 * `boot --gdb` a kernel without them just has no kernel monitor commands.
 */
function debugViews(engine: Debugger, kernel: Uint8Array, required: boolean): DebugViews | undefined {
  try {
    return new DebugViews(engine, kernel, packageRoot());
  } catch (err) {
    if (required) throw new Error(`cannot debug this kernel: ${(err as Error).message}`);
    return undefined;
  }
}

/** A raw disk image: read whole; with --persist, written back sector by sector to the file. */
function openDisk(file: string, persist: boolean, cleanups: (() => void)[]): DiskImage {
  const bytes = readInput(file);
  checkDiskImage(file, bytes);
  if (!persist) return new DiskImage(bytes);
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot open ${file} for writing (--persist): ${code === 'EACCES' || code === 'EROFS' ? 'permission denied' : (err as Error).message}`);
  }
  cleanups.push(() => closeSync(fd));
  return new DiskImage(bytes, { persist: true, writeThrough: (offset, data) => writeSync(fd, data, 0, data.length, offset) });
}

/** Serial input from stdin: a file or /dev/null is read at once; a pipe is read to its end before the guest starts. */
async function readStdinToEnd(): Promise<Uint8Array> {
  let stat;
  try {
    stat = fstatSync(0);
  } catch {
    return new Uint8Array(0); // no stdin at all
  }
  if (stat.isFile() || stat.isCharacterDevice()) {
    try {
      return readFileSync(0);
    } catch {
      return new Uint8Array(0);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The Atlas kernel, its root image and its swap disk, as `npm run build` leaves them. */
const DEFAULT_KERNEL = ['build', 'kernel', 'kernel.elf'];
const DEFAULT_ROOT_IMAGE = ['disk-images', 'root.img'];
const DEFAULT_SWAP_IMAGE = ['disk-images', 'swap.img'];

/** The path of a built artifact; names the build command when it is missing. */
function artifactPath(...parts: string[]): string {
  const file = join(packageRoot(), ...parts);
  if (!existsSync(file)) throw new Error(`${relative(process.cwd(), file) || file} not found; run \`npm run build\` first`);
  return file;
}

async function boot(opts: BootOptions, atlasKernel = false, debugging?: DebugOptions): Promise<void> {
  // Under `debug`, stdin is the debugger's: the guest's serial input is empty.
  const interactive = debugging === undefined && process.stdin.isTTY === true;
  // No --kernel: the Atlas kernel, with its root filesystem on hda unless
  // one is given. Its console is cooked (`tty`: echo, line editing) for a
  // person at a terminal, and piped input ends with Ctrl-D, its end of file.
  const atlas = atlasKernel || opts.kernel === undefined;
  const kernelFile = opts.kernel ?? artifactPath(...DEFAULT_KERNEL);
  const ramBytes = opts.mem ?? (atlas ? ATLAS_BOOT_RAM_BYTES : DEFAULT_RAM_MIB * MiB);
  if (atlas) {
    if (opts.hda === undefined) opts.hda = artifactPath(...DEFAULT_ROOT_IMAGE);
    // The swap disk (hdb unless another is given) and its swap area.
    if (opts.hdb === undefined) opts.hdb = artifactPath(...DEFAULT_SWAP_IMAGE);
    const words = hasSwapWord(opts.cmdline) ? [] : [DEFAULT_SWAP_WORD];
    if (interactive) words.push('tty');
    opts.cmdline = withKernelWords(opts.cmdline, words);
  }
  const kernel = readInput(kernelFile);
  const modules = opts.module.map((file) => ({ name: basename(file), data: readInput(file) }));
  const cleanups: (() => void)[] = [];
  try {
    const disks = [opts.hda, opts.hdb, opts.hdc, opts.hdd].map((file) => (file === undefined ? null : openDisk(file, opts.persist ?? false, cleanups)));
    let input = interactive || debugging ? new Uint8Array(0) : await readStdinToEnd();
    if (atlas && !interactive) input = Uint8Array.from([...input, END_OF_INPUT]);
    const machine = await Machine.create({
      ramBytes,
      output: stdoutSink,
      input,
      disks,
      diskLatencyNs: opts.diskLatency === undefined ? undefined : opts.diskLatency * 1000,
      translate: opts.translate,
      debug: opts.debug,
      onUnclaimedPort: opts.verbose
        ? ({ port, direction, size }) =>
            process.stderr.write(`atlas386: unclaimed port 0x${port.toString(16).padStart(4, '0')} (first access: ${direction}, ${size} byte${size > 1 ? 's' : ''})\n`)
        : undefined,
    });
    if (opts.tlb) applyTlbGeometry(machine.cpu, opts.tlb);
    const boot = loadMultiboot(kernel, machine.ram, {
      kernelName: basename(kernelFile),
      cmdline: opts.cmdline,
      modules,
      bootDevice: opts.hda !== undefined ? BOOT_DEVICE_HDA : undefined,
    });
    enterMultiboot(machine.cpu, boot);
    if (opts.verbose) {
      process.stderr.write(
        `atlas386: kernel ${kernelFile} at ${hexAddr(boot.kernelStart)}..${hexAddr(boot.kernelEnd - 1)}, entry ${hexAddr(boot.entry)}, ` +
          `boot information at ${hexAddr(boot.infoAddress)}, ${modules.length} module(s), ${ramBytes / MiB} MiB RAM\n`,
      );
    }
    const refs = opts.recordRefs === undefined ? undefined : new ReferenceFileWriter(opts.recordRefs);
    if (refs) {
      cleanups.push(() => refs.close());
      machine.cpu.recordReferences(refs.sink);
    }
    const engine = opts.gdb === undefined && !debugging ? undefined : new Debugger(machine, { snapshotInterval: debugging?.snapshotInterval });
    const views = engine === undefined ? undefined : debugViews(engine, kernel, debugging !== undefined);
    const session = debugging && engine && views ? new DebugSession(engine, views) : undefined;
    const gdb = engine === undefined || opts.gdb === undefined ? undefined : await attachGdb(engine, opts.gdb, views);
    if (gdb) cleanups.push(() => gdb.close());
    if (interactive) cleanups.push(attachTerminal(machine));
    const running = machine.run({ maxInstructions: opts.maxInstructions, realtime: interactive, debugger: engine })
      .then((result) => { engine?.runEnded(result); return result; });
    if (session && engine) {
      await runRepl(session, process.stdin, process.stdout);
      if (!engine.finished) {
        // quit: the run ends here, wherever the guest is.
        machine.requestStop();
        engine.detach();
      }
    }
    const r = await running;
    if (session && r.reason === 'host-stop') return;
    if (gdb?.killed) throw new Error('killed by gdb');
    gdb?.guestEnded(r.reason === 'exit' ? r.exitStatus ?? 0 : 1);
    machine.cpu.recordReferences(undefined); // drains what the core still holds
    if (opts.verbose) {
      process.stderr.write(
        `atlas386: ${fmtInt(r.instructions)} instructions, ${(r.virtualNs / 1e6).toFixed(3)} ms of virtual time, ` +
          `${r.trace.interrupts} interrupts, trace ${r.trace.hash}\n`,
      );
    }
    if (opts.stats) {
      const lines = [
        `${fmtInt(r.instructions)} instructions, ${(r.virtualNs / 1e6).toFixed(3)} ms of virtual time, ${r.trace.interrupts} interrupts`,
        ...formatMmuStats(machine.cpu),
        ...formatKernelCounters(readKernelCounters(kernel, machine.ram) ?? []),
      ];
      if (refs) lines.push(`${fmtInt(refs.count)} page references recorded in ${refs.path}`);
      for (const line of lines) process.stderr.write(`atlas386: ${line}\n`);
    }
    if (r.reason !== 'exit') throw new Error(r.message ?? r.reason);
    process.exitCode = r.exitStatus ?? 0;
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
  }
}

/**
 * The path of `/bin/NAME` (or NAME itself when it is a path), checked: it is
 * in the root image, and it and its arguments are words the kernel command
 * line can carry.
 */
function programPath(name: string, args: string[]): string {
  const path = name.includes('/') ? name : `/bin/${name}`;
  for (const word of [path, ...args]) {
    if (word === '' || /\s/.test(word)) throw new Error(`program arguments cannot be empty or contain spaces (the kernel command line separates them): ${JSON.stringify(word)}`);
  }
  const image = artifactPath(...DEFAULT_ROOT_IMAGE);
  let names: string[];
  try {
    names = ustarNames(readInput(image));
  } catch (err) {
    throw new Error(`${image}: ${(err as Error).message}`);
  }
  if (!names.includes(path.replace(/^\/+/, ''))) {
    throw new Error(`no program ${path} in the root image (${relative(process.cwd(), image) || image}); it has ${names.filter((n) => n.startsWith('bin/') && n !== 'bin/').map((n) => n.slice(4)).join(', ')}`);
  }
  return path;
}

interface DebugOptions {
  /** Instructions between the snapshots reverse execution replays from. */
  snapshotInterval?: number;
}

interface DebugCommandOptions extends RunCommandOptions, DebugOptions {}

/**
 * `atlas386 debug [PROGRAM [ARGS...]]`: the built-in debugger (debugrepl.ts)
 * over the Atlas kernel running PROGRAM as `run` does, or booting to its demo
 * as `boot` does. The guest stops before its first instruction.
 */
async function debugCommand(name: string | undefined, args: string[], opts: DebugCommandOptions): Promise<void> {
  const { kernelArgs, snapshotInterval, ...bootOptions } = opts;
  const words = parseKernelArgs(kernelArgs);
  const cmdline = name === undefined ? (words.length > 0 ? words.join(' ') : undefined) : programCommandLine(programPath(name, args), args, words, false);
  await boot({ ...bootOptions, cmdline }, true, { snapshotInterval });
}

interface RunCommandOptions extends Omit<BootOptions, 'kernel' | 'cmdline'> {
  /** --kernel-args: more kernel words, before init=. */
  kernelArgs?: string;
}

/**
 * `atlas386 run PROGRAM [ARGS...]`: boots the Atlas kernel with its root
 * image and swap disk and runs one program instead of the demo: the kernel
 * command line `quiet [WORDS] swap=hdb:10 init=/bin/PROGRAM -- ARGS...`
 * makes it the first process, with no boot lines, and the kernel powers
 * off with its exit status (128 + the signal if one killed it).
 */
async function runProgram(name: string, args: string[], opts: RunCommandOptions): Promise<void> {
  const path = programPath(name, args);
  const { kernelArgs, ...bootOptions } = opts;
  const cmdline = programCommandLine(path, args, parseKernelArgs(kernelArgs), false); // boot() adds the swap area
  await boot({ ...bootOptions, hda: artifactPath(...DEFAULT_ROOT_IMAGE), cmdline }, true);
}

interface CompareCommandOptions {
  policies: string;
  mem: number;
  sizes?: string;
  plot?: string;
  kernelArgs?: string;
  frames?: number;
  diskLatency?: number;
  maxInstructions?: number;
  verbose?: boolean;
  translate: boolean;
}

/**
 * `atlas386 compare PROGRAM [ARGS...]`: the program under each policy (see
 * compare.ts), the table for --mem, and with --plot the faults of every
 * policy and OPT against memory size.
 */
async function compareCommand(name: string, args: string[], opts: CompareCommandOptions): Promise<void> {
  const policies = parsePolicies(opts.policies);
  const sizes = opts.plot === undefined ? [] : opts.sizes !== undefined ? parseSizes(opts.sizes) : defaultSizes(opts.mem);
  if (opts.sizes !== undefined && opts.plot === undefined) throw new Error('--sizes goes with --plot (the sizes of the plot)');
  if (opts.plot !== undefined && !opts.plot.endsWith('.svg')) throw new Error(`--plot ${opts.plot}: the plot is an SVG file (FILE.svg)`);
  const kernelWords = parseKernelArgs(opts.kernelArgs);
  if (kernelWords.some((w) => w.startsWith('policy='))) throw new Error('--kernel-args: compare sets policy= itself (use --policies)');
  const path = programPath(name, args);
  const images = {
    kernel: readArtifact(...DEFAULT_KERNEL),
    rootImage: readArtifact(...DEFAULT_ROOT_IMAGE),
    swapImage: readArtifact(...DEFAULT_SWAP_IMAGE),
  };
  const compareOptions = {
    policies,
    kernelWords,
    frames: opts.frames,
    diskLatencyNs: opts.diskLatency === undefined ? undefined : opts.diskLatency * 1000,
    translate: opts.translate,
    maxInstructions: opts.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS,
    onOutput: opts.verbose
      ? (policy: string, ramBytes: number, output: string) => process.stdout.write(`--- ${policy}, ${ramBytes / MiB} MiB ---\n${output}`)
      : undefined,
  };
  const results = new Map<number, SizeResult>();
  const resultAt = async (ramBytes: number): Promise<SizeResult> => {
    let r = results.get(ramBytes);
    if (!r) results.set(ramBytes, (r = await compareAtSize(images, path, args, ramBytes, compareOptions)));
    return r;
  };
  const main = await resultAt(opts.mem);
  const program = [path, ...args].join(' ');
  console.log(`${program} on ${opts.mem / MiB} MiB, swap on hdb (disk-images/swap.img)${kernelWords.length ? `, kernel words: ${kernelWords.join(' ')}` : ''}`);
  for (const line of formatCompareTable(main)) console.log(line);
  if (opts.plot === undefined) return;
  for (const size of sizes) await resultAt(size);
  const points = faultPoints(sizes.map((size) => results.get(size)!));
  const svg = await renderFaultChart(points, `${program}: page faults against memory size`);
  writeFileSync(opts.plot, svg);
  console.log(`plot: ${opts.plot} (${sizes.map((s) => `${s / MiB}M`).join(', ')})`);
}

const hexAddr = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/** Interactive console: raw keystrokes go to COM1; Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A. Returns the cleanup. */
function attachTerminal(machine: Machine): () => void {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  machine.openInput();
  let escape = false;
  const onData = (chunk: Buffer): void => {
    const bytes: number[] = [];
    for (const b of chunk) {
      if (escape) {
        escape = false;
        if (b === 0x78 /* x */ || b === 0x58) {
          machine.requestStop();
          return;
        }
        if (b === 0x01) bytes.push(0x01);
        continue;
      }
      if (b === 0x01) escape = true;
      else bytes.push(b);
    }
    if (bytes.length > 0) machine.queueInput(Uint8Array.from(bytes));
  };
  const onEnd = (): void => machine.endInput();
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.setRawMode(false);
    stdin.pause();
  };
}

/** Runs an action, turning any error into one line on stderr and exit status 1. */
function guarded<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`atlas386: ${message.split('\n')[0]}\n`);
      process.exitCode = 1;
    }
  };
}

const program = new Command('atlas386')
  .description('Atlas386: an i386 PC emulator and the Atlas toy paging OS')
  .enablePositionalOptions()
  .showHelpAfterError(false)
  .configureOutput({
    outputError: (str, write) => write(`atlas386: ${str.replace(/^error: /, '')}`),
  });

program
  .command('demo')
  .description('run the bare-metal demo program on the CPU core alone, with no OS')
  .option('--ram <MiB>', 'guest RAM in MiB', ramOption, DEFAULT_RAM_MIB)
  .action(guarded(demo));

program
  .command('baremetal')
  .description('run a bare-metal i386 ELF executable on the CPU alone (console: port 0xE9, exit: port 0xF4)')
  .argument('<file.elf>', 'ELF32 i386 executable, linked to run in flat protected mode')
  .option('--ram <MiB>', 'guest RAM in MiB', ramOption, DEFAULT_RAM_MIB)
  .option('--max-instructions <N>', 'stop with an error after N instructions', countOption, DEFAULT_MAX_INSTRUCTIONS)
  .option('--debug', 'use the debug build of the core (dist/core.debug.wasm)')
  .option('--stats', 'print instructions retired and guest MIPS on stderr')
  .option('--no-translate', 'interpret every instruction (no translation of hot blocks to wasm)')
  .action(guarded(run));

program
  .command('bench')
  .description(
    'run the bench workloads and report guest MIPS (instructions retired / host second), MB/s (disk), interrupts/s (timer) and page faults/s',
  )
  .option('--runs <N>', 'runs per workload', runsOption, 5)
  .option('--ram <MiB>', 'guest RAM in MiB', ramOption, DEFAULT_RAM_MIB)
  .option('--no-translate', 'interpret every instruction (measures the interpreter alone)')
  .action(guarded(bench));

program
  .command('run')
  .description('boot the Atlas kernel and run one program from its root image (/bin/PROGRAM); the exit status is the program\'s')
  .argument('<program>', 'a program in the root image: hello, echo, cat, ... (or a path such as /bin/hello)')
  .argument('[args...]', 'its arguments (no spaces inside one)')
  .option('--mem <SIZE>', 'RAM: 32M, 1G, 65536K, ... (bare number: MiB)', memoryOption, DEFAULT_RAM_MIB * MiB)
  .option('--kernel-args <WORDS>', 'more kernel command line words, before init= (e.g. "policy=lru readahead=0")')
  .option('--hdb <IMG>', 'raw disk image: primary slave (default: disk-images/swap.img, the swap area swap=hdb:10)')
  .option('--hdc <IMG>', 'raw disk image: secondary master')
  .option('--hdd <IMG>', 'raw disk image: secondary slave')
  .option('--disk-latency <US>', 'disk access time in virtual microseconds (default 2000; 0 for none)', latencyOption)
  .option('--max-instructions <N>', 'stop with an error after N instructions', countOption)
  .option('--tlb <SPEC>', TLB_SPEC_HELP, tlbOption)
  .option('--record-refs <FILE>', 'record the page reference string (user pages, per page directory) to FILE')
  .option('--stats', 'print the run\'s instruction count, the TLB and paging counters and the kernel\'s counters on stderr at exit')
  .option('--no-translate', 'interpret every instruction (no translation of hot blocks to wasm)')
  .option('--gdb <PORT>', 'wait for gdb on localhost:PORT (GDB remote protocol) before running the guest', portOption)
  .passThroughOptions()
  .action(guarded((name: string, args: string[], opts: Omit<RunCommandOptions, 'module'>) =>
    runProgram(name, args, { ...opts, module: [] })));

program
  .command('debug')
  .description('the built-in debugger: boot the Atlas kernel (running PROGRAM, as `run` does) stopped before its first instruction; `help` lists the commands')
  .argument('[program]', 'a program in the root image to run as init (default: the demo, as `boot`)')
  .argument('[args...]', 'its arguments (no spaces inside one)')
  .option('--mem <SIZE>', 'RAM: 32M, 1G, 65536K, ... (bare number: MiB; default 4M)', memoryOption)
  .option('--kernel-args <WORDS>', 'more kernel command line words (e.g. "policy=lru readahead=0")')
  .option('--hdb <IMG>', 'raw disk image: primary slave (default: disk-images/swap.img, the swap area swap=hdb:10)')
  .option('--hdc <IMG>', 'raw disk image: secondary master')
  .option('--hdd <IMG>', 'raw disk image: secondary slave')
  .option('--disk-latency <US>', 'disk access time in virtual microseconds (default 2000; 0 for none)', latencyOption)
  .option('--tlb <SPEC>', TLB_SPEC_HELP, tlbOption)
  .option('--snapshot-interval <N>', 'instructions between the snapshots reverse execution replays from (default 5000000)', countOption)
  .option('--gdb <PORT>', 'also serve gdb on localhost:PORT (waits for it to connect)', portOption)
  .option('--no-translate', 'interpret every instruction (no translation of hot blocks to wasm)')
  .passThroughOptions()
  .action(guarded((name: string | undefined, args: string[], opts: Omit<DebugCommandOptions, 'module'>) =>
    debugCommand(name, args, { ...opts, module: [] })));

program
  .command('compare')
  .description('run one program under each page replacement policy and compare their faults with Belady\'s OPT')
  .argument('<program>', 'a program in the root image (memhog, thrash, belady, ...)')
  .argument('[args...]', 'its arguments (no spaces inside one)')
  .option('--policies <LIST>', `policies, comma-separated (${POLICIES.join(', ')})`, POLICIES.join(','))
  .option('--mem <SIZE>', 'RAM of the table\'s runs', memoryOption, 4 * MiB)
  .option('--plot <FILE.svg>', 'also plot page faults against memory size, per policy and OPT')
  .option('--sizes <LIST>', 'memory sizes of the plot (default: 0.5, 0.75, 1, 1.5 and 2 times --mem, in whole MiB)')
  .option('--kernel-args <WORDS>', 'more kernel command line words for every run (not policy=)')
  .option('--frames <N>', 'frames for OPT (default: the smallest pages_resident_peak counter of the runs)', countOption)
  .option('--disk-latency <US>', 'disk access time in virtual microseconds (default 2000; 0 for none)', latencyOption)
  .option('--max-instructions <N>', 'stop with an error after N instructions in any run', countOption)
  .option('--verbose', 'print each run\'s console output')
  .option('--no-translate', 'interpret every instruction (no translation of hot blocks to wasm)')
  .passThroughOptions()
  .action(guarded(compareCommand));

program
  .command('boot')
  .description('boot a Multiboot kernel on the PC (console: COM1 on stdin/stdout; exit: port 0xF4)')
  .option('--kernel <FILE>', 'Multiboot kernel: ELF32, or any file with the a.out kludge (header flag 16); default: the Atlas kernel (build/kernel/kernel.elf) with disk-images/root.img as hda')
  .option('--cmdline <STR>', 'kernel command line (after the kernel\'s name, as GRUB passes it)')
  .option('--mem <SIZE>', 'RAM: 32M, 1G, 65536K, ... (bare number: MiB; default 32M, 4M for the Atlas kernel so that its demo swaps)', memoryOption)
  .option('--hda <IMG>', 'raw disk image: primary master')
  .option('--hdb <IMG>', 'raw disk image: primary slave (Atlas kernel: default disk-images/swap.img, with swap=hdb:10)')
  .option('--hdc <IMG>', 'raw disk image: secondary master')
  .option('--hdd <IMG>', 'raw disk image: secondary slave')
  .option('--module <FILE>', 'a Multiboot module (repeatable)', collect, [])
  .option('--persist', 'write disk changes back to the image files (default: kept in memory, discarded at exit)')
  .option('--max-instructions <N>', 'stop with an error after N instructions', countOption)
  .option('--disk-latency <US>', 'disk access time in virtual microseconds (default 2000; 0 for none)', latencyOption)
  .option('--tlb <SPEC>', TLB_SPEC_HELP, tlbOption)
  .option('--record-refs <FILE>', 'record the page reference string (user pages, per page directory) to FILE')
  .option('--stats', 'print the run\'s instruction count, the TLB and paging counters and the kernel\'s counters on stderr at exit')
  .option('--verbose', 'report unclaimed ports, the load addresses and run statistics on stderr')
  .option('--debug', 'use the debug build of the core (dist/core.debug.wasm)')
  .option('--no-translate', 'interpret every instruction (no translation of hot blocks to wasm)')
  .option('--gdb <PORT>', 'wait for gdb on localhost:PORT (GDB remote protocol) before running the guest', portOption)
  .action(guarded((opts: BootOptions) => boot(opts)));

// A reader that goes away (`atlas386 boot | head`) ends the run quietly, as
// SIGPIPE ends a Unix program (status 128 + 13), not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

await program.parseAsync(process.argv);
