// CPUID: an i686-class processor that owns up to exactly what it implements.

import { reg32, setReg32, EAX, EBX, ECX, EDX } from "./state";

const MAX_BASIC_LEAF: u32 = 1;

// Leaf 1 EDX feature bits that this core implements.
const FEATURE_PSE: u32 = 1 << 3;   // 4 MiB pages (CR4.PSE, PDE.PS)
const FEATURE_TSC: u32 = 1 << 4;   // RDTSC (virtual time)
const FEATURE_MSR: u32 = 1 << 5;   // RDMSR/WRMSR (the TSC MSR)
const FEATURE_CX8: u32 = 1 << 8;   // CMPXCHG8B
const FEATURE_PGE: u32 = 1 << 13;  // global pages (CR4.PGE, PTE.G)
const FEATURE_CMOV: u32 = 1 << 15; // CMOVcc

// "Atlas386i686" as the vendor string, in EBX, EDX, ECX order.
const VENDOR_EBX: u32 = 0x616C7441; // "Atla"
const VENDOR_EDX: u32 = 0x36383373; // "s386"
const VENDOR_ECX: u32 = 0x36383669; // "i686"

export function cpuid(): void {
  let leaf = reg32(EAX);
  // Like Intel parts, a leaf above the maximum answers as the highest basic leaf.
  if (leaf > MAX_BASIC_LEAF) leaf = MAX_BASIC_LEAF;
  if (leaf == 0) {
    setReg32(EAX, MAX_BASIC_LEAF);
    setReg32(EBX, VENDOR_EBX);
    setReg32(EDX, VENDOR_EDX);
    setReg32(ECX, VENDOR_ECX);
    return;
  }
  setReg32(EAX, 0x00000610); // family 6, model 1, stepping 0: Pentium Pro class
  setReg32(EBX, 0);
  setReg32(ECX, 0);
  setReg32(EDX, FEATURE_PSE | FEATURE_TSC | FEATURE_MSR | FEATURE_CX8 | FEATURE_PGE | FEATURE_CMOV);
}
