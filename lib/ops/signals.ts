/**
 * SIGTERM / SIGINT -> an AbortController the schedule and the pass listen to. The first signal asks for a clean
 * stop (in-flight files finish or are dropped, the manifest is flushed, the lock released); a second signal, or
 * `graceMs` (10 s) without the program having ended, forces the exit: exit status 130 (ExitCode.INTERRUPTED), also
 * when a thread is stuck in a read of a hung share (see exit.ts: process.exit() would wait for it forever).
 * proper-lockfile removes a held lock on that forced exit too.
 *
 * node handles the signals itself, so it can run as PID 1 in a container; the image still uses tini to reap
 * zombies and forward signals (see the Dockerfile).
 */
import type { Log } from '../log-types.js';
import { ExitCode } from '../errors.js';
import { exitNow } from './exit.js';

export const DEFAULT_GRACE_MS = 10_000;

export interface SignalTarget {
  on(event: 'SIGTERM' | 'SIGINT', fn: (sig: NodeJS.Signals) => void): unknown;
  off(event: 'SIGTERM' | 'SIGINT', fn: (sig: NodeJS.Signals) => void): unknown;
}

export interface SignalOptions {
  log: Log;
  graceMs?: number;
  /** How to end the process when forced (default exitNow: ends even with stuck threads); awaited flushes happen before. */
  exit?: (code: number) => void;
  /** Called before a forced exit (flush logs, write status); bounded by nothing but must be quick. */
  beforeForcedExit?: () => Promise<void> | void;
  target?: SignalTarget;
}

export interface SignalHandle {
  signal: AbortSignal;
  /** Which signal arrived first, if any. */
  received(): NodeJS.Signals | undefined;
  /** Removes the handlers and the grace timer (call when the program ends normally). */
  dispose(): void;
}

export function installSignalHandlers(opts: SignalOptions): SignalHandle {
  const controller = new AbortController();
  const target: SignalTarget = opts.target ?? process;
  const exit = opts.exit ?? (() => exitNow());
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  let first: NodeJS.Signals | undefined;
  let timer: NodeJS.Timeout | undefined;
  let forcing = false;

  const force = (why: string) => {
    if (forcing) return;
    forcing = true;
    opts.log.error(`${why}: exiting now`);
    // Our handlers go first: the exit signal must meet no handler but proper-lockfile's (which re-raises it).
    target.off('SIGTERM', onSignal);
    target.off('SIGINT', onSignal);
    void Promise.resolve()
      .then(() => opts.beforeForcedExit?.())
      .catch(() => undefined)
      .finally(() => exit(ExitCode.INTERRUPTED));
  };

  const onSignal = (sig: NodeJS.Signals) => {
    if (first === undefined) {
      first = sig;
      opts.log.warn(`${sig} received: stopping after in-flight work (send it again to stop at once)`);
      controller.abort(new Error(`stopped by ${sig}`));
      timer = setTimeout(() => force(`still running ${Math.round(graceMs / 1000)} s after ${sig}`), graceMs);
      // The timer must not keep a process alive that has otherwise finished.
      timer.unref();
      return;
    }
    force(`second signal (${sig})`);
  };

  target.on('SIGTERM', onSignal);
  target.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      if (timer) clearTimeout(timer);
      target.off('SIGTERM', onSignal);
      target.off('SIGINT', onSignal);
    },
  };
}
