// The translator: compiles a guest basic block into a wasm function that
// does what the interpreter would do, instruction by instruction, and
// installs it in the core's translation cache (emulator/core/blocks.ts).
//
// A block is a trace of translatable instructions within one 4 KiB page,
// at most MAX_INSTRUCTIONS long: it follows unconditional jumps to code it
// has not been through, leaves when a conditional branch is taken and goes
// on when it is not, and ends at a call, a return, an indirect jump, a jump
// it does not follow, or before an instruction the translator does not
// handle. A branch or jump back to its own start makes it a loop that goes
// round inside its wasm function while the run loop would only call it
// again (see BlockWriter.jump()). The generated code keeps the
// interpreter's contract exactly wherever the core can look: at every
// memory access (which may fault) and wherever the block leaves, the
// general registers, the executed-instruction count, the restart address
// (instructionStart) and the lazily described flags are what the
// interpreter would have left.
// Between those points they are kept in the block's locals and written
// only when needed; flags the block knows statically (which instruction
// set them last) are read inline, without asking the core. Memory goes
// through the core's checked accessors, and a write that modifies
// translated code ends the block at once.

import { Code, Op, moduleBytes, VOID_BLOCK, type FunctionImport } from './wasm.js';
import { decodeInstruction, SEG_SS, type Instruction, type MemoryOperand } from './decode.js';

const GLOBALS = ['eip', 'instructionStart', 'budget', 'blockBoundary', 'codeModified', 'pageFaultPending', 'attention',
  'stored', 'lazyOp', 'lazyDst', 'lazySrc', 'lazyRes', 'lazySize'] as const;
const G = Object.fromEntries(GLOBALS.map((g, i) => [g, i])) as Record<(typeof GLOBALS)[number], number>;

const FUNCTIONS: FunctionImport[] = [
  { name: 'jitRead', params: 3, results: 1 },
  { name: 'jitWrite', params: 4, results: 0 },
  { name: 'jitCondition', params: 1, results: 1 },
  { name: 'jitCarry', params: 0, results: 1 },
  { name: 'jitPinCarry', params: 0, results: 0 },
  { name: 'jitShift', params: 4, results: 1 },
  { name: 'jitMaterialize', params: 0, results: 0 },
  { name: 'jitReadForUpdate', params: 3, results: 1 },
];
const F = { read: 0, write: 1, condition: 2, carry: 3, pinCarry: 4, shift: 5, materialize: 6, readForUpdate: 7 };

// flags.ts LAZY_* values and EFLAGS bits.
const LAZY_NONE = 0, LAZY_ADD = 1, LAZY_SUB = 2, LAZY_LOGIC = 3, LAZY_INC = 4, LAZY_DEC = 5, LAZY_RESULT = 6,
  LAZY_SBB = 7;
const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_CMP = 7; // 6: XOR
const ROL = 0, ROR = 1, SHL = 4, SHR = 5, SAR = 7;
const ESP = 4, ECX = 1, EAX = 0, EDX = 2;

// Locals of a block function: i32 scratch (A, B, R, T), the memory operand's
// offset, the operands and result of the last flag-setting instruction, the
// eight general registers (REG + r), and one i64 for products.
const A = 0, B = 1, R = 2, ADDRESS = 3, FLAG_DST = 4, FLAG_SRC = 5, FLAG_RES = 6, T = 7, REG = 8;
const LENGTH = 16; // the block's length in instructions (set on entry)
const LOCALS = 17;
const WIDE = LOCALS;
const LOCALS64 = 1;

const MAX_INSTRUCTIONS = 48;

export interface TranslatorCore {
  memory: WebAssembly.Memory;
  regsPointer(): number;
  installBlock(eip: number, fn: number, length: number, first: number, last: number): void;
  untranslatable(): number;
}

type Size = 8 | 16 | 32;
const mask = (size: Size): number => (size === 32 ? -1 : (1 << size) - 1);

/**
 * What the block knows, at this point of its code, about the flags: the
 * lazy kind (flags.ts) the last flag-setting instruction left, its size,
 * and (ADD) whether a carry was folded in. Its operands and result are in
 * the FLAG_* locals, those the kind needs: all three for ADD, SUB and SBB;
 * FLAG_DST and FLAG_RES for INC and DEC (the source is 1) with CF in
 * `stored`; FLAG_RES for LOGIC, and for RESULT with CF, AF and OF in
 * `stored`; none for NONE (all in `stored`).
 */
interface KnownFlags { kind: number; size: Size; carryIn: boolean }

/**
 * Emits a block function. Besides the code, it tracks what is deferred
 * along the straight line being emitted, and settles it before anything
 * that can look: the general registers (kept in locals once read or
 * written), the lazy-flag globals (`stored` is always written at once),
 * the instructions counted but not yet taken from `budget`, and
 * `instructionStart`. A call that can fault (memory) or leaving the block
 * settles all four; a helper that reads or sets flags gets the flags (no
 * helper reads the registers). Registers are read into their locals only
 * on straight-line code (never inside an `if`), so that what is known
 * holds on every path.
 */
class BlockWriter {
  readonly c = new Code();
  known: KnownFlags | null = null;
  /** The lazy globals are behind `known` (always false when nothing is known). */
  private pending = false;
  /**
   * The known flags are those of an INC or DEC whose CF is still to be
   * pinned from the lazy globals (which describe the flags before it): when
   * INC or DEC follows flags the block does not know, the pin waits until
   * something looks, as the next instruction setting CF makes it needless.
   */
  private unpinned = false;
  /** What lazyOp and lazySize hold, when known (-1: not known). */
  private globalOp = -1;
  private globalSize = -1;
  /** Instructions begun and not yet taken from `budget`. */
  private uncounted = 0;
  /** The instruction being translated, and what instructionStart holds (-1: not known). */
  private current = 0;
  private startWritten = -1;
  /** Did the block write memory (it then clears codeModified on entry)? */
  hasWrites = false;
  /** Does the block jump back to its start (its body is then a wasm loop)? */
  loops = false;
  /** Set by an unconditional jump the block follows: where it goes on. */
  continueAt: number | null = null;
  /** May the block go on at `target` (set by the translator)? */
  canFollow: (target: number) => boolean = () => false;

  /** `start`: the block's EIP. */
  constructor(private readonly regs: number, readonly start: number) {}

  /** A new instruction at `address`: one more to count. */
  begin(address: number): void {
    this.current = address;
    this.uncounted++;
  }

  /** Per register: 0 not in its local yet, 1 in its local (as in memory), 2 changed in its local only. */
  private readonly regState = [0, 0, 0, 0, 0, 0, 0, 0];

  /** Register r (0-7) into its local, if it is not there yet. */
  private loadReg(r: number): void {
    if (this.regState[r] !== 0) return;
    this.c.i32(0).memory(Op.I32Load, 2, this.regs + 4 * r).local(Op.LocalSet, REG + r);
    this.regState[r] = 1;
  }

  /** Pushes a register: 32-bit r, 16-bit r, or 8-bit r (AL CL DL BL AH CH DH BH). */
  getReg(size: Size, r: number): void {
    const c = this.c;
    const r32 = size === 8 ? r & 3 : r;
    this.loadReg(r32);
    c.local(Op.LocalGet, REG + r32);
    if (size === 16) c.i32(0xffff).op(Op.I32And);
    else if (size === 8) {
      if (r >= 4) c.i32(8).op(Op.I32ShrU);
      c.i32(0xff).op(Op.I32And);
    }
  }

  /** Sets a register (sized as getReg) from local `local`. */
  setReg(size: Size, r: number, local: number): void {
    const c = this.c;
    if (size === 32) {
      c.local(Op.LocalGet, local).local(Op.LocalSet, REG + r);
      this.regState[r] = 2;
      return;
    }
    const r32 = size === 8 ? r & 3 : r;
    const shift = size === 8 && r >= 4 ? 8 : 0;
    const m = mask(size) << shift;
    this.loadReg(r32);
    c.local(Op.LocalGet, REG + r32).i32(~m).op(Op.I32And);
    c.local(Op.LocalGet, local);
    if (shift) c.i32(shift).op(Op.I32Shl);
    c.i32(m).op(Op.I32And, Op.I32Or).local(Op.LocalSet, REG + r32);
    this.regState[r32] = 2;
  }

  /** Stores the registers changed in their locals (emitted code only). */
  private emitRegisterStores(): void {
    for (let r = 0; r < 8; r++) {
      if (this.regState[r] === 2) this.c.i32(0).local(Op.LocalGet, REG + r).memory(Op.I32Store, 2, this.regs + 4 * r);
    }
  }

  /** Brings the registers in memory up to date. */
  flushRegisters(): void {
    this.emitRegisterStores();
    for (let r = 0; r < 8; r++) if (this.regState[r] === 2) this.regState[r] = 1;
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

  // ---- what is deferred ----

  /** Writes the lazy globals from what is known (emitted code only). */
  private emitLazyGlobals(): void {
    const c = this.c;
    const k = this.known!;
    if (this.unpinned) c.call(F.pinCarry); // from the globals as they still are
    if (this.globalOp !== k.kind) c.i32(k.kind).global(Op.GlobalSet, G.lazyOp);
    if (k.kind === LAZY_NONE) return;
    if (this.globalSize !== k.size) c.i32(k.size).global(Op.GlobalSet, G.lazySize);
    c.local(Op.LocalGet, FLAG_RES).global(Op.GlobalSet, G.lazyRes);
    // flags.ts reads lazyDst and lazySrc under the arithmetic kinds only.
    if (k.kind === LAZY_LOGIC || k.kind === LAZY_RESULT) return;
    c.local(Op.LocalGet, FLAG_DST).global(Op.GlobalSet, G.lazyDst);
    if (k.kind === LAZY_INC || k.kind === LAZY_DEC) c.i32(1); else c.local(Op.LocalGet, FLAG_SRC);
    c.global(Op.GlobalSet, G.lazySrc);
  }

  /** Brings the lazy globals up to date. */
  flushFlags(): void {
    if (!this.pending) return;
    this.emitLazyGlobals();
    this.pending = false;
    this.unpinned = false;
    this.globalOp = this.known!.kind;
    if (this.known!.kind !== LAZY_NONE) this.globalSize = this.known!.size;
  }

  /** Takes the instructions begun so far from `budget`. */
  syncBudget(): void {
    if (this.uncounted === 0) return;
    this.c.global(Op.GlobalGet, G.budget).i32(this.uncounted).op(Op.I32Sub).global(Op.GlobalSet, G.budget);
    this.uncounted = 0;
  }

  /** Before a call that may fault: the state is the architectural one before this instruction. */
  private beforeAccess(): void {
    this.flushRegisters();
    this.flushFlags();
    this.syncBudget();
    if (this.startWritten !== this.current) {
      this.c.i32(this.current).global(Op.GlobalSet, G.instructionStart);
      this.startWritten = this.current;
    }
  }

  /** Before a helper that reads or sets the flags. */
  private beforeHelper(): void {
    this.flushFlags();
  }

  /** After a helper that set the flags to something not known here. */
  private flagsUnknown(): void {
    this.known = null;
    this.pending = false;
    this.unpinned = false;
    this.globalOp = -1;
    this.globalSize = -1;
  }

  /** What leaving must settle, emitted without changing what is known (the code may go on). */
  private emitLeaving(): void {
    this.emitRegisterStores();
    if (this.pending) this.emitLazyGlobals();
    if (this.uncounted) this.c.global(Op.GlobalGet, G.budget).i32(this.uncounted).op(Op.I32Sub).global(Op.GlobalSet, G.budget);
  }

  // ---- memory ----

  /** A checked read; `forUpdate`: of a destination about to be written (checked writable first). */
  read(size: Size, seg: number, offsetLocal: number, forUpdate = false): void {
    this.beforeAccess();
    this.c.i32(size).i32(seg).local(Op.LocalGet, offsetLocal).call(forUpdate ? F.readForUpdate : F.read);
    this.leaveOnPageFault();
  }

  /**
   * After an access: a page fault leaves the block at once (the run loop
   * rewinds the instruction and delivers #PF; see core/restart.ts). The
   * state was settled before the access.
   */
  private leaveOnPageFault(): void {
    this.c.global(Op.GlobalGet, G.pageFaultPending).op(Op.If, VOID_BLOCK, Op.Return, Op.End);
  }

  /** Did the instruction being translated write memory? */
  wroteMemory = false;

  /** A checked write (the instruction then ends with a self-modifying-code check). */
  write(size: Size, seg: number, offsetLocal: number, valueLocal: number): void {
    this.beforeAccess();
    this.c.i32(size).i32(seg).local(Op.LocalGet, offsetLocal).local(Op.LocalGet, valueLocal).call(F.write);
    this.leaveOnPageFault();
    this.wroteMemory = true;
    this.hasWrites = true;
  }

  /** After an instruction that wrote memory: leave if the write hit translated code. */
  checkCodeModified(next: number): void {
    this.c.global(Op.GlobalGet, G.codeModified).op(Op.If, VOID_BLOCK);
    this.exit(next);
    this.c.op(Op.End);
  }

  readRM(insn: Instruction, size: Size, forUpdate = false): void {
    if (insn.mem) this.read(size, insn.mem.seg, ADDRESS, forUpdate);
    else this.getReg(size, insn.rmReg);
  }

  writeRM(insn: Instruction, size: Size, local: number): void {
    if (insn.mem) this.write(size, insn.mem.seg, ADDRESS, local);
    else this.setReg(size, insn.rmReg, local);
  }

  // ---- flags ----

  /** Records flags as setLazy() does (the globals are written when something may look). */
  setFlags(kind: number, size: Size, dst: number, src: number, res: number, carryIn = false): void {
    const c = this.c;
    const m = mask(size);
    const keep: [number, number][] = [[res, FLAG_RES]];
    if (kind !== LAZY_LOGIC) keep.push([dst, FLAG_DST]);
    if (kind !== LAZY_LOGIC && kind !== LAZY_INC && kind !== LAZY_DEC) keep.push([src, FLAG_SRC]);
    for (const [from, to] of keep) {
      c.local(Op.LocalGet, from);
      if (size !== 32) c.i32(m).op(Op.I32And);
      c.local(Op.LocalSet, to);
    }
    this.known = { kind, size, carryIn };
    this.pending = true;
    if (kind !== LAZY_INC && kind !== LAZY_DEC) this.unpinned = false; // (set for these by pinCarry())
  }

  /** Pushes bit `bit` of `stored` (0 or 1). */
  private storedBit(bit: number): void {
    this.c.global(Op.GlobalGet, G.stored);
    if (bit) this.c.i32(bit).op(Op.I32ShrU);
    this.c.i32(1).op(Op.I32And);
  }

  /** Pushes one arithmetic flag (CF PF ZF SF OF) of the known flags as 0 or 1, as flags.ts computes it. */
  private flag(f: number): void {
    const c = this.c;
    const k = this.known!;
    const get = (local: number): Code => c.local(Op.LocalGet, local);
    const top = (): void => { c.i32(k.size - 1).op(Op.I32ShrU); }; // of a value masked to the size
    const signBit = 1 << (k.size - 1);
    switch (f) {
      case CF:
        switch (k.kind) {
          case LAZY_SUB: get(FLAG_DST); get(FLAG_SRC); c.op(Op.I32LtU); return;
          case LAZY_ADD:
            if (!k.carryIn) { get(FLAG_RES); get(FLAG_DST); c.op(Op.I32LtU); return; }
            // ((dst & src) | ((dst | src) & ~res)) at the sign bit
            get(FLAG_DST); get(FLAG_SRC); c.op(Op.I32And);
            get(FLAG_DST); get(FLAG_SRC); c.op(Op.I32Or);
            get(FLAG_RES); c.i32(-1).op(Op.I32Xor, Op.I32And, Op.I32Or);
            top();
            return;
          case LAZY_SBB:
            // ((~dst & src) | (~(dst ^ src) & res)) at the sign bit
            get(FLAG_DST); c.i32(-1).op(Op.I32Xor); get(FLAG_SRC); c.op(Op.I32And);
            get(FLAG_DST); get(FLAG_SRC); c.op(Op.I32Xor).i32(-1).op(Op.I32Xor); get(FLAG_RES); c.op(Op.I32And);
            c.op(Op.I32Or);
            top();
            return;
          case LAZY_LOGIC: c.i32(0); return;
          default: // INC DEC RESULT NONE
            if (this.unpinned) this.flushFlags(); // pins it
            this.storedBit(0);
            return;
        }
      case ZF:
        if (k.kind === LAZY_NONE) this.storedBit(6); else get(FLAG_RES).op(Op.I32Eqz);
        return;
      case SF:
        if (k.kind === LAZY_NONE) this.storedBit(7); else { get(FLAG_RES); top(); }
        return;
      case PF:
        if (k.kind === LAZY_NONE) this.storedBit(2);
        else get(FLAG_RES).i32(0xff).op(Op.I32And, Op.I32Popcnt).i32(1).op(Op.I32And).i32(1).op(Op.I32Xor);
        return;
      default: // OF
        switch (k.kind) {
          case LAZY_ADD: // (dst ^ res) & (src ^ res)
            get(FLAG_DST); get(FLAG_RES); c.op(Op.I32Xor); get(FLAG_SRC); get(FLAG_RES); c.op(Op.I32Xor, Op.I32And);
            top();
            return;
          case LAZY_SUB: case LAZY_SBB: // (dst ^ src) & (dst ^ res)
            get(FLAG_DST); get(FLAG_SRC); c.op(Op.I32Xor); get(FLAG_DST); get(FLAG_RES); c.op(Op.I32Xor, Op.I32And);
            top();
            return;
          case LAZY_INC: get(FLAG_RES).i32(signBit).op(Op.I32Eq); return;
          case LAZY_DEC: get(FLAG_DST).i32(signBit).op(Op.I32Eq); return;
          case LAZY_LOGIC: c.i32(0); return;
          default: this.storedBit(11); return; // RESULT NONE
        }
    }
  }

  /** Pushes the value of condition `cc` (0 or 1). */
  condition(cc: number): void {
    const c = this.c;
    const k = this.known;
    if (!k) {
      this.beforeHelper();
      c.i32(cc).call(F.condition);
      return;
    }
    const signed = (local: number): void => {
      c.local(Op.LocalGet, local);
      if (k.size === 8) c.op(Op.I32Extend8S);
      else if (k.size === 16) c.op(Op.I32Extend16S);
    };
    const kind = k.kind;
    switch (cc & ~1) {
      case 0: this.flag(OF); break;
      case 2: this.flag(CF); break;
      case 4:
        if (kind === LAZY_SUB) c.local(Op.LocalGet, FLAG_DST).local(Op.LocalGet, FLAG_SRC).op(Op.I32Eq);
        else this.flag(ZF);
        break;
      case 6:
        if (kind === LAZY_SUB) c.local(Op.LocalGet, FLAG_DST).local(Op.LocalGet, FLAG_SRC).op(Op.I32LeU);
        else if (kind === LAZY_LOGIC) this.flag(ZF);
        else { this.flag(CF); this.flag(ZF); c.op(Op.I32Or); }
        break;
      case 8: this.flag(SF); break;
      case 10: this.flag(PF); break;
      case 12: // SF != OF: the sign of the exact result
        if (kind === LAZY_SUB) { signed(FLAG_DST); signed(FLAG_SRC); c.op(Op.I32LtS); }
        else if (kind === LAZY_DEC) { signed(FLAG_DST); c.i32(1).op(Op.I32LtS); }   // dst - 1 < 0
        else if (kind === LAZY_INC) { signed(FLAG_DST); c.i32(-1).op(Op.I32LtS); }  // dst + 1 < 0
        else if (kind === LAZY_LOGIC) this.flag(SF);
        else { this.flag(SF); this.flag(OF); c.op(Op.I32Xor); }
        break;
      default: // 14: ZF or SF != OF
        if (kind === LAZY_SUB) { signed(FLAG_DST); signed(FLAG_SRC); c.op(Op.I32LeS); }
        else if (kind === LAZY_DEC) { signed(FLAG_DST); c.i32(2).op(Op.I32LtS); }   // dst - 1 <= 0
        else if (kind === LAZY_INC) { signed(FLAG_DST); c.i32(0).op(Op.I32LtS); }   // dst + 1 <= 0
        else if (kind === LAZY_LOGIC) { signed(FLAG_RES); c.i32(0).op(Op.I32LeS); }
        else { this.flag(ZF); this.flag(SF); this.flag(OF); c.op(Op.I32Xor, Op.I32Or); }
        break;
    }
    if (cc & 1) c.op(Op.I32Eqz);
  }

  /** Pushes CF (0 or 1), for ADC and SBB. */
  carry(): void {
    if (this.known) { this.flag(CF); return; }
    this.beforeHelper();
    this.c.call(F.carry);
  }

  /** INC and DEC keep CF: pins its current value in `stored`, as alu.ts pinCarry() does. */
  pinCarry(): void {
    const c = this.c;
    const k = this.known;
    if (!k) {
      this.unpinned = true; // pinned when something looks (flushFlags())
      return;
    }
    // INC DEC RESULT NONE: CF is in `stored` already (or, unpinned, still where it was).
    if (k.kind !== LAZY_ADD && k.kind !== LAZY_SUB && k.kind !== LAZY_SBB && k.kind !== LAZY_LOGIC) return;
    c.global(Op.GlobalGet, G.stored).i32(~CF).op(Op.I32And);
    if (k.kind !== LAZY_LOGIC) { this.flag(CF); c.op(Op.I32Or); }
    c.global(Op.GlobalSet, G.stored);
  }

  /**
   * setResultFlags(32, R, cf, of) (flags.ts): CF from local `cf`, OF pushed
   * by `of` (null: clear), AF clear; ZF SF PF from R under LAZY_RESULT.
   */
  resultFlags(cf: number, of: (() => void) | null): void {
    const c = this.c;
    c.global(Op.GlobalGet, G.stored).i32(~ARITH_FLAGS).op(Op.I32And).local(Op.LocalGet, cf).op(Op.I32Or);
    if (of) { of(); c.i32(11).op(Op.I32Shl, Op.I32Or); }
    c.global(Op.GlobalSet, G.stored);
    c.local(Op.LocalGet, R).local(Op.LocalSet, FLAG_RES);
    this.known = { kind: LAZY_RESULT, size: 32, carryIn: false };
    this.pending = true;
    this.unpinned = false;
  }

  /**
   * A rotate: all flags made concrete in `stored` (materialize()), then CF
   * from local `cf` and OF pushed by `of` (setRotateFlags in shift.ts).
   */
  rotateFlags(cf: number, of: () => void): void {
    const c = this.c;
    if (!this.known) {
      this.beforeHelper();
      c.call(F.materialize);
      this.flagsUnknown();
      this.known = { kind: LAZY_NONE, size: 32, carryIn: false };
      this.globalOp = LAZY_NONE;
    }
    const k = this.known;
    c.global(Op.GlobalGet, G.stored);
    if (k.kind === LAZY_NONE) {
      c.i32(~(CF | OF)).op(Op.I32And);
    } else {
      // getEflags() without CF and OF, which the rotate sets.
      const afStored = k.kind === LAZY_RESULT;
      c.i32(~(afStored ? ARITH_FLAGS & ~AF : ARITH_FLAGS)).op(Op.I32And);
      this.flag(PF); c.i32(2).op(Op.I32Shl, Op.I32Or);
      if (k.kind !== LAZY_LOGIC && !afStored) { // AF: (dst ^ src ^ res) & 0x10
        c.local(Op.LocalGet, FLAG_DST);
        if (k.kind === LAZY_INC || k.kind === LAZY_DEC) c.i32(1); else c.local(Op.LocalGet, FLAG_SRC);
        c.op(Op.I32Xor).local(Op.LocalGet, FLAG_RES).op(Op.I32Xor).i32(AF).op(Op.I32And, Op.I32Or);
      }
      this.flag(ZF); c.i32(6).op(Op.I32Shl, Op.I32Or);
      this.flag(SF); c.i32(7).op(Op.I32Shl, Op.I32Or);
    }
    c.local(Op.LocalGet, cf).op(Op.I32Or);
    of(); c.i32(11).op(Op.I32Shl, Op.I32Or);
    c.global(Op.GlobalSet, G.stored);
    this.known = { kind: LAZY_NONE, size: 32, carryIn: false };
    this.pending = true;
    this.unpinned = false;
  }

  /** A shift or rotate done by the core (jitShift): R from A by the count pushed by `count`. */
  shiftHelper(kind: number, size: Size, count: () => void): void {
    this.beforeHelper();
    this.c.i32(kind).i32(size).local(Op.LocalGet, A);
    count();
    this.c.call(F.shift).local(Op.LocalSet, R);
  }

  /** After shiftHelper() (once, outside any conditional code). */
  shiftHelperDone(): void {
    this.flagsUnknown();
  }

  // ---- leaving ----

  /**
   * Leaves for `target`, from code `depth` levels inside the block's body. A jump back to the block's own start goes round
   * again instead, as long as the run loop would just call the block again:
   * nothing needs its attention (a pending interrupt or fault, a trap) and
   * the budget covers the whole block. (Nothing in a block moves the fetch
   * window or evicts the block from the cache, and a write to its code has
   * left it already.)
   */
  jump(target: number, depth: number): void {
    const c = this.c;
    if (target === this.start) {
      this.flushRegisters();
      this.flushFlags();
      this.syncBudget();
      c.global(Op.GlobalGet, G.attention).op(Op.I32Eqz);
      c.global(Op.GlobalGet, G.budget).local(Op.LocalGet, LENGTH).op(Op.I32GeU, Op.I32And, Op.BrIf, depth);
      this.loops = true;
    }
    this.exit(target);
  }

  exit(next: number): void {
    this.emitLeaving();
    this.c.i32(next).global(Op.GlobalSet, G.eip).i32(1).global(Op.GlobalSet, G.blockBoundary).op(Op.Return);
  }

  /** EIP from local `local`, then leave. */
  exitTo(local: number): void {
    this.emitLeaving();
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
      if (withCarry) { this.carry(); c.op(wasmOp); }
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
    this.pendingFlags = { kind, size, carryIn: op === ALU_ADC };
    return op !== ALU_CMP;
  }

  pendingFlags: KnownFlags | null = null;

  /** Sets the flags computed by alu() (after the result is stored, so a faulting store changes none). */
  commitFlags(): void {
    const p = this.pendingFlags!;
    this.setFlags(p.kind, p.size, A, B, R, p.carryIn);
    this.pendingFlags = null;
  }
}

function translateInstruction(w: BlockWriter, insn: Instruction): boolean {
  const c = w.c;
  const op = insn.opcode;
  const next = insn.next;
  // Count it; where it restarts is recorded before anything that can fault.
  w.begin(insn.address);
  if (insn.mem && op !== 0x8d && op !== 0x0f1f) w.address(insn.mem);

  if (op < 0x40) { // ALU forms
    const aluOp = (op >> 3) & 7;
    const size: Size = op & 1 ? 32 : 8;
    switch (op & 7) {
      case 0: case 1:
        w.readRM(insn, size, aluOp !== ALU_CMP); c.local(Op.LocalSet, A);
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
    w.pinCarry();
    w.getReg(32, r); c.local(Op.LocalSet, A);
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
    c.local(Op.LocalGet, A);
    w.getReg(32, insn.reg);
    w.condition(op & 15);
    c.op(Op.Select).local(Op.LocalSet, R);
    w.setReg(32, insn.reg, R);
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
      // imulTruncated(32, A, B): CF = OF = the product does not fit.
      c.local(Op.LocalGet, A).op(Op.I64ExtendI32S).local(Op.LocalGet, B).op(Op.I64ExtendI32S, Op.I64Mul);
      c.local(Op.LocalTee, WIDE).op(Op.I32WrapI64).local(Op.LocalSet, R);
      c.local(Op.LocalGet, WIDE).local(Op.LocalGet, R).op(Op.I64ExtendI32S, Op.I64Ne).local(Op.LocalSet, T);
      w.setReg(32, insn.reg, R);
      w.resultFlags(T, () => { c.local(Op.LocalGet, T); });
      return false;
    }
    case 0x80: case 0x81: case 0x83: {
      const size: Size = op === 0x80 ? 8 : 32;
      w.readRM(insn, size, insn.reg !== ALU_CMP); c.local(Op.LocalSet, A);
      c.i32(insn.imm).local(Op.LocalSet, B);
      if (w.alu(insn.reg, size)) w.writeRM(insn, size, R);
      w.commitFlags();
      return false;
    }
    case 0x84: case 0x85: case 0xa8: case 0xa9: case 0xf6: case 0xf7: {
      const size: Size = op & 1 ? 32 : 8;
      if (op === 0xf6 || op === 0xf7) {
        w.readRM(insn, size, insn.reg === 3); c.local(Op.LocalSet, A); // NEG checks its destination writable
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
      const count = op === 0xd2 || op === 0xd3 ? -1 : (op <= 0xc1 ? insn.imm : 1) & 0x1f;
      if (count === 0) return false;
      w.getReg(size, insn.rmReg); c.local(Op.LocalSet, A);
      if (count > 0) { // by an immediate or by 1
        if (size === 32 && shiftInline(w, kind, count)) {
          w.setReg(32, insn.rmReg, R);
          return false;
        }
        w.shiftHelper(kind, size, () => { c.i32(count); });
        w.setReg(size, insn.rmReg, R);
      } else {
        // By CL: a count of 0 changes nothing (R stays A, the flags stay).
        // The flags written in the `if` are not known after it.
        w.getReg(8, ECX); c.i32(0x1f).op(Op.I32And).local(Op.LocalSet, B);
        c.local(Op.LocalGet, A).local(Op.LocalSet, R);
        w.flushFlags();
        c.local(Op.LocalGet, B).op(Op.If, VOID_BLOCK);
        if (size === 32 && shiftInline(w, kind, null)) w.flushFlags();
        else w.shiftHelper(kind, size, () => { c.local(Op.LocalGet, B); });
        c.op(Op.End);
        w.setReg(size, insn.rmReg, R);
      }
      w.shiftHelperDone();
      return false;
    }
    case 0xfe: case 0xff: {
      const size: Size = op === 0xfe ? 8 : 32;
      if (insn.reg <= 1) {
        w.readRM(insn, size, true); c.local(Op.LocalSet, A);
        w.pinCarry();
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
    case 0xe9: case 0xeb: {
      const target = (next + insn.imm) >>> 0;
      if (target !== w.start && w.canFollow(target)) {
        w.continueAt = target; // the block goes on there
        return true;
      }
      w.jump(target, 0);
      return true;
    }
    case 0xc2: case 0xc3:
      w.pop(A, op === 0xc2 ? insn.imm : 0);
      w.exitTo(A);
      return true;
    default:
      throw new Error(`translator: no code for opcode ${op.toString(16)}`);
  }
}

/**
 * A 32-bit register shifted or rotated, the result and flags computed
 * inline as shift.ts computes them: A holds the register, the count is the
 * constant `count` (1-31) or, null, local B (1-31 when this runs). False
 * for RCL and RCR (the core does those).
 */
function shiftInline(w: BlockWriter, kind: number, count: number | null): boolean {
  const c = w.c;
  const get = (local: number): Code => c.local(Op.LocalGet, local);
  // Pushes the count plus `plus`, or `from` minus the count.
  const countPlus = (plus: number): void => {
    if (count !== null) c.i32(count + plus);
    else { get(B); if (plus) c.i32(plus).op(Op.I32Add); }
  };
  const fromCount = (from: number): void => {
    if (count !== null) c.i32(from - count);
    else { c.i32(from); get(B); c.op(Op.I32Sub); }
  };
  // Bit `at` (pushed by `at`) of the local into T.
  const bit = (local: number, at: () => void): void => {
    get(local); at(); c.op(Op.I32ShrU).i32(1).op(Op.I32And).local(Op.LocalSet, T);
  };
  const constant = (v: number) => (): void => { c.i32(v); };
  switch (kind) {
    case ROL: case ROR:
      get(A); countPlus(0); c.op(kind === ROL ? Op.I32Rotl : Op.I32Rotr).local(Op.LocalSet, R);
      if (kind === ROL) { // CF = the bit rotated into bit 0; OF = CF ^ the new sign bit
        bit(R, constant(0));
        w.rotateFlags(T, () => { get(R).i32(31).op(Op.I32ShrU); get(T).op(Op.I32Xor); });
      } else { // CF = the new sign bit; OF = CF ^ bit 30
        bit(R, constant(31));
        w.rotateFlags(T, () => { get(R).i32(30).op(Op.I32ShrU).i32(1).op(Op.I32And); get(T).op(Op.I32Xor); });
      }
      break;
    case SHL: case 6: // SAL
      get(A); countPlus(0); c.op(Op.I32Shl).local(Op.LocalSet, R);
      bit(A, () => fromCount(32)); // the last bit shifted out
      w.resultFlags(T, () => { get(R).i32(31).op(Op.I32ShrU); get(T).op(Op.I32Xor); });
      break;
    case SHR:
      get(A); countPlus(0); c.op(Op.I32ShrU).local(Op.LocalSet, R);
      bit(A, () => countPlus(-1));
      w.resultFlags(T, () => { get(A).i32(31).op(Op.I32ShrU); });
      break;
    case SAR:
      get(A); countPlus(0); c.op(Op.I32ShrS).local(Op.LocalSet, R);
      bit(A, () => countPlus(-1));
      w.resultFlags(T, null);
      break;
    default:
      return false;
  }
  return true;
}

/**
 * A conditional branch leaves the block when taken; the block goes on with
 * the next instruction, unless the branch closes a loop back to the block's
 * start (the code after a loop stays out of the loop's function: measured
 * faster).
 */
function branch(w: BlockWriter, cc: number, target: number, next: number): boolean {
  w.flushRegisters();
  w.flushFlags();
  w.syncBudget();
  w.condition(cc);
  w.c.op(Op.If, VOID_BLOCK);
  w.jump(target >>> 0, 1);
  w.c.op(Op.End);
  if ((target >>> 0) !== w.start) return false;
  w.exit(next);
  return true;
}

/** A compiled block, kept so that a block evicted from the core's cache (by a
 * slot collision, or a write to its page that left its own bytes alone) comes
 * back without compiling again. */
interface CompiledBlock { index: number; code: [number, Uint8Array][]; length: number; last: number }

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
    if (known && known.code.every(([at, bytes]) => sameBytes(this.ram, at, bytes))) {
      this.core.installBlock(eip, known.index, known.length, physical, known.last);
      return true;
    }
    const delta = eip - physical;
    const pageStart = eip - (eip & 0xfff);
    const pageEnd = Math.min(pageStart + 0x1000, this.ram.length + delta);
    const w = new BlockWriter(this.core.regsPointer(), eip >>> 0);
    // The block follows unconditional jumps within its page to code it has
    // not been through yet; it is a trace of straight runs of code.
    const visited = new Set<number>();
    const runs: [number, number][] = [];
    let runStart = eip;
    w.canFollow = (target) => target >= pageStart && target < pageEnd && !visited.has(target);
    let at = eip;
    let count = 0;
    let ended = false;
    while (count < MAX_INSTRUCTIONS && !ended) {
      if (visited.has(at)) break;
      const insn = at < pageEnd ? decodeInstruction(this.ram, at, pageEnd, delta) : null;
      if (!insn) break;
      visited.add(at);
      w.wroteMemory = false;
      ended = translateInstruction(w, insn);
      if (w.wroteMemory && !ended) w.checkCodeModified(insn.next);
      count++;
      at = insn.next;
      if (w.continueAt !== null) {
        runs.push([runStart, at]);
        at = runStart = w.continueAt;
        w.continueAt = null;
        ended = false;
      }
    }
    runs.push([runStart, at]);
    if (count === 0) {
      this.core.installBlock(eip, this.core.untranslatable(), 0, physical, physical);
      return false;
    }
    if (!ended) {
      if (at === eip) w.jump(at, 0); // ran into its own start
      else w.exit(at);
    }
    const body = new Code();
    if (w.hasWrites) body.i32(0).global(Op.GlobalSet, G.codeModified);
    body.i32(count).local(Op.LocalSet, LENGTH);
    if (w.loops) body.op(Op.Loop, VOID_BLOCK);
    body.append(w.c);
    if (w.loops) body.op(Op.End);
    const module = new WebAssembly.Module(moduleBytes([...GLOBALS], FUNCTIONS, LOCALS, body, LOCALS64));
    const instance = new WebAssembly.Instance(module, this.imports);
    const index = known?.index ?? this.table.grow(1);
    this.table.set(index, instance.exports.block as () => void);
    const code = runs.filter(([from, to]) => to > from)
      .map(([from, to]): [number, Uint8Array] => [from - delta, this.ram.slice(from - delta, to - delta)]);
    const last = Math.max(...runs.map(([, to]) => to)) - delta - 1;
    this.compiled.set(key, { index, code, length: count, last });
    this.core.installBlock(eip, index, count, physical, last);
    this.blocksTranslated++;
    return true;
  }
}

function sameBytes(ram: Uint8Array, at: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (ram[at + i] !== bytes[i]) return false;
  return true;
}
