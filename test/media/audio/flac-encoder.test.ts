/**
 * The FLAC encoder is lossless: its frames decode to exactly the samples that went in, through the test decoder
 * written from RFC 9639 apart from it (flac-decoder.ts: every CRC and reserved bit checked) and through ffmpeg's
 * decoder. Signals that push each subframe type: sine (FIXED), noise (escape / VERBATIM), silence and DC (CONSTANT),
 * full-scale square (the largest residuals), tiny blocks and random lengths (the short last block), stereo, and the
 * sample rates the frame header codes in each way.
 */
import test from 'ava';
import fc from 'fast-check';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { FlacEncoder, flacBlockSize, type EncodedAudioFrame } from '../../../lib/media/audio/flac-encoder.js';
import { fuzzParams, withDeadline } from '../../helpers/fuzz.js';
import { ffmpeg } from '../../helpers/media-tools.js';
import { decodeFrames, joinSamples, parseHeader } from './flac-decoder.js';
import { testSignal, withTemp } from './ffmpeg-pcm.js';

function encode(pcm: Int16Array, rate = 8000, channels = 1, blockSize?: number, chunk = 333) {
  const enc = new FlacEncoder(rate, channels, blockSize);
  const frames: EncodedAudioFrame[] = [];
  // Fed in pieces that do not line up with the blocks (as PES payloads come).
  for (let i = 0; i < pcm.length; i += chunk * channels)
    enc.encode(pcm.subarray(i, i + chunk * channels), (f) => frames.push(f));
  enc.flush((f) => frames.push(f));
  return { frames, description: enc.decoderConfig.description!, enc };
}

function roundTrip(pcm: Int16Array, rate = 8000, channels = 1, blockSize?: number, chunk?: number) {
  const { frames, description, enc } = encode(pcm, rate, channels, blockSize, chunk);
  const { info } = parseHeader(description);
  const decoded = decodeFrames(
    frames.map((f) => f.data),
    info,
  );
  return { frames, decoded, samples: joinSamples(decoded), info, enc };
}

const sine = (n: number, amp = 12000, f = 440, rate = 8000) =>
  Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * f * i) / rate)));
function noise(n: number, seed = 7, amp = 32768): Int16Array {
  let s = seed;
  return Int16Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return Math.max(-32768, Math.min(32767, Math.round(((s / 0x7fffffff) * 2 - 1) * amp)));
  });
}
const square = (n: number) => Int16Array.from({ length: n }, (_, i) => (Math.floor(i / 7) % 2 ? 32767 : -32768));

const SIGNALS: Array<[string, Int16Array]> = [
  ['sine', sine(8000)],
  ['speech-like', testSignal(8000)],
  ['white noise, full scale', noise(8000)],
  ['silence', new Int16Array(8000)],
  ['DC at -32768', new Int16Array(3000).fill(-32768)],
  ['full-scale square', square(8000)],
  ['alternating extremes', Int16Array.from({ length: 4096 }, (_, i) => (i % 2 ? 32767 : -32768))],
  ['one sample', Int16Array.of(-5)],
  // Wasted bits: every sample a multiple of 8 (decoded A-law), of 2^14, and only 0 / -32768 (15 wasted bits).
  ['A-law-like, multiples of 8', testSignal(8000).map((v) => v & ~7)],
  ['multiples of 2^14', Int16Array.from({ length: 3000 }, (_, i) => ((i % 5) - 2) * 16384)],
  ['0 and -32768 only', Int16Array.from({ length: 3000 }, (_, i) => (i % 3 ? 0 : -32768))],
  ['empty', new Int16Array(0)],
];

for (const [name, pcm] of SIGNALS) {
  test(`lossless through the test decoder: ${name}`, (t) => {
    const { frames, decoded, samples, info } = roundTrip(pcm);
    t.deepEqual(Array.from(samples), Array.from(pcm));
    t.is(info.sampleRate, 8000);
    t.is(info.channels, 1);
    t.is(info.bitsPerSample, 16);
    t.is(info.minBlockSize, 1024);
    t.is(info.maxBlockSize, 1024);
    t.deepEqual(
      decoded.map((d) => d.frameNumber),
      frames.map((_, i) => i),
    );
    // Every block but the last has the full size.
    t.true(decoded.slice(0, -1).every((d) => d.blockSize === 1024));
    t.deepEqual(
      frames.map((f) => f.samples),
      decoded.map((d) => d.blockSize),
    );
  });
}

test('sizes: FIXED prediction and Rice coding pay on tonal audio; noise costs at most VERBATIM plus the headers', (t) => {
  const bytes = (pcm: Int16Array) => encode(pcm).frames.reduce((n, f) => n + f.data.length, 0);
  const n = 8000;
  t.log(`8000 samples: sine ${bytes(sine(n))}, speech-like ${bytes(testSignal(n))}, noise ${bytes(noise(n))} bytes`);
  // A 440 Hz sine leaves about 9 bits a sample after FIXED order 4 (the rounding noise, amplified); the speech-like
  // signal carries +-1000 of white noise (11 bits).
  t.true(bytes(sine(n)) < n * 2 * 0.6);
  t.true(bytes(testSignal(n)) < n * 2 * 0.9);
  t.true(bytes(new Int16Array(n)) < 8 * 20); // CONSTANT subframes: a few bytes a block
  // 16-bit noise: VERBATIM (2 bytes a sample) plus at most 20 header bytes a block.
  t.true(bytes(noise(n)) <= n * 2 + Math.ceil(n / 1024) * 20);
  // Wasted bits: 3 zero low bits in every sample save about 3 bits a sample (the shifted signal codes as the
  // signal divided by 8 would, plus the unary field), VERBATIM noise included.
  const speech = testSignal(n);
  const shifted = speech.map((v) => v >> 3);
  t.true(bytes(speech.map((v) => v & ~7)) <= bytes(shifted) + Math.ceil(n / 1024));
  t.true(bytes(noise(n).map((v) => v & ~7)) <= n * 2 * (13 / 16) + Math.ceil(n / 1024) * 20);
});

test('tiny blocks and short last blocks (1-3 samples) of every block size code', (t) => {
  for (const blockSize of [16, 17, 192, 255, 256, 257, 576, 1152, 4096, 4608, 65535]) {
    for (const extra of [0, 1, 2, 3, 15]) {
      const pcm = testSignal(blockSize * 2 + extra, blockSize + extra);
      const { samples, decoded } = roundTrip(pcm, 8000, 1, blockSize, 100);
      t.deepEqual(Array.from(samples), Array.from(pcm), `block ${blockSize} + ${extra}`);
      t.is(decoded.length, 2 + (extra > 0 ? 1 : 0));
    }
  }
});

test('sample rates: table codes, 8-bit kHz, 16-bit Hz, 16-bit tens of Hz, and "as in STREAMINFO"', (t) => {
  for (const rate of [8000, 16000, 11025, 12000, 44100, 48000, 100000, 200000, 700000 - 1]) {
    if (rate > 655350) {
      t.throws(() => new FlacEncoder(rate, 1), { instanceOf: RangeError });
      continue;
    }
    const pcm = sine(3000, 10000, 440, rate);
    const { samples, decoded, info } = roundTrip(pcm, rate);
    t.deepEqual(Array.from(samples), Array.from(pcm), `${rate} Hz`);
    t.is(info.sampleRate, rate);
    t.true(
      decoded.every((d) => d.sampleRate === rate),
      `${rate} Hz`,
    );
  }
  // 0x7ffff Hz: not a multiple of 10 and above 65535: only STREAMINFO can say it.
  const odd = roundTrip(sine(600), 0x7ffff);
  t.is(odd.decoded[0]!.sampleRate, 0x7ffff);
});

test('block size per rate: about 128 ms, a power of two from 256 to 4096', (t) => {
  t.is(flacBlockSize(8000), 1024);
  t.is(flacBlockSize(16000), 2048);
  t.is(flacBlockSize(44100), 4096);
  t.is(flacBlockSize(1000), 256);
});

test('stereo: both channels independently, interleaved in and out', (t) => {
  const n = 5000;
  const pcm = new Int16Array(n * 2);
  const l = testSignal(n);
  const r = noise(n, 3, 3000);
  for (let i = 0; i < n; i++) {
    pcm[2 * i] = l[i]!;
    pcm[2 * i + 1] = r[i]!;
  }
  const { samples, decoded } = roundTrip(pcm, 16000, 2);
  t.deepEqual(Array.from(samples), Array.from(pcm));
  t.true(decoded.every((d) => d.channels === 2));
});

test('frame numbers past 127 use the multi-byte coding', (t) => {
  const pcm = testSignal(300 * 16, 5);
  const { decoded, samples } = roundTrip(pcm, 8000, 1, 16, 1000);
  t.is(decoded.length, 300);
  t.is(decoded.at(-1)!.frameNumber, 299);
  t.deepEqual(Array.from(samples), Array.from(pcm));
});

test('property: any samples, block size, channel count and feeding round-trip exactly', (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(1, 2),
      fc.constantFrom(16, 17, 64, 100, 192, 1024),
      fc.integer({ min: 1, max: 1500 }),
      fc.oneof(
        fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 3000 }),
        // Runs of near values: what prediction and small Rice parameters see.
        fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 3000 }).map((d) => {
          let v = 0;
          return d.map((x) => (v = Math.max(-32768, Math.min(32767, v * 0.99 + x * 700))) | 0);
        }),
        // Low bits zero in every sample (wasted bits, 1-15).
        fc
          .tuple(
            fc.integer({ min: 1, max: 15 }),
            fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 3000 }),
          )
          .map(([shift, v]) => v.map((x) => (x >> shift) << shift)),
      ),
      withDeadline((channels: number, blockSize: number, chunk: number, values: number[]) => {
        const pcm = Int16Array.from(values.slice(0, values.length - (values.length % channels)));
        const { samples } = roundTrip(pcm, 8000, channels, blockSize, chunk);
        return samples.length === pcm.length && samples.every((v, i) => v === pcm[i]);
      }),
    ),
    fuzzParams(0.5),
  );
  t.pass();
});

/** A .flac file of the encoder's output, decoded by ffmpeg to interleaved s16le. */
async function ffmpegDecodeFlac(pcm: Int16Array, rate: number, channels: number): Promise<Int16Array> {
  const { frames, description } = encode(pcm, rate, channels);
  return withTemp(async (dir) => {
    const src = path.join(dir, 'in.flac');
    const out = path.join(dir, 'out.s16');
    await fs.writeFile(src, Buffer.concat([description, ...frames.map((f) => f.data)]));
    await ffmpeg('-loglevel', 'error', '-y', '-i', src, '-f', 's16le', out);
    const b = await fs.readFile(out);
    return new Int16Array(b.buffer, b.byteOffset, b.length / 2);
  });
}

test('ffmpeg decodes the frames to exactly the input (mono 8 kHz, stereo 16 kHz, 11025 Hz)', async (t) => {
  const speech = Int16Array.from([...testSignal(20000), ...noise(3000), ...square(3000), ...new Int16Array(2000)]);
  t.deepEqual(Array.from(await ffmpegDecodeFlac(speech, 8000, 1)), Array.from(speech));
  const stereo = Int16Array.from({ length: 2 * 9001 }, (_, i) => (i % 2 ? speech[i >> 1]! : -speech[i >> 1]! >> 1));
  t.deepEqual(Array.from(await ffmpegDecodeFlac(stereo, 16000, 2)), Array.from(stereo));
  const alaw = speech.map((v) => v & ~7); // wasted bits, as decoded A-law has
  t.deepEqual(Array.from(await ffmpegDecodeFlac(alaw, 8000, 1)), Array.from(alaw));
  const odd = sine(7777, 20000, 1000, 11025);
  t.deepEqual(Array.from(await ffmpegDecodeFlac(odd, 11025, 1)), Array.from(odd));
});

test('the test decoder itself: ffmpeg-encoded FLAC (LPC, stereo decorrelation) decodes to the input', async (t) => {
  const n = 12000;
  const pcm = new Int16Array(n * 2);
  const s = testSignal(n, 9);
  for (let i = 0; i < n; i++) {
    pcm[2 * i] = s[i]!;
    pcm[2 * i + 1] = (s[i]! >> 1) + ((i * 37) % 101);
  }
  const flac = await withTemp(async (dir) => {
    const src = path.join(dir, 'in.s16');
    const out = path.join(dir, 'out.flac');
    await fs.writeFile(src, new Uint8Array(pcm.buffer));
    await ffmpeg('-loglevel', 'error', '-y', '-f', 's16le', '-ar', '44100', '-ac', '2', '-i', src, '-c:a', 'flac', out);
    return new Uint8Array(await fs.readFile(out));
  });
  const { info, frames } = parseHeader(flac);
  const decoded = decodeFrames(frames, info);
  t.deepEqual(Array.from(joinSamples(decoded)), Array.from(pcm));
});
