// The built-in debugger (issue 8): the engine (emulator/host/debugger.ts)
// driven through its command language (debugrepl.ts DebugSession), on the
// Atlas kernel running real programs with 4 MiB and a swap disk; and the
// REPL of `atlas386 debug` driven through its text, as a person would.
//
// Skips like test/swap-run.ts (no gcc -m32 or no way to run i386 programs
// here), unless ATLAS386_REQUIRE_TOOLS=1.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Machine, MachineResult } from '../emulator/host/machine.js';
import { END_OF_INPUT, programCommandLine } from '../emulator/host/atlasrun.js';
import { Debugger } from '../emulator/host/debugger.js';
import { DebugSession } from '../emulator/host/debugrepl.js';
import { DebugViews } from '../emulator/host/debugviews.js';
import { elfSymbols } from '../emulator/host/elf.js';
import { host, root, skip } from './swap-run.js';
import { atlasMachine, imagePath, kernelPath } from './atlas-machine.js';

if (skip) console.warn(`debugger tests skipped: ${host.why}`);

const cli = join(root, 'dist', 'atlas386.mjs');

function need(): void {
  if (!host.ok) throw new Error(`needed with ATLAS386_REQUIRE_TOOLS=1: ${host.why}`);
  for (const f of [kernelPath, imagePath, cli]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
}

interface Session {
  s: DebugSession;
  engine: Debugger;
  machine: Machine;
  output: () => string;
  run: Promise<MachineResult>;
  /** Runs a command and returns its text. */
  cmd: (line: string) => Promise<string>;
}

/** The Atlas kernel running PROGRAM on 4 MiB with a fresh swap disk, under the debugger, stopped before its first instruction. */
async function debug(program: string, args: string[] = [], snapshotInterval?: number): Promise<Session> {
  const { machine, kernel, output } = await atlasMachine(programCommandLine(`/bin/${program}`, args, [], true), { input: Uint8Array.of(END_OF_INPUT) });
  const engine = new Debugger(machine, { snapshotInterval });
  const s = new DebugSession(engine, new DebugViews(engine, kernel, root));
  const run = machine.run({ debugger: engine }).then((r) => { engine.runEnded(r); return r; });
  return { s, engine, machine, output, run, cmd: (line) => s.command(line) };
}

/** Everything a plain run (no debugger) of the same program prints. */
async function plainOutput(program: string, args: string[] = []): Promise<string> {
  const { machine, output } = await atlasMachine(programCommandLine(`/bin/${program}`, args, [], true), { input: Uint8Array.of(END_OF_INPUT) });
  await machine.run();
  return output();
}

const hexOf = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

describe.skipIf(skip)('the debugger on the Atlas kernel', () => {
  it('stops at the page-fault handler and shows what the MMU and the kernel see', { timeout: 120_000 }, async () => {
    need();
    const { cmd, engine, run, output } = await debug('demand');
    const vmFault = elfSymbols(readFileSync(kernelPath)).get('vm_fault')!;

    expect(await cmd('break #PF')).toMatch(/^vector break 1: stops at the first instruction of the handler of vector 14/);
    let stop = await cmd('continue');
    expect(stop).toMatch(/^vector break 1: #PF \(14\) page fault: not-present (read|write|instruction fetch) from (user|supervisor) mode, error code 0x[0-9a-f]+ at 0x[0-9a-f]{8}/);
    expect(stop).toMatch(/stopped at the first instruction of its handler/);
    expect(stop).toMatch(/^=> c01[0-9a-f]{5}:.*\n\[instruction \d+, cpl 0/m);
    expect(await cmd('exception')).toMatch(/^#PF \(14\) page fault: .*\n {2}raised by 0x[0-9a-f]{8}.* at instruction \d+$/);
    // The faulting page, as the walk finds it: not present.
    expect(await cmd('pagewalk cr2 user')).toMatch(/#PF at the P[DT]E: error code 0x4/);
    expect(await cmd('registers')).toMatch(/cr0 0x[0-9a-f]{8} \[[^\]]*PG/i);

    expect(await cmd('delete 1')).toBe('deleted 1');
    expect(await cmd('break vm_fault')).toMatch(new RegExp(`^breakpoint 2 at ${hexOf(vmFault)} <vm_fault> at kernel/vmfault\\.c:\\d+$`));
    stop = await cmd('continue');
    expect(stop).toMatch(/^breakpoint 2 \(vm_fault\), hit 1 time\n/);
    expect(stop).toContain('<vm_fault>:');
    expect(stop).toMatch(/kernel\/vmfault\.c:\d+/);
    // Across the interrupt frame into the user program.
    const bt = await cmd('bt');
    expect(bt).toMatch(/#0 +0x[0-9a-f]{8} in vm_fault/);
    expect(bt).toMatch(/in trap\b/);
    expect(bt).toMatch(/interrupt frame: #PF/);
    expect(bt).toMatch(/in (main|touch_all|_start)\b/);
    // The kernel's tables.
    expect(await cmd('ps')).toMatch(/demand/);
    expect(await cmd('faults')).toMatch(/pid \d+ \(demand\)/);
    expect(await cmd('pt')).toMatch(/0x08048000/);
    expect(await cmd('frames')).not.toMatch(/^frames: /);
    expect(await cmd('swap')).toMatch(/hdb/);
    expect(await cmd('tlb')).toMatch(/^TLB: \d+ valid entries/);
    // Memory and code.
    expect(await cmd('x/4xw esp')).toMatch(/^0x[0-9a-f]{8}/);
    expect(await cmd('x/2x 0')).toMatch(/not mapped|cannot read/);
    expect(await cmd('xp/2xw 0x1000')).toMatch(/^0x00001000/);
    const listing = await cmd('disassemble vm_fault 4');
    expect(listing).toContain('<vm_fault>:');
    expect(listing).toMatch(/kernel\/vmfault\.c:\d+/);
    expect(listing).toMatch(/^=> c0[0-9a-f]{6}:\s+55\s+push\s+%ebp$/m);
    expect(await cmd('print vm_fault + 1')).toMatch(new RegExp(`^${hexOf(vmFault + 1)} ${vmFault + 1} `));
    // Run control: step, next over a call, finish back into trap().
    const before = engine.instructions;
    await cmd('step 3');
    expect(engine.instructions).toBe(before + 3);
    const finished = await cmd('finish');
    expect(finished).toMatch(/<trap\+0x[0-9a-f]+>/);
    expect(await cmd('next')).toMatch(/^(=>|[^\n]*\n=>)/m);

    // A breakpoint by source line: the first statement of vm_fault's line 415
    // (with -O2 the line table gives that address to line 413 as well).
    expect(await cmd('delete')).toBe('deleted all breakpoints and watchpoints');
    expect(await cmd('break kernel/vmfault.c:415')).toMatch(/^breakpoint 3 at 0xc0[0-9a-f]{6} <vm_fault\+0x[0-9a-f]+> at kernel\/vmfault\.c:41\d$/);
    expect(await cmd('continue')).toMatch(/^breakpoint 3 \(kernel\/vmfault\.c:415\), hit 1 time\n/);
    await cmd('delete');
    // The timer's IRQ 0, through the vector the kernel programmed into the PIC (32).
    expect(await cmd('break irq 0')).toBe('vector break 4: stops at the first instruction of the handler of vector 32 (IRQ 0)');
    expect(await cmd('continue')).toMatch(/^vector break 4: IRQ 0 \(32\)/);
    await cmd('delete');
    // The segments: the kernel's flat code segment, descriptor and hidden cache.
    expect(await cmd('segments')).toMatch(/^cs\s+0x0008/m);

    // Bad input: one clear line each, and the session goes on.
    expect(await cmd('frobnicate')).toBe("unknown command 'frobnicate' (try 'help')");
    expect(await cmd('break nosuch_symbol')).toBe("break: no symbol 'nosuch_symbol' in the kernel or the current program");
    expect(await cmd('break nosuch.c:12')).toBe('break: no code at nosuch.c:12 in the kernel or any user program');
    expect(await cmd('x/4x 0xzz')).toBe("x: bad number '0xzz'");
    expect(await cmd('print (1 +')).toMatch(/^print: /);
    expect(await cmd('step -1')).toBe("step: expected a positive count, not '-1'");
    expect(await cmd('watch 0x1000 x')).toBe("watch: length: expected a positive count, not 'x'");
    expect(await cmd('watch 0x1000 0')).toMatch(/^watch: /);
    expect(await cmd('delete 99')).toBe('delete: no breakpoint or watchpoint 99');
    expect(await cmd('help')).toMatch(/pagewalk ADDR/);

    await cmd('delete');
    expect(await cmd('continue')).toBe('the run has ended: the guest exited with status 0');
    await run;
    expect(output()).toBe(await plainOutput('demand'));
    expect(await cmd('step')).toMatch(/^step: the run has ended/);
  });
});

describe.skipIf(skip)('reverse execution', () => {
  it('goes back to the same state, instruction by instruction and to the last breakpoint', { timeout: 120_000 }, async () => {
    need();
    // A small interval: many snapshots before the first stop, thinned out past 24.
    const { cmd, engine, machine, run, output } = await debug('demand', [], 200_000);
    const state = (): string => {
      const cpu = machine.cpu;
      const regs = [0, 1, 2, 3, 4, 5, 6, 7].map((r) => cpu.getReg(r)).join(',');
      return `${engine.instructions} ${cpu.eip} ${cpu.eflags} ${regs} ${cpu.getCr(2)} ${cpu.getCr(3)} ${machine.cycles}`;
    };
    await cmd('break vm_fault');
    await cmd('continue');
    await cmd('continue');
    const second = state();
    const secondCount = engine.instructions;
    await cmd('continue');
    const third = state();
    expect(engine.instructions).toBeGreaterThan(secondCount);
    expect(engine.snapshotCount).toBeLessThanOrEqual(24);
    expect(engine.currentSnapshotInterval).toBeGreaterThan(200_000);

    // reverse-continue: back to the second hit, exactly.
    expect(await cmd('reverse-continue')).toMatch(/^breakpoint 1 \(vm_fault\)/);
    expect(state()).toBe(second);
    // Forward again to the third: the same state as the first time.
    await cmd('continue');
    expect(state()).toBe(third);

    // Step forward, step back: the states retrace.
    const trail = [state()];
    for (let i = 0; i < 5; i++) { await cmd('step'); trail.push(state()); }
    for (let i = 4; i >= 0; i--) {
      await cmd('reverse-step');
      expect(state()).toBe(trail[i]);
    }
    expect(await cmd('print $count')).toMatch(new RegExp(` ${engine.instructions} `));

    // Back past every hit and every snapshot: the start of the history.
    await cmd('delete');
    expect(await cmd('reverse-continue')).toMatch(/^at the beginning of the recorded history \(instruction 0\)/);
    expect(engine.instructions).toBe(0);

    // From there the run goes on to the same end, printing nothing twice.
    expect(await cmd('continue')).toBe('the run has ended: the guest exited with status 0');
    await run;
    expect(output()).toBe(await plainOutput('demand'));
  });
});

describe.skipIf(skip)('watchpoints', () => {
  it('follow a user variable across a swap-out and a swap-in', { timeout: 180_000 }, async () => {
    need();
    const { cmd, run, output } = await debug('swapvar');
    const generation = elfSymbols(readFileSync(join(root, 'build', 'userland', 'swapvar'))).get('generation')!;
    expect(await cmd('watch swapvar:generation')).toBe(`watchpoint 1: write of linear ${hexOf(generation)}..${hexOf(generation + 3)}`);
    let stop = await cmd('continue');
    expect(stop).toMatch(new RegExp(`^watchpoint 1 \\(swapvar:generation\\): write of 4 bytes at ${hexOf(generation)} \\(physical 0x[0-9a-f]{8}\\) by the instruction at 0x0804[0-9a-f]{4} <main\\+0x[0-9a-f]+>.*; now 0x00000001\n`));
    const firstPhysical = /physical (0x[0-9a-f]{8})/.exec(stop)![1];
    stop = await cmd('continue');
    expect(stop).toMatch(new RegExp(`^watchpoint 1 \\(swapvar:generation\\): write of 4 bytes at ${hexOf(generation)} .*; now 0x00000002\n`));
    // Between the two writes the page went to swap and came back (probably to another frame).
    const page = hexOf(generation & ~0xfff);
    expect(await cmd('faults')).toMatch(new RegExp(`addr=${page}.*swap-in`));
    expect(await cmd('pt')).toMatch(new RegExp(`${page.slice(2)}|${page}`));
    void firstPhysical;
    expect(await cmd('continue')).toBe('the run has ended: the guest exited with status 0');
    await run;
    expect(output()).toContain('swapvar: generation 2, checksum 320a0300');
  });

  it('stop on reads and on physical addresses, and a conditional breakpoint stops only when it holds', { timeout: 120_000 }, async () => {
    need();
    const { cmd, engine, machine } = await debug('hello');
    const symbols = elfSymbols(readFileSync(kernelPath));
    const ticks = symbols.get('ticks');
    expect(ticks).toBeDefined();
    // The timer interrupt writes `ticks` through the kernel's linear mapping; a physical watchpoint sees it.
    expect(await cmd(`awatch -p ${ticks! - 0xc0000000}`)).toMatch(/^watchpoint 1: access of physical/);
    const stop = await cmd('continue');
    expect(stop).toMatch(new RegExp(`^watchpoint 1 \\(\\d+\\): (read|write) of 4 bytes at ${hexOf(ticks!)} \\(physical ${hexOf(ticks! - 0xc0000000)}\\)`));
    await cmd('delete');
    expect(await cmd(`rwatch ${ticks}`)).toMatch(/^watchpoint 2: read of linear/);
    expect(await cmd('continue')).toMatch(/^watchpoint 2 \(\d+\): read of 4 bytes/);
    await cmd('delete');
    // vm_fault only for a fault at the first user page of the stack or above 0x08049000.
    await cmd('break vm_fault if cr2 >= 0x08049000 && cr2 < 0xc0000000');
    for (let i = 0; i < 3; i++) {
      const s = await cmd('continue');
      if (s.startsWith('the run has ended')) break;
      expect(s).toMatch(/^breakpoint 3 \(vm_fault\)/);
      expect(machine.cpu.getCr(2)).toBeGreaterThanOrEqual(0x08049000);
    }
    // Ctrl-C stops a running guest.
    await cmd('delete');
    const running = cmd('continue');
    engine.interrupt();
    expect(await running).toMatch(/^interrupted\n|^the run has ended/);
  });
});

describe.skipIf(skip)('atlas386 debug (the REPL)', () => {
  it('takes commands on stdin and answers each, bad ones with one line', { timeout: 60_000 }, () => {
    need();
    const script = [
      'help break',
      'break #PF',
      'continue',
      'exception',
      'info breakpoints',
      'frobnicate',
      'break nosuch_symbol',
      'x/4x 0xzz',
      'delete',
      'continue',
      'quit',
    ].join('\n') + '\n';
    const r = spawnSync('node', [cli, 'debug', 'hello'], { input: script, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Each answer follows the prompt it answers.
    r.stdout = r.stdout.replace(/^\(atlas\) /gm, '');
    expect(r.stdout).toMatch(/^break LOCATION/m);
    expect(r.stdout).toMatch(/^vector break 1: #PF \(14\) page fault: not-present/m);
    expect(r.stdout).toMatch(/^#PF \(14\) page fault: .*\n {2}raised by/m);
    expect(r.stdout).toMatch(/^1 {2}vector {6}14 \(#PF\) {2}hits 1$/m);
    expect(r.stdout).toContain("unknown command 'frobnicate' (try 'help')");
    expect(r.stdout).toContain("break: no symbol 'nosuch_symbol' in the kernel or the current program");
    expect(r.stdout).toContain("x: bad number '0xzz'");
    expect(r.stdout).toContain('hello, world');
    expect(r.stdout).toContain('the run has ended: the guest exited with status 0');
  });

  it('refuses bad options with one line', () => {
    need();
    const r = spawnSync('node', [cli, 'debug', 'nosuchprogram'], { input: '', encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^atlas386: no program \/bin\/nosuchprogram in the root image/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
