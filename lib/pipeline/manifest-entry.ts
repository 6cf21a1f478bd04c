import type { MediaKind, Recording } from '../hikvision/types.js';

/**
 * Outcome of one recording, as remembered in a camera's manifest.
 * - pending: dispatched to a worker; written BEFORE the worker may rename its output into place, so a crash
 *   between the rename and the 'done' line is recovered on load (output exists => done, else failed, the
 *   interrupted attempt not counted).
 * - done: the output was written completely (size bytes).
 * - failed: the last attempt failed; retried on later runs until maxAttempts.
 * - gave-up: failed maxAttempts times; listed in summaries, not retried.
 */
export type EntryStatus = 'pending' | 'done' | 'failed' | 'gave-up';

/** One manifest line: what hiksync wrote (or tried to write) for one recording id. */
export interface ManifestEntry {
  /** Recording id (see Recording.id). */
  id: string;
  kind: MediaKind;
  /** Output file path relative to the output root, with forward slashes: "<tag>/video/<name>.mp4". */
  output: string;
  status: EntryStatus;
  /** Size in bytes of the written output (0 when not done). */
  size: number;
  /** Recording start and end, camera-local seconds (+ microseconds of the start). */
  startSec: number;
  startUsec: number;
  endSec: number;
  /** Source identity: where the bytes came from. */
  source: { datadir: string; fileNo: number; slot: number; startOffset: number; endOffset: number };
  attempts: number;
  lastError?: string;
  /** Host wall-clock ms when this entry was last written. */
  updatedAt: number;
  /** How the entry came to be when not extracted by hiksync itself: adopted (--adopt-existing) or rebuilt. */
  origin?: 'extracted' | 'adopted' | 'rebuilt';
}

/** The manifest entry of a recording written (or tried) under `output`; `updatedAt` is now. */
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
    source: {
      datadir: rec.datadir,
      fileNo: rec.fileNo,
      slot: rec.slot,
      startOffset: rec.startOffset,
      endOffset: rec.endOffset,
    },
    attempts,
    ...(lastError !== undefined ? { lastError } : {}),
    updatedAt: Date.now(),
    origin,
  };
}
