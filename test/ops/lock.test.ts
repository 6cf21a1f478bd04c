import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LockHeldError } from '../../lib/errors.js';
import {
  acquireLock,
  holderIsDead,
  inspectLock,
  OWNERLESS_GRACE_MS,
  ownerFileFor,
  selfIdentity,
  type LockInfo,
} from '../../lib/ops/lock.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function tmpDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-lock-'));
}

const noLost = () => undefined;

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid;
}

/** Plants a lock directory as another run would have left it. */
async function plantLock(lockPath: string, owner: Partial<LockInfo>, ageMs = 0): Promise<void> {
  await fs.mkdir(lockPath);
  const info: LockInfo = {
    pid: 1,
    host: 'elsewhere',
    startedAt: '2024-01-01T00:00:00.000Z',
    token: 'planted',
    ...owner,
  };
  await fs.writeFile(ownerFileFor(lockPath), JSON.stringify(info));
  if (ageMs > 0) {
    const old = new Date(Date.now() - ageMs);
    await fs.utimes(lockPath, old, old);
  }
}

test('acquire, owner file, release', async (t) => {
  const dir = await tmpDir();
  const lockPath = path.join(dir, 'state', 'lock');
  const lock = await acquireLock(lockPath, { onLost: noLost });
  t.is(lock.info.pid, process.pid);
  t.is(lock.warning, undefined);
  const state = await inspectLock(lockPath);
  t.true(state.exists);
  t.is(state.owner?.pid, process.pid);
  t.is(state.owner?.host, os.hostname());
  await lock.release();
  await lock.release(); // idempotent
  t.false((await inspectLock(lockPath)).exists);
  await t.throwsAsync(fs.stat(ownerFileFor(lockPath)), { code: 'ENOENT' });
});

test('two concurrent acquires in one process: exactly one wins', async (t) => {
  const lockPath = path.join(await tmpDir(), 'lock');
  const results = await Promise.allSettled([
    acquireLock(lockPath, { onLost: noLost }),
    acquireLock(lockPath, { onLost: noLost }),
  ]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.is(won.length, 1);
  t.is(lost.length, 1);
  t.true(lost[0]!.reason instanceof LockHeldError);
  await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
});

test('a lock held by another live process: LockHeldError with its pid and host', async (t) => {
  const lockPath = path.join(await tmpDir(), 'lock');
  const holderScript = path.join(here, 'fixtures', 'hold-lock.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', holderScript, lockPath], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited early: ${code}`)));
  });
  const err = await t.throwsAsync(acquireLock(lockPath, { onLost: noLost }), { instanceOf: LockHeldError });
  t.is(err.holder?.pid, child.pid);
  t.is(err.holder?.host, os.hostname());
  t.regex(err.message, new RegExp(`pid ${child.pid} on host`));
  t.is(err.code, 'lock-held');
  // The holder ends cleanly: the lock is free again.
  child.stdin.end('release\n');
  await new Promise((resolve) => child.on('exit', resolve));
  const lock = await acquireLock(lockPath, { onLost: noLost });
  t.is(lock.warning, undefined);
  await lock.release();
});

test('a crashed run on this host (dead pid) is taken over at once, with a warning', async (t) => {
  const lockPath = path.join(await tmpDir(), 'lock');
  const self = selfIdentity();
  const pid = deadPid();
  await plantLock(lockPath, { ...self, pid, procStart: '1' });
  const lock = await acquireLock(lockPath, { onLost: noLost });
  t.regex(lock.warning ?? '', new RegExp(`left by pid ${pid} .*no longer running`));
  t.is((await inspectLock(lockPath)).owner?.pid, process.pid);
  await lock.release();
});

test('a fresh lock of another host is respected; an old one is taken over', async (t) => {
  const dir = await tmpDir();
  const fresh = path.join(dir, 'fresh');
  await plantLock(fresh, { pid: 4242, host: 'nas-2' });
  const err = await t.throwsAsync(acquireLock(fresh, { onLost: noLost }), { instanceOf: LockHeldError });
  t.is(err.holder?.host, 'nas-2');

  const old = path.join(dir, 'old');
  await plantLock(old, { pid: 4242, host: 'nas-2' }, 11 * 60_000);
  const lock = await acquireLock(old, { onLost: noLost });
  t.regex(lock.warning ?? '', /pid 4242 on nas-2.*not refreshed for 11 min/);
  await lock.release();
});

test('a lock directory its run left without an owner file (killed right after mkdir) is taken over after the grace, not after 10 min', async (t) => {
  const dir = await tmpDir();
  const aged = async (p: string, ms: number) => {
    const old = new Date(Date.now() - ms);
    await fs.utimes(p, old, old);
  };
  // Fresh: its run may be writing the owner file right now.
  const fresh = path.join(dir, 'fresh');
  await fs.mkdir(fresh);
  await t.throwsAsync(acquireLock(fresh, { onLost: noLost }), { instanceOf: LockHeldError });

  // Older than the grace: the run that made it is dead.
  const left = path.join(dir, 'left');
  await fs.mkdir(left);
  await aged(left, OWNERLESS_GRACE_MS + 1000);
  const lock = await acquireLock(left, { onLost: noLost });
  t.regex(lock.warning ?? '', /still names no owner/);
  t.is((await inspectLock(left)).owner?.pid, process.pid);
  await lock.release();

  // Killed while writing the owner file: created, still empty.
  const torn = path.join(dir, 'torn');
  await fs.mkdir(torn);
  await fs.writeFile(ownerFileFor(torn), '');
  await aged(torn, OWNERLESS_GRACE_MS + 1000);
  const again = await acquireLock(torn, { onLost: noLost });
  t.is((await inspectLock(torn)).owner?.token, again.info.token);
  await again.release();

  // A lock of hiksync before 0.2 (owner file beside the directory, refreshed every 30 s) is not ownerless.
  const legacy = path.join(dir, 'legacy');
  await fs.mkdir(legacy);
  await fs.writeFile(`${legacy}.owner.json`, JSON.stringify({ pid: 4242, host: 'nas-2', startedAt: 'x' }));
  await aged(legacy, OWNERLESS_GRACE_MS + 1000);
  await t.throwsAsync(acquireLock(legacy, { onLost: noLost }), { instanceOf: LockHeldError });

  // A readable owner is never removed by this rule (another host's, within its stale time).
  const owned = path.join(dir, 'owned');
  await plantLock(owned, { pid: 4242, host: 'nas-2' }, OWNERLESS_GRACE_MS + 1000);
  await t.throwsAsync(acquireLock(owned, { onLost: noLost }), { instanceOf: LockHeldError });
});

test('an owner file that describes an older lock directory is not trusted', async (t) => {
  const lockPath = path.join(await tmpDir(), 'lock');
  await plantLock(lockPath, { ...selfIdentity(), pid: deadPid() });
  const older = await fs.readFile(ownerFileFor(lockPath));
  // Replace the directory (ext4 gives the new one the old inode number at once); the old owner record survives
  // beside it, where hiksync before 0.2 kept it.
  await fs.rm(lockPath, { recursive: true });
  await fs.mkdir(lockPath);
  await fs.writeFile(`${lockPath}.owner.json`, older);
  const state = await inspectLock(lockPath);
  t.is(state.owner, undefined);
  const err = await t.throwsAsync(acquireLock(lockPath, { onLost: noLost }), { instanceOf: LockHeldError });
  t.is(err.holder, undefined);
});

test('a lock removed under us calls onLost from the refresh timer, never throws', async (t) => {
  const lockPath = path.join(await tmpDir(), 'lock');
  let lost: Error | undefined;
  const lock = await acquireLock(lockPath, { staleMs: 2000, updateMs: 1000, onLost: (e) => (lost = e) });
  await fs.rm(lockPath, { recursive: true });
  const deadline = Date.now() + 4000;
  while (!lost && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.truthy(lost);
  t.is((lost as NodeJS.ErrnoException).code, 'ECOMPROMISED');
  await t.notThrowsAsync(lock.release());
});

test('holderIsDead: only provable deaths on this host', (t) => {
  const self = { pid: 100, host: 'h', pidNs: 'pid:[1]', bootId: 'b1', procStart: '500' };
  const base: LockInfo = { pid: 200, host: 'h', pidNs: 'pid:[1]', bootId: 'b1', procStart: '300', startedAt: 'x' };
  const alive = () => true;
  const gone = () => false;
  const startedAt300 = () => '300';
  t.false(holderIsDead(base, self, alive, startedAt300), 'running, same process');
  t.true(holderIsDead(base, self, gone, startedAt300), 'pid gone');
  t.true(
    holderIsDead(base, self, alive, () => '999'),
    'pid reused by a later process',
  );
  t.false(holderIsDead({ ...base, host: 'other' }, self, gone, startedAt300), 'another host: wait for stale');
  t.false(holderIsDead({ ...base, pidNs: 'pid:[2]' }, self, gone, startedAt300), 'another container: wait for stale');
  t.true(holderIsDead({ ...base, bootId: 'b0' }, self, alive, startedAt300), 'host rebooted since');
  t.true(
    holderIsDead({ ...base, pid: 100, procStart: '1' }, self, alive, startedAt300),
    'our pid, earlier incarnation',
  );
});

test('a lock whose owner file holds another token was taken over: lost at the next refresh, left alone on release', async (t) => {
  const lockPath = path.join(await tmpDir(), 'lock');
  let onLost: (e: Error) => void = noLost;
  const lost = new Promise<Error>((resolve) => (onLost = resolve));
  const lock = await acquireLock(lockPath, { staleMs: 2000, updateMs: 1000, onLost: (e) => onLost(e) });
  const other: LockInfo = { ...lock.info, pid: 4242, host: 'nas-2', token: 'another-run' };
  await fs.writeFile(ownerFileFor(lockPath), JSON.stringify(other));
  t.regex((await lost).message, /taken over by another run/);
  await lock.release();
  const state = await inspectLock(lockPath);
  t.true(state.exists, 'the other run keeps its lock');
  t.is(state.owner?.token, 'another-run');
});

test('a token is written once per acquire and differs between acquires', async (t) => {
  const lockPath = path.join(await tmpDir(), 'lock');
  const first = await acquireLock(lockPath, { onLost: noLost });
  t.regex(first.info.token ?? '', /^[0-9a-f]{32}$/);
  t.is((await inspectLock(lockPath)).owner?.token, first.info.token);
  await first.release();
  const second = await acquireLock(lockPath, { onLost: noLost });
  t.not(second.info.token, first.info.token);
  await second.release();
});

test('writing the owner file does not make the lock look compromised: it survives several refreshes', async (t) => {
  const lockPath = path.join(await tmpDir(), 'lock');
  let lost: Error | undefined;
  const lock = await acquireLock(lockPath, { staleMs: 10_000, updateMs: 1000, onLost: (e) => (lost = e) });
  // Three refresh intervals (the refresh runs on proper-lockfile's own timer: real time is what it measures).
  await new Promise((resolve) => setTimeout(resolve, 3500));
  t.is(lost, undefined, lost?.message);
  t.is((await inspectLock(lockPath)).owner?.token, lock.info.token);
  await lock.release();
  t.false((await inspectLock(lockPath)).exists);
});
