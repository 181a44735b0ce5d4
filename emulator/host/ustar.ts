// The names in a ustar archive (the Atlas root image), so that `atlas386
// run PROGRAM` can say "no such program" before booting a kernel that would
// only panic about it.

const BLOCK = 512;

function field(header: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && header[end] !== 0) end++;
  return new TextDecoder('latin1').decode(header.subarray(offset, end));
}

/** Every member's path (prefix/name, without a leading "./" or "/"), in archive order. */
export function ustarNames(archive: Uint8Array): string[] {
  const names: string[] = [];
  for (let at = 0; at + BLOCK <= archive.length;) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break; // the end-of-archive blocks
    if (field(header, 257, 6) !== 'ustar') throw new Error('not a ustar archive');
    const prefix = field(header, 345, 155);
    const name = field(header, 0, 100);
    names.push((prefix ? `${prefix}/${name}` : name).replace(/^(\.\/|\/)+/, ''));
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return names;
}
