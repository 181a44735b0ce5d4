// What test/swap.test.ts and test/swap-programs.test.ts share: booting the
// Atlas kernel on Atlas386 with fresh swap images, running the same user
// programs natively (the oracle), and reading what they print.
//
// Needs gcc -m32 (the userland) and a host that runs i386 programs, as
// test/userland.test.ts does: without them the swap tests skip, unless
// ATLAS386_REQUIRE_TOOLS=1 (CI), where they fail.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'build', 'userland');
const cli = join(root, 'dist', 'atlas386.mjs');
const kernel = join(root, 'build', 'kernel', 'kernel.elf');
const image = join(root, 'disk-images', 'root.img');
export const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';

/** Builds the userland and the root image (quick when up to date), then runs hello natively. */
function probe(): { ok: boolean; why: string } {
  for (const dir of ['userland', 'disk-images']) {
    const make = spawnSync('make', ['-s', '-C', join(root, dir)], { encoding: 'utf8' });
    if (make.error || make.status !== 0) return { ok: false, why: `make -C ${dir} failed: ${make.error?.message ?? make.stderr.trim()}` };
  }
  const hello = spawnSync(join(bin, 'hello'), { encoding: 'utf8' });
  if (hello.error || hello.status !== 0) {
    return { ok: false, why: `this host cannot run i386 programs: ${hello.error?.message ?? `status ${hello.status}`}` };
  }
  return { ok: true, why: '' };
}

export const host = probe();
/** Skip (with a warning) when the tools are missing, unless they are required. */
export const skip = !host.ok && !requireTools;

function needHost(): void {
  if (!host.ok) throw new Error(`needed with ATLAS386_REQUIRE_TOOLS=1: ${host.why}`);
  for (const f of [cli, kernel, image]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
}

export interface Run { out: string; status: number | null; stderr: string; ms: number }

/** Runs build/userland/NAME natively, standard error with standard output (as on Atlas's console). */
export function native(name: string, args: string[]): Run {
  needHost();
  const t = Date.now();
  const r = spawnSync('/bin/sh', ['-c', '"$0" "$@" 2>&1', join(bin, name), ...args], { encoding: 'latin1', env: {}, timeout: 60_000 });
  if (r.error) throw r.error;
  return { out: r.stdout, status: r.status, stderr: '', ms: Date.now() - t };
}

/** Swap disks: a size in MiB for each of hdb, hdc, hdd that has one. */
export type Disks = Partial<Record<'hdb' | 'hdc' | 'hdd', number>>;

export interface Boot {
  cmdline: string; // after "quiet"
  mem?: string; // default 4M
  disks?: Disks; // fresh images of zeros, default { hdb: 16 }
  input?: string; // console input (e.g. commands for init=/bin/sh)
}

// Atlas runs at most this many at once from one test file (vitest runs the files in parallel too).
const POOL = 2;
let running = 0;
const waiting: (() => void)[] = [];

/** Boots the Atlas kernel with fresh swap images in a temporary directory, removed afterwards. */
export async function atlas(boot: Boot): Promise<Run> {
  needHost();
  if (running >= POOL) await new Promise<void>((go) => waiting.push(go)); // a slot handed over
  else running++;
  const dir = mkdtempSync(join(tmpdir(), 'atlas-swap-'));
  try {
    const args = [cli, 'boot', '--kernel', kernel, '--hda', image, '--mem', boot.mem ?? '4M', '--cmdline', `quiet ${boot.cmdline}`];
    for (const [disk, mib] of Object.entries(boot.disks ?? { hdb: 16 })) {
      const file = join(dir, `${disk}.img`);
      writeFileSync(file, '');
      truncateSync(file, mib * 1024 * 1024);
      args.push(`--${disk}`, file);
    }
    const t = Date.now();
    return await new Promise<Run>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdin.end(boot.input ?? '');
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', (status) => {
        clearTimeout(timer);
        const run = { out: Buffer.concat(out).toString('latin1'), status, stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - t };
        resolve(run);
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/** What must not depend on the OS: the output without "atlas:" lines and the kernel's lines about killed processes. */
export function osIndependent(out: string): string {
  return out.split('\n').filter((l) => !l.startsWith('atlas:') && !/^pid \d+ \(\w+\): /.test(l)).join('\n');
}

/** The counters a vmstat run printed (whole machine), by name. */
export function vmstatCounters(out: string): Map<string, number> {
  const m = new Map<string, number>();
  const start = out.indexOf('vmstat: Atlas VM counters\n  whole machine:\n');
  if (start < 0) return m;
  for (const line of out.slice(start).split('\n').slice(2)) {
    const x = /^ {4}(\w+) +(\d+)$/.exec(line);
    if (!x) break;
    m.set(x[1]!, Number(x[2]));
  }
  return m;
}

/** A named counter, failing the test (with the output) when the kernel did not give it. */
export function counter(counters: Map<string, number>, name: string, out: string): number {
  const v = counters.get(name);
  if (v === undefined) throw new Error(`no counter ${name} in /proc/vmstat; the run printed:\n${out}`);
  return v;
}
