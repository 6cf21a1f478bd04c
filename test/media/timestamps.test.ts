import test from 'ava';
import { AudioTimeline, PTS_WRAP, ptsDelta, ptsOnCircle, VideoTimeline } from '../../lib/media/timestamps.js';

test('ptsOnCircle brings sums past the wrap and negative differences onto [0, 2^33)', (t) => {
  t.is(ptsOnCircle(0), 0);
  t.is(ptsOnCircle(PTS_WRAP - 1), PTS_WRAP - 1);
  t.is(ptsOnCircle(PTS_WRAP + 5), 5);
  t.is(ptsOnCircle(-1), PTS_WRAP - 1);
  t.is(ptsOnCircle(100 - (PTS_WRAP - 3500)), 3600);
});

test('ptsDelta is the short way round the 33-bit circle', (t) => {
  t.is(ptsDelta(100, 3700), 3600);
  t.is(ptsDelta(PTS_WRAP - 1800, 1800), 3600);
  t.is(ptsDelta(1800, PTS_WRAP - 1800), -3600);
});

test('steady 25 fps maps to 0, 3600, 7200 ...', (t) => {
  const tl = new VideoTimeline();
  t.deepEqual(
    [5000, 8600, 12200, 15800].map((p) => tl.next(p)),
    [0, 3600, 7200, 10800],
  );
  t.is(tl.rebases, 0);
});

test('PTS wrap at 2^33 stays monotonic and keeps the real spacing', (t) => {
  const tl = new VideoTimeline();
  const raw = [PTS_WRAP - 7200, PTS_WRAP - 3600, 0, 3600, 7200];
  t.deepEqual(
    raw.map((p) => tl.next(p)),
    [0, 3600, 7200, 10800, 14400],
  );
  t.is(tl.rebases, 0);
});

test('a forward clock jump continues from the previous frame + nominal duration, then follows the new clock', (t) => {
  const tl = new VideoTimeline();
  const out = [1000, 4000, 7000, 7000 + 90000 * 3600, 7000 + 90000 * 3600 + 3000].map((p) => tl.next(p));
  t.deepEqual(out, [0, 3000, 6000, 9000, 12000]);
  t.is(tl.rebases, 1);
});

test('a backward step (clock set back) never goes backwards in output', (t) => {
  const tl = new VideoTimeline({ frameTicks: 3600 });
  const out = [900000, 903600, 907200, 100, 3700].map((p) => tl.next(p));
  t.deepEqual(out, [0, 3600, 7200, 10800, 14400]);
  t.is(tl.rebases, 1);
});

test('a small forward gap (dropped frames) is kept, missing PTS are interpolated', (t) => {
  const tl = new VideoTimeline();
  t.deepEqual(
    [0, 3600, 18000, undefined, 25200, 28800].map((p) => tl.next(p)),
    [0, 3600, 18000, 21600, 25200, 28800],
  );
  t.is(tl.frameTicks, 3600);
  t.is(tl.rebases, 0);
});

test('audio follows the video timeline, drops what precedes the first frame and never overlaps', (t) => {
  const video = new VideoTimeline();
  const audio = new AudioTimeline(video);
  t.is(audio.next(1000, 5760), null); // before any video frame
  video.next(PTS_WRAP - 3600); // out 0
  t.is(audio.next(PTS_WRAP - 7200, 5760), null); // 40 ms before the first frame
  t.is(audio.next(PTS_WRAP - 3600, 5760), 0);
  t.is(audio.next(PTS_WRAP - 3600 + 5760, 5760), 5760);
  video.next(0); // wrapped: out 3600
  t.is(audio.next(5760 * 2 - 3600, 5760), 11520);
  t.is(audio.next(5760 * 3 - 3600 - 100, 5760), 17280, 'jitter overlap pushed to the previous end');
  t.is(audio.next(5760 * 2 + 90000 * 500, 5760), 23040, 'audio clock jump continues');
  t.is(audio.next(100, 5760), 28800, 'audio clock going back continues');
  t.is(audio.rebases, 2);
});
