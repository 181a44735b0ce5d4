// The PC's ATA (IDE) disk controller in PIO mode: one channel (primary at
// 0x1F0-0x1F7/0x3F6 on IRQ 14, secondary at 0x170-0x177/0x376 on IRQ 15)
// with up to two hard disks, modelled at the register level from ATA/ATAPI-6
// (T13/1410D), so that drivers written for real hardware (xv6's ide.c,
// Linux's legacy IDE and libata PIO paths) run unchanged.
//
// What is modelled:
// - Both devices latch every Command Block register write; only the selected
//   device (DEV bit of the Device register) executes a command, answers reads
//   and drives INTRQ. In a device-0-only channel, device 0 answers for an
//   absent device 1 (its registers, but Status/Alternate Status read 00h) and
//   ignores commands written for it, except EXECUTE DEVICE DIAGNOSTIC.
//   With no device at all nothing drives the bus and every port reads all ones.
// - Commands: IDENTIFY DEVICE, READ/WRITE SECTORS (with and without retries),
//   READ/WRITE MULTIPLE and SET MULTIPLE MODE, READ VERIFY SECTORS, SEEK,
//   EXECUTE DEVICE DIAGNOSTIC, INITIALIZE DEVICE PARAMETERS, SET FEATURES,
//   FLUSH CACHE, the power-management commands (no-ops: the disk never spins
//   down) and the obsolete RECALIBRATE (a no-op). Anything else (LBA48, DMA,
//   NOP, ...) is aborted with ABRT, which is what ATA-6 asks of a device that
//   does not implement a command.
// - LBA28 and CHS addressing; CHS uses the current translation (16 heads,
//   63 sectors per track by default, changed by INITIALIZE DEVICE PARAMETERS).
//
// Timing (virtual time), like a real disk's access time against its transfer
// time: the medium step of a command that starts a new access takes
// `latencyNs` (default 100 µs: seek and rotation) with BSY set; later DRQ
// blocks of the same READ or WRITE command follow on the track and take only
// their transfer time at the sustained rate (`bytesPerSecond`, default
// 16 MB/s: 32 µs a sector). So a read takes `latencyNs` to its first block,
// then a block's transfer time from the end of one block to the next; a
// write takes `latencyNs` from the end of its first block to that block's
// interrupt, then each later block its transfer time. A 64-sector READ
// MULTIPLE (four 16-sector blocks) costs latencyNs + 48 sectors' transfer,
// not four accesses, which is what makes readahead pay. Non-data commands
// and the end of a reset (SRST cleared) take `latencyNs`. The first write
// block is the exception: its DRQ is set at once, without an interrupt,
// because the device needs nothing from the medium to accept data; ATA
// allows BSY to be too short to see, and xv6's ide.c depends on it (it
// writes the data right after the command without waiting for DRQ).
//
// Simplifications, each invisible to a driver that follows the standard:
// - A transfer's whole address range is checked when the command is written;
//   a range that runs past the end fails with IDNF before any data moves.
// - The disk never faults: DF is never set and nothing is ever UNC.
// - After power-on the devices are ready at once, holding the reset signature.
// - A command written while BSY is set is ignored; one written while DRQ is
//   set abandons the transfer in progress.

import type { ClockEvent, IrqLine, PortDevice, PortSize, VirtualClock } from './device.js';

const SECTOR_BYTES = 512;
/** LBA28 addresses sectors 0 to 0x0FFFFFFE; IDENTIFY words 60-61 count at most this many. */
const LBA28_SECTORS = 0x0fff_ffff;
/** The default `latencyNs`: a fast disk's access, slow enough for a driver to see BSY. */
const DEFAULT_LATENCY_NS = 100_000;
/** The default sustained transfer rate, bytes per second: 512 bytes in 32 µs. */
const DEFAULT_BYTES_PER_SECOND = 16_000_000;
/** The largest DRQ block READ/WRITE MULTIPLE may use (IDENTIFY word 47). */
const MAX_MULTIPLE = 16;
/** What the CPU reads when no device drives the data bus. */
const OPEN_BUS = 0xff;

// Command Block register offsets from the command base port.
const DATA = 0;
const ERROR_FEATURES = 1;
const SECTOR_COUNT = 2;
const LBA_LOW = 3; // sector number in CHS
const LBA_MID = 4; // cylinder low
const LBA_HIGH = 5; // cylinder high
const DEVICE = 6;
const STATUS_COMMAND = 7;

// Status bits. DF (0x20) exists but this disk never faults.
const BSY = 0x80;
const DRDY = 0x40;
const DRQ = 0x08;
const ERR = 0x01;

// Error bits.
const ABRT = 0x04;
const IDNF = 0x10;
/** Error register after reset or diagnostics: device 0 passed, device 1 passed or absent. */
const DIAGNOSTIC_PASSED = 0x01;

// Device Control bits.
const NIEN = 0x02;
const SRST = 0x04;

// Device register bits.
const DEV = 0x10;
const LBA_MODE = 0x40;

// Command codes.
const CMD = {
  recalibrateFirst: 0x10, recalibrateLast: 0x1f,
  readSectors: 0x20, readSectorsNoRetry: 0x21,
  writeSectors: 0x30, writeSectorsNoRetry: 0x31,
  readVerify: 0x40, readVerifyNoRetry: 0x41,
  seek: 0x70,
  executeDeviceDiagnostic: 0x90,
  initializeDeviceParameters: 0x91,
  readMultiple: 0xc4, writeMultiple: 0xc5, setMultipleMode: 0xc6,
  standbyImmediate: 0xe0, idleImmediate: 0xe1, standby: 0xe2, idle: 0xe3,
  checkPowerMode: 0xe5,
  flushCache: 0xe7,
  identifyDevice: 0xec,
  setFeatures: 0xef,
} as const;

// Identification strings (ASCII, padded with spaces).
const MODEL = 'ATLAS386 ATA DISK';
const FIRMWARE = '1.0';

/** CHS translation: what INITIALIZE DEVICE PARAMETERS sets and IDENTIFY reports. */
interface Geometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

/** A disk's contents: a raw image, read-only underneath; writes go to an in-memory overlay unless `persist` (then they go to the image through `writeThrough`). */
export class DiskImage {
  readonly sectors: number;
  /** Sectors written since the image was opened, when not persisting. */
  private readonly overlay = new Map<number, Uint8Array>();
  /** Called before every write (the one place disk bytes change), e.g. to journal them for snapshots (host/snapshot.ts). */
  beforeWrite: ((lba: number, count: number) => void) | undefined;

  constructor(
    private readonly image: Uint8Array,
    private readonly options: { persist?: boolean; writeThrough?: (offset: number, data: Uint8Array) => void } = {},
  ) {
    this.sectors = Math.floor(image.length / SECTOR_BYTES);
  }

  read(lba: number, count: number, into: Uint8Array, at: number): void {
    this.checkRange(lba, count);
    for (let i = 0; i < count; i++) {
      const offset = (lba + i) * SECTOR_BYTES;
      const sector = this.overlay.get(lba + i) ?? this.image.subarray(offset, offset + SECTOR_BYTES);
      into.set(sector, at + i * SECTOR_BYTES);
    }
  }

  write(lba: number, count: number, from: Uint8Array, at: number): void {
    this.checkRange(lba, count);
    const data = from.slice(at, at + count * SECTOR_BYTES);
    if (data.length !== count * SECTOR_BYTES) throw new RangeError('write source shorter than the sectors written');
    this.beforeWrite?.(lba, count);
    if (this.options.persist) {
      // The array is updated too, so later reads see the data whatever writeThrough does with it.
      this.image.set(data, lba * SECTOR_BYTES);
      this.options.writeThrough?.(lba * SECTOR_BYTES, data);
      return;
    }
    for (let i = 0; i < count; i++) this.overlay.set(lba + i, data.slice(i * SECTOR_BYTES, (i + 1) * SECTOR_BYTES));
  }

  private checkRange(lba: number, count: number): void {
    if (!Number.isInteger(lba) || !Number.isInteger(count) || lba < 0 || count < 0 || lba + count > this.sectors) {
      throw new RangeError(`sectors ${lba}..${lba + count - 1} outside a ${this.sectors}-sector disk`);
    }
  }
}

/** The direction of the DRQ data block in progress, if any. */
type Transfer = 'none' | 'in' | 'out';

/** One ATA device on a channel: its registers, command execution and data buffer. */
class Drive {
  /** Command Block registers as last written by the host or set by the device; index 1 is Features. */
  private readonly taskFile = new Uint8Array(7);
  status = DRDY;
  private error = DIAGNOSTIC_PASSED;
  /** The device's interrupt pending (the channel gates it with selection and nIEN). */
  intrq = false;

  private readonly capacity: number;
  private readonly defaultGeometry: Geometry;
  private geometry: Geometry;
  /** Sectors per DRQ block for READ/WRITE MULTIPLE; 0 when multiple mode is disabled. */
  private multipleSectors = MAX_MULTIPLE;

  private readonly buffer = new Uint8Array(MAX_MULTIPLE * SECTOR_BYTES);
  private transfer: Transfer = 'none';
  private position = 0;
  private blockEnd = 0;
  /** What the device does once the host has moved the whole DRQ block. */
  private blockDone: () => void = () => {};

  // The READ/WRITE command in progress.
  private nextLba = 0;
  private sectorsLeft = 0;
  private sectorsPerBlock = 1;
  private blockSectors = 0;
  /** True until the command's first block has reached (or come from) the medium: it pays the access time. */
  private firstAccess = true;

  private pending: ClockEvent | undefined;

  constructor(
    private readonly disk: DiskImage,
    private readonly serial: string,
    private readonly clock: VirtualClock,
    private readonly latencyNs: number,
    /** Sustained transfer rate of blocks after the first of a command. */
    private readonly bytesPerSecond: number,
    /** Called when the device changes INTRQ on its own (from a clock event). */
    private readonly intrqChanged: () => void,
  ) {
    this.capacity = Math.min(disk.sectors, LBA28_SECTORS);
    this.defaultGeometry = translation(this.capacity, 16, 63, 16383);
    this.geometry = this.defaultGeometry;
    this.loadSignature();
  }

  // --- Registers ----------------------------------------------------------

  register(offset: number): number {
    return offset === ERROR_FEATURES ? this.error : this.taskFile[offset]!;
  }

  latch(offset: number, value: number): void {
    this.taskFile[offset] = value;
  }

  readStatus(acknowledge: boolean): number {
    if (acknowledge) this.intrq = false;
    return this.status;
  }

  /** The ATA device signature (ATA-6 9.12): what tells an ATA disk from an ATAPI device after reset. */
  private loadSignature(): void {
    this.taskFile.set([1, 1, 0, 0, 0], SECTOR_COUNT);
    this.error = DIAGNOSTIC_PASSED;
  }

  // --- Data port ----------------------------------------------------------

  readWord(): number {
    if (this.transfer !== 'in') return 0xffff;
    const word = this.buffer[this.position]! | (this.buffer[this.position + 1]! << 8);
    this.advance(1);
    return word;
  }

  writeWord(value: number): void {
    if (this.transfer !== 'out') return;
    this.buffer[this.position] = value & 0xff;
    this.buffer[this.position + 1] = (value >>> 8) & 0xff;
    this.advance(1);
  }

  readWords(words: number, memory: Uint8Array, at: number): number {
    if (this.transfer !== 'in') return 0;
    const moved = Math.min(words, (this.blockEnd - this.position) / 2);
    memory.set(this.buffer.subarray(this.position, this.position + moved * 2), at);
    this.advance(moved);
    return moved;
  }

  writeWords(words: number, memory: Uint8Array, at: number): number {
    if (this.transfer !== 'out') return 0;
    const moved = Math.min(words, (this.blockEnd - this.position) / 2);
    this.buffer.set(memory.subarray(at, at + moved * 2), this.position);
    this.advance(moved);
    return moved;
  }

  private advance(words: number): void {
    this.position += words * 2;
    if (this.position < this.blockEnd) return;
    this.transfer = 'none';
    this.blockDone();
  }

  /** Opens a DRQ data block of `bytes` in the buffer. */
  private openBlock(transfer: Transfer, bytes: number, blockDone: () => void): void {
    this.transfer = transfer;
    this.position = 0;
    this.blockEnd = bytes;
    this.blockDone = blockDone;
    this.status = DRDY | DRQ;
  }

  // --- Commands -----------------------------------------------------------

  command(code: number): void {
    if (this.status & BSY) return;
    this.stop();
    this.intrq = false;
    this.error = 0;
    this.status = BSY | DRDY;
    this.start(code);
  }

  private start(code: number): void {
    switch (code) {
      case CMD.identifyDevice: return this.afterLatency(() => this.sendIdentify());
      case CMD.readSectors: case CMD.readSectorsNoRetry: return this.startRead(1);
      case CMD.readMultiple: return this.multipleSectors ? this.startRead(this.multipleSectors) : this.afterLatency(() => this.fail(ABRT));
      case CMD.writeSectors: case CMD.writeSectorsNoRetry: return this.startWrite(1);
      case CMD.writeMultiple: return this.multipleSectors ? this.startWrite(this.multipleSectors) : this.afterLatency(() => this.fail(ABRT));
      case CMD.readVerify: case CMD.readVerifyNoRetry: return this.afterLatency(() => this.verify(this.requestedCount()));
      case CMD.seek: return this.afterLatency(() => this.verify(1));
      case CMD.setMultipleMode: return this.afterLatency(() => this.setMultipleMode());
      case CMD.initializeDeviceParameters: return this.afterLatency(() => this.initializeDeviceParameters());
      case CMD.setFeatures: return this.afterLatency(() => this.setFeatures());
      case CMD.checkPowerMode: return this.afterLatency(() => this.checkPowerMode());
      case CMD.flushCache: // writes reach the DiskImage as each block completes: nothing is cached
      case CMD.standbyImmediate: case CMD.idleImmediate: case CMD.standby: case CMD.idle:
        return this.afterLatency(() => this.complete());
    }
    if (code >= CMD.recalibrateFirst && code <= CMD.recalibrateLast) return this.afterLatency(() => this.complete());
    this.afterLatency(() => this.fail(ABRT));
  }

  /** Runs `step` once the medium has had `latencyNs` of virtual time, then tells the channel about INTRQ. */
  private afterLatency(step: () => void): void {
    this.after(this.latencyNs, step);
  }

  /** The medium step of a READ/WRITE block: the access time for the command's first, the transfer time after. */
  private afterMedium(sectors: number, step: () => void): void {
    const first = this.firstAccess;
    this.firstAccess = false;
    this.after(first ? this.latencyNs : Math.round((sectors * SECTOR_BYTES * 1e9) / this.bytesPerSecond), step);
  }

  private after(delayNs: number, step: () => void): void {
    this.pending = this.clock.schedule(this.clock.now() + delayNs, () => {
      this.pending = undefined;
      step();
      this.intrqChanged();
    });
  }

  /** Abandons whatever the device was doing (new command, reset). */
  private stop(): void {
    if (this.pending !== undefined) this.clock.cancel(this.pending);
    this.pending = undefined;
    this.transfer = 'none';
  }

  private complete(): void {
    this.status = DRDY;
    this.intrq = true;
  }

  private fail(error: number): void {
    this.transfer = 'none';
    this.error = error;
    this.status = DRDY | ERR;
    this.intrq = true;
  }

  // --- READ / WRITE -------------------------------------------------------

  private startRead(sectorsPerBlock: number): void {
    if (!this.beginTransfer(sectorsPerBlock)) return;
    this.afterMedium(Math.min(sectorsPerBlock, this.sectorsLeft), () => this.readBlock());
  }

  /** Each block is read from the medium, then offered with DRQ and an interrupt. */
  private readBlock(): void {
    const sectors = Math.min(this.sectorsPerBlock, this.sectorsLeft);
    this.disk.read(this.nextLba, sectors, this.buffer, 0);
    this.progress(sectors);
    this.openBlock('in', sectors * SECTOR_BYTES, () => {
      if (this.sectorsLeft === 0) this.status = DRDY; // no interrupt after the last block of a read
      else {
        this.status = BSY | DRDY;
        this.afterMedium(Math.min(this.sectorsPerBlock, this.sectorsLeft), () => this.readBlock());
      }
    });
    this.intrq = true;
  }

  private startWrite(sectorsPerBlock: number): void {
    if (!this.beginTransfer(sectorsPerBlock)) return;
    // PIO data-out: the first block is requested without an interrupt, and at once (see the header).
    this.openWriteBlock();
  }

  private openWriteBlock(): void {
    this.blockSectors = Math.min(this.sectorsPerBlock, this.sectorsLeft);
    this.openBlock('out', this.blockSectors * SECTOR_BYTES, () => {
      this.status = BSY | DRDY;
      this.afterMedium(this.blockSectors, () => this.writeBlock());
    });
  }

  /** A block the host filled reaches the medium; then the device interrupts, asking for the next one if any. */
  private writeBlock(): void {
    this.disk.write(this.nextLba, this.blockSectors, this.buffer, 0);
    this.progress(this.blockSectors);
    if (this.sectorsLeft > 0) this.openWriteBlock();
    else this.status = DRDY;
    this.intrq = true;
  }

  /** Reads the command's address range into the transfer state; false (and IDNF pending) if it is off the disk. */
  private beginTransfer(sectorsPerBlock: number): boolean {
    const lba = this.requestedLba();
    const count = this.requestedCount();
    if (lba === undefined || lba + count > this.capacity) {
      this.afterLatency(() => this.failNotFound(lba));
      return false;
    }
    this.nextLba = lba;
    this.sectorsLeft = count;
    this.sectorsPerBlock = sectorsPerBlock;
    this.firstAccess = true;
    return true;
  }

  /** After each block the registers hold the last sector done and the sectors still to do, as drives report. */
  private progress(sectors: number): void {
    this.nextLba += sectors;
    this.sectorsLeft -= sectors;
    this.storeAddress(this.nextLba - 1);
    this.taskFile[SECTOR_COUNT] = this.sectorsLeft & 0xff;
  }

  private verify(count: number): void {
    const lba = this.requestedLba();
    if (lba === undefined || lba + count > this.capacity) this.failNotFound(lba);
    else this.complete();
  }

  /** IDNF, with the registers at the first address that is not on the disk (when the address had any meaning). */
  private failNotFound(lba: number | undefined): void {
    if (lba !== undefined) this.storeAddress(Math.min(Math.max(lba, this.capacity), LBA28_SECTORS));
    this.fail(IDNF);
  }

  // --- Addressing ---------------------------------------------------------

  /** A sector count of 0 asks for 256 sectors. */
  private requestedCount(): number {
    return this.taskFile[SECTOR_COUNT] || 256;
  }

  /** The command's starting sector, or undefined for a CHS address outside the current translation. */
  private requestedLba(): number | undefined {
    const device = this.taskFile[DEVICE]!;
    const low = this.taskFile[LBA_LOW]!;
    const middle = this.taskFile[LBA_MID]!;
    const high = this.taskFile[LBA_HIGH]!;
    if (device & LBA_MODE) return (device & 0x0f) * 0x100_0000 + (high << 16) + (middle << 8) + low;
    const { heads, sectorsPerTrack } = this.geometry;
    const cylinder = (high << 8) | middle;
    const head = device & 0x0f;
    if (low === 0 || low > sectorsPerTrack || head >= heads) return undefined;
    return (cylinder * heads + head) * sectorsPerTrack + low - 1;
  }

  /** Puts a sector address back in the registers, in the addressing mode the command used. */
  private storeAddress(lba: number): void {
    const device = this.taskFile[DEVICE]!;
    if (device & LBA_MODE) {
      this.taskFile.set([lba & 0xff, (lba >>> 8) & 0xff, (lba >>> 16) & 0xff, (device & 0xf0) | ((lba >>> 24) & 0x0f)], LBA_LOW);
      return;
    }
    const { heads, sectorsPerTrack } = this.geometry;
    const cylinder = Math.floor(lba / (heads * sectorsPerTrack));
    const head = Math.floor(lba / sectorsPerTrack) % heads;
    const sector = (lba % sectorsPerTrack) + 1;
    this.taskFile.set([sector, cylinder & 0xff, (cylinder >>> 8) & 0xff, (device & 0xf0) | head], LBA_LOW);
  }

  // --- Non-data commands --------------------------------------------------

  /** Sector count 0 disables multiple mode; otherwise a power of two up to IDENTIFY word 47's maximum. */
  private setMultipleMode(): void {
    const count = this.taskFile[SECTOR_COUNT]!;
    if (count > MAX_MULTIPLE || (count & (count - 1)) !== 0) return this.fail(ABRT);
    this.multipleSectors = count;
    this.complete();
  }

  /** Sets the CHS translation: sectors per track from Sector Count, heads - 1 from the Device register. */
  private initializeDeviceParameters(): void {
    const sectorsPerTrack = this.taskFile[SECTOR_COUNT]!;
    const heads = (this.taskFile[DEVICE]! & 0x0f) + 1;
    if (sectorsPerTrack === 0) return this.fail(ABRT);
    this.geometry = translation(this.capacity, heads, sectorsPerTrack, 65535);
    this.complete();
  }

  /** Transfer-mode, cache and defaults subcommands are accepted (PIO modes only: there is no DMA); others aborted. */
  private setFeatures(): void {
    const subcommand = this.taskFile[ERROR_FEATURES]!;
    const mode = this.taskFile[SECTOR_COUNT]!;
    const pioMode = mode <= 0x01 || (mode >= 0x08 && mode <= 0x0c);
    const accepted = subcommand === 0x03 ? pioMode : [0x02, 0x55, 0x66, 0x82, 0xaa, 0xcc].includes(subcommand);
    if (accepted) this.complete();
    else this.fail(ABRT);
  }

  /** The disk is always active: Sector Count FFh. */
  private checkPowerMode(): void {
    this.taskFile[SECTOR_COUNT] = 0xff;
    this.complete();
  }

  /**
   * EXECUTE DEVICE DIAGNOSTIC (the channel routes it to both devices, busy or
   * not): each ends with its signature; only device 0, which posts the
   * result for both, interrupts.
   */
  diagnose(postsResult: boolean): void {
    this.stop();
    this.intrq = false;
    this.status = BSY | DRDY;
    this.afterLatency(() => {
      this.loadSignature();
      this.status = DRDY;
      this.intrq = postsResult;
    });
  }

  // --- Reset --------------------------------------------------------------

  /** SRST asserted: the device stops and holds BSY. */
  holdInReset(): void {
    this.stop();
    this.intrq = false;
    this.status = BSY;
  }

  /** SRST released: after `latencyNs` the device is ready with its signature, and does not interrupt. */
  releaseReset(): void {
    this.afterLatency(() => {
      this.loadSignature();
      this.status = DRDY;
    });
  }

  // --- IDENTIFY DEVICE ----------------------------------------------------

  private sendIdentify(): void {
    const words = this.identifyWords();
    for (let i = 0; i < words.length; i++) {
      this.buffer[2 * i] = words[i]! & 0xff;
      this.buffer[2 * i + 1] = words[i]! >>> 8;
    }
    this.openBlock('in', SECTOR_BYTES, () => { this.status = DRDY; });
    this.intrq = true;
  }

  /** The 256 words of IDENTIFY DEVICE data (ATA-6 8.15, table 27). */
  private identifyWords(): Uint16Array {
    const id = new Uint16Array(256);
    id[0] = 0x0040; // ATA device, fixed (non-removable)
    id[1] = this.defaultGeometry.cylinders;
    id[2] = 0xc837; // no SET FEATURES needed to spin up; IDENTIFY data complete
    id[3] = this.defaultGeometry.heads;
    id[6] = this.defaultGeometry.sectorsPerTrack;
    putString(id, 10, 20, this.serial);
    putString(id, 23, 8, FIRMWARE);
    putString(id, 27, 40, MODEL);
    id[47] = 0x8000 | MAX_MULTIPLE;
    id[49] = 0x0a00; // LBA supported, IORDY supported; no DMA
    id[50] = 0x4000; // bit 14 shall be one
    id[51] = 0x0200; // obsolete PIO timing mode: 2
    id[53] = 0x0003; // words 54-58 and 64-70 valid
    id[54] = this.geometry.cylinders;
    id[55] = this.geometry.heads;
    id[56] = this.geometry.sectorsPerTrack;
    const chsCapacity = this.geometry.cylinders * this.geometry.heads * this.geometry.sectorsPerTrack;
    id[57] = chsCapacity & 0xffff;
    id[58] = chsCapacity >>> 16;
    id[59] = 0x0100 | this.multipleSectors; // the multiple setting is valid
    id[60] = this.capacity & 0xffff;
    id[61] = this.capacity >>> 16;
    id[64] = 0x0003; // PIO modes 3 and 4
    id[65] = id[66] = id[67] = id[68] = 120; // cycle times, ns: PIO mode 4
    id[80] = 0x0078; // ATA-3 to ATA/ATAPI-6
    id[82] = 0x0008; // power management feature set supported
    id[83] = 0x5000; // FLUSH CACHE supported; no LBA48
    id[84] = 0x4000;
    id[85] = 0x0008; // power management enabled
    id[86] = 0x1000; // FLUSH CACHE
    id[87] = 0x4000;
    id[255] = integrityWord(id);
    return id;
  }
}

/** A CHS translation of `capacity` sectors with the given heads and sectors per track. */
function translation(capacity: number, heads: number, sectorsPerTrack: number, maxCylinders: number): Geometry {
  const cylinders = Math.max(1, Math.min(maxCylinders, Math.floor(capacity / (heads * sectorsPerTrack))));
  return { cylinders, heads, sectorsPerTrack };
}

/** ATA strings hold two characters a word, the first in the high byte, padded with spaces. */
function putString(id: Uint16Array, firstWord: number, length: number, text: string): void {
  const padded = text.padEnd(length, ' ');
  for (let i = 0; i < length / 2; i++) {
    id[firstWord + i] = (padded.charCodeAt(2 * i) << 8) | padded.charCodeAt(2 * i + 1);
  }
}

/** Word 255: signature A5h and a checksum byte that makes all 512 bytes sum to 0 (mod 256). */
function integrityWord(id: Uint16Array): number {
  let sum = 0xa5;
  for (let i = 0; i < 255; i++) sum += (id[i]! & 0xff) + (id[i]! >>> 8);
  return (((256 - (sum & 0xff)) & 0xff) << 8) | 0xa5;
}

/** An ATA channel: the Command Block ports, the Device Control/Alternate Status port, INTRQ, and up to two drives. */
export class AtaChannel implements PortDevice {
  readonly ports: number[];
  private readonly drives: [Drive | null, Drive | null];
  /** The DEV bit both devices latched: which one answers and drives INTRQ. */
  private selected: 0 | 1 = 0;
  private deviceControl = 0;
  private irqLevel = false;

  /** Primary: commandBase 0x1F0, controlPort 0x3F6, IRQ 14. Secondary: 0x170, 0x376, IRQ 15. */
  constructor(
    private readonly commandBase: number,
    private readonly controlPort: number,
    private readonly irq: IrqLine,
    clock: VirtualClock,
    disks: [DiskImage | null, DiskImage | null],
    latencyNs: number = DEFAULT_LATENCY_NS,
    /** The sustained transfer rate of a command's blocks after its first (default 16 MB/s). */
    bytesPerSecond: number = DEFAULT_BYTES_PER_SECOND,
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`transfer rate ${bytesPerSecond} is not a positive number of bytes per second`);
    this.ports = [...Array.from({ length: 8 }, (_, i) => commandBase + i), controlPort];
    const drive = (index: number): Drive | null => {
      const disk = disks[index];
      if (disk === null || disk === undefined) return null;
      const serial = `AT386-${commandBase.toString(16).toUpperCase()}-${index}`;
      return new Drive(disk, serial, clock, latencyNs, bytesPerSecond, () => this.updateIrq());
    };
    this.drives = [drive(0), drive(1)];
  }

  portIn(port: number, size: PortSize): number {
    if (port === this.commandBase + DATA) return this.readDataPort(size);
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.readByte(port + i) << (8 * i);
    return value >>> 0;
  }

  portOut(port: number, size: PortSize, value: number): void {
    if (port === this.commandBase + DATA) return this.writeDataPort(size, value);
    for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (8 * i)) & 0xff);
  }

  /** Bulk data-port transfer for `rep insw`: returns the words moved, at most to the end of the DRQ block (0 without DRQ). */
  readData(words: number, memory: Uint8Array, at: number): number {
    return this.drives[this.selected]?.readWords(words, memory, at) ?? 0;
  }

  /** Bulk data-port transfer for `rep outsw`: returns the words moved, at most to the end of the DRQ block (0 without DRQ). */
  writeData(words: number, memory: Uint8Array, at: number): number {
    return this.drives[this.selected]?.writeWords(words, memory, at) ?? 0;
  }

  // --- Data port ----------------------------------------------------------

  /**
   * The data port is 16 bits wide. A 32-bit access is two word accesses (low
   * word first); an 8-bit access moves a whole word and keeps its low byte.
   */
  private readDataPort(size: PortSize): number {
    const drive = this.drives[this.selected];
    const word = (): number => drive?.readWord() ?? 0xffff;
    if (size === 4) {
      const low = word();
      return (low | (word() << 16)) >>> 0;
    }
    return size === 2 ? word() : word() & 0xff;
  }

  private writeDataPort(size: PortSize, value: number): void {
    const drive = this.drives[this.selected];
    if (drive === null) return;
    drive.writeWord(value & 0xffff);
    if (size === 4) drive.writeWord(value >>> 16);
  }

  // --- Registers ----------------------------------------------------------

  private readByte(port: number): number {
    if (port === this.controlPort) return this.readStatus(false);
    const offset = port - this.commandBase;
    if (offset < ERROR_FEATURES || offset > STATUS_COMMAND) return OPEN_BUS;
    if (offset === STATUS_COMMAND) return this.readStatus(true);
    return this.responder()?.register(offset) ?? OPEN_BUS;
  }

  /** The device that answers register reads: the selected one, or device 0 standing in for an absent device 1. */
  private responder(): Drive | null {
    return this.drives[this.selected] ?? (this.selected === 1 ? this.drives[0] : null);
  }

  /** Status (acknowledging INTRQ) or Alternate Status (not). Device 0 reads 00h for an absent device 1. */
  private readStatus(acknowledge: boolean): number {
    const drive = this.drives[this.selected];
    if (drive === null) return this.responder() === null ? OPEN_BUS : 0x00;
    const status = drive.readStatus(acknowledge);
    this.updateIrq();
    return status;
  }

  private writeByte(port: number, value: number): void {
    if (port === this.controlPort) return this.writeDeviceControl(value);
    const offset = port - this.commandBase;
    if (offset === STATUS_COMMAND) return this.writeCommand(value);
    if (offset < ERROR_FEATURES || offset > DEVICE) return;
    // Both devices see every register write; the DEV bit then picks which one listens.
    for (const drive of this.drives) drive?.latch(offset, value);
    if (offset === DEVICE) {
      this.selected = value & DEV ? 1 : 0;
      this.updateIrq();
    }
  }

  private writeCommand(code: number): void {
    if (code === CMD.executeDeviceDiagnostic) return this.diagnose();
    // A command for an absent device is ignored (device 0 does not execute it for device 1).
    this.drives[this.selected]?.command(code);
    this.updateIrq();
  }

  /** Both devices run diagnostics; they finish with the signature, which selects device 0, and device 0 interrupts. */
  private diagnose(): void {
    this.selected = 0;
    this.drives.forEach((drive, index) => drive?.diagnose(index === 0));
    this.updateIrq();
  }

  private writeDeviceControl(value: number): void {
    const wasResetting = (this.deviceControl & SRST) !== 0;
    const resetting = (value & SRST) !== 0;
    this.deviceControl = value;
    if (resetting && !wasResetting) {
      // The signature the devices load puts 00h in the Device register: device 0 is selected.
      this.selected = 0;
      for (const drive of this.drives) drive?.holdInReset();
    } else if (wasResetting && !resetting) {
      for (const drive of this.drives) drive?.releaseReset();
    }
    this.updateIrq();
  }

  // --- Interrupts ---------------------------------------------------------

  /** INTRQ is driven by the selected device only, and released while nIEN is set. */
  private updateIrq(): void {
    const drive = this.drives[this.selected];
    const level = drive !== null && drive.intrq && (this.deviceControl & NIEN) === 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.set(level);
  }
}
