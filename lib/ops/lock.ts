/**
 * One hiksync per output (per shard): a lock taken before a pass touches the output.
 *
 * proper-lockfile does the locking: the lock is a DIRECTORY created with mkdir (atomic on NFS, where O_EXCL files
 * are not), its mtime refreshed while we run, and a lock whose mtime is older than `staleMs` is taken over. Who
 * holds it is kept INSIDE that directory, in `<lock>/owner.json`, with a random token. A new lock directory is
 * empty, so an owner file can only ever describe the directory it is in: the identity of a lock never rests on an
 * inode number (ext4 hands a removed directory's inode to the next mkdir at once). proper-lockfile is given a file
 * system whose rmdir of the lock also removes that owner file, and whose refresh checks the token: when the owner
 * file holds another run's token, the lock was taken over and counts as lost; a release never removes a lock
 * whose token is not ours.
 *
 * A lock left by a crashed run is taken over, with a warning for the caller to log:
 * - at once when its holder is provably dead: same host name, same boot, same pid namespace, and that pid is not
 *   running (or is now another process: its start time differs), or the host has rebooted since;
 * - after OWNERLESS_GRACE_MS when it has no readable owner file (its run died between creating it and writing it);
 * - otherwise once it has not been refreshed for `staleMs` (default 10 min: generous, so a long event-loop stall or
 *   a slow NFS server never makes two runs share the output).
 * A lost lock (refresh impossible, or taken over by someone else) calls `onLost` from the refresh timer; it never
 * throws there. proper-lockfile also removes held locks on process exit (signal-exit), so every exit path frees it.
 */
import { randomBytes } from 'node:crypto';
import * as fsCb from 'node:fs';
import { readFileSync, readlinkSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import { LockHeldError } from '../errors.js';
import { removeQuietly } from '../files.js';

export const DEFAULT_STALE_MS = 10 * 60_000;
export const DEFAULT_UPDATE_MS = 30_000;
/**
 * A run writes its owner file into the lock directory right after creating it (milliseconds). A directory still
 * without one this long after its last change was left by a run killed in between (SIGKILL or power loss at start):
 * waiting the full stale time for it kept every run out for 10 minutes. Taking it over cannot give the output two
 * holders: the owner file is created exclusively, so of two runs that both created the directory only one can write
 * it, and the other fails.
 */
export const OWNERLESS_GRACE_MS = 10_000;

/** Who holds a lock, as written in `<lock>.owner.json`. */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** Linux only: pid namespace, boot id and the process start time (clock ticks since boot), to test liveness. */
  pidNs?: string;
  bootId?: string;
  procStart?: string;
  /** Random, written once when the lock is taken: the identity of this holding of the lock. */
  token?: string;
  staleMs?: number;
}

/** The error for a lock another run holds: who holds it, and how it is recovered when nobody does. */
export function lockHeldError(lockPath: string, holder?: LockInfo): LockHeldError {
  const who = holder ? `pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt}` : 'holder unknown';
  return new LockHeldError(
    lockPath,
    `another hiksync run holds the lock ${lockPath} (${who}); try again later. If no run is active, the lock is taken ` +
      `over once it is ${holder ? `${Math.round((holder.staleMs ?? DEFAULT_STALE_MS) / 60_000)} min` : `${OWNERLESS_GRACE_MS / 1000} s`} old, or remove that folder`,
    holder,
  );
}

export interface AcquireOptions {
  /** A lock not refreshed for this long counts as abandoned (min 2000, proper-lockfile's floor). */
  staleMs?: number;
  /** How often the lock's mtime is refreshed (at most staleMs / 2). */
  updateMs?: number;
  /** Called (from a timer) when the lock is lost while held; the holder should stop touching the output. */
  onLost: (err: Error) => void;
}

export interface HeldLock {
  info: LockInfo;
  /** Set when a crashed run's lock was taken over: log it. */
  warning?: string;
  release(): Promise<void>;
}

/** Locks held by this process (a second acquire of the same path must fail, not look "dead"). */
const heldHere = new Set<string>();

/** Where the holder of `lockPath` is described: inside the lock directory. */
export function ownerFileFor(lockPath: string): string {
  return path.join(lockPath, OWNER_FILE);
}

const OWNER_FILE = 'owner.json';
/** Owner files of hiksync before 0.2 lived beside the lock; they are never trusted, and removed when seen. */
const legacyOwnerFileFor = (lockPath: string) => `${lockPath}.owner.json`;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), when /proc is there. */
export function procStartOf(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19];
}

/** This process as a lock holder. */
export function selfIdentity(): Omit<LockInfo, 'startedAt'> {
  const id: Omit<LockInfo, 'startedAt'> = { pid: process.pid, host: os.hostname() };
  try {
    id.pidNs = readlinkSync('/proc/self/ns/pid');
  } catch {
    /* not Linux */
  }
  const bootId = readText('/proc/sys/kernel/random/boot_id');
  if (bootId) id.bootId = bootId;
  const start = procStartOf(process.pid);
  if (start) id.procStart = start;
  return id;
}

function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True only when the holder is certainly not running: it ran on this host (same name, same pid namespace) and
 * either the host has rebooted since, or its pid is gone, or that pid now belongs to a process started later.
 * Anything uncertain (another host, another container's pid namespace) is left to the stale timeout.
 */
export function holderIsDead(
  holder: LockInfo,
  self = selfIdentity(),
  running = pidRunning,
  startOf = procStartOf,
): boolean {
  if (holder.host !== self.host) return false;
  if (holder.bootId && self.bootId && holder.bootId !== self.bootId) return true;
  if (holder.pidNs !== self.pidNs) return false;
  if (holder.pid === self.pid) {
    // Our own pid, but this process does not hold the lock: a previous incarnation (container restarted).
    return holder.procStart === undefined || holder.procStart !== self.procStart;
  }
  if (!running(holder.pid)) return true;
  if (holder.procStart !== undefined) {
    const now = startOf(holder.pid);
    if (now !== undefined && now !== holder.procStart) return true;
  }
  return false;
}

export interface LockState {
  exists: boolean;
  mtimeMs?: number;
  /** The owner file, only when it describes this lock directory. */
  owner?: LockInfo;
}

/** What is at `lockPath` now (for acquire, health and messages). */
export async function inspectLock(lockPath: string): Promise<LockState> {
  let st;
  try {
    st = await fs.stat(lockPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false };
    throw err;
  }
  const state: LockState = { exists: true, mtimeMs: st.mtimeMs };
  const owner = readOwnerSync(lockPath);
  if (owner) state.owner = owner;
  return state;
}

/** The owner file in the lock directory, or undefined when it is missing, torn or not an owner record. */
function readOwnerSync(lockPath: string): LockInfo | undefined {
  try {
    const owner = JSON.parse(readFileSync(ownerFileFor(lockPath), 'utf8')) as Partial<LockInfo> | null;
    if (owner && typeof owner.pid === 'number' && typeof owner.host === 'string') return owner as LockInfo;
  } catch {
    /* missing or torn owner file: holder unknown */
  }
  return undefined;
}

/** Written once, exclusively, into the lock directory we just created (it is empty: nobody else writes there). */
async function writeOwner(lockPath: string, info: LockInfo): Promise<void> {
  await fs.writeFile(ownerFileFor(lockPath), JSON.stringify(info) + '\n', { flag: 'wx' });
}

/** Removes the owner file and the lock directory (a takeover, a release, or the exit cleanup). */
function removeLockDirSync(lockPath: string): void {
  fsCb.rmSync(ownerFileFor(lockPath), { force: true });
  fsCb.rmdirSync(lockPath);
}

/**
 * The file system proper-lockfile works through, for one acquire. Until the lock is ours (`held()` false) its
 * rmdir is a takeover of a stale lock: the owner file goes with the directory. Once held, the refresh's stat fails
 * (-> lost) when the owner file holds another token, and rmdir (release, exit cleanup) leaves a lock whose token
 * is not ours alone.
 */
function lockFs(lockPath: string, token: string, held: () => boolean) {
  const ownedByOther = (): boolean => {
    const owner = readOwnerSync(lockPath);
    return owner?.token !== undefined && owner.token !== token;
  };
  const takenOver = () =>
    Object.assign(new Error(`lock ${lockPath} was taken over by another run (its owner file holds another token)`), {
      code: 'ENOENT',
    });
  const rmdirSync = (p: string): void => {
    if (p === lockPath && held() && ownedByOther()) throw takenOver();
    if (p === lockPath) removeLockDirSync(p);
    else fsCb.rmdirSync(p);
  };
  return {
    mkdir: fsCb.mkdir,
    realpath: fsCb.realpath,
    utimes: fsCb.utimes,
    stat: (p: string, cb: (err: NodeJS.ErrnoException | null, st?: fsCb.Stats) => void): void => {
      if (p === lockPath && held() && ownedByOther()) return cb(takenOver());
      fsCb.stat(p, cb);
    },
    rmdir: (p: string, cb: (err: NodeJS.ErrnoException | null) => void): void => {
      try {
        rmdirSync(p);
        cb(null);
      } catch (err) {
        cb(err as NodeJS.ErrnoException);
      }
    },
    rmdirSync,
  };
}

function minutes(ms: number): string {
  return `${Math.round(ms / 60_000)} min`;
}

/** Takes the lock at `lockPath` (a directory path) or throws LockHeldError. */
export async function acquireLock(lockPath: string, opts: AcquireOptions): Promise<HeldLock> {
  const file = path.resolve(lockPath);
  const staleMs = Math.max(2000, opts.staleMs ?? DEFAULT_STALE_MS);
  const updateMs = Math.max(1000, Math.min(opts.updateMs ?? DEFAULT_UPDATE_MS, staleMs / 2));
  await fs.mkdir(path.dirname(file), { recursive: true });

  if (heldHere.has(file))
    throw lockHeldError(file, { ...selfIdentity(), startedAt: 'earlier in this process', staleMs });

  let warning: string | undefined;
  const before = await inspectLock(file);
  if (before.exists) {
    const owner = before.owner;
    const age = Date.now() - (before.mtimeMs ?? 0);
    if (owner && holderIsDead(owner)) {
      try {
        removeLockDirSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      warning = `took over lock ${file} left by pid ${owner.pid} on ${owner.host} (started ${owner.startedAt}), which is no longer running`;
    } else if (!owner && !fsCb.existsSync(legacyOwnerFileFor(file)) && age > Math.min(staleMs, OWNERLESS_GRACE_MS)) {
      // (A hiksync before 0.2 keeps its owner file beside the directory and only refreshes the directory every 30 s:
      // its lock is never taken for an ownerless one.)
      try {
        // An owner file that is there but unreadable was torn by the same death (created, not yet written). Should
        // a readable one appear now after all, rmdir finds the directory not empty and it stays.
        if (readOwnerSync(file) === undefined) fsCb.rmSync(ownerFileFor(file), { force: true });
        fsCb.rmdirSync(file);
        warning = `took over lock ${file}: ${Math.round(age / 1000)} s after it was made it still names no owner, so the run that made it died before writing one`;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      }
    } else if (age > staleMs) {
      const who = owner ? `pid ${owner.pid} on ${owner.host}, started ${owner.startedAt}` : 'holder unknown';
      warning = `took over lock ${file} (${who}): not refreshed for ${minutes(age)}, so its run is taken to have crashed`;
    }
  }

  let lost = false;
  let held = false;
  const token = randomBytes(16).toString('hex');
  let releaseLock: () => Promise<void>;
  try {
    releaseLock = await lockfile.lock(file, {
      lockfilePath: file,
      realpath: false,
      fs: lockFs(file, token, () => held),
      stale: staleMs,
      update: updateMs,
      retries: 0,
      onCompromised: (err: Error) => {
        lost = true;
        heldHere.delete(file);
        try {
          opts.onLost(err);
        } catch {
          /* never throw from proper-lockfile's timer */
        }
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      const now: LockState = await inspectLock(file).catch((): LockState => ({ exists: true }));
      throw lockHeldError(file, now.owner ? { staleMs, ...now.owner } : undefined);
    }
    throw err;
  }
  heldHere.add(file);
  held = true;
  await removeQuietly(legacyOwnerFileFor(file));

  let info: LockInfo;
  try {
    info = { ...selfIdentity(), startedAt: new Date().toISOString(), token, staleMs };
    // Creating the owner file changes the directory's mtime, and proper-lockfile's refresh takes any mtime it did
    // not set itself as "someone else touched the lock" (compromised at the first refresh): put its mtime back.
    const set = await fs.stat(file);
    await writeOwner(file, info);
    await fs.utimes(file, set.atime, set.mtime);
  } catch (err) {
    heldHere.delete(file);
    await releaseLock().catch(() => undefined);
    throw err;
  }

  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    heldHere.delete(file);
    // A lost lock may belong to another run by now: leave it (its owner file holds their token).
    if (lost) return;
    try {
      await releaseLock();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ERELEASED' && code !== 'ENOTACQUIRED' && code !== 'ENOENT') throw err;
    }
  };
  return warning ? { info, warning, release } : { info, release };
}
