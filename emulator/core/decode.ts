// Instruction fetch and operand decode: prefixes, ModRM, SIB, displacements,
// immediates, and the effective address of a memory operand.
//
// Fetch reads through a window onto the current code page: while EIP stays in
// the page, a byte is one bounds check and one load. Leaving the page (or a
// change of CS, CR0, CR3) refills the window through translate().

import { ramBase, ramSize, translate, ACCESS_FETCH, read8 } from "./memory";
import {
  eip, reg32, reg16, segBase, code32, instructionStart,
  EBX, EBP, ESI, EDI, ESP, CS, DS, SS,
} from "./state";
import { raise, GP } from "./exceptions";

// EIP range [fetchLo, fetchLo + fetchLen) maps to wasm memory at EIP + fetchDelta.
export let fetchLo: u32 = 1;
export let fetchLen: u32 = 0;
export let fetchDelta: usize = 0;

export function invalidateFetch(): void {
  fetchLen = 0;
}

function refillFetch(e: u32): void {
  const linear = segBase(CS) + e;
  const physical = translate(linear, ACCESS_FETCH);
  const pageOffset = linear & 0xFFF;
  if (physical - pageOffset >= ramSize || physical >= ramSize) {
    fetchLen = 0; // outside RAM: byte-at-a-time slow path
    return;
  }
  fetchLo = e - pageOffset;
  fetchLen = 0x1000;
  fetchDelta = ramBase + <usize>(physical - pageOffset) - <usize>fetchLo;
}

// The physical address of EIP `e` if the fetch window covers it (the
// translation cache keys blocks by it), else 0xFFFFFFFF.
export function fetchPhysical(e: u32): u32 {
  if (e - fetchLo >= fetchLen) return 0xFFFFFFFF;
  return <u32>(<usize>e + fetchDelta - ramBase);
}

@inline export function fetch8(): u32 {
  const e = eip;
  if (e - fetchLo < fetchLen) {
    eip = e + 1;
    return load<u8>(<usize>e + fetchDelta);
  }
  return fetch8Slow();
}

// Fetch from a new code page: refill the window (or read outside RAM).
function fetch8Slow(): u32 {
  const e = eip;
  if (lengthLimited && e - instructionStart >= 15) raise(GP, 0);
  refillFetch(e);
  if (lengthLimited) clampFetchWindow();
  eip = e + 1;
  if (fetchLen == 0) return read8(segBase(CS) + e);
  return load<u8>(<usize>e + fetchDelta);
}

export function fetch16(): u32 {
  const e = eip;
  const off = e - fetchLo;
  if (off < fetchLen && fetchLen - off >= 2) {
    eip = e + 2;
    return load<u16>(<usize>e + fetchDelta);
  }
  const lo = fetch8();
  return lo | (fetch8() << 8);
}

export function fetch32(): u32 {
  const e = eip;
  const off = e - fetchLo;
  if (off < fetchLen && fetchLen - off >= 4) {
    eip = e + 4;
    return load<u32>(<usize>e + fetchDelta);
  }
  const lo = fetch16();
  return lo | (fetch16() << 16);
}

@inline export function fetchImm(size: i32): u32 {
  if (size == 32) return fetch32();
  if (size == 16) return fetch16();
  return fetch8();
}

// ---- per-instruction decode state ----

// The opcode byte being executed (handlers shared by several opcodes read it).
export let opcode: u32 = 0;

export let operandSize: i32 = 32; // 16 or 32
export let addressSize: i32 = 32;
export let segmentOverride: i32 = -1;
export let repPrefix: i32 = 0;     // 0, 0xF2 (REPNE) or 0xF3 (REP/REPE)
export let lockPrefix: bool = false;

export function resetPrefixes(): void {
  operandSize = code32 ? 32 : 16;
  addressSize = code32 ? 32 : 16;
  segmentOverride = -1;
  repPrefix = 0;
  lockPrefix = false;
}

export function setOperandSizePrefix(): void { operandSize = code32 ? 16 : 32; }
export function setAddressSizePrefix(): void { addressSize = code32 ? 16 : 32; }
export function setSegmentOverride(s: i32): void { segmentOverride = s; }
export function setRepPrefix(p: i32): void { repPrefix = p; }
export function setLockPrefix(): void { lockPrefix = true; }

// An instruction may be at most 15 bytes long: #GP(0) when decoding needs a
// 16th byte. Only an instruction with prefixes can get there (the longest
// unprefixed form has 12 bytes), so a prefix narrows the fetch window to
// the instruction's 15 bytes: the fast path stays one compare, and fetching
// past the limit lands in fetch8Slow, which raises the fault.
let lengthLimited: bool = false;

function clampFetchWindow(): void {
  const end = instructionStart + 15;
  if (end - fetchLo < fetchLen) fetchLen = end - fetchLo;
}

export function limitLength(): void {
  if (lengthLimited) return;
  lengthLimited = true;
  clampFetchWindow();
}

// After a prefixed instruction (completed or faulted): the full window again.
export function endLengthLimit(): void {
  if (!lengthLimited) return;
  lengthLimited = false;
  invalidateFetch();
}

// ---- ModRM ----

export let modrm: u32 = 0;
export let modrmReg: i32 = 0;   // the reg field: a register or an opcode extension
export let modrmRm: i32 = 0;
export let modrmIsReg: bool = false;
export let effectiveOffset: u32 = 0; // offset within the segment
export let effectiveSegment: i32 = DS;
let espIsBase: bool = false;

// Fetches ModRM, SIB and displacement and computes the effective address.
@inline export function decodeModrm(): void {
  const m = fetch8();
  modrm = m;
  modrmReg = <i32>((m >> 3) & 7);
  modrmRm = <i32>(m & 7);
  modrmIsReg = m >= 0xC0;
  if (m < 0xC0) decodeMemoryOperand(m);
}

function decodeMemoryOperand(m: u32): void {
  const mod = m >> 6;
  espIsBase = false;
  if (addressSize == 32) decodeAddress32(mod, <i32>(m & 7));
  else decodeAddress16(mod, <i32>(m & 7));
  if (segmentOverride >= 0) effectiveSegment = segmentOverride;
}

function decodeAddress32(mod: u32, rm: i32): void {
  let seg = DS;
  let offset: u32;
  if (rm == 4) {
    const sib = fetch8();
    const base = <i32>(sib & 7);
    const index = <i32>((sib >> 3) & 7);
    const scale = sib >> 6;
    if (base == 5 && mod == 0) {
      offset = fetch32();
    } else {
      offset = reg32(base);
      if (base == ESP || base == EBP) seg = SS;
      espIsBase = base == ESP;
    }
    if (index != 4) offset += reg32(index) << scale;
  } else if (rm == 5 && mod == 0) {
    offset = fetch32();
  } else {
    offset = reg32(rm);
    if (rm == EBP) seg = SS;
  }
  if (mod == 1) offset += <u32><i32><i8>fetch8();
  else if (mod == 2) offset += fetch32();
  effectiveOffset = offset;
  effectiveSegment = seg;
}

function decodeAddress16(mod: u32, rm: i32): void {
  let seg = DS;
  let offset: u32;
  switch (rm) {
    case 0: offset = reg16(EBX) + reg16(ESI); break;
    case 1: offset = reg16(EBX) + reg16(EDI); break;
    case 2: offset = reg16(EBP) + reg16(ESI); seg = SS; break;
    case 3: offset = reg16(EBP) + reg16(EDI); seg = SS; break;
    case 4: offset = reg16(ESI); break;
    case 5: offset = reg16(EDI); break;
    case 6:
      if (mod == 0) { offset = fetch16(); }
      else { offset = reg16(EBP); seg = SS; }
      break;
    default: offset = reg16(EBX); break;
  }
  if (mod == 1) offset += <u32><i32><i8>fetch8();
  else if (mod == 2) offset += fetch16();
  effectiveOffset = offset & 0xFFFF;
  effectiveSegment = seg;
}

// POP r/m computes an ESP-based address with ESP already incremented.
export function decodeModrmAfterPop(bytes: u32): void {
  decodeModrm();
  if (!modrmIsReg && espIsBase) effectiveOffset += bytes;
}

// Segment for implicit DS accesses (string source, XLAT, moffs).
@inline export function dataSegment(): i32 {
  return segmentOverride >= 0 ? segmentOverride : DS;
}
