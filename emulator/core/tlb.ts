// The translation lookaside buffers: caches of linear-to-physical
// translations, shaped like a Pentium II's (P6 family) by default:
//
//   instruction TLB, 4 KiB pages:  32 entries, 4-way
//   instruction TLB, 4 MiB pages:   2 entries, fully associative
//   data TLB, 4 KiB pages:         64 entries, 4-way
//   data TLB, 4 MiB pages:          8 entries, 4-way
//
// The host may choose other geometries (setGeometry). A set is chosen by the
// low bits of the page number; a fill takes an invalid way if the set has
// one, else the ways in turn (FIFO replacement: cheap, deterministic, and
// independent of hits, so the fast path below needs no bookkeeping).
//
// The architectural rule is the point: a cached translation is used until
// INVLPG, a CR3 load (non-global entries), a paging-mode change or an
// eviction removes it, however the page tables change meanwhile. An entry
// holds what the walk found: the frame, the combined U/S and R/W rights of
// the PDE and PTE, whether the entry was dirty, and whether it is global.
//
// In front of the data TLB sits a direct-mapped "fast" table per kind of
// access (supervisor read/write, user read/write) that the inline path of
// every memory access checks first. It only ever holds translations that
// are in the data TLB and allow that access, and it loses them whenever the
// TLB does, so it changes nothing the guest can see.

import { recording } from "./refs";
import { watching } from "./debug";

export const TLB_CODE_4K = 0, TLB_CODE_4M = 1, TLB_DATA_4K = 2, TLB_DATA_4M = 3;
const TLB_COUNT = 4;

export const MAX_TLB_ENTRIES: u32 = 1024;

// Entry flags.
export const ENTRY_VALID: u32 = 1, ENTRY_USER: u32 = 2, ENTRY_WRITABLE: u32 = 4,
  ENTRY_DIRTY: u32 = 8, ENTRY_GLOBAL: u32 = 16;

// Per TLB: entries, ways, and sets - 1 (the mask that picks a set).
const GEOMETRY: usize = memory.data<u32>([32, 4, 7, 2, 2, 0, 64, 4, 15, 8, 4, 1]);
// Entries: page number (linear >> 12, or >> 22 for 4 MiB), physical base, flags.
const ENTRY_BYTES: u32 = 12;
const ENTRIES: usize = memory.data(<i32>(TLB_COUNT * MAX_TLB_ENTRIES * ENTRY_BYTES));
// Per set: the way the next fill replaces.
const NEXT_WAY: usize = memory.data(<i32>(TLB_COUNT * MAX_TLB_ENTRIES * 2));

@inline function entryCount(tlb: i32): u32 { return load<u32>(GEOMETRY + <usize>tlb * 12); }
@inline function wayCount(tlb: i32): u32 { return load<u32>(GEOMETRY + <usize>tlb * 12 + 4); }
@inline function setMask(tlb: i32): u32 { return load<u32>(GEOMETRY + <usize>tlb * 12 + 8); }
@inline function entryAddress(tlb: i32, index: u32): usize {
  return ENTRIES + <usize>((<u32>tlb * MAX_TLB_ENTRIES + index) * ENTRY_BYTES);
}
@inline export function entryPage(tlb: i32, index: u32): u32 { return load<u32>(entryAddress(tlb, index)); }
@inline export function entryFrame(tlb: i32, index: u32): u32 { return load<u32>(entryAddress(tlb, index) + 4); }
@inline export function entryFlags(tlb: i32, index: u32): u32 { return load<u32>(entryAddress(tlb, index) + 8); }

@inline function isLarge(tlb: i32): bool { return (tlb & 1) != 0; }
@inline function pageNumber(tlb: i32, linear: u32): u32 { return isLarge(tlb) ? linear >>> 22 : linear >>> 12; }

// ---- counters (the host reads them; see index.ts) ----

export let countHits: u64 = 0;      // lookups that found a translation (fast table included)
export let countMisses: u64 = 0;
export let countWalks: u64 = 0;     // page walks (misses, and writes to entries not yet dirty)
export let countAccessedDirty: u64 = 0; // A or D bits the walker set in memory
export let countFullFlushes: u64 = 0;   // CR3 loads and paging-mode changes
export let countPageFlushes: u64 = 0;   // INVLPG
export let countEvictions: u64 = 0;     // valid entries replaced by a fill
export let countPageFaults: u64 = 0;

export function noteWalk(): void { countWalks++; }
export function noteAccessedDirty(): void { countAccessedDirty++; }
export function notePageFault(): void { countPageFaults++; }
export function resetCounters(): void {
  countHits = 0; countMisses = 0; countWalks = 0; countAccessedDirty = 0;
  countFullFlushes = 0; countPageFlushes = 0; countEvictions = 0; countPageFaults = 0;
}

// ---- geometry ----

// False (and nothing changes) unless `ways` divides `entries` into a power
// of two of sets and `entries` is at most MAX_TLB_ENTRIES.
export function setGeometry(tlb: i32, entries: u32, ways: u32): bool {
  if (tlb < 0 || tlb >= TLB_COUNT || entries == 0 || ways == 0 || entries > MAX_TLB_ENTRIES || entries % ways != 0) return false;
  const sets = entries / ways;
  if ((sets & (sets - 1)) != 0) return false;
  store<u32>(GEOMETRY + <usize>tlb * 12, entries);
  store<u32>(GEOMETRY + <usize>tlb * 12 + 4, ways);
  store<u32>(GEOMETRY + <usize>tlb * 12 + 8, sets - 1);
  memory.fill(NEXT_WAY + ((<usize>tlb * MAX_TLB_ENTRIES) << 1), 0, MAX_TLB_ENTRIES * 2);
  flushAll(false);
  countFullFlushes--; // the host's doing, not the guest's
  return true;
}
export function geometryEntries(tlb: i32): u32 { return entryCount(tlb); }
export function geometryWays(tlb: i32): u32 { return wayCount(tlb); }

// ---- lookup and fill ----

// The index of the valid entry for `linear` in `tlb`, or -1.
export function find(tlb: i32, linear: u32): i32 {
  const ways = wayCount(tlb);
  const page = pageNumber(tlb, linear);
  const first = (page & setMask(tlb)) * ways;
  for (let i = first; i < first + ways; i++) {
    const at = entryAddress(tlb, i);
    if (load<u32>(at) == page && (load<u32>(at + 8) & ENTRY_VALID) != 0) return <i32>i;
  }
  return -1;
}

export function noteHit(): void { countHits++; }
export function noteMiss(): void { countMisses++; }

// Caches a translation the TLB does not hold (the caller looked, or
// forgot the old one); returns its index.
export function fill(tlb: i32, linear: u32, frame: u32, flags: u32): u32 {
  const ways = wayCount(tlb);
  const page = pageNumber(tlb, linear);
  const set = page & setMask(tlb);
  const first = set * ways;
  let index: i32 = -1;
  for (let i = first; i < first + ways; i++) {
    if ((entryFlags(tlb, i) & ENTRY_VALID) == 0) { index = <i32>i; break; }
  }
  if (index < 0) {
    const next = NEXT_WAY + ((<usize>tlb * MAX_TLB_ENTRIES + set) << 1);
    const way = <u32>load<u16>(next);
    store<u16>(next, <u16>(way + 1 == ways ? 0 : way + 1));
    index = <i32>(first + way);
    countEvictions++;
    forget(tlb, <u32>index);
  }
  const at = entryAddress(tlb, <u32>index);
  store<u32>(at, page);
  store<u32>(at + 4, frame);
  store<u32>(at + 8, flags | ENTRY_VALID);
  return <u32>index;
}

// Removes one entry (and anything the fast tables derived from it).
export function forget(tlb: i32, index: u32): void {
  const at = entryAddress(tlb, index);
  const flags = load<u32>(at + 8);
  if ((flags & ENTRY_VALID) == 0) return;
  store<u32>(at + 8, 0);
  if (tlb == TLB_DATA_4K) forgetFastPage(load<u32>(at));
  else if (tlb == TLB_DATA_4M) forgetFastRegion(load<u32>(at));
}

// INVLPG: every entry, in every TLB, that translates `linear`.
export function flushPage(linear: u32): void {
  countPageFlushes++;
  for (let tlb = 0; tlb < TLB_COUNT; tlb++) {
    const index = find(tlb, linear);
    if (index >= 0) forget(tlb, <u32>index);
  }
}

// A CR3 load (`keepGlobal`) or a paging-mode change (everything).
export function flushAll(keepGlobal: bool): void {
  countFullFlushes++;
  for (let tlb = 0; tlb < TLB_COUNT; tlb++) {
    const n = entryCount(tlb);
    for (let i: u32 = 0; i < n; i++) {
      const at = entryAddress(tlb, i) + 8;
      const flags = load<u32>(at);
      if (!keepGlobal || (flags & ENTRY_GLOBAL) == 0) store<u32>(at, 0);
    }
  }
  memory.fill(FAST, 0, FAST_BYTES);
}

// ---- the fast tables ----

const FAST_SLOTS: u32 = 256;
// Four tables of FAST_SLOTS (tag, physical - linear) pairs: supervisor read,
// supervisor write, user read, user write. A tag is the page's linear
// address with bit 0 set. Then two empty tables that stand in while a page
// fault is pending, so that the rest of the faulting instruction cannot
// reach memory through a cached translation.
const TABLE_BYTES: usize = <usize>FAST_SLOTS * 8;
const FAST_BYTES: usize = 4 * TABLE_BYTES;
const FAST: usize = memory.data(<i32>(FAST_BYTES + 2 * TABLE_BYTES));
const FAST_VOID: usize = FAST + FAST_BYTES;
export const FAST_USER: usize = 2 * TABLE_BYTES;
export const FAST_WRITE: usize = TABLE_BYTES;

// The read table for the current kind of access (the write table follows it).
export let fastBase: usize = FAST;

// Called whenever the CPL, an implicit supervisor access, a pending page
// fault, the recording of references (refs.ts: every user access must
// reach the slow path to be recorded) or the arming of watchpoints
// (debug.ts: every access must be checked) changes which table applies.
export function selectFastTables(user: bool, voided: bool): void {
  fastBase = voided || watching || (user && recording) ? FAST_VOID : FAST + (user ? FAST_USER : 0);
}

@inline function fastSlot(table: usize, linear: u32): usize {
  return table + (<usize>((linear >>> 12) & (FAST_SLOTS - 1)) << 3);
}

// The physical address of `linear` if the fast table for the current kind
// of access holds its page; else 0xFFFFFFFF (the slow path then decides).
@inline export function fastTranslate(write: bool, linear: u32): u32 {
  const slot = fastSlot(fastBase + (write ? FAST_WRITE : 0), linear);
  if (load<u32>(slot) == ((linear & 0xFFFFF000) | 1)) {
    countHits++;
    return linear + load<u32>(slot + 4);
  }
  return 0xFFFFFFFF;
}

// `table`: FAST_USER and/or FAST_WRITE.
export function fastInsert(table: usize, linear: u32, physical: u32): void {
  const slot = fastSlot(FAST + table, linear);
  store<u32>(slot, (linear & 0xFFFFF000) | 1);
  store<u32>(slot + 4, (physical & 0xFFFFF000) - (linear & 0xFFFFF000));
}

function forgetFastPage(page: u32): void {
  const tag = (page << 12) | 1;
  for (let table = FAST; table < FAST + FAST_BYTES; table += TABLE_BYTES) {
    const slot = fastSlot(table, page << 12);
    if (load<u32>(slot) == tag) store<u32>(slot, 0);
  }
}

function forgetFastRegion(region: u32): void {
  for (let slot = FAST; slot < FAST + FAST_BYTES; slot += 8) {
    const tag = load<u32>(slot);
    if ((tag & 1) != 0 && (tag >>> 22) == region) store<u32>(slot, 0);
  }
}
