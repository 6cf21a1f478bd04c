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
 *   of absolute residuals, as the reference encoder chooses it); no LPC: its analysis costs several times the whole
 *   FIXED encoder for a few per cent of size on 8 kHz speech;
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
const CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c8 = i;
  let c16 = i << 8;
  for (let b = 0; b < 8; b++) {
    c8 = c8 & 0x80 ? ((c8 << 1) ^ 0x07) & 0xff : (c8 << 1) & 0xff; // x^8 + x^2 + x + 1
    c16 = c16 & 0x8000 ? ((c16 << 1) ^ 0x8005) & 0xffff : (c16 << 1) & 0xffff; // x^16 + x^15 + x^2 + 1
  }
  CRC8[i] = c8;
  CRC16[i] = c16;
}

export function crc8(bytes: Uint8Array, from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) c = CRC8[c ^ bytes[i]!]!;
  return c;
}

export function crc16(bytes: Uint8Array, from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) c = ((c << 8) & 0xffff) ^ CRC16[(c >> 8) ^ bytes[i]!]!;
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

/** Big-endian bit writer over a reused byte buffer. */
class BitWriter {
  buf: Uint8Array;
  pos = 0;
  private acc = 0;
  private nbits = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  reset(): void {
    this.pos = 0;
    this.acc = 0;
    this.nbits = 0;
  }

  /** The low `n` bits of `v`, n <= 24. */
  write(v: number, n: number): void {
    const acc = (this.acc << n) | (v & ((1 << n) - 1));
    let nbits = this.nbits + n;
    while (nbits >= 8) {
      nbits -= 8;
      this.buf[this.pos++] = acc >>> nbits;
    }
    this.acc = acc & ((1 << nbits) - 1);
    this.nbits = nbits;
  }

  /** `q` zero bits, a one, then the low `k` bits of `low` (a Rice code). */
  rice(q: number, k: number, low: number): void {
    if (q + 1 + k <= 24) {
      this.write((1 << k) | low, q + 1 + k);
      return;
    }
    while (q > 16) {
      this.write(0, 16);
      q -= 16;
    }
    this.write(0, q);
    this.write((1 << k) | low, k + 1);
  }

  /**
   * Rice codes of u[start..end) with parameter k: the per-sample loop keeps the writer's state in locals (the longest
   * codes, past 24 bits, take the general path).
   */
  riceRun(u: Uint32Array, start: number, end: number, k: number): void {
    const buf = this.buf;
    const mask = (1 << k) - 1;
    let pos = this.pos;
    let acc = this.acc;
    let nbits = this.nbits;
    for (let i = start; i < end; i++) {
      const f = u[i]!;
      const len = (f >>> k) + 1 + k;
      if (len > 24) {
        this.pos = pos;
        this.acc = acc;
        this.nbits = nbits;
        this.rice(f >>> k, k, f & mask);
        pos = this.pos;
        acc = this.acc;
        nbits = this.nbits;
        continue;
      }
      acc = (acc << len) | (1 << k) | (f & mask);
      nbits += len;
      while (nbits >= 8) {
        nbits -= 8;
        buf[pos++] = acc >>> nbits;
      }
      acc &= (1 << nbits) - 1;
    }
    this.pos = pos;
    this.acc = acc;
    this.nbits = nbits;
  }

  /** Pad with zero bits to the next byte. */
  align(): void {
    if (this.nbits > 0) this.write(0, 8 - this.nbits);
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
    w.write(crc8(w.buf, 0, w.pos), 8);
  }

  /** The smallest subframe for the `n` samples in `this.x`. */
  private writeSubframe(n: number): void {
    const x = this.x;
    const w = this.bits;
    const first = x[0]!;
    let constant = true;
    for (let i = 1; i < n; i++)
      if (x[i] !== first) {
        constant = false;
        break;
      }
    if (constant) {
      w.write(0, 8); // CONSTANT, no wasted bits
      w.write(first, BITS_PER_SAMPLE);
      return;
    }
    const order = this.chooseOrder(n);
    const fixedBits = 8 + order * BITS_PER_SAMPLE + 6 + this.codeResidual(n, order);
    const verbatimBits = 8 + n * BITS_PER_SAMPLE;
    if (fixedBits >= verbatimBits) {
      w.write(0b10, 8); // VERBATIM
      for (let i = 0; i < n; i++) w.write(x[i]!, BITS_PER_SAMPLE);
      return;
    }
    w.write((0b001000 | order) << 1, 8); // FIXED, order, no wasted bits
    for (let i = 0; i < order; i++) w.write(x[i]!, BITS_PER_SAMPLE);
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
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    // Differences of increasing order, each from the previous sample's one of the order below.
    let p1 = x[3]! - x[2]!;
    let p2 = p1 - (x[2]! - x[1]!);
    let p3 = p2 - (x[2]! - 2 * x[1]! + x[0]!);
    let prev = x[3]!;
    for (let i = 4; i < n; i++) {
      const v = x[i]!;
      const e1 = v - prev;
      const e2 = e1 - p1;
      const e3 = e2 - p2;
      const e4 = e3 - p3;
      s0 += v < 0 ? -v : v;
      s1 += e1 < 0 ? -e1 : e1;
      s2 += e2 < 0 ? -e2 : e2;
      s3 += e3 < 0 ? -e3 : e3;
      s4 += e4 < 0 ? -e4 : e4;
      prev = v;
      p1 = e1;
      p2 = e2;
      p3 = e3;
    }
    const sums = [s0, s1, s2, s3, s4];
    let best = 0;
    for (let o = 1; o <= MAX_FIXED_ORDER; o++) if (sums[o]! < sums[best]!) best = o;
    return best;
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
    foldResidual(x, u, n, order);
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
function foldResidual(x: Int16Array, u: Uint32Array, n: number, order: number): void {
  switch (order) {
    case 0:
      for (let i = 0; i < n; i++) {
        const r = x[i]!;
        u[i] = (r << 1) ^ (r >> 31);
      }
      return;
    case 1:
      for (let i = 1; i < n; i++) {
        const r = x[i]! - x[i - 1]!;
        u[i] = (r << 1) ^ (r >> 31);
      }
      return;
    case 2:
      for (let i = 2; i < n; i++) {
        const r = x[i]! - 2 * x[i - 1]! + x[i - 2]!;
        u[i] = (r << 1) ^ (r >> 31);
      }
      return;
    case 3:
      for (let i = 3; i < n; i++) {
        const r = x[i]! - 3 * x[i - 1]! + 3 * x[i - 2]! - x[i - 3]!;
        u[i] = (r << 1) ^ (r >> 31);
      }
      return;
    default:
      for (let i = 4; i < n; i++) {
        const r = x[i]! - 4 * x[i - 1]! + 6 * x[i - 2]! - 4 * x[i - 3]! + x[i - 4]!;
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
