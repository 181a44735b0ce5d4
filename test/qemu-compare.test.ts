// QEMU is the reference PC: each Multiboot test kernel of test/guests/ must
// print exactly the same bytes on its serial port under `atlas386 boot` as
// under qemu-system-i386, and end with the same status, and the disk kernel
// must leave the same disk image behind.
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
      expect(atlas.serial.toString('latin1')).toBe(reference.serial.toString('latin1'));
      expect(reference.status).toBe(0);
      expect(atlas.status).toBe(reference.status);
      if (qemuDisk && atlasDisk) expect(readFileSync(atlasDisk).equals(readFileSync(qemuDisk))).toBe(true);
    });
  }
});
