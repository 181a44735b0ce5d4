// A GDB remote serial protocol stub (`atlas386 boot --gdb PORT`): gdb
// connects over TCP on 127.0.0.1 and drives the machine's run loop through
// the RunDebugger hooks (machine.ts).
//
// Breakpoints (Z0 and Z1 alike) are execution breakpoints the stub checks
// before each instruction: nothing is written into guest memory, so the
// kernel's checksums, copy-on-write and swap never see a 0xCC. While any
// breakpoint is set the CPU runs one instruction per cpu.run(1) call (the
// translator then runs no blocks longer than one instruction), a few million
// instructions per second; with none it runs at full speed. An external
// interrupt is delivered together with the first instruction of its handler,
// so a breakpoint on that very first instruction is passed over (exception
// handlers, #PF included, do stop on their first instruction).
//
// Memory accesses (m/M/X) use linear addresses, translated through the
// current page tables by the side-effect-free walker (Cpu.walk): no A/D bits,
// no TLB fills. A page that is not mapped gives E14.
//
// Write watchpoints (Z2, lengths 1, 2 and 4) are checked after each
// instruction (they single-step the CPU as breakpoints do): the watched bytes
// are read through the same walker and compared with the last value seen, so
// any change (by the CPU or by a device) stops the guest with `watch:ADDR`
// right after the instruction that made it. The core has no hook on reads,
// so read and access watchpoints (Z3/Z4) get the empty reply: unsupported.
//
// `monitor` commands (qRcmd): pagewalk, tlb, help; see monitorCommand().

import { createServer, type Server, type Socket } from 'node:net';
import { Reg, Seg, type AccessKind, type Cpu, type PageWalk, type RunResult } from './cpu.js';
import type { RunDebugger } from './machine.js';

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
/** Single steps per execute() call while breakpoints are set: the machine's loop yields between calls. */
const STEP_BATCH = 10_000;
const HEX = /^[0-9a-fA-F]+$/;

type State = 'stopped' | 'running' | 'stepping' | 'detached';

export class GdbStub implements RunDebugger {
  /** gdb sent k or vKill: the run should end. */
  killed = false;
  private server: Server | undefined;
  private socket: Socket | undefined;
  private readonly reader = new PacketReader();
  private lastSent: Buffer | undefined;
  private state: State = 'stopped';
  /** A stop to report (T packet) at the next pause(). */
  private pendingStop: string | undefined;
  private resume: (() => void) | undefined;
  /** Linear address -> the Z type that set it (0 software, 1 hardware), for the stop reply. */
  private readonly breakpoints = new Map<number, string>();
  /** The first instruction after a resume runs even if a breakpoint is on it (gdb resumes from one). */
  private skipBreakpointAt: number | undefined;
  /** Write watchpoints: linear address -> length and the bytes last seen there (undefined while unmapped). */
  private readonly watchpoints = new Map<number, { length: number; last: string | undefined }>();

  constructor(private readonly cpu: Cpu, private readonly onKill: () => void) {}

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
    if (this.socket && this.state !== 'detached' && !this.killed) this.send(`W${hexLe(status & 0xff, 1)}`);
    this.close();
  }

  close(): void {
    this.server?.close();
    this.socket?.end();
    this.socket = undefined;
  }

  // ---- RunDebugger ----

  pause(): Promise<void> | undefined {
    if (this.pendingStop !== undefined) {
      this.send(this.pendingStop);
      this.pendingStop = undefined;
      this.state = 'stopped';
    }
    if (this.state !== 'stopped') return undefined;
    return new Promise<void>((resolve) => { this.resume = resolve; });
  }

  execute(budget: number): RunResult {
    const cpu = this.cpu;
    if (this.state === 'stepping') {
      const result = this.settle(cpu.run(1));
      const hit = this.watchHit();
      this.stopWith(SIGTRAP, hit === undefined ? '' : `watch:${hit.toString(16)};`);
      return result;
    }
    if (this.breakpoints.size === 0 && this.watchpoints.size === 0) return cpu.run(budget);
    let result: RunResult = { reason: 'budget', eip: cpu.eip };
    for (let i = Math.min(budget, STEP_BATCH); i > 0; i--) {
      const linear = this.linearEip();
      const kind = this.breakpoints.get(linear);
      if (kind !== undefined && this.skipBreakpointAt !== linear) {
        this.stopWith(SIGTRAP, kind === '0' ? 'swbreak:;' : 'hwbreak:;');
        break;
      }
      this.skipBreakpointAt = undefined;
      result = this.settle(cpu.run(1));
      const hit = this.watchHit();
      if (hit !== undefined) {
        this.stopWith(SIGTRAP, `watch:${hit.toString(16)};`);
        break;
      }
      if (result.reason !== 'budget') break;
    }
    return result;
  }

  // ---- watchpoints ----

  /** The watched bytes as hex, through the page tables as they are now; undefined when not mapped. */
  private watchedBytes(address: number, length: number): string | undefined {
    const physical = this.physicalRange(address, length);
    return physical?.map((p) => this.cpu.ram[p]!.toString(16).padStart(2, '0')).join('');
  }

  /**
   * The address of a write watchpoint whose bytes changed since last seen
   * (every snapshot is brought up to date). A page that comes and goes
   * (swap, demand paging) does not count as a change by itself.
   */
  private watchHit(): number | undefined {
    let hit: number | undefined;
    for (const [address, w] of this.watchpoints) {
      const now = this.watchedBytes(address, w.length);
      if (now === undefined) continue;
      if (w.last !== undefined && now !== w.last && hit === undefined) hit = address;
      w.last = now;
    }
    return hit;
  }

  /** Takes new snapshots (gdb may have written memory while the guest was stopped). */
  private refreshWatchpoints(): void {
    for (const [address, w] of this.watchpoints) w.last = this.watchedBytes(address, w.length) ?? w.last;
  }

  // ---- the connection ----

  private linearEip(): number {
    return (this.cpu.segmentBase(Seg.CS) + this.cpu.eip) >>> 0;
  }

  /** run(1) reports a delivered exception the way run() does: as a normal end of the budget. */
  private settle(result: RunResult): RunResult {
    return result.reason === 'delivered' ? { reason: 'budget', eip: result.eip } : result;
  }

  private stopWith(signal: number, extra = ''): void {
    this.pendingStop = `T${hexLe(signal, 1)}thread:1;${extra}`;
  }

  private go(state: 'running' | 'stepping'): void {
    this.state = state;
    this.skipBreakpointAt = this.linearEip();
    this.refreshWatchpoints();
    const resume = this.resume;
    this.resume = undefined;
    resume?.();
  }

  private disconnected(): void {
    if (this.socket === undefined && this.state === 'detached') return;
    this.socket = undefined;
    this.detach();
  }

  /** The guest runs on freely, as if gdb had never come. */
  private detach(): void {
    this.breakpoints.clear();
    this.watchpoints.clear();
    this.pendingStop = undefined;
    this.go('running');
    this.state = 'detached';
  }

  private receive(chunk: Buffer): void {
    for (const event of this.reader.feed(chunk)) {
      if (event.kind === 'bad') this.socket?.write('-');
      else if (event.kind === 'nak') { if (this.lastSent) this.socket?.write(this.lastSent); }
      else if (event.kind === 'interrupt') { if (this.state === 'running') this.stopWith(SIGINT); }
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
    switch (command) {
      case '?': return `T${hexLe(SIGTRAP, 1)}thread:1;`;
      case 'g': return this.readAllRegisters();
      case 'G': return this.writeAllRegisters(args);
      case 'p': return this.readOneRegister(args);
      case 'P': return this.writeOneRegister(args);
      case 'm': return this.readMemory(args);
      case 'M': return this.writeMemoryHex(args);
      case 'X': return this.writeMemoryBinary(args);
      case 'c': case 'C': case 's': case 'S': return this.resumeCommand(command, args);
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
    if (packet.startsWith('qSupported')) return `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;swbreak+;hwbreak+`;
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
   * The physical address of each byte of a linear range, through the page
   * tables as they are now; undefined when a page is not mapped or lies
   * outside RAM.
   */
  private physicalRange(address: number, length: number): number[] | undefined {
    const out: number[] = [];
    let cached = -1, frame = 0;
    for (let i = 0; i < length; i++) {
      const linear = (address + i) >>> 0;
      const page = linear >>> 12;
      if (page !== cached) {
        const base = this.translate((page << 12) >>> 0);
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

  private translate(linear: number): number | undefined {
    if (!this.cpu.pagingEnabled) return linear;
    const walk = this.cpu.walk(linear);
    return walk.faultCode === undefined ? walk.physical : undefined;
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

  /** c/s [addr], C/S sig[;addr]: resume (the signal is not delivered: there are no signals on bare hardware). */
  private resumeCommand(command: string, args: string): string | undefined {
    const addressText = command === 'c' || command === 's' ? args : args.split(';')[1] ?? '';
    if (addressText !== '') {
      if (!/^[0-9a-fA-F]{1,8}$/.test(addressText)) return 'E01';
      this.cpu.eip = parseInt(addressText, 16);
    }
    this.go(command.toLowerCase() === 's' ? 'stepping' : 'running');
    return undefined;
  }

  /**
   * Z0/Z1 (software and hardware breakpoints: the same execution check), Z2
   * (write watchpoints of 1, 2 or 4 bytes); Z3/Z4 (read, access) are not
   * supported: there is no hook on reads.
   */
  private breakpoint(insert: boolean, args: string): string {
    const m = /^([0-9]),([0-9a-fA-F]{1,8}),([0-9a-fA-F]+)/.exec(args);
    if (!m) return 'E01';
    const address = parseInt(m[2]!, 16);
    if (m[1] === '2') {
      const length = parseInt(m[3]!, 16);
      if (length !== 1 && length !== 2 && length !== 4) return 'E01';
      if (insert) this.watchpoints.set(address, { length, last: this.watchedBytes(address, length) });
      else this.watchpoints.delete(address);
      return 'OK';
    }
    if (m[1] !== '0' && m[1] !== '1') return '';
    if (insert) this.breakpoints.set(address, m[1]!);
    else this.breakpoints.delete(address);
    return 'OK';
  }

  // ---- monitor commands ----

  /** qRcmd: the command in hex; the output goes out as O packets (hex text), then OK. */
  private monitor(hex: string): string {
    if (hex.length % 2 !== 0 || (hex.length > 0 && !HEX.test(hex))) return 'E01';
    const output = monitorCommand(this.cpu, Buffer.from(hex, 'hex').toString('latin1'));
    for (let at = 0; at < output.length; at += 0x1000) {
      this.send(`O${Buffer.from(output.slice(at, at + 0x1000), 'latin1').toString('hex')}`);
    }
    return 'OK';
  }
}

const MONITOR_HELP = [
  'monitor commands:',
  '  pagewalk ADDR [CR3] [read|write|fetch] [user]',
  '      walk ADDR (hex) through the page tables at CR3 (default: the current one) as that access',
  '      would (default: a supervisor read): PDE, PTE, flags, the physical address or the fault',
  '  tlb      the valid TLB entries, marked stale where a walk now disagrees',
  '  help     this list',
].join('\n') + '\n';

const hex8 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

const ENTRY_FLAGS: [number, string][] = [[1, 'W'], [2, 'U'], [3, 'PWT'], [4, 'PCD'], [5, 'A'], [6, 'D'], [8, 'G']];

/** A page-table entry's flags, e.g. `P W U A`; `not present` when bit 0 is clear. */
export function entryFlags(entry: number, pde: boolean): string {
  if ((entry & 1) === 0) return 'not present';
  const names = ['P'];
  for (const [bit, name] of ENTRY_FLAGS) if ((entry >>> bit) & 1) names.push(name);
  if ((entry >>> 7) & 1) names.push(pde ? 'PS' : 'PAT');
  const avl = (entry >>> 9) & 7;
  if (avl !== 0) names.push(`avl=${avl}`);
  return names.join(' ');
}

/** A #PF error code in words, e.g. `not present, write, user`. */
export function decodeFaultCode(code: number): string {
  const parts = [
    code & 1 ? 'protection' : 'not present',
    code & 16 ? 'fetch' : code & 2 ? 'write' : 'read',
    code & 4 ? 'user' : 'supervisor',
  ];
  if (code & 8) parts.push('reserved bit');
  return parts.join(', ');
}

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
  if (cr3 === undefined && !cpu.pagingEnabled) return `${hex8(linear)}: paging is off, physical = linear\n`;
  const walk: PageWalk = cpu.walk(linear, { directory: cr3, access, user });
  const lines = [`${hex8(linear)} (${user ? 'user' : 'supervisor'} ${access}) cr3=${hex8(walk.directory)}`];
  lines.push(`  PDE[${linear >>> 22}] @${hex8(walk.pdeAddress)} = ${hex8(walk.pde)}  ${entryFlags(walk.pde, true)}`);
  if (walk.pte !== undefined && walk.pteAddress !== undefined) {
    lines.push(`  PTE[${(linear >>> 12) & 0x3ff}] @${hex8(walk.pteAddress)} = ${hex8(walk.pte)}  ${entryFlags(walk.pte, false)}`);
  } else if (walk.large && walk.pde & 1) {
    lines.push('  (4 MiB page)');
  }
  if (walk.physical !== undefined) lines.push(`  physical ${hex8(walk.physical)}`);
  if (walk.faultCode !== undefined) {
    const step = (walk.pde & 1) === 0 ? 'at the PDE' : walk.physical === undefined ? 'at the PTE' : 'on the permissions';
    lines.push(`  #PF ${step}: error code ${hex8(walk.faultCode).replace(/^0x0*(?=.)/, '0x')} (${decodeFaultCode(walk.faultCode)})`);
  }
  return lines.join('\n') + '\n';
}

function tlbCommand(cpu: Cpu): string {
  const entries = cpu.tlbEntries();
  if (entries.length === 0) return 'TLB: no valid entries\n';
  const lines = [`TLB: ${entries.length} valid entries`];
  for (const e of entries) {
    const flags = [e.user ? 'U' : 'S', e.writable ? 'W' : 'R', e.dirty ? 'D' : '', e.global ? 'G' : ''].filter((f) => f !== '').join(' ');
    let line = `  ${e.tlb}[${e.index}] ${hex8(e.linear)} -> ${hex8(e.physical)}  ${flags}`;
    if (cpu.pagingEnabled) {
      const walk = cpu.walk(e.linear);
      const now = walk.physical === undefined ? undefined : walk.large ? walk.physical & ~0x3fffff : walk.physical & ~0xfff;
      if (now === undefined || now >>> 0 !== e.physical >>> 0) {
        line += now === undefined ? '  stale: not mapped now' : `  stale: now ${hex8(now)}`;
      }
    }
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}
