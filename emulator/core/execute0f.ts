// The two-byte opcode map (0F xx).

import {
  fetch8, fetch32, fetch16, decodeModrm, operandSize, modrmIsReg, modrmReg, modrmRm,
  opcode, effectiveOffset, effectiveSegment,
} from "./decode";
import { alu, ALU_ADD, ALU_CMP } from "./alu";
import { shld, shrd } from "./shift";
import { imulTruncated } from "./muldiv";
import { condition, setFlagBits, CF, ZF } from "./flags";
import {
  readRM, readRMForUpdate, writeRM, jumpRelative, readMemoryOperand, writeMemoryOperand,
  checkMemoryOperandWritable,
} from "./operands";
import { raise, UD, GP } from "./exceptions";
import {
  checkLock, noLock, requireRing0, loadFarPointer, pushSegmentRegister, popSegmentRegister,
} from "./execute";
import { cpuid } from "./cpuid";
import { pagingModeWritten, directoryBaseWritten, invalidatePage } from "./paging";
import { loadLdtr, loadTaskRegister } from "./segments";
import {
  getReg, setReg, reg32, setReg32, signExtend, segBase, cpl, cr0, cr2, cr3, cr4, blockBoundary, gdtBase,
  gdtLimit, idtBase, idtLimit, executedInstructions, idleCycles, ldtSelector, trSelector, EAX, ECX, EDX, EBX, SS, FS, GS,
} from "./state";

function op0f_01(): void {
  group7();
}

function op0f_06(): void {
  noLock(); requireRing0(); cr0 &= ~8; return; // CLTS
}

function op0f_08_09(): void {
  noLock(); requireRing0(); return; // INVD, WBINVD: no caches to flush
}

function op0f_0b_ff(): void {
  raise(UD); return;     // UD2, UD1, UD0
}

function op0f_18_1f(): void {
  decodeModrm(); // hint NOPs: the address is decoded, never accessed
  noLock();
}

function op0f_20_22(): void {
  const op = opcode;
  moveControlRegister(op == 0x22);
}

// RDTSC: virtual time, one tick per executed instruction
// The time-stamp counter: virtual time in cycles (one per executed
// instruction, plus the cycles the machine spent halted), plus what WRMSR
// to IA32_TIME_STAMP_COUNTER added.
export let tscAdjust: u64 = 0;
function timeStampCounter(): u64 {
  return executedInstructions() + idleCycles + tscAdjust;
}

// RDTSC (CR4.TSD restricts it to ring 0).
function op0f_31(): void {
  noLock();
  if ((cr4 & 4) != 0 && cpl != 0 && (cr0 & 1) != 0) raise(GP, 0);
  const now = timeStampCounter();
  setReg32(EAX, <u32>now);
  setReg32(EDX, <u32>(now >> 32));
}

// RDMSR / WRMSR: the one MSR implemented is IA32_TIME_STAMP_COUNTER (0x10);
// any other is #GP(0), as for an MSR the processor does not have.
const MSR_TSC: u32 = 0x10;
function op0f_30_32(): void {
  noLock();
  requireRing0();
  if (reg32(ECX) != MSR_TSC) raise(GP, 0);
  if (opcode == 0x32) {
    const now = timeStampCounter();
    setReg32(EAX, <u32>now);
    setReg32(EDX, <u32>(now >> 32));
  } else {
    const wanted = (<u64>reg32(EDX) << 32) | <u64>reg32(EAX);
    tscAdjust += wanted - timeStampCounter();
  }
}

function op0f_40_4f(): void {
  const size = operandSize;
  const op = opcode;
  decodeModrm();
  noLock();
  const v = readRM(size); // the source is read (and may fault) even when not moved
  if (condition(<i32>(op & 15))) setReg(size, modrmReg, v);
}

function op0f_80_8f(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  const displacement = size == 32 ? fetch32() : signExtend(16, fetch16());
  blockBoundary = true; // taken or not
  if (condition(<i32>(op & 15))) jumpRelative(displacement);
}

function op0f_90_9f(): void {
  const op = opcode;
  decodeModrm();
  noLock();
  writeRM(8, condition(<i32>(op & 15)) ? 1 : 0);
}

function op0f_a0(): void {
  pushSegmentRegister(FS);
}

function op0f_a1(): void {
  popSegmentRegister(FS);
}

function op0f_a8(): void {
  pushSegmentRegister(GS);
}

function op0f_a9(): void {
  popSegmentRegister(GS);
}

function op0f_a2(): void {
  noLock(); cpuid();
}

function op0f_a3(): void {
  bitTest(0, false);
}

function op0f_ab(): void {
  bitTest(1, false);
}

function op0f_b3(): void {
  bitTest(2, false);
}

function op0f_bb(): void {
  bitTest(3, false);
}

// group 8: BT BTS BTR BTC r/m, imm8
function op0f_ba(): void {
  decodeModrm();
  if (modrmReg < 4) raise(UD);
  bitTestDecoded(modrmReg - 4, true);
}

// SHLD, SHRD
function op0f_a4_ad(): void {
  const size = operandSize;
  const op = opcode;
  decodeModrm();
  noLock();
  const dst = readRMForUpdate(size);
  const src = getReg(size, modrmReg);
  const count = (op & 1) ? getReg(8, ECX) : fetch8();
  if ((count & 0x1F) == 0) return;
  writeRM(size, op < 0xA8 ? shld(size, dst, src, count) : shrd(size, dst, src, count));
}

function op0f_af(): void {
  const size = operandSize;
  decodeModrm();
  noLock();
  setReg(size, modrmReg, imulTruncated(size, getReg(size, modrmReg), readRM(size)));
}

// CMPXCHG
function op0f_b0_b1(): void {
  const size = operandSize;
  const op = opcode;
  decodeModrm();
  checkLock(true);
  const s = op == 0xB0 ? 8 : size;
  const dst = readRMForUpdate(s);
  const accumulator = getReg(s, EAX);
  const equal = accumulator == dst;
  // The destination is always written: the old value back on a mismatch.
  writeRM(s, equal ? getReg(s, modrmReg) : dst);
  alu(ALU_CMP, s, accumulator, dst);
  if (!equal) setReg(s, EAX, dst);
}

function op0f_b2(): void {
  noLock(); loadFarPointer(SS);
}

function op0f_b4(): void {
  noLock(); loadFarPointer(FS);
}

function op0f_b5(): void {
  noLock(); loadFarPointer(GS);
}

// MOVZX, MOVSX
function op0f_b6_bf(): void {
  const size = operandSize;
  const op = opcode;
  decodeModrm();
  noLock();
  const s = (op & 1) ? 16 : 8;
  const v = readRM(s);
  setReg(size, modrmReg, op >= 0xBE ? signExtend(s, v) : v);
}

// BSF, BSR
function op0f_bc_bd(): void {
  const size = operandSize;
  const op = opcode;
  decodeModrm();
  noLock();
  const v = readRM(size);
  if (v == 0) {
    setFlagBits(ZF, true); // destination unchanged
    return;
  }
  setFlagBits(ZF, false);
  setReg(size, modrmReg, op == 0xBC ? <u32>ctz(v) : <u32>(31 - clz(v)));
}

// Group 6: SLDT STR LLDT LTR (VERR and VERW are not implemented: #UD).
function op0f_00(): void {
  decodeModrm();
  noLock();
  if ((cr0 & 1) == 0) raise(UD);
  switch (modrmReg) {
    case 0: writeRM(modrmIsReg ? operandSize : 16, ldtSelector); break;
    case 1: writeRM(modrmIsReg ? operandSize : 16, trSelector); break;
    case 2: requireRing0(); loadLdtr(readRM(16)); break;
    case 3: requireRing0(); loadTaskRegister(readRM(16)); break;
    default: raise(UD);
  }
}

// XADD
function op0f_c0_c1(): void {
  const size = operandSize;
  const op = opcode;
  decodeModrm();
  checkLock(true);
  const s = op == 0xC0 ? 8 : size;
  const dst = readRMForUpdate(s);
  const src = getReg(s, modrmReg);
  const sum = alu(ALU_ADD, s, dst, src);
  if (modrmIsReg) {
    setReg(s, modrmReg, dst);
    setReg(s, modrmRm, sum);
  } else {
    writeRM(s, sum);
    setReg(s, modrmReg, dst);
  }
}

// group 9: CMPXCHG8B m64
function op0f_c7(): void {
  decodeModrm();
  if (modrmReg != 1 || modrmIsReg) raise(UD);
  checkLock(true);
  const low = readMemoryOperand(32);
  const high = readMemoryOperand(32, 4);
  checkMemoryOperandWritable(8);
  const equal = low == reg32(EAX) && high == reg32(EDX);
  if (equal) {
    writeMemoryOperand(32, reg32(EBX));
    writeMemoryOperand(32, reg32(ECX), 4);
  } else {
    writeMemoryOperand(32, low);
    writeMemoryOperand(32, high, 4);
    setReg32(EAX, low);
    setReg32(EDX, high);
  }
  setFlagBits(ZF, equal);
}

function op0f_c8_cf(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  const r = <i32>(op & 7);
  // With a 16-bit operand the result is undefined; P6-family parts give 0.
  if (size == 32) setReg32(r, bswap<u32>(reg32(r)));
  else setReg(16, r, 0);
}

function op0f_undefined(): void {
  raise(UD);
}

// The opcode map: opcode byte -> handler (a br_table of direct calls).
function dispatchTwoByte(op: u32): void {
  switch (op) {
    case 0x00: op0f_00(); return;
    case 0x01: op0f_01(); return;
    case 0x02: case 0x03: case 0x04: case 0x05: op0f_undefined(); return;
    case 0x06: op0f_06(); return;
    case 0x07: op0f_undefined(); return;
    case 0x08: case 0x09: op0f_08_09(); return;
    case 0x0A: op0f_undefined(); return;
    case 0x0B: op0f_0b_ff(); return;
    case 0x0C: case 0x0D: case 0x0E: case 0x0F: case 0x10: case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x16: case 0x17: op0f_undefined(); return;
    case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F: op0f_18_1f(); return;
    case 0x20: op0f_20_22(); return;
    case 0x21: op0f_undefined(); return;
    case 0x22: op0f_20_22(); return;
    case 0x23: case 0x24: case 0x25: case 0x26: case 0x27: case 0x28: case 0x29: case 0x2A: case 0x2B: case 0x2C: case 0x2D: case 0x2E: case 0x2F: op0f_undefined(); return;
    case 0x30: op0f_30_32(); return;
    case 0x31: op0f_31(); return;
    case 0x32: op0f_30_32(); return;
    case 0x33: case 0x34: case 0x35: case 0x36: case 0x37: case 0x38: case 0x39: case 0x3A: case 0x3B: case 0x3C: case 0x3D: case 0x3E: case 0x3F: op0f_undefined(); return;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47: case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F: op0f_40_4f(); return;
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: case 0x58: case 0x59: case 0x5A: case 0x5B: case 0x5C: case 0x5D: case 0x5E: case 0x5F: case 0x60: case 0x61: case 0x62: case 0x63: case 0x64: case 0x65: case 0x66: case 0x67: case 0x68: case 0x69: case 0x6A: case 0x6B: case 0x6C: case 0x6D: case 0x6E: case 0x6F: case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77: case 0x78: case 0x79: case 0x7A: case 0x7B: case 0x7C: case 0x7D: case 0x7E: case 0x7F: op0f_undefined(); return;
    case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8A: case 0x8B: case 0x8C: case 0x8D: case 0x8E: case 0x8F: op0f_80_8f(); return;
    case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: case 0x98: case 0x99: case 0x9A: case 0x9B: case 0x9C: case 0x9D: case 0x9E: case 0x9F: op0f_90_9f(); return;
    case 0xA0: op0f_a0(); return;
    case 0xA1: op0f_a1(); return;
    case 0xA2: op0f_a2(); return;
    case 0xA3: op0f_a3(); return;
    case 0xA4: case 0xA5: op0f_a4_ad(); return;
    case 0xA6: case 0xA7: op0f_undefined(); return;
    case 0xA8: op0f_a8(); return;
    case 0xA9: op0f_a9(); return;
    case 0xAA: op0f_undefined(); return;
    case 0xAB: op0f_ab(); return;
    case 0xAC: case 0xAD: op0f_a4_ad(); return;
    case 0xAE: op0f_undefined(); return;
    case 0xAF: op0f_af(); return;
    case 0xB0: case 0xB1: op0f_b0_b1(); return;
    case 0xB2: op0f_b2(); return;
    case 0xB3: op0f_b3(); return;
    case 0xB4: op0f_b4(); return;
    case 0xB5: op0f_b5(); return;
    case 0xB6: case 0xB7: op0f_b6_bf(); return;
    case 0xB8: op0f_undefined(); return;
    case 0xB9: op0f_0b_ff(); return;
    case 0xBA: op0f_ba(); return;
    case 0xBB: op0f_bb(); return;
    case 0xBC: case 0xBD: op0f_bc_bd(); return;
    case 0xBE: case 0xBF: op0f_b6_bf(); return;
    case 0xC0: case 0xC1: op0f_c0_c1(); return;
    case 0xC2: case 0xC3: case 0xC4: case 0xC5: case 0xC6: op0f_undefined(); return;
    case 0xC7: op0f_c7(); return;
    case 0xC8: case 0xC9: case 0xCA: case 0xCB: case 0xCC: case 0xCD: case 0xCE: case 0xCF: op0f_c8_cf(); return;
    case 0xD0: case 0xD1: case 0xD2: case 0xD3: case 0xD4: case 0xD5: case 0xD6: case 0xD7: case 0xD8: case 0xD9: case 0xDA: case 0xDB: case 0xDC: case 0xDD: case 0xDE: case 0xDF: case 0xE0: case 0xE1: case 0xE2: case 0xE3: case 0xE4: case 0xE5: case 0xE6: case 0xE7: case 0xE8: case 0xE9: case 0xEA: case 0xEB: case 0xEC: case 0xED: case 0xEE: case 0xEF: case 0xF0: case 0xF1: case 0xF2: case 0xF3: case 0xF4: case 0xF5: case 0xF6: case 0xF7: case 0xF8: case 0xF9: case 0xFA: case 0xFB: case 0xFC: case 0xFD: case 0xFE: op0f_undefined(); return;
    case 0xFF: op0f_0b_ff(); return;
  }
}

export function executeTwoByte(): void {
  opcode = fetch8();
  dispatchTwoByte(opcode);
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
  let delta: u32 = 0;
  if (immediate) {
    bit = fetch8() & <u32>(size - 1);
  } else {
    const offset = <i32>signExtend(size, getReg(size, modrmReg));
    bit = <u32>offset & <u32>(size - 1);
    if (!modrmIsReg) delta = <u32>((offset >> (size == 32 ? 5 : 4)) * (size >> 3));
  }
  const v = modrmIsReg ? getReg(size, modrmRm) : readMemoryOperand(size, delta);
  const mask: u32 = 1 << bit;
  if (kind != 0) {
    let r: u32;
    if (kind == 1) r = v | mask;
    else if (kind == 2) r = v & ~mask;
    else r = v ^ mask;
    if (modrmIsReg) setReg(size, modrmRm, r);
    else writeMemoryOperand(size, r, delta);
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
    const old = cr0;
    cr0 = (cr0 & ~0xE) | (v & 0xE) | ((cr0 | v) & 1);
    pagingModeWritten(old, cr4);
    return;
  }
  if (modrmIsReg || sub == 5) raise(UD);
  switch (sub) {
    case 0: case 1: { // SGDT, SIDT
      checkMemoryOperandWritable(6);
      writeMemoryOperand(16, sub == 0 ? gdtLimit : idtLimit);
      writeMemoryOperand(32, sub == 0 ? gdtBase : idtBase, 2);
      break;
    }
    case 2: case 3: { // LGDT, LIDT: a 16-bit operand size keeps 24 bits of base
      requireRing0();
      const limit = readMemoryOperand(16);
      let base = readMemoryOperand(32, 2);
      if (operandSize == 16) base &= 0xFFFFFF;
      if (sub == 2) { gdtLimit = limit; gdtBase = base; }
      else { idtLimit = limit; idtBase = base; }
      break;
    }
    default: // INVLPG
      requireRing0();
      invalidatePage(segBase(effectiveSegment) + effectiveOffset);
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
  const oldCr0 = cr0, oldCr4 = cr4;
  switch (n) {
    case 0:
      // PG without PE, or NW without CD, is #GP(0); reserved bits are ignored.
      if ((v & CR0_PG) != 0 && (v & CR0_PE) == 0) raise(GP, 0);
      if ((v & CR0_NW) != 0 && (v & CR0_CD) == 0) raise(GP, 0);
      cr0 = (v & CR0_DEFINED) | CR0_ET;
      pagingModeWritten(oldCr0, oldCr4);
      break;
    case 2: cr2 = v; break;
    case 3: cr3 = v; directoryBaseWritten(); break;
    default:
      // Only the CR4 bits of features this CPU has may be set.
      if (v & ~CR4_SUPPORTED) raise(GP, 0);
      cr4 = v;
      pagingModeWritten(oldCr0, oldCr4);
      break;
  }
}

const CR0_PE: u32 = 1, CR0_ET: u32 = 1 << 4, CR0_NW: u32 = 1 << 29, CR0_CD: u32 = 1 << 30, CR0_PG: u32 = 1 << 31;
// PE MP EM TS ET NE WP AM NW CD PG
const CR0_DEFINED: u32 = 0xE005003F;
// TSD, PSE, PGE
const CR4_SUPPORTED: u32 = (1 << 2) | (1 << 4) | (1 << 7);
