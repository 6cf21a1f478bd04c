/**
 * Throughput check of remuxRange (not a test): `npx tsx test/media/_perf-remux.ts [MB]`.
 * Builds a ~80 MB PS from a noisy 640x360 stream (2.5 Mbit/s, AAC audio), remuxes it a few times and prints
 * MB/s and peak RSS. Single-threaded, file in the OS cache, output to the temp dir.
 */
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { remuxRange } from '../../lib/media/remux.js';
import { adtsPackets, makeAac, makeAnnexB, readFrames, tempDir } from './test-streams.js';
import { PsMuxer } from '../../tools/synthetic/ps-writer.js';

const targetMb = Number(process.argv[2] ?? 80);
const tmp = tempDir();
try {
  const aac = adtsPackets(await makeAac(tmp.dir), 0);
  for (const codec of ['h264', 'h265'] as const) {
    const frames = await readFrames(await makeAnnexB(tmp.dir, codec, { size: '640x360', noise: true }), codec, 0);
    const gopBytes = frames.reduce((n, f) => n + f.data.length, 0);
    const reps = Math.ceil((targetMb * 1024 * 1024) / gopBytes);
    // Written GOP by GOP so the measured RSS is the remux's, not this script's copy of the input.
    const source = path.join(tmp.dir, `big-${codec}.ps`);
    writeFileSync(source, Buffer.alloc(0));
    for (let r = 0; r < reps; r++) {
      const base = 900000 + r * 50 * 3600;
      const mux = new PsMuxer({ video: codec, audio: 'aac', maxPesPayload: 8000 });
      const audio = aac.slice(0, 31).map((a, i) => ({ ...a, pts: base + Math.round((i * 1024 * 90000) / 16000) }));
      appendFileSync(
        source,
        mux.annexBStream(
          frames.map((f, i) => ({ ...f, pts: base + i * 3600 })),
          { audio },
        ),
      );
    }
    const ps = { length: statSync(source).size };
    let best = 0;
    global.gc?.();
    let peakRss = process.memoryUsage().rss;
    console.log(`${codec}: RSS before ${(peakRss / 1048576).toFixed(0)} MiB`);
    const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    for (let run = 0; run < 3; run++) {
      const output = path.join(tmp.dir, `big-${codec}.mp4`);
      const t0 = process.hrtime.bigint();
      const r = await remuxRange({ source, startOffset: 0, endOffset: ps.length, output });
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      const mbps = ps.length / 1024 / 1024 / sec;
      best = Math.max(best, mbps);
      console.log(
        `${codec} run ${run}: ${(ps.length / 1048576).toFixed(1)} MiB in ${sec.toFixed(2)} s = ${mbps.toFixed(0)} MiB/s, ` +
          `${r.frames} frames, audio ${r.audioKept}, out ${(statSync(output).size / 1048576).toFixed(1)} MiB`,
      );
    }
    clearInterval(timer);
    console.log(`${codec}: best ${best.toFixed(0)} MiB/s, peak RSS ${(peakRss / 1048576).toFixed(0)} MiB`);
  }
} finally {
  tmp.cleanup();
}
