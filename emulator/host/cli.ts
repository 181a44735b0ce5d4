// The `atlas386` command. Bundled by esbuild into dist/atlas386.mjs.
//
// Every failure (bad option, missing file, bad ELF, guest fault) ends with one
// line on stderr, `atlas386: ...`, and exit status 1; never a stack trace.

import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { runBareMetal, type BareMetalResult, type OutputSink } from './baremetal.js';
import { packageRoot } from './cpu.js';

const DEFAULT_RAM_MIB = 32;
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

/** A built artifact under build/; names the build command when it is missing. */
function readArtifact(...parts: string[]): Uint8Array {
  const root = packageRoot();
  const file = join(root, ...parts);
  if (!existsSync(file)) {
    throw new Error(`${relative(process.cwd(), file) || file} not found; run \`npm run build\` first`);
  }
  return readInput(file);
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

const stdoutSink: OutputSink = { write: (chunk) => process.stdout.write(chunk) };

/** Collects output in memory (bench). */
class Collector implements OutputSink {
  private readonly chunks: Uint8Array[] = [];
  write(chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

const mips = (r: BareMetalResult): number => r.instructions / r.hostSeconds / 1e6;
const fmtInt = (n: number): string => n.toLocaleString('en-US');

async function demo(opts: { ram: number }): Promise<void> {
  const elf = readArtifact('build', 'baremetal', 'demo.elf');
  console.log('Atlas386 demo: a bare-metal test program (userland/baremetal/demo.c) running directly on the');
  console.log('emulated i386 CPU core, with no OS underneath; the Atlas kernel does not exist yet.\n');
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
  .description('Atlas386: an i386 PC emulator (and, later, a toy paging OS)')
  .showHelpAfterError(false)
  .configureOutput({
    outputError: (str, write) => write(`atlas386: ${str.replace(/^error: /, '')}`),
  });

program
  .command('demo')
  .description('run the bare-metal demo program on the CPU core (there is no kernel yet)')
  .option('--ram <MiB>', 'guest RAM in MiB', ramOption, DEFAULT_RAM_MIB)
  .action(guarded(demo));

program
  .command('run')
  .description('run a bare-metal i386 ELF executable (console: port 0xE9, exit: port 0xF4)')
  .argument('<file.elf>', 'ELF32 i386 executable, linked to run in flat protected mode')
  .option('--ram <MiB>', 'guest RAM in MiB', ramOption, DEFAULT_RAM_MIB)
  .option('--max-instructions <N>', 'stop with an error after N instructions', countOption, DEFAULT_MAX_INSTRUCTIONS)
  .option('--debug', 'use the debug build of the core (dist/core.debug.wasm)')
  .option('--stats', 'print instructions retired and guest MIPS on stderr')
  .option('--no-translate', 'interpret every instruction (no translation of hot blocks to wasm)')
  .action(guarded(run));

program
  .command('bench')
  .description('run the bench workloads and report guest MIPS (instructions retired / host second)')
  .option('--runs <N>', 'runs per workload', runsOption, 5)
  .option('--ram <MiB>', 'guest RAM in MiB', ramOption, DEFAULT_RAM_MIB)
  .option('--no-translate', 'interpret every instruction (measures the interpreter alone)')
  .action(guarded(bench));

await program.parseAsync(process.argv);
