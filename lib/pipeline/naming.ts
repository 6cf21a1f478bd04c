/**
 * Output names: `<tag>/video/YYYY-MM-DD_HH-MM-SS-<tag>.mp4` and `<tag>/images/YYYY-MM-DD_HH-MM-SS-<tag>.jpg`,
 * camera-local time. A second recording that starts in the same second gets `-<tag>-2`, then `-3` ...
 * (pure: no I/O).
 */
import { compareStart } from '../hikvision/recording.js';
import type { MediaKind, Recording } from '../hikvision/types.js';

export type VideoContainer = 'mp4' | 'mov';

export const VIDEO_FOLDER = 'video';
export const IMAGE_FOLDER = 'images';
/** Suffixes tried for one second before a recording is reported as unnameable (a hard bound, not a real limit). */
export const MAX_SAME_SECOND = 999;

/**
 * The order in which the recordings of one second take its names (plain, -2, -3 ...): start, then id. The planner
 * and naturalNames (manifest rebuild, `scan`) must share it, or a rebuilt manifest would give a name to another
 * recording of that second. Not compareRecordings: its tie-break by location would hand out the names of
 * recordings that start in the same microsecond differently from the names already given.
 */
export function compareNamingOrder(a: Pick<Recording, 'start' | 'id'>, b: Pick<Recording, 'start' | 'id'>): number {
  return compareStart(a, b) || a.id.localeCompare(b.id);
}

export function folderFor(kind: MediaKind): string {
  return kind === 'video' ? VIDEO_FOLDER : IMAGE_FOLDER;
}

export function extensionFor(kind: MediaKind, container: VideoContainer): string {
  return kind === 'video' ? container : 'jpg';
}

/** `YYYY-MM-DD_HH-MM-SS` of camera-local seconds (UTC getters: the seconds already are local wall-clock time). */
export function formatStamp(sec: number): string {
  const d = new Date(sec * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}_` +
    `${p(d.getUTCHours())}-${p(d.getUTCMinutes())}-${p(d.getUTCSeconds())}`
  );
}

/** File name (no folder) for the n-th recording (n >= 1) of a camera that starts in that second. */
export function fileName(tag: string, sec: number, ext: string, n = 1): string {
  return `${formatStamp(sec)}-${tag}${n > 1 ? `-${n}` : ''}.${ext}`;
}

/** Output path relative to the output root, forward slashes. */
export function outputPath(tag: string, kind: MediaKind, file: string): string {
  return `${tag}/${folderFor(kind)}/${file}`;
}

const NAME_RE = /^(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})-(.+?)(?:-(\d+))?\.(mp4|mov|jpg)$/;

export interface ParsedName {
  sec: number;
  tag: string;
  n: number;
  ext: string;
}

/** Inverse of fileName(); null for names hiksync does not produce. */
export function parseFileName(name: string, tag: string): ParsedName | null {
  const m = NAME_RE.exec(name);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, t, n, ext] = m;
  // A tag may itself end in "-<digits>": accept only the split that gives back this camera's tag.
  let parsedTag = t!;
  let index = n === undefined ? 1 : Number(n);
  if (parsedTag !== tag && `${parsedTag}-${n}` === tag) {
    parsedTag = tag;
    index = 1;
  }
  if (parsedTag !== tag || index < 1) return null;
  const sec = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!) / 1000;
  if (!Number.isFinite(sec) || fileName(tag, sec, ext!, index) !== name) return null;
  return { sec, tag, n: index, ext: ext! };
}

/** The name each recording gets when nothing else is in the way: plain, -2, -3 ... by start order. */
export function naturalNames(
  tag: string,
  recordings: readonly Recording[],
  container: VideoContainer,
): Map<string, Recording> {
  const byName = new Map<string, Recording>();
  const ordered = [...recordings].sort(compareNamingOrder);
  const perSecond = new Map<string, number>();
  for (const r of ordered) {
    const key = `${r.kind}:${r.start.sec}`;
    const n = (perSecond.get(key) ?? 0) + 1;
    perSecond.set(key, n);
    byName.set(outputPath(tag, r.kind, fileName(tag, r.start.sec, extensionFor(r.kind, container), n)), r);
  }
  return byName;
}
