/**
 * The machine side of a benchmark: what it runs on, how much disk is free, and the page cache.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { formatSize } from './units.js';

export class DiskSpaceError extends Error {
  readonly code = 'BENCH_DISK';
  override name = 'DiskSpaceError';
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  kernel: string;
  /** File system of the bench data folder, from /proc/mounts. */
  dataFs: string;
}

export function machineInfo(dataDir: string): MachineInfo {
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    dataFs: fileSystemOf(dataDir),
  };
}

function fileSystemOf(dir: string): string {
  try {
    const out =
      execFileSync('df', ['--output=source,fstype,target', dir], { encoding: 'utf8' }).trim().split('\n').pop() ?? '';
    const [source, type, target] = out.split(/\s+/);
    return `${type} (${source} on ${target})`;
  } catch {
    return 'unknown';
  }
}

export async function freeBytes(dir: string): Promise<number> {
  const st = await fs.statfs(dir);
  return st.bavail * st.bsize;
}

/** Refuse (a clear message, nothing written) when `needed` bytes plus a 2 GiB reserve do not fit in `dir`. */
export async function requireFree(dir: string, needed: number, what: string): Promise<void> {
  const reserve = 2 * 1024 ** 3;
  const free = await freeBytes(dir);
  if (free < needed + reserve) {
    throw new DiskSpaceError(
      `not enough free disk in ${dir} for ${what}: needs ${formatSize(needed)} plus a ${formatSize(reserve)} reserve, ` +
        `${formatSize(free)} free. Use a smaller --size, free some space, or delete old bench data (rm -rf bench/data).`,
    );
  }
}

/** Write dirty pages out now (so one run's writeback does not slow the next). */
export function syncDisks(): void {
  try {
    execFileSync('sync');
  } catch {
    /* no sync binary: the kernel flushes on its own schedule */
  }
}

/**
 * Drop the page cache so the next reads come from the disk. Needs root and a writable /proc/sys (not in most
 * containers); false means only warm runs are possible.
 */
export function dropCaches(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    return true;
  } catch {
    return false;
  }
}

/** Read files once, end to end, so they sit in the page cache ("warm"). Returns bytes read. */
export async function warmFiles(files: readonly string[]): Promise<number> {
  let total = 0;
  const sink = () =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        total += chunk.length;
        cb();
      },
    });
  for (const f of files) await pipeline(createReadStream(f, { highWaterMark: 4 * 1024 * 1024 }), sink());
  return total;
}

/** Every regular file under `dir` (recursively). */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(`${e.parentPath ?? e.path}/${e.name}`);
  }
  return out.sort();
}

/** Physical bytes a tree occupies (sparse holes are free), via du. */
export function diskUsage(dir: string): number {
  try {
    return Number(execFileSync('du', ['-sB1', dir], { encoding: 'utf8' }).split(/\s+/)[0]);
  } catch {
    return NaN;
  }
}
