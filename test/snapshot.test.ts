// Machine snapshots (issue 8): the Atlas kernel on 4 MiB with a swap disk
// (hdb, swap=hdb:10) running memhog, which swaps. A snapshot restored and
// run forward gives the very same machine as the first time (registers,
// counts, virtual time, RAM, disks, trace, output), the output is not
// shown twice, and an older snapshot restored runs to the same end as an
// uninterrupted run. Needs the kernel and root image `npm run build` makes.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DiskImage, Machine, type MachineResult, type MachineSnapshot } from '../emulator/host/machine.js';
import { Collector } from '../emulator/host/output.js';
import { BOOT_DEVICE_HDA, enterMultiboot, loadMultiboot } from '../emulator/host/multiboot.js';
import { END_OF_INPUT, programCommandLine } from '../emulator/host/atlasrun.js';
import { Reg, Seg } from '../emulator/host/cpu.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const kernelPath = join(root, 'build', 'kernel', 'kernel.elf');
const imagePath = join(root, 'disk-images', 'root.img');
const have = existsSync(kernelPath) && existsSync(imagePath) && existsSync(join(root, 'dist', 'core.wasm'));
if (!have) console.warn('snapshot tests skipped: run npm run build first');

// Read once: every machine of this file boots the same bytes.
const kernel = have ? readFileSync(kernelPath) : new Uint8Array();
const rootImage = have ? readFileSync(imagePath) : new Uint8Array();
const SWAP_BYTES = 16 * 1024 * 1024;
const MEMHOG = ['6M', 'random', '1'];

interface Booted { machine: Machine; output: Collector; disks: DiskImage[] }

async function boot(): Promise<Booted> {
  const output = new Collector();
  const disks = [new DiskImage(new Uint8Array(rootImage)), new DiskImage(new Uint8Array(SWAP_BYTES))];
  const machine = await Machine.create({ ramBytes: 4 * 1024 * 1024, output, input: Uint8Array.of(END_OF_INPUT), disks });
  const cmdline = programCommandLine('/bin/memhog', MEMHOG, [], true);
  enterMultiboot(machine.cpu, loadMultiboot(kernel, machine.ram, { kernelName: 'kernel.elf', cmdline, bootDevice: BOOT_DEVICE_HDA }));
  return { machine, output, disks };
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

function diskHash(disk: DiskImage): string {
  const bytes = new Uint8Array(disk.sectors * 512);
  disk.read(0, disk.sectors, bytes, 0);
  return sha(bytes);
}

/** Everything a run could differ in. */
function state(b: Booted) {
  const { machine: m } = b;
  const cpu = m.cpu;
  m.flushOutput();
  return {
    eip: cpu.eip,
    eflags: cpu.eflags,
    regs: [0, 1, 2, 3, 4, 5, 6, 7].map((r) => cpu.getReg(r as Reg)),
    segments: [0, 1, 2, 3, 4, 5].map((s) => [cpu.segmentSelector(s as Seg), cpu.segmentBase(s as Seg)]),
    crs: ([0, 2, 3, 4] as const).map((n) => cpu.getCr(n)),
    cpl: cpu.cpl,
    halted: cpu.halted,
    instructions: cpu.instructionsRetired,
    cycles: m.cycles,
    virtualNs: m.clock.now(),
    nextEvent: m.clock.nextEventAt(),
    tlb: cpu.tlbCounters(),
    tlbEntries: sha(new TextEncoder().encode(JSON.stringify(cpu.tlbEntries()))),
    ram: sha(m.ram),
    disks: b.disks.map(diskHash),
    trace: m.traceSummary,
    output: b.output.text(),
  };
}

async function runFor(m: Machine, n: number): Promise<MachineResult> {
  return m.run({ maxInstructions: n });
}

describe.skipIf(!have)('machine snapshots', () => {
  // The uninterrupted run, the reference for the end of the program.
  let reference: { result: MachineResult; output: string } | undefined;
  async function uninterrupted() {
    if (!reference) {
      const b = await boot();
      const result = await b.machine.run();
      reference = { result, output: b.output.text() };
      expect(result.reason, result.message).toBe('exit');
      expect(reference.output).toContain('memhog: every word verified');
    }
    return reference;
  }

  it('restored and run forward, the machine is the same bit for bit, and no output is shown twice', async () => {
    const b = await boot();
    const m = b.machine;
    const N = 80_000_000; // memhog writes its pages (and says so at about 97M)
    const M = 30_000_000;
    expect((await runFor(m, N)).reason).toBe('max-instructions');
    const before = state(b);
    const snap = m.snapshot();
    const t0 = performance.now();
    const again = m.snapshot();
    const saveMs = performance.now() - t0;
    m.discardSnapshot(again);

    expect((await runFor(m, M)).reason).toBe('max-instructions');
    const first = state(b);
    // The stretch did what the test is about: interrupts, page faults, disk writes (journalled) and reads.
    expect(first.trace.interrupts - before.trace.interrupts).toBeGreaterThan(100);
    expect(first.tlb.pageFaults - before.tlb.pageFaults).toBeGreaterThan(100);
    expect(first.disks[1]).not.toBe(before.disks[1]);
    expect(m.snapshotJournalBytes).toBeGreaterThan(0);
    expect(first.output.length).toBeGreaterThan(before.output.length);

    const t1 = performance.now();
    m.restore(snap);
    const restoreMs = performance.now() - t1;
    expect(state(b)).toEqual({ ...before, output: first.output }); // the output already shown stays shown
    expect(m.snapshotJournalBytes).toBe(0);

    expect((await runFor(m, M)).reason).toBe('max-instructions');
    const second = state(b);
    expect(second).toEqual(first); // output included: nothing shown twice

    // Once more from the same snapshot, in two pieces: the same again.
    m.restore(snap);
    await runFor(m, M / 2 - 12_345);
    await runFor(m, M / 2 + 12_345);
    expect(state(b)).toEqual(first);

    console.log(`snapshot: ${(snap.bytes / 1024 / 1024).toFixed(2)} MiB (4 MiB RAM), save ${saveMs.toFixed(1)} ms, restore ${restoreMs.toFixed(1)} ms`);
  });

  it('several snapshots, an older one restored: the program ends as in an uninterrupted run', async () => {
    const ref = await uninterrupted();
    const b = await boot();
    const m = b.machine;
    const points = [5_000_000, 25_000_000, 45_000_000, 70_000_000];
    const snaps: MachineSnapshot[] = [];
    for (const p of points) {
      await runFor(m, p - m.cpu.instructionsRetired);
      snaps.push(m.snapshot());
    }
    await runFor(m, 20_000_000);
    const far = state(b);

    // Back to the second; the third and fourth are gone.
    m.restore(snaps[1]!);
    expect(m.cpu.instructionsRetired).toBe(points[1]);
    expect(() => m.restore(snaps[3]!)).toThrow(/no longer valid.*earlier snapshot \(at instruction 25000000\)/);
    expect(() => m.restore(snaps[2]!)).toThrow(/no longer valid/);

    // A different way forward: to the fourth point, a new snapshot, on to where the machine was: the same.
    await runFor(m, points[3]! - points[1]!);
    const fresh = m.snapshot();
    await runFor(m, 20_000_000);
    expect(state(b)).toEqual(far);

    // The first (older than everything since) and then to the end.
    m.restore(snaps[0]!);
    expect(() => m.restore(fresh)).toThrow(/no longer valid/);
    expect(() => m.restore(snaps[1]!)).toThrow(/no longer valid/);
    const result = await m.run();
    m.flushOutput();
    expect(result.reason, result.message).toBe('exit');
    expect(result.exitStatus).toBe(ref.result.exitStatus);
    expect(result.instructions + points[0]!).toBe(ref.result.instructions);
    expect(result.virtualNs).toBe(ref.result.virtualNs);
    expect(result.trace).toEqual(ref.result.trace);
    expect(b.output.text()).toBe(ref.output);
  });

  it('a restore, then runs of other lengths, stay deterministic; discarded snapshots merge their disk journals', async () => {
    const b = await boot();
    const m = b.machine;
    await runFor(m, 30_000_000);
    const s0 = m.snapshot();
    await runFor(m, 7_000_000);
    const s1 = m.snapshot();
    await runFor(m, 9_000_000);
    const s2 = m.snapshot();
    await runFor(m, 11_000_000);
    const end = state(b);
    // Dropping the middle one merges its journal into s0's: s0 still restores exactly.
    m.discardSnapshot(s1);
    expect(() => m.restore(s1)).toThrow(/discarded/);
    m.discardSnapshot(s2); // the newest: its journal joins s0's too

    m.restore(s0);
    await runFor(m, 13_000_000);
    const a = state(b);
    m.restore(s0);
    await runFor(m, 4_000_000);
    await runFor(m, 9_000_000);
    expect(state(b)).toEqual(a);
    m.restore(s0);
    await runFor(m, 27_000_000);
    expect(state(b)).toEqual(end);
  });
});
