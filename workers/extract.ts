/**
 * Piscina worker entry: one task = one output file. All logic lives in lib/pipeline/extract.ts so it can be
 * tested in-process; this file only adapts it to Piscina's calling convention.
 */
import { extract } from '../lib/pipeline/extract.js';
import type { ExtractResult, ExtractTask } from '../lib/pipeline/task.js';

export default function extractTask(task: ExtractTask): Promise<ExtractResult> {
  return extract(task);
}
