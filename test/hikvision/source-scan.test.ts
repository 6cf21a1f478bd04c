import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { InputDirError, UnsupportedFormatError } from '../../lib/errors.js';
import { discoverCameras, discoverDatadirs, recheckRecording, scanCamera } from '../../lib/hikvision/source.js';
import { GOLDEN_RECORDS, GOLDEN_SKIPPED, goldenIndex, goldenSizes, T } from './golden.js';
import { IndexBytes } from './index-bytes.js';
import { hivName, infoBin, removeDir, sparseFile, tempDir, writeDatadir } from './share.js';

const USED = 1280 + 32 * 8 + 8 * 256 * 80;

async function goldenCamera(root: string, name = 'cam1', index00: Buffer | null = goldenIndex().buf, index01: Buffer | null = goldenIndex().buf) {
  const cam = path.join(root, name);
  const files: { [n: string]: Buffer } = {};
  if (index00) files['index00.bin'] = index00;
  if (index01) files['index01.bin'] = index01;
  // Pre-allocated like the camera's: 16 MiB would be realistic; 2 MiB of zero padding keeps the test light.
  for (const k of Object.keys(files)) files[k] = Buffer.concat([files[k]!, Buffer.alloc(2 * 1024 * 1024)]);
  await writeDatadir(path.join(cam, 'datadir0'), files, goldenSizes());
  await fs.writeFile(path.join(cam, 'info.bin'), infoBin(1));
  return { name, path: cam };
}

const key = (r: { fileNo: number; slot: number }) => `${r.fileNo}/${r.slot}`;

test('scanCamera lists the golden recordings sorted by time, with paths, ids and the index used', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  const scan = await scanCamera(cam);
  t.deepEqual(scan.errors, []);
  const expectedOrder = [...GOLDEN_RECORDS].sort((a, b) => a.start.sec - b.start.sec || a.start.usec - b.start.usec).map(key);
  t.deepEqual(scan.recordings.map(key), expectedOrder);
  const r = scan.recordings.find((x) => x.fileNo === 1 && x.slot === 0)!;
  t.like(r, {
    camera: 'cam1',
    datadir: 'datadir0',
    kind: 'video',
    source: path.join(cam.path, 'datadir0', 'hiv00001.mp4'),
    indexPath: path.join(cam.path, 'datadir0', 'index00.bin'),
    slotsPerFile: 256,
    startOffset: 0,
    endOffset: 1048576,
  });
  t.is(new Set(scan.recordings.map((x) => x.id)).size, 13);
  t.deepEqual(scan.skipped, GOLDEN_SKIPPED);
  t.is(scan.datadirs.length, 1);
  t.like(scan.datadirs[0], { name: 'datadir0', version: 2, avFiles: 8, modifyTimes: '4242', bytesRead: 1280 + USED + 8 });
  t.is(scan.datadirs[0]!.videoIndex, path.join(cam.path, 'datadir0', 'index00.bin'));
  // Stable: a second scan gives the same ids.
  t.deepEqual((await scanCamera(cam)).recordings.map((x) => x.id), scan.recordings.map((x) => x.id));
});

test('index01.bin is used when index00.bin is truncated', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  await fs.truncate(path.join(cam.path, 'datadir0', 'index00.bin'), 3000);
  const scan = await scanCamera(cam);
  t.deepEqual(scan.errors, []);
  t.is(scan.recordings.length, 13);
  t.is(scan.datadirs[0]!.videoIndex, path.join(cam.path, 'datadir0', 'index01.bin'));
  t.true(scan.recordings.every((r) => r.indexPath.endsWith('index01.bin')));
  t.regex(scan.datadirs[0]!.fallbacks!.join(), /index00\.bin: index truncated/);
});

test('index01.bin is used when index00.bin is garbage', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const garbage = Buffer.alloc(USED);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 2654435761) >>> 24;
  const cam = await goldenCamera(root, 'cam1', garbage);
  const scan = await scanCamera(cam);
  t.deepEqual(scan.errors, []);
  t.is(scan.recordings.length, 13);
  t.true(scan.datadirs[0]!.videoIndex!.endsWith('index01.bin'));
});

test('index01.bin is used when index00.bin lists no valid record but 01 does', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root, 'cam1', new IndexBytes({ avFiles: 8, slotsPerFile: 256 }).buf);
  const scan = await scanCamera(cam);
  t.is(scan.recordings.length, 13);
  t.regex(scan.datadirs[0]!.fallbacks!.join(), /no valid record/);
});

test('index01.bin is used when index00.bin is missing', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root, 'cam1', null);
  const scan = await scanCamera(cam);
  t.is(scan.recordings.length, 13);
  t.deepEqual(scan.datadirs[0]!.fallbacks, ['index00.bin is missing']);
});

test('both indexes bad: an error line and a counted skip, never an exception', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  await fs.writeFile(path.join(cam.path, 'datadir0', 'index00.bin'), Buffer.alloc(100));
  await fs.writeFile(path.join(cam.path, 'datadir0', 'index01.bin'), Buffer.alloc(2000));
  const scan = await scanCamera(cam);
  t.deepEqual(scan.recordings, []);
  t.is(scan.skipped['bad-header'], 1);
  t.is(scan.errors.length, 2);
  t.regex(scan.errors[0]!, /^cam1\/datadir0: index00\.bin: index truncated/);
  t.regex(scan.errors[1]!, /^cam1\/datadir0: index01\.bin: index header is not plausible/);
});

test('a datadir without any video index is an error; the other datadirs are still read', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  await fs.mkdir(path.join(cam.path, 'datadir1'));
  await fs.writeFile(path.join(cam.path, 'info.bin'), infoBin(2));
  const scan = await scanCamera(cam);
  t.is(scan.recordings.length, 13);
  t.deepEqual(scan.errors, ['cam1/datadir1: no index00.bin or index01.bin']);
  t.is(scan.skipped.unreadable, 1);
});

test('SQLite index (firmware 5.5+) is refused, naming the file', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  const db = Buffer.alloc(4096);
  db.write('SQLite format 3\0', 0, 'latin1');
  const file = path.join(cam.path, 'datadir0', 'record_db_index00');
  await fs.writeFile(file, db);
  const err = await t.throwsAsync(discoverDatadirs(cam.path), { instanceOf: UnsupportedFormatError });
  t.is((err as UnsupportedFormatError).file, file);
  t.true(err!.message.includes(file));
  const scan = await scanCamera(cam);
  t.deepEqual(scan.recordings, []);
  t.is(scan.skipped.unsupported, 1);
  t.regex(scan.errors[0]!, /SQLite recording index/);
});

test('a file named like a SQLite index without the SQLite magic is not refused', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  await fs.writeFile(path.join(cam.path, 'datadir0', 'event_db_index00'), Buffer.alloc(64));
  t.is((await scanCamera(cam)).recordings.length, 13);
});

for (const image of ['HIKDISK00.bin', 'HIKBTREE', 'HIKVISION@HANGZHOU']) {
  test(`DVR disk image ${image} is refused`, async (t) => {
    const root = await tempDir();
    t.teardown(() => removeDir(root));
    const cam = path.join(root, 'dvr');
    await fs.mkdir(cam);
    await fs.writeFile(path.join(cam, image), Buffer.alloc(512));
    await t.throwsAsync(discoverDatadirs(cam), { instanceOf: UnsupportedFormatError, message: /DVR\/NVR disk image/ });
    const scan = await scanCamera({ name: 'dvr', path: cam });
    t.is(scan.skipped.unsupported, 1);
    t.true(scan.errors[0]!.includes(image));
  });
}

test('discovery: sub-folders are cameras, files, dot-folders and NAS litter are ignored, sorted by name', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  for (const d of ['garage', 'Back', 'front', '@eaDir', '#recycle', '#snapshot', 'lost+found', '.hidden']) await fs.mkdir(path.join(root, d));
  await fs.writeFile(path.join(root, 'notes.txt'), 'x');
  await fs.symlink(path.join(root, 'garage'), path.join(root, 'linked'));
  const cams = await discoverCameras(root);
  t.deepEqual(cams.map((c) => c.name), ['Back', 'front', 'garage', 'linked']);
  t.is(cams[0]!.path, path.join(root, 'Back'));
});

test('discovery: an input folder that is itself a camera (datadir*) is one camera named after it', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root, 'porch');
  t.deepEqual(await discoverCameras(cam.path), [{ name: 'porch', path: cam.path }]);
});

test('discovery: an input folder holding index00.bin (SD card) is one camera with datadir "."', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const sd = path.join(root, 'sdcard');
  await writeDatadir(sd, { 'index00.bin': goldenIndex().buf }, goldenSizes());
  const cams = await discoverCameras(sd);
  t.deepEqual(cams, [{ name: 'sdcard', path: sd }]);
  t.deepEqual(await discoverDatadirs(sd), [{ name: '.', path: sd }]);
  const scan = await scanCamera(cams[0]!);
  t.is(scan.recordings.length, 13);
  t.is(scan.recordings[0]!.datadir, '.');
  t.is(scan.recordings[0]!.source, path.join(sd, 'hiv00000.mp4'));
});

test('datadirs: without info.bin, datadir* folders are listed (numeric order)', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  for (const d of ['datadir10', 'datadir2', 'datadir0', 'datadirX', 'other']) await fs.mkdir(path.join(root, d));
  t.deepEqual((await discoverDatadirs(root)).map((d) => d.name), ['datadir0', 'datadir2', 'datadir10']);
});

test('datadirs: info.bin names the count; a missing datadir is reported', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  await fs.writeFile(path.join(cam.path, 'info.bin'), infoBin(3));
  const scan = await scanCamera(cam);
  t.is(scan.recordings.length, 13);
  t.deepEqual(scan.errors.slice(0, 2), ['cam1: datadir1 is missing (info.bin lists 3 datadirs)', 'cam1: datadir2 is missing (info.bin lists 3 datadirs)']);
  t.is(scan.skipped.unreadable, 2);
});

test('datadirs: an implausible info.bin falls back to listing', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  for (const bad of [infoBin(0), infoBin(0xffffffff), Buffer.alloc(10)]) {
    await fs.writeFile(path.join(cam.path, 'info.bin'), bad);
    const scan = await scanCamera(cam);
    t.deepEqual(scan.errors, []);
    t.is(scan.recordings.length, 13);
  }
});

test('discoverCameras on a missing folder is a named error', async (t) => {
  await t.throwsAsync(discoverCameras('/nonexistent/hiksync-input'), { instanceOf: InputDirError, message: /cannot list the input folder/ });
});

async function pictureCamera(root: string) {
  const cam = path.join(root, 'piccam');
  const dir = path.join(cam, 'datadir0');
  const ix = new IndexBytes({ avFiles: 2, slotsPerFile: 4096 });
  const picSize = 8 * 1024 * 1024;
  await writeDatadir(dir, { 'index00.bin': goldenIndex().buf }, goldenSizes());
  const offsets: number[] = [];
  let off = 0;
  for (let i = 0; i < 300; i++) {
    const size = 20000 + ((i * 7919) % 9000);
    ix.slot(0, i, { start: [T + i * 5, 0], end: [T + i * 5, 0], startOffset: off, endOffset: off + size });
    offsets.push(off);
    off += size;
  }
  await fs.writeFile(path.join(dir, 'index00p.bin'), ix.buf);
  await sparseFile(path.join(dir, hivName(0, 'pic')), picSize);
  await sparseFile(path.join(dir, hivName(1, 'pic')), picSize);
  const fh = await fs.open(path.join(dir, hivName(0, 'pic')), 'r+');
  for (const o of offsets) await fh.write(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 0, 4, o);
  await fh.close();
  return { name: 'piccam', path: cam, ix };
}

test('pictures: stride detected on disk with a handful of SOI reads; kinds can switch them off', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await pictureCamera(root);
  const scan = await scanCamera(cam);
  t.deepEqual(scan.errors, []);
  const pics = scan.recordings.filter((r) => r.kind === 'picture');
  t.is(pics.length, 300);
  t.like(pics[0], { codec: 'jpeg', slotsPerFile: 4096, fileNo: 0, slot: 0 });
  t.is(pics[0]!.source, path.join(cam.path, 'datadir0', 'hiv00000.pic'));
  t.is(scan.datadirs[0]!.pictureSlotsPerFile, 4096);
  t.true(scan.datadirs[0]!.pictureIndex!.endsWith('index00p.bin'));
  t.is(scan.recordings.filter((r) => r.kind === 'video').length, 13);
  const videoOnly = await scanCamera(cam, { kinds: { video: true, picture: false } });
  t.is(videoOnly.recordings.filter((r) => r.kind === 'picture').length, 0);
  t.true(videoOnly.datadirs[0]!.bytesRead < scan.datadirs[0]!.bytesRead);
  const picturesOnly = await scanCamera(cam, { kinds: { video: false, picture: true } });
  t.is(picturesOnly.recordings.length, 300);
});

test('pictures: a layout that fits no stride is an error for that kind only', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await pictureCamera(root);
  // Recreate the .pic as zeros: sampled records no longer start with a JPEG.
  await sparseFile(path.join(cam.path, 'datadir0', hivName(0, 'pic')), 8 * 1024 * 1024);
  const scan = await scanCamera(cam);
  t.is(scan.recordings.filter((r) => r.kind === 'video').length, 13);
  t.is(scan.skipped.unsupported, 1);
  t.regex(scan.errors.join('\n'), /index00p\.bin: picture index layout not recognised/);
});

async function scanned(root: string) {
  const cam = await goldenCamera(root);
  const scan = await scanCamera(cam);
  const index = path.join(cam.path, 'datadir0', 'index00.bin');
  const pick = (f: number, s: number) => scan.recordings.find((r) => r.fileNo === f && r.slot === s)!;
  const patch = async (ix: IndexBytes) => {
    const fh = await fs.open(index, 'r+');
    await fh.write(ix.buf, 0, ix.buf.length, 0);
    await fh.close();
  };
  return { cam, scan, pick, patch };
}

test('recheckRecording: unchanged slot is ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick } = await scanned(root);
  for (const [f, s] of [[0, 1], [0, 3], [5, 1], [7, 1]] as const) t.deepEqual(await recheckRecording(pick(f, s)), { ok: true });
});

test('recheckRecording: a rewritten slot is not ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick, patch } = await scanned(root);
  const ix = goldenIndex();
  ix.slot(0, 1, { start: [T + 100, 250001], end: [T + 100, 600000], startOffset: 409600, endOffset: 413696 });
  await patch(ix);
  const res = await recheckRecording(pick(0, 1));
  t.false(res.ok);
  t.regex((res as { reason: string }).reason, /slot 1 now holds start/);
  t.deepEqual(await recheckRecording(pick(0, 0)), { ok: true });
});

test('recheckRecording: the camera writing this hiv file again (new cycle) is not ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick, patch } = await scanned(root);
  const ix = goldenIndex();
  ix.current(1, 0, 2); // wrapped round to file 0, writing slot 2: slots 2 and 3 of the old cycle are being overwritten
  await patch(ix);
  t.false((await recheckRecording(pick(0, 2))).ok);
  t.false((await recheckRecording(pick(0, 3))).ok);
  t.regex(((await recheckRecording(pick(0, 3))) as { reason: string }).reason, /writing hiv00000\.mp4 again/);
});

test('recheckRecording: still writing later in the same file is ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick, patch } = await scanned(root);
  const ix = goldenIndex();
  ix.current(1, 5, 3);
  ix.slot(5, 2, { start: [T + 100200, 0], end: [T + 100260, 0], startOffset: 819200, endOffset: 1228800 });
  await patch(ix);
  t.deepEqual(await recheckRecording(pick(5, 1)), { ok: true });
});

test('recheckRecording: a new cycle that rewrote earlier slots and moved on is not ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick, patch } = await scanned(root);
  // New cycle: slot 0 of file 0 rewritten with one long recording, the camera moved on to file 1.
  const ix = goldenIndex();
  ix.slot(0, 0, { start: [T + 900000, 0], end: [T + 900600, 0], startOffset: 0, endOffset: 268435456 });
  ix.fileRecord(0, { chan: 1, segRecNums: 0, start: T + 900000, end: T + 900600 });
  await patch(ix);
  const res = await recheckRecording(pick(0, 2));
  t.false(res.ok);
  t.regex((res as { reason: string }).reason, /file record of hiv00000\.mp4 no longer covers slot 2/);
  // Same, with the file record not (yet) rewritten: the earlier slot now starts later -> stale tail.
  ix.fileRecord(0, { chan: 1, segRecNums: 3, start: T, end: T + 260 });
  await patch(ix);
  const res2 = await recheckRecording(pick(0, 2));
  t.false(res2.ok);
  t.regex((res2 as { reason: string }).reason, /slot 2 of hiv00000\.mp4 is no longer a valid record \(stale\)/);
});

test('recheckRecording: an earlier slot with broken times does not make a good slot fail', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const ix = goldenIndex();
  // File 6: slot 1 has a far-future start but ends before it (bad-time, skipped); slot 2 is fixed and valid.
  ix.slot(6, 1, { start: [T + 9_000_000, 0], end: [T + 60050, 0], startOffset: 409600, endOffset: 819200 });
  ix.slot(6, 2, { start: [T + 60200, 0], end: [T + 60260, 0], startOffset: 819200, endOffset: 1228800 });
  const cam = await goldenCamera(root, 'cam1', ix.buf, ix.buf);
  const rec = (await scanCamera(cam)).recordings.find((r) => r.fileNo === 6 && r.slot === 2);
  t.truthy(rec);
  t.deepEqual(await recheckRecording(rec!), { ok: true });
});

test('recheckRecording: an emptied file record is not ok; an unreadable index is not ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const { pick, patch, cam } = await scanned(root);
  const ix = goldenIndex();
  ix.fileRecord(6, { chan: 0xffff, segRecNums: 0xffff, start: 0, end: 0 });
  await patch(ix);
  t.false((await recheckRecording(pick(6, 0))).ok);
  t.deepEqual(await recheckRecording(pick(7, 0)), { ok: true });
  await fs.rm(path.join(cam.path, 'datadir0', 'index00.bin'));
  t.false((await recheckRecording(pick(7, 0))).ok);
});

test('recheckRecording: a picture whose earlier slots were rewritten is not ok', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await pictureCamera(root);
  const scan = await scanCamera(cam);
  const pic = scan.recordings.find((r) => r.kind === 'picture' && r.slot === 5)!;
  t.deepEqual(await recheckRecording(pic), { ok: true });
  cam.ix.slot(0, 0, { start: [T + 30 * 86400, 0], end: [T + 30 * 86400, 0], startOffset: 0, endOffset: 25000 });
  await fs.writeFile(pic.indexPath, cam.ix.buf);
  t.false((await recheckRecording(pic)).ok);
});
