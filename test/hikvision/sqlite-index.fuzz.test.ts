/**
 * Property tests of the SQLite row rules: random rows (small value ranges, so stale rows, overlaps, open rows and
 * bad values are common) never throw, every row is either a record or a counted skip, and what is listed is sound:
 * inside the real file, a forward range, no two records of one file overlapping, one slot per record.
 */
import test from 'ava';
import fc from 'fast-check';
import initSqlJs from 'sql.js';
import { openDatabase } from '../../lib/hikvision/sqlite-engine.js';
import { readRecordDatabase } from '../../lib/hikvision/sqlite-index.js';
import { fuzzParams } from '../helpers/fuzz.js';
import { insertRows, RECORD_SCHEMA, T0 } from './sqlite-db.js';

const SIZES = new Map([
  [0, 40_000],
  [1, 40_000],
  [2, 10_000],
]);

/** Mostly plausible rows (so that stale and overlapping records are common), some with bad values. */
const row = fc
  .record({
    file: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 2 }), weight: 9 },
      { arbitrary: fc.constantFrom(-1, 3), weight: 1 },
    ),
    type: fc.oneof({ arbitrary: fc.constant(1), weight: 9 }, { arbitrary: fc.constant(0), weight: 1 }),
    start: fc.oneof(
      { arbitrary: fc.integer({ min: T0, max: T0 + 50 }), weight: 9 },
      { arbitrary: fc.constant(0), weight: 1 },
    ),
    length: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 60 }), weight: 8 },
      { arbitrary: fc.constantFrom(-5, null), weight: 2 },
    ),
    from: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 40_000 }), weight: 9 },
      { arbitrary: fc.constant(-10), weight: 1 },
    ),
    bytes: fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: 20_000 }), weight: 8 },
      { arbitrary: fc.constantFrom(0, -1, null), weight: 2 },
    ),
  })
  .map((r) => ({
    file: r.file,
    type: r.type,
    start: r.start,
    end: r.length === null ? null : r.start + r.length,
    from: r.from,
    to: r.bytes === null ? null : r.from + r.bytes,
  }));

test('random rows: every row is a record or a counted skip, and the records are sound', async (t) => {
  const SQL = await initSqlJs();
  fc.assert(
    fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
      const build = new SQL.Database();
      build.exec(RECORD_SCHEMA + insertRows(rows));
      const db = openDatabase(SQL, build.export());
      build.close();
      try {
        const table = readRecordDatabase(db, SIZES);
        const skipped = Object.values(table.skipped).reduce((a, b) => a + (b ?? 0), 0);
        if (table.records.length + skipped !== rows.length) return false;
        const byFile = new Map<number, typeof table.records>();
        for (const r of table.records) {
          const size = SIZES.get(r.fileNo);
          if (size === undefined || r.endOffset > size || r.startOffset < 0 || r.endOffset <= r.startOffset)
            return false;
          if (r.end.sec < r.start.sec || r.start.sec <= 0) return false;
          byFile.set(r.fileNo, [...(byFile.get(r.fileNo) ?? []), r]);
        }
        for (const recs of byFile.values()) {
          recs.sort((a, b) => a.startOffset - b.startOffset);
          for (let i = 1; i < recs.length; i++) if (recs[i]!.startOffset < recs[i - 1]!.endOffset) return false;
          if (new Set(recs.map((r) => r.slot)).size !== recs.length) return false;
        }
        return true;
      } finally {
        db.close();
      }
    }),
    fuzzParams(0.25),
  );
  t.pass();
});
