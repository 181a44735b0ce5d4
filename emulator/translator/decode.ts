// Decodes the guest instructions the translator can compile: 32-bit code,
// no prefixes, the integer forms compilers emit most. Anything else ends
// the block, and the interpreter executes it.

export const SEG_DS = 3, SEG_SS = 2;

export interface MemoryOperand {
  base: number;   // register, or -1
  index: number;  // register, or -1
  scale: number;  // shift count 0-3
  disp: number;
  seg: number;
}

export interface Instruction {
  address: number;
  next: number;
  /** One-byte opcode, or 0x0F00 | second byte. */
  opcode: number;
  /** ModRM reg field (register or opcode extension). */
  reg: number;
  /** ModRM r/m register when the operand is a register, else -1. */
  rmReg: number;
  mem: MemoryOperand | null;
  imm: number;
  imm2: number;
}

interface Form { modrm: boolean; imm: 0 | 1 | 2 | 4; imm2?: 1 }

// The translatable one-byte opcodes and their operand layout.
function oneByteForm(op: number): Form | null {
  if (op < 0x40) {
    if ([6, 7].includes(op & 7)) return null; // segment push/pop, prefixes, BCD, 0F
    const low = op & 7;
    if (low < 4) return { modrm: true, imm: 0 };
    return { modrm: false, imm: low === 4 ? 1 : 4 };
  }
  if (op < 0x60) return { modrm: false, imm: 0 }; // INC DEC PUSH POP r32
  if (op >= 0x70 && op <= 0x7f) return { modrm: false, imm: 1 };
  if (op >= 0xb0 && op <= 0xb7) return { modrm: false, imm: 1 };
  if (op >= 0xb8 && op <= 0xbf) return { modrm: false, imm: 4 };
  switch (op) {
    case 0x68: return { modrm: false, imm: 4 };
    case 0x6a: return { modrm: false, imm: 1 };
    case 0x69: return { modrm: true, imm: 4 };
    case 0x6b: return { modrm: true, imm: 1 };
    case 0x80: case 0x83: case 0xc0: case 0xc1: case 0xc6: return { modrm: true, imm: 1 };
    case 0x81: case 0xc7: return { modrm: true, imm: 4 };
    case 0x84: case 0x85: case 0x88: case 0x89: case 0x8a: case 0x8b: case 0x8d:
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: case 0xfe: case 0xff:
      return { modrm: true, imm: 0 };
    case 0xf6: case 0xf7: return { modrm: true, imm: 0 }; // immediate only for /0, read below
    case 0x90: case 0x98: case 0x99: case 0xc3: return { modrm: false, imm: 0 };
    case 0xc2: return { modrm: false, imm: 2 };
    case 0xa8: return { modrm: false, imm: 1 };
    case 0xa9: case 0xe8: case 0xe9: return { modrm: false, imm: 4 };
    case 0xeb: return { modrm: false, imm: 1 };
    default: return null;
  }
}

function twoByteForm(op: number): Form | null {
  if ((op >= 0x40 && op <= 0x4f) || (op >= 0x90 && op <= 0x9f)) return { modrm: true, imm: 0 };
  if (op >= 0x80 && op <= 0x8f) return { modrm: false, imm: 4 };
  if ([0x1f, 0xaf, 0xb6, 0xb7, 0xbe, 0xbf].includes(op)) return { modrm: true, imm: 0 };
  return null;
}

/** Which ModRM forms of a translatable opcode the translator handles. */
function acceptsModrm(opcode: number, reg: number, isMemory: boolean): boolean {
  switch (opcode) {
    case 0x8d: return isMemory;                  // LEA of a register is #UD
    case 0xc6: case 0xc7: return reg === 0;
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3:
      return !isMemory && reg !== 6;             // shifts of registers; /6 is not documented
    case 0xf6: case 0xf7: return reg === 0 || reg === 2 || reg === 3;
    case 0xfe: return reg <= 1;
    case 0xff: return reg <= 2 || reg === 4 || reg === 6;
    default: return true;
  }
}

/**
 * Decodes one translatable instruction at EIP `address`, or returns null.
 * `end` bounds the EIPs it may use; the byte at EIP `e` is `ram[e - delta]`
 * (delta: EIP minus physical address, 0 with paging off).
 */
export function decodeInstruction(ram: Uint8Array, address: number, end: number, delta = 0): Instruction | null {
  let at = address;
  const byte = (): number => { if (at >= end) throw RangeError(); return ram[at++ - delta]!; };
  const signed8 = (): number => (byte() << 24) >> 24;
  const word32 = (): number => { const v = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24); return v | 0; };
  try {
    let opcode = byte();
    let form: Form | null;
    if (opcode === 0x0f) {
      const second = byte();
      opcode = 0x0f00 | second;
      form = twoByteForm(second);
    } else {
      form = oneByteForm(opcode);
    }
    if (!form) return null;
    const insn: Instruction = { address, next: 0, opcode, reg: 0, rmReg: -1, mem: null, imm: 0, imm2: 0 };
    if (form.modrm) {
      const m = byte();
      const mod = m >> 6;
      insn.reg = (m >> 3) & 7;
      if (mod === 3) {
        insn.rmReg = m & 7;
      } else {
        const mem: MemoryOperand = { base: m & 7, index: -1, scale: 0, disp: 0, seg: SEG_DS };
        if (mem.base === 4) {
          const sib = byte();
          mem.base = sib & 7;
          mem.index = ((sib >> 3) & 7) === 4 ? -1 : (sib >> 3) & 7;
          mem.scale = sib >> 6;
          if (mem.base === 5 && mod === 0) { mem.base = -1; mem.disp = word32(); }
        } else if (mem.base === 5 && mod === 0) {
          mem.base = -1;
          mem.disp = word32();
        }
        if (mod === 1) mem.disp = (mem.disp + signed8()) | 0;
        else if (mod === 2) mem.disp = (mem.disp + word32()) | 0;
        if (mem.base === 4 || mem.base === 5) mem.seg = SEG_SS;
        insn.mem = mem;
      }
      if (!acceptsModrm(opcode, insn.reg, insn.mem !== null)) return null;
    }
    let immSize = form.imm;
    if ((opcode === 0xf6 || opcode === 0xf7) && insn.reg === 0) immSize = opcode === 0xf6 ? 1 : 4;
    if (immSize === 1) insn.imm = signed8();
    else if (immSize === 2) insn.imm = byte() | (byte() << 8);
    else if (immSize === 4) insn.imm = word32();
    insn.next = at;
    return insn;
  } catch (e) {
    if (e instanceof RangeError) return null; // runs past the page: leave it to the interpreter
    throw e;
  }
}
