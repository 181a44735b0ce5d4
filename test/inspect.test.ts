// The debugger's CPU views (emulator/host/inspect.ts, issue 8) on the real
// Atlas kernel: booted with /bin/demand as its first process and stopped at
// the first instruction of vm_fault while the kernel handles demand's first
// read of its initialized data (a page fault from user mode). There the
// registers, the kernel's GDT, a backtrace that crosses the interrupt frame
// into demand's main, a listing against objdump -d -S -l and memory dumps
// of mapped and unmapped pages are checked; exception decoding and the dump
// formats are checked on known values.
//
// Needs the build (`npm run build`: dist/core.wasm, build/kernel/kernel.elf,
// build/userland/demand, disk-images/root.img) and objdump for the listing.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Reg, Seg, type RunResult } from '../emulator/host/cpu.js';
import { END_OF_INPUT } from '../emulator/host/atlasrun.js';
import { DiskImage, Machine, type RunDebugger } from '../emulator/host/machine.js';
import { BOOT_DEVICE_HDA, enterMultiboot, loadMultiboot } from '../emulator/host/multiboot.js';
import { Collector } from '../emulator/host/output.js';
import { KernelView } from '../emulator/host/kernelview.js';
import {
  backtrace, decodeCr0, decodeCr4, decodeDescriptor, decodeEflags, decodeException, describeAccess, describePageFault,
  dumpMemory, formatBacktrace, formatSegments, gdtEntries, isReadFailure, linearReader, listing, parseTrapframeLayout,
  physicalReader, ProgramLoader, programInfo, readDescriptor, readRegisters, readSegments, registers,
  repositorySource, trapframeLayoutFromElf, type BacktraceEntry, type MemoryReader, type TrapframeLayout,
} from '../emulator/host/inspect.js';
import { root } from './guests/run.js';

const KERNEL = join(root, 'build', 'kernel', 'kernel.elf');
const DEMAND = join(root, 'build', 'userland', 'demand');
const ROOT_IMAGE = join(root, 'disk-images', 'root.img');
const missing = [KERNEL, DEMAND, ROOT_IMAGE, join(root, 'dist', 'core.wasm')].filter((f) => !existsSync(f));
const hasObjdump = !spawnSync('objdump', ['--version']).error;
const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';

/** struct trapframe's layout computed from kernel/trap.h (every field a u32, in order), as ktrapframe_layout gives it. */
function layoutFromTrapH(): TrapframeLayout {
  const text = readFileSync(join(root, 'kernel', 'trap.h'), 'utf8');
  const body = /struct trapframe\s*\{([\s\S]*?)\};/.exec(text)![1]!.replace(/\/\*[\s\S]*?\*\//g, '');
  const fields = [...body.matchAll(/u32\s+([^;]+);/g)].flatMap((m) => m[1]!.split(',').map((f) => f.trim()));
  const at = (name: string): number => { const i = fields.indexOf(name); if (i < 0) throw new Error(`trap.h: no ${name}`); return i * 4; };
  return parseTrapframeLayout([fields.length * 4, ...['trapno', 'err', 'eip', 'cs', 'eflags', 'esp', 'ss', 'ebp'].map(at)]);
}

describe('decoding known values', () => {
  it('EFLAGS, CR0, CR4', () => {
    expect(decodeEflags(0x246)).toBe('eflags 0x00000246 [ IF ZF PF ] IOPL=0');
    expect(decodeEflags(0x3002)).toBe('eflags 0x00003002 [ ] IOPL=3');
    expect(decodeEflags(0x200ad5)).toBe('eflags 0x00200ad5 [ ID OF IF SF ZF AF PF CF ] IOPL=0');
    expect(decodeCr0(0x80010011)).toBe('cr0 0x80010011 [ PG WP ET PE ]');
    expect(decodeCr0(0x6000003f)).toBe('cr0 0x6000003f [ CD NW NE ET TS EM MP PE ]');
    expect(decodeCr4(0x90)).toBe('cr4 0x00000090 [ PGE PSE ]');
  });

  it('every page-fault error code', () => {
    expect(describePageFault(0)).toBe('not-present read from supervisor mode');
    expect(describePageFault(2)).toBe('not-present write from supervisor mode');
    expect(describePageFault(4)).toBe('not-present read from user mode');
    expect(describePageFault(6)).toBe('not-present write from user mode');
    expect(describePageFault(1)).toBe('protection violation on read from supervisor mode');
    expect(describePageFault(3)).toBe('protection violation on write from supervisor mode');
    expect(describePageFault(5)).toBe('protection violation on read from user mode');
    expect(describePageFault(7)).toBe('protection violation on write from user mode');
    expect(describePageFault(0x14)).toBe('not-present instruction fetch from user mode');
    expect(describePageFault(0x15)).toBe('protection violation on instruction fetch from user mode');
    expect(describePageFault(0x09)).toBe('protection violation on read from supervisor mode, reserved bit set in a paging entry');
    for (let code = 0; code < 32; code++) {
      const x = decodeException(14, code, 0x0804d000);
      expect(x.mnemonic).toBe('#PF');
      expect(x.errorText).toBe(describePageFault(code));
      expect(x.summary).toBe(`#PF (14) page fault: ${describePageFault(code)}, error code 0x${code.toString(16)} at 0x0804d000`);
    }
  });

  it('selector error codes and vectors without one', () => {
    expect(decodeException(13, 0x19).errorText).toBe('GDT index 3 (selector 0x0018), EXT: during delivery of an external event');
    expect(decodeException(13, 0x28).errorText).toBe('GDT index 5 (selector 0x0028)');
    expect(decodeException(13, 0x0c).errorText).toBe('LDT index 1 (selector 0x000c)');
    expect(decodeException(13, 0x6a).errorText).toBe('IDT vector 13 (0xd)');
    expect(decodeException(13, 0x403).errorText).toBe('IDT vector 128 (0x80), EXT: during delivery of an external event');
    expect(decodeException(13, 0).summary).toBe('#GP (13) general protection: no selector (error code 0), error code 0x0');
    expect(decodeException(11, 0x20).summary).toBe('#NP (11) segment not present: GDT index 4 (selector 0x0020), error code 0x20');
    expect(decodeException(10, 0x28).mnemonic).toBe('#TS');
    expect(decodeException(12, 0x10).errorText).toBe('GDT index 2 (selector 0x0010)');
    const ud = decodeException(6, 0);
    expect(ud.errorText).toBeUndefined();
    expect(ud.summary).toBe('#UD (6) invalid opcode');
    expect(decodeException(0x80).summary).toBe('INT 0x80 (128) system call');
    expect(decodeException(32).mnemonic).toBe('IRQ 0');
  });

  it('descriptors', () => {
    // the kernel's flat code segment: base 0, limit 0xFFFFF pages, 0x9A, flags 0xC
    const code = decodeDescriptor(0x0000ffff, 0x00cf9a00);
    expect(code).toMatchObject({ base: 0, limit: 0xffffffff, dpl: 0, present: true, codeOrData: true, big: true, granular: true });
    expect(describeAccess(code.access)).toBe('code execute/read, DPL 0, present, 32-bit, G');
    expect(describeAccess(0xc0f3)).toBe('data read/write, accessed, DPL 3, present, big, G');
    expect(describeAccess(0x0097)).toBe('data read/write, expand-down, accessed, DPL 0, present, small');
    expect(describeAccess(0x009e)).toBe('code execute/read, conforming, DPL 0, present, 16-bit');
    expect(describeAccess(0x008b)).toBe('system: 32-bit TSS (busy), DPL 0, present');
    const tss = decodeDescriptor(0x20000067, 0xc0008912);
    expect(tss).toMatchObject({ base: 0xc0122000, limit: 0x67, granular: false });
  });

  it('memory dumps: formats, units, and a read past the end of RAM', () => {
    const ram = new Uint8Array(64);
    ram.set([0x68, 0x69, 0x0a, 0x00, 0xff, 0x41, 0x00], 0);
    const read = physicalReader(ram);
    expect(dumpMemory(read, 0, 2, 4, 'x')).toEqual(['0x00000000:\t0x000a6968\t0x000041ff']);
    expect(dumpMemory(read, 0, 3, 1, 'c')).toEqual(["0x00000000:\t104 'h'\t105 'i'\t10 '\\n'"]);
    expect(dumpMemory(read, 4, 1, 1, 'd')).toEqual(['0x00000004:\t-1']);
    expect(dumpMemory(read, 4, 1, 2, 'u')).toEqual(['0x00000004:\t16895']);
    expect(dumpMemory(read, 0, 2, 1, 's')).toEqual(['0x00000000:\t"hi\\n"', '0x00000004:\t"\\377A"']);
    expect(dumpMemory(read, 0, 12, 4, 'x', { symbolize: (a) => (a === 0 ? 'start' : a === 16 ? 'start+0x10' : undefined) })).toEqual([
      '0x00000000 <start>:\t0x000a6968\t0x000041ff\t0x00000000\t0x00000000',
      '0x00000010 <start+0x10>:\t0x00000000\t0x00000000\t0x00000000\t0x00000000',
      '0x00000020:\t0x00000000\t0x00000000\t0x00000000\t0x00000000',
    ]);
    // xp beyond RAM: what can be read, then why the rest cannot
    expect(dumpMemory(read, 56, 4, 4, 'x')).toEqual([
      '0x00000038:\t0x00000000\t0x00000000',
      '0x00000040: cannot read: physical address 0x00000040 is beyond RAM (0.0625 KiB, up to 0x0000003f)',
    ]);
    expect(dumpMemory(read, 0x100000, 1, 4, 'x')[0]).toMatch(/^0x00100000: cannot read: physical address 0x00100000 is beyond RAM/);
  });
});

interface Stop {
  machine: Machine;
  kernel: ReturnType<typeof programInfo>;
  demand: ReturnType<typeof programInfo>;
  read: MemoryReader;
  layout: TrapframeLayout;
}

/**
 * Boots Atlas with init=/bin/demand and stops at vm_fault's first
 * instruction when CR2 is demand's data_pages (its first read of initialized
 * data, in main): single steps from demand's first user-mode instruction.
 */
async function stopInVmFault(): Promise<Stop> {
  const kernelElf = readFileSync(KERNEL);
  const loader = new ProgramLoader({ root, rootImage: readFileSync(ROOT_IMAGE) });
  const kernel = loader.kernel();
  const demand = loader.user('demand')!;
  const vmFault = kernel.symbols.lookup('vm_fault')!;
  const dataPages = demand.symbols.lookup('data_pages')!;
  expect(vmFault).toBeDefined();
  expect(dataPages).toBeDefined();
  const machine = await Machine.create({
    ramBytes: 16 << 20, output: new Collector(), input: Uint8Array.of(END_OF_INPUT), disks: [new DiskImage(readFileSync(ROOT_IMAGE))],
  });
  enterMultiboot(machine.cpu, loadMultiboot(kernelElf, machine.ram, { kernelName: 'kernel.elf', cmdline: 'quiet init=/bin/demand', bootDevice: BOOT_DEVICE_HDA }));
  const cpu = machine.cpu;
  let hit = false;
  const debug: RunDebugger = {
    pause: () => undefined,
    execute(budget: number): RunResult {
      if (cpu.instructionsBeforeUserMode === 0) return cpu.run(Math.min(budget, 1000));
      let result: RunResult = { reason: 'budget', eip: cpu.eip };
      for (let i = 0; i < budget; i++) {
        if (cpu.eip === vmFault && cpu.getCr(2) === dataPages) {
          hit = true;
          machine.requestStop();
          return { reason: 'stopped', eip: cpu.eip };
        }
        result = cpu.run(1);
        if (result.reason === 'delivered') result = { reason: 'budget', eip: cpu.eip };
        if (result.reason !== 'budget') return result;
      }
      return result;
    },
  };
  const result = await machine.run({ debugger: debug, maxInstructions: 300_000_000 });
  expect(result.message ?? '').toBe('stopped by the user');
  expect(hit).toBe(true);
  const fromTrapH = layoutFromTrapH();
  const exported = trapframeLayoutFromElf(kernel.elf, kernel.symbols);
  if (exported) expect(exported).toEqual(fromTrapH);
  return { machine, kernel, demand, read: linearReader(cpu), layout: exported ?? fromTrapH };
}

describe.skipIf(missing.length > 0 && !requireTools)('the Atlas kernel stopped in vm_fault on a user page fault', () => {
  let stop: Stop;
  /** The backtrace at the stop, with both programs' symbols and the trapframe layout. */
  let trace: BacktraceEntry[];
  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`not built: ${missing.join(', ')} (npm run build)`);
    stop = await stopInVmFault();
    trace = backtrace(stop.machine.cpu, stop.read, {
      symbols: stop.kernel.symbols, userSymbols: stop.demand.symbols, trapret: stop.kernel.symbols.lookup('trapret'), trapframe: stop.layout,
    });
  }, 120_000);

  it('registers: paging and WP on, ring 0, interrupts off in the handler, EIP named', () => {
    const cpu = stop.machine.cpu;
    const r = readRegisters(cpu);
    expect((r.cr0 & 0x80010001) >>> 0).toBe(0x80010001); // PG WP PE: kernel/entry.S sets PG and WP
    expect(r.cpl).toBe(0);
    expect(r.segments.cs).toBe(0x08);
    expect(r.eflags & 0x200).toBe(0); // interrupt gates clear IF
    expect(r.cr2).toBe(stop.demand.symbols.lookup('data_pages'));
    expect(r.gdtr.limit).toBe(6 * 8 - 1); // NSEGS descriptors
    expect(r.gdtr.base).toBeGreaterThanOrEqual(0xc0000000);
    expect(r.tr).toBe(0x28);
    expect(r.ldtr).toBe(0);
    const lines = registers(cpu, stop.kernel.symbols);
    expect(lines).toContain(`eip 0x${cpu.eip.toString(16).padStart(8, '0')} <vm_fault>`);
    expect(lines.find((l) => l.startsWith('cr0 '))).toMatch(/^cr0 0x8001003[3b] \[ PG WP NE ET (TS )?MP PE \]$|^cr0 0x800100[0-9a-f]{2} \[ PG WP .*PE \]$/);
    expect(lines.find((l) => l.startsWith('eflags '))).toMatch(/^eflags 0x[0-9a-f]{8} \[ [A-Z ]*\] IOPL=0$/);
    expect(lines.find((l) => l.startsWith('cpl '))).toMatch(/^cpl 0  gdtr base=0xc[0-9a-f]{7} limit=0x002f  idtr base=0xc[0-9a-f]{7} limit=0x07ff  tr 0x0028  ldtr 0x0000$/);
  });

  it("segments: the kernel's GDT, read through the page tables, and the hidden caches", () => {
    const cpu = stop.machine.cpu;
    const views = readSegments(cpu, stop.read);
    const cs = views.find((v) => v.name === 'cs')!;
    expect(cs.fields).toEqual({ index: 1, ldt: false, rpl: 0 });
    expect(cs.descriptor).toMatchObject({ base: 0, limit: 0xffffffff, dpl: 0, present: true, codeOrData: true, big: true, granular: true });
    expect(cs.descriptor!.type & 8).toBe(8); // code
    expect(cs.cache).toMatchObject({ base: 0, limit: 0xffffffff });
    expect(cs.cache!.access.dpl).toBe(0);
    const ss = views.find((v) => v.name === 'ss')!;
    expect(ss.selector).toBe(0x10);
    expect(describeAccess(ss.descriptor!.access)).toMatch(/^data read\/write, (accessed, )?DPL 0, present, big, G$/);
    const tr = views.find((v) => v.name === 'tr')!;
    expect(describeAccess(tr.descriptor!.access)).toBe('system: 32-bit TSS (busy), DPL 0, present');
    expect(tr.descriptor!.base).toBe(stop.kernel.symbols.lookup('tss'));
    // user code and data: flat, DPL 3
    const ucode = readDescriptor(cpu, stop.read, 0x1b).descriptor!;
    expect(ucode).toMatchObject({ base: 0, limit: 0xffffffff, dpl: 3, present: true });
    expect(describeAccess(ucode.access)).toMatch(/^code execute\/read, (accessed, )?DPL 3, present, 32-bit, G$/);
    expect(readDescriptor(cpu, stop.read, 0x23).descriptor!.dpl).toBe(3);
    expect(readDescriptor(cpu, stop.read, 0x30).descriptorError).toBe('index 6 is beyond the GDT limit 0x002f');
    const text = formatSegments(views);
    expect(text[0]).toBe('cs   0x0008 (index 1 GDT RPL 0)');
    expect(text[1]).toMatch(/^ {5}descriptor @0xc[0-9a-f]{7} = 0x00cf9[ab]00:0x0000ffff {2}base=0x00000000 limit=0xffffffff code execute\/read, /);
    expect(text).toContain('ldtr 0x0000 (null selector (RPL 0))');
    const gdt = gdtEntries(cpu, stop.read);
    expect(gdt).toHaveLength(7);
    expect(gdt[4]).toMatch(/^ {2}\[3\] 0x0018 base=0x00000000 limit=0xffffffff code execute\/read, (accessed, )?DPL 3, present, 32-bit, G$/);
  });

  it('the process running is demand, and its program is found by name', () => {
    const cpu = stop.machine.cpu;
    const p = new KernelView(stop.kernel.elf, cpu.ram).processes().find((q) => q.cr3 === (cpu.getCr(3) & ~0xfff) >>> 0);
    expect(p?.name).toBe('demand');
    expect(p?.pid).toBe(1);
  });

  it('backtrace: vm_fault, its callers up to trap, the #PF frame from user mode, then demand\'s main and _start', () => {
    const cpu = stop.machine.cpu;
    const lines = formatBacktrace(trace);
    const names = trace.flatMap((e) => (e.kind === 'frame' ? [e.symbol?.replace(/\+0x[0-9a-f]+$/, '') ?? '??'] : e.kind === 'interrupt' ? ['---'] : []));
    expect(names[0]).toBe('vm_fault');
    const cross = names.indexOf('---');
    expect(cross).toBeGreaterThan(1);
    expect(names[cross - 1]).toBe('trap'); // the frame that returns to trapret
    expect(names.slice(cross + 1)).toEqual(['main', '_start']);
    expect(lines[0]).toBe(`#0 0x${cpu.eip.toString(16).padStart(8, '0')} in vm_fault`);
    expect(lines).toContain('--- interrupt frame: #PF (14) err 0x4 from user mode ---');
    const tf = trace.find((e) => e.kind === 'interrupt')!;
    expect(tf).toMatchObject({ trapno: 14, err: 4, cs: 0x1b, fromUser: true, ss: 0x23 });
    const main = trace.find((e) => e.kind === 'frame' && e.symbol?.startsWith('main'));
    expect(main).toMatchObject({ user: true });
    expect(lines[lines.length - 1]).toMatch(/^#\d+ 0x080[0-9a-f]{5} in _start\+0x[0-9a-f]+ \(user\)$/);
    // the faulting instruction in main reads data_pages
    expect(stop.demand.lines.lineFor((tf as { eip: number }).eip)?.file).toBe('userland/demand.c');
    // levels count up, the interrupt frame takes none
    const levels = trace.flatMap((e) => (e.kind === 'frame' ? [e.level] : []));
    expect(levels).toEqual(levels.map((_, i) => i));
  });

  it('backtrace: without the layout it stops at trapret; a bad ebp and a loop end it cleanly; maxFrames', () => {
    const cpu = stop.machine.cpu;
    const noLayout = backtrace(cpu, stop.read, { symbols: stop.kernel.symbols, trapret: stop.kernel.symbols.lookup('trapret') });
    expect(noLayout[noLayout.length - 1]).toMatchObject({ kind: 'end', reason: 'no-trapframe-layout' });
    const bad = backtrace(cpu, stop.read, { symbols: stop.kernel.symbols, start: { eip: cpu.eip + 3, ebp: 0x40000000, esp: cpu.getReg(Reg.ESP) } });
    expect(bad).toHaveLength(2);
    expect(formatBacktrace(bad)[1]).toMatch(/^\(backtrace stopped: frame pointer 0x40000000: not mapped: P[DT]E\[\d+\] @0x[0-9a-f]{8} = 0x[0-9a-f]{8} not present/);
    // a frame that points at itself
    const ebp = cpu.getReg(Reg.ESP) - 64;
    const phys = cpu.walk(ebp).physical!;
    const saved = cpu.ram.slice(phys, phys + 8);
    new DataView(cpu.ram.buffer, cpu.ram.byteOffset + phys, 8).setUint32(0, ebp, true);
    new DataView(cpu.ram.buffer, cpu.ram.byteOffset + phys, 8).setUint32(4, stop.kernel.symbols.lookup('trap')! + 5, true);
    try {
      const loop = backtrace(cpu, stop.read, { symbols: stop.kernel.symbols, start: { eip: cpu.eip + 3, ebp, esp: ebp } });
      expect(loop[loop.length - 1]).toMatchObject({ kind: 'end', reason: 'loop' });
      expect(loop.length).toBeLessThan(5);
    } finally {
      cpu.ram.set(saved, phys);
    }
    const two = backtrace(cpu, stop.read, { symbols: stop.kernel.symbols, maxFrames: 2, trapret: stop.kernel.symbols.lookup('trapret'), trapframe: stop.layout });
    expect(formatBacktrace(two).slice(-1)[0]).toBe('(backtrace stopped: stopped after 2 frames)');
  });

  it.skipIf(!hasObjdump && !requireTools)('listing: the instructions and source lines objdump -d -S -l shows, EIP marked', () => {
    const cpu = stop.machine.cpu;
    const start = stop.kernel.symbols.lookup('vm_fault')!;
    const ours = listing(stop.read, start, 12, stop.kernel.symbols, (a) => stop.kernel.lines.lineFor(a), { eip: cpu.eip, sourceText: repositorySource(root) });
    const out = spawnSync('objdump', ['-d', '-S', '-l', '--no-show-raw-insn', `--start-address=0x${start.toString(16)}`, `--stop-address=0x${(start + 0x80).toString(16)}`, KERNEL], { encoding: 'utf8' }).stdout;
    // objdump's instruction lines and file:line markers, in order
    type Item = { insn: number; text: string } | { file: string; line: number };
    const theirs: Item[] = [];
    for (const l of out.split('\n')) {
      const insn = /^([0-9a-f]+):\t(.+)$/.exec(l);
      if (insn) theirs.push({ insn: parseInt(insn[1]!, 16), text: insn[2]!.replace(/\s+/g, ' ').trim() });
      const src = /^(\S+\.[chS]):(\d+)(?: \(discriminator \d+\))?$/.exec(l);
      if (src) theirs.push({ file: basename(src[1]!), line: Number(src[2]) });
    }
    const mine: Item[] = [];
    for (const l of ours) {
      const insn = /^(?:=> | {3})([0-9a-f]{8}):\t[0-9a-f ]+\t(.+)$/.exec(l);
      if (insn) mine.push({ insn: parseInt(insn[1]!, 16), text: insn[2]!.replace(/\s+/g, ' ').replace(/ 0x([0-9a-f]+) </, ' $1 <').trim() });
      const src = /^(\S+\.[chS]):(\d+)$/.exec(l);
      if (src) mine.push({ file: basename(src[1]!), line: Number(src[2]) });
    }
    expect(mine.filter((i) => 'insn' in i)).toHaveLength(12);
    expect(mine).toEqual(theirs.slice(0, mine.length));
    expect(ours[0]).toBe(`0x${start.toString(16).padStart(8, '0')} <vm_fault>:`);
    expect(ours[1]).toMatch(/^kernel\/vmfault\.c:\d+$/);
    expect(ours[2]).toMatch(/^ +\d+\t.*vm_fault/); // the source line, from the repository
    expect(ours.filter((l) => l.startsWith('=> '))).toEqual([expect.stringMatching(new RegExp(`^=> ${cpu.eip.toString(16)}:\\t55 +\\tpush %ebp$`))]);
  });

  it("x: kernel memory, user memory not yet paged in (not mapped), xp beyond RAM, x/i at demand's fault", () => {
    const cpu = stop.machine.cpu;
    const layoutAt = stop.kernel.symbols.lookup('ktrapframe_layout');
    if (layoutAt !== undefined) {
      const words = dumpMemory(stop.read, layoutAt, 9, 4, 'd', { symbolize: stop.kernel.symbols });
      expect(words[0]).toBe(`0x${layoutAt.toString(16)} <ktrapframe_layout>:\t${stop.layout.size}\t${stop.layout.trapno}\t${stop.layout.err}\t${stop.layout.eip}`);
      expect(words).toHaveLength(3);
    }
    // data_pages: the page whose fault the kernel is handling is not there yet
    const dataPages = stop.demand.symbols.lookup('data_pages')!;
    const lines = dumpMemory(stop.read, dataPages, 4, 4, 'x', { symbolize: stop.demand.symbols });
    expect(lines).toHaveLength(1);
    const hexAddr = `0x${dataPages.toString(16).padStart(8, '0')}`;
    expect(lines[0]).toMatch(new RegExp(`^${hexAddr}: cannot read: not mapped: P[DT]E\\[\\d+\\] @0x[0-9a-f]{8} = 0x[0-9a-f]{8} not present \\(cr3=0x[0-9a-f]{8}\\)$`));
    // far from anything mapped: the PDE is not present
    expect(dumpMemory(stop.read, 0x40000000, 1, 4, 'x')).toEqual([
      expect.stringMatching(/^0x40000000: cannot read: not mapped: PDE\[256\] @0x[0-9a-f]{8} = 0x00000000 not present \(cr3=0x[0-9a-f]{8}\)$/),
    ]);
    // a read that runs from a mapped page into an unmapped one prints what it can
    const tf = trace.find((e) => e.kind === 'interrupt') as { esp: number } | undefined;
    expect(tf).toBeDefined();
    const stackTop = (tf!.esp | 0xfff) + 1; // the user stack's last page ends here (nothing mapped above? then no failure)
    const across = dumpMemory(stop.read, stackTop - 8, 4, 4, 'x');
    const above = cpu.walk(stackTop);
    if (above.physical === undefined) {
      expect(across).toHaveLength(2);
      expect(across[0]).toMatch(new RegExp(`^0x${(stackTop - 8).toString(16).padStart(8, '0')}:\\t0x[0-9a-f]{8}\\t0x[0-9a-f]{8}$`));
      expect(across[1]).toMatch(new RegExp(`^0x${stackTop.toString(16).padStart(8, '0')}: cannot read: not mapped`));
    }
    // xp past the end of RAM
    const ram = cpu.ram.length;
    expect(dumpMemory(physicalReader(cpu.ram), ram - 4, 2, 4, 'x')[1]).toBe(`0x${ram.toString(16).padStart(8, '0')}: cannot read: physical address 0x${ram.toString(16).padStart(8, '0')} is beyond RAM (16384 KiB, up to 0x${(ram - 1).toString(16).padStart(8, '0')})`);
    // x/i at the user instruction that faulted, with demand's symbols and lines
    const eip = (trace.find((e) => e.kind === 'interrupt') as { eip: number }).eip;
    const insn = dumpMemory(stop.read, eip, 1, 1, 'i', { symbolize: stop.demand.symbols, lineFor: (a) => stop.demand.lines.lineFor(a), eip });
    expect(insn.some((l) => /^userland\/demand\.c:\d+$/.test(l))).toBe(true);
    expect(insn[insn.length - 1]).toMatch(new RegExp(`^=> ${eip.toString(16).padStart(8, '0')}:\\t[0-9a-f ]+\\t.*`));
    expect(isReadFailure(stop.read(eip, 1))).toBe(false);
  });

  it('the hidden segment caches agree with the descriptors in the GDT', () => {
    const cpu = stop.machine.cpu;
    for (const seg of [Seg.CS, Seg.SS, Seg.DS, Seg.ES]) {
      const d = readDescriptor(cpu, stop.read, cpu.segmentSelector(seg)).descriptor!;
      expect(cpu.segmentBase(seg)).toBe(d.base);
      expect(cpu.segmentLimit(seg)).toBe(d.limit);
      expect(cpu.segmentAccess(seg) & 0xf0fe).toBe(d.access & 0xf0fe); // the accessed bit may differ
    }
  });
});
