// Exceptions. An instruction that faults must leave no architectural change
// behind, so instructions do all their reads and checks before their first
// write, and a fault abandons the instruction at once: raise() records the
// vector and traps out of wasm. The host catches the trap, calls
// abortInstruction() to rewind EIP to the faulting instruction, and (in this
// stage of the project) reports the exception instead of delivering it.

import { eip, instructionStart, pageFaultPending } from "./state";
import { rewindPageFault } from "./restart";

export const DE = 0, DB = 1, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
  TS = 10, NP = 11, SS_FAULT = 12, GP = 13, PF = 14;

export const NO_ERROR_CODE: i32 = -1;

export let pendingVector: i32 = -1;
export let pendingErrorCode: i32 = NO_ERROR_CODE;
// Traps (INT n, INT3, INTO) report the address after the instruction.
export let pendingIsTrap: bool = false;

// Faults report the address of the faulting instruction; traps (INT3, INTO)
// the address of the next one. raise() is for faults.
export function raise(vector: i32, errorCode: i32 = NO_ERROR_CODE): void {
  // The rest of an instruction whose access faulted ran on garbage and
  // tripped a check: the page fault is what happened.
  if (pageFaultPending) {
    errorCode = <i32>rewindPageFault();
    vector = PF;
  }
  pendingVector = vector;
  pendingErrorCode = errorCode;
  pendingIsTrap = false;
  unreachable();
}

// A software interrupt: the instruction has completed.
export function raiseTrap(vector: i32): void {
  pendingVector = vector;
  pendingErrorCode = NO_ERROR_CODE;
  pendingIsTrap = true;
  unreachable();
}

// Called by the host after a trap out of the core: a fault rewinds EIP to
// the faulting instruction.
export function abortInstruction(): void {
  if (!pendingIsTrap) eip = instructionStart;
}

// A page fault the run loop takes (restart.ts): pending like a raised fault.
export function setPendingFault(vector: i32, errorCode: i32): void {
  pendingVector = vector;
  pendingErrorCode = errorCode;
  pendingIsTrap = false;
}

export function clearPending(): void {
  pendingVector = -1;
  pendingErrorCode = NO_ERROR_CODE;
  pendingIsTrap = false;
}
