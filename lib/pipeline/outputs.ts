/**
 * The output side of one camera: list its folders once per pass, clear temporaries a crashed run left,
 * settle manifest entries a crash left 'pending', and rebuild a lost manifest from the files themselves.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Recording } from '../hikvision/types.js';
import type { Manifest } from './manifest.js';
import type { ManifestEntry } from './manifest-types.js';
import {
  compareNamingOrder,
  extensionFor,
  fileName,
  IMAGE_FOLDER,
  outputPath,
  parseFileName,
  VIDEO_FOLDER,
  type VideoContainer,
} from './naming.js';
import type { OutputListing } from './plan.js';

/** Temporary files are hidden and end in .partial: `.<final name>.<pid>-<n>.partial`. */
export const TEMP_RE = /^\..+\.partial$/;

export function tempNameFor(outputAbs: string, unique: string): string {
  return path.join(path.dirname(outputAbs), `.${path.basename(outputAbs)}.${unique}.partial`);
}

export interface CameraListing extends OutputListing {
  /** Temporary files left by an interrupted run, removed. */
  removedTemps: number;
}

async function listFolder(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * One directory listing per output folder. Runs under the lock, so any temporary file present belongs to a run
 * that died: it is removed (it never had the final name, so nothing complete is lost).
 */
export async function listCameraOutputs(outputRoot: string, tag: string): Promise<CameraListing> {
  let removedTemps = 0;
  const sets: Set<string>[] = [];
  for (const folder of [VIDEO_FOLDER, IMAGE_FOLDER]) {
    const dir = path.join(outputRoot, tag, folder);
    const names = new Set<string>();
    for (const name of await listFolder(dir)) {
      if (TEMP_RE.test(name)) {
        await fs.rm(path.join(dir, name), { force: true });
        removedTemps++;
      } else {
        names.add(name);
      }
    }
    sets.push(names);
  }
  return { video: sets[0]!, images: sets[1]!, removedTemps };
}

function listed(listing: OutputListing, output: string): boolean {
  const name = output.slice(output.lastIndexOf('/') + 1);
  return output.includes(`/${VIDEO_FOLDER}/`) ? listing.video.has(name) : listing.images.has(name);
}

/**
 * Entries a crash left 'pending': the worker renames only complete files, so an existing output is complete
 * (-> done); a missing one was an interrupted attempt (-> failed, the attempt counted).
 */
export async function settlePending(manifest: Manifest, outputRoot: string, listing: OutputListing): Promise<number> {
  let settled = 0;
  for (const e of manifest.entries()) {
    if (e.status !== 'pending') continue;
    settled++;
    if (listed(listing, e.output)) {
      const st = await fs.stat(path.join(outputRoot, e.output));
      manifest.put({ ...e, status: 'done', size: st.size, updatedAt: Date.now() });
    } else {
      manifest.put({ ...e, status: 'failed', lastError: 'interrupted (the run stopped while extracting)', updatedAt: Date.now() });
    }
  }
  return settled;
}

/** The name each recording gets when nothing else is in the way: plain, -2, -3 ... by start order. */
export function naturalNames(tag: string, recordings: readonly Recording[], container: VideoContainer): Map<string, Recording> {
  const byName = new Map<string, Recording>();
  // The planner's order, so that each name maps back to the recording the planner gave it to.
  const ordered = [...recordings].sort(compareNamingOrder);
  const perSecond = new Map<string, number>();
  for (const r of ordered) {
    const key = `${r.kind}:${r.start.sec}`;
    const n = (perSecond.get(key) ?? 0) + 1;
    perSecond.set(key, n);
    byName.set(outputPath(tag, r.kind, fileName(tag, r.start.sec, extensionFor(r.kind, container), n)), r);
  }
  return byName;
}

export const MARKER_PREFIX = 'hiksync:';

/**
 * Rebuild a lost manifest from the output folders without re-extracting: a file at the natural name of a
 * recording still on the camera is taken back when it is provably ours: an MP4 carrying hiksync's marker for
 * that recording id, or a JPEG (copied verbatim, so identical to what we would write). Returns entries added.
 */
export async function rebuildManifest(
  manifest: Manifest,
  outputRoot: string,
  tag: string,
  recordings: readonly Recording[],
  listing: OutputListing,
  container: VideoContainer,
): Promise<number> {
  let added = 0;
  for (const [output, rec] of naturalNames(tag, recordings, container)) {
    if (manifest.get(rec.id) || manifest.ownerOf(output) || !listed(listing, output)) continue;
    const abs = path.join(outputRoot, output);
    const name = path.basename(output);
    if (!parseFileName(name, tag)) continue;
    const ours = rec.kind === 'video' ? (await readMp4Marker(abs)) === MARKER_PREFIX + rec.id : await isCompleteJpeg(abs);
    if (!ours) continue;
    const st = await fs.stat(abs);
    manifest.put(entryFor(rec, output, 'done', st.size, 0, 'rebuilt'));
    added++;
  }
  return added;
}

export function entryFor(
  rec: Recording,
  output: string,
  status: ManifestEntry['status'],
  size: number,
  attempts: number,
  origin: ManifestEntry['origin'] = 'extracted',
  lastError?: string,
): ManifestEntry {
  return {
    id: rec.id,
    kind: rec.kind,
    output,
    status,
    size,
    startSec: rec.start.sec,
    startUsec: rec.start.usec,
    endSec: rec.end.sec,
    source: { datadir: rec.datadir, fileNo: rec.fileNo, slot: rec.slot, startOffset: rec.startOffset, endOffset: rec.endOffset },
    attempts,
    ...(lastError !== undefined ? { lastError } : {}),
    updatedAt: Date.now(),
    origin,
  };
}

async function isCompleteJpeg(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    return await hasJpegEnds(fh, (await fh.stat()).size);
  } finally {
    await fh.close();
  }
}

/** SOI (FF D8 FF) at the start and EOI (FF D9) at the end: a whole JPEG as hiksync copies them. */
export async function hasJpegEnds(fh: fs.FileHandle, size: number): Promise<boolean> {
  if (size < 4) return false;
  const head = Buffer.alloc(3);
  const tail = Buffer.alloc(2);
  await fh.read(head, 0, 3, 0);
  await fh.read(tail, 0, 2, size - 2);
  return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff && tail[0] === 0xff && tail[1] === 0xd9;
}

/** Position and size of the first top-level ISO-BMFF box of `type` (box headers only, bounded count). */
export async function findTopLevelBox(fh: fs.FileHandle, size: number, type: string): Promise<{ pos: number; size: number } | null> {
  const hdr = Buffer.alloc(16);
  let pos = 0;
  for (let i = 0; i < 64 && pos + 8 <= size; i++) {
    await fh.read(hdr, 0, 16, pos);
    let boxSize = hdr.readUInt32BE(0);
    let headerLen = 8;
    if (boxSize === 1) {
      boxSize = Number(hdr.readBigUInt64BE(8));
      headerLen = 16;
    } else if (boxSize === 0) {
      boxSize = size - pos; // the last box, to the end of the file
    }
    if (boxSize < headerLen) return null;
    if (hdr.toString('latin1', 4, 8) === type) return { pos, size: boxSize };
    pos += boxSize;
  }
  return null;
}

/** The hiksync marker string in an MP4's moov box (bounded read: moov is small next to the media). */
export async function readMp4Marker(file: string): Promise<string | null> {
  const MAX_MOOV = 64 * 1024 * 1024;
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const box = await findTopLevelBox(fh, size, 'moov');
    if (!box) return null;
    const len = Math.min(box.size, MAX_MOOV, size - box.pos);
    const moov = Buffer.alloc(len);
    await fh.read(moov, 0, len, box.pos);
    const at = moov.indexOf(MARKER_PREFIX, 0, 'latin1');
    if (at < 0) return null;
    let end = at + MARKER_PREFIX.length;
    while (end < moov.length && /[0-9a-zA-Z_-]/.test(String.fromCharCode(moov[end]!))) end++;
    return moov.toString('latin1', at, end);
  } finally {
    await fh.close();
  }
}
