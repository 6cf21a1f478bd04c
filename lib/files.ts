/**
 * Small file-system helpers shared by the main thread and the workers. Each one states the one policy it applies
 * (what a missing file means, which errors are ignored), so callers do not re-implement it inline.
 */
import * as fs from 'node:fs/promises';

/** Whether anything (file, folder, dangling symlink) is at `p`. */
export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes a file we own (a temporary, a stale owner file) when it is there; never throws. Used on cleanup paths,
 * where a failure to clean must not hide the error that led there.
 */
export async function removeQuietly(p: string): Promise<void> {
  await fs.rm(p, { force: true }).catch(() => undefined);
}

/** fsync a file that is already written and closed (before it is renamed to its final name). */
export async function fsyncFile(p: string): Promise<void> {
  const fh = await fs.open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The names in a folder; a folder that does not exist (yet) is empty. */
export async function listFolder(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
