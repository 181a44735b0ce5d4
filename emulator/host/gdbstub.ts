// A GDB remote serial protocol stub (`atlas386 boot --gdb PORT`, `atlas386
// debug --gdb PORT`): gdb connects over TCP on 127.0.0.1 and drives the
// debugger's engine (debugger.ts), which holds and runs the machine.
//
// Breakpoints (Z0 and Z1 alike) are the core's execution breakpoints, which
// stop before the instruction: nothing is written into guest memory, so the
// kernel's checksums, copy-on-write and swap never see a 0xCC. Watchpoints
// (Z2 write, Z3 read, Z4 access; 1 to 4096 bytes of linear addresses) are the
// core's data watchpoints: they stop right after the instruction whose
// access touched the watched bytes, and the stop reply names the watchpoint.
// A watchpoint follows the linear address, so a variable watched in a
// process stays watched while its page is swapped out and in again.
//
// Reverse execution (bs, bc: gdb's reverse-stepi and reverse-continue) goes
// back by replaying from the engine's snapshots; the start of the recorded
// history stops with `replaylog:begin`.
//
// Memory accesses (m/M/X) use linear addresses, translated through the
// current page tables by the side-effect-free walker (Cpu.walk): no A/D bits,
// no TLB fills. A page that is not mapped gives E14. `monitor phys on`
// switches them to physical addresses.
//
// `monitor` commands (qRcmd): pagewalk, tlb, phys, help, and the kernel's
// views (frames, faults, swap, pt) when the caller provides them.

import { createServer, type Server, type Socket } from 'node:net';
import { Reg, Seg, type AccessKind, type Cpu, type PageWalk } from './cpu.js';
import type { Debugger, StopEvent } from './debugger.js';
import { formatPageWalk } from './inspect.js';
import { hex32 } from './elf.js';

// ---- the packet layer ----

/** The largest packet we accept (and advertise as PacketSize). */
export const MAX_PACKET = 0x4000;

export function checksum(data: Uint8Array | string): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** A packet ready to send: `$data#cs`, with `$ # } *` escaped (so binary and XML replies are safe). */
export function framePacket(payload: string | Uint8Array): Buffer {
  const raw = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const out: number[] = [];
  for (const b of raw) {
    if (b === 0x24 || b === 0x23 || b === 0x7d || b === 0x2a) out.push(0x7d, b ^ 0x20);
    else out.push(b);
  }
  const body = Buffer.from(out);
  return Buffer.concat([Buffer.from('$'), body, Buffer.from(`#${checksum(body).toString(16).padStart(2, '0')}`)]);
}

/**
 * Undoes the escapes (`}` then the byte XOR 0x20) and run-length encoding
 * (`*` then a count character n: the previous byte n - 29 more times) of a
 * packet body. Undefined when the body is malformed.
 */
export function decodeBody(body: Uint8Array): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b === 0x7d) {
      if (i + 1 >= body.length) return undefined;
      out.push(body[++i]! ^ 0x20);
    } else if (b === 0x2a) {
      if (out.length === 0 || i + 1 >= body.length) return undefined;
      const repeat = body[++i]! - 29;
      if (repeat < 3 || repeat > 97) return undefined; // counts '#'..'~' minus the forbidden '$' '#'
      const last = out[out.length - 1]!;
      for (let k = 0; k < repeat; k++) out.push(last);
    } else {
      out.push(b);
    }
    if (out.length > MAX_PACKET) return undefined;
  }
  return Uint8Array.from(out);
}

export type PacketEvent =
  | { kind: 'packet'; data: Uint8Array }
  | { kind: 'interrupt' } // 0x03, Ctrl-C
  | { kind: 'ack' }
  | { kind: 'nak' }
  | { kind: 'bad' }; // bad checksum, malformed or too long: the stub answers '-'

/**
 * Splits the byte stream from gdb into events. Feed it chunks as they
 * arrive; a packet may be split anywhere. Bytes outside packets other than
 * acks and Ctrl-C are noise and dropped.
 */
export class PacketReader {
  private body: number[] | undefined; // inside $...: the raw body so far
  private sum: string | undefined; // after '#': the checksum characters so far

  feed(chunk: Uint8Array): PacketEvent[] {
    const events: PacketEvent[] = [];
    for (const b of chunk) {
      const e = this.byte(b);
      if (e) events.push(e);
    }
    return events;
  }

  private byte(b: number): PacketEvent | undefined {
    if (this.body === undefined) {
      if (b === 0x24) this.body = [];
      else if (b === 0x03) return { kind: 'interrupt' };
      else if (b === 0x2b) return { kind: 'ack' };
      else if (b === 0x2d) return { kind: 'nak' };
      return undefined;
    }
    if (this.sum === undefined) {
      if (b === 0x23) { this.sum = ''; return undefined; }
      if (b === 0x24) { this.body = []; return { kind: 'bad' }; } // a new packet cut this one short
      this.body.push(b);
      // Escapes and RLE at most double... an absurd length is refused early.
      if (this.body.length > 2 * MAX_PACKET) { this.body = undefined; return { kind: 'bad' }; }
      return undefined;
    }
    this.sum += String.fromCharCode(b);
    if (this.sum.length < 2) return undefined;
    return this.finish();
  }

  private finish(): PacketEvent {
    const raw = Uint8Array.from(this.body!);
    const sum = this.sum!;
    this.body = undefined;
    this.sum = undefined;
    if (!/^[0-9a-fA-F]{2}$/.test(sum) || parseInt(sum, 16) !== checksum(raw)) return { kind: 'bad' };
    const data = decodeBody(raw);
    return data ? { kind: 'packet', data } : { kind: 'bad' };
  }
}

// ---- registers ----

/**
 * The target description: gdb's own i386 core feature (gdb requires the x87
 * registers in it, which Atlas386 lacks: they read as 0), then the control
 * registers. Register numbers are the order here: eax..edi 0-7, eip 8,
 * eflags 9, cs ss ds es fs gs 10-15, st0-st7 16-23, fctrl..fop 24-31,
 * cr0 cr2 cr3 cr4 32-35.
 */
const GPRS = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const SEGMENTS: [string, Seg][] = [['cs', Seg.CS], ['ss', Seg.SS], ['ds', Seg.DS], ['es', Seg.ES], ['fs', Seg.FS], ['gs', Seg.GS]];
const FPU_CONTROL = ['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'];
const CONTROL: (0 | 2 | 3 | 4)[] = [0, 2, 3, 4];
const EFLAGS_FIELDS: [string, number][] = [
  ['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9], ['DF', 10], ['OF', 11],
  ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21],
];
const REG_EIP = 8, REG_EFLAGS = 9, REG_SEG = 10, REG_ST = 16, REG_FPU = 24, REG_CR = 32, REG_COUNT = 36;

function buildTargetXml(): string {
  const reg = (name: string, bits: number, type: string, extra = ''): string =>
    `<reg name="${name}" bitsize="${bits}" type="${type}"${extra}/>`;
  const core = [
    '<flags id="i386_eflags" size="4">',
    ...EFLAGS_FIELDS.map(([name, bit]) => `<field name="${name}" start="${bit}" end="${bit}"/>`),
    '</flags>',
    ...GPRS.map((name, i) => reg(name, 32, i === 4 || i === 5 ? 'data_ptr' : 'int32')),
    reg('eip', 32, 'code_ptr'),
    reg('eflags', 32, 'i386_eflags'),
    ...SEGMENTS.map(([name]) => reg(name, 32, 'int32')),
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => reg(`st${i}`, 80, 'i387_ext')),
    ...FPU_CONTROL.map((name) => reg(name, 32, 'int', ' group="float"')),
  ];
  const control = CONTROL.map((n, i) => reg(`cr${n}`, 32, 'int32', ` regnum="${REG_CR + i}" group="system"`));
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    '<architecture>i386</architecture>',
    '<feature name="org.gnu.gdb.i386.core">', ...core, '</feature>',
    '<feature name="org.atlas386.i386.control">', ...control, '</feature>',
    '</target>',
  ].join('\n');
}

export const TARGET_XML = buildTargetXml();

function hexLe(value: number, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += (Math.floor(value / 2 ** (8 * i)) & 0xff).toString(16).padStart(2, '0');
  return s;
}

function parseHexLe(hex: string): number {
  let v = 0;
  for (let i = hex.length / 2 - 1; i >= 0; i--) v = v * 256 + parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return v >>> 0;
}

const regBytes = (n: number): number => (n >= REG_ST && n < REG_FPU ? 10 : 4);

function readRegister(cpu: Cpu, n: number): string {
  if (n < 8) return hexLe(cpu.getReg(n as Reg), 4);
  if (n === REG_EIP) return hexLe(cpu.eip, 4);
  if (n === REG_EFLAGS) return hexLe(cpu.eflags, 4);
  if (n < REG_ST) return hexLe(cpu.segmentSelector(SEGMENTS[n - REG_SEG]![1]), 4);
  if (n < REG_CR) return '00'.repeat(regBytes(n)); // no FPU
  return hexLe(cpu.getCr(CONTROL[n - REG_CR]!), 4);
}

/** Writes register n; false when it cannot be changed (segments: only to the value they hold; the FPU: only to 0). */
function writeRegister(cpu: Cpu, n: number, hex: string): boolean {
  const v = parseHexLe(hex.slice(0, 8));
  if (n < 8) cpu.setReg(n as Reg, v);
  else if (n === REG_EIP) cpu.eip = v;
  else if (n === REG_EFLAGS) cpu.eflags = v;
  else if (n < REG_ST) return cpu.segmentSelector(SEGMENTS[n - REG_SEG]![1]) === v;
  else if (n < REG_CR) return /^0*$/.test(hex);
  else cpu.setCr(CONTROL[n - REG_CR]!, v);
  return true;
}

// ---- the stub ----

const SIGINT = 2, SIGTRAP = 5;
const HEX = /^[0-9a-fA-F]+$/;

/** The kernel-level monitor commands (frames, faults, swap, pt), given by the caller: they need the kernel's symbols. */
export type MonitorExtension = (command: string, args: string[]) => string | undefined;

export class GdbStub {
  /** gdb sent k or vKill: the run should end. */
  killed = false;
  private server: Server | undefined;
  private socket: Socket | undefined;
  private readonly reader = new PacketReader();
  private lastSent: Buffer | undefined;
  /** gdb resumed the guest and waits for a stop reply. */
  private waiting = false;
  private detached = false;
  /** Z packets' breakpoints and watchpoints: `type,addr,kind` -> the engine's number. */
  private readonly points = new Map<string, number>();
  /** `monitor phys on`: m/M/X address physical memory instead of linear. */
  private physical = false;
  private readonly cpu: Cpu;

  constructor(private readonly engine: Debugger, private readonly onKill: () => void, private readonly extension?: MonitorExtension) {
    this.cpu = engine.cpu;
  }

  /** Listens on 127.0.0.1:port (one client); resolves once the port is open, with a promise of gdb's connection. */
  async listen(port: number): Promise<{ connected: Promise<void> }> {
    const server = createServer();
    this.server = server;
    const connected = new Promise<void>((resolve) => {
      server.once('connection', (socket: Socket) => {
        server.close(); // no second client
        this.attach(socket);
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return { connected };
  }

  private attach(socket: Socket): void {
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.disconnected());
    socket.on('close', () => this.disconnected());
  }

  /** The run ended (exit port, triple fault...): tell gdb the inferior exited, and hang up. */
  guestEnded(status: number): void {
    if (this.socket && !this.detached && !this.killed) this.send(`W${hexLe(status & 0xff, 1)}`);
    this.close();
  }

  close(): void {
    this.server?.close();
    this.socket?.end();
    this.socket = undefined;
  }

  // ---- the connection ----

  private disconnected(): void {
    if (this.socket === undefined && this.detached) return;
    this.socket = undefined;
    this.detach();
  }

  /** The guest runs on freely, as if gdb had never come. */
  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    for (const id of this.points.values()) this.engine.delete(id);
    this.points.clear();
    if (this.engine.stopped && !this.engine.finished) this.engine.detach();
  }

  private receive(chunk: Buffer): void {
    for (const event of this.reader.feed(chunk)) {
      if (event.kind === 'bad') this.socket?.write('-');
      else if (event.kind === 'nak') { if (this.lastSent) this.socket?.write(this.lastSent); }
      else if (event.kind === 'interrupt') this.engine.interrupt();
      else if (event.kind === 'packet') {
        this.socket?.write('+');
        const reply = this.handleSafely(Buffer.from(event.data).toString('latin1'));
        if (reply !== undefined) this.send(reply);
      }
    }
  }

  private send(payload: string): void {
    this.lastSent = framePacket(payload);
    this.socket?.write(this.lastSent);
  }

  /** Whatever a client sends, the emulator runs on: a packet the stub trips over gets an error reply. */
  private handleSafely(packet: string): string | undefined {
    try {
      return this.handle(packet);
    } catch {
      return 'E00';
    }
  }

  /** One packet; returns the reply, or undefined when there is none now (resume: the stop reply comes later). */
  handle(packet: string): string | undefined {
    const command = packet[0] ?? '';
    const args = packet.slice(1);
    if (this.waiting) return undefined; // gdb sends nothing but Ctrl-C while the guest runs
    switch (command) {
      case '?': return this.engine.finished ? `W00` : `T${hexLe(SIGTRAP, 1)}thread:1;`;
      case 'g': return this.readAllRegisters();
      case 'G': return this.writeAllRegisters(args);
      case 'p': return this.readOneRegister(args);
      case 'P': return this.writeOneRegister(args);
      case 'm': return this.readMemory(args);
      case 'M': return this.writeMemoryHex(args);
      case 'X': return this.writeMemoryBinary(args);
      case 'c': case 'C': case 's': case 'S': return this.resumeCommand(command, args);
      case 'b': return this.reverseCommand(args);
      case 'Z': case 'z': return this.breakpoint(command === 'Z', args);
      case 'H': case 'T': return 'OK'; // one thread: every thread id names it
      case 'D': this.send('OK'); this.detach(); return undefined;
      case 'k': this.kill(); return undefined;
      case 'q': return this.query(packet);
      case 'v': return this.vPacket(packet);
      default: return '';
    }
  }

  /** vKill ends the run; the other v packets (vCont, vMustReplyEmpty...) are unsupported: empty reply. */
  private vPacket(packet: string): string {
    if (!packet.startsWith('vKill')) return '';
    this.kill();
    return 'OK';
  }

  private kill(): void {
    this.killed = true;
    this.onKill();
    this.detach();
  }

  private query(packet: string): string {
    if (packet.startsWith('qSupported')) return `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;swbreak+;hwbreak+;ReverseStep+;ReverseContinue+`;
    if (packet === 'qAttached') return '1';
    if (packet === 'qC') return 'QC1';
    if (packet === 'qfThreadInfo') return 'm1';
    if (packet === 'qsThreadInfo') return 'l';
    if (packet.startsWith('qRcmd,')) return this.monitor(packet.slice(6));
    const xfer = /^qXfer:features:read:([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(packet);
    if (xfer) {
      if (xfer[1] !== 'target.xml') return 'E00';
      const offset = parseInt(xfer[2]!, 16), length = Math.min(parseInt(xfer[3]!, 16), MAX_PACKET - 16);
      const chunk = TARGET_XML.slice(offset, offset + length);
      return (offset + length >= TARGET_XML.length ? 'l' : 'm') + chunk;
    }
    return '';
  }

  private readAllRegisters(): string {
    let s = '';
    for (let n = 0; n < REG_COUNT; n++) s += readRegister(this.cpu, n);
    return s;
  }

  /** G: every register in order; the ones that cannot change (segments, FPU) are left as they are. */
  private writeAllRegisters(hex: string): string {
    if (!HEX.test(hex)) return 'E01';
    let at = 0;
    for (let n = 0; n < REG_COUNT && at + 2 * regBytes(n) <= hex.length; n++) {
      const field = hex.slice(at, at + 2 * regBytes(n));
      if (n < REG_SEG || n >= REG_CR) writeRegister(this.cpu, n, field);
      at += field.length;
    }
    return 'OK';
  }

  private readOneRegister(args: string): string {
    const n = parseInt(args, 16);
    return HEX.test(args) && n < REG_COUNT ? readRegister(this.cpu, n) : 'E01';
  }

  private writeOneRegister(args: string): string {
    const m = /^([0-9a-fA-F]+)=([0-9a-fA-F]+)$/.exec(args);
    if (!m) return 'E01';
    const n = parseInt(m[1]!, 16);
    if (n >= REG_COUNT || m[2]!.length !== 2 * regBytes(n)) return 'E01';
    return writeRegister(this.cpu, n, m[2]!) ? 'OK' : 'E01';
  }

  /** `addr,length` in hex, each at most 32 bits, length within a packet. */
  private parseRange(text: string): { address: number; length: number } | undefined {
    const m = /^([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(text);
    if (!m) return undefined;
    const length = parseInt(m[2]!, 16);
    if (length > MAX_PACKET) return undefined;
    return { address: parseInt(m[1]!, 16), length };
  }

  /**
   * The physical address of each byte of a range (linear through the page
   * tables as they are now, or physical in `monitor phys` mode); undefined
   * when a page is not mapped or lies outside RAM.
   */
  private physicalRange(address: number, length: number): number[] | undefined {
    const out: number[] = [];
    let cached = -1, frame = 0;
    for (let i = 0; i < length; i++) {
      const linear = (address + i) >>> 0;
      const page = linear >>> 12;
      if (page !== cached) {
        const base = this.physical ? (page << 12) >>> 0 : this.engine.translate((page << 12) >>> 0);
        if (base === undefined) return undefined;
        cached = page;
        frame = base;
      }
      const physical = frame + (linear & 0xfff);
      if (physical >= this.cpu.ram.length) return undefined;
      out.push(physical);
    }
    return out;
  }

  private readMemory(args: string): string {
    const range = this.parseRange(args);
    if (!range) return 'E01';
    const physical = this.physicalRange(range.address, range.length);
    if (!physical) return 'E14';
    return physical.map((p) => this.cpu.ram[p]!.toString(16).padStart(2, '0')).join('');
  }

  private writeMemoryHex(args: string): string {
    const [rangeText, hex = ''] = args.split(':');
    const range = this.parseRange(rangeText ?? '');
    if (!range || hex.length !== 2 * range.length || (hex.length > 0 && !HEX.test(hex))) return 'E01';
    return this.writeMemory(range.address, Buffer.from(hex, 'hex'));
  }

  private writeMemoryBinary(args: string): string {
    const colon = args.indexOf(':');
    const range = colon < 0 ? undefined : this.parseRange(args.slice(0, colon));
    const data = Buffer.from(args.slice(colon + 1), 'latin1'); // already unescaped by the reader
    if (!range || data.length !== range.length) return 'E01';
    return this.writeMemory(range.address, data);
  }

  private writeMemory(address: number, data: Uint8Array): string {
    const physical = this.physicalRange(address, data.length);
    if (!physical) return 'E14';
    physical.forEach((p, i) => { this.cpu.ram[p] = data[i]!; });
    // The bytes may be code the translator has compiled.
    if (data.length > 0) this.cpu.discardTranslations();
    return 'OK';
  }

  // ---- run control ----

  /** c/s [addr], C/S sig[;addr]: resume (the signal is not delivered: there are no signals on bare hardware). */
  private resumeCommand(command: string, args: string): string | undefined {
    if (this.engine.finished) return 'W00';
    const addressText = command === 'c' || command === 's' ? args : args.split(';')[1] ?? '';
    if (addressText !== '') {
      if (!/^[0-9a-fA-F]{1,8}$/.test(addressText)) return 'E01';
      this.cpu.eip = parseInt(addressText, 16);
    }
    this.await(command.toLowerCase() === 's' ? this.engine.step(1) : this.engine.continue());
    return undefined;
  }

  /** bs, bc: reverse step and continue, by replaying from the engine's snapshots. */
  private reverseCommand(args: string): string | undefined {
    if (args !== 's' && args !== 'c') return '';
    if (this.engine.finished) return 'E01';
    this.await(args === 's' ? this.engine.reverseStep(1) : this.engine.reverseContinue());
    return undefined;
  }

  /** Sends the stop reply when the engine stops. */
  private await(stop: Promise<StopEvent>): void {
    this.waiting = true;
    stop.then(
      (event) => {
        this.waiting = false;
        if (event.kind !== 'ended') this.send(this.stopReply(event));
      },
      () => {
        this.waiting = false;
        this.send(`T${hexLe(SIGTRAP, 1)}thread:1;`);
      },
    );
  }

  private stopReply(event: StopEvent): string {
    const trap = `T${hexLe(SIGTRAP, 1)}thread:1;`;
    switch (event.kind) {
      case 'interrupted': return `T${hexLe(SIGINT, 1)}thread:1;`;
      case 'history-begin': return `${trap}replaylog:begin;`;
      case 'breakpoint': return `${trap}${event.point.label === 'gdb Z0' ? 'swbreak' : 'hwbreak'}:;`;
      case 'watch': {
        const name = event.point.access === 'write' ? 'watch' : event.point.access === 'read' ? 'rwatch' : 'awatch';
        // The watched address gdb set (it matches the stop to its watchpoint by it).
        return `${trap}${name}:${event.point.address.toString(16)};`;
      }
      default: return trap;
    }
  }

  /**
   * Z0/Z1 (software and hardware breakpoints: both are the core's execution
   * breakpoints, nothing is written into guest memory), Z2/Z3/Z4 (write,
   * read and access watchpoints on linear addresses, 1 to 4096 bytes).
   */
  private breakpoint(insert: boolean, args: string): string {
    const m = /^([0-9]),([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,4})$/.exec(args.split(';')[0] ?? '');
    if (!m) return 'E01';
    const type = Number(m[1]), address = parseInt(m[2]!, 16), length = parseInt(m[3]!, 16);
    if (type > 4) return '';
    const key = `${type},${address},${length}`;
    if (!insert) {
      const id = this.points.get(key);
      if (id !== undefined) this.engine.delete(id);
      this.points.delete(key);
      return 'OK';
    }
    if (this.points.has(key)) return 'OK';
    try {
      const point = type <= 1
        ? this.engine.addBreakpoint(address, `gdb Z${type}`)
        : this.engine.addWatchpoint(address, length, type === 2 ? 'write' : type === 3 ? 'read' : 'access', 'linear', `gdb Z${type}`);
      this.points.set(key, point.id);
      return 'OK';
    } catch {
      return 'E01'; // too many, or a bad length
    }
  }

  // ---- monitor commands ----

  /** qRcmd: the command in hex; the output goes out as O packets (hex text), then OK. */
  private monitor(hex: string): string {
    if (hex.length % 2 !== 0 || (hex.length > 0 && !HEX.test(hex))) return 'E01';
    const text = Buffer.from(hex, 'hex').toString('latin1');
    const output = this.monitorText(text);
    for (let at = 0; at < output.length; at += 0x1000) {
      this.send(`O${Buffer.from(output.slice(at, at + 0x1000), 'latin1').toString('hex')}`);
    }
    return 'OK';
  }

  private monitorText(text: string): string {
    const words = text.trim().split(/\s+/).filter((w) => w !== '');
    if (words[0] === 'phys') {
      if (words[1] === 'on' || words[1] === 'off') this.physical = words[1] === 'on';
      else if (words.length > 1) return "usage: monitor phys [on|off]\n";
      return `memory accesses (m, M, X) use ${this.physical ? 'physical' : 'linear'} addresses\n`;
    }
    const extended = words[0] === undefined ? undefined : this.extension?.(words[0], words.slice(1));
    return extended ?? monitorCommand(this.cpu, text);
  }
}

const MONITOR_HELP = [
  'monitor commands:',
  '  pagewalk ADDR [CR3] [read|write|fetch] [user]',
  '      walk ADDR (hex) through the page tables at CR3 (default: the current one) as that access',
  '      would (default: a supervisor read): PDE, PTE, flags, the physical address or the fault',
  '  tlb      the valid TLB entries, marked stale where a walk now disagrees',
  '  phys [on|off]  m, M and X address physical memory (on) or linear (off, the default)',
  '  frames [all|PID]  the physical frame map (the Atlas kernel\'s frame table)',
  '  faults   the recent page faults and their outcome (the kernel\'s fault history)',
  '  swap     the swap areas and their slot maps',
  '  pt [PID] the address space as ranges: permissions, A/D, resident, swapped, file',
  '  ps       the processes',
  '  help     this list',
].join('\n') + '\n';

function parseHexWord(word: string | undefined): number | undefined {
  const m = /^(?:0x)?([0-9a-fA-F]{1,8})$/.exec(word ?? '');
  return m ? parseInt(m[1]!, 16) >>> 0 : undefined;
}

/** Runs one monitor command; returns its output (lines ending in \n). Never throws on bad input. */
export function monitorCommand(cpu: Cpu, command: string): string {
  const words = command.trim().split(/\s+/).filter((w) => w !== '');
  const name = words[0] ?? '';
  if (name === '' || name === 'help') return MONITOR_HELP;
  if (name === 'pagewalk') return pagewalkCommand(cpu, words.slice(1));
  if (name === 'tlb') return tlbCommand(cpu);
  return `unknown monitor command '${name}' (try 'monitor help')\n`;
}

function pagewalkCommand(cpu: Cpu, args: string[]): string {
  const usage = 'usage: monitor pagewalk ADDR [CR3] [read|write|fetch] [user]\n';
  let access: AccessKind = 'read', user = false;
  const numbers: number[] = [];
  for (const word of args) {
    if (word === 'read' || word === 'write' || word === 'fetch') access = word;
    else if (word === 'user') user = true;
    else {
      const v = parseHexWord(word);
      if (v === undefined) return `pagewalk: bad address '${word}'\n${usage}`;
      numbers.push(v);
    }
  }
  if (numbers.length === 0 || numbers.length > 2) return usage;
  const [linear, cr3] = numbers as [number, number | undefined];
  if (cr3 === undefined && !cpu.pagingEnabled) return `${hex32(linear)}: paging is off, physical = linear\n`;
  const walk: PageWalk = cpu.walk(linear, { directory: cr3, access, user });
  const lines = formatPageWalk(walk, access, user);
  return lines.join('\n') + '\n';
}

function tlbCommand(cpu: Cpu): string {
  const entries = cpu.tlbEntries();
  if (entries.length === 0) return 'TLB: no valid entries\n';
  const lines = [`TLB: ${entries.length} valid entries`];
  for (const e of entries) {
    const flags = [e.user ? 'U' : 'S', e.writable ? 'W' : 'R', e.dirty ? 'D' : '', e.global ? 'G' : ''].filter((f) => f !== '').join(' ');
    let line = `  ${e.tlb}[${e.index}] ${hex32(e.linear)} -> ${hex32(e.physical)}  ${flags}`;
    if (cpu.pagingEnabled) {
      const walk = cpu.walk(e.linear);
      const now = walk.physical === undefined ? undefined : walk.large ? walk.physical & ~0x3fffff : walk.physical & ~0xfff;
      if (now === undefined || now >>> 0 !== e.physical >>> 0) {
        line += now === undefined ? '  stale: not mapped now' : `  stale: now ${hex32(now)}`;
      }
    }
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}
