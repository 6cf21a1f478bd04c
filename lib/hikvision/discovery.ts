/**
 * Finding cameras in the input folder and datadirs in a camera folder, and refusing the storage formats hiksync
 * does not read. Read-only: directory listings, info.bin (68 bytes) and 16-byte sniffs of suspicious files.
 */
import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { InputDirError, UnsupportedFormatError } from '../errors.js';
import { isSqlite } from './index-header.js';
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
const SQLITE_INDEX_FILES = ['record_db_index00', 'event_db_index00'];
const DVR_IMAGE_FILES = ['hikdisk00.bin', 'hikbtree', 'hikvision@hangzhou'];

function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || LITTER_DIRS.has(name);
}

async function isDir(parent: string, e: Dirent): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return (await fs.stat(path.join(parent, e.name))).isDirectory();
  } catch {
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
export async function discoverCameras(inputDir: string): Promise<CameraDir[]> {
  const root = path.resolve(inputDir);
  let entries: Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new InputDirError(
      `cannot list the input folder ${root}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { cause: err },
    );
  }
  if (looksLikeCamera(entries)) return [{ name: path.basename(root), path: root }];
  const cameras: CameraDir[] = [];
  for (const e of entries) {
    if (isIgnoredName(e.name)) continue;
    if (await isDir(root, e)) cameras.push({ name: e.name, path: path.join(root, e.name) });
  }
  return cameras.sort(byName);
}

/** info.bin's datadir count (u32 at 64), or undefined when missing, short or implausible. */
export function parseInfoBin(bytes: Uint8Array): number | undefined {
  if (bytes.length < INFO_BIN_SIZE) return undefined;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(64, true);
  return n >= 1 && n <= MAX_DATADIRS ? n : undefined;
}

/** Throws UnsupportedFormatError when a folder listing shows a SQLite index or a DVR disk image. */
async function refuseUnsupported(dir: string, names: Iterable<string>): Promise<void> {
  for (const name of names) {
    const lower = name.toLowerCase();
    if (DVR_IMAGE_FILES.includes(lower)) {
      const file = path.join(dir, name);
      throw new UnsupportedFormatError(
        `${file} is a Hikvision DVR/NVR disk image; hiksync reads IP-camera NAS/SD recordings only`,
        file,
      );
    }
    if (SQLITE_INDEX_FILES.includes(lower)) {
      const file = path.join(dir, name);
      if (isSqlite(await readHead(file, 16))) {
        throw new UnsupportedFormatError(
          `${file} is a SQLite recording index (camera firmware 5.5 or later); hiksync reads the index00.bin format only`,
          file,
        );
      }
    }
  }
}

async function listNames(dir: string): Promise<{ files?: Set<string>; dirs?: Dirent[]; error?: string }> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return { files: new Set(entries.map((e) => e.name)), dirs: entries };
  } catch (err) {
    return { error: `cannot list ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
}

/**
 * The datadirs of a camera with their listings. Throws UnsupportedFormatError (naming the file) when the camera or
 * one of its datadirs uses a format hiksync does not read, and the fs error when the camera folder is unreadable.
 */
export async function listDatadirs(cameraPath: string): Promise<DatadirListing> {
  const root = path.resolve(cameraPath);
  const entries = await fs.readdir(root, { withFileTypes: true });
  const rootNames = new Set(entries.map((e) => e.name));
  await refuseUnsupported(root, rootNames);

  const numbered = new Map<number, string>();
  for (const e of entries) {
    const m = DATADIR_RE.exec(e.name);
    if (m && (await isDir(root, e))) numbered.set(Number(m[1]), e.name);
  }
  const listing: DatadirListing = { datadirs: [], missing: [] };
  if (rootNames.has(INFO_BIN)) {
    const n = parseInfoBin(await readHead(path.join(root, INFO_BIN), INFO_BIN_SIZE));
    if (n !== undefined) {
      listing.infoBinDatadirs = n;
      for (let i = 0; i < n; i++) if (!numbered.has(i)) listing.missing.push(`datadir${i}`);
    }
  }
  if (INDEX_FILES.some((f) => rootNames.has(f))) {
    listing.datadirs.push({ name: '.', path: root, files: rootNames });
  }
  const ordered = [...numbered.entries()].sort((a, b) => a[0] - b[0]);
  const listed = await Promise.all(ordered.map(([, name]) => listNames(path.join(root, name))));
  for (let i = 0; i < ordered.length; i++) {
    const name = ordered[i]![1];
    const l = listed[i]!;
    const ref: ListedDatadir = { name, path: path.join(root, name) };
    if (l.files) {
      await refuseUnsupported(ref.path, l.files);
      ref.files = l.files;
    } else if (l.error) ref.listError = l.error;
    listing.datadirs.push(ref);
  }
  return listing;
}

/**
 * The datadirs of a camera: info.bin's count when plausible (plus any other datadirN present), else a listing
 * of datadir*; a camera folder holding index00.bin itself is one datadir named ".". Throws
 * UnsupportedFormatError naming the file for SQLite indexes and DVR disk images.
 */
export async function discoverDatadirs(cameraPath: string): Promise<DatadirRef[]> {
  const { datadirs } = await listDatadirs(cameraPath);
  return datadirs.map((d) => ({ name: d.name, path: d.path }));
}
