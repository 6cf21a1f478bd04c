/**
 * A small ustar (POSIX.1-1988) writer behind node:zlib's gzip: enough for a bundle of regular files, which `tar -xzf`,
 * 7-Zip, Windows' tar and Python's tarfile all read. No dependency: a ustar header is 512 bytes of fixed fields, and
 * the tar libraries on npm bring streams, links, pax headers and extraction that a bundle of a few files never needs.
 *
 * The writer streams: a file's bytes go to gzip as they are added, and the compressed bytes are counted on their way
 * to the output, so the archive cap (`maxBytes`) stops the writing as soon as it is passed (BundleLimitError).
 */
import { once } from 'node:events';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { BundleLimitError } from '../errors.js';

export const BLOCK = 512;
/** ustar's size field: 11 octal digits. */
export const MAX_ENTRY_SIZE = 8 ** 11 - 1;
const NAME_LEN = 100;
const PREFIX_LEN = 155;

export interface TarEntry {
  /** Path inside the archive, '/'-separated, relative. */
  name: string;
  size: number;
  mtime: Date;
  /** Permission bits (default 0o644). */
  mode?: number;
}

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as GNU tar writes them.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** Splits a path over ustar's prefix (155) and name (100) fields at a '/'; undefined when it does not fit. */
export function splitName(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) <= NAME_LEN) return { prefix: '', name };
  for (let i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= PREFIX_LEN && Buffer.byteLength(rest) <= NAME_LEN && rest.length > 0)
      return { prefix, name: rest };
  }
  return undefined;
}

/** Whether `name` can be written as a ustar entry (relative, no '..', no NUL, fits the name fields). */
export function isValidEntryName(name: string): boolean {
  if (name.length === 0 || name.startsWith('/') || name.includes('\0')) return false;
  if (name.split('/').some((part) => part === '..' || part === '' || part === '.')) return false;
  return splitName(name) !== undefined;
}

/** The 512-byte ustar header of a regular file. Throws RangeError for a name or size ustar cannot hold. */
export function ustarHeader(entry: TarEntry): Buffer {
  if (!isValidEntryName(entry.name))
    throw new RangeError(`not a valid archive entry name: ${JSON.stringify(entry.name)}`);
  if (!Number.isSafeInteger(entry.size) || entry.size < 0 || entry.size > MAX_ENTRY_SIZE)
    throw new RangeError(`archive entry size out of range: ${entry.size}`);
  const { prefix, name } = splitName(entry.name)!;
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, NAME_LEN, 'utf8');
  h.write(octal(entry.mode ?? 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(entry.size, 12), 124, 'ascii');
  const mtime = Math.max(0, Math.floor(entry.mtime.getTime() / 1000));
  h.write(octal(Math.min(mtime, 8 ** 11 - 1), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // the checksum counts its own field as spaces
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, PREFIX_LEN, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** Zero bytes after `size` bytes of content up to the next 512-byte block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/**
 * Writes a .tar.gz into `out` (a file's write stream that closes its file when it ends or is destroyed; the caller
 * owns the file's name, fsync and rename). `add` one entry at a time, then `finish`; after any failure, `abort` and
 * remove the file: it holds garbage.
 */
export class TarGzWriter {
  /** Compressed bytes produced so far. */
  compressedBytes = 0;
  private readonly gzip = zlib.createGzip({ level: 9 });
  private readonly done: Promise<void>;
  private failure: Error | undefined;
  private finished = false;

  private readonly out: Writable;

  constructor(out: Writable, maxBytes: number) {
    this.out = out;
    const count = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.compressedBytes += chunk.length;
        if (this.compressedBytes > maxBytes)
          cb(
            new BundleLimitError(
              'the compressed archive',
              this.compressedBytes,
              maxBytes,
              'bytes',
              'leave out --with-media-heads, or make the bundle of one datadir folder',
            ),
          );
        else cb(null, chunk);
      },
    });
    this.done = pipeline(this.gzip, count, out);
    this.done.catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  /** Throws the pipeline's error once there was one (it changes behind awaits: a method, not a narrowed field). */
  private check(): void {
    const failure = this.failure;
    if (failure) throw failure;
  }

  private async write(chunk: Buffer): Promise<void> {
    this.check();
    if (chunk.length > 0 && !this.gzip.write(chunk)) {
      // A failed pipeline never drains: its error ends the wait, and `failure` is set once `done` has settled.
      await Promise.race([once(this.gzip, 'drain'), this.done]).catch(() => this.done.catch(() => undefined));
    }
    this.check();
  }

  /** Adds one regular file; `data.length` is its size. */
  async add(name: string, data: Buffer, mtime: Date, mode?: number): Promise<void> {
    if (this.finished) throw new Error('TarGzWriter: add after finish');
    const entry: TarEntry = { name, size: data.length, mtime };
    if (mode !== undefined) entry.mode = mode;
    await this.write(ustarHeader(entry));
    await this.write(data);
    await this.write(padding(data.length));
  }

  /** Writes the end-of-archive blocks, flushes gzip into the file and waits until it is closed; the compressed size. */
  async finish(): Promise<number> {
    this.finished = true;
    await this.write(Buffer.alloc(2 * BLOCK));
    this.gzip.end();
    await this.done;
    this.check();
    await this.closed();
    return this.compressedBytes;
  }

  /** Stops the compression (after a failure) and waits until the file is closed; its content is then undefined. */
  async abort(): Promise<void> {
    this.finished = true;
    this.gzip.destroy();
    this.out.destroy();
    await this.done.catch(() => undefined);
    await this.closed();
  }

  private async closed(): Promise<void> {
    if (!this.out.closed) await once(this.out, 'close').catch(() => undefined);
  }
}
