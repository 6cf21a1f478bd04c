import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV_NAMES, loadConfig, parseCameraTranslation, type Config } from '../lib/config.js';
import { ConfigError } from '../lib/errors.js';

const base = { parallelism: 4, logIsTTY: false, processTz: 'UTC' };
const load = (env: NodeJS.ProcessEnv, flags: Record<string, string | number | undefined> = {}, defaults = {}) =>
  loadConfig(flags, env, { ...base, ...defaults });

function refuse(t: import('ava').ExecutionContext, env: NodeJS.ProcessEnv, mustContain: string[], flags = {}): void {
  const err = t.throws(() => load(env, flags), { instanceOf: ConfigError });
  for (const part of mustContain) t.true(err.message.includes(part), `"${err.message}" should contain "${part}"`);
  t.false(err.message.includes('\n'), 'one line');
  t.is(err.code, 'config');
}

test('defaults', (t) => {
  const c = load({});
  t.is(c.runMode, 'once');
  t.is(c.cronIntervalMin, 10);
  t.is(c.cronIntervalMs, 600_000);
  t.is(c.retentionDays, 90);
  t.is(c.inputDir, '/input');
  t.is(c.outputDir, '/output');
  t.is(c.stateDir, '/output/.hiksync');
  t.is(c.cacheDir, '/output/.hiksync/cache');
  t.is(c.lockFile, '/output/.hiksync/lock');
  t.is(c.cameraTranslation.size, 0);
  t.is(c.workers, 4);
  t.is(c.ioConcurrency, 8);
  t.is(c.logFormat, 'json'); // auto, not a TTY
  t.is(c.logLevel, 'info');
  t.is(c.cameraTz, 'UTC');
  t.deepEqual(c.shard, { index: 0, count: 1 });
  t.is(c.container, 'mp4');
  t.is(c.audio, 'auto');
  t.is(c.maxAttempts, 3);
  t.is(c.retentionMaxShare, 0.5);
  t.is(c.syncImages, true);
  t.is(c.videoSyncDays, undefined);
  t.is(c.imageSyncDays, undefined);
  t.is(c.extractionTimeoutSec, 0);
  t.deepEqual(c.notices, []);
  t.is(c.shareTimeoutSec, 60);
  t.is(load({}, {}, { runMode: 'cron' }).runMode, 'cron');
  t.is(load({}, {}, { logIsTTY: true }).logFormat, 'pretty');
});

// [variable, valid value, expected Config field value, key]
const valid: Array<[string, string, unknown, keyof Config]> = [
  ['RUN_MODE', 'cron', 'cron', 'runMode'],
  ['RUN_MODE', 'scheduled', 'cron', 'runMode'],
  ['RUN_MODE', 'ONCE', 'once', 'runMode'],
  ['CRON_INTERVAL', '1', 1, 'cronIntervalMin'],
  ['CRON_INTERVAL', '1440', 1440, 'cronIntervalMin'],
  ['CRON_INTERVAL', '3', 180_000, 'cronIntervalMs'],
  ['HIKSYNC_INTERVAL_SECONDS', '1', 1000, 'cronIntervalMs'],
  ['HIKSYNC_INTERVAL_SECONDS', '86400', 86_400_000, 'cronIntervalMs'],
  ['RETENTION_DAYS', '0', 0, 'retentionDays'],
  ['RETENTION_DAYS', '30', 30, 'retentionDays'],
  ['INPUT_DIR', '/mnt/cams', '/mnt/cams', 'inputDir'],
  ['OUTPUT_DIR', '/data/out', '/data/out', 'outputDir'],
  ['CACHE_DIR', '/tmp/hcache', '/tmp/hcache', 'cacheDir'],
  ['LOCK_FILE', '/run/hiksync.lock', '/run/hiksync.lock', 'lockFile'],
  ['WORKERS', '2', 2, 'workers'],
  ['IO_CONCURRENCY', '16', 16, 'ioConcurrency'],
  ['LOG_FORMAT', 'pretty', 'pretty', 'logFormat'],
  ['LOG_FORMAT', 'json', 'json', 'logFormat'],
  ['LOG_FORMAT', 'auto', 'json', 'logFormat'],
  ['LOG_LEVEL', 'debug', 'debug', 'logLevel'],
  ['LOG_LEVEL', 'warn', 'warn', 'logLevel'],
  ['CAMERA_TZ', 'Europe/Amsterdam', 'Europe/Amsterdam', 'cameraTz'],
  ['CONTAINER', 'mov', 'mov', 'container'],
  ['AUDIO', 'copy', 'copy', 'audio'],
  ['AUDIO', 'none', 'none', 'audio'],
  ['MAX_ATTEMPTS', '5', 5, 'maxAttempts'],
  ['RETENTION_MAX_SHARE', '0.25', 0.25, 'retentionMaxShare'],
  ['RETENTION_MAX_SHARE', '1', 1, 'retentionMaxShare'],
  // The old tool's names.
  ['SYNC_INTERVAL_MINUTES', '5', 5, 'cronIntervalMin'],
  ['SYNC_IMAGES', 'false', false, 'syncImages'],
  ['SYNC_IMAGES', 'No', false, 'syncImages'],
  ['SYNC_IMAGES', '0', false, 'syncImages'],
  ['SYNC_IMAGES', 'TRUE', true, 'syncImages'],
  ['VIDEO_SYNC_DAYS', '7', 7, 'videoSyncDays'],
  ['IMAGE_SYNC_DAYS', '1', 1, 'imageSyncDays'],
  ['EXTRACTION_TIMEOUT', '300', 300, 'extractionTimeoutSec'],
  ['EXTRACTION_TIMEOUT', '0', 0, 'extractionTimeoutSec'],
  ['SHARE_TIMEOUT', '1', 1, 'shareTimeoutSec'],
  ['SHARE_TIMEOUT', '3600', 3600, 'shareTimeoutSec'],
];
for (const [name, value, expected, key] of valid) {
  test(`valid ${name}=${value}`, (t) => {
    t.deepEqual(load({ [name]: value })[key], expected);
  });
}

// [variable, invalid value, words of "what is allowed"]
const invalid: Array<[string, string, string]> = [
  ['RUN_MODE', 'daily', 'once, cron, scheduled'],
  ['RUN_MODE', '', 'once, cron'],
  ['CRON_INTERVAL', '10abc', 'from 1 to 1440'],
  ['CRON_INTERVAL', '1.5', 'from 1 to 1440'],
  ['CRON_INTERVAL', '', 'from 1 to 1440'],
  ['CRON_INTERVAL', '0', 'from 1 to 1440'],
  ['CRON_INTERVAL', '1441', 'from 1 to 1440'],
  ['CRON_INTERVAL', '-5', 'from 1 to 1440'],
  ['CRON_INTERVAL', '1e3', 'from 1 to 1440'],
  ['HIKSYNC_INTERVAL_SECONDS', '0', 'whole number of seconds from 1 to 86400'],
  ['HIKSYNC_INTERVAL_SECONDS', '0.5', 'from 1 to 86400'],
  ['HIKSYNC_INTERVAL_SECONDS', '', 'from 1 to 86400'],
  ['RETENTION_DAYS', '-1', 'from 0 to'],
  ['RETENTION_DAYS', 'ninety', 'from 0 to'],
  ['INPUT_DIR', '', 'unset it'],
  ['OUTPUT_DIR', '  ', 'unset it'],
  ['OUTPUT_DIR', '/input', 'must not be the input'],
  ['OUTPUT_DIR', '/input/out', 'must not be the input'],
  ['CACHE_DIR', '', 'unset it'],
  ['LOCK_FILE', '', 'unset it'],
  ['WORKERS', '0', 'from 1 to 256'],
  ['WORKERS', 'many', 'from 1 to 256'],
  ['IO_CONCURRENCY', '2.0', 'from 1 to 256'],
  ['LOG_FORMAT', 'xml', 'pretty, json, auto'],
  ['LOG_LEVEL', 'verbose', 'debug, info, warn, error'],
  ['CAMERA_TZ', 'Mars/Olympus', 'IANA time zone'],
  ['CAMERA_TZ', '', 'unset it'],
  ['SHARD', '3/3', 'K must be 0..2'],
  ['SHARD', '1', 'expected K/N'],
  ['SHARD', '0/0', 'N must be'],
  ['CONTAINER', 'mkv', 'mp4, mov'],
  ['AUDIO', 'flac', 'auto, copy, none'],
  ['MAX_ATTEMPTS', '0', 'from 1 to 100'],
  ['RETENTION_MAX_SHARE', '0', 'greater than 0 and at most 1'],
  ['RETENTION_MAX_SHARE', '1.5', 'greater than 0 and at most 1'],
  ['RETENTION_MAX_SHARE', 'half', 'greater than 0 and at most 1'],
  ['CAMERA_TRANSLATION', 'Camera-Tuin', 'folder:tag'],
  ['SYNC_INTERVAL_MINUTES', '0', 'from 1 to 1440'],
  ['SYNC_IMAGES', 'maybe', 'expected true or false'],
  ['SYNC_IMAGES', '', 'expected true or false'],
  ['VIDEO_SYNC_DAYS', '0', 'from 1 to 36500'],
  ['IMAGE_SYNC_DAYS', '7d', 'unset it for no limit'],
  ['EXTRACTION_TIMEOUT', '5m', 'seconds per file (0 = no limit) from 0 to 86400'],
  ['SHARE_TIMEOUT', '0', 'whole number of seconds from 1 to 3600'],
  ['SHARE_TIMEOUT', '3601', 'whole number of seconds from 1 to 3600'],
  ['SHARE_TIMEOUT', '60s', 'whole number of seconds from 1 to 3600'],
  ['SHARE_TIMEOUT', '', 'whole number of seconds from 1 to 3600'],
];
for (const [name, value, allowed] of invalid) {
  test(`invalid ${name}=${JSON.stringify(value)} names variable, value and what is allowed`, (t) => {
    refuse(t, { [name]: value }, [`${name}=${JSON.stringify(value)}`, allowed]);
  });
}

test('every documented variable is covered by the tables above', (t) => {
  const tested = new Set([
    ...valid.map((v) => v[0]),
    ...invalid.map((v) => v[0]),
    'JOB_COMPLETION_INDEX',
    'SHARD_COUNT',
    'CAMERA_TRANSLATION',
    'USE_FAST_EXTRACTION',
  ]);
  for (const name of ENV_NAMES) t.true(tested.has(name), name);
});

test("SYNC_INTERVAL_MINUTES is the old tool's CRON_INTERVAL: both set and different is a bad setting", (t) => {
  t.is(load({ SYNC_INTERVAL_MINUTES: '5' }).cronIntervalMin, 5);
  t.is(load({ SYNC_INTERVAL_MINUTES: '5', CRON_INTERVAL: '05' }).cronIntervalMin, 5, 'the same value twice is fine');
  refuse(t, { SYNC_INTERVAL_MINUTES: '5', CRON_INTERVAL: '10' }, [
    'SYNC_INTERVAL_MINUTES="5" and CRON_INTERVAL="10" disagree',
    'old name of CRON_INTERVAL',
  ]);
  // A flag decides, as it does over any variable.
  t.is(load({ SYNC_INTERVAL_MINUTES: '5', CRON_INTERVAL: '10' }, { cronIntervalMin: '7' }).cronIntervalMin, 7);
  // The old name is validated like the new one, and named in the message.
  refuse(t, { SYNC_INTERVAL_MINUTES: 'often', CRON_INTERVAL: '10' }, ['SYNC_INTERVAL_MINUTES="often"']);
});

test('a variable of the old tool with no meaning here is accepted with one notice', (t) => {
  const c = load({ USE_FAST_EXTRACTION: 'true' });
  t.is(c.notices.length, 1);
  t.regex(c.notices[0]!, /^USE_FAST_EXTRACTION is ignored: hiksync always remuxes into a real MP4/);
  t.deepEqual(load({}).notices, []);
});

test('HIKSYNC_INTERVAL_SECONDS (a test/soak knob) sets the cron interval in seconds, over CRON_INTERVAL and its flag', (t) => {
  t.is(load({ HIKSYNC_INTERVAL_SECONDS: '2', CRON_INTERVAL: '5' }, { cronIntervalMin: '7' }).cronIntervalMs, 2000);
  t.is(load({ CRON_INTERVAL: '5' }, { cronIntervalMin: '7' }).cronIntervalMs, 420_000);
});

test('precedence: flag > env > default', (t) => {
  t.is(load({}).cronIntervalMin, 10);
  t.is(load({ CRON_INTERVAL: '5' }).cronIntervalMin, 5);
  t.is(load({ CRON_INTERVAL: '5' }, { cronIntervalMin: '7' }).cronIntervalMin, 7);
  t.is(load({ WORKERS: '3' }, { workers: 9 }).workers, 9);
  t.is(load({ INPUT_DIR: '/a' }, { inputDir: '/b' }).inputDir, '/b');
  t.is(load({ RUN_MODE: 'once' }, {}, { runMode: 'cron' }).runMode, 'once', 'env beats the command default');
  // A valid flag hides an invalid env value (the flag is what is used).
  t.is(load({ RETENTION_DAYS: 'bad' }, { retentionDays: '12' }).retentionDays, 12);
});

test('a bad flag is reported by its flag name', (t) => {
  refuse(t, {}, ['--workers "0"', 'from 1 to 256'], { workers: '0' });
  refuse(t, {}, ['--retention-days "x"'], { retentionDays: 'x' });
  refuse(t, {}, ['--shard "2/2"'], { shard: '2/2' });
});

test('relative folders are resolved; state, cache and lock follow the output', (t) => {
  const c = load({ INPUT_DIR: 'in', OUTPUT_DIR: 'out' });
  t.is(c.inputDir, path.resolve('in'));
  t.is(c.stateDir, path.join(path.resolve('out'), '.hiksync'));
  t.is(c.cacheDir, path.join(path.resolve('out'), '.hiksync', 'cache'));
});

test('shards: SHARD, Kubernetes index + count, lock per shard', (t) => {
  const a = load({ SHARD: '1/3' });
  t.deepEqual(a.shard, { index: 1, count: 3 });
  t.is(a.lockFile, '/output/.hiksync/lock-shard-1-of-3');
  const k = load({ JOB_COMPLETION_INDEX: '2', SHARD_COUNT: '4' });
  t.deepEqual(k.shard, { index: 2, count: 4 });
  t.is(load({ JOB_COMPLETION_INDEX: '2' }).shard.count, 1, 'an Indexed Job without SHARD_COUNT does not shard');
  t.deepEqual(
    load({ SHARD: '0/2', JOB_COMPLETION_INDEX: '1', SHARD_COUNT: '2' }).shard,
    { index: 0, count: 2 },
    'SHARD wins',
  );
  refuse(t, { JOB_COMPLETION_INDEX: '4', SHARD_COUNT: '4' }, ['JOB_COMPLETION_INDEX="4"', 'from 0 to 3']);
  refuse(t, { SHARD_COUNT: '4' }, ['SHARD_COUNT="4"', 'JOB_COMPLETION_INDEX']);
  refuse(t, { JOB_COMPLETION_INDEX: '0', SHARD_COUNT: 'x' }, ['SHARD_COUNT="x"']);
  const explicit = load({ SHARD: '0/2', LOCK_FILE: '/locks/h' });
  t.is(explicit.lockFile, '/locks/h-shard-0-of-2', 'an explicit LOCK_FILE is still per shard');
  t.not(load({ SHARD: '0/2' }).lockFile, load({ SHARD: '1/2' }).lockFile);
});

test('CAMERA_TZ is canonicalised and validated by Intl', (t) => {
  t.is(load({ CAMERA_TZ: 'europe/amsterdam' }).cameraTz, 'Europe/Amsterdam');
});

test('CAMERA_TRANSLATION: valid map, spaces and a trailing comma tolerated', (t) => {
  const c = load({ CAMERA_TRANSLATION: 'Camera-Tuin:garden, Camera-Oprit : driveway,' });
  t.deepEqual(
    [...c.cameraTranslation],
    [
      ['Camera-Tuin', 'garden'],
      ['Camera-Oprit', 'driveway'],
    ],
  );
  t.is(load({ CAMERA_TRANSLATION: '' }).cameraTranslation.size, 0);
  // Swapping two names is fine: targets only clash with targets.
  t.is(parseCameraTranslation('a:b,b:a').get('b'), 'a');
});

const badTranslations: Array<[string, string]> = [
  ['Camera-Tuin', 'not folder:tag'],
  ['Camera-Tuin:garden:x', 'not folder:tag'],
  [':garden', 'not folder:tag'],
  ['Camera-Tuin:', 'not folder:tag'],
  ['a:b,,c:d', 'entry 2 is empty'],
  ['Camera-Tuin:garden,Camera-Tuin:yard', 'listed twice'],
  ['Camera-Tuin:garden,Camera-Oprit:garden', 'given to both'],
  ['Camera-Tuin:garden,Camera-Oprit:Garden', 'given to both'],
  ['Camera-Tuin:gar/den', 'slash'],
  ['Camera-Tuin:..', '".."'],
  ['Camera-Tuin:a..b', '".."'],
  ['Camera-Tuin:.hiksync', 'starts with "."'],
  ['Camera-Tuin:ga\\rden', 'slash'],
  ['Camera-Tuin:gar*den', 'not allowed in file names'],
];
for (const [value, why] of badTranslations) {
  test(`CAMERA_TRANSLATION ${JSON.stringify(value)} is refused (${why})`, (t) => {
    refuse(t, { CAMERA_TRANSLATION: value }, ['CAMERA_TRANSLATION=', why]);
  });
}

test('CAMERA_TRANSLATION from the flag names the flag', (t) => {
  refuse(t, {}, ['--camera-translation', 'listed twice'], { cameraTranslation: 'a:x,a:y' });
});

test('every variable the deployment examples set is one hiksync reads (a typo there would silently do nothing)', async (t) => {
  const root = path.resolve(fileURLToPath(import.meta.url), '../..');
  // Read by the process before the settings (lib/ops/privileges.ts, the runtime's zone).
  const outside = ['PUID', 'PGID', 'TZ'];
  const compose = await fs.readFile(path.join(root, 'compose.yaml'), 'utf8');
  const composeVars = [...compose.matchAll(/^ {6}#? ?([A-Z][A-Z_]+):/gm)].map((m) => m[1]!);
  const k8s = await fs.readFile(path.join(root, 'docs', 'kubernetes-job.yaml'), 'utf8');
  const k8sVars = [...k8s.matchAll(/- name: ([A-Z][A-Z_]+)$/gm)].map((m) => m[1]!);
  t.true(composeVars.includes('CAMERA_TZ') && k8sVars.includes('SHARD_COUNT'), 'the examples were read');
  for (const name of [...composeVars, ...k8sVars]) t.true(ENV_NAMES.includes(name) || outside.includes(name), name);
  t.regex(compose, /^ {6}- \/volume1\/cameras:\/input:ro /m, 'the camera share is mounted read-only');
  t.regex(k8s, /readOnly: true/);
  // A locally built image tagged :latest: Kubernetes' default for that tag is Always (a pull that fails).
  const images = [...k8s.matchAll(/^( +)(?:- )?image: (\S+)$/gm)];
  t.true(images.length > 0, 'the example names its image');
  for (const m of images) {
    const rest = k8s.slice(m.index + m[0].length).split('\n');
    const policy = rest.find((l) => /^\s*imagePullPolicy:/.test(l) || /^\s*- name:/.test(l));
    t.regex(
      policy ?? '',
      /imagePullPolicy: (IfNotPresent|Never)$/,
      `${m[2]} has imagePullPolicy IfNotPresent or Never`,
    );
  }
});
