// `atlas386 run PROGRAM [ARGS...]`: the Atlas kernel boots quietly, runs one
// program from the root image as its first process, and the machine's exit
// status is the program's.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './guests/run.js';

const cli = join(root, 'dist', 'atlas386.mjs');
const runWith = (input: string, ...args: string[]) =>
  spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'utf8', input, timeout: 60_000 });
const run = (...args: string[]) => runWith('', ...args);

describe('atlas386 run', () => {
  it('runs a program with its arguments and no boot lines', () => {
    const hello = run('hello');
    expect([hello.stdout, hello.stderr, hello.status]).toEqual(['hello, world\n', '', 0]);
    const echo = run('echo', 'one', '-n', 'two');
    expect([echo.stdout, echo.status]).toEqual(['one -n two\n', 0]);
  });

  it('piped input reaches the program and then ends (Ctrl-D, the console\'s end of file)', () => {
    const cat = runWith('line one\nline two', 'cat');
    expect([cat.stdout, cat.status]).toEqual(['line one\nline two', 0]);
    const sh = runWith('echo from a pipe\nhello\n', 'sh');
    expect(sh.stdout).toBe('$ from a pipe\n$ hello, world\n$ \n');
    expect(sh.status).toBe(0);
  });

  it('exits with the program\'s status', () => {
    const cat = run('cat', '/etc/no-such-file');
    expect(cat.stdout).toMatch(/^cat: \/etc\/no-such-file: No such file or directory\n$/);
    expect(cat.status).toBe(1);
  });

  it('options before the program are the emulator\'s; --stats reports the run', () => {
    const r = run('--stats', '--tlb', 'data-4k=128/4', 'hello');
    expect(r.stdout).toBe('hello, world\n');
    expect(r.stderr).toMatch(/atlas386: TLB \(entries\/ways\): code-4k 32\/4, code-4m 2\/2, data-4k 128\/4/);
  });

  it('a program that is not in the root image, or an argument with a space: one line, status 1', () => {
    const missing = run('nosuch');
    expect(missing.stderr).toMatch(/^atlas386: no program \/bin\/nosuch in the root image \(.*root\.img\); it has .*\bhello\b.*\n$/);
    expect(missing.status).toBe(1);
    const spaced = run('echo', 'a b');
    expect(spaced.stderr).toBe('atlas386: program arguments cannot be empty or contain spaces (the kernel command line separates them): "a b"\n');
    expect(spaced.status).toBe(1);
  });

  it('a reader that goes away ends the run quietly, like SIGPIPE (status 141, no stack trace)', async () => {
    const child = spawn(process.execPath, [cli, 'boot'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.once('data', () => child.stdout.destroy());
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(stderr).toBe('');
    expect(status).toBe(141);
  });
});
