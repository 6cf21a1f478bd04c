/**
 * The shared machinery of the scenarios: the Suite (samples per scenario, the page-cache state before a run,
 * running `hiksync run` under measurement) and turning a child's output into a Sample.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { ENV_NAMES } from '../lib/config.js';
import type { BenchArgs, ScenarioGroup } from './args.js';
import { measure, type Measured } from './measure.js';
import { cliPath, outRoot, repoRoot } from './paths.js';
import type { CacheState, Sample, ScenarioResult } from './report.js';
import { dropCaches, syncDisks, warmFiles } from './system.js';

/** A scenario run longer than this is stopped (and reported failed) rather than hanging the suite. */
export const SCENARIO_TIMEOUT_MS = 60 * 60 * 1000;

export interface Scenario {
  name: string;
  group: ScenarioGroup;
  cache: CacheState;
  workers: number;
  data: string;
  run(): Promise<Sample>;
}

/** Scenarios that must run back to back (a re-run needs the first run's output) form one unit of the order. */
export type Unit = Scenario[];

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Settings hiksync reads from the environment must not leak into a measured run.
  for (const k of ENV_NAMES) delete env[k];
  return { ...env, LOG_FORMAT: 'json', LOG_LEVEL: 'warn' };
}

export function findFfmpeg(): { path: string; version: string } | undefined {
  // The npm package's static build first: the issue's baseline is "the static ffmpeg", and a system ffmpeg (another
  // version, other defaults) would make the row differ from machine to machine. PATH only when it is missing.
  const candidates: string[] = [];
  try {
    const req = createRequire(path.join(repoRoot, 'package.json'));
    candidates.push((req('@ffmpeg-installer/ffmpeg') as { path: string }).path);
  } catch {
    /* package not installed */
  }
  try {
    candidates.push(execFileSync('which', ['ffmpeg'], { encoding: 'utf8' }).trim());
  } catch {
    /* not on PATH */
  }
  for (const p of candidates.filter(Boolean)) {
    try {
      const version = execFileSync(p, ['-version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
      return { path: p, version };
    } catch {
      /* not runnable */
    }
  }
  return undefined;
}

export function parseJsonOut<T>(out: string): T {
  const text = out.trim();
  try {
    return JSON.parse(text) as T;
  } catch {
    // A log line may precede it: take the last line that parses.
    for (const line of text.split('\n').reverse()) {
      try {
        return JSON.parse(line) as T;
      } catch {
        /* next */
      }
    }
  }
  throw new Error(`no JSON on stdout: ${text.slice(0, 300)}`);
}

interface PassSummaryLike {
  seconds: number;
  mbPerSec: number;
  exitCode: number;
  cameras: unknown[];
  totals: { written: number; already: number; failed: number; bytesRead: number; bytesWritten: number };
}

export function firstLine(text: string): string {
  return text.trim().split('\n').find(Boolean)?.slice(0, 300) ?? '';
}

/** The fields every sample takes from the measurement; the scenario adds what it read and wrote. */
export function measuredSample(
  m: Measured,
  counts: Pick<Sample, 'bytes' | 'files' | 'failed'>,
  extra: Record<string, number> = {},
  note?: string,
): Sample {
  return {
    wallSec: m.wallSec,
    cpuSec: m.userSec + m.sysSec,
    peakRssBytes: m.peakRssBytes,
    ...counts,
    exitCode: m.exitCode,
    extra: { ...extra, outsideCpuSec: m.outsideCpuSec },
    ...(note ? { note } : {}),
  };
}

export function hiksyncSample(m: Measured): Sample {
  let s: PassSummaryLike;
  try {
    s = parseJsonOut<PassSummaryLike>(m.stdout);
  } catch (err) {
    return measuredSample(
      m,
      { bytes: 0, files: 0, failed: 1 },
      {},
      `no PassSummary (exit ${m.exitCode}): ${firstLine(m.stderr) || (err as Error).message}`,
    );
  }
  return measuredSample(
    m,
    { bytes: s.totals.bytesRead, files: s.totals.written, failed: s.totals.failed },
    {
      passSeconds: s.seconds,
      passMbPerSec: s.mbPerSec,
      already: s.totals.already,
      cameras: s.cameras.length,
      bytesWritten: s.totals.bytesWritten,
    },
    m.exitCode !== 0 ? `exit ${m.exitCode}${firstLine(m.stderr) ? `: ${firstLine(m.stderr)}` : ''}` : undefined,
  );
}

export async function clearOutputs(dir: string = outRoot): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
}

export class Suite {
  readonly results = new Map<string, ScenarioResult>();
  readonly notes: string[] = [];
  coldPossible = false;
  /** Repetitions run again because other load exceeded QUIET_OTHER_SHARE (run.ts). */
  repeatedForLoad = 0;
  private warmList: string[] = [];

  constructor(
    readonly args: BenchArgs,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  setWarmFiles(files: string[]): void {
    this.warmList = files;
  }

  /** Page cache to the stated state before a measured run. */
  async prepareCache(cache: CacheState): Promise<void> {
    // Every run starts with no dirty pages: the previous run's writes (and their removal) are not charged to it.
    syncDisks();
    if (cache === 'cold') {
      if (!dropCaches()) throw new Error('could not drop the page cache');
    } else {
      await warmFiles(this.warmList);
    }
  }

  record(sc: Scenario, sample: Sample): void {
    const r = this.resultFor(sc);
    r.samples.push(sample);
    // The same failure repeated differs only in pointers ("[mp2 @ 0x3078..]"): keep it once.
    const note = sample.note?.replace(/0x[0-9a-f]+/g, '0x…');
    if (note && !r.notes.includes(note)) r.notes.push(note);
  }

  resultFor(sc: Pick<Scenario, 'name' | 'group' | 'cache' | 'workers' | 'data'>): ScenarioResult {
    let r = this.results.get(sc.name);
    if (!r) {
      r = {
        name: sc.name,
        group: sc.group,
        cache: sc.cache,
        workers: sc.workers,
        data: sc.data,
        samples: [],
        notes: [],
      };
      this.results.set(sc.name, r);
    }
    return r;
  }

  skip(sc: Pick<Scenario, 'name' | 'group' | 'cache' | 'workers' | 'data'>, reason: string): void {
    this.resultFor(sc).skipped = reason;
  }

  async hiksync(
    input: string,
    workers: number,
    keepOutput = false,
    extraNodeArgs: string[] = [],
    output: string = outRoot,
  ): Promise<Measured> {
    if (!keepOutput) await clearOutputs(output);
    return measure(
      process.execPath,
      [
        ...extraNodeArgs,
        cliPath,
        'run',
        '--input',
        input,
        '--output',
        output,
        '--workers',
        String(workers),
        '--json',
        '--retention-days',
        '0',
      ],
      { env: this.env, timeoutMs: SCENARIO_TIMEOUT_MS },
    );
  }
}
