import test from 'ava';
import { IndexCorruptError, UnsupportedFormatError } from '../../lib/errors.js';
import { detectPictureLayout, readPictureIndex } from '../../lib/hikvision/picture-index.js';
import { IndexBytes } from './index-bytes.js';

const T = 1_710_000_000;
const PIC_SIZE = 256 * 1024 * 1024;

/** JPEG sizes that differ between files, so one file's offsets do not line up with another's. */
const jpegSize = (f: number, i: number) => 20000 + ((i * 7919 + f * 104729) % 9000);

interface PicModel {
  ix: IndexBytes;
  /** Offsets where each .pic holds an SOI. */
  soi: Map<number, Set<number>>;
  sizes: Map<number, number>;
}

/** Write `counts[f]` pictures into file f, one per slot, appended from offset 0, 10 s apart. */
function pictures(slotsPerFile: number, counts: number[], opts: { totalSlots?: number; type?: number } = {}): PicModel {
  const avFiles = counts.length;
  const totalSize = opts.totalSlots ? 1280 + 32 * avFiles + avFiles * opts.totalSlots * 80 : undefined;
  const ix = new IndexBytes({ avFiles, slotsPerFile, totalSize });
  const soi = new Map<number, Set<number>>();
  const sizes = new Map<number, number>();
  counts.forEach((n, f) => {
    const starts = new Set<number>();
    let off = 0;
    for (let i = 0; i < n; i++) {
      const sec = T + f * 100000 + i * 10;
      const size = jpegSize(f, i);
      ix.slot(f, i, { type: opts.type, start: [sec, 0], end: [sec, 0], startOffset: off, endOffset: off + size });
      starts.add(off);
      off += size;
    }
    soi.set(f, starts);
    sizes.set(f, PIC_SIZE);
  });
  return { ix, soi, sizes };
}

function probeOf(m: PicModel, calls: Array<[number, number]> = []) {
  return (f: number, off: number) => {
    calls.push([f, off]);
    return m.soi.get(f)?.has(off) ?? false;
  };
}

test('stride 4096 detected when a .pic file holds more than 256 pictures', async (t) => {
  const m = pictures(4096, [300, 5]);
  const calls: Array<[number, number]> = [];
  const layout = await detectPictureLayout(m.ix.buf, m.sizes, probeOf(m, calls));
  t.is(layout.slotsPerFile, 4096);
  t.true(layout.soiSampled > 0);
  t.is(layout.soiHits, layout.soiSampled);
  t.true(calls.length <= 6, 'a handful of SOI reads');
  const table = readPictureIndex(m.ix.buf, m.sizes, 4096);
  t.is(table.records.length, 305);
  t.deepEqual(table.records[299], {
    fileNo: 0,
    slot: 299,
    start: { sec: T + 2990, usec: 0 },
    end: { sec: T + 2990, usec: 0 },
    startOffset: [...Array(299).keys()].reduce((a, i) => a + jpegSize(0, i), 0),
    endOffset: [...Array(300).keys()].reduce((a, i) => a + jpegSize(0, i), 0),
  });
});

test('stride 256 detected even when the index is large enough for 4096', async (t) => {
  // File 0 is full, so only the offset falling back to 0 at slot 256 betrays the 4096 reading.
  const m = pictures(256, [256, 100, 30], { totalSlots: 4096 });
  const layout = await detectPictureLayout(m.ix.buf, m.sizes, probeOf(m));
  t.is(layout.slotsPerFile, 256);
  const table = readPictureIndex(m.ix.buf, m.sizes, 256);
  t.is(table.records.length, 386);
  t.deepEqual(
    table.records.filter((r) => r.fileNo === 2).map((r) => r.slot),
    [...Array(30).keys()],
  );
});

test('stride 256 rejected by SOI sampling when records of one file would land in another', async (t) => {
  // True layout 4096, but only 256-stride reading is "structurally" possible if we pretend 4096 does not exist:
  // check that the 256 candidate alone fails its SOI samples.
  const m = pictures(4096, [400, 3]);
  let probes = 0;
  const lying = (f: number, off: number) => {
    probes++;
    return m.soi.get(f)?.has(off) ?? false;
  };
  // Cut the bytes to what a 256-stride index would need: 4096 no longer fits, 256 is tried and must be refused.
  const cut = m.ix.buf.subarray(0, 1280 + 32 * 2 + 2 * 256 * 80);
  const err = await t.throwsAsync(detectPictureLayout(cut, m.sizes, lying), { instanceOf: UnsupportedFormatError });
  t.regex(err.message, /SOI/);
  t.true(probes > 0 && probes <= 3);
});

test('96-byte records are refused with a clear message', async (t) => {
  const ix = new IndexBytes({ avFiles: 2, slotsPerFile: 4096, recordSize: 96 });
  let off = 0;
  for (let i = 0; i < 50; i++) {
    ix.slot(0, i, { start: [T + i, 0], end: [T + i, 0], startOffset: off, endOffset: off + 30000 });
    off += 30000;
  }
  const err = await t.throwsAsync(
    detectPictureLayout(
      ix.buf,
      new Map([
        [0, PIC_SIZE],
        [1, PIC_SIZE],
      ]),
      () => true,
    ),
    {
      instanceOf: UnsupportedFormatError,
    },
  );
  t.regex(err.message, /picture index layout not recognised/);
  t.regex(err.message, /96-byte/);
  t.regex(err.message, /4096 and 256/);
});

test('an empty picture index lists nothing without probing', async (t) => {
  const m = pictures(4096, [0, 0]);
  const calls: Array<[number, number]> = [];
  const layout = await detectPictureLayout(m.ix.buf, m.sizes, probeOf(m, calls));
  t.is(layout.basis, 'empty');
  t.is(calls.length, 0);
  t.deepEqual(readPictureIndex(m.ix.buf, m.sizes, layout.slotsPerFile).records, []);
});

test('a picture index too short for any stride is IndexCorruptError', async (t) => {
  const m = pictures(256, [10, 10]);
  await t.throwsAsync(detectPictureLayout(m.ix.buf.subarray(0, 5000), m.sizes, probeOf(m)), {
    instanceOf: IndexCorruptError,
  });
});

test('placeholder file records (0xFFFF) do not gate pictures', (t) => {
  const m = pictures(4096, [12, 0]);
  // The constructor leaves every file record as the 0xFFFF placeholder.
  t.is(m.ix.buf.readUInt16LE(1280 + 4), 0xffff);
  t.is(readPictureIndex(m.ix.buf, m.sizes, 4096).records.length, 12);
});

test('picture type byte 0 with real data is still a picture', (t) => {
  const m = pictures(4096, [7, 0], { type: 0 });
  t.is(readPictureIndex(m.ix.buf, m.sizes, 4096).records.length, 7);
});

test('pictures: the current file is read up to segNo, segNo is open, the rest stale', (t) => {
  const m = pictures(4096, [20, 15]);
  m.ix.current(1, 1, 10);
  const table = readPictureIndex(m.ix.buf, m.sizes, 4096);
  t.deepEqual(
    table.records.filter((r) => r.fileNo === 1).map((r) => r.slot),
    [...Array(10).keys()],
  );
  t.is(table.skipped.open, 1);
  t.is(table.skipped.stale, 4);
  t.is(table.records.filter((r) => r.fileNo === 0).length, 20);
});

test('pictures: a new cycle that rewrote the first slots leaves a stale tail (monotonic start)', (t) => {
  const m = pictures(4096, [40, 0]);
  // Next cycle rewrote slots 0..9 of file 0 a week later; slots 10..39 are from the old cycle.
  let off = 0;
  for (let i = 0; i < 10; i++) {
    const sec = T + 7 * 86400 + i * 10;
    m.ix.slot(0, i, { start: [sec, 0], end: [sec, 0], startOffset: off, endOffset: off + 25000 });
    off += 25000;
  }
  const table = readPictureIndex(m.ix.buf, m.sizes, 4096);
  t.deepEqual(
    table.records.map((r) => r.slot),
    [...Array(10).keys()],
  );
  t.is(table.skipped.stale, 30);
});

test('pictures: a missing .pic file counts its pictures as missing-file', (t) => {
  const m = pictures(4096, [5, 3]);
  m.sizes.delete(1);
  const table = readPictureIndex(m.ix.buf, m.sizes, 4096);
  t.is(table.records.length, 5);
  t.is(table.skipped['missing-file'], 3);
});
