/**
 * Test-only SQLite databases, built with SQL in the tests themselves (never with the synthetic writer, so the reader
 * and a writer cannot share a misreading of the schema). sql.js is used directly here.
 */
import initSqlJs from 'sql.js';

/** The record table as public readers of real cameras query it, plus columns a camera may have around them. */
export const RECORD_SCHEMA = `
  CREATE TABLE record_segment_idx_tb (
    segment_id INTEGER PRIMARY KEY, file_no INTEGER, channel INTEGER DEFAULT 1, record_type INTEGER,
    start_time_tv_sec INTEGER, end_time_tv_sec INTEGER, start_offset INTEGER, end_offset INTEGER,
    lock_flag INTEGER DEFAULT 0);
  CREATE TABLE record_file_idx_tb (file_no INTEGER PRIMARY KEY, channel INTEGER, start_time INTEGER, end_time INTEGER);
  CREATE TABLE record_db_version_tb (version INTEGER);
  INSERT INTO record_db_version_tb VALUES (1);`;

export interface Row {
  file: number;
  type?: number;
  start: number;
  end: number | null;
  from: number;
  to: number | null;
}

export const T0 = 1_714_550_400; // 2024-05-01T08:00:00 camera time

/** INSERT statements for rows, in the order given (rowid = insertion order). */
export function insertRows(rows: readonly Row[]): string {
  return rows
    .map(
      (r) =>
        `INSERT INTO record_segment_idx_tb (file_no, record_type, start_time_tv_sec, end_time_tv_sec, start_offset, end_offset) ` +
        `VALUES (${r.file}, ${r.type ?? 1}, ${r.start}, ${r.end ?? 'NULL'}, ${r.from}, ${r.to ?? 'NULL'});`,
    )
    .join('\n');
}

/** A database file's bytes after running `sql`. */
export async function buildDatabase(sql: string): Promise<Buffer> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  try {
    db.exec(sql);
    return Buffer.from(db.export());
  } finally {
    db.close();
  }
}

/** A record database with `rows`. */
export function recordDatabase(rows: readonly Row[], extra = ''): Promise<Buffer> {
  return buildDatabase(RECORD_SCHEMA + insertRows(rows) + extra);
}
