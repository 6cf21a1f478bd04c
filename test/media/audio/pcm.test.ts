import test from 'ava';
import { PcmS16Decoder } from '../../../lib/media/audio/pcm.js';

test('16-bit little-endian PCM: samples as written, a sample cut by a PES boundary joined', (t) => {
  const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234, -4321]);
  const bytes = new Uint8Array(samples.buffer);
  const d = new PcmS16Decoder();
  const got = [...d.decode(bytes.subarray(0, 3)), ...d.decode(bytes.subarray(3, 8)), ...d.decode(bytes.subarray(8))];
  t.deepEqual(got, Array.from(samples));
  t.is(d.flush().length, 0);
  t.is(d.sampleRate, 8000);
  t.is(d.channels, 1);
});

test('big-endian and stereo: whole sample frames only', (t) => {
  const d = new PcmS16Decoder(16000, 2, false);
  t.deepEqual(Array.from(d.decode(Uint8Array.from([0x01, 0x02, 0xff, 0xfe, 0x00]))), [0x0102, -2]);
  t.deepEqual(Array.from(d.decode(Uint8Array.from([0x05, 0x00, 0x07]))), [5, 7]);
});

test('bad parameters are refused', (t) => {
  t.throws(() => new PcmS16Decoder(0), { instanceOf: RangeError });
  t.throws(() => new PcmS16Decoder(8000, 3), { instanceOf: RangeError });
});
