import { describe, it, expect } from 'vitest';
import { Pic8259Pair } from '../../emulator/devices/pic8259.js';

// The PIC is driven here exactly as a PC kernel drives it: byte OUTs and INs on
// 0x20/0x21/0xA0/0xA1, with the CPU's side played by interruptPending() and
// acknowledge().

const outb = (pic: Pic8259Pair, port: number, value: number): void => pic.portOut(port, 1, value);
const inb = (pic: Pic8259Pair, port: number): number => pic.portIn(port, 1);

const EOI = 0x20;
const READ_IRR = 0x0a;
const READ_ISR = 0x0b;
const POLL = 0x0c;

/** The standard remap (Linux, xv6, OSDev): vectors 0x20-0x27 and 0x28-0x2F, cascade on IR2, 8086 mode. */
function remap(pic: Pic8259Pair, options: { masterIcw4?: number; slaveIcw4?: number; icw1?: number } = {}): void {
  const icw1 = options.icw1 ?? 0x11;
  outb(pic, 0x20, icw1);
  outb(pic, 0xa0, icw1);
  outb(pic, 0x21, 0x20);
  outb(pic, 0xa1, 0x28);
  outb(pic, 0x21, 0x04);
  outb(pic, 0xa1, 0x02);
  outb(pic, 0x21, options.masterIcw4 ?? 0x01);
  outb(pic, 0xa1, options.slaveIcw4 ?? 0x01);
  outb(pic, 0x21, 0x00);
  outb(pic, 0xa1, 0x00);
}

function remapped(options?: Parameters<typeof remap>[1]): Pic8259Pair {
  const pic = new Pic8259Pair();
  remap(pic, options);
  return pic;
}

function read(pic: Pic8259Pair, commandPort: number, ocw3: number): number {
  outb(pic, commandPort, ocw3);
  return inb(pic, commandPort);
}

const masterIsr = (pic: Pic8259Pair): number => read(pic, 0x20, READ_ISR);
const slaveIsr = (pic: Pic8259Pair): number => read(pic, 0xa0, READ_ISR);
const masterIrr = (pic: Pic8259Pair): number => read(pic, 0x20, READ_IRR);

/** A device interrupt on an edge-triggered line: a rising edge, the line then held high. */
function pulseHigh(pic: Pic8259Pair, irq: number): void {
  pic.irq(irq).set(false);
  pic.irq(irq).set(true);
}

describe('8259A pair: initialization', () => {
  it('exposes the PC/AT ports', () => {
    expect(Pic8259Pair.PORTS).toEqual([0x20, 0x21, 0xa0, 0xa1]);
  });

  it('starts with every input masked, so nothing reaches the CPU before the OS programs it', () => {
    const pic = new Pic8259Pair();
    expect(inb(pic, 0x21)).toBe(0xff);
    expect(inb(pic, 0xa1)).toBe(0xff);
    pic.irq(0).set(true);
    expect(pic.interruptPending()).toBe(false);
  });

  it('delivers the remapped vectors, master and slave', () => {
    const pic = remapped();
    pic.irq(1).set(true);
    expect(pic.interruptPending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x21);
    outb(pic, 0x20, EOI);
    pic.irq(14).set(true);
    expect(pic.acknowledge()).toBe(0x2e);
  });

  it('ICW1 clears IMR, selects IRR for reads and resets priority and special mask mode', () => {
    const pic = remapped();
    outb(pic, 0x21, 0xfb);
    outb(pic, 0x20, 0xc3); // set priority: IR3 lowest
    outb(pic, 0x20, 0x68); // special mask mode on
    outb(pic, 0x20, READ_ISR);
    remap(pic);
    expect(inb(pic, 0x21)).toBe(0x00);
    pic.irq(4).set(true);
    pic.irq(3).set(true);
    expect(inb(pic, 0x20)).toBe(0x18); // IRR, not ISR
    expect(pic.acknowledge()).toBe(0x23); // IR3 outranks IR4 again: fixed priority
  });

  it('ICW1 leaves nothing in service (a kernel re-initializing mid-handler starts clean)', () => {
    const pic = remapped();
    pic.irq(12).set(true);
    pic.acknowledge();
    remap(pic);
    expect(masterIsr(pic)).toBe(0);
    expect(slaveIsr(pic)).toBe(0);
    pulseHigh(pic, 5);
    expect(pic.acknowledge()).toBe(0x25); // no stale IR2 in service holds it off
  });

  it('ignores the low three bits of ICW2 in 8086 mode', () => {
    const pic = new Pic8259Pair();
    outb(pic, 0x20, 0x13); // single, ICW4
    outb(pic, 0x21, 0x47);
    outb(pic, 0x21, 0x01);
    outb(pic, 0x21, 0x00);
    pic.irq(5).set(true);
    expect(pic.acknowledge()).toBe(0x45);
  });

  it('after ICW1, an input already high must fall and rise again (edge sense reset)', () => {
    const pic = remapped();
    pic.irq(3).set(true);
    remap(pic);
    expect(pic.interruptPending()).toBe(false);
    expect(masterIrr(pic)).toBe(0);
    pulseHigh(pic, 3);
    expect(pic.acknowledge()).toBe(0x23);
  });

  it('without ICW4 the chip is in MCS-80/85 mode: the x86 reads the CALL address low byte', () => {
    const pic = new Pic8259Pair();
    outb(pic, 0x20, 0xb6); // A7-A5 = 101, interval 4, single, no ICW4
    outb(pic, 0x21, 0x12); // ICW2: address high byte
    outb(pic, 0x21, 0x00); // OCW1: nothing masked (initialization is complete)
    pic.irq(3).set(true);
    expect(pic.acknowledge()).toBe(0xa0 | (3 << 2));
  });
});

describe('8259A pair: priority, masking, EOI', () => {
  it('serves simultaneous requests in fixed priority order, one EOI at a time', () => {
    const pic = remapped();
    pic.irq(5).set(true);
    pic.irq(3).set(true);
    pic.irq(0).set(true);
    expect(pic.acknowledge()).toBe(0x20);
    expect(pic.interruptPending()).toBe(false); // IR3 and IR5 wait behind IR0 in service
    outb(pic, 0x20, EOI);
    expect(pic.acknowledge()).toBe(0x23);
    outb(pic, 0x20, EOI);
    expect(pic.acknowledge()).toBe(0x25);
  });

  it('fully nested: a higher level interrupts a lower one in service, a lower one waits', () => {
    const pic = remapped();
    pic.irq(4).set(true);
    expect(pic.acknowledge()).toBe(0x24);
    pic.irq(6).set(true);
    expect(pic.interruptPending()).toBe(false);
    pic.irq(1).set(true);
    expect(pic.interruptPending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x21);
    expect(masterIsr(pic)).toBe(0x12);
    outb(pic, 0x20, EOI); // ends IR1, the highest in service
    expect(masterIsr(pic)).toBe(0x10);
    expect(pic.interruptPending()).toBe(false);
    outb(pic, 0x20, EOI);
    expect(pic.acknowledge()).toBe(0x26);
  });

  it('masks requests without losing them: IRR still shows them and unmasking delivers', () => {
    const pic = remapped();
    outb(pic, 0x21, 0x10);
    pic.irq(4).set(true);
    expect(pic.interruptPending()).toBe(false);
    expect(masterIrr(pic)).toBe(0x10);
    outb(pic, 0x21, 0x00);
    expect(pic.interruptPending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x24);
    expect(inb(pic, 0x21)).toBe(0x00);
  });

  it('masking a pending request retracts INTR instead of producing a spurious interrupt', () => {
    const pic = remapped();
    pic.irq(4).set(true);
    expect(pic.interruptPending()).toBe(true);
    outb(pic, 0x21, 0x10);
    expect(pic.interruptPending()).toBe(false);
  });

  it('specific EOI ends the named level only', () => {
    const pic = remapped();
    pic.irq(5).set(true);
    pic.acknowledge();
    pic.irq(3).set(true);
    pic.acknowledge();
    expect(masterIsr(pic)).toBe(0x28);
    outb(pic, 0x20, 0x65); // specific EOI, IR5 (not the highest in service)
    expect(masterIsr(pic)).toBe(0x08);
    outb(pic, 0x20, 0x40); // OCW2 no-operation
    expect(masterIsr(pic)).toBe(0x08);
  });
});

describe('8259A pair: rotation', () => {
  it('rotate on non-specific EOI makes the ended level the lowest', () => {
    const pic = remapped();
    pic.irq(0).set(true);
    expect(pic.acknowledge()).toBe(0x20);
    outb(pic, 0x20, 0xa0);
    pulseHigh(pic, 0);
    pic.irq(7).set(true);
    expect(pic.acknowledge()).toBe(0x27); // IR7 now outranks IR0
    outb(pic, 0x20, 0xa0); // IR7 lowest: back to fixed order
    expect(pic.acknowledge()).toBe(0x20);
  });

  it('without rotation the same sequence keeps IR0 first', () => {
    const pic = remapped();
    pic.irq(0).set(true);
    pic.acknowledge();
    outb(pic, 0x20, EOI);
    pulseHigh(pic, 0);
    pic.irq(7).set(true);
    expect(pic.acknowledge()).toBe(0x20);
  });

  it('set priority makes the named level the lowest', () => {
    const pic = remapped();
    outb(pic, 0x20, 0xc4); // IR4 lowest, IR5 highest
    pic.irq(3).set(true);
    pic.irq(6).set(true);
    pic.irq(5).set(true);
    expect(pic.acknowledge()).toBe(0x25);
    expect(pic.interruptPending()).toBe(false); // IR6 and IR3 now rank below IR5
    outb(pic, 0x20, EOI);
    expect(pic.acknowledge()).toBe(0x26);
  });

  it('rotate on specific EOI ends the named level and makes it the lowest', () => {
    const pic = remapped();
    pic.irq(6).set(true);
    pic.acknowledge();
    outb(pic, 0x20, 0xe6); // ends IR6, IR6 lowest: IR7 highest, then IR0...
    expect(masterIsr(pic)).toBe(0);
    pic.irq(1).set(true);
    pic.irq(7).set(true);
    expect(pic.acknowledge()).toBe(0x27);
  });
});

describe('8259A pair: automatic EOI', () => {
  it('clears the in-service bit at the end of the acknowledge', () => {
    const pic = remapped({ masterIcw4: 0x03 });
    pic.irq(3).set(true);
    pic.irq(5).set(true);
    expect(pic.acknowledge()).toBe(0x23);
    expect(masterIsr(pic)).toBe(0);
    expect(pic.interruptPending()).toBe(true); // nothing in service holds IR5 off
    expect(pic.acknowledge()).toBe(0x25);
  });

  it('rotates in AEOI mode only when told to, and stops when told to', () => {
    const pic = remapped({ masterIcw4: 0x03 });
    outb(pic, 0x20, 0x80); // rotate in automatic EOI mode: set
    pic.irq(0).set(true);
    pic.irq(1).set(true);
    expect(pic.acknowledge()).toBe(0x20);
    pulseHigh(pic, 0);
    expect(pic.acknowledge()).toBe(0x21); // IR0 went to the bottom
    outb(pic, 0x20, 0x00); // rotate in automatic EOI mode: clear
    outb(pic, 0x20, 0xc7); // back to fixed priority
    pulseHigh(pic, 1);
    pulseHigh(pic, 0);
    expect(pic.acknowledge()).toBe(0x20);
    pulseHigh(pic, 0);
    expect(pic.acknowledge()).toBe(0x20); // no rotation: IR0 still first
  });

  it('ends the master IR2 and the slave level together when both are in AEOI mode', () => {
    const pic = remapped({ masterIcw4: 0x03, slaveIcw4: 0x03 });
    pic.irq(10).set(true);
    pic.irq(9).set(true);
    expect(pic.acknowledge()).toBe(0x29);
    expect(masterIsr(pic)).toBe(0);
    expect(slaveIsr(pic)).toBe(0);
    // The slave's INT fell during the INTA and rose again: the master sees a new edge on IR2.
    expect(pic.interruptPending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2a);
  });
});

describe('8259A pair: poll and register reads', () => {
  it('poll returns 0x80 | level, acts as an acknowledge, and lasts one read', () => {
    const pic = remapped();
    pic.irq(5).set(true);
    pic.irq(3).set(true);
    expect(read(pic, 0x20, POLL)).toBe(0x83);
    expect(masterIsr(pic)).toBe(0x08);
    expect(inb(pic, 0x20)).toBe(0x08); // next read is the selected register again (ISR)
    expect(pic.interruptPending()).toBe(false);
  });

  it('poll with no request returns 0 and sets nothing in service', () => {
    const pic = remapped();
    expect(read(pic, 0x20, POLL)).toBe(0x00);
    expect(masterIsr(pic)).toBe(0);
  });

  it('a poll read on the data port is still the poll word', () => {
    const pic = remapped();
    pic.irq(6).set(true);
    outb(pic, 0x20, POLL);
    expect(inb(pic, 0x21)).toBe(0x86);
    expect(inb(pic, 0x21)).toBe(0x00); // then IMR again
  });

  it('polling a cascaded pair: master answers IR2, then the slave answers its level', () => {
    const pic = remapped();
    pic.irq(13).set(true); // a polled system leaves the CPU's IF clear instead of acknowledging
    expect(read(pic, 0x20, POLL)).toBe(0x82);
    expect(read(pic, 0xa0, POLL)).toBe(0x85);
    expect(masterIsr(pic)).toBe(0x04);
    expect(slaveIsr(pic)).toBe(0x20);
  });

  it('OCW3 without RR keeps the register selection; the data port always reads IMR', () => {
    const pic = remapped();
    outb(pic, 0x21, 0x81);
    pic.irq(4).set(true);
    pic.acknowledge();
    pic.irq(6).set(true);
    outb(pic, 0x20, READ_ISR);
    outb(pic, 0x20, 0x08); // OCW3, RR=0: no change
    expect(inb(pic, 0x20)).toBe(0x10);
    expect(inb(pic, 0x21)).toBe(0x81);
    outb(pic, 0x20, READ_IRR);
    expect(inb(pic, 0x20)).toBe(0x40);
  });
});

describe('8259A pair: cascade', () => {
  it('a slave interrupt puts master IR2 and the slave level in service; EOI goes to both', () => {
    const pic = remapped();
    pic.irq(12).set(true);
    expect(pic.acknowledge()).toBe(0x2c);
    expect(masterIsr(pic)).toBe(0x04);
    expect(slaveIsr(pic)).toBe(0x10);
    pic.irq(3).set(true);
    pic.irq(1).set(true);
    expect(pic.acknowledge()).toBe(0x21); // IR1 outranks the cascade (IR2)
    outb(pic, 0x20, EOI);
    outb(pic, 0xa0, EOI);
    expect(pic.interruptPending()).toBe(false); // master IR2 still in service holds IR3 off
    outb(pic, 0x20, EOI);
    expect(pic.acknowledge()).toBe(0x23);
  });

  it('fully nested mode blocks a higher slave request while the slave is in service', () => {
    const pic = remapped();
    pic.irq(12).set(true);
    pic.acknowledge();
    pic.irq(8).set(true);
    expect(pic.interruptPending()).toBe(false);
    outb(pic, 0xa0, EOI);
    outb(pic, 0x20, EOI);
    expect(pic.acknowledge()).toBe(0x28);
  });

  it('special fully nested mode lets a higher slave request through while the slave is in service', () => {
    const pic = remapped({ masterIcw4: 0x11 });
    pic.irq(12).set(true);
    pic.acknowledge();
    pic.irq(13).set(true);
    expect(pic.interruptPending()).toBe(false); // lower on the slave: the slave holds it off
    pic.irq(8).set(true);
    expect(pic.interruptPending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x28);
    expect(slaveIsr(pic)).toBe(0x11);
    expect(masterIsr(pic)).toBe(0x04);
  });

  it('slave masks and priority are the slave\'s own', () => {
    const pic = remapped();
    outb(pic, 0xa1, 0x01);
    pic.irq(8).set(true);
    pic.irq(11).set(true);
    expect(pic.acknowledge()).toBe(0x2b);
    expect(inb(pic, 0xa1)).toBe(0x01);
  });

  it('routes the ISA IRQ2 pin to IRQ 9, as the AT does', () => {
    const pic = remapped();
    pic.irq(2).set(true);
    expect(pic.acknowledge()).toBe(0x29);
    expect(() => pic.irq(16)).toThrow(RangeError);
  });

  it('a slave with another ID does not answer: the bus floats', () => {
    const pic = new Pic8259Pair();
    remap(pic);
    outb(pic, 0xa0, 0x11);
    outb(pic, 0xa1, 0x28);
    outb(pic, 0xa1, 0x03); // wrong ID
    outb(pic, 0xa1, 0x01);
    pic.irq(9).set(true);
    expect(pic.acknowledge()).toBe(0xff);
  });
});

describe('8259A pair: spurious interrupts', () => {
  it('a master request that went away before INTA gives IR7 of the master, nothing in service', () => {
    const pic = remapped();
    pic.irq(3).set(true);
    pic.irq(3).set(false);
    expect(pic.interruptPending()).toBe(true); // INTR was already raised: the CPU is committed to INTA
    expect(pic.acknowledge()).toBe(0x27);
    expect(masterIrr(pic)).toBe(0); // the request is gone from IRR
    expect(masterIsr(pic)).toBe(0); // a spurious IR7 sets no in-service bit
    expect(pic.interruptPending()).toBe(false);
  });

  it('a CPU-side write after the line dropped re-evaluates INTR (the CPU was not yet committed)', () => {
    const pic = remapped();
    pic.irq(3).set(true);
    pic.irq(3).set(false);
    expect(pic.interruptPending()).toBe(true);
    outb(pic, 0x21, 0x00);
    expect(pic.interruptPending()).toBe(false);
  });

  it('acknowledging with nothing requested gives IR7 of the master', () => {
    const pic = remapped();
    expect(pic.acknowledge()).toBe(0x27);
    expect(masterIsr(pic)).toBe(0);
  });

  it('a slave request that went away gives IR15; master IR2 stays in service and needs the master EOI', () => {
    const pic = remapped();
    pic.irq(11).set(true);
    pic.irq(11).set(false);
    expect(pic.acknowledge()).toBe(0x2f);
    expect(slaveIsr(pic)).toBe(0);
    expect(masterIsr(pic)).toBe(0x04);
    pic.irq(5).set(true);
    expect(pic.interruptPending()).toBe(false); // IR2 in service holds IR5 off until the master EOI
    outb(pic, 0x20, EOI);
    expect(pic.acknowledge()).toBe(0x25);
  });

  it('a real IR7 is told apart from a spurious one by ISR', () => {
    const pic = remapped();
    pic.irq(7).set(true);
    expect(pic.acknowledge()).toBe(0x27);
    expect(masterIsr(pic)).toBe(0x80);
  });
});

describe('8259A pair: edge and level triggering', () => {
  it('edge: a line held high interrupts once; it must fall and rise again', () => {
    const pic = remapped();
    pic.irq(4).set(true);
    pic.acknowledge();
    outb(pic, 0x20, EOI);
    expect(pic.interruptPending()).toBe(false);
    expect(masterIrr(pic)).toBe(0);
    pic.irq(4).set(true); // still high: no edge
    expect(pic.interruptPending()).toBe(false);
    pulseHigh(pic, 4);
    expect(pic.acknowledge()).toBe(0x24);
  });

  it('edge: a rising edge while the level is in service is kept until EOI', () => {
    const pic = remapped();
    pic.irq(4).set(true);
    pic.acknowledge();
    pulseHigh(pic, 4);
    expect(pic.interruptPending()).toBe(false);
    expect(masterIrr(pic)).toBe(0x10);
    outb(pic, 0x20, EOI);
    expect(pic.acknowledge()).toBe(0x24);
  });

  it('level: IRR follows the line and a line still high interrupts again after EOI', () => {
    const pic = remapped({ icw1: 0x19 });
    pic.irq(4).set(true);
    expect(pic.acknowledge()).toBe(0x24);
    expect(masterIrr(pic)).toBe(0x10); // the acknowledge does not clear a level request
    outb(pic, 0x20, EOI);
    expect(pic.acknowledge()).toBe(0x24);
    outb(pic, 0x20, EOI);
    pic.irq(4).set(false);
    expect(masterIrr(pic)).toBe(0);
    expect(pic.acknowledge()).toBe(0x27);
  });

  it('level: a line already high at initialization interrupts without a new edge', () => {
    const pic = remapped();
    pic.irq(4).set(true);
    remap(pic, { icw1: 0x19 });
    expect(pic.acknowledge()).toBe(0x24);
  });
});

describe('8259A pair: special mask mode', () => {
  it('lets lower levels through while the in-service level is masked', () => {
    const pic = remapped();
    pic.irq(3).set(true);
    pic.acknowledge();
    pic.irq(5).set(true);
    expect(pic.interruptPending()).toBe(false);
    outb(pic, 0x21, 0x08); // mask IR3, the level in service
    outb(pic, 0x20, 0x68); // special mask mode on
    expect(pic.acknowledge()).toBe(0x25);
    // A non-specific EOI skips the masked IR3 and ends IR5.
    outb(pic, 0x20, EOI);
    expect(masterIsr(pic)).toBe(0x08);
    outb(pic, 0x20, 0x48); // special mask mode off: IR3 in service holds off lower levels again
    pulseHigh(pic, 6);
    expect(pic.interruptPending()).toBe(false);
    outb(pic, 0x20, EOI);
    expect(masterIsr(pic)).toBe(0);
  });

  it('without special mask mode, masking the in-service level does not unblock lower ones', () => {
    const pic = remapped();
    pic.irq(3).set(true);
    pic.acknowledge();
    pic.irq(5).set(true);
    outb(pic, 0x21, 0x08);
    expect(pic.interruptPending()).toBe(false);
  });
});

describe('8259A pair: INTR change notifications', () => {
  it('calls onChange when INTR rises and falls, not when it stays the same', () => {
    const pic = remapped();
    const seen: boolean[] = [];
    pic.onChange = () => seen.push(pic.interruptPending());
    pic.irq(4).set(true);
    pic.irq(4).set(true);
    pic.irq(6).set(true);
    expect(seen).toEqual([true]);
    pic.acknowledge();
    expect(seen).toEqual([true, false]);
    outb(pic, 0x20, EOI);
    expect(seen).toEqual([true, false, true]); // IR6 was waiting
    outb(pic, 0x21, 0x40);
    expect(seen).toEqual([true, false, true, false]);
  });

  it('notifies for slave requests reaching INTR through the cascade', () => {
    const pic = remapped();
    let calls = 0;
    pic.onChange = () => calls++;
    pic.irq(15).set(true);
    expect(calls).toBe(1);
    expect(pic.interruptPending()).toBe(true);
  });
});

describe('8259A pair: port access widths', () => {
  it('a 16-bit read of 0x20 reads the register selected by OCW3 and IMR, as the bus splits it', () => {
    const pic = remapped();
    outb(pic, 0x21, 0x5a);
    pic.irq(0).set(true);
    expect(pic.portIn(0x20, 2)).toBe(0x5a01);
  });
});
