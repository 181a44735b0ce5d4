// The two-byte opcode map (0F xx).

import {
  fetch8, fetch32, fetch16, decodeModrm, operandSize, modrmIsReg, modrmReg, modrmRm,
  invalidateFetch, lockPrefix, opcode,
} from "./decode";
import { readSized, writeSized, read32, write32, write16 } from "./memory";
import { alu, ALU_ADD, ALU_CMP } from "./alu";
import { shld, shrd } from "./shift";
import { imulTruncated } from "./muldiv";
import { condition, setFlagBits, CF, ZF } from "./flags";
import {
  readRM, readRMForUpdate, writeRM, jumpRelative, readMemoryOperand, writeMemoryOperand, checkMemoryOperandWritable,
} from "./operands";
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

export function op0f_01(): void {
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

function op0f_31(): void {
  // RDTSC: virtual time, one tick per executed instruction
  noLock();
  if ((cr4 & 4) != 0 && cpl != 0 && (cr0 & 1) != 0) raise(GP, 0);
  setReg32(EAX, <u32>instructionCount);
  setReg32(EDX, <u32>(instructionCount >> 32));
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

function op0f_ba(): void {
  // group 8: BT BTS BTR BTC r/m, imm8
  decodeModrm();
  if (modrmReg < 4) raise(UD);
  bitTestDecoded(modrmReg - 4, true);
}

function op0f_a4_ad(): void {
  const size = operandSize;
  const op = opcode;
  // SHLD, SHRD
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

function op0f_b0_b1(): void {
  const size = operandSize;
  const op = opcode;
  // CMPXCHG
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

function op0f_b6_bf(): void {
  const size = operandSize;
  const op = opcode;
  // MOVZX, MOVSX
  decodeModrm();
  noLock();
  const s = (op & 1) ? 16 : 8;
  const v = readRM(s);
  setReg(size, modrmReg, op >= 0xBE ? signExtend(s, v) : v);
}

function op0f_bc_bd(): void {
  const size = operandSize;
  const op = opcode;
  // BSF, BSR
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

function op0f_c0_c1(): void {
  const size = operandSize;
  const op = opcode;
  // XADD
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

function op0f_c7(): void {
  // group 9: CMPXCHG8B m64
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


const TWO_BYTE: StaticArray<() => void> = [
  op0f_undefined, op0f_01, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_06, op0f_undefined, // 00
  op0f_08_09, op0f_08_09, op0f_undefined, op0f_0b_ff, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 08
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 10
  op0f_18_1f, op0f_18_1f, op0f_18_1f, op0f_18_1f, op0f_18_1f, op0f_18_1f, op0f_18_1f, op0f_18_1f, // 18
  op0f_20_22, op0f_undefined, op0f_20_22, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 20
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 28
  op0f_undefined, op0f_31, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 30
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 38
  op0f_40_4f, op0f_40_4f, op0f_40_4f, op0f_40_4f, op0f_40_4f, op0f_40_4f, op0f_40_4f, op0f_40_4f, // 40
  op0f_40_4f, op0f_40_4f, op0f_40_4f, op0f_40_4f, op0f_40_4f, op0f_40_4f, op0f_40_4f, op0f_40_4f, // 48
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 50
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 58
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 60
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 68
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 70
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // 78
  op0f_80_8f, op0f_80_8f, op0f_80_8f, op0f_80_8f, op0f_80_8f, op0f_80_8f, op0f_80_8f, op0f_80_8f, // 80
  op0f_80_8f, op0f_80_8f, op0f_80_8f, op0f_80_8f, op0f_80_8f, op0f_80_8f, op0f_80_8f, op0f_80_8f, // 88
  op0f_90_9f, op0f_90_9f, op0f_90_9f, op0f_90_9f, op0f_90_9f, op0f_90_9f, op0f_90_9f, op0f_90_9f, // 90
  op0f_90_9f, op0f_90_9f, op0f_90_9f, op0f_90_9f, op0f_90_9f, op0f_90_9f, op0f_90_9f, op0f_90_9f, // 98
  op0f_a0, op0f_a1, op0f_a2, op0f_a3, op0f_a4_ad, op0f_a4_ad, op0f_undefined, op0f_undefined, // A0
  op0f_a8, op0f_a9, op0f_undefined, op0f_ab, op0f_a4_ad, op0f_a4_ad, op0f_undefined, op0f_af, // A8
  op0f_b0_b1, op0f_b0_b1, op0f_b2, op0f_b3, op0f_b4, op0f_b5, op0f_b6_bf, op0f_b6_bf, // B0
  op0f_undefined, op0f_0b_ff, op0f_ba, op0f_bb, op0f_bc_bd, op0f_bc_bd, op0f_b6_bf, op0f_b6_bf, // B8
  op0f_c0_c1, op0f_c0_c1, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_c7, // C0
  op0f_c8_cf, op0f_c8_cf, op0f_c8_cf, op0f_c8_cf, op0f_c8_cf, op0f_c8_cf, op0f_c8_cf, op0f_c8_cf, // C8
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // D0
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // D8
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // E0
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // E8
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, // F0
  op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_undefined, op0f_0b_ff, // F8
];

export function executeTwoByte(): void {
  opcode = fetch8();
  unchecked(TWO_BYTE[opcode])();
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
    cr0 = (cr0 & ~0xE) | (v & 0xE) | ((cr0 | v) & 1);
    invalidateFetch();
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
