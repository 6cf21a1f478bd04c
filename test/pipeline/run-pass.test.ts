import test from 'ava';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../lib/errors.js';
import { checkTagsDistinct, runPass, type RunOptions } from '../../lib/pipeline/run-pass.js';
import { writeSyntheticShare } from '../../tools/synthetic/share-writer.js';

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

function dryRunOptions(input: string, output: string, over: Partial<RunOptions> = {}): RunOptions {
  return {
    inputDir: input,
    outputDir: output,
    stateDir: path.join(output, '.hiksync'),
    cameraTranslation: new Map([['Nope', 'x']]),
    workers: 1,
    ioConcurrency: 2,
    cameraTz: 'UTC',
    shard: { index: 0, count: 1 },
    container: 'mp4',
    maxAttempts: 3,
    retentionDays: 0,
    retentionMaxShare: 0.5,
    cameras: [],
    kinds: { video: true, picture: true },
    dryRun: true,
    adoptExisting: false,
    fsync: false,
    retention: false,
    retentionForce: false,
    ...over,
  };
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
