/**
 * The G.722.1 decoder against an independent decoder: FFmpeg's `siren` (Debian 12's ffmpeg 5.1.9) decoded the
 * committed fixture once (test/fixtures/audio-g7221-16k.ref.s16, make-fixtures.sh says how). With its noise-fill
 * level (FFmpeg fills categories 5-7 at 1/22 of the Recommendation's level) the decode is held to at most 1 LSB and a
 * correlation > 0.99999 at lag 0; at the Recommendation's level the noise-filled regions differ (correlation > 0.999).
 * Then: the fast DCT-IV against the definition, hand-made frames (silence, one region), frame errors (repeat, then
 * mute), frames cut across payloads, and the test encoder's round trip at 16/24/32 kbit/s against the source signal.
 */
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  dct4,
  dct4Scratch,
  G7221_FRAME_SAMPLES,
  G7221_REGION_SIZE,
  G7221Decoder,
} from '../../../lib/media/audio/g7221-decoder.js';
import { fixturesDir } from '../../../tools/synthetic/fixtures.js';
import { G7221Encoder } from '../../helpers/g7221-encoder.js';
import { speech16 } from './ffmpeg-pcm.js';

const N = G7221_FRAME_SAMPLES;
/** FFmpeg's noise-fill level relative to the Recommendation's (decoder comment). */
const FFMPEG_NOISE_GAIN = 1 / 22;

async function readS16(name: string): Promise<Int16Array> {
  const b = await fs.readFile(path.join(fixturesDir(), name));
  const out = new Int16Array(b.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = b.readInt16LE(2 * i);
  return out;
}

async function fixture(): Promise<Uint8Array> {
  return new Uint8Array(await fs.readFile(path.join(fixturesDir(), 'audio-g7221-16k.g7221')));
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>, lag = 0): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i + lag < a.length && i < b.length; i++) {
    const x = a[i + lag]!;
    const y = b[i]!;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

function maxAbsDiff(a: Int16Array, b: Int16Array): number {
  let m = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function snrDb(decoded: Int16Array, source: Int16Array, lag: number): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i + lag < decoded.length && i < source.length; i++) {
    signal += source[i]! ** 2;
    noise += (decoded[i + lag]! - source[i]!) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

function decodeAll(d: G7221Decoder, bytes: Uint8Array, piece = bytes.length): Int16Array {
  const parts: number[] = [];
  for (let at = 0; at < bytes.length; at += piece) parts.push(...d.decode(bytes.subarray(at, at + piece)));
  parts.push(...d.flush());
  return Int16Array.from(parts);
}

test('fixture: equal to FFmpeg siren decode within 1 LSB at its noise level', async (t) => {
  const ref = await readS16('audio-g7221-16k.ref.s16');
  const d = new G7221Decoder(40, FFMPEG_NOISE_GAIN);
  const ours = decodeAll(d, await fixture());
  t.is(ours.length, ref.length);
  t.deepEqual(d.stats, { frames: 100, badFrames: 0 });
  t.true(maxAbsDiff(ours, ref) <= 1, `max abs diff ${maxAbsDiff(ours, ref)}`);
  t.true(correlation(ours, ref) > 0.99999);
});

test('fixture: at the Recommendation noise level only the noise-filled regions differ from FFmpeg', async (t) => {
  const ref = await readS16('audio-g7221-16k.ref.s16');
  const ours = decodeAll(new G7221Decoder(), await fixture());
  const c = correlation(ours, ref);
  t.true(c > 0.999 && c < 0.99999, `correlation ${c}`);
});

test('fixture: decodes to the source signal one frame (320 samples) late', async (t) => {
  const ours = decodeAll(new G7221Decoder(), await fixture());
  const src = speech16();
  t.true(correlation(ours, src, N) > 0.99, `lag 320: ${correlation(ours, src, N)}`);
  t.true(correlation(ours, src, N) > correlation(ours, src, N - 1));
  t.true(correlation(ours, src, N) > correlation(ours, src, N + 1));
  t.true(snrDb(ours, src, N) > 20, `SNR ${snrDb(ours, src, N)} dB`);
  // The first frame out is the frame before the source began: silence but for the coding noise (pre-echo).
  const rms = (a: Int16Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  t.true(rms(ours.subarray(0, N)) < rms(ours.subarray(N, 2 * N)) / 4);
});

test('fast DCT-IV equals the definition', (t) => {
  const x = Float64Array.from({ length: N }, (_, i) => Math.sin(i * 0.37) * 1000 + ((i * 7919) % 13) - 6);
  const fast = new Float64Array(N);
  dct4(x, fast, dct4Scratch());
  let err = 0;
  for (let m = 0; m < N; m++) {
    let s = 0;
    for (let k = 0; k < N; k++) s += x[k]! * Math.cos((Math.PI / N) * (m + 0.5) * (k + 0.5));
    err = Math.max(err, Math.abs(s - fast[m]!));
  }
  t.true(err < 1e-7, `max error ${err}`);
});

test('round trip at 16, 24 and 32 kbit/s: correlation > 0.99 at lag 320, SNR > 20 dB', (t) => {
  const src = speech16();
  for (const frameBytes of [40, 60, 80]) {
    const coded = new G7221Encoder(frameBytes).encode(src);
    t.is(coded.length, 100 * frameBytes);
    const d = new G7221Decoder(frameBytes);
    const out = decodeAll(d, coded, 188);
    t.is(d.stats.badFrames, 0);
    t.is(out.length, src.length);
    t.true(correlation(out, src, N) > 0.99, `${frameBytes}: ${correlation(out, src, N)}`);
    t.true(snrDb(out, src, N) > 20, `${frameBytes}: SNR ${snrDb(out, src, N)} dB`);
  }
});

test('frames cut anywhere across payloads decode as the whole stream does', async (t) => {
  const bytes = await fixture();
  const whole = decodeAll(new G7221Decoder(), bytes);
  for (const piece of [1, 7, 39, 41, 100]) t.deepEqual(decodeAll(new G7221Decoder(), bytes, piece), whole);
  // A cut frame at the end is dropped.
  t.is(decodeAll(new G7221Decoder(), bytes.subarray(0, 4000 - 5)).length, 99 * N);
});

test('hand-made frames: all-zero spectrum is silence; one region decodes to a tone in its band', (t) => {
  const enc = new G7221Encoder(40);
  const silence = new Float64Array(N);
  const d = new G7221Decoder();
  const out = decodeAll(d, Uint8Array.of(...enc.codeCoefficients(silence), ...enc.codeCoefficients(silence)));
  t.is(d.stats.badFrames, 0);
  // Silence codes as the lowest powers: the category-7 noise at 2^-4 sums to a few LSB at most.
  t.true(out.every((v) => Math.abs(v) <= 3));
  // One region (region 3: 1500-2000 Hz) with a single strong coefficient, repeated for three frames.
  const one = new Float64Array(N);
  one[3 * G7221_REGION_SIZE + 10] = 3000;
  const frame = enc.codeCoefficients(one);
  const d2 = new G7221Decoder();
  const tone = decodeAll(d2, Uint8Array.of(...frame, ...frame, ...frame));
  t.is(d2.stats.badFrames, 0);
  // Coefficient k is centred on (k + 1/2) * 25 Hz: 1762.5 Hz. Its energy dominates the decoded middle frame.
  const mid = tone.subarray(N, 2 * N);
  const at = (f: number): number => {
    let re = 0;
    let im = 0;
    for (let i = 0; i < N; i++) {
      re += mid[i]! * Math.cos((2 * Math.PI * f * i) / 16000);
      im += mid[i]! * Math.sin((2 * Math.PI * f * i) / 16000);
    }
    return Math.hypot(re, im);
  };
  t.true(at(1762.5) > 10 * at(440), `${at(1762.5)} vs ${at(440)}`);
  t.true(at(1762.5) > 10 * at(5000));
});

test('frame errors: a bad frame repeats the last good spectrum once, a second one mutes', (t) => {
  const src = speech16();
  const coded = new G7221Encoder(40).encode(src);
  // Zero bytes: the envelope reads, but the fill bits are zeros (a frame error) or bits run out.
  const bad = new Uint8Array(40);
  const stream = Uint8Array.of(...coded.subarray(0, 400), ...bad, ...bad, ...bad);
  const d = new G7221Decoder();
  const out = decodeAll(d, stream);
  t.is(d.stats.badFrames, 3);
  t.is(out.length, 13 * N);
  const rms = (a: Int16Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  // Frame 10 (first bad) repeats frame 9's spectrum: sound; frames 11 and 12 have zero spectra: the last is silent.
  t.true(rms(out.subarray(10 * N, 11 * N)) > 1000);
  t.is(rms(out.subarray(12 * N, 13 * N)), 0);
});

test('frame errors: fill bits must be ones (the encoder leaves at least one)', (t) => {
  const frame = new G7221Encoder(40).encodeFrame(speech16().subarray(0, N));
  const d = new G7221Decoder();
  d.decode(frame);
  t.is(d.stats.badFrames, 0);
  const broken = Uint8Array.from(frame);
  broken[39]! &= 0xfe;
  d.decode(broken);
  t.is(d.stats.badFrames, 1);
});

test('bad frame sizes fall back to 40 bytes', (t) => {
  t.is(new G7221Decoder(41).frameBytes, 40);
  t.is(new G7221Decoder(0).frameBytes, 40);
  t.is(new G7221Decoder(60).frameBytes, 60);
});
