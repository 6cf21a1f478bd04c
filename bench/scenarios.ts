/**
 * The scenarios, each a function that prepares its state (outputs deleted, free disk checked, cache warm or
 * cold), runs one measured child process and returns a Sample; and the profiling runs.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Share } from './dataset.js';
import { measure } from './measure.js';
import { summariseProfiles } from './profile.js';
import { cliPath, dataDir, distBench, outRoot, repoRoot, tmpfsOutRoot } from './paths.js';
import type { BenchReport, CacheState, Sample } from './report.js';
import type { ScanProbeResult } from './scan-probe.js';
import {
  clearOutputs,
  firstLine,
  hiksyncSample,
  measuredSample,
  parseJsonOut,
  SCENARIO_TIMEOUT_MS,
  type Scenario,
  type Suite,
  type Unit,
} from './suite.js';
import { requireFree } from './system.js';
import { SCAN_EXTRA_BYTES, SCAN_USED_SLACK } from './targets.js';

export function copyScenario(
  suite: Suite,
  rangesFile: string,
  sourceBytes: number,
  workers: number,
  cache: CacheState,
): Scenario {
  const name = `copy${cache === 'cold' ? ' (cold)' : ''}`;
  return {
    name,
    group: 'copy',
    cache,
    workers,
    data: '1x',
    run: async (): Promise<Sample> => {
      await clearOutputs();
      await requireFree(dataDir, sourceBytes, 'the copy baseline output');
      await suite.prepareCache(cache);
      const m = await measure(
        process.execPath,
        [path.join(distBench, 'copy-baseline.js'), rangesFile, outRoot, String(workers)],
        {
          env: suite.env,
          timeoutMs: SCENARIO_TIMEOUT_MS,
        },
      );
      await clearOutputs();
      if (m.exitCode !== 0)
        return measuredSample(m, { bytes: 0, files: 0, failed: 1 }, {}, `copy failed: ${firstLine(m.stderr)}`);
      const out = parseJsonOut<{ files: number; bytes: number }>(m.stdout);
      return measuredSample(m, { bytes: out.bytes, files: out.files, failed: 0 });
    },
  };
}

export function hiksyncScenario(
  suite: Suite,
  share: Share,
  sourceBytes: number,
  workers: number,
  cache: CacheState,
): Scenario {
  return {
    name: `hiksync x${workers}${cache === 'cold' ? ' (cold)' : ''}`,
    group: 'hiksync',
    cache,
    workers,
    data: '1x',
    run: async (): Promise<Sample> => {
      await clearOutputs();
      await requireFree(dataDir, sourceBytes, 'the hiksync output');
      await suite.prepareCache(cache);
      const m = await suite.hiksync(share.dir, workers);
      await clearOutputs();
      return hiksyncSample(m);
    },
  };
}

/**
 * `hiksync run` with its outputs on a tmpfs: the same share and flags as hiksyncScenario, but no disk write or fsync
 * in the way, so the run is bound by the workers' CPU (the scaling group: x2 / x1 on a CPU-bound share).
 */
export function hiksyncTmpfsScenario(suite: Suite, share: Share, workers: number): Scenario {
  return {
    name: `hiksync x${workers}, outputs on tmpfs`,
    group: 'scaling',
    cache: 'warm',
    workers,
    data: '1x',
    run: async (): Promise<Sample> => {
      await suite.prepareCache('warm');
      const m = await suite.hiksync(share.dir, workers, false, [], tmpfsOutRoot);
      await clearOutputs(tmpfsOutRoot);
      return hiksyncSample(m);
    },
  };
}

export function ffmpegScenario(
  suite: Suite,
  rangesFile: string,
  sourceBytes: number,
  workers: number,
  ffmpeg: string,
): Scenario {
  return {
    name: 'ffmpeg-per-segment',
    group: 'ffmpeg',
    cache: 'warm',
    workers,
    data: '1x',
    run: async (): Promise<Sample> => {
      await clearOutputs();
      await requireFree(dataDir, sourceBytes * 1.2, 'the ffmpeg-per-segment outputs and temporary files');
      await suite.prepareCache('warm');
      const m = await measure(
        process.execPath,
        [path.join(distBench, 'ffmpeg-per-segment.js'), rangesFile, outRoot, String(workers), ffmpeg],
        {
          env: suite.env,
          timeoutMs: SCENARIO_TIMEOUT_MS,
        },
      );
      await clearOutputs();
      if (m.exitCode !== 0)
        return measuredSample(m, { bytes: 0, files: 0, failed: 1 }, {}, `driver failed: ${firstLine(m.stderr)}`);
      const out = parseJsonOut<{ files: number; failed: number; bytes: number; firstError?: string }>(m.stdout);
      return measuredSample(
        m,
        { bytes: out.bytes, files: out.files - out.failed, failed: out.failed },
        { treePeakRssBytes: m.treePeakRssBytes },
        out.firstError ? `ffmpeg failed on ${out.failed} of ${out.files} segments, e.g. ${out.firstError}` : undefined,
      );
    },
  };
}

/** memory 4x and then the re-run on its output: one unit (the re-run needs the first run's manifests). */
export function multiUnit(suite: Suite, multi: Share, sourceBytes: number, factor: number, workers: number): Unit {
  const cams = `${multi.cameras} cameras`;
  const wantMemory = suite.args.only.has('memory');
  const wantRerun = suite.args.only.has('rerun');
  const memory: Scenario = {
    name: `memory ${factor}x`,
    group: 'memory',
    cache: 'warm',
    workers,
    data: `${factor}x (${cams})`,
    run: async (): Promise<Sample> => {
      await clearOutputs();
      await requireFree(dataDir, sourceBytes * factor, `the ${factor}x hiksync output`);
      await suite.prepareCache('warm');
      return hiksyncSample(await suite.hiksync(multi.dir, workers, true));
    },
  };
  const rerun: Scenario = {
    name: 'rerun (nothing new)',
    group: 'rerun',
    cache: 'warm',
    workers,
    data: `${factor}x (${cams})`,
    run: async (): Promise<Sample> => {
      await suite.prepareCache('warm');
      const m = await suite.hiksync(multi.dir, workers, true);
      await clearOutputs();
      const s = hiksyncSample(m);
      if (s.files > 0) s.note = `re-run wrote ${s.files} file(s): expected none`;
      return s;
    },
  };
  if (wantMemory && wantRerun) return [memory, rerun];
  if (wantMemory) return [{ ...memory, run: () => memory.run().finally(clearOutputs) }];
  // Re-run alone: the first pass only makes the output it re-runs on (not a measurement).
  return [{ ...rerun, run: () => memory.run().then(() => rerun.run()) }];
}

export function scanScenario(suite: Suite, sparse: Share): Scenario {
  return {
    name: 'scan',
    group: 'scan',
    cache: 'warm',
    workers: 1,
    data: sparse.label,
    run: async (): Promise<Sample> => {
      await suite.prepareCache('warm');
      const m = await measure(process.execPath, [path.join(distBench, 'scan-probe.js'), sparse.dir], {
        env: suite.env,
        timeoutMs: SCENARIO_TIMEOUT_MS,
      });
      if (m.exitCode !== 0)
        return measuredSample(m, { bytes: 0, files: 0, failed: 1 }, {}, `scan failed: ${firstLine(m.stderr)}`);
      const p = parseJsonOut<ScanProbeResult>(m.stdout);
      const over = p.perDatadir.filter((d) => d.bytesRead > SCAN_USED_SLACK * d.usedBound + SCAN_EXTRA_BYTES);
      const worst = p.perDatadir.reduce((w, d) => Math.max(w, d.usedBound ? d.bytesRead / d.usedBound : 0), 0);
      return measuredSample(
        m,
        { bytes: p.rchar, files: p.recordings, failed: 0 },
        {
          cameras: p.cameras,
          datadirs: p.datadirs,
          scanSeconds: p.seconds,
          rchar: p.rchar,
          reportedBytesRead: p.reportedBytesRead,
          usedBound: p.perDatadir.reduce((n, d) => n + d.usedBound, 0),
          indexBytesOnDisk: p.indexBytesOnDisk,
          datadirsOver: over.length,
          worstReadToUsed: worst,
        },
      );
    },
  };
}

/** Worker CPU per G.711 recording with the audio turned into FLAC, and without audio: the cost of --audio auto. */
export const AUDIO_COST_SCENARIOS = {
  none: 'G.711 cameras, video only',
  auto: 'G.711 cameras, G.711 -> FLAC',
} as const;

/**
 * The worker code (extract(), one thread, one recording after the other) on the G.711 cameras of the main share,
 * with --audio none or auto. The worker's own CPU seconds (extra.workerCpuSec) are what the ratio uses: start-up and
 * module loading are not per recording.
 */
export function audioCostScenario(suite: Suite, share: Share, cameras: string[], mode: 'none' | 'auto'): Scenario {
  return {
    name: AUDIO_COST_SCENARIOS[mode],
    group: 'audio',
    cache: 'warm',
    workers: 1,
    data: `1x, ${cameras.length} G.711 cameras`,
    run: async (): Promise<Sample> => {
      await clearOutputs();
      await suite.prepareCache('warm');
      const m = await measure(
        process.execPath,
        [path.join(distBench, 'extract-probe.js'), share.dir, outRoot, '--audio', mode, '--cameras', cameras.join(',')],
        { env: suite.env, timeoutMs: SCENARIO_TIMEOUT_MS },
      );
      await clearOutputs();
      if (m.exitCode !== 0)
        return measuredSample(m, { bytes: 0, files: 0, failed: 1 }, {}, `extract-probe failed: ${firstLine(m.stderr)}`);
      const out = parseJsonOut<{ files: number; failed: number; bytes: number; cpuSeconds: number }>(m.stdout);
      return measuredSample(
        m,
        { bytes: out.bytes, files: out.files, failed: out.failed },
        { workerCpuSec: out.cpuSeconds },
      );
    },
  };
}

/**
 * Two profiles: the worker code (extract() of every recording, in one thread: Piscina's workers get an empty
 * execArgv, so --cpu-prof cannot reach them) and the main thread of a real run (scan, plan, dispatch, manifest).
 */
export async function profileHiksync(
  suite: Suite,
  main: Share,
  workers: number,
): Promise<NonNullable<BenchReport['profiles']>> {
  const profiles: NonNullable<BenchReport['profiles']> = [];
  const runs: Array<{ label: string; command: string; args: (dir: string) => string[] }> = [
    {
      label: 'worker code: extract() of every recording in one thread (1x, warm)',
      command: 'node --cpu-prof dist/bench/extract-probe.js SHARE OUT',
      args: (dir) => [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        path.join(distBench, 'extract-probe.js'),
        main.dir,
        outRoot,
      ],
    },
    {
      label: `main thread of \`hiksync run --workers ${workers}\` (1x, warm)`,
      command: `node --cpu-prof dist/lib/cli/main.js run --workers ${workers} --input SHARE --output OUT --json --retention-days 0`,
      args: (dir) => [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        cliPath,
        'run',
        '--input',
        main.dir,
        '--output',
        outRoot,
        '--workers',
        String(workers),
        '--json',
        '--retention-days',
        '0',
      ],
    },
  ];
  for (const [i, r] of runs.entries()) {
    const dir = path.join(dataDir, `profile-${i}`);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true });
    await clearOutputs();
    await suite.prepareCache('warm');
    const m = await measure(process.execPath, r.args(dir), { env: suite.env, timeoutMs: SCENARIO_TIMEOUT_MS });
    await clearOutputs();
    if (m.exitCode !== 0 && m.exitCode !== 1) {
      suite.notes.push(`profiling run "${r.label}" failed (exit ${m.exitCode}): ${firstLine(m.stderr)}`);
      continue;
    }
    let label = r.label;
    if (i === 0) {
      const out = parseJsonOut<{ bytes: number; seconds: number; files: number; failed: number }>(m.stdout);
      label += `: ${(out.bytes / 1e6 / out.seconds).toFixed(1)} MB/s with the profiler on, ${out.files} files, ${out.failed} failed`;
    }
    profiles.push({ ...(await summariseProfiles(dir, repoRoot)), label, command: r.command });
  }
  return profiles;
}
