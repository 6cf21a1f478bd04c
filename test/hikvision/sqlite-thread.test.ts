import test from 'ava';
import { buildDatabase, recordDatabase, T0 } from './sqlite-db.js';

// The compiled module (npm test builds dist/ first): tsx's loader does not reach worker threads on Node 20, so from
// the sources the module reads in the calling thread; only the built one starts the thread these tests are about.
const dist = new URL('../../dist/lib/', import.meta.url);
const { closeSqliteThread, LINGER_MS, prestartSqliteThread, readDatabaseInThread } = (await import(
  new URL('hikvision/sqlite-thread.js', dist).href
)) as typeof import('../../lib/hikvision/sqlite-thread.js');
const { LimitExceededError, UnsupportedFormatError } = (await import(
  new URL('errors.js', dist).href
)) as typeof import('../../lib/errors.js');

test.after.always(() => closeSqliteThread());

test.serial(
  'a record database is read in the reader thread: the same records as rows, and the copy moves there (no second copy)',
  async (t) => {
    const bytes = await recordDatabase([
      { file: 0, start: T0, end: T0 + 60, from: 0, to: 1_000_000 },
      { file: 0, start: T0 + 60, end: T0 + 120, from: 1_000_000, to: 2_000_000 },
    ]);
    const copy = new Uint8Array(bytes); // a buffer of its own: transferred
    const read = await readDatabaseInThread(copy, 'video', new Map([[0, 256 * 1024 * 1024]]));
    if (!('table' in read)) return t.fail(`refused: ${read.error.message}`);
    t.is(read.table.records.length, 2);
    t.deepEqual(
      read.table.records.map((r) => [r.fileNo, r.startOffset, r.endOffset, r.start.sec]),
      [
        [0, 0, 1_000_000, T0],
        [0, 1_000_000, 2_000_000, T0 + 60],
      ],
    );
    t.is(copy.byteLength, 0, 'the bytes were transferred, not cloned');
  },
);

test.serial(
  'a copy that is not a valid database is a rejection (the snapshot takes another); a refused one its named error',
  async (t) => {
    const torn = new Uint8Array(await recordDatabase([{ file: 0, start: T0, end: T0 + 60, from: 0, to: 1000 }]));
    torn.fill(0x55, 100); // the header stays, every page is garbage
    await t.throwsAsync(readDatabaseInThread(torn, 'video', new Map()));
    const other = await buildDatabase('CREATE TABLE something_else (a INTEGER);');
    const read = await readDatabaseInThread(other, 'video', new Map());
    t.true('error' in read && read.error instanceof UnsupportedFormatError);
    t.false('error' in read && read.error instanceof LimitExceededError);
  },
);

test.serial('the thread ends when closed and a later read starts a new one', async (t) => {
  await closeSqliteThread();
  const bytes = await recordDatabase([{ file: 1, start: T0, end: T0 + 10, from: 0, to: 5000 }]);
  const read = await readDatabaseInThread(bytes, 'video', new Map([[1, 10_000]]));
  t.true('table' in read && read.table.records.length === 1);
  await closeSqliteThread();
});

test.serial(
  'a thread started ahead (prestartSqliteThread) answers the first read; one left idle ends and the next read starts another',
  async (t) => {
    await closeSqliteThread();
    prestartSqliteThread();
    const bytes = await recordDatabase([{ file: 2, start: T0, end: T0 + 10, from: 0, to: 5000 }]);
    const first = await readDatabaseInThread(new Uint8Array(bytes), 'video', new Map([[2, 10_000]]));
    t.true('table' in first && first.table.records.length === 1);
    await new Promise((resolve) => setTimeout(resolve, LINGER_MS + 300));
    const second = await readDatabaseInThread(new Uint8Array(bytes), 'video', new Map([[2, 10_000]]));
    t.true('table' in second && second.table.records.length === 1);
    await closeSqliteThread();
  },
);
