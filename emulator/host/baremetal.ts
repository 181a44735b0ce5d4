// Runs a bare-metal guest ELF on the CPU core: no BIOS, no OS. The guest
// starts in 32-bit flat protected mode at CPL 0 with paging off, writes its
// console output to port 0xE9 (Bochs/QEMU debugcon) and ends by writing its
// exit status to port 0xF4 (status = the value written).

import { Cpu, EXCEPTION_NAMES, type PortHandlers, type RunResult } from './cpu.js';
import { hex32, loadElf } from './elf.js';
import { LineBuffer, type OutputSink } from './output.js';

export const DEBUGCON_PORT = 0xe9;
export const EXIT_PORT = 0xf4;

/** Instructions per cpu.run() call: keeps each call short without costing speed. */
const SLICE = 10_000_000;


export interface BareMetalOptions {
  ramBytes: number;
  /** Stop with an error after this many instructions (default: no limit). */
  maxInstructions?: number;
  /** Receives the guest's port 0xE9 output. */
  stdout: OutputSink;
  /** Use the debug build of the core (dist/core.debug.wasm). */
  debug?: boolean;
  /** Translate hot blocks to wasm (default true); false: interpret only. */
  translate?: boolean;
}

export interface BareMetalResult {
  exitCode: number;
  instructions: number;
  /** Host wall-clock seconds spent running guest instructions (load time excluded). */
  hostSeconds: number;
  result: RunResult;
  symbols: Map<string, number>;
  cpu: Cpu;
}

/** An error caused by the guest program (fault, halt, runaway); the message is one line. */
export class GuestError extends Error {
  override name = 'GuestError';
}


/** One line describing a guest exception, e.g. `guest fault: #UD (invalid opcode) at eip=0x00100234 bytes=0f ff ...`. */
export function describeFault(result: RunResult, ram: Uint8Array): string {
  const vector = result.vector ?? -1;
  const name = EXCEPTION_NAMES[vector] ?? `exception vector ${vector}`;
  let line = `guest fault: ${name} at eip=${hex32(result.eip)}`;
  if (result.errorCode !== undefined) line += ` error code ${hex32(result.errorCode)}`;
  const eip = result.eip >>> 0;
  if (eip < ram.length) {
    const bytes = Array.from(ram.subarray(eip, Math.min(eip + 8, ram.length)), (b) => b.toString(16).padStart(2, '0'));
    line += ` bytes=${bytes.join(' ')}`;
  } else {
    line += ' (outside RAM)';
  }
  return line;
}

export async function runBareMetal(elfBytes: Uint8Array, opts: BareMetalOptions): Promise<BareMetalResult> {
  const out = new LineBuffer(opts.stdout);
  let exitCode: number | undefined;
  let cpu: Cpu | undefined;

  const ports: PortHandlers = {
    portIn(port, size) {
      // Bochs answers 0xE9 on a read of its debug port: guests use that to detect it.
      if (port === DEBUGCON_PORT && size === 1) return DEBUGCON_PORT;
      return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    },
    portOut(port, size, value) {
      if (port === DEBUGCON_PORT) {
        out.put(value & 0xff);
      } else if (port === EXIT_PORT) {
        exitCode = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
        cpu?.stop();
      }
    },
  };

  cpu = await Cpu.create({ ramBytes: opts.ramBytes, debug: opts.debug, ports, translate: opts.translate });
  const { entry, symbols } = loadElf(elfBytes, cpu.ram);
  cpu.setFlatProtectedMode(0);
  cpu.eip = entry;

  const limit = opts.maxInstructions ?? Number.POSITIVE_INFINITY;
  const startCount = cpu.instructionsRetired;
  const start = performance.now();
  let result: RunResult;
  let executed = 0;
  try {
    for (;;) {
      result = cpu.run(Math.min(SLICE, limit - executed));
      executed = cpu.instructionsRetired - startCount;
      if (result.reason !== 'budget' || executed >= limit) break;
    }
  } finally {
    out.flush();
  }
  const hostSeconds = (performance.now() - start) / 1000;

  switch (result.reason) {
    case 'exception':
      throw new GuestError(describeFault(result, cpu.ram));
    case 'halt':
      throw new GuestError(`guest halted (HLT) at eip=${hex32(result.eip)} without writing an exit status to port 0xF4`);
    case 'budget':
      throw new GuestError(`guest did not exit within ${executed} instructions (eip=${hex32(result.eip)})`);
    case 'stopped':
      break;
  }
  return { exitCode: exitCode ?? 0, instructions: executed, hostSeconds, result, symbols, cpu };
}
