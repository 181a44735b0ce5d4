// The Atlas kernel in a Machine, as the debugger's tests need it: 4 MiB, the
// root image as hda and a fresh 16 MiB swap disk as hdb, booted with a
// command line and not yet run, its console collected.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskImage, Machine } from '../emulator/host/machine.js';
import { BOOT_DEVICE_HDA, enterMultiboot, loadMultiboot } from '../emulator/host/multiboot.js';
import { root } from './swap-run.js';

export const kernelPath = join(root, 'build', 'kernel', 'kernel.elf');
export const imagePath = join(root, 'disk-images', 'root.img');

export interface AtlasMachine {
  machine: Machine;
  kernel: Uint8Array;
  /** The console output so far. */
  output: () => string;
}

export async function atlasMachine(cmdline: string, opts: { input?: Uint8Array } = {}): Promise<AtlasMachine> {
  let out = '';
  const machine = await Machine.create({
    ramBytes: 4 << 20,
    output: { write: (chunk: Uint8Array) => { out += Buffer.from(chunk).toString('latin1'); } },
    input: opts.input,
    disks: [new DiskImage(new Uint8Array(readFileSync(imagePath))), new DiskImage(new Uint8Array(16 << 20))],
  });
  const kernel = new Uint8Array(readFileSync(kernelPath));
  enterMultiboot(machine.cpu, loadMultiboot(kernel, machine.ram, { kernelName: 'kernel.elf', cmdline, bootDevice: BOOT_DEVICE_HDA }));
  return { machine, kernel, output: () => out };
}
