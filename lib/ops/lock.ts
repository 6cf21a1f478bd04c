/**
 * One hiksync per output (per shard): a lock taken before a pass touches the output.
 *
 * proper-lockfile does the locking: the lock is a DIRECTORY created with mkdir (atomic on NFS, where O_EXCL files
 * are not), its mtime refreshed while we run, and a lock whose mtime is older than `staleMs` is taken over. Who
 * holds it is kept in a sibling file `<lock>.owner.json` (proper-lockfile removes the lock with rmdir, so nothing may
 * live inside). The owner file names the lock directory's inode, so an owner file left from an earlier lock is never
 * mistaken for the current holder.
 *
 * A lock left by a crashed run is taken over, with a warning for the caller to log:
 * - at once when its holder is provably dead: same host name, same boot, same pid namespace, and that pid is not
 *   running (or is now another process: its start time differs), or the host has rebooted since;
 * - otherwise once it has not been refreshed for `staleMs` (default 10 min: generous, so a long event-loop stall or
 *   a slow NFS server never makes two runs share the output).
 * A lost lock (refresh impossible, or taken over by someone else) calls `onLost` from the refresh timer; it never
 * throws there. proper-lockfile also removes held locks on process exit (signal-exit), so every exit path frees it.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import { LockHeldError } from '../errors.js';
import { removeQuietly } from '../files.js';

export const DEFAULT_STALE_MS = 10 * 60_000;
export const DEFAULT_UPDATE_MS = 30_000;

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
  /** Inode of the lock directory this owner file describes. */
  ino?: number;
  staleMs?: number;
}

/** The error for a lock another run holds: who holds it, and how it is recovered when nobody does. */
export function lockHeldError(lockPath: string, holder?: LockInfo): LockHeldError {
  const who = holder ? `pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt}` : 'holder unknown';
  return new LockHeldError(
    lockPath,
    `another hiksync run holds the lock ${lockPath} (${who}); try again later. If no run is active, the lock is taken ` +
      `over once it is ${Math.round((holder?.staleMs ?? DEFAULT_STALE_MS) / 60_000)} min old, or remove that folder`,
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

export function ownerFileFor(lockPath: string): string {
  return `${lockPath}.owner.json`;
}

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
export function holderIsDead(holder: LockInfo, self = selfIdentity(), running = pidRunning, startOf = procStartOf): boolean {
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
  try {
    const owner = JSON.parse(await fs.readFile(ownerFileFor(lockPath), 'utf8')) as LockInfo;
    if (owner && typeof owner.pid === 'number' && typeof owner.host === 'string' && owner.ino === st.ino) state.owner = owner;
  } catch {
    /* missing or torn owner file: holder unknown */
  }
  return state;
}

async function writeOwner(lockPath: string, info: LockInfo): Promise<void> {
  const file = ownerFileFor(lockPath);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(info) + '\n');
  await fs.rename(tmp, file);
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

  if (heldHere.has(file)) throw lockHeldError(file, { ...selfIdentity(), startedAt: 'earlier in this process', staleMs });

  let warning: string | undefined;
  const before = await inspectLock(file);
  if (before.exists) {
    const owner = before.owner;
    const age = Date.now() - (before.mtimeMs ?? 0);
    if (owner && holderIsDead(owner)) {
      await fs.rmdir(file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      warning = `took over lock ${file} left by pid ${owner.pid} on ${owner.host} (started ${owner.startedAt}), which is no longer running`;
    } else if (age > staleMs) {
      const who = owner ? `pid ${owner.pid} on ${owner.host}, started ${owner.startedAt}` : 'holder unknown';
      warning = `took over lock ${file} (${who}): not refreshed for ${minutes(age)}, so its run is taken to have crashed`;
    }
  }

  let lost = false;
  let releaseLock: () => Promise<void>;
  try {
    releaseLock = await lockfile.lock(file, {
      lockfilePath: file,
      realpath: false,
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

  let info: LockInfo;
  try {
    const st = await fs.stat(file);
    info = { ...selfIdentity(), startedAt: new Date().toISOString(), ino: st.ino, staleMs };
    await writeOwner(file, info);
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
    // Owner file first: once the directory is gone another run may take the lock and write its own owner file.
    const current = await inspectLock(file).catch(() => undefined);
    const owner = current?.owner;
    if (owner && owner.ino === info.ino && owner.pid === info.pid) {
      await removeQuietly(ownerFileFor(file));
    }
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

/** Runs `fn` holding the lock; the lock is released however `fn` ends. */
export async function withLock<T>(lockPath: string, opts: AcquireOptions & { onWarning?: (w: string) => void }, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(lockPath, opts);
  if (lock.warning) opts.onWarning?.(lock.warning);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
