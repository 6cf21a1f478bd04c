/**
 * Retention: delete outputs whose RECORDING time (not file mtime) is older than RETENTION_DAYS, and only files
 * hiksync created (manifest entries with status 'done'). Camera times are camera-local seconds, so "now" must be
 * the camera-local now (cameraNowSec(cameraTz, Date.now())).
 *
 * Two safety valves stop a wrong clock or zone from wiping an archive: a pass deletes NOTHING (and says why) when
 * - it would delete more than `maxShare` of the camera's files (a host clock jumped forward, RETENTION_DAYS typo), or
 * - the camera's newest recording lies in the future by more than FUTURE_TOLERANCE_SEC (camera clock or CAMERA_TZ
 *   wrong: then "old" cannot be trusted either).
 * `force` overrides both (hiksync retention --force, e.g. the first run on a years-old archive).
 * Recordings with implausible dates (camera clock reset to 1970/2000) are never deleted automatically.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describeCameraTime, isPlausibleCameraTime } from '../time.js';
import type { ManifestEntry } from './manifest-entry.js';

/** How far the newest recording may lie ahead of the camera-local now before retention refuses to run. */
export const FUTURE_TOLERANCE_SEC = 15 * 60;
const DAY_SEC = 86_400;

export interface RetentionOptions {
  retentionDays: number;
  nowCameraSec: number;
  maxShare: number;
  force?: boolean;
}

export interface RetentionPlan {
  /** Oldest first. Empty when blocked. */
  delete: ManifestEntry[];
  /** Done entries with an implausible recording date, kept whatever their age. */
  keptImplausible: number;
  /** Why nothing is deleted although some files are old enough. */
  blocked?: string;
}

/** The end of a recording (its start when the end is missing or before the start). */
function recordingEnd(e: ManifestEntry): number {
  return Number.isFinite(e.endSec) && e.endSec >= e.startSec ? e.endSec : e.startSec;
}

/**
 * Plans retention for ONE camera's manifest entries (the share valve is per camera). A recording is old when it
 * ENDED more than retentionDays ago: a clip is only removed once all of it is past the limit.
 */
export function planRetention(entries: ManifestEntry[], opts: RetentionOptions): RetentionPlan {
  const done = entries.filter((e) => e.status === 'done');
  const plausible = done.filter((e) => isPlausibleCameraTime(e.startSec, opts.nowCameraSec));
  const keptImplausible = done.length - plausible.length;
  if (!(opts.retentionDays > 0)) return { delete: [], keptImplausible };

  const cutoff = opts.nowCameraSec - opts.retentionDays * DAY_SEC;
  const old = plausible
    .filter((e) => recordingEnd(e) < cutoff)
    .sort((a, b) => a.startSec - b.startSec || a.startUsec - b.startUsec);
  if (old.length === 0 || opts.force) return { delete: old, keptImplausible };

  const newest = plausible.reduce((m, e) => Math.max(m, e.startSec), -Infinity);
  if (newest > opts.nowCameraSec + FUTURE_TOLERANCE_SEC) {
    const ahead = Math.round((newest - opts.nowCameraSec) / 60);
    return {
      delete: [],
      keptImplausible,
      blocked:
        `the newest recording (${describeCameraTime(newest)}) is ${ahead} min ahead of now in the camera's zone: ` +
        'the camera clock or CAMERA_TZ is wrong, so ages cannot be trusted; fix CAMERA_TZ or the clock, or use --force',
    };
  }
  if (old.length > opts.maxShare * done.length) {
    const pct = Math.round((100 * old.length) / done.length);
    return {
      delete: [],
      keptImplausible,
      blocked:
        `it would delete ${old.length} of ${done.length} files (${pct}%), more than RETENTION_MAX_SHARE=${opts.maxShare}; ` +
        'check the host clock and RETENTION_DAYS, then run `hiksync retention --force` once if this is intended',
    };
  }
  return { delete: old, keptImplausible };
}

export interface RetentionStore {
  entries(): ManifestEntry[];
  remove(id: string): void;
  flush(): Promise<void>;
}

export interface RetentionResult {
  /** Files deleted (or, with dryRun, that would be). */
  deleted: number;
  bytes: number;
  /** Entries whose file was already gone (forgotten from the manifest). */
  missing: number;
  /** Entries left alone: the path is unsafe, not a regular file, or could not be deleted. */
  failed: number;
}

/** The absolute path of an entry's output, or undefined when `output` could point outside the output root. */
export function safeOutputPath(outputRoot: string, output: string): string | undefined {
  if (output.length === 0 || path.isAbsolute(output) || output.includes('\\') || output.includes('\0'))
    return undefined;
  const parts = output.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..') || parts[0]!.startsWith('.')) return undefined;
  return path.join(outputRoot, ...parts);
}

/**
 * Deletes the planned files: `outputRoot + entry.output`, only for entries the store still lists with that output.
 * A file already gone counts as missing; either way the entry is removed from the store, which is then flushed.
 * With dryRun nothing is deleted or removed; the counts say what would be.
 */
export async function applyRetention(
  outputRoot: string,
  store: RetentionStore,
  plan: RetentionPlan,
  opts: { dryRun: boolean },
): Promise<RetentionResult> {
  const result: RetentionResult = { deleted: 0, bytes: 0, missing: 0, failed: 0 };
  if (plan.delete.length === 0) return result;
  const known = new Map(store.entries().map((e) => [e.id, e]));
  let removed = 0;
  for (const entry of plan.delete) {
    const listed = known.get(entry.id);
    const abs = safeOutputPath(outputRoot, entry.output);
    if (!listed || listed.output !== entry.output || listed.status !== 'done' || !abs) {
      result.failed++;
      continue;
    }
    let size: number;
    try {
      const st = await fs.lstat(abs);
      if (!st.isFile()) {
        result.failed++;
        continue;
      }
      size = st.size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        result.failed++;
        continue;
      }
      result.missing++;
      if (!opts.dryRun) {
        store.remove(entry.id);
        removed++;
      }
      continue;
    }
    if (opts.dryRun) {
      result.deleted++;
      result.bytes += size;
      continue;
    }
    try {
      await fs.unlink(abs);
      result.deleted++;
      result.bytes += size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        result.failed++;
        continue;
      }
      result.missing++;
    }
    store.remove(entry.id);
    removed++;
  }
  if (removed > 0) await store.flush();
  return result;
}
