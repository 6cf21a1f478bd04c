/**
 * Turning an index record into a Recording, and the recording id. The id is a hash of everything that tells one
 * recording from another one the ring later writes into the same slot (start to the microsecond and the byte
 * range), plus where it lives (datadir, kind, file, slot). Never the slot position alone: the ring reuses slots.
 */
import { hash } from 'node:crypto';
import * as path from 'node:path';
import type { IndexedRecord } from './slot-rules.js';
import type { MediaKind, Recording } from './types.js';

export interface RecordingContext {
  camera: string;
  /** "datadir0" ... or "." for the SD-card layout. */
  datadir: string;
  kind: MediaKind;
  /** Absolute folder holding the hiv files. */
  dirAbs: string;
  indexPath: string;
  slotsPerFile: number;
}

export const ID_HEX_CHARS = 20;

export function recordingId(
  datadir: string,
  kind: MediaKind,
  r: Pick<IndexedRecord, 'fileNo' | 'slot' | 'start' | 'startOffset' | 'endOffset'>,
): string {
  const key = `${datadir}\u0000${kind}\u0000${r.fileNo}\u0000${r.slot}\u0000${r.start.sec}.${r.start.usec}\u0000${r.startOffset}\u0000${r.endOffset}`;
  return hash('sha1', key, 'hex').slice(0, ID_HEX_CHARS);
}

/** hiv00012.mp4 / hiv00012.pic */
export function hivFileName(fileNo: number, kind: MediaKind): string {
  return `hiv${String(fileNo).padStart(5, '0')}.${kind === 'video' ? 'mp4' : 'pic'}`;
}

/** Absolute hiv path; plain concatenation (dirAbs is already normalized) because it runs once per record. */
export function hivPath(dirAbs: string, fileNo: number, kind: MediaKind): string {
  return dirAbs.endsWith(path.sep) ? dirAbs + hivFileName(fileNo, kind) : dirAbs + path.sep + hivFileName(fileNo, kind);
}

export function toRecording(r: IndexedRecord, ctx: RecordingContext): Recording {
  const rec: Recording = {
    id: recordingId(ctx.datadir, ctx.kind, r),
    camera: ctx.camera,
    datadir: ctx.datadir,
    kind: ctx.kind,
    fileNo: r.fileNo,
    slot: r.slot,
    source: hivPath(ctx.dirAbs, r.fileNo, ctx.kind),
    indexPath: ctx.indexPath,
    slotsPerFile: ctx.slotsPerFile,
    start: r.start,
    end: r.end,
    startOffset: r.startOffset,
    endOffset: r.endOffset,
  };
  if (ctx.kind === 'picture') rec.codec = 'jpeg';
  return rec;
}

/** Start order alone: seconds, then microseconds (two recordings can start in the same second). */
export function compareStart(a: Pick<Recording, 'start'>, b: Pick<Recording, 'start'>): number {
  return a.start.sec - b.start.sec || a.start.usec - b.start.usec;
}

/** Order of CameraScan.recordings: start time, then where it lives. */
export function compareRecordings(a: Recording, b: Recording): number {
  return (
    compareStart(a, b) ||
    (a.datadir < b.datadir ? -1 : a.datadir > b.datadir ? 1 : 0) ||
    (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
    a.fileNo - b.fileNo ||
    a.slot - b.slot
  );
}

/** The first and last video PTS (90 kHz, 33-bit) of the frames a worker actually wrote from a recording's bytes. */
export interface SeenPts {
  first: number;
  last: number;
}

const PTS_CIRCLE = 2 ** 33;
/**
 * How far the PTS of the written frames may be from the index's stamps. The stamps name the first and last frame
 * of the segment; the written ones can differ by a dropped cut last frame or a frame before the first key frame.
 * Bytes of another recording (the ring reused the file) carry PTS that are hours or days away, anywhere on the
 * 26.5-hour circle: a 10 s window lets 1 in ~4800 such cases through, and none of a camera's own recordings out.
 */
export const MAX_STAMP_DRIFT_SEC = 10;

/** Shortest distance between two 33-bit PTS values, in 90 kHz ticks. */
function ptsDistance(a: number, b: number): number {
  const d = (((a - b) % PTS_CIRCLE) + PTS_CIRCLE) % PTS_CIRCLE;
  return Math.min(d, PTS_CIRCLE - d);
}

/**
 * Whether the frames a worker wrote belong to the recording the index describes: the index keeps the 45 kHz stamps
 * of the segment's first and last frame (PTS / 2), so bytes the camera rewrote (a new recording spliced onto the
 * start of an old one, or a whole new recording under an unchanged index) show up as PTS far from them.
 * Returns why not, or null. Stamps of 0 (not written by this firmware) check nothing.
 */
export function ptsMismatch(stamps: { firstStamp: number; lastStamp: number }, seen: SeenPts): string | null {
  const limit = MAX_STAMP_DRIFT_SEC * 90_000;
  const check = (what: string, stamp: number, pts: number): string | null => {
    if (stamp === 0) return null;
    const d = ptsDistance(stamp * 2, pts);
    return d > limit ? `its ${what} frame has PTS ${pts}, ${(d / 90_000).toFixed(1)} s from the index's stamp` : null;
  };
  return check('first', stamps.firstStamp, seen.first) ?? check('last', stamps.lastStamp, seen.last);
}
