/**
 * Where the benchmark finds hiksync and keeps its data (paths of the compiled layout: dist/bench/*.js).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
/** dist/bench: the compiled child programs (copy-baseline.js, ffmpeg-per-segment.js, scan-probe.js ...). */
export const distBench = here;
export const cliPath = path.join(repoRoot, 'dist', 'lib', 'cli', 'main.js');
export const dataDir = path.join(repoRoot, 'bench', 'data');
/** Every scenario writes here; deleted before and after each run. */
export const outRoot = path.join(dataDir, 'out');
/**
 * The 'scaling' scenarios write here instead: a tmpfs (RAM), so no disk write or fsync bounds the run and the
 * workers' CPU is what is measured (issue #12: "x2 / x1 >= 1.8 for a CPU-bound share").
 */
export const tmpfsOutRoot = '/dev/shm/hiksync-bench-out';
export const resultsDir = path.join(repoRoot, 'bench', 'results');
