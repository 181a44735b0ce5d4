// The MMU on hand-built page tables: the walker's rights, A/D bits and error
// codes (Intel SDM vol. 3, 4.3 and 4.7), restartable page faults, and the
// TLB's architectural behaviour (stale entries until INVLPG or a CR3 load,
// global pages, the D-bit assist). test/guests/paging.c checks the same
// against QEMU from inside a guest.
import { describe, it, expect, beforeEach } from 'vitest';
import { Cpu, Reg } from '../../emulator/host/cpu.js';

const DIRECTORY = 0x1000;
const TABLE = 0x2000;   // maps linear 0-4 MiB
const CODE = 0x10000;   // identity-mapped, supervisor code
const STACK = 0x20000;  // identity-mapped, top of the stack page 0x1f000
const IDT = 0x3000, GDT = 0x4000, HANDLERS = 0x5000;
const TEST = 0x40000000; // a test page outside the identity map
const TEST_TABLE = 0x6000;
const FRAME_A = 0x80000, FRAME_B = 0x81000;

const P = 1, W = 2, U = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
const CR0_PG = 0x80000000, CR0_WP = 0x10000, CR4_PSE = 0x10, CR4_PGE = 0x80;

let cpu: Cpu;
let view: DataView;

const u32 = (at: number): number => view.getUint32(at, true);
const set32 = (at: number, v: number): void => view.setUint32(at, v >>> 0, true);
const pde = (linear: number): number => DIRECTORY + (linear >>> 22) * 4;
const pte = (table: number, linear: number): number => table + ((linear >>> 12) & 0x3ff) * 4;

function load(code: number[], at = CODE): void {
  cpu.ram.set(code, at);
  cpu.eip = at;
}

function paging(extraCr0 = 0): void {
  cpu.setCr(3, DIRECTORY);
  cpu.setCr(0, cpu.getCr(0) | CR0_PG | extraCr0);
}

async function machine(deliverThroughIdt = false, translate = false): Promise<void> {
  cpu = await Cpu.create({ ramBytes: 1 << 23, deliverThroughIdt, translate });
  view = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
  cpu.setFlatProtectedMode(0);
  cpu.setReg(Reg.ESP, STACK);
  // Identity-map the first 4 MiB (supervisor, writable) and point the
  // directory entry of TEST at TEST_TABLE, with one page at FRAME_A.
  set32(pde(0), TABLE | P | W | U);
  for (let i = 0; i < 1024; i++) set32(TABLE + i * 4, (i << 12) | P | W);
  set32(pde(TEST), TEST_TABLE | P | W | U);
  set32(pte(TEST_TABLE, TEST), FRAME_A | P | W | U);
}

beforeEach(async () => { await machine(); });

describe('the walker (host view, no side effects)', () => {
  it('finds the frame through PDE and PTE and sets no A/D bits', () => {
    const walk = cpu.walk(TEST + 0x123, { directory: DIRECTORY });
    expect(walk).toMatchObject({ pdeAddress: pde(TEST), pteAddress: pte(TEST_TABLE, TEST), physical: FRAME_A + 0x123, large: false });
    expect(walk.faultCode).toBeUndefined();
    expect(u32(pde(TEST)) & A).toBe(0);
    expect(u32(pte(TEST_TABLE, TEST)) & A).toBe(0);
  });

  it('names the step that faults: a not-present PDE, a not-present PTE, a denied right', () => {
    expect(cpu.walk(0x80000000, { directory: DIRECTORY }).faultCode).toBe(0);
    set32(pte(TEST_TABLE, TEST), FRAME_A | W);
    expect(cpu.walk(TEST, { directory: DIRECTORY, access: 'write', user: true })).toMatchObject({ faultCode: 6, pte: FRAME_A | W });
    set32(pte(TEST_TABLE, TEST), FRAME_A | P | U);
    expect(cpu.walk(TEST, { directory: DIRECTORY, access: 'write', user: true }).faultCode).toBe(7);
    expect(cpu.walk(TEST, { directory: DIRECTORY, access: 'write' }).faultCode).toBeUndefined(); // CR0.WP = 0
    expect(cpu.walk(CODE, { directory: DIRECTORY, user: true }).faultCode).toBe(5); // supervisor page
  });

  it('4 MiB pages with CR4.PSE; PS is ignored without it', () => {
    set32(pde(0x00800000), 0x00c00000 | P | W | PS);
    cpu.setCr(4, CR4_PSE);
    expect(cpu.walk(0x00812345, { directory: DIRECTORY })).toMatchObject({ physical: 0x00c12345, large: true });
    cpu.setCr(4, 0);
    expect(cpu.walk(0x00812345, { directory: DIRECTORY }).large).toBe(false);
  });
});

describe('rights, A/D bits and #PF error codes, from guest code', () => {
  // mov eax, [TEST] / mov [TEST], eax / call TEST (at CPL 0 or 3)
  const READ = [0xa1, ...le(TEST)];
  const WRITE = [0xa3, ...le(TEST)];

  function le(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]; }

  function access(code: number[], user: boolean): ReturnType<Cpu['run']> {
    if (user) {
      // Ring-3 code and stack: user pages.
      set32(pte(TABLE, CODE), CODE | P | W | U);
      set32(pte(TABLE, STACK - 0x1000), (STACK - 0x1000) | P | W | U);
      cpu.setFlatProtectedMode(3);
    }
    load(code);
    return cpu.run(1);
  }

  const cases: [string, number, number, number[], boolean, number, number | null][] = [
    // name, PDE rights, PTE rights, code, user, CR0.WP, error code (null: no fault)
    ['supervisor read of a user page', P | W | U, P | U, READ, false, 0, null],
    ['supervisor write of a read-only page, WP=0', P | W | U, P | U, WRITE, false, 0, null],
    ['supervisor write of a read-only page, WP=1', P | W | U, P | U, WRITE, false, CR0_WP, 3],
    ['supervisor write with R/W clear in the PDE only, WP=1', P | U, P | W | U, WRITE, false, CR0_WP, 3],
    ['user read of a supervisor page (PTE)', P | W | U, P | W, READ, true, 0, 5],
    ['user read of a supervisor page (PDE)', P | W, P | W | U, READ, true, 0, 5],
    ['user write of a read-only page', P | W | U, P | U, WRITE, true, 0, 7],
    ['user read of a not-present page', P | W | U, W | U, READ, true, 0, 4],
    ['supervisor write of a not-present page', P | W | U, W | U, WRITE, false, 0, 2],
    ['supervisor read under a not-present PDE', W | U, P | W | U, READ, false, 0, 0],
    ['user write of a user page', P | W | U, P | W | U, WRITE, true, 0, null],
  ];
  it.each(cases)('%s', (_name, pdeRights, pteRights, code, user, wp, errorCode) => {
    set32(pde(TEST), TEST_TABLE | pdeRights);
    set32(pte(TEST_TABLE, TEST), FRAME_A | pteRights);
    paging(wp);
    set32(FRAME_A, 0x11223344);
    cpu.setReg(Reg.EAX, 0xcafef00d);
    const result = access(code, user);
    const pdeAfter = u32(pde(TEST)), pteAfter = u32(pte(TEST_TABLE, TEST));
    if (errorCode === null) {
      expect(result.reason).toBe('budget');
      expect(pteAfter & A).toBe(A);
      expect(pteAfter & D).toBe(code === WRITE ? D : 0);
      expect(pdeAfter & (A | D)).toBe(A); // D is never set in a PDE that points to a table
      if (code === WRITE) expect(u32(FRAME_A)).toBe(0xcafef00d);
      else expect(cpu.getReg(Reg.EAX)).toBe(0x11223344);
    } else {
      expect(result).toMatchObject({ reason: 'exception', vector: 14, errorCode, eip: CODE });
      expect(cpu.getCr(2)).toBe(TEST);
      expect(pteAfter & (A | D)).toBe(0);
      // The PDE was used to reach the table (as QEMU does) if it was present.
      expect(pdeAfter & A).toBe(pdeRights & P ? A : 0);
      expect(cpu.getReg(Reg.EAX)).toBe(0xcafef00d);
      expect(u32(FRAME_A)).toBe(0x11223344);
    }
  });

  it('a 4 MiB page: A and D land in the PDE', () => {
    set32(pde(TEST), FRAME_A & 0xffc00000 | 0x00400000 | P | W | PS);
    cpu.setCr(4, CR4_PSE);
    paging();
    load([0xc7, 0x05, ...le(TEST + 8), 0x78, 0x56, 0x34, 0x12]); // mov dword [TEST+8], 0x12345678
    expect(cpu.run(1).reason).toBe('budget');
    expect(u32(pde(TEST)) & (A | D)).toBe(A | D);
    expect(u32(0x00400008)).toBe(0x12345678);
  });
});

describe('restartable page faults', () => {
  beforeEach(() => { paging(); });

  it('a write across a page boundary into a missing page changes nothing; CR2 is the second page', () => {
    set32(pte(TEST_TABLE, TEST + 0x1000), 0);
    cpu.setReg(Reg.EAX, 0xaabbccdd);
    load([0xa3, 0xfe, 0x0f, 0x00, 0x40]); // mov [TEST+0xffe], eax
    expect(cpu.run(1)).toMatchObject({ reason: 'exception', vector: 14, errorCode: 2, eip: CODE });
    expect(cpu.getCr(2)).toBe(TEST + 0x1000);
    expect(u32(FRAME_A + 0xffc)).toBe(0);
  });

  it('PUSH and CALL with the stack page missing leave ESP alone', () => {
    set32(pte(TABLE, STACK - 0x1000), 0);
    cpu.setReg(Reg.EAX, 1);
    load([0x50]); // push eax
    expect(cpu.run(1)).toMatchObject({ reason: 'exception', vector: 14, errorCode: 2, eip: CODE });
    expect(cpu.getReg(Reg.ESP)).toBe(STACK);
    load([0xe8, 0, 0, 0, 0]); // call next
    expect(cpu.run(1)).toMatchObject({ reason: 'exception', vector: 14, eip: CODE });
    expect(cpu.getReg(Reg.ESP)).toBe(STACK);
    expect(cpu.getCr(2)).toBe(STACK - 4);
  });

  it('REP MOVSB into a missing page stops with ECX/ESI/EDI at the iteration that faulted', () => {
    set32(pte(TEST_TABLE, TEST + 0x1000), 0);
    for (let i = 0; i < 16; i++) cpu.ram[0x30000 + i] = i + 1;
    cpu.setReg(Reg.ESI, 0x30000);
    cpu.setReg(Reg.EDI, TEST + 0xffa);
    cpu.setReg(Reg.ECX, 16);
    load([0xfc, 0xf3, 0xa4]); // cld; rep movsb
    expect(cpu.run(100)).toMatchObject({ reason: 'exception', vector: 14, errorCode: 2, eip: CODE + 1 });
    expect([cpu.getReg(Reg.ECX), cpu.getReg(Reg.ESI), cpu.getReg(Reg.EDI)]).toEqual([10, 0x30006, TEST + 0x1000]);
    expect([...cpu.ram.subarray(FRAME_A + 0xffa, FRAME_A + 0x1000)]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('an instruction fetch from a missing page: error code 0 (I/D stays 0 without NX), CR2 = EIP', () => {
    set32(pte(TEST_TABLE, TEST), 0);
    load([0xe9, ...[TEST - (CODE + 5)].flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24])]); // jmp TEST
    expect(cpu.run(2)).toMatchObject({ reason: 'exception', vector: 14, errorCode: 0, eip: TEST });
    expect(cpu.getCr(2)).toBe(TEST);
  });
});

describe('the TLB', () => {
  const READ_TEST = [0xa1, 0x00, 0x00, 0x00, 0x40]; // mov eax, [TEST]
  beforeEach(() => {
    paging();
    set32(FRAME_A, 0xaaaaaaaa);
    set32(FRAME_B, 0xbbbbbbbb);
  });

  function read(): number {
    load(READ_TEST);
    const r = cpu.run(1);
    if (r.reason !== 'budget') return -r.vector!;
    return cpu.getReg(Reg.EAX);
  }

  it('keeps a stale translation after a PTE edit until INVLPG', () => {
    expect(read()).toBe(0xaaaaaaaa);
    set32(pte(TEST_TABLE, TEST), FRAME_B | P | W);
    expect(read()).toBe(0xaaaaaaaa); // stale, as the SDM allows and hardware does
    set32(pte(TEST_TABLE, TEST), 0);
    expect(read()).toBe(0xaaaaaaaa); // still cached though now not present
    load([0x0f, 0x01, 0x3d, 0x00, 0x00, 0x00, 0x40]); // invlpg [TEST]
    cpu.run(1);
    expect(read()).toBe(-14);
  });

  it('a CR3 load drops non-global entries and keeps global ones (CR4.PGE); clearing PGE drops them', () => {
    cpu.setCr(4, CR4_PGE);
    set32(pte(TEST_TABLE, TEST), FRAME_A | P | W | G);
    expect(read()).toBe(0xaaaaaaaa);
    set32(pte(TEST_TABLE, TEST), FRAME_B | P | W | G);
    cpu.setCr(3, DIRECTORY);
    expect(read()).toBe(0xaaaaaaaa); // global: survives
    cpu.setCr(4, 0);
    expect(read()).toBe(0xbbbbbbbb);
    set32(pte(TEST_TABLE, TEST), FRAME_A | P | W);
    cpu.setCr(3, DIRECTORY);
    expect(read()).toBe(0xaaaaaaaa);
  });

  it('sets D on the first write through an entry a read filled, walking again', () => {
    expect(read()).toBe(0xaaaaaaaa);
    expect(u32(pte(TEST_TABLE, TEST)) & (A | D)).toBe(A);
    const walks = cpu.tlbCounters().walks;
    load([0xa3, 0x00, 0x00, 0x00, 0x40]); // mov [TEST], eax
    cpu.run(1);
    expect(u32(pte(TEST_TABLE, TEST)) & (A | D)).toBe(A | D);
    expect(cpu.tlbCounters().walks).toBe(walks + 1);
  });

  it('a stale entry whose rights deny the access faults once and is dropped (SDM 4.10.4.1)', () => {
    set32(pte(TEST_TABLE, TEST), FRAME_A | P);
    cpu.setCr(0, cpu.getCr(0) | CR0_WP);
    expect(read()).toBe(0xaaaaaaaa);
    set32(pte(TEST_TABLE, TEST), FRAME_A | P | W); // now writable, no INVLPG
    load([0xa3, 0x00, 0x00, 0x00, 0x40]); // mov [TEST], eax
    expect(cpu.run(1)).toMatchObject({ reason: 'exception', vector: 14, errorCode: 3 });
    expect(cpu.run(1).reason).toBe('budget'); // the fault dropped the entry: the retry walks
  });

  it('lists its entries and evicts FIFO within a set of the data TLB', () => {
    expect(cpu.setTlbGeometry('data-4k', { entries: 4, ways: 2 })).toBe(true);
    expect(cpu.setTlbGeometry('data-4k', { entries: 6, ways: 4 })).toBe(false);
    // Pages 0x40000, 0x40002, 0x40004 (page numbers) share set 0 of 2 sets.
    for (const n of [0, 2, 4]) set32(pte(TEST_TABLE, TEST + n * 0x1000), (FRAME_A + n * 0x1000) | P | W);
    const before = cpu.tlbCounters().evictions;
    for (const n of [0, 2, 4]) {
      load([0xa1, ...[TEST + n * 0x1000].flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24])]);
      cpu.run(1);
    }
    const data = cpu.tlbEntries().filter((e) => e.tlb === 'data-4k').map((e) => e.linear);
    expect(data).toContain(TEST + 0x2000);
    expect(data).toContain(TEST + 0x4000);
    expect(data).not.toContain(TEST); // the oldest of the set went
    expect(cpu.tlbCounters().evictions).toBe(before + 1);
  });
});

describe('page faults delivered through the IDT', () => {
  beforeEach(async () => {
    await machine(true);
    // GDT: null, ring-0 code 0x08, ring-0 data 0x10.
    set32(GDT + 8, 0x0000ffff); set32(GDT + 12, 0x00cf9b00);
    set32(GDT + 16, 0x0000ffff); set32(GDT + 20, 0x00cf9300);
    cpu.setGdtr(GDT, 23);
    // #PF handler: map the page at CR2 (PTE = FRAME_A | P | W), drop the error code, IRET.
    set32(IDT + 14 * 8, (0x08 << 16) | HANDLERS);
    set32(IDT + 14 * 8 + 4, 0x00008e00);
    cpu.setIdtr(IDT, 0x7ff);
    cpu.ram.set([
      0x50,                                       // push eax
      0xc7, 0x05, ...le32(pte(TEST_TABLE, TEST)), ...le32(FRAME_A | P | W), // mov dword [pte], FRAME_A|P|W
      0x0f, 0x20, 0xd0,                           // mov eax, cr2
      0x0f, 0x01, 0x38,                           // invlpg [eax]
      0x58,                                       // pop eax
      0x83, 0xc4, 0x04,                           // add esp, 4
      0xcf,                                       // iret
    ], HANDLERS);
    set32(pte(TEST_TABLE, TEST), 0);
    paging();
  });

  function le32(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]; }

  it('the handler maps the page and the faulting instruction completes', () => {
    set32(FRAME_A, 0x5a5a5a5a);
    load([0xa1, 0x00, 0x00, 0x00, 0x40, 0xf4]); // mov eax, [TEST]; hlt
    expect(cpu.run(100).reason).toBe('halt');
    expect(cpu.getReg(Reg.EAX)).toBe(0x5a5a5a5a);
    expect(cpu.getReg(Reg.ESP)).toBe(STACK);
    expect(cpu.tlbCounters().pageFaults).toBe(1);
  });

  it('a missing stack page while delivering #PF makes #DF, then a triple fault with no #DF gate', () => {
    set32(pte(TABLE, STACK - 0x1000), 0);
    load([0xa1, 0x00, 0x00, 0x00, 0x40]);
    expect(cpu.run(100).reason).toBe('triple-fault');
  });

  it('single steps (a debugger\'s): the fault is delivered and the step stops at the handler', () => {
    load([0xa1, 0x00, 0x00, 0x00, 0x40]);
    expect(cpu.step()).toMatchObject({ reason: 'delivered', vector: 14, eip: HANDLERS });
    expect(cpu.getReg(Reg.ESP)).toBe(STACK - 16);
    expect(u32(STACK - 16)).toBe(0); // error code: not present, read, supervisor
    expect(u32(STACK - 12)).toBe(CODE);
    set32(pte(TABLE, STACK - 0x1000), 0);
    cpu.setReg(Reg.ESP, STACK);
    set32(pte(TEST_TABLE, TEST), 0);
    cpu.setCr(3, DIRECTORY); // the TLB still held the stack page
    load([0xa1, 0x00, 0x00, 0x00, 0x40]);
    expect(cpu.step().reason).toBe('triple-fault');
  });
});

describe('REP INSW with paging (the bulk path a disk driver takes)', () => {
  it('moves the data into the frame the page maps, and reads no port when the page is missing', async () => {
    let portReads = 0;
    cpu = await Cpu.create({
      ramBytes: 1 << 23,
      translate: false,
      ports: {
        portIn: () => { portReads++; return 0x1234; },
        portOut: () => {},
        portInBlock: (_port, _size, count, address) => {
          for (let i = 0; i < count; i++) cpu.ram[address + 2 * i] = i & 0xff, cpu.ram[address + 2 * i + 1] = 0xab;
          portReads += count;
          return count;
        },
      },
    });
    view = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
    cpu.setFlatProtectedMode(0);
    cpu.setReg(Reg.ESP, STACK);
    set32(pde(0), TABLE | P | W);
    for (let i = 0; i < 1024; i++) set32(TABLE + i * 4, (i << 12) | P | W);
    set32(pde(TEST), TEST_TABLE | P | W);
    set32(pte(TEST_TABLE, TEST), FRAME_B | P | W);
    paging();
    cpu.setReg(Reg.EDI, TEST);
    cpu.setReg(Reg.ECX, 256);
    cpu.setReg(Reg.EDX, 0x1f0);
    load([0xfc, 0x66, 0xf3, 0x6d]); // cld; rep insw
    expect(cpu.run(1000).reason).toBe('budget');
    expect(cpu.getReg(Reg.ECX)).toBe(0);
    expect([cpu.ram[FRAME_B + 2], cpu.ram[FRAME_B + 3], cpu.ram[FRAME_B + 510]]).toEqual([1, 0xab, 255]);
    expect(u32(pte(TEST_TABLE, TEST)) & (A | D)).toBe(A | D);
    expect(portReads).toBe(256);

    set32(pte(TEST_TABLE, TEST + 0x1000), 0);
    cpu.setReg(Reg.EDI, TEST + 0x1000);
    cpu.setReg(Reg.ECX, 256);
    load([0xfc, 0x66, 0xf3, 0x6d]);
    expect(cpu.run(1000)).toMatchObject({ reason: 'exception', vector: 14, errorCode: 2, eip: CODE + 1 });
    expect(cpu.getReg(Reg.ECX)).toBe(256);
    expect(portReads).toBe(256); // the device lost nothing
  });
});
