/**
 * Ending the process when a thread may be stuck in a file-system call that never returns (a hung network share).
 *
 * process.exit() cannot do it: before the process ends, Node stops its worker threads and joins libuv's threadpool,
 * and a thread blocked in a read of a hung share (or of a FIFO) never returns, so process.exit() waits forever: the
 * log said "exiting now" and the process stayed. Nor does the process end by itself: a pending call keeps the event
 * loop alive. The default action of a signal waits for nothing: the kernel ends every thread. hiksync raises SIGINT,
 * which shells, tini, Docker and Kubernetes report as exit status 128 + 2 = 130 (ExitCode.INTERRUPTED).
 * proper-lockfile's exit hook (signal-exit) still removes a held lock first: it handles that SIGINT, then re-raises
 * it with no handler left.
 */

/** After exitNow's SIGINT, SIGKILL follows when the process is still there (a handler kept it alive). */
export const KILL_AFTER_MS = 3000;
/**
 * A command that has returned, and whose process is still alive this much later, is held by a stuck call. Generous:
 * on a loaded machine the normal teardown (worker threads, pool) took over 2 s and was cut short by a SIGINT.
 */
export const EXIT_LINGER_MS = 15_000;

export interface ExitTarget {
  pid: number;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

/** Ends the process now, whatever its threads are blocked in: exit status 130. */
export function exitNow(target: ExitTarget = process): void {
  target.kill(target.pid, 'SIGINT');
  setTimeout(() => target.kill(target.pid, 'SIGKILL'), KILL_AFTER_MS).unref();
}

export interface ExitWhenDoneOptions {
  /** Where the one explaining line goes (stderr). */
  write: (line: string) => void;
  /** Default exitNow. */
  exit?: () => void;
  lingerMs?: number;
}

/**
 * Lets the process end normally with `code` once nothing is left to do (the usual case). If it is still alive
 * `lingerMs` later, a call that never returns holds it: say so and exitNow(). The timer is unref'd, so it never
 * delays a normal exit.
 */
export function exitWhenDone(code: number, opts: ExitWhenDoneOptions): void {
  const lingerMs = opts.lingerMs ?? EXIT_LINGER_MS;
  process.exitCode = code;
  setTimeout(() => {
    opts.write(
      `hiksync: still running ${lingerMs / 1000} s after finishing with exit code ${code}: a file-system call has not ` +
        'returned (a hung camera share?); ending the process (exit status 130)\n',
    );
    (opts.exit ?? exitNow)();
  }, lingerMs).unref();
}
