/** Test-only camera folders on disk: index bytes from index-bytes.ts, sparse hiv files of real sizes. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { goldenIndex, goldenSizes, T } from './golden.js';
import { IndexBytes } from './index-bytes.js';

export async function tempDir(prefix = 'hiksync-hik-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

/** Sparse file of exactly `size` bytes (no disk used). */
export async function sparseFile(file: string, size: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const fh = await fs.open(file, 'w');
  try {
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
}

export function hivName(f: number, ext: 'mp4' | 'pic'): string {
  return `hiv${String(f).padStart(5, '0')}.${ext}`;
}

/** Write an index file and sparse hiv files of the given sizes into `dir`. */
export async function writeDatadir(
  dir: string,
  files: { [name: string]: Buffer },
  hivSizes: Map<number, number>,
  ext: 'mp4' | 'pic' = 'mp4',
): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await fs.writeFile(path.join(dir, name), bytes);
  for (const [f, size] of hivSizes) await sparseFile(path.join(dir, hivName(f, ext)), size);
}

export function infoBin(datadirs: number): Buffer {
  const b = Buffer.alloc(68);
  b.write('SERIAL0123456789', 0, 'latin1');
  b.writeUInt32LE(datadirs, 64);
  return b;
}

/** Camera `name` under `root`: datadir0 with the golden video index as index00.bin and index01.bin (null = absent). */
export async function goldenCamera(
  root: string,
  name = 'cam1',
  index00: Buffer | null = goldenIndex().buf,
  index01: Buffer | null = goldenIndex().buf,
): Promise<{ name: string; path: string }> {
  const cam = path.join(root, name);
  const files: { [n: string]: Buffer } = {};
  if (index00) files['index00.bin'] = index00;
  if (index01) files['index01.bin'] = index01;
  // Pre-allocated like the camera's: 16 MiB would be realistic; 2 MiB of zero padding keeps the test light.
  for (const k of Object.keys(files)) files[k] = Buffer.concat([files[k]!, Buffer.alloc(2 * 1024 * 1024)]);
  await writeDatadir(path.join(cam, 'datadir0'), files, goldenSizes());
  await fs.writeFile(path.join(cam, 'info.bin'), infoBin(1));
  return { name, path: cam };
}

/**
 * Camera "piccam" under `root`: the golden video index plus a picture index (stride 4096) of 300 pictures in
 * hiv00000.pic, each starting with a JPEG SOI; `ix` is that picture index, to rewrite it.
 */
export async function pictureCamera(root: string): Promise<{ name: string; path: string; ix: IndexBytes }> {
  const cam = path.join(root, 'piccam');
  const dir = path.join(cam, 'datadir0');
  const ix = new IndexBytes({ avFiles: 2, slotsPerFile: 4096 });
  const picSize = 8 * 1024 * 1024;
  await writeDatadir(dir, { 'index00.bin': goldenIndex().buf }, goldenSizes());
  const offsets: number[] = [];
  let off = 0;
  for (let i = 0; i < 300; i++) {
    const size = 20000 + ((i * 7919) % 9000);
    ix.slot(0, i, { start: [T + i * 5, 0], end: [T + i * 5, 0], startOffset: off, endOffset: off + size });
    offsets.push(off);
    off += size;
  }
  await fs.writeFile(path.join(dir, 'index00p.bin'), ix.buf);
  await sparseFile(path.join(dir, hivName(0, 'pic')), picSize);
  await sparseFile(path.join(dir, hivName(1, 'pic')), picSize);
  const fh = await fs.open(path.join(dir, hivName(0, 'pic')), 'r+');
  for (const o of offsets) await fh.write(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 0, 4, o);
  await fh.close();
  return { name: 'piccam', path: cam, ix };
}
