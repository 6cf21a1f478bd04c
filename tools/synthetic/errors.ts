/**
 * Errors of the synthetic share writer. It is test and benchmark tooling, so it has its own small base class
 * rather than depending on the product's error hierarchy; `code` lets callers branch without instanceof.
 */
export class SyntheticError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A committed fixture is missing or does not look like what fixtures.json says. */
export class FixtureError extends SyntheticError {
  constructor(message: string) {
    super('FIXTURE', message);
  }
}

/** An elementary stream (Annex-B, ADTS) could not be split as expected. */
export class ElementaryStreamError extends SyntheticError {
  constructor(message: string) {
    super('ELEMENTARY_STREAM', message);
  }
}

/** The requested share cannot be written (bad sizes, counts, a target folder that is not empty). */
export class ShareOptionsError extends SyntheticError {
  constructor(message: string) {
    super('SHARE_OPTIONS', message);
  }
}
