/**
 * Byte sizes as people type them ("2GiB", "300MB", "512m") and as the tables print them.
 */

export class BenchUsageError extends Error {
  readonly code = 'BENCH_USAGE';
  override name = 'BenchUsageError';
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1e3,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1e12,
  tib: 1024 ** 4,
};

/** "10GiB" -> 10737418240. Decimal units (MB, GB) are powers of 10, binary ones (MiB, GiB, bare M/G) of 2. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const factor = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || factor === undefined) throw new BenchUsageError(`cannot read size "${text}": use e.g. 300MB, 2GiB, 10GiB`);
  const bytes = Math.round(Number(m[1]) * factor);
  if (!(bytes > 0)) throw new BenchUsageError(`size must be positive, got "${text}"`);
  return bytes;
}

/** Binary units, as the sizes are chosen: 2.00 GiB, 300 MiB. */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${bytes} B`;
}

/** A compact, file-name-safe label for a size: 2GiB, 300MiB, 1536MiB. */
export function sizeLabel(bytes: number): string {
  if (bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}GiB`;
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}MiB`;
  return `${bytes}B`;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
