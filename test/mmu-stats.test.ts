// `atlas386 boot --stats` and `--tlb`: the paging counters a run leaves, on
// the stride bench kernel (a loop over 1,024 pages, one access per page):
// a bigger data TLB must turn its misses into hits.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './guests/run.js';

const cli = join(root, 'dist', 'atlas386.mjs');
const kernel = join(root, 'build', 'guests', 'bench-stride.elf');

function stats(...extra: string[]): Record<string, number> {
  const r = spawnSync(process.execPath, [cli, 'boot', '--kernel', kernel, '--cmdline', 'steps=20', '--stats', ...extra], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const number = (re: RegExp): number => Number(re.exec(r.stderr)![1]!.replace(/,/g, ''));
  return {
    lookups: number(/TLB lookups ([\d,]+)/),
    hits: number(/hits ([\d,]+)/),
    misses: number(/misses ([\d,]+)/),
    walks: number(/page walks ([\d,]+)/),
    evictions: number(/evictions ([\d,]+)/),
    faults: number(/page faults ([\d,]+)/),
  };
}

describe('atlas386 boot --stats and --tlb', () => {
  it('counts lookups, hits and misses; a 1024-entry data TLB holds the whole stride', () => {
    const small = stats();
    const big = stats('--tlb', 'data-4k=1024/4');
    expect(small.lookups).toBe(small.hits + small.misses);
    expect(big.lookups).toBe(small.lookups); // the same accesses, whatever the TLB
    expect(small.misses).toBeGreaterThan(20 * 1024); // each step misses on (nearly) every page
    expect(big.misses).toBeLessThan(3 * 1024);       // only the first step misses
    expect(big.evictions).toBeLessThan(small.evictions / 10);
    expect(small.walks).toBeGreaterThanOrEqual(small.misses);
    expect(small.faults).toBe(0);
  });

  it('prints the geometry it ran with', () => {
    const r = spawnSync(process.execPath, [cli, 'boot', '--kernel', kernel, '--cmdline', 'steps=1', '--stats', '--tlb', 'code-4k=16/2,data-4m=4/4'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/TLB \(entries\/ways\): code-4k 16\/2, code-4m 2\/2, data-4k 64\/4, data-4m 4\/4/);
  });
});
