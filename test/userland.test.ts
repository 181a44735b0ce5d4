// The Atlas user programs (userland/) and the root image (disk-images/).
// The programs are static i386 Linux executables, so they run natively on
// this x86 host too: each is run here and its output checked. These native
// runs are the oracle the Atlas kernel's runs of the same programs will be
// compared with (lines starting with "atlas:" are the only ones that differ
// between the two). The root image must list the programs and rebuild to
// the same bytes.
//
// Last, the same programs on the Atlas kernel (booted on Atlas386 from a root
// image whose /etc/demo.sh runs the programs init's demo leaves out) must
// print what they print natively, but for the lines that depend on the OS.
//
// Needs gcc -m32 and a kernel that runs 32-bit programs. Without them the
// tests skip, unless ATLAS386_REQUIRE_TOOLS=1 (CI), where they fail.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'build', 'userland');
const rootfs = join(root, 'build', 'rootfs');
const image = join(root, 'disk-images', 'root.img');
const requireTools = process.env.ATLAS386_REQUIRE_TOOLS === '1';

const PROGRAMS = [
  'belady', 'cat', 'cowfork', 'demand', 'echo', 'execloop', 'hello', 'init', 'libctest', 'memhog', 'multiprog', 'segv', 'sh',
  'sharedtext', 'stackgrow', 'swapvar', 'thrash', 'vmstat',
];

/** Builds the userland and the root image (quick when up to date), then runs hello. */
function probe(): { ok: boolean; why: string } {
  for (const dir of ['userland', 'disk-images']) {
    const make = spawnSync('make', ['-s', '-C', join(root, dir)], { encoding: 'utf8' });
    if (make.error || make.status !== 0) {
      return { ok: false, why: `make -C ${dir} failed: ${make.error?.message ?? make.stderr.trim()}` };
    }
  }
  const hello = spawnSync(join(bin, 'hello'), { encoding: 'utf8' });
  if (hello.error || hello.status !== 0) {
    return { ok: false, why: `this host cannot run i386 programs: ${hello.error?.message ?? `status ${hello.status}`}` };
  }
  return { ok: true, why: '' };
}

const host = probe();
const skip = !host.ok && !requireTools;
if (skip) console.warn(`userland tests skipped: ${host.why}`);

function run(
  name: string,
  args: string[] = [],
  opts: { input?: string | Buffer; env?: Record<string, string> } = {},
): SpawnSyncReturns<string> {
  if (!host.ok) throw new Error(`needed with ATLAS386_REQUIRE_TOOLS=1: ${host.why}`);
  const r = spawnSync(join(bin, name), args, {
    encoding: 'latin1',
    input: opts.input ?? '',
    env: opts.env ?? {},
    timeout: 10_000,
  });
  if (r.error) throw r.error;
  return r;
}

/** stackgrow's checksum, computed as the program does (FNV-1a over each frame's pattern, deepest first). */
function stackgrowChecksum(depth: number): string {
  const FRAME = 4000;
  let h = 2166136261 | 0;
  for (let level = depth; level >= 1; level--) {
    for (let i = 0; i < FRAME; i++) h = Math.imul(h ^ ((level * 31 + i * 7) & 0xff), 16777619);
  }
  return `0x${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/** A /proc/vmstat in the Atlas format (userland/include/atlas/vmstat.h). */
const FAKE_VMSTAT =
  'atlas-vmstat 1\nminor_faults 12\nmajor_faults 3\nzero_fill_faults 9\npages_resident 40\n' +
  'frames_total 8000\nframes_free 7000\nself_minor_faults 1\nself_major_faults 2\n' +
  'self_zero_fill_faults 1\nself_pages_resident 5\nswap_ins 77\n';

describe.skipIf(skip)('user programs, run natively', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'atlas-userland-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('hello prints hello, world', () => {
    const r = run('hello');
    expect(r.stdout).toBe('hello, world\n');
    expect(r.status).toBe(0);
  });

  it('echo echoes its arguments', () => {
    expect(run('echo', ['a', 'b  c', '', 'd']).stdout).toBe('a b  c  d\n');
    expect(run('echo').stdout).toBe('\n');
    expect(run('echo', ['-n', 'no', 'newline']).stdout).toBe('no newline');
    const long = 'x'.repeat(3000);
    expect(run('echo', [long, long]).stdout).toBe(`${long} ${long}\n`);
  });

  it('cat copies files and standard input', () => {
    const data = Buffer.alloc(10_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
    const file = join(tmp, 'data.bin');
    writeFileSync(file, data);
    const r = spawnSync(join(bin, 'cat'), [file], { env: {} });
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, data)).toBe(0);
    expect(run('cat', [], { input: 'from stdin\n' }).stdout).toBe('from stdin\n');
    writeFileSync(join(tmp, 'a.txt'), 'A\n');
    expect(run('cat', [join(tmp, 'a.txt'), '-', join(tmp, 'a.txt')], { input: 'in\n' }).stdout).toBe('A\nin\nA\n');
    const missing = run('cat', [join(tmp, 'nope')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`cat: ${join(tmp, 'nope')}: No such file or directory\n`);
  });

  it('stackgrow reaches its depth with a deterministic checksum', () => {
    for (const [args, depth] of [[[], 256], [['1000'], 1000], [['1'], 1]] as const) {
      const r = run('stackgrow', [...args]);
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines[0]).toMatch(new RegExp(`^stackgrow: reached depth ${depth}, \\d+ KiB of stack below the first frame$`));
      expect(lines[1]).toBe(`stackgrow: checksum ${stackgrowChecksum(depth)}, every frame intact`);
      expect(lines.slice(2)).toEqual(['']);
    }
    // At least a page per level, so the stack grows page by page.
    const kib = Number(/(\d+) KiB/.exec(run('stackgrow', ['100']).stdout)![1]);
    expect(kib).toBeGreaterThanOrEqual(99 * 3.9);
    expect(run('stackgrow').stdout).toBe(run('stackgrow').stdout);
  });

  it('segv: every illegal access kills its child with signal 11', () => {
    const r = run('segv');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const kinds = ['null read', 'write to text', 'read kernel memory', 'execute beyond the mapped area', 'jump to a kernel address'];
    const died = r.stdout.split('\n').filter((l) => l.includes(': child '));
    expect(died).toEqual(kinds.map((k) => `segv: ${k}: child killed by signal 11 (SIGSEGV)`));
    expect(r.stdout).toContain('segv: read kernel memory at 0xc0000000\n');
    expect(r.stdout.endsWith('segv: 5 of 5 children killed by SIGSEGV\n')).toBe(true);
  });

  it('sh runs programs by name from a here-doc', () => {
    const env = { PATH: bin };
    const r = run('sh', [], { input: 'echo hi\n', env });
    expect(r.stdout).toBe('hi\n');
    expect(r.status).toBe(0);
    const script = run('sh', [], {
      input: '# a comment\n\n  echo   one   two  \nhello\nnosuch arg\nexit 3\necho not reached\n',
      env,
    });
    expect(script.stdout).toBe('one two\nhello, world\n');
    expect(script.stderr).toContain('sh: nosuch: command not found\n');
    expect(script.status).toBe(3);
    expect(run('sh', [], { input: 'nosuch\n', env }).status).toBe(127);
    expect(run('sh', ['-c', `${bin}/echo by path`]).stdout).toBe('by path\n');
    const file = join(tmp, 'demo.sh');
    writeFileSync(file, 'echo from a file\nstackgrow 4\n');
    const fromFile = run('sh', [file], { env });
    expect(fromFile.stdout).toBe(
      '$ echo from a file\nfrom a file\n$ stackgrow 4\n' +
        `stackgrow: reached depth 4, ${/(\d+) KiB/.exec(run('stackgrow', ['4']).stdout)![1]} KiB of stack below the first frame\n` +
        `stackgrow: checksum ${stackgrowChecksum(4)}, every frame intact\n`,
    );
  });

  it('demand touches its pages; its output does not depend on the OS', () => {
    const native = run('demand');
    expect(native.status, native.stderr).toBe(0);
    const lines = native.stdout.trimEnd().split('\n');
    expect(lines.every((l) => l.startsWith('demand: '))).toBe(true);
    expect(lines.filter((l) => / page \d+ (read|written)$/.test(l))).toHaveLength(24); // 4 data, 4 bss, 8 heap, 8 mmap
    expect(lines.at(-1)).toMatch(/^demand: done, checksum 0x[0-9a-f]{8}$/);
    expect(run('demand').stdout).toBe(native.stdout);
    // With an Atlas-format /proc/vmstat, the "atlas:" lines appear and nothing else changes.
    const fake = join(tmp, 'vmstat');
    writeFileSync(fake, FAKE_VMSTAT);
    const atlas = run('demand', [], { env: { ATLAS_VMSTAT: fake } });
    expect(atlas.status).toBe(0);
    const atlasLines = atlas.stdout.trimEnd().split('\n');
    expect(atlasLines.filter((l) => !l.startsWith('atlas:'))).toEqual(lines);
    expect(atlasLines.filter((l) => l.startsWith('atlas:')).length).toBeGreaterThan(16);
    expect(atlas.stdout).toContain('atlas:   that write: +0 zero-fill, +0 minor, +0 major faults; 5 pages resident\n');
  });

  it('vmstat prints the Atlas counters, and says when /proc/vmstat is not Atlas\'s', () => {
    const fake = join(tmp, 'vmstat');
    writeFileSync(fake, FAKE_VMSTAT);
    const r = run('vmstat', [], { env: { ATLAS_VMSTAT: fake } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'vmstat: Atlas VM counters',
        '  whole machine:',
        '    minor_faults                 12',
        '    major_faults                  3',
        '    zero_fill_faults              9',
        '    pages_resident               40',
        '    frames_total               8000',
        '    frames_free                7000',
        '    swap_ins                     77',
        '  this process (vmstat):',
        '    minor_faults                  1',
        '    major_faults                  2',
        '    zero_fill_faults              1',
        '    pages_resident                5',
        '',
      ].join('\n'),
    );
    const native = run('vmstat');
    if (existsSync('/proc/vmstat')) {
      expect(native.status).toBe(0);
      expect(native.stdout).toMatch(/^vmstat: \/proc\/vmstat is not in the Atlas format/);
    } else {
      expect(native.status).toBe(1);
    }
  });

  it('libctest: printf formats, strings, 64-bit division, malloc', () => {
    const r = run('libctest');
    expect(r.stdout).toBe(
      [
        '[-42] [   42] [42   ] [-0042] [+7] [0]',
        '[4294967295] [beef] [BEEF] [00001234] [10] [0xff]',
        '[-2147483648] [4000000000] [deadbeef] [-9000000000000000000] [18446744073709551615] [123456789abcdef]',
        '[str] [   right] [left    ] [tru] [x] [%] [0x1000] [   9]',
        'snprintf truncates: [0123456] returns 10',
        `64-bit division: ${0xfedcba9876543210n / 1000000007n} ${0xfedcba9876543210n % 1000000007n} -1234567890 -123`,
        'libctest: all checks passed',
        '',
      ].join('\n'),
    );
    expect(r.status).toBe(0);
  });

  it('memhog fills and verifies memory; the checksum depends on neither order nor OS', () => {
    const seq = run('memhog', ['8M']);
    expect(seq.status, seq.stdout).toBe(0);
    expect(seq.stdout).toBe(
      'memhog: 8192 KiB (2048 pages), sequential order, 1 verify pass\n' +
        'memhog: wrote 2048 pages\n' +
        'memhog: pass 1: read 2048 pages back, checksum 0xd62b5f6c\n' +
        'memhog: every word verified\n',
    );
    const random = run('memhog', ['8M', 'random', '2']);
    expect(random.status).toBe(0);
    expect(random.stdout.match(/checksum 0x[0-9a-f]+/g)).toEqual(['checksum 0xd62b5f6c', 'checksum 0xd62b5f6c']);
    expect(run('memhog', ['12k']).stdout).toContain('12 KiB (3 pages)');
    expect(run('memhog', ['lots']).status).toBe(2);
  });

  it('swapvar keeps its generation across the sweep (the debugger\'s watchpoint tests expect this line on Atlas)', () => {
    const r = run('swapvar');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('swapvar: generation 2, checksum 320a0300\n');
    expect(run('swapvar', ['lots']).status).toBe(2);
  });

  it('thrash sweeps a growing working set', () => {
    const r = run('thrash', ['1M', '256K', '2']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(/^thrash: working set {3}256 KiB \( {2}64 pages\): 2 passes, checksum 0x[0-9a-f]{8}$/);
    expect(lines[4]).toMatch(/^thrash: working set {2}1024 KiB \( 256 pages\)/);
    expect(run('thrash', ['1M', '256K', '2']).stdout).toBe(r.stdout);
  });

  it('multiprog runs N processes that each verify their memory', () => {
    const r = run('multiprog', ['4', '512K', '2']);
    expect(r.status, r.stdout).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('multiprog: 4 processes of 512 KiB each, 2 passes, 0 ms of think time after each');
    // One line per process, in order whatever the scheduling, each with its own checksum.
    expect(lines.slice(1, 5).map((l) => l.replace(/0x[0-9a-f]{8}/, 'SUM'))).toEqual(
      [1, 2, 3, 4].map((i) => `multiprog: process ${i}: checksum SUM, every word verified`),
    );
    expect(new Set(lines.slice(1, 5).map((l) => /0x[0-9a-f]{8}/.exec(l)![0])).size).toBe(4);
    expect(lines.slice(5)).toEqual(['multiprog: 4 of 4 processes verified their memory', '']);
    // A process's checksum depends only on its number, the size and its memory being intact.
    expect(run('multiprog', ['4', '512K', '2']).stdout).toBe(r.stdout);
    expect(run('multiprog', ['2', '512K', '1']).stdout).toBe(
      'multiprog: 2 processes of 512 KiB each, 1 pass, 0 ms of think time after each\n' + lines.slice(1, 3).join('\n') + '\n' +
        'multiprog: 2 of 2 processes verified their memory\n',
    );
  });

  it('belady shows FIFO faulting more with 4 frames than with 3', () => {
    const r = run('belady');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('belady: FIFO with 3 frames: 9 faults\nbelady: FIFO with 4 frames: 10 faults\n');
    expect(r.stdout).toContain("belady: 4 frames fault more than 3: Belady's anomaly\n");
    expect(r.stdout).toContain('belady:   ref 5: FAULT [4 5 2 3]\n');
    // The replay under each frame limit: natively the limit does nothing, so only the checksums show.
    expect(r.stdout).toMatch(/\nbelady: replayed the string on 5 pages with a limit of 3 frames, checksum 0x[0-9a-f]{8}\n/);
    expect(r.stdout).toMatch(/\nbelady: replayed the string on 5 pages with a limit of 4 frames, checksum 0x[0-9a-f]{8}\n$/);
    expect(r.stdout).not.toContain('atlas:');
    // With an Atlas-format /proc/vmstat, an "atlas:" line per replay gives its faults (none here: the file does not change).
    const fake = join(tmp, 'vmstat');
    writeFileSync(fake, FAKE_VMSTAT);
    const atlas = run('belady', [], { env: { ATLAS_VMSTAT: fake } });
    expect(atlas.stdout.split('\n').filter((l) => !l.startsWith('atlas:')).join('\n')).toBe(r.stdout);
    expect(atlas.stdout).toContain('atlas: FIFO replay with 3 frames: 0 faults\n');
    expect(atlas.stdout).toContain('atlas: FIFO replay with 4 frames: 0 faults\n');
  });

  it('init runs the demo from an unpacked root image and exits 0', () => {
    const r = run('init', [rootfs]);
    expect(r.status, r.stdout).toBe(0);
    const headers = r.stdout.split('\n').filter((l) => l.startsWith('== '));
    expect(headers).toEqual([
      '== /bin/hello ==',
      '== /bin/echo echo echoes its arguments ==',
      '== /bin/cat /etc/motd ==',
      '== /bin/demand ==',
      '== /bin/stackgrow ==',
      '== /bin/segv ==',
      '== /bin/sh /etc/demo.sh ==',
      '== /bin/vmstat ==',
    ]);
    expect(r.stdout).toContain('== /bin/hello ==\nhello, world\n');
    expect(r.stdout).toContain(readFileSync(join(root, 'disk-images', 'rootfs', 'etc', 'motd'), 'latin1'));
    expect(r.stdout).toContain('$ hello\nhello, world\n');
    expect(r.stdout.endsWith('init: demo done, 8 of 8 programs ended as expected; powering off\n')).toBe(true);
  });

  it('the programs are static ELF32 executables at 0x08048000, without PT_INTERP or TLS', () => {
    for (const name of PROGRAMS) {
      const elf = readFileSync(join(bin, name));
      const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
      expect([...elf.subarray(0, 6)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 1, 1]);
      expect(v.getUint16(16, true)).toBe(2); // ET_EXEC
      expect(v.getUint16(18, true)).toBe(3); // EM_386
      const types: number[] = [];
      let lowest = Infinity;
      for (let i = 0; i < v.getUint16(44, true); i++) {
        const ph = v.getUint32(28, true) + i * v.getUint16(42, true);
        types.push(v.getUint32(ph, true));
        if (v.getUint32(ph, true) === 1) {
          lowest = Math.min(lowest, v.getUint32(ph + 8, true));
          expect(v.getUint32(ph + 4, true) % 4096, `${name}: offset = vaddr mod 4096`).toBe(v.getUint32(ph + 8, true) % 4096);
        }
      }
      expect(lowest, name).toBe(0x08048000);
      expect(types, name).not.toContain(3); // PT_INTERP
      expect(types, name).not.toContain(7); // PT_TLS
    }
  });
});

describe.skipIf(skip)('root image', () => {
  it('lists the programs and data files (tar tf)', () => {
    if (!host.ok) throw new Error(`needed with ATLAS386_REQUIRE_TOOLS=1: ${host.why}`);
    const r = spawnSync('tar', ['tf', image], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      'bin/',
      ...PROGRAMS.map((p) => `bin/${p}`),
      'etc/',
      'etc/demo.sh',
      'etc/motd',
    ]);
    expect(statSync(image).size % 65536).toBe(0);
    const v = spawnSync('tar', ['tvf', image], { encoding: 'utf8' }).stdout;
    expect(v).toMatch(/^-rwxr-xr-x 0\/0 +\d+ 1970-01-01 00:00 bin\/init$/m);
    expect(v).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 etc\/motd$/m);
    // ustar headers, and the programs in the image are the ones built.
    const img = readFileSync(image);
    expect(img.subarray(257, 263).toString('latin1')).toBe('ustar\0');
    const x = spawnSync('tar', ['xOf', image, 'bin/hello']);
    expect(Buffer.compare(x.stdout, readFileSync(join(bin, 'hello')))).toBe(0);
  });

  it('building again from scratch gives the same bytes', () => {
    if (!host.ok) throw new Error(`needed with ATLAS386_REQUIRE_TOOLS=1: ${host.why}`);
    const out = mkdtempSync(join(tmpdir(), 'atlas-rebuild-'));
    try {
      const r = spawnSync(
        'make',
        ['-s', '-C', join(root, 'disk-images'), `BIN=${join(out, 'userland')}`, `STAGE=${join(out, 'rootfs')}`, `IMG=${join(out, 'root.img')}`],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      for (const name of PROGRAMS) {
        expect(Buffer.compare(readFileSync(join(out, 'userland', name)), readFileSync(join(bin, name))), name).toBe(0);
      }
      expect(Buffer.compare(readFileSync(join(out, 'root.img')), readFileSync(image))).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/**
 * What a run prints that must not depend on the OS: from init's first line
 * on, without the "atlas:" lines (Atlas's VM counters), the kernel's lines
 * about processes it killed, and vmstat's report (its own section).
 */
function osIndependent(output: string): string {
  const lines = output.split('\n');
  const start = lines.indexOf(lines.find((l) => l.startsWith('init: running the demo')) ?? '');
  const kept: string[] = [];
  let inVmstat = false;
  for (const line of lines.slice(Math.max(start, 0))) {
    if (line.startsWith('== ')) inVmstat = line === '== /bin/vmstat ==';
    else if (inVmstat && line !== '') continue;
    if (line.startsWith('atlas:') || /^pid \d+ \(\w+\): /.test(line)) continue;
    kept.push(line);
  }
  return kept.join('\n');
}

describe.skipIf(skip)('user programs on the Atlas kernel', () => {
  it('print the same as natively, but for the Atlas-only lines', () => {
    if (!host.ok) throw new Error(`needed with ATLAS386_REQUIRE_TOOLS=1: ${host.why}`);
    const kernel = join(root, 'build', 'kernel', 'kernel.elf');
    const cli = join(root, 'dist', 'atlas386.mjs');
    for (const f of [kernel, cli]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
    const dir = mkdtempSync(join(tmpdir(), 'atlas-userland-boot-'));
    try {
      // The root image's tree, with a demo.sh that runs every other program.
      const tree = join(dir, 'root');
      cpSync(rootfs, tree, { recursive: true });
      writeFileSync(
        join(tree, 'etc', 'demo.sh'),
        ['libctest', 'echo -n no newline', 'echo', 'demand 3', 'stackgrow 64',
          'memhog 2M random 2', 'thrash 512K 128K 2', 'multiprog 3 256K 2', 'belady', 'nosuch', 'exit 0', ''].join('\n'),
      );
      const img = join(dir, 'root.img');
      const tar = spawnSync(
        'tar',
        ['--format=ustar', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', tree, '-cf', img, 'bin', 'etc'],
        { encoding: 'utf8' },
      );
      expect(tar.status, tar.stderr).toBe(0);
      writeFileSync(img, Buffer.alloc((65536 - (statSync(img).size % 65536)) % 65536), { flag: 'a' });
      const atlas = spawnSync(process.execPath, [cli, 'boot', '--kernel', kernel, '--hda', img], {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
      const out = atlas.stdout.toString('latin1');
      expect(atlas.stderr.toString(), out).toBe('');
      // The kernel's line for each segv child, and Atlas counters from the programs that print them.
      expect(out.match(/^pid \d+ \(segv\): segmentation fault at /gm)).toHaveLength(5);
      expect(out).toMatch(/^atlas: FIFO replay with 3 frames: \d+ faults$/m);
      expect(out).toMatch(/^vmstat: Atlas VM counters$/m);
      // Natively, with standard output and error on one file, as they share the console on Atlas.
      const log = join(dir, 'native.log');
      const fd = openSync(log, 'w');
      const native = spawnSync(join(bin, 'init'), [tree], { stdio: ['ignore', fd, fd], env: {}, timeout: 30_000 });
      closeSync(fd);
      expect(native.status).toBe(0);
      expect(osIndependent(out)).toBe(osIndependent(readFileSync(log, 'latin1')));
      expect(osIndependent(out)).toContain('$ belady\nbelady: reference string 1 2 3 4 1 2 5 1 2 3 4 5\n');
      expect(osIndependent(out)).toContain('memhog: every word verified\n');
      expect(atlas.status, out).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
