/**
 * The physical baseline (a child process of the harness): copy exactly the byte ranges hiksync reads, with
 * nothing parsed, the way hiksync writes: the same number of files in flight, 1 MiB reads, a temporary file
 * in the output folder, fsync before the rename.
 *
 *   node dist/bench/copy-baseline.js RANGES.json OUTPUT_DIR CONCURRENCY
 *
 * Prints one JSON line: { files, bytes, seconds }.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import { readRanges, type ByteRange } from './ranges.js';

export const READ_SIZE = 1024 * 1024;

/** Copy one range to `output` through a temporary name; `fsync` before the rename as hiksync does. */
export async function copyRange(r: ByteRange, output: string, buf: Buffer, fsync = true): Promise<number> {
  const tmp = path.join(path.dirname(output), `.${path.basename(output)}.partial`);
  const src = await fs.open(r.source, 'r');
  try {
    const dst = await fs.open(tmp, 'wx');
    try {
      let pos = r.startOffset;
      while (pos < r.endOffset) {
        const want = Math.min(buf.length, r.endOffset - pos);
        const { bytesRead } = await src.read(buf, 0, want, pos);
        if (bytesRead === 0) throw new Error(`${r.source} ends at ${pos}, before ${r.endOffset}`);
        await dst.write(buf, 0, bytesRead);
        pos += bytesRead;
      }
      if (fsync) await dst.sync();
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
  await fs.rename(tmp, output);
  return r.endOffset - r.startOffset;
}

async function main(): Promise<void> {
  const [rangesFile, outDir, concurrencyText] = process.argv.slice(2);
  if (!rangesFile || !outDir || !concurrencyText)
    throw new Error('usage: copy-baseline RANGES.json OUTPUT_DIR CONCURRENCY');
  const ranges = await readRanges(rangesFile);
  const limit = pLimit(Number(concurrencyText));
  // One read buffer per slot in flight, as a worker owns its buffer.
  const free: Buffer[] = [];
  const t0 = performance.now();
  let bytes = 0;
  const dirs = new Set(ranges.map((r) => path.join(outDir, r.camera, r.kind)));
  for (const d of dirs) await fs.mkdir(d, { recursive: true });
  await Promise.all(
    ranges.map((r, i) =>
      limit(async () => {
        const buf = free.pop() ?? Buffer.allocUnsafe(READ_SIZE);
        try {
          bytes += await copyRange(
            r,
            path.join(outDir, r.camera, r.kind, `${i}.${r.kind === 'video' ? 'ps' : 'jpg'}`),
            buf,
          );
        } finally {
          free.push(buf);
        }
      }),
    ),
  );
  process.stdout.write(
    JSON.stringify({ files: ranges.length, bytes, seconds: (performance.now() - t0) / 1000 }) + '\n',
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`copy-baseline: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
