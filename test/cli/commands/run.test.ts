import test from 'ava';
import { startLine } from '../../../lib/cli/commands/run.js';
import { loadConfig } from '../../../lib/config.js';
import * as path from 'node:path';
import { writeSyntheticShare } from '../../../tools/synthetic/share-writer.js';
import { startCli, tmp } from '../../helpers/cli.js';

const defaults = { parallelism: 4, logIsTTY: false, processTz: 'UTC' };

test('the start-up line: version, mode and interval, folders, workers, retention, camera zone, uid:gid', (t) => {
  const cfg = loadConfig({}, { RUN_MODE: 'cron', CAMERA_TZ: 'Europe/Amsterdam', SHARD: '1/3' }, defaults);
  const line = startLine(cfg, { version: '1.2.3', dryRun: false, uid: 1026, gid: 100 });
  t.is(
    line.message,
    'hiksync 1.2.3: cron mode, a pass every 10 min; input /input, output /output; 4 workers; retention 90 days; ' +
      'camera zone Europe/Amsterdam; shard 1/3; running as uid 1026 (gid 100)',
  );
  t.deepEqual(line.fields, {
    event: 'start',
    version: '1.2.3',
    runMode: 'cron',
    intervalMin: 10,
    dryRun: false,
    input: '/input',
    output: '/output',
    workers: 4,
    retentionDays: 90,
    cameraTz: 'Europe/Amsterdam',
    shard: '1/3',
    uid: 1026,
    gid: 100,
  });
  const once = loadConfig({}, { RETENTION_DAYS: '0', WORKERS: '1' }, defaults);
  t.is(
    startLine(once, { version: '1.2.3', dryRun: true, uid: undefined, gid: undefined }).message,
    'hiksync 1.2.3: once mode, one pass (dry run: nothing written); input /input, output /output; 1 worker; ' +
      'retention off (RETENTION_DAYS=0); camera zone UTC',
  );
});

test('built CLI, cron mode: the start-up line first, then after the pass "next pass at <time> (in 10 min)"', async (t) => {
  const root = await tmp(t, 'hiksync-start-');
  const share = path.join(root, 'share');
  await writeSyntheticShare({ root: share, seed: 2, cameras: [{ name: 'cam1', codec: 'h264', events: 2 }] });
  const { child, exited } = startCli(['run', '--input', share, '--output', path.join(root, 'out'), '--dry-run'], {
    RUN_MODE: 'cron',
  });
  // Stopped (SIGTERM, as `docker stop` does) once it has said when the next pass is: no waiting on the clock.
  // Once: a second SIGTERM is "stop at once" (and after the handlers are gone, death by the signal itself).
  let seen = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    seen += d.toString();
    if (!sent && seen.includes('"event":"next-pass"')) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  const r = await exited;
  t.is(r.code, 0, `exit ${r.code} (signal ${r.signal}): ${r.stderr}`);
  const lines = r.stderr
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  t.like(lines[0], { level: 'INFO', event: 'start', runMode: 'cron', intervalMin: 10, dryRun: true });
  t.like(lines[0], { uid: process.getuid!(), gid: process.getgid!() });
  t.regex(
    String(lines[0]!.message),
    /^hiksync \d+\.\d+\.\d+: cron mode, a pass every 10 min \(dry run: nothing written\); /,
  );
  const next = lines.find((l) => l.event === 'next-pass');
  t.regex(String(next?.message), /^next pass at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC \(in 10 min\)$/);
});
