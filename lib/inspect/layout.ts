/**
 * What is in one camera folder, for `hiksync inspect`: a listing of its tree (names, sizes, mtimes) and which storage
 * layout the names and a 16-byte sniff of the SQLite candidates show: the binary index (index00.bin), the SQLite index
 * of firmware 5.5+ (record_db_index00, ...), a DVR/NVR disk (HIKBTREE, ...), or none hiksync knows. Read-only, through
 * a ShareIo (time-limited calls); nothing here reads recordings.
 *
 * The name lists are this module's own (not discovery's): they also say what a bundle may copy (lib/inspect/bundle.ts),
 * and a file the bundle copies must be one of these index files, never something a looser rule let through.
 */
import type { Dirent } from 'node:fs';
import * as path from 'node:path';
import pLimit from 'p-limit';
import { InputDirError, ShareTimeoutError } from '../errors.js';
import { INFO_BIN, LITTER_DIRS, parseInfoBin } from '../hikvision/discovery.js';
import { isSqlite } from '../hikvision/index-header.js';
import { readHead } from '../hikvision/read-file.js';
import type { ShareIo } from '../share-io.js';

/** The binary index tables (video, pictures, and their copies). */
export const BINARY_INDEX_RE = /^index0[01]p?\.bin$/;
/** The SQLite index databases of firmware 5.5+ and their rollback journal / write-ahead log. */
export const SQLITE_INDEX_RE = /^(record_db_index|event_db_index|pic_segment_db_index)\d{2}(-journal|-wal)?$/;
/** The main database files among those (the ones that hold a schema). */
export const SQLITE_DB_RE = /^(record_db_index|event_db_index|pic_segment_db_index)\d{2}$/;
/** Video blocks (raw MPEG-PS) and picture blocks (JPEGs): never copied whole. */
export const HIV_VIDEO_RE = /^hiv\d{5}\.mp4$/;
export const HIV_PICTURE_RE = /^hiv\d{5}\.pic$/;
/** Files of a DVR/NVR disk image (another format), compared in lower case. */
export const DVR_FILES: ReadonlySet<string> = new Set(['hikbtree', 'hikdisk00.bin', 'hikvision@hangzhou']);

/** Folder levels listed below the camera folder: datadirN/ and one more (the layouts seen have one). */
export const MAX_LISTING_DEPTH = 3;
/** Entries listed at most (a camera has a few hundred): a folder that is not a camera must not list for hours. */
export const MAX_LISTING_ENTRIES = 20_000;
/** Parallel stat calls (as the scan): hides NFS latency, stays polite. */
const STAT_CONCURRENCY = 16;

export type EntryType = 'file' | 'folder' | 'other';

export interface ListedEntry {
  /** Relative to the camera folder, '/'-separated. */
  path: string;
  type: EntryType;
  /** A symbolic link (type and size are its target's). */
  symlink?: boolean;
  size?: number;
  /** ISO time (UTC) of the last change as the share reports it (the camera does not keep hiv mtimes current). */
  mtime?: string;
  mtimeMs?: number;
  /** Why it could not be stat'ed or listed. */
  error?: string;
}

export type LayoutKind = 'binary-index' | 'sqlite-index' | 'dvr-disk';

export interface FolderSummary {
  /** Relative path of the folder ('.' = the camera folder). */
  path: string;
  binaryIndexes: string[];
  sqliteFiles: string[];
  /** SQLite index names whose first bytes are not a SQLite database. */
  notSqlite: string[];
  dvrFiles: string[];
  hivVideos: number;
  hivPictures: number;
}

export interface CameraLayout {
  /** The camera folder's name (its absolute path is not part of a bundle). */
  camera: string;
  kinds: LayoutKind[];
  /** "binary index", "SQLite index", "binary index + SQLite index", "HIKBTREE (DVR/NVR disk)", "unknown". */
  label: string;
  /** Folders holding index files, DVR files or hiv blocks. */
  folders: FolderSummary[];
  /** info.bin's datadir count, when present and plausible. */
  infoBinDatadirs?: number;
  entries: ListedEntry[];
  /** Set when the listing stopped early (too many entries); says where. */
  truncated?: string;
  problems: string[];
}

const LABELS: Record<LayoutKind, string> = {
  'binary-index': 'binary index',
  'sqlite-index': 'SQLite index',
  'dvr-disk': 'HIKBTREE (DVR/NVR disk)',
};

function errText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

function rel(parent: string, name: string): string {
  return parent === '.' ? name : `${parent}/${name}`;
}

/**
 * Lists the camera folder (depth MAX_LISTING_DEPTH, at most MAX_LISTING_ENTRIES entries, NAS litter and dot-folders
 * listed but not entered) and tells its layout. Throws InputDirError when the camera folder itself cannot be listed
 * (missing, unreadable, not a folder, or the share does not answer).
 */
export async function inspectLayout(cameraPath: string, io: ShareIo): Promise<CameraLayout> {
  const root = path.resolve(cameraPath);
  const layout: CameraLayout = {
    camera: path.basename(root),
    kinds: [],
    label: 'unknown',
    folders: [],
    entries: [],
    problems: [],
  };
  let top: Dirent[];
  try {
    top = await io.readdir(root);
  } catch (err) {
    throw new InputDirError(
      `cannot list the camera folder ${root}: ${err instanceof ShareTimeoutError ? err.message : errText(err)}`,
      { cause: err },
    );
  }
  const limit = pLimit(STAT_CONCURRENCY);
  const byFolder = new Map<string, string[]>();
  // Breadth first: every datadir's files are listed before anything deeper when the entry cap is reached.
  let level: Array<{ rel: string; dirents: Dirent[] }> = [{ rel: '.', dirents: top }];
  for (let depth = 1; level.length > 0 && depth <= MAX_LISTING_DEPTH; depth++) {
    const next: Array<{ rel: string; abs: string }> = [];
    for (const { rel: folder, dirents } of level) {
      const sorted = [...dirents].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const room = MAX_LISTING_ENTRIES - layout.entries.length;
      if (sorted.length > room) {
        layout.truncated ??= `the listing stops at ${MAX_LISTING_ENTRIES} entries (in ${folder})`;
        sorted.length = Math.max(0, room);
      }
      byFolder.set(
        folder,
        sorted.map((d) => d.name),
      );
      const listed = await Promise.all(sorted.map((d) => limit(() => statEntry(root, rel(folder, d.name), d, io))));
      for (const [i, entry] of listed.entries()) {
        layout.entries.push(entry);
        const name = sorted[i]!.name;
        if (entry.type === 'folder' && !name.startsWith('.') && !LITTER_DIRS.has(name))
          next.push({ rel: entry.path, abs: path.join(root, ...entry.path.split('/')) });
      }
    }
    if (depth === MAX_LISTING_DEPTH || layout.truncated) break;
    level = [];
    for (const f of next) {
      try {
        level.push({ rel: f.rel, dirents: await io.readdir(f.abs) });
      } catch (err) {
        if (err instanceof ShareTimeoutError) throw new InputDirError(err.message, { cause: err });
        const entry = layout.entries.find((e) => e.path === f.rel);
        if (entry) entry.error = `cannot list: ${errText(err)}`;
        layout.problems.push(`${f.rel}: cannot list: ${errText(err)}`);
      }
    }
  }
  await classify(root, layout, byFolder, io);
  return layout;
}

async function statEntry(root: string, relPath: string, d: Dirent, io: ShareIo): Promise<ListedEntry> {
  const entry: ListedEntry = { path: relPath, type: d.isDirectory() ? 'folder' : d.isFile() ? 'file' : 'other' };
  if (d.isSymbolicLink()) entry.symlink = true;
  try {
    const st = await io.stat(path.join(root, ...relPath.split('/')));
    entry.type = st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'other';
    if (entry.type === 'file') entry.size = st.size;
    entry.mtimeMs = st.mtimeMs;
    entry.mtime = new Date(st.mtimeMs).toISOString();
  } catch (err) {
    if (err instanceof ShareTimeoutError) throw new InputDirError(err.message, { cause: err });
    entry.error = errText(err);
  }
  return entry;
}

async function classify(root: string, layout: CameraLayout, byFolder: Map<string, string[]>, io: ShareIo) {
  const kinds = new Set<LayoutKind>();
  const files = new Set(layout.entries.filter((e) => e.type === 'file').map((e) => e.path));
  for (const [folder, names] of byFolder) {
    const isFile = (n: string) => files.has(rel(folder, n));
    const summary: FolderSummary = {
      path: folder,
      binaryIndexes: names.filter((n) => BINARY_INDEX_RE.test(n) && isFile(n)),
      sqliteFiles: names.filter((n) => SQLITE_INDEX_RE.test(n) && isFile(n)),
      notSqlite: [],
      // DVR files are named in any case; a folder of that name is evidence too.
      dvrFiles: names.filter((n) => DVR_FILES.has(n.toLowerCase())),
      hivVideos: names.filter((n) => HIV_VIDEO_RE.test(n)).length,
      hivPictures: names.filter((n) => HIV_PICTURE_RE.test(n)).length,
    };
    for (const db of summary.sqliteFiles.filter((n) => SQLITE_DB_RE.test(n))) {
      let head: Buffer;
      try {
        head = await readHead(path.join(root, ...rel(folder, db).split('/')), 16, io);
      } catch (err) {
        if (err instanceof ShareTimeoutError) throw new InputDirError(err.message, { cause: err });
        head = Buffer.alloc(0);
      }
      if (isSqlite(head)) kinds.add('sqlite-index');
      else summary.notSqlite.push(db);
    }
    if (summary.binaryIndexes.length > 0) kinds.add('binary-index');
    if (summary.dvrFiles.length > 0) kinds.add('dvr-disk');
    const interesting =
      summary.binaryIndexes.length + summary.sqliteFiles.length + summary.dvrFiles.length > 0 ||
      summary.hivVideos + summary.hivPictures > 0;
    if (interesting) layout.folders.push(summary);
  }
  layout.folders.sort((a, b) => (a.path === '.' ? -1 : b.path === '.' ? 1 : a.path < b.path ? -1 : 1));
  // A DVR disk is another format whatever else is there; otherwise the index kinds found, in this order.
  layout.kinds = (['dvr-disk', 'binary-index', 'sqlite-index'] as const).filter((k) => kinds.has(k));
  layout.label = layout.kinds.length ? layout.kinds.map((k) => LABELS[k]).join(' + ') : 'unknown';

  if (files.has(INFO_BIN)) {
    try {
      const n = parseInfoBin(await readHead(path.join(root, INFO_BIN), 68, io));
      if (n !== undefined) layout.infoBinDatadirs = n;
      else layout.problems.push(`${INFO_BIN} does not hold a plausible datadir count`);
    } catch (err) {
      if (err instanceof ShareTimeoutError) throw new InputDirError(err.message, { cause: err });
      layout.problems.push(`${INFO_BIN}: ${errText(err)}`);
    }
  }
}
