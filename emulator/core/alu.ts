// Integer arithmetic and logic: the eight ALU operations of opcodes 00-3F
// and 80-83, INC, DEC and NEG. Each returns the result and leaves the flags
// lazily described (see flags.ts).

import {
  setLazy, getCF, stored, CF,
  LAZY_ADD, LAZY_SUB, LAZY_SBB, LAZY_LOGIC, LAZY_INC, LAZY_DEC,
} from "./flags";
import { sizeMask } from "./state";

// The ALU operation numbers, as encoded in opcode bits 3-5 and in /r of 80-83.
export const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3,
  ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7;

@inline export function alu(op: i32, size: i32, dst: u32, src: u32): u32 {
  let res: u32;
  switch (op) {
    case ALU_ADD:
      res = dst + src;
      setLazy(LAZY_ADD, size, dst, src, res);
      break;
    case ALU_OR:
      res = dst | src;
      setLazy(LAZY_LOGIC, size, dst, src, res);
      break;
    case ALU_ADC:
      res = dst + src + (getCF() ? 1 : 0);
      setLazy(LAZY_ADD, size, dst, src, res);
      break;
    case ALU_SBB:
      res = dst - src - (getCF() ? 1 : 0);
      setLazy(LAZY_SBB, size, dst, src, res);
      break;
    case ALU_AND:
      res = dst & src;
      setLazy(LAZY_LOGIC, size, dst, src, res);
      break;
    case ALU_XOR:
      res = dst ^ src;
      setLazy(LAZY_LOGIC, size, dst, src, res);
      break;
    default: // SUB, CMP
      res = dst - src;
      setLazy(LAZY_SUB, size, dst, src, res);
      break;
  }
  return res & sizeMask(size);
}

// INC and DEC leave CF alone: pin its current value in `stored` first.
export function pinCarry(): void {
  stored = getCF() ? (stored | CF) : (stored & ~CF);
}

export function inc(size: i32, v: u32): u32 {
  pinCarry();
  const res = v + 1;
  setLazy(LAZY_INC, size, v, 1, res);
  return res & sizeMask(size);
}

export function dec(size: i32, v: u32): u32 {
  pinCarry();
  const res = v - 1;
  setLazy(LAZY_DEC, size, v, 1, res);
  return res & sizeMask(size);
}

export function neg(size: i32, v: u32): u32 {
  const res = 0 - v;
  setLazy(LAZY_SUB, size, 0, v, res);
  return res & sizeMask(size);
}
