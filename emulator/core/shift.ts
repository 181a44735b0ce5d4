// Shifts and rotates (group 2: C0 C1 D0-D3 /0-/7) and SHLD/SHRD.
// Counts are masked to 5 bits; a masked count of 0 changes nothing, not
// even the flags. Where the SDM leaves a flag undefined (OF for counts other
// than 1, AF, CF past the operand width) we produce the natural value of the
// formula; the tests mask those flags.

import { getCF, materialize, setResultFlags, stored, CF, OF } from "./flags";
import { sizeMask, signBit, signExtend } from "./state";

export const ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL = 6, SAR = 7;

@inline export function shiftRotate(op: i32, size: i32, dst: u32, countIn: u32): u32 {
  const count = countIn & 0x1F;
  if (count == 0) return dst;
  const mask = sizeMask(size);
  const msb = signBit(size);
  switch (op) {
    case ROL: {
      const c = count & <u32>(size - 1);
      const res = c == 0 ? dst : (((dst << c) | (dst >>> (<u32>size - c))) & mask);
      const cf = (res & 1) != 0;
      setRotateFlags(cf, ((res & msb) != 0) != cf);
      return res;
    }
    case ROR: {
      const c = count & <u32>(size - 1);
      const res = c == 0 ? dst : (((dst >>> c) | (dst << (<u32>size - c))) & mask);
      const cf = (res & msb) != 0;
      setRotateFlags(cf, cf != ((res & (msb >>> 1)) != 0));
      return res;
    }
    case RCL: {
      const c = <u64>(size == 32 ? count : count % <u32>(size + 1));
      const cfIn: u64 = getCF() ? 1 : 0;
      if (c == 0) return dst;
      const width = <u64>(size + 1);
      const v: u64 = (cfIn << <u64>size) | <u64>dst;
      const r: u64 = ((v << c) | (v >> (width - c))) & ((<u64>1 << width) - 1);
      const res = <u32>r & mask;
      const cf = ((r >> <u64>size) & 1) != 0;
      setRotateFlags(cf, ((res & msb) != 0) != cf);
      return res;
    }
    case RCR: {
      const c = <u64>(size == 32 ? count : count % <u32>(size + 1));
      const cfIn: u64 = getCF() ? 1 : 0;
      if (c == 0) return dst;
      const width = <u64>(size + 1);
      const v: u64 = (cfIn << <u64>size) | <u64>dst;
      const r: u64 = ((v >> c) | (v << (width - c))) & ((<u64>1 << width) - 1);
      const res = <u32>r & mask;
      const cf = ((r >> <u64>size) & 1) != 0;
      setRotateFlags(cf, ((res & msb) != 0) != ((res & (msb >>> 1)) != 0));
      return res;
    }
    case SHR: {
      const res = count >= <u32>size ? 0 : (dst >>> count);
      const cf = count > <u32>size ? false : ((dst >>> (count - 1)) & 1) != 0;
      setResultFlags(size, res, cf, (dst & msb) != 0);
      return res;
    }
    case SAR: {
      const s = <i32>signExtend(size, dst);
      const res = <u32>(s >> <i32>(count > 31 ? 31 : count)) & mask;
      const cf = ((s >> <i32>(count - 1)) & 1) != 0;
      setResultFlags(size, res, cf, false);
      return res;
    }
    default: { // SHL, SAL
      const wide: u64 = <u64>dst << <u64>count;
      const res = <u32>wide & mask;
      const cf = ((wide >> <u64>size) & 1) != 0;
      setResultFlags(size, res, cf, ((res & msb) != 0) != cf);
      return res;
    }
  }
}

// Rotates change only CF and OF.
function setRotateFlags(cf: bool, overflow: bool): void {
  materialize();
  let f = stored & ~(CF | OF);
  if (cf) f |= CF;
  if (overflow) f |= OF;
  stored = f;
}

// SHLD: dst shifted left, vacated bits filled from the top of src.
export function shld(size: i32, dst: u32, src: u32, countIn: u32): u32 {
  const count = <u64>(countIn & 0x1F);
  if (count == 0) return dst;
  const s = <u64>size;
  const combined: u64 = (<u64>dst << s) | <u64>src;
  const res = <u32>((combined << count) >> s) & sizeMask(size);
  const cf = ((combined >> (2 * s - count)) & 1) != 0;
  const msb = signBit(size);
  setResultFlags(size, res, cf, ((res ^ dst) & msb) != 0);
  return res;
}

// SHRD: dst shifted right, vacated bits filled from the bottom of src.
export function shrd(size: i32, dst: u32, src: u32, countIn: u32): u32 {
  const count = <u64>(countIn & 0x1F);
  if (count == 0) return dst;
  const s = <u64>size;
  const combined: u64 = (<u64>src << s) | <u64>dst;
  const res = <u32>(combined >> count) & sizeMask(size);
  const cf = ((combined >> (count - 1)) & 1) != 0;
  const msb = signBit(size);
  setResultFlags(size, res, cf, ((res ^ dst) & msb) != 0);
  return res;
}
