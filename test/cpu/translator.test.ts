// The translator must be invisible: translated blocks leave exactly the
// state the interpreter leaves (registers, flags, memory, instruction
// count), including after self-modifying code and faults inside a block.
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cpu, Reg, Seg, packageRoot } from '../../emulator/host/cpu.js';
import { runBareMetal } from '../../emulator/host/baremetal.js';

const CODE = 0x1000;

function state(cpu: Cpu) {
  return {
    regs: [0, 1, 2, 3, 4, 5, 6, 7].map((r) => cpu.getReg(r as Reg)),
    eip: cpu.eip,
    eflags: cpu.eflags,
    instructions: cpu.instructionsRetired,
    ram: createHash('sha256').update(cpu.ram).digest('hex'),
  };
}

async function machine(translate: boolean): Promise<Cpu> {
  const cpu = await Cpu.create({ ramBytes: 0x20000, translate });
  cpu.setFlatProtectedMode(0);
  cpu.setReg(Reg.ESP, 0x10000);
  return cpu;
}

function runToEnd(cpu: Cpu) {
  let r = cpu.run(1000);
  while (r.reason === 'budget') r = cpu.run(1000);
  return r;
}

describe('translated code leaves the state the interpreter leaves', () => {
  for (const guest of ['demo', 'bench-int', 'bench-mem', 'bench-string']) {
    it(`${guest}: same exit, registers, flags, instruction count and memory`, async () => {
      const elf = readFileSync(join(packageRoot(), 'build', 'baremetal', `${guest}.elf`));
      const sink = { write: () => {} };
      const runs = await Promise.all([true, false].map((translate) =>
        runBareMetal(elf, { ramBytes: 32 << 20, stdout: sink, translate })));
      const [translated, interpreted] = runs.map((r) => ({ exit: r.exitCode, ...state(r.cpu) }));
      expect(translated).toEqual(interpreted);
    });
  }

  it('self-modifying code: a hot loop that rewrites its own immediate', async () => {
    const program = [
      0xb9, 0xe8, 0x03, 0x00, 0x00,        // mov ecx, 1000
      0xb8, 0x11, 0x11, 0x11, 0x11,        // loop: mov eax, 0x11111111   (immediate at 0x1006)
      0x01, 0xc2,                          // add edx, eax
      0x89, 0x0d, 0x06, 0x10, 0x00, 0x00,  // mov [0x1006], ecx
      0x49,                                // dec ecx
      0x75, 0xf0,                          // jnz loop
      0xf4,                                // hlt
    ];
    const results = [];
    for (const translate of [true, false]) {
      const cpu = await machine(translate);
      cpu.ram.set(program, CODE);
      cpu.eip = CODE;
      expect(runToEnd(cpu).reason).toBe('halt');
      // Translated, discarded by the write, translated again, ...
      if (translate) expect(cpu.blocksTranslated).toBeGreaterThan(2);
      results.push(state(cpu));
    }
    // The first pass adds the original immediate; pass k adds the ECX stored by pass k-1.
    expect(results[0]!.regs[Reg.EDX]).toBe((0x11111111 + (1000 + 2) * 999 / 2) >>> 0);
    expect(results[0]).toEqual(results[1]);
  });

  it('a fault inside a translated block restarts at the faulting instruction', async () => {
    const program = [
      0xbe, 0x00, 0x10, 0x00, 0x00,  // mov esi, 0x1000
      0x8b, 0x06,                    // loop: mov eax, [esi]
      0x01, 0xc3,                    // add ebx, eax
      0x83, 0xc6, 0x04,              // add esi, 4
      0xeb, 0xf7,                    // jmp loop
    ];
    const results = [];
    for (const translate of [true, false]) {
      const cpu = await machine(translate);
      // DS limited to 8 KiB: the loop runs off its end.
      cpu.setSegmentCache(Seg.DS, 0x10, 0, 0x1fff, 0x4093);
      for (let i = 0x1000; i < 0x2000; i++) cpu.ram[i] = i & 0xff;
      cpu.ram.set(program, CODE);
      cpu.eip = CODE;
      const r = runToEnd(cpu);
      expect(r).toMatchObject({ reason: 'exception', vector: 13, errorCode: 0, eip: CODE + 5 });
      expect(cpu.blocksTranslated).toBe(translate ? 1 : 0);
      results.push(state(cpu));
    }
    expect(results[0]!.regs[Reg.ESI]).toBe(0x2000);
    expect(results[0]).toEqual(results[1]);
  });
});

// Random straight-line programs over the forms the translator compiles
// inline (ALU, INC/DEC, shifts and rotates by constants, IMUL, conditions
// after each kind of flag-setting instruction), cut into blocks by Jcc +0
// and by instructions it leaves to the interpreter (CMC, CLC, STC, PUSHF,
// LAHF), so that flags are read inside blocks, at their exits and by the
// interpreter. Some memory accesses run into a missing page: the block
// leaves at the fault, which must find the state from before the faulting
// instruction (registers, EFLAGS, instruction count, CR2).
describe('translated blocks against the interpreter (random programs)', () => {
  const PROGRAM = 0x10000;
  const STACK = 0x20000;
  const DATA = 0x30000;        // present; the page after it is not
  const BASE = DATA + 0xfc0;   // EBX: [ebx+disp8] may run into the missing page
  const DIRECTORY = 0x1000, TABLE = 0x2000;
  const EDGES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];

  let seed = 0x2545f491;
  const random = (): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; };
  const pick = <T>(list: readonly T[]): T => list[random() % list.length]!;
  const chance = (percent: number): boolean => random() % 100 < percent;
  const value = (): number => (chance(50) ? pick(EDGES) : chance(50) ? random() : random() & 0xff) >>> 0;
  const le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

  const DEST32 = [0, 1, 2, 5, 6];     // not EBX (the base), ESP, EDI (a loop counter)
  const DEST8 = [0, 1, 2, 4, 5, 6];   // not BL, BH
  const modrm = (reg: number, rm: number): number => 0xc0 | (reg << 3) | rm;
  // [ebx+disp8]: mostly inside the page, sometimes across its end.
  const memory = (reg: number): number[] => [0x40 | (reg << 3) | 3, chance(15) ? 0x38 + (random() % 8) : (-0x80 + (random() % 0xb8)) & 0xff];
  /** A register or (sometimes) memory r/m operand with `reg` in the ModRM byte. */
  const rm = (reg: number, dest: readonly number[], memoryPercent = 20): number[] =>
    chance(memoryPercent) ? memory(reg) : [modrm(reg, pick(dest))];
  const cc = (): number => random() % 16;
  const SHIFT_KINDS = [0, 1, 2, 3, 4, 5, 7];
  const count = (): number => pick([0, 1, 2, 7, 8, 15, 16, 24, 31, 32, 33, random() & 0xff]);

  // Where a block starts (after a branch), in the bytes the generators return.
  const START = -1;
  /** After an instruction the interpreter runs: a JMP +0 (a block boundary), then `more`. */
  const interpreted = (...more: number[]): number[] => [0xeb, 0, START, ...more];

  /** An edge value into a register, an instruction setting flags from it, and one reading a condition. */
  function probe(): number[] {
    const r = pick(DEST32);
    const setter = pick([
      [0x40 + r], [0x48 + r], [0xff, modrm(random() % 2, r)], [0xfe, modrm(random() % 2, r)],
      [0x83, modrm(random() % 8, r), value() & 0xff], [0x81, modrm(random() % 8, r), ...le(value())],
      [0x01 + 8 * (random() % 8), modrm(random() % 8, r)], [0xf7, modrm(3, r)],
      [0xc1, modrm(pick(SHIFT_KINDS), r), count()], [0xd1, modrm(pick(SHIFT_KINDS), r)],
      [0xb1, count(), 0xd3, modrm(pick(SHIFT_KINDS), r)], // mov cl, count; shift by CL
      [0x6b, modrm(r, r), value() & 0xff],
    ]);
    const reader = pick([[0x0f, 0x90 + cc(), modrm(0, pick(DEST8))], [0x0f, 0x40 + cc(), modrm(pick(DEST32), random() % 8)],
      [0x70 + cc(), 0, START], [0x13 + 8 * (random() % 2), modrm(pick(DEST32), random() % 8)], [0x9c, ...interpreted(0x58 + pick(DEST32))]]);
    return [0xb8 + r, ...le(chance(75) ? pick(EDGES) : value()), ...setter, ...reader];
  }

  function instruction(): number[] {
    if (chance(25)) return probe();
    switch (random() % 24) {
      case 0: return [((random() % 8) << 3) | 1, ...rm(random() % 8, DEST32)];          // ALU r/m32, r32
      case 1: return [((random() % 8) << 3) | 3, modrm(pick(DEST32), random() % 8)];    // ALU r32, r32
      case 2: return [((random() % 8) << 3) | 3, ...memory(pick(DEST32))];              // ALU r32, m32
      case 3: return [(random() % 8) << 3, ...rm(random() % 8, DEST8)];                 // ALU r/m8, r8
      case 4: return [0x83, ...rm(random() % 8, DEST32), value() & 0xff];
      case 5: return [0x81, modrm(random() % 8, pick(DEST32)), ...le(value())];
      case 6: return [0x80, modrm(random() % 8, pick(DEST8)), value() & 0xff];
      case 7: case 8: return [(chance(50) ? 0x40 : 0x48) + pick(DEST32)];               // INC, DEC r32
      case 9: return [chance(50) ? 0xfe : 0xff, ...rm(random() % 2, chance(50) ? DEST8 : DEST32)];
      case 10: case 11: return [0xc1, modrm(pick(SHIFT_KINDS), pick(DEST32)), count()];
      case 12: return [0xd1, modrm(pick(SHIFT_KINDS), pick(DEST32))];
      case 13: { const op = pick([0xc0, 0xd0, 0xd2, 0xd3]); return [op, modrm(pick(SHIFT_KINDS), pick(op === 0xd3 ? DEST32 : DEST8)), ...(op === 0xc0 ? [count()] : [])]; }
      case 14: return [0xb9, ...le(count())];                                          // mov ecx, count
      case 15: return pick([[0xf7, modrm(pick([2, 3]), pick(DEST32))], [0xf6, modrm(pick([2, 3]), pick(DEST8))],
        [0x85, modrm(random() % 8, random() % 8)], [0xa9, ...le(value())], [0x84, modrm(random() % 8, random() % 8)]]);
      case 16: return pick([[0x0f, 0xaf, ...rm(pick(DEST32), [0, 1, 2, 3, 5, 6, 7])],
        [0x6b, modrm(pick(DEST32), random() % 8), value() & 0xff], [0x69, modrm(pick(DEST32), random() % 8), ...le(value())]]);
      case 17: case 18: return [0x0f, 0x90 + cc(), ...rm(0, DEST8, 10)];                // SETcc
      case 19: return [0x0f, 0x40 + cc(), modrm(pick(DEST32), random() % 8)];           // CMOVcc
      case 20: return pick([
        [0x70 + cc(), 0, START], [0x0f, 0x80 + cc(), 0, 0, 0, 0, START], // Jcc to the next instruction
        [0x70 + cc(), 2, 0x90, 0x90, START],                             // Jcc over two NOPs
        [0xeb, 3, 0xf4, 0xf4, 0xf4], [0xe9, 2, 0, 0, 0, 0xf4, 0xf4],      // JMP over HLTs
      ]);
      case 21: return chance(50) ? [0x89, ...memory(random() % 8)] : [0xb8 + pick(DEST32), ...le(value())];
      case 22: return [0x11 + 8 * (random() % 2), modrm(random() % 8, pick(DEST32))];   // ADC, SBB
      default: return [pick([0xf5, 0xf8, 0xf9, 0x9c, 0x9f]), ...interpreted(0x58 + pick(DEST32))]; // CMC CLC STC PUSHF LAHF, POP
    }
  }

  function program(): { code: number[]; starts: number[] } {
    const code: number[] = [];
    const starts = [PROGRAM];
    const emit = (bytes: number[]): void => {
      for (const b of bytes) {
        if (b === START) starts.push(PROGRAM + code.length);
        else code.push(b);
      }
    };
    const length = 8 + (random() % 40);
    for (let i = 0; i < length; i++) emit(instruction());
    if (chance(50)) {
      // A loop whose body is one block, jumping back to its own start:
      // mov edi, n; top: body; dec edi; jnz top (or jz out; jmp top, or
      // jmp top for ever, until the slices below end).
      emit([0xbf, ...le(1 + (random() % 100)), 0xeb, 0, START]);
      const top = code.length;
      for (let i = 1 + (random() % 20); i > 0; i--) {
        let insn = instruction();
        while (insn.includes(START)) insn = instruction();
        emit(insn);
      }
      emit([0x4f]);
      const kind = random() % 3;
      if (kind === 0) emit([0x0f, 0x85, ...le(top - (code.length + 6)), START]);
      else if (kind === 1) emit([0x74, 5, START, 0xe9, ...le(top - (code.length + 7)), START]);
      else emit([0xe9, ...le(top - (code.length + 5)), START]);
      for (let i = random() % 10; i > 0; i--) emit(instruction());
    }
    code.push(0xf4); // hlt
    return { code, starts };
  }

  async function pagedMachine(translate: boolean): Promise<Cpu> {
    const cpu = await Cpu.create({ ramBytes: 1 << 22, translate });
    const view = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
    cpu.setFlatProtectedMode(0);
    view.setUint32(DIRECTORY, TABLE | 3, true);
    for (let i = 0; i < 1024; i++) view.setUint32(TABLE + 4 * i, i === (DATA >>> 12) + 1 ? 0 : (i << 12) | 3, true);
    cpu.setCr(3, DIRECTORY);
    cpu.setCr(0, cpu.getCr(0) | 0x80000000);
    return cpu;
  }

  it('same registers, flags, memory, instruction count and faults', async () => {
    const cpus = await Promise.all([true, false].map(pagedMachine));
    const data = new Uint8Array(0x1000);
    let faults = 0, blocks = 0;
    for (let n = 0; n < 1000; n++) {
      const { code, starts } = program();
      for (let i = 0; i < data.length; i++) data[i] = random() & 0xff;
      const regs = [0, 1, 2, 3, 4, 5, 6, 7].map(() => value());
      const flags = 0x2 | (random() & 0x8d5);
      const slices = [0, 1, 2, 3].map(() => 1 + (random() % 400));
      const results = cpus.map((cpu, i) => {
        cpu.ram.set(code, PROGRAM);
        cpu.ram.set(data, DATA);
        cpu.discardTranslations();
        regs.forEach((v, r) => cpu.setReg(r as Reg, v));
        cpu.setReg(Reg.EBX, BASE);
        cpu.setReg(Reg.ESP, STACK);
        cpu.eflags = flags;
        cpu.setCr(2, 0);
        if (i === 0) for (const at of starts) blocks += cpu.translateNow(at) ? 1 : 0;
        cpu.eip = PROGRAM;
        // In slices of random lengths (the same for both): a block runs
        // only when the budget covers it, a loop only while it does.
        const trace = [];
        let r = cpu.run(slices[0]!);
        for (let k = 1; r.reason === 'budget' && k < 40; k++) {
          trace.push([cpu.eip, cpu.eflags, cpu.instructionsRetired, ...[0, 1, 2, 3, 4, 5, 6, 7].map((g) => cpu.getReg(g as Reg))]);
          r = cpu.run(slices[k % slices.length]!);
        }
        const memory = createHash('sha256').update(cpu.ram.subarray(DATA, DATA + 0x1000)).update(cpu.ram.subarray(STACK - 0x1000, STACK)).digest('hex');
        return { result: r, regs: [0, 1, 2, 3, 4, 5, 6, 7].map((g) => cpu.getReg(g as Reg)), eip: cpu.eip, eflags: cpu.eflags, instructions: cpu.instructionsRetired, cr2: cpu.getCr(2), trace, memory };
      });
      if (results[0]!.result.reason === 'exception') faults++;
      expect(results[0], `program ${n}: ${code.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`).toEqual(results[1]);
    }
    // Most programs are translated; a fair share of them fault.
    expect(blocks).toBeGreaterThan(1500);
    expect(faults).toBeGreaterThan(60);
  });
});
