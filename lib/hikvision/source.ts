/**
 * The I/O edge of the Hikvision readers: scan a camera folder (datadirs, index tables, hiv sizes) into the list
 * of real recordings, and re-check one recording after the worker copied it. Read-only, bounded reads: per
 * datadir one header read + one read of the used part of each index, one stat per hiv file, and at most a
 * handful of 3-byte reads of .pic files to detect the picture layout.
 *
 * Errors: scanCamera never throws for what it finds on disk. An unreadable folder or index, a corrupt index, a
 * FIFO or device where a file should be, or a format hiksync does not read (UnsupportedFormatError, for the whole
 * camera or one datadir) becomes a line in `errors` and a counted skip ('unreadable' / 'bad-header' /
 * 'unsupported'); the other datadirs are still scanned. A share that does not answer in time (ShareTimeoutError)
 * ends the camera's scan at once: no recordings, `unavailable` says why (see lib/share-io.ts).
 */
import * as path from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { listDatadirs, type CameraDir, type ListedDatadir } from './discovery.js';
import {
  HiksyncError,
  IndexCorruptError,
  LimitExceededError,
  NotRegularFileError,
  ShareTimeoutError,
  UnsupportedFormatError,
} from '../errors.js';
import { createShareIo, describeFileType, type ShareIo } from '../share-io.js';
import {
  FILE_RECORD_SIZE,
  fileRecordOffset,
  HEADER_SIZE,
  parseIndexHeader,
  readAvFiles,
  readModifyTimes,
  SEGMENT_RECORD_SIZE,
  slotOffset,
  MAX_AV_FILES,
  UNUSED_U16,
  usedIndexLength,
  VIDEO_SLOTS_PER_FILE,
} from './index-header.js';
import { readVideoIndex, type IndexTable } from './index-table.js';
import { detectPictureLayout, PICTURE_SLOT_CANDIDATES, readPictureIndex } from './picture-index.js';
import {
  isShareProblem,
  readAt,
  readHead,
  readIndexConsistent,
  type LoadedIndex,
  type ReadableFile,
} from './read-file.js';
import { IndexSlice, readFileRecord, readSegmentRecord } from './record-reader.js';
import { compareRecordings, hivFileName, ptsMismatch, toRecording, type SeenPts } from './recording.js';
import { addSkip, walkFileSlots, type IndexedRecord } from './slot-rules.js';
import type { SnapshotOptions } from './sqlite-snapshot.js';
import {
  clearSqliteTableCache,
  expectSqliteDatabases,
  EVENT_DATABASES,
  isSqliteFile,
  loadSqliteIndex,
  RECORD_DATABASES,
  recheckSqliteRecording,
  type SqliteLoaded,
} from './sqlite-source.js';
import type { MediaKind, Recording, SkipCounts, SkipReason } from './types.js';

export { discoverCameras, discoverDatadirs, type CameraDir, type DatadirRef } from './discovery.js';

export interface DatadirScan {
  name: string;
  path: string;
  /** Absolute path of the video index used (index00.bin, or index01.bin as fallback). */
  videoIndex?: string;
  pictureIndex?: string;
  version?: number;
  avFiles?: number;
  modifyTimes?: string;
  pictureSlotsPerFile?: number;
  /** Bytes read from index files and .pic sniffs. */
  bytesRead: number;
  /** Why the copy (index01*.bin, record_db_index01 ...) was used instead of the first one, when it was. */
  fallbacks?: string[];
  /** Which layout the video / picture index has: the binary index00.bin family or a SQLite database (5.5+). */
  videoFormat?: 'binary' | 'sqlite';
  pictureFormat?: 'binary' | 'sqlite';
  /** What is worth knowing that is not an error (an index ignored, and why). */
  notes?: string[];
  error?: string;
}

export interface CameraScan {
  camera: string;
  path: string;
  datadirs: DatadirScan[];
  recordings: Recording[];
  skipped: SkipCounts;
  errors: string[];
  /** Lines worth showing that are not errors (which index was used when two were there ...). */
  notes?: string[];
  /** The share did not answer while this camera was scanned: nothing is listed for it, and this says why. */
  unavailable?: string;
}

export interface ScanOptions {
  kinds?: { video: boolean; picture: boolean };
  /** The camera's share reader (time limit, regular files only); default: a new one with the default limit. */
  io?: ShareIo;
  /** How SQLite databases are copied (tests: a seam that changes the file during the copy, no pauses). */
  sqliteSnapshot?: SnapshotOptions;
}

/** Parallel stat calls per camera: enough to hide NFS latency, small enough to be polite. */
export const STAT_CONCURRENCY = 16;
const SOI = [0xff, 0xd8, 0xff];

const VIDEO_INDEXES = ['index00.bin', 'index01.bin'];
const PICTURE_INDEXES = ['index00p.bin', 'index01p.bin'];

function errorText(err: unknown): string {
  if (err instanceof HiksyncError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') return `${e.code}: ${e.message}`;
  return err instanceof Error ? err.message : String(err);
}

function skipReasonOf(err: unknown): SkipReason {
  if (err instanceof UnsupportedFormatError) return 'unsupported';
  if (err instanceof IndexCorruptError || err instanceof LimitExceededError) return 'bad-header';
  return 'unreadable';
}

/** Per datadir: index00 and index01 usually agree on avFiles, so their hiv files are stat'ed once. */
type SizeCache = Map<string, Promise<Map<number, number>>>;

function hivSizes(io: DatadirIo, kind: MediaKind, avFiles: number): Promise<Map<number, number>> {
  const key = `${kind}:${avFiles}`;
  let sizes = io.sizes.get(key);
  if (!sizes) {
    sizes = statHivFiles(io, kind, avFiles);
    io.sizes.set(key, sizes);
  }
  return sizes;
}

/**
 * Sizes of hivNNNNN.<ext> for f < avFiles, stat'ed in parallel; files absent from the listing are missing. A hiv
 * file that is not a regular file (a FIFO, ...) is missing too, and named in `io.notFiles`.
 */
async function statHivFiles(io: DatadirIo, kind: MediaKind, avFiles: number): Promise<Map<number, number>> {
  const { dir, limit, share } = io;
  const sizes = new Map<number, number>();
  const jobs: Array<Promise<void>> = [];
  for (let f = 0; f < avFiles; f++) {
    const name = hivFileName(f, kind);
    if (!dir.files?.has(name)) continue;
    jobs.push(
      limit(async () => {
        try {
          const st = await share.stat(path.join(dir.path, name));
          if (st.isFile()) sizes.set(f, st.size);
          else io.notFiles.set(name, describeFileType(st));
        } catch (err) {
          if (err instanceof ShareTimeoutError) throw err;
          /* vanished or unreadable: counted as missing-file by the reader */
        }
      }),
    );
  }
  await Promise.all(jobs);
  return sizes;
}

interface KindResult {
  table: IndexTable;
  loaded: LoadedIndex;
}

interface Attempt {
  file: string;
  error?: unknown;
  result?: KindResult;
}

/**
 * Read one kind's index with fallback: index00 first; index01 when 00 is missing, unreadable, truncated or
 * implausible, or when 00 lists no valid record while 01 lists some.
 */
async function loadKind(io: DatadirIo, kind: MediaKind): Promise<{ result?: KindResult; attempts: Attempt[] }> {
  const { dir } = io;
  const names = (kind === 'video' ? VIDEO_INDEXES : PICTURE_INDEXES).filter((n) => dir.files?.has(n));
  const attempts: Attempt[] = [];
  for (const name of names) {
    const file = path.join(dir.path, name);
    const attempt: Attempt = { file };
    attempts.push(attempt);
    try {
      attempt.result = kind === 'video' ? await loadVideo(io, file) : await loadPictures(io, file);
    } catch (err) {
      // A share that does not answer is not asked for the copy: the scan of this camera ends here.
      if (err instanceof ShareTimeoutError) throw err;
      attempt.error = err;
      continue;
    }
    if (attempt.result.table.records.length > 0) break;
    // Nothing listed: the copy is worth reading only if it is not the very same table (same write counter and
    // file count), which would list nothing too. 16 bytes decide that instead of re-reading the whole table.
    const next = names[names.indexOf(name) + 1];
    if (next && (await sameTable(io, path.join(dir.path, next), attempt.result.loaded.header))) break;
  }
  const ok = attempts.filter((a) => a.result);
  const best = ok.find((a) => a.result!.table.records.length > 0) ?? ok[0];
  return best ? { result: best.result!, attempts } : { attempts };
}

/** Whether an index copy starts with the same write counter and file count as an already-read header. */
async function sameTable(
  io: DatadirIo,
  file: string,
  header: { modifyTimes: string; avFiles: number },
): Promise<boolean> {
  let b: Buffer;
  try {
    b = await readHead(file, 16, io.share);
  } catch (err) {
    if (err instanceof ShareTimeoutError) throw err;
    return false; // a copy that is not a regular file: reading it fails, and says so
  }
  io.counters.bytesRead += b.length;
  return b.length === 16 && readModifyTimes(b) === header.modifyTimes && readAvFiles(b) === header.avFiles;
}

interface DatadirIo {
  dir: ListedDatadir;
  limit: LimitFunction;
  counters: { bytesRead: number };
  sizes: SizeCache;
  share: ShareIo;
  /** hiv files that are not regular files, with what they are. */
  notFiles: Map<string, string>;
  sqliteSnapshot?: SnapshotOptions;
}

async function loadVideo(io: DatadirIo, file: string): Promise<KindResult> {
  const { counters, share } = io;
  const hit = await fromTableCache(io, 'video', file);
  if (hit) return hit;
  const used = (h: { avFiles: number }) => usedIndexLength(h.avFiles, VIDEO_SLOTS_PER_FILE);
  const loaded = await readIndexConsistent(file, { required: used, wanted: used }, (f) => share.open(f));
  counters.bytesRead += loaded.bytesRead;
  const sizes = await hivSizes(io, 'video', loaded.header.avFiles);
  return remember(io, file, sizes, { loaded, table: readVideoIndex(loaded.bytes, sizes) });
}

/**
 * Parsed tables of indexes that did not change since the last pass (storage doc rule 5: the write counter is the
 * cheap change detector). A long-running (cron) process then reads 8 bytes of an idle camera's index per pass
 * instead of the whole used part. Keyed by index path; valid while the write counter, the index file size and
 * every hiv file size are the same. The bytes are not kept, only the parsed table.
 */
interface CachedTable {
  modifyTimes: string;
  fileSize: number;
  mtimeMs: number;
  sizesKey: string;
  result: KindResult;
}
const tableCache = new Map<string, CachedTable>();
const NO_BYTES = Buffer.alloc(0);

/** Forget every cached index table (tests; a process that wants a full re-read). */
export function clearIndexTableCache(): void {
  tableCache.clear();
  clearSqliteTableCache();
}

function sizesKey(sizes: Map<number, number>): string {
  // Sorted: the stats complete (and fill the map) in any order.
  return [...sizes]
    .sort(([a], [b]) => a - b)
    .map(([f, n]) => `${f}:${n}`)
    .join(',');
}

/**
 * An index written this recently is not kept: the read may have fallen inside one of the camera's writes. The write
 * counter does not show it when the camera writes its header first (a reader gets the new counter with slots not yet
 * written) and the rest of that write ends before the mtime below is taken: same counter, size and mtime on the next
 * pass, and the torn table would be reused until the camera next writes (hours, for a camera that records on
 * events). An index the camera is busy with changes its counter every pass anyway; an idle one is kept from the
 * pass after it settled. (A host clock behind the file server's by more than this only means no caching.)
 */
export const INDEX_SETTLE_MS = 2000;

async function remember(
  io: DatadirIo,
  file: string,
  sizes: Map<number, number>,
  result: KindResult,
): Promise<KindResult> {
  // The mtime is taken after the read: a write after it changes it, and one before it is older than the settle time
  // (else the table is not kept), so the read saw it whole.
  const mtimeMs = await io.share.stat(file).then(
    (st) => st.mtimeMs,
    () => NaN,
  );
  if (!(Date.now() - mtimeMs >= INDEX_SETTLE_MS)) {
    tableCache.delete(file);
    return result;
  }
  tableCache.set(file, {
    modifyTimes: result.loaded.header.modifyTimes,
    fileSize: result.loaded.fileSize,
    mtimeMs,
    sizesKey: sizesKey(sizes),
    result: { table: result.table, loaded: { ...result.loaded, bytes: NO_BYTES } },
  });
  return result;
}

async function fromTableCache(io: DatadirIo, kind: MediaKind, file: string): Promise<KindResult | undefined> {
  const { counters, share } = io;
  const cached = tableCache.get(file);
  if (!cached) return undefined;
  let fh: ReadableFile | undefined;
  try {
    fh = await share.open(file);
    const st = await fh.stat();
    const head = await readAt(fh, 0, 8);
    counters.bytesRead += head.length;
    if (
      head.length < 8 ||
      st.size !== cached.fileSize ||
      st.mtimeMs !== cached.mtimeMs ||
      readModifyTimes(head) !== cached.modifyTimes
    )
      return undefined;
  } catch (err) {
    if (err instanceof ShareTimeoutError) throw err;
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
  const sizes = await hivSizes(io, kind, cached.result.loaded.header.avFiles);
  return sizesKey(sizes) === cached.sizesKey ? cached.result : undefined;
}

async function loadPictures(io: DatadirIo, file: string): Promise<KindResult> {
  const { dir, counters, share } = io;
  const hit = await fromTableCache(io, 'picture', file);
  if (hit) return hit;
  const smallest = Math.min(...PICTURE_SLOT_CANDIDATES);
  const largest = Math.max(...PICTURE_SLOT_CANDIDATES);
  const loaded = await readIndexConsistent(
    file,
    {
      required: (h) => usedIndexLength(h.avFiles, smallest),
      wanted: (h) => usedIndexLength(h.avFiles, largest),
    },
    (f) => share.open(f),
  );
  counters.bytesRead += loaded.bytesRead;
  const sizes = await hivSizes(io, 'picture', loaded.header.avFiles);
  const probe = async (fileNo: number, offset: number): Promise<boolean> => {
    let fh: ReadableFile | undefined;
    try {
      fh = await share.open(path.join(dir.path, hivFileName(fileNo, 'picture')));
      const b = await readAt(fh, offset, SOI.length);
      counters.bytesRead += b.length;
      return b.length === SOI.length && b[0] === SOI[0] && b[1] === SOI[1] && b[2] === SOI[2];
    } catch (err) {
      if (err instanceof ShareTimeoutError) throw err;
      return false;
    } finally {
      await fh?.close().catch(() => undefined);
    }
  };
  const layout = await detectPictureLayout(loaded.bytes, sizes, probe);
  return remember(io, file, sizes, { loaded, table: readPictureIndex(loaded.bytes, sizes, layout.slotsPerFile) });
}

function addCounts(into: SkipCounts, from: SkipCounts): void {
  for (const [reason, n] of Object.entries(from) as Array<[SkipReason, number | undefined]>)
    addSkip(into, reason, n ?? 0);
}

async function scanDatadir(
  camera: CameraDir,
  dir: ListedDatadir,
  kinds: { video: boolean; picture: boolean },
  limit: LimitFunction,
  share: ShareIo,
  out: CameraScan,
  sqliteSnapshot?: SnapshotOptions,
): Promise<DatadirScan> {
  const counters = { bytesRead: 0 };
  const io: DatadirIo = {
    dir,
    limit,
    counters,
    sizes: new Map(),
    share,
    notFiles: new Map(),
    ...(sqliteSnapshot ? { sqliteSnapshot } : {}),
  };
  const scan: DatadirScan = { name: dir.name, path: dir.path, bytesRead: 0 };
  const problems: string[] = [];
  const where = dir.name === '.' ? camera.name : `${camera.name}/${dir.name}`;
  if (!dir.files) {
    const msg = dir.listError ?? `cannot list ${dir.path}`;
    out.errors.push(`${where}: ${msg}`);
    addSkip(out.skipped, 'unreadable');
    scan.error = msg;
    return scan;
  }
  const notes: string[] = [];
  // The databases this datadir will have read (a record database wins over index00.bin; the event database is read
  // only without a binary picture index): their reader thread starts now, while the other files are read.
  const files = dir.files;
  const databases = [
    ...(kinds.video ? RECORD_DATABASES : []),
    ...(kinds.picture && !PICTURE_INDEXES.some((n) => files.has(n)) ? EVENT_DATABASES : []),
  ].filter((n) => files.has(n));
  if (databases.length > 0) expectSqliteDatabases(databases.map((n) => path.join(dir.path, n)));
  for (const kind of ['video', 'picture'] as const) {
    if (!kinds[kind]) continue;
    const names = kind === 'video' ? VIDEO_INDEXES : PICTURE_INDEXES;
    const binary = names.filter((n) => dir.files!.has(n));
    const databases = await sqliteDatabases(io, kind === 'video' ? RECORD_DATABASES : EVENT_DATABASES, problems);
    // Video: a SQLite database wins over index00.bin. Firmware 5.5+ writes only the database; an index00.bin next to
    // it is left from the firmware before the upgrade and no longer written: reading it would list old recordings
    // and silently miss every new one. Pictures: index00p.bin where the camera still writes one (a known layout),
    // else the event database.
    if (databases.length > 0 && (kind === 'video' || binary.length === 0)) {
      if (binary.length > 0)
        notes.push(
          `${databases[0]} (SQLite, firmware 5.5+) used; ${binary.join(', ')} ignored: left from the firmware before the upgrade, no longer written`,
        );
      io.sizes = new Map();
      await scanSqliteKind(io, kind, databases, camera, out, scan, problems);
      continue;
    }
    if (databases.length > 0)
      notes.push(`pictures: ${binary[0]} used; ${databases.join(', ')} (SQLite event database) not read`);
    if (binary.length === 0) {
      // A datadir without a video index is broken; pictures are optional (many cameras store none).
      if (kind === 'video') {
        problems.push(
          `no ${names.join(' or ')} and no ${RECORD_DATABASES[0]} (found: ${describeListing(dir.files)}); ` +
            `if this is a layout hiksync does not know yet, see \`hiksync inspect <folder> --bundle FILE\``,
        );
        addSkip(out.skipped, 'unreadable');
      }
      continue;
    }
    io.sizes = new Map();
    const { result, attempts } = await loadKind(io, kind);
    const failed = attempts.filter((a) => a.error !== undefined);
    // A FIFO or device where an index should be is worth an error even when the copy could be used instead.
    for (const a of failed)
      if (result && a.error instanceof NotRegularFileError)
        problems.push(`${a.error.message} (${path.basename(result.loaded.path)} used)`);
    if (!result) {
      // index01 usually fails the same way as index00: say it once, naming both.
      const byText = new Map<string, string[]>();
      for (const a of failed)
        byText.set(errorText(a.error), [...(byText.get(errorText(a.error)) ?? []), path.basename(a.file)]);
      for (const [text, files] of byText) problems.push(`${files.join(', ')}: ${text}`);
      addSkip(out.skipped, skipReasonOf(failed[0]?.error));
      continue;
    }
    const primary = attempts[0]!;
    if (!dir.files.has(names[0]!)) {
      scan.fallbacks = [...(scan.fallbacks ?? []), `${names[0]} is missing`];
    } else if (primary.file !== result.loaded.path) {
      const why = primary.error !== undefined ? errorText(primary.error) : 'lists no valid record while its copy does';
      scan.fallbacks = [...(scan.fallbacks ?? []), `${names[0]}: ${why}`];
    }
    const { table, loaded } = result;
    addCounts(out.skipped, table.skipped);
    const ctx = {
      camera: camera.name,
      datadir: dir.name,
      kind,
      dirAbs: dir.path,
      indexPath: loaded.path,
      slotsPerFile: table.slotsPerFile,
    };
    for (const r of table.records) out.recordings.push(toRecording(r, ctx));
    if (kind === 'video') {
      scan.videoIndex = loaded.path;
      scan.videoFormat = 'binary';
    } else {
      scan.pictureIndex = loaded.path;
      scan.pictureSlotsPerFile = table.slotsPerFile;
      scan.pictureFormat = 'binary';
    }
    if (kind === 'video' || scan.version === undefined) {
      scan.version = table.header.version;
      scan.avFiles = table.header.avFiles;
      scan.modifyTimes = table.header.modifyTimes;
    }
  }
  scan.bytesRead = counters.bytesRead;
  if (notes.length) {
    scan.notes = notes;
    for (const n of notes) (out.notes ??= []).push(`${where}: ${n}`);
  }
  for (const [name, what] of io.notFiles)
    problems.push(`${name} is ${what}, not a regular file: its recordings are skipped`);
  if (problems.length) {
    scan.error = problems.join('; ');
    for (const p of problems) out.errors.push(`${where}: ${p}`);
  }
  return scan;
}

/** The names of a listing, for a message: the first few, sorted. */
function describeListing(files: ReadonlySet<string>, max = 8): string {
  const names = [...files].sort();
  if (names.length === 0) return 'an empty folder';
  return names.slice(0, max).join(', ') + (names.length > max ? ` and ${names.length - max} more` : '');
}

/** The SQLite databases of `names` in the datadir (listed and starting with the SQLite magic), in that order. */
async function sqliteDatabases(io: DatadirIo, names: readonly string[], problems: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const name of names) {
    if (!io.dir.files?.has(name)) continue;
    try {
      if (await isSqliteFile(path.join(io.dir.path, name), io.share, io.counters)) found.push(name);
    } catch (err) {
      if (err instanceof ShareTimeoutError) throw err;
      problems.push(errorText(err));
    }
  }
  return found;
}

const HIV_NAME = /^hiv(\d{5})\.(mp4|pic)$/;

/** One more than the highest hivNNNNN.<ext> listed (a database names its files by number, no count). */
function listedHivFiles(files: ReadonlySet<string>, kind: MediaKind): number {
  let n = 0;
  const ext = kind === 'video' ? 'mp4' : 'pic';
  for (const name of files) {
    const m = HIV_NAME.exec(name);
    if (m && m[2] === ext) n = Math.max(n, Number(m[1]) + 1);
  }
  return Math.min(n, MAX_AV_FILES);
}

/**
 * One kind's SQLite index: record_db_index00 (event_db_index00), falling back to its 01 copy when 00 cannot be read
 * or lists nothing while 01 lists something; every row counted, the recordings added to `out`.
 */
async function scanSqliteKind(
  io: DatadirIo,
  kind: MediaKind,
  databases: readonly string[],
  camera: CameraDir,
  out: CameraScan,
  scan: DatadirScan,
  problems: string[],
): Promise<void> {
  const { dir } = io;
  const avFiles = listedHivFiles(dir.files ?? new Set(), kind);
  const loadIo = {
    dirPath: dir.path,
    share: io.share,
    counters: io.counters,
    sizes: (k: MediaKind) => hivSizes(io, k, avFiles),
    ...(io.sqliteSnapshot ? { snapshot: io.sqliteSnapshot } : {}),
  };
  const attempts: Array<{ file: string; error?: unknown; result?: SqliteLoaded }> = [];
  for (const name of databases) {
    const attempt: (typeof attempts)[number] = { file: path.join(dir.path, name) };
    attempts.push(attempt);
    try {
      attempt.result = await loadSqliteIndex(loadIo, attempt.file, kind);
    } catch (err) {
      if (err instanceof ShareTimeoutError) throw err;
      attempt.error = err;
      continue;
    }
    if (attempt.result.table.records.length > 0) break;
  }
  const ok = attempts.filter((a) => a.result);
  const best = ok.find((a) => a.result!.table.records.length > 0) ?? ok[0];
  if (!best) {
    const byText = new Map<string, string[]>();
    for (const a of attempts)
      byText.set(errorText(a.error), [...(byText.get(errorText(a.error)) ?? []), path.basename(a.file)]);
    for (const [text, files] of byText) problems.push(`${files.join(', ')}: ${text}`);
    addSkip(out.skipped, skipReasonOf(attempts[0]?.error));
    return;
  }
  const first = kind === 'video' ? RECORD_DATABASES[0]! : EVENT_DATABASES[0]!;
  if (!dir.files?.has(first)) scan.fallbacks = [...(scan.fallbacks ?? []), `${first} is missing`];
  else if (best.file !== attempts[0]!.file) {
    const e = attempts[0]!.error;
    const why = e !== undefined ? errorText(e) : 'lists no valid record while its copy does';
    scan.fallbacks = [...(scan.fallbacks ?? []), `${first}: ${why}`];
  }
  const { table, heads } = best.result!;
  addCounts(out.skipped, table.skipped);
  const ctx = { camera: camera.name, datadir: dir.name, kind, dirAbs: dir.path, indexPath: best.file, slotsPerFile: 0 };
  for (const r of table.records) {
    const head = heads.get(r.fileNo);
    if (head === undefined) {
      addSkip(out.skipped, 'missing-file'); // vanished between its stat and the read of its first bytes
      continue;
    }
    out.recordings.push({ ...toRecording(r, ctx), sourceHead: head });
  }
  if (kind === 'video') {
    scan.videoIndex = best.file;
    scan.videoFormat = 'sqlite';
  } else {
    scan.pictureIndex = best.file;
    scan.pictureFormat = 'sqlite';
  }
}

/** Scan one camera folder: every datadir's index tables -> the real recordings, sorted by start time. */
export async function scanCamera(camera: CameraDir, opts: ScanOptions = {}): Promise<CameraScan> {
  const kinds = opts.kinds ?? { video: true, picture: true };
  const out: CameraScan = {
    camera: camera.name,
    path: camera.path,
    datadirs: [],
    recordings: [],
    skipped: {},
    errors: [],
  };
  const io = opts.io ?? createShareIo();
  const unavailable = (err: ShareTimeoutError): CameraScan => {
    // Whatever was listed before the share stopped answering may be incomplete: list nothing, say why.
    out.recordings = [];
    out.errors = [`${camera.name}: ${err.message}`];
    out.unavailable = err.message;
    addSkip(out.skipped, 'unreadable');
    return out;
  };
  let listing;
  try {
    listing = await listDatadirs(camera.path, io);
  } catch (err) {
    if (err instanceof ShareTimeoutError) return unavailable(err);
    out.errors.push(`${camera.name}: ${errorText(err)}`);
    addSkip(out.skipped, err instanceof UnsupportedFormatError ? 'unsupported' : 'unreadable');
    return out;
  }
  for (const p of listing.problems) out.errors.push(`${camera.name}: ${p}`);
  for (const name of listing.missing) {
    out.errors.push(`${camera.name}: ${name} is missing (info.bin lists ${listing.infoBinDatadirs} datadirs)`);
    addSkip(out.skipped, 'unreadable');
  }
  if (listing.datadirs.length === 0) {
    out.errors.push(
      `${camera.name}: no datadir* folder, index00.bin, record_db_index00 or info.bin found in ${camera.path}; ` +
        `if this is a layout hiksync does not know yet, see \`hiksync inspect <folder> --bundle FILE\``,
    );
    return out;
  }
  const limit = pLimit(STAT_CONCURRENCY);
  try {
    out.datadirs = await Promise.all(
      listing.datadirs.map((d) => scanDatadir(camera, d, kinds, limit, io, out, opts.sqliteSnapshot)),
    );
  } catch (err) {
    if (err instanceof ShareTimeoutError) return unavailable(err);
    throw err;
  }
  // A call whose time-out was swallowed on the way (a sniff that "failed") still means the share stopped answering.
  if (io.failure) return unavailable(io.failure);
  out.recordings.sort(compareRecordings);
  return out;
}

export type RecheckResult = { ok: true } | { ok: false; reason: string };

export const RECHECK_ATTEMPTS = 3;

/**
 * Rule 5 of the storage doc, after the worker copied `rec`'s bytes: is the recording still where the index put
 * it? Re-reads the header, the hiv file's record, and the slots 0..rec.slot of that file (<= 320 KiB). Not ok when:
 * - the slot no longer holds the same start (sec + usec) and byte range (the ring reused it);
 * - the header's current-file entry says the camera writes this hiv file at or before this slot: within one
 *   cycle the write position only moves forward, so a write position at or before a slot that was already
 *   closed means a NEW cycle started in this file, overwriting it from offset 0;
 * - an earlier slot of the file now starts later than this one (beyond a clock step): a new cycle rewrote the
 *   slots before it and may have moved on, leaving this record stale over overwritten bytes;
 * - video, file not current: its file record is empty or no longer covers the slot (rule 1);
 * - video, `seen` given: the PTS of the frames written are far from the slot's 45 kHz stamps (bytes rewritten
 *   before the index was).
 * A write counter that moves during the re-read is retried a few times, then not ok. A share that does not answer
 * (ShareTimeoutError) or an index that is no regular file (NotRegularFileError) is thrown: it says nothing about
 * the slot.
 */
export async function recheckRecording(
  rec: Recording,
  seen?: SeenPts,
  io: ShareIo = createShareIo(),
): Promise<RecheckResult> {
  if (rec.sourceHead !== undefined) return recheckSqliteRecording(rec, io);
  const S = rec.slotsPerFile;
  if (
    !Number.isInteger(S) ||
    S <= 0 ||
    S > Math.max(...PICTURE_SLOT_CANDIDATES, VIDEO_SLOTS_PER_FILE) ||
    rec.slot < 0 ||
    rec.slot >= S
  ) {
    return { ok: false, reason: `slot ${rec.slot} does not fit ${S} slots per file` };
  }
  let fh: ReadableFile;
  try {
    fh = await io.open(rec.indexPath);
  } catch (err) {
    // The share not answering (or a FIFO in place of the index) is not "the camera rewrote the slot".
    if (isShareProblem(err)) throw err;
    return { ok: false, reason: `cannot open ${rec.indexPath}: ${errorText(err)}` };
  }
  try {
    for (let attempt = 0; attempt < RECHECK_ATTEMPTS; attempt++) {
      const head = await readAt(fh, 0, HEADER_SIZE);
      let header;
      try {
        header = parseIndexHeader(head);
      } catch (err) {
        return { ok: false, reason: `index header unreadable: ${errorText(err)}` };
      }
      if (rec.fileNo >= header.avFiles)
        return { ok: false, reason: `index now lists ${header.avFiles} files, not file ${rec.fileNo}` };
      const prefix = await readAt(
        fh,
        slotOffset(header.avFiles, S, rec.fileNo, 0),
        (rec.slot + 1) * SEGMENT_RECORD_SIZE,
      );
      const fileRec =
        rec.kind === 'video' ? await readAt(fh, fileRecordOffset(rec.fileNo), FILE_RECORD_SIZE) : undefined;
      const after = await readAt(fh, 0, 8);
      if (after.length < 8 || readModifyTimes(after) !== header.modifyTimes) continue;
      if (prefix.length < (rec.slot + 1) * SEGMENT_RECORD_SIZE)
        return { ok: false, reason: 'index shorter than the slot' };
      return judge(rec, header.current, prefix, fileRec, seen);
    }
    return { ok: false, reason: `index kept changing while re-checked (${RECHECK_ATTEMPTS} attempts)` };
  } catch (err) {
    if (isShareProblem(err)) throw err;
    return { ok: false, reason: `cannot read ${rec.indexPath}: ${errorText(err)}` };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

function judge(
  rec: Recording,
  current: { fileNo: number; segNo: number } | undefined,
  prefix: Buffer,
  fileRec: Buffer | undefined,
  seen: SeenPts | undefined,
): RecheckResult {
  const name = hivFileName(rec.fileNo, rec.kind);
  const slots = new IndexSlice(prefix, `slot records of ${name}`);
  const now = readSegmentRecord(slots, rec.slot * SEGMENT_RECORD_SIZE);
  const { sec: startSec, usec: startUsec } = now.start;
  const { startOffset: so, endOffset: eo } = now;
  if (startSec !== rec.start.sec || startUsec !== rec.start.usec || so !== rec.startOffset || eo !== rec.endOffset) {
    return {
      ok: false,
      reason: `slot ${rec.slot} now holds start ${startSec}.${String(startUsec).padStart(6, '0')} bytes ${so}-${eo}`,
    };
  }
  // The index can lag the bytes: a camera writes a reused hiv file before it rewrites the slot. The frames we
  // wrote must carry the PTS the slot's stamps promise.
  const foreign = seen ? ptsMismatch(now, seen) : null;
  if (foreign) return { ok: false, reason: `the bytes are not this recording's (${foreign}): the camera rewrote them` };
  const isCurrent = current !== undefined && current.fileNo === rec.fileNo;
  if (isCurrent && current.segNo <= rec.slot) {
    return { ok: false, reason: `the camera is writing ${name} again (slot ${current.segNo}), a new cycle` };
  }
  const candidates = rec.slot + 1;
  if (fileRec && !isCurrent) {
    const { fileNo, chan, segRecNums } = readFileRecord(new IndexSlice(fileRec, `file record of ${name}`), 0);
    if (chan === UNUSED_U16 || fileNo !== rec.fileNo || segRecNums < rec.slot || segRecNums >= rec.slotsPerFile) {
      return { ok: false, reason: `file record of ${name} no longer covers slot ${rec.slot}` };
    }
  }
  // The same rules as the scan, over slots 0..rec.slot: an earlier slot rewritten by a new cycle now starts after
  // this one, which makes this slot part of a stale tail.
  const listed: IndexedRecord[] = [];
  const skipped: SkipCounts = {};
  walkFileSlots(
    slots,
    0,
    {
      fileNo: rec.fileNo,
      slotsPerFile: rec.slot + 1,
      candidates,
      openSlot: -1,
      endAtFirstEmpty: rec.kind === 'picture',
      requireType: rec.kind === 'video',
      fileSize: Number.MAX_SAFE_INTEGER,
    },
    listed,
    skipped,
  );
  if (!listed.some((r) => r.slot === rec.slot)) {
    const why = Object.keys(skipped).join(', ');
    return {
      ok: false,
      reason: `slot ${rec.slot} of ${name} is no longer a valid record (${why}): earlier slots were rewritten by a new cycle`,
    };
  }
  return { ok: true };
}
