// Disassembly of 32-bit x86 code for the debugger (issue 8), with iced-x86
// (a well-tested decoder compiled to WebAssembly) rather than a hand-written
// decoder: the emulator's own decoder is what is being debugged, so the
// debugger must not share its mistakes.
//
// Syntax: AT&T, as objdump -d and gdb show by default, so that what the
// debugger prints can be compared with them line for line. Numbers follow
// objdump: lowercase hex with 0x, signed displacements (-0xb4(%ebp)), and a
// branch or call target followed by its symbol, `call 0xc01001a0 <kalloc>`
// (objdump omits the target's 0x prefix; gdb keeps it, and so do we). Where
// iced's GNU syntax spells an instruction differently from objdump (shift by
// one, string operands' segments, the scale of 1), objdumpSpelling adjusts it;
// test/debug-info.test.ts compares the kernel's and hello's code with objdump.
//
// iced-x86 loads and compiles a 780 KB WebAssembly module, so it is required
// on the first call only: the CLI's other commands do not pay for it.

import { createRequire } from 'node:module';
import type * as Iced from 'iced-x86';

export interface DisassembledInstruction {
  /** Linear address of the first byte. */
  address: number;
  /** The instruction's bytes (a view into the input). */
  bytes: Uint8Array;
  /** AT&T text, e.g. `mov 0x8(%ebp),%eax` or `jne 0xc01076c0 <vm_fault+0x60>`; `(bad)` for undecodable bytes. */
  text: string;
}

/** Names an address (`vm_fault+0x60`), or undefined when no symbol covers it. */
export type Symbolizer = (addr: number) => string | undefined;

interface Engine {
  iced: typeof Iced;
  formatter: Iced.Formatter;
  /** The shift-and-rotate-by-one encodings (D0/D1), which objdump writes `shr %esi`, without iced's `$0x1,`. */
  byOne: Set<number>;
}

let engine: Engine | undefined;

/** Loads iced-x86 and sets up an objdump-like AT&T formatter, once. */
function load(): Engine {
  if (engine) return engine;
  const iced = createRequire(import.meta.url)('iced-x86') as typeof Iced;
  const formatter = new iced.Formatter(iced.FormatterSyntax.Gas);
  formatter.uppercaseHex = false;
  formatter.smallHexNumbersInDecimal = false; // 0x8(%ebp), not 8(%ebp)
  formatter.signedMemoryDisplacements = true; // -0xb4(%ebp), not 0xffffff4c(%ebp)
  formatter.showZeroDisplacements = true; // lea 0x0(%esi),%esi: the encoded disp8 of 0
  formatter.branchLeadingZeros = false;
  formatter.leadingZeros = false;
  formatter.displacementLeadingZeros = false;
  const byOne = new Set<number>();
  for (const [name, code] of Object.entries(iced.Code)) if (typeof code === 'number' && name.endsWith('_1')) byOne.add(code);
  engine = { iced, formatter, byOne };
  return engine;
}

/**
 * Disassembles up to `count` instructions from `bytes`, whose first byte is
 * at linear address `address`. Stops early at the end of `bytes`; bytes
 * that do not form a whole valid instruction come out as one `(bad)` byte
 * each (as objdump does), so a dump of data or of a truncated tail still
 * lines up.
 */
export function disassemble(bytes: Uint8Array, address: number, count: number, symbolize?: Symbolizer): DisassembledInstruction[] {
  const engine = load();
  const { iced } = engine;
  const decoder = new iced.Decoder(32, bytes, iced.DecoderOptions.None);
  const out: DisassembledInstruction[] = [];
  try {
    decoder.ip = BigInt(address >>> 0);
    let offset = 0;
    while (out.length < count && decoder.canDecode) {
      const instruction = decoder.decode();
      try {
        const length = instruction.isInvalid ? 1 : instruction.length;
        const text = instruction.isInvalid ? '(bad)' : format(engine, instruction, symbolize);
        out.push({ address: (address + offset) >>> 0, bytes: bytes.subarray(offset, offset + length), text });
        offset += length;
        // after an invalid instruction the decoder has skipped its bytes: resume one byte in
        if (instruction.isInvalid) decoder.position = offset;
        decoder.ip = BigInt((address + offset) >>> 0);
      } finally {
        instruction.free(); // WebAssembly memory is not garbage-collected
      }
    }
  } finally {
    decoder.free();
  }
  return out;
}

/** The formatted instruction, plus ` <symbol+off>` after a direct branch or call target, as objdump shows it. */
function format(engine: Engine, instruction: Iced.Instruction, symbolize?: Symbolizer): string {
  const text = objdumpSpelling(engine, instruction, engine.formatter.format(instruction));
  if (!symbolize || instruction.op0Kind !== engine.iced.OpKind.NearBranch32) return text;
  const name = symbolize(instruction.nearBranch32 >>> 0);
  return name === undefined ? text : `${text} <${name}>`;
}

/** Where iced's GNU syntax and objdump's differ (no formatter option for these), objdump's spelling. */
function objdumpSpelling({ byOne }: Engine, instruction: Iced.Instruction, text: string): string {
  // shifts and rotates by one (D0/D1): `shr %esi`, not `shr $0x1,%esi`
  if (byOne.has(instruction.code)) text = text.replace('$0x1,', '');
  // indirect near branches: `jmp *...`, without iced's size suffix
  if (instruction.isJmpNearIndirect || instruction.isCallNearIndirect) text = text.replace(/^(jmp|call)l /, '$1 ');
  // the implicit segments of string operands: `rep movsb %ds:(%esi),%es:(%edi)` (an override prefix is already shown)
  if (instruction.isStringInstruction) text = text.replace(/(^|[ ,])\(%esi\)/, '$1%ds:(%esi)').replace(/(^|[ ,])\(%edi\)/, '$1%es:(%edi)');
  // the scale, always: (%eax,%esi,1); iced's alwaysShowScale would also write a stray comma when there is no index
  return text.replace(/\((%\w+)?,(%\w+)\)/, '($1,$2,1)');
}
