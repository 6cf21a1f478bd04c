import test from 'ava';
import { scanCamera } from '../../lib/hikvision/source.js';
import { sqlEngineLoaded } from '../../lib/hikvision/sqlite-engine.js';
import { goldenCamera, removeDir, tempDir } from './share.js';

// Its own file: ava runs each file in a process of its own, so no other test has loaded the engine here.
test('a share of binary-index cameras never loads the SQLite engine', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const scan = await scanCamera(await goldenCamera(root));
  t.is(scan.recordings.length, 13);
  t.false(sqlEngineLoaded());
});
