/**
 * The per-pass summary: per camera what was new, already there, skipped (by reason), failed; totals, speed.
 */
import { describeCameraTime } from '../time.js';
import type { AgeSetting, TooOldCounts } from './plan.js';

export interface CameraSummary {
  camera: string;
  tag: string;
  datadirs: number;
  /** Real recordings/pictures listed by the index tables. */
  listed: { video: number; picture: number };
  /** What the pass set out to extract (a dry run: what it would extract). */
  planned: { video: number; picture: number };
  written: { video: number; picture: number };
  /** Left out for their age (skipped as 'too-old'), by setting and kind: see PassSummary.tooOld. */
  tooOld: TooOldCounts;
  adopted: number;
  already: number;
  /** Scan-time (index) and plan-time skips by reason. */
  skipped: Record<string, number>;
  failed: Record<string, number>;
  gaveUp: string[];
  conflicts: string[];
  implausibleDates: number;
  bytesRead: number;
  bytesWritten: number;
  /** Audio codecs dropped because the container cannot hold them (one notice per camera per pass). */
  audioDropped: string[];
  errors: string[];
  retention?: { deleted: number; bytes: number; missing: number; blocked?: string; keptImplausible: number };
}

/** What an age limit left out of the pass, said so that nobody wonders why old footage never appears. */
export interface TooOldNote {
  setting: AgeSetting;
  days: number;
  /** Camera-local "YYYY-MM-DD HH:MM": recordings that ended before it were not extracted. */
  before: string;
  videos: number;
  pictures: number;
  /** The sentence for people, with the way to get them. */
  message: string;
}

export interface PassSummary {
  startedAt: string;
  endedAt: string;
  seconds: number;
  dryRun: boolean;
  interrupted: boolean;
  cameras: CameraSummary[];
  totals: {
    planned: number;
    written: number;
    adopted: number;
    already: number;
    failed: number;
    gaveUp: number;
    conflicts: number;
    bytesRead: number;
    bytesWritten: number;
    retentionDeleted: number;
  };
  /** Source bytes per second over the extraction phase, MB/s (10^6). */
  mbPerSec: number;
  /** One note per age limit that left recordings out (empty when none did). */
  tooOld: TooOldNote[];
  /**
   * Set when the output volume stopped the pass (full, read-only, permission denied): the message. Health does not
   * count such a pass as completed and names the message (docs/operations.md).
   */
  stopped?: string;
  exitCode: number;
}

export function emptyCameraSummary(camera: string, tag: string): CameraSummary {
  return {
    camera,
    tag,
    datadirs: 0,
    listed: { video: 0, picture: 0 },
    planned: { video: 0, picture: 0 },
    written: { video: 0, picture: 0 },
    tooOld: {},
    adopted: 0,
    already: 0,
    skipped: {},
    failed: {},
    gaveUp: [],
    conflicts: [],
    implausibleDates: 0,
    bytesRead: 0,
    bytesWritten: 0,
    audioDropped: [],
    errors: [],
  };
}

export function addCount(into: Record<string, number>, key: string, n = 1): void {
  if (n !== 0) into[key] = (into[key] ?? 0) + n;
}

/** Never-used index slots: counted in JSON, but not "skipped recordings" a person needs to read about. */
const QUIET_REASONS = new Set(['empty']);

export function fmtCounts(c: Record<string, number>): string {
  const parts = Object.entries(c)
    .filter(([k, n]) => n > 0 && !QUIET_REASONS.has(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

const AGE_LIMIT_HINT: Record<AgeSetting, string> = {
  RETENTION_DAYS: 'set RETENTION_DAYS=0 (--retention-days 0) to keep everything',
  VIDEO_SYNC_DAYS: 'raise or unset VIDEO_SYNC_DAYS to extract them',
  IMAGE_SYNC_DAYS: 'raise or unset IMAGE_SYNC_DAYS to extract them',
};

/**
 * The notes on what the age limits of a pass left out, one per setting that left something out (RETENTION_DAYS
 * first), e.g. "42 videos and 5 pictures older than RETENTION_DAYS=90 (before 2026-09-02 16:14 camera time) not
 * extracted: set RETENTION_DAYS=0 (--retention-days 0) to keep everything".
 */
export function tooOldNotes(
  cameras: readonly { tooOld: TooOldCounts }[],
  days: Record<AgeSetting, number | undefined>,
  nowCameraSec: number,
): TooOldNote[] {
  const notes: TooOldNote[] = [];
  for (const setting of ['RETENTION_DAYS', 'VIDEO_SYNC_DAYS', 'IMAGE_SYNC_DAYS'] as const) {
    const videos = cameras.reduce((n, c) => n + (c.tooOld[setting]?.video ?? 0), 0);
    const pictures = cameras.reduce((n, c) => n + (c.tooOld[setting]?.picture ?? 0), 0);
    const d = days[setting];
    if (videos + pictures === 0 || d === undefined) continue;
    const before = describeCameraTime(nowCameraSec - d * 86_400).slice(0, 16);
    const what = [
      videos ? count(videos, 'video', 'videos') : '',
      pictures ? count(pictures, 'picture', 'pictures') : '',
    ]
      .filter(Boolean)
      .join(' and ');
    const message = `${what} older than ${setting}=${d} (before ${before} camera time) not extracted: ${AGE_LIMIT_HINT[setting]}`;
    notes.push({ setting, days: d, before, videos, pictures, message });
  }
  return notes;
}

export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** Human-readable summary lines (for a TTY or a log). */
export function formatSummary(s: PassSummary): string[] {
  const lines: string[] = [];
  if (s.dryRun) {
    const videos = s.cameras.reduce((n, c) => n + c.planned.video, 0);
    const pictures = s.cameras.reduce((n, c) => n + c.planned.picture, 0);
    lines.push(
      `Dry run (nothing written): would extract ${s.totals.planned} (${videos} videos, ${pictures} pictures), ` +
        `${s.totals.already} already there`,
    );
  } else {
    const head = s.interrupted ? 'Pass interrupted' : 'Pass complete';
    lines.push(
      `${head}: ${s.totals.written} written, ${s.totals.already} already there, ${s.totals.failed} failed, ` +
        `${formatBytes(s.totals.bytesRead)} read in ${s.seconds.toFixed(1)} s (${s.mbPerSec.toFixed(1)} MB/s)`,
    );
  }
  for (const note of s.tooOld) lines.push(`  ${note.message}`);
  for (const c of s.cameras) {
    const name = `  ${c.tag}${c.tag !== c.camera ? ` (${c.camera})` : ''}: `;
    const listed = `listed ${c.listed.video} videos / ${c.listed.picture} pictures; `;
    const skipped = `skipped: ${fmtCounts(c.skipped)}`;
    lines.push(
      s.dryRun
        ? `${name}${listed}would extract ${c.planned.video} videos / ${c.planned.picture} pictures; ` +
            `already ${c.already}; ${skipped}`
        : `${name}${listed}new ${c.written.video} videos / ${c.written.picture} pictures; already ${c.already}; ` +
            `${c.adopted ? `adopted ${c.adopted}; ` : ''}${skipped}; failed: ${fmtCounts(c.failed)}; ` +
            `${formatBytes(c.bytesWritten)} written`,
    );
    if (c.gaveUp.length) lines.push(`    gave up after repeated failures: ${c.gaveUp.length} recording(s)`);
    if (c.conflicts.length)
      lines.push(
        `    ${c.conflicts.length} target name(s) held by files hiksync did not write (left alone; --adopt-existing takes them over), e.g. ${c.conflicts[0]}`,
      );
    if (c.retention) {
      const r = c.retention;
      lines.push(
        r.blocked
          ? `    retention: deleted nothing: ${r.blocked}`
          : `    retention: ${s.dryRun ? 'would delete' : 'deleted'} ${r.deleted} file(s), ${formatBytes(r.bytes)}${r.keptImplausible ? `; kept ${r.keptImplausible} with implausible dates` : ''}`,
      );
    }
    for (const e of c.errors) lines.push(`    error: ${e}`);
  }
  return lines;
}
