/**
 * The SQLite engine (sql.js: SQLite compiled to WebAssembly, from the npm registry alone, the same on Node 20/22/24,
 * amd64 and arm64; see docs/sqlite-index.md). Loaded lazily, the first time a camera has a SQLite index: a share of
 * binary-index cameras never loads it, and neither do the worker threads (their re-check reads 100 bytes of the
 * database header, never SQL).
 */
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';

export type Row = Record<string, SqlValue>;

/** A database opened from bytes in memory: what the index readers need of it. */
export interface SqlDb {
  /** Every row of a query, as column -> value. */
  all(sql: string): Row[];
  close(): void;
}

let engine: Promise<SqlJsStatic> | undefined;

/** The sql.js module, initialised once per process (about 1 MB of WebAssembly). */
export function loadSqlEngine(): Promise<SqlJsStatic> {
  engine ??= import('sql.js')
    .then((m) => m.default())
    .catch((err: unknown) => {
      engine = undefined; // a failed load is tried again next time
      throw err;
    });
  return engine;
}

/** Whether the engine was loaded in this process (tests: binary-only scans must not load it). */
export function sqlEngineLoaded(): boolean {
  return engine !== undefined;
}

function wrap(db: Database): SqlDb {
  return {
    all(sql) {
      const out: Row[] = [];
      const stmt = db.prepare(sql);
      try {
        while (stmt.step()) out.push(stmt.getAsObject());
      } finally {
        stmt.free();
      }
      return out;
    },
    close: () => db.close(),
  };
}

/**
 * Open database bytes (a private copy) and check them: `PRAGMA quick_check` must say ok, so a torn copy is refused
 * here rather than read as fewer rows. Throws on anything else (the caller takes a new copy).
 */
export function openDatabase(SQL: SqlJsStatic, bytes: Uint8Array): SqlDb {
  const db = wrap(new SQL.Database(bytes));
  try {
    const check = db.all('PRAGMA quick_check');
    const verdict = check.map((r) => String(Object.values(r)[0])).join('; ');
    if (verdict !== 'ok') throw new Error(`quick_check: ${verdict.slice(0, 200)}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
