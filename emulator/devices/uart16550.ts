// The National Semiconductor PC16550D UART (COM1 at 0x3F8, IRQ4 on a PC),
// modelled at the register level from the datasheet, so that serial drivers
// written for real hardware (Linux's 8250, xv6's uart.c) run unchanged.
//
// Simplifications, each invisible to a driver that follows the datasheet:
// - Transmission takes no virtual time: a byte written to THR reaches
//   `transmit` (or, in loopback, the receiver) at once, and THRE/TEMT are set
//   again immediately. The transmit FIFO is therefore always empty.
// - The serial line has no errors: PE, FE, BI and LSR bit 7 are never set;
//   a break requested with LCR bit 6 is not sent or looped back.
// - `receive` delivers all its bytes in the same instant; pacing input to the
//   baud rate (to avoid overruns) is the caller's business, as it would be
//   for whatever is wired to a real port.
//
// Character timeout: with a VirtualClock (4th constructor argument) it is
// modelled as the datasheet says, four character times (from the divisor
// latch and LCR) after the last character in or out of the receive FIFO.
// Without a clock there is no time to measure, so data below the trigger
// level signals a timeout at once: the degenerate "zero character times"
// case, which still lets an interrupt-driven driver collect every byte.

import { ByteDevice, type ClockEvent, type IrqLine, type VirtualClock } from './device.js';

// Register offsets from the base port.
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

// IER bits.
const IER_RECEIVED_DATA = 0x01;
const IER_THR_EMPTY = 0x02;
const IER_LINE_STATUS = 0x04;
const IER_MODEM_STATUS = 0x08;

// IIR identification codes (bits 3-0), highest priority first.
const IIR_LINE_STATUS = 0x06;
const IIR_RECEIVED_DATA = 0x04;
const IIR_CHARACTER_TIMEOUT = 0x0c;
const IIR_THR_EMPTY = 0x02;
const IIR_MODEM_STATUS = 0x00;
const IIR_NONE = 0x01;
const IIR_FIFOS_ENABLED = 0xc0;

// FCR bits.
const FCR_ENABLE = 0x01;
const FCR_CLEAR_RECEIVER = 0x02;
const RECEIVER_TRIGGER_LEVELS = [1, 4, 8, 14] as const;

// LCR bits.
const LCR_PARITY_ENABLE = 0x08;
const LCR_TWO_STOP_BITS = 0x04;
const LCR_DLAB = 0x80;

// MCR bits.
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
const MCR_WRITABLE = 0x1f; // bits 7-5 are permanently 0

// LSR bits.
const LSR_DATA_READY = 0x01;
const LSR_OVERRUN = 0x02;
const LSR_THR_EMPTY = 0x20;
const LSR_TRANSMITTER_EMPTY = 0x40;

// MSR bits: the input lines (7-4) and their change flags (3-0).
const MSR_DELTA_CTS = 0x01;
const MSR_DELTA_DSR = 0x02;
const MSR_TRAILING_EDGE_RI = 0x04;
const MSR_DELTA_DCD = 0x08;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;
/** A terminal is connected: it is ready and carrying, and never rings. */
const MSR_CONNECTED_TERMINAL = MSR_CTS | MSR_DSR | MSR_DCD;

const FIFO_SIZE = 16;
/** The PC's 1.8432 MHz crystal; the baud rate is this / (16 * divisor). */
const CLOCK_HZ = 1_843_200;
const NS_PER_S = 1_000_000_000;

export class Uart16550 extends ByteDevice {
  readonly ports: number[];

  /** The receive FIFO; in 16450 (non-FIFO) mode it holds at most the one RBR byte. */
  private receiver: number[] = [];
  /** What RBR reads once the receiver is empty: the last byte read. */
  private receiverBuffer = 0;
  private fifosEnabled = false;
  private triggerLevel = 1;

  private interruptEnable = 0;
  private lineControl = 0;
  private modemControl = 0;
  private scratch = 0;
  private divisor = 1;
  /** LSR bits latched until LSR is read (only OE: our line has no other errors). */
  private lineErrors = 0;
  private modemInputs = MSR_CONNECTED_TERMINAL;
  private modemDeltas = 0;

  /** THR-empty interrupt latch: cleared by writing THR or by reading IIR when it is the source. */
  private thrEmptyPending = false;
  private timeoutPending = false;
  private timeoutEvent: ClockEvent | undefined;
  private irqLevel = false;

  constructor(
    private readonly base: number,
    private readonly irq: IrqLine,
    private readonly transmit: (byte: number) => void,
    private readonly clock?: VirtualClock,
  ) {
    super();
    this.ports = Array.from({ length: 8 }, (_, i) => base + i);
  }

  /** How many characters the receiver can take now without an overrun (0 in loopback: the line is disconnected). */
  receiverRoom(): number {
    if (this.loopback()) return 0;
    return Math.max(0, (this.fifosEnabled ? FIFO_SIZE : 1) - this.receiver.length);
  }

  /** Bytes arriving on the serial line (the host's stdin). */
  receive(bytes: Uint8Array): void {
    // In loopback the serial input pin is disconnected from the receiver.
    if (this.loopback()) return;
    for (const byte of bytes) this.receiveCharacter(byte);
    this.updateIrq();
  }

  protected readByte(port: number): number {
    const dlab = (this.lineControl & LCR_DLAB) !== 0;
    switch (port - this.base) {
      case RBR_THR_DLL: return dlab ? this.divisor & 0xff : this.readReceiver();
      case IER_DLM: return dlab ? this.divisor >>> 8 : this.interruptEnable;
      case IIR_FCR: return this.readInterruptIdentification();
      case LCR: return this.lineControl;
      case MCR: return this.modemControl;
      case LSR: return this.readLineStatus();
      case MSR: return this.readModemStatus();
      case SCR: return this.scratch;
      default: return 0xff; // not ours: an undriven ISA bus reads all ones
    }
  }

  protected writeByte(port: number, value: number): void {
    const dlab = (this.lineControl & LCR_DLAB) !== 0;
    switch (port - this.base) {
      case RBR_THR_DLL:
        if (dlab) this.divisor = (this.divisor & 0xff00) | value;
        else this.writeTransmitter(value);
        return;
      case IER_DLM:
        if (dlab) this.divisor = (this.divisor & 0x00ff) | (value << 8);
        else this.writeInterruptEnable(value);
        return;
      case IIR_FCR: this.writeFifoControl(value); return;
      case LCR: this.lineControl = value; return;
      case MCR: this.writeModemControl(value); return;
      case SCR: this.scratch = value; return;
      // LSR and MSR writes are for factory testing only (datasheet); ignored.
    }
  }

  // --- Receiver -----------------------------------------------------------

  private receiveCharacter(byte: number): void {
    const character = byte & this.wordMask();
    if (this.fifosEnabled) {
      // A full FIFO keeps its contents; the character in the shift register is lost.
      if (this.receiver.length >= FIFO_SIZE) this.lineErrors |= LSR_OVERRUN;
      else this.receiver.push(character);
    } else {
      // 16450 mode: the new character overwrites the unread one in RBR.
      if (this.receiver.length > 0) this.lineErrors |= LSR_OVERRUN;
      this.receiver = [character];
    }
    this.restartTimeout();
  }

  private readReceiver(): number {
    const byte = this.receiver.shift();
    if (byte !== undefined) {
      this.receiverBuffer = byte;
      this.timeoutPending = false;
      this.restartTimeout();
      this.updateIrq();
    }
    return this.receiverBuffer;
  }

  private clearReceiver(): void {
    this.receiver = [];
    this.timeoutPending = false;
    this.restartTimeout();
  }

  /** Characters shorter than 8 bits arrive right-justified, the unused high bits 0. */
  private wordMask(): number {
    return (1 << (5 + (this.lineControl & 0x03))) - 1;
  }

  // --- Character timeout --------------------------------------------------

  /** Restarts the 4-character-time timer after a character enters or leaves the receive FIFO. */
  private restartTimeout(): void {
    if (this.clock === undefined) return;
    if (this.timeoutEvent !== undefined) this.clock.cancel(this.timeoutEvent);
    this.timeoutEvent = undefined;
    if (!this.fifosEnabled || this.receiver.length === 0) return;
    this.timeoutEvent = this.clock.schedule(this.clock.now() + this.timeoutNs(), () => {
      this.timeoutEvent = undefined;
      this.timeoutPending = true;
      this.updateIrq();
    });
  }

  /** Four character times: start bit, data bits, parity and stop bits at 1.8432 MHz / (16 * divisor). */
  private timeoutNs(): number {
    const dataBits = 5 + (this.lineControl & 0x03);
    const parityBits = this.lineControl & LCR_PARITY_ENABLE ? 1 : 0;
    // 1.5 stop bits (5-bit words) count as 2: the datasheet counts the second stop bit.
    const stopBits = this.lineControl & LCR_TWO_STOP_BITS ? 2 : 1;
    const bitsPerCharacter = 1 + dataBits + parityBits + stopBits;
    const divisor = this.divisor === 0 ? 0x10000 : this.divisor;
    return Math.round((4 * bitsPerCharacter * 16 * divisor * NS_PER_S) / CLOCK_HZ);
  }

  private characterTimedOut(): boolean {
    if (!this.fifosEnabled || this.receiver.length === 0) return false;
    if (this.clock !== undefined) return this.timeoutPending;
    return this.receiver.length < this.triggerLevel;
  }

  // --- Transmitter --------------------------------------------------------

  private writeTransmitter(value: number): void {
    // Writing THR clears the THR-empty interrupt; the byte then leaves at once
    // and THR is empty again, which raises it anew. Driving the IRQ line low
    // in between gives an edge-triggered PIC the fresh edge real hardware gives.
    this.thrEmptyPending = false;
    this.updateIrq();
    const character = value & this.wordMask();
    if (this.loopback()) this.receiveCharacter(character);
    else this.transmit(character);
    this.thrEmptyPending = true;
    this.updateIrq();
  }

  // --- Control registers --------------------------------------------------

  private writeInterruptEnable(value: number): void {
    const wasEnabled = (this.interruptEnable & IER_THR_EMPTY) !== 0;
    this.interruptEnable = value & 0x0f;
    // Enabling the THR-empty interrupt while THR is empty (it always is here) raises it.
    if (!wasEnabled && (this.interruptEnable & IER_THR_EMPTY) !== 0) this.thrEmptyPending = true;
    this.updateIrq();
  }

  private writeFifoControl(value: number): void {
    const enable = (value & FCR_ENABLE) !== 0;
    if (enable !== this.fifosEnabled) {
      // Switching between FIFO and 16450 mode empties both FIFOs, and the
      // first transmitter interrupt afterwards is immediate.
      this.fifosEnabled = enable;
      this.clearReceiver();
      this.thrEmptyPending = true;
    }
    // The other bits are only programmed while bit 0 is written as 1.
    if (enable) {
      if (value & FCR_CLEAR_RECEIVER) this.clearReceiver();
      // Bit 2 (clear transmit FIFO) has nothing to clear: transmission is instant.
      this.triggerLevel = RECEIVER_TRIGGER_LEVELS[value >>> 6]!;
    }
    this.updateIrq();
  }

  private writeModemControl(value: number): void {
    this.modemControl = value & MCR_WRITABLE;
    this.setModemInputs(this.loopback() ? this.loopedBackOutputs() : MSR_CONNECTED_TERMINAL);
    this.updateIrq();
  }

  private loopback(): boolean {
    return (this.modemControl & MCR_LOOP) !== 0;
  }

  /** In loopback the modem outputs drive the inputs: RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD. */
  private loopedBackOutputs(): number {
    const mcr = this.modemControl;
    return (mcr & MCR_RTS ? MSR_CTS : 0) | (mcr & MCR_DTR ? MSR_DSR : 0)
      | (mcr & MCR_OUT1 ? MSR_RI : 0) | (mcr & MCR_OUT2 ? MSR_DCD : 0);
  }

  /** Latches the MSR delta bits for the inputs that change; TERI only when ring ends (RI 1→0). */
  private setModemInputs(inputs: number): void {
    const changed = this.modemInputs ^ inputs;
    if (changed & MSR_CTS) this.modemDeltas |= MSR_DELTA_CTS;
    if (changed & MSR_DSR) this.modemDeltas |= MSR_DELTA_DSR;
    if (changed & MSR_RI && !(inputs & MSR_RI)) this.modemDeltas |= MSR_TRAILING_EDGE_RI;
    if (changed & MSR_DCD) this.modemDeltas |= MSR_DELTA_DCD;
    this.modemInputs = inputs;
  }

  // --- Status registers ---------------------------------------------------

  private readLineStatus(): number {
    const dataReady = this.receiver.length > 0 ? LSR_DATA_READY : 0;
    const status = dataReady | this.lineErrors | LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY;
    this.lineErrors = 0;
    this.updateIrq();
    return status;
  }

  private readModemStatus(): number {
    const status = this.modemInputs | this.modemDeltas;
    this.modemDeltas = 0;
    this.updateIrq();
    return status;
  }

  private readInterruptIdentification(): number {
    const id = this.pendingInterrupt();
    // Reading IIR acknowledges a THR-empty interrupt only when IIR reports it.
    if (id === IIR_THR_EMPTY) {
      this.thrEmptyPending = false;
      this.updateIrq();
    }
    return id | (this.fifosEnabled ? IIR_FIFOS_ENABLED : 0);
  }

  // --- Interrupts ---------------------------------------------------------

  /** The highest-priority enabled interrupt's IIR code, or IIR_NONE. */
  private pendingInterrupt(): number {
    const enabled = this.interruptEnable;
    if (enabled & IER_LINE_STATUS && this.lineErrors !== 0) return IIR_LINE_STATUS;
    if (enabled & IER_RECEIVED_DATA) {
      // A timeout, once signalled, stays until RBR is read, even above the trigger level.
      if (this.characterTimedOut()) return IIR_CHARACTER_TIMEOUT;
      if (this.receivedDataAvailable()) return IIR_RECEIVED_DATA;
    }
    if (enabled & IER_THR_EMPTY && this.thrEmptyPending) return IIR_THR_EMPTY;
    if (enabled & IER_MODEM_STATUS && this.modemDeltas !== 0) return IIR_MODEM_STATUS;
    return IIR_NONE;
  }

  private receivedDataAvailable(): boolean {
    const threshold = this.fifosEnabled ? this.triggerLevel : 1;
    return this.receiver.length >= threshold;
  }

  /**
   * On a PC the UART's interrupt output reaches the PIC only through a buffer
   * enabled by the OUT2 pin. In loopback the datasheet forces the output pins
   * inactive, so the IRQ line is cut off then too, whatever MCR bit 3 says.
   */
  private updateIrq(): void {
    const out2Pin = (this.modemControl & MCR_OUT2) !== 0 && !this.loopback();
    const level = out2Pin && this.pendingInterrupt() !== IIR_NONE;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.set(level);
  }
}
