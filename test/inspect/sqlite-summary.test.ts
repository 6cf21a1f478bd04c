import test from 'ava';
import { formatSqliteSummary, summarizeSqlite } from '../../lib/inspect/sqlite-summary.js';
import { RECORD_DB_SQL, sqliteDb } from './sqlite.js';

test('every table with its row count, indexes with their table, the CREATE statements', async (t) => {
  const bytes = await sqliteDb(RECORD_DB_SQL);
  const before = Buffer.from(bytes);
  const s = await summarizeSqlite(bytes);
  t.is(s.error, undefined);
  const tables = Object.fromEntries(s.objects.filter((o) => o.type === 'table').map((o) => [o.name, o.rows]));
  t.deepEqual(tables, { record_db_version_tb: 1, record_file_idx_tb: 2, record_segment_idx_tb: 3 });
  const index = s.objects.find((o) => o.type === 'index' && o.name === 'seg_by_file');
  t.is(index?.table, 'record_segment_idx_tb');
  t.regex(s.objects.find((o) => o.name === 'record_segment_idx_tb')!.sql!, /start_time_tv_sec INTEGER/);
  t.is(s.pageSize, 4096);
  t.true(bytes.equals(before), "the caller's bytes are not changed");

  const text = formatSqliteSummary('datadir0/record_db_index00', s);
  t.regex(text, /^# datadir0\/record_db_index00\n/);
  t.regex(text, /table record_segment_idx_tb: 3 rows\nCREATE TABLE record_segment_idx_tb/);
  t.regex(text, /index seg_by_file on record_segment_idx_tb\n/);
});

test('a table name that needs quoting is counted; an empty per-event table counts 0 rows', async (t) => {
  const bytes = await sqliteDb(`
    CREATE TABLE "odd ""name""" (x); INSERT INTO "odd ""name""" VALUES (1), (2);
    CREATE TABLE MotionDetectTB (file_no, trigger_time, pic_offset_0, pic_len_0);
  `);
  const s = await summarizeSqlite(bytes);
  t.is(s.objects.find((o) => o.name === 'odd "name"')?.rows, 2);
  t.is(s.objects.find((o) => o.name === 'MotionDetectTB')?.rows, 0);
});

test('bytes that are no database, or a cut-off database, are an error line, not a crash', async (t) => {
  const junk = await summarizeSqlite(Buffer.from('not a database at all, just some text '.repeat(10)));
  t.regex(junk.error ?? '', /not a readable SQLite database/);
  t.deepEqual(junk.objects, []);

  const whole = await sqliteDb(RECORD_DB_SQL);
  const cut = await summarizeSqlite(whole.subarray(0, 100));
  t.true(cut.error !== undefined || cut.objects.length === 0, JSON.stringify(cut));

  const header = Buffer.from(whole.subarray(0, 4096));
  header.fill(0xee, 100); // a valid header over a garbage first page
  const bad = await summarizeSqlite(header);
  t.regex(bad.error ?? '', /not a readable SQLite database/);
});
