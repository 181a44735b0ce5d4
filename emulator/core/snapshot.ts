// Machine snapshots, the core's part (issue 8: reverse execution by
// re-running from periodic snapshots).
//
// Everything the core keeps in linear memory (RAM, registers, segment
// caches, TLBs and their fast tables, the translation cache's tables...) is
// saved by the host copying the whole wasm memory. What lives in wasm
// globals is copied here into GLOBALS (a memory.data area, so it travels
// with that copy): saveState() before the host copies memory out,
// restoreState() after it copied memory back. Snapshots are taken between
// runs (never inside an instruction), which is why per-instruction scratch
// state need not be saved (it is, where it is cheap to reach).
//
// To add a global: one line in sync() below, `x = u32s(x);` (or i32s, bools,
// u64s). sync() both saves and restores, so the two directions cannot drift.
//
// Every module-level `let` of emulator/core, and what a snapshot does with it:
//
//   state.ts    eip instructionStart cpl code32 stack32 cr0 cr2 cr3 cr4
//               gdtBase gdtLimit idtBase idtLimit ldtSelector ldtBase
//               ldtLimit trSelector trBase trLimit                   saved
//               countAtRunStart budgetAtRunStart budget (the instruction
//               count is derived from them), stopRequested blockBoundary
//               halted interruptLine interruptShadow trapFlag
//               pageFaultPending attention idleCycles firstUserModeAt saved
//   flags.ts    stored lazyOp lazyDst lazySrc lazyRes lazySize        saved
//   execute0f.ts tscAdjust (WRMSR to the TSC)                         saved
//   exceptions.ts pendingVector pendingErrorCode pendingIsTrap        saved
//   interrupts.ts deliveringVector tripleFault                        saved
//               deliverThroughIdt: a host option (Cpu constructor)    kept as is
//   memory.ts   pagingEnabled                                         saved
//               ramBase ramSize: fixed at init()                      checked equal
//   tlb.ts      countHits countMisses countWalks countAccessedDirty
//               countFullFlushes countPageFlushes countEvictions
//               countPageFaults fastBase                              saved
//               (entries, NEXT_WAY, geometry, fast tables: memory)
//   decode.ts   fetchLo fetchLen fetchDelta (the fetch window: a refill
//               looks the code TLB up, which counts and may fill)     saved
//               opcode operandSize addressSize segmentOverride repPrefix
//               lockPrefix modrm modrmReg modrmRm modrmIsReg
//               effectiveOffset effectiveSegment (per instruction)    saved
//               lengthLimited espIsBase: per instruction, false/dead
//               between instructions (not exported)                   not saved
//   segments.ts descriptorLow descriptorHigh descriptorAddress        saved
//   restart.ts  pageFaultErrorCode                                    saved
//               implicitSupervisor (0 between instructions), saved*
//               (the state a pending page fault rewinds to; dead once
//               run() has delivered it)                               not saved
//   blocks.ts   codeModified translateRequest translateRequestPhysical saved
//               codePages: fixed at init()                            checked equal
//               translationEnabled: a host option                     kept as is
//               The translation cache itself is discarded on restore
//               (discardAllBlocks): translation changes speed, never results.
//   refs.ts     recording refCount lastDirectory lastPage: the host's
//               reference recording, not machine state; the host drains
//               the buffer before a save and before a restore        not saved
//   debug.ts    breakpointCount watchCount vectorBreaksArmed
//               translationWanted and the BREAKPOINTS/VECTOR_MASK/WATCH_*
//               tables: debugger settings, not machine state. The tables are
//               in memory and do come back with a restore, so host/cpu.ts
//               re-applies the current settings after it (applyDebugHooks),
//               which also recomputes debugAttention watching mmuPath;
//               restoreState() recomputes them too (setPagingEnabled,
//               updateAttention, accessModeChanged)                  not saved
//               debugStop watchCancelled resumeSkip resumeLinear repSkip
//               repLinear hit* watchHit* lastException*: the pending stop,
//               passing over, a REP cut short (a snapshot may fall
//               mid-REP) and the machine's exception history            saved

import {
  eip, instructionStart, cpl, code32, stack32, cr0, cr2, cr3, cr4, gdtBase, gdtLimit, idtBase, idtLimit,
  ldtSelector, ldtBase, ldtLimit, trSelector, trBase, trLimit, countAtRunStart, budgetAtRunStart, budget,
  stopRequested, blockBoundary, halted, interruptLine, interruptShadow, trapFlag, pageFaultPending, attention,
  idleCycles, firstUserModeAt, updateAttention,
} from "./state";
import { stored, lazyOp, lazyDst, lazySrc, lazyRes, lazySize } from "./flags";
import { tscAdjust } from "./execute0f";
import { pendingVector, pendingErrorCode, pendingIsTrap } from "./exceptions";
import { deliveringVector, tripleFault } from "./interrupts";
import { pagingEnabled, ramBase, ramSize, setPagingEnabled } from "./memory";
import {
  countHits, countMisses, countWalks, countAccessedDirty, countFullFlushes, countPageFlushes, countEvictions,
  countPageFaults, fastBase,
} from "./tlb";
import {
  fetchLo, fetchLen, fetchDelta, opcode, operandSize, addressSize, segmentOverride, repPrefix, lockPrefix,
  modrm, modrmReg, modrmRm, modrmIsReg, effectiveOffset, effectiveSegment,
} from "./decode";
import { descriptorLow, descriptorHigh, descriptorAddress } from "./segments";
import { pageFaultErrorCode, accessModeChanged } from "./restart";
import { codeModified, translateRequest, translateRequestPhysical, codePages, discardAllBlocks } from "./blocks";
import {
  debugStop, watchCancelled, resumeSkip, resumeLinear, repSkip, repLinear, hitVector, hitErrorCode, hitEip, hitCr2,
  watchHitIndex, watchHitLinear, watchHitPhysical, watchHitSize, watchHitWrite, watchHitEip,
  lastExceptionVector, lastExceptionErrorCode, lastExceptionEip, lastExceptionCr2, lastExceptionInstructions,
} from "./debug";

const MAGIC: u64 = 0x41544C53534E4150; // "ATLSSNAP"
const SLOTS: u32 = 128;
// MAGIC, then one 8-byte slot per global in sync() order.
const GLOBALS: usize = memory.data(<i32>(SLOTS * 8 + 8));

let restoring: bool = false;
let cursor: usize = 0;

function nextSlot(): usize {
  const at = GLOBALS + 8 + cursor;
  cursor += 8;
  if (cursor > <usize>SLOTS * 8) unreachable(); // SLOTS too small
  return at;
}
function u64s(v: u64): u64 {
  const at = nextSlot();
  if (restoring) return load<u64>(at);
  store<u64>(at, v);
  return v;
}
function u32s(v: u32): u32 { return <u32>u64s(<u64>v); }
function i32s(v: i32): i32 { return <i32><u32>u64s(<u64><u32>v); }
function bools(v: bool): bool { return u64s(v ? 1 : 0) != 0; }

// Saves (restoring false) or restores (true) every global of the list.
function sync(): void {
  cursor = 0;
  // Fixed at init(): read back and compared, never changed.
  if (u32s(<u32>ramBase) != <u32>ramBase || u32s(ramSize) != ramSize || u32s(<u32>codePages) != <u32>codePages) unreachable();
  // state.ts
  eip = u32s(eip);
  instructionStart = u32s(instructionStart);
  cpl = i32s(cpl);
  code32 = bools(code32);
  stack32 = bools(stack32);
  cr0 = u32s(cr0);
  cr2 = u32s(cr2);
  cr3 = u32s(cr3);
  cr4 = u32s(cr4);
  gdtBase = u32s(gdtBase);
  gdtLimit = u32s(gdtLimit);
  idtBase = u32s(idtBase);
  idtLimit = u32s(idtLimit);
  ldtSelector = u32s(ldtSelector);
  ldtBase = u32s(ldtBase);
  ldtLimit = u32s(ldtLimit);
  trSelector = u32s(trSelector);
  trBase = u32s(trBase);
  trLimit = u32s(trLimit);
  countAtRunStart = u64s(countAtRunStart);
  budgetAtRunStart = u32s(budgetAtRunStart);
  budget = u32s(budget);
  stopRequested = bools(stopRequested);
  blockBoundary = bools(blockBoundary);
  halted = bools(halted);
  interruptLine = bools(interruptLine);
  interruptShadow = i32s(interruptShadow);
  trapFlag = bools(trapFlag);
  pageFaultPending = bools(pageFaultPending);
  attention = bools(attention);
  idleCycles = u64s(idleCycles);
  firstUserModeAt = u64s(firstUserModeAt);
  // flags.ts
  stored = u32s(stored);
  lazyOp = i32s(lazyOp);
  lazyDst = u32s(lazyDst);
  lazySrc = u32s(lazySrc);
  lazyRes = u32s(lazyRes);
  lazySize = i32s(lazySize);
  // execute0f.ts
  tscAdjust = u64s(tscAdjust);
  // exceptions.ts, interrupts.ts
  pendingVector = i32s(pendingVector);
  pendingErrorCode = i32s(pendingErrorCode);
  pendingIsTrap = bools(pendingIsTrap);
  deliveringVector = i32s(deliveringVector);
  tripleFault = bools(tripleFault);
  // memory.ts
  pagingEnabled = bools(pagingEnabled);
  // tlb.ts
  countHits = u64s(countHits);
  countMisses = u64s(countMisses);
  countWalks = u64s(countWalks);
  countAccessedDirty = u64s(countAccessedDirty);
  countFullFlushes = u64s(countFullFlushes);
  countPageFlushes = u64s(countPageFlushes);
  countEvictions = u64s(countEvictions);
  countPageFaults = u64s(countPageFaults);
  fastBase = <usize>u32s(<u32>fastBase);
  // decode.ts
  fetchLo = u32s(fetchLo);
  fetchLen = u32s(fetchLen);
  fetchDelta = <usize>u32s(<u32>fetchDelta);
  opcode = u32s(opcode);
  operandSize = i32s(operandSize);
  addressSize = i32s(addressSize);
  segmentOverride = i32s(segmentOverride);
  repPrefix = i32s(repPrefix);
  lockPrefix = bools(lockPrefix);
  modrm = u32s(modrm);
  modrmReg = i32s(modrmReg);
  modrmRm = i32s(modrmRm);
  modrmIsReg = bools(modrmIsReg);
  effectiveOffset = u32s(effectiveOffset);
  effectiveSegment = i32s(effectiveSegment);
  // segments.ts
  descriptorLow = u32s(descriptorLow);
  descriptorHigh = u32s(descriptorHigh);
  descriptorAddress = u32s(descriptorAddress);
  // restart.ts
  pageFaultErrorCode = u32s(pageFaultErrorCode);
  // blocks.ts
  codeModified = bools(codeModified);
  translateRequest = u32s(translateRequest);
  translateRequestPhysical = u32s(translateRequestPhysical);
  // debug.ts: the hit and pass-over state and the last exception (the
  // breakpoint and watch tables are the host's settings: cpu.ts applies
  // them again after a restore, and recomputes what derives from them).
  debugStop = i32s(debugStop);
  watchCancelled = bools(watchCancelled);
  resumeSkip = bools(resumeSkip);
  resumeLinear = u32s(resumeLinear);
  repSkip = bools(repSkip);
  repLinear = u32s(repLinear);
  hitVector = i32s(hitVector);
  hitErrorCode = i32s(hitErrorCode);
  hitEip = u32s(hitEip);
  hitCr2 = u32s(hitCr2);
  watchHitIndex = i32s(watchHitIndex);
  watchHitLinear = u32s(watchHitLinear);
  watchHitPhysical = u32s(watchHitPhysical);
  watchHitSize = u32s(watchHitSize);
  watchHitWrite = bools(watchHitWrite);
  watchHitEip = u32s(watchHitEip);
  lastExceptionVector = i32s(lastExceptionVector);
  lastExceptionErrorCode = i32s(lastExceptionErrorCode);
  lastExceptionEip = u32s(lastExceptionEip);
  lastExceptionCr2 = u32s(lastExceptionCr2);
  lastExceptionInstructions = u64s(lastExceptionInstructions);
}

// Writes the globals into the snapshot area (then the host copies memory).
export function saveState(): void {
  restoring = false;
  sync();
  store<u64>(GLOBALS, MAGIC);
}

// After the host copied a saved memory image back: the globals from the
// area, and the translation cache emptied. False if the memory holds no
// saved state.
export function restoreState(): bool {
  if (load<u64>(GLOBALS) != MAGIC) return false;
  restoring = true;
  sync();
  restoring = false;
  discardAllBlocks();
  // What is derived from saved state and from the debugger's settings
  // (which stay as they are now): the MMU path, the run loop's attention.
  setPagingEnabled(pagingEnabled);
  updateAttention();
  // The fast tables for the restored CPL and pending fault, under the
  // host's current reference recording (same as saved when that is unchanged).
  accessModeChanged();
  return true;
}

// Bytes of the area (for the host's report).
export function snapshotGlobalsBytes(): u32 { return SLOTS * 8 + 8; }
