/**
 * The shared part of every hiksync command: building the validated Config from the command's flags + env, and the
 * one place a command's errors become exit codes and user-facing lines (the mapping itself is lib/errors.ts).
 * Options are not shared here: each command declares the ones it uses (lib/cli/options.ts), so an option a command
 * would ignore is a usage error instead.
 *
 * clipanion 3.2 only lets String options read `env`, so options are passed to loadConfig as raw strings and the
 * env merge (and its validation, naming the flag or variable) happens there.
 */
import { Command } from 'clipanion';
import { loadConfig, type Config, type RawSettings } from '../config.js';
import { describeError, exitCodeFor } from '../errors.js';
import { flushLogs } from '../log.js';

export abstract class BaseCommand extends Command {
  /**
   * Flag values by Config key, for the options this command declares (lib/cli/options.ts). A setting a command has
   * no flag for still comes from its environment variable.
   */
  protected abstract settings(): RawSettings;

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
