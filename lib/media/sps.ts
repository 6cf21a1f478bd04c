/**
 * H.264 SPS and H.265 VPS/SPS parsing: just enough for an MP4 muxer's decoder config (codec string and
 * coded size after cropping) and a nominal frame rate when the stream says so. Input is one NAL unit
 * (header included, no start code, emulation prevention bytes still in).
 */
import { BitReader, BitstreamError, unescapeRbsp } from './nal.js';

export interface VideoParams {
  codec: 'h264' | 'h265';
  /** RFC 6381 / ISO 14496-15 codec string: avc1.PPCCLL or hvc1.<profile>.<compat>.<tier><level>.<constraints>. */
  codecString: string;
  width: number;
  height: number;
  profileIdc: number;
  levelIdc: number;
  /** Frames per second from the VUI timing info, when present and plausible. */
  fps?: number;
  /** What an ISO 14496-15 decoder configuration record needs besides the parameter sets. */
  chromaFormatIdc: number;
  bitDepthLumaMinus8: number;
  bitDepthChromaMinus8: number;
  /** H.265 only: general profile_tier_level fields and the temporal layering of the SPS. */
  hevc?: {
    profileSpace: number;
    tier: number;
    profileIdc: number;
    compatFlags: number;
    constraintBytes: number[];
    levelIdc: number;
    maxSubLayers: number;
    temporalIdNesting: number;
  };
}

export class ParameterSetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParameterSetError';
  }
}

/** frame_cropping / conformance_window: flag, then left, right, top, bottom offsets (all 0 when absent). */
function readCropWindow(r: BitReader): [number, number, number, number] {
  if (!r.u1()) return [0, 0, 0, 0];
  return [r.ue(), r.ue(), r.ue(), r.ue()];
}

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

/**
 * Largest bit_depth_{luma,chroma}_minus8 each syntax allows (H.264 7.4.2.1.1: 14 bits; H.265 7.4.3.2.1: 16 bits).
 * A larger value is a damaged SPS: the decoder configuration has 3 bits for it and would silently say another.
 */
const MAX_BIT_DEPTH_MINUS8 = { h264: 6, h265: 8 } as const;

function checkBitDepths(codec: 'h264' | 'h265', luma: number, chroma: number): void {
  const max = MAX_BIT_DEPTH_MINUS8[codec];
  if (luma > max || chroma > max) {
    throw new ParameterSetError(`bit depth ${luma + 8}/${chroma + 8} (luma/chroma) above ${max + 8}`);
  }
}

/** Profiles whose SPS carries chroma format, bit depths and scaling matrices (H.264 7.3.2.1.1). */
const H264_HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

export function parseH264Sps(nal: Uint8Array): VideoParams {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) throw new ParameterSetError('not an H.264 SPS NAL unit');
  try {
    const r = new BitReader(unescapeRbsp(nal.subarray(1)));
    const profileIdc = r.u(8);
    const constraints = r.u(8);
    const levelIdc = r.u(8);
    r.ue(); // seq_parameter_set_id
    let chromaFormatIdc = 1;
    let separateColourPlane = 0;
    let bitDepthLumaMinus8 = 0;
    let bitDepthChromaMinus8 = 0;
    if (H264_HIGH_PROFILES.has(profileIdc)) {
      chromaFormatIdc = r.ue();
      if (chromaFormatIdc > 3) throw new ParameterSetError(`bad chroma_format_idc ${chromaFormatIdc}`);
      if (chromaFormatIdc === 3) separateColourPlane = r.u1();
      bitDepthLumaMinus8 = r.ue();
      bitDepthChromaMinus8 = r.ue();
      checkBitDepths('h264', bitDepthLumaMinus8, bitDepthChromaMinus8);
      r.u1(); // qpprime_y_zero_transform_bypass_flag
      if (r.u1()) {
        const lists = chromaFormatIdc === 3 ? 12 : 8;
        for (let i = 0; i < lists; i++) if (r.u1()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) {
      r.ue(); // log2_max_pic_order_cnt_lsb_minus4
    } else if (pocType === 1) {
      r.u1();
      r.se();
      r.se();
      const cycle = r.ue();
      if (cycle > 255) throw new ParameterSetError('num_ref_frames_in_pic_order_cnt_cycle > 255');
      for (let i = 0; i < cycle; i++) r.se();
    }
    r.ue(); // max_num_ref_frames
    r.u1(); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightMapUnits = r.ue() + 1;
    const frameMbsOnly = r.u1();
    if (!frameMbsOnly) r.u1(); // mb_adaptive_frame_field_flag
    r.u1(); // direct_8x8_inference_flag
    const [cropL, cropR, cropT, cropB] = readCropWindow(r);
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
    const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
    const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
    const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
    const width = widthMbs * 16 - cropUnitX * (cropL + cropR);
    const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropUnitY * (cropT + cropB);
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384) {
      throw new ParameterSetError(`implausible picture size ${width}x${height}`);
    }
    const params: VideoParams = {
      codec: 'h264',
      codecString: `avc1.${hex2(profileIdc)}${hex2(constraints)}${hex2(levelIdc)}`,
      width,
      height,
      profileIdc,
      levelIdc,
      chromaFormatIdc,
      bitDepthLumaMinus8,
      bitDepthChromaMinus8,
    };
    const fps = r.bitsLeft > 0 && r.u1() ? readH264VuiFps(r) : undefined;
    if (fps !== undefined) params.fps = fps;
    return params;
  } catch (err) {
    if (err instanceof BitstreamError) throw new ParameterSetError(`truncated H.264 SPS: ${err.message}`);
    throw err;
  }
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** VUI up to timing_info (E.1.1); a VUI cut short is not an error, it just gives no frame rate. */
function readH264VuiFps(r: BitReader): number | undefined {
  try {
    if (r.u1()) {
      if (r.u(8) === 255) r.skip(32); // aspect_ratio_idc == Extended_SAR: sar_width, sar_height
    }
    if (r.u1()) r.u1(); // overscan
    if (r.u1()) {
      r.skip(4); // video_format, video_full_range_flag
      if (r.u1()) r.skip(24); // colour description
    }
    if (r.u1()) {
      r.ue();
      r.ue();
    }
    if (!r.u1()) return undefined;
    const unitsInTick = r.u(32);
    const timeScale = r.u(32);
    if (unitsInTick === 0) return undefined;
    const fps = timeScale / (2 * unitsInTick);
    return fps >= 1 && fps <= 240 ? fps : undefined;
  } catch (err) {
    if (err instanceof BitstreamError) return undefined;
    throw err;
  }
}

interface ProfileTierLevel {
  profileSpace: number;
  tier: number;
  profileIdc: number;
  compatFlags: number;
  constraintBytes: number[];
  levelIdc: number;
}

/** profile_tier_level(1, maxSubLayersMinus1) of H.265 7.3.3. */
function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): ProfileTierLevel {
  const profileSpace = r.u(2);
  const tier = r.u1();
  const profileIdc = r.u(5);
  const compatFlags = r.u(32);
  const constraintBytes: number[] = [];
  for (let i = 0; i < 6; i++) constraintBytes.push(r.u(8));
  const levelIdc = r.u(8);
  const subProfile: number[] = [];
  const subLevel: number[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.u1());
    subLevel.push(r.u1());
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.skip(2);
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skip(88);
    if (subLevel[i]) r.skip(8);
  }
  return { profileSpace, tier, profileIdc, compatFlags, constraintBytes, levelIdc };
}

/** ISO 14496-15 E.3: compat flags bit-reversed in hex, constraint bytes with trailing zero bytes left out. */
function hevcCodecString(p: ProfileTierLevel): string {
  let reversed = 0;
  for (let i = 0; i < 32; i++) if ((p.compatFlags >>> i) & 1) reversed += 2 ** (31 - i);
  const space = ['', 'A', 'B', 'C'][p.profileSpace]!;
  let parts = `hvc1.${space}${p.profileIdc}.${reversed.toString(16).toUpperCase()}.${p.tier ? 'H' : 'L'}${p.levelIdc}`;
  let last = p.constraintBytes.length;
  while (last > 0 && p.constraintBytes[last - 1] === 0) last--;
  for (let i = 0; i < last; i++) parts += `.${p.constraintBytes[i]!.toString(16).toUpperCase()}`;
  return parts;
}

export function parseH265Sps(nal: Uint8Array): VideoParams {
  if (nal.length < 6 || ((nal[0]! >> 1) & 0x3f) !== 33) throw new ParameterSetError('not an H.265 SPS NAL unit');
  try {
    const r = new BitReader(unescapeRbsp(nal.subarray(2)));
    r.skip(4); // sps_video_parameter_set_id
    const maxSubLayersMinus1 = r.u(3);
    if (maxSubLayersMinus1 > 6) throw new ParameterSetError('sps_max_sub_layers_minus1 > 6');
    const temporalIdNesting = r.u1();
    const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
    r.ue(); // sps_seq_parameter_set_id
    const chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) throw new ParameterSetError(`bad chroma_format_idc ${chromaFormatIdc}`);
    let separateColourPlane = 0;
    if (chromaFormatIdc === 3) separateColourPlane = r.u1();
    const lumaWidth = r.ue();
    const lumaHeight = r.ue();
    const [cropL, cropR, cropT, cropB] = readCropWindow(r);
    const bitDepthLumaMinus8 = r.ue();
    const bitDepthChromaMinus8 = r.ue();
    checkBitDepths('h265', bitDepthLumaMinus8, bitDepthChromaMinus8);
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    const width = lumaWidth - subWidthC * (cropL + cropR);
    const height = lumaHeight - subHeightC * (cropT + cropB);
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384) {
      throw new ParameterSetError(`implausible picture size ${width}x${height}`);
    }
    return {
      codec: 'h265',
      codecString: hevcCodecString(ptl),
      width,
      height,
      profileIdc: ptl.profileIdc,
      levelIdc: ptl.levelIdc,
      chromaFormatIdc,
      bitDepthLumaMinus8,
      bitDepthChromaMinus8,
      hevc: { ...ptl, maxSubLayers: maxSubLayersMinus1 + 1, temporalIdNesting },
    };
  } catch (err) {
    if (err instanceof BitstreamError) throw new ParameterSetError(`truncated H.265 SPS: ${err.message}`);
    throw err;
  }
}
