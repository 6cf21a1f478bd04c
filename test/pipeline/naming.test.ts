import test from 'ava';
import fc from 'fast-check';
import { fileName, formatStamp, outputPath, parseFileName } from '../../lib/pipeline/naming.js';

test('camera-local seconds are formatted with UTC getters (what the camera clock showed)', (t) => {
  // 2024-03-31 02:30:00 does not exist in Europe/Amsterdam, but the camera wrote it: keep it verbatim.
  const sec = Date.UTC(2024, 2, 31, 2, 30, 0) / 1000;
  t.is(formatStamp(sec), '2024-03-31_02-30-00');
  t.is(fileName('garden', sec, 'mp4'), '2024-03-31_02-30-00-garden.mp4');
  t.is(fileName('garden', sec, 'mp4', 2), '2024-03-31_02-30-00-garden-2.mp4');
  t.is(outputPath('garden', 'picture', fileName('garden', sec, 'jpg')), 'garden/images/2024-03-31_02-30-00-garden.jpg');
});

test('parseFileName inverts fileName, also for tags that end in -<digits>', (t) => {
  const sec = Date.UTC(2025, 0, 2, 3, 4, 5) / 1000;
  t.deepEqual(parseFileName('2025-01-02_03-04-05-garden-3.mp4', 'garden'), { sec, tag: 'garden', n: 3, ext: 'mp4' });
  t.deepEqual(parseFileName('2025-01-02_03-04-05-cam-2.jpg', 'cam-2'), { sec, tag: 'cam-2', n: 1, ext: 'jpg' });
  t.is(parseFileName('2025-01-02_03-04-05-other.mp4', 'garden'), null);
  t.is(parseFileName('2025-13-02_03-04-05-garden.mp4', 'garden'), null, 'month 13 is not a name we write');
  t.is(parseFileName('notes.txt', 'garden'), null);
});

test('property: parseFileName(fileName(x)) round-trips', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4_102_444_800 }),
      fc.integer({ min: 1, max: 999 }),
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/),
      fc.constantFrom('mp4', 'mov', 'jpg'),
      (sec, n, tag, ext) => {
        const parsed = parseFileName(fileName(tag, sec, ext, n), tag);
        return parsed !== null && parsed.sec === sec && parsed.n === n && parsed.ext === ext && parsed.tag === tag;
      },
    ),
  );
  t.pass();
});
