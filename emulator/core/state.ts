// Architectural state of the CPU: what a register dump shows.
// General registers live in linear memory so an instruction can index them by
// their ModRM encoding; byte registers AH..BH are byte 1 of EAX..EBX.

export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

import { debugAttention } from "./debug";

export const REGS: usize = memory.data(32);

// Segment registers: the visible selector and the hidden descriptor cache.
export const SEG_SELECTOR: usize = memory.data(6 * 4);
export const SEG_BASE: usize = memory.data(6 * 4);
export const SEG_LIMIT: usize = memory.data(6 * 4);
export const SEG_ACCESS: usize = memory.data(6 * 4); // descriptor bytes 5 and 6 (type, S, DPL, P, AVL, D/B, G)

export let eip: u32 = 0;
// EIP of the instruction being executed: where a fault restarts it.
export let instructionStart: u32 = 0;
export let cpl: i32 = 0;

// CS.D and SS.B: default operand/address size and stack width.
export let code32: bool = true;
export let stack32: bool = true;

export let cr0: u32 = 0x00000011; // PE off at reset; ET set (i387-era bit, hardwired on i686)
export let cr2: u32 = 0;
export let cr3: u32 = 0;
export let cr4: u32 = 0;

export let gdtBase: u32 = 0, gdtLimit: u32 = 0xFFFF;
export let idtBase: u32 = 0, idtLimit: u32 = 0x3FF;
// LDTR and TR: selector and hidden base/limit.
export let ldtSelector: u32 = 0, ldtBase: u32 = 0, ldtLimit: u32 = 0;
export let trSelector: u32 = 0, trBase: u32 = 0, trLimit: u32 = 0;

// Executed instructions (an iteration of a REP string instruction counts as
// one) up to the start of the current run; see executedInstructions().
export let countAtRunStart: u64 = 0;

@inline export function reg32(r: i32): u32 {
  return load<u32>(REGS + (<usize>r << 2));
}
@inline export function setReg32(r: i32, v: u32): void {
  store<u32>(REGS + (<usize>r << 2), v);
}
@inline export function reg16(r: i32): u32 {
  return load<u16>(REGS + (<usize>r << 2));
}
@inline export function setReg16(r: i32, v: u32): void {
  store<u16>(REGS + (<usize>r << 2), <u16>v);
}
@inline function byteRegAddr(r: i32): usize {
  return REGS + (<usize>(r & 3) << 2) + (<usize>r >> 2);
}
@inline export function reg8(r: i32): u32 {
  return load<u8>(byteRegAddr(r));
}
@inline export function setReg8(r: i32, v: u32): void {
  store<u8>(byteRegAddr(r), <u8>v);
}

// Register access by operand size in bits (8, 16, 32); folds away when size is constant.
@inline export function getReg(size: i32, r: i32): u32 {
  if (size == 32) return reg32(r);
  if (size == 16) return reg16(r);
  return reg8(r);
}
@inline export function setReg(size: i32, r: i32, v: u32): void {
  if (size == 32) setReg32(r, v);
  else if (size == 16) setReg16(r, v);
  else setReg8(r, v);
}

@inline export function sizeMask(size: i32): u32 {
  return size == 32 ? 0xFFFFFFFF : (size == 16 ? 0xFFFF : 0xFF);
}
@inline export function signBit(size: i32): u32 {
  return size == 32 ? 0x80000000 : (size == 16 ? 0x8000 : 0x80);
}
// Sign-extends the low `size` bits of v to 32 bits.
@inline export function signExtend(size: i32, v: u32): u32 {
  if (size == 32) return v;
  if (size == 16) return <u32><i32><i16>v;
  return <u32><i32><i8>v;
}

@inline export function segBase(s: i32): u32 {
  return load<u32>(SEG_BASE + (<usize>s << 2));
}
@inline export function segSelector(s: i32): u32 {
  return load<u32>(SEG_SELECTOR + (<usize>s << 2));
}

// The run loop's budget of instructions still to execute, and the host's
// request to stop after the current instruction.
// The run loop counts instructions down in `budget`, so the count of
// executed instructions is derived from it rather than kept per instruction.
export let budget: u32 = 0;
export let budgetAtRunStart: u32 = 0;
export let stopRequested: bool = false;
// Set by every jump, call, return and conditional branch: the next
// instruction may start a translated block.
export let blockBoundary: bool = true;
// Set by HLT (with stopRequested): the CPU waits for an interrupt. It stays
// set across runs until an interrupt is delivered or the host moves EIP.
export let halted: bool = false;

// ---- what the run loop must look at between instructions ----

// The INTR input (the interrupt controller's output).
export let interruptLine: bool = false;
// Instructions left in an interrupt shadow (after STI, MOV SS, POP SS):
// no external interrupt (nor single-step trap after MOV SS) until it ends.
export let interruptShadow: i32 = 0;
// EFLAGS.TF as last written.
export let trapFlag: bool = false;
// A page fault recorded but not yet delivered (restart.ts).
export let pageFaultPending: bool = false;
// Any of the above, or breakpoints set (debug.ts): one test per instruction
// for the rare paths.
export let attention: bool = false;

export function updateAttention(): void {
  attention = interruptLine || interruptShadow > 0 || trapFlag || pageFaultPending || debugAttention;
}
export function setInterruptLine(level: bool): void {
  interruptLine = level;
  updateAttention();
}
export function startInterruptShadow(): void {
  interruptShadow = 1;
  updateAttention();
}
export function noteTrapFlag(tf: bool): void {
  trapFlag = tf;
  updateAttention();
}

// Ends the run after the current instruction: the budget drops to zero (so
// the run loop needs no second check per instruction) and the count of
// executed instructions is kept.
export function requestStop(): void {
  countAtRunStart = executedInstructions();
  budgetAtRunStart = 0;
  budget = 0;
  stopRequested = true;
}

// Ends the run after the current instruction as requestStop() does, for a
// debugger stop (debug.ts): not a stop the host asked for.
export function suspendBudget(): void {
  countAtRunStart = executedInstructions();
  budgetAtRunStart = 0;
  budget = 0;
}

export function startBudget(n: u32): void {
  countAtRunStart = executedInstructions();
  budget = n;
  budgetAtRunStart = n;
}

// Cycles the CPU spent halted, as the machine's clock advanced without it:
// RDTSC counts them with the executed instructions (one cycle each).
export let idleCycles: u64 = 0;

// Instructions executed when the CPU first entered ring 3 (0: not yet): an
// OS's boot time to its first user instruction, for the host to report.
export let firstUserModeAt: u64 = 0;

export function executedInstructions(): u64 {
  return countAtRunStart + <u64>(budgetAtRunStart - budget);
}

@inline export function consumeBudget(): void {
  budget--;
}
