// Page reference strings recorded at the MMU (`--record-refs FILE`), and
// their file format.
//
// The core (emulator/core/refs.ts) records every user-mode access (CPL 3)
// to a linear address below 0xC0000000 as a pair (page directory, virtual
// page number): the page directory is CR3 with its low 12 bits cleared, and
// names the process. A reference equal to the one recorded just before is
// left out: consecutive repeats of a page never change the number of faults
// of any replacement policy (the page is resident after the first). Code
// fetches count when instruction fetch enters a page. A page directory that
// a later process reuses (same physical frame) is taken as the same address
// space.
//
// File format (little-endian throughout):
//
//   offset 0   8 bytes  magic "ATLASREF"
//   offset 8   u32      version (1)
//   offset 12  u32      0 (reserved)
//   offset 16  u32 pairs, one per reference: page directory (physical
//              address, 4 KiB aligned), virtual page number (linear >> 12)

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { ReferenceSink } from './cpu.js';

export const REFS_MAGIC = 'ATLASREF';
export const REFS_VERSION = 1;
export const REFS_HEADER_BYTES = 16;

export function referenceFileHeader(): Uint8Array {
  const header = new Uint8Array(REFS_HEADER_BYTES);
  header.set(new TextEncoder().encode(REFS_MAGIC), 0);
  new DataView(header.buffer).setUint32(8, REFS_VERSION, true);
  return header;
}

/** A sink that counts what it receives; the base of the file writer and the in-memory collector. */
export interface ReferenceRecorder {
  readonly sink: ReferenceSink;
  /** References received so far. */
  readonly count: number;
}

/** Writes references to a file as they come (the file is complete after close()). */
export class ReferenceFileWriter implements ReferenceRecorder {
  private fd: number;
  count = 0;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new Error(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    writeSync(this.fd, referenceFileHeader());
  }

  readonly sink: ReferenceSink = (pairs) => {
    // The view is of wasm memory, which is little-endian, as the file is.
    writeSync(this.fd, new Uint8Array(pairs.buffer, pairs.byteOffset, pairs.byteLength));
    this.count += pairs.length / 2;
  };

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Keeps references in memory (atlas386 compare computes OPT from them). */
export class ReferenceCollector implements ReferenceRecorder {
  private pairs = new Uint32Array(1 << 16);
  count = 0;

  readonly sink: ReferenceSink = (pairs) => {
    const need = this.count * 2 + pairs.length;
    if (need > this.pairs.length) {
      const grown = new Uint32Array(Math.max(need, this.pairs.length * 2));
      grown.set(this.pairs.subarray(0, this.count * 2));
      this.pairs = grown;
    }
    this.pairs.set(pairs, this.count * 2);
    this.count += pairs.length / 2;
  };

  /** (directory, page) pairs, 2 u32 per reference. */
  references(): Uint32Array {
    return this.pairs.subarray(0, this.count * 2);
  }
}

/** The (directory, page) pairs of a reference file's bytes; throws a one-line error if it is not one. */
export function parseReferenceFile(bytes: Uint8Array, name = 'reference file'): Uint32Array {
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (bytes.length < REFS_HEADER_BYTES || magic !== REFS_MAGIC) throw new Error(`${name}: not an Atlas386 reference file (no ${REFS_MAGIC} header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== REFS_VERSION) throw new Error(`${name}: reference file version ${version}, expected ${REFS_VERSION}`);
  const body = bytes.length - REFS_HEADER_BYTES;
  if (body % 8 !== 0) throw new Error(`${name}: truncated (${body} bytes of references, not a multiple of 8)`);
  const pairs = new Uint32Array(body / 4);
  for (let i = 0; i < pairs.length; i++) pairs[i] = view.getUint32(REFS_HEADER_BYTES + i * 4, true);
  return pairs;
}

export function readReferenceFile(path: string): Uint32Array {
  return parseReferenceFile(readFileSync(path), path);
}

/**
 * One number per reference naming the page globally: directory frame
 * number * 2^20 + virtual page number (both 20 bits, so exact in a double).
 */
export function pageKeys(pairs: Uint32Array): Float64Array {
  const keys = new Float64Array(pairs.length / 2);
  for (let i = 0; i < keys.length; i++) keys[i] = (pairs[2 * i]! >>> 12) * 0x100000 + pairs[2 * i + 1]!;
  return keys;
}
