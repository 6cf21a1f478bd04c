/**
 * SIGKILL at many moments of one backfill, each kill followed by the next run (which is killed in turn), then one
 * clean run. A kill may land anywhere: while the process starts, holds the lock, scans, writes a temporary file,
 * renames it, appends to the manifest. Moments are chosen from a seeded generator, mostly by EVENTS seen in the
 * output folders (the k-th temporary file or final file of the run appearing), some by time since the start;
 * polling the folders is only how a moment is chosen, never what is asserted.
 *
 * After every kill: every file under a final name is complete (the crash left no truncated output). At the end:
 * no temporary file anywhere, every output complete and decodable, the manifests list exactly the files on disk,
 * and every recording and picture of the share exists exactly once.
 *
 * KILL_LOOP_KILLS sets the number of kills (default 50).
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, statSync, watch } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { recordingId } from '../../lib/hikvision/recording.js';
import { mp4StructureProblem } from '../../lib/media/probe.js';
import { createRng, type Rng } from '../../tools/synthetic/rng.js';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import type { TruthRecording } from '../../tools/synthetic/truth-types.js';
import { runCli, startCli, tmp } from '../helpers/cli.js';
import { assertSoundOutputTree, doneEntries, isCompleteJpeg, listOutputTree } from '../helpers/output-tree.js';

const KILLS = Number(process.env.KILL_LOOP_KILLS ?? 50);
const SEED = 1009;
/** A run that has not reached its kill moment by then finished or hung: either way the loop goes on. */
const RUN_DEADLINE_MS = 60_000;
const POLL_MS = 3;
const LENGTHS: Array<number | 'short'> = [3, 8, 'short', 5, 12, 2, 6, 20];

type Moment =
  | { kind: 'time'; ms: number }
  | { kind: 'partial'; nth: number; thenMs: number }
  | { kind: 'file'; nth: number }
  | { kind: 'lock' };

function chooseMoment(rng: Rng): Moment {
  const p = rng.next();
  if (p < 0.2) return { kind: 'time', ms: rng.int(0, 600) };
  if (p < 0.6) return { kind: 'partial', nth: rng.int(1, 2), thenMs: rng.pick([0, 0, 1, 3, 8]) };
  return { kind: 'file', nth: rng.int(1, 2) };
}

function describe(m: Moment): string {
  if (m.kind === 'lock') return 'lock directory created';
  if (m.kind === 'time') return `${m.ms} ms after start`;
  if (m.kind === 'partial') return `temporary file #${m.nth} (+${m.thenMs} ms)`;
  return `final file #${m.nth}`;
}

/** Names in the output folders now: temporary (.partial) and final. */
async function folderNames(out: string): Promise<{ temps: Set<string>; finals: Set<string> }> {
  const temps = new Set<string>();
  const finals = new Set<string>();
  for (const tag of await fs.readdir(out).catch(() => [] as string[])) {
    if (tag.startsWith('.')) continue;
    for (const folder of ['video', 'images']) {
      for (const name of await fs.readdir(path.join(out, tag, folder)).catch(() => [] as string[])) {
        (name.endsWith('.partial') ? temps : finals).add(`${tag}/${folder}/${name}`);
      }
    }
  }
  return { temps, finals };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a run and kills it at `moment`; resolves with whether the kill landed (false: the run ended first). */
async function runUntil(
  args: string[],
  out: string,
  moment: Moment,
): Promise<{ killed: boolean; midWrite: boolean; code: number | null }> {
  const before = await folderNames(out);
  const started = Date.now();
  // The lock's creation is too short a moment to catch by polling: a watcher on the state folder kills at once.
  const lockDir = path.join(out, '.hiksync', 'lock');
  const watcher =
    moment.kind === 'lock'
      ? watch(path.dirname(lockDir), (_event, name) => {
          if (name === 'lock' && existsSync(lockDir)) cli.child.kill('SIGKILL');
        })
      : undefined;
  const cli = startCli(args);
  let ended = false;
  void cli.exited.then(() => (ended = true));
  const seenTemps = new Set<string>();
  const seenFinals = new Set<string>();
  let due: number | undefined = moment.kind === 'time' ? started + moment.ms : undefined;
  while (!ended && Date.now() - started < RUN_DEADLINE_MS) {
    if (due !== undefined && Date.now() >= due) break;
    if (moment.kind === 'partial' || moment.kind === 'file') {
      const now = await folderNames(out);
      for (const n of now.temps) if (!before.temps.has(n)) seenTemps.add(n);
      for (const n of now.finals) if (!before.finals.has(n)) seenFinals.add(n);
      if (due === undefined && moment.kind === 'partial' && seenTemps.size >= moment.nth)
        due = Date.now() + moment.thenMs;
      if (moment.kind === 'file' && seenFinals.size >= moment.nth) break;
    }
    await delay(due !== undefined ? Math.min(POLL_MS, Math.max(0, due - Date.now())) : POLL_MS);
  }
  const killed = !ended && cli.child.kill('SIGKILL');
  const r = await cli.exited;
  watcher?.close();
  const midWrite = killed && (await folderNames(out)).temps.size > 0;
  return { killed: r.signal === 'SIGKILL', midWrite, code: r.code };
}

/** After a crash: what sits under a final name is complete (a temporary file may remain, and is not looked at). */
async function assertNoTruncatedFinal(t: ExecutionContext, out: string, when: string): Promise<void> {
  const { finals } = await folderNames(out);
  for (const f of finals) {
    const abs = path.join(out, f);
    if (f.endsWith('.jpg')) t.true(await isCompleteJpeg(abs), `${when}: ${f} is a whole JPEG`);
    else t.is(await mp4StructureProblem(abs), null, `${when}: ${f} is a complete MP4`);
  }
}

const idOf = (r: TruthRecording) => recordingId(r.datadir, r.kind, r);

/** Whether the lock directory names its owner (a JSON owner file with a pid). */
function readableOwner(lockDir: string): boolean {
  try {
    return (
      typeof (JSON.parse(readFileSync(path.join(lockDir, 'owner.json'), 'utf8')) as { pid?: unknown }).pid === 'number'
    );
  } catch {
    return false;
  }
}

test('SIGKILL at 50+ moments of a backfill, each followed by a rerun: complete outputs, no temporary file, no duplicate, manifest = folder, every recording once', async (t) => {
  t.timeout(600_000);
  const root = await tmp(t, 'hiksync-kill-loop-');
  const share = path.join(root, 'share');
  const out = path.join(root, 'out');
  const truth = await writeSyntheticShare({
    root: share,
    seed: SEED,
    // Short recordings (small files, quick to write): many of them, so the kills land all along the backfill.
    cameras: [
      { name: 'cam-a', codec: 'h264', audio: 'aac', datadirs: 2, events: 34, pictures: 8, lengthMix: LENGTHS },
      { name: 'cam-b', codec: 'h265', audio: 'none', events: 30, pictures: 6, lengthMix: LENGTHS },
      { name: 'cam-c', codec: 'h264', audio: 'alaw', sdLayout: true, events: 26, lengthMix: LENGTHS },
    ],
  });
  const recordings = truth.cameras.flatMap((c) => c.recordings);
  const args = ['run', '--input', share, '--output', out, '--json', '--retention-days', '36500', '--workers', '2'];
  const rng = createRng(SEED, 'kill-loop');

  const t0 = Date.now();
  let kills = 0;
  let runs = 0;
  let midWrite = 0;
  const byKind: Record<string, number> = {};
  const unexpectedExits: string[] = [];
  const lockDir = path.join(out, '.hiksync', 'lock');
  // Kills aimed between the lock directory's creation and its owner file (from kill 6 on, until one lands there):
  // the next runs must exit 75 only until the ownerless lock is taken over (10 s), not for 10 minutes.
  let lockKillsTried = 0;
  let ownerlessLocks = 0;
  /** mtime of the ownerless lock directory a kill left (when it was made), while it keeps runs out. */
  let ownerlessSince: number | undefined;
  let lockWaitRuns = 0;
  let longestLockWaitMs = 0;
  while (kills < KILLS && runs < 4 * KILLS) {
    runs++;
    const tryLock = kills >= 6 && ownerlessLocks === 0 && lockKillsTried < 8;
    if (tryLock) lockKillsTried++;
    const moment: Moment = tryLock ? { kind: 'lock' } : chooseMoment(rng);
    const r = await runUntil(args, out, moment);
    if (r.killed) {
      kills++;
      byKind[moment.kind] = (byKind[moment.kind] ?? 0) + 1;
      if (r.midWrite) midWrite++;
      await assertNoTruncatedFinal(t, out, `after kill ${kills} (${describe(moment)})`);
      if (existsSync(lockDir) && !readableOwner(lockDir)) {
        const made = statSync(lockDir).mtimeMs;
        if (made !== ownerlessSince) ownerlessLocks++;
        ownerlessSince = made;
      }
    } else if (r.code === 75 && ownerlessSince !== undefined) {
      lockWaitRuns++;
      longestLockWaitMs = Math.max(longestLockWaitMs, Date.now() - ownerlessSince);
    } else if (r.code !== 0) {
      unexpectedExits.push(`run ${runs}: exit ${r.code}`);
    }
    // The ownerless lock is gone once a run got past it (ended, or was killed holding a lock of its own).
    if ((r.code !== 75 && !r.killed) || (r.killed && existsSync(lockDir) && readableOwner(lockDir)))
      ownerlessSince = undefined;
  }
  const killSeconds = (Date.now() - t0) / 1000;
  t.is(kills, KILLS, `${KILLS} kills landed (${runs} runs)`);
  t.deepEqual(unexpectedExits, [], 'a run that was not killed ended cleanly');
  // Whether a kill caught that moment depends on the machine's speed (17 of 20 tries do here); the rule itself is
  // pinned by test/ops/lock.test.ts. When one did, the runs after it were kept out for the grace only.
  if (ownerlessLocks === 0) t.log('no kill caught a lock directory before its owner file was written');
  t.true(longestLockWaitMs < 30_000, `runs were kept out by an ownerless lock for ${longestLockWaitMs} ms only`);
  const beforeFinal = (await listOutputTree(out)).length;

  // The last kill may itself have left an ownerless lock: the final run is held to the same rule as the runs above
  // (kept out with exit 75 for the grace only, then it takes the lock over), not let in at once.
  let final = runCli(args);
  while (final.code === 75 && ownerlessSince !== undefined && Date.now() - ownerlessSince < 30_000) {
    lockWaitRuns++;
    longestLockWaitMs = Math.max(longestLockWaitMs, Date.now() - ownerlessSince);
    final = runCli(args);
  }
  t.is(final.code, 0, final.stderr.slice(0, 500));
  const gaveUp = final.summary?.totals.gaveUp ?? 0;

  const files = await listOutputTree(out);
  const figures = {
    kills,
    runs,
    killsByMoment: byKind,
    killsWithTemporaryFile: midWrite,
    ownerlessLocksLeft: ownerlessLocks,
    runsKeptOutByThem: lockWaitRuns,
    longestLockWaitSeconds: Math.round(longestLockWaitMs / 100) / 10,
    killLoopSeconds: Math.round(killSeconds),
    outputsBeforeFinalRun: beforeFinal,
    finalRunWrote: final.summary?.totals.written ?? 0,
    gaveUpAfterKills: gaveUp,
    recordingsChecked: recordings.length,
    lostOrCorrupt: recordings.length - files.length,
  };
  t.log(`kill-loop figures: ${JSON.stringify(figures)}`);
  // What became of the recordings that have no file (their last manifest line), to read when this fails.
  const last = new Map<string, string>();
  for (const f of await fs.readdir(path.join(out, '.hiksync', 'manifests')))
    for (const line of (await fs.readFile(path.join(out, '.hiksync', 'manifests', f), 'utf8')).split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { id: string; status: string; attempts: number; lastError?: string };
      last.set(e.id, `${e.status}, ${e.attempts} attempts, ${e.lastError ?? ''}`);
    }
  for (const r of recordings)
    if (!last.get(idOf(r))?.startsWith('done')) t.log(`no file for ${r.key}: ${last.get(idOf(r)) ?? 'never planned'}`);

  await assertSoundOutputTree(t, out);
  const done = await doneEntries(out);
  const ids = done.map((e) => e.id).sort();
  t.deepEqual(ids, recordings.map(idOf).sort(), 'every recording and picture exactly once, nothing else');
  t.is(files.length, recordings.length);
  const leftovers = (await fs.readdir(path.join(out, '.hiksync'), { recursive: true })).filter((n) =>
    /\.(tmp|partial)$/.test(n),
  );
  t.deepEqual(leftovers, [], 'no temporary file in the state folder either');
});
