import { describe, it, expect } from 'vitest';
import { VirtualClock } from '../../emulator/devices/device.js';
import { Uart16550 } from '../../emulator/devices/uart16550.js';

const COM1 = 0x3f8;
const [RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR] = [0, 1, 2, 3, 4, 5, 6, 7];
const THR = RBR;
const FCR = IIR;
const [DLL, DLM] = [0, 1];

/** A UART on COM1 with its IRQ line and serial output recorded, as a driver sees it. */
function harness(clock?: VirtualClock) {
  const irqLevels: boolean[] = [];
  const sent: number[] = [];
  const uart = new Uart16550(COM1, { set: (level) => irqLevels.push(level) }, (byte) => sent.push(byte), clock);
  const inb = (offset: number): number => uart.portIn(COM1 + offset, 1);
  const outb = (offset: number, value: number): void => uart.portOut(COM1 + offset, 1, value);
  const irq = (): boolean => irqLevels.at(-1) ?? false;
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  /** Polled transmit: wait for THRE, then write (as early boot code and xv6's uartputc do). */
  const putc = (byte: number): void => {
    for (let spins = 0; (inb(LSR) & 0x20) === 0; spins++) if (spins > 100) throw new Error('THRE never set');
    outb(THR, byte);
  };
  return { uart, inb, outb, irq, irqLevels, sent, text, putc };
}

/** Linux-style setup: 9600 8N1, FIFOs on and cleared with trigger 14, DTR|RTS|OUT2. */
function linuxInit(h: ReturnType<typeof harness>, ier: number): void {
  h.outb(IER, 0);
  h.outb(LCR, 0x80);
  h.outb(DLL, 115200 / 9600);
  h.outb(DLM, 0);
  h.outb(LCR, 0x03);
  h.outb(FCR, 0xc7);
  h.outb(MCR, 0x0b);
  h.outb(IER, ier);
}

/** Four character times at 9600 baud, 10 bits a character (8N1), in ns. */
const TIMEOUT_9600_8N1 = Math.round((4 * 10 * 1e9) / 9600);

describe('PC16550D UART: reset state and probing', () => {
  it('comes out of reset idle: IIR 01, LSR THRE|TEMT, MSR a connected terminal, IRQ low', () => {
    const h = harness();
    expect(h.uart.ports).toEqual([0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff]);
    expect(h.inb(IIR)).toBe(0x01);
    expect(h.inb(LSR)).toBe(0x60);
    expect(h.inb(MSR)).toBe(0xb0); // DCD, DSR, CTS asserted, RI off, no deltas
    expect(h.inb(IER)).toBe(0);
    expect(h.inb(MCR)).toBe(0);
    expect(h.irq()).toBe(false);
  });

  it('passes the scratch register, IER and divisor-latch tests of the Linux 8250 probe', () => {
    const h = harness();
    for (const pattern of [0xa5, 0x5a]) {
      h.outb(SCR, pattern);
      expect(h.inb(SCR)).toBe(pattern);
    }
    h.outb(IER, 0);
    expect(h.inb(IER) & 0x0f).toBe(0);
    h.outb(IER, 0xff);
    expect(h.inb(IER)).toBe(0x0f); // bits 7-4 are always 0
    h.outb(IER, 0);

    h.outb(LCR, 0x80); // DLAB: offsets 0 and 1 become the divisor latch
    h.outb(DLL, 0x34);
    h.outb(DLM, 0x12);
    expect(h.inb(DLL)).toBe(0x34);
    expect(h.inb(DLM)).toBe(0x12);
    expect(h.uart.portIn(COM1 + DLL, 2)).toBe(0x1234); // a word access splits into two byte accesses
    h.outb(LCR, 0x03);
    expect(h.inb(LCR)).toBe(0x03);
    expect(h.inb(IER)).toBe(0); // DLAB off: offset 1 is IER again, untouched by the DLM write
    expect(h.sent).toEqual([]); // the DLL write did not transmit
  });

  it('identifies a 16550A by IIR bits 7-6 once FIFOs are enabled, and drops them when disabled', () => {
    const h = harness();
    h.outb(FCR, 0x01);
    expect(h.inb(IIR) >> 6).toBe(3);
    h.outb(FCR, 0x00);
    expect(h.inb(IIR) >> 6).toBe(0);
    h.outb(FCR, 0xc6); // other bits without bit 0: FIFOs stay off
    expect(h.inb(IIR)).toBe(0x01);
  });

  it('masks MCR bits 7-5 and reads back the rest', () => {
    const h = harness();
    h.outb(MCR, 0xff);
    expect(h.inb(MCR)).toBe(0x1f);
  });
});

describe('PC16550D UART: transmit and receive as xv6 does (16450 mode)', () => {
  function xv6Init(h: ReturnType<typeof harness>): void {
    h.outb(FCR, 0); // FIFOs off
    h.outb(LCR, 0x80);
    h.outb(DLL, 115200 / 9600);
    h.outb(DLM, 0);
    h.outb(LCR, 0x03);
    h.outb(MCR, 0);
    h.outb(IER, 0x01);
  }

  it('sends polled output to the host at once, THRE and TEMT set again immediately', () => {
    const h = harness();
    xv6Init(h);
    expect(h.inb(LSR)).not.toBe(0xff); // xv6's "is there a UART" check
    for (const byte of h.text('xv6...\n')) h.putc(byte);
    expect(String.fromCharCode(...h.sent)).toBe('xv6...\n');
    expect(h.inb(LSR) & 0x60).toBe(0x60);
  });

  it('holds one received byte in RBR and raises received-data-available, IRQ only with OUT2', () => {
    const h = harness();
    xv6Init(h);
    h.uart.receive(h.text('a'));
    expect(h.inb(LSR) & 0x01).toBe(1);
    expect(h.inb(IIR)).toBe(0x04);
    expect(h.irq()).toBe(false); // xv6 leaves MCR 0: on a PC, OUT2 off keeps IRQ4 quiet
    h.outb(MCR, 0x08);
    expect(h.irq()).toBe(true);
    expect(h.inb(RBR)).toBe(0x61);
    expect(h.inb(IIR)).toBe(0x01);
    expect(h.inb(LSR) & 0x01).toBe(0);
    expect(h.irq()).toBe(false);
    expect(h.irqLevels).toEqual([true, false]);
  });

  it('overruns in 16450 mode by overwriting the unread byte, OE cleared by reading LSR', () => {
    const h = harness();
    xv6Init(h);
    h.uart.receive(h.text('xy'));
    expect(h.inb(LSR)).toBe(0x63); // THRE|TEMT|OE|DR
    expect(h.inb(LSR)).toBe(0x61);
    expect(h.inb(RBR)).toBe(0x79); // 'y' replaced 'x'
    expect(h.inb(LSR) & 0x01).toBe(0);
  });
});

describe('PC16550D UART: FIFOs', () => {
  it('raises received-data-available exactly at each trigger level (1, 4, 8, 14)', () => {
    for (const [fcr, level] of [[0x07, 1], [0x47, 4], [0x87, 8], [0xc7, 14]] as const) {
      const h = harness(new VirtualClock()); // clock never advances: no timeout in the way
      linuxInit(h, 0x01);
      h.outb(FCR, fcr);
      h.uart.receive(new Uint8Array(level - 1));
      expect(h.inb(IIR), `trigger ${level}, one short`).toBe(0xc1);
      h.uart.receive(new Uint8Array([0x41]));
      expect(h.inb(IIR), `trigger ${level}, reached`).toBe(0xc4);
      expect(h.irq()).toBe(true);
      h.inb(RBR);
      expect(h.inb(IIR), `trigger ${level}, below again`).toBe(0xc1);
      expect(h.irq()).toBe(false);
      expect(h.inb(LSR) & 0x01).toBe(level > 1 ? 1 : 0);
    }
  });

  it('keeps the first 16 bytes when overrun, losing the 17th, and reports OE once', () => {
    const h = harness(new VirtualClock());
    linuxInit(h, 0x05); // received data + line status
    const bytes = Uint8Array.from({ length: 17 }, (_, i) => 0x40 + i);
    h.uart.receive(bytes);
    expect(h.inb(IIR)).toBe(0xc6); // line status outranks received data
    expect(h.inb(LSR)).toBe(0x63);
    expect(h.inb(LSR)).toBe(0x61); // OE cleared by the previous read
    expect(h.inb(IIR)).toBe(0xc4);
    const got: number[] = [];
    while (h.inb(LSR) & 0x01) got.push(h.inb(RBR));
    expect(got).toEqual([...bytes.slice(0, 16)]);
  });

  it('clears the receive FIFO on FCR bit 1 and on switching FIFO mode, keeping the trigger level', () => {
    const h = harness(new VirtualClock());
    linuxInit(h, 0x01);
    h.uart.receive(new Uint8Array(14));
    expect(h.inb(IIR)).toBe(0xc4);
    h.outb(FCR, 0xc3); // enable + clear RX
    expect(h.inb(LSR) & 0x01).toBe(0);
    expect(h.inb(IIR)).toBe(0xc1);
    expect(h.irq()).toBe(false);
    h.uart.receive(new Uint8Array(14)); // trigger still 14 (from 0xc3's bits 7-6)
    expect(h.inb(IIR)).toBe(0xc4);
    h.outb(FCR, 0x00); // leaving FIFO mode empties the FIFO too
    expect(h.inb(LSR) & 0x01).toBe(0);
    expect(h.inb(IIR)).toBe(0x01); // and IIR bits 7-6 read 00 again
  });
});

describe('PC16550D UART: character timeout', () => {
  it('signals a timeout four character times after the last byte in or out (8N1, 9600 baud)', () => {
    const clock = new VirtualClock();
    const h = harness(clock);
    linuxInit(h, 0x01);
    h.uart.receive(h.text('abc')); // below trigger 14
    expect(h.inb(IIR)).toBe(0xc1);
    clock.advanceTo(TIMEOUT_9600_8N1 - 1);
    expect(h.inb(IIR)).toBe(0xc1);
    expect(h.irq()).toBe(false);
    clock.advanceTo(TIMEOUT_9600_8N1);
    expect(h.inb(IIR)).toBe(0xcc);
    expect(h.irq()).toBe(true);

    expect(h.inb(RBR)).toBe(0x61); // reading a byte clears the timeout and restarts the timer
    expect(h.inb(IIR)).toBe(0xc1);
    expect(h.irq()).toBe(false);
    clock.advanceTo(2 * TIMEOUT_9600_8N1 - 1);
    expect(h.inb(IIR)).toBe(0xc1);
    clock.advanceTo(2 * TIMEOUT_9600_8N1);
    expect(h.inb(IIR)).toBe(0xcc);
    h.inb(RBR);
    h.inb(RBR);
    clock.advanceTo(10 * TIMEOUT_9600_8N1);
    expect(h.inb(IIR)).toBe(0xc1); // an empty FIFO never times out
  });

  it('restarts the timer when a byte arrives, and counts parity and a second stop bit', () => {
    const clock = new VirtualClock();
    const h = harness(clock);
    linuxInit(h, 0x01);
    h.outb(LCR, 0x0e); // 7 data bits, parity, 2 stop bits: 1+7+1+2 = 11 bits
    const timeout = Math.round((4 * 11 * 1e9) / 9600);
    h.uart.receive(h.text('a'));
    clock.advanceTo(1000);
    h.uart.receive(h.text('b'));
    clock.advanceTo(1000 + timeout - 1);
    expect(h.inb(IIR)).toBe(0xc1);
    clock.advanceTo(1000 + timeout);
    expect(h.inb(IIR)).toBe(0xcc);
  });

  it('without a clock, signals a timeout at once while data sits below the trigger level', () => {
    const h = harness();
    linuxInit(h, 0x01);
    h.uart.receive(h.text('hello'));
    expect(h.inb(IIR)).toBe(0xcc);
    expect(h.irq()).toBe(true);
    let received = '';
    while (h.inb(IIR) === 0xcc) received += String.fromCharCode(h.inb(RBR));
    expect(received).toBe('hello');
    expect(h.irq()).toBe(false);
    h.uart.receive(new Uint8Array(14)); // at the trigger level it is received data, not a timeout
    expect(h.inb(IIR)).toBe(0xc4);
  });

  it('masks characters to the word length, 5 bits after reset', () => {
    const h = harness();
    h.uart.receive(new Uint8Array([0xff]));
    expect(h.inb(RBR)).toBe(0x1f);
    h.outb(LCR, 0x02); // 7 data bits
    h.uart.receive(new Uint8Array([0xff]));
    expect(h.inb(RBR)).toBe(0x7f);
    h.outb(THR, 0xe1);
    expect(h.sent).toEqual([0x61]);
  });
});

describe('PC16550D UART: THR-empty interrupt', () => {
  it('is raised by enabling it while THR is empty and acknowledged by the IIR read that reports it', () => {
    const h = harness(new VirtualClock());
    linuxInit(h, 0x00);
    expect(h.irq()).toBe(false);
    h.outb(IER, 0x02);
    expect(h.irq()).toBe(true);
    expect(h.inb(IIR)).toBe(0xc2);
    expect(h.irq()).toBe(false);
    expect(h.inb(IIR)).toBe(0xc1);
    h.outb(IER, 0x02); // already enabled: rewriting does not re-arm
    expect(h.inb(IIR)).toBe(0xc1);
    h.outb(IER, 0x00);
    h.outb(IER, 0x02); // re-enabling does (Linux's start_tx relies on it)
    expect(h.inb(IIR)).toBe(0xc2);
    h.outb(FCR, 0x00); // so does changing FCR bit 0: the next THRE interrupt is immediate
    expect(h.inb(IIR)).toBe(0x02);
    expect(h.inb(IIR)).toBe(0x01);
  });

  it('re-arms when a THR write empties again, pulsing the IRQ line low for an edge-triggered PIC', () => {
    const h = harness(new VirtualClock());
    linuxInit(h, 0x02);
    expect(h.irqLevels).toEqual([true]);
    h.outb(THR, 0x41); // handler writes without reading IIR first
    expect(h.irqLevels).toEqual([true, false, true]);
    expect(h.inb(IIR)).toBe(0xc2);
    expect(h.irqLevels).toEqual([true, false, true, false]);
    h.outb(THR, 0x42);
    expect(h.inb(IIR)).toBe(0xc2);
    expect(h.sent).toEqual([0x41, 0x42]);
  });

  it('is not acknowledged by an IIR read that reports a higher-priority source', () => {
    const h = harness(new VirtualClock());
    linuxInit(h, 0x03);
    h.uart.receive(new Uint8Array(14));
    expect(h.inb(IIR)).toBe(0xc4); // received data outranks THR empty
    while (h.inb(LSR) & 0x01) h.inb(RBR);
    expect(h.inb(IIR)).toBe(0xc2); // still pending
    expect(h.inb(IIR)).toBe(0xc1);
  });
});

describe('PC16550D UART: interrupt priorities', () => {
  it('reports line status, received data, timeout, THR empty, modem status in datasheet order', () => {
    const clock = new VirtualClock();
    const h = harness(clock);
    linuxInit(h, 0x0f);
    h.outb(MCR, 0x10); // loopback with every output off: CTS, DSR, DCD drop
    for (let i = 0; i < 17; i++) h.outb(THR, 0x30 + i); // the 17th overruns the looped-back FIFO
    expect(h.sent).toEqual([]);

    const sequence: number[] = [];
    sequence.push(h.inb(IIR)); // line status
    expect(h.inb(LSR)).toBe(0x63);
    sequence.push(h.inb(IIR)); // received data (16 >= 14)
    for (let i = 0; i < 3; i++) h.inb(RBR);
    sequence.push(h.inb(IIR)); // THR empty (13 < 14, no timeout yet); this read acknowledges it
    sequence.push(h.inb(IIR)); // modem status
    expect(h.inb(MSR)).toBe(0x0b); // DDCD|DDSR|DCTS, all inputs low
    sequence.push(h.inb(IIR)); // nothing
    clock.advanceTo(TIMEOUT_9600_8N1);
    sequence.push(h.inb(IIR)); // character timeout
    expect(sequence).toEqual([0xc6, 0xc4, 0xc2, 0xc0, 0xc1, 0xcc]);
    expect(h.irq()).toBe(false); // loopback forces OUT2 inactive: nothing reached the PIC
  });

  it('honours IER: a disabled source is neither identified nor signalled', () => {
    const h = harness();
    linuxInit(h, 0x00);
    h.uart.receive(new Uint8Array(17));
    h.outb(MCR, 0x18);
    h.outb(MCR, 0x08);
    expect(h.inb(IIR)).toBe(0xc1);
    expect(h.irqLevels).toEqual([]);
    h.outb(IER, 0x08);
    expect(h.inb(IIR)).toBe(0xc0); // the modem deltas were latched all along
    expect(h.irq()).toBe(true);
    h.inb(MSR);
    expect(h.irq()).toBe(false);
  });
});

describe('PC16550D UART: loopback and modem status', () => {
  it('loops data and modem lines back with MCR 0x1E, sending nothing to the host', () => {
    const h = harness();
    h.outb(LCR, 0x03); // 8 bits: reset's LCR 0 means 5-bit words
    h.outb(MCR, 0x1e); // loop, OUT2, OUT1, RTS; DTR off
    h.outb(THR, 0xae);
    expect(h.inb(RBR)).toBe(0xae);
    expect(h.sent).toEqual([]);
    // RTS→CTS, OUT1→RI, OUT2→DCD; DSR follows DTR down, so DDSR.
    expect(h.inb(MSR)).toBe(0xd0 | 0x02);
    h.outb(MCR, 0x0f); // back to normal: DSR rises, RI falls (trailing edge)
    expect(h.inb(MSR)).toBe(0xb0 | 0x02 | 0x04);
    expect(h.inb(MSR)).toBe(0xb0);
    h.outb(THR, 0x55);
    expect(h.sent).toEqual([0x55]);
  });

  it('passes the Linux 8250 loopback check (MCR LOOP|0x0A gives MSR 0x90)', () => {
    const h = harness();
    h.outb(MCR, 0x10 | 0x0a);
    expect(h.inb(MSR) & 0xf0).toBe(0x90);
  });

  it('ignores bytes from the host while in loopback (the serial input is disconnected)', () => {
    const h = harness();
    h.outb(LCR, 0x03);
    h.outb(MCR, 0x10);
    h.uart.receive(h.text('x'));
    expect(h.inb(LSR) & 0x01).toBe(0);
    h.outb(MCR, 0x00);
    h.uart.receive(h.text('y'));
    expect(h.inb(RBR)).toBe(0x79);
  });

  it('gates the IRQ line with OUT2, and cuts it off in loopback even with OUT2 set', () => {
    const h = harness(new VirtualClock());
    linuxInit(h, 0x01);
    h.outb(MCR, 0x03); // OUT2 off
    h.uart.receive(new Uint8Array(14));
    expect(h.inb(IIR)).toBe(0xc4);
    expect(h.irq()).toBe(false);
    h.outb(MCR, 0x0b);
    expect(h.irq()).toBe(true);
    h.outb(MCR, 0x1b);
    expect(h.irq()).toBe(false);
    expect(h.inb(IIR)).toBe(0xc4); // still pending inside the UART
    h.outb(MCR, 0x0b);
    expect(h.irq()).toBe(true);
    expect(h.irqLevels).toEqual([true, false, true]);
  });
});

describe('receiver room (for the host pacing its input)', () => {
  it('is 1 without FIFOs, 16 minus what waits with them, and 0 in loopback', () => {
    const uart = new Uart16550(0x3f8, { set: () => {} }, () => {});
    expect(uart.receiverRoom()).toBe(1);
    uart.portOut(0x3fa, 1, 0x01); // FIFOs on
    uart.receive(Uint8Array.of(1, 2, 3));
    expect(uart.receiverRoom()).toBe(13);
    uart.portOut(0x3fc, 1, 0x10); // loopback
    expect(uart.receiverRoom()).toBe(0);
  });
});
