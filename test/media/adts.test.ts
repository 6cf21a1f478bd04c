import test from 'ava';
import { AdtsFramer, type AacFrame } from '../../lib/media/adts.js';
import type { PtsMarks } from '../../lib/media/pts-marks.js';

/** One AAC-LC 16 kHz mono ADTS frame (7-byte header, no CRC) with `payload` bytes. */
function adtsFrame(payload: number): Buffer {
  const length = 7 + payload;
  const header = Buffer.from([
    0xff,
    0xf1,
    0x60,
    0x40 | (length >> 11),
    (length >> 3) & 0xff,
    ((length & 7) << 5) | 0x1f,
    0xfc,
  ]);
  return Buffer.concat([header, Buffer.alloc(payload, 0x21)]);
}

test('frames split anywhere are delivered whole, each with the PTS of the PES it starts in', (t) => {
  const frames: AacFrame[] = [];
  const f = new AdtsFramer((a) => frames.push(a));
  const two = Buffer.concat([adtsFrame(100), adtsFrame(50)]);
  f.push(two.subarray(0, 60), 1000);
  f.push(two.subarray(60, 110), 2000);
  f.push(two.subarray(110));
  t.deepEqual(
    frames.map((a) => [a.data.length, a.pts, a.sampleRate, a.channels, a.objectType]),
    [
      [100, 1000, 16000, 1, 2],
      [50, 2000, 16000, 1, 2],
    ],
  );
});

test('audio without sync words keeps one PTS mark, not one per PES; the next frame still gets the latest', (t) => {
  const frames: AacFrame[] = [];
  const f = new AdtsFramer((a) => frames.push(a));
  const junk = Buffer.alloc(16, 0x21);
  for (let i = 0; i < 10_000; i++) f.push(junk, 1000 + i * 1920);
  const marks = (f as unknown as { marks: PtsMarks }).marks.size;
  t.true(marks <= 2, `${marks} marks pending`);
  f.push(adtsFrame(20));
  t.deepEqual(
    frames.map((a) => a.pts),
    [1000 + 9_999 * 1920],
  );
  t.is(f.stats.garbageBytes, 10_000 * 16);
});

test('pushed bytes are parsed in place but never kept: frames and a straddling tail survive the reuse of the input buffer', (t) => {
  const frames: AacFrame[] = [];
  const f = new AdtsFramer((a) => frames.push(a));
  const stream = Buffer.concat([adtsFrame(100), adtsFrame(50), adtsFrame(70), adtsFrame(30)]);
  const want = [100, 50, 70, 30].map((n) => Buffer.alloc(n, 0x21));
  const reused = Buffer.alloc(stream.length);
  // Whole frames in the first push (parsed where they are), then a frame cut across two pushes.
  for (const [from, to] of [
    [0, 157],
    [157, 200],
    [200, stream.length],
  ] as const) {
    stream.copy(reused, 0, from, to);
    f.push(reused.subarray(0, to - from));
    reused.fill(0xee); // a framer that kept a view would now hand out 0xee bytes
  }
  t.deepEqual(
    frames.map((a) => a.data),
    want,
  );
});
