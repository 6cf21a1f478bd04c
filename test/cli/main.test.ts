import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { CLI, ROOT, runCli, tmp } from '../helpers/cli.js';

/**
 * Runs the built CLI with stdout into a pipe whose reader is already gone, as the writes after the first line of
 * `| head -1` meet it (closed at once, so the outcome does not depend on how fast the child writes).
 */
function runClosingStdoutEarly(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.destroy();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('scan into a pipe its reader closes early (| head -1): a quiet exit, no EPIPE stack trace', async (t) => {
  const root = await tmp(t, 'hiksync-epipe-');
  const share = path.join(root, 'share');
  await writeSyntheticShare({
    root: share,
    seed: 7,
    cameras: [1, 2].map((n) => ({ name: `cam${n}`, codec: 'h264' as const, events: 4, pictures: 2 })),
  });
  for (const args of [
    ['scan', '--input', share],
    ['scan', '--input', share, '--json'],
  ]) {
    const r = await runClosingStdoutEarly(args);
    t.is(r.stderr, '', `${args.join(' ')}: nothing on stderr`);
    t.is(r.code, 0, args.join(' '));
  }
});

test('an unknown command is one line naming it and every command, exit 64', (t) => {
  const r = runCli(['scna', '--input', '/tmp']);
  t.is(r.code, 64);
  t.is(r.stdout, '');
  t.is(
    r.stderr,
    'hiksync: unknown command "scna"; commands: scan, run, retention, health, inspect (see hiksync --help)\n',
  );
});

test('`hiksync help` and `hiksync help run` print the help, as --help does', (t) => {
  const general = runCli(['help']);
  t.is(general.code, 0, general.stderr);
  t.is(general.stdout, runCli(['--help']).stdout);
  const run = runCli(['help', 'run']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, runCli(['run', '--help']).stdout);
  t.regex(run.stdout, /--retention-days/);
});

test('npm pack ships what the hiksync command needs, outside a clone: the bin with its shebang, dist/lib, dist/workers', async (t) => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const [pack] = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>;
  const files = pack!.files.map((f) => f.path);
  const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { bin: { hiksync: string } };
  t.is(pkg.bin.hiksync, 'dist/lib/cli/main.js');
  for (const needed of ['package.json', pkg.bin.hiksync, 'dist/workers/extract.js', 'dist/lib/pipeline/pool.js'])
    t.true(files.includes(needed), needed);
  const extra = files.filter((f) => !/^dist\/(lib|workers)\//.test(f) && !['package.json', 'README.md'].includes(f));
  t.deepEqual(extra, [], 'no tools, tests, benchmarks or sources');
  t.true((await fs.readFile(path.join(ROOT, pkg.bin.hiksync), 'utf8')).startsWith('#!/usr/bin/env node\n'));
});

test('help names option values after their option (clipanion shows "#0"), aligned', (t) => {
  for (const command of ['run', 'scan', 'retention', 'health']) {
    const r = spawnSync(process.execPath, [CLI, command, '--help'], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    t.false(r.stdout.includes('#0'), command);
    t.regex(r.stdout, /^ {2}--[a-z-]+ <[a-z-]+> +\S/m, command);
    const rows = r.stdout.split('\n').filter((l) => /^ {2}--/.test(l));
    const starts = new Set(rows.map((l) => l.length - l.replace(/^ {2}(-\S+)( <\S+>)? +/, '').length));
    t.is(starts.size, 1, `${command}: every description starts in one column`);
  }
});
