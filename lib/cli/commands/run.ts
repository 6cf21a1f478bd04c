/**
 * `hiksync run`: extract every new recording to MP4 and every picture to JPG, once or every CRON_INTERVAL minutes.
 */
import { Command, Option } from 'clipanion';
import type { Config, RawSettings } from '../../config.js';
import { messageOf } from '../../errors.js';
import { createLogger, type AppLogger } from '../../log.js';
import { checkInputReadable, checkOutputWritable } from '../../ops/access.js';
import { acquireLock } from '../../ops/lock.js';
import { pausePoint } from '../../pause-points.js';
import { realClock, runSchedule } from '../../ops/schedule.js';
import { installSignalHandlers } from '../../ops/signals.js';
import { readStatus, scheduleHooks, StatusRecorder, statusFileFor } from '../../ops/status.js';
import { runPass, type RunOptions } from '../../pipeline/run-pass.js';
import { formatSummary, type PassSummary } from '../../pipeline/summary.js';
import { parseCameraDate } from '../../time.js';
import { BaseCommand } from '../base.js';
import {
  audioOption,
  cameraTranslationOption,
  cameraTzOption,
  containerOption,
  inputOption,
  jsonOption,
  lockFileOption,
  logFormatOption,
  logLevelOption,
  outputOption,
  retentionDaysOption,
  shardOption,
} from '../options.js';

/**
 * The line a run starts with: what it will do and with which settings, as whom, so that `docker logs` answers "is
 * it running, and how?" without reading the compose file.
 */
export function startLine(
  cfg: Config,
  about: { version: string; dryRun: boolean; uid: number | undefined; gid: number | undefined },
): { fields: Record<string, unknown>; message: string } {
  const mode = cfg.runMode === 'cron' ? `cron mode, a pass every ${cfg.cronIntervalMin} min` : 'once mode, one pass';
  const parts = [
    `${mode}${about.dryRun ? ' (dry run: nothing written)' : ''}`,
    `input ${cfg.inputDir}, output ${cfg.outputDir}`,
    `${cfg.workers} worker${cfg.workers === 1 ? '' : 's'}`,
    cfg.retentionDays > 0 ? `retention ${cfg.retentionDays} days` : 'retention off (RETENTION_DAYS=0)',
    `camera zone ${cfg.cameraTz}`,
    ...(cfg.shard.count > 1 ? [`shard ${cfg.shard.index}/${cfg.shard.count}`] : []),
    about.uid !== undefined ? `running as uid ${about.uid} (gid ${about.gid ?? '?'})` : '',
  ].filter(Boolean);
  return {
    fields: {
      event: 'start',
      version: about.version,
      runMode: cfg.runMode,
      ...(cfg.runMode === 'cron' ? { intervalMin: cfg.cronIntervalMin } : {}),
      dryRun: about.dryRun,
      input: cfg.inputDir,
      output: cfg.outputDir,
      workers: cfg.workers,
      retentionDays: cfg.retentionDays,
      cameraTz: cfg.cameraTz,
      ...(cfg.shard.count > 1 ? { shard: `${cfg.shard.index}/${cfg.shard.count}` } : {}),
      ...(about.uid !== undefined ? { uid: about.uid, gid: about.gid } : {}),
    },
    message: `hiksync ${about.version}: ${parts.join('; ')}`,
  };
}

export class RunCommand extends BaseCommand {
  static override paths = [['run']];
  static override usage = Command.Usage({
    description: 'Extract new recordings to MP4 and pictures to JPG',
    details: `
      Scans every camera folder, plans what is new (the manifest under <output>/.hiksync remembers what was written),
      extracts it in a worker pool, oldest first, then applies retention. With RUN_MODE=cron (or --run-mode cron) it
      runs a pass now and then every CRON_INTERVAL minutes until stopped (SIGTERM/SIGINT stop it cleanly).

      Exit codes: 0 all done, 1 some recordings failed (the rest is done), 64 bad command line, 66 no camera share
      at the input or none of the cameras --camera names, 75 another run holds the lock, 77 permission denied, 78 bad
      setting, 130 interrupted before the pass finished (once mode).
    `,
    examples: [
      ['Extract everything new once', '$0 run --input /volume1/cameras --output /volume1/footage'],
      ['Preview the plan', '$0 run --dry-run'],
      [
        'Backfill one camera for one day, however old (RETENTION_DAYS would leave out older footage)',
        '$0 run --camera garden --since 2024-05-01 --until 2024-05-02 --retention-days 0',
      ],
      ['Run every 10 minutes', 'RUN_MODE=cron CRON_INTERVAL=10 $0 run'],
      ['Keep G.711 audio as it is (MOV files; MP4 gets it as FLAC by default)', '$0 run --container mov'],
      ['Video only, no sound', '$0 run --audio none'],
    ],
  });

  input = inputOption();
  output = outputOption();
  workers = Option.String('--workers', { description: 'Worker threads (WORKERS, default: CPU count)' });
  cameraTz = cameraTzOption();
  cameraTranslation = cameraTranslationOption();
  container = containerOption();
  audio = audioOption();
  retentionDays = retentionDaysOption();
  shard = shardOption();
  lockFile = lockFileOption();
  logFormat = logFormatOption();
  logLevel = logLevelOption();
  json = jsonOption();
  runMode = Option.String('--run-mode', { description: 'once | cron (RUN_MODE, default once on the command line)' });
  cronInterval = Option.String('--cron-interval', {
    description: 'Minutes between pass starts in cron mode, 1-1440 (CRON_INTERVAL, default 10)',
  });
  since = Option.String('--since', {
    description: 'Only recordings at/after this camera-local date or date-time (ISO 8601)',
  });
  until = Option.String('--until', {
    description: 'Only recordings before this camera-local date or date-time (ISO 8601)',
  });
  camera = Option.Array('--camera', { description: 'Only this camera (folder name or tag); repeatable' });
  // No default here: unset, SYNC_IMAGES decides (the flag overrides the variable, as every flag does).
  images = Option.Boolean('--images', {
    description: 'Extract pictures (--no-images to skip them; SYNC_IMAGES, default true)',
  });
  video = Option.Boolean('--video', true, { description: 'Extract video (--no-video to skip it)' });
  dryRun = Option.Boolean('--dry-run', false, { description: 'Print the plan, write nothing' });
  adoptExisting = Option.Boolean('--adopt-existing', false, {
    description:
      'Take over files at target names that hiksync did not write: adopt valid MP4/JPEG, replace raw MPEG-PS .mp4 files of older tools',
  });
  retryFailed = Option.Boolean('--retry-failed', false, {
    description: 'Try recordings that gave up after MAX_ATTEMPTS failures again (e.g. after fixing a share problem)',
  });
  fsync = Option.Boolean('--fsync', true, {
    description: 'fsync each output before it gets its final name (--no-fsync: faster, less safe on power loss)',
  });
  forceRetention = Option.Boolean('--force-retention', false, {
    description: 'Apply retention even when a safety valve would block it',
  });

  /** Notices about the cameras already given: a service says each once, not every CRON_INTERVAL. */
  private readonly told = new Set<string>();

  protected override settings(): RawSettings {
    return {
      inputDir: this.input,
      outputDir: this.output,
      workers: this.workers,
      cameraTz: this.cameraTz,
      cameraTranslation: this.cameraTranslation,
      container: this.container,
      audio: this.audio,
      retentionDays: this.retentionDays,
      shard: this.shard,
      lockFile: this.lockFile,
      logFormat: this.logFormat,
      logLevel: this.logLevel,
      runMode: this.runMode,
      cronIntervalMin: this.cronInterval,
    };
  }

  async execute(): Promise<number> {
    const cfg = this.config();
    const since = this.since !== undefined ? parseCameraDate(this.since, '--since') : undefined;
    const until = this.until !== undefined ? parseCameraDate(this.until, '--until') : undefined;
    const log = createLogger({ format: cfg.logFormat, level: cfg.logLevel });
    for (const notice of cfg.notices) log.info(notice);
    // Before anything is written: a folder that refuses this user is one line and exit 77, in either run mode (a
    // service that can never write should not look "Up").
    await checkInputReadable(cfg.inputDir);
    if (!this.dryRun) await checkOutputWritable(cfg.outputDir, cfg.stateDir);
    // A service says how it runs (once mode is a command someone typed or scheduled: its summary says enough, and a
    // failure stays one line).
    if (cfg.runMode === 'cron') {
      const start = startLine(cfg, {
        version: this.cli.binaryVersion ?? 'unknown version',
        dryRun: this.dryRun,
        uid: process.getuid?.(),
        gid: process.getgid?.(),
      });
      log.info(start.fields, start.message);
    }
    const options: RunOptions = {
      inputDir: cfg.inputDir,
      outputDir: cfg.outputDir,
      stateDir: cfg.stateDir,
      cameraTranslation: cfg.cameraTranslation,
      workers: cfg.workers,
      ioConcurrency: cfg.ioConcurrency,
      cameraTz: cfg.cameraTz,
      shard: cfg.shard,
      container: cfg.container,
      audio: cfg.audio,
      maxAttempts: cfg.maxAttempts,
      retentionDays: cfg.retentionDays,
      retentionMaxShare: cfg.retentionMaxShare,
      taskTimeoutMs: cfg.extractionTimeoutSec * 1000,
      syncDays: {
        ...(cfg.videoSyncDays !== undefined ? { video: cfg.videoSyncDays } : {}),
        ...(cfg.imageSyncDays !== undefined ? { picture: cfg.imageSyncDays } : {}),
      },
      cameras: this.camera ?? [],
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      kinds: { video: this.video, picture: this.images ?? cfg.syncImages },
      dryRun: this.dryRun,
      adoptExisting: this.adoptExisting,
      retryFailed: this.retryFailed,
      fsync: this.fsync,
      retention: true,
      retentionForce: this.forceRetention,
      shareTimeoutMs: cfg.shareTimeoutSec * 1000,
    };

    const signals = installSignalHandlers({ log });
    const status = this.dryRun
      ? undefined
      : new StatusRecorder(statusFileFor(cfg.stateDir, cfg.shard), {
          shard: cfg.shard,
          runMode: cfg.runMode,
          intervalMin: cfg.cronIntervalMs / 60_000,
          previous: await readStatus(statusFileFor(cfg.stateDir, cfg.shard)).catch(() => undefined),
        });
    try {
      return await runSchedule({
        mode: cfg.runMode,
        intervalMs: cfg.cronIntervalMs,
        clock: realClock,
        signal: signals.signal,
        log,
        timeZone: cfg.cameraTz,
        pass: async (signal) => {
          const summary = await this.pass(cfg, options, log, signal, status);
          this.report(summary, cfg, log);
          return summary;
        },
        ...(status ? scheduleHooks(status) : {}),
      });
    } finally {
      signals.dispose();
    }
  }

  /** One pass under the lock (a dry run writes nothing and needs none). A lost lock stops the pass cleanly. */
  private async pass(
    cfg: Config,
    options: RunOptions,
    log: AppLogger,
    signal: AbortSignal,
    status: StatusRecorder | undefined,
  ): Promise<PassSummary> {
    const tty = Boolean(process.stderr.isTTY) && cfg.logFormat === 'pretty';
    if (options.dryRun) return runPass(options, { log, signal, tty: false, told: this.told });
    // Again for every pass of a service: permissions changed later fail that pass with the same clear line.
    await checkOutputWritable(cfg.outputDir, cfg.stateDir);
    const passAbort = new AbortController();
    const onOuterAbort = () => passAbort.abort(signal.reason);
    signal.addEventListener('abort', onOuterAbort, { once: true });
    const lock = await acquireLock(cfg.lockFile, {
      onLost: (err) => {
        log.error(`lost the lock ${cfg.lockFile} (${err.message}): stopping this pass`);
        passAbort.abort(err);
      },
    });
    if (lock.warning) log.warn(lock.warning);
    pausePoint('pass-locked');
    // The status file's sign of life, for health: a pass that stops moving on is stuck.
    const onProgress = () =>
      void status
        ?.passProgress(Date.now())
        .catch((err: unknown) => log.warn(`could not record progress: ${messageOf(err)}`));
    try {
      return await runPass(options, { log, signal: passAbort.signal, tty, told: this.told, onProgress });
    } finally {
      signal.removeEventListener('abort', onOuterAbort);
      await lock.release();
    }
  }

  private report(summary: PassSummary, cfg: Config, log: AppLogger): void {
    if (!this.json && cfg.logFormat === 'pretty') {
      this.context.stdout.write(formatSummary(summary).join('\n') + '\n');
      return;
    }
    if (this.json) this.context.stdout.write(JSON.stringify(summary) + '\n');
    else log.info({ event: 'pass-summary', summary }, formatSummary(summary)[0]);
    // Also on a line of its own: nobody should have to open the summary to learn why old footage never appears.
    for (const { message, ...note } of summary.tooOld) log.info({ event: 'too-old', ...note }, message);
  }
}
