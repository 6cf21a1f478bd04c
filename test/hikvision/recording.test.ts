import test from 'ava';
import { MAX_STAMP_DRIFT_SEC, ptsMismatch } from '../../lib/hikvision/recording.js';

const TICKS = 90_000;

test('ptsMismatch: frames whose PTS match the slot stamps (PTS = 2 x stamp) belong to it', (t) => {
  const stamps = { firstStamp: 1_000_000, lastStamp: 1_000_000 + 30 * 45_000 };
  t.is(ptsMismatch(stamps, { first: 2_000_000, last: 2_000_000 + 30 * TICKS }), null);
  t.is(ptsMismatch(stamps, { first: 2_000_000 + 3600, last: 2_000_000 + 30 * TICKS - 3600 }), null, 'a frame off');
});

test('ptsMismatch: bytes of another recording (hours away on the PTS circle) are refused, first or last', (t) => {
  const stamps = { firstStamp: 1_000_000, lastStamp: 1_000_000 + 30 * 45_000 };
  const eightHours = 8 * 3600 * TICKS;
  t.regex(ptsMismatch(stamps, { first: 2_000_000 + eightHours, last: 2_000_000 + 30 * TICKS }) ?? '', /first frame/);
  t.regex(ptsMismatch(stamps, { first: 2_000_000, last: 2_000_000 + eightHours }) ?? '', /last frame/);
  const beyond = (MAX_STAMP_DRIFT_SEC + 1) * TICKS;
  t.not(ptsMismatch(stamps, { first: 2_000_000 - beyond, last: 2_000_000 + 30 * TICKS }), null, 'just past the window');
});

test('ptsMismatch: the 33-bit PTS wrap and the 32-bit stamp wrap agree; zero stamps check nothing', (t) => {
  // Stamp near the top of u32: 2 x stamp is past 2^32 but below 2^33; the PTS wrapped to just above 0.
  const stamp = 2 ** 32 - 10;
  t.is(ptsMismatch({ firstStamp: stamp, lastStamp: 5 }, { first: 2 ** 33 - 20, last: 10 + TICKS }), null);
  t.is(ptsMismatch({ firstStamp: 0, lastStamp: 0 }, { first: 123, last: 456 }), null);
});
