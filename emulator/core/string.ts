// String instructions: MOVS STOS LODS CMPS SCAS, with REP/REPE/REPNE.
//
// A REP instruction runs as a loop of iterations, each of which completes
// (memory, ESI/EDI, ECX) before the next starts. So the instruction can stop
// between any two iterations: when the run's instruction budget is spent or
// the host asks to stop, EIP is left on the instruction (prefixes and all) and
// it resumes where it was when executed again. A fault inside an iteration
// leaves the earlier iterations done and the faulting one undone, as on
// hardware. Each iteration counts as one executed instruction.

import { readSegment, writeSegment } from "./operands";
import { alu, ALU_CMP } from "./alu";
import { getDF, getZF } from "./flags";
import { addressSize, repPrefix, dataSegment } from "./decode";
import {
  eip, instructionStart, reg32, setReg32, reg16, setReg16, getReg, setReg, ES, ECX, ESI, EDI, EAX,
  budget, consumeBudget,
} from "./state";

export const MOVS = 0, STOS = 1, LODS = 2, CMPS = 3, SCAS = 4;

@inline function indexReg(r: i32): u32 {
  return addressSize == 32 ? reg32(r) : reg16(r);
}
@inline function setIndexReg(r: i32, v: u32): void {
  if (addressSize == 32) setReg32(r, v);
  else setReg16(r, v);
}

@inline function iterate(kind: i32, size: i32, step: u32): void {
  const si = indexReg(ESI);
  const di = indexReg(EDI);
  switch (kind) {
    case MOVS: {
      const v = readSegment(size, dataSegment(), si);
      writeSegment(size, ES, di, v);
      setIndexReg(ESI, si + step);
      setIndexReg(EDI, di + step);
      break;
    }
    case STOS: {
      writeSegment(size, ES, di, getReg(size, EAX));
      setIndexReg(EDI, di + step);
      break;
    }
    case LODS: {
      const v = readSegment(size, dataSegment(), si);
      setReg(size, EAX, v);
      setIndexReg(ESI, si + step);
      break;
    }
    case CMPS: {
      const a = readSegment(size, dataSegment(), si);
      const b = readSegment(size, ES, di);
      alu(ALU_CMP, size, a, b);
      setIndexReg(ESI, si + step);
      setIndexReg(EDI, di + step);
      break;
    }
    default: { // SCAS
      const b = readSegment(size, ES, di);
      alu(ALU_CMP, size, getReg(size, EAX), b);
      setIndexReg(EDI, di + step);
      break;
    }
  }
}

export function stringOp(kind: i32, size: i32): void {
  const bytes = <u32>(size >> 3);
  const step = getDF() ? 0 - bytes : bytes;
  if (repPrefix == 0) {
    iterate(kind, size, step);
    return;
  }
  const compares = kind == CMPS || kind == SCAS;
  // REPE (F3) continues while ZF = 1, REPNE (F2) while ZF = 0.
  const continueWhileZero = repPrefix == 0xF3;
  for (;;) {
    const count = indexReg(ECX);
    if (count == 0) return;
    iterate(kind, size, step);
    setIndexReg(ECX, count - 1);
    if (count - 1 == 0) return;
    if (compares && getZF() != continueWhileZero) return;
    if (budget == 0) { // budget spent, or the host asked to stop
      eip = instructionStart; // not finished: run it again later
      return;
    }
    consumeBudget();
  }
}
