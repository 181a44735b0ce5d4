// What the debugger shows, for the REPL (debugrepl.ts) and the gdb stub's
// monitor: the CPU's state through inspect.ts, and the Atlas kernel's own
// tables through kernelview.ts. Addresses are named with the kernel's
// symbols at and above 0xC0000000 and with the current process's program
// below (the process whose page directory is in CR3, from the kernel's
// process table; its program's ELF from build/userland or the root image).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Debugger } from './debugger.js';
import type { SourceLine } from './dwarf.js';
import {
  KERNEL_BASE, ProgramLoader, backtrace, decodeException, dumpMemory, formatBacktrace, hex8, isReadFailure, linearReader,
  listing, physicalReader, programInfo, registers, repositorySource, segments, trapframeLayoutFromElf,
  type DumpFormat, type DumpUnit, type MemoryReader, type ProgramInfo, type TrapframeLayout,
} from './inspect.js';
import { KernelView, formatFaults, formatFrames, formatProcesses, formatPt, formatSwap, type KernelProcess } from './kernelview.js';

const KERNEL_VIEWS = ['pt', 'frames', 'swap', 'faults', 'ps'] as const;
export type KernelViewName = (typeof KERNEL_VIEWS)[number];

export class DebugViews {
  private readonly kernel: ProgramInfo;
  private readonly programs: ProgramLoader;
  private readonly kernelView: KernelView;
  private readonly sourceText;
  private readonly trapframe: TrapframeLayout | undefined;
  private readonly trapret: number | undefined;
  private readonly userlandDir: string;

  constructor(private readonly engine: Debugger, kernelElf: Uint8Array, root: string) {
    this.kernel = programInfo(kernelElf, 'kernel');
    this.userlandDir = join(root, 'build', 'userland');
    this.programs = new ProgramLoader({ root, userlandDir: this.userlandDir });
    this.kernelView = new KernelView(kernelElf, engine.cpu.ram);
    this.sourceText = repositorySource(root);
    try {
      this.trapframe = trapframeLayoutFromElf(kernelElf, this.kernel.symbols);
    } catch {
      this.trapframe = undefined;
    }
    this.trapret = this.kernel.symbols.lookup('trapret');
    engine.currentProgram = () => this.currentProcess()?.name;
  }

  private get cpu() { return this.engine.cpu; }

  // ---- processes and programs ----

  /** The process whose address space is in CR3; undefined before the first one, or with a kernel that is not Atlas. */
  currentProcess(): KernelProcess | undefined {
    try {
      const cr3 = (this.cpu.getCr(3) & ~0xfff) >>> 0;
      return this.kernelView.processes().find((p) => p.cr3 === cr3);
    } catch {
      return undefined;
    }
  }

  private currentProgram(): ProgramInfo | undefined {
    const p = this.currentProcess();
    return p ? this.programs.user(p.name) : undefined;
  }

  private programFor(addr: number): ProgramInfo | undefined {
    return addr >>> 0 >= KERNEL_BASE ? this.kernel : this.currentProgram();
  }

  symbol(name: string): number | undefined {
    return this.kernel.symbols.lookup(name) ?? this.currentProgram()?.symbols.lookup(name);
  }

  programSymbol(program: string, name: string): number | undefined {
    const info = this.programs.user(program);
    if (!info) throw new Error(`no program '${program}' (in build/userland or the root image)`);
    return info.symbols.lookup(name);
  }

  /** The first statement of FILE:LINE in the kernel, the current program, or any user program. */
  addressOfLine(file: string, line: number): { address: number; program?: string } | undefined {
    const kernel = this.kernel.lines.addressesFor(file, line)[0];
    if (kernel !== undefined) return { address: kernel };
    const candidates = [this.currentProgram()?.name, ...this.userPrograms()].filter((n): n is string => n !== undefined);
    for (const name of candidates) {
      const address = this.programs.user(name)?.lines.addressesFor(file, line)[0];
      if (address !== undefined) return { address, program: name };
    }
    return undefined;
  }

  private userPrograms(): string[] {
    try {
      return readdirSync(this.userlandDir, { withFileTypes: true }).filter((e) => e.isFile() && !e.name.includes('.')).map((e) => e.name);
    } catch {
      return [];
    }
  }

  /** `0xc0101234 <vm_fault+0x14>` (and the source line when there is one). */
  where(addr: number): string {
    const info = this.programFor(addr);
    const name = info?.symbols.format(addr >>> 0);
    const line = info?.lines.lineFor(addr >>> 0);
    return `${hex8(addr)}${name ? ` <${name}>` : ''}${line ? ` at ${line.file}:${line.line}` : ''}`;
  }

  irqVector(irq: number): number {
    return this.engine.machine.pic.vectorOfIrq(irq);
  }

  // ---- the CPU ----

  private reader(physical: boolean): MemoryReader {
    return physical ? physicalReader(this.cpu.ram) : linearReader(this.cpu);
  }

  private lineFor = (addr: number): SourceLine | undefined => this.programFor(addr)?.lines.lineFor(addr >>> 0);

  /** The instruction at EIP with its source line: what every stop shows. */
  currentInstruction(): string[] {
    const eip = this.engine.linearEip;
    const info = this.programFor(eip);
    const lines = listing(this.reader(false), eip, 1, info?.symbols, this.lineFor, { eip, sourceText: this.sourceText });
    const process = this.currentProcess();
    const context = `[instruction ${this.engine.instructions}, cpl ${this.cpu.cpl}${process ? `, pid ${process.pid} (${process.name})` : ''}]`;
    return [...lines, context];
  }

  atFunctionEntry(): boolean {
    const eip = this.engine.linearEip;
    return this.programFor(eip)?.symbols.nearest(eip)?.offset === 0;
  }

  registers(): string {
    return registers(this.cpu, (a) => this.programFor(a)?.symbols.format(a)).join('\n');
  }

  segments(): string {
    return segments(this.cpu, this.reader(false)).join('\n');
  }

  /** One line for a vector stop: the exception with its error code decoded, or the interrupt. */
  exceptionLine(vector: number, errorCode?: number): string {
    const info = decodeException(vector, errorCode, vector === 14 ? this.cpu.getCr(2) : undefined);
    const last = this.cpu.lastException();
    const from = last && last.vector === vector && vector < 32 ? `, raised by ${this.where(last.eip)}` : '';
    return `${info.summary}${from}; stopped at the first instruction of its handler`;
  }

  lastException(): string {
    const last = this.cpu.lastException();
    if (!last) return 'no exception delivered yet';
    const info = decodeException(last.vector, last.errorCode, last.vector === 14 ? last.cr2 : undefined);
    return `${info.summary}\n  raised by ${this.where(last.eip)} at instruction ${last.instructions}`;
  }

  watchedValue(address: number, length: number, space: 'linear' | 'physical'): string | undefined {
    const bytes = this.reader(space === 'physical')(address, Math.min(length, 16));
    if (isReadFailure(bytes)) return undefined;
    if (length <= 4) return `0x${bytes.reduce((v, b, i) => (v | (b << (8 * i))) >>> 0, 0).toString(16).padStart(2 * length, '0')}`;
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ') + (length > 16 ? ' ...' : '');
  }

  /** `x/NFU ADDR`: N units (default 1) of U (b, h, w; default w) in format F (x d u o t c s i; default x). */
  examine(args: string, physical: boolean): string {
    const m = /^(?:\/(\d*)([xduotcsi]?)([bhw]?)([xduotcsi]?))?\s*(.*)$/.exec(args);
    if (!m || m[5] === '') throw new Error(`usage: ${physical ? 'xp' : 'x'}/NFU ADDRESS (N count, F x|d|u|o|t|c|s|i, U b|h|w)`);
    const count = m[1] ? Number(m[1]) : 1;
    if (count < 1 || count > 4096) throw new Error('count must be 1 to 4096');
    const format = (m[2] || m[4] || 'x') as DumpFormat;
    const unit: DumpUnit = m[3] === 'b' ? 1 : m[3] === 'h' ? 2 : 4;
    const address = this.engine.evaluate(m[5]!);
    if (format === 'i') {
      const info = physical ? undefined : this.programFor(address);
      return listing(this.reader(physical), address, count, info?.symbols, physical ? undefined : this.lineFor, { eip: this.engine.linearEip }).join('\n');
    }
    return dumpMemory(this.reader(physical), address, count, format === 'c' || format === 's' ? 1 : unit, format).join('\n');
  }

  backtrace(): string {
    const entries = backtrace(this.cpu, this.reader(false), {
      symbols: this.kernel.symbols,
      userSymbols: this.currentProgram()?.symbols,
      trapret: this.trapret,
      trapframe: this.trapframe,
    });
    return formatBacktrace(entries).join('\n');
  }

  /** `disassemble [ADDR] [N]`: N instructions (default 10) from ADDR (default EIP). */
  disassemble(args: string): string {
    const words = args.split(/\s+/).filter((w) => w !== '');
    if (words.length > 2) throw new Error('usage: disassemble [ADDRESS] [COUNT]');
    const address = words[0] === undefined ? this.engine.linearEip : this.engine.evaluate(words[0]);
    const count = words[1] === undefined ? 10 : Number(words[1]);
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error(`bad count '${words[1]}'`);
    const info = this.programFor(address);
    return listing(this.reader(false), address, count, info?.symbols, this.lineFor, { eip: this.engine.linearEip, sourceText: this.sourceText }).join('\n');
  }

  /** pagewalk's arguments with the address (an expression or symbol) and CR3 evaluated to hex. */
  addressWords(args: string): string {
    return args.split(/\s+/).filter((w) => w !== '').map((w, i) =>
      i < 2 && !/^(read|write|fetch|user)$/.test(w) ? this.engine.evaluate(w).toString(16) : w).join(' ');
  }

  // ---- the kernel ----

  /** pt [PID], frames [all|PID], swap, faults, ps: the Atlas kernel's tables, read from guest memory. */
  kernelTable(view: KernelViewName | string, args: string): string {
    const k = this.kernelView;
    const words = args.split(/\s+/).filter((w) => w !== '');
    switch (view) {
      case 'ps': return formatProcesses(k.processes());
      case 'faults': return formatFaults(k.faultHistory(), k.processes());
      case 'swap': return formatSwap(k.swapAreas(), { map: true });
      case 'frames': {
        const pid = words[0] !== undefined && /^\d+$/.test(words[0]) ? Number(words[0]) : undefined;
        if (words[0] !== undefined && words[0] !== 'all' && pid === undefined) throw new Error('usage: frames [all|PID]');
        return formatFrames(k.frames(), { list: words.length > 0, pid });
      }
      case 'pt': {
        if (words.length > 1 || (words[0] !== undefined && !/^\d+$/.test(words[0]))) throw new Error('usage: pt [PID]');
        const target = words[0] !== undefined ? { pid: Number(words[0]) } : { cr3: (this.cpu.getCr(3) & ~0xfff) >>> 0 };
        return formatPt(k.addressSpace(target));
      }
      default: throw new Error(`no kernel view '${view}'`);
    }
  }


  /** gdb's `monitor frames|faults|swap|pt|ps ...`; undefined for the stub's own commands. */
  monitor(command: string, args: string[]): string | undefined {
    if (!(KERNEL_VIEWS as readonly string[]).includes(command)) return undefined;
    try {
      return `${this.kernelTable(command, args.join(' ')).trimEnd()}\n`;
    } catch (err) {
      return `${command}: ${(err as Error).message}\n`;
    }
  }
}
