// Exceptions and software interrupts delivered through the IDT, the stack
// switch through the TSS, IRET to the same and to an outer ring, #DF and the
// triple fault: the SDM's protected-mode rules, on hand-built tables.
import { describe, it, expect, beforeEach } from 'vitest';
import { Cpu, Reg, Seg } from '../../emulator/host/cpu.js';

const GDT = 0x1000, IDT = 0x2000, TSS = 0x3000;
const KERNEL_CODE = 0x10000, HANDLERS = 0x11000, USER_CODE = 0x20000;
const KERNEL_STACK = 0x9000, USER_STACK = 0x8000;
const INTERRUPT_GATE = 0xe, TRAP_GATE = 0xf;

let cpu: Cpu;
let view: DataView;

function descriptor(index: number, base: number, limit: number, access: number): void {
  const at = GDT + index * 8;
  view.setUint32(at, ((base & 0xffff) << 16) | (limit & 0xffff), true);
  view.setUint32(at + 4, (base & 0xff000000) | ((access & 0xf0ff) << 8) | (limit & 0xf0000) | ((base >>> 16) & 0xff), true);
}

function gate(vector: number, type: number, dpl: number, present = true): void {
  const handler = HANDLERS + vector * 0x10;
  const at = IDT + vector * 8;
  view.setUint32(at, (0x08 << 16) | (handler & 0xffff), true);
  view.setUint32(at + 4, (handler & 0xffff0000) | ((present ? 0x80 : 0) | (dpl << 5) | type) << 8, true);
}

function handler(vector: number, code: number[]): void {
  cpu.ram.set(code, HANDLERS + vector * 0x10);
}

function stack(at: number, words: number): number[] {
  return Array.from({ length: words }, (_, i) => view.getUint32(at + 4 * i, true));
}

beforeEach(async () => {
  cpu = await Cpu.create({ ramBytes: 1 << 20, deliverThroughIdt: true, translate: false });
  view = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
  descriptor(1, 0, 0xfffff, 0xc09b); // 0x08 ring-0 code
  descriptor(2, 0, 0xfffff, 0xc093); // 0x10 ring-0 data
  descriptor(3, 0, 0xfffff, 0xc0fb); // 0x1b ring-3 code
  descriptor(4, 0, 0xfffff, 0xc0f3); // 0x23 ring-3 data
  descriptor(5, TSS, 103, 0x0089);   // 0x28 available 32-bit TSS
  view.setUint32(TSS + 4, KERNEL_STACK, true); // ESP0
  view.setUint32(TSS + 8, 0x10, true);         // SS0
  cpu.setGdtr(GDT, 6 * 8 - 1);
  cpu.setIdtr(IDT, 256 * 8 - 1);
  cpu.setFlatProtectedMode(0);
  cpu.setReg(Reg.ESP, KERNEL_STACK);
  for (let v = 0; v < 32; v++) { gate(v, INTERRUPT_GATE, 0); handler(v, [0xf4]); } // hlt
  cpu.eip = KERNEL_CODE;
});

describe('delivery at the same privilege level', () => {
  it('#DE: frame of EFLAGS, CS, EIP of the faulting DIV; IF cleared by an interrupt gate', () => {
    cpu.ram.set([0xfb, 0x31, 0xc9, 0xf7, 0xf1], KERNEL_CODE); // sti; xor ecx,ecx; div ecx
    expect(cpu.run(10)).toMatchObject({ reason: 'halt', eip: HANDLERS + 1 });
    expect(cpu.getReg(Reg.ESP)).toBe(KERNEL_STACK - 12);
    const [eip, cs, eflags] = stack(KERNEL_STACK - 12, 3);
    expect([eip, cs]).toEqual([KERNEL_CODE + 3, 0x08]);
    expect(eflags! & 0x200).toBe(0x200); // IF as it was
    expect(cpu.eflags & 0x200).toBe(0);  // cleared for the handler
  });

  it('#GP pushes its error code: a bad selector loaded into DS', () => {
    cpu.ram.set([0x66, 0xb8, 0x50, 0x00, 0x8e, 0xd8], KERNEL_CODE); // mov ax,0x50; mov ds,ax
    expect(cpu.run(10)).toMatchObject({ reason: 'halt', eip: HANDLERS + 13 * 0x10 + 1 });
    expect(stack(KERNEL_STACK - 16, 4)).toEqual([0x50, KERNEL_CODE + 4, 0x08, 0x2]);
  });

  it('step() stops at the first instruction of the handler', () => {
    cpu.ram.set([0x0f, 0x0b], KERNEL_CODE); // ud2
    expect(cpu.step()).toMatchObject({ reason: 'delivered', vector: 6, eip: HANDLERS + 6 * 0x10 });
  });
});

describe('rings, the TSS and IRET', () => {
  // Ring 0: load TR, then IRET to ring-3 code on the ring-3 stack.
  const toUser = [
    0x66, 0xb8, 0x28, 0x00, 0x0f, 0x00, 0xd8,     // mov ax,0x28; ltr ax
    0x6a, 0x23, 0x68, ...le(USER_STACK), 0x9c,   // push 0x23; push USER_STACK; pushfd
    0x6a, 0x1b, 0x68, ...le(USER_CODE), 0xcf,    // push 0x1b; push USER_CODE; iret
  ];
  function le(v: number): number[] { return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24]; }

  beforeEach(() => {
    cpu.ram.set(toUser, KERNEL_CODE);
    gate(0x80, TRAP_GATE, 3);
    handler(0x80, [0xb8, 42, 0, 0, 0, 0xcf]); // mov eax,42; iret
    gate(0x81, INTERRUPT_GATE, 0);
  });

  it('IRET to ring 3 switches stacks, marks the TSS busy and nulls DS (DPL 0)', () => {
    cpu.ram.set([0xf4], USER_CODE); // hlt at ring 3: #GP
    expect(cpu.run(8).reason).toBe('budget');
    expect(cpu.cpl).toBe(3);
    expect(cpu.eip).toBe(USER_CODE);
    expect(cpu.getReg(Reg.ESP)).toBe(USER_STACK);
    expect(cpu.segmentSelector(Seg.SS)).toBe(0x23);
    expect(cpu.segmentSelector(Seg.DS)).toBe(0);
    expect(cpu.taskRegister).toBe(0x28);
    expect((cpu.ram[GDT + 5 * 8 + 5]! & 0xf)).toBe(0xb); // busy TSS
  });

  it('INT 0x80 from ring 3 runs the handler on the TSS stack and IRET returns to ring 3', () => {
    cpu.ram.set([0xcd, 0x80, 0xcd, 0x81], USER_CODE); // int 0x80; int 0x81
    // int 0x81's gate has DPL 0: #GP(0x81*8+2), delivered to the ring-0 #GP handler.
    expect(cpu.run(100)).toMatchObject({ reason: 'halt', eip: HANDLERS + 13 * 0x10 + 1 });
    expect(cpu.getReg(Reg.EAX)).toBe(42);
    expect(cpu.cpl).toBe(0);
    expect(cpu.getReg(Reg.ESP)).toBe(KERNEL_STACK - 24);
    const [error, eip, cs, , esp, ss] = stack(KERNEL_STACK - 24, 6);
    expect([error, eip, cs, esp, ss]).toEqual([0x81 * 8 + 2, USER_CODE + 2, 0x1b, USER_STACK, 0x23]);
  });
});

describe('double and triple faults', () => {
  it('a fault while delivering a fault becomes #DF with error code 0', () => {
    gate(13, INTERRUPT_GATE, 0, false); // #GP's gate not present: #NP while delivering #GP
    cpu.ram.set([0x66, 0xb8, 0x50, 0x00, 0x8e, 0xd8], KERNEL_CODE);
    expect(cpu.run(10)).toMatchObject({ reason: 'halt', eip: HANDLERS + 8 * 0x10 + 1 });
    expect(stack(KERNEL_STACK - 16, 4)).toEqual([0, KERNEL_CODE + 4, 0x08, 0x2]);
  });

  it('a fault while delivering #DF is a triple fault', () => {
    cpu.setIdtr(IDT, 0); // no gates at all
    cpu.ram.set([0x0f, 0x0b], KERNEL_CODE);
    expect(cpu.run(10)).toMatchObject({ reason: 'triple-fault', eip: KERNEL_CODE });
    expect(cpu.getReg(Reg.ESP)).toBe(KERNEL_STACK); // nothing was pushed
  });
});

describe('far transfers', () => {
  it('JMP ptr16:32 reloads CS; CALL far and RETF come back', () => {
    cpu.ram.set([
      0xea, ...le32(KERNEL_CODE + 7), 0x08, 0x00,       // jmp 0x08:next
      0x9a, ...le32(KERNEL_CODE + 0x40), 0x08, 0x00,    // call 0x08:far_function
      0xf4,                                             // hlt
    ], KERNEL_CODE);
    cpu.ram.set([0xb8, 7, 0, 0, 0, 0xcb], KERNEL_CODE + 0x40); // mov eax,7; retf
    expect(cpu.run(10)).toMatchObject({ reason: 'halt', eip: KERNEL_CODE + 15 });
    expect(cpu.getReg(Reg.EAX)).toBe(7);
    expect(cpu.getReg(Reg.ESP)).toBe(KERNEL_STACK);
    expect(cpu.segmentSelector(Seg.CS)).toBe(0x08);
  });

  it('a far jump to a data segment raises #GP(selector)', () => {
    cpu.ram.set([0xea, 0, 0, 0, 0, 0x10, 0x00], KERNEL_CODE);
    expect(cpu.run(10)).toMatchObject({ reason: 'halt', eip: HANDLERS + 13 * 0x10 + 1 });
    expect(stack(KERNEL_STACK - 16, 2)).toEqual([0x10, KERNEL_CODE]);
  });
});

describe('external interrupts, the STI shadow and single-stepping', () => {
  let acknowledged = 0;
  beforeEach(async () => {
    acknowledged = 0;
    cpu = await Cpu.create({
      ramBytes: 1 << 20, deliverThroughIdt: true, translate: false,
      acknowledgeInterrupt: () => { acknowledged++; cpu.setInterruptLine(false); return 0x20; },
    });
    view = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
    descriptor(1, 0, 0xfffff, 0xc09b);
    cpu.setGdtr(GDT, 2 * 8 - 1);
    cpu.setIdtr(IDT, 256 * 8 - 1);
    cpu.setFlatProtectedMode(0);
    cpu.setReg(Reg.ESP, KERNEL_STACK);
    for (let v = 0; v < 0x21; v++) { gate(v, INTERRUPT_GATE, 0); handler(v, [0xf4]); }
    handler(0x20, [0x40, 0xcf]); // inc eax; iret
    cpu.eip = KERNEL_CODE;
  });

  it('an interrupt is taken only after the instruction that follows STI', () => {
    cpu.ram.set([0xfb, 0x43, 0x43, 0xf4], KERNEL_CODE); // sti; inc ebx; inc ebx; hlt
    cpu.setInterruptLine(true);
    expect(cpu.run(1).reason).toBe('budget'); // sti
    expect(cpu.run(1).reason).toBe('budget'); // inc ebx: in the shadow
    expect(acknowledged).toBe(0);
    expect(cpu.getReg(Reg.EBX)).toBe(1);
    expect(cpu.run(2).reason).toBe('budget'); // the interrupt handler's inc eax, then iret
    expect(acknowledged).toBe(1);
    expect(cpu.getReg(Reg.EAX)).toBe(1);
    expect(cpu.eip).toBe(KERNEL_CODE + 2);
  });

  it('HLT waits across runs until an interrupt arrives, then resumes after it', () => {
    cpu.ram.set([0xfb, 0xf4, 0x43, 0xf4], KERNEL_CODE); // sti; hlt; inc ebx; hlt
    expect(cpu.run(10)).toMatchObject({ reason: 'halt', eip: KERNEL_CODE + 2 });
    expect(cpu.run(10)).toMatchObject({ reason: 'halt', eip: KERNEL_CODE + 2 }); // still waiting
    expect(cpu.instructionsRetired).toBe(2);
    cpu.setInterruptLine(true);
    expect(cpu.run(10)).toMatchObject({ reason: 'halt', eip: KERNEL_CODE + 4 });
    expect([cpu.getReg(Reg.EAX), cpu.getReg(Reg.EBX)]).toEqual([1, 1]);
  });

  it('TF set: #DB after each instruction, with EIP of the next one', () => {
    cpu.ram.set([0x43, 0x43], KERNEL_CODE);
    cpu.eflags = 0x102; // TF
    expect(cpu.run(10)).toMatchObject({ reason: 'halt', eip: HANDLERS + 0x10 + 1 });
    expect(cpu.getReg(Reg.EBX)).toBe(1);
    expect(stack(KERNEL_STACK - 12, 3)).toEqual([KERNEL_CODE + 1, 0x08, 0x102]);
    expect(cpu.eflags & 0x100).toBe(0); // cleared for the handler
  });
});

function le32(v: number): number[] { return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24]; }
