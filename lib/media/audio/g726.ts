/**
 * G.726 ADPCM decoder (ITU-T G.726, 12/1990): 16, 24 and 32 kbit/s (2-4 bits per sample at 8 kHz) to 16-bit
 * linear PCM, written from the recommendation's block description (section 4: inverse adaptive quantizer,
 * quantizer scale factor adaptation, adaptation speed control, adaptive predictor, tone and transition detector),
 * in its integer arithmetic (the predictor multiplies in the 11-bit floating format). The scale factor mix keeps
 * the fractional bits of the slow factor YL (as ffmpeg's decoder does); with it the output equals ffmpeg's decode of
 * the same bytes sample for sample (test/media/audio/g726.test.ts). The 14-bit reconstructed signal is scaled by 4.
 * 40 kbit/s (5 bits) is left out: its tables as written here did not reproduce ffmpeg's decode, and Hikvision
 * cameras are not known to use it.
 *
 * Bit packing is not part of G.726: `packing: 'le'` is RFC 3551 (first code word in the least significant bits,
 * what RTP "G726-xx" carries and ffmpeg calls g726le), `'be'` is ITU-T I.366.2 / AAL2 (first code word in the most
 * significant bits, ffmpeg's g726).
 */

import type { PcmDecoder } from './pcm-decoder.js';

export type G726Bits = 2 | 3 | 4;
export type G726Packing = 'le' | 'be';

interface RateTables {
  dqln: readonly number[];
  wi: readonly number[];
  fi: readonly number[];
}

/** Tables of G.726 for each code word size: log of the quantized difference, scale factor multiplier, speed. */
const TABLES: Record<G726Bits, RateTables> = {
  2: { dqln: [116, 365, 365, 116], wi: [-704, 14048, 14048, -704], fi: [0, 0xe00, 0xe00, 0] },
  3: {
    dqln: [-2048, 135, 273, 373, 373, 273, 135, -2048],
    wi: [-128, 960, 4384, 18624, 18624, 4384, 960, -128],
    fi: [0, 0x200, 0x400, 0xe00, 0xe00, 0x400, 0x200, 0],
  },
  4: {
    dqln: [-2048, 4, 135, 213, 273, 323, 373, 425, 425, 373, 323, 273, 213, 135, 4, -2048],
    wi: [-12, 18, 41, 64, 112, 198, 355, 1122, 1122, 355, 198, 112, 64, 41, 18, -12].map((w) => w << 5),
    fi: [0, 0, 0, 0x200, 0x200, 0x200, 0x600, 0xe00, 0xe00, 0x600, 0x200, 0x200, 0x200, 0, 0, 0],
  },
};

/** Number of bits needed for `val` (0..0x7fff): the exponent of the 11-bit floating format. */
function expOf(val: number): number {
  let e = 0;
  while (e < 15 && val >= 1 << e) e++;
  return e;
}

/** FMULT: predictor coefficient (16-bit two's complement) times a signal in the floating format. */
function fmult(an: number, srn: number): number {
  const anmag = an > 0 ? an : -an & 0x1fff;
  const anexp = expOf(anmag) - 6;
  const anmant = anmag === 0 ? 32 : anexp >= 0 ? anmag >> anexp : anmag << -anexp;
  const wanexp = anexp + ((srn >> 6) & 15) - 13;
  const wanmant = (anmant * (srn & 0o77) + 0x30) >> 4;
  const retval = wanexp >= 0 ? (wanmant << wanexp) & 0x7fff : wanmant >> -wanexp;
  return (an ^ srn) < 0 ? -retval : retval;
}

/** A sign-magnitude value (negative numbers as value - 0x400 around the magnitude) in the floating format. */
function toFloat(mag: number, negative: boolean): number {
  if (mag === 0) return negative ? 0x20 - 0x400 : 0x20;
  const e = expOf(mag);
  const f = (e << 6) + ((mag << 6) >> e);
  return negative ? f - 0x400 : f;
}

/** Also the transcoder's PcmDecoder (8 kHz mono; a payload's leftover bits, less than a code word, are dropped). */
export class G726Decoder implements PcmDecoder {
  readonly sampleRate = 8000;
  readonly channels = 1;
  private scratch = new Int16Array(0);
  private yl = 34816;
  private yu = 544;
  private dms = 0;
  private dml = 0;
  private ap = 0;
  private readonly a = [0, 0];
  private readonly b = [0, 0, 0, 0, 0, 0];
  private readonly pk = [0, 0];
  private readonly dq = [32, 32, 32, 32, 32, 32];
  private readonly sr = [32, 32];
  private td = 0;
  private readonly tables: RateTables;
  private readonly signBit: number;
  private readonly mask: number;

  constructor(
    readonly bits: G726Bits,
    readonly packing: G726Packing = 'le',
  ) {
    if (!(bits in TABLES)) throw new RangeError(`G.726 code words have 2-4 bits (16-32 kbit/s), got ${String(bits)}`);
    this.tables = TABLES[bits];
    this.signBit = 1 << (bits - 1);
    this.mask = (1 << bits) - 1;
  }

  /** Samples that `byteLength` bytes decode to (a code word never spans two calls when packets hold whole bytes). */
  samplesIn(byteLength: number): number {
    return Math.floor((byteLength * 8) / this.bits);
  }

  /**
   * Decode packed code words; the bits left over at the end of `bytes` (less than one code word) are dropped. Without
   * `out`, into a buffer reused by the next call.
   */
  decode(bytes: Uint8Array, out?: Int16Array): Int16Array {
    const n = this.samplesIn(bytes.length);
    if (!out) {
      if (this.scratch.length < n) this.scratch = new Int16Array(Math.max(n, 4096));
      out = this.scratch;
    }
    if (out.length < n) throw new RangeError(`output holds ${out.length} samples, ${n} needed`);
    const bits = this.bits;
    let acc = 0;
    let have = 0;
    let pos = 0;
    for (let i = 0; i < n; i++) {
      let code: number;
      if (this.packing === 'le') {
        if (have < bits) {
          acc |= bytes[pos++]! << have;
          have += 8;
        }
        code = acc & this.mask;
        acc >>>= bits;
        have -= bits;
      } else {
        if (have < bits) {
          acc = ((acc << 8) | bytes[pos++]!) & 0xffff;
          have += 8;
        }
        code = (acc >> (have - bits)) & this.mask;
        have -= bits;
      }
      out[i] = this.decodeCode(code);
    }
    return out.subarray(0, n);
  }

  flush(): Int16Array {
    return this.scratch.subarray(0, 0);
  }

  /** One code word to one 16-bit sample. */
  decodeCode(code: number): number {
    const t = this.tables;
    // Adaptive predictor: the zeros' part (sez) and the signal estimate (se).
    let sezi = fmult(this.b[0]! >> 2, this.dq[0]!);
    for (let i = 1; i < 6; i++) sezi += fmult(this.b[i]! >> 2, this.dq[i]!);
    const sez = sezi >> 1;
    const se = (sezi + fmult(this.a[1]! >> 2, this.sr[1]!) + fmult(this.a[0]! >> 2, this.sr[0]!)) >> 1;
    // Quantizer scale factor: a mix of the fast (yu) and the slow (yl) factor by the speed control ap.
    const al = this.ap >= 256 ? 64 : this.ap >> 2;
    const y = (this.yl + (this.yu - (this.yl >> 6)) * al) >> 6;
    // Inverse adaptive quantizer: log-domain difference plus the scale factor, back to linear (sign-magnitude).
    const negative = (code & this.signBit) !== 0;
    const dql = t.dqln[code]! + (y >> 2);
    let dq: number;
    if (dql < 0) dq = negative ? -0x8000 : 0;
    else {
      const dex = (dql >> 7) & 15;
      const dqt = 128 + (dql & 127);
      dq = (dqt << 7) >> (14 - dex);
      if (negative) dq -= 0x8000;
    }
    const sr = dq < 0 ? se - (dq & 0x3fff) : se + dq;
    const dqsez = sr - se + sez;
    this.update(y, t.wi[code]!, t.fi[code]!, dq, sr, dqsez);
    return Math.max(-0x8000, Math.min(0x7fff, sr * 4));
  }

  private update(y: number, wi: number, fi: number, dq: number, sr: number, dqsez: number): void {
    const pk0 = dqsez < 0 ? 1 : 0;
    const mag = dq & 0x7fff;
    // Transition detector: a large difference while a tone was seen resets the predictor (modem signals).
    const ylint = this.yl >> 15;
    const ylfrac = (this.yl >> 10) & 0x1f;
    const thr1 = (32 + ylfrac) << ylint;
    const thr2 = ylint > 9 ? 31 << 10 : thr1;
    const dqthr = (thr2 + (thr2 >> 1)) >> 1;
    const tr = this.td !== 0 && mag > dqthr ? 1 : 0;

    this.yu = Math.max(544, Math.min(5120, y + ((wi - y) >> 5)));
    this.yl += this.yu + (-this.yl >> 6);

    let a2p = 0;
    if (tr === 1) {
      this.a[0] = 0;
      this.a[1] = 0;
      this.b.fill(0);
    } else {
      const pks1 = pk0 ^ this.pk[0]!;
      a2p = this.a[1]! - (this.a[1]! >> 7);
      if (dqsez !== 0) {
        const fa1 = pks1 ? this.a[0]! : -this.a[0]!;
        if (fa1 < -8191) a2p -= 0x100;
        else if (fa1 > 8191) a2p += 0xff;
        else a2p += fa1 >> 5;
        if (pk0 ^ this.pk[1]!) {
          if (a2p <= -12160) a2p = -12288;
          else if (a2p >= 12416) a2p = 12288;
          else a2p -= 0x80;
        } else if (a2p <= -12416) a2p = -12288;
        else if (a2p >= 12160) a2p = 12288;
        else a2p += 0x80;
      }
      this.a[1] = a2p;
      this.a[0] = this.a[0]! - (this.a[0]! >> 8);
      if (dqsez !== 0) this.a[0] += pks1 === 0 ? 192 : -192;
      const a1ul = 15360 - a2p;
      if (this.a[0] < -a1ul) this.a[0] = -a1ul;
      else if (this.a[0] > a1ul) this.a[0] = a1ul;
      for (let i = 0; i < 6; i++) {
        const bi = this.b[i]!;
        this.b[i] = bi - (bi >> 8) + (mag === 0 ? 0 : (dq ^ this.dq[i]!) >= 0 ? 128 : -128);
      }
    }
    for (let i = 5; i > 0; i--) this.dq[i] = this.dq[i - 1]!;
    this.dq[0] = toFloat(mag, dq < 0);
    this.sr[1] = this.sr[0]!;
    this.sr[0] = sr === 0 ? 0x20 : sr > 0 ? toFloat(sr, false) : sr > -32768 ? toFloat(-sr, true) : 0x20 - 0x400;
    this.pk[1] = this.pk[0]!;
    this.pk[0] = pk0;
    this.td = tr === 1 ? 0 : a2p < -11776 ? 1 : 0;
    this.dms += (fi - this.dms) >> 5;
    this.dml += ((fi << 2) - this.dml) >> 7;
    if (tr === 1) this.ap = 256;
    else if (y < 1536 || this.td === 1 || Math.abs((this.dms << 2) - this.dml) >= this.dml >> 3)
      this.ap += (0x200 - this.ap) >> 4;
    else this.ap += -this.ap >> 4;
  }
}
