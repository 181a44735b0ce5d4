// Machine snapshots, the host's part (issue 8): the devices' state and the
// disks' contents. The CPU core's state is Cpu.saveState() (a copy of the
// wasm memory with the core's globals in it, emulator/core/snapshot.ts);
// Machine.snapshot() puts the three together.
//
// Devices: captured field by field (DeviceState), so a field added to a
// device is in the snapshot without anyone listing it. The rules:
//  - objects of a class (devices, their counters and drives, the clock, the
//    trace) are restored in place, field by field: closures that captured
//    them (IRQ lines, clock events) stay valid;
//  - plain data (numbers, strings, arrays, plain objects, typed arrays, Maps,
//    Sets) is copied, preserving sharing: a clock event that a device holds
//    and the clock's queue holds is one object before and after a restore,
//    so the device can still cancel it. Arrays, typed arrays, Maps and Sets
//    that a field already holds are refilled in place;
//  - functions (event callbacks, IRQ wiring) are kept by reference; they
//    belong to the objects restored in place;
//  - objects given as `external` (disk images, the CPU, the port bus, the
//    output sink) are kept by reference and not looked into.
//
// Disks: copy-on-write (DiskHistory). Each snapshot opens a journal of the
// disk's 4 KiB chunks: the first write to a chunk after the snapshot saves
// the chunk's contents as they were. Restoring snapshot k undoes the
// journals from the newest back to k's; the snapshots taken after k are
// then invalid (their journals are gone) and restoring one throws.
// Discarding a snapshot merges its journal into the one before it.

import type { DiskImage } from '../devices/ata.js';

// ---- devices ----

type Container = unknown[] | Map<unknown, unknown> | Set<unknown> | ArrayBufferView | Record<string, unknown>;

function isClassInstance(v: object): boolean {
  if (Array.isArray(v) || ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set) return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto !== null && proto !== Object.prototype;
}

interface InPlace { target: object; fields: [string, unknown][] }

/** The state of a set of objects (see the file comment). */
export class DeviceState {
  private readonly records: InPlace[] = [];

  /**
   * Captures `roots` (and every class instance reachable from them through
   * plain data) except `external` objects. `only` limits a root to some of
   * its fields.
   */
  constructor(roots: { target: object; only?: readonly string[] }[], private readonly external: ReadonlySet<object>) {
    const memo = new Map<object, unknown>();
    const visited = new Set<object>();
    const pending: { target: object; only?: readonly string[] }[] = [...roots];
    const clone = (v: unknown): unknown => this.copy(v, memo, (o) => {
      if (!visited.has(o)) pending.push({ target: o });
    });
    while (pending.length > 0) {
      const { target, only } = pending.shift()!;
      if (visited.has(target)) continue;
      visited.add(target);
      const keys = only ?? Object.keys(target);
      const fields: [string, unknown][] = keys.map((k) => [k, clone((target as Record<string, unknown>)[k])]);
      this.records.push({ target, fields });
    }
  }

  /** Puts every captured field back (the snapshot stays reusable). */
  restore(): void {
    const memo = new Map<object, unknown>();
    for (const { target, fields } of this.records) {
      const t = target as Record<string, unknown>;
      for (const [k, saved] of fields) t[k] = this.refill(t[k], saved, memo);
    }
  }

  /** A copy of `saved` into `current` when both are containers of one kind (keeps its identity), else a fresh copy. */
  private refill(current: unknown, saved: unknown, memo: Map<object, unknown>): unknown {
    if (current === saved || typeof saved !== 'object' || saved === null || memo.has(saved)) return this.copy(saved, memo);
    if (this.external.has(saved) || isClassInstance(saved)) return saved;
    if (Array.isArray(saved) && Array.isArray(current)) {
      memo.set(saved, current);
      current.splice(0, current.length, ...saved.map((x) => this.copy(x, memo)));
      return current;
    }
    if (ArrayBuffer.isView(saved) && ArrayBuffer.isView(current) && saved.constructor === current.constructor &&
        saved.byteLength === current.byteLength && !(saved instanceof DataView)) {
      memo.set(saved, current);
      (current as Uint8Array).set(saved as Uint8Array);
      return current;
    }
    if (saved instanceof Map && current instanceof Map) {
      memo.set(saved, current);
      current.clear();
      for (const [k, v] of saved) current.set(this.copy(k, memo), this.copy(v, memo));
      return current;
    }
    if (saved instanceof Set && current instanceof Set) {
      memo.set(saved, current);
      current.clear();
      for (const v of saved) current.add(this.copy(v, memo));
      return current;
    }
    return this.copy(saved, memo);
  }

  /** Plain data copied (sharing preserved through `memo`); class instances, functions and external objects as they are. */
  private copy(v: unknown, memo: Map<object, unknown>, reached?: (o: object) => void): unknown {
    if (typeof v !== 'object' || v === null) return v; // primitives, functions
    if (this.external.has(v)) return v;
    if (isClassInstance(v)) { reached?.(v); return v; }
    const known = memo.get(v);
    if (known !== undefined) return known;
    const c = v as Container;
    if (Array.isArray(c)) {
      const out: unknown[] = [];
      memo.set(v, out);
      for (const x of c) out.push(this.copy(x, memo, reached));
      return out;
    }
    if (ArrayBuffer.isView(c)) {
      if (c instanceof DataView) throw new Error('snapshot: DataView fields are not supported');
      const out = (c as Uint8Array).slice();
      memo.set(v, out);
      return out;
    }
    if (c instanceof Map) {
      const out = new Map<unknown, unknown>();
      memo.set(v, out);
      for (const [k, x] of c) out.set(this.copy(k, memo, reached), this.copy(x, memo, reached));
      return out;
    }
    if (c instanceof Set) {
      const out = new Set<unknown>();
      memo.set(v, out);
      for (const x of c) out.add(this.copy(x, memo, reached));
      return out;
    }
    const out: Record<string, unknown> = {};
    memo.set(v, out);
    for (const [k, x] of Object.entries(c)) out[k] = this.copy(x, memo, reached);
    return out;
  }
}

// ---- disks ----

export const CHUNK_BYTES = 4096;
const SECTOR_BYTES = 512;
const CHUNK_SECTORS = CHUNK_BYTES / SECTOR_BYTES;

/**
 * Undo journals of one disk, one per live snapshot, oldest first: journal i
 * holds the chunks written after snapshot i (until snapshot i + 1), as they
 * were before that first write.
 */
export class DiskHistory {
  private readonly journals: Map<number, Uint8Array>[] = [];
  private undoing = false;
  /** Bytes held by the journals. */
  bytes = 0;

  constructor(readonly disk: DiskImage) {
    disk.beforeWrite = (lba, count) => this.noteWrite(lba, count);
  }

  private noteWrite(lba: number, count: number): void {
    const journal = this.journals[this.journals.length - 1];
    if (!journal || this.undoing || count <= 0) return;
    for (let chunk = Math.floor(lba / CHUNK_SECTORS); chunk <= Math.floor((lba + count - 1) / CHUNK_SECTORS); chunk++) {
      if (journal.has(chunk)) continue;
      const first = chunk * CHUNK_SECTORS;
      const sectors = Math.min(CHUNK_SECTORS, this.disk.sectors - first);
      const saved = new Uint8Array(sectors * SECTOR_BYTES);
      this.disk.read(first, sectors, saved, 0);
      journal.set(chunk, saved);
      this.bytes += saved.length;
    }
  }

  /** A new snapshot: its journal starts empty. */
  push(): void { this.journals.push(new Map()); }

  /** Back to snapshot `index`: undoes the journals from the newest to its own; the later ones are dropped. */
  rollback(index: number): void {
    this.undoing = true;
    try {
      for (let i = this.journals.length - 1; i >= index; i--) {
        for (const [chunk, saved] of this.journals[i]!) this.disk.write(chunk * CHUNK_SECTORS, saved.length / SECTOR_BYTES, saved, 0);
      }
    } finally {
      this.undoing = false;
    }
    for (const journal of this.journals.splice(index + 1)) this.bytes -= journalBytes(journal);
    this.bytes -= journalBytes(this.journals[index]!);
    this.journals[index]!.clear();
  }

  /** Snapshot `index` is dropped: its journal is merged into the previous one (whose snapshot still needs it). */
  remove(index: number): void {
    const [journal] = this.journals.splice(index, 1);
    const previous = this.journals[index - 1];
    for (const [chunk, saved] of journal!) {
      if (previous && !previous.has(chunk)) previous.set(chunk, saved);
      else this.bytes -= saved.length;
    }
  }
}

function journalBytes(journal: Map<number, Uint8Array>): number {
  let n = 0;
  for (const saved of journal.values()) n += saved.length;
  return n;
}
