/**
 * A pass against a share that stops answering, in process (the share reader and the pool are the ports): the
 * camera that hangs is skipped with one clear line and no retention, the others are extracted; a task that stands
 * still is stopped by the watchdog, and counted against its recording only when the share itself still answers.
 */
import test from 'ava';
import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from '../../lib/log-types.js';
import type { ManifestEntry } from '../../lib/pipeline/manifest-entry.js';
import type { ExtractPool } from '../../lib/pipeline/pool.js';
import { runPass, STALL_FACTOR } from '../../lib/pipeline/run-pass.js';
import type { ExtractResult, ExtractTask } from '../../lib/pipeline/task.js';
import { createShareIo, ShareGate, type RawFileHandle, type RawShareFs } from '../../lib/share-io.js';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { rawFs } from '../helpers/share-fs.js';
import { dryRunOptions } from './run-options.js';

/** Generous: the real calls must answer within it on a loaded machine; the hung ones never do. */
const LIMIT = 2000;
const never = <T>() => new Promise<T>(() => undefined);

function recorder(): Log & { lines: string[] } {
  const lines: string[] = [];
  const push = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  return { lines, debug: () => undefined, info: push, warn: push, error: push };
}

async function setup(t: { teardown(fn: () => unknown): void }, cameras: string[]) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-pass-share-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const input = path.join(root, 'in');
  const output = path.join(root, 'out');
  await writeSyntheticShare({
    root: input,
    seed: 21,
    cameras: cameras.map((name) => ({ name, codec: 'h264' as const, events: 3, pictures: 1 })),
  });
  const opts = dryRunOptions(input, output, {
    cameraTranslation: new Map(),
    ioConcurrency: 8,
    dryRun: false,
    retention: true,
    shareTimeoutMs: LIMIT,
  });
  return { input, output, opts };
}

/** The real file system, except that reads of files matching `hang` never return. */
const hangingReads = (hang: RegExp): RawShareFs =>
  rawFs({
    open: async (file, flags): Promise<RawFileHandle> => {
      const fh = await fs.open(file, flags);
      return {
        stat: () => fh.stat(),
        read: (b, o, l, p) => (hang.test(file) ? never<{ bytesRead: number }>() : fh.read(b, o, l, p)),
        close: () => fh.close(),
      };
    },
  });

async function filesOf(output: string, camera: string): Promise<string[]> {
  const names: string[] = [];
  for (const sub of ['video', 'images']) {
    const dir = path.join(output, camera, sub);
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[])) names.push(e.name);
  }
  return names.sort();
}

async function lastEntries(output: string, camera: string): Promise<ManifestEntry[]> {
  const text = await fs.readFile(path.join(output, '.hiksync', 'manifests', `${camera}.jsonl`), 'utf8');
  const last = new Map<string, ManifestEntry>();
  for (const line of text.trim().split('\n')) {
    const e = JSON.parse(line) as ManifestEntry;
    last.set(e.id, e);
  }
  return [...last.values()];
}

test('a camera whose index read never returns is skipped after the limit; the others are extracted and retained as usual', async (t) => {
  const { output, opts } = await setup(t, ['cam1', 'cam2']);
  const first = await runPass(opts, { log: recorder() });
  t.is(first.exitCode, 0, JSON.stringify(first.cameras, null, 1));
  const cam1Files = await filesOf(output, 'cam1');
  t.true(cam1Files.length > 0);

  // Everything is older than a day: a forced retention would delete every file of both cameras.
  const log = recorder();
  const hung = await runPass(
    { ...opts, retentionDays: 1, retentionForce: true },
    {
      log,
      shareIo: (folder) =>
        path.basename(folder) === 'cam1'
          ? createShareIo(LIMIT, hangingReads(/index00\.bin$/), [new ShareGate(8)]) // its hung read keeps a place
          : createShareIo(LIMIT),
    },
  );
  t.is(hung.exitCode, 1, 'never "nothing new"');
  const [cam1, cam2] = hung.cameras;
  t.regex(cam1!.errors.join('\n'), /^cam1: the camera share is not answering: reading .*cam1\/datadir0\/index00\.bin/);
  t.is(cam1!.retention, undefined, 'no retention for a camera whose share did not answer');
  t.deepEqual(await filesOf(output, 'cam1'), cam1Files, 'nothing of it deleted');
  t.true(
    log.lines.some((l) => /cam1: the camera share is not answering.*camera skipped in this pass/.test(l)),
    log.lines.join('\n'),
  );
  t.deepEqual(cam2!.errors, []);
  t.true((cam2!.retention?.deleted ?? 0) > 0, 'the camera that answered is retained as usual');
});

/** A pool whose tasks run until `settle` says otherwise; like Piscina, an aborted task rejects at once. */
function fakePool(settle: (task: ExtractTask, signal: AbortSignal) => Promise<ExtractResult>): ExtractPool & {
  tasks: ExtractTask[];
} {
  const tasks: ExtractTask[] = [];
  return {
    threads: 1,
    tasks,
    run: (task, signal) => {
      tasks.push(task);
      return new Promise<ExtractResult>((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
        settle(task, signal!).then(resolve, reject);
      });
    },
    // A worker stuck in a read never exits: the pass must not wait for it.
    destroy: () => never<void>(),
  };
}

/** The watchdog's limit (the scan keeps the generous LIMIT: its reads are real). */
const SMALL_LIMIT = 500;
const scanIo = () => createShareIo(LIMIT);

/** A worker that takes the task (its first heartbeat, as workers/extract.ts gives at once) and then stands still. */
const takeAndHang = (task: ExtractTask): Promise<ExtractResult> => {
  Atomics.add(new Int32Array(task.heartbeat!), 0, 1);
  return never();
};

test('a task that stands still is stopped by the watchdog; the share answers, so it counts as an attempt', async (t) => {
  const { opts, output } = await setup(t, ['cam1']);
  const pool = fakePool(takeAndHang);
  const summary = await runPass(
    { ...opts, kinds: { video: false, picture: true }, shareTimeoutMs: SMALL_LIMIT },
    { log: recorder(), createPool: () => pool, shareIo: scanIo },
  );
  t.is(summary.exitCode, 1);
  t.true(pool.tasks.length >= 1);
  t.is(summary.cameras[0]!.failed['io-error'], pool.tasks.length);
  const failed = (await lastEntries(output, 'cam1')).filter((e) => e.status === 'failed');
  t.is(failed.length, pool.tasks.length);
  for (const e of failed) {
    t.is(e.attempts, 1);
    t.regex(
      e.lastError ?? '',
      new RegExp(`^io-error: no progress for ${(STALL_FACTOR * SMALL_LIMIT) / 1000} s extracting .*hiv\\d+\\.pic`),
    );
  }
});

test('a task that stands still while its share no longer answers: input-unavailable, no attempt counted', async (t) => {
  const { opts, input, output } = await setup(t, ['cam1']);
  const pool = fakePool(async (task) => {
    // The share goes away while the worker is stuck in its read (an unmounted share lists nothing).
    await fs.rename(path.join(input, 'cam1'), path.join(input, 'gone')).catch(() => undefined);
    return takeAndHang(task);
  });
  const summary = await runPass(
    { ...opts, kinds: { video: false, picture: true }, shareTimeoutMs: SMALL_LIMIT },
    { log: recorder(), createPool: () => pool, shareIo: scanIo },
  );
  t.is(summary.exitCode, 1);
  const cam = summary.cameras[0]!;
  t.is(cam.failed['input-unavailable'], 1, 'the camera stops at its first file: the share is gone');
  t.regex(cam.errors.join('\n'), /camera share .*cam1 is no longer readable.*no progress for/);
  const failed = (await lastEntries(output, 'cam1')).filter((e) => e.status === 'failed');
  t.deepEqual(
    failed.map((e) => e.attempts),
    [0],
  );
});

test('a task waiting for a worker to start (no heartbeat yet) is not stopped at the stall limit, only at the start limit', async (t) => {
  const { opts } = await setup(t, ['cam1']);
  const stallMs = STALL_FACTOR * SMALL_LIMIT;
  let started = 0;
  // The first task's worker takes three stall limits to start (a loaded machine booting a thread), then works.
  const slowStart = fakePool(async (task) => {
    if (started++ === 0) await new Promise((r) => setTimeout(r, 3 * stallMs));
    Atomics.add(new Int32Array(task.heartbeat!), 0, 1);
    return { status: 'written', bytesRead: 10, bytesWritten: 10 };
  });
  const ok = await runPass(
    { ...opts, kinds: { video: false, picture: true }, shareTimeoutMs: SMALL_LIMIT },
    { log: recorder(), createPool: () => slowStart, shareIo: scanIo, workerStartMs: 60_000 },
  );
  t.deepEqual(ok.cameras[0]!.failed, {});
  t.is(ok.cameras[0]!.written.picture, slowStart.tasks.length);

  // A worker that never takes its task is still stopped, at the start limit. (The watchdog's timer does not keep a
  // process alive, and a task that is never taken holds nothing else: this test does, until it ends.)
  const keepAlive = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const { opts: opts2 } = await setup(t, ['cam1']);
  const neverTaken = fakePool(() => never());
  const stuck = await runPass(
    { ...opts2, kinds: { video: false, picture: true }, shareTimeoutMs: SMALL_LIMIT },
    { log: recorder(), createPool: () => neverTaken, shareIo: scanIo, workerStartMs: 2 * stallMs },
  );
  t.is(stuck.cameras[0]!.failed['io-error'], neverTaken.tasks.length);
});

test('a slow task that keeps moving is not stopped', async (t) => {
  const { opts } = await setup(t, ['cam1']);
  const stallMs = STALL_FACTOR * SMALL_LIMIT;
  const pool = fakePool(async (task) => {
    // Two and a half stall limits long, with a heartbeat every tenth of one.
    const beats = new Int32Array(task.heartbeat!);
    for (let i = 0; i < 25; i++) {
      await new Promise((r) => setTimeout(r, stallMs / 10));
      Atomics.add(beats, 0, 1);
    }
    return { status: 'written', bytesRead: 10, bytesWritten: 10 };
  });
  const summary = await runPass(
    { ...opts, kinds: { video: false, picture: true }, shareTimeoutMs: SMALL_LIMIT },
    { log: recorder(), createPool: () => pool, shareIo: scanIo },
  );
  t.deepEqual(summary.cameras[0]!.failed, {});
  t.is(summary.cameras[0]!.written.picture, pool.tasks.length);
});
