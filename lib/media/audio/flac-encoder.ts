/**
 * 16-bit PCM -> FLAC frames (RFC 9639, "Free Lossless Audio Codec"), plus the decoder configuration an MP4 muxer
 * needs (WebCodecs shape: codec 'flac', description = the 'fLaC' signature and a STREAMINFO block, from which the
 * muxer writes `dfLa`). Lossless: a decoder gives back exactly the samples that went in.
 *
 * What it uses of the format, and why (docs/audio.md has the measurements):
 * - a fixed block size, about 128 ms (1024 samples at 8 kHz, 2048 at 16 kHz; a power of two from 256 to 4096, so
 *   the frame header codes it in 4 bits); only the last block of a stream is shorter;
 * - channels coded independently (the cameras' speech codecs are mono);
 * - per subframe the smallest of CONSTANT, VERBATIM and FIXED prediction of order 0-4 (the order with the smallest sum
 *   of absolute residuals, as the reference encoder chooses it, summed over every 4th sample); no LPC: its analysis
 *   costs several times the whole FIXED encoder for a few per cent of size on 8 kHz speech;
 * - wasted bits: low bits zero in every sample of a subframe are coded once (decoded A-law: 3, mu-law: 2; a quarter
 *   less to write);
 * - partitioned Rice coding (4-bit parameters) with the partition order (0-4) and each parameter chosen by their
 *   estimated bits, an escape (raw signed samples) where that is smaller.
 * The estimate `n * (k + 1) + (sum >> k)` is never below the real Rice bits (a sum of floors is at most the floor of
 * the sum), so the choice against VERBATIM is safe and a frame never exceeds the working buffer.
 *
 * Allocation-free per sample: the working arrays and the bit buffer are reused; each frame's bytes are copied once
 * into an array of their own (the muxer keeps it until it writes).
 */

export const FLAC_CODEC = 'flac';
const BITS_PER_SAMPLE = 16;
/** STREAMINFO and the frame header allow 16..65535 samples per block (only the last block may be shorter). */
const MIN_BLOCK = 16;
const MAX_BLOCK = 65535;
/** FIXED predictors exist for orders 0-4. */
const MAX_FIXED_ORDER = 4;
/** The order choice looks at every 4th sample of a block (of 256 samples or more). */
const ORDER_STRIDE = 4;
/**
 * Partition orders searched: up to 16 partitions (64 samples at 1024 a block). Finer ones saved nothing measurable on
 * the test signals (orders 0-8: 13.143 bits a sample, 0-4: 13.142) while their search took a fifth of the encoder.
 */
const MAX_PARTITION_ORDER = 4;
/** 4-bit Rice parameters: 0-14, 15 is the escape code. */
const MAX_RICE = 14;
const ESCAPE = 15;
/** A FLAC frame number is UTF-8-like coded in at most 31 bits (fixed block size streams). */
const MAX_FRAME_NUMBER = 0x7fffffff;
const STREAMINFO_LENGTH = 34;

export interface AudioDecoderConfigShape {
  codec: string;
  sampleRate: number;
  numberOfChannels: number;
  description?: Uint8Array;
}

export interface EncodedAudioFrame {
  data: Uint8Array;
  /** Samples per channel this frame covers. */
  samples: number;
}

/** About 128 ms of samples: the largest power of two not above rate x 0.128 s, kept within 256..4096. */
export function flacBlockSize(sampleRate: number): number {
  let size = 256;
  while (size < 4096 && size * 2 <= sampleRate * 0.128) size *= 2;
  return size;
}

/** The frame header's 4-bit sample rate code; 12-14 add an 8/16-bit field, 0 means "as in STREAMINFO". */
function sampleRateCode(rate: number): { code: number; extra: number; extraBits: number } {
  const table: Record<number, number> = {
    88200: 1,
    176400: 2,
    192000: 3,
    8000: 4,
    16000: 5,
    22050: 6,
    24000: 7,
    32000: 8,
    44100: 9,
    48000: 10,
    96000: 11,
  };
  const fixed = table[rate];
  if (fixed !== undefined) return { code: fixed, extra: 0, extraBits: 0 };
  if (rate % 1000 === 0 && rate / 1000 <= 0xff) return { code: 12, extra: rate / 1000, extraBits: 8 };
  if (rate <= 0xffff) return { code: 13, extra: rate, extraBits: 16 };
  if (rate % 10 === 0 && rate / 10 <= 0xffff) return { code: 14, extra: rate / 10, extraBits: 16 };
  return { code: 0, extra: 0, extraBits: 0 };
}

/** The frame header's 4-bit block size code; 6 and 7 add an 8/16-bit field holding the size minus one. */
function blockSizeCode(n: number): { code: number; extra: number; extraBits: number } {
  if (n === 192) return { code: 1, extra: 0, extraBits: 0 };
  for (let c = 2; c <= 5; c++) if (n === 576 << (c - 2)) return { code: c, extra: 0, extraBits: 0 };
  for (let c = 8; c <= 15; c++) if (n === 256 << (c - 8)) return { code: c, extra: 0, extraBits: 0 };
  return n <= 256 ? { code: 6, extra: n - 1, extraBits: 8 } : { code: 7, extra: n - 1, extraBits: 16 };
}

const CRC8 = new Uint8Array(256);
/**
 * CRC-16 tables for four bytes at a time ("slicing by 4"): CRC16_N[x] is the CRC register after byte x followed by
 * N - 1 zero bytes. The CRC is linear, so four bytes are four independent lookups XORed together, not a chain of four
 * dependent ones (3x faster; the frame CRC was a tenth of the encoder's time).
 */
const CRC16_1 = new Uint16Array(256);
const CRC16_2 = new Uint16Array(256);
const CRC16_3 = new Uint16Array(256);
const CRC16_4 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c8 = i;
  let c16 = i << 8;
  for (let b = 0; b < 8; b++) {
    c8 = c8 & 0x80 ? ((c8 << 1) ^ 0x07) & 0xff : (c8 << 1) & 0xff; // x^8 + x^2 + x + 1
    c16 = c16 & 0x8000 ? ((c16 << 1) ^ 0x8005) & 0xffff : (c16 << 1) & 0xffff; // x^16 + x^15 + x^2 + 1
  }
  CRC8[i] = c8;
  CRC16_1[i] = c16;
}
for (const [next, prev] of [
  [CRC16_2, CRC16_1],
  [CRC16_3, CRC16_2],
  [CRC16_4, CRC16_3],
] as const)
  for (let i = 0; i < 256; i++) next[i] = ((prev[i]! << 8) & 0xffff) ^ CRC16_1[prev[i]! >> 8]!;

export function crc8(bytes: Uint8Array, from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) c = CRC8[c ^ bytes[i]!]!;
  return c;
}

export function crc16(bytes: Uint8Array, from: number, to: number): number {
  let c = 0;
  let i = from;
  for (; i + 4 <= to; i += 4)
    c =
      CRC16_4[(c >> 8) ^ bytes[i]!]! ^
      CRC16_3[(c & 0xff) ^ bytes[i + 1]!]! ^
      CRC16_2[bytes[i + 2]!]! ^
      CRC16_1[bytes[i + 3]!]!;
  for (; i < to; i++) c = ((c << 8) & 0xffff) ^ CRC16_1[(c >> 8) ^ bytes[i]!]!;
  return c;
}

/** The 'fLaC' signature and a STREAMINFO block marked last (what WebCodecs calls a FLAC description). */
export function flacDescription(sampleRate: number, channels: number, blockSize: number): Uint8Array {
  const d = new Uint8Array(4 + 4 + STREAMINFO_LENGTH);
  d.set([0x66, 0x4c, 0x61, 0x43], 0); // fLaC
  d.set([0x80, 0, 0, STREAMINFO_LENGTH], 4); // last metadata block, type 0 (STREAMINFO)
  const s = 8;
  d[s] = blockSize >> 8;
  d[s + 1] = blockSize & 0xff;
  d[s + 2] = blockSize >> 8;
  d[s + 3] = blockSize & 0xff;
  // Minimum and maximum frame size: 0 = unknown (bytes s+4..s+9 stay 0).
  // Sample rate (20 bits), channels - 1 (3 bits), bits per sample - 1 (5 bits), total samples (36 bits, 0 = unknown).
  d[s + 10] = (sampleRate >> 12) & 0xff;
  d[s + 11] = (sampleRate >> 4) & 0xff;
  d[s + 12] = ((sampleRate & 0x0f) << 4) | ((channels - 1) << 1) | ((BITS_PER_SAMPLE - 1) >> 4);
  d[s + 13] = ((BITS_PER_SAMPLE - 1) & 0x0f) << 4;
  // The rest of the total sample count and the MD5 signature: 0 = unknown.
  return d;
}

/**
 * Big-endian bit writer over a reused byte buffer. Bits gather MSB-first in a 32-bit accumulator that goes out four
 * bytes at a time: per Rice code one shift and one OR while the word has room, a store only every 32 bits.
 */
class BitWriter {
  buf: Uint8Array;
  /** Bytes written to `buf` (the accumulator's bits not counted). */
  pos = 0;
  /** Pending bits, MSB-aligned: the top 32 - `free` bits are written, the rest zero. */
  private acc = 0;
  private free = 32;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  reset(): void {
    this.pos = 0;
    this.acc = 0;
    this.free = 32;
  }

  /** The low `n` bits of `v`, 1 <= n <= 31. */
  write(v: number, n: number): void {
    v &= (1 << n) - 1;
    if (n < this.free) {
      this.free -= n;
      this.acc |= v << this.free;
      return;
    }
    const rest = n - this.free;
    this.word(this.acc | (v >>> rest));
    this.acc = rest === 0 ? 0 : v << (32 - rest);
    this.free = 32 - rest;
  }

  /** `q` zero bits (any number). */
  zeros(q: number): void {
    while (q >= this.free) {
      q -= this.free;
      this.word(this.acc);
      this.acc = 0;
      this.free = 32;
    }
    this.free -= q;
  }

  private word(w: number): void {
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = w >>> 24;
    buf[pos + 1] = w >>> 16;
    buf[pos + 2] = w >>> 8;
    buf[pos + 3] = w;
    this.pos = pos + 4;
  }

  /**
   * Rice codes of u[start..end) with parameter k (each: f >>> k zero bits, a one, the low k bits of f). The loop
   * keeps the writer's state in locals; a code that does not fit the word's free bits takes the general path.
   */
  riceRun(u: Uint32Array, start: number, end: number, k: number): void {
    const buf = this.buf;
    const one = 1 << k;
    const mask = one - 1;
    let acc = this.acc;
    let free = this.free;
    let pos = this.pos;
    for (let i = start; i < end; i++) {
      const f = u[i]!;
      let q = f >>> k;
      const len = q + 1 + k;
      if (len < free) {
        free -= len;
        acc |= (one | (f & mask)) << free;
        continue;
      }
      // The word fills up: the zeros first (whole words of them for a long code), then the k + 1 bits.
      while (q >= free) {
        q -= free;
        buf[pos] = acc >>> 24;
        buf[pos + 1] = acc >>> 16;
        buf[pos + 2] = acc >>> 8;
        buf[pos + 3] = acc;
        pos += 4;
        acc = 0;
        free = 32;
      }
      free -= q;
      const code = one | (f & mask);
      if (k + 1 < free) {
        free -= k + 1;
        acc |= code << free;
        continue;
      }
      const rest = k + 1 - free;
      acc |= code >>> rest;
      buf[pos] = acc >>> 24;
      buf[pos + 1] = acc >>> 16;
      buf[pos + 2] = acc >>> 8;
      buf[pos + 3] = acc;
      pos += 4;
      acc = rest === 0 ? 0 : code << (32 - rest);
      free = 32 - rest;
    }
    this.acc = acc;
    this.free = free;
    this.pos = pos;
  }

  /** Write out the whole bytes held in the accumulator (`pos` then counts every whole byte written). */
  sync(): void {
    while (this.free <= 24) {
      this.buf[this.pos++] = this.acc >>> 24;
      this.acc <<= 8;
      this.free += 8;
    }
  }

  /** Pad with zero bits to the next byte and write everything out. */
  align(): void {
    const used = 32 - this.free;
    if (used % 8 !== 0) this.write(0, 8 - (used % 8));
    this.sync();
  }
}

export class FlacEncoder {
  readonly decoderConfig: AudioDecoderConfigShape;
  private readonly rate: { code: number; extra: number; extraBits: number };
  private readonly bits: BitWriter;
  /** One channel of the block being coded, its folded residual, per-partition sums and choices. */
  /** The channel being coded: a view of the input (mono) or deinterleaved into `channel` (stereo). */
  private x: Int16Array;
  private readonly channel: Int16Array;
  /** Wasted bits of the subframe being coded: zero low bits of every sample, shifted out of the residual. */
  private wasted = 0;
  private readonly folded: Uint32Array;
  private readonly partSum = new Float64Array(1 << MAX_PARTITION_ORDER);
  private readonly partOr = new Uint32Array(1 << MAX_PARTITION_ORDER);
  private readonly param = new Uint8Array(1 << MAX_PARTITION_ORDER);
  private readonly width = new Uint8Array(1 << MAX_PARTITION_ORDER);
  private readonly bestParam = new Uint8Array(1 << MAX_PARTITION_ORDER);
  private readonly bestWidth = new Uint8Array(1 << MAX_PARTITION_ORDER);
  /** Interleaved samples waiting for a whole block. */
  private readonly pending: Int16Array;
  private pendingFrames = 0;
  private frameNumber = 0;
  /** The partition order codeResidual chose for the subframe being written. */
  private partitionOrder = 0;

  constructor(
    readonly sampleRate: number,
    readonly channels: number,
    readonly blockSize: number = flacBlockSize(sampleRate),
  ) {
    if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 655350)
      throw new RangeError(`FLAC sample rate ${sampleRate} Hz (1..655350)`);
    if (channels !== 1 && channels !== 2) throw new RangeError(`FLAC: ${channels} channels (1 or 2 here)`);
    if (!Number.isInteger(blockSize) || blockSize < MIN_BLOCK || blockSize > MAX_BLOCK)
      throw new RangeError(`FLAC block size ${blockSize} (${MIN_BLOCK}..${MAX_BLOCK})`);
    this.rate = sampleRateCode(sampleRate);
    this.decoderConfig = {
      codec: FLAC_CODEC,
      sampleRate,
      numberOfChannels: channels,
      description: flacDescription(sampleRate, channels, blockSize),
    };
    this.channel = new Int16Array(channels > 1 ? blockSize : 0);
    this.x = this.channel;
    this.folded = new Uint32Array(blockSize);
    this.pending = new Int16Array(blockSize * channels);
    // Header (at most 16 bytes) + per channel a VERBATIM subframe (1 + 2 bytes a sample) + CRC-16 + slack.
    this.bits = new BitWriter(16 + channels * (1 + 2 * blockSize) + 8);
  }

  /** Encode what completes whole blocks of interleaved samples; the rest waits for the next call or `flush`. */
  encode(pcm: Int16Array, emit: (frame: EncodedAudioFrame) => void): void {
    const ch = this.channels;
    const frames = Math.floor(pcm.length / ch);
    let pos = 0;
    while (pos < frames) {
      if (this.pendingFrames === 0 && frames - pos >= this.blockSize) {
        emit(this.encodeBlock(pcm, pos * ch, this.blockSize));
        pos += this.blockSize;
        continue;
      }
      const take = Math.min(this.blockSize - this.pendingFrames, frames - pos);
      this.pending.set(pcm.subarray(pos * ch, (pos + take) * ch), this.pendingFrames * ch);
      this.pendingFrames += take;
      pos += take;
      if (this.pendingFrames === this.blockSize) {
        emit(this.encodeBlock(this.pending, 0, this.blockSize));
        this.pendingFrames = 0;
      }
    }
  }

  /** Encode the samples still waiting as the last, shorter block. */
  flush(emit: (frame: EncodedAudioFrame) => void): void {
    if (this.pendingFrames > 0) emit(this.encodeBlock(this.pending, 0, this.pendingFrames));
    this.pendingFrames = 0;
  }

  /** One frame of `n` samples per channel, read interleaved from `src` at `offset`. */
  private encodeBlock(src: Int16Array, offset: number, n: number): EncodedAudioFrame {
    if (this.frameNumber > MAX_FRAME_NUMBER) throw new RangeError('FLAC: more than 2^31 frames in one stream');
    const w = this.bits;
    w.reset();
    this.writeHeader(n);
    const ch = this.channels;
    for (let c = 0; c < ch; c++) {
      if (ch === 1) this.x = src.subarray(offset, offset + n);
      else {
        const x = (this.x = this.channel);
        for (let i = 0, j = offset + c; i < n; i++, j += ch) x[i] = src[j]!;
      }
      this.writeSubframe(n);
    }
    w.align();
    const crc = crc16(w.buf, 0, w.pos);
    w.write(crc >> 8, 8);
    w.write(crc & 0xff, 8);
    w.sync();
    this.frameNumber++;
    return { data: w.buf.slice(0, w.pos), samples: n };
  }

  private writeHeader(n: number): void {
    const w = this.bits;
    const bs = blockSizeCode(n);
    w.write(0xfff8 >> 8, 8); // sync code (14 bits), reserved 0, fixed block size
    w.write(0xf8, 8);
    w.write((bs.code << 4) | this.rate.code, 8);
    w.write(((this.channels - 1) << 4) | (0b100 << 1), 8); // independent channels, 16 bits per sample, reserved 0
    writeCodedNumber(w, this.frameNumber);
    if (bs.extraBits) w.write(bs.extra, bs.extraBits);
    if (this.rate.extraBits) w.write(this.rate.extra, this.rate.extraBits);
    w.sync();
    w.write(crc8(w.buf, 0, w.pos), 8);
  }

  /** The smallest subframe for the `n` samples in `this.x`. */
  private writeSubframe(n: number): void {
    const w = this.bits;
    const src = this.x;
    const first = src[0]!;
    let diff = 0;
    let or = 0;
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      diff |= v ^ first;
      or |= v;
    }
    if (diff === 0) {
      w.write(0, 8); // CONSTANT, no wasted bits
      w.write(first, BITS_PER_SAMPLE);
      return;
    }
    // Wasted bits: low bits that are zero in every sample are shifted out and coded once. Decoded A-law samples are
    // all multiples of 8, mu-law of 4: 2-3 bits a sample less to write, check and coded.
    const wasted = 31 - Math.clz32(or & -or);
    const bps = BITS_PER_SAMPLE - wasted;
    // The order choice is the same on the shifted signal (every sum scales by 2^wasted); the residual is shifted as
    // it is folded, so the samples are not copied.
    this.wasted = wasted;
    const x = src;
    const flag = wasted > 0 ? 1 : 0;
    const order = this.chooseOrder(n);
    const fixedBits = 8 + wasted + order * bps + 6 + this.codeResidual(n, order);
    const verbatimBits = 8 + wasted + n * bps;
    if (fixedBits >= verbatimBits) {
      w.write((0b000001 << 1) | flag, 8); // VERBATIM
      if (wasted > 0) w.write(1, wasted); // wasted - 1 zeros and a one
      for (let i = 0; i < n; i++) w.write(x[i]! >> wasted, bps);
      return;
    }
    w.write(((0b001000 | order) << 1) | flag, 8); // FIXED, order
    if (wasted > 0) w.write(1, wasted);
    for (let i = 0; i < order; i++) w.write(x[i]! >> wasted, bps);
    this.writeResidual(n, order);
  }

  /** The FIXED order (0-4, below n) with the smallest sum of absolute residuals. */
  private chooseOrder(n: number): number {
    const x = this.x;
    const maxOrder = Math.min(MAX_FIXED_ORDER, n - 1);
    if (maxOrder < MAX_FIXED_ORDER) {
      let best = 0;
      let bestSum = Infinity;
      for (let o = 0; o <= maxOrder; o++) {
        let sum = 0;
        for (let i = maxOrder; i < n; i++) sum += Math.abs(fixedResidual(x, i, o));
        if (sum < bestSum) {
          bestSum = sum;
          best = o;
        }
      }
      return best;
    }
    // Sums over every ORDER_STRIDE-th sample: the order is an estimate either way (the smallest sum of absolute
    // residuals), and a quarter of the positions choose the same order on audio but for near ties (measured: 0.1 %
    // larger output on the test signals) at a quarter of the cost, the largest part of the encoder before.
    const stride = n >= 256 ? ORDER_STRIDE : 1;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    for (let i = 4; i < n; i += stride) {
      const a = x[i]!;
      const b = x[i - 1]!;
      const c = x[i - 2]!;
      const d = x[i - 3]!;
      const e = x[i - 4]!;
      const ab = a - b;
      const bc = b - c;
      const cd = c - d;
      const e2 = ab - bc;
      const bcd = bc - cd;
      const e3 = e2 - bcd;
      const e4 = e3 - (bcd - (cd - (d - e)));
      // Branch-free absolute values: a residual's sign is a coin toss, a branch on it mispredicts half the time.
      s0 += (a ^ (a >> 31)) - (a >> 31);
      s1 += (ab ^ (ab >> 31)) - (ab >> 31);
      s2 += (e2 ^ (e2 >> 31)) - (e2 >> 31);
      s3 += (e3 ^ (e3 >> 31)) - (e3 >> 31);
      s4 += (e4 ^ (e4 >> 31)) - (e4 >> 31);
    }
    let best = 0;
    let min = s0;
    if (s1 < min) {
      best = 1;
      min = s1;
    }
    if (s2 < min) {
      best = 2;
      min = s2;
    }
    if (s3 < min) {
      best = 3;
      min = s3;
    }
    return s4 < min ? 4 : best;
  }

  /**
   * Fold the residual of `order` into `this.folded`, choose the partition order and each partition's parameter by
   * estimated bits (kept in bestParam/bestWidth and partitionOrder), and return those bits (the residual's coding
   * method and partition order fields excluded).
   */
  private codeResidual(n: number, order: number): number {
    const x = this.x;
    const u = this.folded;
    let maxP = 0;
    while (maxP < MAX_PARTITION_ORDER && n % (1 << (maxP + 1)) === 0 && n >> (maxP + 1) > order) maxP++;
    foldResidual(x, u, n, order, this.wasted);
    const parts = 1 << maxP;
    const size = n >> maxP;
    const sum = this.partSum;
    const or = this.partOr;
    for (let j = 0; j < parts; j++) {
      let s = 0;
      let m = 0;
      const end = (j + 1) * size;
      for (let i = j === 0 ? order : j * size; i < end; i++) {
        const f = u[i]!;
        s += f;
        m |= f;
      }
      sum[j] = s;
      or[j] = m;
    }
    let bestBits = Infinity;
    for (let p = maxP; p >= 0; p--) {
      const count = 1 << p;
      const psize = n >> p;
      let bits = 0;
      for (let j = 0; j < count; j++) {
        const len = j === 0 ? psize - order : psize;
        const s = sum[j]!;
        // Rice: k = floor(log2(mean)) minimises the estimate (one more costs len bits and saves less than s/2^(k+1);
        // one fewer saves len bits and costs at least s/2^k >= len).
        const mean = Math.floor(s / len);
        const k = mean < 1 ? 0 : Math.min(MAX_RICE, 31 - Math.clz32(mean));
        const riceBits = len * (k + 1) + Math.floor(s * INV_POW2[k]!);
        const wbits = 32 - Math.clz32(or[j]!);
        const escapeBits = 5 + len * wbits;
        if (escapeBits < riceBits) {
          this.param[j] = ESCAPE;
          this.width[j] = wbits;
          bits += 4 + escapeBits;
        } else {
          this.param[j] = k;
          bits += 4 + riceBits;
        }
      }
      if (bits < bestBits) {
        bestBits = bits;
        this.partitionOrder = p;
        // A loop, not set(subarray): two views per improvement per block were a steady part of the garbage.
        for (let j = 0; j < count; j++) {
          this.bestParam[j] = this.param[j]!;
          this.bestWidth[j] = this.width[j]!;
        }
      }
      // Merge neighbours for the next coarser order.
      for (let j = 0; j < count >> 1; j++) {
        sum[j] = sum[2 * j]! + sum[2 * j + 1]!;
        or[j] = or[2 * j]! | or[2 * j + 1]!;
      }
    }
    return bestBits;
  }

  private writeResidual(n: number, order: number): void {
    const w = this.bits;
    const u = this.folded;
    const p = this.partitionOrder;
    w.write(0, 2); // Rice coding, 4-bit parameters
    w.write(p, 4);
    const psize = n >> p;
    for (let j = 0; j < 1 << p; j++) {
      const start = j === 0 ? order : j * psize;
      const end = (j + 1) * psize;
      const k = this.bestParam[j]!;
      w.write(k, 4);
      if (k === ESCAPE) {
        const width = this.bestWidth[j]!;
        w.write(width, 5);
        if (width > 0) for (let i = start; i < end; i++) w.write((u[i]! >>> 1) ^ -(u[i]! & 1), width);
        continue;
      }
      w.riceRun(u, start, end, k);
    }
  }
}

/** 2^-k, exact in floating point: s * 2^-k is s / 2^k. */
const INV_POW2 = Float64Array.from({ length: MAX_RICE + 1 }, (_, k) => 2 ** -k);

/** The residual of FIXED prediction of `order` for samples order..n-1, zigzag-folded (0, -1, 1, -2 ... -> 0, 1, 2 ...). */
function foldResidual(x: Int16Array, u: Uint32Array, n: number, order: number, shift: number): void {
  switch (order) {
    case 0:
      for (let i = 0; i < n; i++) {
        const r = x[i]! >> shift;
        u[i] = (r << 1) ^ (r >> 31);
      }
      return;
    case 1:
      for (let i = 1; i < n; i++) {
        const r = (x[i]! - x[i - 1]!) >> shift;
        u[i] = (r << 1) ^ (r >> 31);
      }
      return;
    case 2:
      for (let i = 2; i < n; i++) {
        const r = (x[i]! - 2 * x[i - 1]! + x[i - 2]!) >> shift;
        u[i] = (r << 1) ^ (r >> 31);
      }
      return;
    case 3:
      for (let i = 3; i < n; i++) {
        const r = (x[i]! - 3 * x[i - 1]! + 3 * x[i - 2]! - x[i - 3]!) >> shift;
        u[i] = (r << 1) ^ (r >> 31);
      }
      return;
    default:
      for (let i = 4; i < n; i++) {
        const r = (x[i]! - 4 * x[i - 1]! + 6 * x[i - 2]! - 4 * x[i - 3]! + x[i - 4]!) >> shift;
        u[i] = (r << 1) ^ (r >> 31);
      }
  }
}

/** The residual of FIXED prediction of `order` at sample i (i >= order). */
function fixedResidual(x: Int16Array, i: number, order: number): number {
  switch (order) {
    case 0:
      return x[i]!;
    case 1:
      return x[i]! - x[i - 1]!;
    case 2:
      return x[i]! - 2 * x[i - 1]! + x[i - 2]!;
    case 3:
      return x[i]! - 3 * x[i - 1]! + 3 * x[i - 2]! - x[i - 3]!;
    default:
      return x[i]! - 4 * x[i - 1]! + 6 * x[i - 2]! - 4 * x[i - 3]! + x[i - 4]!;
  }
}

/** A frame number in FLAC's UTF-8-like coding (1 to 6 bytes for up to 31 bits). */
function writeCodedNumber(w: BitWriter, v: number): void {
  if (v < 0x80) {
    w.write(v, 8);
    return;
  }
  const bytes = v < 0x800 ? 2 : v < 0x10000 ? 3 : v < 0x200000 ? 4 : v < 0x4000000 ? 5 : 6;
  const lead = (0xff00 >> bytes) & 0xff;
  w.write(lead | (v >>> (6 * (bytes - 1))), 8);
  for (let b = bytes - 2; b >= 0; b--) w.write(0x80 | ((v >>> (6 * b)) & 0x3f), 8);
}
