/**
 * A camera share that hangs for real, for the fault tests: a FUSE mirror of a folder (fuse-hang-server.ts) whose
 * reads of chosen files never return, like reads of a hung NFS mount. Needs root and /dev/fuse (CI has both); a
 * failure to mount fails the test, never skips it.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmp } from './cli.js';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fuse-hang-server.ts');

export interface HungShare {
  /** Where the mirror is mounted: use it as the input folder. */
  root: string;
  /** From now on, reads of these files (relative to the mirrored folder) never return. */
  hang(files: string[]): Promise<void>;
  /** Resolves when a read of `file` was left unanswered (a reader is blocked in it now). */
  hung(file: string): Promise<void>;
}

export async function mountHungShare(t: { teardown(fn: () => unknown): void }, folder: string): Promise<HungShare> {
  const work = await tmp(t, 'hiksync-fuse-');
  const root = path.join(work, 'mnt');
  const hangFile = path.join(work, 'hang.json');
  await fs.mkdir(root);
  await fs.writeFile(hangFile, '[]');
  const server = spawn(process.execPath, ['--import', 'tsx', SERVER, folder, root, hangFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Unmount before the folders go (teardowns run last first); killing the server aborts the blocked reads.
  t.teardown(() => {
    server.kill('SIGKILL');
    execFileSync('umount', ['-l', root]);
  });
  let out = '';
  const waiters: Array<() => void> = [];
  server.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  const until = (what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (out.includes(what) ? resolve() : waiters.push(check));
      server.once('exit', (code) => reject(new Error(`the FUSE server ended (${code}) before "${what}"`)));
      check();
    });
  await until('mounted\n');
  return {
    root,
    hang: (files) => fs.writeFile(hangFile, JSON.stringify(files)),
    hung: (file) => until(`hung ${file}\n`),
  };
}
