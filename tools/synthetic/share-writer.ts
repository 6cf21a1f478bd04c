/**
 * Write a complete synthetic Hikvision camera share (NAS layout with info.bin and datadirN/, or the flat SD-card
 * layout) and return its ground truth. Deterministic by seed; calling again with the same seed and a larger
 * `events` gives the same camera after it recorded more (see camera-sim.ts).
 */
import { mkdir, readdir, writeFile, copyFile } from 'node:fs/promises';
import * as path from 'node:path';
import { simulateCamera, type CameraSimOptions } from './camera-sim.js';
import { ShareOptionsError } from './errors.js';
import { localIsoToUsec } from './event-plan.js';
import { loadAudioFixture, loadPictureFixtures, loadVideoFixture, type FixtureSize } from './fixtures.js';
import { DataFileSink, preallocate } from './hiv-writer.js';
import { buildIndexTable, indexBytesNeeded, VIDEO_LAYOUT } from './index-writer.js';
import { pictureIndex, planPictures, type PictureStride } from './pictures.js';
import { createRng } from './rng.js';
import { buildEventDatabase, buildRecordDatabase } from './sqlite-writer.js';
import type { CameraTime } from '../../lib/hikvision/types.js';
import type { AudioChoice, CameraTruth, GroundTruth, TruthRecording, VideoCodecName } from './truth-types.js';

export type { GroundTruth, CameraTruth, TruthRecording } from './truth-types.js';

export const DEFAULT_AV_FILES = 3;
export const DEFAULT_FILE_SIZE = 2 * 1024 * 1024;
export const DEFAULT_INDEX_SIZE = 1024 * 1024;
export const DEFAULT_START_TIME = '2024-05-01T08:00:00';
export const MAX_EVENTS = 1_000_000;
export const MAX_AV_FILES = 4096;
export const MAX_DATADIRS = 64;
/** Offsets in the index are u32. */
export const MAX_FILE_SIZE = 0xffffffff;
export const INFO_BIN_SIZE = 68;

export interface SyntheticCamera {
  name: string;
  /** Datadir folders (NAS layout); default 1. */
  datadirs?: number;
  /** Write info.bin (68 bytes, u32 datadir count at 64); default true for the NAS layout. */
  infoBin?: boolean;
  /** Flat SD-card layout: index00.bin and hiv files directly in the camera folder (one datadir, no info.bin). */
  sdLayout?: boolean;
  codec: VideoCodecName;
  audio?: AudioChoice;
  /** hiv files per datadir; default 3. */
  avFiles?: number;
  /** Size of every hiv file in bytes; default 2 MiB (real cameras: 256 MiB). */
  fileSize?: number;
  /** Completed recordings; one more is being recorded (open) when the snapshot is taken. */
  events: number;
  pictures?: number;
  pictureStride?: PictureStride;
  fixture?: FixtureSize;
  /** Create data files with holes (ftruncate) instead of written zeros. */
  sparse?: boolean;
  /** Camera-local ISO time of the first recording's neighbourhood; default 2024-05-01T08:00:00. */
  startTime?: string;
  /** Recording lengths cycled by recording number, in seconds (GOPs) or 'short'; default the fixed test mix. */
  lengthMix?: ReadonlyArray<number | 'short'>;
  /** Index format version (3 writes "OFNI" at +52 of every record); default 2. */
  indexVersion?: 2 | 3;
  /** Pre-allocated size of index00.bin / index00p.bin; default 1 MiB or what the records need (real: 16 MiB). */
  indexSize?: number;
  /**
   * 'binary' (default): index00.bin + index00p.bin (firmware before 5.5). 'sqlite': record_db_index00/01 and
   * event_db_index00 instead (firmware 5.5+), whole seconds only.
   */
  indexFormat?: 'binary' | 'sqlite';
  /** SQLite cameras: keep the rows of a hiv file the ring reused (stale rows over overwritten bytes); default true. */
  keepStaleRows?: boolean;
}

export interface SyntheticShareOptions {
  root: string;
  seed: number;
  cameras: SyntheticCamera[];
}

const hivName = (fileNo: number, ext: 'mp4' | 'pic') => `hiv${String(fileNo).padStart(5, '0')}.${ext}`;
const toPosix = (p: string) => p.split(path.sep).join('/');

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new ShareOptionsError(`${name} must be an integer in ${min}..${max}, got ${v}`);
}

export async function writeSyntheticShare(opts: SyntheticShareOptions): Promise<GroundTruth> {
  checkInt('seed', opts.seed, 0, 0xffffffff);
  const names = new Set<string>();
  for (const c of opts.cameras) {
    if (!c.name || c.name.includes('/') || c.name.includes('\\') || c.name === '.' || c.name === '..') {
      throw new ShareOptionsError(`camera name "${c.name}" is not a plain folder name`);
    }
    if (names.has(c.name)) throw new ShareOptionsError(`camera name "${c.name}" is used twice`);
    names.add(c.name);
  }
  await mkdir(opts.root, { recursive: true });
  const cameras: CameraTruth[] = [];
  for (const camera of opts.cameras) cameras.push(await writeCamera(opts.root, opts.seed, camera));
  return { root: opts.root, seed: opts.seed, cameras };
}

async function writeCamera(root: string, seed: number, c: SyntheticCamera): Promise<CameraTruth> {
  const sd = c.sdLayout ?? false;
  const datadirCount = c.datadirs ?? 1;
  const audio = c.audio ?? 'aac';
  const avFiles = c.avFiles ?? DEFAULT_AV_FILES;
  const fileSize = c.fileSize ?? DEFAULT_FILE_SIZE;
  const pictures = c.pictures ?? 0;
  const stride = c.pictureStride ?? 4096;
  const version = c.indexVersion ?? 2;
  checkInt('datadirs', datadirCount, 1, MAX_DATADIRS);
  checkInt('avFiles', avFiles, 1, MAX_AV_FILES);
  checkInt('fileSize', fileSize, 64 * 1024, MAX_FILE_SIZE);
  checkInt('events', c.events, 0, MAX_EVENTS);
  checkInt('pictures', pictures, 0, MAX_EVENTS);
  if (sd && datadirCount !== 1)
    throw new ShareOptionsError(`camera ${c.name}: the SD-card layout has exactly one datadir`);
  if (sd && c.infoBin) throw new ShareOptionsError(`camera ${c.name}: the SD-card layout has no info.bin`);
  if (![4096, 256, 96].includes(stride))
    throw new ShareOptionsError(`pictureStride must be 4096, 256 or 96, got ${stride}`);
  if (version !== 2 && version !== 3)
    throw new ShareOptionsError(`indexVersion must be 2 or 3, got ${String(version)}`);
  const infoBin = c.infoBin ?? !sd;
  const sqlite = (c.indexFormat ?? 'binary') === 'sqlite';
  const keepStale = c.keepStaleRows ?? true;
  if (!['binary', 'sqlite'].includes(c.indexFormat ?? 'binary'))
    throw new ShareOptionsError(`indexFormat must be 'binary' or 'sqlite', got ${String(c.indexFormat)}`);

  const { cameraDir, datadirs, sim: simOptions, dataPath } = await cameraLayout(root, seed, c);
  await mkdir(cameraDir, { recursive: true });
  if ((await readdir(cameraDir)).length > 0) {
    throw new ShareOptionsError(`${cameraDir} is not empty: write a synthetic share into a fresh folder`);
  }
  for (const d of datadirs) await mkdir(path.join(cameraDir, d), { recursive: true });
  if (infoBin) {
    const info = Buffer.alloc(INFO_BIN_SIZE);
    info.write('HIKVISION NAS', 0, 'latin1');
    info.writeUInt32LE(datadirCount, 64);
    await writeFile(path.join(cameraDir, 'info.bin'), info);
  }

  const { video, audioFixture, firstStartUsec } = simOptions;
  const sparse = c.sparse ?? false;

  for (let v = 0; v < datadirs.length; v++) {
    for (let f = 0; f < avFiles; f++) await preallocate(dataPath(v, f, 'mp4'), fileSize, sparse);
    // Files the camera keeps next to its recordings; readers must ignore them.
    await writeFile(path.join(cameraDir, datadirs[v]!, 'logCurFile.bin'), Buffer.alloc(1024, 0x5a));
    await writeFile(path.join(cameraDir, datadirs[v]!, 'logMainFile.bin'), Buffer.alloc(4096, 0xa5));
  }

  const sink = new DataFileSink((v, f) => dataPath(v, f, 'mp4'));
  let sim;
  try {
    sim = await simulateCamera(simOptions, sink);
  } finally {
    await sink.close();
  }

  // Pictures live in the first datadir; the others get an empty picture index and an unused .pic file.
  const pictureFixtures = await loadPictureFixtures();
  const picPlan = planPictures({
    seed,
    camera: c.name,
    count: pictures,
    stride,
    fixtures: pictureFixtures,
    firstStartUsec,
  });
  const emptyPicPlan = planPictures({
    seed,
    camera: c.name,
    count: 0,
    stride,
    fixtures: pictureFixtures,
    firstStartUsec,
  });
  const videoNeeded = indexBytesNeeded(avFiles, VIDEO_LAYOUT);
  const picNeeded = indexBytesNeeded(picPlan.picFiles, picPlan.layout);
  const indexSize = c.indexSize ?? Math.max(DEFAULT_INDEX_SIZE, roundUp(Math.max(videoNeeded, picNeeded), 64 * 1024));
  if (indexSize < videoNeeded || indexSize < picNeeded) {
    throw new ShareOptionsError(
      `indexSize ${indexSize} is too small: the records need ${Math.max(videoNeeded, picNeeded)} bytes`,
    );
  }

  const recordings: TruthRecording[] = [...sim.recordings];
  for (let v = 0; v < datadirs.length; v++) {
    const dir = path.join(cameraDir, datadirs[v]!);
    const plan = v === 0 ? picPlan : emptyPicPlan;
    if (sqlite) {
      const dropped = new Set(
        keepStale ? [] : sim.stale.filter((s) => s.datadir === datadirs[v]).map((s) => `${s.fileNo}/${s.slot}`),
      );
      const rows = sim.volumes[v]!.slots.filter((s) => !dropped.has(`${s.fileNo}/${s.slot}`));
      await writeFile(path.join(dir, 'record_db_index00'), await buildRecordDatabase(rows));
      await copyFile(path.join(dir, 'record_db_index00'), path.join(dir, 'record_db_index01'));
      await writeFile(path.join(dir, 'event_db_index00'), await buildEventDatabase(plan.pictures));
    } else {
      const videoIndex = buildIndexTable({ ...sim.volumes[v]!, size: indexSize });
      await writeFile(path.join(dir, 'index00.bin'), videoIndex);
      await copyFile(path.join(dir, 'index00.bin'), path.join(dir, 'index01.bin'));
      const modify = createRng(seed, c.name, 'pic-modify', v).int(100, 90_000) + plan.pictures.length;
      const picIndex = pictureIndex(plan, version, modify);
      await writeFile(
        path.join(dir, 'index00p.bin'),
        buildIndexTable({ ...picIndex, layout: plan.layout, size: indexSize }),
      );
      await copyFile(path.join(dir, 'index00p.bin'), path.join(dir, 'index01p.bin'));
    }
    for (let f = 0; f < plan.picFiles; f++) {
      await preallocate(dataPath(v, f, 'pic'), plan.picFileSize, sparse || plan.pictures.length === 0);
    }
    const picSink = new DataFileSink((_v, f) => dataPath(v, f, 'pic'));
    try {
      for (const p of plan.pictures) {
        await picSink.write(v, p.fileNo, p.jpegStart, p.fixture.bytes);
        recordings.push({
          key: `${c.name}/${datadirs[v]}/picture/${p.fileNo}/${p.slot}`,
          camera: c.name,
          datadir: datadirs[v]!,
          kind: 'picture',
          fileNo: p.fileNo,
          slot: p.slot,
          source: toPosix(path.join(c.name, datadirs[v]!, hivName(p.fileNo, 'pic'))),
          start: p.time,
          end: p.time,
          startOffset: p.startOffset,
          endOffset: p.endOffset,
          codec: 'jpeg',
          audio: 'none',
          frames: 1,
          audioFrames: 0,
          fixture: p.fixture.info.file,
          fixtureFirstFrame: 0,
          fixtureFrames: 1,
          event: p.index,
          part: 0,
          continues: false,
          firstStamp: 0,
          lastStamp: 0,
          firstPts: 0,
          ptsWraps: false,
          jpeg: { start: p.jpegStart, end: p.jpegEnd },
        });
      }
    } finally {
      await picSink.close();
    }
  }
  // A SQLite index keeps whole seconds: that is what a correct reader can know of these cameras.
  const seconds = <T extends { start: CameraTime; end: CameraTime }>(x: T): T =>
    sqlite ? { ...x, start: { sec: x.start.sec, usec: 0 }, end: { sec: x.end.sec, usec: 0 } } : x;
  const listed = recordings.map(seconds);
  listed.sort((a, b) => a.start.sec - b.start.sec || a.start.usec - b.start.usec || a.kind.localeCompare(b.kind));

  return {
    name: c.name,
    dir: c.name,
    layout: sd ? 'sd' : 'nas',
    datadirs,
    infoBin,
    codec: c.codec,
    audio,
    videoFixture: video.info.file,
    ...(audioFixture ? { audioFixture: audioFixture.info.file } : {}),
    avFiles,
    fileSize,
    indexVersion: version,
    indexSize,
    indexFormat: sqlite ? 'sqlite' : 'binary',
    picture: {
      slotsPerFile: picPlan.layout.slotsPerFile,
      recordSize: picPlan.layout.recordSize,
      picFiles: picPlan.picFiles,
    },
    events: c.events,
    ringWrapped: sim.ringWrapped,
    recordings: listed,
    open: sim.open.map(seconds),
    stale: sqlite && !keepStale ? [] : sim.stale.map(seconds),
    emptyFiles: sim.emptyFiles,
  };
}

export interface CameraLayout {
  /** Absolute camera folder. */
  cameraDir: string;
  /** Datadir folder names ("datadir0" ..., or "." for the SD-card layout). */
  datadirs: string[];
  /** What the camera's recording is simulated with (simulateCamera; a live camera continues from it). */
  sim: CameraSimOptions;
  /** Absolute path of hiv file `f` of datadir `v`. */
  dataPath: (v: number, f: number, ext: 'mp4' | 'pic') => string;
}

/** Where camera `c` of a share at `root` keeps its files, and the options its recording is simulated with. */
export async function cameraLayout(root: string, seed: number, c: SyntheticCamera): Promise<CameraLayout> {
  const sd = c.sdLayout ?? false;
  const audio = c.audio ?? 'aac';
  const cameraDir = path.join(root, c.name);
  const datadirs = sd ? ['.'] : Array.from({ length: c.datadirs ?? 1 }, (_, d) => `datadir${d}`);
  const video = await loadVideoFixture(c.codec, c.fixture ?? 'small');
  const audioFixture = audio === 'none' ? undefined : await loadAudioFixture(audio);
  const sim: CameraSimOptions = {
    seed,
    camera: c.name,
    codec: c.codec,
    audio,
    video,
    ...(audioFixture ? { audioFixture } : {}),
    datadirs,
    avFiles: c.avFiles ?? DEFAULT_AV_FILES,
    fileSize: c.fileSize ?? DEFAULT_FILE_SIZE,
    events: c.events,
    firstStartUsec: localIsoToUsec(c.startTime ?? DEFAULT_START_TIME),
    ...(c.lengthMix ? { lengthMix: c.lengthMix } : {}),
    indexVersion: c.indexVersion ?? 2,
    sourceOf: (v, f) => toPosix(path.join(c.name, datadirs[v]!, hivName(f, 'mp4'))),
  };
  const dataPath = (v: number, f: number, ext: 'mp4' | 'pic') => path.join(cameraDir, datadirs[v]!, hivName(f, ext));
  return { cameraDir, datadirs, sim, dataPath };
}

function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}
