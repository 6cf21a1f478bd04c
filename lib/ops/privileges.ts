/**
 * PUID / PGID, the convention of NAS container images (linuxserver.io): the container starts as root and switches
 * to that uid/gid before any file is touched, so the files it writes belong to the NAS user who owns the shared
 * folder. hiksync does the switch itself, first thing in the process (worker threads inherit it), so it works the
 * same for `docker run`, compose and the HEALTHCHECK's `docker exec`.
 *
 * - Started as root with PUID/PGID set: switch (supplementary groups, gid, then uid); the pass never runs as root.
 * - Started as another user (`--user 1026:100`): nothing to switch; PUID/PGID that differ are reported and ignored.
 * - PUID=0 is refused: running as root must be an explicit `--user 0:0`, never a default a variable slips in.
 */
import { ConfigError } from '../errors.js';

export interface PrivilegeOps {
  getuid(): number;
  getgid(): number;
  setgroups(groups: number[]): void;
  setgid(id: number): void;
  setuid(id: number): void;
}

export interface SwitchResult {
  /** What happened, for one info line (undefined: PUID/PGID not set). */
  note?: string;
}

const MAX_ID = 2 ** 31 - 1;

function parseId(name: 'PUID' | 'PGID', value: string): number {
  const n = /^\d{1,10}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n > MAX_ID) {
    throw new ConfigError(
      `${name}="${value}" is not valid: a numeric ${name === 'PUID' ? 'user' : 'group'} id, e.g. 1026`,
    );
  }
  if (n === 0) {
    throw new ConfigError(
      `${name}=0 would run hiksync as root: unset PUID/PGID, or start the container with --user 0:0`,
    );
  }
  return n;
}

/** Applies PUID/PGID from `env` (see the module comment). Throws ConfigError for a bad value. */
export function applyPuidPgid(env: NodeJS.ProcessEnv, ops: PrivilegeOps | undefined = processOps()): SwitchResult {
  const rawUid = env.PUID;
  const rawGid = env.PGID;
  if (rawUid === undefined && rawGid === undefined) return {};
  if (rawUid === undefined || rawGid === undefined) {
    throw new ConfigError(`set both PUID and PGID (only ${rawUid === undefined ? 'PGID' : 'PUID'} is set)`);
  }
  const uid = parseId('PUID', rawUid);
  const gid = parseId('PGID', rawGid);
  if (!ops) return { note: 'PUID/PGID ignored: this platform has no user ids' };
  const nowUid = ops.getuid();
  const nowGid = ops.getgid();
  if (nowUid !== 0) {
    if (nowUid === uid && nowGid === gid) return {};
    return {
      note: `PUID=${uid} PGID=${gid} ignored: hiksync already runs as uid ${nowUid} (gid ${nowGid}), e.g. started with --user`,
    };
  }
  ops.setgroups([gid]);
  ops.setgid(gid);
  ops.setuid(uid);
  return { note: `running as uid ${uid} (gid ${gid}) from PUID/PGID` };
}

function processOps(): PrivilegeOps | undefined {
  const p = process;
  if (!p.getuid || !p.getgid || !p.setgroups || !p.setgid || !p.setuid) return undefined;
  return {
    getuid: p.getuid.bind(p),
    getgid: p.getgid.bind(p),
    setgroups: p.setgroups.bind(p),
    setgid: p.setgid.bind(p),
    setuid: p.setuid.bind(p),
  };
}
