import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { InputDirError } from '../../lib/errors.js';
import { inspectLayout, MAX_LISTING_DEPTH } from '../../lib/inspect/layout.js';
import { createShareIo } from '../../lib/share-io.js';
import { tmp } from '../helpers/cli.js';
import { binaryCamera, dvrFolder, sqliteCamera, unknownCamera } from './folders.js';
import { RECORD_DB_SQL, sqliteDb } from './sqlite.js';

const io = () => createShareIo(60_000);

test('a binary-index camera: its datadirs, index files, hiv counts and info.bin', async (t) => {
  const dir = await tmp(t, 'hiksync-layout-');
  const l = await inspectLayout(await binaryCamera(dir), io());
  t.deepEqual(l.kinds, ['binary-index']);
  t.is(l.infoBinDatadirs, 2);
  t.deepEqual(
    l.folders.map((f) => [f.path, f.binaryIndexes, f.sqliteFiles, f.hivVideos]),
    [
      ['datadir0', ['index00.bin', 'index00p.bin', 'index01.bin', 'index01p.bin'], [], 3],
      ['datadir1', ['index00.bin', 'index00p.bin', 'index01.bin', 'index01p.bin'], [], 3],
    ],
  );
});

test('SQLite, DVR, unknown, and both index kinds in one camera', async (t) => {
  const dir = await tmp(t, 'hiksync-layout-');
  const sq = await inspectLayout(await sqliteCamera(dir), io());
  t.deepEqual(sq.kinds, ['sqlite-index']);
  t.deepEqual(sq.folders[0]!.sqliteFiles, [
    'event_db_index00',
    'pic_segment_db_index00-wal',
    'record_db_index00',
    'record_db_index00-journal',
  ]);
  t.is((await inspectLayout(await dvrFolder(dir), io())).label, 'HIKBTREE (DVR/NVR disk)');
  const unknown = await inspectLayout(await unknownCamera(dir), io());
  t.is(unknown.label, 'unknown');
  t.deepEqual(unknown.folders, []);

  const both = path.join(dir, 'both');
  await fs.mkdir(both);
  await fs.writeFile(path.join(both, 'index00.bin'), Buffer.alloc(2048));
  await fs.writeFile(path.join(both, 'record_db_index00'), await sqliteDb(RECORD_DB_SQL));
  await fs.writeFile(path.join(both, 'event_db_index00'), 'not sqlite');
  const b = await inspectLayout(both, io());
  t.is(b.label, 'binary index + SQLite index');
  t.deepEqual(b.folders[0]!.notSqlite, ['event_db_index00'], 'a name without the SQLite magic is said so');
});

test('the listing stops at its depth; a missing camera folder is InputDirError', async (t) => {
  const dir = await tmp(t, 'hiksync-layout-');
  const deep = path.join(dir, 'cam', 'a', 'b', 'c', 'd');
  await fs.mkdir(deep, { recursive: true });
  await fs.writeFile(path.join(deep, 'index00.bin'), 'x');
  const l = await inspectLayout(path.join(dir, 'cam'), io());
  t.deepEqual(
    l.entries.map((e) => e.path),
    ['a', 'a/b', 'a/b/c'].slice(0, MAX_LISTING_DEPTH),
  );
  t.deepEqual(l.kinds, [], 'an index below the listed depth is not found');
  await t.throwsAsync(inspectLayout(path.join(dir, 'nope'), io()), { instanceOf: InputDirError });
});
