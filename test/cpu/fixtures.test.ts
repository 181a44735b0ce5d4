// Every real-hardware fixture case, run on the core: zero mismatches.
import { describe, it, expect, beforeAll } from 'vitest';
import { fixtureFiles, loadFixtures, createCaseCpu, runCase } from './harness.js';
import type { Cpu } from '../../emulator/host/cpu.js';

const files = fixtureFiles();

describe('CPU against the real CPU (fixtures)', () => {
  let cpu: Cpu;
  beforeAll(async () => { cpu = await createCaseCpu(); });

  it('has at least 100,000 fixture cases', () => {
    const total = files.reduce((n, f) => n + loadFixtures(f).length, 0);
    expect(total).toBeGreaterThanOrEqual(100_000);
  });

  for (const file of files) {
    it(file.replace('.jsonl.gz', ''), () => {
      const cases = loadFixtures(file);
      const failures: string[] = [];
      let failed = 0;
      for (const c of cases) {
        const diffs = runCase(cpu, c)!;
        if (diffs.length > 0) {
          failed++;
          if (failures.length < 25) failures.push(`${c.form} [${c.code}] seed ${c.seed}: ${diffs.join('; ')}`);
        }
      }
      expect(failures, `${failed} of ${cases.length} cases differ`).toEqual([]);
    });
  }
});

// The same cases through the translator: each instruction compiled to a
// one-instruction wasm block and run from the translation cache.
describe('translated blocks against the real CPU (fixtures)', () => {
  let cpu: Cpu;
  beforeAll(async () => { cpu = await createCaseCpu(); });
  let translatedCases = 0;

  for (const file of files) {
    it(file.replace('.jsonl.gz', ''), () => {
      const failures: string[] = [];
      let failed = 0;
      for (const c of loadFixtures(file)) {
        const diffs = runCase(cpu, c, true);
        if (diffs === null) continue;
        translatedCases++;
        if (diffs.length > 0) {
          failed++;
          if (failures.length < 25) failures.push(`${c.form} [${c.code}] seed ${c.seed}: ${diffs.join('; ')}`);
        }
      }
      expect(failures, `${failed} translated cases differ`).toEqual([]);
    });
  }

  // The translator takes unprefixed 32-bit forms (47,016 cases when this was
  // written); prefixed and 16-bit forms stay with the interpreter.
  it('translates the bulk of the unprefixed 32-bit cases', () => {
    expect(translatedCases).toBeGreaterThanOrEqual(45_000);
  });
});
