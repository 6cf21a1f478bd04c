/**
 * A small FLAC decoder for the tests, written from RFC 9639 apart from the encoder (own bit reader, bitwise CRCs, all
 * header codes, every subframe type including LPC and wasted bits, the stereo decorrelation modes, both Rice
 * parameter sizes): it checks every frame's CRC-8 and CRC-16 and every reserved bit, and throws on anything the
 * format forbids. Input: the frames of one stream (e.g. the samples of an MP4 track), plus the STREAMINFO.
 */

export interface StreamInfo {
  minBlockSize: number;
  maxBlockSize: number;
  minFrameSize: number;
  maxFrameSize: number;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  totalSamples: number;
  md5: Uint8Array;
}

class Reader {
  pos = 0; // in bits
  constructor(private readonly b: Uint8Array) {}
  bit(): number {
    const byte = this.pos >> 3;
    if (byte >= this.b.length) throw new Error('FLAC: read past the end of the frame');
    const v = (this.b[byte]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  s(n: number): number {
    if (n === 0) return 0;
    const v = this.u(n);
    return v >= 2 ** (n - 1) ? v - 2 ** n : v;
  }
  unary(): number {
    let q = 0;
    while (this.bit() === 0) q++;
    return q;
  }
  get byteAligned(): boolean {
    return (this.pos & 7) === 0;
  }
}

function crcBitwise(bytes: Uint8Array, poly: number, width: number): number {
  let crc = 0;
  const top = 1 << (width - 1);
  const mask = (1 << width) - 1;
  for (const byte of bytes) {
    crc ^= byte << (width - 8);
    for (let i = 0; i < 8; i++) crc = crc & top ? ((crc << 1) ^ poly) & mask : (crc << 1) & mask;
  }
  return crc;
}

/** STREAMINFO from a metadata block body (34 bytes). */
export function parseStreamInfo(b: Uint8Array): StreamInfo {
  if (b.length !== 34) throw new Error(`STREAMINFO of ${b.length} bytes`);
  const r = new Reader(b);
  return {
    minBlockSize: r.u(16),
    maxBlockSize: r.u(16),
    minFrameSize: r.u(24),
    maxFrameSize: r.u(24),
    sampleRate: r.u(20),
    channels: r.u(3) + 1,
    bitsPerSample: r.u(5) + 1,
    totalSamples: r.u(36),
    md5: b.subarray(18, 34),
  };
}

/** 'fLaC' + metadata blocks (a WebCodecs description or the start of a .flac file): the STREAMINFO and the rest. */
export function parseHeader(b: Uint8Array): { info: StreamInfo; frames: Uint8Array } {
  if (String.fromCharCode(...b.subarray(0, 4)) !== 'fLaC') throw new Error('no fLaC signature');
  let pos = 4;
  let info: StreamInfo | undefined;
  for (;;) {
    const last = b[pos]! >> 7;
    const type = b[pos]! & 0x7f;
    const len = (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!;
    if (type === 0) info = parseStreamInfo(b.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
    if (last) break;
  }
  if (!info) throw new Error('no STREAMINFO');
  return { info, frames: b.subarray(pos) };
}

const RATES = [0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000];
const SIZES = [0, 8, 12, 0, 16, 20, 24, 32];

export interface DecodedFrame {
  frameNumber: number;
  blockSize: number;
  sampleRate: number;
  channels: number;
  /** Interleaved samples. */
  samples: Int32Array;
  /** Bytes the frame took. */
  length: number;
}

/** Decode one frame at the start of `b` (which may hold more after it). */
export function decodeFrame(b: Uint8Array, info: StreamInfo): DecodedFrame {
  const r = new Reader(b);
  if (r.u(15) !== 0b111111111111100) throw new Error('FLAC: no frame sync code');
  const variable = r.u(1);
  const bsCode = r.u(4);
  const rateCode = r.u(4);
  const chCode = r.u(4);
  const sizeCode = r.u(3);
  if (r.u(1) !== 0) throw new Error('FLAC: reserved bit set in the frame header');
  // Coded number: UTF-8-like.
  const lead = r.u(8);
  let extraBytes = 0;
  let number = lead;
  if (lead >= 0x80) {
    if (lead >= 0xfe || (lead & 0xc0) === 0x80) throw new Error('FLAC: bad coded number');
    while (lead & (0x40 >> extraBytes)) extraBytes++;
    number = lead & (0x3f >> extraBytes);
    for (let i = 0; i < extraBytes; i++) {
      const c = r.u(8);
      if ((c & 0xc0) !== 0x80) throw new Error('FLAC: bad coded number continuation');
      number = number * 64 + (c & 0x3f);
    }
  }
  if (variable === 0 && number > 0x7fffffff) throw new Error('FLAC: frame number above 31 bits');
  let blockSize: number;
  if (bsCode === 0) throw new Error('FLAC: reserved block size code');
  else if (bsCode === 1) blockSize = 192;
  else if (bsCode <= 5) blockSize = 576 * 2 ** (bsCode - 2);
  else if (bsCode === 6) blockSize = r.u(8) + 1;
  else if (bsCode === 7) blockSize = r.u(16) + 1;
  else blockSize = 256 * 2 ** (bsCode - 8);
  let sampleRate: number;
  if (rateCode === 0) sampleRate = info.sampleRate;
  else if (rateCode <= 11) sampleRate = RATES[rateCode]!;
  else if (rateCode === 12) sampleRate = r.u(8) * 1000;
  else if (rateCode === 13) sampleRate = r.u(16);
  else if (rateCode === 14) sampleRate = r.u(16) * 10;
  else throw new Error('FLAC: forbidden sample rate code');
  const bps = sizeCode === 0 ? info.bitsPerSample : SIZES[sizeCode]!;
  if (bps === 0) throw new Error('FLAC: reserved sample size code');
  if (!r.byteAligned) throw new Error('FLAC: header not byte-aligned');
  const headerEnd = r.pos >> 3;
  if (r.u(8) !== crcBitwise(b.subarray(0, headerEnd), 0x07, 8)) throw new Error('FLAC: header CRC-8 mismatch');
  if (chCode > 10) throw new Error('FLAC: reserved channel assignment');
  const channels = chCode <= 7 ? chCode + 1 : 2;
  const chans: Int32Array[] = [];
  for (let c = 0; c < channels; c++) {
    // The side channel has one more bit.
    const sideBit = (chCode === 8 && c === 1) || (chCode === 9 && c === 0) || (chCode === 10 && c === 1) ? 1 : 0;
    chans.push(decodeSubframe(r, blockSize, bps + sideBit));
  }
  if (chCode === 8) for (let i = 0; i < blockSize; i++) chans[1]![i] = chans[0]![i]! - chans[1]![i]!;
  else if (chCode === 9) for (let i = 0; i < blockSize; i++) chans[0]![i] = chans[0]![i]! + chans[1]![i]!;
  else if (chCode === 10)
    for (let i = 0; i < blockSize; i++) {
      const side = chans[1]![i]!;
      const mid = chans[0]![i]! * 2 + (side & 1);
      chans[0]![i] = (mid + side) >> 1;
      chans[1]![i] = (mid - side) >> 1;
    }
  // Zero padding to the byte boundary, then CRC-16 of everything before it.
  while (!r.byteAligned) if (r.bit() !== 0) throw new Error('FLAC: non-zero padding');
  const end = r.pos >> 3;
  if (r.u(16) !== crcBitwise(b.subarray(0, end), 0x8005, 16)) throw new Error('FLAC: frame CRC-16 mismatch');
  const samples = new Int32Array(blockSize * channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < blockSize; i++) samples[i * channels + c] = chans[c]![i]!;
  return { frameNumber: number, blockSize, sampleRate, channels, samples, length: end + 2 };
}

function decodeSubframe(r: Reader, n: number, bps: number): Int32Array {
  if (r.bit() !== 0) throw new Error('FLAC: subframe padding bit set');
  const type = r.u(6);
  let wasted = 0;
  if (r.bit() === 1) wasted = r.unary() + 1;
  const bits = bps - wasted;
  const out = new Int32Array(n);
  if (type === 0) {
    out.fill(r.s(bits));
  } else if (type === 1) {
    for (let i = 0; i < n; i++) out[i] = r.s(bits);
  } else if (type >= 8 && type <= 12) {
    const order = type - 8;
    if (order > n) throw new Error('FLAC: predictor order above the block size');
    for (let i = 0; i < order; i++) out[i] = r.s(bits);
    residual(r, out, n, order);
    const coef = [[], [1], [2, -1], [3, -3, 1], [4, -6, 4, -1]][order]!;
    for (let i = order; i < n; i++) {
      let p = 0;
      for (let j = 0; j < order; j++) p += coef[j]! * out[i - 1 - j]!;
      out[i] = out[i]! + p;
    }
  } else if (type >= 32) {
    const order = type - 31;
    if (order > n) throw new Error('FLAC: predictor order above the block size');
    for (let i = 0; i < order; i++) out[i] = r.s(bits);
    const precision = r.u(4) + 1;
    if (precision === 16) throw new Error('FLAC: forbidden LPC precision');
    const shift = r.s(5);
    if (shift < 0) throw new Error('FLAC: negative LPC shift');
    const coef: number[] = [];
    for (let j = 0; j < order; j++) coef.push(r.s(precision));
    residual(r, out, n, order);
    for (let i = order; i < n; i++) {
      let p = 0n;
      for (let j = 0; j < order; j++) p += BigInt(coef[j]!) * BigInt(out[i - 1 - j]!);
      out[i] = out[i]! + Number(p >> BigInt(shift));
    }
  } else {
    throw new Error(`FLAC: reserved subframe type ${type}`);
  }
  if (wasted) for (let i = 0; i < n; i++) out[i] = out[i]! * 2 ** wasted;
  return out;
}

/** Partitioned Rice residual into out[order..n). */
function residual(r: Reader, out: Int32Array, n: number, order: number): void {
  const method = r.u(2);
  if (method > 1) throw new Error('FLAC: reserved residual coding method');
  const paramBits = method === 0 ? 4 : 5;
  const escape = method === 0 ? 15 : 31;
  const p = r.u(4);
  const parts = 2 ** p;
  if (n % parts !== 0) throw new Error('FLAC: block size not divisible by the partition count');
  const psize = n / parts;
  if (psize < order) throw new Error('FLAC: first partition shorter than the predictor order');
  let i = order;
  for (let j = 0; j < parts; j++) {
    const end = (j + 1) * psize;
    const k = r.u(paramBits);
    if (k === escape) {
      const width = r.u(5);
      for (; i < end; i++) out[i] = r.s(width);
    } else {
      for (; i < end; i++) {
        const folded = r.unary() * 2 ** k + r.u(k);
        out[i] = folded % 2 === 0 ? folded / 2 : -(folded + 1) / 2;
      }
    }
  }
}

/** Decode a sequence of frames (one after the other in `b`, or one per entry). */
export function decodeFrames(frames: Uint8Array | Uint8Array[], info: StreamInfo): DecodedFrame[] {
  const out: DecodedFrame[] = [];
  if (Array.isArray(frames)) {
    for (const f of frames) {
      const d = decodeFrame(f, info);
      if (d.length !== f.length) throw new Error(`FLAC: frame of ${f.length} bytes holds ${d.length}`);
      out.push(d);
    }
    return out;
  }
  let pos = 0;
  while (pos < frames.length) {
    const d = decodeFrame(frames.subarray(pos), info);
    out.push(d);
    pos += d.length;
  }
  return out;
}

/** The interleaved samples of all frames, one after the other. */
export function joinSamples(frames: DecodedFrame[]): Int32Array {
  const total = frames.reduce((n, f) => n + f.samples.length, 0);
  const out = new Int32Array(total);
  let at = 0;
  for (const f of frames) {
    out.set(f.samples, at);
    at += f.samples.length;
  }
  return out;
}
