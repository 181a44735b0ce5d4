#!/usr/bin/env node
// Atlas386 real-hardware oracle: generates CPU instruction test fixtures by
// running every case natively on the host x86 CPU (see README.md).
//
//   node test/cpu/oracle/generate.mjs            # writes test/cpu/fixtures/*.jsonl.gz
//   node test/cpu/oracle/generate.mjs --check    # run everything, write nothing
//
// Deterministic: every form has its own PRNG seeded from its name, so the
// output is bit-identical on every run (and on every x86 host that agrees
// on the defined behaviour).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, readdirSync, unlinkSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUTDIR = path.resolve(HERE, '../fixtures');
const CHECK_ONLY = process.argv.includes('--check');

// ---------------------------------------------------------------- environment
const DATA = 0x00100000, DATASZ = 0x2000, CODE = 0x00110000, CODESZ = 0x1000, DEFAULT_EIP = 0x00110800;
// Second data region and second code page inside the first 64 KiB (reachable with 16-bit
// addressing / 16-bit operand-size branches). Linux maps down to vm.mmap_min_addr (4096).
const LOW = 0x00008000, LOWSZ = 0x2000, LCODE = 0x0000c000, LOW_EIP = 0x0000c800;
const inData = (a, n) => a >= DATA && a + n <= DATA + DATASZ;
const inLow = (a, n) => a >= LOW && a + n <= LOW + LOWSZ;
const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
const FULL = 0xfff;                 // compare EFLAGS bits 0..11
const STATUS = CF | PF | AF | ZF | SF | OF;
const STD_SREGS = [0x2b, 0x23, 0x2b, 0x2b, 0, 0]; // ES CS SS DS FS GS as Linux gives a 32-bit process

// ---------------------------------------------------------------- PRNG
function hashStr(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return h >>> 0;
}
class Rng { // sfc32
  constructor(seed) { this.a = 0x9e3779b9; this.b = 0x243f6a88; this.c = 0xb7e15162; this.d = seed >>> 0; for (let i = 0; i < 20; i++) this.u32(); }
  u32() {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  int(n) { return Math.floor((this.u32() / 4294967296) * n); }
  range(a, b) { return a + this.int(b - a + 1); }
  bool(p = 0.5) { return this.u32() / 4294967296 < p; }
  pick(a) { return a[this.int(a.length)]; }
  big(bits) { let v = 0n; for (let i = 0; i < bits; i += 32) v = (v << 32n) | BigInt(this.u32()); return v & ((1n << BigInt(bits)) - 1n); }
}

const EDGE = [0, 1, 2, 3, 0x0f, 0x10, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x100, 0x7ffe, 0x7fff, 0x8000, 0x8001,
  0xfffe, 0xffff, 0x10000, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x55555555,
  0xaaaaaaaa, 0x12345678, 0x0000ff00, 0x00ff00ff];
const maskOf = (w) => (w === 32 ? 0xffffffff : (1 << w) - 1);
// A value whose low w bits are "interesting"; the bits above w are random.
function val(r, w) {
  const m = maskOf(w);
  let lo;
  const k = r.int(20);
  if (k < 9) lo = r.u32();
  else if (k < 16) lo = r.pick(EDGE);
  else if (k < 18) lo = r.int(16);
  else lo = -r.range(1, 16);
  lo = (lo & m) >>> 0;
  if (w === 32) return lo;
  return ((r.u32() & ~m) | lo) >>> 0;
}
function randFlags(r) {
  let f = 0x202;
  for (const b of [CF, PF, AF, ZF, SF, DF, OF]) if (r.bool()) f |= b;
  return f;
}
const le = (v, n) => { const a = []; for (let i = 0; i < n; i++) a.push(Number((BigInt(v) >> BigInt(8 * i)) & 0xffn)); return a; };
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const s8 = (v) => (v << 24) >> 24;

// Initial DATA and LOW images exactly as the runner (and the emulator harness) build them:
// one xorshift32 sequence, words 0..2047 -> DATA, words 2048..4095 -> LOW.
function fillImages(seed) {
  const data = new Uint8Array(DATASZ), low = new Uint8Array(LOWSZ);
  let x = seed >>> 0 || 1;
  for (const img of [data, low]) {
    const dv = new DataView(img.buffer);
    for (let i = 0; i < img.length / 4; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      dv.setUint32(i * 4, x, true);
    }
  }
  return { data, low };
}

// ---------------------------------------------------------------- case builder
class Case {
  constructor(r) {
    this.r = r;
    this.seed = r.u32();
    this.regs = Array.from({ length: 8 }, () => val(r, 32));
    this.regs[ESP] = (DATA + 0x1000 + 4 * r.range(-0x300, 0x300)) >>> 0;
    this.eflags = randFlags(r);
    this.mem = [];
    this.eip = DEFAULT_EIP;
    this.code = [];
    this.pinned = new Set([ESP]);
    this.fm = FULL;          // number, or function(out) -> number
    this.vectors = [-1];     // vectors the form may legitimately produce
    this.branch = false;     // EIP after is not simply eip+len
    this.sregs = false;      // record segment registers in out
    this.undefRegs = null;
    this.expectEip = null;   // optional list of the EIPs the generator's model allows (self-check)
  }
  pin(reg, v) { this.regs[reg] = v >>> 0; this.pinned.add(reg); }
  set(reg, v) { if (!this.pinned.has(reg)) this.regs[reg] = v >>> 0; }
  setW(reg, w, v) {
    if (w === 32) return this.set(reg, v);
    if (w === 16) { if (!this.pinned.has(reg)) this.regs[reg] = ((this.regs[reg] & 0xffff0000) | (v & 0xffff)) >>> 0; return; }
    const r32 = reg & 3, sh = reg & 4 ? 8 : 0;
    if (!this.pinned.has(r32)) this.regs[r32] = ((this.regs[r32] & ~(0xff << sh)) | ((v & 0xff) << sh)) >>> 0;
  }
  getW(reg, w) {
    if (w === 32) return this.regs[reg];
    if (w === 16) return this.regs[reg] & 0xffff;
    return (this.regs[reg & 3] >>> (reg & 4 ? 8 : 0)) & 0xff;
  }
  write(addr, bytes) {
    if (!inData(addr, bytes.length) && !inLow(addr, bytes.length)) throw new Error(`override outside DATA/LOW ${addr.toString(16)}`);
    this.mem.push([addr >>> 0, bytes.slice()]);
  }
  writeN(addr, v, n) { this.write(addr, le(v, n)); }
  images() { // full initial DATA and LOW images: seed fill, overrides, register image at ESP-36
    const { data, low } = fillImages(this.seed);
    for (const [a, b] of this.mem) if (inData(a, b.length)) data.set(b, a - DATA); else low.set(b, a - LOW);
    const dv = new DataView(data.buffer);
    const R = this.regs, o = R[ESP] - 36 - DATA;
    [R[EDI], R[ESI], R[EBP], R[ESP], R[EBX], R[EDX], R[ECX], R[EAX], this.eflags].forEach((v, i) => dv.setUint32(o + 4 * i, v, true));
    return { data, low };
  }
  image() { return this.images().data; }
  lowImage() { return this.images().low; }
  // n bytes at addr from an initial image (LOW addresses always read the LOW image)
  readN(img, addr, n) {
    let base = DATA;
    if (inLow(addr, n)) { img = this.lowImage(); base = LOW; }
    let v = 0n; for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(img[addr - base + i]); return Number(v);
  }
}

// ---------------------------------------------------------------- addressing
// 32-bit ModRM/SIB memory operand whose effective address lands in [lo, hi].
function pattern32(r) {
  if (r.int(10) < 4) return { mod: r.int(3), rm: r.pick([0, 1, 2, 3, 5, 6, 7]) };
  return { mod: r.int(3), rm: 4, base: r.int(8), index: r.int(8), scale: r.int(4) };
}
function patternName(p) {
  const R = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
  if (p.rm !== 4) return p.mod === 0 && p.rm === 5 ? 'addr32 mod=0 [disp32]' : `addr32 mod=${p.mod} [${R[p.rm]}${p.mod ? '+disp' + (p.mod === 1 ? 8 : 32) : ''}]`;
  const base = p.mod === 0 && p.base === 5 ? 'disp32' : R[p.base];
  const idx = p.index === 4 ? 'noindex' : `${R[p.index]}*${1 << p.scale}`;
  const d = p.mod === 0 ? '' : p.mod === 1 ? '+disp8' : '+disp32';
  return `addr32 mod=${p.mod} sib [${base}+${idx}${d}]` + (p.index === 4 && p.scale ? ` scale=${1 << p.scale}` : '');
}
function memOperand(c, regField, size, opt = {}) {
  const r = c.r;
  const lo = opt.lo ?? DATA, hi = opt.hi ?? DATA + DATASZ - size;
  const avoid = opt.avoid ?? [];
  for (let tries = 0; tries < 10000; tries++) {
    const p = opt.pattern ?? pattern32(r);
    let base, index = null, scale = 0, dsz;
    if (p.rm !== 4) {
      if (p.mod === 0 && p.rm === 5) { base = null; dsz = 4; } else { base = p.rm; dsz = [0, 1, 4][p.mod]; }
    } else {
      base = p.mod === 0 && p.base === 5 ? null : p.base;
      index = p.index === 4 ? null : p.index;
      scale = p.scale;
      dsz = p.mod === 0 ? (p.base === 5 ? 4 : 0) : [0, 1, 4][p.mod];
    }
    if (!opt.pattern && ((base !== null && base !== ESP && avoid.includes(base)) || (index !== null && avoid.includes(index)))) continue;
    const s = 1 << scale;
    const fixed = (g) => c.pinned.has(g);
    const shared = base !== null && index !== null && base === index;
    let A = lo + r.int(hi - lo + 1);
    let disp = 0, bv = 0, iv = 0;
    const randDisp = () => (dsz === 1 ? s8(r.u32()) : dsz === 4 ? (r.bool(0.6) ? r.range(-0x1000, 0x1000) : r.u32() | 0) : 0);
    if (index !== null && !shared) {
      if (fixed(index)) iv = c.regs[index];
      else {
        const k = r.int(4);
        const free = dsz === 4 || (base !== null && !fixed(base));
        iv = k < 2 ? r.range(-0x200, 0x200) : k < 3 ? r.range(0, 0x800) : free ? r.u32() | 0 : r.range(-0x100, 0x100);
      }
    }
    if (base !== null && !shared && !fixed(base)) {
      disp = randDisp();
      bv = (A - Math.imul(iv, s) - disp) >>> 0;
    } else if (dsz === 4) {
      if (shared) { iv = bv = fixed(base) ? c.regs[base] : (r.bool() ? r.u32() : r.range(0, 0x100000)); }
      else if (base !== null) bv = c.regs[base];
      disp = (A - bv - Math.imul(iv, s)) | 0;
    } else {
      disp = randDisp();
      if (shared) {
        if (fixed(base)) bv = iv = c.regs[base];
        else { bv = iv = Math.floor((A - disp) / (1 + s)); }
      } else {
        bv = c.regs[base];
        if (index !== null && !fixed(index)) iv = Math.round((A - bv - disp) / s);
      }
      A = (bv + Math.imul(iv, s) + disp) >>> 0;
      if (A < lo || A > hi) continue;
    }
    if (base !== null) c.pin(base, bv);
    if (index !== null) c.pin(index, iv);
    const bytes = [(p.mod << 6) | (regField << 3) | p.rm];
    if (p.rm === 4) bytes.push((scale << 6) | ((p.index ?? 4) << 3) | p.base);
    bytes.push(...le(disp >>> 0, dsz));
    return { bytes, ea: A >>> 0, isMem: true, pattern: p };
  }
  throw new Error('memOperand: no solution');
}
// 16-bit addressing (0x67) — only used where no memory is accessed (LEA, NOP).
function memOperand16(c, regField, mod = c.r.int(3), rm = c.r.int(8)) {
  const r = c.r;
  const bytes = [(mod << 6) | (regField << 3) | rm];
  if (mod === 1) bytes.push(r.int(256));
  else if (mod === 2 || (mod === 0 && rm === 6)) bytes.push(...le(r.pick([0, 1, 0x7fff, 0x8000, 0xffff, r.int(0x10000), r.int(0x10000)]), 2));
  return { bytes, isMem: true };
}

// Generic ModRM instruction. regField: number, or 'r' for a random register operand.
function emitRM(c, w, opc, isMem, regField, immBits = 0, opt = {}) {
  const r = c.r;
  const reg = regField === 'r' ? (opt.reg ?? r.int(8)) : regField;
  const size = opt.size ?? w / 8;
  let rmInfo;
  if (isMem && opt.a16) rmInfo = memOperand16Mem(c, reg, size, opt.a16 === true ? {} : opt.a16);
  else if (isMem) rmInfo = memOperand(c, reg, size, opt);
  else {
    let rm = opt.rm ?? r.int(8);
    rmInfo = { bytes: [0xc0 | (reg << 3) | rm], rm, isMem: false };
  }
  const rw = opt.regW ?? w;
  if (regField === 'r' && !opt.noRegVal) c.setW(reg, rw, val(r, rw));
  if (isMem) { if (!opt.noRmVal && r.bool(0.6)) c.writeN(rmInfo.ea, val(r, size * 8), size); }
  else if (!opt.noRmVal) c.setW(rmInfo.rm, size * 8, val(r, size * 8));
  let imm = [];
  if (immBits) { c.imm = val(r, immBits) & maskOf(immBits); if (opt.imm !== undefined) c.imm = opt.imm; imm = le(c.imm >>> 0, immBits / 8); }
  const p66 = w === 16 && !opt.no66 ? [0x66] : [];
  const pfx = isMem && opt.a16 ? (p66.length && r.bool() ? [0x66, 0x67] : [0x67, ...p66]) : p66;
  c.code = [...(opt.prefix ?? []), ...pfx, ...opc, ...rmInfo.bytes, ...imm];
  return { reg, ...rmInfo };
}

// ---------------------------------------------------------------- form registry
const forms = [];
// every form gets at least 50 cases, except the exhaustive addressing patterns (12 each, 2 per instruction)
function F(group, name, count, gen) { forms.push({ group, name, count: group === 'addr' && name.startsWith('addr32') ? count : Math.max(count, 50), gen }); }
const WNAME = { 8: ['r8', 'r/m8', 'imm8'], 16: ['r16', 'r/m16', 'imm16'], 32: ['r32', 'r/m32', 'imm32'] };
const MR = (isMem) => (isMem ? 'mem' : 'reg');
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

// ---------------------------------------------------------------- ALU
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const NALU = 120;
ALU.forEach((op, k) => {
  const fm = FULL & ~(op === 'and' || op === 'or' || op === 'xor' ? AF : 0);
  for (const isMem of [false, true]) {
    for (const w of [8, 16, 32]) {
      const [rn, rmn, imn] = WNAME[w];
      const o = w === 8 ? 0 : 1;
      F('alu', `${op} ${rmn},${rn} ${MR(isMem)}`, NALU, (c) => { c.fm = fm; emitRM(c, w, [k * 8 + o], isMem, 'r'); });
      F('alu', `${op} ${rn},${rmn} ${MR(isMem)}`, NALU, (c) => { c.fm = fm; emitRM(c, w, [k * 8 + 2 + o], isMem, 'r'); });
      F('alu', `${op} ${rmn},${imn} ${MR(isMem)}`, NALU, (c) => { c.fm = fm; emitRM(c, w, [w === 8 ? 0x80 : 0x81], isMem, k, w); });
      if (w !== 8) F('alu', `${op} ${rmn},imm8 ${MR(isMem)}`, NALU, (c) => { c.fm = fm; emitRM(c, w, [0x83], isMem, k, 8); });
    }
  }
  F('alu', `${op} al,imm8`, NALU, (c) => { c.fm = fm; c.setW(EAX, 8, val(c.r, 8)); c.code = [k * 8 + 4, c.r.int(256)]; if (c.r.bool(0.4)) c.code[1] = val(c.r, 8) & 0xff; });
  F('alu', `${op} ax,imm16`, NALU, (c) => { c.fm = fm; c.setW(EAX, 16, val(c.r, 16)); c.code = [0x66, k * 8 + 5, ...le(val(c.r, 16) & 0xffff, 2)]; });
  F('alu', `${op} eax,imm32`, NALU, (c) => { c.fm = fm; c.code = [k * 8 + 5, ...le(val(c.r, 32), 4)]; });
});
for (const isMem of [false, true]) {
  for (const w of [8, 16, 32]) {
    const [rn, rmn, imn] = WNAME[w];
    const o = w === 8 ? 0 : 1;
    F('alu', `test ${rmn},${rn} ${MR(isMem)}`, NALU, (c) => { c.fm = FULL & ~AF; emitRM(c, w, [0x84 + o], isMem, 'r'); });
    F('alu', `test ${rmn},${imn} ${MR(isMem)}`, NALU, (c) => { c.fm = FULL & ~AF; emitRM(c, w, [0xf6 + o], isMem, 0, w); });
    ['inc', 'dec'].forEach((op, k) => F('alu', `${op} ${rmn} ${MR(isMem)}`, NALU, (c) => emitRM(c, w, [0xfe + o], isMem, k)));
    ['not', 'neg'].forEach((op, k) => F('alu', `${op} ${rmn} ${MR(isMem)}`, NALU, (c) => emitRM(c, w, [0xf6 + o], isMem, k + 2)));
  }
}
F('alu', 'test al,imm8', NALU, (c) => { c.fm = FULL & ~AF; c.setW(EAX, 8, val(c.r, 8)); c.code = [0xa8, val(c.r, 8) & 0xff]; });
F('alu', 'test ax,imm16', NALU, (c) => { c.fm = FULL & ~AF; c.setW(EAX, 16, val(c.r, 16)); c.code = [0x66, 0xa9, ...le(val(c.r, 16) & 0xffff, 2)]; });
F('alu', 'test eax,imm32', NALU, (c) => { c.fm = FULL & ~AF; c.code = [0xa9, ...le(val(c.r, 32), 4)]; });
for (const [w, p] of [[16, [0x66]], [32, []]]) {
  for (let reg = 0; reg < 8; reg++) {
    const nm = w === 16 ? ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'][reg] : ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'][reg];
    F('alu', `inc ${nm} (${(0x40 + reg).toString(16)})`, 40, (c) => { c.setW(reg, w, val(c.r, w)); c.code = [...p, 0x40 + reg]; });
    F('alu', `dec ${nm} (${(0x48 + reg).toString(16)})`, 40, (c) => { c.setW(reg, w, val(c.r, w)); c.code = [...p, 0x48 + reg]; });
  }
}

// ---------------------------------------------------------------- addressing forms (exhaustive)
{
  const ops = [
    (c, p) => emitRM(c, 32, [0x8b], true, 'r', 0, { pattern: p }),            // mov r32,[m]
    (c, p) => emitRM(c, 32, [0x01], true, 'r', 0, { pattern: p }),            // add [m],r32
    (c, p) => emitRM(c, 8, [0x88], true, 'r', 0, { pattern: p }),             // mov [m],r8
    (c, p) => emitRM(c, 16, [0x3b], true, 'r', 0, { pattern: p }),            // cmp r16,[m]
    (c, p) => emitRM(c, 32, [0x0f, 0xb6], true, 'r', 0, { pattern: p, size: 1 }), // movzx r32,byte [m]
    (c, p) => { c.fm = FULL & ~AF; emitRM(c, 32, [0x83], true, 6, 8, { pattern: p }); }, // xor dword [m],imm8
  ];
  const pats = [];
  for (let mod = 0; mod < 3; mod++) for (const rm of [0, 1, 2, 3, 5, 6, 7]) pats.push({ mod, rm });
  for (let mod = 0; mod < 3; mod++) for (let base = 0; base < 8; base++) for (let index = 0; index < 8; index++) for (let scale = 0; scale < 4; scale++) pats.push({ mod, rm: 4, base, index, scale });
  for (const p of pats) {
    let i = 0;
    F('addr', patternName(p), 12, (c) => ops[i++ % ops.length](c, p));
  }
  // 16-bit addressing via 0x67: LEA computes the (16-bit, wrapping) effective address without touching memory
  const R16 = ['bx+si', 'bx+di', 'bp+si', 'bp+di', 'si', 'di', 'bp', 'bx'];
  for (let mod = 0; mod < 3; mod++) for (let rm = 0; rm < 8; rm++) {
    const nm = mod === 0 && rm === 6 ? '[disp16]' : `[${R16[rm]}${mod ? '+disp' + (mod === 1 ? 8 : 16) : ''}]`;
    let i = 0;
    F('addr', `addr16 (67) lea mod=${mod} ${nm}`, 30, (c) => {
      const reg = c.r.int(8), w16 = i++ % 3 === 2;
      const m = memOperand16(c, reg, mod, rm);
      c.code = [...(w16 ? [0x66] : []), 0x67, 0x8d, ...m.bytes];
    });
  }
}

// ---------------------------------------------------------------- data movement
const NDATA = 100;
for (const isMem of [false, true]) {
  for (const w of [8, 16, 32]) {
    const [rn, rmn, imn] = WNAME[w];
    const o = w === 8 ? 0 : 1;
    F('data', `mov ${rmn},${rn} ${MR(isMem)}`, NDATA, (c) => emitRM(c, w, [0x88 + o], isMem, 'r'));
    F('data', `mov ${rn},${rmn} ${MR(isMem)}`, NDATA, (c) => emitRM(c, w, [0x8a + o], isMem, 'r'));
    F('data', `mov ${rmn},${imn} ${MR(isMem)}`, NDATA, (c) => emitRM(c, w, [0xc6 + o], isMem, 0, w));
    F('data', `xchg ${rmn},${rn} ${MR(isMem)}`, NDATA, (c) => emitRM(c, w, [0x86 + o], isMem, 'r'));
    F('data', `xadd ${rmn},${rn} ${MR(isMem)}`, NDATA, (c) => emitRM(c, w, [0x0f, 0xc0 + o], isMem, 'r'));
    F('data', `cmpxchg ${rmn},${rn} ${MR(isMem)}`, NDATA, (c) => {
      const m = emitRM(c, w, [0x0f, 0xb0 + o], isMem, 'r', 0, { avoid: [EAX] });
      if (c.r.bool(0.5)) { // make the accumulator equal to the destination
        if (isMem) { const v = c.readN(c.image(), m.ea, w / 8); c.setW(EAX, w, v); }
        else c.setW(EAX, w, c.getW(m.rm, w));
      }
    });
  }
  for (const w of [16, 32]) {
    const [rn, rmn] = WNAME[w];
    F('data', `movzx ${rn},r/m8 ${MR(isMem)}`, NDATA, (c) => emitRM(c, w, [0x0f, 0xb6], isMem, 'r', 0, { size: 1 }));
    F('data', `movsx ${rn},r/m8 ${MR(isMem)}`, NDATA, (c) => emitRM(c, w, [0x0f, 0xbe], isMem, 'r', 0, { size: 1 }));
    F('data', `movzx ${rn},r/m16 ${MR(isMem)}`, NDATA, (c) => emitRM(c, w, [0x0f, 0xb7], isMem, 'r', 0, { size: 2 }));
    F('data', `movsx ${rn},r/m16 ${MR(isMem)}`, NDATA, (c) => emitRM(c, w, [0x0f, 0xbf], isMem, 'r', 0, { size: 2 }));
  }
}
for (const w of [8, 16, 32]) {
  const p = w === 16 ? [0x66] : [];
  for (let reg = 0; reg < 8; reg++) {
    const nm = w === 8 ? ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'][reg] : w === 16 ? ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'][reg] : ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'][reg];
    F('data', `mov ${nm},imm${w}`, 30, (c) => { c.code = [...p, (w === 8 ? 0xb0 : 0xb8) + reg, ...le(val(c.r, w) & maskOf(w), w / 8)]; });
    if (w !== 8 && reg !== 0) F('data', `xchg ${w === 16 ? 'ax' : 'eax'},${nm}`, 30, (c) => { c.setW(reg, w, val(c.r, w)); c.code = [...p, 0x90 + reg]; });
  }
  const moffs = (c) => { const a = c.r.range(DATA, DATA + DATASZ - w / 8); if (c.r.bool(0.5)) c.writeN(a, val(c.r, w), w / 8); return le(a, 4); };
  F('data', `mov ${['al', 'ax', 'eax'][[8, 16, 32].indexOf(w)]},moffs${w}`, NDATA, (c) => { c.code = [...p, w === 8 ? 0xa0 : 0xa1, ...moffs(c)]; });
  F('data', `mov moffs${w},${['al', 'ax', 'eax'][[8, 16, 32].indexOf(w)]}`, NDATA, (c) => { c.setW(EAX, w, val(c.r, w)); c.code = [...p, w === 8 ? 0xa2 : 0xa3, ...moffs(c)]; });
}
F('data', 'xchg eax,eax (90 = nop)', 30, (c) => { c.code = [0x90]; });
// MOV r/m, Sreg (8C): register form writes the zero-extended selector (32-bit opsize), memory form writes 16 bits
const SREG = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
for (let s = 0; s < 6; s++) {
  F('data', `mov r32,${SREG[s]} (8c)`, 40, (c) => emitRM(c, 32, [0x8c], false, s));
  F('data', `mov r16,${SREG[s]} (66 8c)`, 40, (c) => emitRM(c, 16, [0x8c], false, s));
  F('data', `mov m16,${SREG[s]} (8c)`, 40, (c) => emitRM(c, 16, [0x8c], true, s, 0, { no66: c.r.bool() }));
}
// MOV Sreg, r/m16 (8E) with valid selectors only
for (const s of [0, 2, 3, 4, 5]) {
  const sels = s === 2 ? [0x2b] : [0x2b, 0];
  for (const isMem of [false, true]) {
    F('data', `mov ${SREG[s]},r/m16 ${MR(isMem)}`, 40, (c) => {
      c.sregs = true;
      const sel = c.r.pick(sels);
      const m = emitRM(c, 16, [0x8e], isMem, s, 0, { no66: c.r.bool(0.7), noRmVal: true, rm: c.r.pick([0, 1, 2, 3, 5, 6, 7]) });
      if (isMem) { c.writeN(m.ea, sel, 2); if (c.readN(c.image(), m.ea, 2) !== sel) c.fm = -1; } // selector clobbered by the register image: retry
      else c.set(m.rm, (c.regs[m.rm] & 0xffff0000) | sel); // upper bits are ignored
      if (!isMem && c.pinned.has(m.rm)) throw new Error('unexpected pin');
    });
  }
}
for (const w of [16, 32]) {
  const [rn] = WNAME[w];
  F('data', `lea ${rn},m (addr32, in DATA)`, NDATA, (c) => emitRM(c, w, [0x8d], true, 'r'));
  F('data', `lea ${rn},m (addr32, any regs)`, NDATA, (c) => {
    const reg = c.r.int(8); const p = pattern32(c.r);
    const bytes = [(p.mod << 6) | (reg << 3) | p.rm];
    if (p.rm === 4) bytes.push((p.scale << 6) | (p.index << 3) | p.base);
    const dsz = p.mod === 1 ? 1 : p.mod === 2 || (p.mod === 0 && (p.rm === 5 || (p.rm === 4 && p.base === 5))) ? 4 : 0;
    bytes.push(...le(dsz === 1 ? c.r.int(256) : val(c.r, 32), dsz));
    c.code = [...(w === 16 ? [0x66] : []), 0x8d, ...bytes];
  });
}
F('data', 'cmpxchg8b m64', 150, (c) => {
  const m = emitRM(c, 32, [0x0f, 0xc7], true, 1, 0, { size: 8, avoid: [EAX, ECX, EDX, EBX], noRmVal: true });
  if (c.r.bool(0.5)) { const img = c.image(); c.set(EAX, c.readN(img, m.ea, 4)); if (c.r.bool(0.8)) c.set(EDX, c.readN(img, m.ea + 4, 4)); }
  else if (c.r.bool(0.3)) { const img = c.image(); c.set(EAX, c.readN(img, m.ea, 4)); }
});
for (let reg = 0; reg < 8; reg++) F('data', `bswap ${['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'][reg]}`, 30, (c) => { c.code = [0x0f, 0xc8 + reg]; });
F('data', 'cbw', NDATA, (c) => { c.setW(EAX, 8, val(c.r, 8)); c.code = [0x66, 0x98]; });
F('data', 'cwde', NDATA, (c) => { c.setW(EAX, 16, val(c.r, 16)); c.code = [0x98]; });
F('data', 'cwd', NDATA, (c) => { c.setW(EAX, 16, val(c.r, 16)); c.code = [0x66, 0x99]; });
F('data', 'cdq', NDATA, (c) => { c.code = [0x99]; });
F('data', 'lahf', NDATA, (c) => { c.code = [0x9f]; });
F('data', 'sahf', NDATA, (c) => { c.code = [0x9e]; });
for (const [nm, op] of [['clc', 0xf8], ['stc', 0xf9], ['cmc', 0xf5], ['cld', 0xfc], ['std', 0xfd]]) F('data', nm, 50, (c) => { c.code = [op]; });
for (const pre of [[], [0x26], [0x2e], [0x36], [0x3e]]) {
  F('data', `xlat${pre.length ? ` (${hex(pre)} override)` : ''}`, pre.length ? 50 : NDATA, (c) => {
    c.pin(EBX, c.r.range(DATA, DATA + DATASZ - 256));
    c.code = [...pre, 0xd7];
  });
}

// ---------------------------------------------------------------- shifts and rotates
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', null, 'sar'];
function shiftCount(r, w) {
  const k = r.int(10);
  if (k < 6) return r.int(32);
  if (k < 8) return r.pick([0, 1, 2, w - 1, w, w + 1, 8, 9, 16, 17, 31, 32, 33]);
  return r.int(256);
}
function shiftMask(op, w, count) {
  const n = count & 31;
  if (n === 0) return FULL;
  let und = 0;
  if (op === 'shl' || op === 'shr' || op === 'sar') { und |= AF; if (n >= w && op !== 'sar') und |= CF; }
  if (n !== 1) und |= OF;
  return FULL & ~und;
}
SHIFTS.forEach((op, k) => {
  if (!op) return;
  for (const isMem of [false, true]) {
    for (const w of [8, 16, 32]) {
      const rmn = WNAME[w][1], o = w === 8 ? 0 : 1;
      F('shift', `${op} ${rmn},1 ${MR(isMem)}`, 80, (c) => { emitRM(c, w, [0xd0 + o], isMem, k); c.fm = shiftMask(op, w, 1); });
      F('shift', `${op} ${rmn},cl ${MR(isMem)}`, 150, (c) => {
        c.setW(ECX, 8, shiftCount(c.r, w));
        emitRM(c, w, [0xd2 + o], isMem, k, 0, { avoid: [ECX] });
        c.fm = shiftMask(op, w, c.regs[ECX] & 0xff);
      });
      F('shift', `${op} ${rmn},imm8 ${MR(isMem)}`, 150, (c) => {
        emitRM(c, w, [0xc0 + o], isMem, k, 8, { imm: shiftCount(c.r, w) });
        c.fm = shiftMask(op, w, c.imm);
      });
    }
  }
});
for (const [nm, opc] of [['shld', 0xa4], ['shrd', 0xac]]) {
  for (const isMem of [false, true]) {
    for (const w of [16, 32]) {
      const [rn, rmn] = WNAME[w];
      const cnt = (c) => { for (;;) { const n = shiftCount(c.r, w); if (w === 32 || (n & 31) <= 16) return n; } };
      const mask = (n) => ((n & 31) === 0 ? FULL : FULL & ~(AF | ((n & 31) === 1 ? 0 : OF)));
      F('shift', `${nm} ${rmn},${rn},imm8 ${MR(isMem)}`, 150, (c) => { emitRM(c, w, [0x0f, opc], isMem, 'r', 8, { imm: cnt(c) }); c.fm = mask(c.imm); });
      F('shift', `${nm} ${rmn},${rn},cl ${MR(isMem)}`, 150, (c) => {
        const m = emitRM(c, w, [0x0f, opc + 1], isMem, 'r', 0, { avoid: [ECX] });
        if (!isMem && (m.reg === ECX || m.rm === ECX)) { c.fm = -1; return; } // count tied to an operand: regenerate
        c.setW(ECX, 8, cnt(c));
        c.fm = mask(c.regs[ECX] & 0xff);
      });
    }
  }
}

// ---------------------------------------------------------------- multiply / divide
const MULMASK = FULL & ~(SF | ZF | AF | PF);
for (const isMem of [false, true]) {
  for (const w of [8, 16, 32]) {
    const rmn = WNAME[w][1], o = w === 8 ? 0 : 1;
    const accRegs = w === 8 ? [0, 4] : [0, 2];
    const pickRm = (r) => { for (;;) { const x = r.int(8); if (!accRegs.includes(x) || r.bool(0.1)) return x; } };
    F('muldiv', `mul ${rmn} ${MR(isMem)}`, 200, (c) => { c.fm = MULMASK; c.setW(EAX, w, val(c.r, w)); emitRM(c, w, [0xf6 + o], isMem, 4, 0, { avoid: [EAX, EDX], rm: pickRm(c.r) }); });
    F('muldiv', `imul ${rmn} ${MR(isMem)}`, 200, (c) => { c.fm = MULMASK; c.setW(EAX, w, val(c.r, w)); emitRM(c, w, [0xf6 + o], isMem, 5, 0, { avoid: [EAX, EDX], rm: pickRm(c.r) }); });
    for (const signed of [false, true]) {
      F('muldiv', `${signed ? 'idiv' : 'div'} ${rmn} ${MR(isMem)}`, 300, (c) => {
        c.vectors = [-1, 0];
        c.fm = (out) => (out.vector === 0 ? FULL : FULL & ~STATUS);
        const m = emitRM(c, w, [0xf6 + o], isMem, signed ? 7 : 6, 0, { avoid: [EAX, EDX], rm: pickRm(c.r), noRmVal: true });
        if (!isMem && accRegs.includes(m.rm)) { c.setW(EAX, w, val(c.r, w)); if (w > 8) c.set(EDX, val(c.r, 32)); c.setW(m.rm, w, val(c.r, w)); return; }
        const { n, d } = divOperands(c.r, w, signed);
        if (isMem) c.writeN(m.ea, d, w / 8); else c.setW(m.rm, w, Number(d));
        if (w === 8) c.setW(EAX, 16, Number(n));
        else { c.setW(EAX, w, Number(n & BigInt(maskOf(w)))); c.setW(EDX, w, Number(n >> BigInt(w))); }
      });
    }
  }
  for (const w of [16, 32]) {
    const [rn, rmn] = WNAME[w];
    F('muldiv', `imul ${rn},${rmn} ${MR(isMem)}`, 200, (c) => { c.fm = MULMASK; emitRM(c, w, [0x0f, 0xaf], isMem, 'r'); });
    F('muldiv', `imul ${rn},${rmn},imm${w} ${MR(isMem)}`, 200, (c) => { c.fm = MULMASK; emitRM(c, w, [0x69], isMem, 'r', w); });
    F('muldiv', `imul ${rn},${rmn},imm8 ${MR(isMem)}`, 200, (c) => { c.fm = MULMASK; emitRM(c, w, [0x6b], isMem, 'r', 8); });
  }
}
function divOperands(r, w, signed) {
  const W = BigInt(w), M = 1n << W, H = M >> 1n;
  const bigVal = () => BigInt(val(r, w) & maskOf(w));
  const kind = r.int(20);
  const toU = (x, bits) => ((x % (1n << bits)) + (1n << bits)) % (1n << bits);
  if (kind < 2) return { d: 0n, n: r.big(2 * w) };
  if (!signed) {
    let d; do d = r.bool(0.5) ? bigVal() : BigInt(r.range(1, 300)); while (d === 0n);
    if (kind < 6) return { d, n: d * M + (r.big(2 * w + 8) % (M * M - d * M)) };
    const q = r.bool(0.3) ? BigInt(r.pick([0, 1, Number(M - 1n), Number(H)])) : r.big(w);
    return { d, n: q * d + r.big(w + 8) % d };
  }
  const sv = (x) => (x >= H ? x - M : x);
  for (;;) {
    let d; do d = sv(r.bool(0.5) ? bigVal() : BigInt(r.range(1, 300)) * (r.bool() ? 1n : -1n) & (M - 1n)); while (d === 0n);
    d = sv(toU(d, W));
    let q;
    if (kind < 6) {
      if (kind === 2) { d = -1n; q = H; } // -2^(2w-1) / -1 style overflow
      else q = (r.bool() ? 1n : -1n) * (H + r.big(w + 4) % (H * 4n) + (r.bool() ? 0n : 1n));
    } else q = r.bool(0.3) ? BigInt(r.pick([0, 1, -1, -Number(H), Number(H) - 1])) : sv(r.big(w));
    const ad = d < 0n ? -d : d;
    let rem = r.big(w + 8) % ad;
    const prod = q * d;
    if (prod < 0n || (prod === 0n && r.bool())) rem = -rem;
    const n = prod + rem;
    if (n < -(M * H) || n >= M * H) continue;
    return { d: toU(d, W), n: toU(n, 2n * W) };
  }
}

// ---------------------------------------------------------------- bit operations
const BITMASK = FULL & ~(OF | SF | AF | PF);
['bt', 'bts', 'btr', 'btc'].forEach((op, k) => {
  for (const w of [16, 32]) {
    const [rn, rmn] = WNAME[w];
    F('bits', `${op} ${rmn},${rn} reg`, 100, (c) => { c.fm = BITMASK; emitRM(c, w, [0x0f, 0xa3 + 8 * k], false, 'r'); });
    F('bits', `${op} ${rmn},${rn} mem`, 200, (c) => {
      c.fm = BITMASK;
      let reg; do reg = c.r.int(8); while (reg === ESP);
      const range = 0x700 * 8;
      const off = c.r.bool(0.3) ? c.r.range(-w, 2 * w) : c.r.range(-range, range);
      c.pin(reg, w === 16 ? (c.r.u32() & 0xffff0000) | (off & 0xffff) : off);
      emitRM(c, w, [0x0f, 0xa3 + 8 * k], true, reg, 0, { avoid: [reg], lo: DATA + 0x800, hi: DATA + 0x1800, noRegVal: true });
    });
    for (const isMem of [false, true]) {
      F('bits', `${op} ${rmn},imm8 ${MR(isMem)}`, 100, (c) => { c.fm = BITMASK; emitRM(c, w, [0x0f, 0xba], isMem, 4 + k, 8, { imm: c.r.bool(0.7) ? c.r.int(w) : c.r.int(256) }); });
    }
  }
});
for (const [nm, opc] of [['bsf', 0xbc], ['bsr', 0xbd]]) {
  for (const isMem of [false, true]) {
    for (const w of [16, 32]) {
      const [rn, rmn] = WNAME[w];
      F('bits', `${nm} ${rn},${rmn} ${MR(isMem)}`, 150, (c) => {
        c.fm = FULL & ~(CF | OF | SF | AF | PF);
        const k = c.r.int(10);
        const v = k < 2 ? 0 : k < 4 ? (1 << c.r.int(w)) >>> 0 : val(c.r, w);
        const m = emitRM(c, w, [0x0f, opc], isMem, 'r', 0, { noRmVal: true });
        if (isMem) c.writeN(m.ea, v, w / 8); else c.setW(m.rm, w, v);
        const src = isMem ? c.readN(c.image(), m.ea, w / 8) : c.getW(m.rm, w);
        if (src === 0) c.undefRegs = [m.reg];
      });
    }
  }
}
for (let cc = 0; cc < 16; cc++) {
  for (const isMem of [false, true]) {
    F('bits', `set${CC[cc]} r/m8 ${MR(isMem)}`, 60, (c) => emitRM(c, 8, [0x0f, 0x90 + cc], isMem, 0));
    for (const w of [16, 32]) F('bits', `cmov${CC[cc]} ${WNAME[w][0]},${WNAME[w][1]} ${MR(isMem)}`, w === 32 ? 60 : 40, (c) => emitRM(c, w, [0x0f, 0x40 + cc], isMem, 'r'));
  }
}

// ---------------------------------------------------------------- control transfer
function relTarget(c, len, bits) {
  for (;;) {
    const t = bits === 8 ? c.eip + len + s8(c.r.u32()) : c.r.range(CODE, CODE + CODESZ - 1);
    if (t >= CODE && t < CODE + CODESZ && (t < c.eip || t >= c.eip + len)) return t;
  }
}
function inPageTarget(c, len) { for (;;) { const t = c.r.range(CODE, CODE + CODESZ - 1); if (t < c.eip || t >= c.eip + len) return t; } }
const randEip = (c) => { if (c.r.bool(0.3)) c.eip = c.r.range(CODE + 0x10, CODE + CODESZ - 0x20); };
for (let cc = 0; cc < 16; cc++) {
  F('control', `j${CC[cc]} rel8`, 120, (c) => { c.branch = true; randEip(c); const t = relTarget(c, 2, 8); c.code = [0x70 + cc, (t - c.eip - 2) & 0xff]; });
  F('control', `j${CC[cc]} rel32`, 120, (c) => { c.branch = true; randEip(c); const t = relTarget(c, 6, 32); c.code = [0x0f, 0x80 + cc, ...le((t - c.eip - 6) >>> 0, 4)]; });
}
F('control', 'jcc rel8 with 2e/3e hint prefix', 60, (c) => { c.branch = true; const t = relTarget(c, 3, 8); c.code = [c.r.pick([0x2e, 0x3e]), 0x70 + c.r.int(16), (t - c.eip - 3) & 0xff]; });
F('control', 'jmp rel8', 100, (c) => { c.branch = true; randEip(c); const t = relTarget(c, 2, 8); c.code = [0xeb, (t - c.eip - 2) & 0xff]; });
F('control', 'jmp rel32', 100, (c) => { c.branch = true; randEip(c); const t = relTarget(c, 5, 32); c.code = [0xe9, ...le((t - c.eip - 5) >>> 0, 4)]; });
F('control', 'call rel32', 100, (c) => { c.branch = true; randEip(c); const t = relTarget(c, 5, 32); c.code = [0xe8, ...le((t - c.eip - 5) >>> 0, 4)]; });
for (const [nm, rf] of [['jmp', 4], ['call', 2]]) {
  F('control', `${nm} r/m32 reg`, 100, (c) => {
    c.branch = true;
    let rm; do rm = c.r.int(8); while (rm === ESP);
    c.code = [0xff, 0xc0 | (rf << 3) | rm];
    c.set(rm, inPageTarget(c, 2));
  });
  F('control', `${nm} r/m32 mem`, 150, (c) => {
    c.branch = true;
    const m = emitRM(c, 32, [0xff], true, rf, 0, { noRmVal: true });
    c.writeN(m.ea, inPageTarget(c, c.code.length + 8), 4);
  });
}
F('control', 'ret', 100, (c) => { c.branch = true; c.writeN(c.regs[ESP], inPageTarget(c, 1), 4); c.code = [0xc3]; });
F('control', 'ret imm16', 100, (c) => {
  c.branch = true; c.writeN(c.regs[ESP], inPageTarget(c, 3), 4);
  c.code = [0xc2, ...le(c.r.pick([0, 4, 8, 0xc, c.r.int(0x200), c.r.int(0x10000)]), 2)];
});
for (const [nm, op] of [['loopne', 0xe0], ['loope', 0xe1], ['loop', 0xe2], ['jecxz', 0xe3]]) {
  for (const a16 of [false, true]) {
    const name = a16 ? (nm === 'jecxz' ? 'jcxz (67)' : `${nm} cx (67)`) : nm;
    F('control', `${name} rel8`, 120, (c) => {
      c.branch = true;
      c.set(ECX, c.r.pick([0, 1, 2, 3, 0x10000, 0x10001, 0xffff0000, 0xffffffff, val(c.r, 32), c.r.int(100)]));
      const len = a16 ? 3 : 2;
      const t = relTarget(c, len, 8);
      c.code = [...(a16 ? [0x67] : []), op, (t - c.eip - len) & 0xff];
    });
  }
}
for (const w of [32, 16]) {
  F('control', `enter imm16,imm8${w === 16 ? ' (66)' : ''}`, w === 32 ? 300 : 60, (c) => {
    const level = c.r.pick([0, 0, 0, 1, 1, 1, 2, 3, 4, 5, 7, 31, 32, 33, c.r.int(256)]);
    // keep the whole new frame inside DATA: a faulting ENTER leaves implementation-specific partial writes
    const room = c.regs[ESP] - DATA - 4 * ((level & 31) + 1) - 8;
    let size; do size = c.r.pick([0, 4, 8, 0x10, 0x22, c.r.int(0x400), c.r.int(0x10000)]); while (size > room);
    c.pin(EBP, c.r.range(DATA + 0x100, DATA + DATASZ - 4) & (c.r.bool(0.8) ? ~3 : ~0));
    c.code = [...(w === 16 ? [0x66] : []), 0xc8, ...le(size, 2), level];
  });
  F('control', `leave${w === 16 ? ' (66)' : ''}`, 100, (c) => {
    c.pin(EBP, c.r.range(DATA, DATA + DATASZ - 4));
    c.code = [...(w === 16 ? [0x66] : []), 0xc9];
  });
}

// ---------------------------------------------------------------- stack
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
for (let reg = 0; reg < 8; reg++) {
  F('stack', `push ${R32[reg]}`, 50, (c) => { c.code = [0x50 + reg]; });
  F('stack', `pop ${R32[reg]}`, 50, (c) => { c.code = [0x58 + reg]; });
  F('stack', `push ${R32[reg].slice(1)} (66)`, 40, (c) => { c.code = [0x66, 0x50 + reg]; });
  F('stack', `pop ${R32[reg].slice(1)} (66)`, 40, (c) => { c.code = [0x66, 0x58 + reg]; });
}
F('stack', 'push imm8', 100, (c) => { c.code = [0x6a, val(c.r, 8) & 0xff]; });
F('stack', 'push imm32', 100, (c) => { c.code = [0x68, ...le(val(c.r, 32), 4)]; });
F('stack', 'push imm16 (66)', 60, (c) => { c.code = [0x66, 0x68, ...le(val(c.r, 16) & 0xffff, 2)]; });
F('stack', 'push imm8 (66)', 60, (c) => { c.code = [0x66, 0x6a, val(c.r, 8) & 0xff]; });
for (const w of [32, 16]) {
  for (const isMem of [false, true]) {
    F('stack', `push r/m${w} ${MR(isMem)}`, 100, (c) => emitRM(c, w, [0xff], isMem, 6));
    F('stack', `pop r/m${w} ${MR(isMem)}`, isMem ? 200 : 100, (c) => emitRM(c, w, [0x8f], isMem, 0, 0, { hi: DATA + DATASZ - 8 }));
  }
  F('stack', `pop r/m${w} [esp+disp]`, 100, (c) => emitRM(c, w, [0x8f], true, 0, 0, { hi: DATA + DATASZ - 8, pattern: c.r.pick([{ mod: 1, rm: 4, base: 4, index: 4, scale: 0 }, { mod: 0, rm: 4, base: 4, index: 4, scale: 0 }, { mod: 2, rm: 4, base: 4, index: c.r.int(8), scale: c.r.int(4) }]) }));
}
const SEGPUSH = [['es', [0x06], [0x07]], ['cs', [0x0e], null], ['ss', [0x16], [0x17]], ['ds', [0x1e], [0x1f]], ['fs', [0x0f, 0xa0], [0x0f, 0xa1]], ['gs', [0x0f, 0xa8], [0x0f, 0xa9]]];
for (const [nm, push, pop] of SEGPUSH) {
  for (const w of [32, 16]) {
    const p = w === 16 ? [0x66] : [];
    const sfx = w === 16 ? ' (66)' : '';
    F('stack', `push ${nm}${sfx}`, 50, (c) => { c.code = [...p, ...push]; });
    if (pop) F('stack', `pop ${nm}${sfx}`, 50, (c) => {
      c.sregs = true;
      const sel = nm === 'ss' ? 0x2b : c.r.pick([0x2b, 0]);
      c.writeN(c.regs[ESP], w === 32 ? ((c.r.u32() & 0xffff0000) | sel) >>> 0 : sel, w / 8);
      c.code = [...p, ...pop];
    });
  }
}
F('stack', 'pusha', 100, (c) => { c.code = [0x60]; });
F('stack', 'popa', 100, (c) => { c.code = [0x61]; });
F('stack', 'pushaw (66)', 60, (c) => { c.code = [0x66, 0x60]; });
F('stack', 'popaw (66)', 60, (c) => { c.code = [0x66, 0x61]; });
F('stack', 'pushf', 100, (c) => { c.code = [0x9c]; });
F('stack', 'pushfw (66)', 60, (c) => { c.code = [0x66, 0x9c]; });
function popfValue(r) {
  let v = randFlags(r) & ~0x200;
  if (r.bool(0.8)) v |= 0x200;                  // IF: cannot be changed at CPL 3 (IOPL 0)
  if (r.bool(0.2)) v |= 0x3000;                 // IOPL: ignored at CPL 3
  if (r.bool(0.2)) v |= 0x8028 & r.u32();       // reserved bits 3, 5, 15
  if (r.bool(0.2)) v &= ~2;                     // reserved bit 1 reads as 1
  return v >>> 0;
}
F('stack', 'popf', 150, (c) => { c.writeN(c.regs[ESP], (popfValue(c.r) | (c.r.bool(0.2) ? c.r.u32() & 0xffc00000 : 0)) >>> 0, 4); c.code = [0x9d]; });
F('stack', 'popfw (66)', 100, (c) => { c.writeN(c.regs[ESP], popfValue(c.r) & 0xffff, 2); c.code = [0x66, 0x9d]; });

// ---------------------------------------------------------------- strings
const STR = { movs: [0xa4, true, true], cmps: [0xa6, true, true], stos: [0xaa, false, true], lods: [0xac, true, false], scas: [0xae, false, true] };
// Every string form: each instruction, width, REP prefix and (for those with
// a source) a segment override on the source.
function* stringForms() {
  for (const [op, [opc, usesSrc, usesDst]] of Object.entries(STR)) {
    const cmp = op === 'cmps' || op === 'scas';
    const reps = cmp ? ['', 'repe', 'repne'] : ['', 'rep'];
    for (const w of [8, 16, 32]) {
      const sfx = { 8: 'b', 16: 'w', 32: 'd' }[w];
      for (const rep of reps) {
        for (const ov of usesSrc ? [null, 'override'] : [null]) yield { op, opc, usesSrc, usesDst, cmp, w, sfx, rep, ov };
      }
    }
  }
}
for (const { op, opc, usesSrc, usesDst, cmp, w, sfx, rep, ov } of stringForms()) {
  const name = `${rep ? rep + ' ' : ''}${op}${sfx}${ov ? ' (seg override on source)' : ''}`;
  F('string', name, ov ? 60 : rep ? 150 : 80, (c) => strCase(c, op, opc, w, rep, ov, usesSrc, usesDst, cmp));
}
function strCase(c, op, opc, w, rep, ov, usesSrc, usesDst, cmp) {
  const r = c.r, size = w / 8;
  const df = (c.eflags & DF) !== 0;
  let n = 1;
  if (rep) { const k = r.int(20); n = k < 3 ? 0 : k < 8 ? r.range(1, 4) : r.range(5, 40); c.pin(ECX, n); }
  const span = Math.max(n, 1) * size;
  const place = () => (df ? r.range(DATA + span + 8, DATA + DATASZ - 8 - size) : r.range(DATA + 8, DATA + DATASZ - 8 - span));
  if (usesSrc) c.pin(ESI, place());
  if (usesDst) c.pin(EDI, place());
  if (op === 'scas' || op === 'stos') c.setW(EAX, w, val(r, w));
  c.code = [...(rep === 'repne' ? [0xf2] : rep ? [0xf3] : []), ...(ov ? [r.pick([0x26, 0x2e, 0x36, 0x3e])] : []), ...(w === 16 ? [0x66] : []), opc + (w === 8 ? 0 : 1)];
  if (r.bool(0.3)) c.code = shufflePrefixes(r, c.code);
  if (!cmp) return;
  const img = c.image();
  const elem = (base, i) => base + (df ? -i : i) * size;
  const k = r.range(0, Math.max(n - 1, 0));
  const mode = r.int(10);
  if (op === 'cmps') {
    if ((rep === 'repe' && mode < 7) || (!rep && mode < 4)) { // equal run of length k (or all)
      const len = rep === 'repe' && mode < 3 ? n : k;
      for (let i = 0; i < Math.max(len, rep ? 0 : 1); i++) c.write(elem(c.regs[EDI], i), Array.from(img.subarray(elem(c.regs[ESI], i) - DATA, elem(c.regs[ESI], i) - DATA + size)));
    } else if (rep === 'repne' && mode < 7 && n > 0) {
      c.write(elem(c.regs[EDI], k), Array.from(img.subarray(elem(c.regs[ESI], k) - DATA, elem(c.regs[ESI], k) - DATA + size)));
    }
  } else {
    const a = le(c.getW(EAX, w), size);
    if ((rep === 'repe' && mode < 7) || (!rep && mode < 4)) { const len = rep === 'repe' && mode < 3 ? n : k; for (let i = 0; i < Math.max(len, rep ? 0 : 1); i++) c.write(elem(c.regs[EDI], i), a); }
    else if (rep === 'repne' && mode < 7 && n > 0) c.write(elem(c.regs[EDI], k), a);
  }
}
// prefixes may come in any order
function shufflePrefixes(r, code) {
  const pre = code.slice(0, -1), op = code[code.length - 1];
  for (let i = pre.length - 1; i > 0; i--) { const j = r.int(i + 1); [pre[i], pre[j]] = [pre[j], pre[i]]; }
  return [...pre, op];
}

// ---------------------------------------------------------------- BCD
const bcdIn = (c) => { c.set(EAX, (c.r.u32() & 0xffff0000) | (c.r.int(256) << 8) | c.r.int(256)); };
F('bcd', 'daa', 400, (c) => { c.fm = FULL & ~OF; bcdIn(c); c.code = [0x27]; });
F('bcd', 'das', 400, (c) => { c.fm = FULL & ~OF; bcdIn(c); c.code = [0x2f]; });
F('bcd', 'aaa', 400, (c) => { c.fm = FULL & ~(OF | SF | ZF | PF); bcdIn(c); c.code = [0x37]; });
F('bcd', 'aas', 400, (c) => { c.fm = FULL & ~(OF | SF | ZF | PF); bcdIn(c); c.code = [0x3f]; });
// AL adjustments that carry/borrow into AH (486+ / current-SDM behaviour differs from the 80386 here)
F('bcd', 'aaa (al >= 0xf6, carry into ah)', 80, (c) => { c.fm = FULL & ~(OF | SF | ZF | PF); c.eflags |= c.r.bool(0.7) ? AF : 0; c.set(EAX, (c.r.u32() & 0xffff0000) | (c.r.int(256) << 8) | c.r.range(0xf6, 0xff)); c.code = [0x37]; });
F('bcd', 'aas (al < 6, borrow into ah)', 80, (c) => { c.fm = FULL & ~(OF | SF | ZF | PF); c.eflags |= c.r.bool(0.8) ? AF : 0; c.set(EAX, (c.r.u32() & 0xffff0000) | (c.r.int(256) << 8) | c.r.range(0, 5)); c.code = [0x3f]; });
F('bcd', 'aam (base 10)', 200, (c) => { c.fm = FULL & ~(OF | AF | CF); bcdIn(c); c.code = [0xd4, 10]; });
F('bcd', 'aam imm8', 300, (c) => { c.vectors = [-1, 0]; c.fm = (o) => (o.vector === 0 ? FULL : FULL & ~(OF | AF | CF)); bcdIn(c); c.code = [0xd4, c.r.bool(0.1) ? 0 : c.r.int(256)]; });
F('bcd', 'aad (base 10)', 200, (c) => { c.fm = FULL & ~(OF | AF | CF); bcdIn(c); c.code = [0xd5, 10]; });
F('bcd', 'aad imm8', 300, (c) => { c.fm = FULL & ~(OF | AF | CF); bcdIn(c); c.code = [0xd5, c.r.int(256)]; });

// ---------------------------------------------------------------- misc: NOPs, prefixes, INTO, BOUND, #UD
F('misc', 'nop (90)', 30, (c) => { c.code = [0x90]; });
F('misc', 'nop (66 90)', 30, (c) => { c.code = [0x66, 0x90]; });
F('misc', 'pause (f3 90)', 30, (c) => { c.code = [0xf3, 0x90]; });
F('misc', 'nop r/m32 (0f 1f /0) reg', 30, (c) => { c.code = [0x0f, 0x1f, 0xc0 | c.r.int(8)]; });
F('misc', 'nop r/m32 (0f 1f /0) mem', 100, (c) => emitRM(c, c.r.pick([16, 32]), [0x0f, 0x1f], true, 0));
F('misc', 'nop r/m (67 0f 1f /0) addr16', 50, (c) => { c.code = [0x67, 0x0f, 0x1f, ...memOperand16(c, 0).bytes]; });
{
  const NOPS = ['0f1f00', '0f1f4000', '0f1f440000', '660f1f440000', '0f1f8000000000', '0f1f840000000000', '660f1f840000000000', '662e0f1f840000000000', '66662e0f1f840000000000'];
  let i = 0;
  F('misc', 'nop (recommended multi-byte sequences)', 90, (c) => { c.code = [...Buffer.from(NOPS[i++ % NOPS.length], 'hex')]; });
}
for (const pre of [0x26, 0x2e, 0x36, 0x3e]) {
  let i = 0;
  F('misc', `${pre.toString(16)} segment override on memory operand`, 100, (c) => {
    const ops = pre === 0x2e // CS is a readable, non-writable code segment
      ? [[32, [0x8b], 'r'], [8, [0x8a], 'r'], [16, [0x39], 'r'], [32, [0x03], 'r'], [32, [0x0f, 0xb6], 'r'], [32, [0xff], 6]]
      : [[32, [0x8b], 'r'], [32, [0x01], 'r'], [8, [0x88], 'r'], [16, [0x39], 'r'], [32, [0x81], 0, 32], [32, [0xff], 0]];
    const [w, opc, rf, imm] = ops[i++ % ops.length];
    emitRM(c, w, opc, true, rf, imm ?? 0);
    c.code = c.code[0] === 0x66 && c.r.bool() ? [0x66, pre, ...c.code.slice(1)] : [pre, ...c.code];
  });
}
F('misc', '2e override on memory write (CS not writable, #GP)', 60, (c) => {
  c.vectors = [13];
  const w = c.r.pick([8, 16, 32]);
  emitRM(c, w, [c.r.pick([0x88, 0x00, 0x30]) + (w === 8 ? 0 : 1)], true, 'r');
  c.code = [0x2e, ...c.code];
});
for (const pre of [0x64, 0x65]) {
  F('misc', `${pre.toString(16)} override with null ${pre === 0x64 ? 'fs' : 'gs'} (#GP)`, 60, (c) => { c.vectors = [13]; const m = emitRM(c, 32, [c.r.pick([0x8b, 0x89, 0x01, 0x3b])], true, 'r'); c.code = [pre, ...c.code]; });
  F('misc', `${pre.toString(16)} override on register-only instruction`, 40, (c) => { emitRM(c, 32, [c.r.pick([0x8b, 0x01, 0x31])], false, 'r'); c.code = [pre, ...c.code]; });
}
F('misc', 'redundant prefixes (66 66 / 3e 3e / f2,f3 on alu)', 100, (c) => {
  const w = c.r.pick([16, 32]);
  emitRM(c, w, [c.r.pick([0x01, 0x03, 0x29, 0x31, 0x89])], c.r.bool(), 'r');
  const extra = c.r.pick([[0x66], [0x3e, 0x3e], [0xf3], [0xf2], [0x2e, 0x3e]]);
  c.code = [...extra, ...c.code];
});
['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'].forEach((op, k) => {
  F('misc', `${op} r/m8,imm8 (82 alias)`, 50, (c) => { c.fm = FULL & ~(k === 1 || k === 4 || k === 6 ? AF : 0); emitRM(c, 8, [0x82], c.r.bool(), k, 8); });
});
F('misc', 'into', 200, (c) => { c.vectors = [-1, 4]; c.code = [0xce]; });
for (const w of [32, 16]) {
  F('misc', `bound r${w},m${w}&${w}${w === 16 ? ' (66)' : ''}`, 200, (c) => {
    c.vectors = [-1, 5];
    const m = emitRM(c, w, [0x62], true, 'r', 0, { size: 2 * w / 8, noRmVal: true });
    const sz = w / 8, M = maskOf(w);
    const lo = val(c.r, w) & M, hi = c.r.bool(0.8) ? (lo + c.r.int(1000)) & M : val(c.r, w) & M;
    c.writeN(m.ea, lo, sz); c.writeN(m.ea + sz, hi, sz);
    const sx = (v) => (w === 16 ? (v << 16) >> 16 : v | 0);
    const k = c.r.int(4);
    const idx = k === 0 ? lo : k === 1 ? hi : k === 2 ? c.r.range(Math.min(sx(lo), sx(hi)), Math.max(sx(lo), sx(hi))) : val(c.r, w);
    c.setW(m.reg, w, idx);
  });
}
{
  const UD = [['ud2 (0f 0b)', [0x0f, 0x0b]], ['ud1 (0f b9 /r)', [0x0f, 0xb9, 0xc0]], ['ud0 (0f ff)', [0x0f, 0xff, 0xc0]],
    ['fe /2 .. /7 (invalid)', null], ['ff /7 (invalid)', [0xff, 0xf8]], ['mov r/m,sreg 6/7 (8c /6 /7)', null],
    ['mov cs,r/m16 (8e /1)', [0x8e, 0xc8]], ['lea with register operand', null], ['cmpxchg8b with register operand', [0x0f, 0xc7, 0xc8]]];
  for (const [nm, bytes] of UD) {
    F('misc', `#UD ${nm}`, 30, (c) => {
      c.vectors = [6];
      if (bytes) { c.code = bytes.slice(); if (nm.startsWith('ud1') || nm.startsWith('ud0') || nm.startsWith('cmpxchg8b')) c.code[2] = bytes[2] | c.r.int(8) | (nm.startsWith('cmpxchg8b') ? 0 : c.r.int(8) << 3); return; }
      if (nm.startsWith('fe')) c.code = [0xfe, 0xc0 | (c.r.range(2, 7) << 3) | c.r.int(8)];
      else if (nm.startsWith('mov')) c.code = [0x8c, 0xc0 | (c.r.range(6, 7) << 3) | c.r.int(8)];
      else c.code = [0x8d, 0xc0 | (c.r.int(8) << 3) | c.r.int(8)];
    });
  }
}

// ---------------------------------------------------------------- LOCK prefix
const LK = 0xf0;
const lockForm = (name, count, gen, legal = true) => F('lock', `lock ${name}`, count, (c) => { gen(c); c.code = [LK, ...c.code]; if (!legal) c.vectors = [6]; });
['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor'].forEach((op, k) => {
  const fm = FULL & ~(op === 'and' || op === 'or' || op === 'xor' ? AF : 0);
  for (const w of [8, 16, 32]) {
    lockForm(`${op} m${w},r${w}`, 50, (c) => { c.fm = fm; emitRM(c, w, [k * 8 + (w === 8 ? 0 : 1)], true, 'r'); });
    lockForm(`${op} m${w},imm`, 50, (c) => { c.fm = fm; if (w === 8) emitRM(c, 8, [0x80], true, k, 8); else if (c.r.bool()) emitRM(c, w, [0x81], true, k, w); else emitRM(c, w, [0x83], true, k, 8); });
  }
});
for (const w of [8, 16, 32]) {
  const o = w === 8 ? 0 : 1;
  lockForm(`inc/dec m${w}`, 50, (c) => emitRM(c, w, [0xfe + o], true, c.r.int(2)));
  lockForm(`not/neg m${w}`, 50, (c) => emitRM(c, w, [0xf6 + o], true, c.r.range(2, 3)));
  lockForm(`xchg m${w},r${w}`, 50, (c) => emitRM(c, w, [0x86 + o], true, 'r'));
  lockForm(`xadd m${w},r${w}`, 50, (c) => emitRM(c, w, [0x0f, 0xc0 + o], true, 'r'));
  lockForm(`cmpxchg m${w},r${w}`, 50, (c) => {
    const m = emitRM(c, w, [0x0f, 0xb0 + o], true, 'r', 0, { avoid: [EAX] });
    if (c.r.bool()) c.setW(EAX, w, c.readN(c.image(), m.ea, w / 8));
  });
}
lockForm('cmpxchg8b m64', 60, (c) => {
  const m = emitRM(c, 32, [0x0f, 0xc7], true, 1, 0, { size: 8, avoid: [EAX, ECX, EDX, EBX], noRmVal: true });
  if (c.r.bool()) { const img = c.image(); c.set(EAX, c.readN(img, m.ea, 4)); c.set(EDX, c.readN(img, m.ea + 4, 4)); }
});
['bts', 'btr', 'btc'].forEach((op, k) => {
  lockForm(`${op} m32,r32`, 50, (c) => {
    c.fm = BITMASK;
    let reg; do reg = c.r.int(8); while (reg === ESP);
    c.pin(reg, c.r.range(-0x3000, 0x3000));
    emitRM(c, 32, [0x0f, 0xab + 8 * k], true, reg, 0, { avoid: [reg], lo: DATA + 0x800, hi: DATA + 0x1800, noRegVal: true });
  });
  lockForm(`${op} m${16},imm8 / m32,imm8`, 50, (c) => { c.fm = BITMASK; emitRM(c, c.r.pick([16, 32]), [0x0f, 0xba], true, 5 + k, 8); });
});
// illegal LOCK uses -> #UD
lockForm('add r32,r32 (register destination, #UD)', 40, (c) => emitRM(c, 32, [0x01], false, 'r'), false);
lockForm('add r32,m32 (register destination, #UD)', 40, (c) => emitRM(c, 32, [0x03], true, 'r'), false);
lockForm('inc r32 (40+r, #UD)', 30, (c) => { c.code = [0x40 + c.r.int(8)]; }, false);
lockForm('xchg r32,r32 (#UD)', 30, (c) => emitRM(c, 32, [0x87], false, 'r'), false);
lockForm('cmp m32,r32 (not lockable, #UD)', 40, (c) => emitRM(c, 32, [0x39], true, 'r'), false);
lockForm('mov m32,r32 (not lockable, #UD)', 40, (c) => emitRM(c, 32, [0x89], true, 'r'), false);
lockForm('test m32,r32 (not lockable, #UD)', 30, (c) => emitRM(c, 32, [0x85], true, 'r'), false);
lockForm('bt m32,r32 (not lockable, #UD)', 30, (c) => emitRM(c, 32, [0x0f, 0xa3], true, 'r', 0, { lo: DATA + 0x800, hi: DATA + 0x1800 }), false);
lockForm('nop (#UD)', 30, (c) => { c.code = [0x90]; }, false);
lockForm('lea (#UD)', 30, (c) => emitRM(c, 32, [0x8d], true, 'r'), false);

// ---------------------------------------------------------------- 16-bit addressing (0x67) on memory, in LOW
// A 16-bit effective address is (sum of the 16-bit registers + displacement) mod 2^16; LOW (0x8000..0x9FFF)
// lies inside the first 64 KiB, so these cases really access memory. Register values carry random upper
// 16 bits (ignored by 16-bit addressing) and the 16-bit sums wrap around 64 KiB in a large share of the
// cases (e.g. BX=0xF000 + SI=0x9100 -> 0x8100; [bp+disp16] with disp16 > the target). BP-based forms
// use SS, which is flat like DS, so they reach the same linear addresses.
const A16REGS = [[EBX, ESI], [EBX, EDI], [EBP, ESI], [EBP, EDI], [ESI], [EDI], [EBP], [EBX]];
const A16NAME = ['bx+si', 'bx+di', 'bp+si', 'bp+di', 'si', 'di', 'bp', 'bx'];
const a16Regs = (mod, rm) => (mod === 0 && rm === 6 ? [] : A16REGS[rm]);
const a16Name = (mod, rm) => (mod === 0 && rm === 6 ? '[disp16]' : `[${A16NAME[rm]}${mod ? '+disp' + (mod === 1 ? 8 : 16) : ''}]`);
function rand16(r) { return r.int(8) < 5 ? r.int(0x10000) : r.pick([0, 1, 2, 0x10, 0x7fff, 0x8000, 0xfff0, 0xfffe, 0xffff]); }
// a 32-bit register value with the given low 16 bits and (mostly) random upper 16 bits
const hi16 = (r, v) => (((r.bool(0.8) ? r.u32() : 0) & 0xffff0000) | (v & 0xffff)) >>> 0;
function memOperand16Mem(c, regField, size, opt = {}) {
  const r = c.r;
  const lo = opt.lo ?? LOW, hi = opt.hi ?? LOW + LOWSZ - size;
  const mod = opt.mod ?? r.int(3), rm = opt.rm ?? r.int(8);
  const regs = a16Regs(mod, rm);
  for (let t = 0; t < 10000; t++) {
    const A = r.range(lo, hi);
    const fixedSum = regs.every((g) => c.pinned.has(g)) && regs.length > 0;
    const sumPinned = regs.reduce((s, g) => s + (c.regs[g] & 0xffff), 0) & 0xffff;
    let disp = 0, dsz = 0;
    if (mod === 1) { dsz = 1; disp = s8(r.bool(0.3) ? r.pick([0, 1, 0x7f, 0x80, 0xff]) : r.u32()); if (fixedSum) { disp = s8((A - sumPinned) & 0xff); } }
    else if (mod === 2) { dsz = 2; disp = fixedSum ? (A - sumPinned) & 0xffff : rand16(r); }
    else if (rm === 6) { dsz = 2; disp = A; }
    const need = (A - disp) & 0xffff; // what the registers must sum to, mod 2^16
    const vals = regs.map((g) => (c.pinned.has(g) ? c.regs[g] & 0xffff : null));
    if (regs.length === 2 && vals[0] === null && vals[1] === null) vals[r.int(2)] = rand16(r);
    if (regs.length === 1 && vals[0] === null) vals[0] = need;
    if (regs.length === 2 && vals[0] === null) vals[0] = (need - vals[1]) & 0xffff;
    if (regs.length === 2 && vals[1] === null) vals[1] = (need - vals[0]) & 0xffff;
    if (((vals.reduce((s, v) => s + v, 0) + disp) & 0xffff) !== A) continue;
    regs.forEach((g, i) => { if (!c.pinned.has(g)) c.pin(g, hi16(r, vals[i])); });
    return { bytes: [(mod << 6) | (regField << 3) | rm, ...le(disp & 0xffff, dsz)], ea: A, isMem: true, mod, rm };
  }
  throw new Error('memOperand16Mem: no solution');
}
{
  // every 16-bit ModRM memory pattern (mod 0/1/2 x rm 0..7), 54 cases each spread over nine instructions
  const ops = [
    (c, a) => emitRM(c, 32, [0x8b], true, 'r', 0, { a16: a }),                  // mov r32,[m]
    (c, a) => emitRM(c, 16, [0x01], true, 'r', 0, { a16: a }),                  // add [m],r16
    (c, a) => emitRM(c, 8, [0x88], true, 'r', 0, { a16: a }),                   // mov [m],r8
    (c, a) => emitRM(c, 8, [0x3a], true, 'r', 0, { a16: a }),                   // cmp r8,[m]
    (c, a) => emitRM(c, 32, [0x87], true, 'r', 0, { a16: a }),                  // xchg [m],r32
    (c, a) => emitRM(c, 16, [0xff], true, c.r.int(2), 0, { a16: a }),           // inc/dec word [m]
    (c, a) => { const k = c.r.pick([0, 1, 4, 5, 7]); emitRM(c, 32, [0xc1], true, k, 8, { a16: a, imm: shiftCount(c.r, 32) }); c.fm = shiftMask(SHIFTS[k], 32, c.imm); }, // rol/ror/shl/shr/sar dword [m],imm8
    (c, a) => { c.fm = BITMASK; emitRM(c, 16, [0x0f, 0xba], true, 4 + c.r.int(4), 8, { a16: a, imm: c.r.bool(0.7) ? c.r.int(16) : c.r.int(256) }); }, // bt/bts/btr/btc word [m],imm8
    (c, a) => { c.fm = FULL & ~AF; emitRM(c, 32, [0x83], true, 6, 8, { a16: a }); }, // xor dword [m],imm8
  ];
  for (let mod = 0; mod < 3; mod++) for (let rm = 0; rm < 8; rm++) {
    let i = 0;
    F('addr16', `addr16 (67) mod=${mod} ${a16Name(mod, rm)} memory`, 54, (c) => ops[i++ % ops.length](c, { mod, rm }));
  }
}
const A16 = '(67 mem)';
for (const w of [8, 16, 32]) {
  const [rn, rmn, imn] = WNAME[w];
  const o = w === 8 ? 0 : 1;
  F('addr16', `add ${rmn},${rn} ${A16}`, 60, (c) => emitRM(c, w, [0x00 + o], true, 'r', 0, { a16: true }));
  F('addr16', `sub ${rn},${rmn} ${A16}`, 60, (c) => emitRM(c, w, [0x2a + o], true, 'r', 0, { a16: true }));
  F('addr16', `and ${rmn},${rn} ${A16}`, 60, (c) => { c.fm = FULL & ~AF; emitRM(c, w, [0x20 + o], true, 'r', 0, { a16: true }); });
  F('addr16', `cmp ${rmn},${imn} ${A16}`, 60, (c) => emitRM(c, w, [w === 8 ? 0x80 : 0x81], true, 7, w, { a16: true }));
  F('addr16', `mov ${rmn},${rn} ${A16}`, 60, (c) => emitRM(c, w, [0x88 + o], true, 'r', 0, { a16: true }));
  F('addr16', `mov ${rn},${rmn} ${A16}`, 60, (c) => emitRM(c, w, [0x8a + o], true, 'r', 0, { a16: true }));
  F('addr16', `mov ${rmn},${imn} ${A16}`, 60, (c) => emitRM(c, w, [0xc6 + o], true, 0, w, { a16: true }));
  F('addr16', `xchg ${rmn},${rn} ${A16}`, 60, (c) => emitRM(c, w, [0x86 + o], true, 'r', 0, { a16: true }));
  F('addr16', `inc/dec ${rmn} ${A16}`, 60, (c) => emitRM(c, w, [0xfe + o], true, c.r.int(2), 0, { a16: true }));
  F('addr16', `not/neg ${rmn} ${A16}`, 60, (c) => emitRM(c, w, [0xf6 + o], true, c.r.range(2, 3), 0, { a16: true }));
  F('addr16', `xadd ${rmn},${rn} ${A16}`, 60, (c) => emitRM(c, w, [0x0f, 0xc0 + o], true, 'r', 0, { a16: true }));
  F('addr16', `cmpxchg ${rmn},${rn} ${A16}`, 60, (c) => {
    const m = emitRM(c, w, [0x0f, 0xb0 + o], true, 'r', 0, { a16: true });
    if (c.r.bool(0.5)) c.setW(EAX, w, c.readN(null, m.ea, w / 8));
  });
  F('addr16', `rol/ror/rcl/rcr/shl/shr/sar ${rmn},cl ${A16}`, 100, (c) => {
    const k = c.r.pick([0, 1, 2, 3, 4, 5, 7]);
    c.setW(ECX, 8, shiftCount(c.r, w));
    emitRM(c, w, [0xd2 + o], true, k, 0, { a16: true });
    c.fm = shiftMask(SHIFTS[k], w, c.regs[ECX] & 0xff);
  });
}
for (const w of [16, 32]) {
  const [rn, rmn] = WNAME[w];
  ['bt', 'bts', 'btr', 'btc'].forEach((op, k) => {
    F('addr16', `${op} ${rmn},${rn} ${A16}`, 60, (c) => {
      c.fm = BITMASK;
      const mod = c.r.int(3), rm = c.r.int(8), used = a16Regs(mod, rm);
      let reg; do reg = c.r.int(8); while (reg === ESP || used.includes(reg));
      const off = c.r.bool(0.3) ? c.r.range(-w, 2 * w) : c.r.range(-0x700 * 8, 0x700 * 8); // bit base + offset stays inside LOW
      c.pin(reg, w === 16 ? hi16(c.r, off) : off);
      emitRM(c, w, [0x0f, 0xa3 + 8 * k], true, reg, 0, { a16: { mod, rm, lo: LOW + 0x800, hi: LOW + 0x1800 }, noRegVal: true });
    });
    F('addr16', `${op} ${rmn},imm8 ${A16}`, 50, (c) => { c.fm = BITMASK; emitRM(c, w, [0x0f, 0xba], true, 4 + k, 8, { a16: true, imm: c.r.bool(0.7) ? c.r.int(w) : c.r.int(256) }); });
  });
  F('addr16', `movzx ${rn},r/m8 ${A16}`, 50, (c) => emitRM(c, w, [0x0f, 0xb6], true, 'r', 0, { size: 1, a16: true }));
  F('addr16', `movsx ${rn},r/m16 ${A16}`, 50, (c) => emitRM(c, w, [0x0f, 0xbf], true, 'r', 0, { size: 2, a16: true }));
  F('addr16', `imul ${rn},${rmn} ${A16}`, 50, (c) => { c.fm = MULMASK; emitRM(c, w, [0x0f, 0xaf], true, 'r', 0, { a16: true }); });
  F('addr16', `push ${rmn} ${A16}`, 50, (c) => emitRM(c, w, [0xff], true, 6, 0, { a16: true }));
  F('addr16', `pop ${rmn} ${A16}`, 50, (c) => emitRM(c, w, [0x8f], true, 0, 0, { a16: true }));
}
F('addr16', `setcc r/m8 ${A16}`, 80, (c) => emitRM(c, 8, [0x0f, 0x90 + c.r.int(16)], true, 0, 0, { a16: true }));
F('addr16', `mov m16,sreg (8c) ${A16}`, 50, (c) => emitRM(c, 16, [0x8c], true, c.r.int(6), 0, { a16: true, no66: c.r.bool() }));
{
  let i = 0;
  F('addr16', `segment override 26/2e/36/3e ${A16}`, 100, (c) => {
    const pre = c.r.pick([0x26, 0x2e, 0x36, 0x3e]);
    const ops = pre === 0x2e ? [[32, [0x8b], 'r'], [8, [0x8a], 'r'], [16, [0x39], 'r'], [32, [0x03], 'r']]
      : [[32, [0x8b], 'r'], [32, [0x01], 'r'], [8, [0x88], 'r'], [16, [0x39], 'r'], [32, [0x81], 0, 32]];
    const [w, opc, rf, imm] = ops[i++ % ops.length];
    emitRM(c, w, opc, true, rf, imm ?? 0, { a16: true });
    c.code = c.r.bool() ? [pre, ...c.code] : shufflePrefixes(c.r, [pre, ...c.code.slice(0, c.code.indexOf(opc[0])), opc[0]]).concat(c.code.slice(c.code.indexOf(opc[0]) + 1));
  });
}
F('addr16', `2e override on memory write (#GP) ${A16}`, 50, (c) => {
  c.vectors = [13];
  const w = c.r.pick([8, 16, 32]);
  emitRM(c, w, [c.r.pick([0x88, 0x00, 0x30]) + (w === 8 ? 0 : 1)], true, 'r', 0, { a16: true });
  c.code = [0x2e, ...c.code];
});
F('addr16', `64/65 override with null fs/gs (#GP) ${A16}`, 50, (c) => {
  c.vectors = [13];
  emitRM(c, 32, [c.r.pick([0x8b, 0x89, 0x01, 0x3b])], true, 'r', 0, { a16: true });
  c.code = [c.r.pick([0x64, 0x65]), ...c.code];
});
// moffs with a 16-bit offset (67 A0..A3): the offset is 2 bytes
for (const w of [8, 16, 32]) {
  const p = w === 16 ? [0x66] : [];
  const acc = ['al', 'ax', 'eax'][[8, 16, 32].indexOf(w)];
  const moffs16 = (c) => { const a = c.r.range(LOW, LOW + LOWSZ - w / 8); if (c.r.bool(0.5)) c.writeN(a, val(c.r, w), w / 8); return le(a, 2); };
  const pre = (c) => (c.r.bool() ? [0x67, ...p] : [...p, 0x67]);
  F('addr16', `mov ${acc},moffs16 (67 ${w === 8 ? 'a0' : 'a1'})`, 60, (c) => { c.code = [...pre(c), w === 8 ? 0xa0 : 0xa1, ...moffs16(c)]; });
  F('addr16', `mov moffs16,${acc} (67 ${w === 8 ? 'a2' : 'a3'})`, 60, (c) => { c.setW(EAX, w, val(c.r, w)); c.code = [...pre(c), w === 8 ? 0xa2 : 0xa3, ...moffs16(c)]; });
}
for (const pre of [[], [0x26], [0x2e], [0x36], [0x3e]]) {
  F('addr16', `xlat (67${pre.length ? ', ' + hex(pre) + ' override' : ''})`, pre.length ? 50 : 100, (c) => {
    c.pin(EBX, hi16(c.r, c.r.range(LOW, LOW + LOWSZ - 256)));
    c.code = c.r.bool() ? [...pre, 0x67, 0xd7] : [0x67, ...pre, 0xd7];
  });
}

// ---------------------------------------------------------------- string instructions with 0x67 (SI, DI, CX), in LOW
for (const { op, opc, usesSrc, usesDst, cmp, w, sfx, rep, ov } of stringForms()) {
  const name = `${rep ? rep + ' ' : ''}${op}${sfx} (67: si/di${rep ? '/cx' : ''})${ov ? ' (seg override on source)' : ''}`;
  F('string16', name, ov ? 50 : rep ? 100 : 60, (c) => strCase16(c, op, opc, w, rep, ov, usesSrc, usesDst, cmp));
}
// SI/DI/CX carry random upper 16 bits, which 0x67 string instructions neither use nor change
// (REP with CX = 0 but ECX != 0 does nothing).
function strCase16(c, op, opc, w, rep, ov, usesSrc, usesDst, cmp) {
  const r = c.r, size = w / 8;
  const df = (c.eflags & DF) !== 0;
  let n = 1;
  if (rep) { const k = r.int(20); n = k < 4 ? 0 : k < 8 ? r.range(1, 4) : r.range(5, 40); c.pin(ECX, hi16(r, n)); }
  const span = Math.max(n, 1) * size;
  const place = () => (df ? r.range(LOW + span + 8, LOW + LOWSZ - 8 - size) : r.range(LOW + 8, LOW + LOWSZ - 8 - span));
  if (usesSrc) c.pin(ESI, hi16(r, place()));
  if (usesDst) c.pin(EDI, hi16(r, place()));
  if (op === 'scas' || op === 'stos') c.setW(EAX, w, val(r, w));
  c.code = [...(rep === 'repne' ? [0xf2] : rep ? [0xf3] : []), ...(ov ? [r.pick([0x26, 0x2e, 0x36, 0x3e])] : []), 0x67, ...(w === 16 ? [0x66] : []), opc + (w === 8 ? 0 : 1)];
  if (r.bool(0.5)) c.code = shufflePrefixes(r, c.code);
  if (!cmp) return;
  const img = c.lowImage();
  const si = c.regs[ESI] & 0xffff, di = c.regs[EDI] & 0xffff;
  const elem = (base, i) => base + (df ? -i : i) * size;
  const src = (i) => (op === 'cmps' ? Array.from(img.subarray(elem(si, i) - LOW, elem(si, i) - LOW + size)) : le(c.getW(EAX, w), size));
  const k = r.range(0, Math.max(n - 1, 0));
  const mode = r.int(10);
  if ((rep === 'repe' && mode < 7) || (!rep && mode < 4)) { // equal run of length k (or all)
    const len = rep === 'repe' && mode < 3 ? n : k;
    for (let i = 0; i < Math.max(len, rep ? 0 : 1); i++) c.write(elem(di, i), src(i));
  } else if (rep === 'repne' && mode < 7 && n > 0) c.write(elem(di, k), src(k));
}

// ---------------------------------------------------------------- 16-bit operand-size near branches (EIP truncated to 16 bits)
// The target is (EIP + displacement) AND 0xFFFF, or a 16-bit value from a register / memory / the stack.
// Instructions sit in the low code page LCODE (0xC000) or in CODE (0x110000); every target lands in LCODE.
const lowEip = (c) => { c.eip = c.r.bool(0.3) ? c.r.range(LCODE + 0x10, LCODE + CODESZ - 0x20) : LOW_EIP; };
const anyEip = (c) => { if (c.r.bool(0.5)) lowEip(c); else randEip(c); };
const lowTarget = (c, len) => { for (;;) { const t = c.r.range(LCODE, LCODE + CODESZ - 1); if (t < c.eip || t >= c.eip + len) return t; } };
function lowRel8Target(c, len) { // rel8 target from an instruction in LCODE
  for (;;) { const t = c.eip + len + s8(c.r.u32()); if (t >= LCODE && t < LCODE + CODESZ && (t < c.eip || t >= c.eip + len)) return t; }
}
const rel16 = (c, t, len) => le((t - c.eip - len) & 0xffff, 2);
const next16 = (c, len) => [c.eip + len];
F('branch16', 'jmp rel16 (66 e9)', 120, (c) => { c.branch = true; anyEip(c); const t = lowTarget(c, 4); c.code = [0x66, 0xe9, ...rel16(c, t, 4)]; c.expectEip = [t]; });
F('branch16', 'call rel16 (66 e8)', 120, (c) => { c.branch = true; anyEip(c); const t = lowTarget(c, 4); c.code = [0x66, 0xe8, ...rel16(c, t, 4)]; c.expectEip = [t]; });
F('branch16', 'jmp rel8 (66 eb)', 80, (c) => { c.branch = true; lowEip(c); const t = lowRel8Target(c, 3); c.code = [0x66, 0xeb, (t - c.eip - 3) & 0xff]; c.expectEip = [t]; });
for (let cc = 0; cc < 16; cc++) {
  F('branch16', `j${CC[cc]} rel8 (66 7x)`, 60, (c) => { c.branch = true; lowEip(c); const t = lowRel8Target(c, 3); c.code = [0x66, 0x70 + cc, (t - c.eip - 3) & 0xff]; c.expectEip = [t, ...next16(c, 3)]; });
  F('branch16', `j${CC[cc]} rel16 (66 0f 8x)`, 60, (c) => { c.branch = true; anyEip(c); const t = lowTarget(c, 5); c.code = [0x66, 0x0f, 0x80 + cc, ...rel16(c, t, 5)]; c.expectEip = [t, ...next16(c, 5)]; });
}
F('branch16', 'ret (66 c3)', 100, (c) => { c.branch = true; anyEip(c); const t = lowTarget(c, 2); c.writeN(c.regs[ESP], t, 2); c.code = [0x66, 0xc3]; c.expectEip = [t]; });
F('branch16', 'ret imm16 (66 c2)', 100, (c) => {
  c.branch = true; anyEip(c); const t = lowTarget(c, 4); c.writeN(c.regs[ESP], t, 2);
  c.code = [0x66, 0xc2, ...le(c.r.pick([0, 2, 4, 8, 0xc, c.r.int(0x200), c.r.int(0x10000)]), 2)]; c.expectEip = [t];
});
for (const [nm, rf] of [['jmp', 4], ['call', 2]]) {
  F('branch16', `${nm} r/m16 reg (66 ff /${rf})`, 80, (c) => {
    c.branch = true; anyEip(c);
    let rm; do rm = c.r.int(8); while (rm === ESP);
    c.code = [0x66, 0xff, 0xc0 | (rf << 3) | rm];
    const t = lowTarget(c, 3); c.pin(rm, hi16(c.r, t)); c.expectEip = [t];
  });
  F('branch16', `${nm} r/m16 mem (66 ff /${rf}, addr32)`, 80, (c) => {
    c.branch = true; anyEip(c);
    const m = emitRM(c, 16, [0xff], true, rf, 0, { noRmVal: true });
    const t = lowTarget(c, c.code.length); c.writeN(m.ea, t, 2); c.expectEip = [t];
    if (m.ea + 2 > c.regs[ESP] - 36 && m.ea < c.regs[ESP]) c.fm = -1; // target would be clobbered by the register image: retry
  });
  F('branch16', `${nm} r/m16 mem (66 67 ff /${rf}, addr16)`, 80, (c) => {
    c.branch = true; anyEip(c);
    const m = emitRM(c, 16, [0xff], true, rf, 0, { noRmVal: true, a16: true });
    const t = lowTarget(c, c.code.length); c.writeN(m.ea, t, 2); c.expectEip = [t];
  });
  F('branch16', `${nm} r/m32 mem (67 ff /${rf}, addr16, 32-bit target)`, 80, (c) => {
    c.branch = true; randEip(c);
    const m = emitRM(c, 32, [0xff], true, rf, 0, { noRmVal: true, a16: true });
    const t = inPageTarget(c, c.code.length); c.writeN(m.ea, t, 4); c.expectEip = [t];
  });
}
for (const [nm, op] of [['loopne', 0xe0], ['loope', 0xe1], ['loop', 0xe2], ['jecxz', 0xe3]]) {
  for (const a16 of [false, true]) {
    const name = a16 ? (nm === 'jecxz' ? 'jcxz' : `${nm} cx`) : nm;
    F('branch16', `${name} rel8 (66${a16 ? ' 67' : ''})`, 60, (c) => {
      c.branch = true; lowEip(c);
      c.set(ECX, c.r.pick([0, 1, 2, 3, 0x10000, 0x10001, 0xffff0000, 0xffffffff, val(c.r, 32), c.r.int(100)]));
      const len = a16 ? 4 : 3;
      const t = lowRel8Target(c, len);
      c.code = [...(a16 ? (c.r.bool() ? [0x66, 0x67] : [0x67, 0x66]) : [0x66]), op, (t - c.eip - len) & 0xff];
      c.expectEip = [t, ...next16(c, len)];
    });
  }
}

// ---------------------------------------------------------------- build + run
function buildRunner(dir) {
  const exe = path.join(dir, 'runner');
  const args = ['-m32', '-O2', '-ffreestanding', '-nostdlib', '-static', '-fno-pic', '-no-pie', '-fno-stack-protector',
    '-fno-builtin', '-fno-tree-loop-distribute-patterns', '-fno-asynchronous-unwind-tables', '-o', exe, path.join(HERE, 'runner.c')];
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc failed: ${r.error ?? ''}\n${r.stderr}`);
  return exe;
}

function generateCases() {
  const cases = [];
  for (const f of forms) {
    const r = new Rng(hashStr(`${f.group}/${f.name}`));
    for (let i = 0; i < f.count; i++) {
      let c;
      for (let t = 0; ; t++) {
        c = new Case(r);
        f.gen(c);
        if (c.fm !== -1) break;
        if (t > 100) throw new Error(`form ${f.name}: cannot generate`);
      }
      if (c.code.length > 15) throw new Error(`form ${f.name}: instruction too long`);
      const inPage = (p) => c.eip >= p && c.eip + c.code.length <= p + CODESZ;
      if (!inPage(CODE) && !inPage(LCODE)) throw new Error(`form ${f.name}: eip`);
      c.form = f;
      cases.push(c);
    }
  }
  return cases;
}

function serialize(cases) {
  const parts = [];
  for (const c of cases) {
    const h = Buffer.alloc(48);
    h.writeUInt32LE(c.seed, 0); h.writeUInt32LE(c.eip, 4);
    c.regs.forEach((v, i) => h.writeUInt32LE(v >>> 0, 8 + 4 * i));
    h.writeUInt32LE(c.eflags, 40);
    h.writeUInt8(c.code.length, 44); h.writeUInt8(c.mem.length, 45);
    parts.push(h, Buffer.from(c.code));
    if (c.mem.length > 255) throw new Error('too many overrides');
    for (const [a, b] of c.mem) { const m = Buffer.alloc(6); m.writeUInt32LE(a, 0); m.writeUInt16LE(b.length, 4); parts.push(m, Buffer.from(b)); }
  }
  parts.push(Buffer.alloc(48));
  return Buffer.concat(parts);
}

function parseOutputs(buf, n) {
  const outs = [];
  let p = 0;
  for (let i = 0; i < n; i++) {
    const o = { vector: buf.readInt32LE(p), eip: buf.readUInt32LE(p + 4), regs: [], eflags: 0, mem: [], sregs: [] };
    for (let j = 0; j < 8; j++) o.regs.push(buf.readUInt32LE(p + 8 + 4 * j));
    o.eflags = buf.readUInt32LE(p + 40); o.trapno = buf.readUInt32LE(p + 44); o.err = buf.readUInt32LE(p + 48);
    for (let j = 0; j < 6; j++) o.sregs.push(buf.readUInt16LE(p + 52 + 2 * j));
    o.imghash = buf.readUInt32LE(p + 64);
    const nr = buf.readUInt16LE(p + 68); p += 70;
    for (let j = 0; j < nr; j++) { const a = buf.readUInt32LE(p), l = buf.readUInt16LE(p + 4); o.mem.push([a, buf.subarray(p + 6, p + 6 + l).toString('hex')]); p += 6 + l; }
    outs.push(o);
  }
  if (p !== buf.length) throw new Error(`runner output length mismatch (${p} vs ${buf.length})`);
  return outs;
}

function main() {
  const t0 = Date.now();
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('the CPU oracle must run natively on x86-64 Linux (with IA-32 emulation)');
  const tmp = mkdtempSync(path.join(tmpdir(), 'atlas386-oracle-'));
  let outs, cases;
  try {
    const exe = buildRunner(tmp);
    cases = generateCases();
    const input = serialize(cases);
    if (process.env.ORACLE_DUMP) writeFileSync(process.env.ORACLE_DUMP, input); // debugging aid: the runner's raw input
    const r = spawnSync(exe, [], { input, maxBuffer: 1 << 30 });
    if (r.error) throw new Error(`${r.error.message}; runner stderr: ${r.stderr}`); // EPIPE: the runner died early (see its stderr)
    if (r.status !== 0) throw new Error(`runner failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
    outs = parseOutputs(r.stdout, cases.length);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  // validate and assemble
  const problems = [];
  const groups = new Map();
  const perForm = new Map();
  cases.forEach((c, i) => {
    const o = outs[i];
    const f = c.form;
    const label = `${f.group}/${f.name} #${i} code=${hex(c.code)}`;
    if (!c.vectors.includes(o.vector)) problems.push(`${label}: unexpected vector ${o.vector} at eip ${o.eip.toString(16)}`);
    if (o.vector >= 0 && o.vector !== 4) {
      if (o.eip !== c.eip || o.regs.some((v, j) => v !== c.regs[j]) || o.eflags !== c.eflags || o.mem.length) problems.push(`${label}: fault state differs from the initial state` + (process.env.ORACLE_DEBUG ? ` in=${JSON.stringify([c.eip, c.regs, c.eflags])} out=${JSON.stringify([o.eip, o.regs, o.eflags, o.mem])}` : ''));
    }
    if (o.vector === 4 && o.eip !== c.eip + c.code.length) problems.push(`${label}: #OF eip`);
    if (o.vector === -1 && !c.branch && o.eip !== c.eip + c.code.length) problems.push(`${label}: eip ${o.eip.toString(16)} != end of instruction`);
    if (o.vector === -1 && c.expectEip && !c.expectEip.includes(o.eip)) problems.push(`${label}: eip ${o.eip.toString(16)} not in the model's ${c.expectEip.map((e) => e.toString(16))}`);
    const sregsDiffer = o.sregs.some((s, j) => s !== STD_SREGS[j]);
    if (sregsDiffer && !c.sregs) problems.push(`${label}: segment registers changed unexpectedly ${o.sregs}`);
    const fm = typeof c.fm === 'function' ? c.fm(o) : c.fm;
    const inObj = { eip: c.eip, regs: c.regs.map((v) => v >>> 0), eflags: c.eflags, mem: c.mem.map(([a, b]) => [a, hex(b)]) };
    const outObj = { vector: o.vector, eip: o.eip, regs: o.regs, eflags: o.eflags, flagmask: fm, mem: o.mem };
    if (o.vector === 13) outObj.err = o.err;
    if (c.sregs) outObj.sregs = o.sregs;
    if (c.undefRegs) outObj.undef_regs = c.undefRegs;
    const line = JSON.stringify({ form: f.name, code: hex(c.code), seed: c.seed, in: inObj, out: outObj });
    if (!groups.has(f.group)) groups.set(f.group, []);
    groups.get(f.group).push(line);
    const key = `${f.group}\t${f.name}`;
    const pf = perForm.get(key) ?? { n: 0, vec: {} };
    pf.n++; pf.vec[o.vector] = (pf.vec[o.vector] ?? 0) + 1;
    perForm.set(key, pf);
  });

  // the JS model of the initial DATA+LOW images (what the emulator harness builds) must match the runner's
  for (let i = 0; i < cases.length; i++) {
    if (i % 5 && !cases[i].mem.some(([a, b]) => inLow(a, b.length))) continue; // every 5th case, and every case that overrides LOW
    const { data, low } = cases[i].images();
    let h = 2166136261;
    for (const img of [data, low]) {
      const dv = new DataView(img.buffer);
      for (let j = 0; j < img.length; j += 4) { h ^= dv.getUint32(j, true); h = Math.imul(h, 16777619); }
    }
    if (h >>> 0 !== outs[i].imghash) problems.push(`case ${i} (${cases[i].form.name}): initial image mismatch`);
  }

  if (process.argv.includes('--forms')) for (const [k, v] of perForm) console.log(`${k}\t${v.n}\t${JSON.stringify(v.vec)}`);
  console.log('group      forms   cases   compressed');
  let total = 0, totalBytes = 0;
  if (!CHECK_ONLY) {
    mkdirSync(OUTDIR, { recursive: true });
    for (const f of readdirSync(OUTDIR)) if (f.endsWith('.jsonl.gz')) unlinkSync(path.join(OUTDIR, f));
  }
  for (const [g, lines] of groups) {
    const gz = gzipSync(Buffer.from(lines.join('\n') + '\n'), { level: 9 });
    const nforms = [...perForm.keys()].filter((k) => k.startsWith(g + '\t')).length;
    if (!CHECK_ONLY) writeFileSync(path.join(OUTDIR, `${g}.jsonl.gz`), gz);
    console.log(`${g.padEnd(10)} ${String(nforms).padStart(5)} ${String(lines.length).padStart(7)} ${String((gz.length / 1024).toFixed(0)).padStart(9)} KiB`);
    total += lines.length; totalBytes += gz.length;
  }
  console.log(`total      ${String(perForm.size).padStart(5)} ${String(total).padStart(7)} ${String((totalBytes / 1024).toFixed(0)).padStart(9)} KiB   (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const faults = {};
  for (const o of outs) if (o.vector !== -1) faults[o.vector] = (faults[o.vector] ?? 0) + 1;
  console.log('exception cases by vector:', JSON.stringify(faults));
  if (problems.length) {
    console.error(`\n${problems.length} problem(s):`);
    for (const p of problems.slice(0, 400)) console.error('  ' + p);
    process.exit(1);
  }
}

main();
