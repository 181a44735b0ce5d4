// Runs the Multiboot test kernels of test/guests/ on QEMU, the reference, and
// returns what they print on the serial port. test/qemu.test.ts uses it; a
// test running the same kernels on Atlas386 can compare its output with
// QEMU's byte for byte (the kernels print nothing timing-dependent).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const guestBuildDir = join(root, 'build', 'guests');
/** The QEMU binary (ATLAS386_QEMU overrides it, e.g. to check what happens without one). */
export const QEMU = process.env.ATLAS386_QEMU ?? 'qemu-system-i386';

/** The test kernels, and whether each needs the ATA test disk. */
export const guests = {
  exceptions: { disk: false },
  interrupts: { disk: false },
  serial: { disk: false },
  disk: { disk: true },
  paging: { disk: false },
} as const;
export type GuestName = keyof typeof guests;

export const DISK_SECTORS = 2048; // 1 MiB

/** Byte `i` of sector `lba` of the test image (disk.c's disk_pattern). */
export function diskPattern(lba: number, i: number): number {
  return i < 4 ? (lba >>> (8 * i)) & 0xff : (lba * 31 + i * 7 + (i >> 8)) & 0xff;
}

/** What disk.c writes at LBAs 100-102 (written_pattern). */
export function writtenPattern(lba: number, i: number): number {
  return ((lba * 17 + i * 3) ^ 0xa5) & 0xff;
}

/** Writes a fresh test image (2048 sectors of diskPattern) to `path`. */
export function makeDiskImage(path: string): void {
  const image = new Uint8Array(DISK_SECTORS * 512);
  for (let s = 0; s < DISK_SECTORS; s++) {
    for (let i = 0; i < 512; i++) image[s * 512 + i] = diskPattern(s, i);
  }
  writeFileSync(path, image);
}

export function hasQemu(): boolean {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

export function qemuVersion(): string {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] ?? '' : '';
}

/** Builds build/guests/*.elf (`make -s -C test/guests`); throws with make's output on failure. */
export function buildGuests(): void {
  const r = spawnSync('make', ['-s', '-C', join(root, 'test', 'guests')], { encoding: 'utf8' });
  if (r.error) throw new Error(`make: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`make -C test/guests failed:\n${r.stdout}${r.stderr}`);
}

export function guestElf(name: GuestName): string {
  return join(guestBuildDir, `${name}.elf`);
}

/**
 * QEMU's command line for a kernel (with the disk image for the ones that use it).
 *
 * `-icount shift=3,sleep=off` makes QEMU's virtual clock follow the instructions
 * executed (8 ns each; idle time in HLT is skipped) instead of the host's clock:
 * without it a loaded host delays QEMU's timer callbacks and then delivers the
 * late 8254 ticks in bursts, and the interrupts kernel's rate checks fail.
 */
export function qemuArgs(name: GuestName, diskImage?: string): string[] {
  const args = ['-kernel', guestElf(name), ...qemuMachineArgs()];
  if (diskImage !== undefined) args.push('-drive', `file=${diskImage},format=raw,if=ide,index=0`);
  return args;
}

/** qemuArgs without the kernel and the disk: 32 MiB, instruction-counted clock, COM1 on stdio, isa-debug-exit. */
function qemuMachineArgs(): string[] {
  return [
    '-m', '32',
    '-icount', 'shift=3,sleep=off',
    '-serial', 'stdio',
    '-display', 'none',
    '-monitor', 'none',
    '-no-reboot',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ];
}

export interface QemuRun {
  /** Everything the kernel wrote to COM1, byte for byte. */
  serial: Buffer;
  /** `serial` as latin1 text. */
  output: string;
  /** QEMU's exit code (null if it was killed). */
  exitCode: number | null;
  /**
   * The byte the kernel wrote to port 0xF4, decoded from QEMU's (value << 1) | 1;
   * null if QEMU ended another way (even exit code, signal, timeout).
   */
  status: number | null;
  timedOut: boolean;
  stderr: string;
}

export interface QemuOptions {
  timeoutMs?: number;
  /** Disk image for the `disk` kernel; by default a fresh one in a temporary directory, removed afterwards. */
  diskImage?: string;
}

/** Runs one (already built) kernel on QEMU and returns its serial output and exit status. */
export async function runOnQemu(name: GuestName, options: QemuOptions = {}): Promise<QemuRun> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let tempDir: string | undefined;
  let disk = options.diskImage;
  if (guests[name].disk && disk === undefined) {
    tempDir = mkdtempSync(join(tmpdir(), 'atlas386-qemu-'));
    disk = join(tempDir, 'disk.img');
    makeDiskImage(disk);
  }
  try {
    return await spawnQemu(qemuArgs(name, guests[name].disk ? disk : undefined), timeoutMs);
  } finally {
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  }
}

/**
 * Runs any kernel of build/guests/ (`bench-paging`, ...; no disk) on QEMU with `-append cmdline`, as
 * runOnQemu does the test kernels: for the bench kernels, whose checksums must match Atlas386's.
 */
export async function runKernelOnQemu(kernel: string, options: { cmdline?: string; timeoutMs?: number } = {}): Promise<QemuRun> {
  const args = ['-kernel', join(guestBuildDir, `${kernel}.elf`), ...qemuMachineArgs()];
  if (options.cmdline !== undefined) args.push('-append', options.cmdline);
  return spawnQemu(args, options.timeoutMs ?? 30_000);
}

function spawnQemu(args: string[], timeoutMs: number): Promise<QemuRun> {
  return new Promise<QemuRun>((resolve, reject) => {
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const serial = Buffer.concat(out);
      const status = !timedOut && code !== null && (code & 1) === 1 ? code >> 1 : null;
      resolve({
        serial,
        output: serial.toString('latin1'),
        exitCode: code,
        status,
        timedOut,
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** The serial output of a kernel under QEMU (builds nothing: call buildGuests() first). */
export async function qemuSerialOutput(name: GuestName, options: QemuOptions = {}): Promise<Buffer> {
  return (await runOnQemu(name, options)).serial;
}
