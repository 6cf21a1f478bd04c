/**
 * End to end, as a user runs it: the BUILT CLI (dist/) on synthetic camera shares, outputs checked with
 * ffprobe/ffmpeg against the synthetic writer's ground truth and the fixtures' own frames.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ManifestEntry } from '../../lib/pipeline/manifest-entry.js';
import { writeSyntheticShare, type TruthRecording } from '../../tools/synthetic/share-writer.js';
import { runCli, startCli, tmp, waitUntilPaused } from '../helpers/cli.js';
import { decodeErrors, ffprobe, frameMd5 } from '../helpers/media-tools.js';
import { expectedNames, fixtureFrames } from './expected-outputs.js';

const CAMERAS = [
  {
    name: 'Camera-Tuin',
    codec: 'h265' as const,
    audio: 'aac' as const,
    datadirs: 2,
    infoBin: true,
    events: 24,
    pictures: 5,
  },
  { name: 'Camera-Oprit', codec: 'h264' as const, audio: 'alaw' as const, sdLayout: true, events: 14, pictures: 3 },
  { name: 'Camera-Achter', codec: 'h264' as const, audio: 'mp3' as const, events: 4, pictures: 1 },
];
const TAGS: Record<string, string> = {
  'Camera-Tuin': 'garden',
  'Camera-Oprit': 'driveway',
  'Camera-Achter': 'backyard',
};
const TRANSLATION = 'Camera-Tuin:garden,Camera-Oprit:driveway,Camera-Achter:backyard';

function runArgs(share: string, out: string, extra: string[] = []): string[] {
  return [
    'run',
    '--input',
    share,
    '--output',
    out,
    '--json',
    '--retention-days',
    '0',
    '--camera-translation',
    TRANSLATION,
    '--workers',
    '2',
    ...extra,
  ];
}

async function listOutputs(out: string): Promise<string[]> {
  const files: string[] = [];
  for (const tag of await fs.readdir(out)) {
    if (tag.startsWith('.')) continue;
    for (const folder of await fs.readdir(path.join(out, tag))) {
      for (const f of await fs.readdir(path.join(out, tag, folder))) files.push(`${tag}/${folder}/${f}`);
    }
  }
  return files.sort();
}

async function snapshot(out: string): Promise<string[]> {
  const rows: string[] = [];
  for (const f of await listOutputs(out)) {
    const st = await fs.stat(path.join(out, f));
    rows.push(`${f} ${st.size} ${st.mtimeMs} ${st.ino}`);
  }
  return rows;
}

test.serial(
  'run extracts exactly the real recordings as playable MP4s and verbatim JPEGs; a rerun changes nothing',
  async (t) => {
    const share = await tmp(t, 'hiksync-e2e-share-');
    const out = await tmp(t, 'hiksync-e2e-out-');
    const truth = await writeSyntheticShare({ root: share, seed: 7, cameras: CAMERAS });
    const expected = expectedNames(truth, (c) => TAGS[c]!);
    t.true(
      truth.cameras.some((c) => c.stale.length > 0),
      'the share models stale slots',
    );
    t.true(
      truth.cameras.every((c) => c.open.length > 0),
      'the share models the open segment',
    );

    const first = runCli(runArgs(share, out));
    t.is(first.code, 0, first.stderr);
    t.is(first.summary?.totals.written, expected.size);
    t.is(first.summary?.totals.failed, 0);

    // Exactly the expected files: no stale or open record produced a file, same-second recordings both appear.
    t.deepEqual(await listOutputs(out), [...expected.keys()].sort());
    t.true(
      [...expected.keys()].some((k) => /-(garden|driveway)-2\.(mp4|jpg)$/.test(k)),
      'the share has same-second recordings',
    );

    for (const [rel, rec] of expected) {
      const file = path.join(out, rel);
      if (rec.kind === 'picture') {
        const src = await fs.readFile(path.join(share, rec.source));
        const want = src.subarray(rec.jpeg!.start, rec.jpeg!.end);
        t.true(Buffer.compare(await fs.readFile(file), want) === 0, `${rel}: JPEG bytes identical to the source`);
        continue;
      }
      const probe = await ffprobe('-count_frames', '-show_format', '-show_streams', file);
      t.regex(probe.format?.format_name ?? '', /mp4/, `${rel}: an MP4 container`);
      const video = probe.streams.find((s) => s.codec_type === 'video');
      t.is(video?.codec_name, rec.codec === 'h265' ? 'hevc' : 'h264', `${rel}: codec`);
      if (rec.codec === 'h265') t.is(video?.codec_tag_string, 'hvc1', `${rel}: H.265 tagged hvc1`);
      t.is(Number(video?.nb_read_frames), rec.frames, `${rel}: the source's frame count`);
      const audio = probe.streams.find((s) => s.codec_type === 'audio');
      if (rec.audio === 'aac') t.is(audio?.codec_name, 'aac', `${rel}: AAC audio kept`);
      else if (rec.audio === 'mp3') t.is(audio?.codec_name, 'mp3', `${rel}: MP3 audio kept`);
      // Changed with --audio (default auto): G.711 is no longer dropped from MP4 but decoded and encoded to FLAC.
      else t.is(audio?.codec_name, 'flac', `${rel}: G.711 turned into FLAC`);
      const duration = Number(probe.format?.duration);
      const indexDuration = rec.end.sec - rec.start.sec + (rec.end.usec - rec.start.usec) / 1e6;
      t.true(Math.abs(duration - indexDuration) <= 0.2, `${rel}: duration ${duration} ~ index ${indexDuration}`);
      t.is(await decodeErrors(file), '', `${rel}: decodes without errors`);
      const got = await frameMd5(file);
      const src = await fixtureFrames(rec.fixture);
      const want = Array.from({ length: rec.frames }, (_, i) => src[(rec.fixtureFirstFrame + i) % rec.fixtureFrames]);
      t.deepEqual(got, want, `${rel}: decoded frames identical to the fixture's`);
      const stat = await fs.stat(file);
      t.is(Math.floor(stat.mtimeMs / 1000), rec.start.sec, `${rel}: mtime = recording start (TZ=UTC)`);
      const startIso = new Date(rec.start.sec * 1000).toISOString().replace('.000Z', '.000000Z');
      t.is(probe.format?.tags?.creation_time, startIso, `${rel}: the movie's creation_time = recording start`);
      for (const s of probe.streams) t.is(s.tags?.creation_time, startIso, `${rel}: ${s.codec_type} track's too`);
    }

    // Rerun: nothing new, nothing touched.
    const before = await snapshot(out);
    const second = runCli(runArgs(share, out));
    t.is(second.code, 0, second.stderr);
    t.is(second.summary?.totals.written, 0);
    t.is(second.summary?.totals.already, expected.size);
    t.deepEqual(await snapshot(out), before);

    // The camera records more and wraps its ring: the next run writes exactly the new recordings.
    // (The writer only writes into a fresh folder: the camera's later state goes to a new folder, same camera names.)
    const share2 = await tmp(t, 'hiksync-e2e-share2-');
    const truth2 = await writeSyntheticShare({
      root: share2,
      seed: 7,
      cameras: CAMERAS.map((c) => ({ ...c, events: c.events + 10 })),
    });
    t.true(
      truth2.cameras.some((c) => c.ringWrapped),
      'the ring wrapped',
    );
    const key = (r: TruthRecording) =>
      `${r.camera}|${r.datadir}|${r.kind}|${r.fileNo}|${r.slot}|${r.start.sec}.${r.start.usec}|${r.startOffset}|${r.endOffset}`;
    const old = new Set(truth.cameras.flatMap((c) => c.recordings.map(key)));
    const fresh = truth2.cameras.flatMap((c) => c.recordings).filter((r) => !old.has(key(r)));
    t.true(fresh.length > 0);
    const third = runCli(runArgs(share2, out));
    t.is(third.code, 0, third.stderr);
    t.is(third.summary?.totals.written, fresh.length);
    const after = await listOutputs(out);
    for (const rel of expected.keys()) t.true(after.includes(rel), `${rel} kept after the ring overwrote its source`);
  },
);

test.serial(
  'a run killed with SIGKILL mid-file is finished by the next run: complete outputs, no temporary file, manifest = folder',
  async (t) => {
    const share = await tmp(t, 'hiksync-crash-share-');
    const out = await tmp(t, 'hiksync-crash-out-');
    const truth = await writeSyntheticShare({
      root: share,
      seed: 11,
      cameras: [
        {
          name: 'Camera-Tuin',
          codec: 'h264',
          audio: 'aac',
          events: 12,
          fixture: 'large',
          fileSize: 8 * 1024 * 1024,
          avFiles: 4,
        },
      ],
    });
    const expectedCount = truth.cameras[0]!.recordings.length;
    // The worker stops the process inside its first file (HIKSYNC_PAUSE_AT): killed there, certainly mid-file.
    const { child, exited } = startCli(runArgs(share, out, ['--workers', '1']), { HIKSYNC_PAUSE_AT: 'remux-chunk' });
    t.true(await waitUntilPaused(child), 'stopped inside a file');
    const videoDir = path.join(out, 'garden', 'video');
    t.true(
      (await fs.readdir(videoDir)).some((n) => n.endsWith('.partial')),
      'a temporary file exists',
    );
    child.kill('SIGKILL');
    await exited;

    const again = runCli(runArgs(share, out));
    t.is(again.code, 0, again.stderr);
    const files = await listOutputs(out);
    t.is(files.length, expectedCount);
    t.false(
      files.some((f) => f.includes('.partial')),
      'no temporary file left',
    );
    for (const f of files.filter((f) => f.endsWith('.mp4')))
      t.is(await decodeErrors(path.join(out, f)), '', `${f} is complete`);

    const manifestFile = path.join(out, '.hiksync', 'manifests', 'Camera-Tuin.jsonl');
    const entries = new Map<string, ManifestEntry>();
    for (const line of (await fs.readFile(manifestFile, 'utf8')).trim().split('\n')) {
      const e = JSON.parse(line) as ManifestEntry & { removed?: boolean };
      if (e.removed) entries.delete(e.id);
      else entries.set(e.id, e);
    }
    const done = [...entries.values()].filter((e) => e.status === 'done');
    t.deepEqual(done.map((e) => e.output).sort(), files);
    for (const e of done) t.is((await fs.stat(path.join(out, e.output))).size, e.size);
  },
);
