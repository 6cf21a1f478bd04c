/**
 * `npm run test:browser`: hiksync's outputs proven in a real browser. Builds, writes an e2e synthetic share
 * (checks.ts: H.264 and H.265, with and without sound), runs the built `hiksync run` on it, serves the output
 * folder over HTTP with Range requests (range-server.ts) and drives Debian's headless Chromium (playwright-core,
 * no browser download) to play every H.264 output in a `<video>` (page.ts), and to load some JPEGs in an `<img>`.
 * HEVC outputs are reported as skipped, with the browser's own answer as the reason: headless Chromium without a
 * GPU has no HEVC decoder here (the e2e tests decode them with ffmpeg).
 *
 * One TAP line per check and `N passed, N failed` at the end, the line .ci/run adds to its totals. No silent
 * skip: without Chromium (and not root to install it) the run counts as failed, unless HIKSYNC_SKIP_BROWSER=1.
 * The browser and the server are stopped in `finally` (the browser by its pid when closing hangs), the temporary
 * folder removed.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import pLimit from 'p-limit';
import type { PassSummary } from '../../lib/pipeline/summary.js';
import { writeSyntheticShare, type SyntheticCamera } from '../../tools/synthetic/share-writer.js';
import { CLI, ROOT } from '../helpers/cli.js';
import { ffprobe } from '../helpers/media-tools.js';
import { listOutputTree } from '../helpers/output-tree.js';
import { tail } from '../container/engine.js';
import { Report, type Assert } from '../container/report.js';
import { CHROMIUM, ensureChromium, launch, NoBrowserError, Pages, stopChromium, type Chromium } from './chromium.js';
import { assertImage, assertPlayed, CAMERAS, hevcType, hevcUnsupported, type OutputProbe } from './checks.js';
import { loadImages, playInVideo, probeHevc, type HevcProbeResult } from './page.js';
import { startRangeServer, type RangeServer } from './range-server.js';

/** Upper bound for each awaited media event in the page; a loaded 2-core machine is slow, a hang is not. */
const EVENT_TIMEOUT_MS = 30_000;
/** Upper bound for one output's whole page session (each of its ~5 events is bounded above). */
const OUTPUT_TIMEOUT_MS = 5 * EVENT_TIMEOUT_MS + 10_000;
/** Pages playing at once: playback runs in real time, so two halve the wall time without starving 2 cores. */
const PAGES = 2;
const JPEGS = 4;
/** `hiksync run` on the share takes ~7 s on a loaded machine. */
const RUN_TIMEOUT_MS = 120_000;
/** The whole check, a safety net far above its normal time: past it the run fails and cleans up. */
const WATCHDOG_MS = 10 * 60_000;

/** The modification times of the files under `dir` ending in one of `exts`, folded with `pick` from `start`. */
async function newest(dir: string, exts: string[], pick: (a: number, b: number) => number, start: number) {
  let t = start;
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (e.isFile() && exts.some((x) => e.name.endsWith(x))) {
      t = pick(t, (await fs.stat(path.join(e.parentPath, e.name))).mtimeMs);
    }
  }
  return t;
}

/**
 * dist/ (what the CLI runs) is current: every compiled file is newer than every source and build setting. Then
 * the build is not run again (.ci/run has just built it for `npm test`; tsc takes 20-50 s on a loaded machine).
 */
async function distIsCurrent(): Promise<boolean> {
  let sources = 0;
  for (const dir of ['lib', 'workers']) sources = await newest(path.join(ROOT, dir), ['.ts'], Math.max, sources);
  for (const f of ['tsconfig.json', 'tsconfig.base.json', 'package.json', 'package-lock.json']) {
    sources = Math.max(sources, (await fs.stat(path.join(ROOT, f)).catch(() => ({ mtimeMs: Infinity }))).mtimeMs);
  }
  let built = Infinity;
  for (const dir of ['lib', 'workers']) built = await newest(path.join(ROOT, 'dist', dir), ['.js'], Math.min, built);
  return existsSync(CLI) && built !== Infinity && built > sources;
}

/** `npm run build` unless dist/ is current; output to a log file. True when it built. */
async function build(logFile: string): Promise<boolean> {
  if (await distIsCurrent()) return false;
  const code = await new Promise<number | null>((resolve, reject) => {
    const fd = openSync(logFile, 'a');
    const child = spawn('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`npm run build failed (exit ${code}):\n${tail(logFile, 40)}`);
  return true;
}

/** The built CLI to completion: `hiksync run` on the share (killed by its pid past RUN_TIMEOUT_MS). */
function runHiksync(share: string, out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const args = [CLI, 'run', '--input', share, '--output', out, '--json', '--retention-days', '0', '--workers', '2'];
    const child = spawn(process.execPath, args, { env: { ...process.env, LOG_FORMAT: 'json', TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\nkilled: not finished within ${RUN_TIMEOUT_MS / 1000} s`;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Output {
  rel: string;
  /** The camera that recorded it (the output's tag is the camera folder name): what its codec should be. */
  camera: SyntheticCamera | undefined;
  probe: OutputProbe;
}

/** ffprobe's view of an output; a file ffprobe cannot read is not dropped: its checks fail, with the reason. */
async function probeOutput(out: string, rel: string): Promise<Output> {
  const camera = CAMERAS.find((c) => c.name === rel.split('/')[0]);
  try {
    const p = await ffprobe('-show_format', '-show_streams', path.join(out, rel));
    const video = p.streams.find((s) => s.codec_type === 'video');
    const audio = p.streams.find((s) => s.codec_type === 'audio');
    const probe: OutputProbe = { duration: Number(p.format?.duration ?? NaN) };
    if (video) probe.video = video;
    if (audio) probe.audio = audio;
    return { rel, camera, probe };
  } catch (err) {
    const text = err instanceof Error ? ((err as Error & { stderr?: string }).stderr ?? err.message) : String(err);
    return { rel, camera, probe: { duration: NaN, error: text.trim().split('\n').slice(-3).join(' / ') } };
  }
}

const SABOTAGES: Record<string, (mp4: Buffer) => Buffer> = {
  // hiksync writes the moov at the end (fastStart: false): the last 200 bytes are in it.
  'truncate-moov': (mp4) => mp4.subarray(0, mp4.length - 200),
  // The samples: the header boxes stay, the frames are zeros.
  'zero-mdat': (mp4) => Buffer.from(mp4).fill(0, 64, Math.floor(mp4.length * 0.9)),
  // An audio track of a codec no browser knows: ffprobe still lists it, so it must be decoded, and cannot be.
  'unknown-audio': (mp4) => {
    const bad = Buffer.from(mp4);
    bad.write('abcd', mp4.indexOf('mp4a'), 'latin1');
    bad.write('free', mp4.indexOf('esds'), 'latin1');
    return bad;
  },
};

/**
 * HIKSYNC_BROWSER_SABOTAGE=<kind>: damages the first H.264 + AAC output after the run, so the check must fail. It
 * proves the check is not blind; never set in CI.
 */
async function sabotage(out: string, files: string[], kind: string): Promise<string> {
  const damage = SABOTAGES[kind];
  if (!damage) throw new Error(`HIKSYNC_BROWSER_SABOTAGE=${kind}: one of ${Object.keys(SABOTAGES).join(', ')}`);
  const rel = files.find((f) => f.startsWith('h264-aac/video/'));
  if (rel === undefined) throw new Error('HIKSYNC_BROWSER_SABOTAGE: no h264-aac output to damage');
  const file = path.join(out, rel);
  await fs.writeFile(file, damage(await fs.readFile(file)));
  return `HIKSYNC_BROWSER_SABOTAGE=${kind}: ${rel} damaged on purpose: this run must fail`;
}

/** A check whose assertions need no waiting. */
const sync = (fn: (a: Assert) => void) => (a: Assert) => Promise.resolve(fn(a));

const urlOf = (rel: string) => `/${rel.split('/').map(encodeURIComponent).join('/')}`;

async function main(): Promise<number> {
  const report = new Report();
  const log = (line: string) => report.comment(line);
  const started = Date.now();
  const phases: string[] = [];
  const phase = (name: string, t0: number) => phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  if (process.env.HIKSYNC_SKIP_BROWSER === '1') {
    report.skip('browser check', 'HIKSYNC_SKIP_BROWSER=1: no output was played in a browser');
    report.end();
    return 0;
  }

  let work: string | undefined;
  let server: RangeServer | undefined;
  let launching: Promise<Chromium> | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      // A launch still under way is waited for (it is bounded), so its browser is stopped too.
      const browser = await launching?.catch(() => undefined);
      if (browser) await stopChromium(browser, log);
      await server?.close().catch(() => undefined);
      if (work) await fs.rm(work, { recursive: true, force: true }).catch(() => undefined);
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    report.fail('browser check', `not finished within ${WATCHDOG_MS / 60_000} min: stopped`);
    report.end();
    void cleanup().finally(() => process.exit(1));
  }, WATCHDOG_MS);

  try {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-browser-'));
    const share = path.join(work, 'share');
    const out = path.join(work, 'out');
    const aptLog = path.join(work, 'apt.log');
    const buildLog = path.join(work, 'build.log');

    let t0 = Date.now();
    try {
      const installSeconds = await ensureChromium(log, aptLog);
      if (installSeconds > 0) phases.push(`install chromium ${installSeconds.toFixed(0)} s`);
    } catch (err) {
      if (!(err instanceof NoBrowserError)) throw err;
      report.fail(
        'Chromium',
        `${err.message}\nThe browser check did not run: this counts as a failure. Set HIKSYNC_SKIP_BROWSER=1 to skip it on purpose.`,
      );
      return 1;
    }

    // The build, the share and the browser do not need each other.
    t0 = Date.now();
    const built = build(buildLog).then((ran) => {
      if (ran) phase('build', t0);
      else log('dist/ is newer than every source file: not built again');
    });
    const launched = (launching = launch().then((c) => {
      phase('chromium start', t0);
      return c;
    }));
    built.catch(() => undefined);
    launched.catch(() => undefined);
    const truth = await writeSyntheticShare({ root: share, seed: 13, cameras: CAMERAS });
    await built;
    const expected = truth.cameras.reduce((n, c) => n + c.recordings.length, 0);

    t0 = Date.now();
    const run = await runHiksync(share, out);
    phase('hiksync run', t0);
    let summary: PassSummary | undefined;
    try {
      summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as PassSummary;
    } catch {
      summary = undefined;
    }
    const files = await listOutputTree(out);
    const sabotaged = process.env.HIKSYNC_BROWSER_SABOTAGE;
    if (sabotaged) log(await sabotage(out, files, sabotaged));
    await report.check({
      name: `hiksync run (built CLI) writes every recording and picture of the e2e share (${CAMERAS.length} cameras)`,
      run: sync((a) => {
        if (!a.is(run.code, 0, 'exit code')) a.note(run.stderr.trim().split('\n').slice(-5).join('\n'));
        a.is(summary?.totals.written, expected, 'files written = recordings and pictures of the share');
        a.is(summary?.totals.failed, 0, 'files failed');
        a.is(files.length, expected, 'files in the output folder');
        for (const line of run.stderr.split('\n')) if (/audio dropped/.test(line)) a.note(line);
      }),
    });

    t0 = Date.now();
    const probeLimit = pLimit(2);
    const outputs = await Promise.all(
      files.filter((f) => f.endsWith('.mp4')).map((f) => probeLimit(() => probeOutput(out, f))),
    );
    const jpegs = await Promise.all(
      files
        .filter((f) => f.endsWith('.jpg'))
        .slice(0, JPEGS)
        .map((f) => probeLimit(() => probeOutput(out, f))),
    );
    phase('ffprobe', t0);

    server = await startRangeServer(out);
    const origin = server.origin;
    const served = (rel: string) => server!.requests.filter((r) => r.path === `/${rel}`);
    const c = await launched;
    log(`Chromium ${c.browser.version()} (${CHROMIUM}), playwright-core; outputs served at ${origin}`);

    // Measure in parallel (playback is real time), report in file order.
    t0 = Date.now();
    const pages = new Pages(c.browser, origin, PAGES, OUTPUT_TIMEOUT_MS);
    const h264 = outputs.filter((o) => o.camera?.codec === 'h264');
    const hevc = outputs.filter((o) => o.camera?.codec === 'h265');
    const other = outputs.filter((o) => !h264.includes(o) && !hevc.includes(o));
    /** Plays one output; its time in the page goes into the check's notes (pages run side by side). */
    const play = (o: Output) =>
      pages.run(o.rel, async (page) => {
        const t = Date.now();
        const m = await page.evaluate(playInVideo, {
          src: urlOf(o.rel),
          audio: o.probe.audio !== undefined,
          eventTimeoutMs: EVENT_TIMEOUT_MS,
        });
        return { m, seconds: (Date.now() - t) / 1000 };
      });
    const judge = async (a: Assert, o: Output, playing: ReturnType<typeof play>) => {
      const { m, seconds } = await playing;
      assertPlayed(a, o.probe, o.camera?.codec === 'h265' ? 'hevc' : 'h264', m, served(o.rel));
      a.note(`in the page ${seconds.toFixed(1)} s`);
    };
    const measured = new Map(h264.map((o) => [o, play(o)]));
    const hevcAnswers = new Map(
      hevc.map((o) => [
        o,
        pages.run(o.rel, (page) =>
          page.evaluate(probeHevc, {
            src: urlOf(o.rel),
            type: hevcType(o.probe.video),
            eventTimeoutMs: EVENT_TIMEOUT_MS,
          }),
        ),
      ]),
    );
    const images = pages.run('JPEGs', (page) =>
      page.evaluate(loadImages, { srcs: jpegs.map((j) => urlOf(j.rel)), eventTimeoutMs: EVENT_TIMEOUT_MS }),
    );
    for (const p of [...measured.values(), ...hevcAnswers.values(), images]) p.catch(() => undefined);

    const describe = (o: Output) =>
      o.probe.error !== undefined
        ? `${o.camera?.codec}, ffprobe cannot read it`
        : `${o.probe.video?.codec_name} ${o.probe.video?.width}x${o.probe.video?.height} ` +
          `${o.probe.duration.toFixed(2)} s, ${o.probe.audio ? `audio ${o.probe.audio.codec_name ?? o.probe.audio.codec_tag_string}` : 'no audio'}`;
    let played = 0;
    let withSound = 0;
    let skipped = 0;
    for (const o of h264) {
      const ok = await report.check({
        name: `${o.rel} (${describe(o)}): plays in <video>${o.probe.audio ? ' with sound' : ''}`,
        run: (a) => judge(a, o, measured.get(o)!),
      });
      if (ok) {
        played++;
        if (o.probe.audio) withSound++;
      }
    }
    for (const o of hevc) {
      const type = hevcType(o.probe.video);
      let answer: HevcProbeResult | undefined;
      let why = '';
      try {
        answer = await hevcAnswers.get(o)!;
      } catch (err) {
        why = err instanceof Error ? err.message : String(err);
      }
      if (answer && o.probe.video?.codec_name === 'hevc' && hevcUnsupported(answer)) {
        skipped++;
        report.skip(
          `${o.rel} (${describe(o)}): not played`,
          `no HEVC decoder in headless Chromium without a GPU: canPlayType('${type}') = '', and the file ` +
            `${answer.loaded ? 'loads with videoWidth 0 (its video track ignored)' : `does not load (${answer.error})`}; ` +
            'its decode is checked with ffmpeg in test/e2e',
        );
        continue;
      }
      // This browser can show HEVC (or the probe itself failed): then it is held to the full checks.
      await report.check({
        name: `${o.rel} (${describe(o)}): plays in <video> (canPlayType('${type}') = '${answer?.canPlayType ?? '?'}')`,
        run: async (a) => {
          a.ok(answer !== undefined, 'the HEVC probe ran', why);
          await judge(a, o, play(o));
        },
      });
    }
    for (const o of other) {
      report.fail(o.rel, 'an output of no camera of the share (its folder is not a camera name)');
    }
    let results: Awaited<typeof images> = [];
    let imagesError = '';
    try {
      results = await images;
    } catch (err) {
      imagesError = err instanceof Error ? err.message : String(err);
    }
    for (const j of jpegs) {
      await report.check({
        name: `${j.rel} (${j.probe.video?.width}x${j.probe.video?.height}): decodes in <img>`,
        run: sync((a) => {
          const r = results.find((x) => x.src === urlOf(j.rel));
          if (a.ok(r !== undefined, 'the page loaded it', imagesError)) assertImage(a, r!, j.probe.video);
        }),
      });
    }
    phase('browser checks', t0);

    // What this run covered: a share or a browser that quietly stopped exercising something fails here.
    await report.check({
      name: 'coverage: H.264 outputs played (some with sound), HEVC outputs reported, JPEGs decoded',
      run: sync((a) => {
        a.ok(h264.length > 0 && played === h264.length, 'every H.264 output played', `${played} of ${h264.length}`);
        a.ok(withSound > 0, 'at least one H.264 output with sound played and its audio decoded', `${withSound}`);
        a.ok(hevc.length > 0, 'the share has HEVC outputs', `${hevc.length}`);
        a.ok(jpegs.length > 0, 'JPEGs were loaded', `${jpegs.length}`);
        const ranged = server!.requests.filter((r) => r.status === 206 && !/^bytes=0-/.test(r.range ?? ''));
        a.ok(ranged.length > 0, 'the browser asked for ranges past the start of a file (206)', `${ranged.length}`);
        a.note(
          `${played} H.264 outputs played (${withSound} with sound), ${skipped} HEVC outputs skipped (no decoder), ` +
            `${jpegs.length} JPEGs; ${server!.requests.length} HTTP requests, ${ranged.length} ranges past byte 0`,
        );
      }),
    });
  } catch (err) {
    report.fail('browser check set-up', err instanceof Error ? (err.stack ?? err.message) : String(err));
  } finally {
    clearTimeout(watchdog);
    const t0 = Date.now();
    await cleanup();
    phase('clean-up', t0);
    log(`time: ${phases.join(', ')}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
    report.end();
  }
  return report.failed > 0 || report.passed === 0 ? 1 : 0;
}

process.exitCode = await main();
