/**
 * Property tests: index bytes from the camera are untrusted. Random, truncated and mutated bytes never throw
 * anything but our named errors, always terminate, and never allocate from a count in the bytes.
 */
import test from 'ava';
import fc from 'fast-check';
import { IndexCorruptError, LimitExceededError, UnsupportedFormatError } from '../../lib/errors.js';
import { parseIndexHeader } from '../../lib/hikvision/index-header.js';
import { readVideoIndex } from '../../lib/hikvision/index-table.js';
import { detectPictureLayout, readPictureIndex } from '../../lib/hikvision/picture-index.js';
import { goldenIndex, goldenSizes } from './golden.js';
import { IndexBytes } from './index-bytes.js';

const named = (e: unknown) =>
  e instanceof IndexCorruptError || e instanceof UnsupportedFormatError || e instanceof LimitExceededError;
const GOLDEN = goldenIndex().buf;
const SIZES = goldenSizes();

function pictureBytes(): Buffer {
  const ix = new IndexBytes({ avFiles: 2, slotsPerFile: 4096 });
  let off = 0;
  for (let i = 0; i < 40; i++) {
    ix.slot(0, i, {
      start: [1_700_000_000 + i, 0],
      end: [1_700_000_000 + i, 0],
      startOffset: off,
      endOffset: off + 30000,
    });
    off += 30000;
  }
  return ix.buf;
}
const PICTURES = pictureBytes();

/** Check the invariants of a successful video read. */
function checkVideo(bytes: Uint8Array): boolean {
  let table;
  try {
    table = readVideoIndex(bytes, SIZES);
  } catch (e) {
    if (!named(e)) throw e;
    return true;
  }
  const counted = Object.values(table.skipped).reduce((a, b) => a + (b ?? 0), 0);
  if (table.records.length + counted !== table.header.avFiles * 256) return false;
  return table.records.every(
    (r) =>
      r.fileNo < table.header.avFiles &&
      r.slot < 256 &&
      r.start.sec > 0 &&
      r.start.usec < 1e6 &&
      r.end.usec < 1e6 &&
      (r.end.sec > r.start.sec || (r.end.sec === r.start.sec && r.end.usec >= r.start.usec)) &&
      r.endOffset > r.startOffset &&
      r.endOffset <= (SIZES.get(r.fileNo) ?? -1),
  );
}

async function checkPictures(bytes: Uint8Array): Promise<boolean> {
  const sizes = new Map([
    [0, 1 << 28],
    [1, 1 << 28],
  ]);
  let probes = 0;
  try {
    const layout = await detectPictureLayout(bytes, sizes, () => {
      probes++;
      return probes % 2 === 0;
    });
    const table = readPictureIndex(bytes, sizes, layout.slotsPerFile);
    const counted = Object.values(table.skipped).reduce((a, b) => a + (b ?? 0), 0);
    return probes <= 6 && table.records.length + counted === table.header.avFiles * layout.slotsPerFile;
  } catch (e) {
    if (!named(e)) throw e;
    return probes <= 6;
  }
}

test('random bytes: only named errors', (t) => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 4096 }), checkVideo), { numRuns: 300 });
  t.pass();
});

test('random header on a plausible version: only named errors or a bounded result', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1280, maxLength: 1280 + 32 * 3 + 3 * 256 * 80 }),
      fc.constantFrom(2, 3),
      fc.nat(8),
      (bytes, version, avFiles) => {
        const b = Buffer.from(bytes);
        b.writeUInt32LE(version, 8);
        b.writeUInt32LE(avFiles, 12);
        return checkVideo(b);
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

test('truncated golden index: only named errors', (t) => {
  fc.assert(
    fc.property(fc.nat(GOLDEN.length), (len) => checkVideo(GOLDEN.subarray(0, len))),
    { numRuns: 200 },
  );
  t.pass();
});

test('mutated golden index: only named errors, and every listed record obeys the rules', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(GOLDEN.length - 1), fc.nat(255)), { minLength: 1, maxLength: 64 }),
      (edits) => {
        const b = Buffer.from(GOLDEN);
        for (const [at, v] of edits) b[at] = v;
        return checkVideo(b);
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('mutated header fields (counts, current entry): only named errors or a bounded result', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1279 + 32 * 8 }), fc.nat(255)), { minLength: 1, maxLength: 16 }),
      (edits) => {
        const b = Buffer.from(GOLDEN);
        for (const [at, v] of edits) b[at] = v;
        return checkVideo(b);
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('huge avFiles in a small buffer: a named error, nothing allocated from it', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1280, max: 8192 }), (avFiles, len) => {
      const b = Buffer.alloc(len);
      b.writeUInt32LE(2, 8);
      b.writeUInt32LE(avFiles, 12);
      try {
        readVideoIndex(b, SIZES);
        return 1280 + 32 * avFiles + avFiles * 256 * 80 <= len;
      } catch (e) {
        return named(e);
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('header parser: random 1280-byte headers give bounded values or named errors', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1280, maxLength: 1280 }), (bytes) => {
      const b = Buffer.from(bytes);
      b.writeUInt32LE(2, 8);
      try {
        const h = parseIndexHeader(b);
        return (
          h.avFiles <= 4096 && h.usedEntries.length <= 49 && (h.current === undefined || h.current.fileNo < h.avFiles)
        );
      } catch (e) {
        return named(e);
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('picture index: random, truncated and mutated bytes give named errors or a bounded result', async (t) => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), checkPictures), { numRuns: 100 });
  await fc.assert(
    fc.asyncProperty(fc.nat(PICTURES.length), (len) => checkPictures(PICTURES.subarray(0, len))),
    { numRuns: 50 },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(1280 + 64 + 60 * 80), fc.nat(255)), { minLength: 1, maxLength: 32 }),
      (edits) => {
        const b = Buffer.from(PICTURES);
        for (const [at, v] of edits) b[at] = v;
        return checkPictures(b);
      },
    ),
    { numRuns: 100 },
  );
  t.pass();
});
