// The GDB remote stub (emulator/host/gdbstub.ts, `atlas386 boot --gdb PORT`):
// the packet layer alone; the stub over TCP with a raw client (bad input,
// Ctrl-C, kill); and the real gdb breaking in the Atlas kernel's page-fault
// handler.
//
// Needs the build (`npm run build`: dist/, build/kernel/kernel.elf,
// disk-images/root.img). The gdb half is skipped without gdb unless
// ATLAS386_REQUIRE_TOOLS=1 (CI), where a missing gdb fails.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checksum, decodeBody, framePacket, PacketReader, TARGET_XML, type PacketEvent } from '../emulator/host/gdbstub.js';
import { elfSymbols } from '../emulator/host/elf.js';
import { root } from './guests/run.js';

const cli = join(root, 'dist', 'atlas386.mjs');
const kernel = join(root, 'build', 'kernel', 'kernel.elf');
const rootImage = join(root, 'disk-images', 'root.img');
const gdbInstalled = spawnSync('gdb', ['--version']).status === 0;
const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';
const dir = mkdtempSync(join(tmpdir(), 'atlas386-gdb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('packet layer', () => {
  it('frames with the modulo-256 checksum', () => {
    expect(checksum('OK')).toBe(0x9a);
    expect(text(framePacket('OK'))).toBe('$OK#9a');
    expect(text(framePacket(''))).toBe('$#00');
  });

  it('escapes $ # } * in what it sends', () => {
    const framed = text(framePacket('a$b#c}d*'));
    expect(framed.slice(0, -3)).toBe('$a}\x04b}\x03c}]d}\x0a');
    const reader = new PacketReader();
    expect(reader.feed(bytes(framed))).toEqual([{ kind: 'packet', data: bytes('a$b#c}d*') }]);
  });

  it('undoes escapes and run-length encoding', () => {
    expect(text(decodeBody(bytes('}\x03}]'))!)).toBe('#}');
    expect(text(decodeBody(bytes('0* '))!)).toBe('0000'); // ' ' = 32: three more
    expect(text(decodeBody(bytes('ab*"c'))!)).toBe('abbbbbbc'); // '"' = 34: five more
    expect(decodeBody(bytes('*"'))).toBeUndefined(); // nothing to repeat
    expect(decodeBody(bytes('a}'))).toBeUndefined(); // escape cut short
  });

  it('reassembles packets split anywhere, and reports acks and Ctrl-C', () => {
    const reader = new PacketReader();
    const events: PacketEvent[] = [];
    for (const b of bytes('+$qC#b4-\x03$m1,2#fc')) events.push(...reader.feed(Uint8Array.of(b)));
    expect(events).toEqual([
      { kind: 'ack' }, { kind: 'packet', data: bytes('qC') }, { kind: 'nak' }, { kind: 'interrupt' },
      { kind: 'packet', data: bytes('m1,2') },
    ]);
  });

  it('refuses bad checksums, bad checksum digits and absurd lengths', () => {
    const reader = new PacketReader();
    expect(reader.feed(bytes('$qC#00'))).toEqual([{ kind: 'bad' }]);
    expect(reader.feed(bytes('$qC#zz'))).toEqual([{ kind: 'bad' }]);
    expect(reader.feed(bytes(`$${'a'.repeat(100_000)}#00`))).toEqual([{ kind: 'bad' }]);
    expect(reader.feed(bytes('$OK#9a'))).toEqual([{ kind: 'packet', data: bytes('OK') }]); // and goes on
  });

  it('describes an i386 target with the control registers', () => {
    expect(TARGET_XML).toContain('<feature name="org.gnu.gdb.i386.core">');
    for (const reg of ['eax', 'edi', 'eip', 'eflags', 'gs', 'st7', 'fop', 'cr0', 'cr4']) expect(TARGET_XML).toContain(`name="${reg}"`);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Emulator { child: ChildProcess; port: number; stdout: () => string; stderr: () => string; done: Promise<number | null> }

/** Boots the Atlas kernel running /bin/hello (or the `atlas386 run` command line given) under --gdb; resolves once it waits for the client. */
async function bootWithGdb(run?: string[]): Promise<Emulator> {
  const port = await freePort();
  const command = run ? [cli, 'run', '--gdb', String(port), ...run] : [cli, 'boot', '--kernel', kernel, '--hda', rootImage, '--cmdline', 'quiet init=/bin/hello', '--gdb', String(port)];
  const child = spawn('node', command, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '', err = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(`atlas386: waiting for gdb on localhost:${port}\n`)) resolve();
    });
    child.on('close', () => reject(new Error(`atlas386 ended: ${err}`)));
  });
  return { child, port, stdout: () => out, stderr: () => err, done };
}

/** A bare protocol client: sends raw bytes, reads reply packets (acks aside). */
class RawClient {
  private readonly reader = new PacketReader();
  private readonly replies: string[] = [];
  private readonly naks: number[] = [];
  private waiter: (() => void) | undefined;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.reader.feed(chunk)) {
        if (e.kind === 'packet') { this.replies.push(text(e.data)); socket.write('+'); }
        if (e.kind === 'nak') this.naks.push(1);
      }
      this.waiter?.();
    });
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return new RawClient(socket);
  }

  get nakCount(): number { return this.naks.length; }

  async reply(): Promise<string> {
    while (this.replies.length === 0) await new Promise<void>((resolve) => { this.waiter = resolve; });
    return this.replies.shift()!;
  }

  async request(packet: string): Promise<string> {
    this.socket.write(framePacket(packet));
    return this.reply();
  }

  /** qRcmd: the text of the O packets up to the final reply (OK or an error), which is returned too. */
  async monitor(command: string): Promise<{ output: string; final: string }> {
    let reply = await this.request(`qRcmd,${Buffer.from(command, 'latin1').toString('hex')}`);
    let output = '';
    while (reply.startsWith('O') && reply !== 'OK') {
      output += Buffer.from(reply.slice(1), 'hex').toString('latin1');
      reply = await this.reply();
    }
    return { output, final: reply };
  }
}

describe('the stub over TCP', () => {
  it('answers good and bad packets, stops on Ctrl-C and ends on kill', { timeout: 20_000 }, async () => {
    const emu = await bootWithGdb();
    const c = await RawClient.open(emu.port);
    try {
      expect(await c.request('qSupported:multiprocess+;swbreak+')).toContain('qXfer:features:read+');
      expect(await c.request('?')).toMatch(/^T05/);
      expect(await c.request('qXfer:features:read:target.xml:0,ffff')).toBe(`l${TARGET_XML}`);
      expect(await c.request('qXfer:features:read:other.xml:0,10')).toBe('E00');
      expect((await c.request('g')).length).toBe(2 * 192); // 16 x 4 + 8 x 10 + 8 x 4 + 4 x 4 bytes
      expect(await c.request('p8')).toBe('0c001000'); // eip = the Multiboot entry
      expect(await c.request('p99')).toBe('E01');
      expect(await c.request('P0=78563412')).toBe('OK');
      expect(await c.request('p0')).toBe('78563412');
      expect(await c.request('Pa=0800')).toBe('E01'); // wrong size
      expect(await c.request('m100000,4')).toMatch(/^[0-9a-f]{8}$/); // paging is off: physical
      expect(await c.request('mfffffff0,10')).toBe('E14'); // beyond RAM
      expect(await c.request('mzz,4')).toBe('E01');
      expect(await c.request('m0,ffffffff')).toBe('E01'); // absurd length
      expect(await c.request('Z0,zz')).toBe('E01');
      expect(await c.request('Z3,100000,4')).toBe('OK'); // read watchpoints
      expect(await c.request('z3,100000,4')).toBe('OK');
      expect(await c.request('Z4,100000,4')).toBe('OK'); // access watchpoints
      expect(await c.request('z4,100000,4')).toBe('OK');
      expect(await c.request('Z2,100000,0')).toBe('E01'); // 1 to 4096 bytes
      expect(await c.request('Z2,100000,2000')).toBe('E01');
      expect(await c.request('Z5,100000,1')).toBe(''); // no such type
      expect(await c.request('Z2,100000,4')).toBe('OK');
      expect(await c.request('z2,100000,4')).toBe('OK');
      expect(await c.request('bx')).toBe(''); // reverse: bs and bc only
      expect(await c.monitor('phys on')).toEqual({ output: 'memory accesses (m, M, X) use physical addresses\n', final: 'OK' });
      expect(await c.monitor('phys off')).toEqual({ output: 'memory accesses (m, M, X) use linear addresses\n', final: 'OK' });
      expect((await c.monitor('phys sideways')).output).toBe('usage: monitor phys [on|off]\n');
      expect(await c.request('qRcmd,zz')).toBe('E01');
      expect(await c.monitor('help')).toEqual({ output: expect.stringContaining('pagewalk ADDR [CR3]'), final: 'OK' });
      expect(await c.monitor('frobnicate')).toEqual({ output: "unknown monitor command 'frobnicate' (try 'monitor help')\n", final: 'OK' });
      expect((await c.monitor('pagewalk 0xzz')).output).toContain("pagewalk: bad address '0xzz'");
      expect((await c.monitor('pagewalk 100000')).output).toBe('0x00100000: paging is off, physical = linear\n');
      expect(await c.request('qNoSuchThing')).toBe('');
      expect(await c.request('vCont?')).toBe('');
      c.socket.write('$qC#00'); // bad checksum: NAK, then the stub goes on
      expect(await c.request('qC')).toBe('QC1');
      expect(c.nakCount).toBe(1);

      expect(await c.request('P0=02b0ad2b')).toBe('OK'); // the Multiboot magic back, or the kernel refuses to boot

      // A hardware breakpoint at vm_fault: the first page fault stops there, with paging on.
      const vmFault = elfSymbols(readFileSync(kernel)).get('vm_fault')!;
      expect(await c.request(`Z1,${vmFault.toString(16)},1`)).toBe('OK');
      expect(await c.request('c')).toBe('T05thread:1;hwbreak:;');
      expect(await c.request('p8')).toBe(Buffer.from(Uint32Array.of(vmFault).buffer).toString('hex'));
      expect(await c.request('p20')).toMatch(/^[0-9a-f]{6}8[0-9a-f]$/); // cr0 with PG (bit 31)
      expect(await c.request('m0,4')).toBe('E14'); // page 0 is not mapped
      expect(await c.request(`m${vmFault.toString(16)},1`)).toBe('55'); // push %ebp, read through the page tables
      // The faulting page through the MMU's eyes: CR2 (register 33) is not mapped yet.
      const cr2 = parseInt(Buffer.from(await c.request('p21'), 'hex').reverse().toString('hex'), 16);
      const walk = await c.monitor(`pagewalk ${cr2.toString(16)} user write`);
      expect(walk.final).toBe('OK');
      expect(walk.output).toMatch(new RegExp(`^0x${cr2.toString(16).padStart(8, '0')} \\(user write\\) cr3=0x[0-9a-f]{8}\n`));
      expect(walk.output).toMatch(/ PDE\[\d+\] @0x[0-9a-f]{8} = 0x[0-9a-f]{8} /);
      expect(walk.output).toMatch(/#PF at the P[DT]E: error code 0x6 \(not present, write, user\)/);
      const kernelWalk = (await c.monitor(`pagewalk ${vmFault.toString(16)}`)).output;
      expect(kernelWalk).toContain(`physical 0x${(vmFault - 0xc0000000).toString(16).padStart(8, '0')}`);
      expect(kernelWalk).not.toContain('#PF');
      const tlb = (await c.monitor('tlb')).output;
      expect(tlb).toMatch(/^TLB: \d+ valid entries\n/);
      expect(tlb).toMatch(/^ {2}code-4[km]\[\d+\] 0xc0[0-9a-f]{6} -> 0x[0-9a-f]{8} {2}S W/m);
      expect(await c.request('s')).toBe('T05thread:1;');
      expect(await c.request(`z1,${vmFault.toString(16)},1`)).toBe('OK');

      // Ctrl-C right behind a continue stops the guest before it gets far.
      c.socket.write(Buffer.concat([framePacket('c'), Uint8Array.of(0x03)]));
      expect(await c.reply()).toBe('T02thread:1;');
      c.socket.write(framePacket('k'));
      expect(await emu.done).toBe(1);
      expect(emu.stderr()).toContain('atlas386: killed by gdb');
    } finally {
      c.socket.destroy();
      emu.child.kill();
    }
  });
});

describe('the real gdb', () => {
  it.skipIf(!gdbInstalled && !requireTools)('stops in vm_fault on a user page fault, steps, and runs hello to the end', { timeout: 20_000 }, async () => {
    if (!gdbInstalled) throw new Error('gdb is not installed (needed with ATLAS386_REQUIRE_TOOLS=1)');
    const emu = await bootWithGdb();
    const script = join(dir, 'script.gdb');
    // vm_fault is also called by copyout() to fault user pages in ahead;
    // the condition picks a call for a real #PF, where va is CR2.
    writeFileSync(script, [
      `file ${kernel}`,
      `target remote localhost:${emu.port}`,
      // A write watchpoint (Z2) on the timer's tick count: the first stop
      // is when paging makes it readable and it counts to 1, the second the next tick.
      'watch ticks',
      'continue',
      'continue',
      'delete',
      'break vm_fault if va == $cr2',
      'continue',
      'info registers eip',
      'p/x $cr2',
      'eval "monitor pagewalk 0x%x", $cr2', // gdb does not expand $cr2 inside monitor
      'monitor tlb',
      'bt 2',
      'stepi',
      'stepi',
      'stepi',
      'x/4xw $esp',
      'delete',
      'continue',
    ].join('\n') + '\n');
    const gdb = spawnSync('gdb', ['-batch', '-nx', '-ex', 'set architecture i386', '-x', script], { encoding: 'utf8', timeout: 30_000 });
    const out = gdb.stdout + gdb.stderr;
    try {
      expect(out).toMatch(/Hardware watchpoint 1: ticks\n\nOld value = <unreadable>\nNew value = 1\n/);
      expect(out).toMatch(/Hardware watchpoint 1: ticks\n\nOld value = 1\nNew value = 2\n/);
      expect(out).toMatch(/Breakpoint 2, vm_fault \(/);
      expect(out).toMatch(/eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <vm_fault>/);
      const cr2 = /\$1 = (0x[0-9a-f]+)/.exec(out)?.[1];
      expect(cr2).toBeDefined();
      expect(Number(cr2) >= 0x1000 && Number(cr2) < 0xc0000000).toBe(true); // a user address
      expect(out).toMatch(/in user_page_fault|in trap/);
      expect(out).toContain(`${`0x${Number(cr2).toString(16).padStart(8, '0')}`} (supervisor read)`);
      expect(out).toMatch(/#PF at the P[DT]E: error code 0x0 \(not present, read, supervisor\)/);
      expect(out).toMatch(/^TLB: \d+ valid entries$/m);
      expect(out.match(/^0x[0-9a-f]+\t\d+\t/gm)?.length).toBe(3); // three stepi lines
      expect(out).toMatch(/0x[0-9a-f]+:\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}/);
      expect(out).toContain('[Inferior 1 (Remote target) exited normally]');
      expect(await emu.done).toBe(0);
      expect(emu.stdout()).toContain('hello, world');
    } finally {
      emu.child.kill();
    }
  });
  it.skipIf(!gdbInstalled && !requireTools)('steps the page-fault handler by source lines, reverse-steps, and runs demand to the end', { timeout: 60_000 }, async () => {
    if (!gdbInstalled) throw new Error('gdb is not installed (needed with ATLAS386_REQUIRE_TOOLS=1)');
    const emu = await bootWithGdb(['demand']);
    const script = join(dir, 'demand.gdb');
    writeFileSync(script, [
      `file ${kernel}`,
      `target remote localhost:${emu.port}`,
      'break vm_fault if va == $cr2',
      'continue',
      'p/x $cr2',
      'eval "monitor pagewalk 0x%x user", $cr2',
      'monitor faults',
      'next',
      'next',
      'next',
      'p/x $pc',
      'stepi',
      'p/x $pc',
      'reverse-stepi',
      'p/x $pc',
      'delete',
      'continue',
    ].join('\n') + '\n');
    const gdb = spawnSync('gdb', ['-batch', '-nx', '-ex', 'set architecture i386', '-x', script], { encoding: 'utf8', timeout: 50_000 });
    const out = gdb.stdout + gdb.stderr;
    try {
      expect(out).toMatch(/Breakpoint 1, vm_fault \(vs=0x[0-9a-f]+, va=(va@entry=)?\d+/);
      const cr2 = Number(/\$1 = (0x[0-9a-f]+)/.exec(out)?.[1]);
      expect(cr2 >= 0x1000 && cr2 < 0xc0000000).toBe(true);
      // The walk names the missing page: the entry that is not present on the way to it.
      expect(out).toContain(`0x${cr2.toString(16).padStart(8, '0')} (user read) cr3=`);
      expect(out).toMatch(/#PF at the P[DT]E: error code 0x4 \(not present, read, user\)/);
      // Three source lines of vm_fault (gdb prints each line it stops at: `NNN\t<source>`).
      expect(out.match(/^\d+\t.*$/gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
      const [before, after, back] = [2, 3, 4].map((n) => new RegExp(`\\$${n} = (0x[0-9a-f]+)`).exec(out)?.[1]);
      expect(before).toBeDefined();
      expect(after).not.toBe(before);
      expect(back).toBe(before); // reverse-stepi came back to the instruction before the stepi
      expect(out).toContain('[Inferior 1 (Remote target) exited normally]');
      expect(await emu.done).toBe(0);
      expect(emu.stdout()).toMatch(/demand/);
    } finally {
      emu.child.kill();
    }
  });

  it.skipIf(!gdbInstalled && !requireTools)('a hardware watchpoint on a user variable triggers across its swap-out and swap-in', { timeout: 120_000 }, async () => {
    if (!gdbInstalled) throw new Error('gdb is not installed (needed with ATLAS386_REQUIRE_TOOLS=1)');
    const emu = await bootWithGdb(['--mem', '4M', 'swapvar']);
    const program = join(root, 'build', 'userland', 'swapvar');
    const script = join(dir, 'swapvar.gdb');
    writeFileSync(script, [
      `file ${program}`,
      `target remote localhost:${emu.port}`,
      'watch generation.value',
      'continue',
      'continue',
      'monitor faults',
      'continue',
    ].join('\n') + '\n');
    const gdb = spawnSync('gdb', ['-batch', '-nx', '-ex', 'set architecture i386', '-x', script], { encoding: 'utf8', timeout: 110_000 });
    const out = gdb.stdout + gdb.stderr;
    const page = elfSymbols(readFileSync(program)).get('generation')! & ~0xfff;
    try {
      expect(out).toMatch(/Hardware watchpoint 1: generation.value\n\nOld value = (<unreadable>|0)\nNew value = 1\n/);
      expect(out).toMatch(/Hardware watchpoint 1: generation.value\n\nOld value = 1\nNew value = 2\n/);
      // Between the two, the page went out to swap and came back in.
      expect(out).toMatch(new RegExp(`addr=0x${page.toString(16).padStart(8, '0')}.*swap-in`));
      expect(out).toContain('[Inferior 1 (Remote target) exited normally]');
      expect(await emu.done).toBe(0);
      expect(emu.stdout()).toContain('swapvar: generation 2, checksum 320a0300');
    } finally {
      emu.child.kill();
    }
  });
});
