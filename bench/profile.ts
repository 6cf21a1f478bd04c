/**
 * Where hiksync's time goes: run it once under `node --cpu-prof` (the main thread and every worker thread write
 * a .cpuprofile) and sum self time per function over all threads, mapped to TypeScript file:line.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SourceMap } from './source-map.js';

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }>;
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface HotFunction {
  name: string;
  /** repo-relative file:line (TypeScript when a source map resolves it). */
  location: string;
  selfMs: number;
  /** Share of all sampled time across threads, idle excluded. */
  percent: number;
}

export interface ProfileSummary {
  threads: number;
  busyMs: number;
  top: HotFunction[];
  /** Time in GC and in native code without a JS frame, of busyMs. */
  gcMs: number;
  programMs: number;
}

export async function summariseProfiles(dir: string, repoRoot: string, topN = 15): Promise<ProfileSummary> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const self = new Map<string, { name: string; location: string; us: number }>();
  const maps = new Map<string, SourceMap | undefined>();
  let busyUs = 0;
  let gcUs = 0;
  let programUs = 0;
  for (const f of files) {
    const prof = JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as CpuProfile;
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const samples = prof.samples ?? [];
    const deltas = prof.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      // A sample's duration is the gap to the next one (the last gets the mean).
      const us = deltas[i + 1] ?? (prof.endTime - prof.startTime) / Math.max(1, samples.length);
      const node = byId.get(samples[i]!);
      if (!node) continue;
      const { functionName, url, lineNumber, columnNumber } = node.callFrame;
      if (functionName === '(idle)') continue;
      busyUs += us;
      if (functionName === '(garbage collector)') gcUs += us;
      if (functionName === '(program)') programUs += us;
      const location = locate(url, lineNumber, columnNumber, repoRoot, maps);
      const name = functionName || '(anonymous)';
      const key = `${name}@${location}`;
      const entry = self.get(key) ?? { name, location, us: 0 };
      entry.us += us;
      self.set(key, entry);
    }
  }
  const top = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({
      name: e.name,
      location: e.location,
      selfMs: e.us / 1000,
      percent: busyUs ? (100 * e.us) / busyUs : 0,
    }));
  return { threads: files.length, busyMs: busyUs / 1000, top, gcMs: gcUs / 1000, programMs: programUs / 1000 };
}

function locate(
  url: string,
  line: number,
  col: number,
  repoRoot: string,
  maps: Map<string, SourceMap | undefined>,
): string {
  if (!url) return '(native)';
  if (!url.startsWith('file://')) return `${url}:${line + 1}`;
  const file = fileURLToPath(url);
  if (!maps.has(file))
    maps.set(file, file.includes(`${path.sep}node_modules${path.sep}`) ? undefined : SourceMap.load(file));
  const hit = maps.get(file)?.lookup(line, col);
  const where = hit ?? { file, line: line + 1 };
  return `${path.relative(repoRoot, where.file)}:${where.line}`;
}
