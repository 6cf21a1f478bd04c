/**
 * Pre-allocated data files (hivNNNNN.mp4 / .pic) written with large positional writes. A camera formats its
 * storage once (every hiv file exists at full size), then overwrites ranges in place: this does the same,
 * either allocating real zeros or, for scan benchmarks, leaving holes (ftruncate).
 */
import { open, type FileHandle } from 'node:fs/promises';

const ZERO_CHUNK = 4 * 1024 * 1024;
export const DEFAULT_WRITE_BUFFER = 8 * 1024 * 1024;

/** Create `file` with `size` bytes: holes when `sparse`, written zeros otherwise. Truncates an existing file. */
export async function preallocate(file: string, size: number, sparse: boolean): Promise<void> {
  const fh = await open(file, 'w');
  try {
    if (sparse) {
      await fh.truncate(size);
      return;
    }
    const zeros = Buffer.alloc(Math.min(ZERO_CHUNK, Math.max(1, size)));
    for (let at = 0; at < size; at += zeros.length) {
      const n = Math.min(zeros.length, size - at);
      await fh.write(zeros, 0, n, at);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Buffered positional writer for one existing file: contiguous writes are gathered into one large write; a
 * write elsewhere flushes first. Never grows the file beyond what the caller writes.
 */
export class PositionalWriter {
  private fh: FileHandle | null = null;
  private readonly buf: Buffer;
  private bufStart = 0;
  private bufLen = 0;

  private constructor(
    readonly file: string,
    fh: FileHandle,
    bufferSize: number,
  ) {
    this.fh = fh;
    this.buf = Buffer.allocUnsafe(bufferSize);
  }

  static async open(file: string, bufferSize = DEFAULT_WRITE_BUFFER): Promise<PositionalWriter> {
    return new PositionalWriter(file, await open(file, 'r+'), bufferSize);
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    if (!this.fh) throw new Error(`${this.file} is closed`);
    if (this.bufLen > 0 && (offset !== this.bufStart + this.bufLen || this.bufLen + bytes.length > this.buf.length)) {
      await this.flush();
    }
    if (bytes.length >= this.buf.length) {
      await writeAll(this.fh, bytes, offset);
      return;
    }
    if (this.bufLen === 0) this.bufStart = offset;
    this.buf.set(bytes, this.bufLen);
    this.bufLen += bytes.length;
  }

  async flush(): Promise<void> {
    if (!this.fh || this.bufLen === 0) return;
    await writeAll(this.fh, this.buf.subarray(0, this.bufLen), this.bufStart);
    this.bufLen = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.fh?.close();
    this.fh = null;
  }
}

async function writeAll(fh: FileHandle, bytes: Uint8Array, offset: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, offset + done);
    done += bytesWritten;
  }
}

/** Keeps the one data file being written open; switching files flushes and closes the previous one. */
export class DataFileSink {
  private current: { key: string; writer: PositionalWriter } | null = null;

  constructor(private readonly pathOf: (volume: number, fileNo: number) => string) {}

  async write(volume: number, fileNo: number, offset: number, bytes: Uint8Array): Promise<void> {
    const file = this.pathOf(volume, fileNo);
    if (this.current?.key !== file) {
      await this.current?.writer.close();
      this.current = { key: file, writer: await PositionalWriter.open(file) };
    }
    await this.current.writer.write(offset, bytes);
  }

  async close(): Promise<void> {
    await this.current?.writer.close();
    this.current = null;
  }
}
