/**
 * Fuzzing the JPEG finder: a .pic byte range is untrusted (padding, a half-written or overwritten picture).
 * findJpeg throws nothing (it documents no error: null means no complete JPEG), finishes, and what it returns lies
 * inside the buffer, starts with SOI and ends with EOI. readPicture refuses a range larger than MAX_PICTURE_BYTES
 * with BadContentError before it allocates anything.
 */
import test from 'ava';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BadContentError } from '../../lib/errors.js';
import { findJpeg, MAX_PICTURE_BYTES, readPicture } from '../../lib/media/jpeg.js';
import { loadPictureFixtures } from '../../tools/synthetic/fixtures.js';
import { fuzzParams, largestAllocation, withDeadline } from '../helpers/fuzz.js';
import { mutated, slices } from './fuzz-inputs.js';
import { tempDir } from './test-streams.js';

const SOS = Buffer.from([0xff, 0xda]);

/** The result is null, or a range inside the buffer from SOI (FF D8 FF) to EOI (FF D9) with a scan (SOS). */
function wellFormed(buf: Buffer): boolean {
  const r = findJpeg(buf);
  if (r === null) return true;
  return (
    Number.isInteger(r.start) &&
    Number.isInteger(r.end) &&
    r.start >= 0 &&
    r.end <= buf.length &&
    buf.subarray(r.start, r.end).includes(SOS) &&
    buf[r.start] === 0xff &&
    buf[r.start + 1] === 0xd8 &&
    buf[r.start + 2] === 0xff &&
    buf[r.end - 2] === 0xff &&
    buf[r.end - 1] === 0xd9
  );
}

const PICTURES = (await loadPictureFixtures()).map((p) => p.bytes);
const picture = fc.constantFrom(...PICTURES);

/** Marker segments with random lengths, SOS with entropy-coded data, stuffing, EOI: what a walk has to read. */
const jpegLike = fc
  .array(
    fc.oneof(
      fc.constant(Buffer.from([0xff, 0xd8, 0xff])),
      fc.constant(Buffer.from([0xff, 0xd9])),
      fc
        .tuple(fc.integer({ min: 0xc0, max: 0xfe }), fc.nat(0xffff), fc.uint8Array({ maxLength: 40, size: 'max' }))
        .map(([m, len, body]) => Buffer.concat([Buffer.from([0xff, m, len >> 8, len & 0xff]), body])),
      fc.constantFrom(Buffer.from([0xff, 0x00]), Buffer.from([0xff, 0xd3]), Buffer.from([0xff, 0xff])),
      fc.uint8Array({ maxLength: 30, size: 'max' }),
    ),
    { maxLength: 40, size: 'medium' },
  )
  .map((parts) => Buffer.concat(parts));

test('random and JPEG-like bytes: no exception; a result lies inside the buffer from SOI to EOI', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 4096, size: 'max' }).map((a) => Buffer.from(a)),
        jpegLike,
      ),
      withDeadline(wellFormed),
    ),
    fuzzParams(),
  );
  t.pass();
});

test('damaged and cut pictures: no exception; a result lies inside the buffer from SOI to EOI', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(...PICTURES.map((p) => mutated(p, 8)), ...PICTURES.map((p) => slices(p))),
      withDeadline(wellFormed),
    ),
    fuzzParams(0.5),
  );
  t.pass();
});

test('a picture between padding (no SOI before it, anything after): exactly the picture', (t) => {
  fc.assert(
    fc.property(
      picture,
      fc.uint8Array({ maxLength: 300, size: 'max' }).map((a) => Buffer.from(a.map((v) => (v === 0xff ? 0 : v)))),
      fc.uint8Array({ maxLength: 300, size: 'max' }),
      withDeadline((pic, before, after) => {
        const r = findJpeg(Buffer.concat([before, pic, after]));
        return r !== null && r.start === before.length && r.end === before.length + pic.length;
      }),
    ),
    fuzzParams(0.5),
  );
  t.pass();
});

test.serial(
  'a segment declaring 65535 bytes in a small buffer: null (incomplete), nothing allocated from the length',
  async (t) => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 1, 2, 3, 4]);
    const { largest, result } = await largestAllocation(() => findJpeg(bytes));
    t.is(result, null);
    t.true(largest <= bytes.length, `largest allocation ${largest}`);
  },
);

test.serial(
  'readPicture: a range declaring 4 GiB is BadContentError before anything is read or allocated',
  async (t) => {
    const tmp = tempDir();
    t.teardown(tmp.cleanup);
    const file = path.join(tmp.dir, 'hiv00000.pic');
    writeFileSync(file, PICTURES[0]!);
    for (const endOffset of [2 ** 32, MAX_PICTURE_BYTES + 1]) {
      const { largest, result } = await largestAllocation(() =>
        readPicture({ source: file, startOffset: 0, endOffset }).then(
          () => 'read',
          (e: unknown) => e,
        ),
      );
      t.true(result instanceof BadContentError, String(result));
      t.true(largest < 1024 * 1024, `largest allocation ${largest}`);
    }
  },
);
