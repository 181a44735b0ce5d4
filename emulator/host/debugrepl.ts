// `atlas386 debug`: the built-in debugger's command language and its REPL.
//
// DebugSession turns one command line into text (tests drive it directly);
// runRepl() wires it to a terminal with readline: history, a prompt, and
// Ctrl-C, which stops a running guest (and only clears the line while it is
// stopped). The engine (debugger.ts) does run control, breakpoints and
// reverse execution; inspect.ts formats the CPU's state; kernelview.ts reads
// the Atlas kernel's own tables (processes, frames, swap areas, the page-fault
// history) through its symbols and the layouts it exports.

import { createInterface } from 'node:readline';
import { Debugger, describeEnd, type StopEvent, type WatchAccess } from './debugger.js';
import { Expression } from './debugexpr.js';
import { EXCEPTION_NAMES } from './cpu.js';
import { hex32 } from './elf.js';
import { monitorCommand } from './gdbstub.js';
import type { DebugViews } from './debugviews.js';

interface Command {
  names: string[];
  usage: string;
  help: string;
  run: (session: DebugSession, args: string) => Promise<string> | string;
}


/** `#PF`, `#14`, `#pf`: an exception vector by mnemonic or number. */
function parseVector(text: string): number | undefined {
  const m = /^#(\w+)$/.exec(text);
  if (!m) return undefined;
  if (/^\d+$/.test(m[1]!)) return Number(m[1]);
  const name = `#${m[1]!.toUpperCase()}`;
  for (const [vector, label] of Object.entries(EXCEPTION_NAMES)) if (label.startsWith(`${name} `)) return Number(vector);
  return undefined;
}

/** A positive count; `what` names it when it is not the command's own count (the command's name prefixes every error). */
function parseCount(text: string, what?: string): number {
  if (text === '') return 1;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1e12) throw new Error(`${what ? `${what}: ` : ''}expected a positive count, not '${text}'`);
  return Number(text);
}

export class DebugSession {
  constructor(readonly engine: Debugger, readonly views: DebugViews) {
    engine.symbol = (name) => views.symbol(name);
  }

  /** Runs one command line; returns what it prints. Bad input gives one line saying what is wrong. */
  async command(line: string): Promise<string> {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#!')) return '';
    const m = /^([a-z-]+)(?:\/(\S*))?\s*(.*)$/i.exec(trimmed);
    if (!m) return `unknown command '${trimmed.split(/\s/)[0]}' (try 'help')`;
    const [, name, format, rest] = m;
    const command = COMMANDS.find((c) => c.names.includes(name!.toLowerCase()));
    if (!command) return `unknown command '${name}' (try 'help')`;
    try {
      return await command.run(this, format !== undefined ? `/${format} ${rest}`.trim() : rest!.trim());
    } catch (err) {
      return `${command.names[0]}: ${(err as Error).message}`;
    }
  }

  /** Where the guest stopped and why, then the instruction there. */
  describeStop(event: StopEvent): string {
    const lines: string[] = [];
    switch (event.kind) {
      case 'ended': return `the run has ended: ${describeEnd(event.result)}`;
      case 'breakpoint':
        lines.push(`breakpoint ${event.point.id} (${event.point.label}), hit ${event.point.hits} time${event.point.hits === 1 ? '' : 's'}`);
        break;
      case 'vector':
        lines.push(`vector break ${event.point.id}: ${this.views.exceptionLine(event.vector, event.errorCode)}`);
        break;
      case 'watch': {
        const w = event.point;
        const value = this.views.watchedValue(w.address, w.length, w.space);
        lines.push(
          `watchpoint ${w.id} (${w.label}): ${event.access} of ${event.size} byte${event.size === 1 ? '' : 's'} at ${hex32(event.linear)} ` +
            `(physical ${hex32(event.physical)}) by the instruction at ${this.views.where(event.eip)}${value === undefined ? '' : `; now ${value}`}`,
        );
        break;
      }
      case 'interrupted': lines.push('interrupted'); break;
      case 'history-begin': lines.push(`at the beginning of the recorded history (instruction ${this.engine.instructions})`); break;
      case 'reached': case 'step': break;
    }
    lines.push(...this.views.currentInstruction());
    return lines.join('\n');
  }

  async resume(promise: Promise<StopEvent>): Promise<string> {
    return this.describeStop(await promise);
  }

  /**
   * A breakpoint location: `*EXPR` (an address), `FILE:LINE`,
   * `PROGRAM:SYMBOL` (a user program's symbol, stopping only in processes
   * running it), a symbol (kernel first, then the current program), or a
   * number.
   */
  location(text: string): { address: number; label: string; program?: string } {
    if (text.startsWith('*')) return { address: this.engine.evaluate(text.slice(1)), label: text };
    const fileLine = /^([\w./-]+\.[chS]):(\d+)$/.exec(text);
    if (fileLine) {
      const found = this.views.addressOfLine(fileLine[1]!, Number(fileLine[2]));
      if (!found) throw new Error(`no code at ${text} in the kernel or any user program`);
      return { address: found.address, label: text, program: found.program };
    }
    const programSymbol = /^([\w-]+):([A-Za-z_.][\w.]*)$/.exec(text);
    if (programSymbol) {
      const address = this.views.programSymbol(programSymbol[1]!, programSymbol[2]!);
      if (address === undefined) throw new Error(`no symbol '${programSymbol[2]}' in program '${programSymbol[1]}'`);
      return { address, label: text, program: programSymbol[1]! };
    }
    if (/^[A-Za-z_.][\w.]*$/.test(text)) {
      const address = this.views.symbol(text);
      if (address === undefined) throw new Error(`no symbol '${text}' in the kernel or the current program`);
      return { address, label: text };
    }
    return { address: this.engine.evaluate(text), label: text };
  }
}

/** `break LOCATION [if CONDITION]`, `break #PF`, `break vector N`, `break irq N`. */
function breakCommand(session: DebugSession, args: string): string {
  if (args === '') throw new Error('usage: break LOCATION [if CONDITION] | break #PF | break vector N | break irq N');
  const engine = session.engine;
  const vector = parseVector(args);
  if (vector !== undefined) {
    const point = engine.addVectorBreak(vector, args);
    return `vector break ${point.id}: stops at the first instruction of the handler of vector ${vector} (${EXCEPTION_NAMES[vector] ?? 'interrupt'})`;
  }
  const numbered = /^(vector|irq)\s+(\S+)$/i.exec(args);
  if (numbered) {
    const n = Number(numbered[2]);
    if (!/^\d+$/.test(numbered[2]!) || (numbered[1] === 'irq' ? n > 15 : n > 255)) throw new Error(`bad ${numbered[1]} number '${numbered[2]}'`);
    const v = numbered[1]!.toLowerCase() === 'irq' ? session.views.irqVector(n) : n;
    const point = engine.addVectorBreak(v, args);
    return `vector break ${point.id}: stops at the first instruction of the handler of vector ${v}${numbered[1] === 'irq' ? ` (IRQ ${n})` : ''}`;
  }
  const [where, condition] = args.split(/\s+if\s+/, 2) as [string, string | undefined];
  const loc = session.location(where.trim());
  const point = engine.addBreakpoint(loc.address, loc.label, condition, loc.program);
  return `breakpoint ${point.id} at ${session.views.where(loc.address)}${point.program ? ` in ${point.program}` : ''}${condition ? ` if ${condition}` : ''}`;
}

/** `watch [-p] ADDR [LEN]` (write), `rwatch` (read), `awatch` (either). */
function watchCommand(access: WatchAccess): (session: DebugSession, args: string) => string {
  return (session, args) => {
    const words = args.split(/\s+/).filter((w) => w !== '');
    const physical = words[0] === '-p';
    if (physical) words.shift();
    if (words.length < 1 || words.length > 2) throw new Error('usage: watch|rwatch|awatch [-p] ADDRESS [LENGTH]');
    const address = session.location(words[0]!).address;
    const length = words[1] === undefined ? 4 : parseCount(words[1], 'length');
    const point = session.engine.addWatchpoint(address, length, access, physical ? 'physical' : 'linear', words[0]!);
    return `watchpoint ${point.id}: ${access} of ${physical ? 'physical' : 'linear'} ${hex32(address)}..${hex32(address + length - 1)}`;
  };
}

function infoCommand(session: DebugSession, args: string): string {
  const what = args.split(/\s+/)[0] ?? '';
  if (what.startsWith('b') || what.startsWith('w')) {
    const points = session.engine.list();
    if (points.length === 0) return 'no breakpoints or watchpoints';
    return points.map((p) => {
      if (p.type === 'break') return `${p.id}  breakpoint  ${session.views.where(p.address)}${p.program ? ` in ${p.program}` : ''}${p.condition ? ` if ${p.condition.text}` : ''}  hits ${p.hits}`;
      if (p.type === 'vector') return `${p.id}  vector      ${p.vector} (${p.label})  hits ${p.hits}`;
      return `${p.id}  ${p.access.padEnd(10)}  ${p.space} ${hex32(p.address)} length ${p.length}  hits ${p.hits}`;
    }).join('\n');
  }
  if (what.startsWith('r')) return session.views.registers();
  if (what.startsWith('s')) return session.views.segments();
  if (what.startsWith('e')) return session.views.lastException();
  return 'usage: info breakpoints | registers | segments | exception';
}

const COMMANDS: Command[] = [
  { names: ['help', 'h', '?'], usage: 'help [COMMAND]', help: 'this list, or one command', run: (_s, args) => help(args) },
  // run control
  { names: ['step', 's', 'stepi', 'si'], usage: 'step [N]', help: 'execute N instructions (default 1), into interrupt and exception handlers', run: (s, a) => s.resume(s.engine.step(parseCount(a))) },
  { names: ['next', 'n', 'nexti', 'ni'], usage: 'next', help: 'one instruction, running a CALL until it returns', run: (s) => s.resume(s.engine.next()) },
  { names: ['finish', 'fin'], usage: 'finish', help: 'run until the current function returns (by its frame pointer)', run: (s) => s.resume(s.engine.finish(s.views.atFunctionEntry())) },
  { names: ['continue', 'c', 'cont'], usage: 'continue', help: 'run until a breakpoint, watchpoint, Ctrl-C or the end', run: (s) => s.resume(s.engine.continue()) },
  { names: ['until', 'u'], usage: 'until LOCATION', help: 'run until EIP reaches LOCATION', run: (s, a) => s.resume(s.engine.until(s.location(a).address)) },
  { names: ['reverse-step', 'rs', 'reverse-stepi', 'rsi'], usage: 'reverse-step [N]', help: 'go back N instructions (replayed from a snapshot)', run: (s, a) => s.resume(s.engine.reverseStep(parseCount(a))) },
  { names: ['reverse-continue', 'rc'], usage: 'reverse-continue', help: 'go back to the last breakpoint or watchpoint hit', run: (s) => s.resume(s.engine.reverseContinue()) },
  // breakpoints
  { names: ['break', 'b'], usage: 'break LOCATION [if COND] | break #PF | break vector N | break irq N', help: 'stop before LOCATION (*ADDR, SYMBOL, FILE:LINE, PROGRAM:SYMBOL), or at a handler', run: breakCommand },
  { names: ['watch'], usage: 'watch [-p] ADDR [LEN]', help: 'stop after a write to ADDR (linear, or physical with -p)', run: watchCommand('write') },
  { names: ['rwatch'], usage: 'rwatch [-p] ADDR [LEN]', help: 'stop after a read of ADDR', run: watchCommand('read') },
  { names: ['awatch'], usage: 'awatch [-p] ADDR [LEN]', help: 'stop after a read or write of ADDR', run: watchCommand('access') },
  { names: ['delete', 'd'], usage: 'delete [N]', help: 'delete breakpoint or watchpoint N (all without N)', run: (s, a) => {
    if (a === '') { s.engine.deleteAll(); return 'deleted all breakpoints and watchpoints'; }
    const id = parseCount(a);
    if (!s.engine.delete(id)) throw new Error(`no breakpoint or watchpoint ${id}`);
    return `deleted ${id}`;
  } },
  { names: ['info', 'i'], usage: 'info breakpoints|registers|segments|exception', help: 'lists and state', run: infoCommand },
  // state
  { names: ['registers', 'regs', 'r'], usage: 'registers', help: 'general, control and segment registers, EFLAGS decoded', run: (s) => s.views.registers() },
  { names: ['segments', 'seg'], usage: 'segments', help: 'segment registers with their descriptors', run: (s) => s.views.segments() },
  { names: ['exception', 'ex'], usage: 'exception', help: 'the last exception delivered, its error code decoded', run: (s) => s.views.lastException() },
  { names: ['x'], usage: 'x/NFU ADDR', help: 'memory at a linear address: N units, F x|d|u|c|i, U b|h|w', run: (s, a) => s.views.examine(a, false) },
  { names: ['xp'], usage: 'xp/NFU ADDR', help: 'memory at a physical address', run: (s, a) => s.views.examine(a, true) },
  { names: ['print', 'p'], usage: 'print EXPR', help: 'an expression: registers, symbols, *ADDR, C operators', run: (s, a) => {
    const v = s.engine.evaluate(new Expression(a));
    return `${hex32(v)} ${v} ${s.views.where(v)}`;
  } },
  { names: ['bt', 'backtrace', 'where'], usage: 'bt', help: 'the call stack by frame pointers, across an interrupt frame into user space', run: (s) => s.views.backtrace() },
  { names: ['disassemble', 'disas', 'list', 'l'], usage: 'disassemble [ADDR] [N]', help: 'instructions with symbols and source lines', run: (s, a) => s.views.disassemble(a) },
  // the MMU and the kernel
  { names: ['pagewalk', 'walk'], usage: 'pagewalk ADDR [CR3] [read|write|fetch] [user]', help: 'every step of the walk: PDE, PTE, flags, the physical address or the fault', run: (s, a) => monitorCommand(s.engine.cpu, `pagewalk ${s.views.addressWords(a)}`).trimEnd() },
  { names: ['tlb'], usage: 'tlb', help: 'the TLB entries, stale ones marked', run: (s) => monitorCommand(s.engine.cpu, 'tlb').trimEnd() },
  { names: ['pt'], usage: 'pt [PID]', help: 'the address space as ranges: permissions, A/D, resident, swapped, file', run: (s, a) => s.views.kernelTable('pt', a) },
  { names: ['frames'], usage: 'frames [all]', help: 'the physical frame map: owner, sharers, dirty, age', run: (s, a) => s.views.kernelTable('frames', a) },
  { names: ['swap'], usage: 'swap', help: 'the swap areas and their slot maps', run: (s, a) => s.views.kernelTable('swap', a) },
  { names: ['faults'], usage: 'faults', help: 'the recent page faults and their outcome', run: (s, a) => s.views.kernelTable('faults', a) },
  { names: ['ps'], usage: 'ps', help: 'the processes', run: (s, a) => s.views.kernelTable('ps', a) },
  { names: ['quit', 'q', 'exit'], usage: 'quit', help: 'end the session', run: () => '' },
];

function help(args: string): string {
  if (args !== '') {
    const c = COMMANDS.find((cmd) => cmd.names.includes(args));
    if (!c) return `unknown command '${args}' (try 'help')`;
    return `${c.usage}\n  ${c.help}${c.names.length > 1 ? `\n  also: ${c.names.slice(1).join(', ')}` : ''}`;
  }
  return COMMANDS.map((c) => `  ${c.usage.padEnd(44)} ${c.help}`).join('\n') + '\n  Ctrl-C stops a running guest.';
}

/** Every command name, for completion. */
export const COMMAND_NAMES = COMMANDS.flatMap((c) => c.names);

/**
 * The REPL on a terminal (or any streams): reads commands until `quit` or
 * end of input, printing each result. Resolves when the session ends.
 */
export async function runRepl(session: DebugSession, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, prompt = '(atlas) '): Promise<void> {
  const rl = createInterface({ input, output, prompt, historySize: 1000, terminal: (input as { isTTY?: boolean }).isTTY === true,
    completer: (line: string) => [COMMAND_NAMES.filter((n) => n.startsWith(line)), line] });
  rl.on('SIGINT', () => {
    if (session.engine.running) session.engine.interrupt();
    else { output.write('^C\n'); rl.prompt(); }
  });
  output.write(`${session.describeStop({ kind: 'reached' })}\n`);
  rl.prompt();
  for await (const line of rl) {
    const word = line.trim().split(/\s+/)[0];
    if (word === 'quit' || word === 'q' || word === 'exit') break;
    rl.pause();
    const text = await session.command(line);
    if (text !== '') output.write(`${text}\n`);
    rl.resume();
    rl.prompt();
  }
  rl.close();
}
