/**
 * Odd camera folder names, symlinks inside the share and hostile tags: hiksync reads through whatever the share
 * holds, but writes only inside the output folder, under one folder per camera.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { runCli, tmp } from '../helpers/cli.js';
import { assertSoundOutputTree, listOutputTree } from '../helpers/output-tree.js';

/** Every path under `dir` with its size and mtime, to prove nothing outside the output changed. */
async function fingerprint(dir: string): Promise<string[]> {
  const rows: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = await fs.lstat(p);
      rows.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return rows.sort();
}

test('spaces, unicode, a leading dash and a symlinked camera folder: outputs only under the output folder', async (t) => {
  const root = await tmp(t, 'hiksync-names-');
  const share = path.join(root, 'share');
  const elsewhere = path.join(root, 'elsewhere');
  const out = path.join(root, 'out');
  const names = ['cam one', 'kamera-üñí', '-dash'];
  const truth = await writeSyntheticShare({
    root: share,
    seed: 41,
    cameras: names.map((name) => ({ name, codec: 'h264' as const, events: 2, pictures: 1 })),
  });
  // A camera that lives outside the share, linked into it (as NAS users do with shared folders).
  const outside = await writeSyntheticShare({
    root: elsewhere,
    seed: 42,
    cameras: [{ name: 'linked', codec: 'h264', events: 2, pictures: 1 }],
  });
  await fs.symlink(path.join(elsewhere, 'linked'), path.join(share, 'linked'));
  const before = { share: await fingerprint(share), elsewhere: await fingerprint(elsewhere) };

  const r = runCli(['run', '--input', share, '--output', out, '--json', '--retention-days', '0']);
  t.is(r.code, 0, r.stderr.slice(0, 300));
  const files = await assertSoundOutputTree(t, out, { decode: false });
  const total = [...truth.cameras, ...outside.cameras].reduce((n, c) => n + c.recordings.length, 0);
  t.is(files.length, total);
  t.deepEqual([...new Set(files.map((f) => f.split('/')[0]))].sort(), [...names, 'linked'].sort(), 'one folder each');
  t.deepEqual(await fingerprint(share), before.share, 'the share is read-only to hiksync');
  t.deepEqual(await fingerprint(elsewhere), before.elsewhere, 'nothing written through the symlink');
});

for (const [translation, why] of [
  ['cam:../escape', /\.\./],
  ['cam:a/b', /slash/],
  ['cam:..', /\.\./],
] as const) {
  test(`CAMERA_TRANSLATION=${translation} is refused (78) before anything is written`, async (t) => {
    const root = await tmp(t, 'hiksync-tag-');
    const share = path.join(root, 'share');
    const out = path.join(root, 'out');
    await writeSyntheticShare({ root: share, seed: 43, cameras: [{ name: 'cam', codec: 'h264', events: 1 }] });
    const r = runCli(['run', '--input', share, '--output', out, '--retention-days', '0'], {
      CAMERA_TRANSLATION: translation,
    });
    t.is(r.code, 78);
    t.regex(r.stderr, why);
    t.deepEqual(await listOutputTree(root).then((f) => f.filter((p) => !p.startsWith('share/'))), []);
  });
}
