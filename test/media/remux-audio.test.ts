/**
 * Every audio codec a Hikvision program stream carries, through remuxRange into MP4: AAC and MP3 copied; G.711
 * A-law / mu-law, G.726, G.722.1, MP2 and 16-bit PCM decoded and encoded to FLAC (--audio auto). Per codec: the track
 * is there, in the expected codec, as long as the video within one audio frame (one FLAC block), and its decode
 * matches ffmpeg's decode of the source elementary stream: sample for sample where the decoder is exact (FLAC is
 * lossless), by correlation for AAC, MP3 and MP2. G.722.1 (no decoder in the npm ffmpeg): the track equals our
 * decoder's decode of the source (held to FFmpeg's siren in g7221-decoder.test.ts) and correlates with the signal.
 * Plus the --audio modes and a 10-minute recording for drift.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { G7221Decoder } from '../../lib/media/audio/g7221-decoder.js';
import { remuxRange, type RemuxOptions } from '../../lib/media/remux.js';
import type { AudioCodec } from '../../tools/synthetic/audio-frames.js';
import { fixturesDir, loadAudioFixture, loadVideoFixture } from '../../tools/synthetic/fixtures.js';
import { PsMuxer, type AnnexBFrame, type AudioPacket } from '../../tools/synthetic/ps-writer.js';
import { ffmpeg, ffprobe } from '../helpers/media-tools.js';
import { bestCorrelation, ffmpegDecode, speech16 } from './audio/ffmpeg-pcm.js';
import { tempDir } from './test-streams.js';

const tmp = tempDir();
test.after.always(() => tmp.cleanup());
const FIRST_PTS = 900000;
const START_CODE = Buffer.from([0, 0, 0, 1]);

/** ffmpeg's demuxer arguments for each source elementary stream (the reference decode). */
const SOURCE_FORMAT: Record<AudioCodec, string[]> = {
  aac: ['-f', 'aac'],
  alaw: ['-f', 'alaw', '-ar', '8000', '-ac', '1'],
  ulaw: ['-f', 'mulaw', '-ar', '8000', '-ac', '1'],
  g726: ['-f', 'g726le', '-code_size', '2', '-ar', '8000'],
  g7221: [], // not read by ffmpeg: the test decodes it with G7221Decoder
  mp2: ['-f', 'mp3'],
  mp3: ['-f', 'mp3'],
  pcm: ['-f', 's16le', '-ar', '8000', '-ac', '1'],
};
/** What the MP4 carries with --audio auto, and the longest frame of that codec (seconds). */
const EXPECTED: Record<AudioCodec, { codec: string; frameSec: number }> = {
  aac: { codec: 'aac', frameSec: 1024 / 16000 },
  alaw: { codec: 'flac', frameSec: 1024 / 8000 },
  ulaw: { codec: 'flac', frameSec: 1024 / 8000 },
  g726: { codec: 'flac', frameSec: 1024 / 8000 },
  g7221: { codec: 'flac', frameSec: 2048 / 16000 },
  mp3: { codec: 'mp3', frameSec: 576 / 16000 },
  mp2: { codec: 'flac', frameSec: 2048 / 16000 },
  pcm: { codec: 'flac', frameSec: 1024 / 8000 },
};
/** Samples of lag searched either side when comparing decoded audio with the source. */
const MAX_LAG = 80;

async function videoFrames(repeat = 1, video: 'h264' | 'h265' = 'h264'): Promise<AnnexBFrame[]> {
  const fx = await loadVideoFixture(video, 'small');
  const frames: AnnexBFrame[] = [];
  for (let r = 0; r < repeat; r++) {
    for (const au of fx.frames) {
      const data = Buffer.concat(au.nals.flatMap((n) => [START_CODE, n]));
      frames.push({ data, key: au.key, pts: FIRST_PTS + frames.length * 3600 });
    }
  }
  return frames;
}

async function audioPackets(codec: AudioCodec, repeat = 1): Promise<AudioPacket[]> {
  const { audio } = await loadAudioFixture(codec);
  const out: AudioPacket[] = [];
  // As a camera cuts them: audio packets that start before the end of the video (2 s per repeat).
  const end = FIRST_PTS + repeat * 2 * 90000;
  for (let r = 0; r < repeat; r++)
    for (const f of audio.frames) {
      const pts = FIRST_PTS + Math.round(out.length * audio.ticks90k);
      if (pts < end) out.push({ data: f, pts });
    }
  return out;
}

let n = 0;
async function remux(ps: Buffer, extra: Partial<RemuxOptions> = {}) {
  const source = path.join(tmp.dir, `in-${n++}.ps`);
  writeFileSync(source, ps);
  const output = path.join(tmp.dir, `out-${n++}.${extra.container ?? 'mp4'}`);
  const result = await remuxRange({ source, startOffset: 0, endOffset: ps.length, output, ...extra });
  return { result, output };
}

async function psWith(codec: AudioCodec, repeat = 1, video: 'h264' | 'h265' = 'h264'): Promise<Buffer> {
  const audio = await audioPackets(codec, repeat);
  const frames = await videoFrames(repeat, video);
  return new PsMuxer({ video, audio: codec, maxPesPayload: 4096 }).annexBStream(frames, { audio });
}

/** The first audio track decoded by ffmpeg to 16-bit (AAC resampled to 8 kHz mono; the FLAC tracks are 8 kHz mono). */
async function decodedTrack(file: string, resample = false): Promise<Int16Array> {
  const out = path.join(tmp.dir, `dec-${n++}.s16`);
  const to8k = resample ? ['-ar', '8000', '-ac', '1'] : [];
  await ffmpeg('-loglevel', 'error', '-y', '-i', file, '-map', '0:a:0', ...to8k, '-f', 's16le', out);
  const b = readFileSync(out);
  return new Int16Array(b.buffer, b.byteOffset, b.length / 2);
}

const CASES = [
  ...(['aac', 'alaw', 'ulaw', 'g726', 'g7221', 'mp3', 'mp2', 'pcm'] as const).map((codec) => ({
    codec,
    video: 'h264' as const,
  })),
  ...(['alaw', 'ulaw', 'g726', 'g7221', 'mp3', 'mp2', 'pcm'] as const).map((codec) => ({
    codec,
    video: 'h265' as const,
  })),
];
for (const { codec, video } of CASES) {
  test(`${video} + ${codec} in the PS -> MP4 with a ${EXPECTED[codec].codec} track that decodes to the source`, async (t) => {
    const { result, output } = await remux(await psWith(codec, 1, video));
    t.is(result.audioCodec, codec);
    t.true(result.audioKept, result.audioDropReason);
    t.is(result.audioTranscodedTo, codec === 'aac' || codec === 'mp3' ? undefined : 'flac');

    const probe = await ffprobe('-show_streams', '-show_format', output);
    t.regex(probe.format?.format_name ?? '', /mp4/);
    const v = probe.streams.find((s) => s.codec_type === 'video');
    const a = probe.streams.find((s) => s.codec_type === 'audio');
    t.is(a?.codec_name, EXPECTED[codec].codec);
    const dv = Number(v?.duration);
    const da = Number(a?.duration);
    t.true(Math.abs(da - dv) <= EXPECTED[codec].frameSec, `audio ${da} s vs video ${dv} s`);
    const { stderr } = await ffmpeg('-v', 'error', '-i', output, '-f', 'null', '-');
    t.is(stderr, '');

    // The decoded track against ffmpeg's decode of the source elementary stream (both at 8 kHz).
    const fixture = await loadAudioFixture(codec);
    const sourceBytes = readFileSync(path.join(fixturesDir(), fixture.info.file));
    if (codec === 'g7221') {
      // Lossless FLAC of our decode: the track is G7221Decoder's decode of the source, sample for sample (16 kHz), and
      // that is the source signal one frame late (correlation; the codec is lossy).
      const ref = Int16Array.from(new G7221Decoder().decode(sourceBytes));
      const ours = await decodedTrack(output);
      t.is(Number(a?.sample_rate), 16000);
      t.is(ours.length, ref.length, `${ours.length} samples of ${ref.length}`);
      t.true(Math.abs(ours.length / 16000 - da) < 1e-3, `decoded ${ours.length} samples, track ${da} s`);
      const firstDiff = ours.findIndex((v, i) => v !== ref[i]);
      t.is(firstDiff, -1, `first sample off our decode of the source at ${firstDiff}`);
      const signal = readFileSync(path.join(fixturesDir(), 'audio-g7221-16k.ref.s16'));
      const ffmpegSiren = new Int16Array(signal.buffer, signal.byteOffset, signal.length / 2);
      const { r, lag } = bestCorrelation(
        ours.subarray(4000, 28000),
        ffmpegSiren.subarray(4000 - MAX_LAG, 28000 + MAX_LAG),
        2 * MAX_LAG,
      );
      t.true(r > 0.999 && lag === MAX_LAG, `correlation with FFmpeg's siren decode ${r} at ${lag - MAX_LAG}`);
      // And the signal the fixture was coded from (make-fixtures.sh SPEECH16), one 320-sample frame earlier.
      const source = speech16(ours.length);
      const s = bestCorrelation(
        ours.subarray(4000 + 320, 28000 + 320),
        source.subarray(4000 - MAX_LAG, 28000 + MAX_LAG),
        2 * MAX_LAG,
      );
      t.true(s.r > 0.99 && s.lag === MAX_LAG, `correlation with the source signal ${s.r} at ${s.lag - MAX_LAG}`);
      t.log(
        `${codec}: ${ours.length} samples equal our decode of the source; r ${s.r.toFixed(4)} with the signal; audio ${da} s, video ${dv} s`,
      );
      return;
    }
    const ref8k = await ffmpegDecode(sourceBytes, SOURCE_FORMAT[codec]);
    const mpeg = codec === 'mp2' || codec === 'mp3';
    const ours = await decodedTrack(output, codec === 'aac' || mpeg);
    if (mpeg) {
      // 16 kHz MPEG audio, both decodes resampled to 8 kHz by ffmpeg. The track holds the frames that start before
      // the end of the video (the fixture runs a little longer): the source's decode from its first sample, as far as
      // the track goes; the resampler's last few samples see different futures and are left out. MP3 is copied
      // (ffmpeg decodes the same frames); MP2 is our layer II decoder against ffmpeg's (within 1 LSB before
      // resampling). The rest of the samples: within 2 LSB.
      t.is(Number(a?.sample_rate), 16000);
      t.true(ours.length <= ref8k.length && ours.length >= ref8k.length - 1200, `${ours.length} of ${ref8k.length}`);
      t.true(Math.abs(ours.length / 8000 - da) < 0.01, `decoded ${ours.length} samples, track ${da} s`);
      const compared = ours.length - 64;
      let worst = 0;
      for (let i = 0; i < compared; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref8k[i]!));
      t.true(worst <= 2, `largest difference from the source's decode: ${worst}`);
      t.log(`${codec}: ${compared} samples within ${worst} LSB of the source's; audio ${da} s, video ${dv} s`);
      return;
    }
    if (codec !== 'aac') {
      // Lossless: the track is the source's samples from its first one, exactly, for as long as the track lasts.
      // Every source packet starts before the end of the video: all of them are in the track.
      t.is(ours.length, ref8k.length, `${ours.length} samples of ${ref8k.length}`);
      t.true(Math.abs(ours.length / 8000 - da) < 1e-3, `decoded ${ours.length} samples, track ${da} s`);
      const firstDiff = ours.findIndex((v, i) => v !== ref8k[i]);
      t.is(firstDiff, -1, `first sample off the source at ${firstDiff}`);
      t.log(`${codec}: ${ours.length} samples equal the source's; audio ${da} s, video ${dv} s`);
      return;
    }
    // AAC (copied): the middle second; start and end hold the codec's ramp-up and padding.
    const mid = ours.subarray(4000, 12000);
    const { r, lag } = bestCorrelation(mid, ref8k.subarray(4000 - MAX_LAG, 12000 + MAX_LAG), 2 * MAX_LAG);
    t.log(`${codec}: correlation ${r.toFixed(4)} at ${lag - MAX_LAG} samples; audio ${da} s, video ${dv} s`);
    t.true(r > 0.95, `correlation ${r.toFixed(4)} at ${lag - MAX_LAG} samples`);
    t.true(Math.abs(lag - MAX_LAG) <= 4, `decoded audio is ${lag - MAX_LAG} samples off the source (r ${r})`);
  });
}

test('--audio copy keeps G.711 as it is in MOV and drops it from MP4 with the reason', async (t) => {
  const ps = await psWith('alaw');
  const mp4 = await remux(ps, { audio: 'copy' });
  t.false(mp4.result.audioKept);
  t.regex(mp4.result.audioDropReason ?? '', /MP4/);
  t.deepEqual(
    (await ffprobe('-show_streams', mp4.output)).streams.map((s) => s.codec_type),
    ['video'],
  );
  const mov = await remux(ps, { audio: 'copy', container: 'mov' });
  t.true(mov.result.audioKept);
  const a = (await ffprobe('-show_streams', mov.output)).streams.find((s) => s.codec_type === 'audio');
  t.is(a?.codec_name, 'pcm_alaw');
});

test('--audio copy drops G.726 (no container carries it as it is); --audio auto in MOV turns it into FLAC', async (t) => {
  const ps = await psWith('g726');
  const copy = await remux(ps, { audio: 'copy', container: 'mov' });
  t.false(copy.result.audioKept);
  t.regex(copy.result.audioDropReason ?? '', /G\.726/);
  const auto = await remux(ps, { container: 'mov' });
  t.true(auto.result.audioKept);
  const a = (await ffprobe('-show_streams', auto.output)).streams.find((s) => s.codec_type === 'audio');
  t.is(a?.codec_name, 'flac');
});

test('MP3 is copied frame for frame: one sample per frame, each 576 samples long at 16 kHz', async (t) => {
  const { result, output } = await remux(await psWith('mp3'));
  t.true(result.audioKept);
  const { audio } = await loadAudioFixture('mp3');
  const packets = await ffprobe('-select_streams', 'a:0', '-show_packets', '-show_streams', output);
  const a = packets.streams[0];
  t.is(a?.sample_rate, '16000');
  t.is(a?.channels, 1);
  const sizes = (packets.packets ?? []).map((p) => Number(p.size));
  // The packets a camera sends for 2 s of video: frames that start before the end.
  t.deepEqual(
    sizes,
    audio.frames.slice(0, sizes.length).map((f) => f.length),
  );
  t.true(sizes.length >= Math.floor(2 / (576 / 16000)));
  const durations = new Set((packets.packets ?? []).map((p) => p.duration));
  t.deepEqual([...durations], [576], [...durations].join(' '));
});

test('MP3 and AAC without a program stream map are recognised by their frame headers', async (t) => {
  for (const codec of ['mp3', 'aac'] as const) {
    const ps = await psWith(codec);
    // Turn every program stream map into a padding packet (same length field): the codec must come from the bytes.
    for (let at = ps.indexOf(Buffer.from([0, 0, 1, 0xbc])); at >= 0; at = ps.indexOf(Buffer.from([0, 0, 1, 0xbc]), at))
      ps[at + 3] = 0xbe;
    const { result } = await remux(ps);
    t.is(result.audioCodec, codec);
    t.true(result.audioKept, result.audioDropReason);
  }
});

test('--audio copy drops MP2, PCM and G.722.1 with the reason (auto turns them into FLAC); MP3 is kept under copy and in MOV', async (t) => {
  for (const codec of ['mp2', 'pcm', 'g7221'] as const) {
    for (const audio of ['copy'] as const) {
      const { result, output } = await remux(await psWith(codec), { audio });
      t.is(result.audioCodec, codec);
      t.false(result.audioKept);
      t.regex(
        result.audioDropReason ?? '',
        codec === 'mp2' ? /layer II.*auto turns it into FLAC/ : codec === 'pcm' ? /PCM.*FLAC/ : /G\.722\.1.*FLAC/,
      );
      t.deepEqual(
        (await ffprobe('-show_streams', output)).streams.map((s) => s.codec_type),
        ['video'],
      );
    }
  }
  for (const container of ['mp4', 'mov'] as const) {
    const { result, output } = await remux(await psWith('mp3'), { audio: 'copy', container });
    t.true(result.audioKept);
    const a = (await ffprobe('-show_streams', output)).streams.find((s) => s.codec_type === 'audio');
    t.is(a?.codec_name, 'mp3');
  }
});

test('--audio none writes the video only, whatever the source audio', async (t) => {
  const { result, output } = await remux(await psWith('alaw'), { audio: 'none' });
  t.false(result.audioKept);
  t.is(result.audioCodec, undefined);
  t.deepEqual(
    (await ffprobe('-show_streams', output)).streams.map((s) => s.codec_type),
    ['video'],
  );
});

test('an audio codec without a decoder is dropped with its name, and the file is still written', async (t) => {
  const ps = await psWith('alaw');
  // The stream map's audio entry: stream type 0x90 (G.711 A-law), stream id 0xC0 -> 0x93 (G.723.1).
  const map = ps.indexOf(Buffer.from([0, 0, 1, 0xbc]));
  const entry = ps.indexOf(Buffer.from([0x90, 0xc0]), map);
  t.true(map >= 0 && entry > map);
  ps[entry] = 0x93;
  const { result, output } = await remux(ps);
  t.is(result.audioCodec, 'g723.1');
  t.false(result.audioKept);
  t.regex(result.audioDropReason ?? '', /g723\.1 is not supported/);
  t.is(result.frames, 50);
  t.deepEqual(
    (await ffprobe('-show_streams', output)).streams.map((s) => s.codec_type),
    ['video'],
  );
});

test("10-minute G.711 recording: the FLAC track ends with the video, its samples are the source's, no drift", async (t) => {
  const repeat = 300; // 300 x 2 s
  const { result, output } = await remux(await psWith('alaw', repeat));
  t.is(result.frames, 50 * repeat);
  const probe = await ffprobe('-show_streams', output);
  const dv = Number(probe.streams.find((s) => s.codec_type === 'video')?.duration);
  const da = Number(probe.streams.find((s) => s.codec_type === 'audio')?.duration);
  const decoded = await decodedTrack(output);
  // The source audio spans 600 s of PTS (15000 packets of 40 ms), as the video does (15000 frames of 40 ms); it is
  // the 2 s fixture 300 times over.
  const fixture = await loadAudioFixture('alaw');
  const ref = await ffmpegDecode(readFileSync(path.join(fixturesDir(), fixture.info.file)), SOURCE_FORMAT.alaw);
  const endDiffMs = Math.abs(da - dv) * 1000;
  t.log(
    `video ${dv} s, audio ${da} s (|diff| ${endDiffMs.toFixed(1)} ms); decoded ${decoded.length} samples = ${decoded.length / 8000} s for a 600 s PTS span`,
  );
  t.is(ref.length, 16000);
  t.is(decoded.length, 600 * 8000, 'one sample per source sample, none added or lost');
  t.true(endDiffMs < 1, `audio ends ${endDiffMs} ms off the video`);
  const firstDiff = decoded.findIndex((v, i) => v !== ref[i % ref.length]);
  t.is(firstDiff, -1, `decoded sample ${firstDiff} differs from the source`);
});
