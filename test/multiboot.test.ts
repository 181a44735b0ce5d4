// The Multiboot v1 loader: header search and checks, ELF and a.out-kludge
// loading, the boot information structure field by field, the machine state
// the kernel is entered with, and the one-line errors.

import { describe, expect, it } from 'vitest';
import { Cpu, Reg, Seg } from '../emulator/host/cpu.js';
import {
  BOOT_DEVICE_HDA, enterMultiboot, findMultibootHeader, loadMultiboot, MULTIBOOT_BOOTLOADER_MAGIC, MULTIBOOT_HEADER_MAGIC,
} from '../emulator/host/multiboot.js';

const MiB = 1024 * 1024;
const KERNEL_BASE = 0x100000;

/** A Multiboot header: magic, flags, checksum (+ the a.out address fields when given). */
function mbHeader(flags: number, aout?: number[], checksumDelta = 0): number[] {
  const words = [MULTIBOOT_HEADER_MAGIC, flags, (-(MULTIBOOT_HEADER_MAGIC + flags) + checksumDelta) >>> 0, ...(aout ?? [])];
  return words.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff]);
}

/** An ELF32 i386 executable whose one PT_LOAD holds `body` (placed at file offset 84) at `base`, plus `bss` zero bytes. */
function elf(body: number[], opts: { base?: number; bss?: number; extraSegment?: [number, number] } = {}): Uint8Array {
  const base = opts.base ?? KERNEL_BASE;
  const phnum = opts.extraSegment ? 2 : 1;
  const dataOff = 52 + 32 * phnum;
  const file = new Uint8Array(dataOff + body.length);
  const v = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true);
  v.setUint16(18, 3, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, base, true); // entry: the first byte of body
  v.setUint32(28, 52, true);
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, phnum, true);
  v.setUint16(46, 40, true);
  const ph = (i: number, offset: number, addr: number, filesz: number, memsz: number): void => {
    for (const [off, value] of [[0, 1], [4, offset], [8, addr], [12, addr], [16, filesz], [20, memsz], [24, 7], [28, 0x1000]] as const) {
      v.setUint32(52 + 32 * i + off, value, true);
    }
  };
  ph(0, dataOff, base, body.length, body.length + (opts.bss ?? 0));
  if (opts.extraSegment) ph(1, dataOff, opts.extraSegment[0], 0, opts.extraSegment[1]);
  file.set(body, dataOff);
  return file;
}

// jmp over two nops and the header (14 bytes), then hlt.
const JMP_OVER_HEADER = [0xeb, 0x0e];
const kernelBody = (flags = 3): number[] => [...JMP_OVER_HEADER, 0x90, 0x90, ...mbHeader(flags), 0xf4];

async function newCpu(ramBytes = 32 * MiB): Promise<Cpu> {
  return Cpu.create({ ramBytes, deliverThroughIdt: true, translate: false, acknowledgeInterrupt: () => 0xff });
}

const u32 = (ram: Uint8Array, addr: number): number => new DataView(ram.buffer, ram.byteOffset).getUint32(addr, true);
const cString = (ram: Uint8Array, addr: number): string => {
  let end = addr;
  while (ram[end] !== 0) end++;
  return Buffer.from(ram.subarray(addr, end)).toString('latin1');
};

describe('Multiboot header', () => {
  it('finds a good header at a 4-byte aligned offset in the first 8192 bytes', () => {
    const image = new Uint8Array(8192);
    image.set(mbHeader(3), 4096);
    expect(findMultibootHeader(image)).toEqual({ offset: 4096, flags: 3 });
  });

  it('ignores a header that is not 4-byte aligned or not wholly in the first 8192 bytes', () => {
    const unaligned = new Uint8Array(1024);
    unaligned.set(mbHeader(3), 2);
    expect(() => findMultibootHeader(unaligned)).toThrow(/^no Multiboot header \(magic 0x1badb002\) in the first 8192 bytes$/);
    const late = new Uint8Array(16384);
    late.set(mbHeader(3), 8184); // the checksum would be at 8192
    expect(() => findMultibootHeader(late)).toThrow(/^no Multiboot header/);
  });

  it('reports a bad checksum', () => {
    const image = new Uint8Array(64);
    image.set(mbHeader(3, undefined, 1), 8);
    expect(() => findMultibootHeader(image)).toThrow(/^the Multiboot header at file offset 0x00000008 has a bad checksum$/);
  });

  it('reports no header at all', () => {
    expect(() => findMultibootHeader(new Uint8Array(100))).toThrow(/^no Multiboot header/);
  });

  it('refuses required flags it does not support (video mode, bit 2; unknown bits), accepts optional ones', () => {
    const video = Uint8Array.from(mbHeader(0x7));
    expect(() => findMultibootHeader(video)).toThrow(/requires features this loader does not support: flags 0x00000004 \(bit 2: a video mode/);
    const unknown = Uint8Array.from(mbHeader(0x100));
    expect(() => findMultibootHeader(unknown)).toThrow(/flags 0x00000100$/);
    expect(findMultibootHeader(Uint8Array.from(mbHeader(0x00020003))).flags).toBe(0x00020003);
  });

  it('reads the a.out kludge address fields with flag 16', () => {
    const image = Uint8Array.from(mbHeader(0x10003, [0x100000, 0x100000, 0x100040, 0x100100, 0x100020]));
    expect(findMultibootHeader(image).aout).toEqual({
      headerAddr: 0x100000, loadAddr: 0x100000, loadEndAddr: 0x100040, bssEndAddr: 0x100100, entryAddr: 0x100020,
    });
  });
});

describe('loading', () => {
  it('loads ELF PT_LOAD segments at their physical addresses and zeroes the bss', async () => {
    const cpu = await newCpu();
    cpu.ram.fill(0xaa, KERNEL_BASE, KERNEL_BASE + 0x2000);
    const body = kernelBody();
    const boot = loadMultiboot(elf(body, { bss: 0x1000 }), cpu.ram, { kernelName: 'k' });
    expect(Array.from(cpu.ram.subarray(KERNEL_BASE, KERNEL_BASE + body.length))).toEqual(body);
    expect(cpu.ram.subarray(KERNEL_BASE + body.length, KERNEL_BASE + body.length + 0x1000).every((b) => b === 0)).toBe(true);
    expect(boot).toMatchObject({ entry: KERNEL_BASE, kernelStart: KERNEL_BASE, kernelEnd: KERNEL_BASE + body.length + 0x1000 });
  });

  it('loads with the a.out kludge: file from load_addr, bss to bss_end_addr, entry_addr', async () => {
    const cpu = await newCpu();
    cpu.ram.fill(0xaa, 0x200000, 0x202000);
    // The header sits at file offset 16, so load_addr = header_addr - 16.
    const code = [0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90];
    const header = mbHeader(0x10003, [0x200010, 0x200000, 0, 0x201000, 0x200030]);
    const image = Uint8Array.from([...code, ...header, 0xf4, 0xf4, 0xf4, 0xf4]);
    const boot = loadMultiboot(image, cpu.ram, { kernelName: 'raw' });
    expect(Array.from(cpu.ram.subarray(0x200000, 0x200000 + image.length))).toEqual(Array.from(image));
    expect(cpu.ram.subarray(0x200000 + image.length, 0x201000).every((b) => b === 0)).toBe(true);
    expect(cpu.ram[0x201000]).toBe(0xaa);
    expect(boot).toMatchObject({ entry: 0x200030, kernelStart: 0x200000, kernelEnd: 0x201000 });
  });

  it('a.out kludge with load_end_addr loads only that much', async () => {
    const cpu = await newCpu();
    cpu.ram.fill(0xaa, 0x200000, 0x201000);
    // 32 bytes of header, then 64 nops of which load_end_addr takes 8.
    const image = Uint8Array.from([...mbHeader(0x10000, [0x200000, 0x200000, 0x200028, 0, 0x200020]), ...new Array(64).fill(0x90)]);
    loadMultiboot(image, cpu.ram, { kernelName: 'raw' });
    expect(cpu.ram[0x200027]).toBe(0x90);
    expect(cpu.ram[0x200028]).toBe(0xaa);
  });
});

describe('boot information structure', () => {
  it('has the fields GRUB gives, checked one by one', async () => {
    const cpu = await newCpu(32 * MiB);
    const body = kernelBody();
    const modA = new Uint8Array(5000).fill(0x41);
    const modB = Uint8Array.from([1, 2, 3]);
    const boot = loadMultiboot(elf(body, { bss: 0x3000 }), cpu.ram, {
      kernelName: 'kernel.elf',
      cmdline: 'root=/dev/hda console=ttyS0',
      modules: [{ name: 'initrd.img', data: modA }, { name: 'b.bin', data: modB }],
      bootDevice: BOOT_DEVICE_HDA,
    });
    const ram = cpu.ram;
    const info = boot.infoAddress;
    expect(info).toBeLessThan(0x9fc00);
    expect(info % 4).toBe(0);
    // flags: mem (0), boot_device (1), cmdline (2), mods (3), mmap (6), boot loader name (9).
    expect(u32(ram, info)).toBe(0b10_0100_1111);
    expect(u32(ram, info + 4)).toBe(640); // mem_lower
    expect(u32(ram, info + 8)).toBe(31 * 1024); // mem_upper: (32 MiB - 1 MiB) / 1 KiB
    expect(u32(ram, info + 12)).toBe(0x80ffffff); // boot_device
    expect(cString(ram, u32(ram, info + 16))).toBe('kernel.elf root=/dev/hda console=ttyS0');
    expect(boot.cmdline).toBe('kernel.elf root=/dev/hda console=ttyS0');

    // Modules: page-aligned after the kernel's end (bss included), end exclusive, with their strings.
    expect(u32(ram, info + 20)).toBe(2);
    const mods = u32(ram, info + 24);
    const kernelEnd = KERNEL_BASE + body.length + 0x3000;
    const startA = Math.ceil(kernelEnd / 4096) * 4096;
    const startB = Math.ceil((startA + modA.length) / 4096) * 4096;
    expect([u32(ram, mods), u32(ram, mods + 4), cString(ram, u32(ram, mods + 8)), u32(ram, mods + 12)]).toEqual([
      startA, startA + modA.length, 'initrd.img', 0,
    ]);
    expect([u32(ram, mods + 16), u32(ram, mods + 20), cString(ram, u32(ram, mods + 24))]).toEqual([startB, startB + 3, 'b.bin']);
    expect(ram.subarray(startA, startA + modA.length).every((b) => b === 0x41)).toBe(true);
    expect(Array.from(ram.subarray(startB, startB + 3))).toEqual([1, 2, 3]);

    // Memory map: entries of 24 bytes, the size field (20) first, mmap_addr pointing at it.
    expect(u32(ram, info + 44)).toBe(3 * 24);
    const mmap = u32(ram, info + 48);
    const entry = (i: number): number[] => [0, 4, 8, 12, 16, 20].map((off) => u32(ram, mmap + 24 * i + off));
    expect(entry(0)).toEqual([20, 0, 0, 0x9fc00, 0, 1]);
    expect(entry(1)).toEqual([20, 0x9fc00, 0, 0x100000 - 0x9fc00, 0, 2]);
    expect(entry(2)).toEqual([20, 0x100000, 0, 31 * MiB, 0, 1]);

    expect(cString(ram, u32(ram, info + 64))).toBe('Atlas386');
    // Nothing the loader wrote overlaps the kernel or the modules.
    expect(boot.blockEnd <= KERNEL_BASE || boot.blockStart >= startB + 3).toBe(true);
  });

  it('leaves boot_device out without a disk; the kernel name alone is the command line', async () => {
    const cpu = await newCpu(4 * MiB);
    const boot = loadMultiboot(elf(kernelBody()), cpu.ram, { kernelName: 'k.elf' });
    expect(u32(cpu.ram, boot.infoAddress) & 2).toBe(0);
    expect(u32(cpu.ram, boot.infoAddress + 8)).toBe(3 * 1024);
    expect(cString(cpu.ram, u32(cpu.ram, boot.infoAddress + 16))).toBe('k.elf');
    expect(u32(cpu.ram, boot.infoAddress + 20)).toBe(0);
  });

  it('is placed clear of a kernel that occupies low memory', async () => {
    const cpu = await newCpu(4 * MiB);
    const boot = loadMultiboot(elf(kernelBody(), { base: 0x1000, bss: 0x20000 }), cpu.ram, { kernelName: 'low' });
    expect(boot.blockStart).toBeGreaterThanOrEqual(0x1000 + 0x20000);
    expect(boot.blockEnd).toBeLessThanOrEqual(0x9fc00);
  });

  it('with 1 MiB of RAM the memory map has no extended memory entry', async () => {
    const cpu = await newCpu(MiB);
    const boot = loadMultiboot(elf(kernelBody(), { base: 0x10000 }), cpu.ram, { kernelName: 'k' });
    expect(u32(cpu.ram, boot.infoAddress + 8)).toBe(0);
    expect(u32(cpu.ram, boot.infoAddress + 44)).toBe(2 * 24);
  });
});

describe('entry state', () => {
  it('EAX magic, EBX info, protected mode without paging, flat segments from a valid GDT, IF=0', async () => {
    const cpu = await newCpu();
    // sgdt [0x500]; mov eax,0x10; mov ds,ax; mov ss,ax; mov es,ax; hlt
    const code = [0x0f, 0x01, 0x05, 0x00, 0x05, 0x00, 0x00, 0xb8, 0x10, 0, 0, 0, 0x8e, 0xd8, 0x8e, 0xd0, 0x8e, 0xc0, 0xf4];
    const body = [...JMP_OVER_HEADER, 0x90, 0x90, ...mbHeader(3), ...code];
    const boot = loadMultiboot(elf(body), cpu.ram, { kernelName: 'k' });
    enterMultiboot(cpu, boot);
    expect(cpu.getReg(Reg.EAX)).toBe(MULTIBOOT_BOOTLOADER_MAGIC);
    expect(cpu.getReg(Reg.EBX)).toBe(boot.infoAddress);
    expect(cpu.getCr(0) & 1).toBe(1);
    expect(cpu.getCr(0) & 0x80000000).toBe(0);
    expect(cpu.eflags).toBe(0x2);
    expect(cpu.eip).toBe(KERNEL_BASE);
    expect(cpu.segmentSelector(Seg.CS)).toBe(0x08);
    for (const s of [Seg.DS, Seg.ES, Seg.SS, Seg.FS, Seg.GS]) {
      expect(cpu.segmentSelector(s)).toBe(0x10);
      expect(cpu.segmentBase(s)).toBe(0);
    }
    expect(cpu.getReg(Reg.ESP)).toBe(boot.stackTop);

    // The kernel reloads data segments from the loader's GDT: they must be flat data descriptors.
    expect(cpu.run(100)).toMatchObject({ reason: 'halt' });
    expect(u32(cpu.ram, 0x502)).toBe(boot.gdtAddress);
    expect(cpu.ram[0x500]! | (cpu.ram[0x501]! << 8)).toBe(23);
    expect([u32(cpu.ram, boot.gdtAddress + 8), u32(cpu.ram, boot.gdtAddress + 12)]).toEqual([0x0000ffff, 0x00cf9b00]);
    expect([u32(cpu.ram, boot.gdtAddress + 16), u32(cpu.ram, boot.gdtAddress + 20)]).toEqual([0x0000ffff, 0x00cf9300]);
    expect(cpu.segmentSelector(Seg.SS)).toBe(0x10);
  });
});

describe('errors', () => {
  it('a file that is neither ELF32 nor has the a.out kludge', async () => {
    const cpu = await newCpu();
    expect(() => loadMultiboot(Uint8Array.from([...mbHeader(3), 0xf4]), cpu.ram, { kernelName: 'k' })).toThrow(
      /^the kernel is not an ELF32 file and its Multiboot header has no address fields \(flag 16\)$/,
    );
    const elf64 = elf(kernelBody());
    elf64[4] = 2;
    expect(() => loadMultiboot(elf64, cpu.ram, { kernelName: 'k' })).toThrow(/^kernel: not a 32-bit x86 executable \(ELF64/);
  });

  it('no Multiboot header', async () => {
    const cpu = await newCpu();
    expect(() => loadMultiboot(elf([0xf4, 0, 0, 0]), cpu.ram, { kernelName: 'k' })).toThrow(/^no Multiboot header/);
  });

  it('a kernel that does not fit in RAM', async () => {
    const cpu = await newCpu(2 * MiB);
    expect(() => loadMultiboot(elf(kernelBody(), { bss: 2 * MiB }), cpu.ram, { kernelName: 'k' })).toThrow(
      /^the kernel does not fit in RAM \(2 MiB\): segment 0x00100000\.\.0x00300010$/,
    );
    const aout = Uint8Array.from(mbHeader(0x10000, [0x100000, 0x100000, 0, 0x400000, 0x100000]));
    expect(() => loadMultiboot(aout, cpu.ram, { kernelName: 'k' })).toThrow(/^the kernel does not fit in RAM \(2 MiB\): image/);
  });

  it('modules that do not fit in RAM', async () => {
    const cpu = await newCpu(2 * MiB);
    expect(() =>
      loadMultiboot(elf(kernelBody()), cpu.ram, { kernelName: 'k', modules: [{ name: 'big.bin', data: new Uint8Array(MiB) }] }),
    ).toThrow(/^module big\.bin \(1048576 bytes at 0x00101000\) does not fit in RAM \(2 MiB\)$/);
  });

  it('overlapping segments', async () => {
    const cpu = await newCpu();
    expect(() => loadMultiboot(elf(kernelBody(), { extraSegment: [KERNEL_BASE + 8, 0x100] }), cpu.ram, { kernelName: 'k' })).toThrow(
      /^kernel: ELF segments overlap \(0x00100000\.\.0x00100010 and 0x00100008\.\.0x00100107\)$/,
    );
  });

  it('bad a.out address fields', async () => {
    const cpu = await newCpu();
    const image = Uint8Array.from(mbHeader(0x10000, [0x100000, 0x100010, 0, 0, 0x100010]));
    expect(() => loadMultiboot(image, cpu.ram, { kernelName: 'k' })).toThrow(/^bad Multiboot address fields: load_addr 0x00100010 is above header_addr/);
  });
});
