// Page faults without unwinding.
//
// Other exceptions trap out of wasm (exceptions.ts), which costs the host
// microseconds. A page fault is the one exception an OS takes by the
// million, so it takes a cheaper road. When the walker faults it records
// the fault here, saves the CPU state (which is still the state before the
// instruction: instructions make every access and check before they change
// anything) and hands back a physical address outside RAM, so the rest of
// the instruction reads all-ones and writes nothing. The run loop then sees
// `attention`, restores the saved state, rewinds EIP, and delivers #PF
// through the IDT, all inside the core. Translated blocks leave at once
// after an access that faulted; REP loops stop iterating.
//
// The rest of the instruction must not reach outside the CPU: port I/O is
// skipped while a fault is pending, and a further exception raised while
// one is pending (the garbage tripping a check) restores the state and
// reports the page fault instead.

import {
  REGS, SEG_SELECTOR, SEG_BASE, SEG_LIMIT, SEG_ACCESS, eip, instructionStart, cpl, code32, stack32,
  cr0, gdtBase, gdtLimit, idtBase, idtLimit, ldtSelector, ldtBase, ldtLimit, trSelector, trBase, trLimit,
  halted, interruptShadow, updateAttention, attention, pageFaultPending, trapFlag,
} from "./state";
import { stored, lazyOp, lazyDst, lazySrc, lazyRes, lazySize, TF } from "./flags";
import { refreshSegmentFastPaths } from "./segments";
import { invalidateFetch, endLengthLimit } from "./decode";
import { selectFastTables } from "./tlb";

export let pageFaultErrorCode: u32 = 0;
// Set around the CPU's own accesses to descriptor tables, the IDT and the
// TSS: the walker treats them as supervisor accesses at any CPL.
// (A depth: descriptor reads nest inside interrupt delivery.)
let implicitSupervisor: i32 = 0;

// (Only CPL 3 has a user mode to leave.)
export function beginImplicitSupervisor(): void {
  if (implicitSupervisor++ == 0 && cpl == 3) accessModeChanged();
}
export function endImplicitSupervisor(): void {
  if (--implicitSupervisor == 0 && cpl == 3) accessModeChanged();
}

// After a trap out of the core (which may leave an implicit access open).
export function clearImplicitSupervisor(): void {
  implicitSupervisor = 0;
  accessModeChanged();
}

// Are accesses now user-mode accesses (CPL 3, not the CPU's own)?
@inline export function userAccess(): bool {
  return cpl == 3 && implicitSupervisor == 0;
}

// Points the fast translation path at the tables for the current kind of
// access: after a change of CPL, of implicitSupervisor, or of a pending fault.
export function accessModeChanged(): void {
  selectFastTables(userAccess(), pageFaultPending);
}

// The state saved when the fault was recorded.
const SAVED_REGS: usize = memory.data(32);
const SAVED_SEGMENTS: usize = memory.data(4 * 24);
let savedStored: u32 = 0, savedLazyOp: i32 = 0, savedLazyDst: u32 = 0, savedLazySrc: u32 = 0, savedLazyRes: u32 = 0,
  savedLazySize: i32 = 32;
let savedCpl: i32 = 0, savedCode32: bool = true, savedStack32: bool = true;
let savedCr0: u32 = 0, savedGdtBase: u32 = 0, savedGdtLimit: u32 = 0, savedIdtBase: u32 = 0, savedIdtLimit: u32 = 0;
let savedLdtSelector: u32 = 0, savedLdtBase: u32 = 0, savedLdtLimit: u32 = 0;
let savedTrSelector: u32 = 0, savedTrBase: u32 = 0, savedTrLimit: u32 = 0;
let savedHalted: bool = false, savedShadow: i32 = 0;

// Called by the walker: the first fault of an instruction is the one that
// counts; later accesses of the same instruction are already void.
export function recordPageFault(errorCode: u32): void {
  pageFaultPending = true;
  pageFaultErrorCode = errorCode;
  memory.copy(SAVED_REGS, REGS, 32);
  memory.copy(SAVED_SEGMENTS, SEG_SELECTOR, 24);
  memory.copy(SAVED_SEGMENTS + 24, SEG_BASE, 24);
  memory.copy(SAVED_SEGMENTS + 48, SEG_LIMIT, 24);
  memory.copy(SAVED_SEGMENTS + 72, SEG_ACCESS, 24);
  savedStored = stored; savedLazyOp = lazyOp; savedLazyDst = lazyDst; savedLazySrc = lazySrc;
  savedLazyRes = lazyRes; savedLazySize = lazySize;
  savedCpl = cpl; savedCode32 = code32; savedStack32 = stack32; savedCr0 = cr0;
  savedGdtBase = gdtBase; savedGdtLimit = gdtLimit; savedIdtBase = idtBase; savedIdtLimit = idtLimit;
  savedLdtSelector = ldtSelector; savedLdtBase = ldtBase; savedLdtLimit = ldtLimit;
  savedTrSelector = trSelector; savedTrBase = trBase; savedTrLimit = trLimit;
  savedHalted = halted; savedShadow = interruptShadow;
  attention = true;
  accessModeChanged();
}

// Puts the state back as it was before the faulting instruction (or
// delivery) and returns the error code. EIP goes back to instructionStart.
export function rewindPageFault(): u32 {
  memory.copy(REGS, SAVED_REGS, 32);
  memory.copy(SEG_SELECTOR, SAVED_SEGMENTS, 24);
  memory.copy(SEG_BASE, SAVED_SEGMENTS + 24, 24);
  memory.copy(SEG_LIMIT, SAVED_SEGMENTS + 48, 24);
  memory.copy(SEG_ACCESS, SAVED_SEGMENTS + 72, 24);
  refreshSegmentFastPaths();
  cpl = savedCpl; code32 = savedCode32; stack32 = savedStack32; cr0 = savedCr0;
  gdtBase = savedGdtBase; gdtLimit = savedGdtLimit; idtBase = savedIdtBase; idtLimit = savedIdtLimit;
  ldtSelector = savedLdtSelector; ldtBase = savedLdtBase; ldtLimit = savedLdtLimit;
  trSelector = savedTrSelector; trBase = savedTrBase; trLimit = savedTrLimit;
  halted = savedHalted; interruptShadow = savedShadow;
  stored = savedStored; lazyOp = savedLazyOp; lazyDst = savedLazyDst; lazySrc = savedLazySrc;
  lazyRes = savedLazyRes; lazySize = savedLazySize;
  trapFlag = (stored & TF) != 0;
  eip = instructionStart;
  implicitSupervisor = 0;
  pageFaultPending = false;
  invalidateFetch();
  endLengthLimit();
  updateAttention();
  accessModeChanged();
  return pageFaultErrorCode;
}
