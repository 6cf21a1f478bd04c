import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { InputDirError, UnsupportedFormatError } from '../../lib/errors.js';
import { discoverCameras, discoverDatadirs } from '../../lib/hikvision/discovery.js';
import { scanCamera } from '../../lib/hikvision/source.js';
import { goldenIndex, goldenSizes } from './golden.js';
import { goldenCamera, infoBin, removeDir, tempDir, writeDatadir } from './share.js';

test('discovery: sub-folders are cameras, files, dot-folders and NAS litter are ignored, sorted by name', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  for (const d of ['garage', 'Back', 'front', '@eaDir', '#recycle', '#snapshot', 'lost+found', '.hidden'])
    await fs.mkdir(path.join(root, d));
  await fs.writeFile(path.join(root, 'notes.txt'), 'x');
  await fs.symlink(path.join(root, 'garage'), path.join(root, 'linked'));
  const cams = await discoverCameras(root);
  t.deepEqual(
    cams.map((c) => c.name),
    ['Back', 'front', 'garage', 'linked'],
  );
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

test('discoverCameras on a missing folder is a named error', async (t) => {
  await t.throwsAsync(discoverCameras('/nonexistent/hiksync-input'), {
    instanceOf: InputDirError,
    message: /cannot list the input folder/,
  });
});

test('datadirs: without info.bin, datadir* folders are listed (numeric order)', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  for (const d of ['datadir10', 'datadir2', 'datadir0', 'datadirX', 'other']) await fs.mkdir(path.join(root, d));
  t.deepEqual(
    (await discoverDatadirs(root)).map((d) => d.name),
    ['datadir0', 'datadir2', 'datadir10'],
  );
});

test('datadirs: info.bin names the count; a missing datadir is reported', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const cam = await goldenCamera(root);
  await fs.writeFile(path.join(cam.path, 'info.bin'), infoBin(3));
  const scan = await scanCamera(cam);
  t.is(scan.recordings.length, 13);
  t.deepEqual(scan.errors.slice(0, 2), [
    'cam1: datadir1 is missing (info.bin lists 3 datadirs)',
    'cam1: datadir2 is missing (info.bin lists 3 datadirs)',
  ]);
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

test('a SQLite index (firmware 5.5+) is no longer refused: its folder is a datadir, also in the SD-card layout', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const db = Buffer.alloc(4096);
  db.write('SQLite format 3\0', 0, 'latin1');
  const nas = path.join(root, 'nas');
  await fs.mkdir(path.join(nas, 'datadir0'), { recursive: true });
  await fs.writeFile(path.join(nas, 'datadir0', 'record_db_index00'), db);
  t.deepEqual(await discoverDatadirs(nas), [{ name: 'datadir0', path: path.join(nas, 'datadir0') }]);
  const sd = path.join(root, 'sd');
  await fs.mkdir(sd);
  await fs.writeFile(path.join(sd, 'record_db_index00'), db);
  t.deepEqual(await discoverDatadirs(sd), [{ name: '.', path: sd }]);
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
    const err = await t.throwsAsync(discoverDatadirs(cam), {
      instanceOf: UnsupportedFormatError,
      message: /DVR\/NVR disk \(HIKBTREE\)/,
    });
    t.is(err.file, path.join(cam, image));
    const scan = await scanCamera({ name: 'dvr', path: cam });
    t.is(scan.skipped.unsupported, 1);
    // Says what it found and how to send a sample.
    t.true(scan.errors[0]!.includes(`found ${image}`));
    t.true(scan.errors[0]!.includes('hiksync inspect <folder> --bundle FILE'));
  });
}
