// Physical RAM and the linear-address access path.
//
// Every guest memory access goes through translate(): the one place where a
// linear address becomes a physical one. With paging off it is the identity;
// with paging on, a fast table in front of the data TLB answers most
// accesses inline, and the TLB and page walk (paging.ts) the rest. A page
// fault does not stop the access: it goes to an address outside RAM and the
// run loop rewinds the instruction (restart.ts). Accesses that cross a 4 KiB
// page are split, and a write translates every page it touches before it
// stores a byte, so a fault on the second page leaves memory untouched.
//
// Physical addresses beyond RAM read as all-ones (an unclaimed bus) and
// ignore writes.

import { allocateCodePages, noteWrite } from "./blocks";
import { fastTranslate } from "./tlb";
import { translateSlow } from "./paging";
import { userAccess, beginImplicitSupervisor, endImplicitSupervisor } from "./restart";
import { pageFaultPending } from "./state";
import { mmuPath, watching, pagingChanged, watchAccess } from "./debug";

export let ramBase: usize = 0; // where physical address 0 lives in wasm memory
export let ramSize: u32 = 0;

export const ACCESS_READ = 0, ACCESS_WRITE = 1, ACCESS_FETCH = 2;

// RAM, then one byte per 4 KiB page for the translation cache's map of
// pages holding translated code.
export function allocateRam(bytes: u32): void {
  const base = <usize>memory.size() << 16;
  const ramPages = (<usize>bytes + 0xFFFF) >>> 16;
  const mapPages = ((<usize>bytes >>> 12) + 0xFFFF) >>> 16;
  if (memory.grow(<i32>(ramPages + mapPages)) < 0) unreachable();
  ramBase = base;
  ramSize = bytes;
  allocateCodePages(base + (ramPages << 16));
}

// ---- physical ----

@inline export function physRead8(p: u32): u32 {
  return p < ramSize ? <u32>load<u8>(ramBase + p) : 0xFF;
}
@inline export function physRead16(p: u32): u32 {
  if (p <= ramSize - 2) return <u32>load<u16>(ramBase + p);
  return physRead8(p) | (physRead8(p + 1) << 8);
}
@inline export function physRead32(p: u32): u32 {
  if (p <= ramSize - 4) return load<u32>(ramBase + p);
  return physRead16(p) | (physRead16(p + 2) << 16);
}
// Every store into RAM is reported to the translation cache (noteWrite), so
// translated code never outlives the bytes it came from.
@inline export function physWrite8(p: u32, v: u32): void {
  if (p < ramSize) { store<u8>(ramBase + p, <u8>v); noteWrite(p); }
}
@inline export function physWrite16(p: u32, v: u32): void {
  if (p <= ramSize - 2) { store<u16>(ramBase + p, <u16>v); noteWrite(p); noteWrite(p + 1); }
  else { physWrite8(p, v); physWrite8(p + 1, v >>> 8); }
}
@inline export function physWrite32(p: u32, v: u32): void {
  if (p <= ramSize - 4) { store<u32>(ramBase + p, v); noteWrite(p); noteWrite(p + 3); }
  else { physWrite16(p, v); physWrite16(p + 2, v >>> 16); }
}

// ---- linear ----

// CR0.PG, as the MMU last saw it (control.ts keeps it up to date).
export let pagingEnabled: bool = false;
export function setPagingEnabled(on: bool): void { pagingEnabled = on; pagingChanged(on); }

// The linear-to-physical seam. (mmuPath: paging is on, or watchpoints are
// armed (debug.ts) and every access must reach the out-of-line paths.)
@inline export function translate(linear: u32, access: i32): u32 {
  if (!mmuPath) return linear;
  if (access != ACCESS_FETCH) {
    const physical = fastTranslate(access == ACCESS_WRITE, linear);
    if (physical != 0xFFFFFFFF) return physical;
  }
  return translateSlow(linear, access, userAccess());
}

@inline function crossesPage(linear: u32, bytes: u32): bool {
  return (linear & 0xFFF) > 0x1000 - bytes;
}

// Each access has an inline fast path (within a page, within RAM) and an
// out-of-line general one.

// While watchpoints are armed (debug.ts) each access that succeeds is
// checked against them, with its size.
@inline function watched(linear: u32, physical: u32, bytes: u32, write: bool): void {
  if (!pageFaultPending) watchAccess(linear, physical, 0, bytes, bytes, write);
}

export function read8(linear: u32): u32 {
  const physical = translate(linear, ACCESS_READ);
  if (watching) watched(linear, physical, 1, false);
  return physRead8(physical);
}
export function read16(linear: u32): u32 {
  if (!crossesPage(linear, 2)) {
    const physical = translate(linear, ACCESS_READ);
    if (watching) watched(linear, physical, 2, false);
    return physRead16(physical);
  }
  if (watching) return readSplitWatched(linear, 2);
  return read8(linear) | (read8(linear + 1) << 8);
}
export function read32(linear: u32): u32 {
  if (!crossesPage(linear, 4)) {
    const physical = translate(linear, ACCESS_READ);
    if (watching) watched(linear, physical, 4, false);
    return physRead32(physical);
  }
  if (watching) return readSplitWatched(linear, 4);
  let v: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) v |= read8(linear + i) << (i << 3);
  return v;
}

// A read across a page boundary while watching: one check for the whole access.
function readSplitWatched(linear: u32, bytes: u32): u32 {
  const second = (linear | 0xFFF) + 1;
  const p0 = translate(linear, ACCESS_READ);
  const p1 = translate(second, ACCESS_READ);
  const firstBytes = second - linear;
  let v: u32 = 0;
  for (let i: u32 = 0; i < bytes; i++) {
    v |= (i < firstBytes ? physRead8(p0 + i) : physRead8(p1 + i - firstBytes)) << (i << 3);
  }
  if (!pageFaultPending) watchAccess(linear, p0, p1, firstBytes, bytes, false);
  return v;
}

export function write8(linear: u32, v: u32): void {
  const physical = translate(linear, ACCESS_WRITE);
  if (watching) watched(linear, physical, 1, true);
  physWrite8(physical, v);
}
export function write16(linear: u32, v: u32): void {
  if (!crossesPage(linear, 2)) {
    const physical = translate(linear, ACCESS_WRITE);
    if (watching) watched(linear, physical, 2, true);
    physWrite16(physical, v);
    return;
  }
  writeSplit(linear, v, 2);
}
export function write32(linear: u32, v: u32): void {
  if (!crossesPage(linear, 4)) {
    const physical = translate(linear, ACCESS_WRITE);
    if (watching) watched(linear, physical, 4, true);
    physWrite32(physical, v);
    return;
  }
  writeSplit(linear, v, 4);
}

// The physical address of an access of `bytes` at `linear` if it lies in
// one page of RAM and needs no walk (paging off, or the fast table holds the
// page), else NO_QUICK_PATH: then the out-of-line path decides.
const NO_QUICK_PATH: u32 = 0xFFFFFFFF;
@inline function quickPhysical(linear: u32, bytes: u32, write: bool): u32 {
  if (crossesPage(linear, bytes)) return NO_QUICK_PATH;
  const physical = mmuPath ? fastTranslate(write, linear) : linear;
  return physical <= ramSize - bytes ? physical : NO_QUICK_PATH;
}

// A write across a page boundary: both pages are translated (and may fault)
// before any byte is stored.
function writeSplit(linear: u32, v: u32, bytes: u32): void {
  const second = (linear | 0xFFF) + 1;
  const p0 = translate(linear, ACCESS_WRITE);
  const p1 = translate(second, ACCESS_WRITE);
  if (pageFaultPending) return; // the second page faulted: the first stays untouched
  const firstBytes = second - linear;
  if (watching) watchAccess(linear, p0, p1, firstBytes, bytes, true);
  for (let i: u32 = 0; i < bytes; i++) {
    const b = v >>> (i << 3);
    if (i < firstBytes) physWrite8(p0 + i, b);
    else physWrite8(p1 + i - firstBytes, b);
  }
}

// Checks that a whole range is writable before an instruction that writes it
// piecewise (PUSHA, ENTER, interrupt delivery) starts, so a fault part way
// leaves nothing behind. Those push downwards, so the top dword goes first:
// a fault reports the address of the first push, as the pushes would have.
export function probeWrite(linear: u32, bytes: u32): void {
  if (bytes >= 4) translate(linear + bytes - 4, ACCESS_WRITE);
  translate(linear, ACCESS_WRITE);
  translate(linear + bytes - 1, ACCESS_WRITE);
}

// The CPU's own accesses to the GDT, LDT, IDT and TSS: supervisor accesses
// at any CPL (a #PF they raise has U/S clear).
export function systemRead32(linear: u32): u32 {
  beginImplicitSupervisor();
  const v = read32(linear);
  endImplicitSupervisor();
  return v;
}
export function systemWrite8(linear: u32, v: u32): void {
  beginImplicitSupervisor();
  write8(linear, v);
  endImplicitSupervisor();
}

@inline export function readSized(size: i32, linear: u32): u32 {
  const bytes = <u32>(size >> 3);
  const physical = quickPhysical(linear, bytes, false);
  if (physical != NO_QUICK_PATH) {
    if (size == 32) return load<u32>(ramBase + physical);
    if (size == 16) return <u32>load<u16>(ramBase + physical);
    return <u32>load<u8>(ramBase + physical);
  }
  if (size == 32) return read32(linear);
  if (size == 16) return read16(linear);
  return read8(linear);
}
@inline export function writeSized(size: i32, linear: u32, v: u32): void {
  const bytes = <u32>(size >> 3);
  const physical = quickPhysical(linear, bytes, true);
  if (physical != NO_QUICK_PATH) {
    // Within one page, so one noteWrite covers the access.
    if (size == 32) store<u32>(ramBase + physical, v);
    else if (size == 16) store<u16>(ramBase + physical, <u16>v);
    else store<u8>(ramBase + physical, <u8>v);
    noteWrite(physical);
    return;
  }
  if (size == 32) write32(linear, v);
  else if (size == 16) write16(linear, v);
  else write8(linear, v);
}
