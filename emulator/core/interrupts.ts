// Interrupt and exception delivery through the IDT, and IRET, as the SDM's
// protected-mode rules have them: 32-bit interrupt and trap gates, the gate
// DPL check for software interrupts, a stack switch through the TSS when the
// handler is more privileged, error codes, #DF for a fault while delivering
// a fault, and a triple fault (reported to the host) for a fault while
// delivering #DF.
//
// Delivery runs as a call from the host after an exception trapped out of
// the core (exceptions.ts), or from the run loop for a software interrupt.
// It reads and checks everything first and writes the new stack frame last,
// so a fault during delivery leaves the interrupted state intact.

import { systemRead32, probeWrite, writeSized } from "./memory";
import { beginImplicitSupervisor, endImplicitSupervisor } from "./restart";
import { pageFaultPending } from "./state";
import { noteDelivery } from "./debug";
import { readStack, stackPointer, setStackPointer } from "./operands";
import {
  raise, raiseTrap, pendingVector, pendingErrorCode, pendingIsTrap, clearPending, NO_ERROR_CODE,
  DE, DB, TS, NP, GP, PF, DF,
} from "./exceptions";
import {
  fetchDescriptor, descriptorAccess, descriptorBase, descriptorLimit, descriptorDpl,
  markDescriptorAccessed, setSegmentCache, checkStackSegment, checkReturnCodeSegment,
  ACCESS_TYPE_CODE, ACCESS_S, ACCESS_PRESENT,
} from "./segments";
import { getEflags, setEflags, IF, TF, NT, RF, VM, IOPL, AC, ID, VIF, VIP, ARITH_FLAGS, DF as DF_FLAG } from "./flags";
import {
  eip, cpl, idtBase, idtLimit, trSelector, trBase, trLimit, segSelector, segBase, reg32, setReg32,
  SEG_ACCESS, ESP, CS, SS, ES, GS, stack32,
} from "./state";

// Host option: deliver exceptions and software interrupts through the IDT
// (a machine with an OS), or report them to the host (bare-metal programs).
export let deliverThroughIdt: bool = false;
export function setDeliverThroughIdt(on: bool): void { deliverThroughIdt = on; }

// Set while an exception is being delivered: the vector, or -1.
export let deliveringVector: i32 = -1;
export let tripleFault: bool = false;

const GATE_INTERRUPT_32: u32 = 0xE;
const GATE_TRAP_32: u32 = 0xF;

// Contributory exceptions (SDM Table 6-4): two of these in a row make #DF.
function contributory(vector: i32): bool {
  return vector == DE || (vector >= TS && vector <= GP);
}

// Combines a fault raised while delivering `first` into what is delivered
// instead (SDM Table 6-5): #DF, a triple fault, or the second fault itself.
export function combineFaults(first: i32, second: i32): i32 {
  if (first == DF) return -2; // triple fault
  if ((contributory(first) && contributory(second)) ||
      (first == PF && (contributory(second) || second == PF))) return DF;
  return second;
}

// Delivers the exception the core recorded when it trapped: a fault or a
// trap from the instruction, or #DF / triple fault from a failed delivery.
// Returns false on a triple fault (the host stops the machine).
export function deliverPendingException(): bool {
  let vector = pendingVector;
  let errorCode = pendingErrorCode;
  if (deliveringVector >= 0) {
    const combined = combineFaults(deliveringVector, vector);
    if (combined == -2) {
      deliveringVector = -1;
      tripleFault = true;
      return false;
    }
    if (combined == DF) { vector = DF; errorCode = 0; }
  }
  const software = pendingIsTrap && vector != 1; // INT n, INT3, INTO
  clearPending();
  deliveringVector = vector;
  deliver(vector, errorCode, software, !software);
  // A page fault during delivery is taken next, combined with this vector.
  if (!pageFaultPending) deliveringVector = -1;
  return true;
}

// Delivers vector `vector`; `errorCode` < 0 for none. `software`: from INT n,
// INT3 or INTO (gate DPL checked). `external`: sets EXT in error codes.
// `hardware`: an external interrupt (debug.ts keeps the last exception).
export function deliver(vector: i32, errorCode: i32, software: bool, external: bool, hardware: bool = false): void {
  const ext = external ? 1 : 0;
  const gateOffset = <u32>vector << 3;
  if (gateOffset + 7 > idtLimit) raise(GP, <i32>gateOffset | 2 | ext);
  const low = systemRead32(idtBase + gateOffset);
  const high = systemRead32(idtBase + gateOffset + 4);
  const type = (high >>> 8) & 0x1F;
  if (type != GATE_INTERRUPT_32 && type != GATE_TRAP_32) raise(GP, <i32>gateOffset | 2 | ext);
  const gateDpl = <i32>((high >>> 13) & 3);
  if (software && gateDpl < cpl) raise(GP, <i32>gateOffset | 2);
  if ((high & (1 << 15)) == 0) raise(NP, <i32>gateOffset | 2 | ext);
  const selector = low >>> 16;
  const offset = (high & 0xFFFF0000) | (low & 0xFFFF);

  // The handler's code segment.
  if ((selector & 0xFFFC) == 0) raise(GP, ext);
  fetchDescriptor(selector, GP, ext);
  const codeAccess = descriptorAccess();
  const codeDpl = descriptorDpl();
  const selectorError = <i32>(selector & 0xFFFC) | ext;
  if ((codeAccess & (ACCESS_S | ACCESS_TYPE_CODE)) != (ACCESS_S | ACCESS_TYPE_CODE) || codeDpl > cpl) {
    raise(GP, selectorError);
  }
  if ((codeAccess & ACCESS_PRESENT) == 0) raise(NP, selectorError);
  const codeBase = descriptorBase();
  const codeLimit = descriptorLimit();
  const conforming = (codeAccess & 4) != 0;
  const newCpl = conforming ? cpl : codeDpl;

  const flags = getEflags();
  const oldCs = segSelector(CS);
  const oldSs = segSelector(SS);
  const oldEsp = reg32(ESP);
  const hasError = errorCode >= 0;

  // Where the frame goes: the current stack, or the inner stack from the TSS.
  let stackBase: u32;
  let sp: u32;
  let newSs: u32 = 0;
  let ssBase: u32 = 0, ssLimit: u32 = 0, ssAccess: u32 = 0;
  const inner = newCpl < cpl;
  if (inner) {
    const at: u32 = 4 + 8 * <u32>newCpl; // ESPn, then SSn
    if (at + 5 > trLimit) raise(TS, <i32>(trSelector & 0xFFFC) | ext);
    sp = systemRead32(trBase + at);
    newSs = systemRead32(trBase + at + 4) & 0xFFFF;
    checkStackSegment(newSs, newCpl, TS, ext);
    markDescriptorAccessed();
    ssBase = descriptorBase();
    ssLimit = descriptorLimit();
    ssAccess = descriptorAccess();
    stackBase = ssBase;
  } else {
    sp = stack32 ? reg32(ESP) : (reg32(ESP) & 0xFFFF);
    stackBase = segBase(SS);
  }
  const words: u32 = (inner ? 5 : 3) + (hasError ? 1 : 0);
  const frameTop = sp - 4 * words;
  // The frame is written by the CPU itself: supervisor accesses (as QEMU
  // makes them), even before CS changes.
  beginImplicitSupervisor();
  probeWrite(stackBase + frameTop, 4 * words);

  // Nothing can fault from here on: commit.
  if (inner) fetchDescriptor(selector, GP, ext); // re-read: the SS fetch replaced it
  markDescriptorAccessed();
  let at = sp;
  if (inner) {
    at -= 4; writeSized(32, stackBase + at, oldSs);
    at -= 4; writeSized(32, stackBase + at, oldEsp);
  }
  at -= 4; writeSized(32, stackBase + at, flags);
  at -= 4; writeSized(32, stackBase + at, oldCs);
  at -= 4; writeSized(32, stackBase + at, eip);
  if (hasError) { at -= 4; writeSized(32, stackBase + at, <u32>errorCode); }
  endImplicitSupervisor();

  if (inner) setSegmentCache(SS, (newSs & ~3) | <u32>newCpl, ssBase, ssLimit, ssAccess);
  setReg32(ESP, stack32 || inner ? at : ((reg32(ESP) & 0xFFFF0000) | (at & 0xFFFF)));
  let newFlags = flags & ~(TF | NT | RF | VM);
  if (((high >>> 8) & 0x1F) == GATE_INTERRUPT_32) newFlags &= ~IF;
  setEflags(newFlags);
  setSegmentCache(CS, (selector & ~3) | <u32>newCpl, codeBase, codeLimit, descriptorAccess());
  if (!pageFaultPending) noteDelivery(vector, errorCode, hardware); // (EIP still the one pushed)
  eip = offset;
}

// ---- IRET ----

// IRET in protected mode (NT = 0): back to the same privilege level, or to
// an outer one with its stack; data segment registers the outer level may
// not use are nulled.
export function iret(size: i32): void {
  if (getEflags() & NT) raise(GP, 0); // a return to a nested task: task switches are not implemented
  const bytes = <u32>(size >> 3);
  const newEip = readStack(size, stackTop());
  const newCs = readStack(size, stackTop() + bytes) & 0xFFFF;
  const newFlags = readStack(size, stackTop() + 2 * bytes);
  const rpl = <i32>(newCs & 3);
  checkReturnCodeSegment(newCs);
  const csBase = descriptorBase(), csLimit = descriptorLimit();

  const outer = rpl > cpl;
  let newEsp: u32 = 0, newSs: u32 = 0, ssBase: u32 = 0, ssLimit: u32 = 0, ssAccess: u32 = 0;
  if (outer) {
    newEsp = readStack(size, stackTop() + 3 * bytes);
    newSs = readStack(size, stackTop() + 4 * bytes) & 0xFFFF;
    checkStackSegment(newSs, rpl, GP, 0);
    markDescriptorAccessed();
    ssBase = descriptorBase();
    ssLimit = descriptorLimit();
    ssAccess = descriptorAccess();
    fetchDescriptor(newCs, GP, 0); // back to the code descriptor
  }

  // Commit. Which flags IRET may change depends on the privilege it runs at.
  let changeable: u32 = ARITH_FLAGS | TF | DF_FLAG | NT | RF;
  if (size == 32) changeable |= AC | ID;
  if (cpl == 0) changeable |= IOPL | (size == 32 ? VIF | VIP : 0);
  if (cpl <= <i32>((getEflags() >>> 12) & 3)) changeable |= IF;
  const flags = (getEflags() & ~changeable) | (newFlags & changeable);
  markDescriptorAccessed();
  setSegmentCache(CS, newCs, csBase, csLimit, descriptorAccess());
  eip = size == 32 ? newEip : (newEip & 0xFFFF);
  setEflags(flags);
  if (outer) {
    setSegmentCache(SS, newSs, ssBase, ssLimit, ssAccess);
    setReg32(ESP, newEsp);
    nullDataSegmentsAbove(rpl);
  } else {
    setStackTop(stackTop() + 3 * bytes);
  }
}

// After a return to an outer level: a data segment register that level may
// not use is loaded with a null selector.
export function nullDataSegmentsAbove(newCpl: i32): void {
  for (let seg = ES; seg <= GS; seg++) {
    if (seg == CS || seg == SS) continue;
    const access = load<u32>(SEG_ACCESS + (<usize>seg << 2));
    const conformingCode = (access & (ACCESS_TYPE_CODE | 4)) == (ACCESS_TYPE_CODE | 4);
    const dpl = <i32>((access >> 5) & 3);
    if (!conformingCode && dpl < newCpl) setSegmentCache(seg, 0, 0, 0, 0);
  }
}

@inline function stackTop(): u32 { return stackPointer(); }
@inline function setStackTop(v: u32): void { setStackPointer(v); }

// #DB after a single-stepped instruction: a trap (EIP is the next instruction).
export function singleStepTrap(): void {
  if (deliverThroughIdt) deliver(DB, NO_ERROR_CODE, false, true);
  else raiseTrap(DB);
}
