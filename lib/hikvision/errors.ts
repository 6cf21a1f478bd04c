/**
 * Named errors of hiksync. Every error a user can cause or meet (bad input, a format we do not read, a limit hit)
 * is a HiksyncError with a stable string `code`, so the CLI maps them to exit codes and one-line messages in one
 * place. Other modules add their own subclasses.
 */

export class HiksyncError extends Error {
  /** Stable machine-readable code (e.g. 'INDEX_CORRUPT'); subclasses set their own. */
  code: string;

  constructor(message: string, code = 'HIKSYNC', options?: ErrorOptions) {
    super(message, options);
    this.name = 'HiksyncError';
    this.code = code;
  }
}

/** An index table whose bytes cannot be trusted: too short, impossible counts, or changing under our reads. */
export class IndexCorruptError extends HiksyncError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'INDEX_CORRUPT', options);
    this.name = 'IndexCorruptError';
  }
}

/** Another storage format (SQLite index of newer firmware, DVR/NVR disk image, an unknown picture layout). */
export class UnsupportedFormatError extends HiksyncError {
  /** The file that gave the format away, when there is one. */
  readonly file?: string;

  constructor(message: string, file?: string, options?: ErrorOptions) {
    super(message, 'UNSUPPORTED_FORMAT', options);
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
    super(`${what} is ${value}, above the limit of ${limit}${context ? ` (${context})` : ''}`, 'LIMIT_EXCEEDED');
    this.name = 'LimitExceededError';
    this.what = what;
    this.value = value;
    this.limit = limit;
  }
}

/** The camera rewrote a recording (its slot or its hiv file) while we were reading it. */
export class SourceChangedError extends HiksyncError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'SOURCE_CHANGED', options);
    this.name = 'SourceChangedError';
  }
}

/** The input folder (the share root) cannot be listed. */
export class InputDirError extends HiksyncError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'INPUT_DIR', options);
    this.name = 'InputDirError';
  }
}
