/**
 * A consistent copy of a SQLite database the camera is writing (record_db_index00, event_db_index00), read through
 * the share reader (time limit, regular files only). The camera writes the database while we read it, over NFS/SMB
 * where SQLite's locks cannot be trusted, so we never open the camera's file with SQLite: we copy its bytes into
 * memory and open that private copy (sql.js works on bytes in its own in-memory file system; nothing is ever
 * written next to the camera's files, and no temporary file is needed at all).
 *
 * A copy is consistent when, around the read of the whole file:
 * - the file change counter (header offset 24, bumped by every commit in rollback-journal mode) and the size did not
 *   move, and the copy itself holds that counter;
 * - no hot rollback journal (`<db>-journal` starting with the journal magic) was there before or after: while one
 *   is, a transaction is writing the database file;
 * - the database is not in WAL mode with a non-empty `<db>-wal` (its newest commits would be in the WAL, which a
 *   copy of the main file alone does not see; cameras writing to a network share cannot use WAL anyway);
 * - the caller's `open` accepts the bytes (a torn copy is "database disk image is malformed").
 * Otherwise it is read again, SNAPSHOT_ATTEMPTS times at most.
 */
import { IndexCorruptError, LimitExceededError, UnsupportedFormatError } from '../errors.js';
import type { ShareIo } from '../share-io.js';
import { isShareProblem, readAt, type ReadableFile } from './read-file.js';

export const SQLITE_HEADER_SIZE = 100;
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
/** Rollback journal header magic (a PERSIST journal that is not hot has it zeroed). */
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);
/**
 * A camera's record database is tens of MB (rows of ~100 bytes per segment); the whole file is held in memory
 * twice (our copy and sql.js's). Far more than this is not a recording index.
 */
export const MAX_DATABASE_BYTES = 256 * 1024 * 1024;
export const SNAPSHOT_ATTEMPTS = 5;

export function isSqliteHeader(bytes: Uint8Array): boolean {
  return bytes.length >= SQLITE_MAGIC.length && Buffer.from(bytes.buffer, bytes.byteOffset, 16).equals(SQLITE_MAGIC);
}

/** The file change counter (big-endian u32 at 24) of a database header. */
export function changeCounterOf(header: Uint8Array): number {
  return new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(24, false);
}

/** Header bytes 18/19 are 2 in WAL mode. */
function isWalMode(header: Uint8Array): boolean {
  return header[18] === 2 || header[19] === 2;
}

export interface DatabaseSnapshot<T> {
  path: string;
  /** What `open` made of the consistent bytes. */
  value: T;
  changeCounter: number;
  fileSize: number;
  mtimeMs: number;
  bytesRead: number;
  /** Attempts it took (1 = the first copy was consistent). */
  attempts: number;
}

export interface SnapshotOptions {
  /** Test seam: runs after the whole file was read and before it is checked again (a test changes the file here). */
  afterCopy?: (attempt: number) => Promise<void> | void;
  /** Waits before attempt `attempt` (2..): the camera's transaction usually ends within a fraction of a second. */
  wait?: (attempt: number) => Promise<void>;
}

/** Default pause before another attempt: 150 ms, 300 ms, ... (about 1.5 s over all attempts). */
export const retryPause = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, 150 * (attempt - 1)));

interface FileState {
  header: Buffer;
  size: number;
  mtimeMs: number;
  hotJournal: boolean;
  walBytes: number;
}

async function sideFile(io: ShareIo, file: string): Promise<{ size: number; head: Buffer } | undefined> {
  let fh: ReadableFile | undefined;
  try {
    fh = await io.open(file);
    const size = (await fh.stat()).size;
    return { size, head: await readAt(fh, 0, JOURNAL_MAGIC.length) };
  } catch (err) {
    if (isShareProblem(err)) throw err;
    return undefined; // absent: the usual case
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

async function fileState(io: ShareIo, fh: ReadableFile, file: string): Promise<FileState> {
  const st = await fh.stat();
  const header = await readAt(fh, 0, SQLITE_HEADER_SIZE);
  const journal = await sideFile(io, `${file}-journal`);
  const wal = isWalMode(header) ? await sideFile(io, `${file}-wal`) : undefined;
  return {
    header,
    size: st.size,
    mtimeMs: st.mtimeMs ?? NaN,
    hotJournal: journal !== undefined && journal.head.equals(JOURNAL_MAGIC),
    walBytes: wal?.size ?? 0,
  };
}

/**
 * Copy `file` into memory consistently and hand the bytes to `open` (which throws, or rejects, when they are not a
 * valid database; the bytes are not used after it). Throws UnsupportedFormatError when the file is not a SQLite database, LimitExceededError when it is
 * too large, IndexCorruptError when no consistent copy was had in SNAPSHOT_ATTEMPTS, the share's errors as they are.
 */
export async function snapshotDatabase<T>(
  file: string,
  io: ShareIo,
  open: (bytes: Uint8Array) => T | Promise<T>,
  opts: SnapshotOptions = {},
): Promise<DatabaseSnapshot<T>> {
  const fh = await io.open(file);
  let bytesRead = 0;
  let why = '';
  try {
    for (let attempt = 1; attempt <= SNAPSHOT_ATTEMPTS; attempt++) {
      if (attempt > 1) await (opts.wait ?? retryPause)(attempt);
      const before = await fileState(io, fh, file);
      bytesRead += before.header.length;
      if (!isSqliteHeader(before.header)) throw new UnsupportedFormatError(`${file} is not a SQLite database`, file);
      if (before.header.length < SQLITE_HEADER_SIZE)
        throw new IndexCorruptError(`database is ${before.header.length} bytes, shorter than a SQLite header`);
      if (before.size > MAX_DATABASE_BYTES)
        throw new LimitExceededError('database size', before.size, MAX_DATABASE_BYTES, file);
      if (before.hotJournal) {
        why = 'a transaction was writing it (hot -journal)';
        continue;
      }
      if (before.walBytes > 0) {
        why = 'it is in WAL mode with commits not yet checkpointed into the file (-wal)';
        continue;
      }
      const bytes = await readAt(fh, 0, before.size);
      bytesRead += bytes.length;
      await opts.afterCopy?.(attempt);
      const after = await fileState(io, fh, file);
      bytesRead += after.header.length;
      const counter = changeCounterOf(before.header);
      if (
        bytes.length !== before.size ||
        after.size !== before.size ||
        after.hotJournal ||
        after.walBytes > 0 ||
        changeCounterOf(after.header) !== counter ||
        bytes.length < SQLITE_HEADER_SIZE ||
        changeCounterOf(bytes) !== counter
      ) {
        why = 'it changed while it was copied';
        continue;
      }
      let value: T;
      try {
        value = await open(bytes);
      } catch (err) {
        why = `the copy is not a valid database (${err instanceof Error ? err.message : String(err)})`;
        continue;
      }
      return {
        path: file,
        value,
        changeCounter: counter,
        fileSize: before.size,
        mtimeMs: after.mtimeMs,
        bytesRead,
        attempts: attempt,
      };
    }
    throw new IndexCorruptError(`no consistent copy of the database in ${SNAPSHOT_ATTEMPTS} attempts: ${why}`);
  } finally {
    await fh.close().catch(() => undefined);
  }
}
