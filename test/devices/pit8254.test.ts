import { describe, it, expect } from 'vitest';
import { VirtualClock, type IrqLine } from '../../emulator/devices/device.js';
import { Pit8254, pitLastTickBy, pitTickTime } from '../../emulator/devices/pit8254.js';

// Expected times are derived independently with BigInt: tick k is at floor(k * 1e9 / 1193182) ns.
const HZ = 1_193_182n;
const tickNs = (k: number): number => Number((BigInt(k) * 1_000_000_000n) / HZ);

type Edge = [time: number, level: boolean];

function machine() {
  const clock = new VirtualClock();
  const edges: Edge[] = [];
  const irq0: IrqLine = { set: (level) => edges.push([clock.now(), level]) };
  const pit = new Pit8254(clock, irq0);
  const out = (port: number, ...bytes: number[]): void => bytes.forEach((b) => pit.portOut(port, 1, b));
  const inb = (port: number): number => pit.portIn(port, 1);
  /** Moves to `ns` past tick k (a port access at that time sees tick k as the last one). */
  const toTick = (k: number, ns = 0): void => clock.advanceTo(tickNs(k) + ns);
  /** Counter latch command, then LSB and MSB, as a kernel reads a 16-bit count. */
  const latchAndRead = (channel: number): number => {
    out(0x43, channel << 6);
    const lsb = inb(0x40 + channel);
    return lsb | (inb(0x40 + channel) << 8);
  };
  const readBackStatus = (channel: number): number => {
    out(0x43, 0xe0 | (2 << channel));
    return inb(0x40 + channel);
  };
  return { clock, edges, pit, out, inb, toTick, latchAndRead, readBackStatus };
}

describe('8254 tick/time conversion', () => {
  it('is floor(k * 1e9 / 1193182) exactly, far beyond 2^53 intermediate products', () => {
    const samples = [0, 1, 2, 837, 838, 1193181, 1193182, 1193183, 123456789, 2 ** 40 + 12345, 2 ** 43 - 1];
    // 2^43 ticks is about 85 days, the most below 2^53 ns
    for (const k of samples) {
      expect(pitTickTime(k)).toBe(tickNs(k));
      // the last tick by a time: tick k itself at its time, tick k-1 one nanosecond earlier
      expect(pitLastTickBy(pitTickTime(k))).toBe(k);
      if (k > 0) expect(pitLastTickBy(pitTickTime(k) - 1)).toBe(k - 1);
    }
    expect(pitTickTime(1193182 * 3600)).toBe(3600e9);
    expect(pitLastTickBy(1e9 - 1)).toBe(1193181);
  });
});

describe('8254 mode 2 (rate generator) on counter 0', () => {
  it('gives IRQ0 a rising edge every 11932 ticks, OUT low for the tick at count 1', () => {
    const { clock, edges, out } = machine();
    out(0x43, 0x34); // counter 0, LSB then MSB, mode 2, binary: OUT goes high
    out(0x40, 11932 & 0xff, 11932 >> 8); // written at tick 0, loaded on tick 1
    clock.advanceTo(1e9);
    const expected: Edge[] = [[0, true]];
    for (let period = 0; 1 + 11932 * (period + 1) <= 1193182; period++) {
      const reload = 1 + 11932 * (period + 1);
      expected.push([tickNs(reload - 1), false], [tickNs(reload), true]);
    }
    expect(edges).toEqual(expected);
    expect(edges.filter(([, level]) => level).length).toBe(1 + 99);
  });

  it('reads back the count at given times through the counter latch command', () => {
    const { out, toTick, latchAndRead } = machine();
    out(0x43, 0x34);
    out(0x40, 0x9c, 0x2e); // 11932
    toTick(1);
    expect(latchAndRead(0)).toBe(11932);
    toTick(101, 500); // between ticks 101 and 102
    expect(latchAndRead(0)).toBe(11832);
    toTick(11932);
    expect(latchAndRead(0)).toBe(1);
    toTick(11933);
    expect(latchAndRead(0)).toBe(11932);
  });

  it('stays exact after an hour, keeping one pending clock event', () => {
    const { clock, edges, out } = machine();
    out(0x43, 0x34);
    out(0x40, 0x9c, 0x2e);
    clock.advanceTo(3600e9);
    const lastTick = 3600 * 1193182;
    const lastReload = 1 + 11932 * Math.floor((lastTick - 1) / 11932);
    const rises = edges.filter(([, level]) => level);
    expect(rises.at(-1)).toEqual([tickNs(lastReload), true]);
    expect(rises.length).toBe(1 + Math.floor((lastTick - 1) / 11932));
    expect(clock.nextEventAt()).toBe(tickNs(lastReload + 11931));
  });

  it('loads a new count at the end of the current cycle', () => {
    const { edges, out, toTick, latchAndRead, readBackStatus } = machine();
    out(0x43, 0x34);
    out(0x40, 100, 0); // loaded tick 1, reloads at 101, 201, ...
    toTick(150);
    out(0x40, 40, 0);
    expect(readBackStatus(0) & 0x40).toBe(0x40); // null count: the new count is not in the CE yet
    toTick(199);
    expect(latchAndRead(0)).toBe(2); // still the old cycle
    toTick(250);
    expect(readBackStatus(0) & 0x40).toBe(0);
    expect(edges.slice(-6)).toEqual([
      [tickNs(100), false], [tickNs(101), true],
      [tickNs(200), false], [tickNs(201), true], // old count finishes its cycle
      [tickNs(240), false], [tickNs(241), true], // then the new period of 40
    ]);
  });

  it('treats modes 6 and 7 as 2 and 3 but reports the mode bits as written', () => {
    const { edges, out, toTick, readBackStatus } = machine();
    out(0x43, 0x3c); // mode 6
    out(0x40, 10, 0);
    toTick(11);
    expect(edges).toEqual([[0, true], [tickNs(10), false], [tickNs(11), true]]);
    expect(readBackStatus(0)).toBe(0x80 | 0x30 | 0x0c);
  });
});

describe('8254 mode 3 (square wave)', () => {
  it('even count: high N/2, low N/2, counting down by two', () => {
    const { edges, out, toTick, latchAndRead } = machine();
    out(0x43, 0x36);
    out(0x40, 10, 0);
    const values: number[] = [];
    for (let k = 1; k <= 11; k++) {
      toTick(k);
      values.push(latchAndRead(0));
    }
    expect(values).toEqual([10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10]);
    toTick(40);
    expect(edges).toEqual([
      [0, true],
      [tickNs(6), false], [tickNs(11), true],
      [tickNs(16), false], [tickNs(21), true],
      [tickNs(26), false], [tickNs(31), true],
      [tickNs(36), false],
    ]);
  });

  it('odd count: high (N+1)/2, low (N-1)/2; the CE steps 5 4 2 | 5 2', () => {
    const { edges, out, toTick, latchAndRead } = machine();
    out(0x43, 0x36);
    out(0x40, 5, 0);
    const values: number[] = [];
    for (let k = 1; k <= 11; k++) {
      toTick(k);
      values.push(latchAndRead(0));
    }
    expect(values).toEqual([5, 4, 2, 5, 2, 5, 4, 2, 5, 2, 5]);
    expect(edges).toEqual([
      [0, true],
      [tickNs(4), false], [tickNs(6), true],
      [tickNs(9), false], [tickNs(11), true],
    ]);
  });

  it('odd count 11: exactly 6 ticks high and 5 low, period after period', () => {
    const { edges, out, toTick } = machine();
    out(0x43, 0x36);
    out(0x40, 11, 0);
    toTick(1 + 11 * 50);
    const lengths = edges.slice(1).map(([time, level], i, all) => {
      const end = all[i + 1]?.[0];
      return end === undefined ? null : [level, pitLastTickBy(end) - pitLastTickBy(time)];
    });
    expect(lengths.slice(0, 4)).toEqual([[false, 5], [true, 6], [false, 5], [true, 6]]);
    expect(new Set(lengths.slice(0, -1).map((l) => JSON.stringify(l))).size).toBe(2);
  });

  it('loads a new count at the end of the current half-cycle', () => {
    const { edges, out, toTick, latchAndRead } = machine();
    out(0x43, 0x36);
    out(0x40, 100, 0); // high 1..50, low 51..100, high from 101
    toTick(60);
    out(0x40, 40, 0); // during the low half
    toTick(100);
    expect(latchAndRead(0)).toBe(100 - 2 * 49);
    toTick(101);
    expect(latchAndRead(0)).toBe(40);
    toTick(170);
    expect(edges).toEqual([
      [0, true],
      [tickNs(51), false], [tickNs(101), true], // the old low half completes
      [tickNs(121), false], [tickNs(141), true], [tickNs(161), false], // then 20/20
    ]);
  });
});

describe('8254 mode 0 (interrupt on terminal count)', () => {
  it('raises OUT N+1 ticks after the count is written, then holds it while the CE wraps', () => {
    const { clock, edges, out, toTick, latchAndRead } = machine();
    toTick(50, 3);
    out(0x43, 0x30);
    out(0x40, 100, 0); // loaded on tick 51: terminal count on tick 151
    toTick(150);
    expect(latchAndRead(0)).toBe(1);
    expect(edges).toEqual([]);
    toTick(151);
    expect(latchAndRead(0)).toBe(0);
    expect(edges).toEqual([[tickNs(151), true]]);
    toTick(152);
    expect(latchAndRead(0)).toBe(0xffff);
    expect(clock.nextEventAt()).toBe(Infinity); // idle: nothing scheduled
    clock.advanceTo(3600e9);
    const expectedCount = Number(((151n - 3600n * HZ) % 65536n + 65536n) % 65536n);
    expect(latchAndRead(0)).toBe(expectedCount);
    expect(edges).toEqual([[tickNs(151), true]]);
  });

  it('a new two-byte count: the first byte drops OUT at once and stops counting', () => {
    const { edges, out, toTick, latchAndRead, readBackStatus } = machine();
    out(0x43, 0x30);
    out(0x40, 100, 0); // terminal count on tick 101
    toTick(200, 100);
    out(0x40, 16); // LSB
    expect(edges).toEqual([[tickNs(101), true], [tickNs(200) + 100, false]]);
    toTick(205);
    expect(latchAndRead(0)).toBe(65536 - (200 - 101)); // frozen at its tick-200 value
    expect(readBackStatus(0) & 0x40).toBe(0); // null count is set by the second byte only
    toTick(210);
    out(0x40, 0); // MSB: 16 is loaded on tick 211, terminal count on 227
    expect(readBackStatus(0) & 0x40).toBe(0x40);
    toTick(226);
    expect(latchAndRead(0)).toBe(1);
    toTick(240);
    expect(edges.slice(2)).toEqual([[tickNs(227), true]]);
  });
});

describe('8254 count 0 and BCD', () => {
  it('count 0 is 65536 in binary', () => {
    const { edges, out, toTick, latchAndRead } = machine();
    out(0x43, 0x34);
    out(0x40, 0, 0);
    toTick(1);
    expect(latchAndRead(0)).toBe(0);
    toTick(2);
    expect(latchAndRead(0)).toBe(0xffff);
    toTick(65537);
    expect(edges).toEqual([[0, true], [tickNs(65536), false], [tickNs(65537), true]]);
  });

  it('count 0 is 10000 in BCD, and counts read back in BCD', () => {
    const { edges, out, toTick, latchAndRead } = machine();
    out(0x43, 0x35); // mode 2, BCD
    out(0x40, 0, 0);
    toTick(2);
    expect(latchAndRead(0)).toBe(0x9999);
    toTick(10001);
    expect(edges).toEqual([[0, true], [tickNs(10000), false], [tickNs(10001), true]]);
  });

  it('BCD count 1234 is a period of 1234 ticks', () => {
    const { edges, out, toTick, latchAndRead } = machine();
    out(0x43, 0x35);
    out(0x40, 0x34, 0x12);
    toTick(1 + 34);
    expect(latchAndRead(0)).toBe(0x1200);
    toTick(1 + 1234);
    expect(edges.at(-1)).toEqual([tickNs(1235), true]);
  });
});

describe('8254 latches and read-back', () => {
  it('a latched count stays frozen until read; a second latch before the read is ignored', () => {
    const { out, inb, toTick, latchAndRead } = machine();
    out(0x43, 0x34);
    out(0x40, 0xe8, 0x03); // 1000
    toTick(10);
    out(0x43, 0x00);
    toTick(500);
    out(0x43, 0x00); // ignored
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(1000 - 9);
    expect(latchAndRead(0)).toBe(1000 - 499);
  });

  it('read-back of status: OUT, null count, RW, mode, BCD', () => {
    const { out, toTick, readBackStatus } = machine();
    out(0x43, 0x34);
    out(0x40, 0x9c, 0x2e);
    expect(readBackStatus(0)).toBe(0x80 | 0x40 | 0x34); // count written, not yet loaded
    toTick(1);
    expect(readBackStatus(0)).toBe(0x80 | 0x34);
    toTick(11932);
    expect(readBackStatus(0)).toBe(0x34); // OUT low for the tick at count 1
    out(0x43, 0xb7); // counter 2, LSB then MSB, mode 3, BCD
    expect(readBackStatus(2)).toBe(0x80 | 0x40 | 0x37);
  });

  it('read-back of count and status: status first, then the count; repeats are ignored until read', () => {
    const { out, inb, toTick } = machine();
    out(0x43, 0x34);
    out(0x40, 0x9c, 0x2e);
    toTick(11);
    out(0x43, 0xc2); // count and status of counter 0
    toTick(11932); // OUT is now low, the count 1
    out(0x43, 0xc2); // ignored: both are still latched
    expect([inb(0x40), inb(0x40), inb(0x40)]).toEqual([0xb4, (11932 - 10) & 0xff, (11932 - 10) >> 8]);
    out(0x43, 0xc2);
    expect([inb(0x40), inb(0x40), inb(0x40)]).toEqual([0x34, 1, 0]);
  });

  it('read-back latches several counters at once, each released by its own read', () => {
    const { out, inb, toTick } = machine();
    out(0x43, 0x34);
    out(0x40, 100, 0);
    out(0x43, 0x74); // counter 1 mode 2
    out(0x41, 200, 0);
    toTick(21);
    out(0x43, 0xd6); // counts of counters 0, 1, 2 (bits 1-3)
    toTick(61);
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(80);
    expect(inb(0x41) | (inb(0x41) << 8)).toBe(180);
    expect(inb(0x41) | (inb(0x41) << 8)).toBe(140); // released: live again
  });
});

describe('8254 RW modes', () => {
  it('LSB only and MSB only write and read one byte each', () => {
    const { edges, out, inb, toTick } = machine();
    out(0x43, 0x10); // LSB only, mode 0
    out(0x40, 0x80); // count 0x0080
    toTick(9);
    expect(inb(0x40)).toBe(0x80 - 8);
    toTick(129);
    expect(edges).toEqual([[tickNs(129), true]]);
    out(0x43, 0x20); // MSB only, mode 0: OUT low again
    out(0x40, 0x02); // count 0x0200, loaded on tick 130
    toTick(131);
    expect(inb(0x40)).toBe(0x01); // 0x01ff
    toTick(642);
    expect(edges.slice(1)).toEqual([[tickNs(129), false], [tickNs(642), true]]);
  });

  it('LSB then MSB: live reads alternate bytes; reads and writes may interleave', () => {
    const { out, inb, toTick, latchAndRead } = machine();
    out(0x43, 0x30);
    out(0x40, 0x34, 0x12); // 0x1234, loaded on tick 1
    toTick(1);
    expect(inb(0x40)).toBe(0x34);
    toTick(0x35); // count is now 0x1200
    expect(inb(0x40)).toBe(0x12);
    out(0x40, 0x00); // new LSB (mode 0: counting stops at 0x1200)
    expect(inb(0x40)).toBe(0x00); // the read flip-flop is separate: LSB again
    out(0x40, 0x05); // new MSB: 0x0500, loaded on tick 0x36
    expect(inb(0x40)).toBe(0x12);
    toTick(0x36 + 0x100);
    expect(latchAndRead(0)).toBe(0x0400);
  });
});

describe('8254 gates (counter 2) and the other modes', () => {
  it('mode 2: gate low holds the count and forces OUT high; gate high reloads on the next tick', () => {
    const { pit, out, toTick, latchAndRead } = machine();
    out(0x43, 0xb4); // counter 2, mode 2; gate 2 is low after reset
    out(0x42, 10, 0);
    toTick(20);
    expect(latchAndRead(2)).toBe(10);
    expect(pit.output(2)).toBe(true);
    toTick(30, 5);
    pit.setGate(2, true); // reload on tick 31: OUT low on tick 40
    toTick(39);
    expect(pit.output(2)).toBe(true);
    toTick(40);
    expect(pit.output(2)).toBe(false);
    toTick(41);
    expect(pit.output(2)).toBe(true);
    toTick(50, 10);
    expect(pit.output(2)).toBe(false); // count 1 again
    pit.setGate(2, false);
    expect(pit.output(2)).toBe(true); // at once, no clock needed
    toTick(70);
    expect(latchAndRead(2)).toBe(1);
  });

  it('mode 0: gate low suspends counting, which resumes where it stopped', () => {
    const { pit, out, toTick, latchAndRead } = machine();
    pit.setGate(2, true);
    out(0x43, 0xb0);
    out(0x42, 10, 0); // loaded tick 1, would reach 0 on tick 11
    toTick(5, 1);
    pit.setGate(2, false);
    toTick(20);
    expect(latchAndRead(2)).toBe(6);
    toTick(20, 1);
    pit.setGate(2, true);
    toTick(25);
    expect(pit.output(2)).toBe(false);
    toTick(26);
    expect(pit.output(2)).toBe(true);
  });

  it('mode 1: the gate triggers a one-shot of N ticks, retriggerable', () => {
    const { pit, out, toTick, latchAndRead } = machine();
    out(0x43, 0xb2);
    out(0x42, 5, 0);
    toTick(9);
    expect(pit.output(2)).toBe(true); // nothing until a trigger
    toTick(10, 1);
    pit.setGate(2, true); // loaded on tick 11, OUT low there
    toTick(11);
    expect(pit.output(2)).toBe(false);
    toTick(13, 1);
    pit.setGate(2, false);
    pit.setGate(2, true); // retrigger: reload on tick 14, terminal count on 19
    toTick(18);
    expect(pit.output(2)).toBe(false);
    toTick(19);
    expect(pit.output(2)).toBe(true);
    toTick(20);
    expect(latchAndRead(2)).toBe(0xffff);
  });

  it('mode 5: the gate triggers a one-tick strobe N ticks after loading', () => {
    const { pit, out, toTick } = machine();
    out(0x43, 0xba);
    out(0x42, 3, 0);
    toTick(10, 1);
    pit.setGate(2, true); // loaded tick 11: strobe on tick 14
    const levels: boolean[] = [];
    for (let k = 12; k <= 16; k++) {
      toTick(k);
      levels.push(pit.output(2));
    }
    expect(levels).toEqual([true, true, false, true, true]);
  });

  it('mode 4 on counter 0: IRQ0 drops for one tick N+1 ticks after the count is written', () => {
    const { edges, out, toTick } = machine();
    out(0x43, 0x38);
    out(0x40, 3, 0);
    toTick(100);
    expect(edges).toEqual([[0, true], [tickNs(4), false], [tickNs(5), true]]);
  });
});
