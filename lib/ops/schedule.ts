/**
 * The run loop. `once`: one pass, its exit code. `cron`: a pass at start, then one every interval measured START TO
 * START; passes never overlap: a pass that takes longer than the interval pushes the next one back (it starts as
 * soon as the long one ends, and that is logged). On abort (SIGTERM/SIGINT) the wait stops at once and a running
 * pass is left to stop cleanly through the same signal.
 *
 * Exit codes: cron mode ends with 0 when stopped by a signal (stopping the service is the normal way to end it);
 * once mode returns ExitCode.INTERRUPTED (130) when its pass was interrupted, so a Job/cron wrapper sees it did not finish.
 */
import { ExitCode } from '../errors.js';
import type { Log } from '../log-types.js';
import { cameraNowSec, describeCameraTime } from '../time.js';

/** What the schedule needs from a pass (the run pipeline's PassSummary fits). */
export interface PassResult {
  exitCode: number;
  interrupted: boolean;
  /** Why the pass stopped before its work was done, when the output volume stopped it (full, not writable). */
  stopped?: string;
}

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface PassRecord {
  startedAt: number;
  endedAt: number;
  result?: PassResult;
  /** The pass threw (cron mode logs it and goes on). */
  error?: unknown;
  /** When the next pass is due (cron mode, not after an abort). */
  nextAt?: number;
}

export interface ScheduleOptions {
  mode: 'once' | 'cron';
  intervalMs: number;
  pass: (signal: AbortSignal) => Promise<PassResult>;
  clock: Clock;
  signal: AbortSignal;
  log: Log;
  /** The zone "next pass at ..." is told in (the cameras' zone: the one the user set). Default: the process zone. */
  timeZone?: string;
  /** Status hooks (status file); their failures are logged, never fatal. */
  onPassStart?: (startedAt: number) => Promise<void> | void;
  onPassEnd?: (record: PassRecord) => Promise<void> | void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted || ms <= 0) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    }),
};

function describeMs(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

async function hook(log: Log, what: string, fn: (() => Promise<void> | void) | undefined): Promise<void> {
  if (!fn) return;
  try {
    await fn();
  } catch (err) {
    log.warn(`could not record ${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Runs the passes; resolves with the process exit code. */
export async function runSchedule(opts: ScheduleOptions): Promise<number> {
  const { clock, signal, log } = opts;
  if (!(opts.intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${opts.intervalMs}`);

  if (opts.mode === 'once') {
    if (signal.aborted) return ExitCode.INTERRUPTED;
    const startedAt = clock.now();
    await hook(log, 'the pass start', () => opts.onPassStart?.(startedAt));
    let result: PassResult;
    try {
      result = await opts.pass(signal);
    } catch (error) {
      await hook(log, 'the pass end', () => opts.onPassEnd?.({ startedAt, endedAt: clock.now(), error }));
      throw error;
    }
    await hook(log, 'the pass end', () => opts.onPassEnd?.({ startedAt, endedAt: clock.now(), result }));
    if (result.interrupted) return result.exitCode !== 0 ? result.exitCode : ExitCode.INTERRUPTED;
    return result.exitCode;
  }

  while (!signal.aborted) {
    const startedAt = clock.now();
    await hook(log, 'the pass start', () => opts.onPassStart?.(startedAt));
    const record: PassRecord = { startedAt, endedAt: startedAt };
    try {
      record.result = await opts.pass(signal);
    } catch (error) {
      // One failed pass must not end a service meant to run for years: report it and try again next interval.
      record.error = error;
      log.error(`pass failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    record.endedAt = clock.now();
    if (signal.aborted) {
      await hook(log, 'the pass end', () => opts.onPassEnd?.(record));
      break;
    }
    let nextAt = startedAt + opts.intervalMs;
    if (record.endedAt >= nextAt) {
      log.warn(
        `the pass took ${describeMs(record.endedAt - startedAt)}, longer than the ${describeMs(opts.intervalMs)} interval: ` +
          'the next pass starts now (passes never overlap)',
      );
      nextAt = record.endedAt;
    }
    record.nextAt = nextAt;
    await hook(log, 'the pass end', () => opts.onPassEnd?.(record));
    const wait = nextAt - clock.now();
    if (wait > 0) {
      // A quiet service must not look stuck: say when it wakes up (an overrun already said "starts now").
      const zone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
      log.info(
        { event: 'next-pass', at: new Date(nextAt).toISOString() },
        `next pass at ${describeCameraTime(cameraNowSec(zone, nextAt))} ${zone} (in ${describeMs(wait)})`,
      );
      try {
        await clock.sleep(wait, signal);
      } catch {
        /* a clock whose sleep rejects on abort: the loop condition ends it */
      }
    }
  }
  return 0;
}
