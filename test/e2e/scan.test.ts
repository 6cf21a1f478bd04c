/**
 * `hiksync scan --json` through the built CLI lists exactly the synthetic writer's ground truth: every real
 * recording and picture, no stale or open record, planned names included.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Recording } from '../../lib/hikvision/types.js';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { runCli, tmp } from '../helpers/cli.js';

/** What `scan --json` prints, for the fields this test reads. */
interface ScanReport {
  cameras: Array<{
    camera: string;
    tag: string;
    skipped: Record<string, number>;
    recordings: Array<Recording & { output: string }>;
  }>;
}

test('scan --json lists exactly the real recordings, none of the stale or open slots', async (t) => {
  const dir = await tmp(t, 'hiksync-scan-');
  const truth = await writeSyntheticShare({
    root: dir,
    seed: 21,
    cameras: [
      { name: 'Camera-Tuin', codec: 'h265', datadirs: 2, infoBin: true, events: 26, pictures: 6 },
      {
        name: 'Camera-Oprit',
        codec: 'h264',
        sdLayout: true,
        events: 18,
        pictures: 3,
        pictureStride: 256,
        indexVersion: 3,
      },
      { name: 'Camera-Achter', codec: 'h264', infoBin: false, events: 4 },
    ],
  });
  t.true(truth.cameras.some((c) => c.ringWrapped && c.stale.length > 0));

  const r = runCli(['scan', '--input', dir, '--json', '--camera-translation', 'Camera-Tuin:garden']);
  t.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ScanReport;
  t.deepEqual(report.cameras.map((c) => c.camera).sort(), truth.cameras.map((c) => c.name).sort());

  const key = (x: {
    camera: string;
    datadir: string;
    kind: string;
    fileNo: number;
    slot: number;
    start: { sec: number; usec: number };
    startOffset: number;
    endOffset: number;
  }) =>
    `${x.camera}|${x.datadir}|${x.kind}|${x.fileNo}|${x.slot}|${x.start.sec}.${x.start.usec}|${x.startOffset}|${x.endOffset}`;
  const listed = report.cameras
    .flatMap((c) => c.recordings)
    .map(key)
    .sort();
  const expected = truth.cameras
    .flatMap((c) => c.recordings)
    .map(key)
    .sort();
  t.deepEqual(listed, expected);
  const skippedKeys = new Set(
    truth.cameras
      .flatMap((c) => [...c.open, ...c.stale])
      .map((s) => `${s.datadir}|${s.kind}|${s.fileNo}|${s.slot}|${s.start.sec}.${s.start.usec}`),
  );
  for (const rec of report.cameras.flatMap((c) => c.recordings)) {
    t.false(
      skippedKeys.has(`${rec.datadir}|${rec.kind}|${rec.fileNo}|${rec.slot}|${rec.start.sec}.${rec.start.usec}`),
      'no stale/open record listed',
    );
  }
  const garden = report.cameras.find((c) => c.camera === 'Camera-Tuin');
  if (!garden) return t.fail('Camera-Tuin is not in the report');
  t.is(garden.tag, 'garden');
  t.true(garden.recordings.every((x) => typeof x.id === 'string' && x.output.startsWith('garden/')));
  t.true((garden.skipped.open ?? 0) >= 1 && (garden.skipped.stale ?? 0) >= 1, JSON.stringify(garden.skipped));
  const outputs = new Set(report.cameras.flatMap((c) => c.recordings.map((x) => x.output)));
  t.is(outputs.size, expected.length, 'every planned name is distinct');

  const human = runCli(['scan', '--input', dir, '--camera-translation', 'Camera-Tuin:garden']);
  t.is(human.code, 0);
  t.regex(human.stdout, /garden \(Camera-Tuin\): 2 datadir\(s\)/);
});

test('run on an empty input folder (an unmounted share) fails loudly instead of reporting "nothing new"', async (t) => {
  const dir = await tmp(t, 'hiksync-empty-');
  await fs.mkdir(path.join(dir, 'in'));
  const r = runCli(['run', '--input', path.join(dir, 'in'), '--output', path.join(dir, 'out')]);
  t.is(r.code, 66, 'EX_NOINPUT: not "some recordings failed"');
  t.regex(r.stderr, /no camera folders in .*mounted/);
});
