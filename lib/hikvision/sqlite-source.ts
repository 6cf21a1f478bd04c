/**
 * The I/O edge of the SQLite indexes (firmware 5.5+): which database of a datadir is read, its consistent copy
 * (sqlite-snapshot.ts), the rows -> records (sqlite-index.ts), the first bytes of every hiv file that has records
 * (what the worker's re-check compares), and a cache of the parsed table for databases that did not change.
 */
import { hash } from 'node:crypto';
import * as path from 'node:path';
import { ShareTimeoutError } from '../errors.js';
import type { ShareIo } from '../share-io.js';
import { isShareProblem, readAt, readHead, type ReadableFile } from './read-file.js';
import { hivFileName } from './recording.js';
import type { SqliteTable } from './sqlite-index.js';
import {
  changeCounterOf,
  isSqliteHeader,
  snapshotDatabase,
  SQLITE_HEADER_SIZE,
  type SnapshotOptions,
} from './sqlite-snapshot.js';
import { prestartSqliteThread, readDatabaseInThread } from './sqlite-thread.js';
import type { MediaKind, Recording } from './types.js';

export const RECORD_DATABASES = ['record_db_index00', 'record_db_index01'];
export const EVENT_DATABASES = ['event_db_index00', 'event_db_index01'];
/**
 * Bytes at the start of a hiv file hashed into Recording.sourceHead. A new ring cycle rewrites the file from offset 0:
 * a pack header with a new clock reference (video) or a new JPEG (pictures, whose first hundreds of header bytes can
 * be the same from picture to picture: hence 4 KiB, into the entropy-coded data).
 */
export const SOURCE_HEAD_BYTES = 4096;
/** Same settle rule as the binary index cache (source.ts INDEX_SETTLE_MS). */
const SETTLE_MS = 2000;

export interface SqliteLoaded {
  file: string;
  table: SqliteTable;
  /** fileNo -> hash of its first SOURCE_HEAD_BYTES, for every file with a record. */
  heads: Map<number, string>;
  changeCounter: number;
  /** Copies it took to get a consistent one (1 = the first). */
  attempts: number;
}

export interface SqliteLoadIo {
  dirPath: string;
  share: ShareIo;
  counters: { bytesRead: number };
  /** Sizes of hivNNNNN.<ext> present in the datadir (fileNo -> bytes). */
  sizes(kind: MediaKind): Promise<Map<number, number>>;
  snapshot?: SnapshotOptions;
}

/** Whether `file` starts with the SQLite magic (16 bytes read; missing or unreadable -> false). */
export async function isSqliteFile(file: string, share: ShareIo, counters?: { bytesRead: number }): Promise<boolean> {
  const head = await readHead(file, 16, share);
  if (counters) counters.bytesRead += head.length;
  return isSqliteHeader(head);
}

export function headHash(bytes: Uint8Array): string {
  return hash('sha1', bytes, 'hex').slice(0, 20);
}

/** Hash of the first SOURCE_HEAD_BYTES of a hiv file, or undefined when it cannot be read. */
async function sourceHead(share: ShareIo, file: string, counters?: { bytesRead: number }): Promise<string | undefined> {
  let fh: ReadableFile | undefined;
  try {
    fh = await share.open(file);
    const b = await readAt(fh, 0, SOURCE_HEAD_BYTES);
    if (counters) counters.bytesRead += b.length;
    return headHash(b);
  } catch (err) {
    if (isShareProblem(err)) throw err;
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

interface CachedDb {
  changeCounter: number;
  fileSize: number;
  mtimeMs: number;
  sizesKey: string;
  loaded: SqliteLoaded;
}
const cache = new Map<string, CachedDb>();

/** A datadir lists these databases: the reader thread is started now unless every one is cached (not read again). */
export function expectSqliteDatabases(files: readonly string[]): void {
  if (files.some((f) => !cache.has(f))) prestartSqliteThread();
}

export function clearSqliteTableCache(): void {
  cache.clear();
}

function sizesKey(sizes: Map<number, number>): string {
  return [...sizes]
    .sort(([a], [b]) => a - b)
    .map(([f, n]) => `${f}:${n}`)
    .join(',');
}

/** The cached table when the database's change counter, size and mtime and the hiv sizes are as they were. */
async function fromCache(
  io: SqliteLoadIo,
  file: string,
  sizes: Map<number, number>,
): Promise<SqliteLoaded | undefined> {
  const hit = cache.get(file);
  if (!hit) return undefined;
  let fh: ReadableFile | undefined;
  try {
    fh = await io.share.open(file);
    const st = await fh.stat();
    const head = await readAt(fh, 0, SQLITE_HEADER_SIZE);
    io.counters.bytesRead += head.length;
    if (
      head.length < SQLITE_HEADER_SIZE ||
      st.size !== hit.fileSize ||
      st.mtimeMs !== hit.mtimeMs ||
      changeCounterOf(head) !== hit.changeCounter ||
      sizesKey(sizes) !== hit.sizesKey
    )
      return undefined;
    return hit.loaded;
  } catch (err) {
    if (err instanceof ShareTimeoutError) throw err;
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Read one SQLite index of a datadir: a consistent copy, its rows -> records, the head hashes of the files with
 * records. Throws UnsupportedFormatError (unknown schema, not a database), IndexCorruptError (no consistent copy),
 * LimitExceededError, the share's errors.
 */
export async function loadSqliteIndex(io: SqliteLoadIo, file: string, kind: MediaKind): Promise<SqliteLoaded> {
  const sizes = await io.sizes(kind);
  const hit = await fromCache(io, file, sizes);
  if (hit) return hit;
  // The SQL runs in a short-lived thread (lib/hikvision/sqlite-thread.ts): sql.js's memory goes when it exits.
  const snap = await snapshotDatabase(file, io.share, (bytes) => readDatabaseInThread(bytes, kind, sizes), io.snapshot);
  io.counters.bytesRead += snap.bytesRead;
  if ('error' in snap.value) throw snap.value.error;
  const table = snap.value.table;
  // Taken after the copy: a cycle that began before it shows in the rows (its first row, newer, makes the old rows
  // stale); one that begins after it changes these bytes, which the worker's re-check sees.
  const heads = new Map<number, string>();
  for (const fileNo of new Set(table.records.map((r) => r.fileNo))) {
    const h = await sourceHead(io.share, path.join(io.dirPath, hivFileName(fileNo, kind)), io.counters);
    if (h !== undefined) heads.set(fileNo, h);
  }
  const loaded: SqliteLoaded = { file, table, heads, changeCounter: snap.changeCounter, attempts: snap.attempts };
  if (Date.now() - snap.mtimeMs >= SETTLE_MS) {
    cache.set(file, {
      changeCounter: snap.changeCounter,
      fileSize: snap.fileSize,
      mtimeMs: snap.mtimeMs,
      sizesKey: sizesKey(sizes),
      loaded,
    });
  } else cache.delete(file);
  return loaded;
}

export type RecheckResult = { ok: true } | { ok: false; reason: string };

/**
 * Rule 5 for a recording of a SQLite index, after the worker copied it: the hiv file must still start with the bytes
 * it had when the scan listed the recording. A camera reusing the file writes it again from offset 0 (the bytes come
 * before the database row), so a changed head means a new cycle is overwriting what was copied. Reads SOURCE_HEAD_BYTES
 * of the hiv file, no SQL. A share that does not answer is thrown.
 */
export async function recheckSqliteRecording(rec: Recording, share: ShareIo): Promise<RecheckResult> {
  const name = path.basename(rec.source);
  const now = await sourceHead(share, rec.source);
  if (now === undefined) return { ok: false, reason: `${name} can no longer be read` };
  if (now !== rec.sourceHead) {
    return {
      ok: false,
      reason: `the camera is writing ${name} again (its first bytes changed since the scan): a new cycle`,
    };
  }
  return { ok: true };
}
