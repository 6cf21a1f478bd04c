/**
 * The planner: from one camera's scanned recordings, its manifest and a listing of its output folders,
 * decide what to extract and under which name (pure: no I/O).
 *
 * Names: a recording already in the manifest keeps its name forever. A new recording takes the first free
 * name of its second (plain, then -2, -3 ... in start order), where "free" means: not owned by a manifest
 * entry, not present on disk, not given to another recording in this plan. A name whose plain form is held by
 * a file hiksync did not write is a conflict: reported, never overwritten (unless adoptExisting asks the
 * worker to adopt a valid MP4/JPEG there or replace a raw MPEG-PS file an older tool saved as .mp4).
 */
import { isPlausibleCameraTime } from '../time.js';
import type { MediaKind, Recording } from '../hikvision/types.js';
import type { ManifestEntry } from './manifest-entry.js';
import {
  compareNamingOrder,
  extensionFor,
  fileName,
  MAX_SAME_SECOND,
  outputPath,
  type VideoContainer,
} from './naming.js';
import { isListed, type OutputListing } from './output-folders.js';

export interface PlanOptions {
  kinds: { video: boolean; picture: boolean };
  container: VideoContainer;
  /** Camera-local seconds; recordings that END before `since` or START at/after `until` are left out. */
  since?: number;
  until?: number;
  /** 0 = keep everything. */
  retentionDays: number;
  /** How many days back a pass extracts each kind (VIDEO_SYNC_DAYS / IMAGE_SYNC_DAYS); absent = no limit of its own. */
  syncDays?: Partial<Record<MediaKind, number>>;
  nowCameraSec: number;
  maxAttempts: number;
  adoptExisting: boolean;
  /** Try recordings that gave up again, from a fresh attempt count (`--retry-failed`). */
  retryGaveUp?: boolean;
}

export interface ManifestView {
  get(id: string): ManifestEntry | undefined;
  ownerOf(output: string): ManifestEntry | undefined;
}

export interface PlannedTask {
  recording: Recording;
  /** Output path relative to the output root. */
  output: string;
  /** Attempts already made (from the manifest). */
  attempts: number;
  /** Why it is extracted: new, retry of a failed/interrupted attempt, the user deleted the output, or a foreign file to adopt/replace. */
  reason: 'new' | 'retry' | 'deleted' | 'foreign';
  /** Camera clock implausible (reset or ahead): extracted anyway, reported. */
  implausible: boolean;
}

export type PlanSkip = 'already' | 'too-old' | 'out-of-range' | 'kind-off' | 'gave-up' | 'conflict' | 'unnameable';

/** The settings that limit how far back a pass extracts. */
export type AgeSetting = 'RETENTION_DAYS' | 'VIDEO_SYNC_DAYS' | 'IMAGE_SYNC_DAYS';
export const SYNC_DAYS_SETTING: Readonly<Record<MediaKind, AgeSetting>> = {
  video: 'VIDEO_SYNC_DAYS',
  picture: 'IMAGE_SYNC_DAYS',
};
/** Recordings left out for their age, by the setting that left them out (RETENTION_DAYS first) and kind. */
export type TooOldCounts = Partial<Record<AgeSetting, Record<MediaKind, number>>>;

export interface CameraPlan {
  camera: string;
  tag: string;
  tasks: PlannedTask[];
  skipped: Partial<Record<PlanSkip, number>>;
  /** Target names held by files hiksync did not write (reported; adopted/replaced only with adoptExisting). */
  conflicts: string[];
  /** Recording ids that gave up after maxAttempts (for the summary). */
  gaveUp: string[];
  implausible: number;
  /** 'too-old' skips by setting and kind (for the summary's note on what the age limits left out). */
  tooOld: TooOldCounts;
}

export function planCamera(
  camera: string,
  tag: string,
  recordings: readonly Recording[],
  manifest: ManifestView,
  listing: OutputListing,
  opts: PlanOptions,
): CameraPlan {
  const plan: CameraPlan = {
    camera,
    tag,
    tasks: [],
    skipped: {},
    conflicts: [],
    gaveUp: [],
    implausible: 0,
    tooOld: {},
  };
  const skip = (why: PlanSkip) => (plan.skipped[why] = (plan.skipped[why] ?? 0) + 1);
  const assigned = new Set<string>();
  const cutoff = (days: number | undefined) =>
    days !== undefined && days > 0 ? opts.nowCameraSec - days * 86_400 : -Infinity;
  const retentionCutoff = cutoff(opts.retentionDays);
  const syncCutoff: Record<MediaKind, number> = {
    video: cutoff(opts.syncDays?.video),
    picture: cutoff(opts.syncDays?.picture),
  };
  // RETENTION_DAYS is named first: unsetting the sync days would not bring back what retention would delete.
  const tooOldBy = (rec: Recording): AgeSetting | undefined =>
    rec.end.sec < retentionCutoff
      ? 'RETENTION_DAYS'
      : rec.end.sec < syncCutoff[rec.kind]
        ? SYNC_DAYS_SETTING[rec.kind]
        : undefined;

  const onDisk = (output: string): boolean => isListed(listing, output);

  // Start order (seconds, then microseconds) decides who gets the plain name of a second.
  const ordered = [...recordings].sort(compareNamingOrder);

  for (const rec of ordered) {
    if (!(rec.kind === 'video' ? opts.kinds.video : opts.kinds.picture)) {
      skip('kind-off');
      continue;
    }
    if (
      (opts.since !== undefined && rec.end.sec < opts.since) ||
      (opts.until !== undefined && rec.start.sec >= opts.until)
    ) {
      skip('out-of-range');
      continue;
    }
    const plausible = isPlausibleCameraTime(rec.start.sec, opts.nowCameraSec);
    const stored = manifest.get(rec.id);
    const entry =
      stored?.status === 'gave-up' && opts.retryGaveUp ? { ...stored, status: 'failed' as const, attempts: 0 } : stored;

    if (entry?.status === 'gave-up') {
      skip('gave-up');
      plan.gaveUp.push(rec.id);
      continue;
    }
    if (entry?.status === 'done' && onDisk(entry.output)) {
      skip('already');
      continue;
    }
    // Too old for the retention window: not worth extracting (retention would delete it next); or older than the
    // user's sync days for its kind. A recording with an implausible date is never "old": the ring will overwrite
    // it, so it is extracted.
    const oldBy = plausible ? tooOldBy(rec) : undefined;
    if (oldBy !== undefined) {
      skip('too-old');
      const counts = (plan.tooOld[oldBy] ??= { video: 0, picture: 0 });
      counts[rec.kind]++;
      continue;
    }
    if (!plausible) plan.implausible++;

    if (entry) {
      // Keep the name given once: done-but-deleted by the user, or a failed / interrupted attempt.
      if (entry.status === 'failed' || entry.status === 'pending') {
        if (entry.attempts >= opts.maxAttempts) {
          skip('gave-up');
          plan.gaveUp.push(rec.id);
          continue;
        }
      }
      assigned.add(entry.output);
      plan.tasks.push({
        recording: rec,
        output: entry.output,
        attempts: entry.attempts,
        reason: entry.status === 'done' ? 'deleted' : 'retry',
        implausible: !plausible,
      });
      continue;
    }

    const ext = extensionFor(rec.kind, opts.container);
    let chosen: string | undefined;
    let foreign: string | undefined;
    for (let n = 1; n <= MAX_SAME_SECOND; n++) {
      const candidate = outputPath(tag, rec.kind, fileName(tag, rec.start.sec, ext, n));
      if (assigned.has(candidate) || manifest.ownerOf(candidate)) continue; // ours, another recording
      if (onDisk(candidate)) {
        // A file we did not write sits where this recording's name would be.
        foreign = candidate;
        break;
      }
      chosen = candidate;
      break;
    }
    if (foreign !== undefined) {
      assigned.add(foreign);
      if (opts.adoptExisting) {
        plan.tasks.push({ recording: rec, output: foreign, attempts: 0, reason: 'foreign', implausible: !plausible });
      } else {
        plan.conflicts.push(foreign);
        skip('conflict');
      }
      continue;
    }
    if (chosen === undefined) {
      skip('unnameable');
      continue;
    }
    assigned.add(chosen);
    plan.tasks.push({ recording: rec, output: chosen, attempts: 0, reason: 'new', implausible: !plausible });
  }
  return plan;
}
