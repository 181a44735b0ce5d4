// EFLAGS with lazy evaluation of the arithmetic flags.
//
// Most instructions set CF PF AF ZF SF OF and most of those flags are never
// read. So an arithmetic instruction only records its operands, result and
// kind (lazyOp); a flag is computed when something reads it. `stored` holds
// every other bit, and the arithmetic flags too while lazyOp is NONE.

import { sizeMask, signBit, noteTrapFlag } from "./state";

export const CF: u32 = 1 << 0, PF: u32 = 1 << 2, AF: u32 = 1 << 4, ZF: u32 = 1 << 6,
  SF: u32 = 1 << 7, TF: u32 = 1 << 8, IF: u32 = 1 << 9, DF: u32 = 1 << 10, OF: u32 = 1 << 11,
  IOPL: u32 = 3 << 12, NT: u32 = 1 << 14, RF: u32 = 1 << 16, VM: u32 = 1 << 17, AC: u32 = 1 << 18,
  VIF: u32 = 1 << 19, VIP: u32 = 1 << 20, ID: u32 = 1 << 21;
export const ARITH_FLAGS: u32 = CF | PF | AF | ZF | SF | OF;

export const LAZY_NONE = 0;   // all flags in `stored`
export const LAZY_ADD = 1;    // ADD, ADC (carry-in folded into the result)
export const LAZY_SUB = 2;    // SUB, SBB, CMP, NEG
export const LAZY_LOGIC = 3;  // AND OR XOR TEST: CF = OF = AF = 0
export const LAZY_INC = 4;    // like ADD with src 1, CF kept in `stored`
export const LAZY_DEC = 5;    // like SUB with src 1, CF kept in `stored`
export const LAZY_RESULT = 6; // ZF SF PF from the result, CF AF OF in `stored`
export const LAZY_SBB = 7;    // like SUB, but the flags do not describe a plain dst - src

export let stored: u32 = 0x2;
export let lazyOp: i32 = LAZY_NONE;
export let lazyDst: u32 = 0;
export let lazySrc: u32 = 0;
export let lazyRes: u32 = 0; // masked to the operand size
export let lazySize: i32 = 32;

@inline export function setLazy(op: i32, size: i32, dst: u32, src: u32, res: u32): void {
  lazyOp = op;
  lazySize = size;
  lazyDst = dst & sizeMask(size);
  lazySrc = src & sizeMask(size);
  lazyRes = res & sizeMask(size);
}

// Flags kept in `stored` by INC/DEC/RESULT must be made concrete first.
export function materialize(): void {
  if (lazyOp == LAZY_NONE) return;
  stored = getEflags();
  lazyOp = LAZY_NONE;
}

function parityEven(v: u32): bool {
  let b = v & 0xFF;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  return (b & 1) == 0;
}

export function getCF(): bool {
  const sb = signBit(lazySize);
  switch (lazyOp) {
    case LAZY_ADD: return ((lazyDst & lazySrc) | ((lazyDst | lazySrc) & ~lazyRes)) & sb ? true : false;
    case LAZY_SUB:
    case LAZY_SBB: return ((~lazyDst & lazySrc) | (~(lazyDst ^ lazySrc) & lazyRes)) & sb ? true : false;
    case LAZY_LOGIC: return false;
    default: return (stored & CF) != 0;
  }
}

export function getOF(): bool {
  const sb = signBit(lazySize);
  switch (lazyOp) {
    case LAZY_ADD:
    case LAZY_INC: return ((lazyDst ^ lazyRes) & (lazySrc ^ lazyRes) & sb) != 0;
    case LAZY_SUB:
    case LAZY_SBB:
    case LAZY_DEC: return ((lazyDst ^ lazySrc) & (lazyDst ^ lazyRes) & sb) != 0;
    case LAZY_LOGIC: return false;
    default: return (stored & OF) != 0;
  }
}

export function getAF(): bool {
  switch (lazyOp) {
    case LAZY_ADD:
    case LAZY_SUB:
    case LAZY_SBB:
    case LAZY_INC:
    case LAZY_DEC: return ((lazyDst ^ lazySrc ^ lazyRes) & 0x10) != 0;
    case LAZY_LOGIC: return false;
    default: return (stored & AF) != 0;
  }
}

@inline export function getZF(): bool {
  return lazyOp != LAZY_NONE ? lazyRes == 0 : (stored & ZF) != 0;
}
@inline export function getSF(): bool {
  return lazyOp != LAZY_NONE ? (lazyRes & signBit(lazySize)) != 0 : (stored & SF) != 0;
}
export function getPF(): bool {
  return lazyOp != LAZY_NONE ? parityEven(lazyRes) : (stored & PF) != 0;
}
@inline export function getDF(): bool {
  return (stored & DF) != 0;
}

export function getEflags(): u32 {
  if (lazyOp == LAZY_NONE) return stored;
  let f = stored & ~ARITH_FLAGS;
  if (getCF()) f |= CF;
  if (getPF()) f |= PF;
  if (getAF()) f |= AF;
  if (getZF()) f |= ZF;
  if (getSF()) f |= SF;
  if (getOF()) f |= OF;
  return f;
}

// Bit 1 always reads as 1; bits 3, 5, 15 and 22-31 as 0.
export const EFLAGS_WRITABLE: u32 = ARITH_FLAGS | TF | IF | DF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;

export function setEflags(v: u32): void {
  stored = (v & EFLAGS_WRITABLE) | 0x2;
  lazyOp = LAZY_NONE;
  noteTrapFlag((v & TF) != 0);
}

// Sets or clears the flags in `mask` (after making all flags concrete).
export function setFlagBits(mask: u32, on: bool): void {
  materialize();
  stored = on ? (stored | mask) : (stored & ~mask);
}

// Result flags of shifts, multiplies and the like, computed eagerly:
// ZF SF PF from the result, CF OF AF given. No need to materialize first:
// under LAZY_RESULT the ZF SF PF bits of `stored` are never read.
export function setResultFlags(size: i32, res: u32, cf: bool, overflow: bool, af: bool = false): void {
  let f = stored & ~ARITH_FLAGS;
  if (cf) f |= CF;
  if (overflow) f |= OF;
  if (af) f |= AF;
  stored = f;
  lazyOp = LAZY_RESULT;
  lazySize = size;
  lazyRes = res & sizeMask(size);
}

// Jcc/SETcc/CMOVcc condition codes 0..15. After CMP/SUB/NEG (the common
// case before a branch) the condition is the comparison itself.
@inline export function condition(cc: i32): bool {
  if (lazyOp == LAZY_SUB) return compareCondition(cc);
  if (lazyOp == LAZY_LOGIC) return logicCondition(cc);
  return conditionFromFlags(cc);
}

// After AND/OR/XOR/TEST: CF = OF = 0, so every condition is about the result.
function logicCondition(cc: i32): bool {
  const zero = lazyRes == 0;
  const negative = (lazyRes & signBit(lazySize)) != 0;
  let r: bool;
  switch (cc >> 1) {
    case 0: case 1: r = false; break;   // O, B
    case 2: case 3: r = zero; break;    // E, BE
    case 4: case 6: r = negative; break; // S, L
    case 5: r = parityEven(lazyRes); break;
    default: r = zero || negative; break; // LE
  }
  return (cc & 1) ? !r : r;
}

function compareCondition(cc: i32): bool {
  const shift = <u32>(32 - lazySize);
  const a = lazyDst, b = lazySrc;
  let r: bool;
  switch (cc >> 1) {
    case 1: r = a < b; break;                                   // B
    case 2: r = a == b; break;                                  // E
    case 3: r = a <= b; break;                                  // BE
    case 6: r = (<i32>(a << shift)) < (<i32>(b << shift)); break;  // L
    case 7: r = (<i32>(a << shift)) <= (<i32>(b << shift)); break; // LE
    default: return conditionFromFlags(cc);
  }
  return (cc & 1) ? !r : r;
}

function conditionFromFlags(cc: i32): bool {
  let r: bool;
  switch (cc >> 1) {
    case 0: r = getOF(); break;
    case 1: r = getCF(); break;
    case 2: r = getZF(); break;
    case 3: r = getCF() || getZF(); break;
    case 4: r = getSF(); break;
    case 5: r = getPF(); break;
    case 6: r = getSF() != getOF(); break;
    default: r = getZF() || (getSF() != getOF()); break;
  }
  return (cc & 1) ? !r : r;
}
