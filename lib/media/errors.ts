/**
 * Named errors of the media path. The worker maps them to skip reasons by `name` (class identity does not
 * survive a worker boundary), so every class sets `name` explicitly and carries a stable `code`.
 */
import { HiksyncError } from '../hikvision/errors.js';

export class MediaError extends HiksyncError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, code, options);
    this.name = 'MediaError';
  }
}

/** The bytes at the start of the range are not an MPEG-2 pack header (or not a complete JPEG). */
export class BadContentError extends MediaError {
  constructor(message: string) {
    super('BAD_CONTENT', message);
    this.name = 'BadContentError';
  }
}

/** No key frame with its parameter sets in the range: nothing playable to write. */
export class NoVideoError extends MediaError {
  constructor(message: string) {
    super('NO_VIDEO', message);
    this.name = 'NoVideoError';
  }
}

/** The video stream is not H.264/H.265, or its parameter sets cannot be used. */
export class UnsupportedCodecError extends MediaError {
  constructor(message: string) {
    super('UNSUPPORTED_CODEC', message);
    this.name = 'UnsupportedCodecError';
  }
}

/** The source file is shorter than the range the index promised. */
export class TruncatedSourceError extends MediaError {
  constructor(message: string) {
    super('TRUNCATED_SOURCE', message);
    this.name = 'TruncatedSourceError';
  }
}

/** The caller's AbortSignal fired. */
export class AbortError extends MediaError {
  constructor(message = 'ABORTED') {
    super('ABORTED', message);
    this.name = 'AbortError';
  }
}
