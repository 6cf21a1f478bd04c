/**
 * The manifest is lost (deleted, or a new state volume) while the outputs stay. hiksync rebuilds it from the files
 * that are provably its own, never extracts anything twice, and never takes a user's file for its own: a file it
 * does not own is never deleted by retention.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { runCli, tmp } from '../helpers/cli.js';
import { doneEntries, listOutputTree } from '../helpers/output-tree.js';

test("a lost manifest is rebuilt without re-extracting, and a JPEG that is not the camera's is never adopted or deleted", async (t) => {
  const root = await tmp(t, 'hiksync-lost-');
  const share = path.join(root, 'share');
  const out = path.join(root, 'out');
  await writeSyntheticShare({
    root: share,
    seed: 31,
    cameras: [{ name: 'cam1', codec: 'h264', events: 4, pictures: 4 }],
  });
  const run = (...extra: string[]) =>
    runCli(['run', '--input', share, '--output', out, '--json', '--retention-days', '0', ...extra]);
  t.is(run().code, 0);
  const files = await listOutputTree(out);
  const jpegs = files.filter((f) => f.endsWith('.jpg'));
  t.true(jpegs.length >= 2);
  // The user puts their own picture at one of the names: a whole JPEG (here the camera's, with a comment segment
  // added after SOI, so it differs from the camera's picture but is as valid).
  const users = path.join(out, jpegs[0]!);
  const camera = await fs.readFile(users);
  const comment = Buffer.from([0xff, 0xfe, 0x00, 0x06, 0x6d, 0x69, 0x6e, 0x65]); // COM "mine"
  const userBytes = Buffer.concat([camera.subarray(0, 2), comment, camera.subarray(2)]);
  await fs.writeFile(users, userBytes);
  const inodes = new Map<string, number>();
  for (const f of files) inodes.set(f, (await fs.stat(path.join(out, f))).ino);
  await fs.rm(path.join(out, '.hiksync'), { recursive: true });

  const rebuilt = run();
  t.is(rebuilt.code, 0, rebuilt.stderr.slice(0, 300));
  t.is(rebuilt.summary?.totals.written, 0, 'nothing extracted again');
  t.deepEqual(rebuilt.summary?.cameras[0]?.conflicts, [jpegs[0]], "the user's JPEG is reported, not adopted");
  for (const f of files) t.is((await fs.stat(path.join(out, f))).ino, inodes.get(f)!, `${f} untouched`);
  t.deepEqual(await fs.readFile(users), userBytes);
  const owned = (await doneEntries(out)).map((e) => e.output).sort();
  t.deepEqual(
    owned,
    files.filter((f) => f !== jpegs[0]),
    'every other file is owned again',
  );

  // Retention of everything (the synthetic recordings are from 2024): only hiksync's own files go.
  const ret = runCli(['retention', '--output', out, '--retention-days', '1', '--force', '--json']);
  t.is(ret.code, 0, ret.stderr.slice(0, 300));
  t.deepEqual(await listOutputTree(out), [jpegs[0]], "the user's file is all that is left");
  t.deepEqual(await fs.readFile(users), userBytes);
});
