// Belady's optimal replacement (OPT, MIN): on a fault with every frame
// full, evict the resident page whose next use lies furthest in the future
// (or never comes). No policy that knows only the past can fault less, so
// `atlas386 compare` shows it as the floor under the kernel's policies.
//
// O(n log n) for n references: one backward pass gives each reference the
// index of the next reference to the same page; the resident pages sit in a
// max-heap keyed by their next use. A hit pushes the page again with its new
// next use instead of moving it (a lazy update), and a pop skips entries
// that are no longer a resident page's current next use. Millions of
// references take well under a second.
//
// Faults include the cold misses (the first touch of each page), as the
// kernel counts first touches too.

/** Page numbers to dense ids 0..distinct-1, in order of first use. */
function denseIds(pages: ArrayLike<number>): { ids: Int32Array; distinct: number } {
  const idOf = new Map<number, number>();
  const ids = new Int32Array(pages.length);
  for (let i = 0; i < pages.length; i++) {
    let id = idOf.get(pages[i]!);
    if (id === undefined) {
      id = idOf.size;
      idOf.set(pages[i]!, id);
    }
    ids[i] = id;
  }
  return { ids, distinct: idOf.size };
}

/** For each reference, the index of the next reference to the same page; `ids.length` for never. */
function nextUses(ids: Int32Array, distinct: number): Int32Array {
  const next = new Int32Array(ids.length);
  const seen = new Int32Array(distinct).fill(ids.length);
  for (let i = ids.length - 1; i >= 0; i--) {
    next[i] = seen[ids[i]!]!;
    seen[ids[i]!] = i;
  }
  return next;
}

/** A binary max-heap of (key, id) pairs in two parallel arrays, sized for every push up front. */
class MaxHeap {
  private readonly keys: Int32Array;
  private readonly ids: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.keys = new Int32Array(capacity);
    this.ids = new Int32Array(capacity);
  }

  push(key: number, id: number): void {
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent]! >= key) break;
      this.keys[i] = this.keys[parent]!;
      this.ids[i] = this.ids[parent]!;
      i = parent;
    }
    this.keys[i] = key;
    this.ids[i] = id;
  }

  topKey(): number { return this.keys[0]!; }
  topId(): number { return this.ids[0]!; }

  pop(): void {
    const n = --this.size;
    const key = this.keys[n]!;
    const id = this.ids[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.keys[child + 1]! > this.keys[child]!) child++;
      if (this.keys[child]! <= key) break;
      this.keys[i] = this.keys[child]!;
      this.ids[i] = this.ids[child]!;
      i = child;
    }
    this.keys[i] = key;
    this.ids[i] = id;
  }
}

/** Faults OPT takes over `pages` (one page number per reference) with `frames` frames. */
export function optFaults(pages: ArrayLike<number>, frames: number): number {
  if (!Number.isInteger(frames) || frames < 1) throw new Error(`OPT needs at least one frame (got ${frames})`);
  const { ids, distinct } = denseIds(pages);
  if (frames >= distinct) return distinct; // only the cold misses
  const next = nextUses(ids, distinct);
  // The next use of each resident page; -1: not resident.
  const residentNext = new Int32Array(distinct).fill(-1);
  const heap = new MaxHeap(ids.length + 1);
  let resident = 0;
  let faults = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (residentNext[id]! < 0) {
      faults++;
      if (resident === frames) evictFurthest(heap, residentNext);
      else resident++;
    }
    residentNext[id] = next[i]!;
    heap.push(next[i]!, id);
  }
  return faults;
}

/**
 * Pops the resident page used furthest ahead. An entry is current when it
 * holds its page's present next use: next-use indices only grow, so an
 * older entry of the same page never equals it (pages never used again all
 * have key n, but are never pushed again either).
 */
function evictFurthest(heap: MaxHeap, residentNext: Int32Array): void {
  for (;;) {
    const id = heap.topId();
    const current = residentNext[id] === heap.topKey();
    heap.pop();
    if (current) {
      residentNext[id] = -1;
      return;
    }
  }
}
