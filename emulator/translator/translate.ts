// The translator: compiles a guest basic block into a wasm function that
// does what the interpreter would do, instruction by instruction, and
// installs it in the core's translation cache (emulator/core/blocks.ts).
//
// A block is a run of translatable instructions within one 4 KiB page,
// ending after the first jump, call, return or branch, or before the first
// instruction the translator does not handle. The generated code keeps the
// interpreter's contract exactly: per instruction it counts one executed
// instruction and records the instruction's address (where a fault
// restarts it); it leaves the flags described lazily as the core would;
// memory goes through the core's checked accessors; and a write that
// modifies translated code ends the block at once.

import { Code, Op, moduleBytes, VOID_BLOCK, type FunctionImport } from './wasm.js';
import { decodeInstruction, SEG_SS, type Instruction, type MemoryOperand } from './decode.js';

const GLOBALS = ['eip', 'instructionStart', 'budget', 'blockBoundary', 'codeModified', 'pageFaultPending',
  'lazyOp', 'lazyDst', 'lazySrc', 'lazyRes', 'lazySize'] as const;
const G = Object.fromEntries(GLOBALS.map((g, i) => [g, i])) as Record<(typeof GLOBALS)[number], number>;

const FUNCTIONS: FunctionImport[] = [
  { name: 'jitRead', params: 3, results: 1 },
  { name: 'jitWrite', params: 4, results: 0 },
  { name: 'jitCondition', params: 1, results: 1 },
  { name: 'jitCarry', params: 0, results: 1 },
  { name: 'jitPinCarry', params: 0, results: 0 },
  { name: 'jitShift', params: 4, results: 1 },
  { name: 'jitImul', params: 3, results: 1 },
];
const F = { read: 0, write: 1, condition: 2, carry: 3, pinCarry: 4, shift: 5, imul: 6 };

// flags.ts LAZY_* values.
const LAZY_ADD = 1, LAZY_SUB = 2, LAZY_LOGIC = 3, LAZY_INC = 4, LAZY_DEC = 5, LAZY_SBB = 7;
const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_CMP = 7; // 6: XOR
const ESP = 4, ECX = 1, EAX = 0, EDX = 2;

// Locals of a block function.
const A = 0, B = 1, R = 2, ADDRESS = 3, FLAG_DST = 4, FLAG_SRC = 5, FLAG_RES = 6;
const LOCALS = 7;

const MAX_INSTRUCTIONS = 48;

export interface TranslatorCore {
  memory: WebAssembly.Memory;
  regsPointer(): number;
  installBlock(eip: number, fn: number, length: number, first: number, last: number): void;
  untranslatable(): number;
}

type Size = 8 | 16 | 32;
const mask = (size: Size): number => (size === 32 ? -1 : (1 << size) - 1);

/** What the last flag-setting instruction of the block left in FLAG_* locals. */
interface KnownFlags { kind: typeof LAZY_SUB | typeof LAZY_LOGIC; size: Size }

class BlockWriter {
  readonly c = new Code();
  flags: KnownFlags | null = null;
  constructor(private readonly regs: number) {}

  getReg(size: Size, r: number): void {
    if (size === 32) this.c.i32(0).memory(Op.I32Load, 2, this.regs + 4 * r);
    else if (size === 16) this.c.i32(0).memory(Op.I32Load16U, 1, this.regs + 4 * r);
    else this.c.i32(0).memory(Op.I32Load8U, 0, this.regs + 4 * (r & 3) + (r >> 2));
  }

  setReg(size: Size, r: number, local: number): void {
    this.c.i32(0).local(Op.LocalGet, local);
    if (size === 32) this.c.memory(Op.I32Store, 2, this.regs + 4 * r);
    else if (size === 16) this.c.memory(Op.I32Store16, 1, this.regs + 4 * r);
    else this.c.memory(Op.I32Store8, 0, this.regs + 4 * (r & 3) + (r >> 2));
  }

  /** The memory operand's offset into ADDRESS. */
  address(m: MemoryOperand): void {
    const c = this.c;
    c.i32(m.disp);
    if (m.base >= 0) { this.getReg(32, m.base); c.op(Op.I32Add); }
    if (m.index >= 0) {
      this.getReg(32, m.index);
      if (m.scale) c.i32(m.scale).op(Op.I32Shl);
      c.op(Op.I32Add);
    }
    c.local(Op.LocalSet, ADDRESS);
  }

  read(size: Size, seg: number, offsetLocal: number): void {
    this.c.i32(size).i32(seg).local(Op.LocalGet, offsetLocal).call(F.read);
    this.leaveOnPageFault();
  }

  /**
   * After an access: a page fault leaves the block at once (the run loop
   * rewinds the instruction and delivers #PF; see core/restart.ts).
   */
  private leaveOnPageFault(): void {
    this.c.global(Op.GlobalGet, G.pageFaultPending).op(Op.If, VOID_BLOCK, Op.Return, Op.End);
  }

  /** Did the instruction being translated write memory? */
  wroteMemory = false;

  /** A checked write (the instruction then ends with a self-modifying-code check). */
  write(size: Size, seg: number, offsetLocal: number, valueLocal: number): void {
    this.c.i32(size).i32(seg).local(Op.LocalGet, offsetLocal).local(Op.LocalGet, valueLocal).call(F.write);
    this.leaveOnPageFault();
    this.wroteMemory = true;
  }

  /** After an instruction that wrote memory: leave if the write hit translated code. */
  checkCodeModified(next: number): void {
    this.c.global(Op.GlobalGet, G.codeModified).op(Op.If, VOID_BLOCK);
    this.exit(next);
    this.c.op(Op.End);
  }

  readRM(insn: Instruction, size: Size): void {
    if (insn.mem) this.read(size, insn.mem.seg, ADDRESS);
    else this.getReg(size, insn.rmReg);
  }

  writeRM(insn: Instruction, size: Size, local: number): void {
    if (insn.mem) this.write(size, insn.mem.seg, ADDRESS, local);
    else this.setReg(size, insn.rmReg, local);
  }

  /** Records flags as setLazy() does, keeping the masked operands for later conditions. */
  setFlags(kind: number, size: Size, dst: number, src: number, res: number): void {
    const c = this.c;
    const m = mask(size);
    for (const [from, to, global] of [[dst, FLAG_DST, G.lazyDst], [src, FLAG_SRC, G.lazySrc], [res, FLAG_RES, G.lazyRes]] as const) {
      c.local(Op.LocalGet, from);
      if (size !== 32) c.i32(m).op(Op.I32And);
      c.local(Op.LocalTee, to).global(Op.GlobalSet, global);
    }
    c.i32(kind).global(Op.GlobalSet, G.lazyOp).i32(size).global(Op.GlobalSet, G.lazySize);
    this.flags = kind === LAZY_SUB || kind === LAZY_LOGIC ? { kind, size } : null;
  }

  /** Pushes the value of condition `cc` (0 or 1). */
  condition(cc: number): void {
    const c = this.c;
    const known = this.flags;
    const signed = (local: number): void => {
      c.local(Op.LocalGet, local);
      if (known!.size === 8) c.op(Op.I32Extend8S);
      else if (known!.size === 16) c.op(Op.I32Extend16S);
    };
    const negate = cc & 1;
    const base = cc & ~1;
    let ok = true;
    if (known?.kind === LAZY_SUB) {
      switch (base) {
        case 2: c.local(Op.LocalGet, FLAG_DST).local(Op.LocalGet, FLAG_SRC).op(Op.I32LtU); break;
        case 4: c.local(Op.LocalGet, FLAG_DST).local(Op.LocalGet, FLAG_SRC).op(Op.I32Eq); break;
        case 6: c.local(Op.LocalGet, FLAG_DST).local(Op.LocalGet, FLAG_SRC).op(Op.I32LeU); break;
        case 8: signed(FLAG_RES); c.i32(0).op(Op.I32LtS); break;
        case 12: signed(FLAG_DST); signed(FLAG_SRC); c.op(Op.I32LtS); break;
        case 14: signed(FLAG_DST); signed(FLAG_SRC); c.op(Op.I32LeS); break;
        default: ok = false;
      }
    } else if (known?.kind === LAZY_LOGIC) {
      switch (base) {
        case 0: case 2: c.i32(0); break;
        case 4: case 6: c.local(Op.LocalGet, FLAG_RES).op(Op.I32Eqz); break;
        case 8: case 12: signed(FLAG_RES); c.i32(0).op(Op.I32LtS); break;
        case 14: signed(FLAG_RES); c.i32(0).op(Op.I32LeS); break;
        default: ok = false;
      }
    } else {
      ok = false;
    }
    if (!ok) { c.i32(cc).call(F.condition); return; }
    if (negate) c.op(Op.I32Eqz);
  }

  exit(next: number): void {
    this.c.i32(next).global(Op.GlobalSet, G.eip).i32(1).global(Op.GlobalSet, G.blockBoundary).op(Op.Return);
  }

  /** EIP from local `local`, then leave. */
  exitTo(local: number): void {
    this.c.local(Op.LocalGet, local).global(Op.GlobalSet, G.eip).i32(1).global(Op.GlobalSet, G.blockBoundary).op(Op.Return);
  }

  push(valueLocal: number): void {
    const c = this.c;
    this.getReg(32, ESP);
    c.i32(4).op(Op.I32Sub).local(Op.LocalSet, R);
    this.write(32, SEG_SS, R, valueLocal);
    this.setReg(32, ESP, R);
  }

  /** Pops into local `into` (ESP updated). */
  pop(into: number, release = 0): void {
    const c = this.c;
    this.getReg(32, ESP);
    c.local(Op.LocalSet, R);
    this.read(32, SEG_SS, R);
    c.local(Op.LocalSet, into);
    c.local(Op.LocalGet, R).i32(4 + release).op(Op.I32Add).local(Op.LocalSet, R);
    this.setReg(32, ESP, R);
  }

  /** dst (A) op src (B) -> R with flags; returns whether R should be written back. */
  alu(op: number, size: Size): boolean {
    const c = this.c;
    const arith = (wasmOp: Op, withCarry: boolean): void => {
      c.local(Op.LocalGet, A).local(Op.LocalGet, B).op(wasmOp);
      if (withCarry) c.call(F.carry).op(wasmOp);
      c.local(Op.LocalSet, R);
    };
    let kind: number;
    switch (op) {
      case ALU_ADD: arith(Op.I32Add, false); kind = LAZY_ADD; break;
      case ALU_ADC: arith(Op.I32Add, true); kind = LAZY_ADD; break;
      case ALU_SBB: arith(Op.I32Sub, true); kind = LAZY_SBB; break;
      case ALU_SUB: case ALU_CMP: arith(Op.I32Sub, false); kind = LAZY_SUB; break;
      case ALU_OR: arith(Op.I32Or, false); kind = LAZY_LOGIC; break;
      case ALU_AND: arith(Op.I32And, false); kind = LAZY_LOGIC; break;
      default: arith(Op.I32Xor, false); kind = LAZY_LOGIC; break; // XOR
    }
    this.pendingFlags = { kind, size };
    return op !== ALU_CMP;
  }

  pendingFlags: { kind: number; size: Size } | null = null;

  /** Sets the flags computed by alu() (after the result is stored, so a faulting store changes none). */
  commitFlags(): void {
    const p = this.pendingFlags!;
    this.setFlags(p.kind, p.size, A, B, R);
    this.pendingFlags = null;
  }
}

function translateInstruction(w: BlockWriter, insn: Instruction): boolean {
  const c = w.c;
  const op = insn.opcode;
  const next = insn.next;
  // Count it and record where it restarts.
  c.global(Op.GlobalGet, G.budget).i32(1).op(Op.I32Sub).global(Op.GlobalSet, G.budget);
  c.i32(insn.address).global(Op.GlobalSet, G.instructionStart);
  if (insn.mem && op !== 0x8d && op !== 0x0f1f) w.address(insn.mem);

  if (op < 0x40) { // ALU forms
    const aluOp = (op >> 3) & 7;
    const size: Size = op & 1 ? 32 : 8;
    switch (op & 7) {
      case 0: case 1:
        w.readRM(insn, size); c.local(Op.LocalSet, A);
        w.getReg(size, insn.reg); c.local(Op.LocalSet, B);
        if (w.alu(aluOp, size)) w.writeRM(insn, size, R);
        break;
      case 2: case 3:
        w.getReg(size, insn.reg); c.local(Op.LocalSet, A);
        w.readRM(insn, size); c.local(Op.LocalSet, B);
        if (w.alu(aluOp, size)) w.setReg(size, insn.reg, R);
        break;
      default:
        w.getReg(size, EAX); c.local(Op.LocalSet, A);
        c.i32(insn.imm).local(Op.LocalSet, B);
        if (w.alu(aluOp, size)) w.setReg(size, EAX, R);
        break;
    }
    w.commitFlags();
    return false;
  }
  if (op < 0x50) { // INC, DEC r32
    const r = op & 7;
    const isInc = op < 0x48;
    c.call(F.pinCarry);
    w.getReg(32, r); c.local(Op.LocalSet, A);
    c.i32(1).local(Op.LocalSet, B);
    c.local(Op.LocalGet, A).i32(1).op(isInc ? Op.I32Add : Op.I32Sub).local(Op.LocalSet, R);
    w.setReg(32, r, R);
    w.setFlags(isInc ? LAZY_INC : LAZY_DEC, 32, A, B, R);
    return false;
  }
  if (op < 0x58) { // PUSH r32
    w.getReg(32, op & 7); c.local(Op.LocalSet, B);
    w.push(B);
    return false;
  }
  if (op < 0x60) { // POP r32
    w.pop(A);
    w.setReg(32, op & 7, A);
    return false;
  }
  if (op >= 0x70 && op <= 0x7f) return branch(w, op & 15, (next + insn.imm) | 0, next);
  if ((op & 0xfff0) === 0x0f80) return branch(w, op & 15, (next + insn.imm) | 0, next);
  if (op >= 0xb0 && op <= 0xbf) {
    const size: Size = op < 0xb8 ? 8 : 32;
    c.i32(insn.imm).local(Op.LocalSet, A);
    w.setReg(size, op & 7, A);
    return false;
  }
  if ((op & 0xfff0) === 0x0f40) { // CMOVcc
    w.readRM(insn, 32); c.local(Op.LocalSet, A);
    w.condition(op & 15);
    c.op(Op.If, VOID_BLOCK);
    w.setReg(32, insn.reg, A);
    c.op(Op.End);
    return false;
  }
  if ((op & 0xfff0) === 0x0f90) { // SETcc
    w.condition(op & 15);
    c.local(Op.LocalSet, A);
    w.writeRM(insn, 8, A);
    return false;
  }
  switch (op) {
    case 0x68: case 0x6a:
      c.i32(insn.imm).local(Op.LocalSet, B);
      w.push(B);
      return false;
    case 0x69: case 0x6b: case 0x0faf: {
      w.readRM(insn, 32); c.local(Op.LocalSet, A);
      if (op === 0x0faf) w.getReg(32, insn.reg); else c.i32(insn.imm);
      c.local(Op.LocalSet, B);
      c.i32(32).local(Op.LocalGet, A).local(Op.LocalGet, B).call(F.imul).local(Op.LocalSet, R);
      w.setReg(32, insn.reg, R);
      w.flags = null;
      return false;
    }
    case 0x80: case 0x81: case 0x83: {
      const size: Size = op === 0x80 ? 8 : 32;
      w.readRM(insn, size); c.local(Op.LocalSet, A);
      c.i32(insn.imm).local(Op.LocalSet, B);
      if (w.alu(insn.reg, size)) w.writeRM(insn, size, R);
      w.commitFlags();
      return false;
    }
    case 0x84: case 0x85: case 0xa8: case 0xa9: case 0xf6: case 0xf7: {
      const size: Size = op & 1 ? 32 : 8;
      if (op === 0xf6 || op === 0xf7) {
        w.readRM(insn, size); c.local(Op.LocalSet, A);
        if (insn.reg === 2) { // NOT
          c.local(Op.LocalGet, A).i32(-1).op(Op.I32Xor).local(Op.LocalSet, R);
          w.writeRM(insn, size, R);
          return false;
        }
        if (insn.reg === 3) { // NEG
          c.i32(0).local(Op.LocalGet, A).op(Op.I32Sub).local(Op.LocalSet, R);
          w.writeRM(insn, size, R);
          c.local(Op.LocalGet, A).local(Op.LocalSet, B).i32(0).local(Op.LocalSet, A);
          w.setFlags(LAZY_SUB, size, A, B, R);
          return false;
        }
        c.i32(insn.imm).local(Op.LocalSet, B);
      } else if (op === 0xa8 || op === 0xa9) {
        w.getReg(size, EAX); c.local(Op.LocalSet, A);
        c.i32(insn.imm).local(Op.LocalSet, B);
      } else {
        w.readRM(insn, size); c.local(Op.LocalSet, A);
        w.getReg(size, insn.reg); c.local(Op.LocalSet, B);
      }
      c.local(Op.LocalGet, A).local(Op.LocalGet, B).op(Op.I32And).local(Op.LocalSet, R);
      w.setFlags(LAZY_LOGIC, size, A, B, R);
      return false;
    }
    case 0x88: case 0x89: {
      const size: Size = op === 0x88 ? 8 : 32;
      w.getReg(size, insn.reg); c.local(Op.LocalSet, A);
      w.writeRM(insn, size, A);
      return false;
    }
    case 0x8a: case 0x8b: {
      const size: Size = op === 0x8a ? 8 : 32;
      w.readRM(insn, size); c.local(Op.LocalSet, A);
      w.setReg(size, insn.reg, A);
      return false;
    }
    case 0xc6: case 0xc7: {
      c.i32(insn.imm).local(Op.LocalSet, A);
      w.writeRM(insn, op === 0xc6 ? 8 : 32, A);
      return false;
    }
    case 0x8d:
      w.address(insn.mem!);
      w.setReg(32, insn.reg, ADDRESS);
      return false;
    case 0x90: case 0x0f1f:
      return false;
    case 0x98: // CWDE
      w.getReg(32, EAX); c.op(Op.I32Extend16S).local(Op.LocalSet, A);
      w.setReg(32, EAX, A);
      return false;
    case 0x99: // CDQ
      w.getReg(32, EAX); c.i32(31).op(Op.I32ShrS).local(Op.LocalSet, A);
      w.setReg(32, EDX, A);
      return false;
    case 0x0fb6: case 0x0fb7: case 0x0fbe: case 0x0fbf: {
      const size: Size = op & 1 ? 16 : 8;
      w.readRM(insn, size);
      if (op >= 0x0fbe) c.op(size === 8 ? Op.I32Extend8S : Op.I32Extend16S);
      c.local(Op.LocalSet, A);
      w.setReg(32, insn.reg, A);
      return false;
    }
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
      const size: Size = op & 1 ? 32 : 8;
      const kind = insn.reg;
      if (op !== 0xd2 && op !== 0xd3) { // by an immediate or by 1
        const count = (op <= 0xc1 ? insn.imm : 1) & 0x1f;
        if (count === 0) return false;
        c.i32(kind).i32(size); w.getReg(size, insn.rmReg); c.i32(count).call(F.shift).local(Op.LocalSet, R);
        w.setReg(size, insn.rmReg, R);
      } else {
        w.getReg(8, ECX); c.i32(0x1f).op(Op.I32And).local(Op.LocalTee, B).op(Op.If, VOID_BLOCK);
        c.i32(kind).i32(size); w.getReg(size, insn.rmReg); c.local(Op.LocalGet, B).call(F.shift).local(Op.LocalSet, R);
        w.setReg(size, insn.rmReg, R);
        c.op(Op.End);
      }
      w.flags = null;
      return false;
    }
    case 0xfe: case 0xff: {
      const size: Size = op === 0xfe ? 8 : 32;
      if (insn.reg <= 1) {
        w.readRM(insn, size); c.local(Op.LocalSet, A);
        c.call(F.pinCarry);
        c.i32(1).local(Op.LocalSet, B);
        c.local(Op.LocalGet, A).i32(1).op(insn.reg === 0 ? Op.I32Add : Op.I32Sub).local(Op.LocalSet, R);
        w.writeRM(insn, size, R);
        w.setFlags(insn.reg === 0 ? LAZY_INC : LAZY_DEC, size, A, B, R);
        return false;
      }
      w.readRM(insn, 32); c.local(Op.LocalSet, A);
      if (insn.reg === 6) { // PUSH r/m
        w.push(A);
        return false;
      }
      if (insn.reg === 2) { // CALL r/m
        c.i32(next).local(Op.LocalSet, B);
        w.push(B);
      }
      w.exitTo(A);
      return true;
    }
    case 0xe8: // CALL rel32
      c.i32(next).local(Op.LocalSet, B);
      w.push(B);
      w.exit((next + insn.imm) | 0);
      return true;
    case 0xe9: case 0xeb:
      w.exit((next + insn.imm) | 0);
      return true;
    case 0xc2: case 0xc3:
      w.pop(A, op === 0xc2 ? insn.imm : 0);
      w.exitTo(A);
      return true;
    default:
      throw new Error(`translator: no code for opcode ${op.toString(16)}`);
  }
}

function branch(w: BlockWriter, cc: number, target: number, next: number): boolean {
  w.condition(cc);
  w.c.op(Op.If, VOID_BLOCK);
  w.exit(target >>> 0);
  w.c.op(Op.End);
  w.exit(next);
  return true;
}

/** A compiled block, kept so that a block evicted from the core's cache (by a
 * slot collision, or a write to its page that left its own bytes alone) comes
 * back without compiling again. */
interface CompiledBlock { index: number; bytes: Uint8Array; length: number }

export class Translator {
  private readonly imports: WebAssembly.Imports;
  private readonly compiled = new Map<string, CompiledBlock>();
  blocksTranslated = 0;

  constructor(
    private readonly core: TranslatorCore & Record<string, unknown>,
    private readonly table: WebAssembly.Table,
    private readonly ram: Uint8Array,
  ) {
    const env: Record<string, unknown> = { memory: core.memory };
    for (const g of GLOBALS) env[g] = core[g];
    for (const f of FUNCTIONS) env[f.name] = core[f.name];
    this.imports = { env: env as WebAssembly.ModuleImports };
  }

  /**
   * Translates the block at `eip`, whose first byte is at `physical`, and
   * installs it; false when its first instruction is not translatable (the
   * core then stops asking for it). A block stays within its page.
   */
  translate(eip: number, physical = eip): boolean {
    const key = `${eip}:${physical}`;
    const known = this.compiled.get(key);
    if (known && sameBytes(this.ram, physical, known.bytes)) {
      this.core.installBlock(eip, known.index, known.length, physical, physical + known.bytes.length - 1);
      return true;
    }
    const delta = eip - physical;
    const pageEnd = Math.min((eip - (eip & 0xfff)) + 0x1000, this.ram.length + delta);
    const w = new BlockWriter(this.core.regsPointer());
    w.c.i32(0).global(Op.GlobalSet, G.codeModified);
    let at = eip;
    let count = 0;
    let ended = false;
    while (count < MAX_INSTRUCTIONS && !ended) {
      const insn = at < pageEnd ? decodeInstruction(this.ram, at, pageEnd, delta) : null;
      if (!insn) break;
      w.wroteMemory = false;
      ended = translateInstruction(w, insn);
      if (w.wroteMemory && !ended) w.checkCodeModified(insn.next);
      count++;
      at = insn.next;
    }
    if (count === 0) {
      this.core.installBlock(eip, this.core.untranslatable(), 0, physical, physical);
      return false;
    }
    if (!ended) w.exit(at);
    const module = new WebAssembly.Module(moduleBytes([...GLOBALS], FUNCTIONS, LOCALS, w.c));
    const instance = new WebAssembly.Instance(module, this.imports);
    const index = known?.index ?? this.table.grow(1);
    this.table.set(index, instance.exports.block as () => void);
    this.compiled.set(key, { index, bytes: this.ram.slice(physical, at - delta), length: count });
    this.core.installBlock(eip, index, count, physical, at - delta - 1);
    this.blocksTranslated++;
    return true;
  }
}

function sameBytes(ram: Uint8Array, at: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (ram[at + i] !== bytes[i]) return false;
  return true;
}
