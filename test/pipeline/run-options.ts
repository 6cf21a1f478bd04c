/**
 * RunOptions for the pass tests: a dry run of one worker without retention, every field set, `over` on top.
 */
import * as path from 'node:path';
import type { RunOptions } from '../../lib/pipeline/run-pass.js';

export function dryRunOptions(input: string, output: string, over: Partial<RunOptions> = {}): RunOptions {
  return {
    inputDir: input,
    outputDir: output,
    stateDir: path.join(output, '.hiksync'),
    cameraTranslation: new Map([['Nope', 'x']]),
    workers: 1,
    ioConcurrency: 2,
    cameraTz: 'UTC',
    shard: { index: 0, count: 1 },
    container: 'mp4',
    maxAttempts: 3,
    retentionDays: 0,
    retentionMaxShare: 0.5,
    cameras: [],
    kinds: { video: true, picture: true },
    dryRun: true,
    adoptExisting: false,
    fsync: false,
    retention: false,
    retentionForce: false,
    shareTimeoutMs: 60_000,
    ...over,
  };
}
