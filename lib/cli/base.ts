/**
 * The shared part of every hiksync command: the common options, building the validated Config from flags + env,
 * and where every error a command throws becomes its exit code and one line (the mapping is lib/errors.ts).
 *
 * clipanion 3.2 only lets String options read `env`, so options are passed to loadConfig as raw strings and the
 * env merge (and its validation, naming the flag or variable) happens there.
 */
import { Command, Option } from 'clipanion';
import { loadConfig, type Config, type RawSettings } from '../config.js';
import { describeError, exitCodeFor } from '../errors.js';
import { flushLogs } from '../log.js';

export abstract class BaseCommand extends Command {
  input = Option.String('--input', { description: 'Camera share, one folder per camera (INPUT_DIR, default /input)' });
  output = Option.String('--output', { description: 'Output folder (OUTPUT_DIR, default /output)' });
  workers = Option.String('--workers', { description: 'Worker threads (WORKERS, default: CPU count)' });
  cameraTz = Option.String('--camera-tz', { description: "The cameras' IANA time zone (CAMERA_TZ, default: the host's)" });
  logFormat = Option.String('--log-format', { description: 'pretty | json | auto (LOG_FORMAT, default auto)' });
  logLevel = Option.String('--log-level', { description: 'debug | info | warn | error (LOG_LEVEL, default info)' });
  shard = Option.String('--shard', { description: 'K/N: handle shard K (from 0) of N (SHARD)' });
  json = Option.Boolean('--json', false, { description: 'Print the result as JSON on stdout' });
  lockFile = Option.String('--lock-file', { description: 'Lock path (LOCK_FILE, default <output>/.hiksync/lock)' });
  retentionDays = Option.String('--retention-days', { description: 'Delete outputs older than this many days, 0 = keep all (RETENTION_DAYS, default 90)' });
  cameraTranslation = Option.String('--camera-translation', { description: 'Folder:tag pairs, e.g. Camera-Tuin:garden (CAMERA_TRANSLATION)' });

  /** Flag values by Config key; subclasses add theirs by overriding and spreading super.settings(). */
  protected settings(): RawSettings {
    return {
      inputDir: this.input,
      outputDir: this.output,
      workers: this.workers,
      cameraTz: this.cameraTz,
      logFormat: this.logFormat,
      logLevel: this.logLevel,
      shard: this.shard,
      lockFile: this.lockFile,
      retentionDays: this.retentionDays,
      cameraTranslation: this.cameraTranslation,
    };
  }

  /** The validated settings (throws ConfigError naming the flag or variable). The command line defaults to once. */
  config(env: NodeJS.ProcessEnv = process.env): Config {
    return loadConfig(this.settings(), env, { runMode: 'once' });
  }

  /** Every error ends here: one line (or a stack for bugs) on stderr, and its exit code. Logs are flushed. */
  override async validateAndExecute(): Promise<number> {
    try {
      return await super.validateAndExecute();
    } catch (err) {
      await flushLogs();
      this.context.stderr.write(describeError(err) + '\n');
      return exitCodeFor(err);
    } finally {
      await flushLogs();
    }
  }
}
