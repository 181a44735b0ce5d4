// The page reference string, recorded at the MMU (atlas386 --record-refs).
//
// While recording is on, user-mode accesses skip the fast tables in front of
// the TLB (tlb.ts selectFastTables), so every one of them, from the
// interpreter and from translated code alike (translated code reaches memory
// through the same readSized/writeSized), comes through translateSlow,
// which calls recordReference for each access that succeeds. Instruction
// fetch already goes through translateSlow when the fetch window enters a
// page, so code pages are recorded then.
//
// A reference is (CR3 & ~0xFFF, linear >> 12): the address space (a process,
// named by its page directory's physical address) and the virtual page. A
// reference equal to the previous one recorded is skipped: consecutive
// repeats never change how many faults any replacement policy takes.
//
// References go into a buffer in wasm memory; the host drains it through
// the imported env.drainReferences when it is full, and at exit
// (flushReferences). With recording off nothing here runs: the only cost is
// one test of `recording` in translateSlow, off the inline path.

import { cr3 } from "./state";

@external("env", "drainReferences")
declare function hostDrainReferences(pointer: usize, count: u32): void;

export let recording: bool = false;

// Pairs of u32 (directory, page), REF_CAPACITY of them.
const REF_CAPACITY: u32 = 16384;
const REF_BUFFER: usize = memory.data(<i32>(REF_CAPACITY * 8));
let refCount: u32 = 0;
// The last reference recorded (never a real one when nothing is).
let lastDirectory: u32 = 0xFFFFFFFF;
let lastPage: u32 = 0xFFFFFFFF;

export function setRecording(on: bool): void {
  recording = on;
  lastDirectory = 0xFFFFFFFF;
  lastPage = 0xFFFFFFFF;
}

// One successful user-mode access to `linear` (below the kernel's 3 GiB).
export function recordReference(linear: u32): void {
  const directory = cr3 & 0xFFFFF000;
  const page = linear >>> 12;
  if (page == lastPage && directory == lastDirectory) return;
  lastPage = page;
  lastDirectory = directory;
  const at = REF_BUFFER + (<usize>refCount << 3);
  store<u32>(at, directory);
  store<u32>(at + 4, page);
  if (++refCount == REF_CAPACITY) flushReferences();
}

// Hands what the buffer holds to the host.
export function flushReferences(): void {
  if (refCount == 0) return;
  const n = refCount;
  refCount = 0;
  hostDrainReferences(REF_BUFFER, n);
}
