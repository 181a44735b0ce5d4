// `atlas386 compare`: one program under each page replacement policy of the
// Atlas kernel (kernel word `policy=NAME`), with the kernel's counters at
// exit side by side, and Belady's OPT (emulator/host/opt.ts) computed from
// the page reference string recorded during the first policy's run.
//
// The runs are `atlas386 run`'s (quiet, the default swap disk on hdb),
// one after the other, so the table is the same every time. OPT is given as
// many frames as the smallest pages_resident_peak of the policy runs: the
// most the kernel ever held for user pages under its tightest policy, which
// is what the policies competed for. Its string is global over (address
// space, page): with several processes it is the machine's string.

import { counter, type KernelCounters } from './kstats.js';
import { programCommandLine, runAtlas } from './atlasrun.js';
import { optFaults } from './opt.js';
import { pageKeys, ReferenceCollector } from './refs.js';
import { parseMemorySize } from './machine.js';
import type { FaultPoint } from './plot.js';

export const POLICIES = ['fifo', 'clock', 'lru', 'random', 'ws'] as const;

const MiB = 1024 * 1024;

/** `fifo,lru,...`: known, distinct policies, in the order given. */
export function parsePolicies(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(POLICIES as readonly string[]).includes(name)) {
      throw new Error(`unknown policy ${JSON.stringify(name)} (policies: ${POLICIES.join(', ')})`);
    }
  }
  if (new Set(names).size !== names.length) throw new Error(`a policy is named twice in ${JSON.stringify(text)}`);
  return names;
}

/** `3M,4M,6M`: memory sizes in bytes, ascending, each as --mem takes it. */
export function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((s) => {
    try {
      return parseMemorySize(s);
    } catch {
      throw new Error(`bad memory size ${JSON.stringify(s.trim())} in --sizes (expected e.g. 3M,4M,6M: from 1M to 3G, multiples of 4K)`);
    }
  });
  return [...new Set(sizes)].sort((a, b) => a - b);
}

/** The sizes of the plot without --sizes: 0.5, 0.75, 1, 1.5 and 2 times --mem, in whole MiB (at least 1). */
export function defaultSizes(mem: number): number[] {
  const sizes = [0.5, 0.75, 1, 1.5, 2].map((f) => Math.max(1, Math.round((mem * f) / MiB)) * MiB);
  return [...new Set(sizes)].sort((a, b) => a - b);
}

export interface CompareImages { kernel: Uint8Array; rootImage: Uint8Array; swapImage: Uint8Array }

export interface CompareOptions {
  policies: string[];
  /** Kernel words for every run (besides policy=, which compare sets). */
  kernelWords: string[];
  /** OPT's frames; default: the smallest pages_resident_peak of the runs. */
  frames?: number;
  diskLatencyNs?: number;
  translate?: boolean;
  maxInstructions?: number;
  /** Each run's console output, as it ends. */
  onOutput?: (policy: string, ramBytes: number, output: string) => void;
}

export interface PolicyRun {
  policy: string;
  exitStatus: number;
  /** From the kernel's counters: undefined when it does not export them. */
  faults?: number;
  majorFaults?: number;
  swapIns?: number;
  swapOuts?: number;
  residentPeak?: number;
  virtualMs: number;
  hostMs: number;
}

export interface OptResult {
  frames: number;
  /** Where the frame count came from. */
  framesFrom: 'pages_resident_peak' | '--frames';
  faults: number;
  references: number;
  pages: number;
  hostMs: number;
}

export interface SizeResult {
  ramBytes: number;
  runs: PolicyRun[];
  /** null: no frame count to give it (no counters and no --frames). */
  opt: OptResult | null;
}

function policyRun(policy: string, counters: KernelCounters | null, exitStatus: number, virtualMs: number, hostMs: number): PolicyRun {
  const minor = counter(counters, 'minor_faults');
  const major = counter(counters, 'major_faults');
  return {
    policy,
    exitStatus,
    faults: minor !== undefined && major !== undefined ? minor + major : undefined,
    majorFaults: major,
    swapIns: counter(counters, 'swap_ins'),
    swapOuts: counter(counters, 'swap_outs'),
    residentPeak: counter(counters, 'pages_resident_peak'),
    virtualMs,
    hostMs,
  };
}

/** OPT for the frames the runs (or --frames) give, over the recorded references. */
function optFor(runs: PolicyRun[], references: Uint32Array, frames: number | undefined): OptResult | null {
  const peaks = runs.map((r) => r.residentPeak).filter((p): p is number => p !== undefined && p > 0);
  const n = frames ?? (peaks.length === runs.length ? Math.min(...peaks) : undefined);
  if (n === undefined) return null;
  const start = performance.now();
  const keys = pageKeys(references);
  const faults = optFaults(keys, n);
  return {
    frames: n,
    framesFrom: frames !== undefined ? '--frames' : 'pages_resident_peak',
    faults,
    references: keys.length,
    pages: new Set(keys).size,
    hostMs: performance.now() - start,
  };
}

/** Runs `/bin/PROGRAM ARGS` once per policy on `ramBytes` of RAM, recording references in the first run. */
export async function compareAtSize(images: CompareImages, path: string, args: string[], ramBytes: number, opts: CompareOptions): Promise<SizeResult> {
  const runs: PolicyRun[] = [];
  let references: Uint32Array = new Uint32Array(0);
  for (const [i, policy] of opts.policies.entries()) {
    const recorder = i === 0 ? new ReferenceCollector() : undefined;
    const cmdline = programCommandLine(path, args, [...opts.kernelWords, `policy=${policy}`], true);
    const run = await runAtlas({ ...images, ramBytes, cmdline, recorder, diskLatencyNs: opts.diskLatencyNs, translate: opts.translate, maxInstructions: opts.maxInstructions });
    opts.onOutput?.(policy, ramBytes, run.output);
    if (run.result.reason !== 'exit') throw new Error(`${policy} at ${ramBytes / MiB} MiB: ${run.result.message ?? run.result.reason}`);
    if (recorder) references = recorder.references();
    runs.push(policyRun(policy, run.counters, run.result.exitStatus ?? 0, run.result.virtualNs / 1e6, run.hostMs));
  }
  return { ramBytes, runs, opt: optFor(runs, references, opts.frames) };
}

const cell = (n: number | undefined): string => (n === undefined ? '-' : n.toLocaleString('en-US'));

/** The table of one size: a row per policy, then OPT's, then what OPT was given. */
export function formatCompareTable(result: SizeResult): string[] {
  const header = ['policy', 'status', 'page faults', 'major', 'swap-ins', 'swap-outs', 'virtual ms', 'host ms'];
  const rows = result.runs.map((r) => [
    r.policy, String(r.exitStatus), cell(r.faults), cell(r.majorFaults), cell(r.swapIns), cell(r.swapOuts),
    r.virtualMs.toFixed(1), r.hostMs.toFixed(0),
  ]);
  const opt = result.opt;
  if (opt) rows.push(['OPT', '-', cell(opt.faults), '-', '-', '-', '-', opt.hostMs.toFixed(0)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  lines.push(optNote(result));
  return lines;
}

function optNote(result: SizeResult): string {
  const opt = result.opt;
  const first = result.runs[0]?.policy ?? '?';
  if (!opt) return 'OPT: not computed: the kernel exports no pages_resident_peak counter (give --frames N)';
  const from = opt.framesFrom === '--frames' ? 'from --frames' : 'the smallest pages_resident_peak of the runs';
  return (
    `OPT: ${opt.frames} frames (${from}); Belady's optimal replacement over the ${cell(opt.references)} references ` +
    `to ${cell(opt.pages)} pages recorded in the ${first} run, cold misses counted`
  );
}

/** The plot's points: each policy's faults (where the kernel counted them) and OPT's, per size. */
export function faultPoints(results: SizeResult[]): FaultPoint[] {
  const points: FaultPoint[] = [];
  for (const r of results) {
    const mib = r.ramBytes / MiB;
    for (const run of r.runs) if (run.faults !== undefined) points.push({ mib, policy: run.policy, faults: run.faults });
    if (r.opt) points.push({ mib, policy: 'OPT', faults: r.opt.faults });
  }
  return points;
}
