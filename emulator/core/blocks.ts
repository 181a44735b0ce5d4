// The translation cache: guest basic blocks that the host's translator
// (emulator/translator) compiled to wasm functions, found by their EIP and
// the physical address it maps to (with paging, one frame may be mapped at
// several linear addresses, and one linear address map different frames).
//
// The interpreter looks a block up only at block boundaries (after a jump,
// call, return or conditional branch, taken or not). A boundary EIP that is
// missed often enough is handed to the host to translate. A translated block
// runs straight through to its end, then the loop looks up the next one.
//
// A block is valid for the bytes it was translated from: a write to a
// physical page that holds translated code discards every block on that page
// and tells a running block to stop after the write (self-modifying code).

import { ramSize } from "./memory";

const SLOTS: u32 = 4096;
const BLOCK_EIP: usize = memory.data(SLOTS * 4);
const BLOCK_PHYSICAL: usize = memory.data(SLOTS * 4);
const BLOCK_FUNCTION: usize = memory.data(SLOTS * 4); // table index; 0: empty
const BLOCK_LENGTH: usize = memory.data(SLOTS * 4);   // instructions in the block
const BLOCK_HEAT: usize = memory.data(SLOTS * 4);     // misses since the last request

// A slot whose EIP cannot start a block (its first instruction is not
// translatable): the interpreter stops asking for it.
export const UNTRANSLATABLE: u32 = 0xFFFFFFFF;
const TRANSLATE_AFTER: u32 = 32;

// One byte per physical page: does it hold translated code?
export let codePages: usize = 0;
// Set when a write hit a page with translated code; a running block checks
// it after each of its writes and leaves.
export let codeModified: bool = false;
// The EIP the host is asked to translate when run() returns STOP_TRANSLATE,
// and its physical address.
export let translateRequest: u32 = 0;
export let translateRequestPhysical: u32 = 0;
export let translationEnabled: bool = false;

export function allocateCodePages(base: usize): void {
  codePages = base;
}

export function enableTranslation(on: bool): void {
  translationEnabled = on;
}

@inline function slotOf(eip: u32): usize {
  return <usize>((eip ^ (eip >>> 12)) & (SLOTS - 1)) << 2;
}

export const LOOKUP_MISS: u32 = 0;
export const LOOKUP_TRANSLATE: u32 = 1; // table indices of blocks are larger

// The block to run at `eip`: its table index, LOOKUP_MISS, UNTRANSLATABLE,
// or LOOKUP_TRANSLATE when it has missed often enough to be worth asking
// the host to translate it now.
export function lookupBlock(eip: u32, physical: u32): u32 {
  const slot = slotOf(eip);
  const fn = load<u32>(BLOCK_FUNCTION + slot);
  if (fn != 0 && load<u32>(BLOCK_EIP + slot) == eip && load<u32>(BLOCK_PHYSICAL + slot) == physical) return fn;
  const heat = load<u32>(BLOCK_HEAT + slot) + 1;
  if (heat < TRANSLATE_AFTER) {
    store<u32>(BLOCK_HEAT + slot, heat);
    return LOOKUP_MISS;
  }
  store<u32>(BLOCK_HEAT + slot, 0);
  translateRequest = eip;
  translateRequestPhysical = physical;
  return LOOKUP_TRANSLATE;
}

@inline export function blockLength(eip: u32): u32 {
  return load<u32>(BLOCK_LENGTH + slotOf(eip));
}

// Installs a translated block (or marks `eip` untranslatable) covering the
// physical bytes [first, last], where `first` is the physical address of `eip`.
export function installBlock(eip: u32, fn: u32, length: u32, first: u32, last: u32): void {
  const slot = slotOf(eip);
  store<u32>(BLOCK_EIP + slot, eip);
  store<u32>(BLOCK_PHYSICAL + slot, first);
  store<u32>(BLOCK_FUNCTION + slot, fn);
  store<u32>(BLOCK_LENGTH + slot, length);
  if (fn == UNTRANSLATABLE) return;
  for (let page = first >>> 12; page <= last >>> 12; page++) {
    if (page < (ramSize >>> 12)) store<u8>(codePages + page, 1);
  }
}

// A write to physical address `p` (already known to be in RAM).
@inline export function noteWrite(p: u32): void {
  if (load<u8>(codePages + (p >>> 12)) != 0) discardPage(p >>> 12);
}

function discardPage(page: u32): void {
  store<u8>(codePages + page, 0);
  for (let slot: usize = 0; slot < <usize>SLOTS << 2; slot += 4) {
    if (load<u32>(BLOCK_FUNCTION + slot) != 0 && (load<u32>(BLOCK_PHYSICAL + slot) >>> 12) == page) {
      store<u32>(BLOCK_FUNCTION + slot, 0);
    }
  }
  codeModified = true;
}

// Forgets every translation (the host changed memory behind the CPU's back).
export function discardAllBlocks(): void {
  memory.fill(BLOCK_FUNCTION, 0, <usize>SLOTS << 2);
  if (codePages != 0) memory.fill(codePages, 0, (<usize>ramSize + 0xFFF) >>> 12);
}

export function clearCodeModified(): void {
  codeModified = false;
}
