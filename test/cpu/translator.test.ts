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
