// The Atlas kernel's disk driver on four drives and its swap areas
// (kernel/ide.c, kernel/swap.c), booted on Atlas386 and, when it is
// installed, on QEMU, the reference: the serial output must be the same
// (but for the lines that depend on the memory map).
//
// `swaptest` on the command line makes swap_init run its boot-time test: 64
// slots from the allocator, written with one 256-sector ide_io command and
// 32 one-page swap_writes, read back with two 32-page cluster reads and
// compared; then the allocation policy (priority, striping) and the
// reference counts. `swap=` words that name no usable disk give a warning
// line and the machine runs on.
//
// Needs the build (`npm run build`: dist/, build/kernel/kernel.elf,
// disk-images/root.img). The QEMU half is skipped without qemu-system-i386
// unless ATLAS386_REQUIRE_TOOLS=1 (CI), where a missing QEMU fails.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasQemu, QEMU, root } from './guests/run.js';

const qemu = hasQemu();
const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';
const cli = join(root, 'dist', 'atlas386.mjs');
const kernel = join(root, 'build', 'kernel', 'kernel.elf');
const rootImage = join(root, 'disk-images', 'root.img');
const dir = mkdtempSync(join(tmpdir(), 'atlas386-swap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A zero-filled raw image of `mib` MiB (sparse), made fresh for each run. */
let images = 0;
function blankImage(mib: number): string {
  const path = join(dir, `disk${images++}.img`);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, mib << 20);
  closeSync(fd);
  return path;
}

type Disks = { hdb?: string; hdc?: string; hdd?: string };
interface Run { output: string; status: number | null; stderr: string }

function runAtlas(cmdline: string, disks: Disks): Run {
  const args = [cli, 'boot', '--kernel', kernel, '--mem', '8M', '--hda', rootImage, '--cmdline', cmdline];
  for (const [name, path] of Object.entries(disks)) args.push(`--${name}`, path);
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { output: r.stdout.toString('latin1'), status: r.status, stderr: r.stderr.toString('utf8') };
}

function runQemu(cmdline: string, disks: Disks): Promise<Run> {
  const serialFile = join(dir, `serial${images++}.out`);
  const args = ['-kernel', kernel, '-m', '8', '-icount', 'shift=3,sleep=off', '-serial', `file:${serialFile}`,
    '-display', 'none', '-monitor', 'none', '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-append', cmdline, '-drive', `file=${rootImage},format=raw,if=ide,index=0,snapshot=on`];
  const index = { hdb: 1, hdc: 2, hdd: 3 };
  for (const [name, path] of Object.entries(disks)) {
    args.push('-drive', `file=${path},format=raw,if=ide,index=${index[name as keyof Disks]},snapshot=on`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const status = code !== null && (code & 1) === 1 ? code >> 1 : null;
      resolve({ output: readFileSync(serialFile).toString('latin1'), status, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/*
 * The lines of the disks, swap areas and programs. Other boot lines may say
 * how much memory the kernel manages, which differs (QEMU's memory map
 * reserves the top 128 KiB of RAM).
 */
const ours = (s: string): string => s.split('\n').filter((l) => !/^(vm|memory): /.test(l)).join('\n');

/** Boots on Atlas386 (and QEMU when there is one: the same lines), returns Atlas386's run. */
async function bootBoth(cmdline: string, disks: () => Disks): Promise<Run> {
  const atlas = runAtlas(cmdline, disks());
  expect(atlas.stderr).toBe('');
  if (qemu || requireTools) {
    if (!qemu) throw new Error(`${QEMU} is not installed (needed with ATLAS386_REQUIRE_TOOLS=1)`);
    const ref = await runQemu(cmdline, disks());
    expect(ours(atlas.output)).toBe(ours(ref.output));
    expect(ref.status).toBe(atlas.status);
  }
  return atlas;
}

describe('the kernel\'s disks and swap areas, on Atlas386 and QEMU', () => {
  it('finds hdb and hdc, makes them swap areas, and swaptest passes (polled I/O at boot)', async () => {
    const run = await bootBoth('swap=hdb:10,hdc:10 swaptest init=/bin/hello', () => ({ hdb: blankImage(16), hdc: blankImage(16) }));
    expect(run.output).toContain('ide: hda, ');
    expect(run.output).toContain('\nide: hdb, 32768 sectors (16 MiB), 16 sectors a block\nide: hdc, 32768 sectors (16 MiB), 16 sectors a block\n');
    expect(run.output).toContain('\nswap: hdb, 4096 slots (16 MiB), priority 10\nswap: hdc, 4096 slots (16 MiB), priority 10\n');
    expect(run.output).toContain('\nswaptest: ok (64 pages through hdb, 0 slots in use after)\n');
    expect(run.output).toContain('\nhello, world\n');
    expect(run.status).toBe(0);
  }, 60_000);

  it('uses hdd alone, at its priority, with the disks before it missing', async () => {
    const run = await bootBoth('swap=hdc,hdd:7 swaptest init=/bin/hello', () => ({ hdd: blankImage(4) }));
    expect(run.output).toContain('\nswap: hdc: no such disk (or smaller than a page)\nswap: hdd, 1024 slots (4 MiB), priority 7\n');
    expect(run.output).toContain('\nswaptest: ok (64 pages through hdd, 0 slots in use after)\n');
    expect(run.status).toBe(0);
  }, 60_000);

  it('refuses hda, a bad disk name or priority, a missing disk, with a warning line each, and runs on', async () => {
    const run = await bootBoth('swap=hda,hdz:1,hdb:x,hdb:40000,hdd:3 init=/bin/hello', () => ({ hdb: blankImage(1) }));
    expect(run.output).toContain(
      '\nswap: hda refused: hda is the root filesystem\n' +
      "swap: bad area 'hdz:1' (want hdb, hdc or hdd, and :priority 0..32767)\n" +
      "swap: bad area 'hdb:x' (want hdb, hdc or hdd, and :priority 0..32767)\n" +
      "swap: bad area 'hdb:40000' (want hdb, hdc or hdd, and :priority 0..32767)\n" +
      'swap: hdd: no such disk (or smaller than a page)\n',
    );
    expect(run.output).not.toMatch(/swap: hd[a-d], \d+ slots/);
    expect(run.output).toContain('\nhello, world\n');
    expect(run.status).toBe(0);
  }, 60_000);

  it('runs without swap= as before: no swap line', () => {
    const run = runAtlas('init=/bin/hello', {});
    expect(run.output).not.toContain('swap:');
    expect(run.output).toContain('hello, world\n');
    expect(run.status).toBe(0);
  }, 60_000);
  // Swapping itself on the reference PC: QEMU's disks take no virtual time, so when the page daemon
  // runs differs and so do the counts on the atlas: lines; what memhog reads back must not.
  it('swaps on QEMU as on Atlas386: memhog over 1.5 times the RAM reads back every word', async () => {
    const cmdline = 'quiet swap=hdb:10 policy=lru init=/bin/memhog -- 12M random';
    const noCounts = (s: string) => s.split('\n').filter((l) => !l.startsWith('atlas: ')).join('\n');
    const atlas = runAtlas(cmdline, { hdb: blankImage(16) });
    expect(atlas.stderr).toBe('');
    expect(atlas.output).toContain('memhog: every word verified\n');
    expect(atlas.output).toMatch(/^atlas: this process: .* swap_ins \+[1-9]\d{2,} swap_outs \+[1-9]\d{2,}/m);
    expect(atlas.status).toBe(0);
    if (qemu || requireTools) {
      if (!qemu) throw new Error(`${QEMU} is not installed (needed with ATLAS386_REQUIRE_TOOLS=1)`);
      const ref = await runQemu(cmdline, { hdb: blankImage(16) });
      expect(noCounts(ref.output)).toBe(noCounts(atlas.output));
      expect(ref.output).toMatch(/^atlas: this process: .* swap_ins \+[1-9]\d{2,} swap_outs \+[1-9]\d{2,}/m);
      expect(ref.status).toBe(0);
    }
  }, 120_000);
});
