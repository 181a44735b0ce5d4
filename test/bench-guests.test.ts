// The machine workloads of `atlas386 bench` (test/guests/bench-disk.c and
// bench-timer.c, run by emulator/host/bench.ts): each exits with 0 and
// prints a checksum this test recomputes on its own, and two runs retire the
// same number of instructions. They run at full size (about a second each
// here); the `mib=N` / `ticks=N` command-line options are checked on small
// runs.
//
// Needs `npm run build` first (npm test does it through pretest), which
// builds build/guests/*.elf.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runMachineWorkload, type MachineWorkload } from '../emulator/host/bench.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const ramBytes = 32 * MiB;

function kernel(name: MachineWorkload): Uint8Array {
  const file = join(root, 'build', 'guests', `${name}.elf`);
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
