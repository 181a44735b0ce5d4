// Far control transfers: JMP and CALL to selector:offset, and RETF. In
// protected mode the target is a code segment checked as the SDM's JMP/CALL
// pseudocode says (call gates and task switches are not implemented: #GP);
// RETF may return to an outer privilege level with its stack. In real mode
// the selector is a paragraph.

import { raise, GP, NP } from "./exceptions";
import {
  fetchDescriptor, descriptorAccess, descriptorBase, descriptorLimit, descriptorDpl,
  markDescriptorAccessed, setSegmentCache, checkStackSegment, checkReturnCodeSegment,
  ACCESS_TYPE_CODE, ACCESS_S, ACCESS_PRESENT,
} from "./segments";
import { readStack, writeStack, stackPointer, setStackPointer, probeStack } from "./operands";
import { nullDataSegmentsAbove } from "./interrupts";
import { eip, cpl, cr0, segSelector, setReg32, blockBoundary, CS, SS, ESP, SEG_LIMIT } from "./state";

const CODE: u32 = ACCESS_S | ACCESS_TYPE_CODE;

// Checks the code segment `selector` names for a JMP or CALL from the current
// privilege level; leaves its descriptor fetched.
function checkCodeTarget(selector: u32): void {
  if ((selector & 0xFFFC) == 0) raise(GP, 0);
  const error = <i32>(selector & 0xFFFC);
  fetchDescriptor(selector, GP, 0);
  const access = descriptorAccess();
  if ((access & CODE) != CODE) raise(GP, error); // a call gate, TSS or data: not supported here
  const conforming = (access & 4) != 0;
  const dpl = descriptorDpl();
  if (conforming ? dpl > cpl : (<i32>(selector & 3) > cpl || dpl != cpl)) raise(GP, error);
  if ((access & ACCESS_PRESENT) == 0) raise(NP, error);
}

// Loads CS from the fetched descriptor (RPL becomes the CPL) and jumps.
function enterCode(selector: u32, offset: u32, size: i32): void {
  const target = size == 32 ? offset : (offset & 0xFFFF);
  if (target > descriptorLimit()) raise(GP, 0);
  markDescriptorAccessed();
  setSegmentCache(CS, (selector & ~3) | <u32>cpl, descriptorBase(), descriptorLimit(), descriptorAccess());
  eip = target;
  blockBoundary = true;
}

function enterRealModeCode(selector: u32, offset: u32, size: i32): void {
  setSegmentCache(CS, selector, selector << 4, load<u32>(SEG_LIMIT + (<usize>CS << 2)), 0x9B);
  eip = size == 32 ? offset : (offset & 0xFFFF);
  blockBoundary = true;
}

export function farJump(selector: u32, offset: u32, size: i32): void {
  if ((cr0 & 1) == 0) { enterRealModeCode(selector, offset, size); return; }
  checkCodeTarget(selector);
  enterCode(selector, offset, size);
}

export function farCall(selector: u32, offset: u32, size: i32): void {
  const bytes = <u32>(size >> 3);
  if ((cr0 & 1) != 0) checkCodeTarget(selector);
  probeStack(2 * bytes);
  const sp = stackPointer();
  writeStack(size, sp - bytes, segSelector(CS));
  writeStack(size, sp - 2 * bytes, eip);
  setStackPointer(sp - 2 * bytes);
  if ((cr0 & 1) == 0) enterRealModeCode(selector, offset, size);
  else enterCode(selector, offset, size);
}

// RETF, releasing `release` bytes of parameters.
export function farReturn(size: i32, release: u32): void {
  const bytes = <u32>(size >> 3);
  const sp = stackPointer();
  const offset = readStack(size, sp);
  const selector = readStack(size, sp + bytes) & 0xFFFF;
  if ((cr0 & 1) == 0) {
    setStackPointer(sp + 2 * bytes + release);
    enterRealModeCode(selector, offset, size);
    return;
  }
  const rpl = <i32>(selector & 3);
  checkReturnCodeSegment(selector);
  const codeBase = descriptorBase(), codeLimit = descriptorLimit(), codeAccess = descriptorAccess();
  if (rpl == cpl) {
    if ((size == 32 ? offset : offset & 0xFFFF) > codeLimit) raise(GP, 0);
    markDescriptorAccessed();
    setStackPointer(sp + 2 * bytes + release);
    setSegmentCache(CS, selector, codeBase, codeLimit, codeAccess);
    eip = size == 32 ? offset : (offset & 0xFFFF);
    blockBoundary = true;
    return;
  }
  // To an outer level: its stack follows the parameters.
  const newEsp = readStack(size, sp + 2 * bytes + release);
  const newSs = readStack(size, sp + 3 * bytes + release) & 0xFFFF;
  checkStackSegment(newSs, rpl, GP, 0);
  const ssAccess = descriptorAccess();
  markDescriptorAccessed();
  const ssBase = descriptorBase(), ssLimit = descriptorLimit();
  fetchDescriptor(selector, GP, 0);
  markDescriptorAccessed();
  setSegmentCache(CS, selector, codeBase, codeLimit, codeAccess | 1);
  eip = size == 32 ? offset : (offset & 0xFFFF);
  setSegmentCache(SS, newSs, ssBase, ssLimit, ssAccess | 1);
  setReg32(ESP, size == 32 ? newEsp + release : ((newEsp + release) & 0xFFFF));
  nullDataSegmentsAbove(rpl);
  blockBoundary = true;
}
