/**
 * Fuzzing the ADTS framer: the audio elementary stream of a damaged recording is any bytes. Whatever they are and
 * however PES payloads cut them, the framer throws nothing (it documents no error: damage is counted in its stats),
 * delivers only frames whose bytes are input bytes with the parameters ADTS can say, gives each PTS to at most one
 * frame in stream order, and allocates nothing from the 13-bit frame length beyond what that field can say.
 */
import test from 'ava';
import fc from 'fast-check';
import { AAC_SAMPLE_RATES, AdtsFramer, type AacFrame } from '../../lib/media/adts.js';
import { fuzzParams, largestAllocation, withDeadline } from '../helpers/fuzz.js';
import { loadAudioFixture } from '../../tools/synthetic/fixtures.js';
import { fixtureAdts, mutated, piecesComeFrom, pushChunked } from './fuzz-inputs.js';

interface Segment {
  bytes: Buffer;
  pts: number | undefined;
}

/** The largest ADTS frame: frame_length is 13 bits. */
const MAX_ADTS_FRAME = 8191;

function frame(segments: readonly Segment[], sizes: readonly number[] | null): { frames: AacFrame[]; f: AdtsFramer } {
  const frames: AacFrame[] = [];
  const f = new AdtsFramer((a) => frames.push(a));
  for (const s of segments) {
    if (sizes === null) {
      f.push(s.bytes, s.pts);
      continue;
    }
    let first = true;
    pushChunked(s.bytes, sizes, (chunk) => {
      f.push(chunk, first ? s.pts : undefined);
      first = false;
    });
  }
  return { frames, f };
}

const view = (frames: AacFrame[]): string =>
  JSON.stringify(frames.map((a) => [a.data.toString('base64'), a.pts, a.objectType, a.sampleRate, a.channels]));

/** Whether `sub` is a subsequence of `seq`: each delivered PTS comes from a later PES than the one before. */
function isSubsequence(sub: readonly number[], seq: readonly number[]): boolean {
  let i = 0;
  for (const v of seq) if (i < sub.length && sub[i] === v) i++;
  return i === sub.length;
}

function check(segments: readonly Segment[], sizes: readonly number[]): boolean {
  const input = Buffer.concat(segments.map((s) => s.bytes));
  const { frames, f } = frame(segments, null);
  if (f.stats.frames !== frames.length) return false;
  if (
    !piecesComeFrom(
      input,
      frames.map((a) => a.data),
    )
  )
    return false;
  const valid = frames.every(
    (a) =>
      a.data.length >= 1 &&
      a.data.length <= MAX_ADTS_FRAME - 7 &&
      a.objectType >= 1 &&
      a.objectType <= 4 &&
      AAC_SAMPLE_RATES.includes(a.sampleRate) &&
      a.channels >= 1 &&
      a.channels <= 7 &&
      a.samples === 1024,
  );
  if (!valid) return false;
  const pushed = segments.flatMap((s) => (s.pts === undefined ? [] : [s.pts]));
  const given = frames.flatMap((a) => (a.pts === undefined ? [] : [a.pts]));
  if (!isSubsequence(given, pushed)) return false;
  return view(frame(segments, sizes).frames) === view(frames);
}

/** Bytes cut into PES-like segments (cuts cycled to the end), some carrying a distinct PTS. */
function segmented(bytes: fc.Arbitrary<Buffer>): fc.Arbitrary<Segment[]> {
  const cut = fc.tuple(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1500 })), fc.boolean());
  return fc.tuple(bytes, fc.array(cut, { minLength: 1, maxLength: 20, size: 'medium' })).map(([b, cuts]) => {
    const out: Segment[] = [];
    for (let at = 0; at < b.length;) {
      const [len, hasPts] = cuts[out.length % cuts.length]!;
      out.push({ bytes: b.subarray(at, at + len), pts: hasPts ? 1000 + out.length * 1920 : undefined });
      at += len;
    }
    return out;
  });
}

/** One ADTS frame with random header bits (profile, rate index, channels, CRC flag, raw blocks) and its payload. */
const adtsFrame = fc
  .record({
    // Mostly what a framer must accept (MPEG-4 or -2 sync, with or without CRC), sometimes any bits.
    b1: fc.oneof(fc.constantFrom(0xf1, 0xf9, 0xf0), fc.integer({ min: 0xf0, max: 0xff })),
    b2: fc.oneof(fc.constantFrom(0x50, 0x60, 0x61), fc.nat(255)),
    b3: fc.nat(255),
    b6: fc.oneof(fc.constant(0xfc), fc.nat(255)),
    payload: fc.uint8Array({ minLength: 1, maxLength: 200, size: 'max' }).map((a) => Buffer.from(a)),
  })
  .map(({ b1, b2, b3, b6, payload }) => {
    const h = Buffer.alloc((b1 & 1) === 0 ? 9 : 7, 0x5a);
    const len = h.length + payload.length;
    h[0] = 0xff;
    h[1] = b1;
    h[2] = b2;
    h[3] = (b3 & 0xfc) | (len >> 11);
    h[4] = (len >> 3) & 0xff;
    h[5] = ((len & 7) << 5) | 0x1f;
    h[6] = b6;
    const valid = (b1 & 0xf6) === 0xf0; // syncword and layer 0
    const channels = ((b2 & 1) << 2) | (b3 >> 6);
    const supported = valid && ((b2 >> 2) & 0x0f) < 13 && channels !== 0 && (b6 & 3) === 0;
    return { bytes: Buffer.concat([h, payload]), payload, valid, supported };
  });

/** ADTS frames (some with a frame length that does not fit) between random bytes. */
const adtsLike = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 64, size: 'max' }),
      adtsFrame.map((f) => f.bytes),
      fc.tuple(adtsFrame, fc.nat(8191)).map(([f, len]) => {
        const b = Buffer.from(f.bytes);
        b[3] = (b[3]! & 0xfc) | (len >> 11);
        b[4] = (len >> 3) & 0xff;
        b[5] = ((len & 7) << 5) | 0x1f;
        return b;
      }),
    ),
    { minLength: 1, maxLength: 40, size: 'medium' },
  )
  .map((parts) => Buffer.concat(parts));

const sizes = fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 });
const AAC = await fixtureAdts();

test('random bytes in any PES cuts: no exception, frames are input bytes with valid parameters, cut-independent', (t) => {
  fc.assert(
    fc.property(
      segmented(fc.uint8Array({ maxLength: 4096, size: 'max' }).map((a) => Buffer.from(a))),
      sizes,
      withDeadline(check),
    ),
    fuzzParams(),
  );
  t.pass();
});

test('ADTS-like bytes (sync words, random header bits): the same properties', (t) => {
  fc.assert(fc.property(segmented(adtsLike), sizes, withDeadline(check)), fuzzParams());
  t.pass();
});

test('well-formed frames with any header bits: exactly the payloads of the ones AAC-in-MP4 can carry', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        adtsFrame.filter((f) => f.valid),
        { minLength: 1, maxLength: 30 },
      ),
      sizes,
      withDeadline((list, s) => {
        const segments = [{ bytes: Buffer.concat(list.map((f) => f.bytes)), pts: undefined }];
        const { frames, f } = frame(segments, s);
        const want = list.filter((x) => x.supported).map((x) => x.payload);
        return (
          frames.length === want.length &&
          frames.every((a, i) => a.data.equals(want[i]!)) &&
          f.stats.unsupportedFrames === list.length - want.length &&
          f.stats.garbageBytes === 0
        );
      }),
    ),
    fuzzParams(0.5),
  );
  t.pass();
});

test('a damaged AAC stream: the same properties', (t) => {
  fc.assert(fc.property(segmented(mutated(AAC)), sizes, withDeadline(check)), fuzzParams(0.5));
  t.pass();
});

test('an intact AAC stream in any PES cuts: exactly its frames, each with the PTS of the PES it starts in', async (t) => {
  const { audio } = await loadAudioFixture('aac');
  const starts: number[] = [];
  for (let at = 0, i = 0; i < audio.frames.length; at += audio.frames[i]!.length, i++) starts.push(at);
  fc.assert(
    fc.property(
      segmented(fc.constant(AAC)),
      sizes,
      withDeadline((segments, s) => {
        const { frames } = frame(segments, s);
        if (frames.length !== audio.frames.length) return false;
        // The PTS of frame i: the last PES starting after frame i-1's header and at or before frame i's.
        let segStart = 0;
        const segStarts = segments.map((g) => (segStart += g.bytes.length) - g.bytes.length);
        return frames.every((a, i) => {
          const from = i === 0 ? -1 : starts[i - 1]!;
          const carrier = segments.findLast(
            (g, k) => g.pts !== undefined && segStarts[k]! > from && segStarts[k]! <= starts[i]!,
          );
          return a.data.equals(audio.frames[i]!.subarray(7)) && a.pts === carrier?.pts;
        });
      }),
    ),
    fuzzParams(0.5),
  );
  t.pass();
});

test('an AAC stream cut at its end delivers a prefix of the frames of the whole stream', (t) => {
  const whole = frame([{ bytes: AAC, pts: undefined }], null).frames;
  fc.assert(
    fc.property(
      fc.nat(AAC.length),
      sizes,
      withDeadline((len, s) => {
        const { frames } = frame([{ bytes: AAC.subarray(0, len), pts: undefined }], s);
        return frames.length <= whole.length && frames.every((a, i) => a.data.equals(whole[i]!.data));
      }),
    ),
    fuzzParams(0.5),
  );
  t.pass();
});

test.serial(
  'a header declaring the largest frame in a tiny input: no frame, allocations bounded by the field',
  async (t) => {
    // Sync, AAC-LC 16 kHz mono, frame_length 8191, then 10 bytes, pushed one byte at a time.
    const header = Buffer.from([0xff, 0xf1, 0x60, 0x43, 0xff, 0xfc, 0xfc]);
    const bytes = Buffer.concat([header, Buffer.alloc(10, 0x21)]);
    const { largest, result } = await largestAllocation(() => frame([{ bytes, pts: 1000 }], [1]));
    t.is(result.frames.length, 0, 'a frame that is not all there is never delivered');
    t.true(largest <= MAX_ADTS_FRAME + 1, `largest allocation ${largest}`);
  },
);
