/**
 * The benchmark's synthetic camera shares under bench/data/, made by tools/synthetic (the project's own simulated
 * camera) and reused while their recipe is unchanged: a stamp file next to each share holds the recipe, and a
 * share is rebuilt when the stamp is missing (an interrupted build) or differs (another size, seed, or writer).
 *
 *   main    ~--size of real recordings: 5 cameras, H.265 and H.264 at 2-3 Mbit/s ('large' fixture), AAC / G.711 /
 *           no audio, 256 MiB hiv files, pictures, NAS (info.bin, 1-2 datadirs) and SD-card layouts.
 *   multi   4 x main as 20 camera folders of hard links to main's files (no extra source disk).
 *   sparse  20 cameras x 4 full datadirs x 55 hiv files of 256 MiB, sparse (holes): index reading at real scale.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LENGTH_MIX, SHORT_FRAMES } from '../tools/synthetic/event-plan.js';
import { loadCatalog } from '../tools/synthetic/fixtures.js';
import { writeSyntheticShare } from '../tools/synthetic/share-writer.js';
import { diskUsage, freeBytes, listFiles, requireFree } from './system.js';
import { formatSize, sizeLabel } from './units.js';

type WriterOptions = Parameters<typeof writeSyntheticShare>[0];
type CameraOptions = WriterOptions['cameras'][number];

export interface Share {
  name: string;
  dir: string;
  /** Short description for tables ("1x", "sparse 20 cameras x 4 datadirs x 55 x 256 MiB"). */
  label: string;
  cameras: number;
  /** Every file of the share (for warming the page cache); empty for the sparse share. */
  files: string[];
  description: string[];
  reused: boolean;
}

export const MAIN_CAMERAS = 5;
export const MULTI_FACTOR = 4;
export const HIV_FILE_SIZE = 256 * 1024 * 1024;
/** --quick keeps the share small without making every camera a single partly filled file. */
export const QUICK_HIV_FILE_SIZE = 32 * 1024 * 1024;
export const SPARSE_CAMERAS = 20;
export const SPARSE_DATADIRS = 4;
export const SPARSE_AV_FILES = 55;

const FPS = 25;

type Log = (msg: string) => void;

/** The writer's code and the fixtures it copies: a change rebuilds the shares. */
function writerFingerprint(): string {
  const h = createHash('sha256');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const synthetic = path.resolve(here, '../tools/synthetic');
  const fixtures = path.resolve(here, '../../test/fixtures/fixtures.json');
  for (const f of readdirSortedSync(synthetic))
    if (f.endsWith('.js')) h.update(f).update(readFileSync(path.join(synthetic, f)));
  try {
    h.update(readFileSync(fixtures));
  } catch {
    /* fixtures missing: the writer will say so */
  }
  return h.digest('hex').slice(0, 16);
}

function readdirSortedSync(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

interface Stamp {
  recipe: unknown;
  writer: string;
  createdAt: string;
}

async function readStamp(file: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

/**
 * Build `dir` with `build` unless its stamp matches `recipe`. The stamp is written last, so an interrupted build
 * is rebuilt rather than reused.
 */
async function ensureStamped(
  dir: string,
  recipe: unknown,
  needBytes: number,
  what: string,
  build: () => Promise<void>,
  log: Log,
): Promise<boolean> {
  const stampFile = `${dir}.stamp.json`;
  const writer = writerFingerprint();
  const stamp = await readStamp(stampFile);
  if (
    stamp &&
    stamp.writer === writer &&
    JSON.stringify(stamp.recipe) === JSON.stringify(recipe) &&
    (await exists(dir))
  )
    return true;
  await fs.rm(stampFile, { force: true });
  await fs.rm(dir, { recursive: true, force: true });
  await requireFree(path.dirname(dir), needBytes, what);
  await fs.mkdir(dir, { recursive: true });
  const t0 = performance.now();
  log(`building ${what} in ${dir} (up to ${formatSize(needBytes)} of disk) ...`);
  await build();
  // du counts a hard-linked file once per call: for the multi share this is main's size, not new disk use.
  log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s (du: ${formatSize(diskUsage(dir))})`);
  const fresh: Stamp = { recipe, writer, createdAt: new Date().toISOString() };
  await fs.writeFile(stampFile, JSON.stringify(fresh, null, 2));
  return false;
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Recording lengths of the main share: the writer's test mix (seconds to 90 s, a same-second pair) plus
 * recordings of 5 and 10 minutes, as continuous or long motion recordings give (they span several hiv files).
 */
export const BENCH_LENGTH_MIX: ReadonlyArray<number | 'short'> = [...LENGTH_MIX, 300, 600];

/** Mean recording length of a length mix, in seconds. */
export function meanRecordingSeconds(mix: ReadonlyArray<number | 'short'> = LENGTH_MIX): number {
  const secs = mix.map((k) => (k === 'short' ? SHORT_FRAMES / FPS : k));
  return secs.reduce((a, b) => a + b, 0) / secs.length;
}

export function lengthMixText(mix: ReadonlyArray<number | 'short'> = LENGTH_MIX): string {
  return mix.map((k) => (k === 'short' ? `${SHORT_FRAMES / FPS} s` : `${k} s`)).join(', ');
}

/**
 * The five main cameras: both codecs, every audio choice, NAS with 1-2 datadirs and an SD-card layout, both index
 * kinds (one camera writes the SQLite record database of firmware 5.5+; its bytes are the same MPEG-PS).
 */
const MAIN_CAMERA_KINDS: Array<
  Pick<CameraOptions, 'codec' | 'audio' | 'datadirs' | 'infoBin' | 'sdLayout' | 'indexFormat'>
> = [
  { codec: 'h265', audio: 'aac', datadirs: 2, infoBin: true },
  { codec: 'h264', audio: 'alaw', datadirs: 1, infoBin: true },
  { codec: 'h265', audio: 'none', sdLayout: true },
  { codec: 'h264', audio: 'aac', datadirs: 1, infoBin: false, indexFormat: 'sqlite' },
  { codec: 'h265', audio: 'alaw', datadirs: 1, infoBin: true },
];

export interface MainShareOptions {
  dataDir: string;
  size: number;
  seed: number;
  quick: boolean;
  log: Log;
}

export async function mainRecipe(
  o: Pick<MainShareOptions, 'size' | 'seed' | 'quick'>,
): Promise<{ cameras: CameraOptions[]; fileSize: number; diskBytes: number; description: string[] }> {
  const catalog = await loadCatalog();
  const fileSize = o.quick ? QUICK_HIV_FILE_SIZE : HIV_FILE_SIZE;
  const perCamera = o.size / MAIN_CAMERAS;
  const cameras: CameraOptions[] = [];
  let diskBytes = 0;
  const rates: string[] = [];
  for (let i = 0; i < MAIN_CAMERAS; i++) {
    const kind = MAIN_CAMERA_KINDS[i % MAIN_CAMERA_KINDS.length]!;
    const video = catalog.video.find((v) => v.codec === kind.codec && v.fixture === 'large');
    if (!video) throw new Error(`no large ${kind.codec} fixture in test/fixtures/fixtures.json`);
    const audio = kind.audio && kind.audio !== 'none' ? catalog.audio.find((a) => a.codec === kind.audio) : undefined;
    // Stream bytes per second: video fixture rate + audio + ~3 % MPEG-PS headers.
    const rate = ((video.bytes * video.fps) / video.frames + (audio ? audio.bytes / audio.durationSec : 0)) * 1.03;
    rates.push(`${kind.codec}${audio ? `+${kind.audio}` : ''} ${((rate * 8) / 1e6).toFixed(1)} Mbit/s`);
    const events = Math.max(4, Math.round(perCamera / (rate * meanRecordingSeconds(BENCH_LENGTH_MIX))));
    const datadirs = kind.sdLayout ? 1 : (kind.datadirs ?? 1);
    // Room for all of it without the ring wrapping (15 % margin), spread over the datadirs.
    const avFiles = Math.max(2, Math.ceil((perCamera * 1.15) / fileSize / datadirs));
    diskBytes += avFiles * datadirs * fileSize;
    cameras.push({
      name: `bench-cam-${String(i + 1).padStart(2, '0')}`,
      ...kind,
      fixture: 'large',
      fileSize,
      avFiles,
      events,
      pictures: Math.max(4, Math.round(events / 2)),
      startTime: '2024-05-01T06:00:00',
      lengthMix: BENCH_LENGTH_MIX,
    });
  }
  const description = [
    `${MAIN_CAMERAS} cameras: ${cameras.map((c) => `${c.codec}${c.audio && c.audio !== 'none' ? `+${c.audio}` : ''}${c.sdLayout ? ' (SD layout)' : ` (${c.datadirs ?? 1} datadir${(c.datadirs ?? 1) > 1 ? 's' : ''})`}${c.indexFormat === 'sqlite' ? ' [SQLite index]' : ''}`).join(', ')}`,
    `video from the 'large' fixtures (640x360, 25 fps): ${[...new Set(rates)].join(', ')} incl. audio and PS overhead`,
    `hiv files of ${formatSize(fileSize)}${o.quick ? ' (--quick; real cameras use 256 MiB)' : ''}, ${cameras.map((c) => c.avFiles).join('/')} per datadir`,
    `recording lengths: a fixed mix cycled per camera (${lengthMixText(BENCH_LENGTH_MIX)}; mean ${meanRecordingSeconds(BENCH_LENGTH_MIX).toFixed(1)} s), recordings crossing into the next hiv file are split as cameras do`,
    `pictures: ${cameras.reduce((n, c) => n + (c.pictures ?? 0), 0)} JPEGs`,
  ];
  return { cameras, fileSize, diskBytes, description };
}

export async function ensureMainShare(o: MainShareOptions): Promise<Share & { diskBytes: number }> {
  const name = `share-${sizeLabel(o.size)}-seed${o.seed}${o.quick ? '-quick' : ''}`;
  const dir = path.join(o.dataDir, name);
  const recipe = await mainRecipe(o);
  const reused = await ensureStamped(
    dir,
    { seed: o.seed, size: o.size, cameras: recipe.cameras },
    recipe.diskBytes,
    `the ${formatSize(o.size)} main share`,
    async () => {
      await writeSyntheticShare({ root: dir, seed: o.seed, cameras: recipe.cameras });
    },
    o.log,
  );
  return {
    name,
    dir,
    label: '1x',
    cameras: recipe.cameras.length,
    files: await listFiles(dir),
    description: recipe.description,
    reused,
    diskBytes: recipe.diskBytes,
  };
}

export interface MultiShareOptions {
  dataDir: string;
  main: Share;
  factor: number;
  /** Source bytes of the main share: the factor is lowered when factor x this output does not fit. */
  sourceBytes: number;
  log: Log;
}

/**
 * `factor` x the main share: camera folders `<camera>-xK` made of hard links to main's files. The factor drops
 * (stated in capNote) when its hiksync output would not fit in half the free disk.
 */
export async function ensureMultiShare(o: MultiShareOptions): Promise<Share & { factor: number; capNote?: string }> {
  const free = await freeBytes(o.dataDir);
  let factor = o.factor;
  while (factor > 2 && o.sourceBytes * factor * 1.1 > free / 2) factor--;
  const capNote =
    factor < o.factor
      ? `memory: ${o.factor}x the data would need ${formatSize(o.sourceBytes * o.factor)} of output; capped at ${factor}x (half the free disk).`
      : undefined;
  const name = `${o.main.name}-x${factor}`;
  const dir = path.join(o.dataDir, name);
  const cameraDirs = (await fs.readdir(o.main.dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const reused = await ensureStamped(
    dir,
    { main: o.main.name, factor, cameras: cameraDirs },
    64 * 1024 * 1024,
    `the ${factor}x share (hard links)`,
    async () => {
      for (let k = 0; k < factor; k++) {
        for (const cam of cameraDirs) await linkTree(path.join(o.main.dir, cam), path.join(dir, `${cam}-x${k + 1}`));
      }
    },
    o.log,
  );
  return {
    name,
    dir,
    label: `${factor}x`,
    cameras: cameraDirs.length * factor,
    files: [],
    description: [`${factor} x ${cameraDirs.length} camera folders of hard links`],
    reused,
    factor,
    ...(capNote ? { capNote } : {}),
  };
}

async function linkTree(from: string, to: string): Promise<void> {
  await fs.mkdir(to, { recursive: true });
  for (const e of await fs.readdir(from, { withFileTypes: true })) {
    const a = path.join(from, e.name);
    const b = path.join(to, e.name);
    if (e.isDirectory()) await linkTree(a, b);
    else if (e.isFile()) await fs.link(a, b);
  }
}

export interface SparseShareOptions {
  dataDir: string;
  seed: number;
  log: Log;
}

/** The camera's pre-allocated index size (a real index00.bin is 16 MiB, mostly zeros). */
export const REAL_INDEX_SIZE = 16 * 1024 * 1024;
/**
 * The writer fills hiv files with real media, so a share of 20 x 4 x 55 full 256 MiB files (1.1 TB) cannot be
 * written. Instead the cameras record into 64 KiB files (every one of the 55 per datadir in use, so the index
 * tables have their real shape and size) and each hiv file is then extended to 256 MiB with a hole.
 */
const SPARSE_RECORDED_FILE_SIZE = 64 * 1024;

/**
 * 20 cameras x 4 datadirs, all 55 hiv files of every datadir in use, 256 MiB each (sparse: holes), 16 MiB index
 * tables (holes where zero). Costs a few hundred MiB of disk.
 */
export async function ensureSparseShare(o: SparseShareOptions): Promise<Share> {
  const name = `scan-sparse-seed${o.seed}`;
  const dir = path.join(o.dataDir, name);
  const catalog = await loadCatalog();
  const video = catalog.video.find((v) => v.codec === 'h264' && v.fixture === 'small');
  if (!video) throw new Error('no small h264 fixture in test/fixtures/fixtures.json');
  const rate = ((video.bytes * video.fps) / video.frames) * 1.03;
  const capacity = SPARSE_DATADIRS * SPARSE_AV_FILES * SPARSE_RECORDED_FILE_SIZE;
  // 95 % of the ring: every file used, the ring not wrapped (stale slots are not what this measures).
  const events = Math.floor((capacity * 0.95) / (rate * meanRecordingSeconds()));
  const cameras: CameraOptions[] = [];
  for (let i = 0; i < SPARSE_CAMERAS; i++) {
    cameras.push({
      name: `scan-cam-${String(i + 1).padStart(2, '0')}`,
      codec: 'h264',
      audio: 'none',
      fixture: 'small',
      datadirs: SPARSE_DATADIRS,
      infoBin: true,
      avFiles: SPARSE_AV_FILES,
      fileSize: SPARSE_RECORDED_FILE_SIZE,
      indexSize: REAL_INDEX_SIZE,
      sparse: true,
      events,
      pictures: 200,
      startTime: '2024-01-01T00:00:00',
    });
  }
  const reused = await ensureStamped(
    dir,
    { seed: o.seed, cameras, extendTo: HIV_FILE_SIZE },
    // Briefly, before the holes are dug: 4 index tables of 16 MiB per datadir.
    SPARSE_CAMERAS * SPARSE_DATADIRS * 4 * REAL_INDEX_SIZE,
    'the sparse scan share',
    async () => {
      for (const cam of cameras) {
        await writeSyntheticShare({ root: dir, seed: o.seed, cameras: [cam] });
        await sparsify(path.join(dir, cam.name));
      }
    },
    o.log,
  );
  return {
    name,
    dir,
    label: `sparse ${SPARSE_CAMERAS} cams x ${SPARSE_DATADIRS} datadirs`,
    cameras: SPARSE_CAMERAS,
    files: [],
    description: [
      `${SPARSE_CAMERAS} cameras x ${SPARSE_DATADIRS} datadirs x ${SPARSE_AV_FILES} hiv files of ${formatSize(HIV_FILE_SIZE)} (sparse) and ${formatSize(REAL_INDEX_SIZE)} index tables`,
      `recorded by tools/synthetic into ${formatSize(SPARSE_RECORDED_FILE_SIZE)} files (${events} recordings per camera, every hiv file in use), each then extended to ${formatSize(HIV_FILE_SIZE)} with a hole`,
    ],
    reused,
  };
}

/** Extend every hiv file to the real size (a hole) and turn the zero runs of the index tables into holes. */
async function sparsify(cameraDir: string): Promise<void> {
  for (const file of await listFiles(cameraDir)) {
    const base = path.basename(file);
    if (/^hiv\d{5}\.mp4$/.test(base)) {
      const fh = await fs.open(file, 'r+');
      try {
        if ((await fh.stat()).size < HIV_FILE_SIZE) await fh.truncate(HIV_FILE_SIZE);
      } finally {
        await fh.close();
      }
    } else if (/^index0[01]p?\.bin$/.test(base)) {
      digHoles(file);
    }
  }
}

function digHoles(file: string): void {
  try {
    execFileSync('fallocate', ['--dig-holes', file]);
  } catch {
    // Without util-linux fallocate (or on a file system without holes) the tables just take their full size.
  }
}
