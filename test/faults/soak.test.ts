/**
 * The short soak of CI (`npm run soak` is the long one): live cameras record into a synthetic share for ~25 s while
 * the built hiksync runs in cron mode, passes a second apart (HIKSYNC_INTERVAL_SECONDS), SIGKILLed at seeded moments
 * during the first part. At the end every recording two completed passes could have seen before the ring took it
 * back is there exactly once, with exactly its frames (one pass may read an index mid-write: see runSoak); nothing
 * comes from a stale or open slot; pictures are the camera's; the output tree is sound; and the undisturbed
 * process's peak RSS did not grow from pass to pass.
 *
 * SOAK_SECONDS and SOAK_SEED change the length and the seed.
 */
import test from 'ava';
import * as path from 'node:path';
import { memoryProblem, runSoak } from '../../bench/soak/driver.js';
import { CLI, tmp } from '../helpers/cli.js';
import { assertSoundOutputTree } from '../helpers/output-tree.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 25);
const SEED = Number(process.env.SOAK_SEED ?? 7);

test('soak: a live camera, cron passes a second apart, SIGKILLs: everything the passes could see is there once and exact; memory flat', async (t) => {
  t.timeout(600_000);
  const dir = await tmp(t, 'hiksync-soak-');
  const report = await runSoak({
    dir,
    cli: CLI,
    seed: SEED,
    cameraMs: SECONDS * 1000,
    stepMs: 450,
    intervalSeconds: 1,
    workers: 2,
    calmShare: 0.45,
    minKills: 3,
  });
  const v = report.verify;
  t.log(
    `soak figures: ${JSON.stringify({
      cameraSeconds: report.cameraSeconds,
      slowdown: report.slowdown,
      totalSeconds: report.totalSeconds,
      cameraSteps: report.cameraSteps,
      kills: report.kills,
      passes: report.passes,
      finished: v.finished,
      couldBeSeen: v.required,
      present: v.requiredPresent,
      lostToRingBeforeTwoPasses: v.lostBeforeSeen,
      missedWithOnePass: v.missedWithOnePass.length,
      onePassWindows: v.onePassWindows,
      extractedAtRisk: v.extractedAtRisk,
      framesCompared: v.framesCompared,
      lostOrCorrupt: v.problems.length,
      failedByReason: report.failedByReason,
      peakRssKiB: {
        first: report.memory.firstKiB,
        second: report.memory.secondKiB,
        last: report.memory.lastKiB,
        max: report.memory.maxKiB,
      },
    })}`,
  );
  t.deepEqual(v.problems, [], 'nothing missing, corrupt, stale or stray');
  t.is(v.requiredPresent, v.required);
  // A single pass may read an index mid-write (runSoak): now and then, never as a rule.
  t.true(v.missedWithOnePass.length <= 2, `missed by their one pass: ${v.missedWithOnePass.join('; ')}`);
  t.true(report.kills.total >= 2, `hiksync was killed (${report.kills.total} times)`);
  t.true(v.required >= 30, `the soak checked real work (${v.required} recordings a pass could see)`);
  t.true(v.lostBeforeSeen + v.extractedAtRisk > 0, 'the rings wrapped over recordings while hiksync ran');
  t.is(report.finalExitCode, 0, 'SIGTERM ends the cron process cleanly');
  t.true(report.memory.perPassPeak, 'peak RSS was read per pass');
  t.is(memoryProblem(report), undefined, 'memory flat across passes');
  await assertSoundOutputTree(t, path.join(dir, 'out'), { decode: false });
});
