/**
 * Checking a soak's output against the live cameras' ground truth, from the outside: what is on disk, what the
 * manifests say, and what ffmpeg decodes. Every output must be a recording a camera FINISHED, with exactly that
 * recording's frames (bit-exact against the fixture the synthetic camera encoded them from) and no decode error;
 * every picture byte for byte the camera's; every recording that two completed passes could have seen before the
 * ring took it back must be there, once.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { recordingId } from '../../lib/hikvision/recording.js';
import { findPackageRoot } from '../../tools/synthetic/fixtures.js';
import type { TruthRecording } from '../../tools/synthetic/truth-types.js';
import { doneManifestLines, lastManifestLines, listOutputTree } from '../../tools/output-tree.js';

const run = promisify(execFile);

/** A recording of the truth, with the window in which the index listed it. */
export interface Expected {
  truth: TruthRecording;
  /** ms: when the index first listed it as finished. */
  finishedAt: number;
  /** ms: when the ring took it back (unset: still on the camera). */
  overwrittenAt?: number;
  /** Completed passes that ran entirely inside [finishedAt, overwrittenAt); two or more: it must have an output. */
  passesInside: number;
  /** Which pass(es) that was, for the report. */
  seenBy?: string;
}

export interface VerifyReport {
  /** Finished recordings and pictures in the truth. */
  finished: number;
  required: number;
  /** Outputs on disk (= manifest 'done' entries when sound). */
  outputs: number;
  /** Required ones with their output (should be all). */
  requiredPresent: number;
  /** Not required (the ring took them back before two completed passes could see them) but written anyway. */
  extractedAtRisk: number;
  /** Not required and absent: lost to the ring before two completed passes could see them. */
  lostBeforeSeen: number;
  /** Of those lost: the ones ONE completed pass ran for (it may have read the index mid-write), with their fate. */
  missedWithOnePass: string[];
  /** Recordings exactly one completed pass ran for. */
  onePassWindows: number;
  /** Everything wrong, one line each: missing, corrupt, unknown (stale/open/foreign) outputs, temporaries. */
  problems: string[];
  /** Video outputs decoded and compared frame by frame. */
  framesCompared: number;
}

export function ffmpegPath(): string {
  const req = createRequire(path.join(findPackageRoot(), 'package.json'));
  try {
    return (req('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  } catch {
    return 'ffmpeg';
  }
}

interface FrameHashes {
  /** md5 of each decoded video frame. */
  video: string[];
  /** What ffmpeg printed at -v error (empty for a clean file). */
  errors: string;
}

/** Decode every stream of `file`; md5 of each video frame. */
async function decodeFrames(ffmpeg: string, file: string, inputArgs: string[] = []): Promise<FrameHashes> {
  const { stdout, stderr } = await run(
    ffmpeg,
    ['-nostdin', '-hide_banner', '-v', 'error', ...inputArgs, '-i', file, '-map', '0', '-f', 'framemd5', '-'],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const videoStream = /^#media_type (\d+): video$/m.exec(stdout)?.[1];
  const video = stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && l.split(',')[0]!.trim() === videoStream)
    .map((l) => l.slice(l.lastIndexOf(',') + 1).trim());
  return { video, errors: stderr.trim() };
}

/** Run `fn` over `items`, `n` at a time. */
async function eachLimited<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

export async function verifySoak(opts: {
  share: string;
  out: string;
  expected: Expected[];
  ffmpeg?: string;
  /** ffmpeg processes at once. */
  concurrency?: number;
}): Promise<VerifyReport> {
  const ffmpeg = opts.ffmpeg ?? ffmpegPath();
  const problems: string[] = [];
  const byId = new Map<string, Expected>();
  for (const e of opts.expected) byId.set(recordingId(e.truth.datadir, e.truth.kind, e.truth), e);

  const files = await listOutputTree(opts.out);
  for (const n of await fs.readdir(path.join(opts.out, '.hiksync'), { recursive: true }).catch(() => [] as string[]))
    if (/\.(tmp|partial)$/.test(n)) problems.push(`temporary file left in the state folder: .hiksync/${n}`);
  const stray = files.filter((f) => !/^[^/]+\/(video|images)\/[^/.][^/]*\.(mp4|jpg)$/.test(f));
  for (const f of stray) problems.push(`stray or temporary file: ${f}`);
  const done = await doneManifestLines(opts.out);
  const listed = new Set([...done.values()].map((e) => e.output));
  for (const f of files) if (!stray.includes(f) && !listed.has(f)) problems.push(`not in a manifest: ${f}`);
  if (listed.size !== done.size) problems.push('an output is listed twice in the manifests');
  for (const [id, e] of done) {
    const st = await fs.stat(path.join(opts.out, e.output)).catch(() => undefined);
    if (!st) problems.push(`manifest lists a missing file: ${e.output}`);
    else if (st.size !== e.size) problems.push(`${e.output}: ${st.size} bytes, the manifest says ${e.size}`);
    if (!byId.has(id)) problems.push(`${e.output}: not a recording any camera finished (stale or open slot?)`);
  }

  // Fixture frames, decoded once: what every output's frames must be.
  const fixtureFrames = new Map<string, Promise<string[]>>();
  const framesOf = (fixture: string): Promise<string[]> => {
    let p = fixtureFrames.get(fixture);
    if (!p) {
      const file = path.join(findPackageRoot(), 'test', 'fixtures', fixture);
      p = decodeFrames(ffmpeg, file, ['-f', fixture.endsWith('.h265') ? 'hevc' : 'h264']).then((h) => h.video);
      fixtureFrames.set(fixture, p);
    }
    return p;
  };

  let framesCompared = 0;
  const checks = [...done].filter(([id]) => byId.has(id));
  await eachLimited(checks, opts.concurrency ?? 2, async ([id, entry]) => {
    const r = byId.get(id)!.truth;
    const file = path.join(opts.out, entry.output);
    if (r.kind === 'picture') {
      const src = await fs.readFile(path.join(opts.share, r.source));
      const want = src.subarray(r.jpeg!.start, r.jpeg!.end);
      if (!want.equals(await fs.readFile(file))) problems.push(`${entry.output}: not the camera's picture`);
      return;
    }
    const got = await decodeFrames(ffmpeg, file).catch((err: Error) => ({ video: [], errors: err.message }));
    if (got.errors) problems.push(`${entry.output}: decode errors: ${got.errors.slice(0, 200)}`);
    const src = await framesOf(r.fixture);
    const want = Array.from({ length: r.frames }, (_, i) => src[(r.fixtureFirstFrame + i) % r.fixtureFrames]);
    if (got.video.length !== want.length) {
      problems.push(`${entry.output}: ${got.video.length} frames, the recording has ${want.length}`);
    } else if (got.video.some((h, i) => h !== want[i])) {
      const i = got.video.findIndex((h, k) => h !== want[k]);
      problems.push(`${entry.output}: frame ${i} is not the recording's`);
    }
    framesCompared++;
  });

  const last = await lastManifestLines(opts.out);
  const fate = (id: string): string => {
    const e = last.get(id);
    return e ? `manifest: ${e.status}, ${e.attempts ?? '?'} attempts, ${e.lastError ?? ''}` : 'no pass ever planned it';
  };
  let requiredPresent = 0;
  let extractedAtRisk = 0;
  let lostBeforeSeen = 0;
  const missedWithOnePass: string[] = [];
  const required = (e: Expected) => e.passesInside >= 2;
  for (const [id, e] of byId) {
    const present = done.has(id);
    if (e.passesInside === 1 && !present)
      missedWithOnePass.push(`${e.truth.key} starting ${e.truth.start.sec}.${e.truth.start.usec}: ${fate(id)}`);
    if (required(e) && present) requiredPresent++;
    else if (required(e))
      problems.push(
        `missing: ${e.truth.key} starting ${e.truth.start.sec}.${e.truth.start.usec} (finished at ${e.finishedAt}, taken back at ${e.overwrittenAt ?? 'never'}; ${e.seenBy ?? 'a completed pass ran in between'}; ${fate(id)})`,
      );
    else if (present) extractedAtRisk++;
    else lostBeforeSeen++;
  }
  return {
    finished: byId.size,
    required: [...byId.values()].filter(required).length,
    outputs: files.length,
    requiredPresent,
    extractedAtRisk,
    lostBeforeSeen,
    missedWithOnePass,
    onePassWindows: [...byId.values()].filter((e) => e.passesInside === 1).length,
    problems,
    framesCompared,
  };
}
