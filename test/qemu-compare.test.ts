// QEMU is the reference PC: each Multiboot test kernel of test/guests/ must
// print exactly the same bytes on its serial port under `atlas386 boot` as
// under qemu-system-i386, and end with the same status, and the disk kernel
// must leave the same disk image behind.
//
// Lines starting with `sdm: ` are left out of the comparison: they report
// what a kernel saw where the SDM allows more than one outcome (paging.c: a
// translation used after its PTE changed without INVLPG), and QEMU's TLB
// need not keep a stale translation where Atlas386's does. The last test
// checks those lines on Atlas386 on their own.
//
// Needs qemu-system-i386 and gcc -m32; skipped without QEMU unless
// ATLAS386_REQUIRE_TOOLS=1 (CI), where a missing QEMU fails.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGuests, guestElf, guests, hasQemu, makeDiskImage, root, runOnQemu, QEMU, type GuestName } from './guests/run.js';

const qemu = hasQemu();
const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';
const cli = join(root, 'dist', 'atlas386.mjs');

function runOnAtlas(name: GuestName, diskImage?: string): { serial: Buffer; status: number | null; stderr: string } {
  const args = [cli, 'boot', '--kernel', guestElf(name)];
  if (diskImage) args.push('--hda', diskImage, '--persist');
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return { serial: r.stdout, status: r.status, stderr: r.stderr.toString('utf8') };
}

/** The output without its `sdm: ` lines (outcomes the SDM leaves open, see above). */
function withoutSdmLines(output: string): string {
  return output
    .split('\n')
    .filter((line) => !line.startsWith('sdm: '))
    .join('\n');
}

describe.skipIf(!qemu && !requireTools)('Atlas386 against QEMU: the same serial output, byte for byte', () => {
  let dir: string;
  beforeAll(() => {
    if (!qemu) throw new Error(`${QEMU} is not installed (needed with ATLAS386_REQUIRE_TOOLS=1): install qemu-system-x86`);
    buildGuests();
    dir = mkdtempSync(join(tmpdir(), 'atlas386-compare-'));
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  for (const name of Object.keys(guests) as GuestName[]) {
    it(name, async () => {
      let qemuDisk: string | undefined;
      let atlasDisk: string | undefined;
      if (guests[name].disk) {
        qemuDisk = join(dir, `${name}-qemu.img`);
        atlasDisk = join(dir, `${name}-atlas.img`);
        makeDiskImage(qemuDisk);
        copyFileSync(qemuDisk, atlasDisk);
      }
      const reference = await runOnQemu(name, { diskImage: qemuDisk });
      const atlas = runOnAtlas(name, atlasDisk);
      expect(atlas.stderr).toBe('');
      expect(withoutSdmLines(atlas.serial.toString('latin1'))).toBe(withoutSdmLines(reference.serial.toString('latin1')));
      expect(reference.status).toBe(0);
      expect(atlas.status).toBe(reference.status);
      if (qemuDisk && atlasDisk) expect(readFileSync(atlasDisk).equals(readFileSync(qemuDisk))).toBe(true);
    });
  }
});

// Atlas386's TLB keeps a translation until INVLPG, MOV CR3 (non-global
// entries) or a paging-mode change removes it, as the SDM allows: paging.c's
// `sdm: ` lines must show the stale translation used (the old frame read).
// Needs no QEMU.
describe('Atlas386 paging kernel: the TLB keeps stale translations', () => {
  beforeAll(() => buildGuests());

  it('uses the old translation after a PTE change without INVLPG', () => {
    const atlas = runOnAtlas('paging');
    const sdm = atlas.serial
      .toString('latin1')
      .split('\n')
      .filter((line) => line.startsWith('sdm: '));
    expect(sdm.slice(0, 3), atlas.serial.toString('latin1') + atlas.stderr).toEqual([
      'sdm: PTE\'s frame changed without INVLPG: read=old',
      'sdm: PTE\'s P cleared without INVLPG: read=old',
      'sdm: global PTE\'s frame changed, then MOV CR3: read=old',
    ]);
    // A write through a cached read-only translation may fault (the fault then
    // flushes it) or see the new PTE: the SDM allows both.
    expect(sdm[3]).toMatch(/^sdm: PTE made writable without INVLPG: ring-3 write=(ok|fault)$/);
    expect(sdm.length).toBe(4);
  });
});
