/**
 * SQLite index databases made by hand in tests, with SQL through sql.js (not with a writer the code under test
 * shares): tables named as public readers of real cameras name them, rows as given.
 */
import { buildDatabase } from '../hikvision/sqlite-db.js';

/** A record_db_index00-like database: 3 segments, 2 files, a version table. */
export const RECORD_DB_SQL = `
  CREATE TABLE record_segment_idx_tb (file_no INTEGER, start_offset INTEGER, end_offset INTEGER,
    start_time_tv_sec INTEGER, end_time_tv_sec INTEGER, record_type INTEGER);
  CREATE INDEX seg_by_file ON record_segment_idx_tb (file_no);
  CREATE TABLE record_file_idx_tb (file_no INTEGER PRIMARY KEY, start_time INTEGER, end_time INTEGER);
  CREATE TABLE "record_db_version_tb" (version TEXT);
  INSERT INTO record_segment_idx_tb VALUES (0, 0, 4096, 1700000000, 1700000060, 1),
    (0, 4096, 8192, 1700000060, 1700000120, 1), (1, 0, 0, 1700000120, 0, 1);
  INSERT INTO record_file_idx_tb VALUES (0, 1700000000, 1700000120), (1, 1700000120, 0);
  INSERT INTO record_db_version_tb VALUES ('1.0');
`;

/** A database file's bytes after running `sql` (the one builder the SQLite tests share). */
export const sqliteDb = buildDatabase;
