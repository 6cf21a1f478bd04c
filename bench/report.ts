/**
 * Turning samples into the results: medians per scenario, the ratios to the baselines, the targets met or
 * missed, and the three outputs (a table on stdout, JSON under bench/results/, bench/RESULTS.md).
 */
import type { LengthBucket } from './ranges.js';
import type { MachineInfo } from './system.js';
import type { ProfileSummary } from './profile.js';
import { formatSize, median } from './units.js';

export type CacheState = 'warm' | 'cold';

export interface Sample {
  wallSec: number;
  cpuSec: number;
  peakRssBytes: number;
  /** Source bytes the scenario read (its own count: PassSummary, copy, ffmpeg driver). */
  bytes: number;
  /** Output files (recordings + pictures) it produced. */
  files: number;
  failed: number;
  exitCode: number | null;
  /** Scenario-specific numbers (pass seconds, bytes read by a scan ...). */
  extra: Record<string, number>;
  note?: string;
}

export interface ScenarioResult {
  name: string;
  group: string;
  cache: CacheState;
  workers: number;
  /** The data it ran on: "1x", "4x (20 cameras)", "sparse 20 x 4 datadirs" ... */
  data: string;
  samples: Sample[];
  skipped?: string;
  notes: string[];
}

export interface Summary {
  wallSec: number;
  mbPerSec: number;
  recPerSec: number;
  cpuSec: number;
  peakRssBytes: number;
  bytes: number;
  files: number;
  failed: number;
  /** CPU seconds spent outside the measured process tree during the run (other processes, kernel writeback). */
  outsideCpuSec: number;
}

/** Median of each measure over the repetitions (each measure on its own). */
export function summarise(r: ScenarioResult): Summary | undefined {
  if (r.samples.length === 0) return undefined;
  const m = (f: (s: Sample) => number) => median(r.samples.map(f));
  return {
    wallSec: m((s) => s.wallSec),
    mbPerSec: m((s) => s.bytes / 1e6 / s.wallSec),
    recPerSec: m((s) => s.files / s.wallSec),
    cpuSec: m((s) => s.cpuSec),
    peakRssBytes: m((s) => s.peakRssBytes),
    bytes: m((s) => s.bytes),
    files: m((s) => s.files),
    failed: Math.max(...r.samples.map((s) => s.failed)),
    outsideCpuSec: m((s) => s.extra.outsideCpuSec ?? 0),
  };
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  /** null: could not be measured in this run (the reason is in `measured`). */
  met: boolean | null;
}

export interface BenchReport {
  startedAt: string;
  endedAt: string;
  command: string;
  machine: MachineInfo;
  cache: { cold: boolean; statement: string };
  /** CPU used outside the measured process trees during the runs, as a share of all cores. */
  /** repeated: repetitions of wall-time scenarios run again because other load took over 10 % of the machine. */
  outsideCpu: { median: number; max: number; repeated?: number };
  dataset: {
    dir: string;
    size: number;
    seed: number;
    cameras: number;
    recordings: number;
    pictures: number;
    sourceBytes: number;
    description: string[];
    lengthMix: LengthBucket[];
    reused: boolean;
  };
  repeat: number;
  scenarios: Array<ScenarioResult & { median?: Summary }>;
  ratios: Array<{ name: string; value: number | null; note: string }>;
  targets: Target[];
  /** Where the time goes (only when hiksync misses the copy target). */
  profiles?: Array<ProfileSummary & { label: string; command: string }>;
  notes: string[];
}

const MB = 1e6;

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function scenarioTable(report: BenchReport): string[] {
  const head = [
    'scenario',
    'data',
    'cache',
    'MB/s',
    'rec/s',
    'wall s',
    'CPU s',
    'CPU/wall',
    'peak RSS',
    'files',
    'failed',
    'other CPU s',
  ];
  const rows: string[][] = [head];
  for (const s of report.scenarios) {
    const m = s.median;
    if (!m) {
      rows.push([
        s.name,
        s.data,
        s.cache,
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        `skipped: ${s.skipped ?? 'no samples'}`,
      ]);
      continue;
    }
    rows.push([
      s.name,
      s.data,
      s.cache,
      m.mbPerSec.toFixed(1),
      m.recPerSec.toFixed(1),
      m.wallSec.toFixed(2),
      m.cpuSec.toFixed(2),
      (m.cpuSec / m.wallSec).toFixed(2),
      `${(m.peakRssBytes / MB).toFixed(0)} MB`,
      String(m.files),
      String(m.failed),
      m.outsideCpuSec.toFixed(2),
    ]);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const numeric = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const line = (r: string[]) =>
    '| ' + r.map((c, i) => pad(c, widths[i]!, numeric.has(i) && rows.indexOf(r) > 0)).join(' | ') + ' |';
  return [
    line(rows[0]!),
    '|' + widths.map((w, i) => (numeric.has(i) ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|',
    ...rows.slice(1).map(line),
  ];
}

export function targetTable(report: BenchReport): string[] {
  const rows = report.targets.map((t) => [
    t.met === null ? 'n/a' : t.met ? 'MET' : 'MISSED',
    t.name,
    t.goal,
    t.measured,
  ]);
  const head = ['result', 'target', 'goal', 'measured'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => pad(c, widths[i]!)).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)];
}

/**
 * Assumed speed of one core of a 4-core NAS CPU (Celeron J4125 / Cortex-A55 class) relative to one core of the
 * bench machine, for the projection only: an assumption stated with the numbers, not a measurement.
 */
export const NAS_CORE_FACTOR = 0.35;
export const NAS_CORES = 4;
/** A 1 Gbit/s share delivers at most this many MB/s. */
export const GBIT_SHARE_MBPS = 125;

/** CPU-seconds per GB and MB per CPU-second of each scenario that moves media bytes, plus the NAS projection. */
export function perCoreLines(report: BenchReport): string[] {
  const rows = report.scenarios.filter(
    (s) =>
      s.median &&
      s.median.bytes > 0 &&
      s.median.cpuSec > 0 &&
      (s.group === 'copy' || s.group === 'hiksync' || s.group === 'ffmpeg' || s.group === 'memory'),
  );
  if (rows.length === 0) return [];
  const out = [
    '| scenario | data | CPU-s per GB | MB per CPU-second | projected 4-core NAS MB/s | with a 1 Gbit/s share |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const s of rows) {
    const m = s.median!;
    const mbPerCpu = m.bytes / 1e6 / m.cpuSec;
    const nas = mbPerCpu * NAS_CORE_FACTOR * NAS_CORES;
    out.push(
      `| ${s.name} | ${s.data} | ${(m.cpuSec / (m.bytes / 1e9)).toFixed(2)} | ${mbPerCpu.toFixed(0)} | ${nas.toFixed(0)} | ${Math.min(nas, GBIT_SHARE_MBPS).toFixed(0)} |`,
    );
  }
  out.push(
    '',
    `Projection, not a measurement: a NAS core is assumed to do ${NAS_CORE_FACTOR} x the work of one core here, ` +
      `${NAS_CORES} cores fully used (x workers = cores; the copy and ffmpeg rows at the same concurrency); a 1 Gbit/s ` +
      `share caps reading at ${GBIT_SHARE_MBPS} MB/s. CPU-seconds per byte are the figure to compare: other load on ` +
      'this shared machine stretches wall times but hardly the CPU a process itself uses.',
  );
  return out;
}

export function ratioLines(report: BenchReport): string[] {
  return report.ratios.map(
    (r) => `- ${r.name}: ${r.value === null ? 'n/a' : `${r.value.toFixed(2)}x`}${r.note ? ` (${r.note})` : ''}`,
  );
}

export function profileLines(p: NonNullable<BenchReport['profiles']>[number]): string[] {
  const lines = [
    `### ${p.label}`,
    '',
    `\`${p.command}\`: ${p.threads} thread profile(s), ${(p.busyMs / 1000).toFixed(1)} s busy CPU, ` +
      `GC ${((100 * p.gcMs) / Math.max(1, p.busyMs)).toFixed(1)} %, native without JS frame ${((100 * p.programMs) / Math.max(1, p.busyMs)).toFixed(1)} %.`,
    '',
    '| self ms | % | function | where |',
    '|---:|---:|---|---|',
  ];
  for (const f of p.top)
    lines.push(`| ${f.selfMs.toFixed(0)} | ${f.percent.toFixed(1)} | \`${f.name}\` | ${f.location} |`);
  return lines;
}

export function resultsMarkdown(report: BenchReport): string {
  const d = report.dataset;
  const m = report.machine;
  const out: string[] = [
    '# hiksync benchmark results',
    '',
    `Written by the harness (\`bench/run.ts\`) at ${report.endedAt}. Do not edit by hand: run \`npm run bench\` again.`,
    '',
    `Command: \`${report.command}\``,
    '',
    '## Machine',
    '',
    `- ${m.cores} cores (${m.cpuModel}), ${formatSize(m.memoryBytes)} RAM, Node ${m.node}, ${m.kernel}`,
    `- data and outputs on ${m.dataFs}`,
    `- page cache: ${report.cache.statement}`,
    `- CPU used outside the measured processes while they ran (other processes, kernel writeback): median ${(100 * report.outsideCpu.median).toFixed(0)} %, ` +
      `worst ${(100 * report.outsideCpu.max).toFixed(0)} % of the machine` +
      (report.outsideCpu.median > 0.1
        ? '. The machine was not quiet: absolute numbers are noisy; the per-repetition ratios are the steadier figures'
        : '') +
      (report.outsideCpu.repeated
        ? `. ${report.outsideCpu.repeated} tries of wall-time scenarios (copy, hiksync, scaling) were repeated because other load took over 10 % of the machine (up to 2 more tries each, the quietest kept)`
        : ''),
    '',
    '## Data',
    '',
    `- main share: ${d.dir} (${d.reused ? 'reused' : 'built'}; seed ${d.seed}, target ${formatSize(d.size)}): ${d.cameras} cameras, ` +
      `${d.recordings} recordings + ${d.pictures} pictures, ${formatSize(d.sourceBytes)} of source ranges`,
    ...d.description.map((l) => `- ${l}`),
    '',
    'Mix of recording lengths (video, camera clock):',
    '',
    '| length | recordings | bytes |',
    '|---|---:|---:|',
    ...d.lengthMix.map((b) => `| ${b.label} | ${b.count} | ${formatSize(b.bytes)} |`),
    '',
    `## Results (median of ${report.repeat}; order alternated between repetitions)`,
    '',
    ...scenarioTable(report),
    '',
    'MB/s = source bytes (10^6) / wall time of the whole process (start-up and index scan included). ' +
      "CPU s = user + sys of the process and every child it waited for (GNU time). Peak RSS = the larger of GNU time's " +
      "max RSS (one process: hiksync's main thread and worker threads together) and the sampled sum over the process tree " +
      "(ffmpeg-per-segment's concurrent ffmpeg processes). rec/s counts output files (recordings and pictures; ffmpeg: " +
      'successful segments). scan: MB/s is index bytes read per second (rchar), rec/s the recordings listed. ' +
      'rerun: nothing is read or written, only its wall time counts. other CPU s = CPU the whole machine used during ' +
      'the run beyond the measured processes (other work on the machine, kernel writeback of the outputs).',
    '',
    '### Per byte and per core',
    '',
    ...perCoreLines(report),
    '',
    '### Ratios',
    '',
    ...ratioLines(report),
    '',
    '### Targets',
    '',
    ...targetTable(report),
    '',
  ];
  if (report.profiles?.length) {
    out.push(
      '## Where the time goes',
      '',
      'Self time per function (file:line mapped to the TypeScript source), summed over the threads of one profiled run.',
      '',
    );
    for (const p of report.profiles) out.push(...profileLines(p), '');
  }
  if (report.notes.length) out.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
