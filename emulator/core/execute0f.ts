// The two-byte opcode map (0F xx).

import {
  fetch8, fetch32, fetch16, decodeModrm, operandSize, modrmIsReg, modrmReg, modrmRm,
  effectiveLinear, invalidateFetch, lockPrefix,
} from "./decode";
import { readSized, writeSized, read32, write32, write16 } from "./memory";
import { alu, ALU_ADD, ALU_CMP } from "./alu";
import { shld, shrd } from "./shift";
import { imulTruncated } from "./muldiv";
import { condition, setFlagBits, CF, ZF } from "./flags";
import { readRM, writeRM, jumpRelative } from "./operands";
import { loadSegment } from "./segments";
import { raise, UD, GP } from "./exceptions";
import {
  checkLock, requireRing0, loadFarPointer, pushSegmentRegister, popSegmentRegister,
} from "./execute";
import { cpuid } from "./cpuid";
import {
  getReg, setReg, reg32, setReg32, signExtend, segSelector, cpl, cr0, cr2, cr3, cr4,
  gdtBase, gdtLimit, idtBase, idtLimit, instructionCount,
  EAX, ECX, EDX, EBX, ES, CS, SS, DS, FS, GS,
} from "./state";

@inline function noLock(): void {
  if (lockPrefix) raise(UD);
}

export function executeTwoByte(): void {
  const op = fetch8();
  const size = operandSize;
  switch (op) {
    case 0x01: group7(); break;
    case 0x06: noLock(); requireRing0(); cr0 &= ~8; break; // CLTS
    case 0x08: case 0x09: noLock(); requireRing0(); break; // INVD, WBINVD: no caches to flush
    case 0x0B: case 0xB9: case 0xFF: raise(UD); break;     // UD2, UD1, UD0
    case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
      decodeModrm(); // hint NOPs: the address is decoded, never accessed
      noLock();
      break;
    case 0x20: case 0x22: moveControlRegister(op == 0x22); break;
    case 0x31: { // RDTSC: virtual time, one tick per executed instruction
      noLock();
      if ((cr4 & 4) != 0 && cpl != 0 && (cr0 & 1) != 0) raise(GP, 0);
      setReg32(EAX, <u32>instructionCount);
      setReg32(EDX, <u32>(instructionCount >> 32));
      break;
    }
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F: {
      decodeModrm();
      noLock();
      const v = readRM(size); // the source is read (and may fault) even when not moved
      if (condition(<i32>(op & 15))) setReg(size, modrmReg, v);
      break;
    }
    case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
    case 0x88: case 0x89: case 0x8A: case 0x8B: case 0x8C: case 0x8D: case 0x8E: case 0x8F: {
      noLock();
      const displacement = size == 32 ? fetch32() : signExtend(16, fetch16());
      if (condition(<i32>(op & 15))) jumpRelative(displacement);
      break;
    }
    case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
    case 0x98: case 0x99: case 0x9A: case 0x9B: case 0x9C: case 0x9D: case 0x9E: case 0x9F:
      decodeModrm();
      noLock();
      writeRM(8, condition(<i32>(op & 15)) ? 1 : 0);
      break;
    case 0xA0: pushSegmentRegister(FS); break;
    case 0xA1: popSegmentRegister(FS); break;
    case 0xA8: pushSegmentRegister(GS); break;
    case 0xA9: popSegmentRegister(GS); break;
    case 0xA2: noLock(); cpuid(); break;
    case 0xA3: bitTest(0, false); break;
    case 0xAB: bitTest(1, false); break;
    case 0xB3: bitTest(2, false); break;
    case 0xBB: bitTest(3, false); break;
    case 0xBA: { // group 8: BT BTS BTR BTC r/m, imm8
      decodeModrm();
      if (modrmReg < 4) raise(UD);
      bitTestDecoded(modrmReg - 4, true);
      break;
    }
    case 0xA4: case 0xA5: case 0xAC: case 0xAD: { // SHLD, SHRD
      decodeModrm();
      noLock();
      const dst = readRM(size);
      const src = getReg(size, modrmReg);
      const count = (op & 1) ? getReg(8, ECX) : fetch8();
      if ((count & 0x1F) == 0) break;
      writeRM(size, op < 0xA8 ? shld(size, dst, src, count) : shrd(size, dst, src, count));
      break;
    }
    case 0xAF: {
      decodeModrm();
      noLock();
      setReg(size, modrmReg, imulTruncated(size, getReg(size, modrmReg), readRM(size)));
      break;
    }
    case 0xB0: case 0xB1: { // CMPXCHG
      decodeModrm();
      checkLock(true);
      const s = op == 0xB0 ? 8 : size;
      const dst = readRM(s);
      const accumulator = getReg(s, EAX);
      const equal = accumulator == dst;
      // The destination is always written: the old value back on a mismatch.
      writeRM(s, equal ? getReg(s, modrmReg) : dst);
      alu(ALU_CMP, s, accumulator, dst);
      if (!equal) setReg(s, EAX, dst);
      break;
    }
    case 0xB2: noLock(); loadFarPointer(SS); break;
    case 0xB4: noLock(); loadFarPointer(FS); break;
    case 0xB5: noLock(); loadFarPointer(GS); break;
    case 0xB6: case 0xB7: case 0xBE: case 0xBF: { // MOVZX, MOVSX
      decodeModrm();
      noLock();
      const s = (op & 1) ? 16 : 8;
      const v = readRM(s);
      setReg(size, modrmReg, op >= 0xBE ? signExtend(s, v) : v);
      break;
    }
    case 0xBC: case 0xBD: { // BSF, BSR
      decodeModrm();
      noLock();
      const v = readRM(size);
      if (v == 0) {
        setFlagBits(ZF, true); // destination unchanged
        break;
      }
      setFlagBits(ZF, false);
      setReg(size, modrmReg, op == 0xBC ? <u32>ctz(v) : <u32>(31 - clz(v)));
      break;
    }
    case 0xC0: case 0xC1: { // XADD
      decodeModrm();
      checkLock(true);
      const s = op == 0xC0 ? 8 : size;
      const dst = readRM(s);
      const src = getReg(s, modrmReg);
      const sum = alu(ALU_ADD, s, dst, src);
      if (modrmIsReg) {
        setReg(s, modrmReg, dst);
        setReg(s, modrmRm, sum);
      } else {
        writeRM(s, sum);
        setReg(s, modrmReg, dst);
      }
      break;
    }
    case 0xC7: { // group 9: CMPXCHG8B m64
      decodeModrm();
      if (modrmReg != 1 || modrmIsReg) raise(UD);
      checkLock(true);
      const at = effectiveLinear();
      const low = read32(at);
      const high = read32(effectiveLinear(4));
      const equal = low == reg32(EAX) && high == reg32(EDX);
      if (equal) {
        write32(at, reg32(EBX));
        write32(effectiveLinear(4), reg32(ECX));
      } else {
        write32(at, low);
        write32(effectiveLinear(4), high);
        setReg32(EAX, low);
        setReg32(EDX, high);
      }
      setFlagBits(ZF, equal);
      break;
    }
    case 0xC8: case 0xC9: case 0xCA: case 0xCB: case 0xCC: case 0xCD: case 0xCE: case 0xCF: {
      noLock();
      const r = <i32>(op & 7);
      // With a 16-bit operand the result is undefined; P6-family parts give 0.
      if (size == 32) setReg32(r, bswap<u32>(reg32(r)));
      else setReg(16, r, 0);
      break;
    }
    default:
      raise(UD);
  }
}

// BT BTS BTR BTC with a register bit offset: in a memory operand the offset
// is signed and may reach outside the operand.
function bitTest(kind: i32, immediate: bool): void {
  decodeModrm();
  bitTestDecoded(kind, immediate);
}

function bitTestDecoded(kind: i32, immediate: bool): void {
  checkLock(kind != 0);
  const size = operandSize;
  let bit: u32;
  let linear: u32 = 0;
  if (immediate) {
    bit = fetch8() & <u32>(size - 1);
    if (!modrmIsReg) linear = effectiveLinear();
  } else {
    const offset = <i32>signExtend(size, getReg(size, modrmReg));
    bit = <u32>offset & <u32>(size - 1);
    if (!modrmIsReg) {
      const shift = size == 32 ? 5 : 4;
      linear = effectiveLinear(<u32>((offset >> shift) * (size >> 3)));
    }
  }
  const v = modrmIsReg ? getReg(size, modrmRm) : readSized(size, linear);
  const mask: u32 = 1 << bit;
  if (kind != 0) {
    let r: u32;
    if (kind == 1) r = v | mask;
    else if (kind == 2) r = v & ~mask;
    else r = v ^ mask;
    if (modrmIsReg) setReg(size, modrmRm, r);
    else writeSized(size, linear, r);
  }
  setFlagBits(CF, (v & mask) != 0);
}

// SGDT SIDT LGDT LIDT SMSW LMSW INVLPG
function group7(): void {
  decodeModrm();
  noLock();
  const sub = modrmReg;
  if (sub == 4) { // SMSW
    writeRM(modrmIsReg ? operandSize : 16, cr0 & (modrmIsReg ? 0xFFFFFFFF : 0xFFFF));
    return;
  }
  if (sub == 6) { // LMSW: PE can be set but not cleared
    requireRing0();
    const v = readRM(16);
    cr0 = (cr0 & ~0xE) | (v & 0xE) | ((cr0 | v) & 1);
    invalidateFetch();
    return;
  }
  if (modrmIsReg || sub == 5) raise(UD);
  const at = effectiveLinear();
  switch (sub) {
    case 0: case 1: { // SGDT, SIDT
      write16(at, sub == 0 ? gdtLimit : idtLimit);
      write32(effectiveLinear(2), sub == 0 ? gdtBase : idtBase);
      break;
    }
    case 2: case 3: { // LGDT, LIDT: a 16-bit operand size keeps 24 bits of base
      requireRing0();
      const limit = readSized(16, at);
      let base = read32(effectiveLinear(2));
      if (operandSize == 16) base &= 0xFFFFFF;
      if (sub == 2) { gdtLimit = limit; gdtBase = base; }
      else { idtLimit = limit; idtBase = base; }
      break;
    }
    default: // INVLPG: no TLB yet to invalidate
      requireRing0();
      break;
  }
}

// MOV r32, CRn and MOV CRn, r32 (the r/m field always names a register).
function moveControlRegister(toControl: bool): void {
  decodeModrm();
  noLock();
  requireRing0();
  const n = modrmReg;
  if (n == 1 || n > 4) raise(UD);
  if (!toControl) {
    setReg32(modrmRm, n == 0 ? cr0 : (n == 2 ? cr2 : (n == 3 ? cr3 : cr4)));
    return;
  }
  const v = reg32(modrmRm);
  switch (n) {
    case 0: cr0 = v | 0x10; break; // ET is hardwired
    case 2: cr2 = v; break;
    case 3: cr3 = v; break;
    default: cr4 = v; break;
  }
  invalidateFetch();
}
