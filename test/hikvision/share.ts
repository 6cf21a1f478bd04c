/** Test-only camera folders on disk: index bytes from index-bytes.ts, sparse hiv files of real sizes. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

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
export async function writeDatadir(dir: string, files: { [name: string]: Buffer }, hivSizes: Map<number, number>, ext: 'mp4' | 'pic' = 'mp4'): Promise<void> {
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
