/**
 * The per-pass summary: per camera what was new, already there, skipped (by reason), failed; totals, speed.
 */
export interface CameraSummary {
  camera: string;
  tag: string;
  datadirs: number;
  /** Real recordings/pictures listed by the index tables. */
  listed: { video: number; picture: number };
  written: { video: number; picture: number };
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
  exitCode: number;
}

export function emptyCameraSummary(camera: string, tag: string): CameraSummary {
  return {
    camera,
    tag,
    datadirs: 0,
    listed: { video: 0, picture: 0 },
    written: { video: 0, picture: 0 },
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

export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** Human-readable summary lines (for a TTY or a log). */
export function formatSummary(s: PassSummary): string[] {
  const lines: string[] = [];
  const head = s.dryRun ? 'Dry run (nothing written)' : s.interrupted ? 'Pass interrupted' : 'Pass complete';
  lines.push(
    `${head}: ${s.totals.written} written, ${s.totals.already} already there, ${s.totals.failed} failed, ` +
      `${formatBytes(s.totals.bytesRead)} read in ${s.seconds.toFixed(1)} s (${s.mbPerSec.toFixed(1)} MB/s)`,
  );
  for (const c of s.cameras) {
    lines.push(
      `  ${c.tag}${c.tag !== c.camera ? ` (${c.camera})` : ''}: ` +
        `listed ${c.listed.video} videos / ${c.listed.picture} pictures; ` +
        `new ${c.written.video} videos / ${c.written.picture} pictures; already ${c.already}; ` +
        `${c.adopted ? `adopted ${c.adopted}; ` : ''}skipped: ${fmtCounts(c.skipped)}; failed: ${fmtCounts(c.failed)}; ` +
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
          : `    retention: deleted ${r.deleted} file(s), ${formatBytes(r.bytes)}${r.keptImplausible ? `; kept ${r.keptImplausible} with implausible dates` : ''}`,
      );
    }
    for (const e of c.errors) lines.push(`    error: ${e}`);
  }
  return lines;
}
