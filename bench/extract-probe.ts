/**
 * What one hiksync worker does, in one thread, so `node --cpu-prof` can see it: Piscina starts its workers with
 * an explicit (empty) execArgv, so profiling flags never reach them. This runs the same extract() a worker runs
 * (remux/copy, recheck, fsync, rename), one recording after the other, on every recording of INPUT.
 *
 *   node --cpu-prof dist/bench/extract-probe.js INPUT OUTPUT [--audio auto|copy|none] [--cameras NAME,NAME]
 *
 * --audio is the worker's audio mode (default auto); --cameras limits it to those camera folders (the audio-cost
 * scenario: the G.711 cameras only). Prints one JSON line: { files, failed, bytes, seconds, cpuSeconds }, cpuSeconds
 * being this thread's user + system CPU over the extractions (module loading and start-up excluded).
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { discoverCameras, scanCamera } from '../lib/hikvision/source.js';
import { parseArgs } from 'node:util';
import { extract } from '../workers/extract.js';
import type { AudioMode, ExtractTask } from '../lib/pipeline/task.js';
import { DEFAULT_SHARE_TIMEOUT_MS } from '../lib/share-io.js';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    options: { audio: { type: 'string', default: 'auto' }, cameras: { type: 'string' } },
    allowPositionals: true,
  });
  const [input, output] = positionals;
  if (!input || !output) throw new Error('usage: extract-probe INPUT OUTPUT [--audio MODE] [--cameras A,B]');
  const audio = values.audio as AudioMode;
  if (!['auto', 'copy', 'none'].includes(audio)) throw new Error(`--audio: auto, copy or none, got ${audio}`);
  const only = values.cameras ? new Set(values.cameras.split(',')) : undefined;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let files = 0;
  let failed = 0;
  let bytes = 0;
  let firstError: string | undefined;
  for (const cam of await discoverCameras(input)) {
    if (only && !only.has(cam.name)) continue;
    const scan = await scanCamera(cam);
    for (const [i, rec] of scan.recordings.entries()) {
      const outputAbs = path.join(output, cam.name, `${i}.${rec.kind === 'video' ? 'mp4' : 'jpg'}`);
      const task: ExtractTask = {
        recording: rec,
        outputAbs,
        tempAbs: path.join(path.dirname(outputAbs), `.${path.basename(outputAbs)}.partial`),
        container: 'mp4',
        audio,
        mtimeMs: Date.now(),
        mode: 'create',
        fsync: true,
        marker: `hiksync:${rec.id}`,
        shareTimeoutMs: DEFAULT_SHARE_TIMEOUT_MS,
      };
      const r = await extract(task);
      bytes += r.bytesRead;
      if (r.status === 'failed') {
        failed++;
        firstError ??= `${r.reason}: ${r.message}`;
      } else {
        files++;
      }
    }
  }
  process.stdout.write(
    JSON.stringify({
      files,
      failed,
      bytes,
      seconds: (performance.now() - t0) / 1000,
      cpuSeconds: ((c) => (c.user + c.system) / 1e6)(process.cpuUsage(cpu0)),
      ...(firstError ? { firstError } : {}),
    }) + '\n',
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`extract-probe: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
