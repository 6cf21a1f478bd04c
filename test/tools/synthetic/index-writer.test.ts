import test from 'ava';
import { buildIndexTable, placeholderFileRecords, type SegmentRecord } from '../../../tools/synthetic/index-writer.js';
import { pictureIndex, planPictures } from '../../../tools/synthetic/pictures.js';
import { loadPictureFixtures } from '../../../tools/synthetic/fixtures.js';
import { view } from './helpers.js';

const segment = (n: number): SegmentRecord => ({
  type: 0x0d,
  status: 2,
  resolution: 0x0f,
  start: { sec: 1_714_550_000 + n, usec: 123_456 + n },
  end: { sec: 1_714_550_010 + n, usec: 654_321 },
  firstKeyFrame: { sec: 1_714_550_000 + n, usec: 123_457 },
  firstStamp: 0xfffffff0 - n,
  lastStamp: 77 + n,
  startOffset: 4096 * (n + 1),
  endOffset: 4096 * (n + 1) + 999,
  infoStartTime: 11,
  infoEndTime: 22,
  infoStartOffset: 33,
  infoEndOffset: 44,
});

test('every header, FileRecord and SegmentRecord field lands at the doc offset', (t) => {
  const avFiles = 5;
  const files = placeholderFileRecords(avFiles);
  files[2] = { fileNo: 2, chan: 1, segRecNums: 3, startTime: 1000, endTime: 2000, status: 1, lockedSegNum: 7 };
  const buf = buildIndexTable({
    header: {
      modifyTimes: 2 ** 40 + 5,
      version: 2,
      avFiles,
      nextFileRecNo: 3,
      lastFileRecNo: 2,
      current: { fileNo: 2, segNo: 4, startTime: 1000, endTime: 2100 },
      checksum: 0xabcdef,
    },
    files,
    slots: [
      { fileNo: 2, slot: 3, record: segment(0) },
      { fileNo: 4, slot: 255, record: segment(1) },
    ],
    size: 256 * 1024,
  });
  t.is(buf.length, 256 * 1024);
  const dv = view(buf);
  t.is(dv.getBigUint64(0, true), 2n ** 40n + 5n);
  t.is(dv.getUint32(8, true), 2);
  t.is(dv.getUint32(12, true), avFiles);
  t.is(dv.getUint32(16, true), 3);
  t.is(dv.getUint32(20, true), 2);
  // Channel entries at 24 + 24k; the IP camera's is channel 1 at 0x30; the others are unused (0xFFFF).
  t.is(dv.getUint16(24, true), 0xffff);
  t.is(dv.getUint16(0x30, true), 2);
  t.is(dv.getUint16(0x32, true), 4);
  t.is(dv.getUint32(0x34, true), 1000);
  t.is(dv.getUint32(0x38, true), 2100);
  t.is(dv.getUint16(24 + 24 * 48, true), 0xffff);
  t.is(dv.getUint32(1276, true), 0xabcdef);
  // FileRecords at 1280 + 32 f.
  t.is(dv.getUint32(1280 + 32 * 2, true), 2);
  t.is(dv.getUint16(1280 + 32 * 2 + 4, true), 1);
  t.is(dv.getUint16(1280 + 32 * 2 + 6, true), 3);
  t.is(dv.getUint32(1280 + 32 * 2 + 8, true), 1000);
  t.is(dv.getUint32(1280 + 32 * 2 + 12, true), 2000);
  t.is(buf[1280 + 32 * 2 + 16], 1);
  t.is(dv.getUint16(1280 + 32 * 2 + 18, true), 7);
  t.is(dv.getUint16(1280 + 32 * 0 + 4, true), 0xffff, 'unused file: chan 0xFFFF');
  // SegmentRecord for file f slot j at 1280 + 32*avFiles + (f*256 + j)*80.
  for (const [f, j, n] of [
    [2, 3, 0],
    [4, 255, 1],
  ] as const) {
    const at = 1280 + 32 * avFiles + (f * 256 + j) * 80;
    const s = segment(n);
    t.is(buf[at], 0x0d);
    t.is(buf[at + 1], 2);
    t.is(dv.getUint32(at + 4, true), 0x0f);
    t.is(dv.getUint32(at + 8, true), s.start.sec, 'start seconds low');
    t.is(dv.getUint32(at + 12, true), s.start.usec, 'start microseconds high');
    t.is(dv.getUint32(at + 16, true), s.end.sec);
    t.is(dv.getUint32(at + 20, true), s.end.usec);
    t.is(dv.getUint32(at + 24, true), s.firstKeyFrame.sec);
    t.is(dv.getUint32(at + 28, true), s.firstKeyFrame.usec);
    t.is(dv.getUint32(at + 32, true), s.firstStamp);
    t.is(dv.getUint32(at + 36, true), s.lastStamp);
    t.is(dv.getUint32(at + 40, true), s.startOffset);
    t.is(dv.getUint32(at + 44, true), s.endOffset);
    t.is(dv.getUint32(at + 52, true), 0, 'version 2: no OFNI');
    t.deepEqual(
      [64, 68, 72, 76].map((o) => dv.getUint32(at + o, true)),
      [11, 22, 33, 44],
    );
  }
  // Nothing else was written in the slot area.
  const slotArea = buf.subarray(1280 + 32 * avFiles);
  const nonZero = slotArea.reduce((n, b) => n + (b !== 0 ? 1 : 0), 0);
  const expected = [segment(0), segment(1)].length;
  t.true(nonZero > 0 && nonZero <= expected * 80);
});

test('version 3 writes "OFNI" at +52 of each record', (t) => {
  const buf = buildIndexTable({
    header: { modifyTimes: 1, version: 3, avFiles: 1, nextFileRecNo: 0, lastFileRecNo: 0, current: null },
    files: placeholderFileRecords(1),
    slots: [{ fileNo: 0, slot: 1, record: segment(0) }],
    size: 64 * 1024,
  });
  t.is(buf.subarray(1280 + 32 + 80 + 52, 1280 + 32 + 80 + 56).toString('latin1'), 'OFNI');
  t.is(view(buf).getUint16(0x30, true), 0xffff, 'no current file');
});

test('buildIndexTable refuses a size that cannot hold the records and slots outside the table', (t) => {
  const base = {
    header: { modifyTimes: 1, version: 2 as const, avFiles: 4, nextFileRecNo: 0, lastFileRecNo: 0, current: null },
    files: placeholderFileRecords(4),
  };
  t.throws(() => buildIndexTable({ ...base, slots: [], size: 1280 + 32 * 4 + 4 * 256 * 80 - 1 }), {
    instanceOf: RangeError,
  });
  t.throws(() => buildIndexTable({ ...base, slots: [{ fileNo: 4, slot: 0, record: segment(0) }], size: 1 << 20 }), {
    instanceOf: RangeError,
  });
  t.throws(() => buildIndexTable({ ...base, slots: [{ fileNo: 0, slot: 256, record: segment(0) }], size: 1 << 20 }), {
    instanceOf: RangeError,
  });
});

for (const stride of [4096, 256, 96] as const) {
  test(`picture index, layout ${stride}: records at 1280 + 32*avFiles + (f*S + j)*size, startTime == endTime, SOI range`, async (t) => {
    const fixtures = await loadPictureFixtures();
    const plan = planPictures({ seed: 7, camera: 'cam', count: 6, stride, fixtures, firstStartUsec: 1_714_550_000e6 });
    const { header, files, slots } = pictureIndex(plan, 2, 9);
    const buf = buildIndexTable({ header, files, slots, layout: plan.layout, size: 1 << 20 });
    const dv = view(buf);
    const S = stride === 96 ? 4096 : stride;
    const size = stride === 96 ? 96 : 80;
    t.is(plan.picFiles, stride === 96 ? 1 : 2);
    t.is(dv.getUint32(12, true), plan.picFiles);
    for (let f = 0; f < plan.picFiles; f++)
      t.is(dv.getUint16(1280 + 32 * f + 4, true), 0xffff, 'placeholder FileRecord');
    for (const p of plan.pictures) {
      const at = 1280 + 32 * plan.picFiles + (p.fileNo * S + p.slot) * size;
      t.not(buf[at], 0);
      t.is(dv.getUint32(at + 8, true), p.time.sec);
      t.is(dv.getUint32(at + 12, true), p.time.usec);
      t.is(dv.getUint32(at + 16, true), p.time.sec, 'startTime == endTime');
      t.is(dv.getUint32(at + 20, true), p.time.usec);
      t.is(dv.getUint32(at + 40, true), p.jpegStart);
      t.true(dv.getUint32(at + 44, true) >= p.jpegEnd);
    }
    // Two pictures in the same second.
    t.is(plan.pictures[1]!.time.sec, plan.pictures[2]!.time.sec);
    t.not(plan.pictures[1]!.time.usec, plan.pictures[2]!.time.usec);
  });
}
