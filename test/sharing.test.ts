// Shared code and copy-on-write (issue 7), on the Atlas kernel booted on
// Atlas386: the programs that show them (sharedtext, cowfork) print what they
// print natively; independently exec'd copies of one program map the same
// physical frames for its read-only pages, seen through the emulator's own
// page walker in the kernel's page tables (not only through the kernel's
// counters); copy-on-write copies exactly the pages written while shared; a
// child that dies while sharing pages leaves the parent's intact; and fork-
// heavy programs still verify their memory under swapping.
//
// Skips like test/swap-run.ts (no gcc -m32 or no way to run i386 programs
// here), unless ATLAS386_REQUIRE_TOOLS=1.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskImage, Machine } from '../emulator/host/machine.js';
import { BOOT_DEVICE_HDA, enterMultiboot, loadMultiboot } from '../emulator/host/multiboot.js';
import { elfSymbols } from '../emulator/host/elf.js';
import { PF_W, PF_X, PT_LOAD, programHeaders, readKernelProcs, segmentPages, type KernelProc } from './kernel-procs.js';
import { atlas, host, native, osIndependent, root, skip } from './swap-run.js';

if (skip) console.warn(`sharing tests skipped: ${host.why}`);

const kernelPath = join(root, 'build', 'kernel', 'kernel.elf');
const imagePath = join(root, 'disk-images', 'root.img');
const sharedtextPath = join(root, 'build', 'userland', 'sharedtext');

/** Pages of the blob of code that only sharedtext's children read (userland/sharedtext.c, BLOB_PAGES). */
const BLOB_PAGES = 24;

function need(): void {
  if (!host.ok) throw new Error(`needed with ATLAS386_REQUIRE_TOOLS=1: ${host.why}`);
  for (const f of [kernelPath, imagePath, sharedtextPath]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
}

/** sharedtext's read-only segments, from its program headers. */
function readOnlySegments(elf: Uint8Array) {
  return programHeaders(elf).filter((ph) => ph.type === PT_LOAD && ph.memsz > 0 && (ph.flags & PF_W) === 0);
}

/**
 * Boots the Atlas kernel on Atlas386 (root image as hda, no swap) and runs
 * it until the console output satisfies `done`: the machine stops at the
 * instruction boundary after the output byte that completed it (a newline),
 * so what the guest was doing then is still there to look at.
 */
async function bootUntil(cmdline: string, ramBytes: number, done: (out: string) => boolean) {
  let out = '';
  let machine: Machine | undefined;
  machine = await Machine.create({
    ramBytes,
    output: {
      write: (chunk: Uint8Array) => {
        out += Buffer.from(chunk).toString('latin1');
        if (done(out)) machine!.requestStop();
      },
    },
    disks: [new DiskImage(new Uint8Array(readFileSync(imagePath)))],
  });
  const kernel = new Uint8Array(readFileSync(kernelPath));
  enterMultiboot(machine.cpu, loadMultiboot(kernel, machine.ram, { kernelName: 'kernel.elf', cmdline, bootDevice: BOOT_DEVICE_HDA }));
  const result = await machine.run({ maxInstructions: 2_000_000_000 });
  return { machine, kernel, result, out: () => out };
}

/** cowfork's "atlas: WHO: pages copied C, cow faults F, reused R" line. */
function cowCounts(out: string, who: 'child' | 'parent'): { copied: number; faults: number; reused: number } {
  const m = new RegExp(`^atlas: ${who}: pages copied (\\d+), cow faults (\\d+), reused (\\d+)$`, 'm').exec(out);
  if (!m) throw new Error(`no "atlas: ${who}: pages copied ..." line (does the kernel have the self_cow counters?):\n${out}`);
  return { copied: Number(m[1]), faults: Number(m[2]), reused: Number(m[3]) };
}

describe.skipIf(skip)('shared code and copy-on-write on Atlas', () => {
  it.concurrent('sharedtext: N exec\'d copies print what they print natively; the page cache grows by one copy, not N', async () => {
    const r = await atlas({ cmdline: 'readahead=0 init=/bin/sharedtext -- 3 2', mem: '32M', disks: {} });
    expect(r.stderr, r.out).toBe('');
    expect(r.status, r.out).toBe(0);
    expect(osIndependent(r.out)).toBe(native('sharedtext', ['3', '2']).out);
    const elf = new Uint8Array(readFileSync(sharedtextPath));
    const segments = readOnlySegments(elf);
    const text = segments.filter((s) => s.flags & PF_X).reduce((n, s) => n + segmentPages(s).length, 0);
    const pages = segments.reduce((n, s) => n + segmentPages(s).length, 0);
    expect(r.out).toContain(`sharedtext: child 3 ready (${text} text pages, ${pages - text} read-only data pages)\n`);
    const m = /^atlas: 3 copies of (\d+) read-only pages: (\d+) frames hold them \(file_frames went up by \d+\), shared_frames (\d+)$/m.exec(r.out);
    if (!m) throw new Error(`no "atlas: 3 copies of ..." line (does the kernel have file_frames and shared_frames?):\n${r.out}`);
    const [grew, shared] = [Number(m[2]), Number(m[3])];
    expect(Number(m[1])).toBe(pages);
    // The children read every read-only page; the parent had cached only those it runs. Without sharing the cache
    // would grow by up to 3 x pages; with it, by at most one copy (+1: the page-cache page of the children's .data,
    // which each then copied to write). With readahead off only a fault brings a page in, and only the children
    // fault on the pages wholly inside the blob, so those at least are new.
    const blob = elfSymbols(elf).get('sharedtext_blob')!;
    const wholeBlobPages = Math.floor((blob + BLOB_PAGES * 4096) / 4096) - Math.ceil(blob / 4096);
    expect(grew, r.out).toBeLessThanOrEqual(pages + 1);
    expect(grew, r.out).toBeGreaterThanOrEqual(wholeBlobPages);
    // Every read-only frame is mapped by the three children at the time of the parent's reading (pages where a
    // segment begins or ends mid-page included: they are read-only text and data of the file like the others).
    expect(shared, `shared_frames < ${pages} read-only pages: some are not shared\n${r.out}`).toBeGreaterThanOrEqual(pages);
  });

  it('independently exec\'d copies map the same frames for their code (the emulator\'s page walker), and private data pages', async () => {
    need();
    const ready = (out: string) => (out.match(/^sharedtext: child \d ready/gm) ?? []).length === 3;
    const { machine, kernel, result, out } = await bootUntil('quiet init=/bin/sharedtext -- 3 2', 32 << 20, ready);
    expect(result.reason, `${result.message ?? ''}\n${out()}`).toBe('host-stop');
    const procs = readKernelProcs(kernel, machine.ram);
    const copies = procs.filter((p) => p.name === 'sharedtext');
    const parent = copies.reduce((a, b) => (a.pid < b.pid ? a : b));
    const children = copies.filter((p) => p.pid > parent.pid);
    const table = procs.map((p) => `${p.pid} ${p.name} state ${p.state} cr3 ${p.cr3?.toString(16)}`).join('\n');
    expect(children, table).toHaveLength(3);
    for (const c of [parent, ...children]) expect(c.cr3, table).not.toBeNull();

    const elf = new Uint8Array(readFileSync(sharedtextPath));
    const frame = (p: KernelProc, va: number) => machine.cpu.walk(va, { directory: p.cr3!, user: true });
    let sharedPages = 0;
    for (const seg of readOnlySegments(elf)) {
      for (const va of segmentPages(seg)) {
        const walks = children.map((c) => frame(c, va));
        // Each child read a byte of this page before printing its ready line, and nothing evicts on 32 MiB.
        for (const w of walks) expect(w.physical, `page 0x${va.toString(16)} of a child is not mapped`).toBeDefined();
        const frames = walks.map((w) => w.physical! & ~0xfff);
        expect(new Set(frames).size, `page 0x${va.toString(16)}: frames ${frames.map((f) => f.toString(16))}`).toBe(1);
        for (const w of walks) expect(w.pte! & 2, `page 0x${va.toString(16)} is writable`).toBe(0);
        // The frame holds the file's bytes for the part of the page the segment takes from the file.
        const from = Math.max(va, seg.vaddr), to = Math.min(va + 4096, seg.vaddr + seg.filesz);
        if (to > from) {
          const inFrame = machine.ram.subarray(frames[0]! + (from - va), frames[0]! + (to - va));
          const inFile = elf.subarray(seg.offset + (from - seg.vaddr), seg.offset + (to - seg.vaddr));
          expect(Buffer.compare(inFrame, inFile), `page 0x${va.toString(16)}: the frame does not hold the file's bytes`).toBe(0);
        }
        // The parent is one more copy of the program: where it has the page mapped, it is the same frame.
        const p = frame(parent, va);
        if (p.physical !== undefined) expect(p.physical & ~0xfff, `page 0x${va.toString(16)} of the parent`).toBe(frames[0]);
        sharedPages++;
      }
    }
    expect(sharedPages).toBeGreaterThan(BLOB_PAGES);

    // child_number (in .data) holds each child's own number: three private frames.
    const childNumber = elfSymbols(elf).get('child_number')!;
    const data = children.map((c) => frame(c, childNumber));
    for (const w of data) expect(w.physical, 'the data page of a child is not mapped').toBeDefined();
    expect(new Set(data.map((w) => w.physical! & ~0xfff)).size, 'children share their data page').toBe(3);
    const numbers = data.map((w) => new DataView(machine.ram.buffer, machine.ram.byteOffset).getInt32(w.physical!, true));
    expect(numbers.sort()).toEqual([1, 2, 3]);
  });

  it.concurrent('cowfork 256 8: the child copies exactly the 8 pages it writes, the parent, alone afterwards, none', async () => {
    const r = await atlas({ cmdline: 'init=/bin/cowfork -- 256 8', mem: '32M', disks: {} });
    expect(r.stderr, r.out).toBe('');
    expect(r.status, r.out).toBe(0);
    expect(osIndependent(r.out)).toBe(native('cowfork', ['256', '8']).out);
    // The child's window holds its 8 first writes to buffer pages and reads only (its stack, vmstat buffers and
    // structures were made private before it): the parent, asleep in waitpid, still maps every one of those pages,
    // so each write is a cow fault that copies. Nothing in the window is reused.
    expect(cowCounts(r.out, 'child')).toEqual({ copied: 8, faults: 8, reused: 0 });
    // The parent writes all 256 pages after the child has exited: its pages are read-only since fork (one cow fault
    // each, 256), and no other address space maps any of them (the child's 8 copies left the originals to the
    // parent alone, its exit dropped its share of the other 248): 256 made writable again, 0 copied.
    expect(cowCounts(r.out, 'parent')).toEqual({ copied: 0, faults: 256, reused: 256 });
  });

  it.concurrent('a child killed while sharing every page leaves the parent\'s pages intact (cowfork 256 8 crash)', async () => {
    const r = await atlas({ cmdline: 'init=/bin/cowfork -- 256 8 crash', mem: '32M', disks: {} });
    expect(r.stderr, r.out).toBe('');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/^pid \d+ \(cowfork\): segmentation fault at 0x00000000/m);
    expect(r.out).toContain('cowfork: parent: the child was killed by signal 11\n');
    expect(osIndependent(r.out)).toBe(native('cowfork', ['256', '8', 'crash']).out);
    // As above: the killed child's address space is gone, so the parent shares nothing when it writes.
    expect(cowCounts(r.out, 'parent')).toEqual({ copied: 0, faults: 256, reused: 256 });
  });

  for (const policy of ['clock', 'fifo']) {
    it.concurrent(`under swapping (4 MiB, policy=${policy}): cowfork 1024 64 verifies, checksums as natively`, async () => {
      const r = await atlas({ cmdline: `swap=hdb:10 policy=${policy} init=/bin/cowfork -- 1024 64` });
      expect(r.stderr, r.out).toBe('');
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('cowfork: every page verified\n');
      expect(osIndependent(r.out)).toBe(native('cowfork', ['1024', '64']).out);
      // Whatever was on disk, the parent, alone after the child, has nothing to copy.
      expect(cowCounts(r.out, 'parent').copied, r.out).toBe(0);
    });
  }

  it.concurrent('under swapping: a child killed while sharing swapped pages leaves the parent\'s intact (cowfork 1024 64 crash)', async () => {
    const r = await atlas({ cmdline: 'swap=hdb:10 init=/bin/cowfork -- 1024 64 crash' });
    expect(r.stderr, r.out).toBe('');
    expect(r.status, r.out).toBe(0);
    expect(osIndependent(r.out)).toBe(native('cowfork', ['1024', '64', 'crash']).out);
  });

  it.concurrent('under swapping: multiprog 3 1M 2 (a chain of forks) verifies every process, checksums as natively', async () => {
    const r = await atlas({ cmdline: 'swap=hdb:10 init=/bin/multiprog -- 3 1M 2' });
    expect(r.stderr, r.out).toBe('');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('multiprog: 3 of 3 processes verified their memory\n');
    expect(osIndependent(r.out)).toBe(native('multiprog', ['3', '1M', '2']).out);
  });
});
