/**
 * A full output volume: a real small tmpfs (needs root, as CI has; a failure to mount fails the test, never skips
 * it). A pass that runs out of space must leave only complete files under final names, record 'done' only for
 * them, count no attempt against the recordings, and the next run after space is freed must finish the job.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { runCli, tmp } from '../helpers/cli.js';
import { assertSoundOutputTree } from '../helpers/output-tree.js';

function mountTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

test('ENOSPC mid-pass: no truncated file under a final name, nothing counted, the next run resumes', async (t) => {
  const root = await tmp(t, 'hiksync-enospc-');
  const share = path.join(root, 'share');
  const out = path.join(root, 'out');
  const truth = await writeSyntheticShare({
    root: share,
    seed: 11,
    cameras: [
      { name: 'cam1', codec: 'h265', audio: 'aac', events: 16, pictures: 4 },
      { name: 'cam2', codec: 'h264', events: 10, pictures: 3 },
    ],
  });
  const total = truth.cameras.reduce((n, c) => n + c.recordings.length, 0);
  execFileSync('mkdir', ['-p', out]);
  mountTmpfs(out, '3m');
  t.teardown(() => execFileSync('umount', ['-l', out]));

  const args = ['run', '--input', share, '--output', out, '--json', '--retention-days', '0', '--workers', '2'];
  const full = runCli(args);
  t.is(full.code, 1, `exit 1 (stderr: ${full.stderr.slice(0, 300)})`);
  t.notRegex(full.stderr, /\n\s+at /, 'no stack trace');
  const written = full.summary?.totals.written ?? 0;
  t.true(written > 0 && written < total, `some written (${written} of ${total}) before the volume filled`);
  t.true(
    (full.summary?.cameras ?? []).some((c) => (c.failed['output-full'] ?? 0) > 0),
    'counted as output-full',
  );
  // The volume filled while files were finished: one renamed into place may still wait for its 'done' line.
  await assertSoundOutputTree(t, out, { decode: false, unsettled: true });

  execFileSync('mount', ['-o', 'remount,size=64m', out]);
  const resumed = runCli(args);
  t.is(resumed.code, 0, resumed.stderr.slice(0, 300));
  const files = await assertSoundOutputTree(t, out);
  t.is(files.length, total, 'every recording and picture exactly once');
  t.is(resumed.summary?.totals.gaveUp, 0, 'the full disk counted no attempt');
});
