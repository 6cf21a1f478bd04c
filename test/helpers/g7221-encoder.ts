/**
 * A G.722.1 (Siren 7) encoder for fixtures and tests, not the product: forward MLT (the sine window over two frames
 * and a DCT-IV, here a plain matrix product: independent of the decoder's FFT), region powers, the envelope's
 * differential Huffman codes, the categorisation with the 4-bit rate control, scalar quantisation of each region in
 * its category's step size and dead zone, vector Huffman codes with sign bits, fill with ones. Valid streams at any
 * frame size the decoder takes (40/60/80 bytes = 16/24/32 kbit/s); not the ITU reference encoder bit for bit.
 *
 * The Huffman codes are read off the decoder's trees (g7221-tables.ts, FFmpeg's data) and the categorisation is the
 * decoder's own function: both sides must run the same procedure. What checks them against an independent
 * implementation is the reference decode by FFmpeg's siren decoder (test/fixtures/audio-g7221-16k.ref.s16).
 *
 * Run as a script: `tsx test/helpers/g7221-encoder.ts in.s16 out.g7221 [frameBytes]` (16 kHz mono s16le in).
 */
import fs from 'node:fs';
import {
  categorizeRegions,
  G7221_DEFAULT_FRAME_BYTES,
  G7221_ESF_ADJUSTMENT,
  G7221_FRAME_SAMPLES,
  G7221_RATE_CONTROL_POSSIBILITIES,
  G7221_REGION_SIZE,
  G7221_REGIONS,
} from '../../lib/media/audio/g7221-decoder.js';
import {
  REGION_POWER_TREES,
  VECTOR_DIMENSION,
  VECTOR_ELEMENT_BITS,
  VECTOR_TREES,
  VECTORS_PER_REGION,
} from '../../lib/media/audio/g7221-tables.js';

const N = G7221_FRAME_SAMPLES;
const HALF = N / 2;
/** Quantiser step (in units of the region's standard deviation), dead-zone offset and largest level by category. */
const STEP = [0.3536, 0.5, 0.7071, 1.0, 1.4142, 2.0, 2.8284];
const DEAD_ZONE = [0.3, 0.33, 0.36, 0.39, 0.42, 0.45, 0.5];
const MAX_LEVEL = [13, 9, 6, 4, 3, 2, 1];

interface Code {
  code: number;
  length: number;
}

/** Code of each power difference (index d + 12) for region r (index r - 1), read off the decoder's trees. */
const POWER_CODES: Code[][] = REGION_POWER_TREES.map((tree) => {
  const codes: Code[] = [];
  const walk = (node: number, code: number, length: number): void => {
    for (const b of [0, 1]) {
      const child = tree[2 * node + b]!;
      if (child > 0) walk(child, code * 2 + b, length + 1);
      else codes[-child] = { code: code * 2 + b, length: length + 1 };
    }
  };
  walk(0, 0, 0);
  return codes;
});

/** Code of each packed vector index by category (a vector without a code cannot be sent). */
const VECTOR_CODES: Array<Map<number, Code>> = VECTOR_TREES.map((tree) => {
  const codes = new Map<number, Code>();
  const walk = (node: number, code: number, length: number): void => {
    for (const b of [0, 1]) {
      const v = tree[node + b]!;
      if (v & 1) codes.set(v >> 1, { code: code * 2 + b, length: length + 1 });
      else walk(v, code * 2 + b, length + 1);
    }
  };
  walk(0, 0, 0);
  return codes;
});

/** cos(pi / N (m + 1/2)(k + 1/2)) */
const COS = Float64Array.from({ length: N * N }, (_, i) =>
  Math.cos((Math.PI / N) * (Math.floor(i / N) + 0.5) * ((i % N) + 0.5)),
);
const WINDOW = Float64Array.from({ length: N }, (_, n) => Math.sin((Math.PI * (n + 0.5)) / (2 * N)));

function dct4(x: Float64Array, out: Float64Array): void {
  for (let m = 0; m < N; m++) {
    let s = 0;
    const row = m * N;
    for (let k = 0; k < N; k++) s += COS[row + k]! * x[k]!;
    out[m] = s;
  }
}

/**
 * Forward MLT, the transpose of the decoder's synthesis (scaled by 2 / N so that decoding gives the input back):
 * `older` and `newer` are two consecutive 320-sample frames; the coefficients decode (with the next frame's) to
 * `older`. So the decoded stream is the input one frame (320 samples) late.
 */
export function forwardMlt(older: Float64Array, newer: Float64Array, coefs: Float64Array): void {
  const g = new Float64Array(N);
  for (let p = 0; p < HALF; p++) {
    g[HALF + p] = WINDOW[p]! * older[p]! - WINDOW[N - 1 - p]! * older[N - 1 - p]!;
    g[HALF - 1 - p] = -WINDOW[N - 1 - p]! * newer[p]! - WINDOW[p]! * newer[N - 1 - p]!;
  }
  dct4(g, coefs);
  for (let k = 0; k < N; k++) coefs[k] = ((k & 1 ? -1 : 1) * 2 * coefs[k]!) / N;
}

class BitWriter {
  private pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  get bitsWritten(): number {
    return this.pos;
  }
  /** MSB first; bits past the end of the frame are dropped (the decoder reads the frame as cut there). */
  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      if (this.pos >= this.bytes.length * 8) return;
      if ((value >> i) & 1) this.bytes[this.pos >> 3]! |= 0x80 >> (this.pos & 7);
      this.pos++;
    }
  }
  fillOnes(): void {
    while (this.pos < this.bytes.length * 8) this.write(1, 1);
  }
}

interface RegionCode {
  bits: number;
  /** Per vector: the code, then the sign bits. */
  words: Array<{ code: Code; signs: number; signCount: number }>;
}

/** Quantises one region in a category: levels by the step and dead zone, the vector made codable if it is not. */
function codeRegion(coefs: Float64Array, base: number, std: number, category: number): RegionCode {
  const dim = VECTOR_DIMENSION[category]!;
  const elementBits = VECTOR_ELEMENT_BITS[category]!;
  const words: RegionCode['words'] = [];
  let bits = 0;
  const levels = new Array<number>(dim);
  for (let v = 0; v < VECTORS_PER_REGION[category]!; v++) {
    for (let j = 0; j < dim; j++) {
      const x = Math.abs(coefs[base + v * dim + j]!) / std;
      levels[j] = Math.min(MAX_LEVEL[category]!, Math.floor(x / STEP[category]! + DEAD_ZONE[category]!));
    }
    let code: Code | undefined;
    for (;;) {
      let index = 0;
      for (let j = dim - 1; j >= 0; j--) index = (index << elementBits) | levels[j]!;
      code = VECTOR_CODES[category]!.get(index);
      if (code) break;
      // Not in the code: lower the largest level (the rare combinations the code leaves out).
      let big = 0;
      for (let j = 1; j < dim; j++) if (levels[j]! > levels[big]!) big = j;
      levels[big]!--;
    }
    let signs = 0;
    let signCount = 0;
    for (let j = 0; j < dim; j++) {
      if (levels[j] === 0) continue;
      signs = (signs << 1) | (coefs[base + v * dim + j]! >= 0 ? 1 : 0);
      signCount++;
    }
    words.push({ code, signs, signCount });
    bits += code.length + signCount;
  }
  return { bits, words };
}

export class G7221Encoder {
  private readonly older = new Float64Array(N);
  private readonly coefs = new Float64Array(N);
  private readonly power = new Int32Array(G7221_REGIONS);
  private readonly categories = new Int32Array(G7221_REGIONS);
  private readonly balance = new Int32Array(G7221_RATE_CONTROL_POSSIBILITIES - 1);
  /** Rate-control index chosen per frame (for tests). */
  readonly rateControls: number[] = [];

  constructor(readonly frameBytes: number = G7221_DEFAULT_FRAME_BYTES) {}

  /** One 320-sample frame in (16-bit values), one coded frame out. */
  encodeFrame(samples: ArrayLike<number>): Uint8Array {
    const newer = Float64Array.from({ length: N }, (_, i) => samples[i] ?? 0);
    forwardMlt(this.older, newer, this.coefs);
    this.older.set(newer);
    return this.codeCoefficients(this.coefs);
  }

  /** A whole signal: frames of 320 samples (the last one padded with silence), coded back to back. */
  encode(pcm: Int16Array): Uint8Array {
    const frames = Math.ceil(pcm.length / N);
    const out = new Uint8Array(frames * this.frameBytes);
    for (let f = 0; f < frames; f++) out.set(this.encodeFrame(pcm.subarray(f * N, (f + 1) * N)), f * this.frameBytes);
    return out;
  }

  /** Codes a frame's MLT coefficients (also for hand-made spectra in tests). */
  codeCoefficients(coefs: Float64Array): Uint8Array {
    const frame = new Uint8Array(this.frameBytes);
    const w = new BitWriter(frame);
    const { power, categories, balance } = this;
    // Region powers: log2 of the mean square, rounded; the first in 5 bits, differences within -12..+11.
    for (let r = 0; r < G7221_REGIONS; r++) {
      let ms = 0;
      for (let i = 0; i < G7221_REGION_SIZE; i++) ms += coefs[r * G7221_REGION_SIZE + i]! ** 2;
      ms /= G7221_REGION_SIZE;
      power[r] = ms > 0 ? Math.max(-8, Math.min(31, Math.round(Math.log2(ms)))) : -8;
    }
    power[0] = Math.max(-G7221_ESF_ADJUSTMENT, Math.min(31 - G7221_ESF_ADJUSTMENT, power[0]!));
    for (let r = G7221_REGIONS - 2; r >= 0; r--) if (power[r]! < power[r + 1]! - 11) power[r] = power[r + 1]! - 11;
    power[0] = Math.min(31 - G7221_ESF_ADJUSTMENT, power[0]);
    for (let r = 1; r < G7221_REGIONS; r++) if (power[r]! < power[r - 1]! - 12) power[r] = power[r - 1]! - 12;
    w.write(power[0] + G7221_ESF_ADJUSTMENT, 5);
    for (let r = 1; r < G7221_REGIONS; r++) {
      const c = POWER_CODES[r - 1]![power[r]! - power[r - 1]! + 12]!;
      w.write(c.code, c.length);
    }
    const available = this.frameBytes * 8 - w.bitsWritten - 4;
    categorizeRegions(power, available, categories, balance);
    // Rate control: the first (highest-rate) categorisation whose bits fit; the last one otherwise (it is cut).
    let chosen: RegionCode[] = [];
    let rate = 0;
    for (; rate < G7221_RATE_CONTROL_POSSIBILITIES; rate++) {
      if (rate > 0) categories[balance[rate - 1]!] = Math.min(7, categories[balance[rate - 1]!]! + 1);
      chosen = [];
      let bits = 0;
      for (let r = 0; r < G7221_REGIONS; r++) {
        const c = categories[r]!;
        const code = c < 7 ? codeRegion(coefs, r * G7221_REGION_SIZE, 2 ** (power[r]! / 2), c) : { bits: 0, words: [] };
        chosen.push(code);
        bits += code.bits;
      }
      // Strictly fewer: FFmpeg 5.1's siren decoder rejects a frame whose vectors fill it to the last bit (legal in
      // the Recommendation), so the encoder leaves at least one fill bit.
      if (bits < available) break;
    }
    rate = Math.min(rate, G7221_RATE_CONTROL_POSSIBILITIES - 1);
    this.rateControls.push(rate);
    w.write(rate, 4);
    for (const region of chosen) {
      for (const word of region.words) {
        w.write(word.code.code, word.code.length);
        w.write(word.signs, word.signCount);
      }
    }
    w.fillOnes();
    return frame;
  }
}

// As a script: raw 16 kHz mono s16le in, G.722.1 frames out.
if (process.argv[1]?.endsWith('g7221-encoder.ts') && process.argv.length >= 4) {
  const input = fs.readFileSync(process.argv[2]!);
  const pcm = new Int16Array(input.length >> 1);
  for (let i = 0; i < pcm.length; i++) pcm[i] = input.readInt16LE(2 * i);
  const encoder = new G7221Encoder(Number(process.argv[4] ?? G7221_DEFAULT_FRAME_BYTES));
  fs.writeFileSync(process.argv[3]!, encoder.encode(pcm));
}
