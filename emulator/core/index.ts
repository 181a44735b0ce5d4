// The core's interface to the host: the narrow waist between the CPU (this
// wasm module) and the machine around it (TypeScript). The host drives the
// core: it sets up state, calls run(), and services port I/O through the
// imported env.portIn/env.portOut. A guest exception traps out of run(); the
// host reads pendingVector() and calls abortInstruction().

import {
  REGS, eip, cr0, cr2, cr3, cr4, gdtBase, gdtLimit, idtBase, idtLimit, executedInstructions, trSelector, ldtSelector, cpl,
  budget, stopRequested, halted, startBudget, firstUserModeAt, requestStop, blockBoundary, code32, stack32, CS,
  attention, interruptShadow, trapFlag, interruptLine, pageFaultPending, instructionStart, updateAttention, setInterruptLine as setLine, idleCycles, segSelector, segBase, SEG_LIMIT, SEG_ACCESS,
} from "./state";
import { getEflags as eflagsValue, setEflags as setEflagsValue, IF as IF_FLAG } from "./flags";
import { allocateRam, ramBase, ramSize, pagingEnabled, probeWrite } from "./memory";
import {
  lookupBlock, blockLength, installBlock as install, discardAllBlocks as discardAll,
  translationEnabled, translateRequest, translateRequestPhysical,
  LOOKUP_TRANSLATE, UNTRANSLATABLE,
} from "./blocks";
import { executeInstruction } from "./execute";
import { readSegment, writeSegment } from "./operands";
import { condition, getCF, materialize } from "./flags";
import { pinCarry } from "./alu";
import { shiftRotate } from "./shift";
import { endLengthLimit, fetchPhysical } from "./decode";
import {
  setDeliverThroughIdt as setDelivery, deliverPendingException as deliverPending, deliver,
  deliverThroughIdt, singleStepTrap,
} from "./interrupts";
import { acknowledgeInterrupt } from "./ports";
import { probeWalk, PROBE, pagingModeWritten, directoryBaseWritten } from "./paging";
import {
  setGeometry, geometryEntries, geometryWays, entryPage, entryFrame, entryFlags, resetCounters,
  countHits, countMisses, countWalks, countAccessedDirty, countFullFlushes, countPageFlushes, countEvictions, countPageFaults,
} from "./tlb";
import { NO_ERROR_CODE, PF, raise, setPendingFault } from "./exceptions";
import { rewindPageFault, clearImplicitSupervisor, accessModeChanged } from "./restart";
import { setRecording, flushReferences } from "./refs";
import {
  debugStop, debugAttention, takeDebugStop, clearDebugStop, atBreakpoint, pageFaultTaken, eipMoved,
  setTranslationWanted, clearBreakpoints as clearBps, addBreakpoint as addBp, setVectorBreakWord as setVectorWord,
  clearWatchpoints as clearWps, addWatchpoint as addWp, resumeOverBreakpoint as resumeOver,
  hitVector, hitErrorCode, hitEip, hitCr2, watchHitIndex, watchHitLinear, watchHitPhysical, watchHitSize,
  watchHitWrite, watchHitEip, lastExceptionVector, lastExceptionErrorCode, lastExceptionEip, lastExceptionCr2,
  lastExceptionInstructions,
} from "./debug";
import { invalidateFetch } from "./decode";
import { setSegmentCache as setCache, loadSegment as loadSelector, checkSegmentAccess } from "./segments";
import {
  pendingVector as vector, pendingErrorCode as errorCode, clearPending as clear,
  abortInstruction as abort,
} from "./exceptions";

export const STOP_BUDGET = 0;    // ran the number of instructions asked for
export const STOP_HALT = 1;      // HLT: waiting for an interrupt
export const STOP_REQUESTED = 2; // the host called stop()
export const STOP_TRANSLATE = 3; // the host should translate the block at translateRequest
export const STOP_TRIPLE_FAULT = 4; // a fault while delivering #DF: the machine shuts down
// 5 STOP_BREAKPOINT, 6 STOP_VECTOR, 7 STOP_WATCH, 8 STOP_CONTINUE: debug.ts

export function init(ramBytes: u32): void {
  allocateRam(ramBytes);
}
export function ramPointer(): usize { return ramBase; }
export function ramBytes(): u32 { return ramSize; }

// Runs until `maxInstructions` have executed, HLT, or stop().
export function run(maxInstructions: u32): i32 {
  if (debugStop != 0) return takeDebugStop(); // pending since the last run (debug.ts)
  clearDebugStop();
  startBudget(maxInstructions);
  stopRequested = false;
  blockBoundary = true;
  if (halted && !interruptDeliverable()) return STOP_HALT;
  while (budget != 0) {
    if (attention) {
      if (pageFaultPending) {
        if (!takePageFault()) return STOP_TRIPLE_FAULT;
        continue;
      }
      if (betweenInstructions()) continue; // single-stepped an instruction
    }
    if (blockBoundary) {
      blockBoundary = false;
      // Blocks are translated for flat 32-bit code and a 32-bit stack. With
      // paging, EIP's physical address comes from the fetch window; when
      // EIP has left it, the interpreter runs one instruction first.
      if (translationEnabled && code32 && stack32 && segBase(CS) == 0) {
        const physical = pagingEnabled ? fetchPhysical(eip) : eip;
        if (physical != 0xFFFFFFFF) {
          const fn = lookupBlock(eip, physical);
          if (fn > LOOKUP_TRANSLATE && fn != UNTRANSLATABLE && budget >= blockLength(eip)) {
            call_indirect<void>(fn); // runs the block; leaves EIP and blockBoundary set
            continue;
          }
          if (fn == LOOKUP_TRANSLATE) return STOP_TRANSLATE;
        }
      }
    }
    budget--;
    executeInstruction();
  }
  // The last instruction's page fault (and any its delivery raises) is
  // delivered before the host looks.
  while (pageFaultPending) {
    if (!takePageFault()) return STOP_TRIPLE_FAULT;
  }
  if (stopRequested) return halted ? STOP_HALT : STOP_REQUESTED;
  return debugStopOr(STOP_BUDGET);
}

// Delivers a page fault recorded during the last instruction (or delivery)
// through the IDT; false on a triple fault. Without IDT delivery (bare
// metal) it is reported to the host like any other exception.
function takePageFault(): bool {
  if (!deliverThroughIdt) raise(PF); // raise() rewinds and reports the page fault
  pageFaultTaken();
  const errorCode = rewindPageFault();
  setPendingFault(PF, <i32>errorCode);
  return deliverPending();
}

// Between instructions: the interrupt shadow runs out, a pending external
// interrupt is delivered, and with EFLAGS.TF the next instruction runs on
// its own and is followed by a #DB trap. Returns true when it executed that
// instruction itself.
// With breakpoints set (debug.ts) it also stops at one (true), after
// delivering a pending interrupt, before the instruction runs.
function betweenInstructions(): bool {
  if (interruptShadow > 0) {
    if (debugAttention && atBreakpoint()) return true;
    interruptShadow--;
    updateAttention();
    return false;
  }
  if (interruptDeliverable()) {
    halted = false;
    instructionStart = eip; // a fault while delivering it reports this EIP
    deliver(acknowledgeInterrupt(), NO_ERROR_CODE, false, true, true);
    blockBoundary = true;
    return debugStop != 0 || (debugAttention && atBreakpoint());
  }
  if (debugAttention && atBreakpoint()) return true;
  if (trapFlag) {
    budget--;
    executeInstruction();
    if (pageFaultPending) return true; // a fault, not a single-step trap
    // The trap follows an instruction that began with TF set (unless it set
    // up an interrupt shadow, as MOV SS does).
    if (interruptShadow == 0 && !stopRequested) {
      instructionStart = eip;
      singleStepTrap();
    }
    return true;
  }
  return false;
}

@inline function interruptDeliverable(): bool {
  return interruptLine && deliverThroughIdt && (eflagsValue() & IF_FLAG) != 0 && interruptShadow == 0;
}

// Executes exactly one whole instruction, a REP string instruction with all
// its iterations (a debugger's single step).
export function step(): i32 {
  startBudget(0xFFFFFFFF);
  stopRequested = false;
  halted = false;
  clearDebugStop();
  budget--;
  executeInstruction();
  if (pageFaultPending) { pageFaultTaken(); raise(PF); } // reported to the host, which delivers it
  startBudget(0);
  if (stopRequested) return halted ? STOP_HALT : STOP_REQUESTED;
  return debugStopOr(STOP_BUDGET);
}

// The debugger stop to report (debug.ts), else `otherwise`.
function debugStopOr(otherwise: i32): i32 {
  const code = takeDebugStop();
  return code != 0 ? code : otherwise;
}

// Asks run() to return after the current instruction (from a port handler).
export function stop(): void { requestStop(); }

export function getReg(r: i32): u32 { return load<u32>(REGS + (<usize>(r & 7) << 2)); }
export function setReg(r: i32, v: u32): void { store<u32>(REGS + (<usize>(r & 7) << 2), v); }
export function getEip(): u32 { return eip; }
// The host moving EIP also wakes the CPU from HLT.
export function setEip(v: u32): void { eip = v; halted = false; eipMoved(); }

export function setInterruptLine(level: bool): void { setLine(level); }
export function isHalted(): bool { return halted; }
export function getEflags(): u32 { return eflagsValue(); }
export function setEflags(v: u32): void { setEflagsValue(v); }

export function getCr(n: i32): u32 {
  return n == 0 ? cr0 : (n == 2 ? cr2 : (n == 3 ? cr3 : (n == 4 ? cr4 : 0)));
}
// As MOV CRn would (with its TLB flushes), without MOV's checks.
export function setCr(n: i32, v: u32): void {
  const oldCr0 = cr0, oldCr4 = cr4;
  if (n == 0) cr0 = v | 0x10;
  else if (n == 2) cr2 = v;
  else if (n == 3) { cr3 = v; directoryBaseWritten(); }
  else if (n == 4) cr4 = v;
  pagingModeWritten(oldCr0, oldCr4);
}

export function setGdtr(base: u32, limit: u32): void { gdtBase = base; gdtLimit = limit & 0xFFFF; }
export function setIdtr(base: u32, limit: u32): void { idtBase = base; idtLimit = limit & 0xFFFF; }
export function getGdtBase(): u32 { return gdtBase; }
export function getGdtLimit(): u32 { return gdtLimit; }
export function getIdtBase(): u32 { return idtBase; }
export function getIdtLimit(): u32 { return idtLimit; }

export function setSegmentCache(seg: i32, selector: u32, base: u32, limit: u32, access: u32): void {
  setCache(seg, selector, base, limit, access);
}
// Loads a data/stack segment register as MOV Sreg would (may raise a fault).
export function loadSegment(seg: i32, selector: u32): void { loadSelector(seg, selector); }
export function getSegmentSelector(seg: i32): u32 { return segSelector(seg); }
export function getSegmentBase(seg: i32): u32 { return segBase(seg); }
export function getSegmentLimit(seg: i32): u32 { return load<u32>(SEG_LIMIT + (<usize>seg << 2)); }
export function getSegmentAccess(seg: i32): u32 { return load<u32>(SEG_ACCESS + (<usize>seg << 2)); }

// Executed instructions so far (REP iterations count one each), as a double.
export function getInstructionCount(): f64 { return <f64>executedInstructions(); }
// Instructions executed up to and including the one that first entered ring 3 (0: never).
export function getFirstUserModeInstructions(): f64 { return <f64>firstUserModeAt; }

export function pendingVector(): i32 { return vector; }
export function pendingErrorCode(): i32 { return errorCode; }
export function abortInstruction(): void {
  pageFaultTaken(); // the instruction is void, and any watch hit of it
  abort();
  endLengthLimit();
  clearImplicitSupervisor();
}
export function clearPending(): void { clear(); }

// ---- the translator's side of the interface (see blocks.ts) ----

// (Off underneath while breakpoints or watchpoints are armed: debug.ts.)
export function enableTranslation(on: bool): void { setTranslationWanted(on); }
export function getTranslateRequest(): u32 { return translateRequest; }
export function getTranslateRequestPhysical(): u32 { return translateRequestPhysical; }
export function installBlock(eip: u32, fn: u32, length: u32, first: u32, last: u32): void {
  install(eip, fn, length, first, last);
}
export function discardAllBlocks(): void { discardAll(); }
export function regsPointer(): usize { return REGS; }
export function untranslatable(): u32 { return UNTRANSLATABLE; }

// State that translated blocks read and write directly.
export { eip, instructionStart, budget, blockBoundary } from "./state";
export { stored, lazyOp, lazyDst, lazySrc, lazyRes, lazySize } from "./flags";
export { codeModified } from "./blocks";
export { pageFaultPending, attention } from "./state";

// Helpers translated blocks call for what is not worth inlining: checked
// segmented memory access, flags, shifts, multiplies.
export function jitRead(size: i32, seg: i32, offset: u32): u32 {
  if (size == 32) return readSegment(32, seg, offset);
  if (size == 16) return readSegment(16, seg, offset);
  return readSegment(8, seg, offset);
}
// The destination of a read-modify-write (operands.ts readRMForUpdate):
// checked writable first, so a fault is the write's, with the flags as they were.
export function jitReadForUpdate(size: i32, seg: i32, offset: u32): u32 {
  const bytes = <u32>(size >> 3);
  checkSegmentAccess(seg, offset, bytes, true);
  probeWrite(segBase(seg) + offset, bytes);
  return jitRead(size, seg, offset);
}
export function jitWrite(size: i32, seg: i32, offset: u32, v: u32): void {
  if (size == 32) writeSegment(32, seg, offset, v);
  else if (size == 16) writeSegment(16, seg, offset, v);
  else writeSegment(8, seg, offset, v);
}
export function jitCondition(cc: i32): bool { return condition(cc); }
export function jitCarry(): bool { return getCF(); }
export function jitPinCarry(): void { pinCarry(); }
// All flags into `stored` (lazyOp NONE): before a rotate by a constant sets CF and OF inline.
export function jitMaterialize(): void { materialize(); }
export function jitShift(op: i32, size: i32, dst: u32, count: u32): u32 {
  switch (op) {
    case 0: return shiftRotate(0, size, dst, count);
    case 1: return shiftRotate(1, size, dst, count);
    case 2: return shiftRotate(2, size, dst, count);
    case 3: return shiftRotate(3, size, dst, count);
    case 5: return shiftRotate(5, size, dst, count);
    case 7: return shiftRotate(7, size, dst, count);
    default: return shiftRotate(4, size, dst, count);
  }
}

// ---- delivery through the IDT (a machine with an OS) ----

export function setDeliverThroughIdt(on: bool): void { setDelivery(on); }
// After a trap: deliver the pending exception, and any page fault that
// delivery itself raises (#DF, triple fault). False: a triple fault.
export function deliverPendingException(): bool {
  let delivered = deliverPending();
  while (delivered && pageFaultPending) delivered = takePageFault();
  return delivered;
}
export function getTr(): u32 { return trSelector; }
export function getLdtr(): u32 { return ldtSelector; }
export function getCpl(): i32 { return cpl; }
export function addIdleCycles(n: f64): void { idleCycles += <u64>n; }
export function getInterruptsEnabled(): bool { return (eflagsValue() & IF_FLAG) != 0; }

// ---- the MMU, seen from the host (nothing here changes what the guest sees) ----

// Walks `linear` under page directory `directory` for an access of `access`
// (0 read, 1 write, 2 fetch) from user or supervisor mode; the steps are in
// memory at walkResult() (paging.ts PROBE).
export function walk(directory: u32, linear: u32, access: i32, user: bool): usize {
  probeWalk(directory, linear, access, user);
  return PROBE;
}
export function isPagingEnabled(): bool { return pagingEnabled; }

// TLB 0: code 4 KiB, 1: code 4 MiB, 2: data 4 KiB, 3: data 4 MiB.
export function setTlbGeometry(tlb: i32, entries: u32, ways: u32): bool { return setGeometry(tlb, entries, ways); }
export function tlbEntries(tlb: i32): u32 { return geometryEntries(tlb); }
export function tlbWays(tlb: i32): u32 { return geometryWays(tlb); }
export function tlbEntryPage(tlb: i32, index: u32): u32 { return entryPage(tlb, index); }
export function tlbEntryFrame(tlb: i32, index: u32): u32 { return entryFrame(tlb, index); }
export function tlbEntryFlags(tlb: i32, index: u32): u32 { return entryFlags(tlb, index); }

// Counters, as doubles: 0 hits, 1 misses, 2 walks, 3 A/D updates, 4 full
// flushes, 5 INVLPGs, 6 evictions, 7 page faults.
export function tlbCounter(which: i32): f64 {
  switch (which) {
    case 0: return <f64>countHits;
    case 1: return <f64>countMisses;
    case 2: return <f64>countWalks;
    case 3: return <f64>countAccessedDirty;
    case 4: return <f64>countFullFlushes;
    case 5: return <f64>countPageFlushes;
    case 6: return <f64>countEvictions;
    default: return <f64>countPageFaults;
  }
}
export function resetTlbCounters(): void { resetCounters(); }

// ---- the page reference string (refs.ts) ----

// Turns recording on or off. The fast tables are re-selected (user accesses
// bypass them while recording) and the fetch window is dropped, so the code
// page EIP is on is recorded by the next fetch.
export function recordReferences(on: bool): void {
  setRecording(on);
  accessModeChanged();
  invalidateFetch();
}
// Hands the references still buffered to the host (env.drainReferences).
export function drainReferences(): void { flushReferences(); }

// ---- snapshots (snapshot.ts): the globals into memory and back; the host copies memory ----
export { saveState, restoreState, snapshotGlobalsBytes } from "./snapshot";

// ---- the debugger's hooks (debug.ts; semantics there) ----

export function clearBreakpoints(): void { clearBps(); }
// Up to 16 linear addresses (CS.base + EIP); false when full.
export function addBreakpoint(linear: u32): bool { return addBp(linear); }
// Bits 32*index .. 32*index+31 of the 256-bit vector break mask.
export function setVectorBreakWord(index: i32, bits: u32): void { setVectorWord(index, bits); }
export function clearWatchpoints(): void { clearWps(); }
// Up to 8; flags: 1 read, 2 write, 4 physical. False when full or invalid.
export function addWatchpoint(first: u32, length: u32, flags: u32): bool { return addWp(first, length, flags); }
// The next run() passes over a breakpoint at the current CS.base + EIP once.
export function resumeOverBreakpoint(): void { resumeOver(); }
// Forgets a debug stop not yet reported (after step()).
export function discardDebugStop(): void { clearDebugStop(); }
// 0 vector, 1 error code (-1: none), 2 EIP pushed, 3 CR2.
export function vectorHit(which: i32): i32 {
  return which == 0 ? hitVector : (which == 1 ? hitErrorCode : (which == 2 ? <i32>hitEip : <i32>hitCr2));
}
// 0 index, 1 linear, 2 physical, 3 size, 4 write (1) or read (0), 5 EIP of the instruction.
export function watchHit(which: i32): i32 {
  switch (which) {
    case 0: return watchHitIndex;
    case 1: return <i32>watchHitLinear;
    case 2: return <i32>watchHitPhysical;
    case 3: return <i32>watchHitSize;
    case 4: return watchHitWrite ? 1 : 0;
    default: return <i32>watchHitEip;
  }
}
// 0 vector (-1: none yet), 1 error code (-1: none), 2 EIP pushed, 3 CR2.
export function lastException(which: i32): i32 {
  return which == 0 ? lastExceptionVector
    : (which == 1 ? lastExceptionErrorCode : (which == 2 ? <i32>lastExceptionEip : <i32>lastExceptionCr2));
}
// Executed instructions when the last exception was delivered, as a double.
export function lastExceptionInstructionCount(): f64 { return <f64>lastExceptionInstructions; }
