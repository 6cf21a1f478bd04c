/**
 * The old tools' way (a child process of the harness): for each video recording, copy its byte range to a
 * temporary .ps file, then `ffmpeg -nostdin -y -i tmp -c copy out.mp4`, as many at once as hiksync has workers;
 * each output is fsynced as hiksync fsyncs its own, so the comparison is of the method, not of durability.
 * The ffmpeg processes are children of this process, so GNU time's CPU figures include them and the harness's
 * tree sampler sees their memory. Pictures are not part of this scenario (old tools copy them verbatim).
 *
 *   node dist/bench/ffmpeg-per-segment.js RANGES.json OUTPUT_DIR CONCURRENCY FFMPEG
 *
 * Prints one JSON line: { files, failed, bytes, seconds, firstError? }.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import { copyRange, READ_SIZE } from './copy-baseline.js';
import { readRanges } from './ranges.js';

function runFfmpeg(ffmpeg: string, input: string, output: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      ffmpeg,
      ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', input, '-c', 'copy', '-f', 'mp4', output],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 4000) stderr += b.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** The output is made as durable as hiksync makes its own (old tools skip this; it is not what is compared). */
async function fsyncFile(file: string): Promise<void> {
  const fh = await fs.open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function main(): Promise<void> {
  const [rangesFile, outDir, concurrencyText, ffmpeg] = process.argv.slice(2);
  if (!rangesFile || !outDir || !concurrencyText || !ffmpeg)
    throw new Error('usage: ffmpeg-per-segment RANGES.json OUTPUT_DIR CONCURRENCY FFMPEG');
  const ranges = (await readRanges(rangesFile)).filter((r) => r.kind === 'video');
  const limit = pLimit(Number(concurrencyText));
  const free: Buffer[] = [];
  let bytes = 0;
  let failed = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  for (const cam of new Set(ranges.map((r) => r.camera))) await fs.mkdir(path.join(outDir, cam), { recursive: true });
  await Promise.all(
    ranges.map((r, i) =>
      limit(async () => {
        const out = path.join(outDir, r.camera, `${i}.mp4`);
        const tmp = path.join(outDir, r.camera, `${i}.ps`);
        const buf = free.pop() ?? Buffer.allocUnsafe(READ_SIZE);
        try {
          // The temporary file is deleted right after: no fsync (nor do old tools do one).
          bytes += await copyRange(r, tmp, buf, false);
        } finally {
          free.push(buf);
        }
        const { code, stderr } = await runFfmpeg(ffmpeg, tmp, out);
        await fs.rm(tmp, { force: true });
        if (code !== 0) {
          failed++;
          firstError ??= `exit ${code}: ${stderr.trim().split('\n')[0] ?? ''}`;
        } else {
          await fsyncFile(out);
        }
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(
    JSON.stringify({ files: ranges.length, failed, bytes, seconds, ...(firstError ? { firstError } : {}) }) + '\n',
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`ffmpeg-per-segment: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
