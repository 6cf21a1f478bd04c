import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { scanCamera } from '../../lib/hikvision/source.js';
import { GOLDEN_RECORDS, GOLDEN_SKIPPED } from './golden.js';
import { IndexBytes } from './index-bytes.js';
import { goldenCamera, hivName, infoBin, pictureCamera, removeDir, sparseFile, tempDir } from './share.js';

const USED = 1280 + 32 * 8 + 8 * 256 * 80;

const key = (r: { fileNo: number; slot: number }) => `${r.fileNo}/${r.slot}`;

test('scanCamera lists the golden recordings sorted by time, with paths, ids and the index used', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  const scan = await scanCamera(cam);
  t.deepEqual(scan.errors, []);
  const expectedOrder = [...GOLDEN_RECORDS]
    .sort((a, b) => a.start.sec - b.start.sec || a.start.usec - b.start.usec)
    .map(key);
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
  t.like(scan.datadirs[0], {
    name: 'datadir0',
    version: 2,
    avFiles: 8,
    modifyTimes: '4242',
    bytesRead: 1280 + USED + 8,
  });
  t.is(scan.datadirs[0]!.videoIndex, path.join(cam.path, 'datadir0', 'index00.bin'));
  // Stable: a second scan gives the same ids.
  t.deepEqual(
    (await scanCamera(cam)).recordings.map((x) => x.id),
    scan.recordings.map((x) => x.id),
  );
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
  t.deepEqual(scan.errors, [
    'cam1/datadir1: no index00.bin or index01.bin and no record_db_index00 (found: an empty folder); if this is a ' +
      'layout hiksync does not know yet, see `hiksync inspect <folder> --bundle FILE`',
  ]);
  t.is(scan.skipped.unreadable, 1);
});

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
