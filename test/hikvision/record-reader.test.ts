import test from 'ava';
import { IndexCorruptError } from '../../lib/errors.js';
import { readAvFiles } from '../../lib/hikvision/index-header.js';
import {
  IndexSlice,
  isZeroed,
  newSegmentRecord,
  readFileRecord,
  readSegmentRecord,
  type SegmentRecord,
} from '../../lib/hikvision/record-reader.js';

/**
 * Records are written by hand at the offsets of docs/hikvision-storage.md section 2, inside a larger buffer and
 * after some leading bytes, so a reader that ignores the slice's own byte offset reads the wrong bytes.
 */
const LEAD = 24;
const AT = 160;

function segmentBytes(): Buffer {
  const outer = Buffer.alloc(LEAD + 400, 0xee);
  const bytes = outer.subarray(LEAD);
  const r = bytes.subarray(AT, AT + 80).fill(0xa5); // fields the reader does not decode hold noise
  r.writeUInt8(0x0d, 0); // type
  // u64 times: low u32 seconds, high u32 microseconds.
  r.writeBigUInt64LE((123_456n << 32n) | 1_700_000_000n, 8);
  r.writeBigUInt64LE((999_999n << 32n) | 1_700_000_042n, 16);
  r.writeUInt32LE(0x8000_1234, 32); // first frame stamp (45 kHz)
  r.writeUInt32LE(0x8004_5678, 36); // last frame stamp
  r.writeUInt32LE(0x0040_0000, 40); // startOffset
  r.writeUInt32LE(0x0051_2000, 44); // endOffset
  return bytes;
}

const EXPECTED: SegmentRecord = {
  type: 0x0d,
  start: { sec: 1_700_000_000, usec: 123_456 },
  end: { sec: 1_700_000_042, usec: 999_999 },
  startOffset: 0x0040_0000,
  endOffset: 0x0051_2000,
  firstStamp: 0x8000_1234,
  lastStamp: 0x8004_5678,
};

test('segment record: type, both halves of the u64 times, the 45 kHz stamps and the byte range at their offsets', (t) => {
  const slice = new IndexSlice(segmentBytes());
  t.deepEqual(readSegmentRecord(slice, AT), EXPECTED);
});

test('segment record: decoding into a reused record overwrites every field and returns it', (t) => {
  const bytes = segmentBytes();
  const slice = new IndexSlice(bytes);
  const into = newSegmentRecord();
  t.is(readSegmentRecord(slice, AT, into), into);
  t.deepEqual(into, EXPECTED);
  bytes.fill(0, 0, 80);
  readSegmentRecord(slice, 0, into);
  t.deepEqual(into, newSegmentRecord());
});

test('file record: fileNo, chan, segRecNums and the times at their documented offsets', (t) => {
  const bytes = Buffer.alloc(LEAD + 3 * 32, 0xee).subarray(LEAD);
  const at = 2 * 32;
  bytes.fill(0xa5, at, at + 32);
  bytes.writeUInt32LE(2, at);
  bytes.writeUInt16LE(1, at + 4);
  bytes.writeUInt16LE(254, at + 6);
  bytes.writeUInt32LE(1_700_000_000, at + 8);
  bytes.writeUInt32LE(1_700_003_600, at + 12);
  t.deepEqual(readFileRecord(new IndexSlice(bytes), at), {
    fileNo: 2,
    chan: 1,
    segRecNums: 254,
    startTime: 1_700_000_000,
    endTime: 1_700_003_600,
  });
});

test('checked reads: little-endian values of every width inside the slice', (t) => {
  const bytes = Buffer.from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88]);
  const slice = new IndexSlice(bytes);
  t.is(slice.u8(7), 0x88);
  t.is(slice.u16(0), 0x0201);
  t.is(slice.u32(4), 0x88070605);
  t.is(slice.u64(0), 0x8807060504030201n);
});

const outOfRange: Array<[string, (s: IndexSlice) => unknown, RegExp]> = [
  ['a segment record running past the end', (s) => readSegmentRecord(s, 400 - 79), /80 bytes at offset 321\b/],
  // Its decoded fields (up to +48) would fit: the record is checked as a whole.
  ['a segment record whose unused tail is cut off', (s) => readSegmentRecord(s, 400 - 50), /80 bytes at offset 350\b/],
  ['a file record past the end', (s) => readFileRecord(s, 384), /32 bytes at offset 384\b/],
  ['a u32 straddling the end', (s) => s.u32(397), /4 bytes at offset 397\b/],
  ['a u8 just past the end', (s) => s.u8(400), /1 bytes at offset 400\b/],
  ['a negative offset', (s) => s.u16(-2), /2 bytes at offset -2\b/],
  ['a NaN offset', (s) => s.u64(Number.NaN), /8 bytes at offset NaN\b/],
];

for (const [what, read, message] of outOfRange) {
  test(`out-of-range read is IndexCorruptError naming the offset: ${what}`, (t) => {
    const slice = new IndexSlice(segmentBytes(), 'slot records of hiv00003.mp4');
    const err = t.throws(() => read(slice), { instanceOf: IndexCorruptError, message });
    t.regex(err?.message ?? '', /^slot records of hiv00003\.mp4: cannot read \d+ bytes at offset \S+ of 400$/);
  });
}

test('the last record that fits exactly is read, one byte more is refused', (t) => {
  const slice = new IndexSlice(Buffer.alloc(160));
  t.true(isZeroed(readSegmentRecord(slice, 80)));
  t.throws(() => readSegmentRecord(slice, 81), { instanceOf: IndexCorruptError });
});

test('a zeroed record is recognised, even with bytes set outside the decoded fields', (t) => {
  const bytes = Buffer.alloc(80);
  t.true(isZeroed(readSegmentRecord(new IndexSlice(bytes), 0)));
  // Resolution code, first key frame time, frame stamps, info fields: not what makes a slot used.
  for (const at of [1, 4, 24, 32, 36, 48, 52, 64, 72, 79]) bytes[at] = 0xff;
  t.true(isZeroed(readSegmentRecord(new IndexSlice(bytes), 0)));
});

const usedFields: Array<[string, number]> = [
  ['type', 0],
  ['start seconds', 8],
  ['start microseconds', 12],
  ['end seconds', 16],
  ['end microseconds', 20],
  ['startOffset', 40],
  ['endOffset', 44],
];

for (const [field, at] of usedFields) {
  test(`a record with only its ${field} set is not zeroed`, (t) => {
    const bytes = Buffer.alloc(80);
    bytes[at] = 1;
    t.false(isZeroed(readSegmentRecord(new IndexSlice(bytes), 0)));
  });
}

test('header: the file count at offset 12 goes through the checked reader', (t) => {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(55, 12);
  t.is(readAvFiles(head), 55);
  const short = head.subarray(0, 15);
  t.throws(() => readAvFiles(short), { instanceOf: IndexCorruptError, message: /4 bytes at offset 12\b/ });
});

test('zeroFrom: all-zero ranges of any length (past its 64 KiB compare buffer), the first non-zero byte anywhere, false past the end', (t) => {
  const bytes = new Uint8Array(200_000);
  const slice = new IndexSlice(bytes);
  t.true(slice.zeroFrom(0, bytes.length));
  t.true(slice.zeroFrom(100, 100));
  bytes[150_000] = 1;
  const again = new IndexSlice(bytes);
  t.false(again.zeroFrom(0, bytes.length));
  t.false(again.zeroFrom(150_000, 150_001));
  t.true(again.zeroFrom(0, 150_000));
  t.true(again.zeroFrom(150_001, bytes.length));
  t.false(
    again.zeroFrom(199_990, 200_010),
    'a range past the end is not all zero (the slot reads then fail as before)',
  );
});
