import test from 'ava';
import { ALAW_TO_PCM, decodeG711, ULAW_TO_PCM } from '../../../lib/media/audio/g711.js';
import { ffmpegDecode } from './ffmpeg-pcm.js';

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);

test('every A-law code decodes to what ffmpeg decodes it to', async (t) => {
  const ref = await ffmpegDecode(ALL_CODES, ['-f', 'alaw', '-ar', '8000', '-ac', '1']);
  t.deepEqual(Array.from(decodeG711('alaw', ALL_CODES)), Array.from(ref));
});

test('every mu-law code decodes to what ffmpeg decodes it to', async (t) => {
  const ref = await ffmpegDecode(ALL_CODES, ['-f', 'mulaw', '-ar', '8000', '-ac', '1']);
  t.deepEqual(Array.from(decodeG711('ulaw', ALL_CODES)), Array.from(ref));
});

test('the G.711 tables are symmetric and span the 13/14-bit ranges of the standard', (t) => {
  t.is(Math.max(...ALAW_TO_PCM), 32256);
  t.is(Math.min(...ALAW_TO_PCM), -32256);
  t.is(Math.max(...ULAW_TO_PCM), 32124);
  t.is(Math.min(...ULAW_TO_PCM), -32124);
  t.is(ALAW_TO_PCM[0xd5], 8); // A-law "zero" (0x55 with the sign bit set) is the smallest positive step
  t.is(ULAW_TO_PCM[0xff], 0);
});

test('decoding into a short output buffer is refused', (t) => {
  t.throws(() => decodeG711('alaw', ALL_CODES, new Int16Array(10)), { instanceOf: RangeError });
});
