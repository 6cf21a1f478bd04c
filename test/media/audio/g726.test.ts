import test from 'ava';
import { G726Decoder, type G726Bits } from '../../../lib/media/audio/g726.js';
import { ffmpegDecode, ffmpegEncode, testSignal } from './ffmpeg-pcm.js';

const SOURCE = testSignal(8000 * 3);

for (const bits of [2, 3, 4] as G726Bits[]) {
  for (const packing of ['le', 'be'] as const) {
    const fmt = packing === 'le' ? 'g726le' : 'g726';
    test(`G.726 ${bits * 8} kbit/s (${fmt} packing) decodes to ffmpeg's decode, sample for sample`, async (t) => {
      const bytes = await ffmpegEncode(SOURCE, ['-c:a', fmt, '-b:a', `${bits * 8}k`, '-f', fmt]);
      t.is(bytes.length, (SOURCE.length * bits) / 8);
      const ref = await ffmpegDecode(bytes, ['-f', fmt, '-code_size', String(bits), '-ar', '8000']);
      const ours = new G726Decoder(bits, packing).decode(bytes);
      t.is(ours.length, ref.length);
      let differing = 0;
      for (let i = 0; i < ref.length; i++) if (ours[i] !== ref[i]) differing++;
      t.is(differing, 0);
    });
  }
}

test('a stream split at any byte decodes the same as in one piece (the state carries over)', async (t) => {
  const bytes = await ffmpegEncode(SOURCE, ['-c:a', 'g726le', '-b:a', '16k', '-f', 'g726le']);
  const whole = new G726Decoder(2).decode(bytes);
  const d = new G726Decoder(2);
  // Each view is valid until the next call (the PcmDecoder contract): copied out at once.
  const parts = [0, 333, 1000].map((from, i, at) => d.decode(bytes.subarray(from, at[i + 1])).slice());
  t.deepEqual(Array.from(parts.flatMap((p) => Array.from(p))), Array.from(whole));
});

test('code word sizes outside 2-4 bits are refused', (t) => {
  t.throws(() => new G726Decoder(5 as G726Bits), { instanceOf: RangeError });
});
