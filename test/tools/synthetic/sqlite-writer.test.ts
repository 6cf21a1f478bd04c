import test from 'ava';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { writeSyntheticShare } from '../../../tools/synthetic/share-writer.js';
import { walkPs } from './helpers.js';

const roots: string[] = [];
test.after.always(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

async function rowsOf(file: string, sql: string): Promise<unknown[][]> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(await readFile(file));
  try {
    return db.exec(sql)[0]?.values ?? [];
  } finally {
    db.close();
  }
}

test('a SQLite camera: record_db_index00/01 and event_db_index00 instead of index00*.bin, rows with the traps', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'synthetic-sqlite-'));
  roots.push(root);
  const truth = await writeSyntheticShare({
    root,
    seed: 5,
    cameras: [{ name: 'db', codec: 'h265', events: 120, avFiles: 3, pictures: 6, sparse: true, indexFormat: 'sqlite' }],
  });
  const ct = truth.cameras[0]!;
  t.is(ct.indexFormat, 'sqlite');
  t.true(ct.ringWrapped);
  const dir = path.join(root, 'db', 'datadir0');
  const names = await readdir(dir);
  for (const n of ['record_db_index00', 'record_db_index01', 'event_db_index00']) t.true(names.includes(n), n);
  t.false(
    names.some((n) => n.startsWith('index0')),
    'no binary index',
  );
  const head = await readFile(path.join(dir, 'record_db_index00'));
  t.is(head.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
  t.deepEqual(head, await readFile(path.join(dir, 'record_db_index01')));

  const rows = await rowsOf(
    path.join(dir, 'record_db_index00'),
    'SELECT file_no, start_time_tv_sec, end_time_tv_sec, start_offset, end_offset, record_type FROM record_segment_idx_tb',
  );
  const video = ct.recordings.filter((r) => r.kind === 'video');
  // One row per closed segment, the open one and every stale slot the camera kept.
  t.is(rows.length, video.length + ct.open.length + ct.stale.length);
  const has = (f: number, s: number, e: number, so: number, eo: number) =>
    rows.some((r) => r[0] === f && r[1] === s && r[2] === e && r[3] === so && r[4] === eo);
  for (const r of video) t.true(has(r.fileNo, r.start.sec, r.end.sec, r.startOffset, r.endOffset), r.key);
  const open = ct.open[0]!;
  t.true(has(open.fileNo, open.start.sec, 0, open.startOffset, 0), 'the open row: end 0, end_offset 0');
  t.true(ct.stale.length > 0);
  for (const s of ct.stale) t.true(has(s.fileNo, s.start.sec, s.end.sec, s.startOffset, s.endOffset), 'stale row kept');
  t.true(rows.every((r) => r[5] !== 0));
  // Whole seconds in the truth; a row's bytes start with a pack header.
  t.true(ct.recordings.every((r) => r.start.usec === 0 && r.end.usec === 0));
  const hiv = await readFile(path.join(root, video[0]!.source));
  const ps = walkPs(hiv.subarray(video[0]!.startOffset, video[0]!.endOffset));
  t.is(ps[0]?.code, 0xba);

  const pictures = await rowsOf(
    path.join(dir, 'event_db_index00'),
    'SELECT file_no, trigger_time, pic_offset_0, pic_len_0 FROM MotionDetectTB ORDER BY trigger_time',
  );
  const truthPictures = ct.recordings.filter((r) => r.kind === 'picture');
  t.is(pictures.length, 6);
  t.deepEqual(
    pictures,
    truthPictures.map((p) => [p.fileNo, p.start.sec, p.startOffset, p.endOffset - p.startOffset]),
  );
});

test('keepStaleRows: false writes no row of an overwritten cycle', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'synthetic-sqlite-'));
  roots.push(root);
  const truth = await writeSyntheticShare({
    root,
    seed: 5,
    cameras: [
      { name: 'db', codec: 'h264', events: 120, avFiles: 3, sparse: true, indexFormat: 'sqlite', keepStaleRows: false },
    ],
  });
  const ct = truth.cameras[0]!;
  t.deepEqual(ct.stale, []);
  const rows = await rowsOf(
    path.join(root, 'db', 'datadir0', 'record_db_index00'),
    'SELECT count(*) FROM record_segment_idx_tb',
  );
  t.is(rows[0]![0], ct.recordings.length + 1);
});
