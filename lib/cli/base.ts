/**
 * The shared part of every hiksync command: building the validated Config from the command's flags + env, and the
 * ONE place errors become exit codes and user-facing lines. Options are not shared here: each command declares the
 * ones it uses (lib/cli/options.ts), so an option a command would ignore is a usage error instead.
 *
 * clipanion 3.2 only lets String options read `env`, so options are passed to loadConfig as raw strings and the
 * env merge (and its validation, naming the flag or variable) happens there.
 */
import { Command } from 'clipanion';
import { ConfigError, loadConfig, type Config, type RawSettings } from '../config.js';
import { HiksyncError } from '../hikvision/errors.js';
import { flushLogs } from '../log.js';
import { LockHeldError } from '../ops/lock.js';
import { INTERRUPTED_EXIT } from '../ops/schedule.js';
import { InvalidDateError } from '../time.js';

export const ExitCode = {
  OK: 0,
  /** Some files failed (the others are done); also "retention blocked" for the retention command. */
  SOME_FAILED: 1,
  /** Bad command line (sysexits EX_USAGE). */
  USAGE: 64,
  /** An unexpected internal error (EX_SOFTWARE): a bug, with a stack trace. */
  INTERNAL: 70,
  /** Another run holds the lock: try again later (EX_TEMPFAIL). */
  LOCK_HELD: 75,
  /** A bad setting (EX_CONFIG). */
  CONFIG: 78,
  /** Stopped by SIGINT/SIGTERM before the work was done (128 + SIGINT). */
  INTERRUPTED: INTERRUPTED_EXIT,
} as const;

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

function isUsageError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { clipanion?: { type?: string } }).clipanion?.type === 'usage';
}

/** The exit code for an error that ended a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError || codeOf(err) === 'CONFIG') return ExitCode.CONFIG;
  if (err instanceof LockHeldError || codeOf(err) === 'LOCK_HELD') return ExitCode.LOCK_HELD;
  if (err instanceof InvalidDateError || codeOf(err) === 'INVALID_DATE' || isUsageError(err)) return ExitCode.USAGE;
  if (err instanceof Error && err.name === 'AbortError') return ExitCode.INTERRUPTED;
  if (err instanceof HiksyncError) return ExitCode.SOME_FAILED;
  return ExitCode.INTERNAL;
}

/** Whether the error is the user's to fix (one line, no stack) rather than a bug. */
export function isUserError(err: unknown): boolean {
  return err instanceof HiksyncError || isUsageError(err);
}

/** The text to print for an error: one line for user errors, the stack for bugs. */
export function describeError(err: unknown): string {
  if (isUserError(err)) return `hiksync: ${(err as Error).message.split('\n')[0]}`;
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return `hiksync: internal error: ${detail}`;
}

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
