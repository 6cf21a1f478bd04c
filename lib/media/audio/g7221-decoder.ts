/**
 * ITU-T G.722.1 decoder (the 7 kHz "Siren 7" transform codec; not G.722 ADPCM, not Annex C), plain TypeScript,
 * written from the algorithm the Recommendation describes: per 20 ms frame of 320 samples at 16 kHz, the region
 * powers (the first one in 5 bits, the other 13 as Huffman-coded differences), the 4-bit rate-control index, the
 * categorisation (the same procedure the encoder ran, so both sides know each region's quantiser without sending it),
 * the MLT coefficients of each region as Huffman-coded vectors with sign bits, noise fill for the categories 5-7 that
 * send few or no bits, and the inverse MLT (a DCT-IV through a 160-point complex FFT, then the sine window's
 * overlap-add). The tables are in g7221-tables.ts.
 *
 * Input: the codec's frames back to back (40, 60 or 80 bytes at 16, 24 or 32 kbit/s; any even size in range), the
 * bit stream MSB first as RFC 5577 carries it; a PES may cut a frame: its bytes wait for the next payload. Output:
 * 320 samples a frame, the MLT's overlap making the output one frame late (the first frame's first half is silence),
 * as every G.722.1 decoder does. Bad bytes never throw: a frame whose bits do not add up (the Recommendation's frame
 * error) repeats the last good frame's coefficients once, then mutes.
 */
import type { PcmDecoder } from './pcm-decoder.js';
import {
  CENTROIDS,
  EXPECTED_BITS,
  NOISE_CATEGORY5,
  NOISE_CATEGORY6,
  NOISE_CATEGORY7,
  REGION_POWER_TREES,
  VECTOR_DIMENSION,
  VECTOR_ELEMENT_BITS,
  VECTOR_TREES,
  VECTORS_PER_REGION,
} from './g7221-tables.js';

export const G7221_SAMPLE_RATE = 16000;
/** Samples in a 20 ms frame (and MLT coefficients per frame). */
export const G7221_FRAME_SAMPLES = 320;
/** 16 kbit/s: what Hikvision cameras offer as "G.722.1"; the decoder's frame size when none is given. */
export const G7221_DEFAULT_FRAME_BYTES = 40;
/** Frame sizes taken: 8 to 48 kbit/s in steps of 800 bit/s (two bytes a frame). The standard rates are 16-32. */
export const G7221_MIN_FRAME_BYTES = 20;
export const G7221_MAX_FRAME_BYTES = 120;

/** 14 regions of 20 coefficients code 0-7 kHz; the 40 coefficients above are always 0. */
export const G7221_REGIONS = 14;
export const G7221_REGION_SIZE = 20;
export const G7221_RATE_CONTROL_POSSIBILITIES = 16;
/** The first region's 5-bit power code minus this is its power index. */
export const G7221_ESF_ADJUSTMENT = 7;
/** Power indexes are kept in this range (the standard deviation table's). */
const MIN_POWER = -24;
const MAX_POWER = 39;
/** A decoded power index above this cannot come from an encoder: a frame error. */
const MAX_VALID_POWER = 33;

/** Standard deviation of a region by power index p: 2^(p / 2), indexed p + 24. */
export const G7221_STD_DEV = Float64Array.from({ length: 64 }, (_, i) => 2 ** ((i + MIN_POWER) / 2));

export function isG7221FrameBytes(n: number): boolean {
  return Number.isInteger(n) && n % 2 === 0 && n >= G7221_MIN_FRAME_BYTES && n <= G7221_MAX_FRAME_BYTES;
}

const N = G7221_FRAME_SAMPLES;
const HALF = N / 2;

// Scratch of the categorisation (single-threaded use; no allocation per frame).
const maxRate = new Int32Array(G7221_REGIONS);
const minRate = new Int32Array(G7221_REGIONS);
const balanceRing = new Int32Array(2 * G7221_RATE_CONTROL_POSSIBILITIES);

/**
 * The categorisation procedure (G.722.1 clause 4.6, the same on both sides): from the region power indexes and the
 * bits left for the MLT vectors, the categories of rate control 0 (the most bits) in `categories`, and in `balance`
 * the 15 regions whose category goes up by one for each step of the rate-control index. False when the powers admit
 * no categorisation (only damaged frames).
 */
export function categorizeRegions(
  power: Int32Array,
  availableBits: number,
  categories: Int32Array,
  balance: Int32Array,
): boolean {
  const regions = G7221_REGIONS;
  // The offset: the largest that still spends at least (available - 32) bits, found by halving steps.
  let offset = -32;
  for (let delta = 32; delta > 0; delta >>= 1) {
    let expected = 0;
    for (let r = 0; r < regions; r++) {
      let c = (offset + delta - power[r]!) >> 1;
      c = c < 0 ? 0 : c > 7 ? 7 : c;
      expected += EXPECTED_BITS[c]!;
    }
    if (expected >= availableBits - 32) offset += delta;
  }
  let expected = 0;
  for (let r = 0; r < regions; r++) {
    let c = (offset - power[r]!) >> 1;
    c = c < 0 ? 0 : c > 7 ? 7 : c;
    maxRate[r] = minRate[r] = c;
    expected += EXPECTED_BITS[c]!;
  }
  // From that middle, 15 steps: each either lowers a region's category in the high-rate set or raises one in the
  // low-rate set, whichever keeps the two estimates around the bits available. The balance list runs from the
  // high-rate end: rate control r raises the categories of its first r regions.
  let min = expected;
  let max = expected;
  const mid = G7221_RATE_CONTROL_POSSIBILITIES;
  let minAt = mid;
  let maxAt = mid;
  for (let i = 0; i < G7221_RATE_CONTROL_POSSIBILITIES - 1; i++) {
    if (min + max > 2 * availableBits) {
      let best = -99;
      let at = -1;
      for (let r = regions - 1; r >= 0; r--) {
        if (minRate[r]! >= 7) continue;
        const v = offset - power[r]! - 2 * minRate[r]!;
        if (v > best) {
          best = v;
          at = r;
        }
      }
      if (at < 0) return false;
      balanceRing[minAt++] = at;
      min += EXPECTED_BITS[minRate[at]! + 1]! - EXPECTED_BITS[minRate[at]!]!;
      minRate[at]!++;
    } else {
      let best = 99;
      let at = -1;
      for (let r = 0; r < regions; r++) {
        if (maxRate[r]! <= 0) continue;
        const v = offset - power[r]! - 2 * maxRate[r]!;
        if (v < best) {
          best = v;
          at = r;
        }
      }
      if (at < 0) return false;
      balanceRing[--maxAt] = at;
      max += EXPECTED_BITS[maxRate[at]! - 1]! - EXPECTED_BITS[maxRate[at]!]!;
      maxRate[at]!--;
    }
  }
  categories.set(maxRate);
  for (let i = 0; i < G7221_RATE_CONTROL_POSSIBILITIES - 1; i++) balance[i] = balanceRing[maxAt + i]!;
  return true;
}

// The DCT-IV of 320 points as a 160-point complex FFT with pre- and post-twiddles; the FFT as 5 x 32 (Cooley-Tukey:
// 32 five-point DFTs, twiddles, then five radix-2 32-point FFTs run side by side). All factors are computed once
// here. The decoder spends most of its time in this transform, hence the hand-written butterflies.
const PRE_COS = Float64Array.from({ length: HALF }, (_, n) => Math.cos((-Math.PI * (4 * n + 1)) / (4 * N)));
const PRE_SIN = Float64Array.from({ length: HALF }, (_, n) => Math.sin((-Math.PI * (4 * n + 1)) / (4 * N)));
/** The post-twiddle e^(-i pi k / N) of output k, indexed by where the FFT leaves X[k]: k = k1 + 5 k2 at 32 k1 + k2. */
const POST_COS = Float64Array.from({ length: HALF }, (_, i) => Math.cos((-Math.PI * ((i >> 5) + 5 * (i & 31))) / N));
const POST_SIN = Float64Array.from({ length: HALF }, (_, i) => Math.sin((-Math.PI * ((i >> 5) + 5 * (i & 31))) / N));
/** The five-point DFT's constants: cos and sin of 2 pi / 5 and 4 pi / 5. */
const C1 = Math.cos((2 * Math.PI) / 5);
const C2 = Math.cos((4 * Math.PI) / 5);
const S1 = Math.sin((2 * Math.PI) / 5);
const S2 = Math.sin((4 * Math.PI) / 5);
/** W160^(n2 * k1) for n2 < 32, k1 < 5, at [k1 * 32 + n2]. */
const TW_COS = Float64Array.from({ length: 160 }, (_, i) => Math.cos((-2 * Math.PI * (i & 31) * (i >> 5)) / 160));
const TW_SIN = Float64Array.from({ length: 160 }, (_, i) => Math.sin((-2 * Math.PI * (i & 31) * (i >> 5)) / 160));
/** The radix-2 stages' twiddles W_size^j, j < size / 2, for size 8, 16, 32 back to back (from index size / 2 - 4). */
const STAGE_COS = Float64Array.from({ length: 28 }, (_, i) => {
  const half = i < 4 ? 4 : i < 12 ? 8 : 16;
  return Math.cos((-Math.PI * (i - (half - 4))) / half);
});
const STAGE_SIN = Float64Array.from({ length: 28 }, (_, i) => {
  const half = i < 4 ? 4 : i < 12 ? 8 : 16;
  return Math.sin((-Math.PI * (i - (half - 4))) / half);
});
const BITREV32 = Uint8Array.from({ length: 32 }, (_, i) => {
  let r = 0;
  for (let b = 0; b < 5; b++) r |= ((i >> b) & 1) << (4 - b);
  return r;
});

/**
 * out[m] = sum over k of x[k] cos(pi / 320 (m + 1/2)(k + 1/2)), m < 320, with x's odd-indexed values multiplied by
 * oddSign (-1: the decoder's MLT phase, without a pass to negate them). Scratch: re, im, are, aim of 160 each.
 */
export function dct4(x: Float64Array, out: Float64Array, s: Dct4Scratch, oddSign = 1): void {
  const re = s.re;
  const im = s.im;
  const are = s.are;
  const aim = s.aim;
  // Pre-twiddle: v[n] = (x[2n] + i x[N-1-2n]) e^(-i pi (4n+1) / 4N), laid out for the 5 x 32 split: n = 32 n1 + n2.
  for (let n = 0; n < HALF; n++) {
    const a = x[2 * n]!;
    const b = oddSign * x[N - 1 - 2 * n]!;
    re[n] = a * PRE_COS[n]! - b * PRE_SIN[n]!;
    im[n] = a * PRE_SIN[n]! + b * PRE_COS[n]!;
  }
  // Five-point DFTs over n1 (the symmetric form: sums and differences of the pairs 1, 4 and 2, 3), times the
  // twiddle W160^(n2 k1), stored at k1 * 32 + bitrev(n2) for the 32-point FFTs.
  for (let n2 = 0; n2 < 32; n2++) {
    const x0r = re[n2]!;
    const x0i = im[n2]!;
    const t1r = re[32 + n2]! + re[128 + n2]!;
    const t1i = im[32 + n2]! + im[128 + n2]!;
    const d1r = re[32 + n2]! - re[128 + n2]!;
    const d1i = im[32 + n2]! - im[128 + n2]!;
    const t2r = re[64 + n2]! + re[96 + n2]!;
    const t2i = im[64 + n2]! + im[96 + n2]!;
    const d2r = re[64 + n2]! - re[96 + n2]!;
    const d2i = im[64 + n2]! - im[96 + n2]!;
    // X1, X4 = x0 + C1 t1 + C2 t2 -/+ i (S1 d1 + S2 d2); X2, X3 = x0 + C2 t1 + C1 t2 -/+ i (S2 d1 - S1 d2).
    const a1r = x0r + C1 * t1r + C2 * t2r;
    const a1i = x0i + C1 * t1i + C2 * t2i;
    const a2r = x0r + C2 * t1r + C1 * t2r;
    const a2i = x0i + C2 * t1i + C1 * t2i;
    const b1r = S1 * d1r + S2 * d2r;
    const b1i = S1 * d1i + S2 * d2i;
    const b2r = S2 * d1r - S1 * d2r;
    const b2i = S2 * d1i - S1 * d2i;
    const at = BITREV32[n2]!;
    are[at] = x0r + t1r + t2r;
    aim[at] = x0i + t1i + t2i;
    twiddle(are, aim, 32 + at, 32 + n2, a1r + b1i, a1i - b1r);
    twiddle(are, aim, 64 + at, 64 + n2, a2r + b2i, a2i - b2r);
    twiddle(are, aim, 96 + at, 96 + n2, a2r - b2i, a2i + b2r);
    twiddle(are, aim, 128 + at, 128 + n2, a1r - b1i, a1i + b1r);
  }
  // The five 32-point FFTs (input in bit-reversed order) side by side: the blocks of each stage tile all 160
  // values. Sizes 2 and 4 as one radix-4 pass (twiddles 1 and -i), then radix-2 passes of size 8, 16, 32.
  for (let p = 0; p < HALF; p += 4) {
    const ar = are[p]! + are[p + 1]!;
    const ai = aim[p]! + aim[p + 1]!;
    const br = are[p]! - are[p + 1]!;
    const bi = aim[p]! - aim[p + 1]!;
    const cr = are[p + 2]! + are[p + 3]!;
    const ci = aim[p + 2]! + aim[p + 3]!;
    const dr = are[p + 2]! - are[p + 3]!;
    const di = aim[p + 2]! - aim[p + 3]!;
    are[p] = ar + cr;
    aim[p] = ai + ci;
    are[p + 2] = ar - cr;
    aim[p + 2] = ai - ci;
    // (dr + i di) (-i) = di - i dr
    are[p + 1] = br + di;
    aim[p + 1] = bi - dr;
    are[p + 3] = br - di;
    aim[p + 3] = bi + dr;
  }
  for (let half = 4; half <= 16; half <<= 1) {
    const size = 2 * half;
    const tw = half - 4;
    for (let j = 0; j < half; j++) {
      const wr = STAGE_COS[tw + j]!;
      const wi = STAGE_SIN[tw + j]!;
      for (let p = j; p < HALF; p += size) {
        const q = p + half;
        const tr = are[q]! * wr - aim[q]! * wi;
        const ti = are[q]! * wi + aim[q]! * wr;
        are[q] = are[p]! - tr;
        aim[q] = aim[p]! - ti;
        are[p] = are[p]! + tr;
        aim[p] = aim[p]! + ti;
      }
    }
  }
  // Post-twiddle: w[k] = X[k] e^(-i pi k / N); out[2k] = Re w, out[N-1-2k] = -Im w. X[k1 + 5 k2] is at 32 k1 + k2.
  for (let i = 0; i < HALF; i++) {
    const k = (i >> 5) + 5 * (i & 31);
    const vr = are[i]!;
    const vi = aim[i]!;
    out[2 * k] = vr * POST_COS[i]! - vi * POST_SIN[i]!;
    out[N - 1 - 2 * k] = -(vr * POST_SIN[i]! + vi * POST_COS[i]!);
  }
}

/** a[to] = (re + i im) W160^t (the twiddle between the five-point DFTs and the 32-point FFTs). */
function twiddle(are: Float64Array, aim: Float64Array, to: number, t: number, re: number, im: number): void {
  are[to] = re * TW_COS[t]! - im * TW_SIN[t]!;
  aim[to] = re * TW_SIN[t]! + im * TW_COS[t]!;
}

export interface Dct4Scratch {
  re: Float64Array;
  im: Float64Array;
  are: Float64Array;
  aim: Float64Array;
}

export function dct4Scratch(): Dct4Scratch {
  return {
    re: new Float64Array(HALF),
    im: new Float64Array(HALF),
    are: new Float64Array(HALF),
    aim: new Float64Array(HALF),
  };
}

/** The MLT's sine window, w[n] = sin(pi (n + 1/2) / 640), n < 320 (the rising half; the falling half is w[319 - n]). */
const WINDOW = Float64Array.from({ length: N }, (_, n) => Math.sin((Math.PI * (n + 0.5)) / (2 * N)));

export interface G7221DecoderStats {
  frames: number;
  /** Frames whose bits did not add up (frame errors): concealed by repeating, then muting. */
  badFrames: number;
}

export class G7221Decoder implements PcmDecoder {
  readonly sampleRate = G7221_SAMPLE_RATE;
  readonly channels = 1;
  readonly stats: G7221DecoderStats = { frames: 0, badFrames: 0 };
  readonly frameBytes: number;
  /** Bytes of a frame cut by the end of the last payload. */
  private readonly carry: Uint8Array;
  private carryLength = 0;
  private out = new Int16Array(N * 8);
  // Per-frame state and work arrays, reused.
  private readonly power = new Int32Array(G7221_REGIONS);
  private readonly categories = new Int32Array(G7221_REGIONS);
  private readonly balance = new Int32Array(G7221_RATE_CONTROL_POSSIBILITIES - 1);
  private readonly coefs = new Float64Array(N);
  /** The last good frame's coefficients (a frame error repeats them once; zeros after that). */
  private readonly backup = new Float64Array(N);
  private readonly dct = new Float64Array(N);
  /** The previous frame's DCT-IV output (its first half overlaps the current frame). */
  private readonly previous = new Float64Array(N);
  private readonly scratch = dct4Scratch();
  /** The noise-fill generator's four 16-bit words. */
  private dw1 = 1;
  private dw2 = 1;
  private dw3 = 1;
  private dw4 = 1;
  // The bit reader over the frame in hand.
  private frame: Uint8Array = new Uint8Array(0);
  private bitPos = 0;
  private bitEnd = 0;

  /**
   * @param frameBytes bytes per 20 ms frame (40 = 16 kbit/s); out of range falls back to 40.
   * @param noiseGain scales the noise fill of categories 5-7; 1 is the Recommendation's level. FFmpeg's siren decoder
   *   fills at 1/22 of it (it scales the decoded coefficients by 22 before its transform's 1/22, the noise not): the
   *   reference test sets 1/22 to compare with FFmpeg's decode sample for sample.
   */
  constructor(
    frameBytes: number = G7221_DEFAULT_FRAME_BYTES,
    private readonly noiseGain = 1,
  ) {
    this.frameBytes = isG7221FrameBytes(frameBytes) ? frameBytes : G7221_DEFAULT_FRAME_BYTES;
    this.carry = new Uint8Array(this.frameBytes);
  }

  decode(bytes: Uint8Array): Int16Array {
    const fb = this.frameBytes;
    const frames = Math.floor((this.carryLength + bytes.length) / fb);
    if (frames * N > this.out.length) this.out = new Int16Array(Math.max(frames * N, this.out.length * 2));
    let at = 0;
    let used = 0;
    let produced = 0;
    if (this.carryLength > 0) {
      const need = fb - this.carryLength;
      if (bytes.length < need) {
        this.carry.set(bytes, this.carryLength);
        this.carryLength += bytes.length;
        return this.out.subarray(0, 0);
      }
      this.carry.set(bytes.subarray(0, need), this.carryLength);
      this.carryLength = 0;
      this.decodeFrame(this.carry, at);
      at += N;
      used = need;
      produced++;
    }
    while (produced < frames && used + fb <= bytes.length) {
      this.decodeFrame(bytes.subarray(used, used + fb), at);
      at += N;
      used += fb;
      produced++;
    }
    const rest = bytes.length - used;
    this.carry.set(bytes.subarray(used), 0);
    this.carryLength = rest;
    return this.out.subarray(0, at);
  }

  /** A frame cut by the end of the stream is dropped; nothing else is held (the overlap's tail is not a frame). */
  flush(): Int16Array {
    this.carryLength = 0;
    return this.out.subarray(0, 0);
  }

  private bit(): number {
    if (this.bitPos >= this.bitEnd) return -1;
    const p = this.bitPos++;
    return (this.frame[p >> 3]! >> (7 - (p & 7))) & 1;
  }

  private bits(n: number): number {
    if (this.bitPos + n > this.bitEnd) {
      this.bitPos = this.bitEnd + 1;
      return 0;
    }
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit();
    return v;
  }

  /** The noise generator of the Recommendation: a lagged sum of 16-bit words with an end-around carry. */
  private dither(): number {
    let r = (this.dw1 + this.dw4) & 0xffff;
    if (r & 0x8000) r = (r + 1) & 0xffff;
    this.dw1 = this.dw2;
    this.dw2 = this.dw3;
    this.dw3 = this.dw4;
    this.dw4 = r;
    return r;
  }

  /** One frame's bits to 320 samples at out[at..]. */
  private decodeFrame(frame: Uint8Array, at: number): void {
    this.frame = frame;
    this.bitPos = 0;
    this.bitEnd = frame.length * 8;
    this.stats.frames++;
    const coefs = this.coefs;
    const good = this.readCoefficients();
    if (good) this.backup.set(coefs);
    else {
      this.stats.badFrames++;
      coefs.set(this.backup);
      this.backup.fill(0);
    }
    this.synthesise(at);
  }

  /** Envelope, categorisation and vectors into this.coefs; false on a frame error. */
  private readCoefficients(): boolean {
    const { power, categories, balance, coefs } = this;
    coefs.fill(0);
    // Envelope: the first region's power in 5 bits, then 13 Huffman-coded differences (-12..+11).
    let p = this.bits(5) - G7221_ESF_ADJUSTMENT;
    power[0] = p;
    for (let r = 1; r < G7221_REGIONS; r++) {
      const tree = REGION_POWER_TREES[r - 1]!;
      let node = 0;
      for (;;) {
        const b = this.bit();
        if (b < 0) return false;
        const child = tree[2 * node + b]!;
        if (child > 0) node = child;
        else {
          p = p - child - 12;
          break;
        }
      }
      p = p < MIN_POWER ? MIN_POWER : p > MAX_POWER ? MAX_POWER : p;
      power[r] = p;
    }
    const rateControl = this.bits(4);
    const available = this.bitEnd - this.bitPos;
    if (available < 0) return false;
    if (!categorizeRegions(power, available, categories, balance)) return false;
    for (let i = 0; i < rateControl; i++) {
      const r = balance[i]!;
      if (categories[r]! < 7) categories[r]!++;
    }
    // The vectors, region by region; running out of bits makes this and every later region category 7.
    let ranOut = false;
    for (let r = 0; r < G7221_REGIONS; r++) {
      const std = G7221_STD_DEV[power[r]! - MIN_POWER]!;
      const base = r * G7221_REGION_SIZE;
      let category = ranOut ? 7 : categories[r]!;
      if (category < 7 && !this.readRegion(category, std, base)) {
        ranOut = true;
        category = 7;
      }
      if (category >= 5) this.fillNoise(category, std, base);
    }
    if (ranOut) return rateControl === G7221_RATE_CONTROL_POSSIBILITIES - 1;
    // The bits left over are fill, all ones.
    while (this.bitPos < this.bitEnd) if (this.bit() === 0) return false;
    for (let r = 0; r < G7221_REGIONS; r++) if (power[r]! > MAX_VALID_POWER) return false;
    return true;
  }

  /** One region's vectors: Huffman index, then a sign bit per non-zero element (1 = positive). False: out of bits. */
  private readRegion(category: number, std: number, base: number): boolean {
    const tree = VECTOR_TREES[category]!;
    const elementBits = VECTOR_ELEMENT_BITS[category]!;
    const mask = (1 << elementBits) - 1;
    const dim = VECTOR_DIMENSION[category]!;
    const centroids = CENTROIDS[category]!;
    const coefs = this.coefs;
    let at = base;
    for (let v = 0; v < VECTORS_PER_REGION[category]!; v++) {
      let node = 0;
      do {
        const b = this.bit();
        if (b < 0 || node + b >= tree.length) return false;
        node = tree[node + b]!;
      } while ((node & 1) === 0);
      let index = node >> 1;
      for (let j = 0; j < dim; j++) {
        const level = centroids[index & mask]!;
        index >>= elementBits;
        if (level !== 0) {
          const sign = this.bit();
          if (sign < 0) return false;
          coefs[at] = sign === 1 ? level * std : -level * std;
        }
        at++;
      }
    }
    return true;
  }

  /** Categories 5 and 6 fill their zero coefficients with +-noise, category 7 the whole region. */
  private fillNoise(category: number, std: number, base: number): void {
    const coefs = this.coefs;
    const level = std * this.noiseGain;
    let noise: number;
    if (category === 7) noise = level * NOISE_CATEGORY7;
    else {
      let nonZero = 0;
      for (let i = 0; i < G7221_REGION_SIZE; i++) if (coefs[base + i] !== 0) nonZero++;
      noise = level * (category === 5 ? NOISE_CATEGORY5 : NOISE_CATEGORY6)[nonZero]!;
    }
    let d1 = this.dither();
    let d2 = this.dither();
    for (let j = 0; j < G7221_REGION_SIZE; j += 2) {
      if (category === 7 || coefs[base + j] === 0) coefs[base + j] = d1 & 1 ? noise : -noise;
      if (category === 7 || coefs[base + j + 1] === 0) coefs[base + j + 1] = d2 & 1 ? noise : -noise;
      d1 >>= 1;
      d2 >>= 1;
    }
  }

  /**
   * Inverse MLT: DCT-IV of the coefficients (every odd one negated: the MLT's phase, as FFmpeg's decoder has it), then each output sample is
   * the current frame's rising window half plus the previous frame's falling half (time-domain aliasing cancels).
   */
  private synthesise(at: number): void {
    const { coefs, dct, previous, out } = this;
    dct4(coefs, dct, this.scratch, -1);
    for (let p = 0; p < HALF; p++) {
      const old = previous[HALF - 1 - p]!;
      const cur = dct[HALF + p]!;
      out[at + p] = toInt16(cur * WINDOW[p]! - old * WINDOW[N - 1 - p]!);
      out[at + N - 1 - p] = toInt16(-old * WINDOW[p]! - cur * WINDOW[N - 1 - p]!);
    }
    previous.set(dct);
  }
}

/**
 * Rounded half up and clamped to 16 bits. Math.floor(x + 0.5) is Math.round for every double but one (0.5 - 2^-54,
 * where it gives 1, not 0) and about 5 times cheaper in V8: with Math.round this was a third of the decoder's time.
 */
function toInt16(x: number): number {
  return x >= 32767 ? 32767 : x <= -32768 ? -32768 : Math.floor(x + 0.5);
}
