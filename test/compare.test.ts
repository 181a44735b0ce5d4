// Belady's OPT (emulator/host/opt.ts) against the classic string, a brute
// force search and FIFO/LRU simulations; `atlas386 compare`'s options, table
// and plot; and the command itself on the Atlas kernel.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optFaults } from '../emulator/host/opt.js';
import { defaultSizes, faultPoints, formatCompareTable, parsePolicies, parseSizes, type SizeResult } from '../emulator/host/compare.js';
import { renderFaultChart } from '../emulator/host/plot.js';
import { root } from './guests/run.js';

const MiB = 1024 * 1024;
const CLASSIC = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];

function fifoFaults(refs: number[], frames: number): number {
  const queue: number[] = [];
  let faults = 0;
  for (const p of refs) {
    if (queue.includes(p)) continue;
    faults++;
    if (queue.length === frames) queue.shift();
    queue.push(p);
  }
  return faults;
}

function lruFaults(refs: number[], frames: number): number {
  const stack: number[] = []; // most recent last
  let faults = 0;
  for (const p of refs) {
    const at = stack.indexOf(p);
    if (at >= 0) stack.splice(at, 1);
    else {
      faults++;
      if (stack.length === frames) stack.shift();
    }
    stack.push(p);
  }
  return faults;
}

/** OPT by trying every victim at every fault (small strings only). */
function bruteForceOpt(refs: number[], frames: number, from = 0, resident: number[] = []): number {
  for (let i = from; i < refs.length; i++) {
    const p = refs[i]!;
    if (resident.includes(p)) continue;
    if (resident.length < frames) {
      resident = [...resident, p];
      return 1 + bruteForceOpt(refs, frames, i + 1, resident);
    }
    return 1 + Math.min(...resident.map((victim) => bruteForceOpt(refs, frames, i + 1, [...resident.filter((r) => r !== victim), p])));
  }
  return 0;
}

/** A deterministic pseudo-random string over `pages` pages. */
function randomString(seed: number, length: number, pages: number): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out.push(x % pages);
  }
  return out;
}

describe("Belady's OPT", () => {
  it('faults 7 times with 3 frames and 6 with 4 on 1 2 3 4 1 2 5 1 2 3 4 5', () => {
    expect(optFaults(CLASSIC, 3)).toBe(7);
    expect(optFaults(CLASSIC, 4)).toBe(6);
    expect(fifoFaults(CLASSIC, 3)).toBe(9); // the simulators, against the textbook
    expect(fifoFaults(CLASSIC, 4)).toBe(10);
    expect(lruFaults(CLASSIC, 3)).toBe(10);
  });

  it('counts only cold misses when every page fits, and refuses 0 frames', () => {
    expect(optFaults(CLASSIC, 5)).toBe(5);
    expect(optFaults([], 3)).toBe(0);
    expect(() => optFaults(CLASSIC, 0)).toThrow(/at least one frame/);
  });

  it('equals a brute-force search on random strings', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const refs = randomString(seed, 14, 2 + (seed % 5));
      const frames = 1 + (seed % 4);
      expect(optFaults(refs, frames), `seed ${seed}`).toBe(bruteForceOpt(refs, frames));
    }
  });

  it('never faults more than FIFO or LRU', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const refs = randomString(seed * 7919, 2000, 10 + (seed % 40));
      for (const frames of [1, 3, 8, 20]) {
        const opt = optFaults(refs, frames);
        expect(opt).toBeLessThanOrEqual(fifoFaults(refs, frames));
        expect(opt).toBeLessThanOrEqual(lruFaults(refs, frames));
      }
    }
  });

  it('takes seconds at most for millions of references', () => {
    const refs = new Float64Array(4_000_000);
    let x = 12345;
    for (let i = 0; i < refs.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      refs[i] = (x >>> 8) % 5000;
    }
    const start = performance.now();
    const faults = optFaults(refs, 1000);
    expect(faults).toBeGreaterThan(5000);
    expect(performance.now() - start).toBeLessThan(5000);
  });
});

describe('compare: options, table and plot', () => {
  it('parses policies and sizes, and refuses bad ones', () => {
    expect(parsePolicies('fifo,lru')).toEqual(['fifo', 'lru']);
    expect(() => parsePolicies('fifo,mru')).toThrow(/unknown policy "mru"/);
    expect(() => parsePolicies('lru,lru')).toThrow(/twice/);
    expect(parseSizes('6M,3M,4096K')).toEqual([3 * MiB, 4 * MiB, 6 * MiB]);
    expect(() => parseSizes('3M,lots')).toThrow(/bad memory size "lots"/);
    expect(defaultSizes(4 * MiB)).toEqual([2, 3, 4, 6, 8].map((m) => m * MiB));
    expect(defaultSizes(1 * MiB)).toEqual([1, 2].map((m) => m * MiB));
  });

  const result: SizeResult = {
    ramBytes: 4 * MiB,
    runs: [
      { policy: 'fifo', exitStatus: 0, faults: 1200, majorFaults: 300, swapIns: 290, swapOuts: 400, residentPeak: 700, virtualMs: 812.5, hostMs: 1500 },
      { policy: 'lru', exitStatus: 0, faults: 1100, majorFaults: 250, swapIns: 240, swapOuts: 380, residentPeak: 690, virtualMs: 790.2, hostMs: 1400 },
    ],
    opt: { frames: 690, framesFrom: 'pages_resident_peak', faults: 950, references: 123456, pages: 3000, hostMs: 40 },
  };

  it('prints a row per policy, one for OPT, and what OPT was given', () => {
    const lines = formatCompareTable(result);
    expect(lines[0]).toMatch(/^policy\s+status\s+page faults\s+major\s+swap-ins\s+swap-outs\s+virtual ms\s+host ms$/);
    expect(lines[2]).toMatch(/^fifo\s+0\s+1,200\s+300\s+290\s+400\s+812\.5\s+1500$/);
    expect(lines[4]).toMatch(/^OPT\s+-\s+950\s/);
    expect(lines[5]).toMatch(/^OPT: 690 frames \(the smallest pages_resident_peak of the runs\).*123,456 references to 3,000 pages recorded in the fifo run/);
    const bare = formatCompareTable({ ...result, runs: result.runs.map((r) => ({ ...r, faults: undefined, residentPeak: undefined })), opt: null });
    expect(bare[2]).toMatch(/^fifo\s+0\s+-\s/);
    expect(bare.at(-1)).toMatch(/OPT: not computed/);
  });

  it('plots faults against memory size with labelled axes and a legend', async () => {
    const points = faultPoints([result, { ...result, ramBytes: 8 * MiB }]);
    expect(points).toContainEqual({ mib: 4, policy: 'OPT', faults: 950 });
    const svg = await renderFaultChart(points, 'memhog: page faults against memory size');
    expect(svg).toMatch(/^<svg/);
    for (const text of ['Memory (MiB)', 'Page faults', 'Policy', 'fifo', 'lru', 'OPT', 'memhog: page faults']) expect(svg).toContain(text);
  });
});

describe('atlas386 compare', () => {
  const cli = join(root, 'dist', 'atlas386.mjs');
  const compare = (...args: string[]) => spawnSync(process.execPath, [cli, 'compare', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it('runs the program under each policy and prints the table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atlas-compare-'));
    const plot = join(dir, 'faults.svg');
    const r = compare('--policies', 'fifo,lru', '--mem', '8M', '--frames', '3', '--plot', plot, '--sizes', '8M,16M', 'hello');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^\/bin\/hello on 8 MiB/);
    expect(lines.some((l) => /^fifo\s+0\s/.test(l))).toBe(true);
    expect(lines.some((l) => /^lru\s+0\s/.test(l))).toBe(true);
    expect(lines.some((l) => /^OPT\s+-\s+\d/.test(l))).toBe(true); // 3 frames from --frames
    expect(r.stdout).toMatch(/OPT: 3 frames \(from --frames\)/);
    expect(r.stdout).not.toContain('hello, world'); // program output only with --verbose
    expect(readFileSync(plot, 'utf8')).toMatch(/^<svg[\s\S]*Memory \(MiB\)/);
  }, 120_000);

  // A cyclic sweep bigger than memory: the textbook worst case of FIFO and LRU (every page faults on
  // every pass), which random replacement escapes; OPT, from the recorded string, beats them all.
  it('orders the policies as the literature does on a sweep bigger than memory, with OPT below them all', () => {
    const r = compare('--mem', '4M', 'thrash', '3M', '512K', '2');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const faults = new Map(
      r.stdout.split('\n').map((l) => /^(\w+)\s+(?:\d+|-)\s+([\d,]+)\s/.exec(l)).filter((m) => m !== null)
        .map((m) => [m[1]!, Number(m[2]!.replace(/,/g, ''))]),
    );
    expect([...faults.keys()], r.stdout).toEqual(['fifo', 'clock', 'lru', 'random', 'ws', 'OPT']);
    const opt = faults.get('OPT')!;
    for (const p of ['fifo', 'clock', 'lru', 'random', 'ws']) expect(opt, `${p}\n${r.stdout}`).toBeLessThanOrEqual(faults.get(p)!);
    expect(faults.get('random')!, r.stdout).toBeLessThan(faults.get('fifo')! / 2);
    expect(faults.get('random')!, r.stdout).toBeLessThan(faults.get('lru')! / 2);
  }, 180_000);

  it('refuses bad input with one line and status 1', () => {
    for (const args of [['--policies', 'fifo,mru', 'hello'], ['--sizes', '3M,x', '--plot', '/tmp/x.svg', 'hello'], [], ['nosuchprogram'], ['--kernel-args', 'policy=lru', 'hello']]) {
      const r = compare(...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^atlas386: /);
    }
  });
});
