/**
 * `hiksync health`: is this shard's service doing its job? Used by Docker's HEALTHCHECK and Kubernetes probes.
 *
 * Healthy: a pass is running, its lock is being refreshed and it moved on recently (within passStallLimitMs), or
 * the last completed pass ended recently (within 2 x the interval + HEALTH_GRACE_MS). Unhealthy: passes stop
 * completing, a running pass stands still (a read of a hung share never returns), or the input is missing, empty,
 * unreadable or does not answer: an unmounted or hung NFS share must not look like "nothing new".
 * Every file-system call runs against a time limit; a stuck call cannot be cancelled, so we just stop waiting.
 */
import * as fs from 'node:fs/promises';
import type { Config } from '../config.js';
import { withTimeout as raceTimeout } from '../share-io.js';
import { inspectLock, DEFAULT_STALE_MS, type LockState } from './lock.js';
import { readStatus, statusFileFor, type StatusFile } from './status.js';

export const HEALTH_GRACE_MS = 5 * 60_000;
export const DEFAULT_FS_TIMEOUT_MS = 5_000;
/**
 * A running pass that has not moved on (no camera planned, no file finished) for this long is stuck: at least
 * PASS_STALL_MIN_MS, or PASS_STALL_INTERVALS intervals when that is longer. A long first backfill stays healthy: it
 * finishes files all the time (the status file notes that once a minute).
 */
export const PASS_STALL_MIN_MS = 30 * 60_000;
export const PASS_STALL_INTERVALS = 3;

export function passStallLimitMs(intervalMin: number): number {
  return Math.max(PASS_STALL_INTERVALS * intervalMin * 60_000, PASS_STALL_MIN_MS);
}

export interface HealthResult {
  healthy: boolean;
  reason: string;
  /** A file-system call did not answer in time (the process may have to exit without waiting for it). */
  timedOut?: boolean;
}

export interface HealthDeps {
  readdir?: (dir: string) => Promise<string[]>;
  readStatus?: (file: string) => Promise<StatusFile | undefined>;
  inspectLock?: (lockPath: string) => Promise<LockState>;
  fsTimeoutMs?: number;
  /** A lock not refreshed for this long is not "fresh" (default: the lock's own stale time). */
  staleMs?: number;
}

export class FsTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${Math.round(ms / 100) / 10} s`);
    this.name = 'FsTimeoutError';
  }
}

/** Waits for `p` at most `ms`; the operation itself goes on in the background (it cannot be cancelled). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return raceTimeout(p, ms, () => new FsTimeoutError(what, ms));
}

function duration(ms: number): string {
  const min = Math.round(ms / 60_000);
  return min < 1 ? 'under a minute' : min < 120 ? `${min} min` : `${Math.round(min / 60)} h`;
}

function ago(ms: number): string {
  return `${duration(ms)} ago`;
}

export async function checkHealth(cfg: Config, now: number, deps: HealthDeps = {}): Promise<HealthResult> {
  const limit = deps.fsTimeoutMs ?? DEFAULT_FS_TIMEOUT_MS;
  const readdir = deps.readdir ?? ((d: string) => fs.readdir(d));

  // 1. The input share: there, readable, not empty, answering.
  let names: string[];
  try {
    names = await withTimeout(readdir(cfg.inputDir), limit, `listing the input ${cfg.inputDir}`);
  } catch (err) {
    if (err instanceof FsTimeoutError)
      return { healthy: false, reason: `${err.message} (hung network mount?)`, timedOut: true };
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return { healthy: false, reason: `input ${cfg.inputDir} does not exist (share not mounted?)` };
    if (code === 'ENOTDIR') return { healthy: false, reason: `input ${cfg.inputDir} is not a folder` };
    return { healthy: false, reason: `input ${cfg.inputDir} is unreadable: ${code ?? (err as Error).message}` };
  }
  if (names.filter((n) => !n.startsWith('.')).length === 0) {
    return { healthy: false, reason: `input ${cfg.inputDir} is empty (share not mounted?)` };
  }

  // 2. The passes: one running with a fresh lock, or a recent completed one.
  let status: StatusFile | undefined;
  let lock: LockState;
  try {
    const file = statusFileFor(cfg.stateDir, cfg.shard);
    status = await withTimeout((deps.readStatus ?? readStatus)(file), limit, `reading ${file}`);
    lock = await withTimeout(
      (deps.inspectLock ?? inspectLock)(cfg.lockFile),
      limit,
      `checking the lock ${cfg.lockFile}`,
    );
  } catch (err) {
    const timedOut = err instanceof FsTimeoutError;
    return {
      healthy: false,
      reason: `output state unreadable: ${(err as Error).message}`,
      ...(timedOut ? { timedOut } : {}),
    };
  }
  const staleMs = deps.staleMs ?? lock.owner?.staleMs ?? DEFAULT_STALE_MS;
  const lockFresh = lock.exists && lock.mtimeMs !== undefined && now - lock.mtimeMs < staleMs;
  const intervalMs = status?.intervalMin !== undefined ? status.intervalMin * 60_000 : cfg.cronIntervalMs;
  const maxGap = 2 * intervalMs + HEALTH_GRACE_MS;

  if (status?.passStartedAt) {
    const started = Date.parse(status.passStartedAt);
    const progress = status.passProgressAt ? Date.parse(status.passProgressAt) : NaN;
    const moved = Number.isFinite(progress) ? Math.max(started, progress) : started;
    const limit = passStallLimitMs(status.intervalMin ?? cfg.cronIntervalMin);
    if (lockFresh && now - moved > limit) {
      // The lock is refreshed by a timer, so a pass blocked in a read that never returns still looks alive by it.
      return {
        healthy: false,
        reason: `pass running for ${duration(now - started)} (started ${status.passStartedAt}), nothing finished for ${duration(now - moved)}: longer than expected (${limit / 60_000} min); the camera share may not be answering`,
      };
    }
    if (lockFresh)
      return { healthy: true, reason: `pass running since ${status.passStartedAt} (${ago(now - started)})` };
    return {
      healthy: false,
      reason: `the pass started ${status.passStartedAt} has not ended and its lock is not being refreshed (crashed or hung?)`,
    };
  }
  const completed = status?.lastCompletedAt ? Date.parse(status.lastCompletedAt) : NaN;
  if (Number.isFinite(completed) && now - completed <= maxGap) {
    return { healthy: true, reason: `last pass completed ${status!.lastCompletedAt} (${ago(now - completed)})` };
  }
  // A run that has just started (lock taken after the status was last written) has not begun its first pass yet.
  const lockTaken = lock.owner ? Date.parse(lock.owner.startedAt) : NaN;
  if (lockFresh && (!status || lockTaken >= Date.parse(status.updatedAt))) {
    return { healthy: true, reason: 'a run holds the lock and is starting its first pass' };
  }
  if (!Number.isFinite(completed)) {
    const last = status?.lastPass
      ? `; last pass ${status.lastPass.result}${status.lastPass.error ? `: ${status.lastPass.error}` : ''}`
      : '';
    return { healthy: false, reason: `no pass has completed yet${last}` };
  }
  const last =
    status?.lastPass && status.lastPass.result !== 'ok'
      ? `; last pass ${status.lastPass.result}${status.lastPass.error ? `: ${status.lastPass.error}` : ''}`
      : '';
  return {
    healthy: false,
    reason: `last completed pass ended ${status!.lastCompletedAt} (${ago(now - completed)}); passes are due every ${intervalMs / 60_000} min${last}`,
  };
}
