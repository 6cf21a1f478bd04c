/**
 * The schema and row counts of a SQLite index database, for the diagnostic bundle. The bytes are a private copy in
 * memory (sql.js: SQLite compiled to WebAssembly, no native module, no file next to the camera's): nothing is ever
 * written to the share, and the copy is queried only (`PRAGMA query_only`). sql.js is loaded on first use, so the
 * commands that never summarise a database do not pay for the WebAssembly module.
 *
 * The database is untrusted input: a malformed file, a table that cannot be counted (a virtual table of a module
 * sql.js lacks) or too many tables each become a line in the result, never a crash.
 */
import type { SqlJsStatic } from 'sql.js';

/** Tables counted at most (an event database has a table per event kind: dozens, not thousands). */
export const MAX_TABLES_COUNTED = 1000;
/** Schema objects listed at most. */
export const MAX_SCHEMA_OBJECTS = 5000;

export interface SchemaObject {
  type: string;
  name: string;
  table: string;
  /** The CREATE statement (null for SQLite's automatic indexes). */
  sql: string | null;
  /** Tables only: the number of rows, or why it could not be counted. */
  rows?: number;
  error?: string;
}

export interface SqliteSummary {
  /** From the database header: page size and the file change counter the writer bumps on every transaction. */
  pageSize?: number;
  changeCounter?: number;
  objects: SchemaObject[];
  /** Why the database could not be read at all. */
  error?: string;
  /** Caps that cut the summary short. */
  notes: string[];
}

let sqlJs: Promise<SqlJsStatic> | undefined;

/** sql.js, loaded once on first use. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= import('sql.js')
    .then((m) => m.default())
    .catch((err: unknown) => {
      sqlJs = undefined;
      throw err;
    });
  return sqlJs;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Schema and row counts of the database in `bytes` (the bytes are copied; `bytes` is not changed). */
export async function summarizeSqlite(bytes: Uint8Array): Promise<SqliteSummary> {
  const out: SqliteSummary = { objects: [], notes: [] };
  if (bytes.length >= 100) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ps = v.getUint16(16);
    out.pageSize = ps === 1 ? 65536 : ps;
    out.changeCounter = v.getUint32(24);
  }
  const SQL = await loadSqlJs();
  let db;
  try {
    // sql.js copies the bytes into its own in-memory file system: the caller's buffer stays as read.
    db = new SQL.Database(Uint8Array.from(bytes));
  } catch (err) {
    out.error = `not a readable SQLite database: ${message(err)}`;
    return out;
  }
  try {
    db.exec('PRAGMA query_only = ON');
    const res = db.exec(
      `SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name LIMIT ${MAX_SCHEMA_OBJECTS + 1}`,
    );
    const rows = res[0]?.values ?? [];
    if (rows.length > MAX_SCHEMA_OBJECTS) {
      out.notes.push(
        `the schema lists more than ${MAX_SCHEMA_OBJECTS} objects: the first ${MAX_SCHEMA_OBJECTS} are here`,
      );
      rows.length = MAX_SCHEMA_OBJECTS;
    }
    let counted = 0;
    for (const [type, name, table, sql] of rows) {
      const obj: SchemaObject = {
        type: String(type),
        name: String(name),
        table: String(table),
        sql: sql === null || sql === undefined ? null : String(sql),
      };
      out.objects.push(obj);
      if (obj.type !== 'table') continue;
      if (counted >= MAX_TABLES_COUNTED) {
        obj.error = `not counted: more than ${MAX_TABLES_COUNTED} tables`;
        continue;
      }
      counted++;
      try {
        const n = db.exec(`SELECT count(*) FROM ${quoteIdent(obj.name)}`)[0]?.values[0]?.[0];
        obj.rows = Number(n);
      } catch (err) {
        obj.error = message(err);
      }
    }
  } catch (err) {
    out.error = `not a readable SQLite database: ${message(err)}`;
  } finally {
    db.close();
  }
  return out;
}

/** The summary as text: one block per schema object, its rows, then the CREATE statement. */
export function formatSqliteSummary(file: string, s: SqliteSummary): string {
  const lines = [`# ${file}`];
  if (s.pageSize !== undefined) lines.push(`page size ${s.pageSize}, file change counter ${s.changeCounter}`);
  if (s.error) lines.push(`error: ${s.error}`);
  for (const n of s.notes) lines.push(`note: ${n}`);
  for (const o of s.objects) {
    const rows =
      o.type === 'table' ? (o.rows !== undefined ? `: ${o.rows} rows` : `: rows not counted (${o.error})`) : '';
    lines.push('', `${o.type} ${o.name}${o.table !== o.name ? ` on ${o.table}` : ''}${rows}`);
    if (o.sql) lines.push(o.sql);
  }
  return lines.join('\n') + '\n';
}
