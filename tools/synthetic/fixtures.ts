/**
 * Locate and load the committed media fixtures (test/fixtures, described by fixtures.json). Works from the
 * sources (tsx) and from the compiled dist/: the package root is found by walking up to package.json.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  splitAdtsFrames,
  splitMpegAudioFrames,
  splitSpeechBlocks,
  type AudioCodec,
  type AudioFrames,
} from './audio-frames.js';
import { splitAccessUnits, type AccessUnit, type VideoCodec } from './es-reader.js';
import { FixtureError } from './errors.js';

export type FixtureSize = 'small' | 'large';

export interface VideoFixtureInfo {
  file: string;
  kind: 'video';
  fixture: FixtureSize;
  codec: VideoCodec;
  width: number;
  height: number;
  fps: number;
  frames: number;
  gop: number;
  keyFrames: number[];
  bFrames: boolean;
  bytes: number;
}

export interface AudioFixtureInfo {
  file: string;
  kind: 'audio';
  codec: AudioCodec;
  sampleRate: number;
  channels: number;
  durationSec: number;
  bytes: number;
}

export interface PictureFixtureInfo {
  file: string;
  kind: 'picture';
  codec: 'jpeg';
  width: number;
  height: number;
  bytes: number;
}

export interface FixtureCatalog {
  video: VideoFixtureInfo[];
  audio: AudioFixtureInfo[];
  pictures: PictureFixtureInfo[];
}

export interface VideoFixture {
  info: VideoFixtureInfo;
  frames: AccessUnit[];
}

export interface AudioFixture {
  info: AudioFixtureInfo;
  audio: AudioFrames;
}

export interface PictureFixture {
  info: PictureFixtureInfo;
  bytes: Buffer;
}

/** The folder holding package.json, walking up from `from` (a file URL or path). */
export function findPackageRoot(from: string | URL = import.meta.url): string {
  let dir = path.dirname(
    typeof from === 'string' && !from.startsWith('file:') ? path.resolve(from) : fileURLToPath(from),
  );
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new FixtureError(`no package.json above ${String(from)}`);
    dir = parent;
  }
}

export function fixturesDir(): string {
  return path.join(findPackageRoot(), 'test', 'fixtures');
}

export async function loadCatalog(dir = fixturesDir()): Promise<FixtureCatalog> {
  const file = path.join(dir, 'fixtures.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FixtureError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = JSON.parse(text) as Partial<FixtureCatalog>;
  if (!Array.isArray(parsed.video) || !Array.isArray(parsed.audio) || !Array.isArray(parsed.pictures)) {
    throw new FixtureError(`${file} lacks video/audio/pictures lists`);
  }
  return parsed as FixtureCatalog;
}

export async function loadVideoFixture(
  codec: VideoCodec,
  size: FixtureSize,
  dir = fixturesDir(),
): Promise<VideoFixture> {
  const catalog = await loadCatalog(dir);
  const info = catalog.video.find((v) => v.codec === codec && v.fixture === size);
  if (!info) throw new FixtureError(`no ${size} ${codec} fixture in fixtures.json`);
  const frames = splitAccessUnits(codec, await readFile(path.join(dir, info.file)));
  // The share writer cuts recordings on these GOP boundaries: they must be where fixtures.json says.
  const keys = frames.flatMap((f, i) => (f.key ? [i] : []));
  if (frames.length !== info.frames || keys.join(',') !== info.keyFrames.join(',')) {
    throw new FixtureError(
      `${info.file}: found ${frames.length} frames, key frames [${keys.join(',')}], fixtures.json says ${info.frames}, [${info.keyFrames.join(',')}]`,
    );
  }
  if (!frames.every((f) => !f.key || f.hasParameterSets))
    throw new FixtureError(`${info.file}: a key frame lacks parameter sets`);
  return { info, frames };
}

export async function loadAudioFixture(codec: AudioCodec, dir = fixturesDir()): Promise<AudioFixture> {
  const catalog = await loadCatalog(dir);
  const info = catalog.audio.find((a) => a.codec === codec);
  if (!info) throw new FixtureError(`no ${codec} audio fixture in fixtures.json`);
  const bytes = await readFile(path.join(dir, info.file));
  const audio =
    codec === 'aac'
      ? splitAdtsFrames(bytes)
      : codec === 'mp2' || codec === 'mp3'
        ? splitMpegAudioFrames(codec, bytes)
        : splitSpeechBlocks(codec, bytes, info.sampleRate);
  return { info, audio };
}

export async function loadPictureFixtures(dir = fixturesDir()): Promise<PictureFixture[]> {
  const catalog = await loadCatalog(dir);
  return Promise.all(
    catalog.pictures.map(async (info) => {
      const bytes = await readFile(path.join(dir, info.file));
      if (bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes.at(-2) !== 0xff || bytes.at(-1) !== 0xd9) {
        throw new FixtureError(`${info.file} is not a JPEG from SOI to EOI`);
      }
      return { info, bytes };
    }),
  );
}
