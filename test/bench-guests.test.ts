// The machine workloads of `atlas386 bench` (test/guests/bench-disk.c and
// bench-timer.c, run by emulator/host/bench.ts): each exits with 0 and
// prints a checksum this test recomputes on its own, and two runs retire the
// same number of instructions. They run at full size (about a second each
// here); the `mib=N` / `ticks=N` command-line options are checked on small
// runs.
//
// The paging workloads (bench-paging.c with paging=0 and paging=1,
// bench-stride.c, bench-cr3.c, bench-pagefault.c) run at a small size only
// (a command-line option): the checksum is recomputed here, the interpreter
// alone gives the same run, and QEMU (the reference: paging, TLB flushes and
// #PF done right) prints the same line. A core that ignores CR0.PG runs them
// identity-mapped with the same checksums, prints a `note: paging is not in
// effect` line and takes no page faults; the comparison with QEMU allows that
// (and only that) until the MMU is in. QEMU's runs skip without
// qemu-system-i386, and fail then with ATLAS386_REQUIRE_TOOLS=1.
//
// Needs `npm run build` first (npm test does it through pretest), which
// builds build/guests/*.elf.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  MACHINE_WORKLOAD_SPECS,
  machineWorkloadKernel,
  runAtlasBoot,
  runAtlasExec,
  runMachineWorkload,
  type MachineWorkload,
  type MachineWorkloadRun,
} from '../emulator/host/bench.js';
import { hasQemu, runKernelOnQemu } from './guests/run.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const ramBytes = 32 * MiB;

function kernel(name: MachineWorkload): Uint8Array {
  const file = join(root, ...machineWorkloadKernel(name));
  if (!existsSync(file)) throw new Error(`${file} not found: run \`npm run build\` first`);
  return readFileSync(file);
}

const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/** bench-disk.c: the hash of the first `bytes` bytes of the data pattern (word k = pattern(k)). */
function diskChecksum(bytes: number): string {
  let h = 0x811c9dc5;
  for (let k = 0; k < bytes / 4; k++) {
    const x = Math.imul(k, 0x9e3779b1) >>> 0;
    h = Math.imul(h ^ (x ^ (x >>> 15)), 0x01000193);
  }
  return hex(h);
}

/** bench-timer.c: the checksum of `steps` steps of its main loop's work. */
function timerChecksum(steps: number): string {
  let x = 0x12345678;
  let y = 0x9e3779b9;
  let acc = 0;
  for (let s = 0; s < steps; s++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    y = (Math.imul(y, 1664525) + 1013904223) >>> 0;
    acc = (acc + ((x ^ (y >>> 7)) >>> 0)) >>> 0;
    if (x & 0x80) acc = ((acc << 3) | (acc >>> 29)) >>> 0;
    if ((s & 15) === 0) acc = (acc ^ Math.floor(y / ((x >>> 20) | 1))) >>> 0;
  }
  return hex(acc ^ x ^ y);
}

describe('bench-disk: 32 MiB written and read back with ATA PIO', () => {
  it('prints the checksum of the data pattern, exits with 0; two runs retire the same instructions', async () => {
    const elf = kernel('bench-disk');
    const a = await runMachineWorkload('bench-disk', elf, { ramBytes });
    expect(a.result).toMatchObject({ reason: 'exit', exitStatus: 0 });
    expect(a.output).toBe(`bench-disk: checksum ${diskChecksum(32 * MiB)} written ${32 * MiB} read ${32 * MiB}\n`);
    expect(a.result.trace.interrupts).toBe(0); // polled, IRQ14 masked
    expect(a.rateUnit).toBe('MB/s');
    expect(a.rate).toBeGreaterThan(0);
    const b = await runMachineWorkload('bench-disk', elf, { ramBytes });
    expect(b.instructions).toBe(a.instructions);
    expect(b.result.trace).toEqual(a.result.trace);
  });

  it('mib=N sets the size; the interpreter alone gives the same run', async () => {
    const elf = kernel('bench-disk');
    const a = await runMachineWorkload('bench-disk', elf, { ramBytes, cmdline: 'mib=1' });
    expect(a.output).toBe(`bench-disk: checksum ${diskChecksum(MiB)} written ${MiB} read ${MiB}\n`);
    const b = await runMachineWorkload('bench-disk', elf, { ramBytes, cmdline: 'mib=1', translate: false });
    expect(b.instructions).toBe(a.instructions);
    expect(b.output).toBe(a.output);
    await expect(runMachineWorkload('bench-disk', elf, { ramBytes, cmdline: 'mib=40' })).rejects.toThrow(
      /exited with status 1 .*the disk has 67584 sectors, 81920 needed/,
    );
  });
});

describe('bench-timer: 8254 at 10 kHz, IRQ0 during integer work', () => {
  it('takes exactly 20000 ticks, prints the checksum of its work, exits with 0; two runs retire the same instructions', async () => {
    const elf = kernel('bench-timer');
    const a = await runMachineWorkload('bench-timer', elf, { ramBytes });
    expect(a.result).toMatchObject({ reason: 'exit', exitStatus: 0 });
    const m = /^bench-timer: checksum ([0-9a-f]{8}) ticks (\d+) steps (\d+)\n$/.exec(a.output);
    expect(m).not.toBeNull();
    const [, checksum, ticks, steps] = m!;
    expect(Number(ticks)).toBe(20000);
    expect(a.result.trace.interrupts).toBe(20000);
    expect(checksum).toBe(timerChecksum(Number(steps)));
    // 20000 periods of 119 PIT clocks (1193182 Hz, 99.73 us each): 1.995 s of virtual time, then the
    // output line at 115200 baud (about 5 ms).
    expect(a.result.virtualNs).toBeGreaterThan(1_994_000_000);
    expect(a.result.virtualNs).toBeLessThan(2_010_000_000);
    expect(a.rateUnit).toBe('interrupts/s');
    const b = await runMachineWorkload('bench-timer', elf, { ramBytes });
    expect(b.instructions).toBe(a.instructions);
    expect(b.result.trace).toEqual(a.result.trace);
    expect(b.output).toBe(a.output);
  });

  it('ticks=N sets the count; the interpreter alone gives the same run', async () => {
    const elf = kernel('bench-timer');
    const a = await runMachineWorkload('bench-timer', elf, { ramBytes, cmdline: 'ticks=500' });
    const [, checksum, ticks, steps] = /checksum ([0-9a-f]{8}) ticks (\d+) steps (\d+)/.exec(a.output)!;
    expect(Number(ticks)).toBe(500);
    expect(a.result.trace.interrupts).toBe(500);
    expect(checksum).toBe(timerChecksum(Number(steps)));
    const b = await runMachineWorkload('bench-timer', elf, { ramBytes, cmdline: 'ticks=500', translate: false });
    expect(b.instructions).toBe(a.instructions);
    expect(b.result.trace).toEqual(a.result.trace);
  });
});

/** bench-paging.c: the checksum after `passes` passes (the same with paging on or off). */
function pagingChecksum(passes: number): string {
  const words = 8192;
  const buf = new Uint32Array(words);
  for (let k = 0; k < words; k++) buf[k] = Math.imul(k, 0x9e3779b1);
  let acc = 0x811c9dc5;
  let j = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < words; i++) {
      const v = buf[i]!;
      const w = buf[j]!;
      acc = (Math.imul(acc ^ v, 0x01000193) + w) >>> 0;
      buf[j] = w + v;
      j = (j + 1025) & (words - 1);
    }
  }
  return hex(acc);
}

/** bench-stride.c: the checksum after `steps` rounds over the 1024 pages. */
function strideChecksum(steps: number): string {
  const area = new Uint32Array(1024 * 1024);
  let acc = 1;
  for (let s = 0; s < steps; s++) {
    const wo = Math.imul(s, 17) & 1023;
    let p = 0;
    for (let k = 0; k < 1024; k++) {
      const idx = p * 1024 + wo;
      const v = area[idx]!;
      acc = (acc + ((v ^ p) >>> 0)) >>> 0;
      acc = ((acc << 1) | (acc >>> 31)) >>> 0;
      area[idx] = v + acc;
      p = (p + 389) & 1023;
    }
  }
  return hex(acc);
}

/** bench-cr3.c: the checksum after `loads` chunks of work (one CR3 load each). */
function cr3Checksum(loads: number): string {
  const words = 4096;
  const chunk = 50;
  const buf = new Uint32Array(words);
  for (let k = 0; k < words; k++) buf[k] = Math.imul(k, 0x9e3779b1);
  let acc = 0x811c9dc5;
  for (let n = 0; n < loads; n++) {
    let i = Math.imul(n, chunk) & (words - 1);
    for (let k = 0; k < chunk; k++) {
      const v = buf[i]!;
      acc = (Math.imul(acc ^ v, 0x01000193) + n) >>> 0;
      buf[i] = v + (acc >>> 11);
      i = (i + 33) & (words - 1);
    }
  }
  return hex(acc);
}

/** bench-pagefault.c: the checksum after `faults` rounds of its loop. */
function pagefaultChecksum(faults: number): string {
  let h = 0x9e3779b9;
  let word = 0;
  for (let c = faults; c >= 1; c--) {
    h = (h + word + c) >>> 0;
    h = ((h << 5) | (h >>> 27)) >>> 0;
    word = (word + h) >>> 0;
  }
  return hex(h);
}

const qemu = hasQemu();
const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';
const NOT_IN_EFFECT = /^[^\n]*: note: paging is not in effect [^\n]*\n/m;

interface PagingCase {
  name: MachineWorkload;
  /** The size option, small: a few million instructions at most. */
  cmdline: string;
  /** The line the kernel prints (with paging in effect). */
  line: string;
}

const pagingCases: PagingCase[] = [
  { name: 'bench-paging-off', cmdline: 'passes=20', line: `bench-paging: checksum ${pagingChecksum(20)} paging 0 passes 20` },
  { name: 'bench-paging-on', cmdline: 'passes=20', line: `bench-paging: checksum ${pagingChecksum(20)} paging 1 passes 20` },
  { name: 'bench-stride', cmdline: 'steps=40', line: `bench-stride: checksum ${strideChecksum(40)} pages 1024 steps 40` },
  { name: 'bench-cr3', cmdline: 'loads=2000', line: `bench-cr3: checksum ${cr3Checksum(2000)} cr3 loads 2000` },
  { name: 'bench-pagefault', cmdline: 'faults=5000', line: `bench-pagefault: checksum ${pagefaultChecksum(5000)} faults 5000` },
];

/** What Atlas386 prints for `line`: the same, or (a core ignoring CR0.PG) the note first and no page faults. */
function expectPagingOutput(run: MachineWorkloadRun, line: string): void {
  if (run.pagingInEffect === false) {
    expect(run.output).toMatch(NOT_IN_EFFECT);
    expect(run.output.replace(NOT_IN_EFFECT, '')).toBe(`${line.replace(/ faults \d+$/, ' faults 0')}\n`);
  } else {
    expect(run.output).toBe(`${line}\n`);
  }
}

describe('paging workloads (small sizes): bench-paging off and on, bench-stride, bench-cr3, bench-pagefault', () => {
  for (const { name, cmdline, line } of pagingCases) {
    it(`${name} ${cmdline}: prints the checksum of its work; the interpreter alone gives the same run`, async () => {
      const elf = kernel(name);
      const a = await runMachineWorkload(name, elf, { ramBytes, cmdline });
      expect(a.result).toMatchObject({ reason: 'exit', exitStatus: 0 });
      expectPagingOutput(a, line);
      expect(a.result.trace.interrupts).toBe(0); // #PF is an exception, not an interrupt
      if (name === 'bench-paging-off') expect(a.pagingInEffect).toBeUndefined();
      if (name === 'bench-pagefault') {
        expect(a.rateUnit).toBe('faults/s');
        expect(a.faults).toBe(a.pagingInEffect ? 5000 : 0);
      } else {
        expect(a.rateUnit).toBe('MIPS');
      }
      if (name === 'bench-cr3') expect(a.cr3Loads).toBe(2000);
      const b = await runMachineWorkload(name, elf, { ramBytes, cmdline, translate: false });
      expect(b.instructions).toBe(a.instructions);
      expect(b.output).toBe(a.output);
    });
  }

  it('bench-paging retires about the same instructions with paging on as off (the set-up aside)', async () => {
    const off = await runMachineWorkload('bench-paging-off', kernel('bench-paging-off'), { ramBytes, cmdline: 'passes=20' });
    const on = await runMachineWorkload('bench-paging-on', kernel('bench-paging-on'), { ramBytes, cmdline: 'passes=20' });
    expect(on.checksum).toBe(off.checksum);
    expect(on.instructions).toBeGreaterThan(off.instructions);
    expect(on.instructions - off.instructions).toBeLessThan(100_000); // page tables for 16 MiB and the probe
  });

  describe.skipIf(!qemu && !requireTools)('on QEMU, the reference', () => {
    for (const { name, cmdline, line } of pagingCases) {
      it(`${name} ${cmdline}: QEMU prints the same line`, async () => {
        const spec = MACHINE_WORKLOAD_SPECS[name];
        const q = await runKernelOnQemu(spec.kernel, { cmdline: [spec.cmdline, cmdline].filter((s) => s).join(' ') });
        expect(q.timedOut).toBe(false);
        expect(q.status).toBe(0);
        expect(q.output).toBe(`${line}\n`);
      });
    }
  });
});

describe('the Atlas kernel workloads of the bench', () => {
  const images = () => ({
    kernel: new Uint8Array(readFileSync(join(root, 'build', 'kernel', 'kernel.elf'))),
    rootImage: new Uint8Array(readFileSync(join(root, 'disk-images', 'root.img'))),
  });

  it('boot to the first user instruction: found once, then the same count every run', async () => {
    const first = await runAtlasBoot(images(), 32 << 20);
    expect(first.instructions).toBeGreaterThan(100_000);
    expect(first.virtualMs).toBeGreaterThan(0);
    const again = await runAtlasBoot(images(), 32 << 20, false, first.instructions);
    expect(again.instructions).toBe(first.instructions);
    await expect(runAtlasBoot(images(), 32 << 20, true, first.instructions - 1)).rejects.toThrow(/not deterministic/);
  });

  it('exec-and-exit round trips: the instructions of one round trip, the same translated or not', async () => {
    // 40 round trips between the two timed runs: tens of milliseconds, well above the host's jitter.
    const translated = await runAtlasExec(images(), 32 << 20, true, 40);
    const interpreted = await runAtlasExec(images(), 32 << 20, false, 40);
    expect(translated.instructionsPerRound).toBeGreaterThan(10_000);
    expect(interpreted.instructionsPerRound).toBe(translated.instructionsPerRound);
    expect(translated.roundTripsPerSecond).toBeGreaterThan(0);
  });
});
