/**
 * Fuzzing access-unit assembly: the elementary stream of a damaged recording is any NAL soup. Whatever the bytes
 * and however they are pushed, the assembler throws nothing (it documents no error: damage is counted in its
 * stats), every access unit is a run of input bytes (Annex B) or exactly those NAL units length-prefixed, its
 * key / parameter-set flags say what it holds, and the result does not depend on how PES payloads are cut.
 */
import test from 'ava';
import fc from 'fast-check';
import { AccessUnitAssembler, MAX_ACCESS_UNIT_BYTES, type AccessUnit } from '../../lib/media/access-units.js';
import { PsDemuxer } from '../../lib/media/ps-demux.js';
import { fuzzParams, largestAllocation, withDeadline } from '../helpers/fuzz.js';
import { cameraStream, fixtureEs, mutated, piecesComeFrom, pushChunked, type Codec } from './fuzz-inputs.js';

/** Elementary-stream bytes as PES payloads bring them: each segment may carry a PTS for its first byte. */
interface Segment {
  bytes: Buffer;
  pts: number | undefined;
}

// The NAL unit classes of H.264 Table 7-1 / H.265 Table 7-1, written here from the specs (not from lib/media).
const nalTypeOf = (codec: Codec, header: number): number => (codec === 'h264' ? header & 0x1f : (header >> 1) & 0x3f);
const isVcl = (codec: Codec, t: number): boolean => (codec === 'h264' ? t >= 1 && t <= 5 : t <= 31);
const isIrap = (codec: Codec, t: number): boolean => (codec === 'h264' ? t === 5 : t >= 16 && t <= 23);
const PARAMETER_SETS: Record<Codec, number[]> = { h264: [7, 8], h265: [32, 33, 34] };

const START_CODE = Buffer.from([0, 0, 1]);

/** NAL units of an Annex-B byte run: between `00 00 01` start codes, trailing zero bytes left to the next one. */
function nalsOf(au: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = au.indexOf(START_CODE);
  while (at >= 0) {
    const next = au.indexOf(START_CODE, at + 3);
    let end = next < 0 ? au.length : next;
    while (end > at + 3 && au[end - 1] === 0) end--;
    if (end > at + 3) out.push(au.subarray(at + 3, end));
    at = next;
  }
  return out;
}

function lengthPrefixed(nals: Buffer[]): Buffer {
  return Buffer.concat(
    nals.flatMap((n) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(n.length);
      return [len, n];
    }),
  );
}

function assemble(
  codec: Codec,
  segments: readonly Segment[],
  sizes: readonly number[] | null,
  opts: { lengthPrefixed?: boolean } = {},
): { aus: AccessUnit[]; asm: AccessUnitAssembler } {
  const aus: AccessUnit[] = [];
  const asm = new AccessUnitAssembler(codec, (au) => aus.push(au), opts);
  for (const s of segments) {
    if (sizes === null) {
      asm.push(s.bytes, s.pts);
      continue;
    }
    let first = true;
    pushChunked(s.bytes, sizes, (chunk) => {
      asm.push(chunk, first ? s.pts : undefined);
      first = false;
    });
    if (s.bytes.length === 0) asm.push(s.bytes, s.pts);
  }
  asm.end();
  return { aus, asm };
}

const view = (aus: AccessUnit[]): string =>
  JSON.stringify(aus.map((a) => [a.data.toString('base64'), a.pts, a.dts, a.key, a.hasParameterSets]));

/**
 * The PTS the documented rule gives delivered unit i >= 1: the last PTS of a segment starting after the previous
 * unit's start code and at or before the end of this unit's start code (a PES may begin inside a start code).
 * Unit 0 is left out: units dropped before the first key frame took their marks, and where they began is unknown.
 */
function expectedPts(segments: readonly Segment[], prevStart: number, start: number): number | undefined {
  let pts: number | undefined;
  let at = 0;
  for (const s of segments) {
    if (at > start + 3) break;
    if (s.pts !== undefined && at > prevStart + 3) pts = s.pts;
    at += s.bytes.length;
  }
  return pts;
}

/**
 * The properties of one input: no exception; Annex-B units are runs of the input in order, start on a start code
 * and do not end in a zero byte; the flags match the NAL units; the first unit can start decoding; the PTS follows
 * the stream position (when the PTS values are distinct, as a camera writes them); stats count what was delivered;
 * length-prefixed units are the same NAL units; PES cuts do not matter.
 */
function check(codec: Codec, segments: readonly Segment[], sizes: readonly number[]): boolean {
  const es = Buffer.concat(segments.map((s) => s.bytes));
  const { aus, asm } = assemble(codec, segments, null);
  if (asm.stats.accessUnits !== aus.length) return false;
  if (
    !piecesComeFrom(
      es,
      aus.map((a) => a.data),
    )
  )
    return false;
  const ptsList = segments.flatMap((s) => (s.pts === undefined ? [] : [s.pts]));
  const distinctPts = new Set(ptsList).size === ptsList.length;
  // Units follow each other: the next one starts at the first start code after this one's (zero-trimmed) end.
  let start = es.indexOf(aus[0]?.data ?? Buffer.alloc(0));
  for (const [i, au] of aus.entries()) {
    const d = au.data;
    if (d.length > MAX_ACCESS_UNIT_BYTES || d[0] !== 0 || d[1] !== 0 || d[2] !== 1 || d[d.length - 1] === 0) {
      return false;
    }
    const types = nalsOf(d).map((n) => nalTypeOf(codec, n[0]!));
    if (!types.some((t) => isVcl(codec, t))) return false;
    if (au.key !== types.some((t) => isVcl(codec, t) && isIrap(codec, t))) return false;
    if (au.hasParameterSets !== PARAMETER_SETS[codec].every((p) => types.includes(p))) return false;
    if (i === 0 && !(au.key && au.hasParameterSets)) return false;
    if (i > 0) {
      const prevStart = start;
      start = es.indexOf(START_CODE, start + aus[i - 1]!.data.length);
      if (!es.subarray(start, start + d.length).equals(d)) return false;
      if (distinctPts && au.pts !== expectedPts(segments, prevStart, start)) return false;
    }
  }
  const prefixed = assemble(codec, segments, null, { lengthPrefixed: true }).aus;
  if (prefixed.length !== aus.length) return false;
  if (!prefixed.every((p, i) => p.data.equals(lengthPrefixed(nalsOf(aus[i]!.data))))) return false;
  return view(assemble(codec, segments, sizes).aus) === view(aus);
}

/** One NAL unit: a 3-, 4- or 5-byte start code, a header of an interesting (or any) type, a payload. */
function nal(codec: Codec): fc.Arbitrary<Buffer> {
  const types = codec === 'h264' ? [1, 5, 6, 7, 8, 9, 10, 12] : [1, 19, 21, 22, 32, 33, 34, 35, 39, 40, 36];
  return fc
    .tuple(
      fc.constantFrom([0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0, 1]),
      fc.oneof(fc.constantFrom(...types), fc.nat(codec === 'h264' ? 31 : 63)),
      fc.boolean(),
      fc.uint8Array({ maxLength: 120, size: 'max' }),
    )
    .map(([sc, type, firstSlice, payload]) => {
      const header = codec === 'h264' ? [0x60 | type] : [type << 1, 1];
      return Buffer.concat([Buffer.from([...sc, ...header, firstSlice ? 0x80 | 0x11 : 0x11]), payload]);
    });
}

/** A stream cut into PES-like segments, some with a PTS (distinct ones). */
function segmented(es: fc.Arbitrary<Buffer>): fc.Arbitrary<Segment[]> {
  const cut = fc.tuple(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 700 })), fc.boolean());
  return fc
    .tuple(es, fc.array(cut, { minLength: 1, maxLength: 40, size: 'medium' }), fc.nat(2 ** 33 - 1))
    .map(([bytes, cuts, firstPts]) => {
      const out: Segment[] = [];
      // The cuts are cycled until the stream is used up.
      for (let at = 0; at < bytes.length;) {
        const [len, hasPts] = cuts[out.length % cuts.length]!;
        // Distinct PTS values, wrapping at 2^33 like a camera's.
        const pts = hasPts ? (firstPts + out.length * 3600) % 2 ** 33 : undefined;
        out.push({ bytes: bytes.subarray(at, at + len), pts });
        at += len;
      }
      return out;
    });
}

/** A decodable start (parameter sets and a key frame) most of the time, then NAL units and junk in any order. */
const soup = (codec: Codec): fc.Arbitrary<Buffer> => {
  const start =
    codec === 'h264'
      ? Buffer.from([0, 0, 0, 1, 0x67, 0x4d, 0, 0, 0, 1, 0x68, 0xee, 0, 0, 1, 0x65, 0x88, 0x84])
      : Buffer.from([0, 0, 0, 1, 0x40, 1, 0xc, 0, 0, 0, 1, 0x42, 1, 1, 0, 0, 1, 0x44, 1, 0xc1, 0, 0, 1, 0x26, 1, 0xaf]);
  const part = fc.oneof(
    { weight: 6, arbitrary: nal(codec) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40, size: 'max' }) },
  );
  return fc
    .tuple(fc.boolean(), fc.array(part, { maxLength: 60, size: 'medium' }))
    .map(([decodable, parts]) => Buffer.concat(decodable ? [start, ...parts] : parts));
};

const sizes = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 });
const ES = { h264: await fixtureEs('h264'), h265: await fixtureEs('h265') };
const PS = { h264: await cameraStream('h264'), h265: await cameraStream('h265') };

for (const codec of ['h264', 'h265'] as const) {
  test(`${codec}: NAL soup in any PES cuts: no exception, units are input bytes with true flags, cut-independent`, (t) => {
    fc.assert(
      fc.property(
        segmented(soup(codec)),
        sizes,
        withDeadline((segs, s) => check(codec, segs, s)),
      ),
      fuzzParams(),
    );
    t.pass();
  });

  test(`${codec}: a damaged real elementary stream: the same properties`, (t) => {
    fc.assert(
      fc.property(
        segmented(mutated(ES[codec], 24)),
        sizes,
        withDeadline((segs, s) => check(codec, segs, s)),
      ),
      fuzzParams(0.25),
    );
    t.pass();
  });

  test(`${codec}: a damaged camera stream through the demuxer: the same properties on what it delivers`, (t) => {
    fc.assert(
      fc.property(
        mutated(PS[codec]),
        sizes,
        withDeadline((ps, s) => {
          const segments: Segment[] = [];
          const demuxer = new PsDemuxer({
            payload: (p) => {
              if (p.streamId === 0xe0) segments.push({ bytes: Buffer.from(p.data), pts: p.start ? p.pts : undefined });
            },
          });
          demuxer.push(ps);
          demuxer.end();
          return check(codec, segments, s);
        }),
      ),
      fuzzParams(0.5),
    );
    t.pass();
  });
}

test.serial(
  'a frame that never ends (no start code for more than the limit) is dropped; memory stays bounded',
  async (t) => {
    const chunk = Buffer.alloc(1 << 20, 0xab);
    const head = Buffer.from([0, 0, 0, 1, 0x67, 0x80, 0, 0, 1, 0x68, 0x80, 0, 0, 1, 0x65, 0x88]);
    const { largest, result } = await largestAllocation(() => {
      const aus: AccessUnit[] = [];
      const asm = new AccessUnitAssembler('h264', (au) => aus.push(au));
      asm.push(head, 90000);
      for (let n = 0; n <= MAX_ACCESS_UNIT_BYTES / chunk.length; n++) asm.push(chunk);
      asm.push(Buffer.concat([head, Buffer.from([1, 2, 3])]), 93600);
      asm.end({ lastComplete: true });
      return { aus, asm };
    });
    t.is(result.asm.stats.droppedOversize, 1);
    t.true(result.aus.every((a) => a.data.length <= MAX_ACCESS_UNIT_BYTES));
    t.is(result.aus.length, 1, 'the frame after it is delivered');
    t.true(largest <= 2 * (MAX_ACCESS_UNIT_BYTES + chunk.length), `largest allocation ${largest}`);
  },
);
