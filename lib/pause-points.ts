/**
 * Named points where a test can freeze hiksync deterministically: with HIKSYNC_PAUSE_AT=<point> the process stops
 * itself (SIGSTOP) the first time a thread reaches that point, and a test that sees it stopped knows exactly where
 * it is (the lock is held; a worker is inside a file it writes) before it sends SIGKILL, SIGTERM or SIGCONT.
 * Timing-based waits (poll until a temporary file shows up) cannot tell "mid-file" from "just renamed" on a loaded
 * machine. Unset (always, outside tests), a point costs one comparison.
 */
export type PausePoint =
  /** run: the pass holds the lock and has not scanned yet. */
  | 'pass-locked'
  /** worker: the first chunk of a recording has gone into its temporary file. */
  | 'remux-chunk';

const paused = new Set<PausePoint>();

export function pausePoint(point: PausePoint): void {
  if (process.env.HIKSYNC_PAUSE_AT !== point || paused.has(point)) return;
  paused.add(point);
  process.kill(process.pid, 'SIGSTOP');
}
