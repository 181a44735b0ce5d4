// The CPU core's debugger hooks (emulator/core/debug.ts): execution
// breakpoints, vector breaks, watchpoints and the last-exception record, on
// hand-built protected-mode tables (bare metal) and on the Atlas kernel.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Cpu, Reg, type RunResult, type PortHandlers } from '../emulator/host/cpu.js';
import { elfSymbols } from '../emulator/host/elf.js';
import { atlasMachine, imagePath, kernelPath } from './atlas-machine.js';

const GDT = 0x1000, IDT = 0x2000, TSS = 0x3000, PD = 0x4000, PT0 = 0x5000, PT1 = 0x7000;
const CODE = 0x10000, HANDLERS = 0x11000, STACK = 0x9000, DATA = 0x30000;
const UNMAPPED = 0x300000, ALIAS = 0x400000;

interface Setup { translate?: boolean; paging?: boolean; ports?: PortHandlers }

async function bare(opts: Setup = {}): Promise<{ cpu: Cpu; view: DataView }> {
  const cpu = await Cpu.create({ ramBytes: 8 << 20, deliverThroughIdt: true, translate: opts.translate ?? false, ports: opts.ports });
  const view = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
  const descriptor = (index: number, base: number, limit: number, access: number): void => {
    const at = GDT + index * 8;
    view.setUint32(at, ((base & 0xffff) << 16) | (limit & 0xffff), true);
    view.setUint32(at + 4, (base & 0xff000000) | ((access & 0xf0ff) << 8) | (limit & 0xf0000) | ((base >>> 16) & 0xff), true);
  };
  descriptor(1, 0, 0xfffff, 0xc09b);
  descriptor(2, 0, 0xfffff, 0xc093);
  descriptor(5, TSS, 103, 0x0089);
  cpu.setGdtr(GDT, 6 * 8 - 1);
  cpu.setIdtr(IDT, 256 * 8 - 1);
  cpu.setFlatProtectedMode(0);
  cpu.setReg(Reg.ESP, STACK);
  for (let v = 0; v < 256; v++) {
    const handler = HANDLERS + v * 0x10;
    view.setUint32(IDT + v * 8, (0x08 << 16) | (handler & 0xffff), true);
    view.setUint32(IDT + v * 8 + 4, (handler & 0xffff0000) | (0x8e << 8), true);
    cpu.ram[handler] = 0xf4; // hlt
  }
  if (opts.paging) {
    // 0-4 MiB identity-mapped except UNMAPPED's page; ALIAS maps DATA's frame.
    view.setUint32(PD, PT0 | 3, true);
    view.setUint32(PD + 4, PT1 | 3, true);
    for (let i = 0; i < 1024; i++) view.setUint32(PT0 + i * 4, (i << 12) | 3, true);
    view.setUint32(PT0 + (UNMAPPED >>> 12) * 4, 0, true);
    view.setUint32(PT1, DATA | 3, true);
    cpu.setCr(3, PD);
    cpu.setCr(0, cpu.getCr(0) | 0x80000000);
  }
  cpu.eip = CODE;
  return { cpu, view };
}

function code(cpu: Cpu, bytes: number[], at = CODE): void {
  cpu.ram.set(bytes, at);
  cpu.discardTranslations();
}

const le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const HLT = 0xf4;
const movEaxImm = (v: number) => [0xb8, ...le(v)];
const loadEax = (a: number) => [0xa1, ...le(a)];   // mov eax, [a]
const storeEax = (a: number) => [0xa3, ...le(a)];  // mov [a], eax
const loadAl = (a: number) => [0xa0, ...le(a)];    // mov al, [a]
const storeAl = (a: number) => [0xa2, ...le(a)];   // mov [a], al

describe('execution breakpoints', () => {
  it('stop before the instruction, again until passed over', async () => {
    const { cpu } = await bare();
    code(cpu, [...movEaxImm(1), 0xbb, ...le(2), 0xb9, ...le(3), HLT]); // mov eax,1; mov ebx,2; mov ecx,3; hlt
    cpu.setBreakpoints([CODE + 5]);
    const before = cpu.instructionsRetired;
    expect(cpu.run(100)).toEqual({ reason: 'breakpoint', eip: CODE + 5 });
    expect(cpu.instructionsRetired - before).toBe(1);
    expect([cpu.getReg(Reg.EAX), cpu.getReg(Reg.EBX)]).toEqual([1, 0]);
    expect(cpu.run(100)).toEqual({ reason: 'breakpoint', eip: CODE + 5 });
    expect(cpu.instructionsRetired - before).toBe(1);
    expect(cpu.run(100, { resumeOverBreakpoint: true })).toMatchObject({ reason: 'halt' });
    expect([cpu.getReg(Reg.EBX), cpu.getReg(Reg.ECX)]).toEqual([2, 3]);
  });

  it('stop at every pass through a translated loop', async () => {
    const { cpu } = await bare({ translate: true });
    // L: inc eax; cmp eax, 10000; jne L; hlt
    code(cpu, [0x40, 0x3d, ...le(10000), 0x75, 0xf8, HLT]);
    expect(cpu.run(3000).reason).toBe('budget');
    expect(cpu.blocksTranslated).toBeGreaterThan(0);
    const eax = cpu.getReg(Reg.EAX);
    cpu.setBreakpoints([CODE]);
    let r = cpu.run(1_000_000);
    expect(r).toEqual({ reason: 'breakpoint', eip: CODE });
    const n = cpu.getReg(Reg.EAX);
    expect(n).toBeLessThanOrEqual(eax + 1);
    for (let i = 1; i <= 5; i++) {
      r = cpu.run(1_000_000, { resumeOverBreakpoint: true });
      expect(r).toEqual({ reason: 'breakpoint', eip: CODE });
      expect(cpu.getReg(Reg.EAX)).toBe(n + i);
    }
    cpu.setBreakpoints([]);
    expect(cpu.run(1_000_000).reason).toBe('halt');
    expect(cpu.getReg(Reg.EAX)).toBe(10000);
  });

  it("stop on an exception handler's first instruction, with the last exception recorded", async () => {
    const { cpu } = await bare();
    code(cpu, [0x31, 0xc9, 0xf7, 0xf1]); // xor ecx,ecx; div ecx
    expect(cpu.lastException()).toBeUndefined();
    cpu.setBreakpoints([HANDLERS]);
    expect(cpu.run(100)).toEqual({ reason: 'breakpoint', eip: HANDLERS });
    expect(cpu.getReg(Reg.ESP)).toBe(STACK - 12);
    expect(cpu.lastException()).toMatchObject({ vector: 0, eip: CODE + 2 });
    expect(cpu.lastException()!.errorCode).toBeUndefined();
    expect(cpu.run(100, { resumeOverBreakpoint: true }).reason).toBe('halt');
  });

  it('stop on the first instruction of a REP string instruction once, though the run ends inside it', async () => {
    const { cpu } = await bare();
    code(cpu, [0xb9, ...le(100), 0xbf, ...le(DATA), 0xf3, 0xaa, HLT]); // mov ecx,100; mov edi,DATA; rep stosb; hlt
    cpu.setBreakpoints([CODE + 10]);
    expect(cpu.run(1000)).toEqual({ reason: 'breakpoint', eip: CODE + 10 });
    expect(cpu.run(30, { resumeOverBreakpoint: true }).reason).toBe('budget');
    expect(cpu.eip).toBe(CODE + 10);
    expect(cpu.run(1000).reason).toBe('halt');
    expect(cpu.getReg(Reg.ECX)).toBe(0);
  });
});

describe('vector breaks', () => {
  it('#PF: stop after the delivery, EIP on the handler, with its error code', async () => {
    const { cpu } = await bare({ paging: true });
    code(cpu, [0x90, ...storeEax(UNMAPPED + 8)]); // nop; mov [UNMAPPED+8], eax
    cpu.setVectorBreaks([14]);
    const before = cpu.instructionsRetired;
    expect(cpu.run(100)).toEqual({ reason: 'vector', eip: HANDLERS + 14 * 0x10, vector: 14, errorCode: 2 });
    expect(cpu.getCr(2)).toBe(UNMAPPED + 8);
    expect(cpu.getReg(Reg.ESP)).toBe(STACK - 16);
    expect(cpu.lastException()).toEqual({ vector: 14, errorCode: 2, eip: CODE + 1, cr2: UNMAPPED + 8, instructions: before + 2 }); // (the faulting instruction counts)
    expect(cpu.run(100).reason).toBe('halt'); // the handler's hlt ran
    expect(cpu.eip).toBe(HANDLERS + 14 * 0x10 + 1);
  });

  it('INT n and a vector not in the mask', async () => {
    const { cpu } = await bare();
    code(cpu, [0xcd, 0x40, 0xcd, 0x41]); // int 0x40; int 0x41
    cpu.ram[HANDLERS + 0x40 * 0x10] = 0xcf; // iret
    cpu.setVectorBreaks([0x41]);
    expect(cpu.run(100)).toEqual({ reason: 'vector', eip: HANDLERS + 0x41 * 0x10, vector: 0x41 });
    cpu.setVectorBreaks([]);
    expect(cpu.run(100).reason).toBe('halt');
  });
});

describe('watchpoints', () => {
  /** Runs `bytes` at CODE with `watch` armed; returns the result. */
  async function watchRun(setup: Setup, bytes: number[], watch: Parameters<Cpu['setWatchpoints']>[0]): Promise<{ cpu: Cpu; r: RunResult }> {
    const { cpu } = await bare(setup);
    code(cpu, bytes);
    cpu.setWatchpoints(watch);
    return { cpu, r: cpu.run(1000) };
  }
  const dword = { address: DATA, length: 4, space: 'linear' as const };

  it('exact sizes: a byte below a watched dword does not hit, a dword overlapping it does', async () => {
    for (const paging of [false, true]) {
      let { r } = await watchRun({ paging }, [...storeAl(DATA - 1), ...storeAl(DATA + 4), ...loadEax(DATA - 4), HLT], [{ ...dword, kind: 'access' }]);
      expect(r.reason).toBe('halt');
      ({ r } = await watchRun({ paging }, [0x90, ...storeEax(DATA - 1), HLT], [{ ...dword, kind: 'write' }]));
      expect(r).toEqual({
        reason: 'watch', eip: CODE + 6,
        watch: { index: 0, linear: DATA - 1, physical: DATA - 1, size: 4, kind: 'write', eip: CODE + 1 },
      });
    }
  });

  it('reads, writes and both', async () => {
    const prog = [...storeEax(DATA + 2), ...loadAl(DATA + 3), HLT];
    let { r } = await watchRun({}, prog, [{ ...dword, kind: 'read' }]);
    expect(r.watch).toMatchObject({ kind: 'read', linear: DATA + 3, size: 1, eip: CODE + 5 });
    ({ r } = await watchRun({}, prog, [{ ...dword, kind: 'write' }]));
    expect(r.watch).toMatchObject({ kind: 'write', linear: DATA + 2, size: 4, eip: CODE });
    ({ r } = await watchRun({}, prog, [{ address: DATA + 3, length: 1, space: 'linear', kind: 'read' }, { ...dword, kind: 'access' }]));
    expect(r.watch).toMatchObject({ index: 1, kind: 'write', eip: CODE });
  });

  it('a physical watchpoint is hit through another linear alias', async () => {
    const { r } = await watchRun({ paging: true }, [...loadEax(DATA + 4), ...loadEax(ALIAS + 2), HLT],
      [{ address: DATA, length: 4, space: 'physical', kind: 'read' }]);
    expect(r.watch).toEqual({ index: 0, linear: ALIAS + 2, physical: DATA + 2, size: 4, kind: 'read', eip: CODE + 5 });
  });

  it('a linear watchpoint is not hit through another alias of the frame', async () => {
    const { r } = await watchRun({ paging: true }, [...loadEax(ALIAS), HLT], [{ ...dword, kind: 'access' }]);
    expect(r.reason).toBe('halt');
  });

  it('stack pushes and interrupt frames (implicit supervisor accesses) hit', async () => {
    let { r } = await watchRun({}, [0x90, 0x50, HLT], [{ address: STACK - 4, length: 4, space: 'linear', kind: 'write' }]); // push eax
    expect(r.watch).toMatchObject({ linear: STACK - 4, size: 4, kind: 'write', eip: CODE + 1 });
    ({ r } = await watchRun({}, [0xcd, 0x40], [{ address: STACK - 12, length: 1, space: 'linear', kind: 'write' }]));
    expect(r).toMatchObject({ reason: 'watch', eip: HANDLERS + 0x40 * 0x10, watch: { linear: STACK - 12, size: 4 } });
    ({ r } = await watchRun({}, [0xcd, 0x40], [{ address: IDT + 0x40 * 8 + 4, length: 1, space: 'physical', kind: 'read' }]));
    expect(r.watch).toMatchObject({ linear: IDT + 0x40 * 8 + 4, size: 4, kind: 'read' });
  });

  it('accesses that fault do not count, nor the accesses of an instruction that faults', async () => {
    let { cpu, r } = await watchRun({ paging: true }, [...loadEax(UNMAPPED), HLT], [{ address: UNMAPPED, length: 4, space: 'linear', kind: 'access' }]);
    expect(r).toMatchObject({ reason: 'halt', eip: HANDLERS + 14 * 0x10 + 1 });
    // movsd: the read of ESI (watched) succeeds, the write to EDI faults.
    ({ cpu, r } = await watchRun({ paging: true }, [0xbe, ...le(DATA), 0xbf, ...le(UNMAPPED), 0xa5, HLT], [{ ...dword, kind: 'read' }]));
    expect(r).toMatchObject({ reason: 'halt', eip: HANDLERS + 14 * 0x10 + 1 });
    expect(cpu.lastException()).toMatchObject({ vector: 14, eip: CODE + 10, cr2: UNMAPPED });
  });

  it('REP string instructions stop after the iteration that hit', async () => {
    const { cpu, r } = await watchRun({}, [0xb9, ...le(100), 0xbf, ...le(DATA - 10), 0xb0, 0x55, 0xf3, 0xaa, HLT], // mov ecx,100; mov edi,..; mov al,0x55; rep stosb
      [{ address: DATA, length: 1, space: 'physical', kind: 'write' }]);
    expect(r).toEqual({ reason: 'watch', eip: CODE + 12, watch: { index: 0, linear: DATA, physical: DATA, size: 1, kind: 'write', eip: CODE + 12 } });
    expect(cpu.getReg(Reg.ECX)).toBe(89);
    expect([cpu.ram[DATA], cpu.ram[DATA + 1]]).toEqual([0x55, 0]);
    expect(cpu.run(1000).reason).toBe('halt');
    expect(cpu.getReg(Reg.ECX)).toBe(0);
  });

  it('rep insb: the bulk port path is not taken over watched bytes', async () => {
    let bulk = 0;
    let cpu!: Cpu;
    const ports: PortHandlers = {
      portIn: () => 0xab,
      portOut: () => {},
      portInBlock: (_port, size, count, address) => { bulk++; cpu.ram.fill(0xab, address, address + size * count); return count; },
    };
    const prog = [0xb9, ...le(64), 0xbf, ...le(DATA - 16), 0xba, ...le(0x1f0), 0xf3, 0x6c, HLT]; // mov ecx; mov edi; mov edx; rep insb
    ({ cpu } = await bare({ ports }));
    code(cpu, prog);
    expect(cpu.run(1000).reason).toBe('halt');
    expect(bulk).toBeGreaterThan(0); // the fast path exists
    bulk = 0;
    ({ cpu } = await bare({ ports }));
    code(cpu, prog);
    cpu.setWatchpoints([{ address: DATA + 5, length: 1, space: 'linear', kind: 'write' }]);
    const r = cpu.run(1000);
    expect(r).toMatchObject({ reason: 'watch', watch: { linear: DATA + 5, size: 1, kind: 'write' } });
    expect(cpu.getReg(Reg.ECX)).toBe(64 - 22);
    expect(bulk).toBe(1); // the 16 bytes below DATA's page only
  });

  it('work with translation on, paging off and on', async () => {
    for (const paging of [false, true]) {
      // L: mov [DATA+8], eax; inc eax; cmp eax, 100000; jne L; mov [DATA], eax; hlt
      const { cpu } = await bare({ translate: true, paging });
      code(cpu, [0x89, 0x05, ...le(DATA + 8), 0x40, 0x3d, ...le(100000), 0x75, 0xf2, 0x89, 0x05, ...le(DATA), HLT]); // (mov r/m32 form: translatable)
      expect(cpu.run(3000).reason).toBe('budget');
      expect(cpu.blocksTranslated).toBeGreaterThan(0);
      cpu.setWatchpoints([{ address: DATA + 8, length: 4, space: paging ? 'physical' : 'linear', kind: 'write' }]);
      const eax = cpu.getReg(Reg.EAX);
      const r = cpu.run(100_000);
      expect(r).toMatchObject({ reason: 'watch', watch: { linear: DATA + 8, size: 4, eip: CODE } });
      expect(cpu.getReg(Reg.EAX)).toBeLessThanOrEqual(eax + 1);
      cpu.setWatchpoints([{ address: DATA, length: 4, space: 'linear', kind: 'write' }]);
      expect(cpu.run(1_000_000)).toMatchObject({ reason: 'watch', watch: { linear: DATA, eip: CODE + 14 } });
      expect(cpu.getReg(Reg.EAX)).toBe(100000);
    }
  });
});

// ---- on the Atlas kernel ----

const haveKernel = existsSync(kernelPath) && existsSync(imagePath);
const KERNBASE = 0xc0000000;

async function bootKernel() {
  const { machine, kernel, output } = await atlasMachine('quiet');
  return { machine, kernel, out: output };
}

/** A RunDebugger that collects debug stops (with `look` run at each) and resumes over them. */
function collector(cpu: Cpu, look: (r: RunResult) => void) {
  let resume = false;
  const stops: RunResult[] = [];
  return {
    stops,
    pause: () => undefined,
    execute(budget: number): RunResult {
      const r = cpu.run(budget, { resumeOverBreakpoint: resume });
      resume = false;
      if (r.reason === 'breakpoint' || r.reason === 'vector' || r.reason === 'watch') {
        stops.push(r);
        look(r);
        resume = true;
        return { reason: 'stopped', eip: r.eip };
      }
      return r;
    },
  };
}

describe.skipIf(!haveKernel)('on the Atlas kernel', () => {
  it("stops on the page-fault entry and at #PF's delivery, with the error code the CPU pushed", async () => {
    const { machine, kernel } = await bootKernel();
    const cpu = machine.cpu;
    const vectors = elfSymbols(kernel).get('vectors')!;
    const view = new DataView(machine.ram.buffer, machine.ram.byteOffset, machine.ram.byteLength);
    const entry = view.getUint32(vectors - KERNBASE + 14 * 4, true);
    expect(entry).toBeGreaterThan(KERNBASE);
    const seen: { eip: number; pushed: number; cr2: number; last: ReturnType<Cpu['lastException']>; r: RunResult }[] = [];
    const dbg = collector(cpu, (r) => {
      const p = cpu.walk(cpu.getReg(Reg.ESP)).physical!;
      seen.push({ eip: cpu.eip, pushed: view.getUint32(p, true), cr2: cpu.getCr(2), last: cpu.lastException(), r });
      if (seen.length === 3) { cpu.setBreakpoints([]); cpu.setVectorBreaks([14]); }
      if (seen.length === 6) cpu.setVectorBreaks([]);
    });
    cpu.setBreakpoints([entry]);
    const result = await machine.run({ maxInstructions: 40_000_000, debugger: dbg });
    expect(result.reason).toBe('max-instructions');
    expect(seen.map((s) => s.r.reason)).toEqual(['breakpoint', 'breakpoint', 'breakpoint', 'vector', 'vector', 'vector']);
    for (const s of seen) {
      expect(s.eip).toBe(entry);
      expect(s.last).toMatchObject({ vector: 14, errorCode: s.pushed, cr2: s.cr2 });
      if (s.r.reason === 'vector') expect(s.r).toMatchObject({ vector: 14, errorCode: s.pushed });
    }
    expect(new Set(seen.map((s) => s.last!.instructions)).size).toBe(6);
  }, 120_000);

  it('with nothing armed (or armed and never hit) runs exactly as without the hooks', async () => {
    const N = 15_000_000;
    const runOnce = async (arm: (cpu: Cpu) => void) => {
      const { machine, out } = await bootKernel();
      const cpu = machine.cpu;
      arm(cpu);
      const dbg = collector(cpu, () => {});
      const result = await machine.run({ maxInstructions: N, debugger: dbg });
      return { reason: result.reason, instructions: cpu.instructionsRetired, eip: cpu.eip, esp: cpu.getReg(Reg.ESP), out: out(), stops: dbg.stops.length };
    };
    const plain = await runOnce(() => {});
    expect(plain.out.length).toBeGreaterThan(0);
    const cleared = await runOnce((cpu) => {
      cpu.setBreakpoints([0xc0100000]);
      cpu.setVectorBreaks([14, 32]);
      cpu.setWatchpoints([{ address: 0x1000, length: 4096, space: 'physical', kind: 'access' }]);
      cpu.setBreakpoints([]);
      cpu.setVectorBreaks([]);
      cpu.setWatchpoints([]);
    });
    expect(cleared).toEqual(plain);
    const armed = await runOnce((cpu) => {
      cpu.setBreakpoints([0xfffffff0]);
      cpu.setVectorBreaks([0xfe]);
      cpu.setWatchpoints([{ address: 0xfffff000, length: 16, space: 'linear', kind: 'access' }]);
    });
    expect(armed).toEqual(plain);
  }, 180_000);
});
