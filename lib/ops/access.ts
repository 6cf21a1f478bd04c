/**
 * Before a run touches anything: can this process read the camera share and write the output folder? On a NAS the
 * usual first-run failure is a container running as uid 1000 against a shared folder owned by root or by the NAS
 * user (uid 1026+). Found here, it is one line naming the folder, who we run as, who owns it and the two fixes, and
 * exit 77, instead of an EACCES deep inside a pass.
 *
 * The output check writes and removes a probe file in the state folder: access(2) answers for the process's real
 * ids and ignores NFS/SMB server-side rules and ACLs, a real write does not.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { PermissionError } from '../errors.js';

export interface Identity {
  uid: number;
  gid: number;
}

/** The ids this process runs as (undefined on platforms without them). */
export function currentIdentity(): Identity | undefined {
  return typeof process.getuid === 'function' && typeof process.getgid === 'function'
    ? { uid: process.getuid(), gid: process.getgid() }
    : undefined;
}

const isDenied = (err: unknown): boolean => {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
};

/** The one line for a folder that refuses us: what failed, who we are, who owns it, how to fix it. */
export async function permissionProblem(
  folder: string,
  doing: 'read' | 'write',
  who: Identity | undefined = currentIdentity(),
): Promise<PermissionError> {
  let owner = '';
  let fix = '';
  try {
    const st = await fs.stat(folder);
    owner = `; it belongs to uid ${st.uid} (gid ${st.gid}), mode ${(st.mode & 0o777).toString(8)}`;
    const us = who ? `uid ${who.uid}` : 'this user';
    fix =
      st.uid === 0
        ? `. Fix: give ${us} ${doing} access to ${folder} (e.g. chown ${who ? `${who.uid}:${who.gid} ` : ''}${folder} ` +
          `on the NAS), set PUID/PGID to a user that can ${doing} it, or run the container as root with --user 0:0`
        : `. Fix: run hiksync as its owner (docker run --user ${st.uid}:${st.gid}, or set PUID=${st.uid} ` +
          `PGID=${st.gid}), or give ${us} ${doing} access to ${folder}`;
  } catch {
    fix = `. Fix: give ${who ? `uid ${who.uid}` : 'this user'} ${doing} access to ${folder}, or run as a user that has it`;
  }
  const as = who ? ` as uid ${who.uid} (gid ${who.gid})` : '';
  return new PermissionError(folder, `permission denied: cannot ${doing} ${folder}${as}${owner}${fix}`);
}

/** Throws PermissionError when the camera share cannot be listed by this process. Other errors are left to the scan. */
export async function checkInputReadable(inputDir: string): Promise<void> {
  try {
    await fs.access(inputDir, fs.constants.R_OK | fs.constants.X_OK);
    await fs.readdir(inputDir);
  } catch (err) {
    if (isDenied(err)) throw await permissionProblem(inputDir, 'read');
  }
}

/**
 * Throws PermissionError when the output folder or its state folder cannot be written: creates them when missing
 * (as the run would), then writes and removes a probe file in the state folder.
 */
export async function checkOutputWritable(outputDir: string, stateDir: string): Promise<void> {
  let folder = outputDir;
  try {
    await fs.mkdir(outputDir, { recursive: true });
    folder = stateDir;
    await fs.mkdir(stateDir, { recursive: true });
    const probe = path.join(stateDir, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
  } catch (err) {
    if (isDenied(err)) throw await permissionProblem(refusingFolder(folder, err), 'write');
    throw err;
  }
}

/** The folder that refused: the parent of what the denied call tried to create or write, else `folder`. */
function refusingFolder(folder: string, err: unknown): string {
  const p = (err as NodeJS.ErrnoException).path;
  return typeof p === 'string' ? path.dirname(p) : folder;
}
