// The I/O port space belongs to the machine, not the CPU: IN and OUT call
// out to the host, which routes each port to its device. While a page fault
// is pending the instruction is void (restart.ts): no port sees it.

import { pageFaultPending } from "./state";

@external("env", "portIn")
declare function hostPortIn(port: u32, size: u32): u32;
@external("env", "portOut")
declare function hostPortOut(port: u32, size: u32, value: u32): void;

export function portIn(port: u32, size: i32): u32 {
  if (pageFaultPending) return 0;
  const v = hostPortIn(port & 0xFFFF, <u32>(size >> 3));
  return size == 32 ? v : (v & ((1 << size) - 1));
}

export function portOut(port: u32, size: i32, value: u32): void {
  if (pageFaultPending) return;
  hostPortOut(port & 0xFFFF, <u32>(size >> 3), size == 32 ? value : (value & ((1 << size) - 1)));
}

@external("env", "portInBlock")
declare function hostPortInBlock(port: u32, size: u32, count: u32, address: u32): u32;
@external("env", "portOutBlock")
declare function hostPortOutBlock(port: u32, size: u32, count: u32, address: u32): u32;

// Bulk moves between a port and physical memory for REP INS/OUTS; the host
// returns how many elements it moved (0: it cannot, go one by one).
export function portInBlock(port: u32, size: i32, count: u32, address: u32): u32 {
  const moved = hostPortInBlock(port & 0xFFFF, <u32>(size >> 3), count, address);
  return moved > count ? count : moved;
}
export function portOutBlock(port: u32, size: i32, count: u32, address: u32): u32 {
  const moved = hostPortOutBlock(port & 0xFFFF, <u32>(size >> 3), count, address);
  return moved > count ? count : moved;
}

// The interrupt acknowledge cycle: the interrupt controller names the vector.
@external("env", "acknowledgeInterrupt")
declare function hostAcknowledgeInterrupt(): i32;

export function acknowledgeInterrupt(): i32 {
  return hostAcknowledgeInterrupt() & 0xFF;
}
