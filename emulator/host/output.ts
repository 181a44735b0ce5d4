// Where a guest's console output goes: a sink, a line buffer in front of it,
// and an in-memory collector (bench and tests).

export interface OutputSink {
  write(chunk: Uint8Array): unknown;
}

export const stdoutSink: OutputSink = { write: (chunk) => process.stdout.write(chunk) };

/** Buffers output bytes and passes them on per line, when full, or when asked. */
export class LineBuffer {
  private readonly buf = new Uint8Array(4096);
  private len = 0;
  constructor(private readonly sink: OutputSink) {}
  put(byte: number): void {
    this.buf[this.len++] = byte;
    if (byte === 0x0a || this.len === this.buf.length) this.flush();
  }
  flush(): void {
    if (this.len === 0) return;
    this.sink.write(this.buf.slice(0, this.len));
    this.len = 0;
  }
}

/** Collects output in memory. */
export class Collector implements OutputSink {
  private readonly chunks: Uint8Array[] = [];
  write(chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}
