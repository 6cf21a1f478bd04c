/**
 * The Piscina worker pool that runs extract tasks. Workers load compiled JS (dist/workers/extract.js); when the
 * sources run through tsx (tests), the TypeScript worker is loaded with tsx's loader instead.
 */
import * as os from 'node:os';
import { Piscina } from 'piscina';
import type { ExtractResult, ExtractTask } from './task.js';

export interface ExtractPool {
  run(task: ExtractTask, signal?: AbortSignal): Promise<ExtractResult>;
  readonly threads: number;
  destroy(): Promise<void>;
}

function workerFile(): { filename: string; execArgv?: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`../../workers/extract.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  // Compiled: workers inherit the process's flags (so `node --cpu-prof` profiles them too).
  return fromSource ? { filename: url.href, execArgv: ['--import', 'tsx'] } : { filename: url.href };
}

/**
 * Young generation of each worker's V8 heap (3 MB = 1 MB semi-spaces; V8's default lets them grow to 16 MB each).
 * A worker's live JS set is small (a remux keeps its bytes in reused buffers, its tables in typed arrays), so a large
 * young generation only holds garbage longer: measured on the 2 GiB bench share, peak RSS at 2 workers 163-164 MB
 * against 172-177 MB, with 3.7 x more scavenges of a third the size each and no measurable change in GC pause time
 * or worker CPU (bench/ANALYSIS.md, issue #12).
 */
export const WORKER_YOUNG_GENERATION_MB = 3;

export function createPool(threads: number): ExtractPool {
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`workers must be a positive integer, got ${threads}`);
  const { filename, execArgv } = workerFile();
  const piscina = new Piscina<ExtractTask, ExtractResult>({
    filename,
    ...(execArgv ? { execArgv } : {}),
    minThreads: Math.min(threads, os.availableParallelism()),
    maxThreads: threads,
    // Each worker handles one file at a time: its memory stays bounded by one remux.
    concurrentTasksPerWorker: 1,
    idleTimeout: 30_000,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  return {
    threads,
    run: (task, signal) => piscina.run(task, signal ? { signal } : {}),
    destroy: () => piscina.destroy(),
  };
}
