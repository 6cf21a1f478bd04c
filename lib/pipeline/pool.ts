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
  });
  return {
    threads,
    run: (task, signal) => piscina.run(task, signal ? { signal } : {}),
    destroy: () => piscina.destroy(),
  };
}
