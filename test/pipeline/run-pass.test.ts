import test from 'ava';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../lib/errors.js';
import { Manifest } from '../../lib/pipeline/manifest.js';
import type { ExtractPool } from '../../lib/pipeline/pool.js';
import { checkTagsDistinct, runPass } from '../../lib/pipeline/run-pass.js';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';
import { extract } from '../../workers/extract.js';
import { ffprobe } from '../helpers/media-tools.js';
import { dryRunOptions } from './run-options.js';

test("a tag that is another camera folder's name, or two folders with one tag, is refused: files would mix", (t) => {
  const folders = ['CamA', 'CamB', 'CamC'];
  t.notThrows(() => checkTagsDistinct(folders, new Map([['CamA', 'garden']])));
  t.notThrows(
    () =>
      checkTagsDistinct(
        folders,
        new Map([
          ['CamA', 'CamB'],
          ['CamB', 'driveway'],
        ]),
      ),
    'a swap is fine',
  );
  t.throws(() => checkTagsDistinct(folders, new Map([['CamA', 'CamB']])), {
    instanceOf: ConfigError,
    message: /"CamA" and "CamB" the same output folder "CamB"/,
  });
  t.throws(
    () =>
      checkTagsDistinct(
        folders,
        new Map([
          ['CamA', 'x'],
          ['CamC', 'x'],
        ]),
      ),
    {
      instanceOf: ConfigError,
      message: /"CamA" and "CamC" the same output folder "x"/,
    },
  );
});

/** A log that keeps its warnings. */
function recorder() {
  const warnings: string[] = [];
  const log = {
    debug: () => undefined,
    info: () => undefined,
    warn: (...args: unknown[]) => void warnings.push(args.map(String).join(' ')),
    error: () => undefined,
  };
  return { log, warnings };
}

test('a service tells each camera notice once, not every pass', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-told-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const input = path.join(root, 'share');
  await writeSyntheticShare({ root: input, seed: 3, cameras: [{ name: 'cam1', codec: 'h264', events: 2 }] });
  const opts = dryRunOptions(input, path.join(root, 'out'));
  const { log, warnings } = recorder();
  const told = new Set<string>();
  for (let pass = 0; pass < 3; pass++) await runPass(opts, { log, told });
  t.deepEqual(warnings, [
    `CAMERA_TRANSLATION names "Nope", but no camera folder of that name is in ${input} (its camera folders: cam1)`,
  ]);
  // Without a memory (one pass of `run` in once mode) each call says it: the memory is what makes it once.
  await runPass(opts, { log });
  t.is(warnings.length, 2);
});

test('EXTRACTION_TIMEOUT: a file that takes longer has its worker stopped and fails as "timeout", an attempt counted', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-timeout-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const input = path.join(root, 'share');
  const output = path.join(root, 'out');
  await writeSyntheticShare({ root: input, seed: 3, cameras: [{ name: 'cam1', codec: 'h264', events: 3 }] });
  const opts = dryRunOptions(input, output, {
    cameraTranslation: new Map(),
    dryRun: false,
    taskTimeoutMs: 300_000,
  });

  // The clock of the time limits, driven by the test: a limit fires only when the test says the time has passed.
  const timers: Array<{ ms: number; fire: () => void; cancelled: boolean }> = [];
  const taskTimer = (ms: number, fire: () => void) => {
    const timer = { ms, fire, cancelled: false };
    timers.push(timer);
    return () => void (timer.cancelled = true);
  };
  let hungId: string | undefined;
  const pool: ExtractPool = {
    threads: 2,
    destroy: () => Promise.resolve(),
    run: (task, signal) => {
      if (hungId === undefined) {
        // The first file hangs (a read that never returns) until it is stopped; then 300 s pass.
        hungId = task.recording.id;
        const stopped = new Promise<never>((_, reject) =>
          signal!.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))),
        );
        timers.at(-1)!.fire();
        return stopped;
      }
      return Promise.resolve({ status: 'written', bytesRead: 10, bytesWritten: 10 });
    },
  };
  const { log } = recorder();
  const summary = await runPass(opts, { log, pool, taskTimer });

  t.deepEqual(summary.cameras[0]!.failed, { timeout: 1 });
  t.is(summary.exitCode, 1, 'some failed');
  t.is(summary.totals.written, summary.totals.planned - 1, 'the other files are done');
  t.true(timers.length === summary.totals.planned && timers.every((x) => x.ms === 300_000), 'one limit per file');
  t.true(
    timers.every((x) => x.cancelled),
    'every limit is cancelled when its file ends',
  );
  const entry = (await Manifest.open(opts.stateDir, 'cam1')).get(hungId!);
  t.like(entry, { status: 'failed', attempts: 1, lastError: 'timeout: took longer than EXTRACTION_TIMEOUT=300 s' });

  // Without a limit no timer is started.
  timers.length = 0;
  await runPass(
    { ...opts, taskTimeoutMs: 0, outputDir: path.join(root, 'out2'), stateDir: path.join(root, 'out2', '.hiksync') },
    {
      log,
      pool: { ...pool, run: () => Promise.resolve({ status: 'written', bytesRead: 1, bytesWritten: 1 }) },
      taskTimer,
    },
  );
  t.is(timers.length, 0);
});

test('--audio reaches the worker: none writes video-only files, auto turns G.711 and G.726 cameras into FLAC', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-audio-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const input = path.join(root, 'share');
  const codecs = ['alaw', 'ulaw', 'g726', 'aac'] as const;
  await writeSyntheticShare({
    root: input,
    seed: 5,
    cameras: codecs.map((audio) => ({ name: `cam-${audio}`, codec: 'h264' as const, audio, events: 2 })),
  });
  const audioOf = async (mode: 'auto' | 'none') => {
    const output = path.join(root, `out-${mode}`);
    const seen = new Set<string | undefined>();
    // The real worker code, in this thread: the task as the pool would send it.
    const pool: ExtractPool = {
      threads: 1,
      destroy: () => Promise.resolve(),
      run: (task, signal) => {
        if (task.recording.kind === 'video') seen.add(task.audio);
        return extract(task, signal);
      },
    };
    const opts = dryRunOptions(input, output, { cameraTranslation: new Map(), dryRun: false, audio: mode });
    const summary = await runPass(opts, { log: recorder().log, pool });
    t.is(summary.exitCode, 0);
    const tracks: Record<string, string[]> = {};
    for (const audio of codecs) {
      const dir = path.join(output, `cam-${audio}`);
      const files = (await fs.readdir(dir, { recursive: true })).filter((f) => f.endsWith('.mp4'));
      t.true(files.length > 0);
      const found = new Set<string>();
      for (const f of files) {
        const probe = await ffprobe('-show_streams', path.join(dir, f));
        found.add(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name ?? 'no audio');
      }
      tracks[audio] = [...found];
    }
    return { seen: [...seen], tracks };
  };
  t.deepEqual(await audioOf('none'), {
    seen: ['none'],
    tracks: { alaw: ['no audio'], ulaw: ['no audio'], g726: ['no audio'], aac: ['no audio'] },
  });
  t.deepEqual(await audioOf('auto'), {
    seen: ['auto'],
    tracks: { alaw: ['flac'], ulaw: ['flac'], g726: ['flac'], aac: ['aac'] },
  });
});
