/**
 * Sharding: several hiksync processes (a Kubernetes Indexed Job, or containers side by side) split the cameras
 * between them. A camera belongs to exactly one shard, decided by a stable hash of its folder name alone, so adding
 * or removing a camera never moves the others (their manifests, status and lock stay with the same shard).
 */
import { createHash } from 'node:crypto';

export interface Shard {
  /** 0-based, like Kubernetes' JOB_COMPLETION_INDEX. */
  index: number;
  count: number;
}

/** More shards than this is a typo, not a deployment. */
export const MAX_SHARDS = 1000;

/** The shard (0..count-1) that owns a camera folder: first 4 bytes of sha1(name) as an unsigned int, mod count. */
export function shardOf(cameraFolderName: string, count: number): number {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`shard count must be a positive integer, got ${count}`);
  if (count === 1) return 0;
  const digest = createHash('sha1').update(cameraFolderName, 'utf8').digest();
  return digest.readUInt32BE(0) % count;
}

/**
 * Parses "K/N" (0 <= K < N <= MAX_SHARDS, K counted from 0). Returns the reason as a string on failure so the
 * caller can name the setting it came from in its one-line message.
 */
export function parseShard(text: string): Shard | { error: string } {
  const m = /^\s*(\d{1,4})\s*\/\s*(\d{1,4})\s*$/.exec(text);
  if (!m) return { error: 'expected K/N, e.g. 0/3 (shard K of N, K counted from 0)' };
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) return { error: `N must be 1..${MAX_SHARDS}` };
  if (index >= count) return { error: `K must be 0..${count - 1} (K counts from 0, like JOB_COMPLETION_INDEX)` };
  return { index, count };
}

/** File-name suffix for per-shard state: '' when not sharded, else "-shard-K-of-N". */
export function shardSuffix(shard: Shard): string {
  return shard.count > 1 ? `-shard-${shard.index}-of-${shard.count}` : '';
}
