// The one-byte opcode map: prefixes, then one case per opcode (or opcode
// group). Two-byte opcodes (0F xx) are in execute0f.ts.

import {
  fetch8, fetch16, fetch32, fetchImm, decodeModrm, resetPrefixes, limitLength, endLengthLimit,
  setOperandSizePrefix, setAddressSizePrefix, setSegmentOverride, setRepPrefix, setLockPrefix,
  operandSize, addressSize, lockPrefix, modrmIsReg, modrmReg, modrmRm, effectiveOffset,
  dataSegment, decodeModrmAfterPop, opcode,
} from "./decode";
import { alu, inc, dec, neg, ALU_CMP, ALU_AND } from "./alu";
import { shiftRotate, ROL, ROR, RCL, RCR, SHL, SHR, SAR } from "./shift";
import { mul, imulAccumulator, imulTruncated, div, idiv } from "./muldiv";
import { daa, das, aaa, aas, aam, aad } from "./bcd";
import { stringOp, MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS } from "./string";
import {
  condition, getEflags, setEflags, getCF, setFlagBits, materialize, stored, CF, PF, AF, ZF, SF, DF,
  IF, IOPL, TF, NT, AC, ID, OF, RF, VM, getZF as getZFValue, getOF,
} from "./flags";
import {
  readRM, readRMForUpdate, writeRM, push, pop, peek, popDiscard, stackPointer, setStackPointer,
  readStack, writeStack, readSegment, writeSegment, readMemoryOperand, writeMemoryOperand,
  probeStack, jumpNear, jumpRelative,
} from "./operands";
import { loadSegment } from "./segments";
import { portIn, portOut } from "./ports";
import { raise, raiseTrap, UD, GP, BR, NM, BP, OF as OF_VECTOR, NO_ERROR_CODE } from "./exceptions";
import { deliver, deliverThroughIdt, iret } from "./interrupts";
import { farJump, farCall, farReturn } from "./transfers";
import { executeTwoByte } from "./execute0f";
import {
  eip, instructionStart, cpl, cr0, stack32, halted, requestStop, blockBoundary, startInterruptShadow, getReg, setReg,
  reg8, reg16, reg32, setReg8, setReg16, setReg32, signExtend, segSelector, EAX, ECX, EDX, EBX,
  ESP, EBP, ESI, EDI, ES, CS, SS, DS, FS, GS,
} from "./state";

// LOCK is legal only on these read-modify-write instructions with a memory
// destination; anywhere else it is #UD.
export function checkLock(lockable: bool): void {
  if (lockPrefix && (!lockable || modrmIsReg)) raise(UD);
}
@inline export function noLock(): void {
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

// ALU forms 00-3F: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iv.
@inline function aluForm(op: u32, size: i32): void {
  const aluOp = <i32>((op >> 3) & 7);
  switch (op & 7) {
    case 0: case 1: { // r/m, reg
      decodeModrm();
      checkLock(aluOp != ALU_CMP);
      const dst = aluOp == ALU_CMP ? readRM(size) : readRMForUpdate(size);
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
  const dst = aluOp == ALU_CMP ? readRM(size) : readRMForUpdate(size);
  const imm = signExtend(immSize, fetchImm(immSize));
  const r = alu(aluOp, size, dst, imm);
  if (aluOp != ALU_CMP) writeRM(size, r);
}

// Group 2 (C0 C1 D0-D3): shifts and rotates.
@inline function group2(size: i32, countKind: i32): void {
  decodeModrm();
  noLock();
  const dst = readRMForUpdate(size);
  let count: u32;
  if (countKind == 0) count = 1;
  else if (countKind == 1) count = reg8(ECX);
  else count = fetch8();
  if ((count & 0x1F) == 0) return;
  let r: u32;
  switch (modrmReg) { // one case per operation, so each folds to its own code
    case ROL: r = shiftRotate(ROL, size, dst, count); break;
    case ROR: r = shiftRotate(ROR, size, dst, count); break;
    case RCL: r = shiftRotate(RCL, size, dst, count); break;
    case RCR: r = shiftRotate(RCR, size, dst, count); break;
    case SHR: r = shiftRotate(SHR, size, dst, count); break;
    case SAR: r = shiftRotate(SAR, size, dst, count); break;
    default: r = shiftRotate(SHL, size, dst, count); break; // SHL, SAL
  }
  writeRM(size, r);
}

// Group 3 (F6 F7): TEST NOT NEG MUL IMUL DIV IDIV.
@inline function group3(size: i32): void {
  decodeModrm();
  const sub = modrmReg;
  checkLock(sub == 2 || sub == 3);
  const v = sub == 3 ? readRMForUpdate(size) : readRM(size);
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
@inline function moffsOffset(): u32 {
  return addressSize == 32 ? fetch32() : fetch16();
}

export function pushSegmentRegister(seg: i32): void {
  noLock();
  // A 32-bit push of a segment register writes only the low 16 bits on
  // P6-family processors and later, leaving the upper half untouched.
  if (operandSize == 32) {
    const sp = stackPointer() - 4;
    writeStack(16, sp, segSelector(seg));
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
  if (seg == SS) startInterruptShadow();
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
  writeStack(size, sp, getReg(size, EBP));
  const frameTemp = sp;
  if (level > 0) {
    for (let i: u32 = 1; i < level; i++) {
      bp -= bytes;
      const v = readStack(size, bp);
      sp -= bytes;
      writeStack(size, sp, v);
    }
    sp -= bytes;
    writeStack(size, sp, frameTemp);
  }
  if (size == 32) setReg32(EBP, frameTemp);
  else setReg16(EBP, frameTemp);
  setStackPointer(sp - allocSize);
}

function leave(): void {
  const size = operandSize;
  const bp = stack32 ? reg32(EBP) : reg16(EBP);
  const v = readStack(size, bp);
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
  blockBoundary = true;
  if (taken) jumpRelative(displacement);
}

// LES LDS LSS LFS LGS: a far pointer (offset, then selector) from memory.
export function loadFarPointer(seg: i32): void {
  decodeModrm();
  if (modrmIsReg) raise(UD);
  const size = operandSize;
  const offset = readMemoryOperand(size);
  const selector = readMemoryOperand(16, <u32>(size >> 3));
  loadSegment(seg, selector);
  setReg(size, modrmReg, offset);
}

function bound(): void {
  decodeModrm();
  if (modrmIsReg) raise(UD);
  const size = operandSize;
  const index = <i32>signExtend(size, getReg(size, modrmReg));
  const lower = <i32>signExtend(size, readMemoryOperand(size));
  const upper = <i32>signExtend(size, readMemoryOperand(size, <u32>(size >> 3)));
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

// ALU forms, one handler per opcode so each folds to straight-line code.
function op_00(): void { aluForm(0x00, 8); }
function op_01(): void { if (operandSize == 32) aluForm(0x01, 32); else aluForm(0x01, 16); }
function op_02(): void { aluForm(0x02, 8); }
function op_03(): void { if (operandSize == 32) aluForm(0x03, 32); else aluForm(0x03, 16); }
function op_04(): void { aluForm(0x04, 8); }
function op_05(): void { if (operandSize == 32) aluForm(0x05, 32); else aluForm(0x05, 16); }
function op_08(): void { aluForm(0x08, 8); }
function op_09(): void { if (operandSize == 32) aluForm(0x09, 32); else aluForm(0x09, 16); }
function op_0a(): void { aluForm(0x0A, 8); }
function op_0b(): void { if (operandSize == 32) aluForm(0x0B, 32); else aluForm(0x0B, 16); }
function op_0c(): void { aluForm(0x0C, 8); }
function op_0d(): void { if (operandSize == 32) aluForm(0x0D, 32); else aluForm(0x0D, 16); }
function op_10(): void { aluForm(0x10, 8); }
function op_11(): void { if (operandSize == 32) aluForm(0x11, 32); else aluForm(0x11, 16); }
function op_12(): void { aluForm(0x12, 8); }
function op_13(): void { if (operandSize == 32) aluForm(0x13, 32); else aluForm(0x13, 16); }
function op_14(): void { aluForm(0x14, 8); }
function op_15(): void { if (operandSize == 32) aluForm(0x15, 32); else aluForm(0x15, 16); }
function op_18(): void { aluForm(0x18, 8); }
function op_19(): void { if (operandSize == 32) aluForm(0x19, 32); else aluForm(0x19, 16); }
function op_1a(): void { aluForm(0x1A, 8); }
function op_1b(): void { if (operandSize == 32) aluForm(0x1B, 32); else aluForm(0x1B, 16); }
function op_1c(): void { aluForm(0x1C, 8); }
function op_1d(): void { if (operandSize == 32) aluForm(0x1D, 32); else aluForm(0x1D, 16); }
function op_20(): void { aluForm(0x20, 8); }
function op_21(): void { if (operandSize == 32) aluForm(0x21, 32); else aluForm(0x21, 16); }
function op_22(): void { aluForm(0x22, 8); }
function op_23(): void { if (operandSize == 32) aluForm(0x23, 32); else aluForm(0x23, 16); }
function op_24(): void { aluForm(0x24, 8); }
function op_25(): void { if (operandSize == 32) aluForm(0x25, 32); else aluForm(0x25, 16); }
function op_28(): void { aluForm(0x28, 8); }
function op_29(): void { if (operandSize == 32) aluForm(0x29, 32); else aluForm(0x29, 16); }
function op_2a(): void { aluForm(0x2A, 8); }
function op_2b(): void { if (operandSize == 32) aluForm(0x2B, 32); else aluForm(0x2B, 16); }
function op_2c(): void { aluForm(0x2C, 8); }
function op_2d(): void { if (operandSize == 32) aluForm(0x2D, 32); else aluForm(0x2D, 16); }
function op_30(): void { aluForm(0x30, 8); }
function op_31(): void { if (operandSize == 32) aluForm(0x31, 32); else aluForm(0x31, 16); }
function op_32(): void { aluForm(0x32, 8); }
function op_33(): void { if (operandSize == 32) aluForm(0x33, 32); else aluForm(0x33, 16); }
function op_34(): void { aluForm(0x34, 8); }
function op_35(): void { if (operandSize == 32) aluForm(0x35, 32); else aluForm(0x35, 16); }
function op_38(): void { aluForm(0x38, 8); }
function op_39(): void { if (operandSize == 32) aluForm(0x39, 32); else aluForm(0x39, 16); }
function op_3a(): void { aluForm(0x3A, 8); }
function op_3b(): void { if (operandSize == 32) aluForm(0x3B, 32); else aluForm(0x3B, 16); }
function op_3c(): void { aluForm(0x3C, 8); }
function op_3d(): void { if (operandSize == 32) aluForm(0x3D, 32); else aluForm(0x3D, 16); }

function op_06(): void {
  pushSegmentRegister(ES);
}

function op_07(): void {
  popSegmentRegister(ES);
}

function op_0e(): void {
  pushSegmentRegister(CS);
}

function op_0f(): void {
  executeTwoByte();
}

function op_16(): void {
  pushSegmentRegister(SS);
}

function op_17(): void {
  popSegmentRegister(SS);
}

function op_1e(): void {
  pushSegmentRegister(DS);
}

function op_1f(): void {
  popSegmentRegister(DS);
}

function op_27(): void {
  noLock(); daa();
}

function op_2f(): void {
  noLock(); das();
}

function op_37(): void {
  noLock(); aaa();
}

function op_3f(): void {
  noLock(); aas();
}

function op_40_47(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  const r = <i32>(op & 7);
  setReg(size, r, inc(size, getReg(size, r)));
}

function op_48_4f(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  const r = <i32>(op & 7);
  setReg(size, r, dec(size, getReg(size, r)));
}

function op_50_57(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  push(size, getReg(size, <i32>(op & 7)));
}

function op_58_5f(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  const v = pop(size);
  setReg(size, <i32>(op & 7), v);
}

function op_60(): void {
  noLock(); pushAll();
}

function op_61(): void {
  noLock(); popAll();
}

function op_62(): void {
  noLock(); bound();
}

function op_63(): void {
  noLock(); arpl();
}

function op_68(): void {
  const size = operandSize;
  noLock(); push(size, fetchImm(size));
}

function op_6a(): void {
  const size = operandSize;
  noLock(); push(size, signExtend(8, fetch8()));
}

function op_69_6b(): void {
  const size = operandSize;
  const op = opcode;
  decodeModrm();
  noLock();
  const a = readRM(size);
  const b = op == 0x6B ? signExtend(8, fetch8()) : fetchImm(size);
  setReg(size, modrmReg, imulTruncated(size, a, b));
}

function op_70_7f(): void {
  const op = opcode;
  noLock();
  const displacement = signExtend(8, fetch8());
  blockBoundary = true; // taken or not
  if (condition(<i32>(op & 15))) jumpRelative(displacement);
}

function op_80_82(): void {
  group1(8, 8);
}

function op_81(): void {
  const size = operandSize;
  if (size == 32) group1(32, 32); else group1(16, 16);
}

function op_83(): void {
  const size = operandSize;
  if (size == 32) group1(32, 8); else group1(16, 8);
}

function op_84_85(): void {
  const size = operandSize;
  const op = opcode;
  decodeModrm();
  noLock();
  const s = op == 0x84 ? 8 : size;
  alu(ALU_AND, s, readRM(s), getReg(s, modrmReg));
}

function op_86(): void {
  xchgForm(8);
}

function op_87(): void {
  const size = operandSize;
  if (size == 32) xchgForm(32); else xchgForm(16);
}

function op_88(): void { movForm(0x88, 8); }
function op_8a(): void { movForm(0x8A, 8); }
function op_89(): void { if (operandSize == 32) movForm(0x89, 32); else movForm(0x89, 16); }
function op_8b(): void { if (operandSize == 32) movForm(0x8B, 32); else movForm(0x8B, 16); }

// MOV r/m, Sreg
function op_8c(): void {
  const size = operandSize;
  decodeModrm();
  noLock();
  if (modrmReg > 5) raise(UD);
  const selector = segSelector(modrmReg);
  if (modrmIsReg) setReg(size, modrmRm, selector);
  else writeMemoryOperand(16, selector);
}

// LEA
function op_8d(): void {
  const size = operandSize;
  decodeModrm();
  noLock();
  if (modrmIsReg) raise(UD);
  setReg(size, modrmReg, effectiveOffset);
}

// MOV Sreg, r/m16
function op_8e(): void {
  decodeModrm();
  noLock();
  if (modrmReg > 5 || modrmReg == CS) raise(UD);
  loadSegment(modrmReg, readRM(16));
  // A load of SS holds off interrupts for one instruction (the ESP load that follows).
  if (modrmReg == SS) startInterruptShadow();
}

// POP r/m: an ESP-based address is computed after the pop
function op_8f(): void {
  const size = operandSize;
  decodeModrmAfterPop(<u32>(size >> 3));
  noLock();
  if (modrmReg != 0) raise(UD);
  const v = peek(size, 0);
  if (modrmIsReg) {
    popDiscard(<u32>(size >> 3));
    setReg(size, modrmRm, v);
  } else {
    writeMemoryOperand(size, v);
    popDiscard(<u32>(size >> 3));
  }
}

function op_90(): void {
  noLock(); // NOP, XCHG eAX,eAX, and PAUSE (F3 90)
}

function op_91_97(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  const r = <i32>(op & 7);
  const a = getReg(size, EAX);
  setReg(size, EAX, getReg(size, r));
  setReg(size, r, a);
}

// CBW, CWDE
function op_98(): void {
  const size = operandSize;
  noLock();
  if (size == 32) setReg32(EAX, signExtend(16, reg32(EAX)));
  else setReg16(EAX, signExtend(8, reg32(EAX)));
}

// CWD, CDQ
function op_99(): void {
  const size = operandSize;
  noLock();
  if (size == 32) setReg32(EDX, <u32>(<i32>reg32(EAX) >> 31));
  else setReg16(EDX, (reg16(EAX) & 0x8000) ? 0xFFFF : 0);
}

function op_9b(): void {
  noLock(); if ((cr0 & 0xA) == 0xA) raise(NM); return; // WAIT: no FPU to wait for
}

function op_9c(): void {
  noLock(); pushFlags();
}

function op_9d(): void {
  noLock(); popFlags();
}

// SAHF
function op_9e(): void {
  noLock();
  const mask = SF | ZF | AF | PF | CF;
  materialize();
  setEflags((getEflags() & ~mask) | (reg8(4) & mask));
}

// LAHF
function op_9f(): void {
  noLock();
  setReg8(4, (getEflags() & (SF | ZF | AF | PF | CF)) | 2);
}

function op_a0(): void {
  noLock(); setReg8(EAX, readSegment(8, dataSegment(), moffsOffset()));
}

function op_a1(): void {
  const size = operandSize;
  noLock(); setReg(size, EAX, readSegment(size, dataSegment(), moffsOffset()));
}

function op_a2(): void {
  noLock(); writeSegment(8, dataSegment(), moffsOffset(), reg8(EAX));
}

function op_a3(): void {
  const size = operandSize;
  noLock(); writeSegment(size, dataSegment(), moffsOffset(), getReg(size, EAX));
}

// JMP ptr16:16/32 (EA) and CALL ptr16:16/32 (9A): offset, then selector.
function op_ea(): void {
  noLock();
  const offset = fetchImm(operandSize);
  farJump(fetch16(), offset, operandSize);
}
function op_9a(): void {
  noLock();
  const offset = fetchImm(operandSize);
  farCall(fetch16(), offset, operandSize);
}
// RETF imm16 (CA) and RETF (CB).
function op_ca(): void { noLock(); farReturn(operandSize, fetch16()); }
function op_cb(): void { noLock(); farReturn(operandSize, 0); }

// INS (6C 6D) and OUTS (6E 6F), allowed when CPL <= IOPL.
function op_ins_outs(): void {
  noLock();
  requireIopl();
  const op = opcode;
  const kind = op < 0x6E ? INS : OUTS;
  if (op & 1) stringOp(kind, operandSize);
  else stringOp(kind, 8);
}

// MOVS CMPS (A4-A7), STOS LODS SCAS (AA-AF): even opcodes move bytes, odd
// ones words or dwords.
function op_string(): void {
  noLock();
  const op = opcode;
  const kind = op < 0xA6 ? MOVS : op < 0xA8 ? CMPS : op < 0xAC ? STOS : op < 0xAE ? LODS : SCAS;
  if (op & 1) stringOp(kind, operandSize);
  else stringOp(kind, 8);
}

function op_a8(): void {
  noLock(); alu(ALU_AND, 8, reg8(EAX), fetch8());
}

function op_a9(): void {
  const size = operandSize;
  noLock(); alu(ALU_AND, size, getReg(size, EAX), fetchImm(size));
}

function op_b0_b7(): void {
  const op = opcode;
  noLock();
  setReg8(<i32>(op & 7), fetch8());
}

function op_b8_bf(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  setReg(size, <i32>(op & 7), fetchImm(size));
}

function op_c0(): void {
  group2(8, 2);
}

function op_c1(): void {
  const size = operandSize;
  if (size == 32) group2(32, 2); else group2(16, 2);
}

function op_d0(): void {
  group2(8, 0);
}

function op_d1(): void {
  const size = operandSize;
  if (size == 32) group2(32, 0); else group2(16, 0);
}

function op_d2(): void {
  group2(8, 1);
}

function op_d3(): void {
  const size = operandSize;
  if (size == 32) group2(32, 1); else group2(16, 1);
}

// RET, RET imm16
function op_c2_c3(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  const release = op == 0xC2 ? fetch16() : 0;
  const target = peek(size, 0);
  popDiscard(<u32>(size >> 3) + release);
  jumpNear(target);
}

function op_c4(): void {
  noLock(); loadFarPointer(ES);
}

function op_c5(): void {
  noLock(); loadFarPointer(DS);
}

// MOV r/m, imm
function op_c6_c7(): void {
  const size = operandSize;
  const op = opcode;
  decodeModrm();
  noLock();
  if (modrmReg != 0) raise(UD);
  const s = op == 0xC6 ? 8 : size;
  writeRM(s, fetchImm(s));
}

function op_c8(): void {
  noLock(); enter();
}

function op_c9(): void {
  noLock(); leave();
}

function op_d4(): void {
  noLock(); aam(fetch8());
}

function op_d5(): void {
  noLock(); aad(fetch8());
}

function op_d6(): void {
  noLock(); setReg8(EAX, getCF() ? 0xFF : 0); return; // SALC
}

// XLAT
function op_d7(): void {
  noLock();
  const offset = (addressSize == 32 ? reg32(EBX) : reg16(EBX)) + reg8(EAX);
  setReg8(EAX, readSegment(8, dataSegment(), addressSize == 32 ? offset : offset & 0xFFFF));
}

// x87 escape. There is no FPU: with CR0.EM or CR0.TS set that is #NM,
function op_d8_df(): void {
  // which a kernel may use to emulate one; otherwise #UD.
  decodeModrm();
  if (cr0 & 0xC) raise(NM);
  raise(UD);
}

function op_e0_e3(): void {
  const op = opcode;
  noLock(); loopForm(op);
}

// IN AL/eAX, imm8
function op_e4_e5(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  const port = fetch8();
  requireIopl();
  const s = op == 0xE4 ? 8 : size;
  setReg(s, EAX, portIn(port, s));
}

// OUT imm8, AL/eAX
function op_e6_e7(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  const port = fetch8();
  requireIopl();
  const s = op == 0xE6 ? 8 : size;
  portOut(port, s, getReg(s, EAX));
}

// IN AL/eAX, DX
function op_ec_ed(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  requireIopl();
  const s = op == 0xEC ? 8 : size;
  setReg(s, EAX, portIn(reg16(EDX), s));
}

// OUT DX, AL/eAX
function op_ee_ef(): void {
  const size = operandSize;
  const op = opcode;
  noLock();
  requireIopl();
  const s = op == 0xEE ? 8 : size;
  portOut(reg16(EDX), s, getReg(s, EAX));
}

// CALL rel
function op_e8(): void {
  const size = operandSize;
  noLock();
  const displacement = size == 32 ? fetch32() : signExtend(16, fetch16());
  push(size, eip);
  jumpRelative(displacement);
}

// JMP rel
function op_e9(): void {
  const size = operandSize;
  noLock();
  const displacement = size == 32 ? fetch32() : signExtend(16, fetch16());
  jumpRelative(displacement);
}

function op_eb(): void {
  noLock(); jumpRelative(signExtend(8, fetch8()));
}

// HLT
function op_f4(): void {
  noLock();
  requireRing0();
  halted = true;
  requestStop();
}

function op_f5(): void {
  noLock(); setFlagBits(CF, !getCF()); return; // CMC
}

function op_f6(): void {
  group3(8);
}

function op_f7(): void {
  const size = operandSize;
  if (size == 32) group3(32); else group3(16);
}

function op_f8(): void {
  noLock(); setFlagBits(CF, false);
}

function op_f9(): void {
  noLock(); setFlagBits(CF, true);
}

function op_fa(): void {
  noLock(); requireIopl(); setFlagBits(IF, false);
}

// STI: interrupts are recognised only after the next instruction, so that
// `sti; hlt` and `sti; ret` cannot be cut in between.
function op_fb(): void {
  noLock();
  requireIopl();
  if ((getEflags() & IF) == 0) startInterruptShadow();
  setFlagBits(IF, true);
}

function op_fc(): void {
  noLock(); setFlagBits(DF, false);
}

function op_fd(): void {
  noLock(); setFlagBits(DF, true);
}

// INC/DEC r/m8
function op_fe(): void {
  decodeModrm();
  checkLock(modrmReg <= 1);
  if (modrmReg > 1) raise(UD);
  const v = readRMForUpdate(8);
  writeRM(8, modrmReg == 0 ? inc(8, v) : dec(8, v));
}

function op_ff(): void {
  const size = operandSize;
  group5(size);
}

function op_undefined(): void {
  raise(UD);
}

// INT3, INT n, INTO: software interrupts, reported to the host for now
// (delivery through the IDT arrives with the protected-mode machine).
function op_cc(): void { noLock(); softwareInterrupt(BP); }
function op_cd(): void { noLock(); softwareInterrupt(<i32>fetch8()); }
function op_ce(): void { noLock(); if (getOF()) softwareInterrupt(OF_VECTOR); }

// INT3, INT n, INTO: through the IDT on a machine, else reported to the host.
function softwareInterrupt(vector: i32): void {
  if (!deliverThroughIdt) raiseTrap(vector);
  deliver(vector, NO_ERROR_CODE, true, false);
}

// IRET (protected mode; real-mode and task returns are not implemented).
function op_cf(): void {
  noLock();
  if ((cr0 & 1) == 0) raise(UD);
  iret(operandSize);
}

// The opcode map: opcode byte -> handler (a br_table of direct calls).
@inline function dispatchOneByte(op: u32): void {
  switch (op) {
    case 0x00: op_00(); return;
    case 0x01: op_01(); return;
    case 0x02: op_02(); return;
    case 0x03: op_03(); return;
    case 0x04: op_04(); return;
    case 0x05: op_05(); return;
    case 0x06: op_06(); return;
    case 0x07: op_07(); return;
    case 0x08: op_08(); return;
    case 0x09: op_09(); return;
    case 0x0A: op_0a(); return;
    case 0x0B: op_0b(); return;
    case 0x0C: op_0c(); return;
    case 0x0D: op_0d(); return;
    case 0x0E: op_0e(); return;
    case 0x0F: op_0f(); return;
    case 0x10: op_10(); return;
    case 0x11: op_11(); return;
    case 0x12: op_12(); return;
    case 0x13: op_13(); return;
    case 0x14: op_14(); return;
    case 0x15: op_15(); return;
    case 0x16: op_16(); return;
    case 0x17: op_17(); return;
    case 0x18: op_18(); return;
    case 0x19: op_19(); return;
    case 0x1A: op_1a(); return;
    case 0x1B: op_1b(); return;
    case 0x1C: op_1c(); return;
    case 0x1D: op_1d(); return;
    case 0x1E: op_1e(); return;
    case 0x1F: op_1f(); return;
    case 0x20: op_20(); return;
    case 0x21: op_21(); return;
    case 0x22: op_22(); return;
    case 0x23: op_23(); return;
    case 0x24: op_24(); return;
    case 0x25: op_25(); return;
        case 0x27: op_27(); return;
    case 0x28: op_28(); return;
    case 0x29: op_29(); return;
    case 0x2A: op_2a(); return;
    case 0x2B: op_2b(); return;
    case 0x2C: op_2c(); return;
    case 0x2D: op_2d(); return;
        case 0x2F: op_2f(); return;
    case 0x30: op_30(); return;
    case 0x31: op_31(); return;
    case 0x32: op_32(); return;
    case 0x33: op_33(); return;
    case 0x34: op_34(); return;
    case 0x35: op_35(); return;
        case 0x37: op_37(); return;
    case 0x38: op_38(); return;
    case 0x39: op_39(); return;
    case 0x3A: op_3a(); return;
    case 0x3B: op_3b(); return;
    case 0x3C: op_3c(); return;
    case 0x3D: op_3d(); return;
        case 0x3F: op_3f(); return;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47: op_40_47(); return;
    case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F: op_48_4f(); return;
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: op_50_57(); return;
    case 0x58: case 0x59: case 0x5A: case 0x5B: case 0x5C: case 0x5D: case 0x5E: case 0x5F: op_58_5f(); return;
    case 0x60: op_60(); return;
    case 0x61: op_61(); return;
    case 0x62: op_62(); return;
    case 0x63: op_63(); return;
                    case 0x68: op_68(); return;
    case 0x69: op_69_6b(); return;
    case 0x6A: op_6a(); return;
    case 0x6B: op_69_6b(); return;
    case 0x6C: case 0x6D: case 0x6E: case 0x6F: op_ins_outs(); return;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77: case 0x78: case 0x79: case 0x7A: case 0x7B: case 0x7C: case 0x7D: case 0x7E: case 0x7F: op_70_7f(); return;
    case 0x80: op_80_82(); return;
    case 0x81: op_81(); return;
    case 0x82: op_80_82(); return;
    case 0x83: op_83(); return;
    case 0x84: case 0x85: op_84_85(); return;
    case 0x86: op_86(); return;
    case 0x87: op_87(); return;
    case 0x88: op_88(); return;
    case 0x89: op_89(); return;
    case 0x8A: op_8a(); return;
    case 0x8B: op_8b(); return;
    case 0x8C: op_8c(); return;
    case 0x8D: op_8d(); return;
    case 0x8E: op_8e(); return;
    case 0x8F: op_8f(); return;
    case 0x90: op_90(); return;
    case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: op_91_97(); return;
    case 0x98: op_98(); return;
    case 0x99: op_99(); return;
    case 0x9A: op_9a(); return;
    case 0x9B: op_9b(); return;
    case 0x9C: op_9c(); return;
    case 0x9D: op_9d(); return;
    case 0x9E: op_9e(); return;
    case 0x9F: op_9f(); return;
    case 0xA0: op_a0(); return;
    case 0xA1: op_a1(); return;
    case 0xA2: op_a2(); return;
    case 0xA3: op_a3(); return;
    case 0xA4: op_string(); return;
    case 0xA5: op_string(); return;
    case 0xA6: op_string(); return;
    case 0xA7: op_string(); return;
    case 0xA8: op_a8(); return;
    case 0xA9: op_a9(); return;
    case 0xAA: op_string(); return;
    case 0xAB: op_string(); return;
    case 0xAC: op_string(); return;
    case 0xAD: op_string(); return;
    case 0xAE: op_string(); return;
    case 0xAF: op_string(); return;
    case 0xB0: case 0xB1: case 0xB2: case 0xB3: case 0xB4: case 0xB5: case 0xB6: case 0xB7: op_b0_b7(); return;
    case 0xB8: case 0xB9: case 0xBA: case 0xBB: case 0xBC: case 0xBD: case 0xBE: case 0xBF: op_b8_bf(); return;
    case 0xC0: op_c0(); return;
    case 0xC1: op_c1(); return;
    case 0xC2: case 0xC3: op_c2_c3(); return;
    case 0xC4: op_c4(); return;
    case 0xC5: op_c5(); return;
    case 0xC6: case 0xC7: op_c6_c7(); return;
    case 0xC8: op_c8(); return;
    case 0xC9: op_c9(); return;
    case 0xCA: op_ca(); return;
    case 0xCB: op_cb(); return;
    case 0xCC: op_cc(); return;
    case 0xCD: op_cd(); return;
    case 0xCE: op_ce(); return;
    case 0xCF: op_cf(); return;
    case 0xD0: op_d0(); return;
    case 0xD1: op_d1(); return;
    case 0xD2: op_d2(); return;
    case 0xD3: op_d3(); return;
    case 0xD4: op_d4(); return;
    case 0xD5: op_d5(); return;
    case 0xD6: op_d6(); return;
    case 0xD7: op_d7(); return;
    case 0xD8: case 0xD9: case 0xDA: case 0xDB: case 0xDC: case 0xDD: case 0xDE: case 0xDF: op_d8_df(); return;
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: op_e0_e3(); return;
    case 0xE4: case 0xE5: op_e4_e5(); return;
    case 0xE6: case 0xE7: op_e6_e7(); return;
    case 0xE8: op_e8(); return;
    case 0xE9: op_e9(); return;
    case 0xEA: op_ea(); return;
    case 0xEB: op_eb(); return;
    case 0xEC: case 0xED: op_ec_ed(); return;
    case 0xEE: case 0xEF: op_ee_ef(); return;
        case 0xF1: op_undefined(); return;
            case 0xF4: op_f4(); return;
    case 0xF5: op_f5(); return;
    case 0xF6: op_f6(); return;
    case 0xF7: op_f7(); return;
    case 0xF8: op_f8(); return;
    case 0xF9: op_f9(); return;
    case 0xFA: op_fa(); return;
    case 0xFB: op_fb(); return;
    case 0xFC: op_fc(); return;
    case 0xFD: op_fd(); return;
    case 0xFE: op_fe(); return;
    case 0xFF: op_ff(); return;
  }
}

// Group 5 (FF): INC DEC CALL JMP PUSH on r/m.
function group5(size: i32): void {
  decodeModrm();
  const sub = modrmReg;
  checkLock(sub <= 1);
  switch (sub) {
    case 0: { const v = readRMForUpdate(size); writeRM(size, inc(size, v)); break; }
    case 1: { const v = readRMForUpdate(size); writeRM(size, dec(size, v)); break; }
    case 2: { const target = readRM(size); push(size, eip); jumpNear(target); break; }
    case 3: case 5: { // CALL/JMP m16:16/32
      if (modrmIsReg) raise(UD);
      const offset = readMemoryOperand(size);
      const selector = readMemoryOperand(16, <u32>(size >> 3));
      if (sub == 3) farCall(selector, offset, size);
      else farJump(selector, offset, size);
      break;
    }
    case 4: jumpNear(readRM(size)); break;
    case 6: push(size, readRM(size)); break;
    default: raise(UD);
  }
}

// Prefix bytes, marked so the common instruction without one costs a single
// predictable branch.
const PREFIXES: usize = memory.data<u8>([
  0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3,
]);
const IS_PREFIX: usize = memory.data(256);
for (let i: usize = 0; i < 11; i++) store<u8>(IS_PREFIX + <usize>load<u8>(PREFIXES + i), 1);

// Executes one instruction at EIP.
@inline export function executeInstruction(): void {
  instructionStart = eip;
  resetPrefixes();
  let op = fetch8();
  const prefixed = load<u8>(IS_PREFIX + <usize>op) != 0;
  if (prefixed) {
    // Any number of prefixes, in any order, within the 15-byte limit.
    limitLength();
    do {
      applyPrefix(op);
      op = fetch8();
    } while (load<u8>(IS_PREFIX + <usize>op));
  }
  opcode = op;
  dispatchOneByte(op);
  if (prefixed) endLengthLimit();
}

function applyPrefix(op: u32): void {
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
    default: setRepPrefix(0xF3); break;
  }
}

