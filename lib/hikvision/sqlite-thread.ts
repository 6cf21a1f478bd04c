/**
 * The SQL half of reading a SQLite index (open the private copy, `PRAGMA quick_check`, rows -> records) runs in a
 * short-lived worker thread, not in the thread that scans. sql.js compiles its WebAssembly and keeps the instance and
 * its memory (the SQLite heap, grown to hold the database) for the life of the thread that loaded it, and nothing
 * frees it short of that thread's exit: in the long-lived main thread of `hiksync run` that was ~13 MB of RSS for a
 * 20 KB database, for the whole pass and every later pass of a service (bench/ANALYSIS.md, issue #12), and more with
 * a real camera's database of tens of MB. One thread serves every database of a scan and exits LINGER_MS after its
 * last answer; its memory goes with it.
 *
 * The reply separates a copy that is not a valid database (`corrupt`: the snapshot takes a new copy) from a database
 * read but refused (`error`: an unknown schema, too many rows), which is rebuilt as its named error on this side
 * (error classes do not survive the thread boundary).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { LimitExceededError, UnsupportedFormatError } from '../errors.js';
import type { SqlJsStatic } from 'sql.js';
import type { SqliteTable } from './sqlite-index.js';
import type { MediaKind } from './types.js';

/** How long the thread stays after its last answer (the databases of one scan come within a few ms of each other). */
export const LINGER_MS = 200;

interface Request {
  id: number;
  bytes: Uint8Array;
  kind: MediaKind;
  sizes: Map<number, number>;
}

type ErrorShape =
  | { kind: 'unsupported'; message: string; file?: string }
  | { kind: 'limit'; what: string; value: number; limit: number }
  | { kind: 'other'; message: string };

type Reply = { id: number } & Answer;

/** What the thread made of one copy: its table, or the named error reading it gave. */
export type ThreadRead = { table: SqliteTable } | { error: Error };

const MARKER = 'hiksync-sqlite-thread';

class SqliteThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: ThreadRead) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private linger: NodeJS.Timeout | undefined;
  closed = false;

  constructor(private readonly onClosed: (t: SqliteThread) => void) {
    this.worker = new Worker(new URL(import.meta.url), { workerData: MARKER });
    this.worker.on('message', (reply: Reply) => this.answer(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the SQLite reader thread exited (code ${code})`)));
  }

  read(bytes: Uint8Array, kind: MediaKind, sizes: ReadonlyMap<number, number>): Promise<ThreadRead> {
    if (this.linger) clearTimeout(this.linger);
    this.linger = undefined;
    this.worker.ref(); // an answer is awaited: the process must not end meanwhile
    const id = this.nextId++;
    const request: Request = { id, bytes, kind, sizes: new Map(sizes) };
    // The copy's own buffer moves to the thread (no second copy of the database); a view into a larger one is cloned.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const transfer = whole && bytes.buffer instanceof ArrayBuffer ? [bytes.buffer] : [];
    return new Promise<ThreadRead>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(request, transfer);
    });
  }

  /** Nothing asked of it yet: it ends LINGER_MS from now unless a request comes (prestartSqliteThread). */
  idle(): void {
    if (this.pending.size > 0 || this.linger) return;
    this.worker.unref();
    this.linger = setTimeout(() => void this.close(), LINGER_MS);
    this.linger.unref();
  }

  private answer(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if ('table' in reply) p.resolve({ table: reply.table });
    else if ('corrupt' in reply) p.reject(new Error(reply.corrupt));
    else p.resolve({ error: rebuildError(reply.error) });
    // Idle: it neither keeps the process alive nor stays longer than LINGER_MS.
    if (this.pending.size === 0) this.idle();
  }

  private fail(err: Error): void {
    this.closed = true;
    this.onClosed(this);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClosed(this);
    if (this.linger) clearTimeout(this.linger);
    await this.worker.terminate();
  }
}

let thread: SqliteThread | undefined;

/**
 * Open `bytes` (a consistent copy of a SQLite database) in the reader thread and read its `kind` table. Rejects when
 * the copy is not a valid database (the caller takes a new one); resolves with the named error when the database was
 * read but refused.
 */
export function readDatabaseInThread(
  bytes: Uint8Array,
  kind: MediaKind,
  sizes: ReadonlyMap<number, number>,
): Promise<ThreadRead> {
  // Tests run the sources through tsx, whose loader does not reach worker threads on Node 20: there the same reading
  // runs in this thread (test/hikvision/sqlite-thread.test.ts drives the compiled thread).
  if (import.meta.url.endsWith('.ts')) return readHere(bytes, kind, sizes);
  return running().read(bytes, kind, sizes);
}

function running(): SqliteThread {
  if (!thread || thread.closed) {
    thread = new SqliteThread((t) => {
      if (thread === t) thread = undefined;
    });
  }
  return thread;
}

/**
 * Starts the reader thread ahead of its first database (a scan calls it as soon as a datadir lists one): its start and
 * sql.js's compile then overlap the reads of the copy instead of following them. It ends like any other (idle:
 * LINGER_MS after the last answer, or closeSqliteThread()).
 */
export function prestartSqliteThread(): void {
  if (import.meta.url.endsWith('.ts')) return;
  running().idle();
}

/**
 * Ends the reader thread now, when one is running (its memory goes with it): the pass calls it once the scan is done,
 * so that it is gone before the extract workers start (their peaks would add up otherwise).
 */
export async function closeSqliteThread(): Promise<void> {
  await thread?.close();
}

function rebuildError(e: ErrorShape): Error {
  if (e.kind === 'unsupported') return new UnsupportedFormatError(e.message, e.file);
  if (e.kind === 'limit') return new LimitExceededError(e.what, e.value, e.limit);
  return new Error(e.message);
}

function shapeOf(err: unknown): ErrorShape {
  if (err instanceof UnsupportedFormatError)
    return { kind: 'unsupported', message: err.message, ...(err.file !== undefined ? { file: err.file } : {}) };
  if (err instanceof LimitExceededError) return { kind: 'limit', what: err.what, value: err.value, limit: err.limit };
  return { kind: 'other', message: err instanceof Error ? err.message : String(err) };
}

type Answer = { table: SqliteTable } | { corrupt: string } | { error: ErrorShape };

let engine: Promise<[typeof import('./sqlite-engine.js'), typeof import('./sqlite-index.js'), SqlJsStatic]> | undefined;

/** The SQL modules and sql.js's compiled engine, loaded once per thread. */
function engineReady(): NonNullable<typeof engine> {
  engine ??= Promise.all([import('./sqlite-engine.js'), import('./sqlite-index.js')]).then(async ([e, i]) => [
    e,
    i,
    await e.loadSqlEngine(),
  ]);
  return engine;
}

/** One copy: open it (quick_check), read the `kind` table, close it. */
async function readCopy(bytes: Uint8Array, kind: MediaKind, sizes: ReadonlyMap<number, number>): Promise<Answer> {
  const [{ openDatabase }, { readEventDatabase, readRecordDatabase }, SQL] = await engineReady();
  let db;
  try {
    db = openDatabase(SQL, bytes);
  } catch (err) {
    return { corrupt: err instanceof Error ? err.message : String(err) };
  }
  try {
    return { table: kind === 'video' ? readRecordDatabase(db, sizes) : readEventDatabase(db, sizes) };
  } catch (err) {
    return { error: shapeOf(err) };
  } finally {
    db.close();
  }
}

async function readHere(bytes: Uint8Array, kind: MediaKind, sizes: ReadonlyMap<number, number>): Promise<ThreadRead> {
  const answer = await readCopy(bytes, kind, sizes);
  if ('corrupt' in answer) throw new Error(answer.corrupt);
  return 'table' in answer ? answer : { error: rebuildError(answer.error) };
}

/** The thread's side: requests answered in order. */
function serve(): void {
  const port = parentPort!;
  void engineReady().catch(() => undefined); // compiled while the first copy is read; a failure shows on first use
  let queue = Promise.resolve();
  port.on('message', (req: Request) => {
    queue = queue.then(async () => {
      const answer = await readCopy(req.bytes, req.kind, req.sizes);
      port.postMessage({ id: req.id, ...answer } satisfies Reply);
    });
  });
}

if (!isMainThread && workerData === MARKER) serve();
