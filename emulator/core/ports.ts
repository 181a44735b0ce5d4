// The I/O port space belongs to the machine, not the CPU: IN and OUT call
// out to the host, which routes each port to its device.

@external("env", "portIn")
declare function hostPortIn(port: u32, size: u32): u32;
@external("env", "portOut")
declare function hostPortOut(port: u32, size: u32, value: u32): void;

export function portIn(port: u32, size: i32): u32 {
  const v = hostPortIn(port & 0xFFFF, <u32>(size >> 3));
  return size == 32 ? v : (v & ((1 << size) - 1));
}

export function portOut(port: u32, size: i32, value: u32): void {
  hostPortOut(port & 0xFFFF, <u32>(size >> 3), size == 32 ? value : (value & ((1 << size) - 1)));
}
