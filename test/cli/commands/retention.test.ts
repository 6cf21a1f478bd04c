import test from 'ava';
import { Cli } from 'clipanion';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { HealthCommand } from '../../../lib/cli/commands/health.js';
import { RetentionCommand } from '../../../lib/cli/commands/retention.js';
import { ExitCode } from '../../../lib/errors.js';
import { acquireLock } from '../../../lib/ops/lock.js';
import { Manifest } from '../../../lib/pipeline/manifest.js';
import type { ManifestEntry } from '../../../lib/pipeline/manifest-entry.js';
import { cameraNowSec } from '../../../lib/time.js';

const DAY = 86_400;

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = new Cli({ binaryName: 'hiksync', enableColors: false });
  cli.register(RetentionCommand);
  cli.register(HealthCommand);
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const code = await cli.run(args, { stdin: process.stdin, stdout: out, stderr: err });
  return { code, stdout, stderr };
}

async function archive() {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-cli-'));
  const input = path.join(root, 'in');
  const output = path.join(root, 'out');
  await fs.mkdir(path.join(input, 'Camera-Tuin'), { recursive: true });
  const stateDir = path.join(output, '.hiksync');
  const now = cameraNowSec('UTC', Date.now());
  const m = await Manifest.open(stateDir, 'Camera-Tuin');
  const entries: ManifestEntry[] = [];
  for (let i = 0; i < 10; i++) {
    const startSec = now - (9 - i) * DAY - 3600;
    const e: ManifestEntry = {
      id: `r${i}`,
      kind: 'video',
      output: `garden/video/r${i}.mp4`,
      status: 'done',
      size: 10,
      startSec,
      startUsec: 0,
      endSec: startSec + 60,
      source: { datadir: 'datadir0', fileNo: 0, slot: i, startOffset: 0, endOffset: 10 },
      attempts: 1,
      updatedAt: Date.now(),
    };
    await fs.mkdir(path.join(output, 'garden', 'video'), { recursive: true });
    await fs.writeFile(path.join(output, e.output), Buffer.alloc(10));
    m.put(e);
    entries.push(e);
  }
  await m.flush();
  const flags = ['--input', input, '--output', output, '--camera-tz', 'UTC', '--camera-translation', 'Camera-Tuin:garden', '--log-format', 'json'];
  return { root, input, output, stateDir, entries, flags };
}

test.serial('retention --dry-run --json reports and changes nothing; then deletes', async (t) => {
  const a = await archive();
  const dry = await run(['retention', ...a.flags, '--retention-days', '7', '--dry-run', '--json']);
  t.is(dry.code, 0, dry.stderr);
  const report = JSON.parse(dry.stdout);
  t.is(report.dryRun, true);
  t.like(report.cameras[0], { camera: 'Camera-Tuin', tag: 'garden', deleted: 3, bytes: 30, missing: 0 });
  t.is((await fs.readdir(path.join(a.output, 'garden', 'video'))).length, 10);

  const real = await run(['retention', ...a.flags, '--retention-days', '7']);
  t.is(real.code, 0, real.stderr);
  t.regex(real.stdout, /garden: deleted 3 files/);
  t.deepEqual((await fs.readdir(path.join(a.output, 'garden', 'video'))).sort(), ['r3.mp4', 'r4.mp4', 'r5.mp4', 'r6.mp4', 'r7.mp4', 'r8.mp4', 'r9.mp4']);
  const reopened = await Manifest.open(a.stateDir, 'Camera-Tuin');
  t.is(reopened.entries().length, 7);
  t.false((await fs.readdir(a.stateDir)).includes('lock'), 'lock released');
});

test.serial('retention blocked by the share valve exits 1 with the reason; --force deletes', async (t) => {
  const a = await archive();
  const blocked = await run(['retention', ...a.flags, '--retention-days', '2']);
  t.is(blocked.code, ExitCode.SOME_FAILED);
  t.regex(blocked.stdout, /BLOCKED: it would delete 8 of 10 files/);
  t.is((await fs.readdir(path.join(a.output, 'garden', 'video'))).length, 10);
  const forced = await run(['retention', ...a.flags, '--retention-days', '2', '--force']);
  t.is(forced.code, 0);
  t.is((await fs.readdir(path.join(a.output, 'garden', 'video'))).length, 2);
});

test.serial('retention: a bad setting is one line and exit 78; a held lock is exit 75', async (t) => {
  const a = await archive();
  const bad = await run(['retention', ...a.flags, '--retention-days', '7x']);
  t.is(bad.code, ExitCode.CONFIG);
  t.is(bad.stderr, 'hiksync: --retention-days "7x" is not valid: expected a whole number of days (0 = keep everything) from 0 to 36500\n');
  const lock = await acquireLock(path.join(a.stateDir, 'lock'), { onLost: () => undefined });
  t.teardown(() => lock.release());
  const held = await run(['retention', ...a.flags, '--retention-days', '7']);
  t.is(held.code, ExitCode.LOCK_HELD);
  t.regex(held.stderr, /^hiksync: another hiksync run holds the lock .*pid \d+ on host/);
  t.is(held.stderr.split('\n').length, 2, 'one line');
});

test.serial('health: exit 0/1 only, reason printed', async (t) => {
  const a = await archive();
  const noPass = await run(['health', ...a.flags]);
  t.is(noPass.code, 1);
  t.regex(noPass.stdout, /^unhealthy: no pass has completed yet/);
  await fs.rm(a.input, { recursive: true });
  const missing = await run(['health', ...a.flags, '--json']);
  t.is(missing.code, 1);
  t.like(JSON.parse(missing.stdout), { healthy: false });
  const bad = await run(['health', ...a.flags, '--workers', 'lots']);
  t.is(bad.code, 1, 'a config error is still 1 for HEALTHCHECK');
  t.regex(bad.stdout, /--workers "lots" is not valid/);
});
