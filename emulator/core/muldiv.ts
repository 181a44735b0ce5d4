// MUL, IMUL and DIV, IDIV on the accumulator (F6/F7 /4-/7), and the
// two- and three-operand IMUL. Division raises #DE on a zero divisor or a
// quotient that does not fit, before any register changes.

import { setResultFlags } from "./flags";
import { raise, DE } from "./exceptions";
import {
  reg8, reg16, reg32, setReg16, setReg32, setReg8, signExtend, sizeMask,
  EAX, EDX,
} from "./state";

export function mul(size: i32, src: u32): void {
  if (size == 8) {
    const r = reg8(EAX) * src;
    setReg16(EAX, r);
    setResultFlags(8, r, (r >>> 8) != 0, (r >>> 8) != 0);
  } else if (size == 16) {
    const r = reg16(EAX) * src;
    setReg16(EAX, r);
    setReg16(EDX, r >>> 16);
    setResultFlags(16, r, (r >>> 16) != 0, (r >>> 16) != 0);
  } else {
    const r: u64 = <u64>reg32(EAX) * <u64>src;
    const hi = <u32>(r >> 32);
    setReg32(EAX, <u32>r);
    setReg32(EDX, hi);
    setResultFlags(32, <u32>r, hi != 0, hi != 0);
  }
}

// One-operand IMUL: the double-width product into AX, DX:AX or EDX:EAX.
export function imulAccumulator(size: i32, src: u32): void {
  if (size == 32) {
    const r: i64 = <i64><i32>reg32(EAX) * <i64><i32>src;
    setReg32(EAX, <u32>r);
    setReg32(EDX, <u32>(r >> 32));
    const overflow = r != <i64><i32>r;
    setResultFlags(32, <u32>r, overflow, overflow);
    return;
  }
  const r = <i32>signExtend(size, reg32(EAX)) * <i32>signExtend(size, src);
  const overflow = r != <i32>signExtend(size, <u32>r);
  if (size == 8) {
    setReg16(EAX, <u32>r);
  } else {
    setReg16(EAX, <u32>r);
    setReg16(EDX, <u32>r >>> 16);
  }
  setResultFlags(size, <u32>r, overflow, overflow);
}

// Two- and three-operand IMUL: the product truncated to the operand size.
export function imulTruncated(size: i32, a: u32, b: u32): u32 {
  const r: i64 = <i64><i32>signExtend(size, a) * <i64><i32>signExtend(size, b);
  const res = <u32>r & sizeMask(size);
  const overflow = r != <i64><i32>signExtend(size, res);
  setResultFlags(size, res, overflow, overflow);
  return res;
}

export function div(size: i32, divisor: u32): void {
  if (divisor == 0) raise(DE);
  if (size == 8) {
    const n = reg16(EAX);
    const q = n / divisor;
    if (q > 0xFF) raise(DE);
    setReg8(EAX, q);
    setReg8(4, n % divisor); // AH
  } else if (size == 16) {
    const n = (reg16(EDX) << 16) | reg16(EAX);
    const q = n / divisor;
    if (q > 0xFFFF) raise(DE);
    setReg16(EAX, q);
    setReg16(EDX, n % divisor);
  } else {
    const n: u64 = (<u64>reg32(EDX) << 32) | <u64>reg32(EAX);
    const q = n / <u64>divisor;
    if (q > 0xFFFFFFFF) raise(DE);
    setReg32(EAX, <u32>q);
    setReg32(EDX, <u32>(n % <u64>divisor));
  }
}

export function idiv(size: i32, divisorIn: u32): void {
  if (divisorIn == 0) raise(DE);
  const divisor = <i64><i32>signExtend(size, divisorIn);
  let n: i64;
  if (size == 8) n = <i64><i16>reg16(EAX);
  else if (size == 16) n = <i64><i32>((reg16(EDX) << 16) | reg16(EAX));
  else n = <i64>((<u64>reg32(EDX) << 32) | <u64>reg32(EAX));
  // The one i64 division wasm itself traps on; its quotient overflows anyway.
  if (n == i64.MIN_VALUE && divisor == -1) raise(DE);
  const q = n / divisor;
  const r = n % divisor;
  const limit: i64 = size == 32 ? 0x7FFFFFFF : (size == 16 ? 0x7FFF : 0x7F);
  if (q > limit || q < -limit - 1) raise(DE);
  if (size == 8) {
    setReg8(EAX, <u32>q);
    setReg8(4, <u32>r);
  } else if (size == 16) {
    setReg16(EAX, <u32>q);
    setReg16(EDX, <u32>r);
  } else {
    setReg32(EAX, <u32>q);
    setReg32(EDX, <u32>r);
  }
}
