// Operand access shared by the instruction implementations: the ModRM r/m
// operand, the stack, and near control transfers.

import { readSized, writeSized, probeWrite } from "./memory";
import { modrmIsReg, modrmRm, effectiveLinear, operandSize } from "./decode";
import {
  getReg, setReg, reg32, setReg32, reg16, setReg16, segBase, stack32, eip,
  ESP, SS,
} from "./state";

@inline export function readRM(size: i32): u32 {
  return modrmIsReg ? getReg(size, modrmRm) : readSized(size, effectiveLinear());
}

@inline export function writeRM(size: i32, v: u32): void {
  if (modrmIsReg) setReg(size, modrmRm, v);
  else writeSized(size, effectiveLinear(), v);
}

// ---- stack: SS.B decides whether ESP or SP is the stack pointer ----

@inline export function stackPointer(): u32 {
  return stack32 ? reg32(ESP) : reg16(ESP);
}

@inline export function setStackPointer(v: u32): void {
  if (stack32) setReg32(ESP, v);
  else setReg16(ESP, v);
}

@inline export function stackAddress(sp: u32): u32 {
  return segBase(SS) + (stack32 ? sp : (sp & 0xFFFF));
}

export function push(size: i32, v: u32): void {
  const sp = stackPointer() - <u32>(size >> 3);
  writeSized(size, stackAddress(sp), v);
  setStackPointer(sp);
}

// Reads the stack `offset` bytes above the top, without popping.
export function peek(size: i32, offset: u32): u32 {
  return readSized(size, stackAddress(stackPointer() + offset));
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
  probeWrite(stackAddress(stackPointer() - bytes), bytes);
}

// ---- near control transfers ----

@inline export function jumpNear(target: u32): void {
  eip = operandSize == 32 ? target : (target & 0xFFFF);
}

export function jumpRelative(displacement: u32): void {
  jumpNear(eip + displacement);
}
