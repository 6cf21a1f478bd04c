/**
 * `npm run soak [-- --minutes N --seed S --interval SEC --keep]`: live cameras record into a synthetic share for N
 * minutes (default 3) while hiksync runs in cron mode passes seconds apart and is SIGKILLed now and then (see
 * driver.ts). Prints the figures, writes them as JSON under bench/results/, exits 1 when anything was lost,
 * corrupt or stale, or when memory grew from pass to pass.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { findPackageRoot } from '../../tools/synthetic/fixtures.js';
import { DEFAULT_SOAK_HEAP_MB, memoryProblem, runSoak } from './driver.js';

const USAGE = `Usage: npm run soak -- [--minutes N] [--seed S] [--interval SECONDS] [--workers N] [--heap-mb N] [--keep]

  --minutes N        how long the cameras record (default 3; fractions allowed)
  --seed S           seed of the share, the cameras and the kill moments (default 1)
  --interval SECONDS seconds between hiksync passes (HIKSYNC_INTERVAL_SECONDS, default 1)
  --workers N        hiksync worker threads (default 2)
  --heap-mb N        V8 heap limit of hiksync (--max-old-space-size) so a leak shows; 0 = node's default (default 24)
  --keep             keep the share and the output (printed) instead of deleting them`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      interval: { type: 'string', default: '1' },
      workers: { type: 'string', default: '2' },
      'heap-mb': { type: 'string', default: String(DEFAULT_SOAK_HEAP_MB) },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const minutes = Number(values.minutes);
  const seed = Number(values.seed);
  const interval = Number(values.interval);
  const workers = Number(values.workers);
  const heapMb = Number(values['heap-mb']);
  if (
    !(minutes > 0) ||
    !Number.isInteger(seed) ||
    !Number.isInteger(interval) ||
    interval < 1 ||
    !(workers >= 1) ||
    !(Number.isInteger(heapMb) && heapMb >= 0)
  ) {
    console.error(USAGE);
    return 64;
  }
  const root = findPackageRoot();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-soak-'));
  console.log(`soak: ${minutes} min of camera activity, seed ${seed}, passes every ${interval} s, in ${dir}`);
  try {
    const report = await runSoak({
      dir,
      cli: path.join(root, 'dist', 'lib', 'cli', 'main.js'),
      seed,
      cameraMs: minutes * 60_000,
      intervalSeconds: interval,
      workers,
      heapMb,
      log: (line) => console.log(`  ${line}`),
    });
    const v = report.verify;
    const m = report.memory;
    console.log(
      [
        '',
        `cameras recorded ${report.cameraSeconds} s (${report.cameraSteps} steps; soak clock slowed down ${report.slowdown.mean} x on average, at most ${report.slowdown.max} x, for slow passes); soak took ${report.totalSeconds} s`,
        `hiksync: ${report.processes} processes, ${report.kills.total} SIGKILLs (${report.kills.whileWritingTemporary} while a temporary file was written), ${report.passes.completed} completed passes (${report.passes.meanSeconds.toFixed(1)} s on average, longest ${report.passes.maxSeconds.toFixed(1)} s)`,
        `recordings finished by the cameras (and pictures): ${v.finished}; two completed passes could see ${v.required}: ${v.requiredPresent} present`,
        `lost to the ring before two completed passes could see them: ${v.lostBeforeSeen}, of which ${v.missedWithOnePass.length} of the ${v.onePassWindows} one pass ran for; extracted although at risk: ${v.extractedAtRisk}`,
        `outputs: ${v.outputs}, ${v.framesCompared} videos compared frame by frame; problems: ${v.problems.length}`,
        `failures counted by passes: ${JSON.stringify(report.failedByReason)}`,
        `memory (peak RSS per pass of the undisturbed process): first ${m.firstKiB} KiB, second ${m.secondKiB}, last ${m.lastKiB}, max of all passes ${m.maxKiB}${m.perPassPeak ? '' : ' (cumulative peaks)'}; V8 heap limit ${m.heapLimitMb || 'default'} MB`,
        ...v.problems.map((p) => `  PROBLEM ${p}`),
        ...v.missedWithOnePass.map((p) => `  missed by the one pass that ran for it: ${p}`),
      ].join('\n'),
    );
    const results = path.join(root, 'bench', 'results');
    await fs.mkdir(results, { recursive: true });
    const file = path.join(results, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await fs.writeFile(file, JSON.stringify(report, null, 2) + '\n');
    console.log(`figures: ${path.relative(process.cwd(), file)}`);
    const memory = memoryProblem(report);
    if (memory) console.log(`PROBLEM ${memory}`);
    return v.problems.length > 0 || memory || report.finalExitCode !== 0 ? 1 : 0;
  } finally {
    if (values.keep) console.log(`kept ${dir}`);
    else await fs.rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);
