import test from 'ava';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type Config } from '../../lib/config.js';
import { checkHealth, HEALTH_GRACE_MS, passStallLimitMs } from '../../lib/ops/health.js';
import { acquireLock } from '../../lib/ops/lock.js';
import { PROGRESS_WRITE_MS, readStatus, statusFileFor, StatusRecorder } from '../../lib/ops/status.js';

const MIN = 60_000;

async function setup(opts: { camera?: boolean; shard?: string } = {}): Promise<Config> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-health-'));
  await fs.mkdir(path.join(root, 'in'));
  if (opts.camera !== false) await fs.mkdir(path.join(root, 'in', 'Camera-Tuin'));
  const env: NodeJS.ProcessEnv = {
    INPUT_DIR: path.join(root, 'in'),
    OUTPUT_DIR: path.join(root, 'out'),
    CRON_INTERVAL: '10',
  };
  if (opts.shard) env.SHARD = opts.shard;
  return loadConfig({}, env, { logIsTTY: false, parallelism: 1, processTz: 'UTC' });
}

function recorder(cfg: Config) {
  return new StatusRecorder(statusFileFor(cfg.stateDir, cfg.shard), {
    shard: cfg.shard,
    runMode: 'cron',
    intervalMin: cfg.cronIntervalMin,
  });
}

test('running pass with a fresh lock that keeps finishing files: healthy', async (t) => {
  const cfg = await setup();
  const lock = await acquireLock(cfg.lockFile, { onLost: () => undefined });
  t.teardown(() => lock.release());
  const now = Date.now();
  const rec = recorder(cfg);
  await rec.passStarted(now - 50 * MIN); // long backfill pass: fine while it moves on
  await rec.passProgress(now - 2 * MIN);
  const h = await checkHealth(cfg, now);
  t.true(h.healthy, h.reason);
  t.regex(h.reason, /pass running since/);
});

test('a running pass that stands still longer than max(3 x interval, 30 min): unhealthy, the share may hang', async (t) => {
  const cfg = await setup(); // CRON_INTERVAL=10: the limit is 30 min
  const lock = await acquireLock(cfg.lockFile, { onLost: () => undefined });
  t.teardown(() => lock.release());
  const started = Date.now();
  const rec = recorder(cfg);
  await rec.passStarted(started);
  // The lock is refreshed by a timer, so a pass blocked in a read that never returns still holds a fresh lock:
  // the health of a pass is judged by the status file's sign of life, seen at later times (a fake clock).
  const at = (min: number) => checkHealth(cfg, started + min * MIN, { staleMs: 120 * MIN });
  t.true((await at(29)).healthy);
  const stuck = await at(47);
  t.false(stuck.healthy);
  t.is(
    stuck.reason,
    `pass running for 47 min (started ${new Date(started).toISOString()}), nothing finished for 47 min: longer than expected (30 min); the camera share may not be answering`,
  );
  await rec.passProgress(started + 40 * MIN);
  t.true((await at(47)).healthy, 'a file finished 7 min ago: moving on');
  t.regex((await at(71)).reason, /pass running for 71 min .*nothing finished for 31 min: longer than expected/);
});

test('the stall limit grows with the interval: 3 intervals when longer than 30 min', (t) => {
  t.is(passStallLimitMs(1), 30 * MIN);
  t.is(passStallLimitMs(10), 30 * MIN);
  t.is(passStallLimitMs(20), 60 * MIN);
});

test('the pass sign of life is written at most once a minute, and cleared when the pass ends', async (t) => {
  const cfg = await setup();
  const rec = recorder(cfg);
  const file = statusFileFor(cfg.stateDir, cfg.shard);
  const t0 = Date.now();
  await rec.passProgress(t0);
  t.is((await readStatus(file))?.passProgressAt, undefined, 'no pass running: nothing to note');
  await rec.passStarted(t0);
  await rec.passProgress(t0 + PROGRESS_WRITE_MS - 1);
  t.is((await readStatus(file))?.passProgressAt, undefined, 'within a minute of the last write: not written');
  await rec.passProgress(t0 + PROGRESS_WRITE_MS);
  t.is((await readStatus(file))?.passProgressAt, new Date(t0 + PROGRESS_WRITE_MS).toISOString());
  await rec.passEnded({ startedAt: t0, endedAt: t0 + 2 * PROGRESS_WRITE_MS, exitCode: 0, interrupted: false });
  t.is((await readStatus(file))?.passProgressAt, undefined);
});

test('running pass whose lock is gone or stale: unhealthy', async (t) => {
  const cfg = await setup();
  const now = Date.now();
  await recorder(cfg).passStarted(now - 5 * MIN);
  const h = await checkHealth(cfg, now);
  t.false(h.healthy);
  t.regex(h.reason, /has not ended and its lock is not being refreshed/);
});

test('recent completed pass: healthy; stale: unhealthy with the time', async (t) => {
  const cfg = await setup();
  const rec = recorder(cfg);
  const now = Date.now();
  await rec.passStarted(now - 12 * MIN);
  await rec.passEnded({
    startedAt: now - 12 * MIN,
    endedAt: now - 11 * MIN,
    exitCode: 0,
    interrupted: false,
    nextAt: now - 2 * MIN,
  });
  t.true((await checkHealth(cfg, now)).healthy);
  // Same status, seen later than 2 x interval + grace after that pass: passes stopped completing.
  const later = now - 11 * MIN + 2 * 10 * MIN + HEALTH_GRACE_MS + 1000;
  const h = await checkHealth(cfg, later);
  t.false(h.healthy);
  t.regex(h.reason, /last completed pass ended .* passes are due every 10 min/);
});

test('passes that end in errors do not count as completed', async (t) => {
  const cfg = await setup();
  const rec = recorder(cfg);
  const now = Date.now();
  await rec.passEnded({ startedAt: now - 60 * MIN, endedAt: now - 59 * MIN, exitCode: 0, interrupted: false });
  await rec.passEnded({ startedAt: now - 2 * MIN, endedAt: now - MIN, error: new Error('index unreadable') });
  const h = await checkHealth(cfg, now);
  t.false(h.healthy);
  t.regex(h.reason, /last pass error: index unreadable/);
  const st = await readStatus(statusFileFor(cfg.stateDir, cfg.shard));
  t.is(st?.lastPass?.result, 'error');
});

test('no pass has completed and the last one failed: unhealthy with that error, not only "no pass has completed"', async (t) => {
  const cfg = await setup();
  const rec = recorder(cfg);
  const now = Date.now();
  const denied = Object.assign(new Error("EACCES: permission denied, mkdir '/output/.hiksync'"), { code: 'EACCES' });
  await rec.passEnded({ startedAt: now - 2 * MIN, endedAt: now - MIN, error: denied });
  const h = await checkHealth(cfg, now);
  t.false(h.healthy);
  t.is(h.reason, "no pass has completed yet; last pass error: EACCES: permission denied, mkdir '/output/.hiksync'");
});

test('no pass yet: unhealthy unless a fresh run holds the lock', async (t) => {
  const cfg = await setup();
  const h = await checkHealth(cfg, Date.now());
  t.false(h.healthy);
  t.regex(h.reason, /no pass has completed yet/);
  const lock = await acquireLock(cfg.lockFile, { onLost: () => undefined });
  t.teardown(() => lock.release());
  t.true((await checkHealth(cfg, Date.now())).healthy);
});

test('input missing: unhealthy even with a recent pass', async (t) => {
  const cfg = await setup();
  const rec = recorder(cfg);
  const now = Date.now();
  await rec.passEnded({ startedAt: now - 2 * MIN, endedAt: now - MIN, exitCode: 0, interrupted: false });
  await fs.rm(cfg.inputDir, { recursive: true });
  const h = await checkHealth(cfg, now);
  t.false(h.healthy);
  t.regex(h.reason, /does not exist \(share not mounted\?\)/);
});

test('input empty (an unmounted share looks empty): unhealthy', async (t) => {
  const cfg = await setup({ camera: false });
  await fs.writeFile(path.join(cfg.inputDir, '.DS_Store'), '');
  const h = await checkHealth(cfg, Date.now());
  t.false(h.healthy);
  t.regex(h.reason, /is empty/);
});

test('input unreadable: unhealthy', async (t) => {
  const cfg = await setup();
  const denied = Object.assign(new Error('permission denied'), { code: 'EACCES' });
  const h = await checkHealth(cfg, Date.now(), { readdir: () => Promise.reject(denied) });
  t.false(h.healthy);
  t.regex(h.reason, /unreadable: EACCES/);
});

test('a hung input listing is reported after the time limit, not waited on', async (t) => {
  const cfg = await setup();
  const started = Date.now();
  const h = await checkHealth(cfg, Date.now(), {
    readdir: () => new Promise<string[]>(() => undefined),
    fsTimeoutMs: 200,
  });
  t.false(h.healthy);
  t.true(h.timedOut);
  t.regex(h.reason, /did not answer within 0.2 s/);
  t.true(Date.now() - started < 2000);
});

test('two shards have independent status files and locks', async (t) => {
  const a = await setup({ shard: '0/2' });
  const b = loadConfig(
    {},
    { INPUT_DIR: a.inputDir, OUTPUT_DIR: a.outputDir, SHARD: '1/2' },
    { logIsTTY: false, parallelism: 1, processTz: 'UTC' },
  );
  t.not(statusFileFor(a.stateDir, a.shard), statusFileFor(b.stateDir, b.shard));
  t.not(a.lockFile, b.lockFile);
  const la = await acquireLock(a.lockFile, { onLost: () => undefined });
  const lb = await acquireLock(b.lockFile, { onLost: () => undefined });
  const now = Date.now();
  await new StatusRecorder(statusFileFor(a.stateDir, a.shard), {
    shard: a.shard,
    runMode: 'cron',
    intervalMin: 10,
  }).passEnded({
    startedAt: now - MIN,
    endedAt: now,
    exitCode: 0,
    interrupted: false,
  });
  await la.release();
  await lb.release();
  t.true((await checkHealth(a, now)).healthy);
  t.false((await checkHealth(b, now)).healthy, 'shard 1 has not completed a pass');
  t.true(path.basename(statusFileFor(b.stateDir, b.shard)) === 'status-shard-1-of-2.json');
});

test('scheduleHooks write the status a real schedule produces', async (t) => {
  const { runSchedule } = await import('../../lib/ops/schedule.js');
  const { scheduleHooks } = await import('../../lib/ops/status.js');
  const cfg = await setup();
  const file = statusFileFor(cfg.stateDir, cfg.shard);
  const rec = new StatusRecorder(file, { shard: cfg.shard, runMode: 'cron', intervalMin: 10 });
  const ac = new AbortController();
  let now = Date.now();
  let seenRunning = false;
  await runSchedule({
    mode: 'cron',
    intervalMs: 10 * MIN,
    clock: {
      now: () => now,
      sleep: () => {
        ac.abort();
        return Promise.resolve();
      },
    },
    log: { debug() {}, info() {}, warn() {}, error() {} },
    signal: ac.signal,
    pass: async () => {
      seenRunning = (await readStatus(file))?.passStartedAt !== undefined;
      now += MIN;
      return { exitCode: 1, interrupted: false, totals: { written: 4, failed: 1 } } as never;
    },
    ...scheduleHooks(rec),
  });
  t.true(seenRunning, 'the running pass is visible');
  const st = await readStatus(file);
  t.is(st?.passStartedAt, undefined);
  t.like(st?.lastPass, { result: 'some-failed', exitCode: 1, counts: { written: 4, failed: 1 } });
  t.is(st?.nextPassAt, new Date(now - MIN + 10 * MIN).toISOString());
  t.is(st?.lastCompletedAt, st?.lastPass?.endedAt);
  t.true((await checkHealth(cfg, now)).healthy);
});

test('a pass the output volume stopped (full, not writable) does not count as completed: health names why', async (t) => {
  const { scheduleHooks } = await import('../../lib/ops/status.js');
  const cfg = await setup();
  const file = statusFileFor(cfg.stateDir, cfg.shard);
  const hooks = scheduleHooks(new StatusRecorder(file, { shard: cfg.shard, runMode: 'cron', intervalMin: 10 }));
  const now = Date.now();
  const ok = { exitCode: 0, interrupted: false };
  await hooks.onPassEnd({ startedAt: now - 60 * MIN, endedAt: now - 59 * MIN, result: ok });
  const stopped =
    "an output folder cannot be written (read-only or permission denied) (EACCES: permission denied, open '/output/garden/video/x.mp4'): stopping this pass; nothing is counted against the recordings";
  await hooks.onPassEnd({
    startedAt: now - 2 * MIN,
    endedAt: now - MIN,
    result: { exitCode: 1, interrupted: false, stopped },
  });
  const st = await readStatus(file);
  t.like(st?.lastPass, { result: 'error', exitCode: 1, error: stopped });
  t.is(st?.lastCompletedAt, new Date(now - 59 * MIN).toISOString(), 'the stopped pass is not the last completed one');
  const h = await checkHealth(cfg, now);
  t.false(h.healthy);
  t.true(h.reason.endsWith(`; last pass error: ${stopped}`), h.reason);
});
