import test from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { remuxRange, type RemuxOptions } from '../../lib/media/remux.js';
import { PsMuxer, type AnnexBFrame, type AnnexBLayout, type PsMuxOptions } from '../../tools/synthetic/ps-writer.js';
import { ffmpeg, ffprobe, frameMd5 } from '../helpers/media-tools.js';
import {
  adtsPackets,
  alawPackets,
  makeAac,
  makeAlaw,
  makeAnnexB,
  readFrames,
  tempDir,
  type Codec,
} from './test-streams.js';

const tmp = tempDir();
test.after.always(() => tmp.cleanup());
const FIRST_PTS = 900000;

/** `make()` at most once per test file (the streams are made with ffmpeg). */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}
const sources = {
  h264: once(async () => {
    const file = await makeAnnexB(tmp.dir, 'h264');
    return { file, frames: await readFrames(file, 'h264', FIRST_PTS) };
  }),
  h265: once(async () => {
    const file = await makeAnnexB(tmp.dir, 'h265');
    return { file, frames: await readFrames(file, 'h265', FIRST_PTS) };
  }),
};
const source = (codec: Codec) => sources[codec]();
const aacFile = once(() => makeAac(tmp.dir));
const alawFile = once(() => makeAlaw(tmp.dir));

/** A program stream of `frames` as the synthetic camera writes it: PES of at most 4096 bytes, no audio by default. */
function buildPs(
  frames: AnnexBFrame[],
  mux: Partial<PsMuxOptions> & Pick<PsMuxOptions, 'video'>,
  layout: AnnexBLayout = {},
): Buffer {
  return new PsMuxer({ audio: 'none', maxPesPayload: 4096, ...mux }).annexBStream(frames, layout);
}

let n = 0;
function writePs(bytes: Buffer): string {
  const file = path.join(tmp.dir, `in-${n++}.ps`);
  writeFileSync(file, bytes);
  return file;
}
const outPath = (ext = 'mp4') => path.join(tmp.dir, `out-${n++}.${ext}`);

async function remux(ps: Buffer, extra: Partial<RemuxOptions> = {}) {
  const source = writePs(ps);
  const output = outPath(extra.container ?? 'mp4');
  const result = await remuxRange({ source, startOffset: 0, endOffset: ps.length, output, ...extra });
  return { result, output };
}

for (const codec of ['h264', 'h265'] as const) {
  test(`${codec}: PS with AAC -> MP4 with every frame bit-exact, AAC kept`, async (t) => {
    const src = await source(codec);
    const audio = adtsPackets(await aacFile(), FIRST_PTS);
    // PES cut 3 bytes before each frame start, private and padding packets after every frame.
    const mux = { video: codec, audio: 'aac', maxPesPayload: 900, privateEvery: 1, paddingEvery: 1 } as const;
    const ps = buildPs(src.frames, mux, { cut: 'shifted', shift: 3, audio });
    const { result, output } = await remux(ps, { marker: 'hiksync:rec-1' });

    t.is(result.videoCodec, codec);
    t.is(result.width, 160);
    t.is(result.height, 120);
    t.is(result.frames, 50, 'every frame of a closed segment, the last one included');
    t.is(result.audioCodec, 'aac');
    t.true(result.audioKept);
    t.is(result.audioDropReason, undefined);

    const probe = await ffprobe('-count_frames', '-show_streams', '-show_format', output);
    t.regex(probe.format?.format_name ?? '', /mp4/);
    t.is(probe.format?.tags?.comment, 'hiksync:rec-1');
    const v = probe.streams.find((s) => s.codec_type === 'video');
    t.is(v?.codec_name, codec === 'h264' ? 'h264' : 'hevc');
    t.is(v?.codec_tag_string, codec === 'h264' ? 'avc1' : 'hvc1');
    t.is(Number(v?.nb_read_frames), 50);
    t.true(Math.abs(Number(v?.duration) - 50 / 25) < 0.03, `video duration ${v?.duration}`);
    t.true(Math.abs(result.durationSec - 50 / 25) < 0.001);
    const a = probe.streams.find((s) => s.codec_type === 'audio');
    t.is(a?.codec_name, 'aac');
    t.is(Number(a?.sample_rate), 16000);

    const { stderr } = await ffmpeg('-v', 'error', '-i', output, '-f', 'null', '-');
    t.is(stderr, '', 'ffmpeg decodes the output without a single error');
    const got = await frameMd5(output);
    const want = await frameMd5(src.file, ['-f', codec === 'h264' ? 'h264' : 'hevc']);
    t.deepEqual(got, want);
  });
}

// Changed with --audio: by default (auto) G.711 goes into MP4 as FLAC (test/media/remux-audio.test.ts); --audio copy
// keeps the old behaviour tested here.
test('--audio copy: G.711 A-law is dropped from MP4 (with a reason) and kept in MOV', async (t) => {
  const src = await source('h264');
  const audio = alawPackets(await alawFile(), FIRST_PTS);
  const ps = buildPs(src.frames, { video: 'h264', audio: 'alaw' }, { audio });

  const mp4 = await remux(ps, { audio: 'copy' });
  t.is(mp4.result.audioCodec, 'alaw');
  t.false(mp4.result.audioKept);
  t.regex(mp4.result.audioDropReason ?? '', /MP4/);
  const p1 = await ffprobe('-show_streams', mp4.output);
  t.deepEqual(
    p1.streams.map((s) => s.codec_type),
    ['video'],
  );

  const mov = await remux(ps, { container: 'mov' });
  t.true(mov.result.audioKept);
  const p2 = await ffprobe('-show_streams', '-show_format', mov.output);
  t.regex(p2.format?.format_name ?? '', /mov/);
  const a = p2.streams.find((s) => s.codec_type === 'audio');
  t.is(a?.codec_name, 'pcm_alaw');
  t.is(Number(a?.sample_rate), 8000);
  t.true(Math.abs(Number(a?.duration) - 2) < 0.1, `alaw duration ${a?.duration}`);
  const { stderr } = await ffmpeg('-v', 'error', '-i', mov.output, '-f', 'null', '-');
  t.is(stderr, '');
});

test('a range in the middle of a file: starts at its pack header, ends where the index says', async (t) => {
  const src = await source('h265');
  const first = buildPs(src.frames.slice(0, 25), { video: 'h265' });
  const second = buildPs(src.frames.slice(25), { video: 'h265' });
  const tail = Buffer.alloc(5000, 0x33);
  const file = writePs(Buffer.concat([first, second, tail]));
  const output = outPath();
  const r = await remuxRange({
    source: file,
    startOffset: first.length,
    endOffset: first.length + second.length,
    output,
  });
  t.is(r.frames, 25);
  t.is(r.bytesRead, second.length);
  t.deepEqual(await frameMd5(output), (await frameMd5(src.file, ['-f', 'hevc'])).slice(25, 50));
});

test('a range cut inside the last PES drops the cut frame and keeps the rest bit-exact', async (t) => {
  const src = await source('h264');
  const ps = buildPs(src.frames, { video: 'h264' });
  const file = writePs(ps);
  const output = outPath();
  const r = await remuxRange({ source: file, startOffset: 0, endOffset: ps.length - 7, output });
  t.is(r.frames, 49);
  t.deepEqual(await frameMd5(output), (await frameMd5(src.file, ['-f', 'h264'])).slice(0, 49));
});

test('PTS wrapping at 2^33 inside the range gives a continuous timeline', async (t) => {
  const src = await source('h264');
  const frames = src.frames.map((f, i) => ({ ...f, pts: (2 ** 33 - 20 * 3600 + i * 3600) % 2 ** 33 }));
  const { result, output } = await remux(buildPs(frames, { video: 'h264' }));
  t.is(result.frames, 50);
  const probe = await ffprobe('-show_entries', 'packet=pts_time', output);
  const times = probe.packets.map((p) => Number(p.pts_time));
  times.forEach((x, i) => t.true(Math.abs(x - i * 0.04) < 1e-3, `frame ${i} at ${x}`));
});

test('a clock jump inside the range continues the timeline at the frame rate', async (t) => {
  const src = await source('h264');
  const frames = src.frames.map((f, i) => ({ ...f, pts: FIRST_PTS + i * 3600 + (i >= 30 ? 90000 * 3600 : 0) }));
  const { result } = await remux(buildPs(frames, { video: 'h264' }));
  t.is(result.frames, 50);
  t.true(Math.abs(result.durationSec - 2.0) < 0.001);
});

test('named errors: bad content, truncated source, no video, unsupported codec; nothing left behind', async (t) => {
  const src = await source('h264');
  const ps = buildPs(src.frames, { video: 'h264' });

  const garbage = writePs(Buffer.concat([Buffer.alloc(100, 7), ps]));
  const o1 = outPath();
  await t.throwsAsync(remuxRange({ source: garbage, startOffset: 0, endOffset: ps.length, output: o1 }), {
    name: 'BadContentError',
    code: 'bad-content',
  });
  t.false(existsSync(o1));

  const file = writePs(ps);
  const o2 = outPath();
  await t.throwsAsync(remuxRange({ source: file, startOffset: 0, endOffset: ps.length + 1, output: o2 }), {
    name: 'TruncatedSourceError',
  });
  t.false(existsSync(o2));

  const noKey = buildPs(src.frames.slice(1, 25), { video: 'h264' });
  const o3 = outPath();
  await t.throwsAsync(remuxRange({ source: writePs(noKey), startOffset: 0, endOffset: noKey.length, output: o3 }), {
    name: 'NoVideoError',
  });
  t.false(existsSync(o3));

  const mpeg4 = buildPs(src.frames, { video: 'h264', videoStreamType: 0x10 }); // declared MPEG-4 Visual
  const o4 = outPath();
  await t.throwsAsync(remuxRange({ source: writePs(mpeg4), startOffset: 0, endOffset: mpeg4.length, output: o4 }), {
    name: 'UnsupportedCodecError',
  });
  t.false(existsSync(o4));

  await t.throwsAsync(
    remuxRange({ source: file, startOffset: 0, endOffset: ps.length, output: outPath(), chunkSize: 1000 }),
    { instanceOf: RangeError },
  );
});

test('an abort mid-way closes and deletes the output', async (t) => {
  const src = await source('h264');
  // Big enough for several 1 MiB reads: the same GOPs repeated with increasing PTS.
  const parts: Buffer[] = [];
  for (let r = 0; r < 60; r++) {
    parts.push(
      buildPs(
        src.frames.map((f, i) => ({ ...f, pts: FIRST_PTS + (r * 50 + i) * 3600 })),
        { video: 'h264' },
      ),
    );
  }
  const ps = Buffer.concat(parts);
  const file = writePs(ps);
  const output = outPath();
  const ac = new AbortController();
  const p = remuxRange({
    source: file,
    startOffset: 0,
    endOffset: ps.length,
    output,
    chunkSize: 1024 * 1024,
    signal: ac.signal,
  });
  setImmediate(() => ac.abort());
  await t.throwsAsync(p, { name: 'AbortError' });
  t.false(existsSync(output));

  const ok = await remuxRange({ source: file, startOffset: 0, endOffset: ps.length, output, chunkSize: 1024 * 1024 });
  t.is(ok.frames, 60 * 50);
  t.true(Math.abs(ok.durationSec - (60 * 50) / 25) < 0.001);
});
