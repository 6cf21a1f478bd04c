/**
 * ISO/IEC 14496-15 decoder configuration records (avcC, hvcC) built from the stream's own parameter sets, so the
 * muxer can take length-prefixed samples as they are (no Annex-B re-scan and copy per frame inside the muxer).
 * Pure: parameter-set NAL units in (header included, no start code), record bytes out.
 */
import type { VideoParams } from './sps.js';

/** Every sample NAL is prefixed by its length in this many bytes (lengthSizeMinusOne = 3). */
export const NAL_LENGTH_SIZE = 4;
const MAX_PARAMETER_SETS = 31;

export class DecoderConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecoderConfigError';
  }
}

function checkSets(kind: string, sets: Uint8Array[], min = 1): void {
  if (sets.length < min) throw new DecoderConfigError(`no ${kind} for the decoder configuration`);
  if (sets.length > MAX_PARAMETER_SETS)
    throw new DecoderConfigError(`${sets.length} ${kind}s: more than ${MAX_PARAMETER_SETS}`);
  for (const s of sets)
    if (s.length === 0 || s.length > 0xffff) throw new DecoderConfigError(`${kind} of ${s.length} bytes`);
}

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

/** AVCDecoderConfigurationRecord (14496-15 5.3.3.1). */
export function avcDecoderConfig(sps: Uint8Array[], pps: Uint8Array[], params: VideoParams): Uint8Array {
  checkSets('SPS', sps);
  checkSets('PPS', pps);
  const first = sps[0]!;
  if (first.length < 4) throw new DecoderConfigError('SPS too short');
  const out: number[] = [1, first[1]!, first[2]!, first[3]!, 0xfc | (NAL_LENGTH_SIZE - 1), 0xe0 | sps.length];
  for (const s of sps) out.push(...u16(s.length), ...s);
  out.push(pps.length);
  for (const p of pps) out.push(...u16(p.length), ...p);
  // The High-profile extension: chroma format and bit depths (no SPS extensions).
  if ([100, 110, 122, 144].includes(params.profileIdc)) {
    out.push(
      0xfc | (params.chromaFormatIdc & 3),
      0xf8 | (params.bitDepthLumaMinus8 & 7),
      0xf8 | (params.bitDepthChromaMinus8 & 7),
      0,
    );
  }
  return Uint8Array.from(out);
}

/** HEVCDecoderConfigurationRecord (14496-15 8.3.3.1), arrays in VPS, SPS, PPS order, all complete. */
export function hevcDecoderConfig(
  vps: Uint8Array[],
  sps: Uint8Array[],
  pps: Uint8Array[],
  params: VideoParams,
): Uint8Array {
  checkSets('VPS', vps);
  checkSets('SPS', sps);
  checkSets('PPS', pps);
  const h = params.hevc;
  if (!h) throw new DecoderConfigError('H.265 parameters missing');
  const out: number[] = [
    1,
    ((h.profileSpace & 3) << 6) | ((h.tier & 1) << 5) | (h.profileIdc & 0x1f),
    (h.compatFlags >>> 24) & 0xff,
    (h.compatFlags >>> 16) & 0xff,
    (h.compatFlags >>> 8) & 0xff,
    h.compatFlags & 0xff,
    ...h.constraintBytes.slice(0, 6),
    h.levelIdc & 0xff,
    0xf0, // reserved + min_spatial_segmentation_idc 0 (unknown)
    0x00,
    0xfc, // reserved + parallelismType 0 (unknown)
    0xfc | (params.chromaFormatIdc & 3),
    0xf8 | (params.bitDepthLumaMinus8 & 7),
    0xf8 | (params.bitDepthChromaMinus8 & 7),
    0,
    0, // avgFrameRate unspecified
    ((h.maxSubLayers & 7) << 3) | ((h.temporalIdNesting & 1) << 2) | (NAL_LENGTH_SIZE - 1),
    3,
  ];
  for (const [type, sets] of [
    [32, vps],
    [33, sps],
    [34, pps],
  ] as const) {
    out.push(0x80 | type, ...u16(sets.length));
    for (const s of sets) out.push(...u16(s.length), ...s);
  }
  return Uint8Array.from(out);
}

/** NAL units of a length-prefixed (4-byte) access unit, as views. Stops at a length that does not fit. */
export function* lengthPrefixedNals(au: Uint8Array): Generator<Uint8Array> {
  let pos = 0;
  while (pos + NAL_LENGTH_SIZE <= au.length) {
    const len = ((au[pos]! << 24) | (au[pos + 1]! << 16) | (au[pos + 2]! << 8) | au[pos + 3]!) >>> 0;
    pos += NAL_LENGTH_SIZE;
    if (len === 0 || pos + len > au.length) return;
    yield au.subarray(pos, pos + len);
    pos += len;
  }
}
