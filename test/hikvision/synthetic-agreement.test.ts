/**
 * Cross-check with the project's independently written synthetic camera (tools/synthetic): on wrapped rings, both
 * picture strides, two datadirs and the SD layout, the scanner lists exactly the writer's ground truth. (The
 * golden tests do not use tools/synthetic, so a shared misreading would show up here as a disagreement.)
 */
import test from 'ava';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { discoverCameras, scanCamera } from '../../lib/hikvision/source.js';
import { removeDir, tempDir } from './share.js';

const key = (r: {
  datadir: string;
  kind: string;
  fileNo: number;
  slot: number;
  start: { sec: number; usec: number };
  end: { sec: number; usec: number };
  startOffset: number;
  endOffset: number;
}) =>
  `${r.datadir}/${r.kind}/${r.fileNo}/${r.slot}/${r.start.sec}.${r.start.usec}-${r.end.sec}.${r.end.usec}/${r.startOffset}-${r.endOffset}`;

test('scanner lists exactly the synthetic ground truth (wrapped rings, strides 4096 and 256, SD layout, v3)', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const base = { codec: 'h264' as const, fixture: 'small' as const, sparse: true };
  const truth = await writeSyntheticShare({
    root,
    seed: 11,
    cameras: [
      { ...base, name: 'wrap-256', events: 120, avFiles: 3, pictures: 300, pictureStride: 256 },
      { ...base, name: 'wrap-4096', events: 200, avFiles: 3, datadirs: 2, pictures: 600, pictureStride: 4096 },
      { ...base, name: 'sd-v3', sdLayout: true, events: 40, pictures: 10, indexVersion: 3 },
    ],
  });
  const cams = await discoverCameras(root);
  t.deepEqual(
    cams.map((c) => c.name),
    ['sd-v3', 'wrap-256', 'wrap-4096'],
  );
  for (const ct of truth.cameras) {
    const scan = await scanCamera(cams.find((c) => c.name === ct.name)!);
    t.deepEqual(scan.errors, [], ct.name);
    t.true(ct.ringWrapped, `${ct.name} should exercise a wrapped ring`);
    t.deepEqual(scan.recordings.map(key).sort(), ct.recordings.map(key).sort(), ct.name);
    t.is(scan.datadirs[0]!.pictureSlotsPerFile, ct.picture.slotsPerFile, ct.name);
    // Every slot the writer marks stale is skipped, not listed.
    const listed = new Set(
      scan.recordings.map((r) => `${r.datadir}/${r.kind}/${r.fileNo}/${r.slot}/${r.start.sec}.${r.start.usec}`),
    );
    for (const s of [...ct.stale, ...ct.open])
      t.false(
        listed.has(`${s.datadir}/${s.kind}/${s.fileNo}/${s.slot}/${s.start.sec}.${s.start.usec}`),
        `${ct.name} ${s.reason}`,
      );
  }
});

test('scanner lists exactly the synthetic ground truth of SQLite-index cameras (wrapped, stale rows kept or not)', async (t) => {
  const root = await tempDir();
  t.teardown(() => removeDir(root));
  const base = { codec: 'h264' as const, fixture: 'small' as const, sparse: true, indexFormat: 'sqlite' as const };
  const truth = await writeSyntheticShare({
    root,
    seed: 12,
    cameras: [
      { ...base, name: 'db-keeps', events: 150, avFiles: 3, datadirs: 2, pictures: 40 },
      { ...base, name: 'db-deletes', events: 120, avFiles: 3, keepStaleRows: false },
      { ...base, name: 'db-sd', sdLayout: true, events: 30, pictures: 5 },
    ],
  });
  const cams = await discoverCameras(root);
  for (const ct of truth.cameras) {
    const scan = await scanCamera(cams.find((c) => c.name === ct.name)!);
    t.deepEqual(scan.errors, [], ct.name);
    t.is(scan.datadirs[0]!.videoFormat, 'sqlite', ct.name);
    t.deepEqual(scan.recordings.map(key).sort(), ct.recordings.map(key).sort(), ct.name);
    if (ct.name !== 'db-sd') t.true(ct.ringWrapped, `${ct.name} should exercise a wrapped ring`);
    t.is(scan.skipped.stale ?? 0, ct.stale.length, `${ct.name}: every stale row counted`);
    t.is(scan.skipped.open, 1, ct.name);
  }
  t.true(truth.cameras[0]!.stale.length > 0, 'the wrapped camera keeps stale rows');
  // Same-second starts exist (whole seconds only) and still give distinct ids.
  const keeps = truth.cameras[0]!.recordings.filter((r) => r.kind === 'video');
  const seconds = new Set(keeps.map((r) => r.start.sec));
  t.true(seconds.size < keeps.length, 'some recordings start in the same second');
});
