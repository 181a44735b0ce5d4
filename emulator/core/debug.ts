// The debugger's hooks in the CPU (issue 8, "MMU-aware debugger"):
// execution breakpoints, vector breaks, watchpoints, and the record of the
// last exception. The host arms them (index.ts exports, host/cpu.ts); with
// nothing armed none of this runs on the hot paths: the run loop's
// `attention` test, the paging-off access path and the fast tables are
// exactly as they were, and the out-of-line access paths pay one test of
// `watching`.
//
// Stops. A hook that fires sets `debugStop` and ends the run after the
// current instruction (suspendBudget(): the budget drops to zero with the
// executed-instruction count kept, as a host stop() would, but without
// stopRequested). run() then returns the stop code. If the host had also
// asked to stop in the same instruction, run() returns that first and the
// next run() returns the debug stop at once, executing nothing.
//
// Execution breakpoints (up to MAX_BREAKPOINTS linear addresses, CS.base +
// EIP). While any is set, `attention` stays on, so the run loop calls
// betweenInstructions() at every instruction boundary; it stops with
// STOP_BREAKPOINT before the instruction at a breakpoint executes, EIP on
// it. The check comes after a pending external interrupt is delivered (the
// interrupted instruction has not started; it is checked when execution
// comes back to it), so a breakpoint on a handler's first instruction stops
// there; a fault or trap delivered in the run loop is followed by a
// boundary check too. Translated blocks are not entered while breakpoints
// are set (translation is switched off underneath the host's setting).
// Passing over: the host calls resumeOverBreakpoint() before run(): the
// breakpoint at the current CS.base + EIP is ignored once, at the first
// boundary at that address (an interrupt taken first does not use it up).
// Likewise a REP string instruction cut short by the end of a run (or by a
// watch hit) is not stopped at again when it resumes.
//
// Vector breaks (a 256-bit mask). When the CPU delivers through the IDT a
// vector whose bit is set (exception, INT n, external interrupt), the run
// stops right after the delivery with STOP_VECTOR: EIP on the handler's
// first instruction, which has not executed (a breakpoint there is the same
// boundary: resume over it). hitVector/hitErrorCode (-1: none) say what was
// delivered, hitEip the EIP pushed (the faulting instruction for a fault,
// the next one for a trap or INT n, the interrupted one for an interrupt)
// and hitCr2 CR2 after the delivery. A delivery that faults (and becomes
// #PF, #DF or a triple fault) is not a delivery.
//
// Watchpoints (up to MAX_WATCHPOINTS): a range of 1..4096 bytes of linear or
// physical addresses, for reads, writes or both. A data access by the CPU
// (instruction operands, stack pushes and pops, string instructions,
// interrupt frames, descriptor table and TSS accesses and the descriptor
// Accessed-bit writes) that succeeds and touches a byte of a watched range
// with a watched kind stops the run after the instruction (STOP_WATCH);
// for a REP string instruction, after the iteration that hit, with EIP
// left on the instruction. Instruction fetch and the page walker's own
// reads and writes of page tables are not watched. The first hit of an
// instruction is reported: the watchpoint's index, the access's linear
// address, its physical address (for an access split over two pages: the
// physical address of its first byte), its size in bytes, read or write,
// and the EIP of the instruction (instructionStart; for an interrupt frame,
// the interrupted instruction). A read-modify-write is a read and a write.
// An access that faults does not count, nor does any access of an
// instruction that faults: the hit is cancelled when the instruction's
// page fault is taken, and the run goes on (run() returns STOP_CONTINUE,
// which the host treats as "run again").
// While watching, every access must reach the out-of-line paths in
// memory.ts, which check: the fast tables are voided (tlb.ts
// selectFastTables), `mmuPath` is set even with paging off (so the
// paging-off inline path, which tests mmuPath where it tested pagingEnabled,
// falls through too; translateSlow then returns the linear address), the
// bulk REP INS/OUTS path is not taken over watched bytes, and translated
// blocks are not entered.
//
// The last exception: every delivery through the IDT of a vector 0-31 that is
// not an external interrupt (exceptions, and INT n / INT3 / INTO with such a
// vector) records the vector, error code, pushed EIP, CR2 and the
// executed-instruction count at the delivery.

import {
  eip, instructionStart, cr2, segBase, CS, executedInstructions, suspendBudget, updateAttention,
} from "./state";
import { pagingEnabled } from "./memory";
import { enableTranslation } from "./blocks";
import { accessModeChanged } from "./restart";

export const STOP_BREAKPOINT = 5;
export const STOP_VECTOR = 6;
export const STOP_WATCH = 7;
// A watch hit was cancelled by its instruction's page fault: nothing to
// report, the host just calls run() again.
export const STOP_CONTINUE = 8;

export const MAX_BREAKPOINTS: i32 = 16;
export const MAX_WATCHPOINTS: i32 = 8;
export const WATCH_READ: u32 = 1, WATCH_WRITE: u32 = 2, WATCH_PHYSICAL: u32 = 4;

// ---- configuration (host-set; derived flags below) ----

const BREAKPOINTS: usize = memory.data(MAX_BREAKPOINTS * 4);
const VECTOR_MASK: usize = memory.data(32);
// Per watchpoint: first byte, last byte (inclusive), WATCH_* flags.
const WATCH_FIRST: usize = memory.data(MAX_WATCHPOINTS * 4);
const WATCH_LAST: usize = memory.data(MAX_WATCHPOINTS * 4);
const WATCH_FLAGS: usize = memory.data(MAX_WATCHPOINTS * 4);

let breakpointCount: i32 = 0;
let watchCount: i32 = 0;
let vectorBreaksArmed: bool = false;
// The host's translation setting (index.ts enableTranslation).
let translationWanted: bool = false;

// Derived: breakpoints are set (state.ts updateAttention keeps `attention` on).
export let debugAttention: bool = false;
// Derived: watchpoints are set (memory.ts checks every out-of-line access).
export let watching: bool = false;
// Derived: pagingEnabled || watching. The inline access paths go through
// the MMU's fast table (and on a miss out of line) when it is set.
export let mmuPath: bool = false;

// ---- hit state ----

// The stop run() is to report (STOP_BREAKPOINT, STOP_VECTOR, STOP_WATCH), or 0.
export let debugStop: i32 = 0;
// A watch hit was cancelled during the run (run() returns STOP_CONTINUE).
export let watchCancelled: bool = false;
// Pass over the breakpoint at this linear address once (resumeOverBreakpoint).
export let resumeSkip: bool = false;
export let resumeLinear: u32 = 0;
// Pass over the breakpoint at this linear address once: a REP instruction cut short.
export let repSkip: bool = false;
export let repLinear: u32 = 0;

// The last vector stop.
export let hitVector: i32 = -1;
export let hitErrorCode: i32 = -1;
export let hitEip: u32 = 0;
export let hitCr2: u32 = 0;
// The last watch stop.
export let watchHitIndex: i32 = -1;
export let watchHitLinear: u32 = 0;
export let watchHitPhysical: u32 = 0;
export let watchHitSize: u32 = 0;
export let watchHitWrite: bool = false;
export let watchHitEip: u32 = 0;
// The last exception delivered through the IDT (vector -1: none yet).
export let lastExceptionVector: i32 = -1;
export let lastExceptionErrorCode: i32 = -1;
export let lastExceptionEip: u32 = 0;
export let lastExceptionCr2: u32 = 0;
export let lastExceptionInstructions: u64 = 0;

// ---- arming ----

function refresh(): void {
  debugAttention = breakpointCount > 0;
  watching = watchCount > 0;
  mmuPath = pagingEnabled || watching;
  enableTranslation(translationWanted && breakpointCount == 0 && watchCount == 0);
  updateAttention();
  accessModeChanged(); // the fast tables are voided while watching
}

// After pagingEnabled changed (memory.ts setPagingEnabled).
export function pagingChanged(on: bool): void {
  mmuPath = on || watching;
}

export function setTranslationWanted(on: bool): void {
  translationWanted = on;
  refresh();
}

export function clearBreakpoints(): void { breakpointCount = 0; refresh(); }
export function addBreakpoint(linear: u32): bool {
  if (breakpointCount >= MAX_BREAKPOINTS) return false;
  store<u32>(BREAKPOINTS + (<usize>breakpointCount << 2), linear);
  breakpointCount++;
  refresh();
  return true;
}

export function setVectorBreakWord(index: i32, bits: u32): void {
  store<u32>(VECTOR_MASK + (<usize>(index & 7) << 2), bits);
  let any: u32 = 0;
  for (let i = 0; i < 8; i++) any |= load<u32>(VECTOR_MASK + (<usize>i << 2));
  vectorBreaksArmed = any != 0;
}

export function clearWatchpoints(): void { watchCount = 0; refresh(); }
// `flags`: WATCH_READ | WATCH_WRITE, | WATCH_PHYSICAL for a physical range.
export function addWatchpoint(first: u32, length: u32, flags: u32): bool {
  if (watchCount >= MAX_WATCHPOINTS || length == 0 || length > 4096 || (flags & (WATCH_READ | WATCH_WRITE)) == 0) return false;
  let last = first + length - 1;
  if (last < first) last = 0xFFFFFFFF;
  const at = <usize>watchCount << 2;
  store<u32>(WATCH_FIRST + at, first);
  store<u32>(WATCH_LAST + at, last);
  store<u32>(WATCH_FLAGS + at, flags);
  watchCount++;
  refresh();
  return true;
}

export function resumeOverBreakpoint(): void {
  resumeSkip = true;
  resumeLinear = segBase(CS) + eip;
}

// The host moved EIP: passing over applies to where the CPU was.
export function eipMoved(): void {
  resumeSkip = false;
  repSkip = false;
}

// ---- stops ----

function stopWith(code: i32): void {
  if (debugStop == 0) debugStop = code;
  suspendBudget();
}

// Hands the pending stop to run() (0: none).
export function takeDebugStop(): i32 {
  const code = debugStop;
  debugStop = 0;
  if (code != 0) return code;
  if (watchCancelled) { watchCancelled = false; return STOP_CONTINUE; }
  return 0;
}

export function clearDebugStop(): void {
  debugStop = 0;
  watchCancelled = false;
}

// At an instruction boundary while breakpoints are set: stops (true) if
// one is at CS.base + EIP.
export function atBreakpoint(): bool {
  const linear = segBase(CS) + eip;
  let pass = false;
  if (resumeSkip && linear == resumeLinear) { resumeSkip = false; pass = true; }
  if (repSkip && linear == repLinear) { repSkip = false; pass = true; }
  if (pass) return false;
  for (let i = 0; i < breakpointCount; i++) {
    if (load<u32>(BREAKPOINTS + (<usize>i << 2)) == linear) {
      resumeSkip = false;
      stopWith(STOP_BREAKPOINT);
      return true;
    }
  }
  return false;
}

// A REP string instruction stopped part way (EIP back on it): resuming it
// is not a new arrival at a breakpoint there.
export function noteStringCut(): void {
  repSkip = true;
  repLinear = segBase(CS) + instructionStart;
}

// A delivery through the IDT completed (interrupts.ts deliver(), before EIP
// moves to the handler): `hardware` for an external interrupt.
export function noteDelivery(vector: i32, errorCode: i32, hardware: bool): void {
  if (!hardware && vector < 32) {
    lastExceptionVector = vector;
    lastExceptionErrorCode = errorCode < 0 ? -1 : errorCode;
    lastExceptionEip = eip;
    lastExceptionCr2 = cr2;
    lastExceptionInstructions = executedInstructions();
  }
  if (vectorBreaksArmed && (load<u32>(VECTOR_MASK + (<usize>(vector >>> 5) << 2)) & (<u32>1 << (vector & 31))) != 0) {
    hitVector = vector;
    hitErrorCode = errorCode < 0 ? -1 : errorCode;
    hitEip = eip;
    hitCr2 = cr2;
    stopWith(STOP_VECTOR);
  }
}

// The page fault of the instruction (or delivery) that hit a watchpoint is
// being taken: the instruction did not happen, nor did its accesses.
export function pageFaultTaken(): void {
  if (debugStop == STOP_WATCH) {
    debugStop = 0;
    watchHitIndex = -1;
    watchCancelled = true;
  }
}

@inline function overlaps(i: i32, first: u32, bytes: u32): bool {
  const at = <usize>i << 2;
  return first <= load<u32>(WATCH_LAST + at) && first + (bytes - 1) >= load<u32>(WATCH_FIRST + at);
}

// Would an access of `bytes` (within one page) at `linear` / `physical`
// touch a watched byte? (The bulk REP INS/OUTS path, string.ts, is not
// taken over watched bytes.)
export function watchedRange(linear: u32, physical: u32, bytes: u32, write: bool): bool {
  const kind = write ? WATCH_WRITE : WATCH_READ;
  for (let i = 0; i < watchCount; i++) {
    const flags = load<u32>(WATCH_FLAGS + (<usize>i << 2));
    if ((flags & kind) == 0) continue;
    if (overlaps(i, (flags & WATCH_PHYSICAL) != 0 ? physical : linear, bytes)) return true;
  }
  return false;
}

// A data access of `bytes` at `linear` that succeeded (while watching):
// `physical` maps its first `firstBytes` bytes and `second` (the next
// page's frame) the rest.
export function watchAccess(linear: u32, physical: u32, second: u32, firstBytes: u32, bytes: u32, write: bool): void {
  if (debugStop == STOP_WATCH) return; // the first hit of the instruction is the one reported
  const kind = write ? WATCH_WRITE : WATCH_READ;
  const rest = bytes - firstBytes;
  for (let i = 0; i < watchCount; i++) {
    const flags = load<u32>(WATCH_FLAGS + (<usize>i << 2));
    if ((flags & kind) == 0) continue;
    let hit: bool;
    if ((flags & WATCH_PHYSICAL) != 0) {
      hit = overlaps(i, physical, firstBytes) || (rest != 0 && overlaps(i, second, rest));
    } else {
      hit = overlaps(i, linear, firstBytes) || (rest != 0 && overlaps(i, linear + firstBytes, rest));
    }
    if (hit) {
      watchHitIndex = i;
      watchHitLinear = linear;
      watchHitPhysical = physical;
      watchHitSize = bytes;
      watchHitWrite = write;
      watchHitEip = instructionStart;
      stopWith(STOP_WATCH);
      return;
    }
  }
}
