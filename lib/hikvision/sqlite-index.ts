/**
 * The SQLite indexes of newer firmware (5.5+): `record_db_index00/01` (video, table `record_segment_idx_tb`) and
 * `event_db_index00/01` (pictures, per-event tables with `file_no, trigger_time, pic_offset_0, pic_len_0`), turned
 * into the same records the binary readers give, with every row not taken counted by reason. Pure: an open database
 * (lib/hikvision/sqlite-engine.ts) and the hiv file sizes in, records and skip counts out.
 *
 * No public sample database exists, so these rules assume the worst (see lib/hikvision/README.md):
 * - the camera may keep the rows of a hiv file it reuses (stale rows over overwritten bytes, as the binary index
 *   keeps stale slots): a row is stale when a NEWER row of the same file (later start; same start: larger offset)
 *   starts before its end. A camera writes a hiv file front to back, so a newer row starting before this one's end
 *   means a new cycle has begun in that file and overwrites (or will overwrite) its bytes;
 * - sub-second starts are unknown: a `start_time_tv_usec` / `end_time_tv_usec` column is used where present, else
 *   the microseconds are 0 (recordings that start in the same second still get distinct ids: the id holds the file
 *   and the byte range; names get the same-second suffix);
 * - the time columns hold the camera's local wall clock, like the binary index (what public readers assume).
 */
import { LimitExceededError, UnsupportedFormatError } from '../errors.js';
import { MAX_AV_FILES } from './index-header.js';
import type { Row, SqlDb } from './sqlite-engine.js';
import { addSkip, USEC_PER_SEC, type IndexedRecord } from './slot-rules.js';
import type { SkipCounts, SkipReason } from './types.js';

export const RECORD_TABLE = 'record_segment_idx_tb';
export const RECORD_COLUMNS = [
  'file_no',
  'start_offset',
  'end_offset',
  'start_time_tv_sec',
  'end_time_tv_sec',
  'record_type',
] as const;
/** Optional sub-second columns (not seen in public readers; used when a firmware has them). */
export const USEC_COLUMNS = ['start_time_tv_usec', 'end_time_tv_usec'] as const;
export const PICTURE_COLUMNS = ['file_no', 'trigger_time', 'pic_offset_0', 'pic_len_0'] as const;
/** How a user can send us a layout we do not know (the command is `hiksync inspect`). */
export const BUNDLE_HINT =
  'to help add it, attach the output of `hiksync inspect <folder> --bundle FILE` to a bug report';
/** Rows read from one database at most: a real camera has a few thousand (one per segment or picture). */
export const MAX_ROWS = 2_000_000;
/** A JPEG larger than this in a .pic file is not a camera picture. */
export const MAX_PICTURE_BYTES = 64 * 1024 * 1024;

export interface TableInfo {
  name: string;
  columns: string[];
  rows: number;
}

export interface SqliteTable {
  records: IndexedRecord[];
  skipped: SkipCounts;
  /** Rows looked at (every one is a record or a counted skip). */
  rows: number;
  /** The tables the records came from. */
  tables: string[];
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Every table with its columns and row count (also what an error about an unknown schema shows). */
export function listTables(db: SqlDb): TableInfo[] {
  const names = db
    .all(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
    .map((r) => String(r.name));
  return names.map((name) => {
    const columns = db.all(`PRAGMA table_info(${quote(name)})`).map((r) => String(r.name).toLowerCase());
    const rows = Number(db.all(`SELECT count(*) AS n FROM ${quote(name)}`)[0]?.n ?? 0);
    return { name, columns, rows };
  });
}

/** "a(3 rows: x, y), b(0 rows: z)": what a database holds, for an error message. */
export function describeTables(tables: readonly TableInfo[], max = 12): string {
  if (tables.length === 0) return 'no tables';
  const shown = tables.slice(0, max).map((t) => `${t.name} (${t.rows} rows: ${t.columns.join(', ')})`);
  return shown.join('; ') + (tables.length > max ? `; and ${tables.length - max} more tables` : '');
}

const hasColumns = (t: TableInfo, cols: readonly string[]) => cols.every((c) => t.columns.includes(c));

/** Selects every row with its rowid when the table has one (WITHOUT ROWID tables give 0). */
function selectRows(db: SqlDb, table: TableInfo, columns: readonly string[]): Row[] {
  if (table.rows > MAX_ROWS) throw new LimitExceededError(`rows in ${table.name}`, table.rows, MAX_ROWS);
  const cols = columns.map(quote).join(', ');
  try {
    return db.all(`SELECT rowid AS hiksync_rowid, ${cols} FROM ${quote(table.name)}`);
  } catch {
    return db.all(`SELECT 0 AS hiksync_rowid, ${cols} FROM ${quote(table.name)}`);
  }
}

/** A row as numbers; NaN for anything that is not an integer (NULL, text, a real). */
function int(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : NaN;
}

/** A row that passed the per-row checks far enough to take part in the stale rule. */
interface Candidate {
  fileNo: number;
  rowid: number;
  startSec: number;
  startUsec: number;
  endSec: number;
  endUsec: number;
  startOffset: number;
  endOffset: number;
  /** Why it cannot be a record even if it is not stale ('open', 'bad-time', 'bad-range'), or undefined. */
  verdict?: SkipReason;
}

/** Newer = later start; the same start: the larger offset (written after), then the larger rowid. */
function compareAge(a: Candidate, b: Candidate): number {
  return a.startSec - b.startSec || a.startUsec - b.startUsec || a.startOffset - b.startOffset || a.rowid - b.rowid;
}

/**
 * The rules shared by video and pictures, over the candidates of every file: stale rows (a newer row of the same
 * file starts before their end), then the verdicts of the per-row checks, then the file: missing, or too short.
 */
function judgeCandidates(
  candidates: Candidate[],
  sizes: ReadonlyMap<number, number>,
  records: IndexedRecord[],
  skipped: SkipCounts,
): void {
  const byFile = new Map<number, Candidate[]>();
  for (const c of candidates) {
    let list = byFile.get(c.fileNo);
    if (!list) byFile.set(c.fileNo, (list = []));
    list.push(c);
  }
  for (const [fileNo, list] of [...byFile].sort((a, b) => a[0] - b[0])) {
    list.sort(compareAge);
    // From the newest down: the lowest start offset of every newer row. A row ending after it is overwritten.
    let newerStart = Infinity;
    const current: Candidate[] = [];
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      const end = Math.max(c.endOffset, c.startOffset + 1); // an open row (end 0) still occupies its start
      if (newerStart < end) addSkip(skipped, 'stale');
      else current.push(c);
      newerStart = Math.min(newerStart, c.startOffset);
    }
    // The rows of the file's current cycle, in byte order: a row's place there is its slot (stable while the camera
    // appends to the file; a new cycle changes the rows anyway).
    current.sort((a, b) => a.startOffset - b.startOffset || compareAge(a, b));
    const fileSize = sizes.get(fileNo);
    current.forEach((c, slot) => {
      if (c.verdict) addSkip(skipped, c.verdict);
      else if (fileSize === undefined) addSkip(skipped, 'missing-file');
      else if (c.endOffset > fileSize) addSkip(skipped, 'short-file');
      else
        records.push({
          fileNo,
          slot,
          start: { sec: c.startSec, usec: c.startUsec },
          end: { sec: c.endSec, usec: c.endUsec },
          startOffset: c.startOffset,
          endOffset: c.endOffset,
        });
    });
  }
}

/** File number, start time and start offset: what a row needs to take part in the stale rule; else its skip. */
function basics(fileNo: number, startSec: number, startUsec: number, startOffset: number): SkipReason | undefined {
  if (!(fileNo >= 0 && fileNo < MAX_AV_FILES)) return 'bad-range';
  if (!(startSec > 0) || !(startUsec >= 0 && startUsec < USEC_PER_SEC)) return 'bad-time';
  if (!(startOffset >= 0)) return 'bad-range';
  return undefined;
}

/**
 * The video rows of a record database. Throws UnsupportedFormatError (naming what the database holds) when it has
 * no `record_segment_idx_tb` with the known columns. `hivSizes`: fileNo -> real size of hivNNNNN.mp4.
 */
export function readRecordDatabase(db: SqlDb, hivSizes: ReadonlyMap<number, number>): SqliteTable {
  const tables = listTables(db);
  const table = tables.find((t) => t.name.toLowerCase() === RECORD_TABLE && hasColumns(t, RECORD_COLUMNS));
  if (!table) {
    throw new UnsupportedFormatError(
      `record database layout not supported yet: no table ${RECORD_TABLE}(${RECORD_COLUMNS.join(', ')}); it holds ${describeTables(tables)}; ${BUNDLE_HINT}`,
    );
  }
  const withUsec = hasColumns(table, USEC_COLUMNS);
  const rows = selectRows(db, table, withUsec ? [...RECORD_COLUMNS, ...USEC_COLUMNS] : RECORD_COLUMNS);
  const skipped: SkipCounts = {};
  const candidates: Candidate[] = [];
  for (const r of rows) {
    const type = int(r.record_type);
    if (!(type !== 0 && !Number.isNaN(type))) {
      addSkip(skipped, 'empty');
      continue;
    }
    const c: Candidate = {
      fileNo: int(r.file_no),
      rowid: int(r.hiksync_rowid) || 0,
      startSec: int(r.start_time_tv_sec),
      startUsec: withUsec ? int(r.start_time_tv_usec) : 0,
      endSec: r.end_time_tv_sec === null ? 0 : int(r.end_time_tv_sec),
      endUsec: withUsec ? (r.end_time_tv_usec === null ? 0 : int(r.end_time_tv_usec)) : 0,
      startOffset: int(r.start_offset),
      endOffset: r.end_offset === null ? 0 : int(r.end_offset),
    };
    const basic = basics(c.fileNo, c.startSec, c.startUsec, c.startOffset);
    if (basic) {
      addSkip(skipped, basic);
      continue;
    }
    if (c.endOffset === 0 || c.endSec === 0) c.verdict = 'open';
    else if (!(c.endSec > 0) || !(c.endUsec >= 0 && c.endUsec < USEC_PER_SEC)) c.verdict = 'bad-time';
    else if (c.endSec < c.startSec || (c.endSec === c.startSec && c.endUsec < c.startUsec)) c.verdict = 'bad-time';
    else if (!(c.endOffset > c.startOffset)) c.verdict = 'bad-range';
    candidates.push(c);
  }
  const records: IndexedRecord[] = [];
  judgeCandidates(candidates, hivSizes, records, skipped);
  return { records, skipped, rows: rows.length, tables: [table.name] };
}

/** The tables of an event database that list pictures with the known columns. */
export function pictureTables(tables: readonly TableInfo[]): TableInfo[] {
  return tables.filter((t) => hasColumns(t, PICTURE_COLUMNS));
}

/**
 * The pictures of an event database: every table with `file_no, trigger_time, pic_offset_0, pic_len_0` (the
 * per-event tables: MotionDetectTB, LineCrossCaptureTable, faceSnapDB, ...). A picture is the JPEG at
 * [pic_offset_0, pic_offset_0 + pic_len_0) of hivNNNNN.pic, taken at trigger_time (start = end). The same JPEG
 * listed by two tables is one picture (the other copy counts 'stale'). Throws UnsupportedFormatError
 * ("pictures: layout not supported yet", naming what the database holds) when no table has those columns.
 */
export function readEventDatabase(db: SqlDb, picSizes: ReadonlyMap<number, number>): SqliteTable {
  const tables = listTables(db);
  const usable = pictureTables(tables);
  if (usable.length === 0) {
    throw new UnsupportedFormatError(
      `pictures: layout not supported yet: no table with ${PICTURE_COLUMNS.join(', ')}; the event database holds ${describeTables(tables)}; ${BUNDLE_HINT}`,
    );
  }
  const skipped: SkipCounts = {};
  const candidates: Candidate[] = [];
  let total = 0;
  for (const table of usable) {
    const rows = selectRows(db, table, PICTURE_COLUMNS);
    total += rows.length;
    if (total > MAX_ROWS) throw new LimitExceededError('picture rows', total, MAX_ROWS);
    for (const r of rows) {
      const len = int(r.pic_len_0);
      if (!(len > 0)) {
        addSkip(skipped, r.pic_len_0 === null || len === 0 ? 'empty' : 'bad-range');
        continue;
      }
      const sec = int(r.trigger_time);
      const c: Candidate = {
        fileNo: int(r.file_no),
        rowid: int(r.hiksync_rowid) || 0,
        startSec: sec,
        startUsec: 0,
        endSec: sec,
        endUsec: 0,
        startOffset: int(r.pic_offset_0),
        endOffset: int(r.pic_offset_0) + len,
      };
      const basic = basics(c.fileNo, c.startSec, 0, c.startOffset);
      if (basic) {
        addSkip(skipped, basic);
        continue;
      }
      if (len > MAX_PICTURE_BYTES) c.verdict = 'bad-range';
      candidates.push(c);
    }
  }
  const records: IndexedRecord[] = [];
  judgeCandidates(candidates, picSizes, records, skipped);
  return { records, skipped, rows: total, tables: usable.map((t) => t.name) };
}
