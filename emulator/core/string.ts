// String instructions: MOVS STOS LODS CMPS SCAS INS OUTS, with REP/REPE/REPNE.
//
// A REP instruction runs as a loop of iterations, each of which completes
// (memory, ESI/EDI, ECX) before the next starts. So the instruction can stop
// between any two iterations: when the run's instruction budget is spent or
// the host asks to stop, EIP is left on the instruction (prefixes and all) and
// it resumes where it was when executed again. A fault inside an iteration
// leaves the earlier iterations done and the faulting one undone, as on
// hardware. Each iteration counts as one executed instruction.

import { readSegment, writeSegment } from "./operands";
import { checkSegmentAccess } from "./segments";
import { probeWrite, ramSize, translate, ACCESS_READ, ACCESS_WRITE } from "./memory";
import { noteWrite } from "./blocks";
import { portIn, portOut, portInBlock, portOutBlock } from "./ports";
import { alu, ALU_CMP } from "./alu";
import { watching, watchedRange, noteStringCut } from "./debug";
import { getDF, getZF } from "./flags";
import { addressSize, repPrefix, dataSegment } from "./decode";
import {
  eip, instructionStart, reg32, setReg32, reg16, setReg16, getReg, setReg, segBase, ES, ECX, EDX, ESI, EDI,
  EAX, budget, consumeBudget, pageFaultPending,
} from "./state";

export const MOVS = 0, STOS = 1, LODS = 2, CMPS = 3, SCAS = 4, INS = 5, OUTS = 6;

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
    case INS: {
      // The destination is checked before the port is read: a fault must not
      // swallow data the device has already handed over.
      checkWritable(ES, di, <u32>(size >> 3));
      writeSegment(size, ES, di, portIn(reg16(EDX), size));
      setIndexReg(EDI, di + step);
      break;
    }
    case OUTS: {
      portOut(reg16(EDX), size, readSegment(size, dataSegment(), si));
      setIndexReg(ESI, si + step);
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
    if ((kind == INS || kind == OUTS) && count > 1 && step == bytes && bulkPortTransfer(kind, size)) {
      if (indexReg(ECX) == 0) return;
      continue;
    }
    iterate(kind, size, step);
    if (pageFaultPending) return; // the iteration is void; the run loop rewinds to it
    setIndexReg(ECX, count - 1);
    if (count - 1 == 0) return;
    if (compares && getZF() != continueWhileZero) return;
    if (budget == 0) { // budget spent, or the host asked to stop
      eip = instructionStart; // not finished: run it again later
      noteStringCut();
      return;
    }
    consumeBudget();
  }
}

function checkWritable(seg: i32, offset: u32, bytes: u32): void {
  checkSegmentAccess(seg, offset, bytes, true);
  probeWrite(segBase(seg) + offset, bytes);
}

// REP INS / REP OUTS moved in bulk by the device (as `rep insw` from an ATA
// data port is): as many elements as fit in the current page, the remaining
// count and the budget, straight between the port and the page's frame. Only
// for flat segments. Returns false when it moved nothing (the caller then
// moves one element, which also takes a page fault the right way). Not
// over bytes a watchpoint covers (debug.ts): each element must be checked.
function bulkPortTransfer(kind: i32, size: i32): bool {
  if (addressSize != 32) return false;
  const bytes = <u32>(size >> 3);
  const seg = kind == INS ? ES : dataSegment();
  const offset = reg32(kind == INS ? EDI : ESI);
  if (segBase(seg) != 0) return false;
  const pageLeft: u32 = (<u32>0x1000 - (offset & 0xFFF)) / bytes;
  let count = reg32(ECX);
  if (count > pageLeft) count = pageLeft;
  if (count > budget + 1) count = budget + 1;
  if (count < 2) return false;
  if (kind == INS) checkSegmentAccess(seg, offset, count * bytes, true);
  else checkSegmentAccess(seg, offset, count * bytes, false);
  const physical = translate(offset, kind == INS ? ACCESS_WRITE : ACCESS_READ);
  if (pageFaultPending || physical > ramSize - count * bytes) return false;
  if (watching && watchedRange(offset, physical, count * bytes, kind == INS)) return false;
  const port = reg16(EDX);
  const moved = kind == INS
    ? portInBlock(port, size, count, physical)
    : portOutBlock(port, size, count, physical);
  if (moved == 0) return false;
  if (kind == INS) { noteWrite(physical); noteWrite(physical + moved * bytes - 1); }
  setReg32(kind == INS ? EDI : ESI, offset + moved * bytes);
  setReg32(ECX, reg32(ECX) - moved);
  // The run loop counted the first element; each further one is an iteration.
  for (let i: u32 = 1; i < moved; i++) consumeBudget();
  if (reg32(ECX) != 0 && budget == 0) { eip = instructionStart; noteStringCut(); }
  return true;
}
