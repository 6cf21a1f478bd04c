/**
 * Logging (tslog 5.1). Human-readable lines on a terminal, JSON lines otherwise (containers, log collectors).
 *
 * All log output goes to STDERR, in both formats: stdout carries only a command's own result (`--json` output,
 * `scan` listings), so `hiksync run --json > summary.json` stays parseable while progress and warnings are still
 * seen. Docker and Kubernetes collect stderr like stdout. tslog's own console/stdout sink is switched off
 * (type 'hidden') and one transport writes the formatted line to the stream.
 *
 * People read container logs (`docker logs`), so a JSON line is compact: `time`, `level`, `message`, then the
 * event's own fields, e.g. {"time":"2026-12-01T16:40:00.000Z","level":"INFO","message":"next pass at ...",
 * "event":"next-pass","at":"..."}. tslog's `_logMeta` block (runtime, hostname, a second copy of the date and
 * level) and its numeric level are left out: they say nothing about hiksync's work.
 *
 * An event's fields are for machines: `log.info({ event: 'next-pass', at }, 'next pass at ...')` is one JSON line
 * with those fields, and on a terminal just the message.
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

/** tslog's keys that are not the event's: its runtime block and the numeric twin of `level`. */
const TSLOG_META_KEYS = ['_logMeta', 'levelId'];

/** tslog's JSON line reshaped: time, level, message first, then the event's own fields; no tslog metadata. */
export function compactJsonLine(line: string): string {
  const record = JSON.parse(line) as Record<string, unknown>;
  for (const key of TSLOG_META_KEYS) delete record[key];
  const { time, level, message, ...fields } = record;
  return JSON.stringify({ time, level, ...(message !== undefined ? { message } : {}), ...fields });
}

/** `log.info({ event: ... }, 'message')`: the object carries the event's fields for JSON output only. */
function isEventFields(arg: unknown): boolean {
  return typeof arg === 'object' && arg !== null && !Array.isArray(arg) && 'event' in arg;
}

/**
 * A logger writing to `stream` (default process.stderr). Pretty output is coloured only when the stream is a
 * terminal (and NO_COLOR is unset).
 */
export function createLogger(
  cfg: { format: LogFormat; level: LogLevelName; clock?: () => Date },
  stream: LogStream = process.stderr,
): AppLogger {
  const colour = Boolean(stream.isTTY) && process.env.NO_COLOR === undefined;
  const logger = new Logger<ILogObj>({
    type: 'hidden',
    name: 'hiksync',
    minLevel: LEVELS[cfg.level],
    stack: { capture: 'off' },
    json: { numericLevel: false },
    ...(cfg.clock ? { clock: cfg.clock } : {}),
    pretty: {
      template: '{{yyyy}}-{{mm}}-{{dd}} {{hh}}:{{MM}}:{{ss}} {{logLevelName}} ',
      style: colour,
      timeZone: 'local',
      inspectOptions: { breakLength: Infinity, depth: 4 },
    },
  });
  if (cfg.format === 'pretty') {
    // On a terminal an event is its message: drop the fields object when a message follows it.
    logger.use((ctx) => {
      if (ctx.args.length > 1 && isEventFields(ctx.args[0])) ctx.args = ctx.args.slice(1);
      return ctx;
    });
  }
  logger.attachTransport({
    name: 'stderr',
    format: cfg.format,
    write: (_record, line) => {
      const text = cfg.format === 'json' ? compactJsonLine(line) : line.replace(/\n$/, '');
      stream.write(text + '\n');
    },
  });
  live.add(logger);
  return logger;
}

/** Waits until every logger created here has handed its lines to the stream; call before exiting. */
export async function flushLogs(): Promise<void> {
  await Promise.all([...live].map((l) => l.flush().catch(() => undefined)));
}
