/**
 * The SQLite indexes of firmware 5.5+ for a simulated camera: `record_db_index00` (table `record_segment_idx_tb`)
 * and `event_db_index00` (per-event picture tables), written from the same slots the binary index would hold. Written
 * here from the public description of the schema (../shared/docs/hikvision-storage.md section 1), independently of
 * the reader in lib/hikvision; only whole seconds are stored (sub-second starts are unknown for these databases).
 */
import initSqlJs from 'sql.js';
import type { SlotEntry } from './index-writer.js';
import type { PlannedPicture } from './pictures.js';

/** What the camera keeps besides the segment rows (public readers name these tables; their columns are a guess). */
const RECORD_SCHEMA = `
  CREATE TABLE record_db_version_tb (version INTEGER);
  INSERT INTO record_db_version_tb VALUES (1);
  CREATE TABLE record_file_idx_tb (file_no INTEGER PRIMARY KEY, channel INTEGER, start_time_tv_sec INTEGER,
    end_time_tv_sec INTEGER, status INTEGER);
  CREATE TABLE record_segment_idx_tb (segment_id INTEGER PRIMARY KEY AUTOINCREMENT, file_no INTEGER,
    channel INTEGER, record_type INTEGER, start_time_tv_sec INTEGER, end_time_tv_sec INTEGER,
    start_offset INTEGER, end_offset INTEGER, lock_flag INTEGER);`;

const EVENT_SCHEMA = `
  CREATE TABLE event_db_version_tb (version INTEGER);
  INSERT INTO event_db_version_tb VALUES (1);
  CREATE TABLE event_id (event_type INTEGER, table_name TEXT);
  INSERT INTO event_id VALUES (1, 'MotionDetectTB');
  CREATE TABLE MotionDetectTB (id INTEGER PRIMARY KEY AUTOINCREMENT, channel INTEGER, file_no INTEGER,
    trigger_time INTEGER, pic_offset_0 INTEGER, pic_len_0 INTEGER);`;

/** record_type of a continuous recording (any non-zero value is a recording for the readers). */
export const SQLITE_RECORD_TYPE = 1;

async function build(schema: string, fill: (run: (sql: string, params: number[]) => void) => void): Promise<Buffer> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  try {
    db.exec(schema);
    db.exec('BEGIN');
    fill((sql, params) => db.run(sql, params));
    db.exec('COMMIT');
    return Buffer.from(db.export());
  } finally {
    db.close();
  }
}

/**
 * A record database listing `slots` (closed, open and, when the camera keeps them, stale ones) in the order the
 * camera wrote them: by start time, so the rowids grow like a camera's inserts.
 */
export function buildRecordDatabase(slots: readonly SlotEntry[]): Promise<Buffer> {
  const ordered = [...slots].sort(
    (a, b) =>
      a.record.start.sec - b.record.start.sec || a.record.start.usec - b.record.start.usec || a.fileNo - b.fileNo,
  );
  return build(RECORD_SCHEMA, (run) => {
    const files = new Map<number, { start: number; end: number }>();
    for (const s of ordered) {
      const r = s.record;
      run(
        `INSERT INTO record_segment_idx_tb (file_no, channel, record_type, start_time_tv_sec, end_time_tv_sec,
           start_offset, end_offset, lock_flag) VALUES (?, 1, ?, ?, ?, ?, ?, 0)`,
        [s.fileNo, SQLITE_RECORD_TYPE, r.start.sec, r.end.sec, r.startOffset, r.endOffset],
      );
      const f = files.get(s.fileNo);
      files.set(s.fileNo, { start: f?.start ?? r.start.sec, end: Math.max(f?.end ?? 0, r.end.sec) });
    }
    for (const [fileNo, f] of files)
      run(
        `INSERT INTO record_file_idx_tb (file_no, channel, start_time_tv_sec, end_time_tv_sec, status)
         VALUES (?, 1, ?, ?, 0)`,
        [fileNo, f.start, f.end],
      );
  });
}

/** An event database listing every picture once, in MotionDetectTB (file_no, trigger_time, pic_offset_0, pic_len_0). */
export function buildEventDatabase(pictures: readonly PlannedPicture[]): Promise<Buffer> {
  return build(EVENT_SCHEMA, (run) => {
    for (const p of pictures)
      run(
        `INSERT INTO MotionDetectTB (channel, file_no, trigger_time, pic_offset_0, pic_len_0) VALUES (1, ?, ?, ?, ?)`,
        [p.fileNo, p.time.sec, p.startOffset, p.endOffset - p.startOffset],
      );
  });
}
