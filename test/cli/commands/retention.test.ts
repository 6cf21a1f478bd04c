import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ExitCode } from '../../../lib/errors.js';
import { acquireLock } from '../../../lib/ops/lock.js';
import { Manifest } from '../../../lib/pipeline/manifest.js';
import { archive, runCommand as run } from './harness.js';

/** What `retention --json` prints, for the fields this test reads. */
interface RetentionReport {
  dryRun: boolean;
  cameras: Array<Record<string, unknown>>;
}

test.serial('retention --dry-run --json reports and changes nothing; then deletes', async (t) => {
  const a = await archive(t);
  const dry = await run(['retention', ...a.flags, '--retention-days', '7', '--dry-run', '--json']);
  t.is(dry.code, 0, dry.stderr);
  const report = JSON.parse(dry.stdout) as RetentionReport;
  t.is(report.dryRun, true);
  t.like(report.cameras[0], { camera: 'Camera-Tuin', tag: 'garden', deleted: 3, bytes: 30, missing: 0 });
  t.is((await fs.readdir(path.join(a.output, 'garden', 'video'))).length, 10);

  const real = await run(['retention', ...a.flags, '--retention-days', '7']);
  t.is(real.code, 0, real.stderr);
  t.regex(real.stdout, /garden: deleted 3 files/);
  t.deepEqual((await fs.readdir(path.join(a.output, 'garden', 'video'))).sort(), [
    'r3.mp4',
    'r4.mp4',
    'r5.mp4',
    'r6.mp4',
    'r7.mp4',
    'r8.mp4',
    'r9.mp4',
  ]);
  const reopened = await Manifest.open(a.stateDir, 'Camera-Tuin');
  t.is(reopened.entries().length, 7);
  t.false((await fs.readdir(a.stateDir)).includes('lock'), 'lock released');
});

test.serial('retention blocked by the share valve exits 1 with the reason; --force deletes', async (t) => {
  const a = await archive(t);
  const blocked = await run(['retention', ...a.flags, '--retention-days', '2']);
  t.is(blocked.code, ExitCode.SOME_FAILED);
  t.regex(blocked.stdout, /BLOCKED: it would delete 8 of 10 files/);
  t.is((await fs.readdir(path.join(a.output, 'garden', 'video'))).length, 10);
  const forced = await run(['retention', ...a.flags, '--retention-days', '2', '--force']);
  t.is(forced.code, 0);
  t.is((await fs.readdir(path.join(a.output, 'garden', 'video'))).length, 2);
});

test.serial('a blocked camera is said once: on stdout in the report, on stderr only when stdout is JSON', async (t) => {
  const a = await archive(t);
  const reason = 'it would delete 8 of 10 files';
  const count = (text: string) => text.split(reason).length - 1;
  for (const dry of [['--dry-run'], []]) {
    const human = await run(['retention', ...a.flags, '--retention-days', '2', ...dry]);
    t.is(human.code, ExitCode.SOME_FAILED);
    t.is(count(human.stdout), 1, `stdout ${dry.join('')}`);
    t.is(count(human.stderr), 0, `stderr ${dry.join('')}`);
  }
  const json = await run(['retention', ...a.flags, '--retention-days', '2', '--dry-run', '--json']);
  t.is(count(json.stdout), 1, 'in the JSON report');
  t.is(count(json.stderr), 1, 'and once for the person');
});

test.serial('retention: a bad setting is one line and exit 78; a held lock is exit 75', async (t) => {
  const a = await archive(t);
  const bad = await run(['retention', ...a.flags, '--retention-days', '7x']);
  t.is(bad.code, ExitCode.CONFIG);
  t.is(
    bad.stderr,
    'hiksync: --retention-days "7x" is not valid: expected a whole number of days (0 = keep everything) from 0 to 36500\n',
  );
  const lock = await acquireLock(path.join(a.stateDir, 'lock'), { onLost: () => undefined });
  t.teardown(() => lock.release());
  const held = await run(['retention', ...a.flags, '--retention-days', '7']);
  t.is(held.code, ExitCode.LOCK_HELD);
  t.regex(held.stderr, /^hiksync: another hiksync run holds the lock .*pid \d+ on host/);
  t.is(held.stderr.split('\n').length, 2, 'one line');
});
