// The Multiboot test kernels of test/guests/ on QEMU, the reference PC: each
// must print only PASS lines (every one listed here) and exit with status 0
// through isa-debug-exit. The same kernels will run on Atlas386, whose serial
// output must then match QEMU's byte for byte (test/guests/run.ts).
//
// Needs qemu-system-i386 (Debian: qemu-system-x86) and gcc -m32. Without QEMU
// the tests skip, unless ATLAS386_REQUIRE_TOOLS=1 (CI), where they fail.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildGuests,
  diskPattern,
  hasQemu,
  makeDiskImage,
  QEMU,
  runOnQemu,
  writtenPattern,
  type GuestName,
} from './guests/run.js';

const qemu = hasQemu();
const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';

/** The PASS lines each kernel prints (in this order). */
const expected: Record<GuestName, string[]> = {
  exceptions: [
    'multiboot handoff (magic, memory info)',
    '#DE divide by zero: fault at DIV',
    '#DB single step (TF set by POPF): trap after the next instruction',
    '#BP int3: trap, EIP after INT3',
    '#OF into with OF=1: trap, EIP after INTO',
    'INTO with OF=0: no exception',
    '#BR bound out of range: fault at BOUND',
    'BOUND in range: no exception',
    '#UD ud2: fault at UD2',
    '#NM x87 with CR0.EM=1',
    '#NM x87 with CR0.TS=1',
    '#GP selector beyond GDT limit into DS: error = selector',
    '#GP far jump to a data segment: error = selector',
    '#GP null SS at CPL 0: error 0',
    '#NP not-present segment into DS: error = selector',
    '#NP INT through not-present gate: error = vector*8+2',
    '#SS not-present segment into SS: error = selector',
    '#GP LTR of a busy TSS: error = selector',
    '#DF: #GP through a not-present gate, error 0',
    'ring 3: int 0x80 frame holds the ring-3 CS, SS and ESP',
    'ring 3: int 0x80 runs on the TSS.ESP0 stack',
    'ring 3: a trap gate leaves IF set',
    'ring 3: IRET returns to ring 3 with its ESP, SS, CS and DS',
    'ring 3: EFLAGS after IRET has IF=1, IOPL=0',
    'ring 3: HLT raises #GP(0)',
    'ring 3: CLI with IOPL 0 raises #GP(0)',
    'ring 3: INT 0x81 to a DPL-0 gate raises #GP(0x81*8+2)',
    'ring 3: IN with IOPL 0 and no I/O bitmap raises #GP(0)',
    'ring 3: DPL-0 data segment into DS raises #GP(selector)',
    '#TS bad SS0 in the TSS on int 0x80 from ring 3: error = selector',
  ],
  interrupts: [
    'multiboot handoff (magic, memory info)',
    '8259A: IMRs read back (OCW1)',
    '8259A: remapped to 0x20/0x28, IRQ0 unmasked',
    '8259A: ISR empty after initialization (OCW3 read ISR)',
    '8254 ch0 mode 2, 100 Hz: 4 ticks with sti;hlt take 4 periods of channel 2',
    '8254 ch0 mode 2, 1 kHz: 40 ticks with sti;hlt take 40 periods of channel 2',
    '8254 ch0 mode 3, 100 Hz: 4 ticks with sti;hlt take 4 periods of channel 2',
    '8254 ch0 mode 3, 1 kHz: 40 ticks with sti;hlt take 40 periods of channel 2',
    '8254 1 kHz: about 40 ticks during a 40 ms busy-wait',
    '8254 mode 2: latched counter counts down from the divisor',
    '8254: a latched count holds until read',
    '8254 mode 3: the counter counts down by two (even values)',
    '8259A: no IRQ0 while masked in the IMR',
    '8259A: masked IRQ0 is still requested in the IRR',
    '8259A: the pending IRQ0 is delivered once unmasked',
    '8259A: without EOI, IRQ0 is not delivered again',
    '8259A: IRQ0 stays in service (ISR bit 0) until EOI',
    '8259A: specific EOI clears ISR bit 0',
    '8259A: after EOI the next IRQ0 is delivered',
    '8259A: non-specific EOI clears the ISR',
    '8259A: IRQ0 pending in the IRR while IF=0',
    'STI shadow: a pending interrupt is taken after the instruction following STI',
    'STI; HLT with an interrupt pending: HLT runs, the interrupt returns after it',
  ],
  serial: [
    'multiboot handoff (magic, memory info)',
    '16550: scratch register holds what was written',
    '16550: divisor latch (DLAB=1) and LCR read back',
    '16550: IER reads back',
    '16550: LSR THRE and TEMT set when idle',
    '16550: IIR = 0xC1 with FIFOs enabled and no interrupt',
    '16550 loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD in MSR',
    '16550: IIR = 0x01 with FIFOs disabled and no interrupt',
    '16550 loopback: a byte written to THR is read from RBR, DR follows',
    '16550 loopback without FIFO: a second byte overruns (OE), reading LSR clears OE',
    '16550 loopback with FIFO: 12 bytes come back in order',
    '16550: FCR bit 1 empties the receive FIFO',
    '16550: IIR reports received data (0x04) until RBR is read',
    '16550: enabling THRE interrupts with THR empty reports 0x02, reading IIR clears it',
    '16550: received data has priority over THRE in IIR',
    '16550 + 8259A: interrupt-driven transmit, one IRQ4 per byte plus the final THRE',
  ],
  disk: [
    'multiboot handoff (magic, memory info)',
    'ATA: primary master present, ready',
    'ATA: task file registers read back',
    'ATA IDENTIFY DEVICE: IRQ14, then DRQ',
    'ATA IDENTIFY: ATA device supporting LBA',
    'ATA IDENTIFY: words 60-61 give the disk\'s 2048 sectors',
    'ATA IDENTIFY: DRQ clears after 256 words',
    'ATA READ SECTORS (4 at LBA 10): one IRQ14 per sector',
    'ATA READ SECTORS: the data is the image\'s (rep insw)',
    'ATA READ SECTORS: the last sector, with single inw',
    'ATA WRITE SECTORS (3 at LBA 100): one IRQ14 per sector',
    'ATA WRITE SECTORS: reading back LBAs 99-103 gives the new data, neighbours unchanged',
    'ATA: no IRQ14 with nIEN set',
    'ATA READ SECTORS with count 0: 256 sectors, polled',
    'ATA READ SECTORS beyond the disk: ERR, no data',
    'ATA: the next command after an error succeeds',
  ],
  paging: [
    'multiboot handoff (magic, memory info)',
    'paging on: a linear address reaches its PTE\'s frame',
    'permissions: a #PF exactly when the SDM says (P, U/S and R/W of PDE and PTE, CPL, CR0.WP)',
    '#PF error code: P, W/R and U/S as the SDM says, RSVD = 0',
    '#PF: CR2 = the linear address accessed',
    '#PF: saved CS:EIP = the faulting instruction (for a fetch, the CALL\'s target)',
    'data: a read gets the frame\'s dword, a write reaches the frame, a faulting write does not',
    'A bit: set in the PDE and the PTE by every access that does not fault',
    'D bit: set in the page\'s entry by a write, not by a read or a fetch, nor by a faulting write',
    'INVLPG: after a PTE\'s frame changes, INVLPG makes the new frame visible',
    'INVLPG after clearing P: the read faults, error 0 (not present)',
    'MOV CR3: a non-global translation is flushed',
    'global translation (CR4.PGE = 1, G = 1): INVLPG flushes it',
    'global translation: clearing CR4.PGE flushes it',
    'PTE made writable without INVLPG: a write succeeds, at the latest after one #PF',
    'D bit: a read sets A only; the first write after it sets D',
    'aliases: a write through one linear address is read through the other',
    'recursive PDE 1023: a PDE read through 0xFFFFF000',
    'recursive PDE 1023: a PTE read through 0xFFC00000',
    'recursive PDE 1023: a PTE written through 0xFFC00000 maps the page',
    'page-crossing read, second page not present: #PF, CR2 = the second page, EAX unchanged',
    'page-crossing write, second page not present: #PF, CR2 = the second page, the first page not written',
    'PUSH at ring 3, stack page not present: #PF, CR2 = ESP - 4, ESP unchanged',
    'CALL at ring 3, stack page not present: #PF, CR2 = ESP - 4, ESP unchanged',
    'REP MOVSB into a not-present page: #PF after 16 bytes, ECX/ESI/EDI count them, the bytes copied',
    'REP MOVSD into a not-present page: #PF after 4 dwords, ECX/ESI/EDI count them, the bytes copied',
    'INT from ring 3, TSS.ESP0\'s page not present: #PF while delivering #PF, so #DF(0)',
    'CR4.PSE = 0: a PDE\'s PS bit is ignored',
  ],
};

function requireQemu(): void {
  if (!qemu) {
    throw new Error(
      `${QEMU} is not installed, and ATLAS386_REQUIRE_TOOLS=1 forbids skipping: ` +
        'install it (Debian: apt-get install qemu-system-x86)',
    );
  }
}

function checkRun(name: GuestName, run: Awaited<ReturnType<typeof runOnQemu>>): void {
  const context = `${name} on QEMU (exit code ${run.exitCode}${run.timedOut ? ', timed out' : ''}):\n${run.output}${run.stderr}`;
  expect(run.timedOut, context).toBe(false);
  const lines = run.output.split('\n');
  expect(lines.filter((l) => l.startsWith('FAIL')), context).toEqual([]);
  expect(lines[0], context).toBe(`== ${name} ==`);
  expect(lines.filter((l) => l.startsWith('PASS ')).map((l) => l.slice(5)), context).toEqual(expected[name]);
  expect(run.output.endsWith('DONE all passed\n'), context).toBe(true);
  expect(run.exitCode, context).toBe(1); // isa-debug-exit: (0 << 1) | 1
  expect(run.status, context).toBe(0);
}

describe('test kernels on QEMU', () => {
  beforeAll(() => {
    if (qemu || requireTools) buildGuests();
  });

  it.skipIf(!qemu && !requireTools).each(['exceptions', 'interrupts', 'serial', 'paging'] as const)(
    '%s prints only PASS lines and exits with status 0',
    async (name) => {
      requireQemu();
      checkRun(name, await runOnQemu(name));
    },
  );

  it.skipIf(!qemu && !requireTools)('serial transmits its message through IRQ4', async () => {
    requireQemu();
    const run = await runOnQemu('serial');
    expect(run.output).toContain('\ninterrupt-driven transmit: the quick brown fox jumps over the lazy dog\n');
  });

  it.skipIf(!qemu && !requireTools)('disk passes and its writes reach the image', async () => {
    requireQemu();
    const dir = mkdtempSync(join(tmpdir(), 'atlas386-disk-'));
    try {
      const image = join(dir, 'disk.img');
      makeDiskImage(image);
      checkRun('disk', await runOnQemu('disk', { diskImage: image }));
      const after = readFileSync(image);
      expect(after.length).toBe(2048 * 512);
      for (let lba = 98; lba <= 104; lba++) {
        const pattern = lba >= 100 && lba <= 102 ? writtenPattern : diskPattern;
        const want = Buffer.from(Array.from({ length: 512 }, (_, i) => pattern(lba, i)));
        expect(after.subarray(lba * 512, lba * 512 + 512).equals(want), `LBA ${lba}`).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!qemu && !requireTools)('the serial output is the same on every run', async () => {
    requireQemu();
    for (const name of ['exceptions', 'interrupts', 'serial', 'disk', 'paging'] as const) {
      const [a, b] = [await runOnQemu(name), await runOnQemu(name)];
      expect(a.serial.equals(b.serial), name).toBe(true);
    }
  });
});
