/**
 * Progress of the extraction phase: a bar on stderr when it is a TTY (files, bytes, MB/s, ETA), otherwise a log
 * line every few seconds. ETA is by source bytes, the quantity that bounds the work.
 */
import type cliProgress from 'cli-progress';
import type { Log } from '../log-types.js';
import { formatBytes } from './summary.js';

export interface Progress {
  start(totalFiles: number, totalBytes: number): void;
  advance(files: number, bytes: number): void;
  stop(): void;
  /** Seconds left at the current rate (Infinity before there is a rate). */
  etaSeconds(): number;
  /** A logger that writes above the bar while it is shown (so log lines and the bar do not mangle each other). */
  wrap(log: Log): Log;
}

export interface ProgressOptions {
  tty: boolean;
  /**
   * The bar library (cli-progress), loaded by the caller only when there is work to show on a TTY: a run with nothing
   * new (every 10 minutes in cron mode) does not load it. Without it a TTY gets the log lines too.
   */
  bars?: typeof cliProgress | undefined;
  log: Log;
  intervalMs?: number;
  now?: () => number;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function createProgress(opts: ProgressOptions): Progress {
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? 5000;
  let totalFiles = 0;
  let totalBytes = 0;
  let files = 0;
  let bytes = 0;
  let t0 = 0;
  let timer: NodeJS.Timeout | undefined;
  let multi: cliProgress.MultiBar | undefined;
  let bar: cliProgress.SingleBar | undefined;

  const rate = () => {
    const dt = (now() - t0) / 1000;
    return dt > 0 ? bytes / dt : 0;
  };
  const eta = () => {
    const r = rate();
    return r > 0 ? (totalBytes - bytes) / r : Infinity;
  };
  const payload = () => ({
    bytesText: `${formatBytes(bytes)}/${formatBytes(totalBytes)}`,
    speed: (rate() / 1e6).toFixed(1),
    etaText: formatDuration(eta()),
  });

  return {
    start(f, b) {
      totalFiles = f;
      totalBytes = b;
      t0 = now();
      if (f === 0) return;
      const bars = opts.tty ? opts.bars : undefined;
      if (bars) {
        multi = new bars.MultiBar(
          {
            stream: process.stderr,
            format: 'extracting {bar} {value}/{total} files | {bytesText} | {speed} MB/s | ETA {etaText}',
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          bars.Presets.shades_classic,
        );
        bar = multi.create(f, 0, payload());
      } else {
        timer = setInterval(() => {
          const p = payload();
          opts.log.info(`progress: ${files}/${totalFiles} files, ${p.bytesText}, ${p.speed} MB/s, ETA ${p.etaText}`);
        }, interval);
        timer.unref();
      }
    },
    advance(f, b) {
      files += f;
      bytes += b;
      bar?.update(files, payload());
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      multi?.stop();
      multi = undefined;
      bar = undefined;
    },
    etaSeconds: eta,
    wrap(log) {
      const via =
        (level: keyof Log) =>
        (...args: unknown[]) => {
          if (!multi || level === 'debug') return log[level](...args);
          const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
          multi.log(`${level.toUpperCase()} ${text}\n`);
          return undefined;
        };
      return { debug: via('debug'), info: via('info'), warn: via('warn'), error: via('error') };
    },
  };
}
