import test from 'ava';
import initSqlJs from 'sql.js';
import { UnsupportedFormatError } from '../../lib/errors.js';
import { openDatabase, type SqlDb } from '../../lib/hikvision/sqlite-engine.js';
import { readEventDatabase, readRecordDatabase } from '../../lib/hikvision/sqlite-index.js';
import { buildDatabase, recordDatabase, T0, type Row } from './sqlite-db.js';

const MB = 1024 * 1024;
const sizes = (n: number, size = 4 * MB) => new Map(Array.from({ length: n }, (_, f) => [f, size]));

async function open(bytes: Buffer): Promise<SqlDb> {
  return openDatabase(await initSqlJs(), bytes);
}

async function readRows(rows: Row[], hiv = sizes(3)) {
  const db = await open(await recordDatabase(rows));
  try {
    return readRecordDatabase(db, hiv);
  } finally {
    db.close();
  }
}

const spans = (recs: Array<{ fileNo: number; slot: number; startOffset: number; endOffset: number }>) =>
  recs.map((r) => `${r.fileNo}/${r.slot}:${r.startOffset}-${r.endOffset}`);

test('closed rows become records: times, byte ranges, a slot per row in byte order', async (t) => {
  const table = await readRows([
    { file: 0, start: T0, end: T0 + 60, from: 0, to: 1 * MB },
    { file: 0, start: T0 + 61, end: T0 + 90, from: 1 * MB, to: 2 * MB },
    { file: 1, start: T0 + 100, end: T0 + 130, from: 0, to: MB / 2 },
  ]);
  t.deepEqual(spans(table.records), ['0/0:0-1048576', '0/1:1048576-2097152', '1/0:0-524288']);
  t.deepEqual(table.records[1]!.start, { sec: T0 + 61, usec: 0 });
  t.deepEqual(table.records[1]!.end, { sec: T0 + 90, usec: 0 });
  t.deepEqual(table.skipped, {});
  t.is(table.rows, 3);
});

test('record_type 0 is an empty row', async (t) => {
  const table = await readRows([{ file: 0, type: 0, start: T0, end: T0 + 5, from: 0, to: 4096 }]);
  t.deepEqual(table.records, []);
  t.deepEqual(table.skipped, { empty: 1 });
});

test('the open segment (end_offset 0, or no end time) is counted open, never listed', async (t) => {
  const table = await readRows([
    { file: 0, start: T0, end: T0 + 60, from: 0, to: MB },
    { file: 0, start: T0 + 61, end: 0, from: MB, to: 0 },
    { file: 1, start: T0 + 70, end: null, from: 0, to: 8192 },
  ]);
  t.deepEqual(spans(table.records), ['0/0:0-1048576']);
  t.deepEqual(table.skipped, { open: 2 });
});

test('a wrapped file: rows of the earlier cycle that the new cycle has reached are stale', async (t) => {
  // File 0 was written at T0 (three rows), then reused at T0+3600: its first new row overwrote the old ones from 0.
  const table = await readRows([
    { file: 0, start: T0, end: T0 + 60, from: 0, to: MB },
    { file: 0, start: T0 + 61, end: T0 + 120, from: MB, to: 2 * MB },
    { file: 0, start: T0 + 121, end: T0 + 180, from: 2 * MB, to: 3 * MB },
    { file: 0, start: T0 + 3600, end: T0 + 3660, from: 0, to: MB / 2 },
  ]);
  t.deepEqual(spans(table.records), ['0/0:0-524288']);
  t.deepEqual(table.skipped, { stale: 3 });
});

test('the open row of a new cycle makes the old rows of its file stale too', async (t) => {
  const table = await readRows([
    { file: 2, start: T0, end: T0 + 60, from: 0, to: MB },
    { file: 2, start: T0 + 9000, end: 0, from: 0, to: 0 },
  ]);
  t.deepEqual(table.records, []);
  t.deepEqual(table.skipped, { stale: 1, open: 1 });
});

test('a row overlapping a newer row of the same file is stale; other files are not affected', async (t) => {
  const table = await readRows([
    { file: 0, start: T0, end: T0 + 60, from: 0, to: 2 * MB }, // runs over the next row's start
    { file: 0, start: T0 + 61, end: T0 + 90, from: MB, to: 3 * MB },
    { file: 1, start: T0 + 10, end: T0 + 20, from: 0, to: 4 * MB }, // older than file 0's rows: another file
  ]);
  t.deepEqual(spans(table.records), ['0/0:1048576-3145728', '1/0:0-4194304']);
  t.deepEqual(table.skipped, { stale: 1 });
});

test('ranges: inside the real file only; a missing hiv file is missing-file', async (t) => {
  const table = await readRows(
    [
      { file: 0, start: T0, end: T0 + 60, from: 0, to: 4 * MB + 1 },
      { file: 1, start: T0, end: T0 + 60, from: 0, to: 4096 },
      { file: 7, start: T0, end: T0 + 60, from: 0, to: 4096 },
    ],
    new Map([[0, 4 * MB]]),
  );
  t.deepEqual(table.records, []);
  t.deepEqual(table.skipped, { 'short-file': 1, 'missing-file': 2 });
});

test('bad times and bad ranges are counted by reason', async (t) => {
  const table = await readRows([
    { file: 0, start: 0, end: T0, from: 0, to: 4096 }, // no start
    { file: 0, start: T0 + 50, end: T0 + 40, from: 4096, to: 8192 }, // ends before it starts
    { file: 0, start: T0 + 60, end: T0 + 70, from: 16384, to: 16384 }, // empty range
    { file: -1, start: T0 + 80, end: T0 + 90, from: 0, to: 4096 }, // no such file number
    { file: 0, start: T0 + 100, end: T0 + 110, from: -5, to: 4096 }, // negative offset
  ]);
  t.deepEqual(table.records, []);
  t.deepEqual(table.skipped, { 'bad-time': 2, 'bad-range': 3 });
});

test('text or NULL where numbers belong is counted, never thrown', async (t) => {
  const db = await open(
    await recordDatabase(
      [],
      `INSERT INTO record_segment_idx_tb (file_no, record_type, start_time_tv_sec, end_time_tv_sec, start_offset, end_offset)
       VALUES ('x', 1, ${T0}, ${T0 + 5}, 0, 4096), (0, NULL, ${T0}, ${T0 + 5}, 0, 4096), (0, 1, 'soon', ${T0}, 0, 4096),
              (0, 1, ${T0}, ${T0 + 5}, 0.5, 4096);`,
    ),
  );
  t.teardown(() => db.close());
  const table = readRecordDatabase(db, sizes(1));
  t.deepEqual(table.records, []);
  t.deepEqual(table.skipped, { 'bad-range': 2, empty: 1, 'bad-time': 1 });
});

test('same-second starts are two records with distinct ranges', async (t) => {
  const table = await readRows([
    { file: 0, start: T0, end: T0, from: 0, to: 8192 },
    { file: 0, start: T0, end: T0 + 30, from: 8192, to: MB },
  ]);
  t.deepEqual(spans(table.records), ['0/0:0-8192', '0/1:8192-1048576']);
  t.deepEqual(table.skipped, {});
});

test('a recording split across files: the last row of file N and row 0 of file N+1 are both records', async (t) => {
  const table = await readRows([
    { file: 0, start: T0, end: T0 + 100, from: 3 * MB, to: 4 * MB },
    { file: 1, start: T0 + 100, end: T0 + 130, from: 0, to: MB },
  ]);
  t.deepEqual(spans(table.records), ['0/0:3145728-4194304', '1/0:0-1048576']);
});

test('sub-second columns are used where a firmware has them', async (t) => {
  const db = await open(
    await buildDatabase(`
      CREATE TABLE record_segment_idx_tb (file_no INTEGER, record_type INTEGER, start_time_tv_sec INTEGER,
        start_time_tv_usec INTEGER, end_time_tv_sec INTEGER, end_time_tv_usec INTEGER, start_offset INTEGER,
        end_offset INTEGER);
      INSERT INTO record_segment_idx_tb VALUES (0, 1, ${T0}, 250000, ${T0 + 5}, 999999, 0, 4096);
      INSERT INTO record_segment_idx_tb VALUES (0, 1, ${T0 + 6}, 1000000, ${T0 + 7}, 0, 4096, 8192);`),
  );
  t.teardown(() => db.close());
  const table = readRecordDatabase(db, sizes(1));
  t.deepEqual(
    table.records.map((r) => [r.start, r.end]),
    [
      [
        { sec: T0, usec: 250000 },
        { sec: T0 + 5, usec: 999999 },
      ],
    ],
  );
  t.deepEqual(table.skipped, { 'bad-time': 1 });
});

test('an unknown schema is refused by name, saying what the database holds', async (t) => {
  const db = await open(
    await buildDatabase(`CREATE TABLE seg_tb (file INTEGER, t0 INTEGER); INSERT INTO seg_tb VALUES (1, 2);
      CREATE TABLE record_segment_idx_tb (file_no INTEGER, start_offset INTEGER);`),
  );
  t.teardown(() => db.close());
  const err = t.throws(() => readRecordDatabase(db, sizes(1)), { instanceOf: UnsupportedFormatError });
  t.regex(err.message, /record database layout not supported yet/);
  t.regex(err.message, /seg_tb \(1 rows: file, t0\)/);
  t.regex(err.message, /record_segment_idx_tb \(0 rows: file_no, start_offset\)/);
});

test('pictures: every event table with file_no, trigger_time, pic_offset_0, pic_len_0', async (t) => {
  const db = await open(
    await buildDatabase(`
      CREATE TABLE event_id (id INTEGER, name TEXT);
      CREATE TABLE MotionDetectTB (file_no INTEGER, trigger_time INTEGER, pic_offset_0 INTEGER, pic_len_0 INTEGER);
      CREATE TABLE LineCrossCaptureTable (id INTEGER PRIMARY KEY, file_no INTEGER, trigger_time INTEGER,
        pic_offset_0 INTEGER, pic_len_0 INTEGER, pic_offset_1 INTEGER, pic_len_1 INTEGER);
      INSERT INTO MotionDetectTB VALUES (0, ${T0}, 0, 30000), (0, ${T0 + 10}, 30000, 25000), (0, ${T0 + 20}, 55000, 0);
      INSERT INTO LineCrossCaptureTable (file_no, trigger_time, pic_offset_0, pic_len_0) VALUES
        (1, ${T0 + 5}, 0, 20000), (0, ${T0 + 10}, 30000, 25000), (1, 0, 20000, 100), (3, ${T0}, 0, 100);`),
  );
  t.teardown(() => db.close());
  const table = readEventDatabase(db, sizes(2, MB));
  t.deepEqual(spans(table.records), ['0/0:0-30000', '0/1:30000-55000', '1/0:0-20000']);
  t.deepEqual(
    table.records.map((r) => r.start.sec - T0),
    [0, 10, 5],
  );
  t.true(table.records.every((r) => r.start.sec === r.end.sec));
  // The JPEG listed by two tables is one picture; a zero length is empty; no time is bad-time; file 3 is missing.
  t.deepEqual(table.skipped, { stale: 1, empty: 1, 'bad-time': 1, 'missing-file': 1 });
  t.deepEqual(table.tables.sort(), ['LineCrossCaptureTable', 'MotionDetectTB']);
});

test('pictures: an event database without such a table says the layout is not supported yet', async (t) => {
  const db = await open(
    await buildDatabase(`CREATE TABLE pic_segment_idx_tb (segment_id INTEGER, start_time INTEGER, end_time INTEGER,
      start_offset INTEGER, end_offset INTEGER, pic_type INTEGER);`),
  );
  t.teardown(() => db.close());
  const err = t.throws(() => readEventDatabase(db, sizes(1)), { instanceOf: UnsupportedFormatError });
  t.regex(err.message, /^pictures: layout not supported yet/);
  t.regex(err.message, /pic_segment_idx_tb/);
});

test('a torn copy is refused when opened (quick_check), not read as fewer rows', async (t) => {
  const bytes = await recordDatabase(
    Array.from({ length: 400 }, (_, i) => ({
      file: 0,
      start: T0 + i,
      end: T0 + i + 1,
      from: i * 4096,
      to: (i + 1) * 4096,
    })),
  );
  const torn = Buffer.from(bytes);
  torn.fill(0x5a, 4096, 4096 + 3000); // a page half-overwritten while it was copied
  const SQL = await initSqlJs();
  t.throws(() => openDatabase(SQL, torn));
  t.notThrows(() => openDatabase(SQL, bytes).close());
});
