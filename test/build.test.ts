// The guest-code builds (kernel/, userland/) stop with one clear line when
// the C compiler cannot build 32-bit x86 code, instead of an error per file.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './guests/run.js';

describe('building guest code without an i386-capable gcc', () => {
  it.each(['kernel', 'userland'])('make -C %s says so in one line and fails', (dir) => {
    const r = spawnSync('make', ['-s', '-C', join(root, dir), 'CC=/bin/false'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/\/bin\/false cannot build i386 code \(\/bin\/false -m32 -march=i686 failed\): install gcc and binutils with 32-bit x86 support \(Debian: gcc-multilib\)/),
    ]);
  });
});
