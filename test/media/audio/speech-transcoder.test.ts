import test from 'ava';
import { SpeechTranscoder, type TranscodedPacket } from '../../../lib/media/audio/speech-transcoder.js';

const PTS_WRAP = 2 ** 33;

function run(codec: 'alaw' | 'g726', packets: Array<{ bytes: number; pts?: number }>) {
  const out: TranscodedPacket[] = [];
  const tc = new SpeechTranscoder(codec, (p) => out.push(p));
  for (const p of packets) tc.push(new Uint8Array(p.bytes).fill(0x55), p.pts);
  tc.flush();
  return { out, tc };
}

test('each Opus packet has the source PTS of its first sample, across the 33-bit wrap', (t) => {
  // 40 ms G.711 packets (320 bytes) whose PTS wraps after the 5th.
  const base = PTS_WRAP - 5 * 3600;
  const packets = Array.from({ length: 30 }, (_, i) => ({ bytes: 320, pts: (base + i * 3600) % PTS_WRAP }));
  const { out } = run('alaw', packets);
  t.is(out.length, 20); // 30 x 320 samples = 20 x 480
  t.deepEqual(
    out.map((p) => p.pts),
    out.map((_, k) => (base + k * 5400) % PTS_WRAP),
  );
  t.true(out.every((p) => p.durationTicks === 5400));
});

test('a PES without a PTS continues from the previous one; before any PTS the first one is extrapolated back', (t) => {
  const { out } = run('alaw', [{ bytes: 240 }, { bytes: 240, pts: 90000 }, { bytes: 480 }]);
  // Samples 0..959: the PTS 90000 belongs to sample 240, so sample 0 is at 90000 - 240 x 11.25.
  t.deepEqual(
    out.map((p) => p.pts),
    [90000 - 2700, 90000 - 2700 + 5400],
  );
});

test('the end of the stream is encoded in shorter frames: the track ends within 2.5 ms of its source', (t) => {
  const { out } = run('alaw', [{ bytes: 480 + 320 + 40 + 7, pts: 0 }]);
  t.deepEqual(
    out.map((p) => p.durationTicks / 11.25),
    [480, 320, 40, 20], // the last 7 samples padded to 20 (2.5 ms)
  );
});

for (const [bytes, bits] of [
  [80, 2],
  [120, 3],
  [160, 4],
] as const) {
  test(`G.726: ${bytes} bytes per 40 ms PES is ${bits * 8} kbit/s`, (t) => {
    const packets = Array.from({ length: 10 }, (_, i) => ({ bytes, pts: 1000 + i * 3600 }));
    const { out, tc } = run('g726', packets);
    t.is(tc.g726Bits, bits);
    t.is(out.reduce((n, p) => n + p.durationTicks, 0) / 11.25, 3200);
  });
}

test('G.726 without two timestamps falls back to 16 kbit/s', (t) => {
  const { tc } = run('g726', [{ bytes: 160, pts: 1000 }, { bytes: 160 }]);
  t.is(tc.g726Bits, 2);
});
