// 32-bit paging (Intel SDM vol. 3, chapter 4.3): the page walk, the rights
// of a translation, the Accessed and Dirty bits, and #PF.
//
// A linear address splits 10/10/12: the directory index picks a PDE in the
// page directory at CR3, the table index a PTE in the page table the PDE
// names, and the offset a byte in the 4 KiB frame the PTE names. With
// CR4.PSE a PDE with PS set maps a 4 MiB page itself. The rights of a
// translation combine every entry on the way: a user access needs U/S set
// in both, a write needs R/W set in both when it comes from user mode or
// CR0.WP is set. Supervisor accesses may touch user pages.
//
// The walker sets Accessed in the PDE as soon as it uses it to reach a page
// table, before it looks at the PTE, and Accessed (and Dirty, for a write)
// in the entry that maps the page only when the access is allowed; that is
// the order QEMU follows and the SDM allows. A write through a TLB entry
// that was filled by a read (so D was clear) walks again to set D.

import { cr0, cr3, cr4, cr2 } from "./state";
import { physRead32, physWrite32, setPagingEnabled, pagingEnabled, ACCESS_WRITE, ACCESS_FETCH } from "./memory";
import { invalidateFetch } from "./decode";
import {
  find, fill, forget, entryFlags, entryFrame, noteHit, noteMiss, noteWalk, noteAccessedDirty, notePageFault,
  fastInsert, flushAll, flushPage, FAST_USER, FAST_WRITE,
  TLB_CODE_4K, TLB_DATA_4K, ENTRY_USER, ENTRY_WRITABLE, ENTRY_DIRTY, ENTRY_GLOBAL,
} from "./tlb";
import { recordPageFault } from "./restart";
import { pageFaultPending } from "./state";
import { recording, recordReference } from "./refs";

export const PTE_PRESENT: u32 = 1, PTE_WRITABLE: u32 = 2, PTE_USER: u32 = 4, PTE_ACCESSED: u32 = 0x20,
  PTE_DIRTY: u32 = 0x40, PDE_LARGE: u32 = 0x80, PTE_GLOBAL: u32 = 0x100;
// PDE bits 21:13 of a 4 MiB page are reserved on a CPU without PSE-36.
const LARGE_RESERVED: u32 = 0x003FE000;

// #PF error code bits.
export const PF_PROTECTION: u32 = 1, PF_WRITE: u32 = 2, PF_USER: u32 = 4, PF_RESERVED: u32 = 8;

export const CR0_WP: u32 = 1 << 16;
export const CR4_PSE: u32 = 1 << 4, CR4_PGE: u32 = 1 << 7;

// Where an access that faulted goes: outside RAM, so it reads all-ones and
// writes nothing (restart.ts).
export const FAULT_SINK: u32 = 0xFFFFF000;

// May an access with these rights (ENTRY_USER, ENTRY_WRITABLE) go ahead?
@inline function permits(rights: u32, write: bool, user: bool): bool {
  if (user && (rights & ENTRY_USER) == 0) return false;
  if (write && (rights & ENTRY_WRITABLE) == 0 && (user || (cr0 & CR0_WP) != 0)) return false;
  return true;
}

@inline function rightsOf(entry: u32): u32 {
  return ((entry & PTE_USER) != 0 ? ENTRY_USER : 0) | ((entry & PTE_WRITABLE) != 0 ? ENTRY_WRITABLE : 0);
}

@inline function errorCode(write: bool, user: bool): u32 {
  return (write ? PF_WRITE : 0) | (user ? PF_USER : 0);
}

// User pages lie below this linear address (the Atlas kernel's higher half
// starts there); only they go into a recorded reference string.
const USER_LIMIT: u32 = 0xC0000000;

// The translation of `linear` for an access that missed the fast tables:
// the TLB, else a walk. A fault is recorded (restart.ts) and the access
// goes to FAULT_SINK. While the reference string is being recorded
// (refs.ts), every user-mode access comes here and the successful ones are
// recorded.
export function translateSlow(linear: u32, access: i32, user: bool): u32 {
  if (!pagingEnabled) return linear; // paging off, watchpoints armed (debug.ts)
  const physical = lookupOrWalk(linear, access, user);
  if (recording && user && linear < USER_LIMIT && !pageFaultPending) recordReference(linear);
  return physical;
}

@inline function lookupOrWalk(linear: u32, access: i32, user: bool): u32 {
  if (pageFaultPending) return FAULT_SINK | (linear & 0xFFF);
  const write = access == ACCESS_WRITE;
  const small = access == ACCESS_FETCH ? TLB_CODE_4K : TLB_DATA_4K;
  let tlb = small;
  let index = find(small, linear);
  // (Without CR4.PSE there are no 4 MiB entries: changing PSE flushes.)
  if (index < 0 && (cr4 & CR4_PSE) != 0) { tlb = small + 1; index = find(tlb, linear); }
  if (index < 0) {
    noteMiss();
    return walk(linear, write, small, user);
  }
  noteHit();
  const flags = entryFlags(tlb, <u32>index);
  if (!permits(flags, write, user)) {
    // The cached rights deny it: #PF, which also drops the entry (SDM 4.10.4.1).
    forget(tlb, <u32>index);
    return fault(linear, PF_PROTECTION | errorCode(write, user));
  }
  if (write && (flags & ENTRY_DIRTY) == 0) {
    // The D-bit assist: walk again and cache the result afresh.
    forget(tlb, <u32>index);
    return walk(linear, write, small, user);
  }
  const offsetMask: u32 = tlb == small ? 0xFFF : 0x3FFFFF;
  const physical = entryFrame(tlb, <u32>index) | (linear & offsetMask);
  if (small == TLB_DATA_4K) fastFill(linear, physical, flags, user);
  return physical;
}

// Lets the inline path find this page next time, for the accesses its
// rights allow.
function fastFill(linear: u32, physical: u32, flags: u32, user: bool): void {
  const table: usize = user ? FAST_USER : 0;
  fastInsert(table, linear, physical);
  if ((flags & ENTRY_DIRTY) != 0 && permits(flags, true, user)) fastInsert(table | FAST_WRITE, linear, physical);
}

function fault(linear: u32, code: u32): u32 {
  cr2 = linear;
  notePageFault();
  recordPageFault(code);
  return FAULT_SINK | (linear & 0xFFF);
}

// Sets `bits` in the paging-structure entry at `address` (read as `entry`)
// if they are not all set yet.
function setBits(address: u32, entry: u32, bits: u32): void {
  if ((entry & bits) == bits) return;
  physWrite32(address, entry | bits);
  noteAccessedDirty();
}

@inline function directoryEntryAddress(directory: u32, linear: u32): u32 {
  return (directory & 0xFFFFF000) + ((linear >>> 22) << 2);
}
@inline function tableEntryAddress(pde: u32, linear: u32): u32 {
  return (pde & 0xFFFFF000) + (((linear >>> 12) & 0x3FF) << 2);
}
@inline function largePagesOn(pde: u32): bool {
  return (pde & PDE_LARGE) != 0 && (cr4 & CR4_PSE) != 0;
}
@inline function globalFlag(entry: u32): u32 {
  return (entry & PTE_GLOBAL) != 0 && (cr4 & CR4_PGE) != 0 ? ENTRY_GLOBAL : 0;
}

function walk(linear: u32, write: bool, small: i32, user: bool): u32 {
  noteWalk();
  const pdeAddress = directoryEntryAddress(cr3, linear);
  const pde = physRead32(pdeAddress);
  if ((pde & PTE_PRESENT) == 0) return fault(linear, errorCode(write, user));
  const dirtyBit: u32 = write ? PTE_DIRTY : 0;
  if (largePagesOn(pde)) {
    if ((pde & LARGE_RESERVED) != 0) return fault(linear, PF_PROTECTION | PF_RESERVED | errorCode(write, user));
    const rights = rightsOf(pde);
    if (!permits(rights, write, user)) return fault(linear, PF_PROTECTION | errorCode(write, user));
    setBits(pdeAddress, pde, PTE_ACCESSED | dirtyBit);
    const frame = pde & 0xFFC00000;
    const dirty = write || (pde & PTE_DIRTY) != 0 ? ENTRY_DIRTY : 0;
    const flags = rights | dirty | globalFlag(pde);
    fill(small + 1, linear, frame, flags);
    const physical = frame | (linear & 0x3FFFFF);
    if (small == TLB_DATA_4K) fastFill(linear, physical, flags, user);
    return physical;
  }
  setBits(pdeAddress, pde, PTE_ACCESSED);
  const pteAddress = tableEntryAddress(pde, linear);
  const pte = physRead32(pteAddress);
  if ((pte & PTE_PRESENT) == 0) return fault(linear, errorCode(write, user));
  const rights = rightsOf(pde & pte);
  if (!permits(rights, write, user)) return fault(linear, PF_PROTECTION | errorCode(write, user));
  setBits(pteAddress, pte, PTE_ACCESSED | dirtyBit);
  const frame = pte & 0xFFFFF000;
  const flags = rights | (write || (pte & PTE_DIRTY) != 0 ? ENTRY_DIRTY : 0) | globalFlag(pte);
  fill(small, linear, frame, flags);
  const physical = frame | (linear & 0xFFF);
  if (small == TLB_DATA_4K) fastFill(linear, physical, flags, user);
  return physical;
}

// ---- the host's view: a walk with no side effects ----

// Filled by probeWalk: PDE address and value, PTE address and value (0 for
// a 4 MiB page or when the walk stopped at the PDE), the physical address,
// the #PF error code the access would raise (-1: none), and 1 for a 4 MiB
// page.
export const PROBE: usize = memory.data(7 * 4);

// Walks `linear` under `directory` as an access of `access` kind from user
// or supervisor mode would, under the current CR0.WP and CR4, without
// setting A/D bits, touching the TLB, or faulting.
export function probeWalk(directory: u32, linear: u32, access: i32, user: bool): void {
  const write = access == ACCESS_WRITE;
  const pdeAddress = directoryEntryAddress(directory, linear);
  const pde = physRead32(pdeAddress);
  store<u32>(PROBE, pdeAddress);
  store<u32>(PROBE + 4, pde);
  store<u32>(PROBE + 8, 0);
  store<u32>(PROBE + 12, 0);
  store<u32>(PROBE + 16, 0);
  store<i32>(PROBE + 20, -1);
  store<u32>(PROBE + 24, 0);
  if ((pde & PTE_PRESENT) == 0) { store<u32>(PROBE + 20, errorCode(write, user)); return; }
  if (largePagesOn(pde)) {
    store<u32>(PROBE + 24, 1);
    store<u32>(PROBE + 16, (pde & 0xFFC00000) | (linear & 0x3FFFFF));
    if ((pde & LARGE_RESERVED) != 0) store<u32>(PROBE + 20, PF_PROTECTION | PF_RESERVED | errorCode(write, user));
    else if (!permits(rightsOf(pde), write, user)) store<u32>(PROBE + 20, PF_PROTECTION | errorCode(write, user));
    return;
  }
  const pteAddress = tableEntryAddress(pde, linear);
  const pte = physRead32(pteAddress);
  store<u32>(PROBE + 8, pteAddress);
  store<u32>(PROBE + 12, pte);
  if ((pte & PTE_PRESENT) == 0) { store<u32>(PROBE + 20, errorCode(write, user)); return; }
  store<u32>(PROBE + 16, (pte & 0xFFFFF000) | (linear & 0xFFF));
  if (!permits(rightsOf(pde & pte), write, user)) store<u32>(PROBE + 20, PF_PROTECTION | errorCode(write, user));
}

// ---- control registers and INVLPG ----

const CR0_PE: u32 = 1, CR0_PG: u32 = 1 << 31;

// After a write to CR0 or CR4: a change of CR0.PG or CR0.WP, or of CR4.PSE
// or CR4.PGE, flushes the whole TLB, global entries included.
export function pagingModeWritten(oldCr0: u32, oldCr4: u32): void {
  setPagingEnabled((cr0 & (CR0_PG | CR0_PE)) == (CR0_PG | CR0_PE));
  if (((oldCr0 ^ cr0) & (CR0_PG | CR0_WP)) != 0 || ((oldCr4 ^ cr4) & (CR4_PSE | CR4_PGE)) != 0) {
    flushAll(false);
  }
  invalidateFetch();
}

// After a write to CR3 (even of the same value): every non-global entry goes.
export function directoryBaseWritten(): void {
  flushAll(true);
  invalidateFetch();
}

// INVLPG: the page holding `linear`, global or not, in every TLB.
export function invalidatePage(linear: u32): void {
  flushPage(linear);
  invalidateFetch();
}
