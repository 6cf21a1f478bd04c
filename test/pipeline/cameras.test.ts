import test from 'ava';
import { InputDirError } from '../../lib/errors.js';
import type { CameraDir } from '../../lib/hikvision/discovery.js';
import { inspectPointer, MAX_CAMERAS_NAMED, selectCameras } from '../../lib/pipeline/cameras.js';

const ALL: CameraDir[] = ['Camera-Oprit', 'Camera-Tuin'].map((name) => ({ name, path: `/input/${name}` }));
const NO_SHARD = { index: 0, count: 1 };
const tuinIsGarden = new Map([['Camera-Tuin', 'garden']]);

test('--camera takes folder names and tags; none of them in the input is an error (exit 66) naming the cameras', (t) => {
  const byTag = selectCameras('/input', ALL, { shard: NO_SHARD, translation: tuinIsGarden, wanted: ['garden'] });
  t.deepEqual(
    byTag.cameras.map((c) => c.name),
    ['Camera-Tuin'],
  );
  t.deepEqual(byTag.notices, []);
  const err = t.throws(
    () => selectCameras('/input', ALL, { shard: NO_SHARD, translation: tuinIsGarden, wanted: ['nosuchcam'] }),
    { instanceOf: InputDirError },
  );
  t.is(
    err.message,
    '--camera nosuchcam: no camera folder or tag of that name in /input (its cameras: Camera-Oprit, Camera-Tuin (garden))',
  );
  const two = t.throws(
    () => selectCameras('/input', ALL, { shard: NO_SHARD, translation: new Map(), wanted: ['a', 'b'] }),
    { instanceOf: InputDirError },
  );
  t.regex(two.message, /^--camera a, --camera b: no camera folder or tag of those names in \/input/);
});

test('--camera with some names that exist: those are selected, each other name is one notice', (t) => {
  const s = selectCameras('/input', ALL, { shard: NO_SHARD, translation: new Map(), wanted: ['Camera-Oprit', 'x'] });
  t.deepEqual(
    s.cameras.map((c) => c.name),
    ['Camera-Oprit'],
  );
  t.deepEqual(s.notices, ['--camera x: no camera folder or tag of that name in /input']);
});

test('a CAMERA_TRANSLATION entry for a folder that is not there is said, with the folders that are', (t) => {
  const s = selectCameras('/input', ALL, { shard: NO_SHARD, translation: new Map([['Nope', 'x']]) });
  t.deepEqual(s.notices, [
    'CAMERA_TRANSLATION names "Nope", but no camera folder of that name is in /input (its camera folders: Camera-Oprit, Camera-Tuin)',
  ]);
  t.is(s.cameras.length, 2);
  const many: CameraDir[] = Array.from({ length: MAX_CAMERAS_NAMED + 5 }, (_, i) => ({
    name: `cam${String(i).padStart(2, '0')}`,
    path: `/input/cam${i}`,
  }));
  const long = selectCameras('/input', many, { shard: NO_SHARD, translation: new Map([['Nope', 'x']]) });
  t.regex(long.notices[0]!, /cam09, \.\.\. \(15 in all\)\)$/);
});

test('one camera mounted as the input folder itself: one line on how to name it, none once it is named', (t) => {
  const one: CameraDir[] = [{ name: 'input', path: '/input' }];
  const s = selectCameras('/input', one, { shard: NO_SHARD, translation: new Map() });
  t.deepEqual(s.cameras, one, 'it works as it is');
  t.deepEqual(s.notices, [
    '/input holds one camera, not a folder per camera: its files are tagged "input" (input/video/<time>-input.mp4); ' +
      'set CAMERA_TRANSLATION=input:<name>, e.g. input:garden, before the first run to name them after the camera',
  ]);
  t.deepEqual(
    selectCameras('/input', one, { shard: NO_SHARD, translation: new Map([['input', 'garden']]) }).notices,
    [],
  );
  // A share with a single camera FOLDER is the usual layout: nothing to say.
  t.deepEqual(selectCameras('/input', [ALL[0]!], { shard: NO_SHARD, translation: new Map() }).notices, []);
});

test('shards: a camera of another shard is not selected, and --camera naming it is no error', (t) => {
  const shard0 = selectCameras('/input', ALL, { shard: { index: 0, count: 2 }, translation: new Map() });
  const shard1 = selectCameras('/input', ALL, { shard: { index: 1, count: 2 }, translation: new Map() });
  t.is(shard0.cameras.length + shard1.cameras.length, 2);
  for (const cam of ALL) {
    const results = [0, 1].map((index) =>
      selectCameras('/input', ALL, { shard: { index, count: 2 }, translation: new Map(), wanted: [cam.name] }),
    );
    t.is(
      results.reduce((n, r) => n + r.cameras.length, 0),
      1,
      cam.name,
    );
    t.true(results.every((r) => r.notices.length === 0));
  }
});

test('inspectPointer: a camera nothing could be read from, or with an unsupported part, points to inspect --bundle', (t) => {
  const dd = { name: 'datadir0', path: '/in/cam/datadir0', bytesRead: 0 };
  const pointer = inspectPointer({ path: '/in/cam', datadirs: [], skipped: {} });
  t.regex(pointer ?? '', /`hiksync inspect "\/in\/cam"` shows what is there, and `--bundle hiksync-bundle\.tar\.gz`/);
  t.truthy(inspectPointer({ path: '/in/cam', datadirs: [], skipped: { unsupported: 1 } }), 'HIKBTREE, SQLite');
  t.truthy(inspectPointer({ path: '/in/cam', datadirs: [dd], skipped: { unsupported: 1 } }), 'a datadir not read');
  t.is(inspectPointer({ path: '/in/cam', datadirs: [dd], skipped: { stale: 3 } }), undefined, 'a camera that was read');
  t.is(
    inspectPointer({
      path: '/in/cam',
      datadirs: [],
      skipped: { unreadable: 1 },
      unavailable: 'the share is not answering',
    }),
    undefined,
    'a hung share is not a layout problem',
  );
});
