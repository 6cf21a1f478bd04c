import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { IndexCorruptError } from '../../lib/errors.js';
import { clearIndexTableCache, recheckRecording, scanCamera } from '../../lib/hikvision/source.js';
import { snapshotDatabase } from '../../lib/hikvision/sqlite-snapshot.js';
import { createShareIo } from '../../lib/share-io.js';
import { goldenCamera, hivName, infoBin, removeDir, sparseFile, tempDir } from './share.js';
import { buildDatabase, recordDatabase, T0, type Row } from './sqlite-db.js';

const MB = 1024 * 1024;
/** No pause between copies: the tests change the file through the seam, not with time. */
const noWait = { wait: () => Promise.resolve() };

const ROWS: Row[] = [
  { file: 0, start: T0, end: T0 + 60, from: 0, to: MB },
  { file: 0, start: T0 + 61, end: T0 + 90, from: MB, to: 2 * MB },
  { file: 1, start: T0 + 91, end: T0 + 95, from: 0, to: MB / 4 },
  { file: 1, start: T0 + 96, end: 0, from: MB / 4, to: 0 }, // being recorded
];

/** A NAS camera whose datadir0 holds `files` (record_db_index00 ...) and hiv00000..2.mp4 of 4 MiB with a head each. */
async function sqliteCamera(root: string, files: Record<string, Buffer>, name = 'newcam') {
  const cam = path.join(root, name);
  const dir = path.join(cam, 'datadir0');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(cam, 'info.bin'), infoBin(1));
  for (const [n, b] of Object.entries(files)) await fs.writeFile(path.join(dir, n), b);
  for (let f = 0; f < 3; f++) {
    await sparseFile(path.join(dir, hivName(f, 'mp4')), 4 * MB);
    await writeAt(path.join(dir, hivName(f, 'mp4')), 0, Buffer.from(`pack header of file ${f}, cycle 1`));
  }
  return { name, path: cam, dir };
}

async function writeAt(file: string, at: number, bytes: Buffer): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    await fh.write(bytes, 0, bytes.length, at);
  } finally {
    await fh.close();
  }
}

/** The camera committing a transaction: new content and a file change counter one higher than `old`'s. */
function committed(old: Buffer, next: Buffer): Buffer {
  const out = Buffer.from(next);
  const counter = old.readUInt32BE(24) + 1;
  out.writeUInt32BE(counter, 24);
  out.writeUInt32BE(counter, 92); // version-valid-for
  return out;
}

test.beforeEach(() => clearIndexTableCache());

test('a SQLite camera is scanned into recordings like a binary one, every row counted', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await sqliteCamera(root, { record_db_index00: await recordDatabase(ROWS) });
  const scan = await scanCamera(cam);
  t.deepEqual(scan.errors, []);
  t.deepEqual(
    scan.recordings.map((r) => [r.fileNo, r.slot, r.startOffset, r.endOffset, r.start.sec - T0, r.end.sec - T0]),
    [
      [0, 0, 0, MB, 0, 60],
      [0, 1, MB, 2 * MB, 61, 90],
      [1, 0, 0, MB / 4, 91, 95],
    ],
  );
  const r = scan.recordings[0]!;
  t.like(r, {
    camera: 'newcam',
    datadir: 'datadir0',
    kind: 'video',
    source: path.join(cam.dir, 'hiv00000.mp4'),
    indexPath: path.join(cam.dir, 'record_db_index00'),
    slotsPerFile: 0,
  });
  t.regex(r.id, /^[0-9a-f]{20}$/);
  t.is(typeof r.sourceHead, 'string');
  t.not(scan.recordings[2]!.sourceHead, r.sourceHead);
  t.deepEqual(scan.skipped, { open: 1 });
  t.like(scan.datadirs[0], { videoFormat: 'sqlite', videoIndex: path.join(cam.dir, 'record_db_index00') });
  // Stable ids from pass to pass.
  clearIndexTableCache();
  t.deepEqual(
    (await scanCamera(cam)).recordings.map((x) => x.id),
    scan.recordings.map((x) => x.id),
  );
});

test('index00.bin and a record database in one datadir: the database wins, and scan says so', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root); // 13 recordings in its index00.bin
  const dir = path.join(cam.path, 'datadir0');
  await fs.writeFile(path.join(dir, 'record_db_index00'), await recordDatabase(ROWS.slice(0, 1)));
  const scan = await scanCamera(cam);
  t.deepEqual(scan.errors, []);
  t.is(scan.recordings.length, 1);
  t.is(scan.recordings[0]!.indexPath, path.join(dir, 'record_db_index00'));
  t.is(scan.datadirs[0]!.videoFormat, 'sqlite');
  t.deepEqual(scan.notes, [
    'cam1/datadir0: record_db_index00 (SQLite, firmware 5.5+) used; index00.bin, index01.bin ignored: left from the firmware before the upgrade, no longer written',
  ]);
});

test('record_db_index01 is used when record_db_index00 is not a valid database', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const broken = Buffer.alloc(8192, 0x33);
  broken.write('SQLite format 3\0', 0, 'latin1');
  const cam = await sqliteCamera(root, { record_db_index00: broken, record_db_index01: await recordDatabase(ROWS) });
  const scan = await scanCamera(cam, { sqliteSnapshot: noWait });
  t.deepEqual(scan.errors, []);
  t.is(scan.recordings.length, 3);
  t.is(scan.recordings[0]!.indexPath, path.join(cam.dir, 'record_db_index01'));
  t.is(scan.datadirs[0]!.fallbacks?.length, 1);
  t.regex(scan.datadirs[0]!.fallbacks![0]!, /^record_db_index00: no consistent copy .*not a valid database/);
});

test('both databases unusable: one error line naming both, one counted skip, no crash', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const unknown = await buildDatabase('CREATE TABLE seg (a INTEGER); INSERT INTO seg VALUES (1);');
  const cam = await sqliteCamera(root, { record_db_index00: unknown, record_db_index01: unknown });
  const scan = await scanCamera(cam);
  t.deepEqual(scan.recordings, []);
  t.deepEqual(scan.skipped, { unsupported: 1 });
  t.is(scan.errors.length, 1);
  t.regex(
    scan.errors[0]!,
    /^newcam\/datadir0: record_db_index00, record_db_index01: record database layout not supported yet: .*seg \(1 rows: a\)/,
  );
});

test('the copy is taken again when the database changed while it was copied', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const before = await recordDatabase(ROWS.slice(0, 1));
  const cam = await sqliteCamera(root, { record_db_index00: before });
  const db = path.join(cam.dir, 'record_db_index00');
  const after = committed(before, await recordDatabase(ROWS));
  const seen: number[] = [];
  const scan = await scanCamera(cam, {
    sqliteSnapshot: {
      ...noWait,
      afterCopy: async (attempt) => {
        seen.push(attempt);
        if (attempt === 1) await fs.writeFile(db, after); // the camera commits while we copy
      },
    },
  });
  t.deepEqual(seen, [1, 2]);
  t.deepEqual(scan.errors, []);
  t.is(scan.recordings.length, 3, 'the rows of the database as it is after the commit');
});

test('a database that never holds still is an error after the last attempt, not a half-read table', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  let bytes = await recordDatabase(ROWS);
  const cam = await sqliteCamera(root, { record_db_index00: bytes });
  const db = path.join(cam.dir, 'record_db_index00');
  const share = createShareIo();
  const err = await t.throwsAsync(
    snapshotDatabase(db, share, () => 'opened', {
      ...noWait,
      afterCopy: async () => {
        bytes = committed(bytes, bytes);
        await fs.writeFile(db, bytes);
      },
    }),
    { instanceOf: IndexCorruptError },
  );
  t.regex(err.message, /no consistent copy of the database in 5 attempts: it changed while it was copied/);
});

test('a hot journal (a transaction writing the file) is waited out; one that stays is an error', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await sqliteCamera(root, { record_db_index00: await recordDatabase(ROWS) });
  const db = path.join(cam.dir, 'record_db_index00');
  const journal = Buffer.concat([Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]), Buffer.alloc(504)]);
  await fs.writeFile(`${db}-journal`, journal);
  const share = createShareIo();
  // The transaction ends before the second attempt (the seam stands for the pause between attempts).
  const snap = await snapshotDatabase(db, share, () => 'opened', { wait: () => fs.rm(`${db}-journal`) });
  t.is(snap.attempts, 2);
  // A journal whose header is zeroed (journal_mode=PERSIST, no transaction) is not hot.
  await fs.writeFile(`${db}-journal`, Buffer.alloc(512));
  t.is((await snapshotDatabase(db, share, () => 'opened', noWait)).attempts, 1);
  await fs.writeFile(`${db}-journal`, journal);
  await t.throwsAsync(
    snapshotDatabase(db, share, () => 'opened', noWait),
    {
      instanceOf: IndexCorruptError,
      message: /hot -journal/,
    },
  );
  // Nothing was written next to the camera's files.
  t.deepEqual((await fs.readdir(cam.dir)).filter((n) => n.startsWith('record_db')).sort(), [
    'record_db_index00',
    'record_db_index00-journal',
  ]);
});

test('a copy that does not open as a database is taken again', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await sqliteCamera(root, { record_db_index00: await recordDatabase(ROWS) });
  let opens = 0;
  const snap = await snapshotDatabase(
    path.join(cam.dir, 'record_db_index00'),
    createShareIo(),
    () => {
      if (++opens === 1) throw new Error('database disk image is malformed');
      return opens;
    },
    noWait,
  );
  t.is(snap.value, 2);
  t.is(snap.attempts, 2);
});

test('pictures from the event database when there is no index00p.bin; an unknown event layout says so', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const events = await buildDatabase(`
    CREATE TABLE MotionDetectTB (file_no INTEGER, trigger_time INTEGER, pic_offset_0 INTEGER, pic_len_0 INTEGER);
    INSERT INTO MotionDetectTB VALUES (0, ${T0 + 1}, 0, 30000), (0, ${T0 + 2}, 30000, 20000);`);
  const cam = await sqliteCamera(root, { record_db_index00: await recordDatabase(ROWS), event_db_index00: events });
  await sparseFile(path.join(cam.dir, hivName(0, 'pic')), MB);
  const scan = await scanCamera(cam);
  t.deepEqual(scan.errors, []);
  const pictures = scan.recordings.filter((r) => r.kind === 'picture');
  t.deepEqual(
    pictures.map((p) => [p.startOffset, p.endOffset, p.start.sec - T0, p.source]),
    [
      [0, 30000, 1, path.join(cam.dir, 'hiv00000.pic')],
      [30000, 50000, 2, path.join(cam.dir, 'hiv00000.pic')],
    ],
  );
  t.is(scan.datadirs[0]!.pictureFormat, 'sqlite');

  await fs.writeFile(
    path.join(cam.dir, 'event_db_index00'),
    await buildDatabase('CREATE TABLE pic_segment_idx_tb (segment_id INTEGER, start_time INTEGER);'),
  );
  clearIndexTableCache();
  const unknown = await scanCamera(cam);
  t.is(unknown.recordings.filter((r) => r.kind === 'video').length, 3, 'the video is still listed');
  t.is(unknown.recordings.filter((r) => r.kind === 'picture').length, 0);
  t.is(unknown.skipped.unsupported, 1);
  t.regex(unknown.errors[0]!, /^newcam\/datadir0: event_db_index00: pictures: layout not supported yet/);
});

test('re-check of a SQLite recording: ok while its hiv file starts as it did, not ok once a new cycle rewrote it', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await sqliteCamera(root, { record_db_index00: await recordDatabase(ROWS) });
  const scan = await scanCamera(cam);
  const rec = scan.recordings.find((r) => r.fileNo === 0 && r.slot === 1)!;
  t.deepEqual(await recheckRecording(rec), { ok: true });
  // The database changing for another file (a row added to file 1) does not matter.
  await fs.writeFile(path.join(cam.dir, 'record_db_index00'), await recordDatabase([...ROWS, ROWS[0]!]));
  t.deepEqual(await recheckRecording(rec), { ok: true });
  // The camera starts file 0 again: its first bytes change before any row does.
  await writeAt(rec.source, 0, Buffer.from('pack header of file 0, cycle 2'));
  const check = await recheckRecording(rec);
  t.false(check.ok);
  t.regex((check as { reason: string }).reason, /writing hiv00000\.mp4 again .*a new cycle/);
});

test.serial('an unchanged database is not copied again (its 100-byte header is read instead)', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const bytes = await recordDatabase(ROWS);
  const cam = await sqliteCamera(root, { record_db_index00: bytes });
  const db = path.join(cam.dir, 'record_db_index00');
  const old = new Date(Date.now() - 60_000);
  await fs.utimes(db, old, old);
  const first = await scanCamera(cam);
  const second = await scanCamera(cam);
  t.deepEqual(
    second.recordings.map((r) => r.id),
    first.recordings.map((r) => r.id),
  );
  t.true(first.datadirs[0]!.bytesRead > bytes.length);
  t.true(second.datadirs[0]!.bytesRead < 200, `read ${second.datadirs[0]!.bytesRead} bytes`);
  // A commit changes the counter: read again.
  await fs.writeFile(db, committed(bytes, await recordDatabase(ROWS.slice(0, 2))));
  await fs.utimes(db, old, old);
  t.is((await scanCamera(cam)).recordings.length, 2);
});

test('a database cut short inside its header is an error line, not a crash', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await sqliteCamera(root, { record_db_index00: Buffer.from('SQLite format 3\0abcd', 'latin1') });
  const scan = await scanCamera(cam, { sqliteSnapshot: noWait });
  t.deepEqual(scan.recordings, []);
  t.deepEqual(scan.skipped, { 'bad-header': 1 });
  t.deepEqual(scan.errors, ['newcam/datadir0: record_db_index00: database is 20 bytes, shorter than a SQLite header']);
});
