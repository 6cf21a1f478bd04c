/**
 * End to end on a mixed share: a camera with the binary index (index00.bin) next to cameras with the SQLite index of
 * firmware 5.5+ (record_db_index00 + event_db_index00), one of them with an index00.bin left from older firmware. The
 * BUILT CLI extracts both kinds with the same checks as test/e2e/run.test.ts: exactly the real recordings, playable
 * MP4s with the fixture's frames, verbatim JPEGs, a sound output tree; a rerun writes nothing.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { runCli, tmp } from '../helpers/cli.js';
import { decodeErrors, ffprobe, frameMd5 } from '../helpers/media-tools.js';
import { expectedNames, fixtureFrames } from './expected-outputs.js';
import { assertSoundOutputTree, listOutputTree } from '../helpers/output-tree.js';

const CAMERAS = [
  { name: 'old-fw', codec: 'h264' as const, audio: 'aac' as const, events: 14, pictures: 3 },
  {
    name: 'new-fw',
    codec: 'h265' as const,
    audio: 'aac' as const,
    datadirs: 2,
    events: 30,
    pictures: 4,
    indexFormat: 'sqlite' as const,
  },
  {
    name: 'new-fw-sd',
    codec: 'h264' as const,
    audio: 'alaw' as const,
    sdLayout: true,
    events: 12,
    indexFormat: 'sqlite' as const,
  },
];

function runArgs(share: string, out: string): string[] {
  return ['run', '--input', share, '--output', out, '--json', '--retention-days', '0', '--workers', '2'];
}

test('run on a share of binary-index and SQLite-index cameras extracts both completely and correctly', async (t) => {
  const share = await tmp(t, 'hiksync-e2e-sqlite-share-');
  const out = await tmp(t, 'hiksync-e2e-sqlite-out-');
  const truth = await writeSyntheticShare({ root: share, seed: 21, cameras: CAMERAS });
  // An upgraded camera keeps the index00.bin of its old firmware: the database wins, the old index is not read.
  const leftover = path.join(share, 'new-fw', 'datadir0', 'index00.bin');
  await fs.copyFile(path.join(share, 'old-fw', 'datadir0', 'index00.bin'), leftover);
  const sqliteCams = truth.cameras.filter((c) => c.indexFormat === 'sqlite');
  t.is(sqliteCams.length, 2);
  t.true(
    sqliteCams.some((c) => c.ringWrapped && c.stale.length > 0),
    'a SQLite camera has wrapped and kept stale rows',
  );

  const scan = runCli(['scan', '--input', share]);
  t.is(scan.code, 0, scan.stderr + scan.stdout);
  t.regex(scan.stdout, /new-fw: 2 datadir\(s\), index version SQLite/);
  t.regex(
    scan.stdout,
    /note: new-fw\/datadir0: record_db_index00 \(SQLite, firmware 5\.5\+\) used; index00\.bin ignored/,
  );
  t.regex(scan.stdout, /old-fw: 1 datadir\(s\), index version 2/);

  const expected = expectedNames(truth, (c) => c);
  const first = runCli(runArgs(share, out));
  t.is(first.code, 0, first.stderr);
  t.is(first.summary?.totals.failed, 0);
  t.is(first.summary?.totals.written, expected.size);
  t.deepEqual(await listOutputTree(out), [...expected.keys()].sort(), 'exactly the real recordings and pictures');
  t.true(
    [...expected.keys()].some((k) => /^new-fw.*-2\.mp4$/.test(k)),
    'a SQLite camera has same-second recordings (whole seconds only)',
  );

  for (const [rel, rec] of expected) {
    const file = path.join(out, rel);
    if (rec.kind === 'picture') {
      const src = await fs.readFile(path.join(share, rec.source));
      t.true(Buffer.compare(await fs.readFile(file), src.subarray(rec.jpeg!.start, rec.jpeg!.end)) === 0, rel);
      continue;
    }
    const probe = await ffprobe('-count_frames', '-show_format', '-show_streams', file);
    t.regex(probe.format?.format_name ?? '', /mp4/, `${rel}: an MP4 container`);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    t.is(video?.codec_name, rec.codec === 'h265' ? 'hevc' : 'h264', `${rel}: codec`);
    t.is(Number(video?.nb_read_frames), rec.frames, `${rel}: the source's frame count`);
    const audio = probe.streams.find((s) => s.codec_type === 'audio');
    if (rec.audio === 'aac') t.is(audio?.codec_name, 'aac', `${rel}: AAC audio kept`);
    else if (rec.audio === 'none') t.is(audio, undefined, `${rel}: no audio`);
    else t.is(audio?.codec_name, 'flac', `${rel}: ${rec.audio} turned into FLAC (--audio auto)`);
    // The database keeps whole seconds: the index duration is known to a second only.
    const duration = Number(probe.format?.duration);
    t.true(Math.abs(duration - (rec.end.sec - rec.start.sec)) <= 1.2, `${rel}: duration ${duration}`);
    t.is(await decodeErrors(file), '', `${rel}: decodes without errors`);
    const src = await fixtureFrames(rec.fixture);
    const want = Array.from({ length: rec.frames }, (_, i) => src[(rec.fixtureFirstFrame + i) % rec.fixtureFrames]);
    t.deepEqual(await frameMd5(file), want, `${rel}: decoded frames identical to the fixture's`);
    t.is(Math.floor((await fs.stat(file)).mtimeMs / 1000), rec.start.sec, `${rel}: mtime = recording start`);
  }
  await assertSoundOutputTree(t, out, { decode: false });

  const again = runCli(runArgs(share, out));
  t.is(again.code, 0, again.stderr);
  t.is(again.summary?.totals.written, 0);
  t.is(again.summary?.totals.already, expected.size);
});
