// Page reference strings recorded at the MMU (`--record-refs`): the file
// format, determinism, the pages belady's replay touches, and a run that
// records behaving exactly as one that does not.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pageKeys, parseReferenceFile, referenceFileHeader, REFS_HEADER_BYTES } from '../emulator/host/refs.js';
import { root } from './guests/run.js';

const cli = join(root, 'dist', 'atlas386.mjs');
const dir = mkdtempSync(join(tmpdir(), 'atlas-refs-'));

function atlas(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(r.status, r.stderr).toBe(0);
  return r;
}

/** Runs belady with its references recorded; returns the file's bytes and the run's stdout and stderr. */
function recordBelady(name: string) {
  const file = join(dir, name);
  const r = atlas('run', '--stats', '--record-refs', file, 'belady');
  return { bytes: readFileSync(file), stdout: r.stdout, stderr: r.stderr };
}

const instructions = (stderr: string): string => /([\d,]+) instructions/.exec(stderr)![1]!;

describe('reference files', () => {
  it('have an ATLASREF header, version 1, then (directory, page) pairs', () => {
    const body = new Uint8Array(REFS_HEADER_BYTES + 16);
    body.set(referenceFileHeader());
    new DataView(body.buffer).setUint32(16, 0x1ffd000, true);
    new DataView(body.buffer).setUint32(20, 0x8049, true);
    new DataView(body.buffer).setUint32(24, 0x2000, true);
    new DataView(body.buffer).setUint32(28, 0xbffff, true);
    const pairs = parseReferenceFile(body);
    expect([...pairs]).toEqual([0x1ffd000, 0x8049, 0x2000, 0xbffff]);
    expect([...pageKeys(pairs)]).toEqual([0x1ffd * 0x100000 + 0x8049, 2 * 0x100000 + 0xbffff]);
    expect(() => parseReferenceFile(body.subarray(0, 20))).toThrow(/truncated/);
    expect(() => parseReferenceFile(new Uint8Array(32))).toThrow(/not an Atlas386 reference file/);
  });
});

describe('atlas386 run --record-refs', () => {
  const first = recordBelady('a.refs');

  it('records the same references in every run, and says how many', () => {
    const second = recordBelady('b.refs');
    expect(second.bytes.equals(first.bytes)).toBe(true);
    const pairs = parseReferenceFile(first.bytes);
    expect(first.stderr).toContain(`atlas386: ${(pairs.length / 2).toLocaleString('en-US')} page references recorded in ${join(dir, 'a.refs')}`);
  });

  it('has user pages only, no reference twice in a row', () => {
    const pairs = parseReferenceFile(first.bytes);
    expect(pairs.length / 2).toBeGreaterThan(100);
    for (let i = 0; i < pairs.length; i += 2) {
      expect(pairs[i + 1]!).toBeLessThan(0xc0000);
      expect(pairs[i]! & 0xfff).toBe(0);
      if (i > 0) expect(pairs[i] === pairs[i - 2] && pairs[i + 1] === pairs[i - 1]).toBe(false);
    }
  });

  it("holds belady's replay: 1 2 3 4 1 2 5 1 2 3 4 5 on five consecutive pages of its mmap", () => {
    const pairs = parseReferenceFile(first.bytes);
    const pages = Array.from({ length: pairs.length / 2 }, (_, i) => pairs[2 * i + 1]!);
    const replay = '1 2 3 4 1 2 5 1 2 3 4 5';
    // The mmap is the 5-page range whose references, code and stack left
    // out, spell the string (once per number of frames belady replays with).
    const bases = [...new Set(pages)].filter((base) => {
      const inRange = pages.filter((p) => p >= base && p < base + 5).map((p) => p - base + 1);
      return inRange.join(' ').includes(replay);
    });
    expect(bases).toHaveLength(1);
    // Code and the stack sit elsewhere.
    expect(pages[0]).not.toBe(bases[0]);
  });

  it('leaves the run as it was: same output, same instructions', () => {
    const plain = atlas('run', '--stats', 'belady');
    expect(plain.stdout).toBe(first.stdout);
    expect(instructions(plain.stderr)).toBe(instructions(first.stderr));
    // The trace hash covers every interrupt's instruction count and every output byte.
    const trace = (...extra: string[]) => /trace ([0-9a-f]{8})/.exec(atlas('boot', '--verbose', '--cmdline', 'quiet init=/bin/belady', ...extra).stderr)![1];
    expect(trace('--record-refs', join(dir, 'c.refs'))).toBe(trace());
  });
});
