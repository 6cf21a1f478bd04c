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
const minKey = new Int32Array(G7221_REGIONS);
const maxKey = new Int32Array(G7221_REGIONS);
const balanceRing = new Int32Array(2 * G7221_RATE_CONTROL_POSSIBILITIES);
/** A key out of every search: a region at the end of its range of categories. */
const EXCLUDED = 1 << 20;
/** EXPECTED_BITS of the category (d >> 1) clamped to 0..7, at d + 128 (d = offset - power: -71..55 in range). */
const EXPECTED_BITS_BY_DIFF = Uint8Array.from(
  { length: 256 },
  (_, i) => EXPECTED_BITS[Math.max(0, Math.min(7, (i - 128) >> 1))]!,
);

/**
 * The categorisation procedure (G.722.1 clause 4.6, the same on both sides): from the region power indexes (in
 * -24..39) and the bits left for the MLT vectors, the categories of rate control 0 (the most bits) in `categories`,
 * and in `balance` the 15 regions whose category goes up by one for each step of the rate-control index. False when
 * the powers admit no categorisation (only damaged frames).
 *
 * Each of the 15 steps picks a region by the largest (or smallest) of offset - power - 2 category, ties going to
 * the highest (lowest) region: kept per region as the key value * 16 + region, one integer, so that a step is one
 * max (min) over 14 keys without branches on the data (which are badly predicted), and the region is its low bits.
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
    const at = offset + delta + 128;
    let expected = 0;
    for (let r = 0; r < regions; r++) expected += EXPECTED_BITS_BY_DIFF[at - power[r]!]!;
    if (expected >= availableBits - 32) offset += delta;
  }
  let expected = 0;
  for (let r = 0; r < regions; r++) {
    const d = offset - power[r]!;
    let c = d >> 1;
    c = c < 0 ? 0 : c > 7 ? 7 : c;
    maxRate[r] = minRate[r] = c;
    expected += EXPECTED_BITS[c]!;
    minKey[r] = c < 7 ? ((d - 2 * c) << 4) | r : -EXCLUDED;
    maxKey[r] = c > 0 ? ((d - 2 * c) << 4) | r : EXCLUDED;
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
      let best = minKey[0]!;
      for (let r = 1; r < regions; r++) best = Math.max(best, minKey[r]!);
      if (best >> 4 <= -99) return false;
      const at = best & 15;
      const c = minRate[at]!;
      balanceRing[minAt++] = at;
      min += EXPECTED_BITS[c + 1]! - EXPECTED_BITS[c]!;
      minRate[at] = c + 1;
      minKey[at] = c + 1 < 7 ? best - 32 : -EXCLUDED;
    } else {
      let best = maxKey[0]!;
      for (let r = 1; r < regions; r++) best = Math.min(best, maxKey[r]!);
      if (best >> 4 >= 99) return false;
      const at = best & 15;
      const c = maxRate[at]!;
      balanceRing[--maxAt] = at;
      max += EXPECTED_BITS[c - 1]! - EXPECTED_BITS[c]!;
      maxRate[at] = c - 1;
      maxKey[at] = c - 1 > 0 ? best + 32 : EXCLUDED;
    }
  }
  categories.set(maxRate);
  for (let i = 0; i < G7221_RATE_CONTROL_POSSIBILITIES - 1; i++) balance[i] = balanceRing[maxAt + i]!;
  return true;
}

// Huffman decoding by table: the next LOOKUP_BITS bits of the stream index a table whose entry holds the decoded
// value and the code's length (value << 5 | length), so a code of up to LOOKUP_BITS bits costs one lookup instead of
// a walk bit by bit; a longer code (rare: the longest are 16 bits) has length 0 in the table and its value is the
// tree node reached, where the walk goes on. The trees are first put in one form: node n's children at [2n] (bit 0)
// and [2n + 1] (bit 1), a child >= 0 a node, a child < 0 the leaf ~value.
const LOOKUP_BITS = 10;

interface HuffmanCode {
  tree: Int16Array;
  table: Uint16Array;
}

function huffmanCode(tree: Int16Array): HuffmanCode {
  const table = new Uint16Array(1 << LOOKUP_BITS);
  for (let prefix = 0; prefix < table.length; prefix++) {
    let node = 0;
    let length = 0;
    let entry = -1;
    while (length < LOOKUP_BITS) {
      const child = tree[2 * node + ((prefix >> (LOOKUP_BITS - 1 - length)) & 1)]!;
      length++;
      if (child < 0) {
        entry = (~child << 5) | length;
        break;
      }
      node = child;
    }
    table[prefix] = entry >= 0 ? entry : node << 5;
  }
  return { tree, table };
}

/** The region power difference codes of regions 1..13; the value is the difference + 12 (0..32). */
const POWER_CODES = REGION_POWER_TREES.map((t) =>
  huffmanCode(Int16Array.from(t, (child) => (child > 0 ? child : ~-child))),
);

/**
 * The vector codes of categories 0..6. The code's value is the leaf's ordinal in the tree, which indexes the vector's
 * reconstruction levels (centroids, VECTOR_DIMENSION[category] of them: element e at ordinal * dim + e), the count
 * and the mask (bit e) of its non-zero levels, and for each non-zero level the shift of its sign bit in the sign
 * bits that follow the code (the first non-zero element's sign first). They let the decoding write every element
 * without a branch on its value: zero levels are data, and branches on data are badly predicted.
 */
const VECTOR_CODES = VECTOR_TREES.map((t, category) => {
  const tree = new Int16Array(t.length);
  const leaves: number[] = [];
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    if ((v & 1) === 0) tree[i] = v >> 1;
    else {
      tree[i] = ~leaves.length;
      leaves.push(v >> 1);
    }
  }
  const dim = VECTOR_DIMENSION[category]!;
  const bits = VECTOR_ELEMENT_BITS[category]!;
  const levels = new Float64Array(leaves.length * dim);
  const signShift = new Uint8Array(leaves.length * dim);
  const nonZero = new Uint8Array(leaves.length);
  const nonZeroMask = new Uint8Array(leaves.length);
  for (const [ordinal, index] of leaves.entries()) {
    const at = ordinal * dim;
    for (let e = 0; e < dim; e++) {
      levels[at + e] = CENTROIDS[category]![(index >> (e * bits)) & ((1 << bits) - 1)]!;
      if (levels[at + e] !== 0) {
        nonZero[ordinal]!++;
        nonZeroMask[ordinal]! |= 1 << e;
      }
    }
    for (let e = 0, k = nonZero[ordinal]!; e < dim; e++) if (levels[at + e] !== 0) signShift[at + e] = --k;
  }
  return { code: huffmanCode(tree), dim, levels, signShift, nonZero, nonZeroMask };
});

/** 32 bits of the frame from bit `pos` on (bits past the frame read as 0: the frame buffer has 4 bytes of zeros). */
function peek32(buf: Uint8Array, pos: number): number {
  const i = pos >> 3;
  return ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) << (pos & 7);
}

/** The code at the top of `word` (32 bits, MSB first): value << 5 | length. */
function readCode(word: number, code: HuffmanCode): number {
  const entry = code.table[word >>> (32 - LOOKUP_BITS)]!;
  if ((entry & 31) !== 0) return entry;
  const tree = code.tree;
  let node = entry >> 5;
  for (let length = LOOKUP_BITS; ;) {
    const child = tree[2 * node + ((word >>> (31 - length)) & 1)]!;
    length++;
    if (child < 0) return (~child << 5) | length;
    node = child;
  }
}

// The DCT-IV of 320 points as a 160-point complex FFT with pre- and post-twiddles; the FFT as 5 x 32 by the prime
// factor (Good-Thomas) algorithm: 5 and 32 are coprime, so with the input at n = 32 n1 + 5 n2 (mod 160) and the
// output at k = 96 k1 + 65 k2 (mod 160: k = k1 mod 5, k = k2 mod 32) the 32 five-point DFTs over n1 and the five
// 32-point FFTs over n2 need no twiddles between them. The index maps are tables; the pre-twiddle writes in the
// first, the post-twiddle reads by the second. All factors are computed once here. The transform is most of the
// decoder's time, hence the hand-written butterflies.
const PRE_COS = Float64Array.from({ length: HALF }, (_, n) => Math.cos((-Math.PI * (4 * n + 1)) / (4 * N)));
const PRE_SIN = Float64Array.from({ length: HALF }, (_, n) => Math.sin((-Math.PI * (4 * n + 1)) / (4 * N)));
/** Where the pre-twiddle puts v[n]: at 32 n1 + n2 for n = 32 n1 + 5 n2 (mod 160). */
const INPUT_AT = new Uint8Array(HALF);
for (let n1 = 0; n1 < 5; n1++) for (let n2 = 0; n2 < 32; n2++) INPUT_AT[(32 * n1 + 5 * n2) % HALF] = 32 * n1 + n2;
/** Which X[k] the FFT leaves at 32 k1 + k2: k = 96 k1 + 65 k2 (mod 160). */
const OUTPUT_K = Uint8Array.from({ length: HALF }, (_, i) => (96 * (i >> 5) + 65 * (i & 31)) % HALF);
/** The post-twiddle e^(-i pi k / N) of output k, indexed like OUTPUT_K. */
const POST_COS = Float64Array.from({ length: HALF }, (_, i) => Math.cos((-Math.PI * OUTPUT_K[i]!) / N));
const POST_SIN = Float64Array.from({ length: HALF }, (_, i) => Math.sin((-Math.PI * OUTPUT_K[i]!) / N));
/** The five-point DFT's constants: cos and sin of 2 pi / 5 and 4 pi / 5. */
const C1 = Math.cos((2 * Math.PI) / 5);
const C2 = Math.cos((4 * Math.PI) / 5);
const S1 = Math.sin((2 * Math.PI) / 5);
const S2 = Math.sin((4 * Math.PI) / 5);
const SQRT1_2 = Math.SQRT1_2;
/** W16^j and W32^j, j < 8 and j < 16: the twiddles of the 32-point FFTs' last two stages. */
const W16_COS = Float64Array.from({ length: 8 }, (_, j) => Math.cos((-2 * Math.PI * j) / 16));
const W16_SIN = Float64Array.from({ length: 8 }, (_, j) => Math.sin((-2 * Math.PI * j) / 16));
const W32_COS = Float64Array.from({ length: 16 }, (_, j) => Math.cos((-2 * Math.PI * j) / 32));
const W32_SIN = Float64Array.from({ length: 16 }, (_, j) => Math.sin((-2 * Math.PI * j) / 32));
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
  // Pre-twiddle: v[n] = (x[2n] + i x[N-1-2n]) e^(-i pi (4n+1) / 4N), at INPUT_AT[n].
  for (let n = 0; n < HALF; n++) {
    const a = x[2 * n]!;
    const b = oddSign * x[N - 1 - 2 * n]!;
    const at = INPUT_AT[n]!;
    re[at] = a * PRE_COS[n]! - b * PRE_SIN[n]!;
    im[at] = a * PRE_SIN[n]! + b * PRE_COS[n]!;
  }
  // Five-point DFTs over n1 (the symmetric form: sums and differences of the pairs 1, 4 and 2, 3), stored at
  // k1 * 32 + bitrev(n2) for the 32-point FFTs.
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
    are[32 + at] = a1r + b1i;
    aim[32 + at] = a1i - b1r;
    are[64 + at] = a2r + b2i;
    aim[64 + at] = a2i - b2r;
    are[96 + at] = a2r - b2i;
    aim[96 + at] = a2i + b2r;
    are[128 + at] = a1r - b1i;
    aim[128 + at] = a1i + b1r;
  }
  // The five 32-point FFTs (input in bit-reversed order) side by side, in two passes over the data: the sizes 2, 4
  // and 8 in registers per block of 8 (twiddles 1, -i and the eighth roots), then sizes 16 and 32 per 4 values.
  for (let p = 0; p < HALF; p += 8) {
    // Size 2.
    const a0r = are[p]! + are[p + 1]!;
    const a0i = aim[p]! + aim[p + 1]!;
    const a1r = are[p]! - are[p + 1]!;
    const a1i = aim[p]! - aim[p + 1]!;
    const a2r = are[p + 2]! + are[p + 3]!;
    const a2i = aim[p + 2]! + aim[p + 3]!;
    const a3r = are[p + 2]! - are[p + 3]!;
    const a3i = aim[p + 2]! - aim[p + 3]!;
    const a4r = are[p + 4]! + are[p + 5]!;
    const a4i = aim[p + 4]! + aim[p + 5]!;
    const a5r = are[p + 4]! - are[p + 5]!;
    const a5i = aim[p + 4]! - aim[p + 5]!;
    const a6r = are[p + 6]! + are[p + 7]!;
    const a6i = aim[p + 6]! + aim[p + 7]!;
    const a7r = are[p + 6]! - are[p + 7]!;
    const a7i = aim[p + 6]! - aim[p + 7]!;
    // Size 4: the odd ones times -i ((r + i m) (-i) = m - i r).
    const b0r = a0r + a2r;
    const b0i = a0i + a2i;
    const b2r = a0r - a2r;
    const b2i = a0i - a2i;
    const b1r = a1r + a3i;
    const b1i = a1i - a3r;
    const b3r = a1r - a3i;
    const b3i = a1i + a3r;
    const b4r = a4r + a6r;
    const b4i = a4i + a6i;
    const b6r = a4r - a6r;
    const b6i = a4i - a6i;
    const b5r = a5r + a7i;
    const b5i = a5i - a7r;
    const b7r = a5r - a7i;
    const b7i = a5i + a7r;
    // Size 8: b5 times (1 - i) / sqrt 2, b6 times -i, b7 times -(1 + i) / sqrt 2.
    const t5r = SQRT1_2 * (b5r + b5i);
    const t5i = SQRT1_2 * (b5i - b5r);
    const t7r = SQRT1_2 * (b7i - b7r);
    const t7i = -SQRT1_2 * (b7r + b7i);
    are[p] = b0r + b4r;
    aim[p] = b0i + b4i;
    are[p + 4] = b0r - b4r;
    aim[p + 4] = b0i - b4i;
    are[p + 1] = b1r + t5r;
    aim[p + 1] = b1i + t5i;
    are[p + 5] = b1r - t5r;
    aim[p + 5] = b1i - t5i;
    are[p + 2] = b2r + b6i;
    aim[p + 2] = b2i - b6r;
    are[p + 6] = b2r - b6i;
    aim[p + 6] = b2i + b6r;
    are[p + 3] = b3r + t7r;
    aim[p + 3] = b3i + t7i;
    are[p + 7] = b3r - t7r;
    aim[p + 7] = b3i - t7i;
  }
  // Sizes 16 and 32 (radix 2^2): for j < 8 the values j, j + 8, j + 16, j + 24 of each 32: (j, j + 8) and
  // (j + 16, j + 24) with W16^j, then (j, j + 16) with W32^j and (j + 8, j + 24) with W32^(j + 8), the results
  // post-twiddled into out.
  for (let j = 0; j < 8; j++) {
    const w16r = W16_COS[j]!;
    const w16i = W16_SIN[j]!;
    const w32r = W32_COS[j]!;
    const w32i = W32_SIN[j]!;
    const v32r = W32_COS[j + 8]!;
    const v32i = W32_SIN[j + 8]!;
    for (let p0 = j; p0 < HALF; p0 += 32) {
      const p1 = p0 + 8;
      const p2 = p0 + 16;
      const p3 = p0 + 24;
      const t1r = are[p1]! * w16r - aim[p1]! * w16i;
      const t1i = are[p1]! * w16i + aim[p1]! * w16r;
      const t3r = are[p3]! * w16r - aim[p3]! * w16i;
      const t3i = are[p3]! * w16i + aim[p3]! * w16r;
      const c0r = are[p0]! + t1r;
      const c0i = aim[p0]! + t1i;
      const c1r = are[p0]! - t1r;
      const c1i = aim[p0]! - t1i;
      const c2r = are[p2]! + t3r;
      const c2i = aim[p2]! + t3i;
      const c3r = are[p2]! - t3r;
      const c3i = aim[p2]! - t3i;
      const u2r = c2r * w32r - c2i * w32i;
      const u2i = c2r * w32i + c2i * w32r;
      const u3r = c3r * v32r - c3i * v32i;
      const u3i = c3r * v32i + c3i * v32r;
      postTwiddle(out, p0, c0r + u2r, c0i + u2i);
      postTwiddle(out, p2, c0r - u2r, c0i - u2i);
      postTwiddle(out, p1, c1r + u3r, c1i + u3i);
      postTwiddle(out, p3, c1r - u3r, c1i - u3i);
    }
  }
}

/**
 * The FFT's value at i, X[k] for k = OUTPUT_K[i], to the DCT-IV's outputs 2k and N-1-2k: w = X[k] e^(-i pi k / N),
 * out[2k] = Re w, out[N-1-2k] = -Im w.
 */
function postTwiddle(out: Float64Array, i: number, vr: number, vi: number): void {
  const k = OUTPUT_K[i]!;
  out[2 * k] = vr * POST_COS[i]! - vi * POST_SIN[i]!;
  out[N - 1 - 2 * k] = -(vr * POST_SIN[i]! + vi * POST_COS[i]!);
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
  private coefs = new Float64Array(N);
  /** The last good frame's coefficients (a frame error repeats them once; zeros after that). */
  private lastGood = new Float64Array(N);
  private dct = new Float64Array(N);
  /** The previous frame's DCT-IV output (its first half overlaps the current frame); swapped with dct each frame. */
  private previous = new Float64Array(N);
  private readonly scratch = dct4Scratch();
  /** The noise-fill generator's four 16-bit words. */
  private dw1 = 1;
  private dw2 = 1;
  private dw3 = 1;
  private dw4 = 1;
  /** The count and the mask (bit i: coefficient i) of the non-zero coefficients of the region readRegion read last. */
  private regionNonZero = 0;
  private regionNonZeroMask = 0;
  /** The frame in hand, and 4 bytes of zeros after it that peek32 may read. */
  private readonly frame = new Uint8Array(G7221_MAX_FRAME_BYTES + 4);

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
      this.decodeFrame(this.carry, 0, at);
      at += N;
      used = need;
      produced++;
    }
    while (produced < frames && used + fb <= bytes.length) {
      this.decodeFrame(bytes, used, at);
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

  /** The frame at src[from..] to 320 samples at out[at..]. Nothing allocated: no subarray, buffers swapped. */
  private decodeFrame(src: Uint8Array, from: number, at: number): void {
    const frame = this.frame;
    const bytes = this.frameBytes;
    for (let i = 0; i < bytes; i++) frame[i] = src[from + i]!;
    this.stats.frames++;
    if (this.readCoefficients(bytes * 8)) {
      const good = this.coefs;
      this.coefs = this.lastGood;
      this.lastGood = good;
      this.synthesise(good, at);
    } else {
      this.stats.badFrames++;
      this.synthesise(this.lastGood, at);
      this.lastGood.fill(0);
    }
  }

  /** Envelope, categorisation and vectors of the frame's `end` bits into this.coefs; false on a frame error. */
  private readCoefficients(end: number): boolean {
    const { power, categories, balance, coefs, frame } = this;
    coefs.fill(0);
    // Envelope: the first region's power in 5 bits, then 13 Huffman-coded differences (-12..+11).
    let p = (peek32(frame, 0) >>> 27) - G7221_ESF_ADJUSTMENT;
    let pos = 5;
    power[0] = p;
    for (let r = 1; r < G7221_REGIONS; r++) {
      const code = readCode(peek32(frame, pos), POWER_CODES[r - 1]!);
      pos += code & 31;
      if (pos > end) return false;
      p += (code >> 5) - 12;
      p = p < MIN_POWER ? MIN_POWER : p > MAX_POWER ? MAX_POWER : p;
      power[r] = p;
    }
    if (pos + 4 > end) return false;
    const rateControl = peek32(frame, pos) >>> 28;
    pos += 4;
    if (!categorizeRegions(power, end - pos, categories, balance)) return false;
    for (let i = 0; i < rateControl; i++) {
      const r = balance[i]!;
      if (categories[r]! < 7) categories[r]!++;
    }
    // The vectors, region by region; running out of bits makes this and every later region category 7.
    let ranOut = false;
    for (let r = 0; r < G7221_REGIONS; r++) {
      const base = r * G7221_REGION_SIZE;
      let category = ranOut ? 7 : categories[r]!;
      if (category < 7) {
        pos = this.readRegion(pos, end, category, power[r]!, base);
        if (pos < 0) {
          ranOut = true;
          category = 7;
        }
      }
      if (category >= 5) this.fillNoise(category, power[r]!, base);
    }
    if (ranOut) return rateControl === G7221_RATE_CONTROL_POSSIBILITIES - 1;
    // The bits left over are fill, all ones.
    for (; pos + 16 <= end; pos += 16) if (peek32(frame, pos) >>> 16 !== 0xffff) return false;
    if (pos < end && peek32(frame, pos) >>> (32 - (end - pos)) !== (1 << (end - pos)) - 1) return false;
    for (let r = 0; r < G7221_REGIONS; r++) if (power[r]! > MAX_VALID_POWER) return false;
    return true;
  }

  /**
   * One region's vectors from bit `pos`: Huffman code, then a sign bit per non-zero element (1 = positive). The bit
   * position after them; -1 when the frame's `end` bits run out. Integer arguments only (the region's power index,
   * not its standard deviation): a double passed to a call V8 does not inline is boxed, an allocation per region.
   */
  private readRegion(pos: number, end: number, category: number, power: number, base: number): number {
    const std = G7221_STD_DEV[power - MIN_POWER]!;
    const { code, dim, levels, signShift, nonZero, nonZeroMask } = VECTOR_CODES[category]!;
    const frame = this.frame;
    const coefs = this.coefs;
    let mask = 0;
    let count = 0;
    for (let at = base; at < base + G7221_REGION_SIZE; at += dim) {
      // The code and its sign bits (at most 16 + 5) from one 32-bit peek.
      const word = peek32(frame, pos);
      const c = readCode(word, code);
      const length = c & 31;
      const vector = c >> 5;
      const signCount = nonZero[vector]!;
      pos += length + signCount;
      if (pos > end) return -1;
      const signs = (word << length) >>> (32 - signCount);
      mask |= nonZeroMask[vector]! << (at - base);
      count += signCount;
      // level * std times +-1 (exact: level * std or -(level * std)); a zero level gives +-0.
      for (let e = 0, i = vector * dim; e < dim; e++, i++)
        coefs[at + e] = levels[i]! * std * (((signs >> signShift[i]!) & 1) * 2 - 1);
    }
    this.regionNonZero = count;
    this.regionNonZeroMask = mask;
    return pos;
  }

  /**
   * Categories 5 and 6 fill their zero coefficients with +-noise (those readRegion just read: its count and mask of
   * non-zero ones), category 7 the whole region.
   */
  private fillNoise(category: number, power: number, base: number): void {
    const std = G7221_STD_DEV[power - MIN_POWER]!;
    const coefs = this.coefs;
    const level = std * this.noiseGain;
    let noise: number;
    if (category === 7) noise = level * NOISE_CATEGORY7;
    else noise = level * (category === 5 ? NOISE_CATEGORY5 : NOISE_CATEGORY6)[this.regionNonZero]!;
    // The signs from the generator's bits, as noise times +-1 (exact; random signs are branches badly predicted).
    let d1 = this.dither();
    let d2 = this.dither();
    if (category === 7) {
      for (let j = base; j < base + G7221_REGION_SIZE; j += 2) {
        coefs[j] = noise * ((d1 & 1) * 2 - 1);
        coefs[j + 1] = noise * ((d2 & 1) * 2 - 1);
        d1 >>= 1;
        d2 >>= 1;
      }
      return;
    }
    // Added where the coefficient is +-0 (giving the noise exactly), +-0 added elsewhere (changing nothing).
    const zero = ~this.regionNonZeroMask;
    for (let j = 0; j < G7221_REGION_SIZE; j += 2) {
      coefs[base + j] = coefs[base + j]! + ((zero >> j) & 1) * noise * ((d1 & 1) * 2 - 1);
      coefs[base + j + 1] = coefs[base + j + 1]! + ((zero >> (j + 1)) & 1) * noise * ((d2 & 1) * 2 - 1);
      d1 >>= 1;
      d2 >>= 1;
    }
  }

  /**
   * Inverse MLT: DCT-IV of the coefficients (every odd one negated: the MLT's phase, as FFmpeg's decoder has it),
   * then each output sample is the current frame's rising window half plus the previous frame's falling half
   * (time-domain aliasing cancels).
   */
  private synthesise(coefs: Float64Array, at: number): void {
    const { dct, previous, out } = this;
    dct4(coefs, dct, this.scratch, -1);
    for (let p = 0; p < HALF; p++) {
      const old = previous[HALF - 1 - p]!;
      const cur = dct[HALF + p]!;
      out[at + p] = toInt16(cur * WINDOW[p]! - old * WINDOW[N - 1 - p]!);
      out[at + N - 1 - p] = toInt16(-old * WINDOW[p]! - cur * WINDOW[N - 1 - p]!);
    }
    this.previous = dct;
    this.dct = previous;
  }
}

/**
 * Rounded half up and clamped to 16 bits. Math.floor(x + 0.5) is Math.round for every double but one (0.5 - 2^-54,
 * where it gives 1, not 0) and about 5 times cheaper in V8: with Math.round this was a third of the decoder's time.
 */
function toInt16(x: number): number {
  return x >= 32767 ? 32767 : x <= -32768 ? -32768 : Math.floor(x + 0.5);
}
