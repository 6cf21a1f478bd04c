import test from 'ava';
import { decodeG711 } from '../../../lib/media/audio/g711.js';
import { G726Decoder } from '../../../lib/media/audio/g726.js';
import { G7221Decoder } from '../../../lib/media/audio/g7221-decoder.js';
import type { PcmDecoder } from '../../../lib/media/audio/pcm-decoder.js';
import {
  speechDecoder,
  SpeechTranscoder,
  type SpeechCodec,
  type TranscodedPacket,
} from '../../../lib/media/audio/speech-transcoder.js';
import { decodeFrames, joinSamples, parseHeader } from './flac-decoder.js';

const PTS_WRAP = 2 ** 33;
/** 90 kHz ticks of one 8 kHz sample, and of one 1024-sample FLAC block. */
const TICK = 11.25;
const BLOCK = 1024;

function bytesOf(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + seed * 11) & 0xff);
}

function run(codec: SpeechCodec, packets: Array<{ bytes: number; pts?: number }>) {
  const out: TranscodedPacket[] = [];
  const tc = new SpeechTranscoder(speechDecoder(codec), codec, (p) => out.push(p));
  const sent = packets.map((p, i) => bytesOf(p.bytes, i));
  packets.forEach((p, i) => tc.push(sent[i]!, p.pts));
  tc.flush();
  return { out, tc, sent };
}

/** The transcoder's FLAC decoded by the test decoder. */
function decodeOutput(tc: SpeechTranscoder, out: TranscodedPacket[]): Int32Array {
  const { info } = parseHeader(tc.decoderConfig!.description!);
  return joinSamples(
    decodeFrames(
      out.map((p) => p.data),
      info,
    ),
  );
}

test('each FLAC frame has the source PTS of its first sample, across the 33-bit wrap', (t) => {
  // 40 ms G.711 packets (320 bytes) whose PTS wraps after the 5th: 9600 samples = 9 blocks of 1024 + 384.
  const base = PTS_WRAP - 5 * 3600;
  const packets = Array.from({ length: 30 }, (_, i) => ({ bytes: 320, pts: (base + i * 3600) % PTS_WRAP }));
  const { out } = run('alaw', packets);
  t.is(out.length, 10);
  t.deepEqual(
    out.map((p) => p.pts),
    out.map((_, k) => (base + k * BLOCK * TICK) % PTS_WRAP),
  );
  t.deepEqual(
    out.map((p) => p.durationTicks),
    [...Array<number>(9).fill(BLOCK * TICK), 384 * TICK],
  );
});

test('a PES without a PTS continues from the previous one; before any PTS the first one is extrapolated back', (t) => {
  const { out } = run('alaw', [{ bytes: 240 }, { bytes: 240, pts: 90000 }, { bytes: 2048 }]);
  // Samples 0..2527: the PTS 90000 belongs to sample 240, so sample 0 is at 90000 - 240 x 11.25.
  t.deepEqual(
    out.map((p) => p.pts),
    [90000 - 2700, 90000 - 2700 + BLOCK * TICK, 90000 - 2700 + 2 * BLOCK * TICK],
  );
});

test('the track ends with its source: the last frame holds exactly the samples left', (t) => {
  const { out } = run('alaw', [{ bytes: 2100, pts: 0 }]);
  t.deepEqual(
    out.map((p) => p.durationTicks / TICK),
    [1024, 1024, 52],
  );
});

for (const codec of ['alaw', 'ulaw'] as const) {
  test(`${codec}: the FLAC frames decode to exactly the G.711 samples`, (t) => {
    const { out, tc, sent } = run(
      codec,
      Array.from({ length: 40 }, (_, i) => ({ bytes: 160 + ((i * 53) % 300), pts: i * 3600 })),
    );
    const expected = sent.flatMap((b) => Array.from(decodeG711(codec, b)));
    t.deepEqual(Array.from(decodeOutput(tc, out)), expected);
    t.like(tc.decoderConfig, { codec: 'flac', sampleRate: 8000, numberOfChannels: 1 });
  });
}

for (const [bytes, bits] of [
  [80, 2],
  [120, 3],
  [160, 4],
] as const) {
  test(`G.726: ${bytes} bytes per 40 ms PES is ${bits * 8} kbit/s, decoded losslessly into FLAC`, (t) => {
    const packets = Array.from({ length: 10 }, (_, i) => ({ bytes, pts: 1000 + i * 3600 }));
    const { out, tc, sent } = run('g726', packets);
    t.is((tc.pcmDecoder as G726Decoder).bits, bits);
    t.is(out.reduce((n, p) => n + p.durationTicks, 0) / TICK, 3200);
    const ref = new G726Decoder(bits);
    t.deepEqual(
      Array.from(decodeOutput(tc, out)),
      sent.flatMap((b) => Array.from(ref.decode(b))),
    );
  });
}

test('G.726 without two timestamps falls back to 16 kbit/s', (t) => {
  const { tc } = run('g726', [{ bytes: 160, pts: 1000 }, { bytes: 160 }]);
  t.is((tc.pcmDecoder as G726Decoder).bits, 2);
});

for (const [bytes, frameBytes] of [
  [80, 40],
  [60, 60],
  [160, 80],
  [100, 50],
] as const) {
  test(`G.722.1: ${bytes} bytes per ${(bytes / frameBytes) * 20} ms PES is ${frameBytes}-byte frames`, (t) => {
    const frames = bytes / frameBytes;
    const packets = Array.from({ length: 6 }, (_, i) => ({ bytes, pts: 1000 + i * frames * 1800 }));
    const { out, tc } = run('g7221', packets);
    t.is((tc.pcmDecoder as G7221Decoder).frameBytes, frameBytes);
    t.is(out.reduce((n, p) => n + p.durationTicks, 0) / 5.625, 6 * frames * 320);
  });
}

test('G.722.1 without two timestamps, or at an odd byte rate, takes 40-byte frames (16 kbit/s)', (t) => {
  t.is((run('g7221', [{ bytes: 120, pts: 1000 }, { bytes: 120 }]).tc.pcmDecoder as G7221Decoder).frameBytes, 40);
  const odd = run('g7221', [
    { bytes: 41, pts: 1000 },
    { bytes: 41, pts: 2800 },
  ]);
  t.is((odd.tc.pcmDecoder as G7221Decoder).frameBytes, 40);
});

/** A PcmDecoder of `rate` Hz x `channels` that holds its first payload (rate unknown until it gives samples). */
class StubDecoder implements PcmDecoder {
  sampleRate = 0;
  channels = 0;
  private held: Uint8Array | null = null;
  constructor(
    private readonly rate: number,
    private readonly ch: number,
  ) {}
  decode(bytes: Uint8Array): Int16Array {
    if (this.sampleRate === 0 && !this.held) {
      this.held = bytes;
      return new Int16Array(0);
    }
    this.sampleRate = this.rate;
    this.channels = this.ch;
    return Int16Array.from([...(this.held ?? []), ...bytes], (b) => (b - 128) * 100);
  }
  flush(): Int16Array {
    return new Int16Array(0);
  }
}

test('any PcmDecoder: the encoder is built from its rate and channels once it gives samples; 90 kHz times follow', (t) => {
  const out: TranscodedPacket[] = [];
  const dec = new StubDecoder(16000, 2);
  const tc = new SpeechTranscoder(dec, 'stub', (p) => out.push(p));
  t.is(tc.decoderConfig, null);
  tc.push(new Uint8Array(2000).fill(130), 0);
  t.is(tc.decoderConfig, null);
  // No PTS here: the transcoder anchors a PTS at the samples decoded before its payload, which a decoder that holds
  // bytes has not given yet (with one, that PTS would replace the first: an empty PES's PTS gives way to the next).
  tc.push(new Uint8Array(6000).fill(120), undefined);
  tc.flush();
  t.like(tc.decoderConfig, { codec: 'flac', sampleRate: 16000, numberOfChannels: 2 });
  // 8000 bytes = 4000 stereo samples at 16 kHz: one 2048-sample block and the rest.
  t.deepEqual(
    out.map((p) => [p.pts, p.durationTicks]),
    [
      [0, 2048 * 5.625],
      [2048 * 5.625, (4000 - 2048) * 5.625],
    ],
  );
  const decoded = decodeOutput(tc, out);
  t.is(decoded.length, 8000);
  t.deepEqual([decoded[0], decoded[7999]], [200, -800]);
});

test('a decoder that changes its sample rate mid-stream stops the transcoder with the codec named', (t) => {
  const dec: PcmDecoder & { sampleRate: number } = {
    sampleRate: 8000,
    channels: 1,
    decode: (b) => new Int16Array(b.length),
    flush: () => new Int16Array(0),
  };
  const tc = new SpeechTranscoder(dec, 'mp2', () => undefined);
  tc.push(new Uint8Array(100), 0);
  dec.sampleRate = 16000;
  t.throws(() => tc.push(new Uint8Array(100), 900), { message: /mp2 changed from 8000 Hz/ });
});
