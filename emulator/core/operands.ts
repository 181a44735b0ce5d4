// Operand access shared by the instruction implementations: the ModRM r/m
// operand, the stack, and near control transfers.

import { readSized, writeSized, probeWrite } from "./memory";
import {
  modrmIsReg, modrmRm, operandSize, addressSize, effectiveOffset, effectiveSegment,
} from "./decode";
import { checkSegmentAccess } from "./segments";
import {
  getReg, setReg, reg32, setReg32, reg16, setReg16, segBase, stack32, eip, blockBoundary,
  ESP, SS,
} from "./state";

// ---- segmented memory: every access names its segment and is checked ----

@inline export function readSegment(size: i32, seg: i32, offset: u32): u32 {
  checkSegmentAccess(seg, offset, <u32>(size >> 3), false);
  return readSized(size, segBase(seg) + offset);
}

@inline export function writeSegment(size: i32, seg: i32, offset: u32, v: u32): void {
  checkSegmentAccess(seg, offset, <u32>(size >> 3), true);
  writeSized(size, segBase(seg) + offset, v);
}

// ---- the memory operand of ModRM, `delta` bytes past its address ----

@inline function effectiveOffsetPlus(delta: u32): u32 {
  const off = effectiveOffset + delta;
  return addressSize == 32 ? off : (off & 0xFFFF);
}

@inline export function readMemoryOperand(size: i32, delta: u32 = 0): u32 {
  return readSegment(size, effectiveSegment, effectiveOffsetPlus(delta));
}

@inline export function writeMemoryOperand(size: i32, v: u32, delta: u32 = 0): void {
  writeSegment(size, effectiveSegment, effectiveOffsetPlus(delta), v);
}

// Checks that the memory operand may be written, before a multi-part write.
export function checkMemoryOperandWritable(bytes: u32): void {
  checkSegmentAccess(effectiveSegment, effectiveOffset, bytes, true);
  probeWrite(segBase(effectiveSegment) + effectiveOffset, bytes);
}

// A read-modify-write instruction sets flags before it writes its result,
// so it checks the destination is writable first: a fault then leaves the
// flags as they were.
@inline export function readRMForUpdate(size: i32): u32 {
  if (modrmIsReg) return getReg(size, modrmRm);
  checkMemoryOperandWritable(<u32>(size >> 3));
  return readMemoryOperand(size);
}

@inline export function readRM(size: i32): u32 {
  return modrmIsReg ? getReg(size, modrmRm) : readMemoryOperand(size);
}

@inline export function writeRM(size: i32, v: u32): void {
  if (modrmIsReg) setReg(size, modrmRm, v);
  else writeMemoryOperand(size, v);
}

// ---- stack: SS.B decides whether ESP or SP is the stack pointer ----

@inline export function stackPointer(): u32 {
  return stack32 ? reg32(ESP) : reg16(ESP);
}

@inline export function setStackPointer(v: u32): void {
  if (stack32) setReg32(ESP, v);
  else setReg16(ESP, v);
}

@inline function stackOffset(sp: u32): u32 {
  return stack32 ? sp : (sp & 0xFFFF);
}

@inline export function readStack(size: i32, sp: u32): u32 {
  return readSegment(size, SS, stackOffset(sp));
}

@inline export function writeStack(size: i32, sp: u32, v: u32): void {
  writeSegment(size, SS, stackOffset(sp), v);
}

export function push(size: i32, v: u32): void {
  const sp = stackPointer() - <u32>(size >> 3);
  writeStack(size, sp, v);
  setStackPointer(sp);
}

// Reads the stack `offset` bytes above the top, without popping.
export function peek(size: i32, offset: u32): u32 {
  return readStack(size, stackPointer() + offset);
}

export function popDiscard(bytes: u32): void {
  setStackPointer(stackPointer() + bytes);
}

export function pop(size: i32): u32 {
  const v = peek(size, 0);
  popDiscard(<u32>(size >> 3));
  return v;
}

// Makes sure `bytes` below the stack top are writable before an instruction
// pushes several values.
export function probeStack(bytes: u32): void {
  const sp = stackPointer() - bytes;
  checkSegmentAccess(SS, stackOffset(sp), bytes, true);
  probeWrite(segBase(SS) + stackOffset(sp), bytes);
}

// ---- near control transfers ----

@inline export function jumpNear(target: u32): void {
  eip = operandSize == 32 ? target : (target & 0xFFFF);
  blockBoundary = true;
}

export function jumpRelative(displacement: u32): void {
  jumpNear(eip + displacement);
}
