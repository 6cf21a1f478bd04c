/**
 * Each command takes exactly the options it uses: the others are a usage error (exit 64) instead of being accepted
 * and ignored, `--help` lists only its own, and every flag lib/config.ts names in its messages is one a command
 * declares. Settings without a flag still come from their variable, for every command.
 */
import test from 'ava';
import { Cli } from 'clipanion';
import type { BaseCommand } from '../../lib/cli/base.js';
import { HealthCommand } from '../../lib/cli/commands/health.js';
import { InspectCommand } from '../../lib/cli/commands/inspect.js';
import { RetentionCommand } from '../../lib/cli/commands/retention.js';
import { RunCommand } from '../../lib/cli/commands/run.js';
import { ScanCommand } from '../../lib/cli/commands/scan.js';
import { FLAG_NAMES, type Config } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';
import { runCli } from '../helpers/cli.js';

const COMMANDS = { scan: ScanCommand, run: RunCommand, retention: RetentionCommand, health: HealthCommand };
type Name = keyof typeof COMMANDS;
const NAMES = Object.keys(COMMANDS) as Name[];

/** The options of each command: what it reads, nothing more. */
const EXPECTED: Record<Name, string[]> = {
  scan: ['--input', '--shard', '--camera-translation', '--container', '--json'],
  run: [
    '--input',
    '--output',
    '--workers',
    '--camera-tz',
    '--camera-translation',
    '--container',
    '--audio',
    '--retention-days',
    '--shard',
    '--lock-file',
    '--log-format',
    '--log-level',
    '--json',
    '--run-mode',
    '--cron-interval',
    '--since',
    '--until',
    '--camera',
    '--images',
    '--video',
    '--dry-run',
    '--adopt-existing',
    '--retry-failed',
    '--fsync',
    '--force-retention',
  ],
  retention: [
    '--output',
    '--retention-days',
    '--camera-tz',
    '--camera-translation',
    '--shard',
    '--lock-file',
    '--log-format',
    '--log-level',
    '--json',
    '--dry-run',
    '--force',
  ],
  health: ['--input', '--output', '--shard', '--lock-file', '--json'],
};

/** Every option some command takes. */
const ALL = [...new Set(NAMES.flatMap((n) => EXPECTED[n]))];

interface SettingCase {
  valid: string;
  read: (c: Config) => unknown;
  expected: unknown;
  invalid: string;
  /** Part of the message for the invalid value. */
  why: string;
}

/** Flags that set a Config value: a valid value and what it becomes, an invalid one and what the message says. */
const SETTINGS: Record<string, SettingCase> = {
  '--input': { valid: '/srv/cams', read: (c) => c.inputDir, expected: '/srv/cams', invalid: '', why: 'is empty' },
  '--output': { valid: '/srv/out', read: (c) => c.outputDir, expected: '/srv/out', invalid: ' ', why: 'is empty' },
  '--workers': { valid: '3', read: (c) => c.workers, expected: 3, invalid: '0', why: 'from 1 to 256' },
  '--camera-tz': {
    valid: 'europe/amsterdam',
    read: (c) => c.cameraTz,
    expected: 'Europe/Amsterdam',
    invalid: 'Mars/Olympus',
    why: 'IANA time zone',
  },
  '--camera-translation': {
    valid: 'Camera-Tuin:garden',
    read: (c) => [...c.cameraTranslation],
    expected: [['Camera-Tuin', 'garden']],
    invalid: 'Camera-Tuin',
    why: 'folder:tag',
  },
  '--container': { valid: 'mov', read: (c) => c.container, expected: 'mov', invalid: 'mkv', why: 'mp4, mov' },
  '--audio': { valid: 'none', read: (c) => c.audio, expected: 'none', invalid: 'flac', why: 'auto, copy, none' },
  '--retention-days': { valid: '30', read: (c) => c.retentionDays, expected: 30, invalid: '30d', why: 'from 0 to' },
  '--shard': { valid: '1/2', read: (c) => c.shard, expected: { index: 1, count: 2 }, invalid: '2/2', why: 'K must be' },
  '--lock-file': { valid: '/run/lock', read: (c) => c.lockFile, expected: '/run/lock', invalid: '', why: 'is empty' },
  '--log-format': { valid: 'pretty', read: (c) => c.logFormat, expected: 'pretty', invalid: 'xml', why: 'auto' },
  '--log-level': { valid: 'debug', read: (c) => c.logLevel, expected: 'debug', invalid: 'verbose', why: 'debug, info' },
  '--run-mode': { valid: 'cron', read: (c) => c.runMode, expected: 'cron', invalid: 'daily', why: 'once, cron' },
  '--cron-interval': { valid: '5', read: (c) => c.cronIntervalMin, expected: 5, invalid: '0', why: 'from 1 to 1440' },
};

function cli(): Cli {
  const c = new Cli({ binaryName: 'hiksync', enableColors: false });
  for (const command of Object.values(COMMANDS)) c.register(command);
  return c;
}

/** Parses a command line the way the CLI does, without running the command. */
function parse(args: string[]): BaseCommand {
  return cli().process(args) as BaseCommand;
}

/**
 * The option names a command declares, from clipanion's own definitions: the described ones ("--input #0") and any
 * without a description, which clipanion shows inline in the usage line ("[--workers #0]").
 */
function declared(name: Name): string[] {
  const def = cli()
    .definitions()
    .find((d) => d.path === `hiksync ${name}`);
  if (!def) throw new Error(`no definition for ${name}`);
  const described = def.options.map((o) => o.definition);
  const inline = [...def.usage.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!);
  return [...described, ...inline].flatMap((d) => d.split(' ')[0]!.split(','));
}

for (const name of NAMES) {
  test(`${name} declares exactly its options`, (t) => {
    t.deepEqual(declared(name).sort(), [...EXPECTED[name]].sort());
  });

  test(`${name} --help (built CLI) lists exactly its options`, (t) => {
    const r = runCli([name, '--help']);
    t.is(r.code, 0, r.stderr);
    const section = r.stdout.split(/^Options$/m)[1]?.split(/^Details$/m)[0] ?? '';
    const listed = [...section.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!);
    t.deepEqual(listed.sort(), [...EXPECTED[name]].sort());
  });

  const refused = ALL.filter((o) => !EXPECTED[name].includes(o));
  test(`${name} refuses every option it does not use (${refused.length})`, (t) => {
    t.true(refused.length > 0);
    for (const option of refused) {
      const message = new RegExp(`^Unsupported option name \\("${option}"\\)`);
      t.throws(() => parse([name, option, 'x']), { message }, option);
    }
  });

  for (const option of EXPECTED[name].filter((o) => o in SETTINGS)) {
    const s = SETTINGS[option]!;
    test(`${name} ${option}: the value reaches the settings, a bad one is refused by its flag name`, (t) => {
      t.deepEqual(s.read(parse([name, option, s.valid]).config({})), s.expected);
      const err = t.throws(() => parse([name, option, s.invalid]).config({}), { instanceOf: ConfigError });
      t.true(err.message.startsWith(`${option} ${JSON.stringify(s.invalid)} `), err.message);
      t.true(err.message.includes(s.why), err.message);
    });
  }
}

test('run and retention take their own switches', (t) => {
  const dates = ['--since', '2024-05-01', '--until', '2024-05-02'];
  const switches = ['--no-images', '--no-video', '--dry-run', '--adopt-existing', '--retry-failed', '--no-fsync'];
  const args = ['run', ...dates, '--camera', 'a', '--camera', 'b', ...switches, '--force-retention', '--json'];
  const run = parse(args) as RunCommand;
  t.like(run, { since: '2024-05-01', until: '2024-05-02', images: false, video: false, dryRun: true });
  t.like(run, { adoptExisting: true, retryFailed: true, fsync: false, forceRetention: true, json: true });
  t.deepEqual(run.camera, ['a', 'b']);
  const retention = parse(['retention', '--dry-run', '--force', '--json']);
  t.like(retention, { dryRun: true, force: true, json: true });
  t.like(parse(['scan', '--json']), { json: true });
  t.like(parse(['health', '--json']), { json: true });
});

test('every usage example in --help parses (no example shows an option its command refuses)', (t) => {
  for (const name of NAMES) {
    for (const [, example] of COMMANDS[name].usage?.examples ?? []) {
      const words = example.split(/\s+/).filter((w) => !/^[A-Z_]+=/.test(w));
      t.is(words[0], '$0', example);
      t.notThrows(() => parse(words.slice(1)), example);
    }
  }
});

test('the flags config names in its messages are exactly the settings flags, each declared by a command', (t) => {
  t.deepEqual(Object.values(FLAG_NAMES).sort(), Object.keys(SETTINGS).sort());
  const everywhere = new Set(NAMES.flatMap(declared));
  for (const flag of Object.values(FLAG_NAMES)) t.true(everywhere.has(flag), `${flag} is declared by no command`);
  for (const gone of ['--cache-dir', '--io-concurrency', '--max-attempts', '--retention-max-share']) {
    t.false(Object.values(FLAG_NAMES).includes(gone), gone);
  }
});

test('every command still reads every variable, also for settings it has no flag for', (t) => {
  const env = { WORKERS: '3', CONTAINER: 'mov', MAX_ATTEMPTS: '5', CAMERA_TZ: 'UTC', RETENTION_DAYS: '7' };
  for (const name of NAMES) {
    t.like(parse([name]).config(env), { workers: 3, container: 'mov', maxAttempts: 5, retentionDays: 7 }, name);
  }
  const err = t.throws(() => parse(['health']).config({ WORKERS: 'lots' }), { instanceOf: ConfigError });
  t.regex(err.message, /^WORKERS="lots" is not valid/);
});

// inspect takes a camera folder (a positional), so it is not in the table above: the same checks, by hand.
test('inspect declares exactly its own options, refuses every settings flag, and its examples parse', (t) => {
  const c = new Cli({ binaryName: 'hiksync', enableColors: false });
  c.register(InspectCommand);
  const def = c.definitions().find((d) => d.path === 'hiksync inspect');
  const options = (def?.options ?? []).map((o) => o.definition.split(' ')[0]!);
  t.deepEqual(options.sort(), ['--bundle', '--json', '--with-media-heads']);
  for (const option of ALL.filter((o) => o !== '--json')) {
    t.throws(() => c.process(['inspect', '/input/cam', option, 'x']), { message: /^Unsupported option name/ }, option);
  }
  t.throws(() => c.process(['inspect']), undefined, 'the camera folder is required');
  t.like(c.process(['inspect', '/in/cam', '--bundle', 'b.tgz', '--with-media-heads']), {
    folder: '/in/cam',
    bundle: 'b.tgz',
    withMediaHeads: true,
  });
  for (const [, example] of InspectCommand.usage?.examples ?? []) {
    t.notThrows(() => c.process(example.split(/\s+/).slice(1)), example);
  }
  t.like((c.process(['inspect', '/in/cam']) as BaseCommand).config({ WORKERS: '3' }), { workers: 3 });
});

// Through the built CLI, as a user (or a HEALTHCHECK line) runs it: one line, exit 64, nothing run.
const usageMistakes: string[][] = [
  ['health', '--workers', '2'],
  ['health', '--log-level', 'debug'],
  ['scan', '--lock-file', 'x'],
  ['scan', '--output', '/tmp'],
  ['retention', '--input', '/tmp'],
  ['run', '--force'],
];
for (const args of usageMistakes) {
  test(`built CLI: ${args.join(' ')} is a usage error (exit 64)`, (t) => {
    const r = runCli(args);
    t.is(r.code, 64, r.stderr);
    t.is(r.stdout, '');
    t.is(r.stderr, `hiksync: Unsupported option name ("${args[1]}"). (see hiksync --help)\n`);
  });
}
