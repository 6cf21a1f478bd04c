/**
 * The layer II decoder against ffmpeg's float decoder (mp2float) of the same stream: the committed fixture (16 kHz
 * mono, MPEG-2 LSF) and ffmpeg-encoded variants over the four allocation tables of MPEG-1, the LSF table, mono and
 * stereo. Held to: max abs difference <= 2 LSB, correlation > 0.9999 at lag 0, same sample count.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Mp2Decoder } from '../../../lib/media/audio/mp2-decoder.js';
import { parseMpegAudioHeader } from '../../../lib/media/audio/mpeg-audio.js';
import { ffmpeg, ffmpegLavfi } from '../../helpers/media-tools.js';
import { fixturesDir } from '../../../tools/synthetic/fixtures.js';
import { withTemp } from './ffmpeg-pcm.js';

async function ffmpegDecodeMp2(bytes: Uint8Array): Promise<Int16Array> {
  return withTemp(async (dir) => {
    const src = path.join(dir, 'in.mp2');
    const out = path.join(dir, 'out.s16');
    await fs.writeFile(src, bytes);
    await ffmpeg('-loglevel', 'error', '-y', '-c:a', 'mp2float', '-f', 'mp3', '-i', src, '-f', 's16le', out);
    const b = await fs.readFile(out);
    return new Int16Array(b.buffer, b.byteOffset, b.length / 2);
  });
}

async function ffmpegEncodeMp2(rate: number, channels: number, bitrate: string): Promise<Uint8Array> {
  return withTemp(async (dir) => {
    const out = path.join(dir, 'out.mp2');
    // Tones, a sweep and noise: every subband gets bits, so every allocation class is exercised.
    const left = '0.3*sin(2*PI*440*t)+0.2*sin(2*PI*2200*t+3*sin(t))+0.05*random(0)';
    const right = '0.3*sin(2*PI*660*t)+0.1*random(1)';
    const expr = channels === 2 ? `${left}|${right}` : left;
    await ffmpegLavfi(
      `aevalsrc=${expr}:s=${rate}:d=1`,
      '-ac',
      String(channels),
      '-c:a',
      'mp2',
      '-b:a',
      bitrate,
      '-f',
      'mp2',
      out,
    );
    return new Uint8Array(await fs.readFile(out));
  });
}

/** Decode in PES-sized pieces (cut anywhere, as PES packets may cut a stream), then flush. */
function decodeAll(bytes: Uint8Array, piece: number): { pcm: Int16Array; d: Mp2Decoder } {
  const d = new Mp2Decoder();
  const parts: Int16Array[] = [];
  for (let at = 0; at < bytes.length; at += piece)
    parts.push(Int16Array.from(d.decode(bytes.subarray(at, at + piece))));
  parts.push(Int16Array.from(d.flush()));
  const pcm = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    pcm.set(p, at);
    at += p.length;
  }
  return { pcm, d };
}

function compare(ours: Int16Array, ref: Int16Array): { maxDiff: number; r: number } {
  let maxDiff = 0;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < Math.min(ours.length, ref.length); i++) {
    const a = ours[i]!;
    const b = ref[i]!;
    maxDiff = Math.max(maxDiff, Math.abs(a - b));
    ab += a * b;
    aa += a * a;
    bb += b * b;
  }
  return { maxDiff, r: ab / Math.sqrt(aa * bb || 1) };
}

test('the MP2 fixture (16 kHz mono LSF, 64 kbit/s) decodes as ffmpeg does, in any PES cuts', async (t) => {
  const bytes = new Uint8Array(await fs.readFile(path.join(fixturesDir(), 'audio-mp2-16k.mp2')));
  const ref = await ffmpegDecodeMp2(bytes);
  for (const piece of [bytes.length, 576, 97, 1]) {
    const { pcm, d } = decodeAll(bytes, piece);
    t.is(d.sampleRate, 16000);
    t.is(d.channels, 1);
    t.is(pcm.length, ref.length, `piece ${piece}`);
    const { maxDiff, r } = compare(pcm, ref);
    t.true(maxDiff <= 2, `piece ${piece}: max difference ${maxDiff}`);
    t.true(r > 0.9999, `piece ${piece}: correlation ${r}`);
  }
});

// [rate, channels, bit rate, what it covers]
const VARIANTS: Array<[number, number, string, string]> = [
  [16000, 1, '32k', 'LSF table'],
  [16000, 2, '64k', 'LSF stereo'],
  [24000, 2, '96k', 'LSF 24 kHz'],
  [22050, 1, '32k', 'LSF 22.05 kHz'],
  [48000, 1, '64k', 'table a'],
  [48000, 2, '192k', 'table a stereo'],
  [44100, 2, '128k', 'table a 44.1 kHz'],
  [32000, 2, '256k', 'table b'],
  [44100, 1, '48k', 'table c'],
  [48000, 2, '64k', 'table c stereo'],
  [32000, 1, '32k', 'table d'],
  [32000, 2, '64k', 'table d stereo'],
];

for (const [rate, channels, bitrate, what] of VARIANTS) {
  test(`ffmpeg-encoded MP2 ${rate} Hz, ${channels} ch, ${bitrate}bit/s (${what}): within 2 LSB of ffmpeg's decode`, async (t) => {
    const bytes = await ffmpegEncodeMp2(rate, channels, bitrate);
    const h = parseMpegAudioHeader(bytes, 0);
    t.is(h?.layer, 2);
    t.is(h?.sampleRate, rate);
    const ref = await ffmpegDecodeMp2(bytes);
    const { pcm, d } = decodeAll(bytes, 333);
    t.is(d.channels, channels);
    t.is(pcm.length, ref.length);
    const { maxDiff, r } = compare(pcm, ref);
    t.true(maxDiff <= 2, `max difference ${maxDiff}`);
    t.true(r > 0.9999, `correlation ${r}`);
  });
}

test('layer III frames are skipped by the MP2 decoder, not decoded as layer II', async (t) => {
  const bytes = new Uint8Array(await fs.readFile(path.join(fixturesDir(), 'audio-mp3-16k.mp3')));
  const { pcm, d } = decodeAll(bytes, 500);
  t.is(pcm.length, 0);
  t.true(d.stats.skippedFrames > 10);
  t.is(d.stats.frames, 0);
});

test('one frame per PES, as cameras write it: each decode() returns the 1152 samples of its frame', async (t) => {
  const bytes = new Uint8Array(await fs.readFile(path.join(fixturesDir(), 'audio-mp2-16k.mp2')));
  const d = new Mp2Decoder();
  const counts: number[] = [];
  for (let at = 0; at < bytes.length; at += 576) counts.push(d.decode(bytes.subarray(at, at + 576)).length);
  t.deepEqual(counts, Array<number>(28).fill(1152));
  t.is(d.flush().length, 0);
});
