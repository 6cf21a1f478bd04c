/**
 * The first hour on a NAS, through the built CLI: what a new user (often coming from the old tool) meets before the
 * first file appears, and that each surprise is told in one clear line.
 */
import test from 'ava';
import * as path from 'node:path';
import { writeSyntheticShare, type SyntheticCamera } from '../../tools/synthetic/share-writer.js';
import { runCli, tmp } from '../helpers/cli.js';

const DAY_MS = 86_400_000;

/** Camera-local ISO time (the CLI runs with TZ=UTC) `days` ago. */
function daysAgo(days: number): string {
  return new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 19);
}

/** The messages of JSON log lines. */
function messages(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { message?: string }).message ?? '');
}

async function share(t: { teardown(fn: () => unknown): void }, cameras: SyntheticCamera[]) {
  const root = await tmp(t, 'hiksync-first-hour-');
  const input = path.join(root, 'share');
  const truth = await writeSyntheticShare({ root: input, seed: 5, cameras });
  return { root, input, output: path.join(root, 'out'), truth };
}

test('run --dry-run counts what it would extract: its summary says as many as it printed "would extract" lines', async (t) => {
  const s = await share(t, [{ name: 'cam1', codec: 'h264', events: 6, pictures: 2, startTime: daysAgo(1) }]);
  const r = runCli(['run', '--input', s.input, '--output', s.output, '--dry-run', '--log-format', 'pretty']);
  t.is(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => / would extract \S+ \(new\) from /.test(l)).length;
  t.true(lines > 0);
  const videos = s.truth.cameras[0]!.recordings.filter((x) => x.kind === 'video').length;
  t.regex(
    r.stdout,
    new RegExp(`^Dry run \\(nothing written\\): would extract ${lines} \\(${videos} videos, 2 pictures\\)`),
  );
  t.regex(
    r.stdout,
    new RegExp(`cam1: listed ${videos} videos / 2 pictures; would extract ${videos} videos / 2 pictures`),
  );

  const json = runCli(['run', '--input', s.input, '--output', s.output, '--dry-run', '--json']);
  t.is(json.summary?.totals.planned, lines);
  t.deepEqual(json.summary?.cameras[0]?.planned, { video: videos, picture: 2 });
  t.deepEqual(json.summary?.cameras[0]?.written, { video: 0, picture: 0 }, 'nothing written');
});

test('footage older than RETENTION_DAYS=90 is not extracted, and the summary says so and how to keep it', async (t) => {
  // The synthetic share records on 2024-05-01: far older than 90 days, like the archive a new user starts from.
  const s = await share(t, [{ name: 'garden', codec: 'h264', events: 5, pictures: 2 }]);
  const videos = s.truth.cameras[0]!.recordings.filter((x) => x.kind === 'video').length;
  const args = ['run', '--input', s.input, '--output', s.output];

  const human = runCli([...args, '--dry-run', '--log-format', 'pretty']);
  t.is(human.code, 0, human.stderr);
  t.regex(
    human.stdout,
    new RegExp(
      `\\n  ${videos} videos and 2 pictures older than RETENTION_DAYS=90 \\(before \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} camera time\\) ` +
        'not extracted: set RETENTION_DAYS=0 \\(--retention-days 0\\) to keep everything\\n',
    ),
  );

  const json = runCli([...args, '--json']);
  t.is(json.code, 0, json.stderr);
  t.is(json.summary?.totals.written, 0);
  t.like(json.summary?.tooOld[0], { setting: 'RETENTION_DAYS', days: 90, videos, pictures: 2 });
  // The same sentence as its own JSON log line, for people reading `docker logs`.
  const logged = json.stderr.split('\n').filter((l) => l.includes('older than RETENTION_DAYS=90'));
  t.is(logged.length, 1);
  t.is((JSON.parse(logged[0]!) as { message?: string }).message, json.summary?.tooOld[0]?.message);

  // The README's example for one camera and one day of such footage.
  const readme = runCli([
    ...args,
    ...['--camera', 'garden', '--since', '2024-05-01', '--until', '2024-05-02', '--retention-days', '0', '--json'],
  ]);
  t.is(readme.code, 0, readme.stderr);
  t.is(readme.summary?.totals.written, videos + 2);
  t.deepEqual(readme.summary?.tooOld, []);
});

test("the old tool's variables: SYNC_IMAGES, VIDEO_SYNC_DAYS, SYNC_INTERVAL_MINUTES, USE_FAST_EXTRACTION", async (t) => {
  const s = await share(t, [
    { name: 'recent', codec: 'h264', events: 4, pictures: 2, startTime: daysAgo(2) },
    { name: 'older', codec: 'h264', events: 4, pictures: 2, startTime: daysAgo(20) },
  ]);
  const args = ['run', '--input', s.input, '--output', s.output, '--dry-run', '--json'];
  const videosOf = (name: string) =>
    s.truth.cameras.find((c) => c.name === name)!.recordings.filter((x) => x.kind === 'video').length;

  const noImages = runCli(args, { SYNC_IMAGES: 'false' });
  t.is(noImages.code, 0, noImages.stderr);
  t.true(noImages.summary!.cameras.every((c) => c.planned.picture === 0 && c.listed.picture === 0));
  const flagWins = runCli([...args, '--images'], { SYNC_IMAGES: 'false' });
  t.true(
    flagWins.summary!.cameras.every((c) => c.planned.picture === 2),
    '--images overrides SYNC_IMAGES',
  );

  const week = runCli(args, { VIDEO_SYNC_DAYS: '7' });
  t.is(week.code, 0, week.stderr);
  const planned = Object.fromEntries(week.summary!.cameras.map((c) => [c.camera, c.planned]));
  t.deepEqual(planned, { older: { video: 0, picture: 2 }, recent: { video: videosOf('recent'), picture: 2 } });
  t.like(week.summary?.tooOld, [{ setting: 'VIDEO_SYNC_DAYS', days: 7, videos: videosOf('older'), pictures: 0 }]);

  const both = runCli(['scan', '--input', s.input], { SYNC_INTERVAL_MINUTES: '5', CRON_INTERVAL: '10' });
  t.is(both.code, 78);
  t.is(
    both.stderr,
    'hiksync: SYNC_INTERVAL_MINUTES="5" and CRON_INTERVAL="10" disagree: SYNC_INTERVAL_MINUTES is the old name of ' +
      'CRON_INTERVAL; set only one\n',
  );

  const fast = runCli(args, { USE_FAST_EXTRACTION: 'true' });
  t.is(fast.code, 0, fast.stderr);
  const notes = fast.stderr.split('\n').filter((l) => l.includes('USE_FAST_EXTRACTION'));
  t.is(notes.length, 1, 'one line');
  t.like(JSON.parse(notes[0]!), { level: 'INFO' });
});

test('--camera nosuchcam is one line and exit 66; a CAMERA_TRANSLATION entry for a missing folder is said once by run and by scan', async (t) => {
  const s = await share(t, [{ name: 'Camera-Tuin', codec: 'h264', events: 2 }]);
  const run = ['run', '--input', s.input, '--output', s.output, '--retention-days', '0'];

  const none = runCli([...run, '--camera', 'nosuchcam']);
  t.is(none.code, 66);
  t.is(
    none.stderr,
    `hiksync: --camera nosuchcam: no camera folder or tag of that name in ${s.input} (its cameras: Camera-Tuin)\n`,
  );

  const nope = `CAMERA_TRANSLATION names "Nope", but no camera folder of that name is in ${s.input}`;
  const count = (text: string) => text.split(nope).length - 1;
  const ran = runCli([...run, '--json'], { CAMERA_TRANSLATION: 'Nope:x' });
  t.is(ran.code, 0, ran.stderr);
  t.is(count(messages(ran.stderr).join('\n')), 1, 'run: once');
  t.true(ran.summary!.totals.written > 0, 'and the pass goes on');
  for (const json of [[], ['--json']]) {
    const scanned = runCli(['scan', '--input', s.input, ...json], { CAMERA_TRANSLATION: 'Nope:x' });
    t.is(scanned.code, 0, scanned.stderr);
    t.is(scanned.stderr, `hiksync: ${nope} (its camera folders: Camera-Tuin)\n`, 'scan: once, on stderr');
  }
});

test('a missing INPUT_DIR (share not mounted, a typo) is exit 66 and one line in run, scan and once mode, never 1', async (t) => {
  const root = await tmp(t, 'hiksync-first-hour-');
  const missing = path.join(root, 'no-such-share');
  const output = path.join(root, 'out');
  const line = `hiksync: cannot list the input folder ${missing}: ENOENT\n`;
  for (const [args, env] of [
    [['run', '--output', output], { INPUT_DIR: missing }],
    [['run'], { INPUT_DIR: missing, OUTPUT_DIR: output, RUN_MODE: 'once' }],
    [['scan'], { INPUT_DIR: missing }],
  ] as Array<[string[], Record<string, string>]>) {
    const r = runCli(args, env);
    t.is(r.code, 66, `${args.join(' ')}: ${r.stderr}`);
    t.is(r.stderr, line, args.join(' '));
  }
});

test('one camera mounted as the input folder itself works; one line at start says how to name it', async (t) => {
  const s = await share(t, [{ name: 'input', codec: 'h264', events: 3, pictures: 1 }]);
  const input = path.join(s.input, 'input'); // what `-v /volume1/your-camera-path:/input` gives the container
  const args = (output: string) => ['run', '--input', input, '--output', output, '--retention-days', '0', '--json'];
  const plain = runCli(args(s.output));
  t.is(plain.code, 0, plain.stderr);
  t.like(plain.summary?.cameras[0], { camera: 'input', tag: 'input' });
  const notices = plain.stderr.split('\n').filter((l) => l.includes('CAMERA_TRANSLATION=input:<name>'));
  t.is(notices.length, 1);
  t.like(JSON.parse(notices[0]!), { level: 'WARN' });

  const named = runCli(args(path.join(s.root, 'named')), { CAMERA_TRANSLATION: 'input:garden' });
  t.is(named.code, 0, named.stderr);
  t.like(named.summary?.cameras[0], { camera: 'input', tag: 'garden' });
  t.notRegex(named.stderr, /CAMERA_TRANSLATION=/);
});
