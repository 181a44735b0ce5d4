// Segment registers and descriptor loading.
//
// Loading a data or stack segment register in protected mode reads the
// descriptor from the GDT, checks it as the SDM's MOV/POP Sreg pseudocode
// does (null selector, limit, type, privilege, present), sets its Accessed
// bit, and fills the hidden base/limit/access cache. In real mode the base
// is selector * 16. (Code segment loads through far transfers, and the LDT,
// arrive with the rest of protected mode.)

import { systemRead32, systemWrite8 } from "./memory";
import { raise, GP, NP, SS_FAULT } from "./exceptions";
import {
  SEG_SELECTOR, SEG_BASE, SEG_LIMIT, SEG_ACCESS, cr0, cpl, gdtBase, gdtLimit, code32, stack32,
  ldtSelector, ldtBase, ldtLimit, trSelector, trBase, trLimit,
  CS, SS, firstUserModeAt, executedInstructions,
} from "./state";
import { invalidateFetch } from "./decode";
import { accessModeChanged } from "./restart";

// Descriptor access bits, as kept in SEG_ACCESS (descriptor bits 40-55).
export const ACCESS_TYPE_ACCESSED: u32 = 1 << 0;
export const ACCESS_TYPE_WRITABLE: u32 = 1 << 1; // data: writable; code: readable
export const ACCESS_TYPE_CODE: u32 = 1 << 3;
export const ACCESS_S: u32 = 1 << 4;             // code/data rather than system
export const ACCESS_PRESENT: u32 = 1 << 7;
export const ACCESS_DB: u32 = 1 << 14;           // default operand size 32 / big stack
export const ACCESS_GRANULARITY: u32 = 1 << 15;

// Per segment register: may an access skip the type and limit check?
// Bit 0 for reads, bit 1 for writes: set for flat (4 GiB, expand-up)
// segments of the right type, which is nearly every access a flat-model OS
// makes.
const SEG_FAST: usize = memory.data(8);
const FAST_READ: u8 = 1, FAST_WRITE: u8 = 2;

function updateFastPath(seg: i32, limit: u32, access: u32): void {
  let fast: u8 = 0;
  const usable = (access & ACCESS_PRESENT) != 0 && (access & ACCESS_S) != 0;
  const isCode = (access & ACCESS_TYPE_CODE) != 0;
  const expandDown = !isCode && (access & 4) != 0;
  if (usable && limit == 0xFFFFFFFF && !expandDown) {
    if (!isCode || (access & ACCESS_TYPE_WRITABLE) != 0) fast |= FAST_READ;
    if (!isCode && (access & ACCESS_TYPE_WRITABLE) != 0) fast |= FAST_WRITE;
  }
  store<u8>(SEG_FAST + <usize>seg, fast);
}

// After the segment caches were restored wholesale (restart.ts).
export function refreshSegmentFastPaths(): void {
  for (let seg = 0; seg < 6; seg++) {
    const at = <usize>seg << 2;
    updateFastPath(seg, load<u32>(SEG_LIMIT + at), load<u32>(SEG_ACCESS + at));
  }
}

// Checks an access of `bytes` at `offset` in segment `seg`, as the SDM's
// protected-mode rules require: #GP(0) (#SS(0) for SS) for a null segment,
// a write to code or read-only data, a read of execute-only code, or an
// offset beyond the limit.
@inline export function checkSegmentAccess(seg: i32, offset: u32, bytes: u32, write: bool): void {
  if ((load<u8>(SEG_FAST + <usize>seg) & (write ? FAST_WRITE : FAST_READ)) == 0) {
    checkSegmentAccessSlow(seg, offset, bytes, write);
  }
}

function checkSegmentAccessSlow(seg: i32, offset: u32, bytes: u32, write: bool): void {
  const at = <usize>seg << 2;
  const access = load<u32>(SEG_ACCESS + at);
  const limit = load<u32>(SEG_LIMIT + at);
  const fault = seg == SS ? SS_FAULT : GP;
  const isCode = (access & ACCESS_TYPE_CODE) != 0;
  if (cr0 & 1) {
    if ((access & ACCESS_PRESENT) == 0) raise(fault, 0);
    if (write && (isCode || (access & ACCESS_TYPE_WRITABLE) == 0)) raise(GP, 0);
    if (!write && isCode && (access & ACCESS_TYPE_WRITABLE) == 0) raise(GP, 0);
  }
  const last = offset + bytes - 1;
  if (!isCode && (access & 4) != 0) { // expand-down: valid above the limit
    const upper: u32 = (access & ACCESS_DB) ? 0xFFFFFFFF : 0xFFFF;
    if (offset <= limit || last > upper || last < offset) raise(fault, 0);
  } else if (last > limit || last < offset) {
    raise(fault, 0);
  }
}

// Sets the visible selector and hidden cache directly (reset, boot loaders,
// and the host preparing a machine state).
export function setSegmentCache(seg: i32, selector: u32, base: u32, limit: u32, access: u32): void {
  const at = <usize>seg << 2;
  store<u32>(SEG_SELECTOR + at, selector & 0xFFFF);
  store<u32>(SEG_BASE + at, base);
  store<u32>(SEG_LIMIT + at, limit);
  store<u32>(SEG_ACCESS + at, access);
  updateFastPath(seg, limit, access);
  if (seg == CS) {
    code32 = (access & ACCESS_DB) != 0;
    if (cr0 & 1) cpl = <i32>(selector & 3);
    if (cpl == 3 && firstUserModeAt == 0) firstUserModeAt = executedInstructions();
    accessModeChanged();
    invalidateFetch();
  } else if (seg == SS) {
    stack32 = (access & ACCESS_DB) != 0;
  }
}

// ---- descriptor tables ----

// The descriptor a selector names, as fetchDescriptor() read it.
export let descriptorLow: u32 = 0;
export let descriptorHigh: u32 = 0;
export let descriptorAddress: u32 = 0;

// Reads the GDT or LDT entry of `selector`; a selector beyond its table's
// limit raises `fault` with the selector (and EXT) as error code.
export function fetchDescriptor(selector: u32, fault: i32, ext: i32): void {
  const index = selector & 0xFFF8;
  const inLdt = (selector & 4) != 0;
  const tableLimit = inLdt ? ldtLimit : gdtLimit;
  if ((inLdt && (ldtSelector & 0xFFFC) == 0) || index + 7 > tableLimit) raise(fault, <i32>(selector & 0xFFFC) | ext);
  descriptorAddress = (inLdt ? ldtBase : gdtBase) + index;
  descriptorLow = systemRead32(descriptorAddress);
  descriptorHigh = systemRead32(descriptorAddress + 4);
}

// Descriptor bits 40-55 (type, S, DPL, P, AVL, D/B, G), as kept in SEG_ACCESS.
@inline export function descriptorAccess(): u32 {
  return (descriptorHigh >>> 8) & 0xF0FF;
}
@inline export function descriptorBase(): u32 {
  return (descriptorLow >>> 16) | ((descriptorHigh & 0xFF) << 16) | (descriptorHigh & 0xFF000000);
}
export function descriptorLimit(): u32 {
  const limit = (descriptorLow & 0xFFFF) | (descriptorHigh & 0x000F0000);
  return (descriptorHigh & (1 << 23)) ? ((limit << 12) | 0xFFF) : limit;
}
@inline export function descriptorDpl(): i32 {
  return <i32>((descriptorHigh >>> 13) & 3);
}

// The CPU sets a code or data descriptor's Accessed bit when it loads it.
export function markDescriptorAccessed(): void {
  if ((descriptorHigh & (1 << 8)) == 0) {
    systemWrite8(descriptorAddress + 5, ((descriptorHigh >>> 8) | 1) & 0xFF);
    descriptorHigh |= 1 << 8;
  }
}

// Fills a segment register's cache from the fetched descriptor.
export function loadCacheFromDescriptor(seg: i32, selector: u32): void {
  markDescriptorAccessed();
  setSegmentCache(seg, selector, descriptorBase(), descriptorLimit(), descriptorAccess());
}

// Checks `selector` as the stack segment for privilege level `level` (MOV
// SS, a stack switch to an inner level, a return to an outer one): a null
// selector, an RPL or DPL other than `level`, or anything but writable data
// raises `fault` (with EXT `ext`); a segment not present raises #SS. Leaves
// the descriptor fetched.
export function checkStackSegment(selector: u32, level: i32, fault: i32, ext: i32): void {
  if ((selector & 0xFFFC) == 0) raise(fault, ext);
  const error = <i32>(selector & 0xFFFC) | ext;
  fetchDescriptor(selector, fault, ext);
  const access = descriptorAccess();
  if (<i32>(selector & 3) != level || descriptorDpl() != level ||
      (access & (ACCESS_S | ACCESS_TYPE_CODE | ACCESS_TYPE_WRITABLE)) != (ACCESS_S | ACCESS_TYPE_WRITABLE)) {
    raise(fault, error);
  }
  if ((access & ACCESS_PRESENT) == 0) raise(SS_FAULT, error);
}

// Checks `selector` as the code segment an IRET or RETF returns to: not
// null, RPL not above the CPL, code, a DPL that matches the RPL (at most the
// RPL for conforming code), present. Leaves the descriptor fetched.
export function checkReturnCodeSegment(selector: u32): void {
  if ((selector & 0xFFFC) == 0) raise(GP, 0);
  const error = <i32>(selector & 0xFFFC);
  const rpl = <i32>(selector & 3);
  if (rpl < cpl) raise(GP, error);
  fetchDescriptor(selector, GP, 0);
  const access = descriptorAccess();
  if ((access & (ACCESS_S | ACCESS_TYPE_CODE)) != (ACCESS_S | ACCESS_TYPE_CODE)) raise(GP, error);
  if ((access & 4) != 0 ? descriptorDpl() > rpl : descriptorDpl() != rpl) raise(GP, error);
  if ((access & ACCESS_PRESENT) == 0) raise(NP, error);
}

// MOV Sreg / POP Sreg for DS ES FS GS SS.
export function loadSegment(seg: i32, selectorIn: u32): void {
  const selector = selectorIn & 0xFFFF;
  if ((cr0 & 1) == 0) {
    const at = <usize>seg << 2;
    store<u32>(SEG_SELECTOR + at, selector);
    store<u32>(SEG_BASE + at, selector << 4);
    updateFastPath(seg, load<u32>(SEG_LIMIT + at), load<u32>(SEG_ACCESS + at));
    return;
  }
  if (seg == SS) {
    checkStackSegment(selector, cpl, GP, 0);
    loadCacheFromDescriptor(seg, selector);
    return;
  }
  if ((selector & 0xFFFC) == 0) {
    // A null selector in a data segment register faults only when used.
    setSegmentCache(seg, selector, 0, 0, 0);
    return;
  }
  const rpl = <i32>(selector & 3);
  const errorCode = <i32>(selector & 0xFFFC);
  fetchDescriptor(selector, GP, 0);
  const access = descriptorAccess();
  const dpl = descriptorDpl();
  const isCode = (access & ACCESS_TYPE_CODE) != 0;
  if ((access & ACCESS_S) == 0) raise(GP, errorCode);
  if (isCode && (access & ACCESS_TYPE_WRITABLE) == 0) raise(GP, errorCode); // execute-only code
  const conforming = isCode && (access & 4) != 0;
  if (!conforming && (rpl > dpl || cpl > dpl)) raise(GP, errorCode);
  if ((access & ACCESS_PRESENT) == 0) raise(NP, errorCode);
  loadCacheFromDescriptor(seg, selector);
}

// LLDT: a null selector leaves no LDT; otherwise an LDT descriptor (type 2) from the GDT.
export function loadLdtr(selectorIn: u32): void {
  const selector = selectorIn & 0xFFFF;
  if ((selector & 0xFFFC) == 0) {
    ldtSelector = selector;
    ldtBase = 0;
    ldtLimit = 0;
    return;
  }
  const errorCode = <i32>(selector & 0xFFFC);
  if (selector & 4) raise(GP, errorCode);
  fetchDescriptor(selector, GP, 0);
  if ((descriptorAccess() & 0x1F) != 0x02) raise(GP, errorCode);
  if ((descriptorAccess() & ACCESS_PRESENT) == 0) raise(NP, errorCode);
  ldtSelector = selector;
  ldtBase = descriptorBase();
  ldtLimit = descriptorLimit();
}

// LTR: an available 32-bit TSS (type 9) from the GDT, which becomes busy (type 11).
export function loadTaskRegister(selectorIn: u32): void {
  const selector = selectorIn & 0xFFFF;
  const errorCode = <i32>(selector & 0xFFFC);
  if ((selector & 0xFFFC) == 0 || (selector & 4)) raise(GP, errorCode);
  fetchDescriptor(selector, GP, 0);
  if ((descriptorAccess() & 0x1F) != 0x09) raise(GP, errorCode);
  if ((descriptorAccess() & ACCESS_PRESENT) == 0) raise(NP, errorCode);
  systemWrite8(descriptorAddress + 5, ((descriptorHigh >>> 8) | 2) & 0xFF);
  trSelector = selector;
  trBase = descriptorBase();
  trLimit = descriptorLimit();
}
