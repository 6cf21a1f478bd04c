import test from 'ava';
import { UsageError } from 'clipanion';
import {
  BadContentError,
  BundleLimitError,
  BundleOutputError,
  ConfigError,
  describeError,
  errorCodeOf,
  ExitCode,
  exitCodeFor,
  IndexCorruptError,
  InputDirError,
  InvalidDateError,
  LockHeldError,
  NoVideoError,
  SourceChangedError,
  TruncatedSourceError,
} from '../lib/errors.js';

const fsError = (code: string) => Object.assign(new Error(`${code}: x`), { code });

test('errorCodeOf: a full or read-only output volume is told apart from a bad recording', (t) => {
  t.is(errorCodeOf(fsError('ENOSPC')), 'output-full');
  t.is(errorCodeOf(fsError('EDQUOT')), 'output-full');
  t.is(errorCodeOf(fsError('EROFS')), 'output-unwritable');
  t.is(errorCodeOf(fsError('EIO')), 'io-error');
});

test('errorCodeOf: named errors keep their code; an abort wins over the error it caused', (t) => {
  t.is(errorCodeOf(new BadContentError('x')), 'bad-content');
  t.is(errorCodeOf(new NoVideoError('x')), 'no-video');
  t.is(errorCodeOf(new TruncatedSourceError('x')), 'truncated-source');
  t.is(errorCodeOf(new SourceChangedError('x')), 'source-changed');
  t.is(errorCodeOf(new IndexCorruptError('x')), 'index-corrupt');
  const ctl = new AbortController();
  ctl.abort();
  t.is(errorCodeOf(fsError('ENOSPC'), ctl.signal), 'aborted');
  t.is(errorCodeOf(Object.assign(new Error('stop'), { name: 'AbortError' })), 'aborted');
  t.is(errorCodeOf(new Error('boom')), 'internal');
  t.is(errorCodeOf('a string'), 'internal');
});

test('exitCodeFor: one mapping for every error kind', (t) => {
  t.is(exitCodeFor(new ConfigError('WORKERS="0" is not valid')), ExitCode.CONFIG);
  t.is(exitCodeFor(new LockHeldError('/out/.hiksync/lock')), ExitCode.LOCK_HELD);
  t.is(exitCodeFor(new InvalidDateError('bad')), ExitCode.USAGE);
  t.is(exitCodeFor(new UsageError('bad flag')), ExitCode.USAGE);
  t.is(exitCodeFor(Object.assign(new Error('stop'), { name: 'AbortError' })), ExitCode.INTERRUPTED);
  t.is(exitCodeFor(new BadContentError('x')), ExitCode.SOME_FAILED);
  t.is(exitCodeFor(new InputDirError('no camera folders in /input')), ExitCode.NO_INPUT);
  t.is(exitCodeFor(fsError('EACCES')), ExitCode.NO_PERMISSION);
  t.is(exitCodeFor(fsError('EPERM')), ExitCode.NO_PERMISSION);
  t.is(exitCodeFor(fsError('ENOSPC')), ExitCode.IO_ERROR);
  t.is(exitCodeFor(new TypeError('bug')), ExitCode.INTERNAL);
  t.is(exitCodeFor(new BundleLimitError('index00.bin', 2, 1)), ExitCode.CANT_CREATE);
  t.is(exitCodeFor(new BundleOutputError('/x', 'exists')), ExitCode.CANT_CREATE);
  t.is(ExitCode.CANT_CREATE, 73, 'EX_CANTCREAT');
});

test('describeError: one line for a user error, the stack for a bug', (t) => {
  t.is(describeError(new ConfigError('WORKERS="0" is not valid\nsecond line')), 'hiksync: WORKERS="0" is not valid');
  t.regex(describeError(new TypeError('bug')), /internal error: TypeError: bug\n\s+at /);
  t.is(describeError(fsError('EACCES')), 'hiksync: EACCES: x', 'an operating-system error: its message, no stack');
});
