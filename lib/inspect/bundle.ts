/**
 * `hiksync inspect --bundle`: a small .tar.gz a user can attach to a bug report about a camera folder hiksync does not
 * read. What goes in is fixed here and nowhere else:
 * - the index files, copied byte for byte: binary `index0[01][p].bin`, SQLite `record_db_index*`, `event_db_index*`,
 *   `pic_segment_db_index*` with their `-journal`/`-wal`, and `info.bin`. They hold times, offsets and counts: no
 *   picture, no video;
 * - a listing of the camera folder (names, types, sizes, mtimes), the detected layout, and the schema and row count
 *   of every table of every SQLite index database (read from a private copy in memory, lib/inspect/sqlite-summary.ts);
 * - only when asked (`withMediaHeads`), the first 64 KiB of the first MEDIA_HEAD_FILES hiv*.mp4 video blocks: that
 *   is a few frames of real video.
 * Nothing else is ever read whole: a file is copied only when its name is one of the index names above. The archive
 * states what it holds (README.txt first, MANIFEST.txt last with every entry's size and SHA-256).
 *
 * Hard caps (BundleLimitError, nothing left behind): one copied file, all copied bytes together, the compressed
 * archive, and the number of copied files. The archive is written to a temporary name in the target folder and
 * renamed when complete; a failure removes it. The target may not be inside the camera folder (the share is
 * read-only input) and may not exist yet.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  BundleLimitError,
  BundleOutputError,
  InputDirError,
  NotRegularFileError,
  ShareTimeoutError,
  messageOf,
} from '../errors.js';
import { fsyncFile, removeQuietly } from '../files.js';
import { withTimeout, type ShareFile, type ShareIo } from '../share-io.js';
import {
  BINARY_INDEX_RE,
  HIV_VIDEO_RE,
  inspectLayout,
  SQLITE_DB_RE,
  SQLITE_INDEX_RE,
  type CameraLayout,
  type ListedEntry,
} from './layout.js';
import { formatSqliteSummary, summarizeSqlite, type SqliteSummary } from './sqlite-summary.js';
import { TarGzWriter } from './tar.js';

const MiB = 1024 * 1024;
/** A pre-allocated binary index is 16 MiB; a SQLite index database tens of MB per datadir. */
export const MAX_FILE_BYTES = 64 * MiB;
/** All copied bytes together (mostly the zeros of pre-allocated indexes, which compress to almost nothing). */
export const MAX_INPUT_BYTES = 1024 * MiB;
/** The archive a user attaches to an issue. */
export const MAX_ARCHIVE_BYTES = 64 * MiB;
/** Copied files: 4 binary indexes, or a few SQLite files with journals, per datadir. */
export const MAX_FILES = 512;
/** With --with-media-heads: how many video blocks, and how much of each. */
export const MEDIA_HEAD_FILES = 3;
export const MEDIA_HEAD_BYTES = 64 * 1024;
/** Reads of the share in pieces of this size (each piece has the share's time limit). */
const READ_CHUNK = 4 * MiB;
/** A file whose first bytes changed while it was read is read again, this many times in all. */
const READ_ATTEMPTS = 3;
/** The bytes compared before and after: the binary index's write counter (0..8), SQLite's change counter (24..28). */
const CONSISTENCY_BYTES = 100;

/** Folder name inside the archive: extracting it never spills files into the current folder. */
export const BUNDLE_ROOT = 'hiksync-bundle';

export interface BundleLimits {
  maxFileBytes: number;
  maxInputBytes: number;
  maxArchiveBytes: number;
  maxFiles: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxFileBytes: MAX_FILE_BYTES,
  maxInputBytes: MAX_INPUT_BYTES,
  maxArchiveBytes: MAX_ARCHIVE_BYTES,
  maxFiles: MAX_FILES,
};

export interface BundleOptions {
  io: ShareIo;
  withMediaHeads?: boolean;
  /** Lower caps (tests); never above the defaults' purpose, but not checked. */
  limits?: Partial<BundleLimits>;
  /** hiksync's version, written into README.txt. */
  version?: string;
  now?: Date;
}

export type EntryKind = 'readme' | 'index' | 'media-head' | 'listing' | 'layout' | 'sqlite-schema' | 'manifest';

export interface BundleEntry {
  /** Path inside the archive. */
  name: string;
  kind: EntryKind;
  size: number;
  sha256: string;
  /** The camera file it comes from (relative to the camera folder), for copies and heads. */
  source?: string;
}

export interface BundleResult {
  file: string;
  archiveBytes: number;
  entries: BundleEntry[];
  layout: CameraLayout;
  sqlite: Array<{ file: string; summary: SqliteSummary }>;
  /** Files that were meant to go in but could not be read, and other remarks; also in layout.json. */
  notes: string[];
}

/** Whether a camera file (relative path) is one the bundle copies whole. */
export function isBundledIndexFile(relPath: string): boolean {
  const name = relPath.split('/').at(-1)!;
  return BINARY_INDEX_RE.test(name) || SQLITE_INDEX_RE.test(name) || name === 'info.bin';
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function byPath(a: ListedEntry, b: ListedEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function isInside(parent: string, child: string): boolean {
  const r = path.relative(parent, child);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
}

/** Checks the target before anything is read: its folder exists, it is not inside the camera folder, it is free. */
async function checkTarget(cameraPath: string, file: string, io: ShareIo): Promise<void> {
  const target = path.resolve(file);
  const folder = path.dirname(target);
  let realFolder: string;
  try {
    realFolder = await fs.realpath(folder);
  } catch (err) {
    throw new BundleOutputError(target, `cannot write the bundle ${target}: its folder ${folder} ${errnoText(err)}`);
  }
  let realCamera = path.resolve(cameraPath);
  try {
    realCamera = await withTimeout(
      fs.realpath(realCamera),
      io.timeoutMs,
      () => new ShareTimeoutError('resolving', realCamera, io.timeoutMs),
    );
  } catch (err) {
    throw new InputDirError(`cannot read the camera folder ${path.resolve(cameraPath)}: ${errnoText(err)}`, {
      cause: err,
    });
  }
  if (isInside(realCamera, realFolder) || isInside(path.resolve(cameraPath), folder)) {
    throw new BundleOutputError(
      target,
      `the bundle ${target} would be written inside the camera folder ${path.resolve(cameraPath)}: hiksync never ` +
        'writes to the camera share; choose a file outside it',
    );
  }
  const there = await fs.lstat(target).then(
    () => true,
    () => false,
  );
  if (there) throw new BundleOutputError(target, `${target} exists already: remove it or choose another name`);
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'ENOTDIR') return 'is not a folder';
  if (err instanceof ShareTimeoutError) return err.message;
  return typeof code === 'string' ? `cannot be used (${code})` : messageOf(err);
}

/** Reads up to `length` bytes from offset 0 in pieces; shorter at end of file. */
async function readPrefix(fh: ShareFile, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, Math.min(READ_CHUNK, length - got), got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

interface ReadResult {
  bytes: Buffer;
  mtimeMs: number;
  /** The first bytes differed before and after each attempt: the camera was writing the file. */
  changing: boolean;
}

/**
 * A whole index file, read consistently: when its first bytes (the write counters) changed during the read, it is
 * read again, READ_ATTEMPTS times in all. Over the cap: BundleLimitError before a byte is read.
 */
async function readIndexFile(io: ShareIo, abs: string, rel: string, maxBytes: number): Promise<ReadResult> {
  let last: ReadResult | undefined;
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    const fh = await io.open(abs);
    try {
      const st = await fh.stat();
      if (st.size > maxBytes)
        throw new BundleLimitError(rel, st.size, maxBytes, 'bytes', 'one file of the bundle may not be larger');
      const bytes = await readPrefix(fh, st.size);
      const again = await readPrefix(fh, Math.min(CONSISTENCY_BYTES, bytes.length));
      const same = again.equals(bytes.subarray(0, again.length));
      last = { bytes, mtimeMs: st.mtimeMs, changing: !same };
      if (same) return last;
    } finally {
      await fh.close();
    }
  }
  return last!;
}

/** The first `length` bytes of a file (a media head). */
async function readHeadOf(io: ShareIo, abs: string, length: number): Promise<{ bytes: Buffer; mtimeMs: number }> {
  const fh = await io.open(abs);
  try {
    const st = await fh.stat();
    return { bytes: await readPrefix(fh, Math.min(length, st.size)), mtimeMs: st.mtimeMs };
  } finally {
    await fh.close();
  }
}

function readmeText(layout: CameraLayout, opts: BundleOptions, now: Date): string {
  return `hiksync diagnostic bundle
=========================

Made by hiksync ${opts.version ?? ''} (inspect --bundle) on ${now.toISOString()} for the camera folder
"${layout.camera}" (its full path on this machine is not included). Detected layout: ${layout.label}.

What is in it (MANIFEST.txt, the last file, lists every file with its size and SHA-256):
- files/...         the camera's index files, byte for byte: index00.bin, index01.bin, index00p.bin, index01p.bin,
                    record_db_index*, event_db_index*, pic_segment_db_index* (with -journal / -wal) and info.bin,
                    where present. They hold recording times, byte offsets, counts and the camera's serial number
                    (info.bin): no picture and no video.
- listing.tsv       every file and folder of the camera folder (up to 3 levels): type, size, last-modified time.
- layout.json       what hiksync detected, and what it could not read.
- sqlite/...        the schema and the row count of every table of each SQLite index database.
${
  opts.withMediaHeads
    ? `- media-heads/...   the first ${MEDIA_HEAD_BYTES / 1024} KiB of the first ${MEDIA_HEAD_FILES} hiv*.mp4 video blocks, as asked with
                    --with-media-heads: this is real video (a few frames of what the camera saw).`
    : `- no video and no pictures: no byte of any hiv*.mp4 or hiv*.pic file (--with-media-heads was not given).`
}

Nothing else from the camera folder is in this archive. Look through it before you attach it to a report.
`;
}

function listingTsv(layout: CameraLayout): string {
  const rows = ['type\tsize\tmtime\tpath'];
  for (const e of layout.entries) {
    const type = e.symlink ? `${e.type}(symlink)` : e.type;
    rows.push(`${type}\t${e.size ?? ''}\t${e.mtime ?? ''}\t${e.path}${e.error ? `\t(${e.error})` : ''}`);
  }
  if (layout.truncated) rows.push(`# ${layout.truncated}`);
  return rows.join('\n') + '\n';
}

function manifestText(entries: readonly BundleEntry[]): string {
  const rows = [
    'Every file of this hiksync diagnostic bundle (this one excepted): size in bytes, SHA-256, name, and what it is.',
    '',
  ];
  for (const e of entries)
    rows.push(
      `${String(e.size).padStart(10)}  ${e.sha256}  ${e.name}  (${e.kind}${e.source ? ` of ${e.source}` : ''})`,
    );
  return rows.join('\n') + '\n';
}

/**
 * Writes the bundle of `cameraPath` to `file` (see the module comment). Throws BundleOutputError (target refused),
 * BundleLimitError (a cap), InputDirError (the camera folder cannot be read, or its share stops answering), or the
 * file-system error of writing the target; on any failure no file is left at `file` or at its temporary name.
 */
export async function writeBundle(cameraPath: string, file: string, opts: BundleOptions): Promise<BundleResult> {
  const limits = { ...DEFAULT_BUNDLE_LIMITS, ...opts.limits };
  const now = opts.now ?? new Date();
  const io = opts.io;
  const target = path.resolve(file);
  const camera = path.resolve(cameraPath);
  await checkTarget(camera, target, io);
  const layout = await inspectLayout(camera, io);
  const notes: string[] = [...layout.problems];

  const files = layout.entries.filter((e) => e.type === 'file');
  const copies = files.filter((e) => isBundledIndexFile(e.path)).sort(byPath);
  if (copies.length > limits.maxFiles)
    throw new BundleLimitError('the number of index files', copies.length, limits.maxFiles, 'files');
  for (const c of copies)
    if ((c.size ?? 0) > limits.maxFileBytes)
      throw new BundleLimitError(
        c.path,
        c.size!,
        limits.maxFileBytes,
        'bytes',
        'one file of the bundle may not be larger',
      );
  const planned = copies.reduce((n, c) => n + (c.size ?? 0), 0);
  if (planned > limits.maxInputBytes)
    throw new BundleLimitError('the index files together', planned, limits.maxInputBytes);
  const heads = opts.withMediaHeads
    ? files
        .filter((e) => HIV_VIDEO_RE.test(e.path.split('/').at(-1)!) && (e.size ?? 0) > 0)
        .sort(byPath)
        .slice(0, MEDIA_HEAD_FILES)
    : [];

  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  // Opened here, not by the stream: when open fails nothing was created, and when it succeeds the stream owns the
  // handle and closes it on every path (abort waits for that before the file is removed).
  const fh = await fs.open(tmp, 'wx', 0o644);
  const writer = new TarGzWriter(fh.createWriteStream(), limits.maxArchiveBytes);
  const entries: BundleEntry[] = [];
  const sqlite: BundleResult['sqlite'] = [];
  const add = async (name: string, kind: EntryKind, data: Buffer, mtime: Date, source?: string) => {
    const full = `${BUNDLE_ROOT}/${name}`;
    await writer.add(full, data, mtime);
    const entry: BundleEntry = { name: full, kind, size: data.length, sha256: sha256(data) };
    if (source !== undefined) entry.source = source;
    entries.push(entry);
  };
  const shareFailed = (err: unknown) =>
    err instanceof ShareTimeoutError ? new InputDirError(err.message, { cause: err }) : err;
  let ok = false;
  try {
    await add('README.txt', 'readme', Buffer.from(readmeText(layout, opts, now)), now);
    let copied = 0;
    for (const c of copies) {
      const abs = path.join(camera, ...c.path.split('/'));
      let read: ReadResult;
      try {
        read = await readIndexFile(io, abs, c.path, limits.maxFileBytes);
      } catch (err) {
        if (err instanceof BundleLimitError) throw err;
        if (err instanceof ShareTimeoutError) throw shareFailed(err);
        notes.push(
          `${c.path}: not included: ${err instanceof NotRegularFileError ? err.message : ((err as NodeJS.ErrnoException).code ?? messageOf(err))}`,
        );
        continue;
      }
      copied += read.bytes.length;
      if (copied > limits.maxInputBytes)
        throw new BundleLimitError('the index files together', copied, limits.maxInputBytes);
      if (read.changing)
        notes.push(`${c.path}: changed while it was read ${READ_ATTEMPTS} times (the camera writes it)`);
      await add(`files/${c.path}`, 'index', read.bytes, new Date(read.mtimeMs), c.path);
      if (SQLITE_DB_RE.test(c.path.split('/').at(-1)!)) {
        const summary = await summarizeSqlite(read.bytes);
        sqlite.push({ file: c.path, summary });
      }
    }
    for (const h of heads) {
      let head;
      try {
        head = await readHeadOf(io, path.join(camera, ...h.path.split('/')), MEDIA_HEAD_BYTES);
      } catch (err) {
        if (err instanceof ShareTimeoutError) throw shareFailed(err);
        notes.push(`${h.path}: head not included: ${(err as NodeJS.ErrnoException).code ?? messageOf(err)}`);
        continue;
      }
      await add(`media-heads/${h.path}`, 'media-head', head.bytes, new Date(head.mtimeMs), h.path);
    }
    await add('listing.tsv', 'listing', Buffer.from(listingTsv(layout)), now);
    for (const s of sqlite) {
      const text = formatSqliteSummary(s.file, s.summary);
      await add(`sqlite/${s.file}.txt`, 'sqlite-schema', Buffer.from(text), now, s.file);
    }
    const { entries: listed, ...found } = layout;
    const layoutJson = {
      ...found,
      listedEntries: listed.length,
      withMediaHeads: Boolean(opts.withMediaHeads),
      mediaHeads: heads.map((h) => h.path),
      sqlite,
      notes,
    };
    await add('layout.json', 'layout', Buffer.from(JSON.stringify(layoutJson, null, 2) + '\n'), now);
    const manifest = Buffer.from(manifestText(entries));
    await writer.add(`${BUNDLE_ROOT}/MANIFEST.txt`, manifest, now);
    entries.push({
      name: `${BUNDLE_ROOT}/MANIFEST.txt`,
      kind: 'manifest',
      size: manifest.length,
      sha256: sha256(manifest),
    });
    const archiveBytes = await writer.finish();
    await fsyncFile(tmp);
    // The target was free when we started; a file that appeared meanwhile is not ours to replace.
    if (
      await fs.lstat(target).then(
        () => true,
        () => false,
      )
    )
      throw new BundleOutputError(target, `${target} appeared while the bundle was written: it is left as it is`);
    await fs.rename(tmp, target);
    ok = true;
    return { file: target, archiveBytes, entries, layout, sqlite, notes };
  } finally {
    if (!ok) {
      await writer.abort();
      await removeQuietly(tmp);
    }
  }
}
