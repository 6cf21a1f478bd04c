/**
 * Fuzzing the parameter-set parsers: the SPS/VPS of a damaged recording is any bytes. The parsers throw only
 * ParameterSetError (their documented error; the bit reader's BitstreamError never escapes), finish, loop and
 * allocate nothing by a count read from the bits, and what they return is within what the syntax allows.
 */
import test from 'ava';
import fc from 'fast-check';
import { parseH264Sps, parseH265Sps, ParameterSetError, type VideoParams } from '../../lib/media/sps.js';
import { loadVideoFixture } from '../../tools/synthetic/fixtures.js';
import { fuzzParams, largestAllocation, withDeadline } from '../helpers/fuzz.js';
import { mutated, slices } from './fuzz-inputs.js';

type Parse = (nal: Uint8Array) => unknown;

/** Runs the parser: true when it returned a well-formed value or threw ParameterSetError. */
function onlyParameterSetError(parse: Parse, wellFormed: (v: never) => boolean, nal: Uint8Array): boolean {
  let v: unknown;
  try {
    v = parse(nal);
  } catch (e) {
    if (e instanceof ParameterSetError) return true;
    throw e;
  }
  return wellFormed(v as never);
}

const inRange = (v: number, min: number, max: number): boolean => Number.isInteger(v) && v >= min && v <= max;

function wellFormedSps(p: VideoParams): boolean {
  const common =
    inRange(p.width, 1, 16384) &&
    inRange(p.height, 1, 16384) &&
    inRange(p.profileIdc, 0, 255) &&
    inRange(p.levelIdc, 0, 255) &&
    inRange(p.chromaFormatIdc, 0, 3) &&
    inRange(p.bitDepthLumaMinus8, 0, 8) &&
    inRange(p.bitDepthChromaMinus8, 0, 8) &&
    (p.fps === undefined || (p.fps >= 1 && p.fps <= 240));
  if (p.codec === 'h264') return common && /^avc1\.[0-9A-F]{6}$/.test(p.codecString) && p.bitDepthLumaMinus8 <= 6;
  const h = p.hevc;
  return (
    common &&
    h !== undefined &&
    /^hvc1\.[ABC]?\d+\.[0-9A-F]+\.[LH]\d+(\.[0-9A-F]{1,2})*$/.test(p.codecString) &&
    inRange(h.maxSubLayers, 1, 7) &&
    h.constraintBytes.length === 6 &&
    h.constraintBytes.every((b) => inRange(b, 0, 255))
  );
}

/** The distinct parameter sets of NAL type `type` in both fixtures of a codec. */
async function parameterSets(codec: 'h264' | 'h265', type: number): Promise<Buffer[]> {
  const seen = new Map<string, Buffer>();
  for (const size of ['small', 'large'] as const) {
    for (const f of (await loadVideoFixture(codec, size)).frames) {
      for (const n of f.nals) {
        const t = codec === 'h264' ? n[0]! & 0x1f : (n[0]! >> 1) & 0x3f;
        if (t === type) seen.set(n.toString('hex'), Buffer.from(n));
      }
    }
  }
  return [...seen.values()];
}

const H264_SPS = await parameterSets('h264', 7);
const H265_SPS = await parameterSets('h265', 33);

/** Random bits after a valid NAL header. */
const withHeader = (header: number[]): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength: 64, size: 'max' }).map((a) => Buffer.concat([Buffer.from(header), a]));
/** Damaged and cut copies of real parameter sets. */
const damaged = (sets: Buffer[]): fc.Arbitrary<Buffer> =>
  fc.oneof(...sets.map((s) => mutated(s, 6)), ...sets.map((s) => slices(s)));

/** MSB-first bits, with Exp-Golomb codes: to write parameter sets that declare huge counts and sizes. */
class Bits {
  private readonly bits: number[] = [];
  u(n: number, v: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(v / 2 ** i) % 2);
    return this;
  }
  ue(v: number): this {
    const len = Math.floor(Math.log2(v + 1));
    return this.u(len, 0).u(len + 1, v + 1);
  }
  bytes(header: number[]): Buffer {
    const out = [...header];
    for (let i = 0; i < this.bits.length; i += 8)
      out.push(
        Number.parseInt(
          this.bits
            .slice(i, i + 8)
            .join('')
            .padEnd(8, '0'),
          2,
        ),
      );
    return Buffer.from(out);
  }
}

/** An Exp-Golomb value: mostly a valid one from `valid`, sometimes anything up to 2^32 - 2 (the most ue(v) reads). */
const ue = (valid: fc.Arbitrary<number>): fc.Arbitrary<number> =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: fc.nat(2 ** 32 - 2) });
const ueValue = ue(fc.nat(20));
const cropWindow = fc.option(fc.tuple(ue(fc.nat(3)), ue(fc.nat(3)), ue(fc.nat(3)), ue(fc.nat(3))));

/** H.264 SPS written field by field (7.3.2.1.1) with random values: parses reach every field. */
const h264Grammar = fc
  .record({
    profile: fc.constantFrom(66, 77, 100, 110, 122, 244),
    level: fc.nat(255),
    chroma: ue(fc.nat(3)),
    depthLuma: ue(fc.nat(8)),
    depthChroma: ue(fc.nat(8)),
    pocType: ue(fc.nat(2)),
    cycle: ueValue,
    width: ueValue,
    height: ueValue,
    frameMbsOnly: fc.nat(1),
    crop: cropWindow,
    tail: fc.uint8Array({ maxLength: 12 }),
  })
  .map((f) => {
    const b = new Bits().u(8, f.profile).u(8, 0).u(8, f.level).ue(0);
    if (f.profile >= 100) b.ue(f.chroma).ue(f.depthLuma).ue(f.depthChroma).u(1, 0).u(1, 0);
    b.ue(0).ue(f.pocType);
    if (f.pocType === 0) b.ue(0);
    else if (f.pocType === 1) {
      b.u(1, 0)
        .ue(0)
        .ue(0)
        .ue(f.cycle % 300);
      for (let i = 0; i < f.cycle % 300; i++) b.ue(0);
    }
    b.ue(1).u(1, 0).ue(f.width).ue(f.height).u(1, f.frameMbsOnly);
    if (!f.frameMbsOnly) b.u(1, 0);
    b.u(1, 1).u(1, f.crop ? 1 : 0);
    if (f.crop) for (const v of f.crop) b.ue(v);
    return Buffer.concat([b.bytes([0x67]), f.tail]);
  });

/** H.265 SPS written field by field (7.3.2.2) with random values, then random bits. */
const h265Grammar = fc
  .record({
    subLayers: fc.nat(7),
    ptl: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    chroma: ue(fc.nat(3)),
    width: ue(fc.integer({ min: 8, max: 4096 })),
    height: ue(fc.integer({ min: 8, max: 4096 })),
    conf: cropWindow,
    depthLuma: ue(fc.nat(9)),
    depthChroma: ue(fc.nat(9)),
    tail: fc.uint8Array({ maxLength: 12 }),
  })
  .map((f) => {
    const b = new Bits().u(4, 0).u(3, f.subLayers).u(1, 1);
    for (const byte of f.ptl) b.u(8, byte);
    if (f.subLayers > 0) {
      for (let i = 0; i < f.subLayers; i++) b.u(2, 0);
      for (let i = f.subLayers; i < 8; i++) b.u(2, 0);
    }
    b.ue(0).ue(f.chroma);
    if (f.chroma === 3) b.u(1, 0);
    b.ue(f.width)
      .ue(f.height)
      .u(1, f.conf ? 1 : 0);
    if (f.conf) for (const v of f.conf) b.ue(v);
    b.ue(f.depthLuma).ue(f.depthChroma);
    return Buffer.concat([b.bytes([0x42, 0x01]), f.tail]);
  });

const cases: Array<[string, Parse, (v: never) => boolean, fc.Arbitrary<Buffer>, fc.Arbitrary<Buffer>]> = [
  ['H.264 SPS', parseH264Sps, wellFormedSps, fc.oneof(withHeader([0x67]), h264Grammar), damaged(H264_SPS)],
  ['H.265 SPS', parseH265Sps, wellFormedSps, fc.oneof(withHeader([0x42, 0x01]), h265Grammar), damaged(H265_SPS)],
];

for (const [name, parse, wellFormed, random, real] of cases) {
  test(`${name}: random bits and fields, damaged and cut real ones: only ParameterSetError, or values the syntax allows`, (t) => {
    t.true(H264_SPS.length > 0 && H265_SPS.length > 0, 'fixtures hold parameter sets');
    fc.assert(
      fc.property(
        fc.oneof(
          random,
          real,
          fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
        ),
        withDeadline((nal) => onlyParameterSetError(parse, wellFormed, nal)),
      ),
      fuzzParams(),
    );
    t.pass();
  });
}

/** H.264 SPS (Main profile) up to pic_order_cnt_type, then `rest`. */
const h264SpsHead = (): Bits => new Bits().u(8, 77).u(8, 0).u(8, 30).ue(0).ue(0);

test.serial(
  'counts and sizes near 2^32 in an SPS: ParameterSetError at once, nothing looped over or allocated',
  async (t) => {
    const huge = 2 ** 32 - 2;
    const nals = [
      // pic_order_cnt_type 1 with num_ref_frames_in_pic_order_cnt_cycle = 2^32 - 2 (the loop count).
      h264SpsHead().ue(1).u(1, 0).ue(0).ue(0).ue(huge).bytes([0x67]),
      // pic_width_in_mbs_minus1 = 2^32 - 2.
      h264SpsHead().ue(0).ue(0).ue(1).u(1, 0).ue(huge).ue(8).u(1, 1).u(1, 1).u(1, 0).bytes([0x67]),
      // An Exp-Golomb code with 40 leading zeros.
      Buffer.concat([Buffer.from([0x67, 77, 0, 30]), Buffer.alloc(5, 0), Buffer.from([0x80])]),
      // High profile: bit_depth_luma_minus8 = 2^32 - 2.
      new Bits().u(8, 100).u(8, 0).u(8, 30).ue(0).ue(1).ue(huge).ue(0).u(1, 0).u(1, 0).bytes([0x67]),
    ];
    for (const nal of nals) {
      const { largest, result } = await largestAllocation(() => {
        try {
          return parseH264Sps(nal);
        } catch (e) {
          return e;
        }
      });
      t.true(result instanceof ParameterSetError, `${nal.toString('hex')}: ${String(result)}`);
      t.true(largest <= nal.length, `largest allocation ${largest}`);
    }
  },
);
