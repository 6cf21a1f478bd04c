/**
 * The camera share unmounted, holding FIFOs, or hanging (a read that never returns), driven through the built CLI.
 * Each pass must end in bounded time with a clear message and an exit status that is not "nothing new"; it must
 * never delete outputs of a camera it could not read, leave no temporary file and release its lock; the cameras
 * that answer are still extracted.
 *
 * FIFOs are refused at once (opened with O_NONBLOCK, fstat'ed): they never block. A real hang is a FUSE mirror of
 * the share whose reads of chosen files are never answered (test/helpers/hung-share.ts): the reading thread is
 * blocked in the kernel, so the process can only end by a signal's default action, which shells, tini and Docker
 * report as status 130 (SIGINT); the intended exit code is in the last stderr line and in the summary.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { scanCamera } from '../../lib/hikvision/source.js';
import type { ManifestEntry } from '../../lib/pipeline/manifest-entry.js';
import type { PassSummary } from '../../lib/pipeline/summary.js';
import { writeSyntheticShare, type GroundTruth } from '../../tools/synthetic/share-writer.js';
import { extract } from '../../workers/extract.js';
import { runCli, startCli, tmp, type CliResult } from '../helpers/cli.js';
import { mountHungShare } from '../helpers/hung-share.js';
import { assertSoundOutputTree, listOutputTree } from '../helpers/output-tree.js';

async function twoCameras(t: ExecutionContext, seed: number): Promise<{ share: string; truth: GroundTruth }> {
  const share = await tmp(t, 'hiksync-hang-share-');
  const truth = await writeSyntheticShare({
    root: share,
    seed,
    cameras: ['cam1', 'cam2'].map((name) => ({ name, codec: 'h264' as const, events: 4, pictures: 2 })),
  });
  return { share, truth };
}

const count = (truth: GroundTruth, camera: string) => truth.cameras.find((c) => c.name === camera)!.recordings.length;

async function outputsOf(out: string, camera: string): Promise<string[]> {
  return (await listOutputTree(out)).filter((f) => f.startsWith(`${camera}/`));
}

async function assertLockReleased(t: ExecutionContext, out: string): Promise<void> {
  const state = await fs.readdir(path.join(out, '.hiksync'));
  t.false(
    state.some((n) => n.startsWith('lock') && !n.endsWith('.json')),
    `lock released: ${state.join(', ')}`,
  );
}

function replaceByFifo(file: string): void {
  execFileSync('rm', [file]);
  execFileSync('mkfifo', [file]);
}

function summaryOf(t: ExecutionContext, r: CliResult): PassSummary {
  if (!r.summary) throw new Error(`no pass summary on stdout (stderr: ${r.stderr.slice(-500)})`);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  return r.summary;
}

/** `hiksync run`, in the background so that the tests of this file run side by side. */
const run = (share: string, out: string, extra: string[] = [], env: Record<string, string> = {}) =>
  startCli(['run', '--input', share, '--output', out, '--json', '--workers', '2', ...extra], env).exited;

for (const [what, file, expect] of [
  ['index00.bin', 'cam1/datadir0/index00.bin', /index00\.bin is a FIFO, not a regular file: .*\(index01\.bin used\)/],
  ['info.bin', 'cam1/info.bin', /info\.bin is a FIFO, not a regular file: .*its datadirs are found by listing/],
  [
    'a hiv file',
    'cam1/datadir0/hiv00000.mp4',
    /hiv00000\.mp4 is a FIFO, not a regular file: its recordings are skipped/,
  ],
] as const) {
  test(`${what} a FIFO: refused at once, exit 1 naming it; the rest of that camera and the other camera extracted`, async (t) => {
    const { share, truth } = await twoCameras(t, 31);
    const out = await tmp(t, 'hiksync-hang-out-');
    replaceByFifo(path.join(share, file));
    const r = await run(share, out, ['--retention-days', '0']);
    t.is(r.code, 1, r.stderr.slice(-500));
    const summary = summaryOf(t, r);
    const [cam1, cam2] = summary.cameras;
    t.is(cam1!.errors.length, 1);
    t.regex(cam1!.errors[0]!, expect);
    t.deepEqual(cam2!.errors, []);
    t.is((await outputsOf(out, 'cam2')).length, count(truth, 'cam2'), 'the other camera: everything');
    const cam1Files = (await outputsOf(out, 'cam1')).length;
    if (what === 'a hiv file') t.true(cam1Files > 0 && cam1Files < count(truth, 'cam1'));
    else t.is(cam1Files, count(truth, 'cam1'), 'the camera itself: everything, by its other files');
    await assertSoundOutputTree(t, out, { decode: false });
    await assertLockReleased(t, out);
  });
}

/**
 * SHARE_TIMEOUT of the runs whose share hangs: long enough that the camera that answers (through the same FUSE
 * server, a node process starved like everything else on a loaded machine) is never taken for a hung one.
 */
const HUNG_LIMIT_S = '5';

test('a worker handed a FIFO instead of a hiv file fails that file at once, leaving no temporary file', async (t) => {
  const { share } = await twoCameras(t, 32);
  const out = await tmp(t, 'hiksync-hang-out-');
  const rec = (await scanCamera({ name: 'cam1', path: path.join(share, 'cam1') })).recordings.find(
    (r) => r.kind === 'video',
  )!;
  replaceByFifo(rec.source);
  const outputAbs = path.join(out, 'cam1', 'video', 'x.mp4');
  await fs.mkdir(path.dirname(outputAbs), { recursive: true });
  const result = await extract({
    recording: rec,
    outputAbs,
    tempAbs: path.join(out, 'cam1', 'video', '.x.mp4.partial'),
    container: 'mp4',
    mtimeMs: Date.now(),
    mode: 'create',
    fsync: false,
    marker: 'hiksync:x',
    shareTimeoutMs: 60_000,
  });
  t.like(result, { status: 'failed', reason: 'io-error' });
  t.regex(result.status === 'failed' ? result.message : '', /is a FIFO, not a regular file/);
  t.deepEqual(await fs.readdir(path.join(out, 'cam1', 'video')), []);
});

test('an unmounted share (an empty input folder): exit 66 with the reason, nothing deleted, lock released', async (t) => {
  const { share } = await twoCameras(t, 33);
  const out = await tmp(t, 'hiksync-hang-out-');
  t.is((await run(share, out, ['--retention-days', '0'])).code, 0);
  const before = await listOutputTree(out);
  const empty = await tmp(t, 'hiksync-unmounted-');
  // Everything is older than a day: a retention that ran would delete it all.
  const r = await run(empty, out, ['--retention-days', '1', '--force-retention']);
  t.is(r.code, 66);
  t.regex(r.stderr, new RegExp(`no camera folders in ${empty}: is the camera share mounted there\\?`));
  t.notRegex(r.stderr, /\n\s+at /);
  t.deepEqual(await listOutputTree(out), before, 'nothing deleted');
  await assertLockReleased(t, out);
  const health = runCli(['health', '--input', empty, '--output', out]);
  t.is(health.code, 1);
  t.regex(health.stdout, /^unhealthy: input .* is empty \(share not mounted\?\)/);
});

/** Names in the summary of a camera whose read hung. */
function assertHungCamera(t: ExecutionContext, summary: PassSummary, file: RegExp): void {
  const cam1 = summary.cameras.find((c) => c.camera === 'cam1')!;
  t.regex(cam1.errors.join('\n'), file);
  t.is(cam1.retention, undefined, 'no retention for a camera whose share did not answer');
}

test('index00.bin hangs (a read that never returns): that camera is skipped after SHARE_TIMEOUT, nothing of it deleted; the other camera goes on', async (t) => {
  const { share, truth } = await twoCameras(t, 34);
  const out = await tmp(t, 'hiksync-hang-out-');
  const fuse = await mountHungShare(t, share);
  t.is((await run(fuse.root, out, ['--retention-days', '0'])).code, 0, 'first pass: everything');
  const cam1Before = await outputsOf(out, 'cam1');
  t.is(cam1Before.length, count(truth, 'cam1'));

  await fuse.hang(['cam1/datadir0/index00.bin']);
  const t0 = Date.now();
  // Everything is older than a day: a retention that ran would delete it all.
  const r = await run(fuse.root, out, ['--retention-days', '1', '--force-retention'], { SHARE_TIMEOUT: HUNG_LIMIT_S });
  t.true(Date.now() - t0 < 120_000, `ended after ${Date.now() - t0} ms`);
  // The blocked read keeps the process from exiting normally: it is ended by SIGINT (status 130), saying why.
  t.is(r.signal, 'SIGINT', `code ${r.code}: ${r.stderr.slice(-500)}`);
  t.regex(r.stderr, /still running \d+ s after finishing with exit code 1: a file-system call has not returned/);
  const summary = summaryOf(t, r);
  t.is(summary.exitCode, 1, 'never "nothing new"');
  assertHungCamera(
    t,
    summary,
    /the camera share is not answering: reading .*cam1\/datadir0\/index00\.bin took longer than \d+ s/,
  );
  t.regex(
    r.stderr,
    /cam1: the camera share is not answering: .*camera skipped in this pass \(nothing extracted, nothing deleted\)/,
  );
  t.deepEqual(await outputsOf(out, 'cam1'), cam1Before, 'nothing of the hung camera deleted');
  const cam2 = summary.cameras.find((c) => c.camera === 'cam2')!;
  t.deepEqual(cam2.errors, []);
  t.is(cam2.retention?.deleted, count(truth, 'cam2'), 'the camera that answered is retained as usual');
  await assertSoundOutputTree(t, out, { decode: false });
  await assertLockReleased(t, out);
});

test('a hiv file hangs in a worker: that camera stops without counting attempts; the other camera is extracted in full', async (t) => {
  const { share, truth } = await twoCameras(t, 35);
  const out = await tmp(t, 'hiksync-hang-out-');
  const fuse = await mountHungShare(t, share);
  await fuse.hang(['cam1/datadir0/hiv00000.mp4']);
  const r = await run(fuse.root, out, ['--retention-days', '0'], { SHARE_TIMEOUT: HUNG_LIMIT_S });
  t.is(r.signal, 'SIGINT', `code ${r.code}: ${r.stderr.slice(-500)}`);
  t.regex(r.stderr, /still running \d+ s after finishing with exit code 1/);
  const summary = summaryOf(t, r);
  const cam1 = summary.cameras.find((c) => c.camera === 'cam1')!;
  t.true((cam1.failed['input-unavailable'] ?? 0) >= 1, JSON.stringify(cam1.failed));
  t.regex(
    cam1.errors.join('\n'),
    /camera share .*cam1 is no longer readable \(the camera share is not answering: reading .*hiv00000\.mp4 took longer than \d+ s/,
  );
  t.is((await outputsOf(out, 'cam2')).length, count(truth, 'cam2'), 'a hung camera does not stop the others');
  const manifest = await fs.readFile(path.join(out, '.hiksync', 'manifests', 'cam1.jsonl'), 'utf8');
  const last = new Map<string, ManifestEntry>();
  for (const line of manifest.trim().split('\n')) {
    const e = JSON.parse(line) as ManifestEntry;
    last.set(e.id, e);
  }
  const failed = [...last.values()].filter((e) => e.status === 'failed');
  t.true(failed.length >= 1);
  t.true(
    failed.every((e) => e.attempts === 0),
    `a hung share counts no attempt: ${JSON.stringify(failed.map((e) => [e.attempts, e.lastError]))}`,
  );
  await assertSoundOutputTree(t, out, { decode: false });
  await assertLockReleased(t, out);
});

test('SIGTERM twice while a read hangs (default SHARE_TIMEOUT of 60 s): the process ends at once, 130, lock released', async (t) => {
  const { share } = await twoCameras(t, 36);
  const out = await tmp(t, 'hiksync-hang-out-');
  const fuse = await mountHungShare(t, share);
  await fuse.hang(['cam1/datadir0/index00.bin']);
  const { child, exited } = startCli(['run', '--input', fuse.root, '--output', out, '--retention-days', '0']);
  await fuse.hung('cam1/datadir0/index00.bin');
  child.kill('SIGTERM');
  // The second signal counts once the first was handled (signals of one kind do not queue).
  await new Promise<void>((resolve) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()) && /SIGTERM received/.test(err) && resolve());
  });
  const t0 = Date.now();
  child.kill('SIGTERM');
  const r = await exited;
  t.true(Date.now() - t0 < 10_000, `ended ${Date.now() - t0} ms after the second signal`);
  t.is(r.signal, 'SIGINT', `code ${r.code}: ${r.stderr.slice(-500)}`);
  t.regex(r.stderr, /second signal \(SIGTERM\): exiting now/);
  await assertSoundOutputTree(t, out, { decode: false });
  await assertLockReleased(t, out);
});
