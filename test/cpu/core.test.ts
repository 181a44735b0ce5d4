// What the real-hardware fixtures cannot reach: exceptions reported with a
// clean restart state, REP interruption and restart, instruction length,
// CPUID, and a small program end to end.
import { describe, it, expect, beforeEach } from 'vitest';
import { Cpu, Reg, Seg } from '../../emulator/host/cpu.js';

const CODE = 0x1000;
const DATA = 0x8000;

let cpu: Cpu;
let outputs: [number, number][];

async function machine(): Promise<Cpu> {
  outputs = [];
  const c = await Cpu.create({
    ramBytes: 0x20000,
    ports: {
      portIn: (port) => port & 0xff,
      portOut: (port, _size, value) => { outputs.push([port, value]); },
    },
  });
  c.setFlatProtectedMode(0);
  c.setReg(Reg.ESP, 0x10000);
  return c;
}

function load(bytes: number[], at = CODE): void {
  cpu.ram.set(bytes, at);
  cpu.eip = at;
}

function regs(): number[] {
  return [0, 1, 2, 3, 4, 5, 6, 7].map((r) => cpu.getReg(r as Reg));
}

beforeEach(async () => { cpu = await machine(); });

describe('exceptions leave the faulting instruction restartable', () => {
  it('DIV by zero raises #DE at the DIV with registers untouched', () => {
    load([0xb8, 0x34, 0x12, 0, 0, 0x31, 0xc9, 0xf7, 0xf1]); // mov eax,0x1234; xor ecx,ecx; div ecx
    expect(cpu.run(2).reason).toBe('budget');
    const before = regs();
    const flags = cpu.eflags;
    const r = cpu.run(1);
    expect(r).toMatchObject({ reason: 'exception', vector: 0, eip: CODE + 7 });
    expect(regs()).toEqual(before);
    expect(cpu.eflags).toBe(flags);
  });

  it('IDIV overflow (INT_MIN / -1) raises #DE', () => {
    // mov eax,0x80000000; cdq; mov ecx,-1; idiv ecx
    load([0xb8, 0, 0, 0, 0x80, 0x99, 0xb9, 0xff, 0xff, 0xff, 0xff, 0xf7, 0xf9]);
    expect(cpu.run(10)).toMatchObject({ reason: 'exception', vector: 0, eip: CODE + 11 });
    expect(cpu.getReg(Reg.EAX)).toBe(0x80000000);
  });

  it('AAM 0 raises #DE', () => {
    load([0xd4, 0x00]);
    expect(cpu.run(1)).toMatchObject({ reason: 'exception', vector: 0, eip: CODE });
  });

  it.each([
    ['UD2', [0x0f, 0x0b]],
    ['undefined 0F 04', [0x0f, 0x04]],
    ['LOCK on a register destination', [0xf0, 0x01, 0xc0]],
    ['LOCK on CMP', [0xf0, 0x39, 0x00]],
    ['LOCK on MOV', [0xf0, 0x89, 0x00]],
    ['LEA with a register operand', [0x8d, 0xc0]],
    ['MOV to CS', [0x8e, 0xc8]],
    ['CMPXCHG8B with a register operand', [0x0f, 0xc7, 0xc8]],
  ])('%s raises #UD at the instruction', (_name, bytes) => {
    load([0x90, ...bytes]);
    const r = cpu.run(5);
    expect(r).toMatchObject({ reason: 'exception', vector: 6, eip: CODE + 1 });
  });

  it('an instruction longer than 15 bytes raises #GP(0)', () => {
    load([...Array(15).fill(0x66), 0x90]);
    expect(cpu.run(1)).toMatchObject({ reason: 'exception', vector: 13, errorCode: 0, eip: CODE });
  });

  // add dword [eax+eax+disp32], imm32 is 11 bytes: four prefixes make 15, five make 16.
  const longAdd = [0x81, 0x84, 0x00, 0x00, 0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00];
  it('a 15-byte instruction executes, the same one with another prefix raises #GP(0)', () => {
    load([0x3e, 0x3e, 0x3e, 0x3e, ...longAdd, 0xf4]);
    expect(cpu.run(5)).toMatchObject({ reason: 'halt', eip: CODE + 16 });
    expect(cpu.ram[0x8000]).toBe(1);
    load([0x3e, 0x3e, 0x3e, 0x3e, 0x3e, ...longAdd, 0xf4]);
    expect(cpu.run(5)).toMatchObject({ reason: 'exception', vector: 13, errorCode: 0, eip: CODE });
    expect(cpu.ram[0x8000]).toBe(1);
    // The fetch window is whole again: the next instructions run normally.
    load([0x90, 0x90, 0xf4]);
    expect(cpu.run(5)).toMatchObject({ reason: 'halt', eip: CODE + 3 });
  });

  it.each([
    ['beyond the GDT limit', 0x1230],
    ['in the LDT with no LDT loaded', 0x1234],
  ])('MOV DS with a selector %s raises #GP(selector) and loads nothing', (_what, selector) => {
    cpu.setGdtr(0x100, 0x17);
    load([0x66, 0xb8, selector & 0xff, selector >> 8, 0x8e, 0xd8]); // mov ax, selector; mov ds, ax
    expect(cpu.run(2)).toMatchObject({ reason: 'exception', vector: 13, errorCode: selector, eip: CODE + 4 });
    expect(cpu.segmentSelector(Seg.DS)).toBe(0x10);
  });

  it('POP SS with a null selector raises #GP(0) and pops nothing', () => {
    load([0x6a, 0x00, 0x17]); // push 0; pop ss
    const r = cpu.run(2);
    expect(r).toMatchObject({ reason: 'exception', vector: 13, errorCode: 0, eip: CODE + 2 });
    expect(cpu.getReg(Reg.ESP)).toBe(0x10000 - 4);
  });
});

describe('REP string instructions are interruptible and restartable', () => {
  const copy = [0xfc, 0xbe, ...le(DATA), 0xbf, ...le(DATA + 0x1000), 0xb9, ...le(100), 0xf3, 0xa4, 0xf4];

  function le(v: number): number[] { return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24]; }

  it('stops between iterations with EIP on the instruction and resumes', () => {
    for (let i = 0; i < 100; i++) cpu.ram[DATA + i] = i * 7;
    load(copy);
    const repAt = CODE + 16;
    // 4 setup instructions, then 10 iterations of the REP.
    expect(cpu.run(14).reason).toBe('budget');
    expect(cpu.eip).toBe(repAt);
    expect(cpu.getReg(Reg.ECX)).toBe(90);
    expect(cpu.getReg(Reg.ESI)).toBe(DATA + 10);
    expect(cpu.getReg(Reg.EDI)).toBe(DATA + 0x1000 + 10);
    expect(Array.from(cpu.ram.subarray(DATA + 0x1000, DATA + 0x1000 + 11))).toEqual(
      [...Array.from({ length: 10 }, (_, i) => (i * 7) & 0xff), 0]);
    // Resume in uneven slices; the copy completes exactly once.
    let guard = 0;
    while (cpu.run(7).reason === 'budget' && guard++ < 100);
    expect(cpu.eip).toBe(repAt + 3); // stopped by HLT after the REP
    expect(cpu.getReg(Reg.ECX)).toBe(0);
    for (let i = 0; i < 100; i++) expect(cpu.ram[DATA + 0x1000 + i]).toBe((i * 7) & 0xff);
    expect(cpu.instructionsRetired).toBe(4 + 100 + 1);
  });

  it('REPE CMPSB stops at the first difference', () => {
    cpu.ram.set([1, 2, 3, 4, 5], DATA);
    cpu.ram.set([1, 2, 9, 4, 5], DATA + 0x100);
    load([0xfc, 0xbe, ...le(DATA), 0xbf, ...le(DATA + 0x100), 0xb9, ...le(5), 0xf3, 0xa6]);
    cpu.run(4);
    expect(cpu.step().reason).toBe('budget');
    expect(cpu.getReg(Reg.ECX)).toBe(2);
    expect(cpu.getReg(Reg.ESI)).toBe(DATA + 3);
    expect(cpu.eflags & 0x40).toBe(0); // ZF clear: they differ
  });

  it('REP with ECX = 0 does nothing', () => {
    load([0x31, 0xc9, 0xf3, 0xab]); // xor ecx,ecx; rep stosd
    cpu.setReg(Reg.EDI, DATA);
    cpu.run(2);
    expect(cpu.eip).toBe(CODE + 4);
    expect(cpu.getReg(Reg.EDI)).toBe(DATA);
  });
});

describe('system-facing instructions', () => {
  it('CPUID describes an i686 with exactly PSE, TSC, MSR, CX8, PGE and CMOV', () => {
    load([0x31, 0xc0, 0x0f, 0xa2]);
    cpu.run(2);
    const vendor = Buffer.alloc(12);
    vendor.writeUInt32LE(cpu.getReg(Reg.EBX), 0);
    vendor.writeUInt32LE(cpu.getReg(Reg.EDX), 4);
    vendor.writeUInt32LE(cpu.getReg(Reg.ECX), 8);
    expect(vendor.toString('latin1')).toBe('Atlas386i686');
    expect(cpu.getReg(Reg.EAX)).toBe(1);
    load([0xb8, 1, 0, 0, 0, 0x0f, 0xa2]);
    cpu.run(2);
    expect((cpu.getReg(Reg.EAX) >> 8) & 0xf).toBe(6);
    expect(cpu.getReg(Reg.EDX)).toBe((1 << 3) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 13) | (1 << 15));
  });

  it('RDTSC counts executed instructions; WRMSR 0x10 sets it; other MSRs #GP(0)', () => {
    // nop; nop; rdtsc; mov ecx,0x10; xor eax,eax; xor edx,edx; wrmsr; rdtsc; mov ecx,0x1b; rdmsr
    load([0x90, 0x90, 0x0f, 0x31, 0x89, 0xc6, 0xb9, 0x10, 0, 0, 0, 0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x30,
      0x0f, 0x31, 0xb9, 0x1b, 0, 0, 0, 0x0f, 0x32]);
    expect(cpu.run(3).reason).toBe('budget');
    expect(cpu.getReg(Reg.EAX)).toBe(3); // the RDTSC is the third instruction
    expect(cpu.run(6).reason).toBe('budget');
    expect(cpu.getReg(Reg.EAX)).toBe(1); // one instruction after the TSC was set to 0
    expect(cpu.run(2)).toMatchObject({ reason: 'exception', vector: 13, errorCode: 0 });
  });

  it.each([
    ['CR0.PG without PE', [0xb8, 0, 0, 0, 0x80, 0x0f, 0x22, 0xc0]],        // mov eax,0x80000000; mov cr0,eax
    ['CR0.NW without CD', [0xb8, 0x11, 0, 0, 0x20, 0x0f, 0x22, 0xc0]],     // mov eax,0x20000011; mov cr0,eax
    ['a CR4 bit of a feature CPUID does not report', [0xb8, 0x20, 0, 0, 0, 0x0f, 0x22, 0xe0]], // PAE
  ])('MOV to a control register: %s is #GP(0)', (_what, bytes) => {
    load(bytes);
    expect(cpu.run(2)).toMatchObject({ reason: 'exception', vector: 13, errorCode: 0, eip: CODE + 5 });
  });

  it('OUT and IN reach the host port handlers', () => {
    load([0xb0, 0x41, 0xe6, 0xe9, 0x66, 0xba, 0xf4, 0x00, 0xee, 0xe4, 0x42]);
    cpu.run(5);
    expect(outputs).toEqual([[0xe9, 0x41], [0xf4, 0x41]]);
    expect(cpu.getReg(Reg.EAX) & 0xff).toBe(0x42);
  });

  it('IN at CPL 3 with IOPL 0 raises #GP(0)', () => {
    cpu.setFlatProtectedMode(3);
    load([0xe4, 0x60]);
    expect(cpu.run(1)).toMatchObject({ reason: 'exception', vector: 13, errorCode: 0 });
  });

  it('HLT stops the run after the instruction', () => {
    load([0x90, 0xf4, 0x90]);
    expect(cpu.run(10)).toMatchObject({ reason: 'halt', eip: CODE + 2 });
  });
});

describe('a small program', () => {
  it('sums 1..100 in a loop with a call, and counts its instructions', () => {
    // mov ecx,100; xor eax,eax; call add; loop -3 ... ; hlt ; add: add eax,ecx; ret
    load([
      0xb9, 100, 0, 0, 0,       // mov ecx, 100
      0x31, 0xc0,               // xor eax, eax
      0xe8, 0x03, 0, 0, 0,      // l: call add
      0xe2, 0xf9,               // loop l
      0xf4,                     // hlt
      0x01, 0xc8,               // add: add eax, ecx
      0xc3,                     // ret
    ]);
    expect(cpu.run(10_000).reason).toBe('halt');
    expect(cpu.getReg(Reg.EAX)).toBe(5050);
    expect(cpu.instructionsRetired).toBe(2 + 100 * 4 + 1);
    expect(cpu.getReg(Reg.ESP)).toBe(0x10000);
  });
});
