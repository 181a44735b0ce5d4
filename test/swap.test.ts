// Swapping (issue 6) on the Atlas kernel, booted on Atlas386 with 4 MiB of
// RAM and swap areas on fresh disk images: nothing lost under any policy,
// with readahead on and off, with one swap area and with three; the same
// run twice gives the same output and counters; swap priorities and
// striping; readahead; running out of swap kills one process with one line
// and the machine goes on. The checksums of the native runs of the same
// programs are the oracle.

import { describe, expect, it } from 'vitest';
import { atlas, counter, type Disks, host, native, osIndependent, type Run, skip, vmstatCounters } from './swap-run.js';

if (skip) console.warn(`swap tests skipped: ${host.why}`);

const POLICIES = ['fifo', 'clock', 'lru', 'random', 'ws'] as const;
/** One 16 MiB area; or two small ones of priority 10 (striped) and a larger one of priority 1 behind them. */
const AREAS: Record<'one' | 'three', { swap: string; disks: Disks }> = {
  one: { swap: 'swap=hdb:10', disks: { hdb: 16 } },
  three: { swap: 'swap=hdb:10,hdc:10,hdd:1', disks: { hdb: 2, hdc: 2, hdd: 16 } },
};
// 2.5 and 3 times the RAM (4 MiB, of which about 2.7 MiB are free for programs).
const MEMHOG = ['10M', 'random', '2'];
const MULTIPROG = ['4', '3M', '1'];

const oracle = new Map<string, Run>();
function nativeRun(name: string, args: string[]): Run {
  const key = [name, ...args].join(' ');
  if (!oracle.has(key)) oracle.set(key, native(name, args));
  return oracle.get(key)!;
}

/** The "atlas: ...:" counter line of a program (e.g. swap_outs +12), as numbers. */
function atlasDeltas(out: string, what: string): Map<string, number> {
  const line = out.split('\n').find((l) => l.startsWith(`atlas: ${what}:`)) ?? '';
  return new Map([...line.matchAll(/ (\w+) ([+-]\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

/** memhog's "atlas: swap areas: hdb 512 of 512 slots used, ..." line: [used, slots] by disk. */
function swapAreas(out: string): Map<string, [number, number]> {
  const line = out.split('\n').find((l) => l.startsWith('atlas: swap areas:')) ?? '';
  return new Map([...line.matchAll(/(hd[bcd]) (\d+) of (\d+) slots used/g)].map((m) => [m[1]!, [Number(m[2]), Number(m[3])]]));
}

describe.skipIf(skip)('swapping: nothing lost', () => {
  // Every policy with readahead on and off and with one and three swap areas, the four
  // combinations shared between the two programs (all 20 for both would take too long).
  const config = (policy: (typeof POLICIES)[number], readahead: 8 | 0, areas: 'one' | 'three') =>
    ({ policy, readahead, areas, name: `policy=${policy} readahead=${readahead}, ${areas} swap area${areas === 'one' ? '' : 's'}` });
  const memhog = POLICIES.flatMap((p) => [config(p, 8, 'one'), config(p, 0, 'three')]);
  const multiprog = POLICIES.flatMap((p) => [config(p, 8, 'three'), config(p, 0, 'one')]);

  for (const { policy, readahead, areas, name } of memhog) it.concurrent(`memhog ${MEMHOG.join(' ')}: ${name}`, async () => {
    const { swap, disks } = AREAS[areas];
    const r = await atlas({ cmdline: `${swap} policy=${policy} readahead=${readahead} init=/bin/memhog -- ${MEMHOG.join(' ')}`, disks });
    expect(r.stderr, r.out).toBe('');
    expect(osIndependent(r.out)).toBe(nativeRun('memhog', MEMHOG).out);
    expect(r.out).toContain('memhog: every word verified\n');
    expect(r.status, r.out).toBe(0);
    // It did swap, both ways, and the pages out there are in the areas the command line gave.
    const self = atlasDeltas(r.out, 'this process');
    expect(self.get('swap_outs') ?? 0, r.out).toBeGreaterThan(1000);
    expect(self.get('swap_ins') ?? 0, r.out).toBeGreaterThan(1000);
    const used = swapAreas(r.out);
    if (areas === 'one') {
      expect([...used.keys()], r.out).toEqual(['hdb']);
      expect(used.get('hdb')![0]).toBeGreaterThan(1000);
    } else {
      // About 1800 pages out: the two areas of priority 10 fill up, the rest goes to hdd. (At the end a
      // few of their slots may be free again: a page read back gives its slot up while swap is over half full.)
      expect([...used.keys()], r.out).toEqual(['hdb', 'hdc', 'hdd']);
      for (const d of ['hdb', 'hdc']) expect(used.get(d)![0], `${d}: ${r.out}`).toBeGreaterThan(used.get(d)![1] * 0.95);
      expect(used.get('hdd')![0], r.out).toBeGreaterThan(0);
    }
  });

  for (const { policy, readahead, areas, name } of multiprog) it.concurrent(`multiprog ${MULTIPROG.join(' ')}: ${name}`, async () => {
    const { swap, disks } = AREAS[areas];
    const r = await atlas({ cmdline: `${swap} policy=${policy} readahead=${readahead} init=/bin/multiprog -- ${MULTIPROG.join(' ')}`, disks });
    expect(r.stderr, r.out).toBe('');
    const expected = nativeRun('multiprog', MULTIPROG).out;
    expect(expected).toContain('multiprog: process 4: checksum 0x');
    expect(osIndependent(r.out)).toBe(expected);
    expect(r.status, r.out).toBe(0);
    expect(atlasDeltas(r.out, 'all processes').get('swap_outs') ?? 0, r.out).toBeGreaterThan(1000);
  });
});

describe.skipIf(skip)('swapping: the same run twice gives the same output and counters', () => {
  const SCRIPT = 'memhog 6M random 2\nmultiprog 3 1M 2\nvmstat\nexit 0\n';
  const COUNTERS = [
    'minor_faults', 'major_faults', 'zero_fill_faults', 'swap_ins', 'swap_outs', 'evictions', 'rescues', 'precleaned',
    'readahead_read', 'readahead_used', 'free_queue', 'kswapd_wakeups', 'oom_kills', 'pages_resident_peak',
    'ticks_busy', 'ticks_idle', 'ticks_iowait', 'swap_hdb_slots', 'swap_hdb_used', 'swap_hdc_slots', 'swap_hdc_used',
    'swap_hdd_slots', 'swap_hdd_used',
  ];
  const SELF = ['minor_faults', 'major_faults', 'zero_fill_faults', 'swap_ins', 'swap_outs', 'evictions', 'rescues'];

  for (const { cmdline, disks } of [
    { cmdline: 'swap=hdb:10 policy=random seed=7 readahead=8', disks: AREAS.one.disks },
    { cmdline: 'swap=hdb:10,hdc:10,hdd:1 policy=clock readahead=0 swappiness=30', disks: AREAS.three.disks },
    { cmdline: 'swap=hdb:10 policy=ws scope=local readahead=4', disks: AREAS.one.disks },
  ]) it.concurrent(cmdline, async () => {
    const boot = { cmdline: `${cmdline} init=/bin/sh`, disks, input: SCRIPT };
    const [a, b] = await Promise.all([atlas(boot), atlas(boot)]);
    expect(a.stderr, a.out).toBe('');
    expect(a.status, a.out).toBe(0);
    expect(b.out).toBe(a.out);
    expect(a.out).toContain('memhog: every word verified\n');
    expect(a.out).toContain('multiprog: 3 of 3 processes verified their memory\n');
    // vmstat prints every counter of the spec, and the run did swap.
    const c = vmstatCounters(a.out);
    for (const name of COUNTERS) counter(c, name, a.out);
    for (const name of SELF) expect(a.out, `self_${name}`).toMatch(new RegExp(`^ {4}${name} +\\d+$`, 'm'));
    expect(counter(c, 'swap_outs', a.out)).toBeGreaterThan(500);
    expect(counter(c, 'swap_ins', a.out)).toBeGreaterThan(500);
    expect(counter(c, 'evictions', a.out)).toBeGreaterThanOrEqual(counter(c, 'swap_outs', a.out) - counter(c, 'precleaned', a.out));
    expect(counter(c, 'readahead_used', a.out)).toBeLessThanOrEqual(counter(c, 'readahead_read', a.out));
    expect(counter(c, 'pages_resident_peak', a.out)).toBeLessThanOrEqual(counter(c, 'frames_total', a.out));
    expect(counter(c, 'oom_kills', a.out)).toBe(0);
    expect(counter(c, 'swap_hdb_slots', a.out)).toBeGreaterThan(0);
  });
});

describe.skipIf(skip)('reclaim without the page daemon', () => {
  // With no daemon keeping frames free (kswapd=0, and scope=local, which turns it off), memory fills up
  // with user pages, and the kernel's own allocations (a write(2)'s bounce page, /proc/vmstat's text)
  // must reclaim a page themselves rather than fail: no output may go missing.
  for (const words of ['kswapd=0 policy=fifo', 'scope=local policy=random']) it.concurrent(words, async () => {
    const r = await atlas({ cmdline: `swap=hdb:10 ${words} init=/bin/memhog -- 6M random 2`, disks: { hdb: 16 } });
    expect(r.status, r.out).toBe(0);
    expect(osIndependent(r.out)).toBe(nativeRun('memhog', ['6M', 'random', '2']).out);
    expect(atlasDeltas(r.out, 'this process').get('swap_outs') ?? 0, r.out).toBeGreaterThan(1000);
  });
});

describe.skipIf(skip)('swap areas and readahead', () => {
  it.concurrent('equal priorities are striped, a lower one waits until they are full', async () => {
    // 1024 pages, fewer of them out: they fit in hdb and hdc (1024 slots), so hdd is not touched.
    const r = await atlas({ cmdline: 'swap=hdb:10,hdc:10,hdd:1 policy=fifo init=/bin/memhog -- 4M random', disks: AREAS.three.disks });
    expect(r.status, r.out).toBe(0);
    const used = swapAreas(r.out);
    const [hdb, hdc, hdd] = ['hdb', 'hdc', 'hdd'].map((d) => used.get(d)?.[0] ?? -1);
    expect(hdd, r.out).toBe(0);
    expect(hdb! + hdc!, r.out).toBeGreaterThan(200);
    expect(Math.min(hdb!, hdc!), r.out).toBeGreaterThan((hdb! + hdc!) / 4);
    // Without hdb and hdc on the command line, only hdd is used, though the disks are there.
    const r2 = await atlas({ cmdline: 'swap=hdd:1 policy=fifo init=/bin/memhog -- 4M random', disks: AREAS.three.disks });
    expect(r2.status, r2.out).toBe(0);
    expect([...swapAreas(r2.out).keys()], r2.out).toEqual(['hdd']);
  });

  it.concurrent('readahead: pages read ahead on a sequential sweep, and used; none with readahead=0', async () => {
    const boot = (ra: number) => atlas({ cmdline: `swap=hdb:10 policy=fifo readahead=${ra} init=/bin/sh`, input: 'memhog 8M seq 2\nvmstat\nexit 0\n' });
    const [on, off] = await Promise.all([boot(8), boot(0)]);
    for (const r of [on, off]) {
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('memhog: every word verified\n');
    }
    const c = { on: vmstatCounters(on.out), off: vmstatCounters(off.out) };
    expect(counter(c.off, 'readahead_read', off.out)).toBe(0);
    expect(counter(c.on, 'readahead_read', on.out)).toBeGreaterThan(100);
    expect(counter(c.on, 'readahead_used', on.out)).toBeGreaterThan(counter(c.on, 'readahead_read', on.out) / 2);
    // Fewer faults wait for the disk: readahead brought the pages in before.
    const major = (r: Run) => atlasDeltas(r.out, 'this process').get('major_faults') ?? NaN;
    expect(major(on), on.out).toBeLessThan(major(off) * 0.75);
  });
});

describe.skipIf(skip)('out of swap', () => {
  it.concurrent('kills the process that cannot get memory, with one line; the machine goes on and swap is free again', async () => {
    // 4 MiB of RAM and 1 MiB of swap cannot hold 8 MiB.
    const r = await atlas({
      cmdline: 'swap=hdb:10 policy=clock init=/bin/sh',
      disks: { hdb: 1 },
      input: 'memhog 8M\nhello\nmemhog 3M random\nvmstat\nexit 0\n',
    });
    expect(r.stderr, r.out).toBe('');
    expect(r.out).not.toMatch(/panic/i);
    const kills = r.out.split('\n').filter((l) => /pid \d+ \(/.test(l));
    expect(kills, r.out).toHaveLength(1);
    expect(kills[0], r.out).toMatch(/^(\$ )?pid \d+ \(memhog\): .*out of (memory|swap).*$/);
    expect(r.out).toContain('sh: memhog: killed by signal 9\n');
    expect(r.out).toContain('hello, world\n');
    // 3 MiB (more than the RAM) needs the swap the killed process held.
    expect(r.out).toContain('memhog: 3072 KiB (768 pages), random order, 1 verify pass\n');
    expect(r.out).toContain('memhog: every word verified\n');
    expect(counter(vmstatCounters(r.out), 'oom_kills', r.out)).toBe(1);
    expect(r.status, r.out).toBe(0);
  });

  it.concurrent('a killed first program ends the machine with status 128 + 9, no panic', async () => {
    const r = await atlas({ cmdline: 'swap=hdb:10 init=/bin/memhog -- 8M', disks: { hdb: 1 } });
    expect(r.stderr, r.out).toBe('');
    expect(r.out).toMatch(/^pid 1 \(memhog\): .*out of (memory|swap)/m);
    expect(r.out).not.toMatch(/panic/i);
    expect(r.status, r.out).toBe(137);
  });
});
