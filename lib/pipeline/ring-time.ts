/**
 * How long a camera takes to fill one hiv file: its listed video time span divided by the hiv files that span
 * uses. A backfill slower than that loses its oldest recordings to the ring before it copies them (pure).
 */
import type { Recording } from '../hikvision/types.js';

export function secondsPerHivFile(recordings: readonly Recording[], nowCameraSec: number): number | undefined {
  let first = Infinity;
  let last = -Infinity;
  const files = new Set<string>();
  for (const r of recordings) {
    if (r.kind !== 'video') continue;
    first = Math.min(first, r.start.sec);
    last = Math.max(last, r.end.sec);
    files.add(`${r.datadir}/${r.fileNo}`);
  }
  const span = Math.min(nowCameraSec, last) - first;
  if (files.size < 2 || !(span > 0)) return undefined;
  return span / files.size;
}
