/**
 * Finding cameras in the input folder and datadirs in a camera folder, and refusing the storage formats hiksync
 * does not read (DVR/NVR disk images). Read-only: directory listings and info.bin (68 bytes), all
 * through a ShareIo (time-limited calls; a share that does not answer is a ShareTimeoutError, never "no camera").
 */
import type { Dirent } from 'node:fs';
import * as path from 'node:path';
import { InputDirError, NotRegularFileError, ShareTimeoutError, UnsupportedFormatError } from '../errors.js';
import { createShareIo, type ShareIo } from '../share-io.js';
import { readHead } from './read-file.js';

export interface CameraDir {
  /** Folder name (not translated). */
  name: string;
  /** Absolute path. */
  path: string;
}

export interface DatadirRef {
  /** "datadir0" ... or "." when the camera folder itself holds the index (SD-card layout). */
  name: string;
  /** Absolute path. */
  path: string;
}

/** A datadir with its listing (read once), or why it could not be listed. */
export interface ListedDatadir extends DatadirRef {
  files?: Set<string>;
  listError?: string;
}

export interface DatadirListing {
  datadirs: ListedDatadir[];
  /** Datadirs info.bin announces that do not exist. */
  missing: string[];
  /** What info.bin said, when it was present and plausible. */
  infoBinDatadirs?: number;
  /** What is wrong with the camera folder although it could be read (info.bin a FIFO, say). */
  problems: string[];
}

/** Synology/QNAP/Linux litter that is never a camera. */
export const LITTER_DIRS: ReadonlySet<string> = new Set([
  '@eaDir',
  '#recycle',
  '#snapshot',
  'lost+found',
  '@Recycle',
  '@Recently-Snapshot',
]);
export const INFO_BIN = 'info.bin';
export const INFO_BIN_SIZE = 68;
/** More datadirs than this in info.bin is garbage: fall back to listing. */
export const MAX_DATADIRS = 1024;
const DATADIR_RE = /^datadir(\d+)$/;
const INDEX_FILES = ['index00.bin', 'index01.bin', 'index00p.bin', 'index01p.bin'];
/** SQLite indexes of firmware 5.5+ (read by sqlite-source.ts); a folder holding one is a datadir. */
const SQLITE_INDEX_FILES = ['record_db_index00', 'record_db_index01'];
const DVR_IMAGE_FILES = ['hikdisk00.bin', 'hikbtree', 'hikvision@hangzhou'];

function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || LITTER_DIRS.has(name);
}

async function isDir(parent: string, e: Dirent, io: ShareIo): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return (await io.stat(path.join(parent, e.name))).isDirectory();
  } catch (err) {
    if (err instanceof ShareTimeoutError) throw err;
    return false;
  }
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function looksLikeCamera(entries: Dirent[]): boolean {
  return entries.some(
    (e) =>
      INDEX_FILES.includes(e.name) ||
      SQLITE_INDEX_FILES.includes(e.name) ||
      e.name === INFO_BIN ||
      ((e.isDirectory() || e.isSymbolicLink()) && DATADIR_RE.test(e.name)),
  );
}

/**
 * Every sub-folder of `inputDir` is a camera (files, dot-folders and NAS litter ignored); an input folder that
 * itself holds an index, info.bin or datadir* is ONE camera named after it. Sorted by name.
 */
export async function discoverCameras(inputDir: string, io: ShareIo = createShareIo()): Promise<CameraDir[]> {
  const root = path.resolve(inputDir);
  const cannot = (err: unknown) =>
    new InputDirError(
      `cannot list the input folder ${root}: ${err instanceof ShareTimeoutError ? err.message : ((err as NodeJS.ErrnoException).code ?? String(err))}`,
      { cause: err },
    );
  let entries: Dirent[];
  try {
    entries = await io.readdir(root);
  } catch (err) {
    throw cannot(err);
  }
  if (looksLikeCamera(entries)) return [{ name: path.basename(root), path: root }];
  const cameras: CameraDir[] = [];
  for (const e of entries) {
    if (isIgnoredName(e.name)) continue;
    let dir: boolean;
    try {
      dir = await isDir(root, e, io);
    } catch (err) {
      throw cannot(err);
    }
    if (dir) cameras.push({ name: e.name, path: path.join(root, e.name) });
  }
  return cameras.sort(byName);
}

/** info.bin's datadir count (u32 at 64), or undefined when missing, short or implausible. */
export function parseInfoBin(bytes: Uint8Array): number | undefined {
  if (bytes.length < INFO_BIN_SIZE) return undefined;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(64, true);
  return n >= 1 && n <= MAX_DATADIRS ? n : undefined;
}

/**
 * Throws UnsupportedFormatError when a folder listing shows a DVR/NVR disk image (HIKDISK00.bin, HIKBTREE,
 * HIKVISION@HANGZHOU): another format, which says what was found and how to send a sample.
 */
function refuseUnsupported(dir: string, names: Iterable<string>): void {
  for (const name of names) {
    if (!DVR_IMAGE_FILES.includes(name.toLowerCase())) continue;
    const file = path.join(dir, name);
    throw new UnsupportedFormatError(
      `found ${name} in ${dir}: the storage layout of a Hikvision DVR/NVR disk (HIKBTREE), not the NAS/SD layout of ` +
        `an IP camera (index00.bin or record_db_index00 with hivNNNNN.mp4); hiksync cannot read it. To help add ` +
        `support, attach the output of \`hiksync inspect <folder> --bundle FILE\` to a bug report`,
      file,
    );
  }
}

async function listNames(dir: string, io: ShareIo): Promise<{ files?: Set<string>; dirs?: Dirent[]; error?: string }> {
  try {
    const entries = await io.readdir(dir);
    return { files: new Set(entries.map((e) => e.name)), dirs: entries };
  } catch (err) {
    if (err instanceof ShareTimeoutError) throw err;
    return { error: `cannot list ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
}

/**
 * The datadirs of a camera with their listings. Throws UnsupportedFormatError (naming the file) when the camera or
 * one of its datadirs uses a format hiksync does not read, ShareTimeoutError when the share does not answer, and
 * the fs error when the camera folder is unreadable.
 */
export async function listDatadirs(cameraPath: string, io: ShareIo = createShareIo()): Promise<DatadirListing> {
  const root = path.resolve(cameraPath);
  const entries = await io.readdir(root);
  const rootNames = new Set(entries.map((e) => e.name));
  refuseUnsupported(root, rootNames);

  const numbered = new Map<number, string>();
  for (const e of entries) {
    const m = DATADIR_RE.exec(e.name);
    if (m && (await isDir(root, e, io))) numbered.set(Number(m[1]), e.name);
  }
  const listing: DatadirListing = { datadirs: [], missing: [], problems: [] };
  if (rootNames.has(INFO_BIN)) {
    let head: Buffer = Buffer.alloc(0);
    try {
      head = await readHead(path.join(root, INFO_BIN), INFO_BIN_SIZE, io);
    } catch (err) {
      // info.bin only tells how many datadirs to expect: the listing still finds them. Say what is wrong with it.
      if (!(err instanceof NotRegularFileError)) throw err;
      listing.problems.push(`${err.message}; its datadirs are found by listing`);
    }
    const n = parseInfoBin(head);
    if (n !== undefined) {
      listing.infoBinDatadirs = n;
      for (let i = 0; i < n; i++) if (!numbered.has(i)) listing.missing.push(`datadir${i}`);
    }
  }
  if (INDEX_FILES.some((f) => rootNames.has(f)) || SQLITE_INDEX_FILES.some((f) => rootNames.has(f))) {
    listing.datadirs.push({ name: '.', path: root, files: rootNames });
  }
  const ordered = [...numbered.entries()].sort((a, b) => a[0] - b[0]);
  const listed = await Promise.all(ordered.map(([, name]) => listNames(path.join(root, name), io)));
  for (let i = 0; i < ordered.length; i++) {
    const name = ordered[i]![1];
    const l = listed[i]!;
    const ref: ListedDatadir = { name, path: path.join(root, name) };
    if (l.files) {
      refuseUnsupported(ref.path, l.files);
      ref.files = l.files;
    } else if (l.error) ref.listError = l.error;
    listing.datadirs.push(ref);
  }
  return listing;
}

/**
 * The datadirs of a camera: info.bin's count when plausible (plus any other datadirN present), else a listing
 * of datadir*; a camera folder holding index00.bin itself is one datadir named ".". Throws
 * UnsupportedFormatError naming the file for DVR/NVR disk images.
 */
export async function discoverDatadirs(cameraPath: string, io?: ShareIo): Promise<DatadirRef[]> {
  const { datadirs } = await listDatadirs(cameraPath, io);
  return datadirs.map((d) => ({ name: d.name, path: d.path }));
}
