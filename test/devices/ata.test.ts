import { describe, it, expect } from 'vitest';
import { VirtualClock } from '../../emulator/devices/device.js';
import { AtaChannel, DiskImage } from '../../emulator/devices/ata.js';

const BASE = 0x1f0;
const CONTROL = 0x3f6;
const [DATA, ERROR, COUNT, LBA_LOW, LBA_MID, LBA_HIGH, DEVICE, STATUS] = [0, 1, 2, 3, 4, 5, 6, 7];
const FEATURES = ERROR;
const COMMAND = STATUS;
const [BSY, DRDY, DRQ, ERR] = [0x80, 0x40, 0x08, 0x01];
const [ABRT, IDNF] = [0x04, 0x10];
const [NIEN, SRST] = [0x02, 0x04];
const [READ_SECTORS, WRITE_SECTORS, READ_MULTIPLE, INIT_PARAMS, IDENTIFY, FLUSH_CACHE, SET_FEATURES] =
  [0x20, 0x30, 0xc4, 0x91, 0xec, 0xe7, 0xef];
const LATENCY = 100_000;
const SECTOR = 512;
/** The default sustained rate, 16 MB/s: a sector's transfer time after a command's first block. */
const SECTOR_NS = (SECTOR * 1e9) / 16_000_000;

/** A disk whose every sector is recognisable: its LBA in the first 4 bytes, then a pattern that depends on it. */
function patternedImage(sectors: number): Uint8Array {
  const image = new Uint8Array(sectors * SECTOR);
  for (let s = 0; s < sectors; s++) {
    const sector = image.subarray(s * SECTOR, (s + 1) * SECTOR);
    for (let i = 0; i < SECTOR; i++) sector[i] = (s * 7 + i * 3) & 0xff;
    new DataView(image.buffer).setUint32(s * SECTOR, s, true);
  }
  return image;
}

function sectorsOf(image: Uint8Array, lba: number, count: number): Uint8Array {
  return image.slice(lba * SECTOR, (lba + count) * SECTOR);
}

/** A primary channel with its IRQ 14 line recorded, driven through its ports as a kernel driver would. */
function harness(disks: [DiskImage | null, DiskImage | null], latencyNs: number = LATENCY) {
  const clock = new VirtualClock();
  const irqLevels: boolean[] = [];
  const ata = new AtaChannel(BASE, CONTROL, { set: (level) => irqLevels.push(level) }, clock, disks, latencyNs);
  const inb = (offset: number): number => ata.portIn(BASE + offset, 1);
  const outb = (offset: number, value: number): void => ata.portOut(BASE + offset, 1, value);
  const inw = (): number => ata.portIn(BASE + DATA, 2);
  const outw = (value: number): void => ata.portOut(BASE + DATA, 2, value);
  const altStatus = (): number => ata.portIn(CONTROL, 1);
  const deviceControl = (value: number): void => ata.portOut(CONTROL, 1, value);
  const irq = (): boolean => irqLevels.at(-1) ?? false;
  /** Rising edges of IRQ 14: the interrupts an edge-triggered PIC would see. */
  const interrupts = (): number => irqLevels.filter((level, i) => level && !(irqLevels[i - 1] ?? false)).length;
  const elapse = (ns: number): void => clock.advanceTo(clock.now() + ns);

  /** xv6's idewait: spin on Status until BSY clear and DRDY set, virtual time passing as the CPU spins. */
  const idewait = (): number => {
    for (let spins = 0; spins < 100_000; spins++) {
      const status = inb(STATUS);
      if ((status & (BSY | DRDY)) === DRDY) return status;
      elapse(1_000);
    }
    throw new Error('drive never became ready');
  };
  /** Sleeping until IRQ 14 rises, as xv6's iderw does; fails if it never comes. */
  const waitForIrq = (): void => {
    for (let steps = 0; steps < 100_000 && !irq(); steps++) elapse(1_000);
    if (!irq()) throw new Error('no interrupt');
  };
  /** xv6's idestart: task file in LBA28 mode, then the command. */
  const start = (command: number, lba: number, count: number, drive = 0): void => {
    idewait();
    deviceControl(0); // nIEN clear: interrupts on
    outb(COUNT, count);
    outb(LBA_LOW, lba & 0xff);
    outb(LBA_MID, (lba >>> 8) & 0xff);
    outb(LBA_HIGH, (lba >>> 16) & 0xff);
    outb(DEVICE, 0xe0 | (drive << 4) | ((lba >>> 24) & 0x0f));
    outb(COMMAND, command);
  };
  /** 256 data-port reads into a sector. */
  const readSectorWords = (): Uint8Array => {
    const sector = new Uint8Array(SECTOR);
    for (let i = 0; i < SECTOR; i += 2) {
      const word = inw();
      sector[i] = word & 0xff;
      sector[i + 1] = word >>> 8;
    }
    return sector;
  };
  const writeSectorWords = (data: Uint8Array): void => {
    for (let i = 0; i < SECTOR; i += 2) outw(data[i]! | (data[i + 1]! << 8));
  };
  /** Interrupt-driven READ SECTORS, one interrupt and one status read per sector, as xv6's ideintr does. */
  const readSectors = (lba: number, count: number): Uint8Array => {
    start(READ_SECTORS, lba, count);
    const data = new Uint8Array(count * SECTOR);
    for (let s = 0; s < count; s++) {
      waitForIrq();
      expect(idewait() & DRQ).toBe(DRQ);
      data.set(readSectorWords(), s * SECTOR);
    }
    return data;
  };
  /** WRITE SECTORS: the first block on DRQ alone, each next one after the interrupt for the previous. */
  const writeSectors = (lba: number, data: Uint8Array): void => {
    const count = data.length / SECTOR;
    start(WRITE_SECTORS, lba, count);
    for (let s = 0; s < count; s++) {
      if (s > 0) waitForIrq();
      expect(idewait() & DRQ).toBe(DRQ);
      writeSectorWords(data.subarray(s * SECTOR, (s + 1) * SECTOR));
    }
    waitForIrq();
    expect(idewait() & (DRQ | ERR)).toBe(0);
  };
  return {
    ata, clock, inb, outb, inw, outw, altStatus, deviceControl, irq, interrupts, elapse,
    idewait, waitForIrq, start, readSectorWords, writeSectorWords, readSectors, writeSectors,
  };
}

function identify(h: ReturnType<typeof harness>, drive = 0): Uint16Array {
  h.start(IDENTIFY, 0, 0, drive);
  h.waitForIrq();
  h.idewait();
  const words = new Uint16Array(256);
  for (let i = 0; i < 256; i++) words[i] = h.inw();
  return words;
}

/** Decodes an ATA string: two characters a word, the first in the high byte. */
function ataString(words: Uint16Array, first: number, count: number): string {
  let text = '';
  for (let i = first; i < first + count; i++) text += String.fromCharCode(words[i]! >>> 8, words[i]! & 0xff);
  return text;
}

describe('ATA channel: ports and presence', () => {
  it('claims the eight Command Block ports and the control port', () => {
    const h = harness([new DiskImage(patternedImage(8)), null]);
    expect(h.ata.ports).toEqual([0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7, 0x3f6]);
    const secondary = new AtaChannel(0x170, 0x376, { set: () => {} }, new VirtualClock(), [null, null]);
    expect(secondary.ports).toEqual([0x170, 0x171, 0x172, 0x173, 0x174, 0x175, 0x176, 0x177, 0x376]);
  });

  it('comes up ready with the ATA signature in the registers', () => {
    const h = harness([new DiskImage(patternedImage(8)), null]);
    expect(h.inb(STATUS)).toBe(DRDY);
    expect([h.inb(ERROR), h.inb(COUNT), h.inb(LBA_LOW), h.inb(LBA_MID), h.inb(LBA_HIGH)]).toEqual([1, 1, 1, 0, 0]);
  });

  it('an empty channel floats: every register reads FFh and the data port all ones', () => {
    const h = harness([null, null]);
    for (const offset of [ERROR, COUNT, LBA_LOW, LBA_MID, LBA_HIGH, DEVICE, STATUS]) expect(h.inb(offset)).toBe(0xff);
    expect(h.altStatus()).toBe(0xff);
    expect(h.inw()).toBe(0xffff);
    expect(h.ata.portIn(BASE, 4)).toBe(0xffffffff);
    h.outb(DEVICE, 0xf0);
    expect(h.inb(STATUS)).toBe(0xff);
    h.outb(COMMAND, IDENTIFY);
    h.elapse(10 * LATENCY);
    expect(h.inb(STATUS)).toBe(0xff);
    expect(h.irq()).toBe(false);
  });

  it('a missing slave reads status 00h (xv6 probe), device 0 answering its other registers and ignoring its commands', () => {
    const h = harness([new DiskImage(patternedImage(8)), null]);
    h.outb(DEVICE, 0xe0 | 0x10);
    expect(h.inb(STATUS)).toBe(0);
    expect(h.altStatus()).toBe(0);
    h.outb(COUNT, 0x55);
    h.outb(LBA_LOW, 0xaa);
    expect([h.inb(COUNT), h.inb(LBA_LOW)]).toEqual([0x55, 0xaa]); // device 0 latched them and answers
    h.outb(COMMAND, IDENTIFY);
    h.elapse(10 * LATENCY);
    expect(h.inb(STATUS)).toBe(0);
    expect(h.irq()).toBe(false);
    h.outb(DEVICE, 0xe0);
    expect(h.inb(STATUS)).toBe(DRDY); // the master did not run the command either
  });

  it('a present slave is selected by DEV, answers with its own disk, and only the selected device drives INTRQ', () => {
    const master = patternedImage(8);
    const slave = patternedImage(16).reverse();
    const h = harness([new DiskImage(master), new DiskImage(slave)]);
    h.outb(DEVICE, 0xf0);
    expect(h.inb(STATUS)).toBe(DRDY);
    h.start(READ_SECTORS, 3, 1, 1);
    h.waitForIrq();
    h.outb(DEVICE, 0xe0); // selecting the master releases INTRQ
    expect(h.irq()).toBe(false);
    expect(h.inb(STATUS) & DRQ).toBe(0);
    h.outb(DEVICE, 0xf0); // the slave's interrupt is still pending
    expect(h.irq()).toBe(true);
    h.idewait();
    expect(h.readSectorWords()).toEqual(sectorsOf(slave, 3, 1));
    expect(identify(h, 1)[60]).toBe(16);
    expect(identify(h, 0)[60]).toBe(8);
  });
});

describe('ATA channel: IDENTIFY DEVICE', () => {
  it('reports the LBA28 capacity, LBA support and byte-swapped ASCII strings, with a valid checksum', () => {
    const h = harness([new DiskImage(patternedImage(70_000)), null]);
    const id = identify(h);
    expect(h.interrupts()).toBe(1);
    expect(id[0]! & 0x8000).toBe(0); // an ATA device
    expect(id[60]! | (id[61]! << 16)).toBe(70_000);
    expect(id[49]! & 0x0200).toBe(0x0200); // LBA supported
    expect(id[83]! & 0x0400).toBe(0); // no LBA48
    expect([id[1], id[3], id[6]]).toEqual([69, 16, 63]); // default CHS: 70000 / (16 * 63) cylinders
    expect(id[27]).toBe(0x4154); // 'A' in the high byte, 'T' in the low byte
    expect(ataString(id, 27, 20).trimEnd()).toBe('ATLAS386 ATA DISK');
    expect(ataString(id, 23, 4).trimEnd()).toBe('1.0');
    expect(ataString(id, 10, 10)).toMatch(/^AT386-1F0-0 +$/);
    expect(id[47]! >>> 8).toBe(0x80);
    expect(id[255]! & 0xff).toBe(0xa5);
    let sum = 0;
    for (const word of id) sum += (word & 0xff) + (word >>> 8);
    expect(sum & 0xff).toBe(0);
    expect(h.inb(STATUS)).toBe(DRDY); // the block is done: no DRQ
  });

  it('caps words 60-61 at the LBA28 limit for a disk reported through a sector count beyond it', () => {
    // A stand-in with only a sector count (a 150 GB image is too big to build): IDENTIFY reads nothing else.
    const huge = { sectors: 0x1234_5678 } as unknown as DiskImage;
    Object.setPrototypeOf(huge, DiskImage.prototype);
    const h = harness([huge, null]);
    const id = identify(h);
    expect(id[60]! | (id[61]! << 16)).toBe(0x0fff_ffff);
    expect([id[1], id[3], id[6]]).toEqual([16383, 16, 63]);
  });
});

describe('ATA channel: READ SECTORS', () => {
  it('reads known contents across several sectors, one interrupt per sector', () => {
    const image = patternedImage(32);
    const h = harness([new DiskImage(image), null]);
    expect(h.readSectors(5, 4)).toEqual(sectorsOf(image, 5, 4));
    expect(h.interrupts()).toBe(4);
    expect(h.inb(STATUS)).toBe(DRDY); // no interrupt and no DRQ after the last block of a read
    h.elapse(10 * LATENCY);
    expect(h.interrupts()).toBe(4);
    // The registers hold the last sector read, the count what is left.
    expect([h.inb(COUNT), h.inb(LBA_LOW), h.inb(LBA_MID), h.inb(LBA_HIGH), h.inb(DEVICE)]).toEqual([0, 8, 0, 0, 0xe0]);
  });

  it('takes latencyNs with BSY set before the first sector is ready, then a sector\'s transfer time before the next', () => {
    const image = patternedImage(8);
    const h = harness([new DiskImage(image), null], 50_000);
    h.start(READ_SECTORS, 1, 2);
    const commandAt = h.clock.now();
    expect(h.altStatus()).toBe(BSY | DRDY);
    h.elapse(49_999);
    expect(h.altStatus() & (BSY | DRQ)).toBe(BSY);
    expect(h.irq()).toBe(false);
    h.elapse(1);
    expect(h.clock.now() - commandAt).toBe(50_000);
    expect(h.altStatus()).toBe(DRDY | DRQ);
    expect(h.irq()).toBe(true);
    expect(h.inb(STATUS)).toBe(DRDY | DRQ);
    expect(h.readSectorWords()).toEqual(sectorsOf(image, 1, 1));
    expect(h.altStatus() & (BSY | DRQ)).toBe(BSY); // the second sector is being read
    h.elapse(SECTOR_NS - 1); // it follows on the track: no second access
    expect(h.irq()).toBe(false);
    h.elapse(1);
    expect(h.irq()).toBe(true);
    expect(h.readSectorWords()).toEqual(sectorsOf(image, 2, 1));
  });

  it('a 64-sector READ MULTIPLE takes the access time and the transfer of the 48 sectors after the first block, not 4 accesses', () => {
    const image = patternedImage(128);
    const h = harness([new DiskImage(image), null], 2_000_000);
    h.start(READ_MULTIPLE, 7, 64);
    const commandAt = h.clock.now();
    const data = new Uint8Array(64 * SECTOR);
    const readyAt: number[] = [];
    for (let block = 0; block < 4; block++) {
      while (!(h.altStatus() & DRQ)) h.elapse(1_000);
      readyAt.push(h.clock.now() - commandAt);
      h.inb(STATUS);
      expect(h.ata.readData(16 * 256, data, block * 16 * SECTOR)).toBe(16 * 256);
    }
    expect(data).toEqual(sectorsOf(image, 7, 64));
    expect(readyAt).toEqual([2_000_000, 2_000_000 + 16 * SECTOR_NS, 2_000_000 + 32 * SECTOR_NS, 2_000_000 + 48 * SECTOR_NS]);
    expect(h.interrupts()).toBe(4);
    expect(h.inb(STATUS)).toBe(DRDY);
  });

  it('each command pays the access time again, and the transfer rate is a constructor option', () => {
    const image = patternedImage(8);
    const clock = new VirtualClock();
    const ata = new AtaChannel(BASE, CONTROL, { set: () => {} }, clock, [new DiskImage(image), null], 10_000, 1_000_000);
    const ready = (): number => {
      const from = clock.now();
      while (!(ata.portIn(CONTROL, 1) & DRQ)) clock.advanceTo(clock.now() + 1);
      ata.readData(256, new Uint8Array(SECTOR), 0);
      return clock.now() - from;
    };
    for (let command = 0; command < 2; command++) {
      ata.portOut(BASE + COUNT, 1, 2);
      ata.portOut(BASE + LBA_LOW, 1, 3);
      ata.portOut(BASE + DEVICE, 1, 0xe0);
      ata.portOut(BASE + COMMAND, 1, READ_SECTORS);
      expect([ready(), ready()]).toEqual([10_000, 512_000]); // 512 bytes at 1 MB/s
    }
    expect(() => new AtaChannel(BASE, CONTROL, { set: () => {} }, clock, [null, null], 0, 0)).toThrow(RangeError);
  });

  it('reads 256 sectors for a sector count of 0', () => {
    const image = patternedImage(300);
    const h = harness([new DiskImage(image), null]);
    h.start(READ_SECTORS, 10, 0);
    const data = new Uint8Array(256 * SECTOR);
    for (let s = 0; s < 256; s++) {
      h.waitForIrq();
      h.idewait();
      expect(h.ata.readData(256, data, s * SECTOR)).toBe(256);
    }
    expect(data).toEqual(sectorsOf(image, 10, 256));
    expect(h.interrupts()).toBe(256);
    h.elapse(10 * LATENCY);
    expect(h.inb(STATUS)).toBe(DRDY);
    expect(h.ata.readData(256, data, 0)).toBe(0); // no DRQ, nothing moves
  });

  it('bulk readData gives the same bytes as word accesses, stopping at the end of the DRQ block', () => {
    const image = patternedImage(8);
    const h = harness([new DiskImage(image), null]);
    const byWords = h.readSectors(2, 2);
    h.start(READ_SECTORS, 2, 2);
    const bulk = new Uint8Array(2 * SECTOR + 100);
    h.waitForIrq();
    h.idewait();
    expect(h.ata.readData(100, bulk, 0)).toBe(100);
    expect(h.ata.readData(1000, bulk, 200)).toBe(156); // the rest of this sector only
    expect(h.ata.readData(10, bulk, SECTOR)).toBe(0); // BSY: the next sector is not there yet
    h.waitForIrq();
    h.idewait();
    expect(h.ata.readData(256, bulk, SECTOR)).toBe(256);
    expect(bulk.subarray(0, 2 * SECTOR)).toEqual(byWords);
  });

  it('32-bit data-port reads (insl) move two words each, low word first', () => {
    const image = patternedImage(4);
    const h = harness([new DiskImage(image), null]);
    h.start(READ_SECTORS, 3, 1);
    h.waitForIrq();
    h.idewait();
    const view = new DataView(image.buffer);
    for (let i = 0; i < SECTOR; i += 4) expect(h.ata.portIn(BASE, 4)).toBe(view.getUint32(3 * SECTOR + i, true));
    expect(h.inb(STATUS)).toBe(DRDY);
  });

  it('addresses by CHS with the default 16-head, 63-sector translation and after INITIALIZE DEVICE PARAMETERS', () => {
    const image = patternedImage(2100);
    const h = harness([new DiskImage(image), null]);
    const readChs = (cylinder: number, head: number, sector: number): number => {
      h.idewait();
      h.outb(COUNT, 1);
      h.outb(LBA_LOW, sector);
      h.outb(LBA_MID, cylinder & 0xff);
      h.outb(LBA_HIGH, cylinder >>> 8);
      h.outb(DEVICE, 0xa0 | head); // LBA bit clear
      h.outb(COMMAND, READ_SECTORS);
      h.waitForIrq();
      h.idewait();
      const lba = new DataView(h.readSectorWords().buffer).getUint32(0, true);
      return lba;
    };
    expect(readChs(0, 0, 1)).toBe(0);
    expect(readChs(1, 2, 5)).toBe((1 * 16 + 2) * 63 + 4);
    h.idewait();
    h.outb(COUNT, 32); // 32 sectors per track
    h.outb(DEVICE, 0xa0 | 3); // 4 heads
    h.outb(COMMAND, INIT_PARAMS);
    h.waitForIrq();
    expect(h.idewait() & ERR).toBe(0);
    expect(readChs(2, 1, 7)).toBe((2 * 4 + 1) * 32 + 6);
    const id = identify(h);
    expect([id[54], id[55], id[56]]).toEqual([Math.floor(2100 / 128), 4, 32]);
    expect([id[1], id[3], id[6]]).toEqual([2, 16, 63]); // the default translation is unchanged
  });

  it('READ MULTIPLE moves the whole request in one DRQ block when it fits the multiple setting (xv6 with BSIZE 1024)', () => {
    const image = patternedImage(8);
    const h = harness([new DiskImage(image), null]);
    expect(identify(h)[59]).toBe(0x0100 | 16);
    h.start(READ_MULTIPLE, 4, 2);
    h.waitForIrq();
    h.idewait();
    const data = new Uint8Array(2 * SECTOR);
    expect(h.ata.readData(512, data, 0)).toBe(512);
    expect(data).toEqual(sectorsOf(image, 4, 2));
    expect(h.interrupts()).toBe(2); // IDENTIFY and the one block
    expect(h.inb(STATUS)).toBe(DRDY);
  });
});

describe('ATA channel: WRITE SECTORS', () => {
  it('asks for the first sector at once and without an interrupt, interrupts latencyNs after it, then a transfer time after the next', () => {
    const image = patternedImage(8);
    const h = harness([new DiskImage(image), null]);
    h.start(WRITE_SECTORS, 1, 2);
    expect(h.altStatus()).toBe(DRDY | DRQ);
    expect(h.irq()).toBe(false);
    h.writeSectorWords(new Uint8Array(SECTOR).fill(0x11));
    expect(h.altStatus() & (BSY | DRQ)).toBe(BSY);
    h.elapse(LATENCY - 1);
    expect(h.irq()).toBe(false);
    h.elapse(1);
    expect(h.irq()).toBe(true);
    expect(h.inb(STATUS)).toBe(DRDY | DRQ);
    expect(h.irq()).toBe(false); // the status read acknowledged it
    h.writeSectorWords(new Uint8Array(SECTOR).fill(0x22));
    h.elapse(SECTOR_NS - 1);
    expect(h.irq()).toBe(false);
    h.elapse(1);
    expect(h.irq()).toBe(true);
    expect(h.inb(STATUS)).toBe(DRDY);
    expect(h.interrupts()).toBe(2);
  });

  it('writes land in the overlay: reads see them, the image stays untouched', () => {
    const image = patternedImage(16);
    const original = image.slice();
    const disk = new DiskImage(image);
    const h = harness([disk, null]);
    const data = new Uint8Array(3 * SECTOR).map((_, i) => (i * 13 + 5) & 0xff);
    h.writeSectors(6, data);
    expect(image).toEqual(original);
    expect(h.readSectors(5, 5)).toEqual(
      new Uint8Array([...sectorsOf(image, 5, 1), ...data, ...sectorsOf(image, 9, 1)]),
    );
    const direct = new Uint8Array(3 * SECTOR);
    disk.read(6, 3, direct, 0);
    expect(direct).toEqual(data);
  });

  it('with persist, writes reach the image and writeThrough', () => {
    const image = patternedImage(16);
    const written: { offset: number; data: Uint8Array }[] = [];
    const disk = new DiskImage(image, { persist: true, writeThrough: (offset, data) => written.push({ offset, data: data.slice() }) });
    const h = harness([disk, null]);
    const data = new Uint8Array(2 * SECTOR).fill(0x5a);
    h.writeSectors(3, data);
    expect(sectorsOf(image, 3, 2)).toEqual(data);
    expect(written.map((w) => w.offset)).toEqual([3 * SECTOR, 4 * SECTOR]);
    expect(written[0]!.data).toEqual(data.subarray(0, SECTOR));
    expect(h.readSectors(3, 2)).toEqual(data);
  });

  it('bulk writeData stores the same bytes as word-by-word writes', () => {
    const data = new Uint8Array(2 * SECTOR).map((_, i) => (i * 31) & 0xff);
    const wordImage = patternedImage(8);
    const bulkImage = patternedImage(8);
    const byWords = harness([new DiskImage(wordImage, { persist: true }), null]);
    byWords.writeSectors(2, data);
    const bulk = harness([new DiskImage(bulkImage, { persist: true }), null]);
    bulk.start(WRITE_SECTORS, 2, 2);
    expect(bulk.ata.writeData(1000, data, 0)).toBe(256); // the first DRQ block only
    expect(bulk.ata.writeData(10, data, SECTOR)).toBe(0); // BSY while it is written
    bulk.waitForIrq();
    bulk.idewait();
    expect(bulk.ata.writeData(256, data, SECTOR)).toBe(256);
    bulk.waitForIrq();
    expect(bulk.idewait() & ERR).toBe(0);
    expect(bulkImage).toEqual(wordImage);
    expect(sectorsOf(bulkImage, 2, 2)).toEqual(data);
  });

  it('takes xv6 writing its data (outsl) right after the command without waiting for DRQ', () => {
    const image = patternedImage(8);
    const h = harness([new DiskImage(image, { persist: true }), null]);
    h.start(WRITE_SECTORS, 7, 1);
    const view = new DataView(new Uint8Array(SECTOR).fill(0xc3).buffer);
    for (let i = 0; i < SECTOR; i += 4) h.ata.portOut(BASE, 4, view.getUint32(i, true));
    h.waitForIrq();
    expect(h.idewait() & ERR).toBe(0);
    expect(sectorsOf(image, 7, 1)).toEqual(new Uint8Array(SECTOR).fill(0xc3));
  });

  it('FLUSH CACHE completes with an interrupt and no error', () => {
    const h = harness([new DiskImage(patternedImage(8)), null]);
    h.start(FLUSH_CACHE, 0, 0);
    expect(h.altStatus() & BSY).toBe(BSY);
    h.waitForIrq();
    expect(h.inb(STATUS)).toBe(DRDY);
  });
});

describe('ATA channel: interrupts', () => {
  it('nIEN keeps IRQ 14 low while the command still completes; clearing it lets the pending INTRQ through', () => {
    const image = patternedImage(8);
    const h = harness([new DiskImage(image), null]);
    h.idewait();
    h.deviceControl(NIEN);
    h.outb(COUNT, 1);
    h.outb(LBA_LOW, 2);
    h.outb(LBA_MID, 0);
    h.outb(LBA_HIGH, 0);
    h.outb(DEVICE, 0xe0);
    h.outb(COMMAND, READ_SECTORS);
    h.elapse(10 * LATENCY);
    expect(h.irq()).toBe(false);
    expect(h.interrupts()).toBe(0);
    expect(h.altStatus()).toBe(DRDY | DRQ);
    h.deviceControl(0);
    expect(h.irq()).toBe(true);
    h.inb(STATUS);
    expect(h.irq()).toBe(false);
    expect(h.readSectorWords()).toEqual(sectorsOf(image, 2, 1));
  });

  it('reading Status clears INTRQ, reading Alternate Status does not; a new command clears it too', () => {
    const h = harness([new DiskImage(patternedImage(8)), null]);
    h.start(FLUSH_CACHE, 0, 0);
    h.waitForIrq();
    expect(h.altStatus()).toBe(DRDY);
    expect(h.irq()).toBe(true);
    expect(h.inb(STATUS)).toBe(DRDY);
    expect(h.irq()).toBe(false);
    h.outb(COMMAND, FLUSH_CACHE);
    h.waitForIrq();
    h.outb(COMMAND, FLUSH_CACHE); // written without acknowledging the previous interrupt
    expect(h.irq()).toBe(false);
    h.waitForIrq();
    expect(h.interrupts()).toBe(3); // each one a fresh edge for the PIC
  });
});

describe('ATA channel: errors', () => {
  it('aborts an unknown command with ERR and ABRT, and the next command clears the error', () => {
    const h = harness([new DiskImage(patternedImage(8)), null]);
    h.start(0x24, 0, 1); // READ SECTORS EXT: LBA48 is not supported
    expect(h.altStatus() & BSY).toBe(BSY);
    h.waitForIrq();
    expect(h.inb(STATUS)).toBe(DRDY | ERR);
    expect(h.inb(ERROR)).toBe(ABRT);
    h.start(FLUSH_CACHE, 0, 0);
    h.waitForIrq();
    expect(h.inb(STATUS)).toBe(DRDY);
  });

  it('aborts SET FEATURES for a DMA transfer mode but accepts a PIO mode', () => {
    const h = harness([new DiskImage(patternedImage(8)), null]);
    const setTransferMode = (mode: number): number => {
      h.idewait();
      h.outb(FEATURES, 0x03);
      h.outb(COUNT, mode);
      h.outb(COMMAND, SET_FEATURES);
      h.waitForIrq();
      return h.inb(STATUS);
    };
    expect(setTransferMode(0x0c)).toBe(DRDY); // PIO mode 4
    expect(setTransferMode(0x42)).toBe(DRDY | ERR); // UDMA mode 2
    expect(h.inb(ERROR)).toBe(ABRT);
  });

  it('reports IDNF for an LBA beyond the disk, and for a range running past its end, moving no data', () => {
    const image = patternedImage(100);
    const h = harness([new DiskImage(image), null]);
    h.start(READ_SECTORS, 100, 1);
    h.waitForIrq();
    expect(h.inb(STATUS)).toBe(DRDY | ERR);
    expect(h.inb(ERROR)).toBe(IDNF);
    expect(h.inb(LBA_LOW)).toBe(100); // the address that was not found
    h.start(WRITE_SECTORS, 98, 3);
    expect(h.altStatus() & DRQ).toBe(0);
    h.waitForIrq();
    expect(h.inb(STATUS)).toBe(DRDY | ERR);
    expect(h.inb(ERROR)).toBe(IDNF);
    expect(h.ata.writeData(256, new Uint8Array(SECTOR), 0)).toBe(0);
    expect(h.readSectors(99, 1)).toEqual(sectorsOf(image, 99, 1)); // in range: fine
  });
});

describe('ATA channel: software reset', () => {
  it('SRST holds BSY, and latencyNs after its release the registers hold the ATA signature, without an interrupt', () => {
    const h = harness([new DiskImage(patternedImage(300)), null]);
    h.readSectors(0x123, 2);
    expect(h.inb(LBA_MID)).toBe(0x01);
    const before = h.interrupts();
    h.deviceControl(SRST);
    expect(h.altStatus() & BSY).toBe(BSY);
    h.elapse(10 * LATENCY);
    expect(h.altStatus() & BSY).toBe(BSY); // held in reset while SRST is set
    h.deviceControl(0);
    h.elapse(LATENCY - 1);
    expect(h.altStatus() & BSY).toBe(BSY);
    h.elapse(1);
    expect(h.altStatus()).toBe(DRDY);
    expect([h.inb(COUNT), h.inb(LBA_LOW), h.inb(LBA_MID), h.inb(LBA_HIGH), h.inb(DEVICE)]).toEqual([1, 1, 0, 0, 0]);
    expect(h.inb(ERROR)).toBe(0x01); // diagnostic code: passed
    expect(h.interrupts()).toBe(before);
  });

  it('SRST abandons a transfer in progress', () => {
    const h = harness([new DiskImage(patternedImage(8)), null]);
    h.start(READ_SECTORS, 0, 4);
    h.waitForIrq();
    h.deviceControl(SRST);
    h.deviceControl(0);
    h.elapse(10 * LATENCY);
    expect(h.inb(STATUS)).toBe(DRDY);
    expect(h.ata.readData(256, new Uint8Array(SECTOR), 0)).toBe(0);
    expect(h.irq()).toBe(false);
  });

  it('EXECUTE DEVICE DIAGNOSTIC selects device 0, leaves the signature and interrupts from device 0', () => {
    const h = harness([new DiskImage(patternedImage(8)), null]);
    h.outb(DEVICE, 0xf0); // the absent slave: the diagnostic still runs
    h.outb(LBA_MID, 0x77);
    h.outb(COMMAND, 0x90);
    h.waitForIrq();
    expect(h.inb(STATUS)).toBe(DRDY);
    expect([h.inb(ERROR), h.inb(COUNT), h.inb(LBA_LOW), h.inb(LBA_MID), h.inb(LBA_HIGH)]).toEqual([1, 1, 1, 0, 0]);
  });
});

describe('DiskImage', () => {
  it('counts whole sectors and rejects accesses beyond them', () => {
    const disk = new DiskImage(new Uint8Array(3 * SECTOR + 100));
    expect(disk.sectors).toBe(3);
    expect(() => disk.read(2, 2, new Uint8Array(2 * SECTOR), 0)).toThrow(RangeError);
    expect(() => disk.write(3, 1, new Uint8Array(SECTOR), 0)).toThrow(RangeError);
  });
});
