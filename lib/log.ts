/**
 * Logging (tslog 5.1). Human-readable lines on a terminal, JSON lines otherwise (containers, log collectors).
 *
 * All log output goes to STDERR, in both formats: stdout carries only a command's own result (`--json` output,
 * `scan` listings), so `hiksync run --json > summary.json` stays parseable while progress and warnings are still
 * seen. Docker and Kubernetes collect stderr like stdout. tslog's own console/stdout sink is switched off
 * (type 'hidden') and one transport writes the formatted line to the stream.
 */
import { Logger, type ILogObj } from 'tslog';
import type { Log } from './log-types.js';

export type LogFormat = 'pretty' | 'json';
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

export interface LogStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export type AppLogger = Logger<ILogObj> & Log;

const LEVELS: Record<LogLevelName, 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
};

const live = new Set<Logger<ILogObj>>();

/**
 * A logger writing to `stream` (default process.stderr). Pretty output is coloured only when the stream is a
 * terminal (and NO_COLOR is unset).
 */
export function createLogger(
  cfg: { format: LogFormat; level: LogLevelName },
  stream: LogStream = process.stderr,
): AppLogger {
  const colour = Boolean(stream.isTTY) && process.env.NO_COLOR === undefined;
  const logger = new Logger<ILogObj>({
    type: 'hidden',
    name: 'hiksync',
    minLevel: LEVELS[cfg.level],
    stack: { capture: 'off' },
    pretty: {
      template: '{{yyyy}}-{{mm}}-{{dd}} {{hh}}:{{MM}}:{{ss}} {{logLevelName}} ',
      style: colour,
      timeZone: 'local',
      inspectOptions: { breakLength: Infinity, depth: 4 },
    },
  });
  logger.attachTransport({
    name: 'stderr',
    format: cfg.format,
    write: (_record, line) => {
      stream.write(line.endsWith('\n') ? line : line + '\n');
    },
  });
  live.add(logger);
  return logger;
}

/** Waits until every logger created here has handed its lines to the stream; call before exiting. */
export async function flushLogs(): Promise<void> {
  await Promise.all([...live].map((l) => l.flush().catch(() => undefined)));
}
