// The programs that trigger swapping (issue 6), on the Atlas kernel booted on
// Atlas386 with 4 MiB of RAM and swap on hdb, and the properties of the
// paging literature they show: Belady's anomaly under FIFO with a
// process-local frame limit, the knee of thrash's fault curve, LRU no worse
// than FIFO on a looping pattern that fits, Denning's thrashing curve
// (multiprog), and the `npm start` demo swapping.

import { describe, expect, it } from 'vitest';
import { atlas, host, native, osIndependent, skip, vmstatCounters } from './swap-run.js';

if (skip) console.warn(`swap program tests skipped: ${host.why}`);

/** thrash's "atlas:" lines: the percentage of the pages that faulted per pass, for each step. */
function thrashCurve(out: string): number[] {
  return [...out.matchAll(/^atlas: +[\d.]+ major, [\d.]+ minor faults per pass \((\d+)% of the pages\)$/gm)].map((m) => Number(m[1]));
}

describe.skipIf(skip)('swapping programs on Atlas', () => {
  it.concurrent('belady: FIFO with a process-local limit of 3 and 4 frames takes 9 and 10 faults', async () => {
    const r = await atlas({ cmdline: 'swap=hdb:10 policy=fifo init=/bin/belady' });
    expect(r.stderr, r.out).toBe('');
    expect(r.status, r.out).toBe(0);
    expect(r.out.split('\n').filter((l) => l.startsWith('atlas: FIFO replay'))).toEqual([
      'atlas: FIFO replay with 3 frames: 9 faults',
      'atlas: FIFO replay with 4 frames: 10 faults',
    ]);
    expect(r.out).toContain("atlas: the replay with 4 frames faults more than with 3: Belady's anomaly\n");
    expect(r.out).not.toMatch(/^atlas: (mlockall|setrlimit)/m); // both system calls work
    expect(osIndependent(r.out)).toBe(native('belady', []).out);
  });

  it.concurrent('thrash: flat while the working set fits, every page faults past the knee', async () => {
    const r = await atlas({ cmdline: 'swap=hdb:10 policy=fifo init=/bin/thrash -- 4M 512K 2' });
    expect(r.status, r.out).toBe(0);
    expect(osIndependent(r.out)).toBe(native('thrash', ['4M', '512K', '2']).out);
    const curve = thrashCurve(r.out);
    expect(curve, r.out).toHaveLength(8);
    // 512 KiB to 2 MiB fit in the 2.7 MiB free; 4 MiB (1024 pages) cannot, and a cyclic sweep then faults on every page.
    expect(Math.max(...curve.slice(0, 4)), r.out).toBeLessThanOrEqual(2);
    expect(curve[7], r.out).toBeGreaterThanOrEqual(90);
  });

  it.concurrent('LRU takes no more faults than FIFO on a looping pattern that fits', async () => {
    const [lru, fifo] = await Promise.all(
      ['lru', 'fifo'].map((policy) => atlas({ cmdline: `swap=hdb:10 policy=${policy} init=/bin/thrash -- 2M 512K 8` })),
    );
    const total = (out: string) => {
      const m = /^atlas: faults in all the sweeps: (\d+) major, (\d+) minor$/m.exec(out);
      if (!m) throw new Error(`no total in:\n${out}`);
      return Number(m[1]) + Number(m[2]);
    };
    expect(lru!.status, lru!.out).toBe(0);
    expect(fifo!.status, fifo!.out).toBe(0);
    expect(total(lru!.out)).toBeLessThanOrEqual(total(fifo!.out));
  });

  it.concurrent('multiprog N = 1..6: CPU utilisation rises, then collapses as the processes thrash', async () => {
    // 768 KiB each and 100 ms of think time after each sweep: one process leaves the CPU idle while it
    // sleeps, three fit in the 2.7 MiB free and fill each other's gaps, six need twice the memory.
    const runs = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => atlas({ cmdline: `swap=hdb:10 policy=clock init=/bin/multiprog -- ${n} 768K 3 100` })),
    );
    const util = runs.map((r, i) => {
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain(`multiprog: ${i + 1} of ${i + 1} processes verified their memory\n`);
      const m = /^atlas: CPU utilisation (\d+)% \((\d+) ticks busy, (\d+) waiting for I\/O, (\d+) idle\)$/m.exec(r.out);
      if (!m) throw new Error(`no utilisation line:\n${r.out}`);
      return Number(m[1]);
    });
    console.log(`multiprog 1..6 x 768K, 100 ms think time: CPU utilisation ${util.join('% ')}%`);
    const peak = Math.max(...util);
    const top = util.indexOf(peak);
    expect(top, util.join(' ')).toBeGreaterThan(0);
    expect(top, util.join(' ')).toBeLessThan(4);
    for (let i = 0; i < top; i++) expect(util[i]!, util.join(' ')).toBeLessThan(util[i + 1]!);
    expect(util[5]!, util.join(' ')).toBeLessThan(peak / 2);
  });

  it.concurrent('the npm start demo swaps on 4 MiB of RAM and shows the counters', async () => {
    const r = await atlas({ cmdline: 'swap=hdb:10' }); // /bin/init runs the demo
    expect(r.stderr, r.out).toBe('');
    expect(r.out).toContain('$ memhog 6M random\nmemhog: 6144 KiB (1536 pages), random order, 1 verify pass\n');
    expect(r.out).toContain('memhog: every word verified\n');
    const c = vmstatCounters(r.out);
    expect(c.get('swap_outs') ?? 0, r.out).toBeGreaterThan(500);
    expect(c.get('swap_ins') ?? 0, r.out).toBeGreaterThan(0);
    expect(r.out).toContain('init: demo done, 8 of 8 programs ended as expected; powering off\n');
    expect(r.status, r.out).toBe(0);
    expect(r.ms, 'host time of the demo').toBeLessThan(30_000);
  });
});
