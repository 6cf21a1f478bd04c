/**
 * The live camera is the camera the share writer describes, recording on: after k steps the share holds what
 * writeSyntheticShare writes with k more recordings (same slots, same bytes), its ground truth says which
 * recordings the ring took back, and hiksync's own reader lists exactly the recordings still on the camera.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ShareOptionsError } from '../../../tools/synthetic/errors.js';
import { changedRuns, LiveCamera } from '../../../tools/synthetic/live-camera.js';
import { writeSyntheticShare, type SyntheticCamera } from '../../../tools/synthetic/share-writer.js';
import type { TruthRecording } from '../../../tools/synthetic/truth-types.js';
import { runCli, tmp } from '../../helpers/cli.js';

const SEED = 41;
const CAMERAS: SyntheticCamera[] = [
  {
    name: 'cam-nas',
    codec: 'h264',
    audio: 'aac',
    datadirs: 2,
    avFiles: 3,
    fileSize: 256 * 1024,
    events: 6,
    lengthMix: [3, 8, 'short', 5, 12, 2, 6],
  },
  {
    name: 'cam-sd',
    codec: 'h265',
    audio: 'none',
    sdLayout: true,
    avFiles: 4,
    fileSize: 192 * 1024,
    events: 5,
    indexVersion: 3,
    lengthMix: [4, 'short', 9, 2],
  },
];

const identity = (r: TruthRecording) =>
  `${r.camera}|${r.datadir}|${r.fileNo}|${r.slot}|${r.start.sec}.${r.start.usec}|${r.startOffset}|${r.endOffset}|${r.frames}|${r.part}|${r.continues}`;

const where = (
  r: Pick<TruthRecording, 'camera' | 'datadir' | 'fileNo' | 'slot' | 'start' | 'startOffset' | 'endOffset'>,
) => `${r.camera}|${r.datadir}|${r.fileNo}|${r.slot}|${r.start.sec}.${r.start.usec}|${r.startOffset}|${r.endOffset}`;

async function bytesOf(root: string, r: TruthRecording): Promise<Buffer> {
  const fh = await fs.open(path.join(root, r.source), 'r');
  try {
    const b = Buffer.alloc(r.endOffset - r.startOffset);
    await fh.read(b, 0, b.length, r.startOffset);
    return b;
  } finally {
    await fh.close();
  }
}

test('after k steps the live share is the share writeSyntheticShare writes with k more recordings', async (t) => {
  const root = await tmp(t, 'hiksync-live-cam-');
  const live = path.join(root, 'live');
  const truth = await writeSyntheticShare({ root: live, seed: SEED, cameras: CAMERAS });
  const steps = 30;
  const stillOnCamera: string[] = [];
  for (const [c, cam] of CAMERAS.entries()) {
    let clock = 1000;
    const camera = await LiveCamera.attach({ root: live, seed: SEED, camera: cam, now: () => clock++ });
    t.teardown(() => camera.close());
    let overwritten = 0;
    for (let k = 0; k < steps; k++) overwritten += (await camera.step()).overwritten;
    await camera.close();
    const recordings = camera.recordings();
    t.true(overwritten > 0, `${cam.name}: the ring wrapped and took recordings back`);
    t.is(recordings.filter((r) => r.overwrittenAt !== undefined).length, overwritten);

    const fresh = path.join(root, `fresh-${c}`);
    const expected = await writeSyntheticShare({
      root: fresh,
      seed: SEED,
      cameras: [{ ...cam, events: cam.events + steps }],
    });
    const onCamera = recordings.filter((r) => r.overwrittenAt === undefined);
    stillOnCamera.push(...onCamera.map(where));
    const want = expected.cameras[0]!.recordings;
    t.deepEqual(onCamera.map(identity).sort(), want.map(identity).sort(), `${cam.name}: the same recordings`);
    for (const r of onCamera) {
      t.true((await bytesOf(live, r)).equals(await bytesOf(fresh, r)), `${identity(r)}: the same bytes`);
    }
    // The index past the header is identical: slots (stale ones and the open one too) and FileRecords.
    for (const d of expected.cameras[0]!.datadirs) {
      for (const name of ['index00.bin', 'index01.bin']) {
        const a = await fs.readFile(path.join(live, cam.name, d, name));
        const b = await fs.readFile(path.join(fresh, cam.name, d, name));
        t.true(a.subarray(1280).equals(b.subarray(1280)), `${cam.name}/${d}/${name}: records as the writer's`);
      }
    }
    // What the share held at attach was finished then; the ring took the oldest back, in recording order.
    const initial = truth.cameras[c]!.recordings.filter((r) => r.kind === 'video');
    t.is(recordings.filter((r) => r.finishedStep === 0).length, initial.length);
    const lost = recordings.filter((r) => r.overwrittenAt !== undefined);
    const kept = recordings.filter((r) => r.overwrittenAt === undefined);
    const usec = (r: TruthRecording) => r.start.sec * 1e6 + r.start.usec;
    t.true(
      Math.max(...lost.map(usec)) < Math.min(...kept.map(usec)),
      'the ring takes back the oldest recordings first',
    );
    for (const r of recordings) {
      if (r.overwrittenAt !== undefined) t.true(r.overwrittenAt > r.finishedAt, `${identity(r)}: lost after finished`);
      if (r.finishedStep > 0) t.true(r.finishedAt > 1000, 'finished during a step');
    }
  }

  // hiksync's own reader lists exactly the recordings still on the camera.
  const scan = runCli(['scan', '--input', live, '--json']);
  t.is(scan.code, 0, scan.stderr);
  type Listed = Parameters<typeof where>[0] & { kind: string };
  const listed = JSON.parse(scan.stdout) as { cameras: Array<{ recordings: Listed[] }> };
  const videos = listed.cameras.flatMap((c) => c.recordings.filter((r) => r.kind === 'video'));
  t.deepEqual(videos.map(where).sort(), stillOnCamera.sort());
});

test('a share written with other options is refused', async (t) => {
  const root = await tmp(t, 'hiksync-live-cam-');
  await writeSyntheticShare({ root, seed: SEED, cameras: [CAMERAS[0]!] });
  await t.throwsAsync(LiveCamera.attach({ root, seed: SEED + 1, camera: CAMERAS[0]! }), {
    instanceOf: ShareOptionsError,
  });
  await t.throwsAsync(LiveCamera.attach({ root, seed: SEED, camera: { ...CAMERAS[0]!, events: 7 } }), {
    instanceOf: ShareOptionsError,
  });
  await t.throwsAsync(LiveCamera.attach({ root, seed: SEED, camera: { ...CAMERAS[0]!, indexFormat: 'sqlite' } }), {
    instanceOf: ShareOptionsError,
    message: /writes the binary index \(index00\.bin\) only/,
  });
});

test('changedRuns: merged 16-byte runs where two tables differ', (t) => {
  const a = Buffer.alloc(128);
  const b = Buffer.from(a);
  b[3] = 1;
  b[20] = 1;
  b[70] = 1;
  t.deepEqual(changedRuns(a, b, 128), [
    [0, 32],
    [64, 80],
  ]);
  t.deepEqual(changedRuns(a, a, 128), []);
});
