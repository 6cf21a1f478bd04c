/**
 * NAL unit helpers shared by the access-unit assembler and the parameter-set parsers:
 * start-code search, NAL types, RBSP unescaping and an Exp-Golomb bit reader.
 */

export type VideoCodec = 'h264' | 'h265';

const START_CODE = Buffer.from([0, 0, 1]);

/**
 * Position of the next `00 00 01` at or after `from`, or -1. A 4-byte start code is found at its last three
 * bytes on purpose: the extra leading zero may belong to the previous NAL (x265's trailing_zero_8bits).
 */
export function findStartCode(buf: Buffer, from: number, end = buf.length): number {
  // indexOf has no end bound: search a view, or a large half-empty buffer is scanned to its capacity.
  const at = (end === buf.length ? buf : buf.subarray(0, end)).indexOf(START_CODE, from);
  return at;
}

/** NAL unit type from the first header byte (H.264) or the first of two header bytes (H.265). */
export function nalType(codec: VideoCodec, firstHeaderByte: number): number {
  return codec === 'h264' ? firstHeaderByte & 0x1f : (firstHeaderByte >> 1) & 0x3f;
}

export const H264 = { SLICE: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9 } as const;
export const H265 = { VPS: 32, SPS: 33, PPS: 34, AUD: 35, PREFIX_SEI: 39, SUFFIX_SEI: 40 } as const;

export function nalHeaderLength(codec: VideoCodec): number {
  return codec === 'h264' ? 1 : 2;
}

export function isVcl(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type >= 1 && type <= 5 : type <= 31;
}

/** Random-access picture: IDR for H.264, IRAP (BLA/IDR/CRA, types 16..23) for H.265. */
export function isKeyNal(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type === H264.IDR : type >= 16 && type <= 23;
}

/**
 * Whether a non-VCL NAL of this type opens a new access unit when it follows a VCL NAL
 * (H.264 7.4.1.2.3, H.265 7.4.2.4.4). Suffix SEI, end-of-sequence and filler data stay in the current one.
 */
export function startsAccessUnit(codec: VideoCodec, type: number): boolean {
  if (codec === 'h264') return type === 6 || type === 7 || type === 8 || type === 9 || (type >= 14 && type <= 18);
  return (type >= 32 && type <= 35) || type === 39 || (type >= 41 && type <= 44) || (type >= 48 && type <= 55);
}

/**
 * Whether a VCL NAL is the first slice of a picture, from the first payload byte: H.264 first_mb_in_slice is ue(v),
 * and ue(v) == 0 is the single bit '1'; H.265 first_slice_segment_in_pic_flag is the first bit.
 * Either way the answer is the top bit of the byte after the NAL header.
 */
export function isFirstSliceOfPicture(firstPayloadByte: number): boolean {
  return (firstPayloadByte & 0x80) !== 0;
}

/** Remove emulation prevention bytes (00 00 03 -> 00 00). Returns the input itself when there are none. */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  let first = -1;
  for (let i = 2; i < nal.length; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      first = i;
      break;
    }
  }
  if (first < 0) return nal;
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

export class BitstreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BitstreamError';
  }
}

/** MSB-first bit reader over an RBSP (already unescaped). Reading past the end throws BitstreamError. */
export class BitReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get bitsLeft(): number {
    return this.bytes.length * 8 - this.pos;
  }

  u1(): number {
    if (this.pos >= this.bytes.length * 8) throw new BitstreamError('read past end of parameter set');
    const bit = (this.bytes[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return bit;
  }

  /** Unsigned n-bit value, n <= 32. */
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.u1();
    return v;
  }

  skip(n: number): void {
    if (n > this.bitsLeft) throw new BitstreamError('read past end of parameter set');
    this.pos += n;
  }

  /** Exp-Golomb ue(v); values above 2^32 are rejected (no real syntax element is that large). */
  ue(): number {
    let zeros = 0;
    while (this.u1() === 0) {
      if (++zeros > 32) throw new BitstreamError('Exp-Golomb code too long');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}
