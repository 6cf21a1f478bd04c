import test from 'ava';
import { reasonOf } from '../../lib/pipeline/extract.js';
import { BadContentError, NoVideoError, TruncatedSourceError } from '../../lib/media/errors.js';

const fsError = (code: string) => Object.assign(new Error(`${code}: x`), { code });

test('a full or read-only output volume is told apart from a bad recording', (t) => {
  t.is(reasonOf(fsError('ENOSPC')), 'output-full');
  t.is(reasonOf(fsError('EDQUOT')), 'output-full');
  t.is(reasonOf(fsError('EROFS')), 'output-unwritable');
  t.is(reasonOf(fsError('EIO')), 'io-error');
});

test('media errors map to their reasons; an abort wins over the error it caused', (t) => {
  t.is(reasonOf(new BadContentError('x')), 'bad-content');
  t.is(reasonOf(new NoVideoError('x')), 'no-video');
  t.is(reasonOf(new TruncatedSourceError('x')), 'truncated-source');
  const ctl = new AbortController();
  ctl.abort();
  t.is(reasonOf(fsError('ENOSPC'), ctl.signal), 'aborted');
  t.is(reasonOf(new Error('boom')), 'internal');
});
