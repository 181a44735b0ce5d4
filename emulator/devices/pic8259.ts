// The Intel 8259A Programmable Interrupt Controller pair of the PC/AT:
// a master at ports 0x20/0x21 and a slave at 0xA0/0xA1 whose INT output is
// wired to the master's IR2. Behaviour follows the 8259A datasheet, so that a
// kernel written for real hardware programs it unchanged.
//
// Modelling choices (see also the notes on each method):
// - A request line must stay high until the first INTA pulse. In edge mode the
//   IRR bit is set by a rising edge and falls with the line; in level mode the
//   IRR bit is the line. So a request that went away is gone from IRR.
// - A chip's INT output, once raised, stays raised if a device then drops its
//   line: the CPU samples INTR between instructions and the machine runs device
//   events between instructions, so a drop after INT rose is exactly the
//   hardware race in which the CPU is already committed to the INTA cycle. The
//   acknowledge then finds nothing and returns the chip's IR7 vector (spurious).
//   CPU-side actions (port writes, INTA, poll) re-evaluate INT fully: they run
//   in program order, so masking a pending request with IF=0 retracts INTR
//   instead of producing a spurious interrupt later.
// - Roles are fixed by the board's SP/EN wiring (master, slave); the buffered
//   mode bits of ICW4 (BUF, M/S) only drive bus transceivers and are ignored.

import { ByteDevice, type IrqLine } from './device.js';

/** The level a chip reports when an acknowledged request went away. */
const SPURIOUS_LEVEL = 7;
/** The master input the slave's INT is wired to on the PC/AT. */
const CASCADE_INPUT = 2;
/** The ISA IRQ2 pin is routed to the slave's IR1 (IRQ 9) on the PC/AT. */
const AT_IRQ2_REDIRECT = 9;
/** What the CPU reads when no chip drives the data bus. */
const OPEN_BUS = 0xff;

const ICW1 = 0x10;
const OCW3 = 0x08;

type InitStep = 'icw2' | 'icw3' | 'icw4' | 'done';

/** One 8259A. */
class Pic8259 {
  /** Current level of the IR0-7 inputs. */
  private lines = 0;
  /** Edge mode: inputs that rose and have stayed high since, not yet acknowledged. */
  private edges = 0;
  imr = 0;
  isr = 0;
  /** The INT pin. */
  interruptOutput = false;

  private initStep: InitStep = 'done';
  private icw1 = 0;
  private levelTriggered = false;
  private single = false;
  private needIcw4 = false;
  private vectorBase = 0;
  /** Master: ICW3 bitmap of inputs that have a slave. */
  private cascadeInputs = 0;
  /** Slave: ICW3 ID, the master input it answers for on the CAS lines. */
  private slaveId = 7;
  private mode8086 = false;
  private autoEoi = false;
  private rotateOnAutoEoi = false;
  private specialFullyNested = false;
  private specialMask = false;
  private readIsr = false;
  private pollPending = false;
  /** The level with the lowest priority; the next one up has the highest. */
  private lowest = 7;

  constructor(readonly isMaster: boolean) {}

  /** The state a PC/AT BIOS leaves (8086 mode, edge, cascaded), but all inputs masked until the OS says otherwise. */
  powerOn(vectorBase: number): void {
    this.writeCommand(ICW1 | 0x01);
    this.writeData(vectorBase);
    this.writeData(this.isMaster ? 1 << CASCADE_INPUT : CASCADE_INPUT);
    this.writeData(0x01);
    this.imr = 0xff;
  }

  // --- inputs and the priority resolver ---

  setInput(level: number, high: boolean): void {
    const bit = 1 << level;
    if (high && !(this.lines & bit)) this.edges |= bit;
    if (high) this.lines |= bit;
    else {
      this.lines &= ~bit;
      this.edges &= ~bit; // the request must remain high until the first INTA
    }
  }

  get irr(): number {
    return this.levelTriggered ? this.lines : this.edges;
  }

  /** The level INT would be raised for now, or -1. */
  resolve(): number {
    const request = this.highest(this.irr & ~this.imr);
    if (request < 0) return -1;
    const inService = this.highest(this.blockingInService());
    if (inService < 0 || this.rank(request) < this.rank(inService)) return request;
    // Special fully nested mode: a slave already in service may still pass up its higher-priority requests.
    const slaveInService = this.specialFullyNested && this.isCascadeInput(request);
    return request === inService && slaveInService ? request : -1;
  }

  /** Raises INT when a request is serviceable; lowers it only on a CPU-side action (see the file comment). */
  updateOutput(byCpu: boolean): void {
    if (this.resolve() >= 0) this.interruptOutput = true;
    else if (byCpu) this.interruptOutput = false;
  }

  /** In special mask mode a masked in-service level no longer holds off the others. */
  private blockingInService(): number {
    return this.specialMask ? this.isr & ~this.imr : this.isr;
  }

  /** 0 for the highest priority, 7 for the lowest. */
  private rank(level: number): number {
    return (level - this.lowest - 1) & 7;
  }

  /** The highest-priority level among `bits`, or -1. */
  private highest(bits: number): number {
    for (let rank = 0; rank < 8; rank++) {
      const level = (this.lowest + 1 + rank) & 7;
      if (bits & (1 << level)) return level;
    }
    return -1;
  }

  // --- the interrupt acknowledge cycle ---

  isCascadeInput(level: number): boolean {
    return this.isMaster && !this.single && (this.cascadeInputs & (1 << level)) !== 0;
  }

  /** Whether this chip drives the data bus when the master puts `level` on the CAS lines. */
  answersCascade(level: number): boolean {
    return !this.isMaster && !this.single && this.slaveId === level;
  }

  /** First INTA pulse: the winning request moves from IRR to ISR. Returns it, or -1 if the request went away. */
  beginAcknowledge(): number {
    const level = this.resolve();
    if (level < 0) return -1;
    this.isr |= 1 << level;
    this.edges &= ~(1 << level);
    return level;
  }

  /** End of the last INTA pulse: automatic EOI (a spurious acknowledge set no ISR bit, so there is nothing to end). */
  finishAcknowledge(level: number): void {
    if (level < 0 || !this.autoEoi) return;
    this.isr &= ~(1 << level);
    if (this.rotateOnAutoEoi) this.lowest = level;
  }

  /** The byte this chip puts on the bus at the CPU's second INTA pulse. */
  vectorFor(level: number): number {
    if (this.mode8086) return (this.vectorBase & 0xf8) | level;
    // MCS-80/85 mode (no ICW4): the second byte of the CALL sequence, the routine address's low byte.
    const interval4 = (this.icw1 & 0x04) !== 0;
    return interval4 ? (this.icw1 & 0xe0) | (level << 2) : (this.icw1 & 0xc0) | (level << 3);
  }

  // --- registers ---

  read(isData: boolean): number {
    if (this.pollPending) return this.pollRead();
    if (isData) return this.imr;
    return this.readIsr ? this.isr : this.irr;
  }

  /** Whether the next read is a poll, which changes state like an INTA does. */
  get pollArmed(): boolean {
    return this.pollPending;
  }

  /** The poll command makes the next read an interrupt acknowledge that returns 0x80 | level (0: no request). */
  private pollRead(): number {
    this.pollPending = false;
    const level = this.beginAcknowledge();
    if (level < 0) return 0;
    this.finishAcknowledge(level);
    return 0x80 | level;
  }

  writeCommand(value: number): void {
    if (value & ICW1) this.initialize(value);
    else if (value & OCW3) this.operationCommand3(value);
    else this.operationCommand2(value);
  }

  writeData(value: number): void {
    switch (this.initStep) {
      case 'icw2':
        this.vectorBase = value;
        return this.advanceInit('icw2');
      case 'icw3':
        if (this.isMaster) this.cascadeInputs = value;
        else this.slaveId = value & 7;
        return this.advanceInit('icw3');
      case 'icw4':
        this.mode8086 = (value & 0x01) !== 0;
        this.autoEoi = (value & 0x02) !== 0;
        this.specialFullyNested = (value & 0x10) !== 0;
        this.initStep = 'done';
        return;
      case 'done':
        this.imr = value; // OCW1
    }
  }

  /** ICW1 resets the chip; ICW2 and, as ICW1 asked, ICW3 and ICW4 follow on the data port. */
  private initialize(value: number): void {
    this.icw1 = value;
    this.levelTriggered = (value & 0x08) !== 0;
    this.single = (value & 0x02) !== 0;
    this.needIcw4 = (value & 0x01) !== 0;
    this.edges = 0; // edge sense reset: an input already high must fall and rise again
    this.imr = 0;
    this.isr = 0; // not listed by the datasheet; a re-initialized chip starting with nothing in service is what OS code assumes
    this.lowest = 7;
    this.slaveId = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.pollPending = false;
    // The ICW4 functions are zero unless an ICW4 follows.
    this.mode8086 = false;
    this.autoEoi = false;
    this.specialFullyNested = false;
    this.rotateOnAutoEoi = false;
    this.initStep = 'icw2';
  }

  private advanceInit(written: 'icw2' | 'icw3'): void {
    if (written === 'icw2' && !this.single) this.initStep = 'icw3';
    else this.initStep = this.needIcw4 ? 'icw4' : 'done';
  }

  /** OCW2: the R, SL and EOI bits select the command; L2-L0 name a level for the specific forms. */
  private operationCommand2(value: number): void {
    const level = value & 7;
    switch (value & 0xe0) {
      case 0x20: this.endOfInterrupt(this.highestInServiceForEoi(), false); break;
      case 0x60: this.endOfInterrupt(level, false); break;
      case 0xa0: this.endOfInterrupt(this.highestInServiceForEoi(), true); break;
      case 0xe0: this.endOfInterrupt(level, true); break;
      case 0x80: this.rotateOnAutoEoi = true; break;
      case 0x00: this.rotateOnAutoEoi = false; break;
      case 0xc0: this.lowest = level; break; // set priority: L becomes the lowest
      case 0x40: break; // no operation
    }
  }

  /** A non-specific EOI ends the highest level in service; in special mask mode masked levels are skipped. */
  private highestInServiceForEoi(): number {
    return this.highest(this.blockingInService());
  }

  private endOfInterrupt(level: number, rotate: boolean): void {
    if (level < 0) return;
    this.isr &= ~(1 << level);
    if (rotate) this.lowest = level;
  }

  /** OCW3: special mask mode (ESMM+SMM), poll (P), read register select (RR+RIS). */
  private operationCommand3(value: number): void {
    if (value & 0x40) this.specialMask = (value & 0x20) !== 0;
    if (value & 0x02) this.readIsr = (value & 0x01) !== 0;
    this.pollPending = (value & 0x04) !== 0;
  }
}

/** The PC/AT's two cascaded 8259As. */
export class Pic8259Pair extends ByteDevice {
  /** Master at 0x20/0x21, slave at 0xA0/0xA1, slave cascaded on master IR2. */
  static readonly PORTS: number[] = [0x20, 0x21, 0xa0, 0xa1];

  /** Called whenever interruptPending() changes (the machine uses it to wake a halted CPU). */
  onChange: () => void = () => {};

  private readonly master = new Pic8259(true);
  private readonly slave = new Pic8259(false);
  private readonly lines: IrqLine[];

  constructor() {
    super();
    this.master.powerOn(0x08);
    this.slave.powerOn(0x70);
    this.lines = Array.from({ length: 16 }, (_, n) => this.inputLine(n));
  }

  /** IRQ 0-15 input wires (8-15 on the slave). IRQ 2 is the ISA pin the AT routes to IRQ 9: master IR2 is the cascade. */
  irq(n: number): IrqLine {
    if (!Number.isInteger(n) || n < 0 || n > 15) throw new RangeError(`no IRQ ${n} on the 8259A pair`);
    return this.lines[n === CASCADE_INPUT ? AT_IRQ2_REDIRECT : n]!;
  }

  /** The vector IRQ n arrives on, as the guest programmed the pair (ICW2). */
  vectorOfIrq(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n > 15) throw new RangeError(`no IRQ ${n} on the 8259A pair`);
    return n < 8 ? this.master.vectorFor(n) : this.slave.vectorFor(n - 8);
  }

  /** INTR: the master presents an interrupt request to the CPU. */
  interruptPending(): boolean {
    return this.master.interruptOutput;
  }

  /** The CPU's INTA cycle: returns the vector byte, after updating IRR/ISR on the chips concerned. */
  acknowledge(): number {
    let vector = OPEN_BUS;
    this.change(true, () => { vector = this.interruptAcknowledge(); });
    return vector;
  }

  private inputLine(n: number): IrqLine {
    const chip = n < 8 ? this.master : this.slave;
    return { set: (level: boolean) => this.change(false, () => chip.setInput(n & 7, level)) };
  }

  /** Runs a state change, carries the slave's INT to master IR2, and reports a change of INTR. */
  private change(byCpu: boolean, action: () => void): void {
    const before = this.master.interruptOutput;
    action();
    this.propagate(byCpu);
    if (this.master.interruptOutput !== before) this.onChange();
  }

  private propagate(byCpu: boolean): void {
    this.slave.updateOutput(byCpu);
    this.master.setInput(CASCADE_INPUT, this.slave.interruptOutput);
    this.master.updateOutput(byCpu);
  }

  /**
   * First INTA: the master freezes its winner (IR7 on the CAS lines if none) and the slave
   * addressed on CAS freezes its own. Between the pulses the INT outputs settle, so a slave that
   * still has requests after its automatic EOI gives master IR2 a fresh rising edge.
   */
  private interruptAcknowledge(): number {
    const masterLevel = this.master.beginAcknowledge();
    const casLevel = masterLevel < 0 ? SPURIOUS_LEVEL : masterLevel;
    const fromSlave = this.master.isCascadeInput(casLevel);
    const slaveLevel = fromSlave && this.slave.answersCascade(casLevel) ? this.slave.beginAcknowledge() : -1;
    this.propagate(true);
    const vector = this.secondPulseVector(fromSlave, casLevel, slaveLevel);
    this.master.finishAcknowledge(masterLevel);
    this.slave.finishAcknowledge(slaveLevel);
    return vector;
  }

  private secondPulseVector(fromSlave: boolean, casLevel: number, slaveLevel: number): number {
    if (!fromSlave) return this.master.vectorFor(casLevel);
    if (!this.slave.answersCascade(casLevel)) return OPEN_BUS; // no slave has that ID: nobody drives the bus
    return this.slave.vectorFor(slaveLevel < 0 ? SPURIOUS_LEVEL : slaveLevel);
  }

  private chipAt(port: number): Pic8259 | null {
    if (port === 0x20 || port === 0x21) return this.master;
    if (port === 0xa0 || port === 0xa1) return this.slave;
    return null;
  }

  protected readByte(port: number): number {
    const chip = this.chipAt(port);
    if (!chip) return OPEN_BUS;
    if (!chip.pollArmed) return chip.read((port & 1) === 1);
    let value = 0;
    this.change(true, () => { value = chip.read((port & 1) === 1); });
    return value;
  }

  protected writeByte(port: number, value: number): void {
    const chip = this.chipAt(port);
    if (!chip) return;
    const isData = (port & 1) === 1;
    this.change(true, () => (isData ? chip.writeData(value) : chip.writeCommand(value)));
  }
}
