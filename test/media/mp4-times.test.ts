import test from 'ava';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { setMp4Times } from '../../lib/media/mp4-times.js';
import { mp4StructureProblem } from '../../lib/media/probe.js';
import { decodeErrors, ffmpeg, ffprobe } from '../helpers/media-tools.js';
import { tempDir } from './test-streams.js';

const tmp = tempDir();
test.after.always(() => tmp.cleanup());

for (const container of ['mp4', 'mov'] as const) {
  test(`the movie's and every track's creation time become the recording's start (${container})`, async (t) => {
    const file = path.join(tmp.dir, `clip.${container}`);
    // Video and audio: two tracks, so tkhd and mdhd are set for each.
    await ffmpeg(
      ...['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10', '-f', 'lavfi'],
      ...['-i', 'sine=frequency=440:sample_rate=8000', '-t', '1', '-c:v', 'libx264', '-c:a', 'aac', file],
    );
    const size = statSync(file).size;
    const start = new Date(Date.UTC(2024, 4, 1, 8, 31, 18));
    t.is(await setMp4Times(file, start), 5, 'mvhd + 2 x (tkhd + mdhd)');
    const probe = await ffprobe('-show_entries', 'format_tags=creation_time:stream_tags=creation_time', file);
    t.is(probe.format?.tags?.creation_time, '2024-05-01T08:31:18.000000Z');
    t.deepEqual(
      probe.streams.map((s) => s.tags?.creation_time),
      ['2024-05-01T08:31:18.000000Z', '2024-05-01T08:31:18.000000Z'],
    );
    t.is(statSync(file).size, size, 'sizes unchanged');
    t.is(await mp4StructureProblem(file), null);
    t.is(await decodeErrors(file), '');
  });
}

test('a file without moov is refused, not patched', async (t) => {
  const file = path.join(tmp.dir, 'raw.jpg');
  await ffmpeg('-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-frames:v', '1', file);
  await t.throwsAsync(setMp4Times(file, new Date()), { message: /no moov box/ });
});
