/**
 * Split an Annex-B H.264/H.265 elementary stream into NAL units and access units (frames). Pure: bytes in,
 * values out. Only needs to handle what encoders and cameras produce (one picture per access unit, no B-frames),
 * but it finds frame boundaries from the slice header like a camera stream needs (no access unit delimiters).
 */
import { ElementaryStreamError } from './errors.js';

export type VideoCodec = 'h264' | 'h265';

/** Hard bound on NAL units in one input: fixtures have a few hundred; more means a wrong input. */
export const MAX_NAL_UNITS = 1_000_000;

export interface AccessUnit {
  /** Position of the frame in the stream (0-based). */
  index: number;
  /** IDR (H.264) or IRAP (H.265) picture: decoding can start here if the parameter sets precede it. */
  key: boolean;
  /** True when the access unit carries SPS and PPS (and VPS for H.265) before its first slice. */
  hasParameterSets: boolean;
  /** NAL units without start codes, in stream order (views into the input buffer). */
  nals: Buffer[];
  /** Sum of the NAL unit sizes (without start codes). */
  bytes: number;
}

/**
 * NAL unit payloads without their start codes. Start codes are found on `00 00 01`; the zero bytes before a
 * start code (the leading 0 of a 4-byte start code, x265's trailing_zero_8bits) are not part of the NAL.
 */
export function splitNalUnits(es: Uint8Array): Buffer[] {
  const buf = Buffer.from(es.buffer, es.byteOffset, es.byteLength);
  const starts: number[] = [];
  for (let i = 0; i + 2 < buf.length; i++) {
    if (buf[i + 2]! > 1) {
      i += 2; // no start code can begin at i, i+1 or i+2 when byte i+2 is > 1
      continue;
    }
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      starts.push(i + 3);
      if (starts.length > MAX_NAL_UNITS) throw new ElementaryStreamError(`more than ${MAX_NAL_UNITS} NAL units`);
      i += 2;
    }
  }
  if (starts.length === 0) throw new ElementaryStreamError('no Annex-B start code (00 00 01) found');
  const nals: Buffer[] = [];
  for (let k = 0; k < starts.length; k++) {
    const begin = starts[k]!;
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : buf.length;
    while (end > begin && buf[end - 1] === 0) end--;
    if (end > begin) nals.push(buf.subarray(begin, end));
  }
  return nals;
}

/** nal_unit_type from the first header byte(s). */
export function nalType(codec: VideoCodec, nal: Uint8Array): number {
  const b = nal[0] ?? 0;
  return codec === 'h264' ? b & 0x1f : (b >> 1) & 0x3f;
}

export function isVclNal(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type >= 1 && type <= 5 : type <= 31;
}

export function isKeyNal(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type === 5 : type >= 16 && type <= 21;
}

export function parameterSetTypes(codec: VideoCodec): number[] {
  return codec === 'h264' ? [7, 8] : [32, 33, 34];
}

/**
 * True when this VCL NAL is the first slice of a picture: first_mb_in_slice == 0 for H.264 (ue(v) == 0 is a
 * single 1 bit, the top bit after the 1-byte header), first_slice_segment_in_pic_flag for H.265 (top bit after
 * the 2-byte header).
 */
export function isFirstSliceOfPicture(codec: VideoCodec, nal: Uint8Array): boolean {
  const offset = codec === 'h264' ? 1 : 2;
  const b = nal[offset];
  return b !== undefined && (b & 0x80) !== 0;
}

/**
 * NAL units that end the current access unit rather than open the next one (H.264 end of sequence/stream,
 * filler; H.265 EOS, EOB, filler, suffix SEI). Everything else that is not VCL opens the next access unit.
 */
function isSuffixNal(codec: VideoCodec, type: number): boolean {
  return codec === 'h264'
    ? type === 10 || type === 11 || type === 12
    : type === 36 || type === 37 || type === 38 || type === 40;
}

/** Group NAL units into access units. NALs before the first slice go with that first frame. */
export function splitAccessUnits(codec: VideoCodec, es: Uint8Array): AccessUnit[] {
  const units: AccessUnit[] = [];
  let current: Buffer[] | null = null;
  let pending: Buffer[] = [];
  const finish = () => {
    if (current) units.push(describe(codec, units.length, current));
  };
  for (const nal of splitNalUnits(es)) {
    const type = nalType(codec, nal);
    if (isVclNal(codec, type)) {
      if (current === null || isFirstSliceOfPicture(codec, nal)) {
        finish();
        current = [...pending, nal];
        pending = [];
      } else {
        current.push(...pending, nal);
        pending = [];
      }
    } else if (current !== null && pending.length === 0 && isSuffixNal(codec, type)) {
      current.push(nal);
    } else {
      pending.push(nal);
    }
  }
  if (current) current.push(...pending);
  finish();
  if (units.length === 0) throw new ElementaryStreamError(`no ${codec} slice NAL unit found`);
  return units;
}

function describe(codec: VideoCodec, index: number, nals: Buffer[]): AccessUnit {
  const types = nals.map((n) => nalType(codec, n));
  const firstVcl = types.findIndex((t) => isVclNal(codec, t));
  const before = new Set(types.slice(0, firstVcl));
  return {
    index,
    key: isKeyNal(codec, types[firstVcl]!),
    hasParameterSets: parameterSetTypes(codec).every((t) => before.has(t)),
    nals,
    bytes: nals.reduce((n, b) => n + b.length, 0),
  };
}
