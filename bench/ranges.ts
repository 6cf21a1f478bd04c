/**
 * The work list every scenario shares: the byte ranges hiksync's own scan finds (`hiksync scan --json`), so the
 * baselines read exactly the bytes hiksync reads.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';

export interface ByteRange {
  camera: string;
  kind: 'video' | 'picture';
  source: string;
  startOffset: number;
  endOffset: number;
  /** Recording length in seconds (camera clock), 0 for pictures. */
  seconds: number;
}

interface ScanJson {
  cameras: Array<{
    camera: string;
    recordings: Array<{
      kind: string;
      source: string;
      startOffset: number;
      endOffset: number;
      start: { sec: number; usec: number };
      end: { sec: number; usec: number };
    }>;
  }>;
}

export function scanRanges(cliPath: string, inputDir: string): ByteRange[] {
  const out = execFileSync(process.execPath, [cliPath, 'scan', '--input', inputDir, '--json'], {
    encoding: 'utf8',
    maxBuffer: 1024 ** 3,
  });
  const parsed = JSON.parse(out) as ScanJson;
  const ranges: ByteRange[] = [];
  for (const cam of parsed.cameras) {
    for (const r of cam.recordings) {
      const kind = r.kind === 'picture' ? 'picture' : 'video';
      ranges.push({
        camera: cam.camera,
        kind,
        source: r.source,
        startOffset: r.startOffset,
        endOffset: r.endOffset,
        seconds: kind === 'video' ? r.end.sec - r.start.sec + (r.end.usec - r.start.usec) / 1e6 : 0,
      });
    }
  }
  return ranges;
}

export function totalBytes(ranges: readonly ByteRange[]): number {
  return ranges.reduce((n, r) => n + (r.endOffset - r.startOffset), 0);
}

export async function writeRanges(file: string, ranges: readonly ByteRange[]): Promise<void> {
  await fs.writeFile(file, JSON.stringify(ranges));
}

export async function readRanges(file: string): Promise<ByteRange[]> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as ByteRange[];
}

/** The stated mix of recording lengths: how many video recordings fall in each bucket, and their share of bytes. */
export interface LengthBucket {
  label: string;
  count: number;
  bytes: number;
}

const BUCKETS: Array<[string, number]> = [
  ['< 10 s', 10],
  ['10-60 s', 60],
  ['1-5 min', 300],
  ['5-15 min', 900],
  ['>= 15 min', Infinity],
];

export function lengthMix(ranges: readonly ByteRange[]): LengthBucket[] {
  const buckets = BUCKETS.map(([label]) => ({ label, count: 0, bytes: 0 }));
  for (const r of ranges) {
    if (r.kind !== 'video') continue;
    const i = BUCKETS.findIndex(([, max]) => r.seconds < max);
    buckets[i]!.count++;
    buckets[i]!.bytes += r.endOffset - r.startOffset;
  }
  return buckets;
}
