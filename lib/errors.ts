/**
 * The one vocabulary of failure in hiksync.
 *
 * - Every failure kind has ONE code (`ErrorCode`). It is what a worker returns across the thread boundary (error
 *   classes do not survive structured clone), what the pass summary counts and what the manifest records.
 * - Every error a user can cause or meet (a bad setting, a lock held, a format we do not read, bad bytes) is a
 *   `HiksyncError` subclass carrying its code; the CLI prints its message as one line, no stack trace.
 * - `exitCodeFor` is the ONE table from an error to a process exit code; `ExitCode` names every code we use.
 *
 * Parse-level errors of the bit readers (BitstreamError, ParameterSetError, ...) stay next to their readers: they
 * are caught and re-thrown as one of these by the code that knows what they mean for a recording.
 */

export type ErrorCode =
  // settings and command line
  | 'config' // a bad setting (flag or environment variable)
  | 'usage' // a bad command line
  | 'invalid-date' // --since/--until that is not a camera-local date
  // operations
  | 'lock-held' // another run holds the lock
  | 'no-permission' // a folder hiksync must read or write refuses this uid:gid
  | 'input-dir' // the input folder cannot be listed or holds no camera
  | 'aborted' // SIGINT/SIGTERM (or the caller's AbortSignal) stopped the work
  // index tables
  | 'index-corrupt' // an index whose bytes cannot be trusted
  | 'unsupported-format' // another storage layout (SQLite index, DVR disk, unknown picture stride)
  | 'limit-exceeded' // an untrusted count or size above a hard limit
  // one recording
  | 'bad-content' // no pack header / SOI at the start of the range: overwritten or half-written bytes
  | 'no-video' // no key frame with parameter sets in the range
  | 'unsupported-codec' // video that is not H.264/H.265, or unusable parameter sets
  | 'truncated-source' // the hiv file is shorter than the index says
  | 'source-changed' // the camera rewrote the slot while it was copied (storage doc, rule 5)
  | 'foreign-file' // a file hiksync did not write is at the target and is not adoptable/replaceable
  | 'timeout' // one file's work took longer than EXTRACTION_TIMEOUT (its worker was stopped)
  // volumes: not a recording's fault, the pass stops and no attempt is counted
  | 'output-full' // ENOSPC / EDQUOT on the output volume
  | 'output-unwritable' // EROFS: the output volume is read-only
  | 'input-unavailable' // the camera share itself is gone (unmounted) or does not answer (a hung network mount)
  // a file the user asked for by name (inspect --bundle)
  | 'cannot-create' // it cannot be made as asked: already there, inside the camera folder, or past a size cap
  // anything else
  | 'io-error' // another operating-system error (EIO, EACCES, ...)
  | 'internal'; // a bug

/** The root of hiksync's named errors. `name` is set by every subclass (it survives minification and logs). */
export class HiksyncError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HiksyncError';
    this.code = code;
  }
}

// ---- settings and command line ------------------------------------------------------------------------------------

/** A bad setting; the message is the one line shown to the user (names the flag or variable and what is allowed). */
export class ConfigError extends HiksyncError {
  constructor(message: string) {
    super('config', message);
    this.name = 'ConfigError';
  }
}

/** Why a --since/--until value was refused; `message` is complete and names the setting. */
export class InvalidDateError extends HiksyncError {
  constructor(message: string) {
    super('invalid-date', message);
    this.name = 'InvalidDateError';
  }
}

// ---- operations ---------------------------------------------------------------------------------------------------

/** Who holds a lock, as its owner file says (lib/ops/lock.ts keeps more). */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

/** Another run holds the lock (the message says who and how to recover); see lib/ops/lock.ts. */
export class LockHeldError extends HiksyncError {
  readonly lockPath: string;
  readonly holder?: LockHolder;

  constructor(lockPath: string, message?: string, holder?: LockHolder) {
    super('lock-held', message ?? `another hiksync run holds the lock ${lockPath}; try again later`);
    this.name = 'LockHeldError';
    this.lockPath = lockPath;
    if (holder) this.holder = holder;
  }
}

/** A folder hiksync must read or write refuses the user it runs as; the message names both and the fixes. */
export class PermissionError extends HiksyncError {
  readonly folder: string;

  constructor(folder: string, message: string, options?: ErrorOptions) {
    super('no-permission', message, options);
    this.name = 'PermissionError';
    this.folder = folder;
  }
}

/** The input folder (the share root) cannot be listed, holds no camera folder, or none of those `--camera` names. */
export class InputDirError extends HiksyncError {
  constructor(message: string, options?: ErrorOptions) {
    super('input-dir', message, options);
    this.name = 'InputDirError';
  }
}

/**
 * The camera share did not answer a file-system call within the time limit (SHARE_TIMEOUT): a hung network mount.
 * The call itself cannot be cancelled; hiksync stops waiting for it and does not ask that share again in this scan.
 */
export class ShareTimeoutError extends HiksyncError {
  readonly path: string;

  constructor(what: string, file: string, ms: number) {
    super(
      'input-unavailable',
      `the camera share is not answering: ${what} ${file} took longer than ${ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`} (a hung network mount?)`,
    );
    this.name = 'ShareTimeoutError';
    this.path = file;
  }
}

/** A FIFO, socket, device or folder where the share must hold a regular file: reading it could block forever. */
export class NotRegularFileError extends HiksyncError {
  readonly path: string;

  constructor(file: string, kind: string) {
    super('io-error', `${file} is ${kind}, not a regular file: hiksync reads regular files only`);
    this.name = 'NotRegularFileError';
    this.path = file;
  }
}

/** The caller's AbortSignal fired. */
export class AbortError extends HiksyncError {
  constructor(message = 'aborted') {
    super('aborted', message);
    this.name = 'AbortError';
  }
}

// ---- index tables -------------------------------------------------------------------------------------------------

/** An index table whose bytes cannot be trusted: too short, impossible counts, or changing under our reads. */
export class IndexCorruptError extends HiksyncError {
  constructor(message: string, options?: ErrorOptions) {
    super('index-corrupt', message, options);
    this.name = 'IndexCorruptError';
  }
}

/** Another storage format (SQLite index of newer firmware, DVR/NVR disk image, an unknown picture layout). */
export class UnsupportedFormatError extends HiksyncError {
  /** The file that gave the format away, when there is one. */
  readonly file?: string;

  constructor(message: string, file?: string, options?: ErrorOptions) {
    super('unsupported-format', message, options);
    this.name = 'UnsupportedFormatError';
    if (file !== undefined) this.file = file;
  }
}

/** An untrusted count or size went past a hard limit; raised before anything is allocated from it. */
export class LimitExceededError extends HiksyncError {
  readonly what: string;
  readonly value: number;
  readonly limit: number;

  constructor(what: string, value: number, limit: number, context = '') {
    super('limit-exceeded', `${what} is ${value}, above the limit of ${limit}${context ? ` (${context})` : ''}`);
    this.name = 'LimitExceededError';
    this.what = what;
    this.value = value;
    this.limit = limit;
  }
}

// ---- one recording ------------------------------------------------------------------------------------------------

/** The bytes at the start of the range are not an MPEG-2 pack header (or not a complete JPEG). */
export class BadContentError extends HiksyncError {
  constructor(message: string) {
    super('bad-content', message);
    this.name = 'BadContentError';
  }
}

/** No key frame with its parameter sets in the range: nothing playable to write. */
export class NoVideoError extends HiksyncError {
  constructor(message: string) {
    super('no-video', message);
    this.name = 'NoVideoError';
  }
}

/** The video stream is not H.264/H.265, or its parameter sets cannot be used. */
export class UnsupportedCodecError extends HiksyncError {
  constructor(message: string) {
    super('unsupported-codec', message);
    this.name = 'UnsupportedCodecError';
  }
}

/** The source file is shorter than the range the index promised. */
export class TruncatedSourceError extends HiksyncError {
  constructor(message: string) {
    super('truncated-source', message);
    this.name = 'TruncatedSourceError';
  }
}

/** The camera rewrote a recording (its slot or its hiv file) while we were reading it. */
export class SourceChangedError extends HiksyncError {
  constructor(message: string, options?: ErrorOptions) {
    super('source-changed', message, options);
    this.name = 'SourceChangedError';
  }
}

/** A file hiksync did not write sits at the target name and cannot be adopted or replaced: it is left alone. */
export class ForeignFileError extends HiksyncError {
  constructor(message: string) {
    super('foreign-file', message);
    this.name = 'ForeignFileError';
  }
}

// ---- a file the user asked for by name ----------------------------------------------------------------------------

/** The diagnostic bundle cannot be written where asked: the file is there already, or would land in the camera folder. */
export class BundleOutputError extends HiksyncError {
  readonly path: string;

  constructor(file: string, message: string) {
    super('cannot-create', message);
    this.name = 'BundleOutputError';
    this.path = file;
  }
}

/**
 * The diagnostic bundle would pass one of its hard caps (one file, all files together, the archive): nothing is
 * left behind, and the message names the cap and what passed it.
 */
export class BundleLimitError extends HiksyncError {
  readonly what: string;
  readonly value: number;
  readonly limit: number;

  constructor(what: string, value: number, limit: number, unit = 'bytes', hint = '') {
    super(
      'cannot-create',
      `${what} is ${value} ${unit}, above the bundle's cap of ${limit} ${unit}${hint ? `: ${hint}` : ''}`,
    );
    this.name = 'BundleLimitError';
    this.what = what;
    this.value = value;
    this.limit = limit;
  }
}

// ---- from any error to its code -----------------------------------------------------------------------------------

/** Ours or the platform's (timers/promises, fetch): both are named AbortError. */
function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

function errnoOf(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/**
 * The code of any thrown value: a HiksyncError's own code; an operating-system error by its errno (a full or
 * read-only output volume are their own kinds, the rest 'io-error'); anything else is a bug ('internal').
 * `signal`: an abort wins over the error it caused (a stopped read throws whatever the read was doing).
 */
export function errorCodeOf(err: unknown, signal?: AbortSignal): ErrorCode {
  if (signal?.aborted || isAbort(err)) return 'aborted';
  if (err instanceof HiksyncError) return err.code;
  const errno = errnoOf(err);
  if (errno === 'ENOSPC' || errno === 'EDQUOT') return 'output-full';
  if (errno === 'EROFS') return 'output-unwritable';
  if (errno !== undefined) return 'io-error';
  return 'internal';
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- exit codes ---------------------------------------------------------------------------------------------------

/** Every exit code hiksync uses (sysexits where one fits). */
export const ExitCode = {
  OK: 0,
  /** Some files failed (the others are done); also "retention blocked" for the retention command. */
  SOME_FAILED: 1,
  /** Bad command line (EX_USAGE). */
  USAGE: 64,
  /** The input folder is missing, unreadable or holds no camera (an unmounted share) (EX_NOINPUT). */
  NO_INPUT: 66,
  /** An unexpected internal error (EX_SOFTWARE): a bug, with a stack trace. */
  INTERNAL: 70,
  /** An output file the user named cannot be made as asked: there already, inside the camera folder, over a cap (EX_CANTCREAT). */
  CANT_CREATE: 73,
  /** An operating-system error outside one recording: the output or state folder failed us (EX_IOERR). */
  IO_ERROR: 74,
  /** Another run holds the lock: try again later (EX_TEMPFAIL). */
  LOCK_HELD: 75,
  /** Permission denied on a folder hiksync must read or write (EX_NOPERM). */
  NO_PERMISSION: 77,
  /** A bad setting (EX_CONFIG). */
  CONFIG: 78,
  /** Stopped by SIGINT/SIGTERM before the work was done (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

function isClipanionUsageError(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && (err as { clipanion?: { type?: string } }).clipanion?.type === 'usage'
  );
}

/** The exit code for an error that ended a command: the ONE mapping. */
export function exitCodeFor(err: unknown): ExitCodeValue {
  if (isClipanionUsageError(err)) return ExitCode.USAGE;
  if (isAbort(err)) return ExitCode.INTERRUPTED;
  const errno = errnoOf(err);
  if (errno === 'EACCES' || errno === 'EPERM') return ExitCode.NO_PERMISSION;
  if (errno !== undefined) return ExitCode.IO_ERROR;
  if (!(err instanceof HiksyncError)) return ExitCode.INTERNAL;
  switch (err.code) {
    case 'config':
      return ExitCode.CONFIG;
    case 'lock-held':
      return ExitCode.LOCK_HELD;
    case 'usage':
    case 'invalid-date':
      return ExitCode.USAGE;
    case 'aborted':
      return ExitCode.INTERRUPTED;
    case 'input-dir':
      return ExitCode.NO_INPUT;
    case 'no-permission':
      return ExitCode.NO_PERMISSION;
    case 'cannot-create':
      return ExitCode.CANT_CREATE;
    default:
      return ExitCode.SOME_FAILED;
  }
}

/**
 * Whether the error is the user's (or the machine's) to fix, told in one line without a stack: our named errors, a
 * bad command line, and operating-system errors (their message names the call and the path: "EACCES: permission
 * denied, mkdir '/output/.hiksync'").
 */
export function isUserError(err: unknown): boolean {
  return err instanceof HiksyncError || isClipanionUsageError(err) || errnoOf(err) !== undefined;
}

/** The text to print for an error: one line for user errors, the stack for bugs. */
export function describeError(err: unknown): string {
  if (isUserError(err)) return `hiksync: ${messageOf(err).split('\n')[0]}`;
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return `hiksync: internal error: ${detail}`;
}
