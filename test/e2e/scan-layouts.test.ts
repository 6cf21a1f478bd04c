/**
 * `hiksync scan` (the built CLI) on layouts it cannot read: it says what it found and where to go next, exits 1,
 * and still lists the cameras it can read.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { runCli, tmp } from '../helpers/cli.js';

test('scan names an unknown SQLite schema, a DVR disk and an unknown folder, and points to inspect --bundle', async (t) => {
  const share = await tmp(t, 'hiksync-e2e-layouts-');
  await writeSyntheticShare({
    root: share,
    seed: 3,
    cameras: [{ name: 'good', codec: 'h264', events: 4, sparse: true, indexFormat: 'sqlite' }],
  });
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.exec('CREATE TABLE clip_tb (clip INTEGER, at INTEGER); INSERT INTO clip_tb VALUES (1, 2);');
  await fs.mkdir(path.join(share, 'odd-db', 'datadir0'), { recursive: true });
  await fs.writeFile(path.join(share, 'odd-db', 'datadir0', 'record_db_index00'), db.export());
  db.close();
  await fs.mkdir(path.join(share, 'dvr'));
  await fs.writeFile(path.join(share, 'dvr', 'HIKBTREE'), Buffer.alloc(1024));
  await fs.mkdir(path.join(share, 'mystery', 'datadir0'), { recursive: true });
  await fs.writeFile(path.join(share, 'mystery', 'datadir0', 'clips.idx'), Buffer.alloc(64));

  const r = runCli(['scan', '--input', share]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stdout, /good: 1 datadir\(s\), index version SQLite\n {2}4 recordings/);
  t.regex(
    r.stdout,
    /error: odd-db\/datadir0: record_db_index00: record database layout not supported yet: .*clip_tb \(1 rows: clip, at\).*hiksync inspect <folder> --bundle FILE/,
  );
  t.regex(
    r.stdout,
    /error: dvr: found HIKBTREE in .*DVR\/NVR disk \(HIKBTREE\).*hiksync inspect <folder> --bundle FILE/,
  );
  t.regex(
    r.stdout,
    /error: mystery\/datadir0: no index00\.bin .*\(found: clips\.idx\).*hiksync inspect <folder> --bundle FILE/,
  );
});
