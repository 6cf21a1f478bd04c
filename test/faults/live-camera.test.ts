/**
 * A live camera rewrites a hiv file BEFORE it updates the index (it reuses the oldest file of the ring and writes
 * the new recording from offset 0 while the index still lists the old slots). The index alone cannot tell: the
 * frames written must carry the PTS the slot's stamps promise, or no file is written for that recording.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import type { TruthRecording } from '../../tools/synthetic/truth-types.js';
import { runCli, tmp } from '../helpers/cli.js';
import { assertSoundOutputTree } from '../helpers/output-tree.js';

async function readRange(root: string, r: TruthRecording, length = r.endOffset - r.startOffset): Promise<Buffer> {
  const fh = await fs.open(path.join(root, r.source), 'r');
  try {
    const b = Buffer.alloc(length);
    await fh.read(b, 0, length, r.startOffset);
    return b;
  } finally {
    await fh.close();
  }
}

async function overwrite(root: string, r: TruthRecording, bytes: Buffer): Promise<void> {
  const fh = await fs.open(path.join(root, r.source), 'r+');
  try {
    await fh.write(bytes, 0, bytes.length, r.startOffset);
  } finally {
    await fh.close();
  }
}

for (const kind of ['the first 300 kB', 'the whole range'] as const) {
  test(`a recording whose hiv bytes were rewritten under an unchanged index (${kind}) gives no file`, async (t) => {
    const root = await tmp(t, 'hiksync-live-');
    const share = path.join(root, 'share');
    const out = path.join(root, 'out');
    const truth = await writeSyntheticShare({
      root: share,
      seed: 23,
      cameras: [{ name: 'cam1', codec: 'h264', audio: 'aac', events: 12, pictures: 0 }],
    });
    const size = (r: TruthRecording) => r.endOffset - r.startOffset;
    const videos = truth.cameras[0]!.recordings.filter((r) => r.kind === 'video').sort((a, b) => size(b) - size(a));
    // The two longest recordings, in different hiv files: the camera writes the intruder over the victim's bytes.
    const victim = videos[0]!;
    const intruder = videos.find((r) => r.source !== victim.source && size(r) > 300_000)!;
    t.truthy(intruder, 'the share has a second long recording in another hiv file');
    const length = Math.min(size(victim), size(intruder));
    const take = kind === 'the first 300 kB' ? 300_000 : length;
    await overwrite(share, victim, await readRange(share, intruder, take));

    const r = runCli(['run', '--input', share, '--output', out, '--json', '--retention-days', '0', '--workers', '2']);
    t.is(r.code, 1, r.stderr.slice(0, 300));
    t.deepEqual(r.summary?.cameras[0]?.failed, { 'source-changed': 1 });
    const files = await assertSoundOutputTree(t, out, { decode: false });
    t.is(files.length, truth.cameras[0]!.recordings.length - 1, 'every other recording written');
  });
}
