// The one-byte opcode map: prefixes, then one case per opcode (or opcode
// group). Two-byte opcodes (0F xx) are in execute0f.ts.

import {
  fetch8, fetch16, fetch32, fetchImm, decodeModrm, resetPrefixes, checkLength,
  setOperandSizePrefix, setAddressSizePrefix, setSegmentOverride, setRepPrefix, setLockPrefix,
  operandSize, addressSize, lockPrefix, repPrefix, modrmIsReg, modrmReg, modrmRm,
  effectiveOffset, effectiveLinear, dataSegment, decodeModrmAfterPop,
} from "./decode";
import { readSized, writeSized, read8, readSized as readMem } from "./memory";
import { alu, inc, dec, neg, ALU_CMP, ALU_AND } from "./alu";
import { shiftRotate } from "./shift";
import { mul, imulAccumulator, imulTruncated, div, idiv } from "./muldiv";
import { daa, das, aaa, aas, aam, aad } from "./bcd";
import { stringOp, MOVS, CMPS, STOS, LODS, SCAS } from "./string";
import {
  condition, getEflags, setEflags, getCF, setFlagBits, materialize, stored,
  CF, PF, AF, ZF, SF, DF, IF, IOPL, TF, NT, AC, ID, OF, RF, VM, getZF as getZFValue,
} from "./flags";
import {
  readRM, writeRM, push, pop, peek, popDiscard, stackPointer, setStackPointer, stackAddress,
  probeStack, jumpNear, jumpRelative,
} from "./operands";
import { loadSegment } from "./segments";
import { portIn, portOut } from "./ports";
import { raise, UD, GP, BR, NM } from "./exceptions";
import { executeTwoByte } from "./execute0f";
import {
  eip, instructionStart, cpl, cr0, stack32, halted,
  getReg, setReg, reg8, reg16, reg32, setReg8, setReg16, setReg32, signExtend, segSelector,
  segBase as segBaseOf,
  EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, ES, CS, SS, DS, FS, GS,
} from "./state";

// LOCK is legal only on these read-modify-write instructions with a memory
// destination; anywhere else it is #UD.
export function checkLock(lockable: bool): void {
  if (lockPrefix && (!lockable || modrmIsReg)) raise(UD);
}
@inline function noLock(): void {
  if (lockPrefix) raise(UD);
}

export function iopl(): i32 {
  return <i32>((stored >> 12) & 3);
}

export function requireRing0(): void {
  if ((cr0 & 1) != 0 && cpl != 0) raise(GP, 0);
}

// IN/OUT/CLI/STI: allowed when CPL <= IOPL.
export function requireIopl(): void {
  if ((cr0 & 1) != 0 && cpl > iopl()) raise(GP, 0);
}

// Executes one instruction at EIP.
export function executeInstruction(): void {
  instructionStart = eip;
  resetPrefixes();
  let op = fetch8();
  // Prefixes: any number, any order; the instruction may not exceed 15 bytes.
  for (;;) {
    switch (op) {
      case 0x26: setSegmentOverride(ES); break;
      case 0x2E: setSegmentOverride(CS); break;
      case 0x36: setSegmentOverride(SS); break;
      case 0x3E: setSegmentOverride(DS); break;
      case 0x64: setSegmentOverride(FS); break;
      case 0x65: setSegmentOverride(GS); break;
      case 0x66: setOperandSizePrefix(); break;
      case 0x67: setAddressSizePrefix(); break;
      case 0xF0: setLockPrefix(); break;
      case 0xF2: setRepPrefix(0xF2); break;
      case 0xF3: setRepPrefix(0xF3); break;
      default: executeOneByte(op); return;
    }
    op = fetch8();
    checkLength();
  }
}

// ALU forms 00-3F: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iv.
@inline function aluForm(op: u32, size: i32): void {
  const aluOp = <i32>((op >> 3) & 7);
  switch (op & 7) {
    case 0: case 1: { // r/m, reg
      decodeModrm();
      checkLock(aluOp != ALU_CMP);
      const dst = readRM(size);
      const r = alu(aluOp, size, dst, getReg(size, modrmReg));
      if (aluOp != ALU_CMP) writeRM(size, r);
      break;
    }
    case 2: case 3: { // reg, r/m
      decodeModrm();
      noLock();
      const r = alu(aluOp, size, getReg(size, modrmReg), readRM(size));
      if (aluOp != ALU_CMP) setReg(size, modrmReg, r);
      break;
    }
    default: { // accumulator, immediate
      noLock();
      const r = alu(aluOp, size, getReg(size, EAX), fetchImm(size));
      if (aluOp != ALU_CMP) setReg(size, EAX, r);
      break;
    }
  }
}

// Group 1 (80-83): ALU op r/m, immediate.
@inline function group1(size: i32, immSize: i32): void {
  decodeModrm();
  const aluOp = modrmReg;
  checkLock(aluOp != ALU_CMP);
  const dst = readRM(size);
  const imm = signExtend(immSize, fetchImm(immSize));
  const r = alu(aluOp, size, dst, imm);
  if (aluOp != ALU_CMP) writeRM(size, r);
}

// Group 2 (C0 C1 D0-D3): shifts and rotates.
@inline function group2(size: i32, countKind: i32): void {
  decodeModrm();
  noLock();
  const dst = readRM(size);
  let count: u32;
  if (countKind == 0) count = 1;
  else if (countKind == 1) count = reg8(ECX);
  else count = fetch8();
  if ((count & 0x1F) == 0) return;
  writeRM(size, shiftRotate(modrmReg, size, dst, count));
}

// Group 3 (F6 F7): TEST NOT NEG MUL IMUL DIV IDIV.
@inline function group3(size: i32): void {
  decodeModrm();
  const sub = modrmReg;
  checkLock(sub == 2 || sub == 3);
  const v = readRM(size);
  switch (sub) {
    case 0: case 1: alu(ALU_AND, size, v, fetchImm(size)); break;
    case 2: writeRM(size, ~v); break;
    case 3: { const r = neg(size, v); writeRM(size, r); break; }
    case 4: mul(size, v); break;
    case 5: imulAccumulator(size, v); break;
    case 6: div(size, v); break;
    default: idiv(size, v); break;
  }
}

@inline function xchgForm(size: i32): void {
  decodeModrm();
  checkLock(true);
  const a = readRM(size);
  const b = getReg(size, modrmReg);
  writeRM(size, b);
  setReg(size, modrmReg, a);
}

@inline function movForm(op: u32, size: i32): void {
  decodeModrm();
  noLock();
  if (op & 2) setReg(size, modrmReg, readRM(size));
  else writeRM(size, getReg(size, modrmReg));
}

// MOV AL/eAX <-> moffs: the offset has the address size.
@inline function moffsAddress(): u32 {
  const offset = addressSize == 32 ? fetch32() : fetch16();
  return segBaseOf(dataSegment()) + offset;
}


export function pushSegmentRegister(seg: i32): void {
  noLock();
  // A 32-bit push of a segment register writes only the low 16 bits on
  // P6-family processors and later, leaving the upper half untouched.
  if (operandSize == 32) {
    const sp = stackPointer() - 4;
    writeSized(16, stackAddress(sp), segSelector(seg));
    setStackPointer(sp);
  } else {
    push(16, segSelector(seg));
  }
}

export function popSegmentRegister(seg: i32): void {
  noLock();
  const v = peek(16, 0);
  loadSegment(seg, v);
  popDiscard(<u32>(operandSize >> 3));
}

function pushAll(): void {
  const size = operandSize;
  const bytes = <u32>(size >> 3);
  probeStack(bytes * 8);
  const originalSp = getReg(size, ESP);
  for (let r = EAX; r <= EDI; r++) push(size, r == ESP ? originalSp : getReg(size, r));
}

function popAll(): void {
  const size = operandSize;
  const bytes = <u32>(size >> 3);
  // Read all eight first, so a fault leaves the registers as they were.
  const edi = peek(size, 0), esi = peek(size, bytes), ebp = peek(size, 2 * bytes);
  const ebx = peek(size, 4 * bytes), edx = peek(size, 5 * bytes);
  const ecx = peek(size, 6 * bytes), eax = peek(size, 7 * bytes);
  setReg(size, EDI, edi); setReg(size, ESI, esi); setReg(size, EBP, ebp);
  setReg(size, EBX, ebx); setReg(size, EDX, edx); setReg(size, ECX, ecx); setReg(size, EAX, eax);
  popDiscard(bytes * 8);
}

// PUSHF: VM and RF read as 0 in the pushed image.
function pushFlags(): void {
  push(operandSize, getEflags() & ~(VM | RF));
}

// POPF in protected mode: IOPL changes only at CPL 0, IF only when
// CPL <= IOPL; VM, VIF, VIP never; RF is cleared.
function popFlags(): void {
  const size = operandSize;
  const v = peek(size, 0);
  let changeable: u32 = CF | PF | AF | ZF | SF | TF | DF | OF | NT;
  if (size == 32) changeable |= AC | ID;
  const protectedMode = (cr0 & 1) != 0;
  if (!protectedMode || cpl == 0) changeable |= IOPL;
  if (!protectedMode || cpl <= iopl()) changeable |= IF;
  popDiscard(<u32>(size >> 3));
  const old = getEflags();
  setEflags(((old & ~changeable) | (v & changeable)) & ~RF);
}

function enter(): void {
  const size = operandSize;
  const bytes = <u32>(size >> 3);
  const allocSize = fetch16();
  const level = fetch8() & 0x1F;
  const frameBytes = bytes * (level > 0 ? level + 1 : 1);
  probeStack(frameBytes);
  let sp = stackPointer();
  let bp = stack32 ? reg32(EBP) : reg16(EBP);
  sp -= bytes;
  writeSized(size, stackAddress(sp), getReg(size, EBP));
  const frameTemp = sp;
  if (level > 0) {
    for (let i: u32 = 1; i < level; i++) {
      bp -= bytes;
      const v = readSized(size, stackAddress(bp));
      sp -= bytes;
      writeSized(size, stackAddress(sp), v);
    }
    sp -= bytes;
    writeSized(size, stackAddress(sp), frameTemp);
  }
  if (size == 32) setReg32(EBP, frameTemp);
  else setReg16(EBP, frameTemp);
  setStackPointer(sp - allocSize);
}

function leave(): void {
  const size = operandSize;
  const bp = stack32 ? reg32(EBP) : reg16(EBP);
  const v = readSized(size, stackAddress(bp));
  setStackPointer(bp + <u32>(size >> 3));
  setReg(size, EBP, v);
}

// LOOP/LOOPE/LOOPNE/JCXZ count in CX or ECX by the address size.
function loopForm(op: u32): void {
  const displacement = <u32><i32><i8>fetch8();
  const wide = addressSize == 32;
  let count = wide ? reg32(ECX) : reg16(ECX);
  let taken: bool;
  if (op == 0xE3) {
    taken = count == 0;
  } else {
    count = wide ? count - 1 : ((count - 1) & 0xFFFF);
    if (wide) setReg32(ECX, count); else setReg16(ECX, count);
    taken = count != 0;
    if (op == 0xE1) taken = taken && getZFValue();
    else if (op == 0xE0) taken = taken && !getZFValue();
  }
  if (taken) jumpRelative(displacement);
}


// LES LDS LSS LFS LGS: a far pointer (offset, then selector) from memory.
export function loadFarPointer(seg: i32): void {
  decodeModrm();
  if (modrmIsReg) raise(UD);
  const size = operandSize;
  const offset = readMem(size, effectiveLinear());
  const selector = readMem(16, effectiveLinear(<u32>(size >> 3)));
  loadSegment(seg, selector);
  setReg(size, modrmReg, offset);
}

function bound(): void {
  decodeModrm();
  if (modrmIsReg) raise(UD);
  const size = operandSize;
  const index = <i32>signExtend(size, getReg(size, modrmReg));
  const lower = <i32>signExtend(size, readSized(size, effectiveLinear()));
  const upper = <i32>signExtend(size, readSized(size, effectiveLinear(<u32>(size >> 3))));
  if (index < lower || index > upper) raise(BR);
}

function arpl(): void {
  if ((cr0 & 1) == 0) raise(UD);
  decodeModrm();
  const dst = readRM(16);
  const src = reg16(modrmReg);
  materialize();
  if ((dst & 3) < (src & 3)) {
    writeRM(16, (dst & ~3) | (src & 3));
    setFlagBits(ZF, true);
  } else {
    setFlagBits(ZF, false);
  }
}

function executeOneByte(op: u32): void {
  const size = operandSize;
  switch (op) {
    case 0x00: case 0x01: case 0x02: case 0x03: case 0x08: case 0x09: case 0x0A: case 0x0B:
    case 0x10: case 0x11: case 0x12: case 0x13: case 0x18: case 0x19: case 0x1A: case 0x1B:
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x28: case 0x29: case 0x2A: case 0x2B:
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x38: case 0x39: case 0x3A: case 0x3B:
    case 0x04: case 0x0C: case 0x14: case 0x1C: case 0x24: case 0x2C: case 0x34: case 0x3C:
    case 0x05: case 0x0D: case 0x15: case 0x1D: case 0x25: case 0x2D: case 0x35: case 0x3D:
      if ((op & 1) == 0) aluForm(op, 8);
      else if (size == 32) aluForm(op, 32);
      else aluForm(op, 16);
      break;
    case 0x06: pushSegmentRegister(ES); break;
    case 0x07: popSegmentRegister(ES); break;
    case 0x0E: pushSegmentRegister(CS); break;
    case 0x0F: executeTwoByte(); break;
    case 0x16: pushSegmentRegister(SS); break;
    case 0x17: popSegmentRegister(SS); break;
    case 0x1E: pushSegmentRegister(DS); break;
    case 0x1F: popSegmentRegister(DS); break;
    case 0x27: noLock(); daa(); break;
    case 0x2F: noLock(); das(); break;
    case 0x37: noLock(); aaa(); break;
    case 0x3F: noLock(); aas(); break;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47: {
      noLock();
      const r = <i32>(op & 7);
      setReg(size, r, inc(size, getReg(size, r)));
      break;
    }
    case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F: {
      noLock();
      const r = <i32>(op & 7);
      setReg(size, r, dec(size, getReg(size, r)));
      break;
    }
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      noLock();
      push(size, getReg(size, <i32>(op & 7)));
      break;
    case 0x58: case 0x59: case 0x5A: case 0x5B: case 0x5C: case 0x5D: case 0x5E: case 0x5F: {
      noLock();
      const v = pop(size);
      setReg(size, <i32>(op & 7), v);
      break;
    }
    case 0x60: noLock(); pushAll(); break;
    case 0x61: noLock(); popAll(); break;
    case 0x62: noLock(); bound(); break;
    case 0x63: noLock(); arpl(); break;
    case 0x68: noLock(); push(size, fetchImm(size)); break;
    case 0x6A: noLock(); push(size, signExtend(8, fetch8())); break;
    case 0x69: case 0x6B: {
      decodeModrm();
      noLock();
      const a = readRM(size);
      const b = op == 0x6B ? signExtend(8, fetch8()) : fetchImm(size);
      setReg(size, modrmReg, imulTruncated(size, a, b));
      break;
    }
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7A: case 0x7B: case 0x7C: case 0x7D: case 0x7E: case 0x7F: {
      noLock();
      const displacement = signExtend(8, fetch8());
      if (condition(<i32>(op & 15))) jumpRelative(displacement);
      break;
    }
    case 0x80: case 0x82: group1(8, 8); break;
    case 0x81: if (size == 32) group1(32, 32); else group1(16, 16); break;
    case 0x83: if (size == 32) group1(32, 8); else group1(16, 8); break;
    case 0x84: case 0x85: {
      decodeModrm();
      noLock();
      const s = op == 0x84 ? 8 : size;
      alu(ALU_AND, s, readRM(s), getReg(s, modrmReg));
      break;
    }
    case 0x86: xchgForm(8); break;
    case 0x87: if (size == 32) xchgForm(32); else xchgForm(16); break;
    case 0x88: movForm(op, 8); break;
    case 0x8A: movForm(op, 8); break;
    case 0x89: case 0x8B: if (size == 32) movForm(op, 32); else movForm(op, 16); break;
    case 0x8C: { // MOV r/m, Sreg
      decodeModrm();
      noLock();
      if (modrmReg > 5) raise(UD);
      const selector = segSelector(modrmReg);
      if (modrmIsReg) setReg(size, modrmRm, selector);
      else writeSized(16, effectiveLinear(), selector);
      break;
    }
    case 0x8D: { // LEA
      decodeModrm();
      noLock();
      if (modrmIsReg) raise(UD);
      setReg(size, modrmReg, effectiveOffset);
      break;
    }
    case 0x8E: { // MOV Sreg, r/m16
      decodeModrm();
      noLock();
      if (modrmReg > 5 || modrmReg == CS) raise(UD);
      loadSegment(modrmReg, readRM(16));
      break;
    }
    case 0x8F: { // POP r/m: an ESP-based address is computed after the pop
      decodeModrmAfterPop(<u32>(size >> 3));
      noLock();
      if (modrmReg != 0) raise(UD);
      const v = peek(size, 0);
      if (modrmIsReg) {
        popDiscard(<u32>(size >> 3));
        setReg(size, modrmRm, v);
      } else {
        writeSized(size, effectiveLinear(), v);
        popDiscard(<u32>(size >> 3));
      }
      break;
    }
    case 0x90:
      noLock(); // NOP, XCHG eAX,eAX, and PAUSE (F3 90)
      break;
    case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: {
      noLock();
      const r = <i32>(op & 7);
      const a = getReg(size, EAX);
      setReg(size, EAX, getReg(size, r));
      setReg(size, r, a);
      break;
    }
    case 0x98: // CBW, CWDE
      noLock();
      if (size == 32) setReg32(EAX, signExtend(16, reg32(EAX)));
      else setReg16(EAX, signExtend(8, reg32(EAX)));
      break;
    case 0x99: // CWD, CDQ
      noLock();
      if (size == 32) setReg32(EDX, <u32>(<i32>reg32(EAX) >> 31));
      else setReg16(EDX, (reg16(EAX) & 0x8000) ? 0xFFFF : 0);
      break;
    case 0x9B: noLock(); if ((cr0 & 0xA) == 0xA) raise(NM); break; // WAIT: no FPU to wait for
    case 0x9C: noLock(); pushFlags(); break;
    case 0x9D: noLock(); popFlags(); break;
    case 0x9E: { // SAHF
      noLock();
      const mask = SF | ZF | AF | PF | CF;
      materialize();
      setEflags((getEflags() & ~mask) | (reg8(4) & mask));
      break;
    }
    case 0x9F: // LAHF
      noLock();
      setReg8(4, (getEflags() & (SF | ZF | AF | PF | CF)) | 2);
      break;
    case 0xA0: noLock(); setReg8(EAX, read8(moffsAddress())); break;
    case 0xA1: noLock(); setReg(size, EAX, readSized(size, moffsAddress())); break;
    case 0xA2: noLock(); writeSized(8, moffsAddress(), reg8(EAX)); break;
    case 0xA3: noLock(); writeSized(size, moffsAddress(), getReg(size, EAX)); break;
    case 0xA4: noLock(); stringOp(MOVS, 8); break;
    case 0xA5: noLock(); stringOp(MOVS, size); break;
    case 0xA6: noLock(); stringOp(CMPS, 8); break;
    case 0xA7: noLock(); stringOp(CMPS, size); break;
    case 0xA8: noLock(); alu(ALU_AND, 8, reg8(EAX), fetch8()); break;
    case 0xA9: noLock(); alu(ALU_AND, size, getReg(size, EAX), fetchImm(size)); break;
    case 0xAA: noLock(); stringOp(STOS, 8); break;
    case 0xAB: noLock(); stringOp(STOS, size); break;
    case 0xAC: noLock(); stringOp(LODS, 8); break;
    case 0xAD: noLock(); stringOp(LODS, size); break;
    case 0xAE: noLock(); stringOp(SCAS, 8); break;
    case 0xAF: noLock(); stringOp(SCAS, size); break;
    case 0xB0: case 0xB1: case 0xB2: case 0xB3: case 0xB4: case 0xB5: case 0xB6: case 0xB7:
      noLock();
      setReg8(<i32>(op & 7), fetch8());
      break;
    case 0xB8: case 0xB9: case 0xBA: case 0xBB: case 0xBC: case 0xBD: case 0xBE: case 0xBF:
      noLock();
      setReg(size, <i32>(op & 7), fetchImm(size));
      break;
    case 0xC0: group2(8, 2); break;
    case 0xC1: if (size == 32) group2(32, 2); else group2(16, 2); break;
    case 0xD0: group2(8, 0); break;
    case 0xD1: if (size == 32) group2(32, 0); else group2(16, 0); break;
    case 0xD2: group2(8, 1); break;
    case 0xD3: if (size == 32) group2(32, 1); else group2(16, 1); break;
    case 0xC2: case 0xC3: { // RET, RET imm16
      noLock();
      const release = op == 0xC2 ? fetch16() : 0;
      const target = peek(size, 0);
      popDiscard(<u32>(size >> 3) + release);
      jumpNear(target);
      break;
    }
    case 0xC4: noLock(); loadFarPointer(ES); break;
    case 0xC5: noLock(); loadFarPointer(DS); break;
    case 0xC6: case 0xC7: { // MOV r/m, imm
      decodeModrm();
      noLock();
      if (modrmReg != 0) raise(UD);
      const s = op == 0xC6 ? 8 : size;
      writeRM(s, fetchImm(s));
      break;
    }
    case 0xC8: noLock(); enter(); break;
    case 0xC9: noLock(); leave(); break;
    case 0xD4: noLock(); aam(fetch8()); break;
    case 0xD5: noLock(); aad(fetch8()); break;
    case 0xD6: noLock(); setReg8(EAX, getCF() ? 0xFF : 0); break; // SALC
    case 0xD7: { // XLAT
      noLock();
      const offset = (addressSize == 32 ? reg32(EBX) : reg16(EBX)) + reg8(EAX);
      setReg8(EAX, read8(segBaseOf(dataSegment()) + (addressSize == 32 ? offset : offset & 0xFFFF)));
      break;
    }
    case 0xD8: case 0xD9: case 0xDA: case 0xDB: case 0xDC: case 0xDD: case 0xDE: case 0xDF:
      // x87 escape. There is no FPU: with CR0.EM or CR0.TS set that is #NM,
      // which a kernel may use to emulate one; otherwise #UD.
      decodeModrm();
      if (cr0 & 0xC) raise(NM);
      raise(UD);
      break;
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: noLock(); loopForm(op); break;
    case 0xE4: case 0xE5: { // IN AL/eAX, imm8
      noLock();
      const port = fetch8();
      requireIopl();
      const s = op == 0xE4 ? 8 : size;
      setReg(s, EAX, portIn(port, s));
      break;
    }
    case 0xE6: case 0xE7: { // OUT imm8, AL/eAX
      noLock();
      const port = fetch8();
      requireIopl();
      const s = op == 0xE6 ? 8 : size;
      portOut(port, s, getReg(s, EAX));
      break;
    }
    case 0xEC: case 0xED: { // IN AL/eAX, DX
      noLock();
      requireIopl();
      const s = op == 0xEC ? 8 : size;
      setReg(s, EAX, portIn(reg16(EDX), s));
      break;
    }
    case 0xEE: case 0xEF: { // OUT DX, AL/eAX
      noLock();
      requireIopl();
      const s = op == 0xEE ? 8 : size;
      portOut(reg16(EDX), s, getReg(s, EAX));
      break;
    }
    case 0xE8: { // CALL rel
      noLock();
      const displacement = size == 32 ? fetch32() : signExtend(16, fetch16());
      push(size, eip);
      jumpRelative(displacement);
      break;
    }
    case 0xE9: { // JMP rel
      noLock();
      const displacement = size == 32 ? fetch32() : signExtend(16, fetch16());
      jumpRelative(displacement);
      break;
    }
    case 0xEB: noLock(); jumpRelative(signExtend(8, fetch8())); break;
    case 0xF4: // HLT
      noLock();
      requireRing0();
      halted = true;
      break;
    case 0xF5: noLock(); setFlagBits(CF, !getCF()); break; // CMC
    case 0xF6: group3(8); break;
    case 0xF7: if (size == 32) group3(32); else group3(16); break;
    case 0xF8: noLock(); setFlagBits(CF, false); break;
    case 0xF9: noLock(); setFlagBits(CF, true); break;
    case 0xFA: noLock(); requireIopl(); setFlagBits(IF, false); break;
    case 0xFB: noLock(); requireIopl(); setFlagBits(IF, true); break;
    case 0xFC: noLock(); setFlagBits(DF, false); break;
    case 0xFD: noLock(); setFlagBits(DF, true); break;
    case 0xFE: { // INC/DEC r/m8
      decodeModrm();
      checkLock(modrmReg <= 1);
      if (modrmReg > 1) raise(UD);
      const v = readRM(8);
      writeRM(8, modrmReg == 0 ? inc(8, v) : dec(8, v));
      break;
    }
    case 0xFF: group5(size); break;
    default:
      raise(UD);
  }
}

// Group 5 (FF): INC DEC CALL JMP PUSH on r/m.
function group5(size: i32): void {
  decodeModrm();
  const sub = modrmReg;
  checkLock(sub <= 1);
  switch (sub) {
    case 0: { const v = readRM(size); writeRM(size, inc(size, v)); break; }
    case 1: { const v = readRM(size); writeRM(size, dec(size, v)); break; }
    case 2: { const target = readRM(size); push(size, eip); jumpNear(target); break; }
    case 4: jumpNear(readRM(size)); break;
    case 6: push(size, readRM(size)); break;
    default: raise(UD); // far CALL/JMP arrive with protected mode
  }
}
