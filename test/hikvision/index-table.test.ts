import test from 'ava';
import { IndexCorruptError, LimitExceededError, UnsupportedFormatError } from '../../lib/errors.js';
import { parseIndexHeader, usedIndexLength } from '../../lib/hikvision/index-header.js';
import { readVideoIndex } from '../../lib/hikvision/index-table.js';
import { recordingId, toRecording } from '../../lib/hikvision/recording.js';
import { GOLDEN_RECORDS, GOLDEN_SKIPPED, goldenIndex, goldenSizes, HIV_SIZE, MIB, T } from './golden.js';
import { IndexBytes } from './index-bytes.js';

const golden = () => readVideoIndex(goldenIndex().buf, goldenSizes());
const slotsOf = (fileNo: number) =>
  golden()
    .records.filter((r) => r.fileNo === fileNo)
    .map((r) => r.slot);

test('golden index: every expected recording, nothing else, in file order', (t) => {
  t.deepEqual(golden().records, GOLDEN_RECORDS);
});

test('golden index: every slot is either listed or counted by reason', (t) => {
  const { records, skipped } = golden();
  t.deepEqual(skipped, GOLDEN_SKIPPED);
  const counted = Object.values(skipped).reduce((a, b) => a + (b ?? 0), 0);
  t.is(records.length + counted, 8 * 256);
});

test('header: version, counts, the write counter and the channel-1 current entry', (t) => {
  const h = parseIndexHeader(goldenIndex().buf);
  t.is(h.version, 2);
  t.is(h.avFiles, 8);
  t.is(h.nextFileRecNo, 6);
  t.is(h.lastFileRecNo, 5);
  t.is(h.modifyTimes, '4242');
  t.like(h.current, { channel: 1, fileNo: 5, segNo: 2, startTime: T + 100200 });
  t.is(usedIndexLength(8, 256), 1280 + 32 * 8 + 8 * 256 * 80);
});

test('write counter above 2^53 is kept exact as a decimal string', (t) => {
  const ix = goldenIndex().modifyTimes(2n ** 63n + 7n);
  t.is(parseIndexHeader(ix.buf).modifyTimes, (2n ** 63n + 7n).toString());
});

test('stale slots beyond segRecNums of a closed file are not listed', (t) => {
  t.deepEqual(slotsOf(0), [0, 1, 2, 3]);
});

test("the current file's stale file record is ignored: segNo decides", (t) => {
  // The file record says 11 slots (previous cycle); the header says slot 2 is being written.
  t.deepEqual(slotsOf(5), [0, 1]);
});

test('the open segment is not listed and is counted as open', (t) => {
  const { records, skipped } = golden();
  t.false(records.some((r) => r.fileNo === 5 && r.slot === 2));
  t.is(skipped.open, 1);
});

test('an empty file record (chan 0xFFFF) lists nothing, even with leftover slots', (t) => {
  t.deepEqual(slotsOf(3), []);
});

test('a recording split across two files gives two segments that join exactly', (t) => {
  const { records } = golden();
  const tail = records.find((r) => r.fileNo === 0 && r.slot === 3)!;
  const head = records.find((r) => r.fileNo === 1 && r.slot === 0)!;
  t.is(tail.endOffset, HIV_SIZE);
  t.is(head.startOffset, 0);
  t.deepEqual(head.start, tail.end);
});

test('two recordings starting in the same second keep their microseconds and get different ids', (t) => {
  const { records } = golden();
  const a = records.find((r) => r.fileNo === 0 && r.slot === 1)!;
  const b = records.find((r) => r.fileNo === 0 && r.slot === 2)!;
  t.is(a.start.sec, b.start.sec);
  t.deepEqual([a.start.usec, b.start.usec], [250000, 750000]);
  t.not(recordingId('datadir0', 'video', a), recordingId('datadir0', 'video', b));
});

test('a start earlier than the slot before begins a stale tail, even inside segRecNums', (t) => {
  t.deepEqual(slotsOf(2), [0, 1]);
});

test('a range beyond the real hiv size is dropped as short-file (size from stat, not 256 MiB)', (t) => {
  t.deepEqual(slotsOf(1), [0, 1]);
  t.is(golden().skipped['short-file'], 1);
  // The same slot is fine once the file is really 256 MiB.
  const sizes = goldenSizes().set(1, HIV_SIZE);
  t.true(readVideoIndex(goldenIndex().buf, sizes).records.some((r) => r.fileNo === 1 && r.slot === 2));
});

test("a range that runs over the next slot's start is dropped as bad-range: one output never holds two recordings", (t) => {
  // File 0 slots 0-3 are real; slot 1's end is corrupted to run past slot 2 and 3 (both keep their own ranges).
  const ix = goldenIndex();
  const slot2Start = GOLDEN_RECORDS.find((r) => r.fileNo === 0 && r.slot === 2)!.startOffset;
  const slot1 = GOLDEN_RECORDS.find((r) => r.fileNo === 0 && r.slot === 1)!;
  ix.slot(0, 1, {
    start: [slot1.start.sec, slot1.start.usec],
    end: [slot1.end.sec, slot1.end.usec],
    startOffset: slot1.startOffset,
    endOffset: slot2Start + 3 * 4096,
  });
  const table = readVideoIndex(ix.buf, goldenSizes());
  t.deepEqual(
    table.records.filter((r) => r.fileNo === 0).map((r) => r.slot),
    [0, 2, 3],
  );
  t.is(table.skipped['bad-range'], GOLDEN_SKIPPED['bad-range'] + 1);
});

test('slots of a missing hiv file are counted as missing-file', (t) => {
  t.deepEqual(slotsOf(4), []);
  t.is(golden().skipped['missing-file'], 2);
});

test('per-slot rules: end before start, usec >= 1e6, empty range, type 0, end 0', (t) => {
  t.deepEqual(slotsOf(6), [0]);
  t.is(golden().skipped['bad-time'], 3);
});

test('a clock step back of under an hour with bytes moving on is kept (DST), not a stale tail', (t) => {
  t.deepEqual(slotsOf(7), [0, 1]);
});

test('ring wrap: the same slot reused by a new recording gets a new id', (t) => {
  const ctx = {
    camera: 'cam',
    datadir: 'datadir0',
    kind: 'video' as const,
    dirAbs: '/in/cam/datadir0',
    indexPath: '/in/cam/datadir0/index00.bin',
    slotsPerFile: 256,
  };
  const before = toRecording(
    readVideoIndex(goldenIndex().buf, goldenSizes()).records.find((r) => r.fileNo === 0 && r.slot === 0)!,
    ctx,
  );
  // Next cycle: file 0 slot 0 now holds a newer recording of another length.
  const ix = goldenIndex();
  ix.slot(0, 0, { start: [T + 900000, 0], end: [T + 900030, 0], startOffset: 0, endOffset: 204800 });
  ix.fileRecord(0, { chan: 1, segRecNums: 0, start: T + 900000, end: T + 900030 });
  const after = toRecording(
    readVideoIndex(ix.buf, goldenSizes()).records.find((r) => r.fileNo === 0 && r.slot === 0)!,
    ctx,
  );
  t.is(after.slot, before.slot);
  t.not(after.id, before.id);
  // and the id is stable for the same content
  t.is(toRecording(readVideoIndex(goldenIndex().buf, goldenSizes()).records[0]!, ctx).id, before.id);
  t.is(before.source, '/in/cam/datadir0/hiv00000.mp4');
});

test('the current entry on another channel is used when channel 1 is unused', (t) => {
  const ix = goldenIndex();
  ix.buf.writeUInt16LE(0xffff, 0x30);
  ix.current(3, 5, 2);
  t.deepEqual(
    readVideoIndex(ix.buf, goldenSizes())
      .records.filter((r) => r.fileNo === 5)
      .map((r) => r.slot),
    [0, 1],
  );
});

test('an all-zero current-entry table is not read as "writing file 0 slot 0"', (t) => {
  const ix = goldenIndex();
  ix.buf.fill(0, 24, 24 + 49 * 24);
  const h = parseIndexHeader(ix.buf);
  t.is(h.current, undefined);
  t.deepEqual(h.usedEntries, []);
  t.deepEqual(
    readVideoIndex(ix.buf, goldenSizes())
      .records.filter((r) => r.fileNo === 0)
      .map((r) => r.slot),
    [0, 1, 2, 3],
  );
});

test('no current entry: every file is judged by its file record', (t) => {
  const ix = goldenIndex();
  ix.buf.writeUInt16LE(0xffff, 0x30);
  // file 5's (stale) record now governs: slots 0..10, but slot 2 has end 0 and slot 3 starts earlier -> tail
  const recs = readVideoIndex(ix.buf, goldenSizes()).records.filter((r) => r.fileNo === 5);
  t.deepEqual(
    recs.map((r) => r.slot),
    [0, 1],
  );
});

test('a file record whose segRecNums does not fit 256 slots is not trusted', (t) => {
  const ix = goldenIndex();
  ix.fileRecord(0, { chan: 1, segRecNums: 300, start: T, end: T + 260 });
  const { records, skipped } = readVideoIndex(ix.buf, goldenSizes());
  t.false(records.some((r) => r.fileNo === 0));
  t.is(skipped['bad-header'], 7);
});

test('truncated index: IndexCorruptError naming what the header claims', (t) => {
  const buf = goldenIndex().buf.subarray(0, usedIndexLength(8, 256) - 1);
  const err = t.throws(() => readVideoIndex(buf, goldenSizes()), { instanceOf: IndexCorruptError });
  t.regex(err.message, /8 files/);
  t.throws(() => readVideoIndex(goldenIndex().buf.subarray(0, 1000), goldenSizes()), { instanceOf: IndexCorruptError });
});

test('avFiles past the limit is refused before anything is allocated', (t) => {
  const buf = Buffer.alloc(1280);
  buf.writeUInt32LE(2, 8);
  buf.writeUInt32LE(0xffffffff, 12);
  t.throws(() => readVideoIndex(buf, new Map()), { instanceOf: LimitExceededError });
  buf.writeUInt32LE(4096, 12);
  t.throws(() => readVideoIndex(buf, new Map()), { instanceOf: IndexCorruptError });
});

test('unknown versions and SQLite bytes are refused by name', (t) => {
  const ix = goldenIndex();
  ix.buf.writeUInt32LE(7, 8);
  t.throws(() => readVideoIndex(ix.buf, goldenSizes()), { instanceOf: UnsupportedFormatError, message: /version 7/ });
  ix.buf.writeUInt32LE(0xdeadbeef, 8);
  t.throws(() => readVideoIndex(ix.buf, goldenSizes()), { instanceOf: IndexCorruptError });
  const sqlite = Buffer.alloc(4096);
  sqlite.write('SQLite format 3\0', 0, 'latin1');
  t.throws(() => readVideoIndex(sqlite, new Map()), { instanceOf: UnsupportedFormatError, message: /SQLite/ });
});

test('version 3 reads with the same layout', (t) => {
  const ix = goldenIndex();
  ix.buf.writeUInt32LE(3, 8);
  t.is(readVideoIndex(ix.buf, goldenSizes()).records.length, 13);
});

test('a fresh index (no files written) lists nothing and counts every slot empty', (t) => {
  const ix = new IndexBytes({ avFiles: 3, slotsPerFile: 256 });
  const { records, skipped } = readVideoIndex(ix.buf, new Map([[0, MIB]]));
  t.deepEqual(records, []);
  t.deepEqual(skipped, { empty: 768 });
});

test('a video index that lists no hiv file is corrupt, not "no recordings"', (t) => {
  const ix = new IndexBytes({ avFiles: 0, slotsPerFile: 256 });
  t.throws(() => readVideoIndex(ix.buf, new Map()), { instanceOf: IndexCorruptError, message: /lists 0 hiv files/ });
});
