/**
 * What an e2e run must produce, from the synthetic share's ground truth alone: each recording's output path, and the
 * frames of the fixture it was encoded from.
 */
import * as path from 'node:path';
import { recordingId } from '../../lib/hikvision/recording.js';
import type { GroundTruth, TruthRecording } from '../../tools/synthetic/share-writer.js';
import { ROOT } from '../helpers/cli.js';
import { frameMd5 } from '../helpers/media-tools.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures');

/**
 * Expected output path of each truth recording under the tag `tagOf(camera)`: the plain name for the first of a
 * second, then -2, -3 ... in the planner's order (microseconds, then the recording id: whole-second indexes tie).
 */
export function expectedNames(truth: GroundTruth, tagOf: (camera: string) => string): Map<string, TruthRecording> {
  const out = new Map<string, TruthRecording>();
  for (const cam of truth.cameras) {
    const tag = tagOf(cam.name);
    const groups = new Map<string, TruthRecording[]>();
    for (const r of cam.recordings) {
      const key = `${r.kind}:${r.start.sec}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const recs of groups.values()) {
      const id = (r: TruthRecording) => recordingId(r.datadir, r.kind, r);
      recs.sort((a, b) => a.start.usec - b.start.usec || id(a).localeCompare(id(b)));
      recs.forEach((r, i) => {
        const stamp = new Date(r.start.sec * 1000).toISOString().slice(0, 19).replace('T', '_').replace(/:/g, '-');
        const folder = r.kind === 'video' ? 'video' : 'images';
        const ext = r.kind === 'video' ? 'mp4' : 'jpg';
        out.set(`${tag}/${folder}/${stamp}-${tag}${i > 0 ? `-${i + 1}` : ''}.${ext}`, r);
      });
    }
  }
  return out;
}

const fixtureMd5s = new Map<string, Promise<string[]>>();

/** The frame md5s of a video fixture (ffmpeg's decode of the elementary stream), computed once per process. */
export function fixtureFrames(fixture: string): Promise<string[]> {
  let p = fixtureMd5s.get(fixture);
  if (!p) {
    const fmt = fixture.endsWith('.h265') ? 'hevc' : 'h264';
    fixtureMd5s.set(fixture, (p = frameMd5(path.join(FIXTURES, fixture), ['-f', fmt])));
  }
  return p;
}
