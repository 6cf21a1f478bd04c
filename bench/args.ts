/**
 * Command-line options of `npm run bench` (node dist/bench/run.js).
 */
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { BenchUsageError, parseSize } from './units.js';

export const SCENARIO_GROUPS = ['copy', 'hiksync', 'scaling', 'ffmpeg', 'rerun', 'scan', 'memory', 'audio'] as const;
export type ScenarioGroup = (typeof SCENARIO_GROUPS)[number];

export interface BenchArgs {
  /** Source bytes of the main synthetic share. */
  size: number;
  quick: boolean;
  repeat: number;
  seed: number;
  /** Highest worker count of the scaling sweep (default: the core count). */
  maxWorkers: number;
  /** Also run cold-cache variants when the page cache can be dropped. */
  cold: boolean;
  /** Profile hiksync with --cpu-prof when it misses a throughput target (vs copy or vs ffmpeg). */
  profile: boolean;
  only: Set<ScenarioGroup>;
  help: boolean;
}

export const DEFAULT_SIZE = '2GiB';
export const QUICK_SIZE = '300MiB';

export const USAGE = `Usage: npm run bench -- [options]

  --size SIZE        source bytes of the main synthetic share (default ${DEFAULT_SIZE}; e.g. 10GiB)
  --quick            smoke mode: ${QUICK_SIZE}, 1 repetition, smaller hiv files
  --repeat N         repetitions per scenario, the median is reported (default 3; --quick: 1)
  --seed N           synthetic share seed (default 1); the share is reused while size and seed match
  --max-workers N    top of the hiksync scaling sweep 1..N (default: the core count)
  --only LIST        comma list of ${SCENARIO_GROUPS.join(', ')} (default: all)
  --no-cold          warm page cache only, even where it can be dropped
  --no-profile       do not profile hiksync when it misses a throughput target
  --help`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        size: { type: 'string' },
        quick: { type: 'boolean', default: false },
        repeat: { type: 'string' },
        seed: { type: 'string', default: '1' },
        'max-workers': { type: 'string' },
        only: { type: 'string' },
        'no-cold': { type: 'boolean', default: false },
        'no-profile': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new BenchUsageError(err instanceof Error ? err.message : String(err));
  }
  const quick = values.quick ?? false;
  const size = parseSize(values.size ?? (quick ? QUICK_SIZE : DEFAULT_SIZE));
  const repeat = positiveInt(values.repeat ?? (quick ? '1' : '3'), '--repeat', 20);
  const seed = positiveInt(values.seed ?? '1', '--seed', 2 ** 31);
  const maxWorkers = positiveInt(values['max-workers'] ?? String(os.availableParallelism()), '--max-workers', 256);
  const only = new Set<ScenarioGroup>();
  for (const name of (values.only ?? SCENARIO_GROUPS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(SCENARIO_GROUPS as readonly string[]).includes(name))
      throw new BenchUsageError(`--only: unknown scenario "${name}" (one of ${SCENARIO_GROUPS.join(', ')})`);
    only.add(name as ScenarioGroup);
  }
  return {
    size,
    quick,
    repeat,
    seed,
    maxWorkers,
    cold: !values['no-cold'],
    profile: !values['no-profile'],
    only,
    help: values.help ?? false,
  };
}

function positiveInt(text: string, flag: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new BenchUsageError(`${flag} must be a whole number from 1 to ${max}, got "${text}"`);
  return n;
}
