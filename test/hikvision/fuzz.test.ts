/**
 * Property tests: index bytes from the camera are untrusted. Random, truncated and mutated bytes never throw
 * anything but our named errors (IndexCorruptError, UnsupportedFormatError, LimitExceededError; the record reader
 * only IndexCorruptError), always terminate, and never allocate from a count in the bytes. Runs come from the fuzz
 * budget (test/helpers/fuzz.ts).
 */
import test from 'ava';
import fc from 'fast-check';
import { IndexCorruptError, LimitExceededError, UnsupportedFormatError } from '../../lib/errors.js';
import { parseIndexHeader } from '../../lib/hikvision/index-header.js';
import { readVideoIndex } from '../../lib/hikvision/index-table.js';
import {
  detectPictureLayout,
  MAX_SOI_SAMPLES,
  PICTURE_SLOT_CANDIDATES,
  readPictureIndex,
} from '../../lib/hikvision/picture-index.js';
import { IndexSlice, readFileRecord, readSegmentRecord } from '../../lib/hikvision/record-reader.js';
import { fuzzParams, largestAllocation, randomBytes, withDeadline } from '../helpers/fuzz.js';
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
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 4096, size: 'max' }), withDeadline(checkVideo)),
    fuzzParams(1.5),
  );
  t.pass();
});

test('random header on a plausible version: only named errors or a bounded result', (t) => {
  fc.assert(
    fc.property(
      randomBytes(1280 + 32 * 3 + 3 * 256 * 80, 1280),
      fc.constantFrom(2, 3),
      fc.nat(8),
      withDeadline((bytes, version, avFiles) => {
        const b = Buffer.from(bytes);
        b.writeUInt32LE(version, 8);
        b.writeUInt32LE(avFiles, 12);
        return checkVideo(b);
      }),
    ),
    fuzzParams(),
  );
  t.pass();
});

test('truncated golden index: only named errors', (t) => {
  fc.assert(
    fc.property(
      fc.nat(GOLDEN.length),
      withDeadline((len) => checkVideo(GOLDEN.subarray(0, len))),
    ),
    fuzzParams(),
  );
  t.pass();
});

test('mutated golden index: only named errors, and every listed record obeys the rules', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(GOLDEN.length - 1), fc.nat(255)), { minLength: 1, maxLength: 64, size: 'medium' }),
      withDeadline((edits) => {
        const b = Buffer.from(GOLDEN);
        for (const [at, v] of edits) b[at] = v;
        return checkVideo(b);
      }),
    ),
    fuzzParams(1.5),
  );
  t.pass();
});

test('mutated header fields (counts, current entry): only named errors or a bounded result', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1279 + 32 * 8 }), fc.nat(255)), { minLength: 1, maxLength: 16 }),
      withDeadline((edits) => {
        const b = Buffer.from(GOLDEN);
        for (const [at, v] of edits) b[at] = v;
        return checkVideo(b);
      }),
    ),
    fuzzParams(1.5),
  );
  t.pass();
});

test('huge avFiles in a small buffer: a named error, nothing allocated from it', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.integer({ min: 1280, max: 8192 }),
      withDeadline((avFiles, len) => {
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
    ),
    fuzzParams(1.5),
  );
  t.pass();
});

test('header parser: random 1280-byte headers give bounded values or named errors', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1280, maxLength: 1280, size: 'max' }),
      withDeadline((bytes) => {
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
    ),
    fuzzParams(1.5),
  );
  t.pass();
});

test('picture index: random, truncated and mutated bytes give named errors or a bounded result', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000, size: 'max' }), withDeadline(checkPictures)),
    fuzzParams(0.5),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.nat(PICTURES.length),
      withDeadline((len) => checkPictures(PICTURES.subarray(0, len))),
    ),
    fuzzParams(0.25),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(1280 + 64 + 60 * 80), fc.nat(255)), { minLength: 1, maxLength: 32, size: 'medium' }),
      withDeadline((edits) => {
        const b = Buffer.from(PICTURES);
        for (const [at, v] of edits) b[at] = v;
        return checkPictures(b);
      }),
    ),
    fuzzParams(0.5),
  );
  t.pass();
});

// ---- the record reader ---------------------------------------------------------------------------------------------

/** Offsets as the readers compute them, and the ones a bug or a huge count could produce. */
const offset = fc.oneof(
  fc.integer({ min: -100, max: 600 }),
  fc.constantFrom(-1, 2 ** 31, 2 ** 32, 2 ** 53, Number.MAX_SAFE_INTEGER, Number.NaN, Infinity),
);

test('record reader: a read at any offset of any bytes is IndexCorruptError or the little-endian fields there', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 500, size: 'max' }).map((a) => Buffer.from(a)),
      offset,
      withDeadline((b, at) => {
        const fits = (size: number): boolean => at >= 0 && at + size <= b.length;
        const reads: Array<[number, () => unknown, () => unknown]> = [
          [1, () => new IndexSlice(b).u8(at), () => b.readUInt8(at)],
          [2, () => new IndexSlice(b).u16(at), () => b.readUInt16LE(at)],
          [4, () => new IndexSlice(b).u32(at), () => b.readUInt32LE(at)],
          [8, () => new IndexSlice(b).u64(at), () => b.readBigUInt64LE(at)],
          [
            32,
            () => readFileRecord(new IndexSlice(b), at),
            () => ({
              fileNo: b.readUInt32LE(at),
              chan: b.readUInt16LE(at + 4),
              segRecNums: b.readUInt16LE(at + 6),
              startTime: b.readUInt32LE(at + 8),
              endTime: b.readUInt32LE(at + 12),
            }),
          ],
          [
            80,
            () => readSegmentRecord(new IndexSlice(b), at),
            () => ({
              type: b[at],
              start: { sec: b.readUInt32LE(at + 8), usec: b.readUInt32LE(at + 12) },
              end: { sec: b.readUInt32LE(at + 16), usec: b.readUInt32LE(at + 20) },
              startOffset: b.readUInt32LE(at + 40),
              endOffset: b.readUInt32LE(at + 44),
              firstStamp: b.readUInt32LE(at + 32),
              lastStamp: b.readUInt32LE(at + 36),
            }),
          ],
        ];
        return reads.every(([size, read, expected]) => {
          try {
            const got = read();
            return fits(size) && JSON.stringify(got, big) === JSON.stringify(expected(), big);
          } catch (e) {
            return e instanceof IndexCorruptError && !fits(size);
          }
        });
      }),
    ),
    fuzzParams(),
  );
  t.pass();
});
const big = (_: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);

test('record reader: a slice of a larger buffer never reads the bytes around it', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 300, size: 'max' }),
      fc.nat(100),
      fc.nat(100),
      offset,
      withDeadline((inner, before, after, at) => {
        const whole = Buffer.concat([Buffer.alloc(before, 0xee), inner, Buffer.alloc(after, 0xee)]);
        const slice = new IndexSlice(whole.subarray(before, before + inner.length));
        try {
          const r = readSegmentRecord(slice, at);
          return at >= 0 && at + 80 <= inner.length && r.startOffset === Buffer.from(inner).readUInt32LE(at + 40);
        } catch (e) {
          return e instanceof IndexCorruptError && !(at >= 0 && at + 80 <= inner.length);
        }
      }),
    ),
    fuzzParams(),
  );
  t.pass();
});

// ---- picture stride detection --------------------------------------------------------------------------------------

/** A picture index of `slotsPerFile` slots: `counts[f]` pictures in file f, one per slot, appended from offset 0. */
function pictureIndex(slotsPerFile: number, counts: number[], totalSlots = slotsPerFile): Buffer {
  const avFiles = counts.length;
  const ix = new IndexBytes({ avFiles, slotsPerFile, totalSize: 1280 + 32 * avFiles + avFiles * totalSlots * 80 });
  counts.forEach((n, f) => {
    let off = 0;
    for (let i = 0; i < n; i++) {
      const sec = 1_710_000_000 + f * 100_000 + i * 10;
      const size = 20_000 + ((i * 7919 + f * 104_729) % 9000);
      ix.slot(f, i, { start: [sec, 0], end: [sec, 0], startOffset: off, endOffset: off + size });
      off += size;
    }
  });
  return ix.buf;
}

const PIC_SIZE = 256 * 1024 * 1024;
const LAYOUTS = [
  { bytes: pictureIndex(4096, [300, 5]), used: 1280 + 64 + 310 * 80 },
  { bytes: pictureIndex(256, [256, 100, 30], 4096), used: 1280 + 96 + 3 * 256 * 80 },
];

/**
 * Detect the stride of (damaged) picture index bytes with the given SOI answers, then read with it. Holds when
 * only named errors come out, the stride is a candidate, the probe is asked a handful of times and only about
 * bytes inside a .pic file of the index, and every listed picture obeys the rules.
 */
async function checkLayout(bytes: Uint8Array, answers: boolean[], async: boolean): Promise<boolean> {
  const sizes = new Map([0, 1, 2, 3].map((f) => [f, PIC_SIZE]));
  const calls: Array<[number, number]> = [];
  const probe = (f: number, off: number): boolean | Promise<boolean> => {
    calls.push([f, off]);
    const hit = answers[calls.length % answers.length] ?? true;
    return async ? Promise.resolve(hit) : hit;
  };
  const probesOk = (): boolean =>
    calls.length <= MAX_SOI_SAMPLES * PICTURE_SLOT_CANDIDATES.length &&
    calls.every(([f, off]) => Number.isInteger(f) && off >= 0 && off < (sizes.get(f) ?? 0));
  try {
    const layout = await detectPictureLayout(bytes, sizes, probe);
    if (!PICTURE_SLOT_CANDIDATES.includes(layout.slotsPerFile) || !probesOk()) return false;
    const table = readPictureIndex(bytes, sizes, layout.slotsPerFile);
    const counted = Object.values(table.skipped).reduce((a, b) => a + (b ?? 0), 0);
    return (
      table.records.length + counted === table.header.avFiles * layout.slotsPerFile &&
      table.records.every(
        (r) =>
          r.fileNo < table.header.avFiles &&
          r.slot < layout.slotsPerFile &&
          r.start.sec > 0 &&
          r.start.usec < 1e6 &&
          r.end.usec < 1e6 &&
          (r.end.sec > r.start.sec || (r.end.sec === r.start.sec && r.end.usec >= r.start.usec)) &&
          r.endOffset > r.startOffset &&
          r.endOffset <= (sizes.get(r.fileNo) ?? -1),
      )
    );
  } catch (e) {
    if (!named(e)) throw e;
    return probesOk();
  }
}

test('picture stride: damaged 4096- and 256-slot indexes, any SOI answers, sync or async probe', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...LAYOUTS).chain(({ bytes, used }) =>
        fc.tuple(
          fc.constant(bytes),
          fc.array(fc.tuple(fc.oneof(fc.nat(used - 1), fc.nat(bytes.length - 1)), fc.nat(255)), {
            maxLength: 24,
            size: 'medium',
          }),
        ),
      ),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      withDeadline(([bytes, edits], answers, async) => {
        const b = Buffer.from(bytes);
        for (const [at, v] of edits) b[at] = v;
        return checkLayout(b, answers, async);
      }),
    ),
    fuzzParams(0.25),
  );
  t.pass();
});

test('picture stride: headers and file counts of any value over real slot data', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...LAYOUTS),
      fc.oneof(fc.nat(8), fc.nat(0xffffffff)),
      fc.uint8Array({ minLength: 0, maxLength: 48, size: 'max' }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      withDeadline(({ bytes }, avFiles, current, answers) => {
        const b = Buffer.from(bytes);
        b.writeUInt32LE(avFiles, 12);
        b.set(current, 24); // the current-file entries of channels 0 and 1
        return checkLayout(b, answers, false);
      }),
    ),
    fuzzParams(0.25),
  );
  t.pass();
});

test.serial(
  'a file count near 2^32 in a small index: a named error, no probe, nothing allocated from it',
  async (t) => {
    for (const avFiles of [4096, 4097, 2 ** 31, 0xffffffff]) {
      const b = Buffer.alloc(4096);
      b.writeUInt32LE(2, 8);
      b.writeUInt32LE(avFiles, 12);
      let probes = 0;
      const { largest, result } = await largestAllocation(async () => {
        const errors: unknown[] = [];
        await detectPictureLayout(b, new Map([[0, PIC_SIZE]]), () => {
          probes++;
          return true;
        }).catch((e: unknown) => errors.push(e));
        try {
          readVideoIndex(b, SIZES);
        } catch (e) {
          errors.push(e);
        }
        return errors;
      });
      t.is(result.length, 2, `avFiles ${avFiles}: both readers refuse`);
      t.true(result.every(named), result.map(String).join('; '));
      t.is(probes, 0);
      t.true(largest <= b.length, `largest allocation ${largest}`);
    }
  },
);
