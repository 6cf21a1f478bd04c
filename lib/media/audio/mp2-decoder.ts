/**
 * MPEG audio layer II decoder (ISO/IEC 11172-3 2.4.3.3 and 13818-3 low sampling frequencies), plain TypeScript:
 * bit allocation (Annex B.2 tables a-d, 13818-3 Annex B.1 for LSF), scale factor selection information, scale
 * factors, grouped and ungrouped samples, requantisation, and the polyphase synthesis filterbank (2.4.3.2 with the
 * window of Table 3-B.3). Mono, stereo, dual channel and joint (intensity) stereo; MPEG-2.5 rates too.
 *
 * Input: PES payloads of an MP2 stream (frames may be cut at any byte: MpegAudioFramer reassembles them). Output:
 * interleaved 16-bit samples at the stream's rate, in the channel layout of its first frame (a later frame in the
 * other layout is mixed down or duplicated). A frame that is not layer II, or a damaged frame, never throws: reads
 * past a frame's end give zero bits, and frames of another stream are skipped by the framer.
 */
import { MpegAudioFramer, type MpegAudioFrame, type MpegAudioHeader } from './mpeg-audio.js';
import type { PcmDecoder } from './pcm-decoder.js';

interface Band {
  /** Bits of the allocation field. */
  nbal: number;
  /** Quantisation levels by allocation value (index 0: no samples). */
  levels: readonly number[];
}

function bands(groups: ReadonlyArray<readonly [count: number, nbal: number, levels: readonly number[]]>): Band[] {
  const out: Band[] = [];
  for (const [count, nbal, levels] of groups) for (let i = 0; i < count; i++) out.push({ nbal, levels });
  return out;
}

// Quantisation levels of the allocation tables (index = allocation code).
const A_LOW = [0, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 2047, 4095, 8191, 16383, 32767, 65535];
const A_MID = [0, 3, 5, 7, 9, 15, 31, 63, 127, 255, 511, 1023, 2047, 4095, 8191, 65535];
const A_HIGH = [0, 3, 5, 7, 9, 15, 31, 65535];
const A_TOP = [0, 3, 5, 65535];
const C_LOW = [0, 3, 5, 9, 15, 31, 63, 127, 255, 511, 1023, 2047, 4095, 8191, 16383, 32767];
// Tables c and d take the LSF table's middle list for their upper subbands.
const L_LOW = [0, 3, 5, 7, 9, 15, 31, 63, 127, 255, 511, 1023, 2047, 4095, 8191, 16383];
const L_MID = [0, 3, 5, 9, 15, 31, 63, 127];
const L_HIGH = [0, 3, 5, 9];

/** 11172-3 Table 3-B.2a (27 subbands), b (30), c (8), d (12); 13818-3 Table B.1 (LSF, 30). */
const TABLE_A = bands([
  [3, 4, A_LOW],
  [8, 4, A_MID],
  [12, 3, A_HIGH],
  [4, 2, A_TOP],
]);
const TABLE_B = bands([
  [3, 4, A_LOW],
  [8, 4, A_MID],
  [12, 3, A_HIGH],
  [7, 2, A_TOP],
]);
const TABLE_C = bands([
  [2, 4, C_LOW],
  [6, 3, L_MID],
]);
const TABLE_D = bands([
  [2, 4, C_LOW],
  [10, 3, L_MID],
]);
const TABLE_LSF = bands([
  [4, 4, L_LOW],
  [7, 3, L_MID],
  [19, 2, L_HIGH],
]);

/** The allocation table of a frame: by version, rate and bit rate per channel (11172-3 Annex B.2 notes). */
export function allocationTable(h: MpegAudioHeader): readonly Band[] {
  if (h.version !== 1) return TABLE_LSF;
  const perChannel = h.bitrate / 1000 / h.channels;
  if ((h.sampleRate === 48000 && perChannel >= 56) || (perChannel >= 56 && perChannel <= 80)) return TABLE_A;
  if (h.sampleRate !== 48000 && perChannel >= 96) return TABLE_B;
  if (h.sampleRate !== 32000 && perChannel <= 48) return TABLE_C;
  return TABLE_D;
}

/** Code word bits of a quantisation with `levels` steps: grouped (3 samples in one word) for 3, 5 and 9. */
function codeBits(levels: number): { bits: number; grouped: boolean } {
  if (levels === 3) return { bits: 5, grouped: true };
  if (levels === 5) return { bits: 7, grouped: true };
  if (levels === 9) return { bits: 10, grouped: true };
  return { bits: Math.round(Math.log2(levels + 1)), grouped: false };
}

/** Scale factors (Table 3-B.1): 2^(1 - i/3); index 63 is not used by encoders and is taken by the same formula. */
const SCALE = Float64Array.from({ length: 64 }, (_, i) => 2 ** (1 - i / 3));

/**
 * Synthesis window D[0..256] of Table 3-B.3 in units of 2^-16 (every value of the table is a multiple of it). The
 * rest follows from its symmetry: |D[i]| = |D[512 - i]|, and the sign of each 64-value block alternates.
 */
const WINDOW_HALF = [
  0, -1, -1, -1, -1, -1, -1, -2, -2, -2, -2, -3, -3, -4, -4, -5, -5, -6, -7, -7, -8, -9, -10, -11, -13, -14, -16, -17,
  -19, -21, -24, -26, -29, -31, -35, -38, -41, -45, -49, -53, -58, -63, -68, -73, -79, -85, -91, -97, -104, -111, -117,
  -125, -132, -139, -147, -154, -161, -169, -176, -183, -190, -196, -202, -208, -213, -218, -222, -225, -227, -228,
  -228, -227, -224, -221, -215, -208, -200, -189, -177, -163, -146, -127, -106, -83, -57, -29, 2, 36, 72, 111, 153, 197,
  244, 294, 347, 401, 459, 519, 581, 645, 711, 779, 848, 919, 991, 1064, 1137, 1210, 1283, 1356, 1428, 1498, 1567, 1634,
  1698, 1759, 1817, 1870, 1919, 1962, 2001, 2032, 2057, 2075, 2085, 2087, 2080, 2063, 2037, 2000, 1952, 1893, 1822,
  1739, 1644, 1535, 1414, 1280, 1131, 970, 794, 605, 402, 185, -45, -288, -545, -814, -1095, -1388, -1692, -2006, -2330,
  -2663, -3004, -3351, -3705, -4063, -4425, -4788, -5153, -5517, -5879, -6237, -6589, -6935, -7271, -7597, -7910, -8209,
  -8491, -8755, -8998, -9219, -9416, -9585, -9727, -9838, -9916, -9959, -9966, -9935, -9863, -9750, -9592, -9389, -9139,
  -8840, -8492, -8092, -7640, -7134, -6574, -5959, -5288, -4561, -3776, -2935, -2037, -1082, -70, 998, 2122, 3300, 4533,
  5818, 7154, 8540, 9975, 11455, 12980, 14548, 16155, 17799, 19478, 21189, 22929, 24694, 26482, 28289, 30112, 31947,
  33791, 35640, 37489, 39336, 41176, 43006, 44821, 46617, 48390, 50137, 51853, 53534, 55178, 56778, 58333, 59838, 61289,
  62684, 64019, 65290, 66494, 67629, 68692, 69679, 70590, 71420, 72169, 72835, 73415, 73908, 74313, 74630, 74856, 74992,
  75038,
];
const WINDOW = Float64Array.from({ length: 512 }, (_, i) => {
  const v = WINDOW_HALF[i <= 256 ? i : 512 - i]! / 65536;
  return (i >> 6) % 2 === 0 ? v : -v;
});
/** Matrixing coefficients N[i][k] = cos((16 + i)(2k + 1) pi / 64), i < 64, k < 32. */
const MATRIX = Float64Array.from({ length: 64 * 32 }, (_, n) =>
  Math.cos(((16 + (n >> 5)) * (2 * (n & 31) + 1) * Math.PI) / 64),
);

/** One channel's polyphase synthesis state: the 1024-value V vector as a ring. */
class Synthesis {
  private readonly v = new Float64Array(1024);
  private offset = 0;

  /** 32 subband samples in, 32 output samples (full scale 1.0) written to out[at + k * stride]. */
  run(s: Float64Array, out: Float64Array, at: number, stride: number): void {
    const v = this.v;
    this.offset = (this.offset - 64) & 1023;
    const o = this.offset;
    for (let i = 0; i < 64; i++) {
      let sum = 0;
      const row = i * 32;
      for (let k = 0; k < 32; k++) sum += MATRIX[row + k]! * s[k]!;
      v[o + i] = sum;
    }
    for (let j = 0; j < 32; j++) {
      let sum = 0;
      for (let m = 0; m < 8; m++) {
        sum += v[(o + m * 128 + j) & 1023]! * WINDOW[m * 64 + j]!;
        sum += v[(o + m * 128 + 96 + j) & 1023]! * WINDOW[m * 64 + 32 + j]!;
      }
      out[at + j * stride] = sum;
    }
  }
}

/** MSB-first bit reader over one frame; past the end it reads zeros (a damaged frame decodes to something bounded). */
class Bits {
  private pos = 0;
  constructor(private readonly b: Uint8Array) {}
  skip(n: number): void {
    this.pos += n;
  }
  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.pos >> 3;
      const bit = byte < this.b.length ? (this.b[byte]! >> (7 - (this.pos & 7))) & 1 : 0;
      v = v * 2 + bit;
      this.pos++;
    }
    return v;
  }
}

export interface Mp2DecoderStats {
  /** Layer II frames decoded. */
  frames: number;
  /** Frames of another layer (the stream is not MP2): skipped. */
  skippedFrames: number;
}

const SAMPLES_PER_FRAME = 1152;
const MAX_CHANNELS = 2;

export class Mp2Decoder implements PcmDecoder {
  sampleRate = 0;
  channels = 0;
  readonly stats: Mp2DecoderStats = { frames: 0, skippedFrames: 0 };
  private readonly framer: MpegAudioFramer;
  private readonly synth = [new Synthesis(), new Synthesis()];
  private out = new Int16Array(SAMPLES_PER_FRAME * MAX_CHANNELS * 4);
  private outLength = 0;
  // Per-frame work arrays, reused.
  private readonly alloc = [new Uint8Array(32), new Uint8Array(32)];
  private readonly scfsi = [new Uint8Array(32), new Uint8Array(32)];
  private readonly scale = [new Float64Array(96), new Float64Array(96)];
  private readonly sub = [new Float64Array(96), new Float64Array(96)];
  private readonly slot = new Float64Array(32);
  private readonly pcm = new Float64Array(SAMPLES_PER_FRAME * MAX_CHANNELS);

  constructor() {
    // One decode() call is one PES payload: a frame filling it is decoded at once (its samples belong to that PES).
    this.framer = new MpegAudioFramer((f) => this.onFrame(f), { pesAligned: true });
  }

  decode(bytes: Uint8Array): Int16Array {
    this.outLength = 0;
    this.framer.push(bytes);
    return this.out.subarray(0, this.outLength);
  }

  flush(): Int16Array {
    this.outLength = 0;
    this.framer.end();
    return this.out.subarray(0, this.outLength);
  }

  private onFrame(frame: MpegAudioFrame): void {
    const h = frame.header;
    if (h.layer !== 2) {
      this.stats.skippedFrames++;
      return;
    }
    if (this.channels === 0) {
      this.channels = h.channels;
      this.sampleRate = h.sampleRate;
    }
    this.decodeFrame(frame.data, h);
    this.stats.frames++;
    this.emit(h.channels);
  }

  private decodeFrame(data: Uint8Array, h: MpegAudioHeader): void {
    const table = allocationTable(h);
    const sblimit = table.length;
    const nch = h.channels;
    const bound = h.mode === 1 ? Math.min(4 * (h.modeExtension + 1), sblimit) : sblimit;
    const r = new Bits(data);
    r.skip(32 + (h.crc ? 16 : 0));
    const { alloc, scfsi, scale, sub } = this;
    for (let sb = 0; sb < sblimit; sb++) {
      const nbal = table[sb]!.nbal;
      if (sb < bound) {
        for (let ch = 0; ch < nch; ch++) alloc[ch]![sb] = r.read(nbal);
      } else {
        const a = r.read(nbal);
        alloc[0]![sb] = a;
        alloc[1]![sb] = a;
      }
    }
    for (let sb = 0; sb < sblimit; sb++)
      for (let ch = 0; ch < nch; ch++) if (alloc[ch]![sb] !== 0) scfsi[ch]![sb] = r.read(2);
    for (let sb = 0; sb < sblimit; sb++) {
      for (let ch = 0; ch < nch; ch++) {
        if (alloc[ch]![sb] === 0) continue;
        const s = scale[ch]!;
        const at = sb * 3;
        switch (scfsi[ch]![sb]) {
          case 0:
            s[at] = SCALE[r.read(6)]!;
            s[at + 1] = SCALE[r.read(6)]!;
            s[at + 2] = SCALE[r.read(6)]!;
            break;
          case 1:
            s[at] = s[at + 1] = SCALE[r.read(6)]!;
            s[at + 2] = SCALE[r.read(6)]!;
            break;
          case 2:
            s[at] = s[at + 1] = s[at + 2] = SCALE[r.read(6)]!;
            break;
          default:
            s[at] = SCALE[r.read(6)]!;
            s[at + 1] = s[at + 2] = SCALE[r.read(6)]!;
        }
      }
    }
    const pcm = this.pcm;
    for (let gr = 0; gr < 12; gr++) {
      const part = gr >> 2;
      for (let sb = 0; sb < 32; sb++) {
        if (sb >= sblimit) {
          for (let ch = 0; ch < nch; ch++) sub[ch]!.fill(0, sb * 3, sb * 3 + 3);
          continue;
        }
        const readChannels = sb < bound ? nch : 1;
        for (let ch = 0; ch < readChannels; ch++) {
          const a = alloc[ch]![sb]!;
          const dst = sub[ch]!;
          if (a === 0) {
            dst[sb * 3] = dst[sb * 3 + 1] = dst[sb * 3 + 2] = 0;
            if (readChannels === 1 && nch === 2) sub[1]!.fill(0, sb * 3, sb * 3 + 3);
            continue;
          }
          const levels = table[sb]!.levels[a]!;
          const { bits, grouped } = codeBits(levels);
          let c0: number;
          let c1: number;
          let c2: number;
          if (grouped) {
            let c = r.read(bits);
            c0 = c % levels;
            c = Math.floor(c / levels);
            c1 = c % levels;
            c = Math.floor(c / levels);
            c2 = c % levels;
          } else {
            c0 = r.read(bits);
            c1 = r.read(bits);
            c2 = r.read(bits);
          }
          const q0 = (2 * c0 - (levels - 1)) / levels;
          const q1 = (2 * c1 - (levels - 1)) / levels;
          const q2 = (2 * c2 - (levels - 1)) / levels;
          const sf = scale[ch]![sb * 3 + part]!;
          dst[sb * 3] = q0 * sf;
          dst[sb * 3 + 1] = q1 * sf;
          dst[sb * 3 + 2] = q2 * sf;
          if (readChannels === 1 && nch === 2) {
            // Intensity stereo: the same samples, with the other channel's own scale factors.
            const sf1 = scale[1]![sb * 3 + part]!;
            const d1 = sub[1]!;
            d1[sb * 3] = q0 * sf1;
            d1[sb * 3 + 1] = q1 * sf1;
            d1[sb * 3 + 2] = q2 * sf1;
          }
        }
      }
      const slot = this.slot;
      for (let j = 0; j < 3; j++) {
        for (let ch = 0; ch < nch; ch++) {
          const s = sub[ch]!;
          for (let sb = 0; sb < 32; sb++) slot[sb] = s[sb * 3 + j]!;
          this.synth[ch]!.run(slot, pcm, (gr * 3 + j) * 32 * nch + ch, nch);
        }
      }
    }
  }

  /** Appends the frame's samples in the stream's channel layout, rounded and clipped to 16 bits. */
  private emit(frameChannels: number): void {
    const want = this.channels;
    const n = SAMPLES_PER_FRAME * want;
    if (this.outLength + n > this.out.length) {
      const bigger = new Int16Array(Math.max(this.out.length * 2, this.outLength + n));
      bigger.set(this.out.subarray(0, this.outLength));
      this.out = bigger;
    }
    const out = this.out;
    const pcm = this.pcm;
    let at = this.outLength;
    for (let i = 0; i < SAMPLES_PER_FRAME; i++) {
      if (frameChannels === want) {
        for (let ch = 0; ch < want; ch++) out[at++] = toInt16(pcm[i * want + ch]!);
      } else if (want === 1) {
        out[at++] = toInt16((pcm[i * 2]! + pcm[i * 2 + 1]!) / 2);
      } else {
        const v = toInt16(pcm[i]!);
        out[at++] = v;
        out[at++] = v;
      }
    }
    this.outLength = at;
  }
}

function toInt16(x: number): number {
  const v = Math.round(x * 32768);
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
