// The debugger's kernel-level views (issue 8, emulator/host/kernelview.ts),
// on the Atlas kernel booted on Atlas386 with 4 MiB and a swap disk, stopped
// in the middle of programs that demand-page, swap and fork. What the views
// read from the kernel's structures is checked against independent facts:
// the emulator's own page walker (Cpu.walk) in the processes' page tables,
// the kernel's counters (kcounters), and what the programs do.
//
// Skips like test/swap-run.ts (no gcc -m32 or no way to run i386 programs
// here), unless ATLAS386_REQUIRE_TOOLS=1.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { counter, readKernelCounters } from '../emulator/host/kstats.js';
import {
  formatFaults, formatFrames, formatPt, formatProcesses, formatSwap, KernelView, KernelViewError,
  type AddressSpace, type FaultRecord, type KernelProcess,
} from '../emulator/host/kernelview.js';
import { host, root, skip } from './swap-run.js';
import { atlasMachine, imagePath, kernelPath } from './atlas-machine.js';

if (skip) console.warn(`kernel view tests skipped: ${host.why}`);

const KERNBASE = 0xc0000000;
const CHUNK = 2_000_000;

function need(): void {
  if (!host.ok) throw new Error(`needed with ATLAS386_REQUIRE_TOOLS=1: ${host.why}`);
  for (const f of [kernelPath, imagePath]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
}

/** The Atlas kernel on 4 MiB with a fresh 16 MiB swap disk as hdb, run in chunks so that it can be looked at between them. */
async function boot(cmdline: string) {
  const { machine, kernel, output } = await atlasMachine(`quiet ${cmdline}`);
  const view = new KernelView(kernel, machine.ram);
  /** Runs until `done` holds (checked every CHUNK instructions); fails if the machine stops first. */
  const until = async (what: string, done: () => boolean, maxChunks = 2000) => {
    for (let i = 0; i < maxChunks && !done(); i++) {
      const r = await machine.run({ maxInstructions: CHUNK });
      if (r.reason !== 'max-instructions') throw new Error(`the machine stopped (${r.reason}: ${r.message ?? ''}) before ${what}:\n${output()}`);
    }
    if (!done()) throw new Error(`no ${what} after ${maxChunks * CHUNK} instructions:\n${output()}`);
  };
  return { machine, kernel, view, until, out: output };
}

type Booted = Awaited<ReturnType<typeof boot>>;

/** The present user pages of an address space, by the emulator's walker (not the kernel's structures): va -> frame. */
function walkResident(b: Booted, cr3: number): Map<number, number> {
  const pages = new Map<number, number>();
  for (let big = 0; big < KERNBASE; big += 0x400000) {
    if (!(b.machine.cpu.walk(big, { directory: cr3, user: true }).pde & 1)) continue;
    for (let va = big; va < big + 0x400000; va += 4096) {
      const w = b.machine.cpu.walk(va, { directory: cr3, user: true });
      if (w.physical !== undefined) pages.set(va, w.physical >>> 12);
    }
  }
  return pages;
}

function faultsOf(faults: FaultRecord[], pid: number) { return faults.filter((f) => f.pid === pid); }

function inRegion(as: AddressSpace, addr: number): boolean {
  return as.regions.some((r) => addr >= r.start && addr < r.end);
}

/** Checks that hold at any stop: the fault history's order, the frames against the walker, swap against the counters. */
function checkConsistent(b: Booted, procs: KernelProcess[]) {
  const faults = b.view.faultHistory();
  expect(faults.length).toBeGreaterThan(0);
  expect(faults.length).toBeLessThanOrEqual(64);
  for (let i = 1; i < faults.length; i++) expect(faults[i]!.seq).toBeGreaterThan(faults[i - 1]!.seq);
  for (const f of faults) {
    expect(f.outcome).not.toBe('none');
    expect(f.addr).toBeLessThan(KERNBASE);
    if (!f.outcome.endsWith('-kill') && f.outcome !== 'io-error') expect(f.frame, formatFaults([f])).toBeGreaterThan(0);
    if (f.outcome === 'swap-in') expect(f.swapArea).toBe('hdb');
  }

  // Frames owned (mapped) by a pid add up to its resident pages, as the walker sees them, frame for frame.
  const frames = b.view.frames();
  for (const p of procs.filter((x) => x.cr3 !== null)) {
    const walked = walkResident(b, p.cr3!);
    const mine = frames.filter((f) => f.mappings.some((m) => m.pid === p.pid));
    expect(mine.length, `pid ${p.pid} (${p.name})`).toBe(walked.size);
    for (const f of mine) for (const m of f.mappings.filter((x) => x.pid === p.pid)) expect(walked.get(m.va), `pid ${p.pid} va 0x${m.va.toString(16)}`).toBe(f.frame);
    expect(b.view.addressSpace({ pid: p.pid }).resident).toBe(walked.size);
  }

  // Swap slots in use: the map, the area's count and the kernel's counters agree.
  const counters = readKernelCounters(b.kernel, b.machine.ram);
  for (const a of b.view.swapAreas()) {
    let inUse = 0;
    for (const r of a.refs) if (r) inUse++;
    expect(inUse, a.drive).toBe(a.used);
    expect(a.used, a.drive).toBe(counter(counters, `swap_${a.drive}_used`));
    expect(a.slots, a.drive).toBe(counter(counters, `swap_${a.drive}_slots`));
  }
  return { faults, frames };
}

/** Every page `pt` reports agrees with the walker: resident ones map its frames, swapped ones are not present and hold a slot in use. */
function checkPt(b: Booted, as: AddressSpace) {
  const areas = new Map(b.view.swapAreas().map((a) => [a.drive, a]));
  let swapped = 0;
  for (const r of as.ranges) {
    for (let va = r.start, i = 0; va < r.end; va += 4096, i++) {
      const w = b.machine.cpu.walk(va, { directory: as.cr3, user: true });
      if (r.state === 'resident') {
        expect(w.physical! >>> 12, `resident page 0x${va.toString(16)}`).toBe(r.frames[i]);
        expect(((w.pte! & 2) !== 0)).toBe(r.writable);
      } else {
        expect(w.physical, `page 0x${va.toString(16)} reported ${r.state}`).toBeUndefined();
      }
      if (r.state === 'swapped') {
        swapped++;
        expect(w.pte! & 1).toBe(0);
        const s = r.slots[i]!;
        expect(areas.get(s.area)!.refs[s.slot], `slot ${s.area}:${s.slot} of page 0x${va.toString(16)}`).toBeGreaterThan(0);
      }
    }
  }
  return swapped;
}

describe.skipIf(skip)('the debugger\'s kernel views on Atlas', () => {
  it('memhog under memory pressure: zero-fill then swap-in faults, frames, swap slots and pt agree with the walker and the counters', async () => {
    need();
    const b = await boot('swap=hdb:10 init=/bin/memhog -- 6M random 1');
    const memhog = () => b.view.processes().find((p) => p.name === 'memhog' && p.cr3 !== null);
    // While it fills its pages: zero-fill faults in its mmap region.
    await b.until('zero-fill faults of memhog', () => b.out().includes('memhog: 6144 KiB') &&
      b.view.faultHistory().filter((f) => f.outcome === 'zero-fill' && f.pid === memhog()?.pid).length >= 16);
    let procs = b.view.processes();
    const pid = memhog()!.pid;
    let { faults } = checkConsistent(b, procs);
    let as = b.view.addressSpace({ pid });
    for (const f of faultsOf(faults, pid)) expect(inRegion(as, f.addr), formatFaults([f])).toBe(true);
    const zero = faultsOf(faults, pid).filter((f) => f.outcome === 'zero-fill');
    const mmap = as.regions.find((r) => r.name === '[mmap]' && r.end - r.start === 6 << 20);
    expect(mmap, formatPt(as)).toBeDefined();
    // Zero-fill faults are in its anonymous regions (the heap, bss, the 6 MiB it maps), mostly the latter.
    for (const f of zero) expect(as.regions.find((r) => f.addr >= r.start && f.addr < r.end)!.flagNames, formatFaults([f])).not.toContain('x');
    expect(zero.filter((f) => f.addr >= mmap!.start && f.addr < mmap!.end).length, formatFaults(zero)).toBeGreaterThanOrEqual(16);

    // Reading the pages back: swap-ins (the last faults are nearly all of them).
    await b.until('swap-in faults', () => b.out().includes('memhog: wrote') &&
      b.view.faultHistory().filter((f) => f.outcome === 'swap-in').length >= 16);
    procs = b.view.processes();
    ({ faults } = checkConsistent(b, procs));
    expect(faultsOf(faults, pid).length, formatFaults(faults, procs)).toBeGreaterThan(32);
    for (const f of faults.filter((x) => x.outcome === 'swap-in')) {
      expect(f.pid).toBe(pid);
      const r = as.regions.find((x) => f.addr >= x.start && f.addr < x.end);
      expect(r && (r === mmap || r.name === '[heap]'), formatFaults([f])).toBe(true);
      expect(f.error.present).toBe(false);
      expect(f.error.user || f.error.kernelCopy).toBe(true);
    }
    as = b.view.addressSpace({ pid });
    const text = as.ranges.filter((r) => r.region?.file?.path === '/bin/memhog' && r.region.flagNames.includes('x'));
    expect(text.length, formatPt(as)).toBeGreaterThan(0);
    expect(as.ranges.some((r) => r.region?.name === '[heap]'), formatPt(as)).toBe(true);
    expect(as.ranges.some((r) => r.region?.name === '[stack]' && r.state === 'resident'), formatPt(as)).toBe(true);
    // Its 6 MiB cannot all be in 4 MiB: part resident, part in swap.
    const inMmap = as.ranges.filter((r) => r.region === as.regions.find((x) => x.start === mmap!.start));
    expect(inMmap.some((r) => r.state === 'resident')).toBe(true);
    expect(inMmap.some((r) => r.state === 'swapped')).toBe(true);
    expect(checkPt(b, as)).toBeGreaterThan(256);
    // The formatters run on all of it.
    expect(formatFaults(faults, procs)).toMatch(/^#\d+ t=\d+ pid \d+ \(memhog\) eip=0x[0-9a-f]{8} addr=0x[0-9a-f]{8} not-present (read|write) from user mode -> swap-in frame 0x[0-9a-f]+ swap hdb:\d+$/m);
    expect(formatFrames(b.view.frames())).toMatch(/^legend: /m);
    expect(formatFrames(b.view.frames(), { list: true, pid })).toMatch(/user frames? mapped by pid/);
    expect(formatSwap(b.view.swapAreas())).toMatch(/^hdb: priority 10, \d+ of 4096 slots used/m);
    expect(formatPt(as)).toMatch(/swapped hdb slots/);
    expect(formatProcesses(procs)).toMatch(/memhog/);
  }, 300_000);

  it('cowfork under swapping: parent and child share their text through the page cache and their data copy-on-write', async () => {
    need();
    const b = await boot('swap=hdb:10 init=/bin/cowfork -- 1024 64');
    const both = () => b.view.processes().filter((p) => p.name === 'cowfork' && p.cr3 !== null);
    const textOf = (as: AddressSpace) => as.ranges.filter((r) => r.region?.file?.path === '/bin/cowfork' && r.region.flagNames.includes('x'));
    // Stopped while the child writes, at a moment its text is in memory (under this pressure the page daemon takes
    // page-cache pages too).
    await b.until('the child writing', () => {
      const ps = both();
      if (ps.length !== 2) return false;
      const childPid = Math.max(...ps.map((p) => p.pid));
      return b.view.faultHistory().some((f) => f.outcome === 'cow-copy' && f.pid === childPid) &&
        textOf(b.view.addressSpace({ pid: childPid })).some((r) => r.state === 'resident');
    });
    const procs = b.view.processes();
    const { faults, frames } = checkConsistent(b, procs);
    const [parent, child] = both().sort((x, y) => x.pid - y.pid) as [KernelProcess, KernelProcess];
    const pas = b.view.addressSpace({ pid: parent.pid });
    const cas = b.view.addressSpace({ cr3: child.cr3! });
    expect(cas.pid).toBe(child.pid);
    for (const f of faults.filter((x) => x.pid === child.pid)) expect(inRegion(cas, f.addr), formatFaults([f])).toBe(true);
    // Text: file-backed, from the page cache; where both have a page resident, it is the same frame.
    expect(textOf(cas).length, formatPt(cas)).toBeGreaterThan(0);
    const residentText = textOf(cas).filter((r) => r.state === 'resident');
    expect(residentText.length, formatPt(cas)).toBeGreaterThan(0);
    for (const r of residentText) expect(r.pagecache && r.shared).toBe(true);
    // Each is the file's page in the page cache (the frame table's file and index), and where the parent has the
    // page resident too (it may have lost its text to the page daemon while it sleeps in waitpid), the same frame.
    const parentFrames = new Map<number, number>();
    for (const r of textOf(pas)) if (r.state === 'resident') r.frames.forEach((fn, i) => parentFrames.set(r.start + i * 4096, fn));
    for (const r of residentText) {
      r.frames.forEach((fn, i) => {
        const va = r.start + i * 4096, file = r.region!.file!;
        expect(frames[fn]!.file, formatFrames([frames[fn]!], { list: true })).toBe('/bin/cowfork');
        expect(frames[fn]!.fileIndex).toBe((file.fileOff + va - file.fileVa) / 4096);
        const p = parentFrames.get(va);
        if (p !== undefined) expect(p).toBe(fn);
      });
    }
    // Frames both map: the reverse map names both pids, read-only in both.
    const shared = frames.filter((f) => f.mappings.some((m) => m.pid === parent.pid) && f.mappings.some((m) => m.pid === child.pid));
    expect(shared.length).toBeGreaterThan(0);
    for (const f of shared) for (const m of f.mappings) expect((m.pte! & 2) === 0, `frame 0x${f.frame.toString(16)}`).toBe(true);
    // The child's copies: each cow-copy fault's frame is the child's own, mapped writable at the address.
    for (const f of faults.filter((x) => x.outcome === 'cow-copy' && x.pid === child.pid)) {
      const w = b.machine.cpu.walk(f.addr, { directory: child.cr3!, user: true });
      if (w.physical === undefined) continue; // evicted since
      expect(w.physical >>> 12).toBe(f.frame);
      expect(f.error.present && f.error.write).toBe(true);
    }
    checkPt(b, pas);
    checkPt(b, cas);
  }, 300_000);

  it('a kernel without the symbols (a bare-metal guest, an older kernel) gives a clear error, not a crash', () => {
    const demo = join(root, 'build', 'baremetal', 'demo.elf');
    if (!existsSync(demo)) return;
    const view = new KernelView(new Uint8Array(readFileSync(demo)), new Uint8Array(1 << 20));
    expect(() => view.faultHistory()).toThrow(KernelViewError);
    expect(() => view.faultHistory()).toThrow(/exports no page-fault history \(missing ELF symbols kfaults, kfaults_next, kfault_outcomes/);
    expect(() => view.frames()).toThrow(/exports no frame table/);
    expect(() => view.swapAreas()).toThrow(/exports no swap areas/);
    expect(() => view.processes()).toThrow(/exports no process table/);
    expect(() => view.addressSpace({ pid: 1 })).toThrow(KernelViewError);
    expect(() => new KernelView(new Uint8Array(64), new Uint8Array(4096))).toThrow(/not a kernel ELF file/);
    // The Atlas kernel with RAM that is not its own: an error about where, not a crash.
    if (existsSync(kernelPath)) {
      const k = new KernelView(new Uint8Array(readFileSync(kernelPath)), new Uint8Array(4096));
      expect(() => k.faultHistory()).toThrow(/is not in RAM/);
    }
  });
});
