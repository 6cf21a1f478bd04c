/**
 * Folders that refuse the user hiksync runs as (as on a NAS: a container as uid 1000 against a share of root or
 * uid 1026). Runs the built CLI as an unprivileged user (setpriv, from util-linux) against folders root owns; needs
 * root, as CI has.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { CLI, tmp } from '../helpers/cli.js';
import { doneEntries } from '../helpers/output-tree.js';

const NOBODY = 65534;

function runAs(
  uid: number,
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    'setpriv',
    [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, CLI, ...args],
    // A generous bound: a service that does not stop on its own must fail the test, not hang it.
    { encoding: 'utf8', env: { ...process.env, LOG_FORMAT: 'json', TZ: 'UTC', ...env }, timeout: 120_000 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function setup(t: Parameters<typeof tmp>[0]) {
  const root = await tmp(t, 'hiksync-perm-');
  await fs.chmod(root, 0o755);
  const share = path.join(root, 'share');
  const truth = await writeSyntheticShare({
    root: share,
    seed: 3,
    cameras: [{ name: 'cam1', codec: 'h264', events: 3, pictures: 2 }],
  });
  // The share readable by everybody, as a camera share mounted read-only usually is.
  spawnSync('chmod', ['-R', 'a+rX', share]);
  return { root, share, truth };
}

test('an output folder owned by root: exit 77 and one line naming the folder, the user, the owner and the fixes', async (t) => {
  const { root, share } = await setup(t);
  const out = path.join(root, 'out');
  await fs.mkdir(out, { mode: 0o755 });
  const r = runAs(NOBODY, ['run', '--input', share, '--output', out, '--retention-days', '0']);
  t.is(r.code, 77);
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, r.stderr);
  t.regex(lines[0]!, new RegExp(`cannot write ${out} as uid ${NOBODY} \\(gid ${NOBODY}\\); it belongs to uid 0`));
  t.regex(
    lines[0]!,
    new RegExp(`Fix: give uid ${NOBODY} write access to ${out} \\(e.g. chown ${NOBODY}:${NOBODY} ${out}`),
  );
  t.regex(lines[0]!, /or run the container as root with --user 0:0/);
  t.deepEqual(await fs.readdir(out), [], 'nothing written');
});

test('cron mode (the image default) with an output owned by root: exit 77 and the same one line at start, no pass', async (t) => {
  const { root, share } = await setup(t);
  const out = path.join(root, 'out');
  await fs.mkdir(out, { mode: 0o755 });
  const r = runAs(NOBODY, ['run', '--input', share, '--output', out], { RUN_MODE: 'cron', CRON_INTERVAL: '1' });
  t.is(r.code, 77, r.stderr.slice(0, 300));
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('hiksync:'));
  t.is(lines.length, 1, r.stderr);
  t.regex(lines[0]!, new RegExp(`cannot write ${out} as uid ${NOBODY} \\(gid ${NOBODY}\\); it belongs to uid 0`));
  t.notRegex(r.stderr, /pass failed|\n\s+at /, 'no pass was tried, no stack trace');
  t.deepEqual(await fs.readdir(out), [], 'nothing written');
});

test('a camera share this user cannot read: exit 77 naming it', async (t) => {
  const { root, share } = await setup(t);
  await fs.chmod(share, 0o700);
  const out = path.join(root, 'out');
  await fs.mkdir(out);
  await fs.chown(out, NOBODY, NOBODY);
  const r = runAs(NOBODY, ['run', '--input', share, '--output', out, '--retention-days', '0']);
  t.is(r.code, 77);
  t.regex(r.stderr, new RegExp(`cannot read ${share} as uid ${NOBODY}`));
});

test('a video folder that cannot be written stops the pass without counting attempts; fixed, the next run resumes', async (t) => {
  const { root, share, truth } = await setup(t);
  const out = path.join(root, 'out');
  await fs.mkdir(path.join(out, 'cam1', 'video'), { recursive: true });
  spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, out]);
  await fs.chown(path.join(out, 'cam1', 'video'), 0, 0);
  const args = ['run', '--input', share, '--output', out, '--retention-days', '0', '--json'];
  for (let pass = 1; pass <= 3; pass++) {
    const r = runAs(NOBODY, args);
    t.is(r.code, 1, `pass ${pass}: ${r.stderr.slice(0, 200)}`);
    t.regex(r.stdout + r.stderr, /an output folder cannot be written/);
    const summary = JSON.parse(r.stdout) as { stopped?: string };
    t.regex(
      summary.stopped ?? '',
      /^an output folder cannot be written .*: stopping this pass/,
      'the summary says why',
    );
  }
  const entries = await doneEntries(out);
  t.false(
    entries.some((e) => e.output.includes('/video/')),
    'no video recorded as done',
  );
  await fs.chown(path.join(out, 'cam1', 'video'), NOBODY, NOBODY);
  const fixed = runAs(NOBODY, args);
  t.is(fixed.code, 0, fixed.stderr.slice(0, 300));
  const total = truth.cameras[0]!.recordings.length;
  t.is((await doneEntries(out)).length, total, 'every recording written once permissions are fixed (none gave up)');
});

test('PUID/PGID: started as root, hiksync switches before touching a file; every output belongs to that user', async (t) => {
  const { root, share, truth } = await setup(t);
  const out = path.join(root, 'out');
  await fs.mkdir(out);
  await fs.chown(out, NOBODY, NOBODY);
  const r = spawnSync(process.execPath, [CLI, 'run', '--input', share, '--output', out, '--retention-days', '0'], {
    encoding: 'utf8',
    env: { ...process.env, LOG_FORMAT: 'json', TZ: 'UTC', PUID: String(NOBODY), PGID: String(NOBODY) },
  });
  t.is(r.status, 0, r.stderr.slice(0, 300));
  const owners = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const st = await fs.stat(p);
      owners.add(`${st.uid}:${st.gid}`);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(out);
  t.deepEqual([...owners], [`${NOBODY}:${NOBODY}`], "everything under the output, state included, is the user's");
  t.is((await doneEntries(out)).length, truth.cameras[0]!.recordings.length);
});

test('PUID/PGID: a bad or root id is a bad setting (78); as a non-root user they are reported and ignored', async (t) => {
  const { share } = await setup(t);
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [CLI, 'scan', '--input', share], { encoding: 'utf8', env: { ...process.env, ...env } });
  t.is(run({ PUID: 'abc', PGID: '100' }).status, 78);
  t.regex(run({ PUID: '0', PGID: '0' }).stderr, /^hiksync: PUID=0 would run hiksync as root/);
  t.regex(run({ PUID: '1026' }).stderr, /set both PUID and PGID/);
  const ignored = spawnSync(
    'setpriv',
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, CLI, 'scan', '--input', share],
    { encoding: 'utf8', env: { ...process.env, PUID: '1026', PGID: '100' } },
  );
  t.is(ignored.status, 0, ignored.stderr);
  t.regex(ignored.stderr, /PUID=1026 PGID=100 ignored: hiksync already runs as uid 65534/);
});
