/**
 * The status file: what the last pass did and when the next is due, one per shard on the output volume
 * (`<stateDir>/status[-shard-K-of-N].json`), written atomically (temporary file + rename) so `hiksync health`, a
 * monitoring script or a human never reads half of it.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { messageOf } from '../errors.js';
import type { PassRecord } from './schedule.js';
import { shardSuffix, type Shard } from './shard.js';

export const STATUS_VERSION = 1;
/** The running pass's sign of life is written at most this often (a write per file would be thousands a pass). */
export const PROGRESS_WRITE_MS = 60_000;

export type PassOutcome = 'ok' | 'some-failed' | 'interrupted' | 'error';

export interface PassStatus {
  startedAt: string;
  endedAt: string;
  result: PassOutcome;
  exitCode?: number;
  /** Totals of the pass (written, failed, ...), as the pipeline reports them. */
  counts?: Record<string, number>;
  error?: string;
}

export interface StatusFile {
  version: number;
  pid: number;
  host: string;
  shard: Shard;
  runMode: 'once' | 'cron';
  intervalMin: number;
  /** Set while a pass runs; removed when it ends. */
  passStartedAt?: string;
  /** When the running pass last moved on (a camera planned, a file finished), to the minute; removed when it ends. */
  passProgressAt?: string;
  lastPass?: PassStatus;
  /** End of the last pass that ran to completion (ok or some-failed): what health checks. */
  lastCompletedAt?: string;
  nextPassAt?: string;
  updatedAt: string;
}

export function statusFileFor(stateDir: string, shard: Shard): string {
  return path.join(stateDir, `status${shardSuffix(shard)}.json`);
}

export async function writeStatus(file: string, status: StatusFile): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(status, null, 2) + '\n');
  await fs.rename(tmp, file);
}

/** The status file, or undefined when there is none yet (or it is unreadable JSON). */
export async function readStatus(file: string): Promise<StatusFile | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as StatusFile;
    return parsed && typeof parsed === 'object' && parsed.version === STATUS_VERSION ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function outcomeOf(exitCode: number, interrupted: boolean): PassOutcome {
  if (interrupted) return 'interrupted';
  return exitCode === 0 ? 'ok' : 'some-failed';
}

/**
 * Keeps the status file of one process up to date; wire it to runSchedule's onPassStart/onPassEnd.
 * Writes are serialised so a slow volume never reorders them.
 */
export class StatusRecorder {
  private state: StatusFile;
  private chain: Promise<void> = Promise.resolve();
  private progressWritten = 0;

  constructor(
    readonly file: string,
    init: { shard: Shard; runMode: 'once' | 'cron'; intervalMin: number; previous?: StatusFile | undefined },
  ) {
    const prev = init.previous;
    this.state = {
      version: STATUS_VERSION,
      pid: process.pid,
      host: os.hostname(),
      shard: init.shard,
      runMode: init.runMode,
      intervalMin: init.intervalMin,
      ...(prev?.lastPass ? { lastPass: prev.lastPass } : {}),
      ...(prev?.lastCompletedAt ? { lastCompletedAt: prev.lastCompletedAt } : {}),
      updatedAt: new Date().toISOString(),
    };
  }

  get current(): StatusFile {
    return this.state;
  }

  private save(now: number): Promise<void> {
    this.state.updatedAt = new Date(now).toISOString();
    const snapshot = structuredClone(this.state);
    this.chain = this.chain.catch(() => undefined).then(() => writeStatus(this.file, snapshot));
    return this.chain;
  }

  passStarted(startedAt: number): Promise<void> {
    this.state.passStartedAt = new Date(startedAt).toISOString();
    delete this.state.passProgressAt;
    delete this.state.nextPassAt;
    this.progressWritten = startedAt;
    return this.save(startedAt);
  }

  /** The running pass moved on; written when the last write is PROGRESS_WRITE_MS old (health reads it). */
  passProgress(now: number): Promise<void> {
    if (this.state.passStartedAt === undefined || now - this.progressWritten < PROGRESS_WRITE_MS)
      return Promise.resolve();
    this.progressWritten = now;
    this.state.passProgressAt = new Date(now).toISOString();
    return this.save(now);
  }

  passEnded(r: {
    startedAt: number;
    endedAt: number;
    exitCode?: number;
    interrupted?: boolean;
    error?: unknown;
    counts?: Record<string, number>;
    nextAt?: number;
  }): Promise<void> {
    const result: PassOutcome = r.error !== undefined ? 'error' : outcomeOf(r.exitCode ?? 0, r.interrupted ?? false);
    const pass: PassStatus = {
      startedAt: new Date(r.startedAt).toISOString(),
      endedAt: new Date(r.endedAt).toISOString(),
      result,
    };
    if (r.exitCode !== undefined) pass.exitCode = r.exitCode;
    if (r.counts) pass.counts = r.counts;
    if (r.error !== undefined) pass.error = messageOf(r.error);
    this.state.lastPass = pass;
    if (result === 'ok' || result === 'some-failed') this.state.lastCompletedAt = pass.endedAt;
    delete this.state.passStartedAt;
    delete this.state.passProgressAt;
    if (r.nextAt !== undefined) this.state.nextPassAt = new Date(r.nextAt).toISOString();
    else delete this.state.nextPassAt;
    return this.save(r.endedAt);
  }
}

/** Numeric totals of a pass result, when it carries them (the pipeline's PassSummary has `totals`). */
function countsOf(result: unknown): Record<string, number> | undefined {
  const totals = (result as { totals?: unknown } | undefined)?.totals;
  if (!totals || typeof totals !== 'object') return undefined;
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries(totals)) if (typeof v === 'number' && Number.isFinite(v)) counts[k] = v;
  return counts;
}

/** runSchedule's onPassStart/onPassEnd, recording into `rec`. */
export function scheduleHooks(rec: StatusRecorder): {
  onPassStart: (startedAt: number) => Promise<void>;
  onPassEnd: (r: PassRecord) => Promise<void>;
} {
  return {
    onPassStart: (startedAt) => rec.passStarted(startedAt),
    onPassEnd: (r) => {
      const counts = countsOf(r.result);
      return rec.passEnded({
        startedAt: r.startedAt,
        endedAt: r.endedAt,
        ...(r.result ? { exitCode: r.result.exitCode, interrupted: r.result.interrupted } : {}),
        // A pass the output volume stopped (full, not writable) did not complete: health names why.
        ...(r.error !== undefined ? { error: r.error } : r.result?.stopped ? { error: r.result.stopped } : {}),
        ...(counts ? { counts } : {}),
        ...(r.nextAt !== undefined ? { nextAt: r.nextAt } : {}),
      });
    },
  };
}
