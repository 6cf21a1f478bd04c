/**
 * Settings, validated once at start. Sources, strongest first: command-line flags, environment variables (the names
 * of the tool hiksync replaces keep working, see OLD_NAMES and IGNORED_ENV), defaults. A bad value stops the program with ONE line naming the
 * variable or flag, the value and what is allowed (ConfigError, exit 78). Every command reads every variable; flags
 * are per command (the ones it uses, lib/cli/options.ts), and some settings have no flag at all (variable only).
 *
 * Where things live (all on the output volume, so a recreated container loses nothing):
 *   stateDir  = <output>/.hiksync         manifests, status files, the lock
 *   cacheDir  = CACHE_DIR or <stateDir>/cache   DISPOSABLE caches only; deleting it costs a re-read, never data
 *   lockFile  = LOCK_FILE or <stateDir>/lock, with "-shard-K-of-N" appended when sharded
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from './errors.js';
import { parseShard, shardSuffix, type Shard } from './ops/shard.js';
import { DEFAULT_SHARE_TIMEOUT_MS } from './share-io.js';
import { isValidTimeZone } from './time.js';

export interface Config {
  runMode: 'once' | 'cron';
  cronIntervalMin: number;
  /**
   * Milliseconds between pass starts in cron mode: CRON_INTERVAL minutes, or HIKSYNC_INTERVAL_SECONDS when set. That
   * variable is a knob for tests and the soak run (`npm run soak`), whose passes must come seconds apart; it is not a
   * setting for users (passes are meant minutes apart) and is left out of README and docs/operations.md on purpose.
   */
  cronIntervalMs: number;
  retentionDays: number;
  inputDir: string;
  outputDir: string;
  /** <output>/.hiksync: manifests, status, lock. */
  stateDir: string;
  /** Disposable caches only (see the module comment). */
  cacheDir: string;
  /** Resolved lock path, per shard. */
  lockFile: string;
  /** Camera folder name -> tag used for output folders and file names. */
  cameraTranslation: Map<string, string>;
  workers: number;
  ioConcurrency: number;
  logFormat: 'pretty' | 'json';
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** IANA zone of the cameras' clocks. */
  cameraTz: string;
  shard: Shard;
  container: 'mp4' | 'mov';
  /** Audio: auto (AAC copied, speech codecs turned into FLAC where needed), copy (as it is or dropped), none. */
  audio: 'auto' | 'copy' | 'none';
  maxAttempts: number;
  /** Retention deletes nothing when a pass would remove more than this share of a camera's files. */
  retentionMaxShare: number;
  /** Extract pictures (SYNC_IMAGES; `run --images/--no-images` overrides it). */
  syncImages: boolean;
  /** How many days back a pass extracts videos / pictures; undefined = the retention window only. */
  videoSyncDays: number | undefined;
  imageSyncDays: number | undefined;
  /** Seconds one output file may take before its attempt fails as 'timeout'; 0 = no limit. */
  extractionTimeoutSec: number;
  /** Lines to tell the user once at start (variables of the old tool that mean nothing here). */
  notices: string[];
  /** Seconds one file-system call on the camera share may take before the share counts as not answering. */
  shareTimeoutSec: number;
}

export interface ConfigDefaults {
  runMode?: 'once' | 'cron';
  /** Whether log output (stderr) is a terminal: decides LOG_FORMAT=auto. Default: process.stderr.isTTY. */
  logIsTTY?: boolean;
  /** Default worker count. Default: os.availableParallelism(). */
  parallelism?: number;
  /** Default camera zone. Default: the process zone (TZ) via Intl. */
  processTz?: string;
}

export const DEFAULTS = {
  cronIntervalMin: 10,
  retentionDays: 90,
  inputDir: '/input',
  outputDir: '/output',
  ioConcurrency: 8,
  logLevel: 'info',
  container: 'mp4',
  audio: 'auto',
  maxAttempts: 3,
  retentionMaxShare: 0.5,
  extractionTimeoutSec: 0,
  shareTimeoutSec: DEFAULT_SHARE_TIMEOUT_MS / 1000,
} as const;

export const STATE_DIR_NAME = '.hiksync';
export const MAX_TRANSLATION_ENTRIES = 1000;
/** Most file systems cap one name at 255 bytes; a tag also gets a time stamp and extension appended. */
export const MAX_TAG_BYTES = 200;
/** The longest day counts (retention, sync windows): 100 years, beyond any camera's clock. */
const MAX_DAYS = 36_500;
/** One file taking a day is hung, whatever the share. */
const MAX_EXTRACTION_TIMEOUT_SEC = 86_400;

/**
 * Variables of the tool hiksync replaces that mean nothing here: accepted (a migrated compose file keeps working)
 * with one line saying why they change nothing.
 */
export const IGNORED_ENV: Readonly<Record<string, string>> = {
  USE_FAST_EXTRACTION:
    'hiksync always remuxes into a real MP4 at about the speed of a plain copy (the old "fast" mode wrote MPEG-PS ' +
    'bytes under an .mp4 name)',
};

/** Where a value came from, for the error message: a flag (`--workers`) or a variable (`WORKERS`). */
interface Source {
  label: string;
  value: string | number | boolean;
}

/**
 * One setting: its key in RawSettings (flags), its environment name, when a command has one its flag name, and when
 * the tool hiksync replaces called it otherwise, that old variable name (read too: see withOldName).
 */
interface Setting {
  key: string;
  env: string;
  flag?: string;
  oldEnv?: string;
}

const S = {
  runMode: { key: 'runMode', env: 'RUN_MODE', flag: '--run-mode' },
  cronIntervalMin: {
    key: 'cronIntervalMin',
    env: 'CRON_INTERVAL',
    flag: '--cron-interval',
    oldEnv: 'SYNC_INTERVAL_MINUTES',
  },
  intervalSeconds: { key: 'intervalSeconds', env: 'HIKSYNC_INTERVAL_SECONDS' },
  retentionDays: { key: 'retentionDays', env: 'RETENTION_DAYS', flag: '--retention-days' },
  inputDir: { key: 'inputDir', env: 'INPUT_DIR', flag: '--input' },
  outputDir: { key: 'outputDir', env: 'OUTPUT_DIR', flag: '--output' },
  cacheDir: { key: 'cacheDir', env: 'CACHE_DIR' },
  lockFile: { key: 'lockFile', env: 'LOCK_FILE', flag: '--lock-file' },
  cameraTranslation: { key: 'cameraTranslation', env: 'CAMERA_TRANSLATION', flag: '--camera-translation' },
  workers: { key: 'workers', env: 'WORKERS', flag: '--workers' },
  ioConcurrency: { key: 'ioConcurrency', env: 'IO_CONCURRENCY' },
  logFormat: { key: 'logFormat', env: 'LOG_FORMAT', flag: '--log-format' },
  logLevel: { key: 'logLevel', env: 'LOG_LEVEL', flag: '--log-level' },
  cameraTz: { key: 'cameraTz', env: 'CAMERA_TZ', flag: '--camera-tz' },
  shard: { key: 'shard', env: 'SHARD', flag: '--shard' },
  container: { key: 'container', env: 'CONTAINER', flag: '--container' },
  audio: { key: 'audio', env: 'AUDIO', flag: '--audio' },
  maxAttempts: { key: 'maxAttempts', env: 'MAX_ATTEMPTS' },
  retentionMaxShare: { key: 'retentionMaxShare', env: 'RETENTION_MAX_SHARE' },
  // The old tool's names, kept as they were (no hiksync name of their own).
  syncImages: { key: 'syncImages', env: 'SYNC_IMAGES' },
  videoSyncDays: { key: 'videoSyncDays', env: 'VIDEO_SYNC_DAYS' },
  imageSyncDays: { key: 'imageSyncDays', env: 'IMAGE_SYNC_DAYS' },
  extractionTimeoutSec: { key: 'extractionTimeoutSec', env: 'EXTRACTION_TIMEOUT' },
  shareTimeoutSec: { key: 'shareTimeoutSec', env: 'SHARE_TIMEOUT' },
} satisfies Record<string, Setting>;

/** The settings a command can take as a flag (the others come from their variable or default only). */
type FlagSettingKey = { [K in keyof typeof S]: (typeof S)[K] extends { flag: string } ? K : never }[keyof typeof S];

/** Flag values by setting key, as a command passes them (raw: validated by loadConfig). */
export type RawSettings = Partial<Record<FlagSettingKey, string | number | boolean | undefined>>;

/** Every environment variable hiksync reads (for docs and tests). */
export const ENV_NAMES = [
  ...Object.values(S).flatMap((s: Setting) => (s.oldEnv !== undefined ? [s.env, s.oldEnv] : [s.env])),
  'JOB_COMPLETION_INDEX',
  'SHARD_COUNT',
  ...Object.keys(IGNORED_ENV),
];

/** Every flag named in error messages, by setting key; each is declared by at least one command (tests check). */
export const FLAG_NAMES: Readonly<Record<FlagSettingKey, string>> = Object.fromEntries(
  Object.values(S).flatMap((s: Setting) => (s.flag !== undefined ? [[s.key, s.flag]] : [])),
) as Record<FlagSettingKey, string>;

function show(src: Source): string {
  return src.label.startsWith('--')
    ? `${src.label} ${JSON.stringify(String(src.value))}`
    : `${src.label}=${JSON.stringify(String(src.value))}`;
}

function bad(src: Source, allowed: string): ConfigError {
  return new ConfigError(`${show(src)} is not valid: ${allowed}`);
}

/** The strongest source that set this setting, or undefined when neither did (the default applies). */
function pick(setting: Setting, flags: RawSettings, env: NodeJS.ProcessEnv): Source | undefined {
  if (setting.flag !== undefined) {
    const f = flags[setting.key as FlagSettingKey];
    if (f !== undefined) return { label: setting.flag, value: f };
  }
  const e = env[setting.env];
  if (e !== undefined) return { label: setting.env, value: e };
  return undefined;
}

/** A non-empty string; an empty value is refused (unset the variable to get the default). */
function text(src: Source, fallback: string): string {
  const v = typeof src.value === 'string' ? src.value.trim() : String(src.value);
  if (v.length === 0)
    throw new ConfigError(`${show(src)} is empty: give a value or unset it to use the default (${fallback})`);
  return v;
}

/** Strict integer: digits only ("10abc", "1.5", "", "1e3", " " are errors). */
function integer(src: Source, min: number, max: number, unit: string): number {
  const allowed = `expected a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}`;
  let n: number;
  if (typeof src.value === 'number') n = src.value;
  else if (typeof src.value === 'string' && /^\s*\d{1,9}\s*$/.test(src.value)) n = Number(src.value);
  else throw bad(src, allowed);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(src, allowed);
  return n;
}

function oneOf<T extends string>(src: Source, values: readonly T[], aliases: Record<string, T> = {}): T {
  const v = String(src.value).trim().toLowerCase();
  if ((values as readonly string[]).includes(v)) return v as T;
  if (v in aliases) return aliases[v]!;
  const names = [...values, ...Object.keys(aliases)];
  throw bad(src, `expected one of ${names.join(', ')}`);
}

/** true/false in the spellings compose files use (true, false, yes, no, 1, 0, on, off; any case). */
function yesNo(src: Source): boolean {
  const v = String(src.value).trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(v)) return true;
  if (['false', 'no', '0', 'off'].includes(v)) return false;
  throw bad(src, 'expected true or false');
}

/**
 * A setting that also answers to the old tool's variable name: a flag decides; otherwise the hiksync name, then the
 * old one. Both variables set to different values is an error: which one the user meant cannot be guessed.
 */
function withOldName<T>(
  setting: Setting & { oldEnv: string },
  flags: RawSettings,
  env: NodeJS.ProcessEnv,
  parse: (src: Source) => T,
  fallback: T,
): T {
  const src = pick(setting, flags, env);
  if (src && src.label !== setting.env) return parse(src);
  const oldRaw = env[setting.oldEnv];
  const oldSrc: Source | undefined = oldRaw !== undefined ? { label: setting.oldEnv, value: oldRaw } : undefined;
  const old = oldSrc ? parse(oldSrc) : undefined;
  if (!src) return old ?? fallback;
  const value = parse(src);
  if (oldSrc && old !== value) {
    throw new ConfigError(
      `${show(oldSrc)} and ${show(src)} disagree: ${setting.oldEnv} is the old name of ${setting.env}; set only one`,
    );
  }
  return value;
}

function folder(src: Source | undefined, fallback: string): string {
  return path.resolve(src ? text(src, fallback) : fallback);
}

/**
 * Parses "Camera-Tuin:garden,Camera-Oprit:driveway" into folder name -> tag. A tag becomes a folder and part of every
 * file name, so it must be a single safe path component, and two cameras must never share one (compared ignoring
 * case: the output may be browsed over SMB from a case-insensitive client).
 */
export function parseCameraTranslation(value: string, label = S.cameraTranslation.env): Map<string, string> {
  const src: Source = { label, value };
  const map = new Map<string, string>();
  const raw = String(src.value);
  if (raw.trim().length === 0) return map;
  const entries = raw.split(',');
  if (entries.length > MAX_TRANSLATION_ENTRIES) throw bad(src, `at most ${MAX_TRANSLATION_ENTRIES} entries`);
  const targets = new Map<string, string>();
  for (const [i, entryRaw] of entries.entries()) {
    const entry = entryRaw.trim();
    if (entry.length === 0) {
      if (i === entries.length - 1 && i > 0) continue; // a trailing comma is harmless
      throw bad(
        src,
        `entry ${i + 1} is empty; expected folder:tag pairs separated by commas, e.g. Camera-Tuin:garden,Camera-Oprit:driveway`,
      );
    }
    const parts = entry.split(':');
    if (parts.length !== 2 || parts[0]!.trim() === '' || parts[1]!.trim() === '') {
      throw bad(src, `entry "${entry}" is not folder:tag; expected pairs like Camera-Tuin:garden separated by commas`);
    }
    const source = parts[0]!.trim();
    const tag = parts[1]!.trim();
    const tagProblem = checkTag(tag);
    if (tagProblem) throw bad(src, `tag "${tag}" (for ${source}) ${tagProblem}`);
    if (map.has(source)) throw bad(src, `camera folder "${source}" is listed twice; give each folder one tag`);
    const clash = targets.get(tag.toLowerCase());
    if (clash !== undefined)
      throw bad(
        src,
        `tag "${tag}" is given to both "${clash}" and "${source}"; two cameras would write into one folder`,
      );
    targets.set(tag.toLowerCase(), source);
    map.set(source, tag);
  }
  return map;
}

/** Why a tag cannot be a folder name, or undefined when it can. */
export function checkTag(tag: string): string | undefined {
  if (tag.includes('/') || tag.includes('\\')) return 'contains a slash; a tag becomes one folder name';
  if (tag === '.' || tag === '..' || tag.includes('..')) return 'contains ".."; a tag becomes one folder name';
  if (tag.startsWith('.')) return 'starts with "."; hidden names are reserved (the state folder is .hiksync)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(tag)) return 'contains a control character';
  if (/[<>:"|?*]/.test(tag)) return 'contains one of < > : " | ? * (not allowed in file names on SMB shares)';
  if (Buffer.byteLength(tag, 'utf8') > MAX_TAG_BYTES) return `is longer than ${MAX_TAG_BYTES} bytes`;
  return undefined;
}

function parseShardSetting(flags: RawSettings, env: NodeJS.ProcessEnv): Shard {
  const src = pick(S.shard, flags, env);
  if (src) {
    const v = text(src, 'no sharding');
    const parsed = parseShard(v);
    if ('error' in parsed) throw bad(src, parsed.error);
    return parsed;
  }
  // Kubernetes Indexed Job: JOB_COMPLETION_INDEX is set on every pod of such a Job; it only shards with SHARD_COUNT.
  const countRaw = env.SHARD_COUNT;
  if (countRaw === undefined) return { index: 0, count: 1 };
  const count = integer({ label: 'SHARD_COUNT', value: countRaw }, 1, 1000, '');
  const indexRaw = env.JOB_COMPLETION_INDEX;
  if (indexRaw === undefined) {
    throw new ConfigError(
      `SHARD_COUNT=${JSON.stringify(countRaw)} needs JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job); outside Kubernetes use SHARD=K/N`,
    );
  }
  const index = integer({ label: 'JOB_COMPLETION_INDEX', value: indexRaw }, 0, count - 1, '');
  return { index, count };
}

function parseShare(src: Source): number {
  const allowed = 'expected a fraction greater than 0 and at most 1, e.g. 0.5';
  const v =
    typeof src.value === 'number'
      ? src.value
      : /^\s*(?:0|1)?(?:\.\d+)?\s*$/.test(String(src.value))
        ? Number(src.value)
        : NaN;
  if (String(src.value).trim() === '' || !Number.isFinite(v) || v <= 0 || v > 1) throw bad(src, allowed);
  return v;
}

/** Validates every setting once. Flags override environment, environment overrides defaults. */
export function loadConfig(flags: RawSettings, env: NodeJS.ProcessEnv, defaults: ConfigDefaults = {}): Config {
  const get = (s: Setting) => pick(s, flags, env);

  const modeSrc = get(S.runMode);
  const runMode = modeSrc
    ? oneOf(modeSrc, ['once', 'cron'] as const, { scheduled: 'cron' })
    : (defaults.runMode ?? 'once');

  const cronIntervalMin = withOldName(
    S.cronIntervalMin,
    flags,
    env,
    (src) => integer(src, 1, 1440, 'minutes'),
    DEFAULTS.cronIntervalMin,
  );
  const secondsSrc = get(S.intervalSeconds);
  const cronIntervalMs = (secondsSrc ? integer(secondsSrc, 1, 86_400, 'seconds') : cronIntervalMin * 60) * 1000;

  const retentionSrc = get(S.retentionDays);
  const retentionDays = retentionSrc
    ? integer(retentionSrc, 0, MAX_DAYS, 'days (0 = keep everything)')
    : DEFAULTS.retentionDays;

  const inputDir = folder(get(S.inputDir), DEFAULTS.inputDir);
  const outputDir = folder(get(S.outputDir), DEFAULTS.outputDir);
  if (inputDir === outputDir || outputDir.startsWith(inputDir + path.sep)) {
    const src = get(S.outputDir) ?? { label: 'OUTPUT_DIR', value: outputDir };
    throw bad(
      src,
      `the output must not be the input folder ${inputDir} or inside it (the camera share stays read-only)`,
    );
  }
  const stateDir = path.join(outputDir, STATE_DIR_NAME);
  const cacheDir = folder(get(S.cacheDir), path.join(stateDir, 'cache'));

  const shard = parseShardSetting(flags, env);
  const lockSrc = get(S.lockFile);
  const lockBase = lockSrc ? path.resolve(text(lockSrc, path.join(stateDir, 'lock'))) : path.join(stateDir, 'lock');
  // One lock per shard even when LOCK_FILE is set: shards work on different cameras and must run side by side.
  const lockFile = lockBase + shardSuffix(shard);

  const trSrc = get(S.cameraTranslation);
  const cameraTranslation = trSrc
    ? parseCameraTranslation(String(trSrc.value), trSrc.label)
    : new Map<string, string>();

  const parallelism = defaults.parallelism ?? os.availableParallelism();
  const workersSrc = get(S.workers);
  const workers = workersSrc ? integer(workersSrc, 1, 256, 'worker threads') : Math.max(1, Math.min(256, parallelism));

  const ioSrc = get(S.ioConcurrency);
  const ioConcurrency = ioSrc ? integer(ioSrc, 1, 256, 'concurrent reads') : DEFAULTS.ioConcurrency;

  const fmtSrc = get(S.logFormat);
  const fmt = fmtSrc ? oneOf(fmtSrc, ['pretty', 'json', 'auto'] as const) : 'auto';
  const logIsTTY = defaults.logIsTTY ?? Boolean(process.stderr.isTTY);
  const logFormat = fmt === 'auto' ? (logIsTTY ? 'pretty' : 'json') : fmt;

  const levelSrc = get(S.logLevel);
  const logLevel = levelSrc ? oneOf(levelSrc, ['debug', 'info', 'warn', 'error'] as const) : DEFAULTS.logLevel;

  const tzSrc = get(S.cameraTz);
  let cameraTz: string;
  if (tzSrc) {
    const tz = text(tzSrc, 'the host zone');
    if (!isValidTimeZone(tz)) throw bad(tzSrc, 'expected an IANA time zone name such as Europe/Amsterdam or UTC');
    cameraTz = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } else {
    cameraTz = defaults.processTz ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  }

  const containerSrc = get(S.container);
  const container = containerSrc ? oneOf(containerSrc, ['mp4', 'mov'] as const) : DEFAULTS.container;

  const audioSrc = get(S.audio);
  const audio = audioSrc ? oneOf(audioSrc, ['auto', 'copy', 'none'] as const) : DEFAULTS.audio;

  const attemptsSrc = get(S.maxAttempts);
  const maxAttempts = attemptsSrc ? integer(attemptsSrc, 1, 100, 'attempts') : DEFAULTS.maxAttempts;

  const shareSrc = get(S.retentionMaxShare);
  const retentionMaxShare = shareSrc ? parseShare(shareSrc) : DEFAULTS.retentionMaxShare;

  const imagesSrc = get(S.syncImages);
  const syncImages = imagesSrc ? yesNo(imagesSrc) : true;

  // 0 is refused: in the old tool it could mean "nothing" or "no limit"; unset means no limit, SYNC_IMAGES=false or
  // --no-video skips a kind.
  const syncDays = (setting: Setting) => {
    const src = get(setting);
    const unit = 'days (unset it for no limit beyond RETENTION_DAYS)';
    return src ? integer(src, 1, MAX_DAYS, unit) : undefined;
  };
  const videoSyncDays = syncDays(S.videoSyncDays);
  const imageSyncDays = syncDays(S.imageSyncDays);

  const timeoutSrc = get(S.extractionTimeoutSec);
  const extractionTimeoutSec = timeoutSrc
    ? integer(timeoutSrc, 0, MAX_EXTRACTION_TIMEOUT_SEC, 'seconds per file (0 = no limit)')
    : DEFAULTS.extractionTimeoutSec;

  const notices = Object.entries(IGNORED_ENV)
    .filter(([name]) => env[name] !== undefined)
    .map(([name, why]) => `${name} is ignored: ${why}`);
  const shareTimeoutSrc = get(S.shareTimeoutSec);
  const shareTimeoutSec = shareTimeoutSrc ? integer(shareTimeoutSrc, 1, 3600, 'seconds') : DEFAULTS.shareTimeoutSec;

  return {
    runMode,
    cronIntervalMin,
    cronIntervalMs,
    retentionDays,
    inputDir,
    outputDir,
    stateDir,
    cacheDir,
    lockFile,
    cameraTranslation,
    workers,
    ioConcurrency,
    logFormat,
    logLevel,
    cameraTz,
    shard,
    container,
    audio,
    maxAttempts,
    retentionMaxShare,
    syncImages,
    videoSyncDays,
    imageSyncDays,
    extractionTimeoutSec,
    notices,
    shareTimeoutSec,
  };
}
