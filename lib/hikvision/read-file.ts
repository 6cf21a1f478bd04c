/**
 * Bounded, read-only file reads for the index readers: one positioned read per request (looping only on the
 * short reads some network file systems return), and the consistent read of an index table. Files are opened
 * through a ShareIo (lib/share-io.ts): every call has a time limit, and only regular files are read.
 */
import { IndexCorruptError, LimitExceededError, NotRegularFileError, ShareTimeoutError } from '../errors.js';
import type { ShareIo } from '../share-io.js';
import {
  HEADER_SIZE,
  MAX_INDEX_READ_BYTES,
  parseIndexHeader,
  readModifyTimes,
  type IndexHeader,
} from './index-header.js';

/** The part of fs.FileHandle the readers use (tests substitute a fake one). */
export interface ReadableFile {
  stat(): Promise<{ size: number; mtimeMs?: number }>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

export type OpenFile = (file: string) => Promise<ReadableFile>;

/** Read up to `length` bytes at `position`; shorter only at end of file. */
export async function readAt(fh: ReadableFile, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** Errors that say the share (not the file's content) is the problem: callers must not take them for "empty". */
export function isShareProblem(err: unknown): err is ShareTimeoutError | NotRegularFileError {
  return err instanceof ShareTimeoutError || err instanceof NotRegularFileError;
}

/**
 * The first bytes of a file (for format sniffing); empty when missing or unreadable. A share that does not answer,
 * or a FIFO/device where a file should be, is thrown (ShareTimeoutError / NotRegularFileError), never "empty".
 */
export async function readHead(file: string, length: number, io: ShareIo): Promise<Buffer> {
  let fh: ReadableFile | undefined;
  try {
    fh = await io.open(file);
    return await readAt(fh, 0, length);
  } catch (err) {
    if (isShareProblem(err)) throw err;
    return Buffer.alloc(0);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

export interface IndexLengths {
  /** Bytes the index must have for its header's counts to make sense. */
  required(header: IndexHeader): number;
  /** Bytes worth reading (capped by the file size); at least `required`. */
  wanted(header: IndexHeader): number;
}

export interface LoadedIndex {
  path: string;
  bytes: Buffer;
  header: IndexHeader;
  fileSize: number;
  bytesRead: number;
}

export const INDEX_READ_ATTEMPTS = 5;

/**
 * Read an index table consistently: header, then the used part in one read, then the write counter again. A
 * counter that moved means the camera wrote the index during our read (torn): read again, at most
 * INDEX_READ_ATTEMPTS times. Throws IndexCorruptError / LimitExceededError / UnsupportedFormatError, or the
 * fs error when the file cannot be opened or read.
 */
export async function readIndexConsistent(file: string, lengths: IndexLengths, open: OpenFile): Promise<LoadedIndex> {
  const fh = await open(file);
  let bytesRead = 0;
  try {
    const fileSize = (await fh.stat()).size;
    for (let attempt = 0; attempt < INDEX_READ_ATTEMPTS; attempt++) {
      const head = await readAt(fh, 0, Math.min(HEADER_SIZE, fileSize));
      bytesRead += head.length;
      const first = parseIndexHeader(head);
      const required = lengths.required(first);
      if (required > fileSize) {
        throw new IndexCorruptError(
          `index truncated or implausible: header says ${first.avFiles} files, which needs ${required} bytes; the file has ${fileSize}`,
        );
      }
      const want = Math.min(Math.max(required, lengths.wanted(first)), fileSize);
      if (want > MAX_INDEX_READ_BYTES)
        throw new LimitExceededError('index bytes to read', want, MAX_INDEX_READ_BYTES, file);
      const bytes = await readAt(fh, 0, want);
      bytesRead += bytes.length;
      const after = await readAt(fh, 0, 8);
      bytesRead += after.length;
      if (bytes.length < want) continue; // shrank under us
      const header = parseIndexHeader(bytes);
      if (
        header.modifyTimes === first.modifyTimes &&
        readModifyTimes(after) === header.modifyTimes &&
        header.avFiles === first.avFiles
      ) {
        return { path: file, bytes, header, fileSize, bytesRead };
      }
    }
    throw new IndexCorruptError(`index kept changing while read (${INDEX_READ_ATTEMPTS} attempts)`);
  } finally {
    await fh.close().catch(() => undefined);
  }
}
