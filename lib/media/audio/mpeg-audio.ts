/**
 * MPEG audio (ISO/IEC 11172-3, 13818-3 LSF, and the unofficial "MPEG-2.5" rates): the 4-byte frame header, a
 * streaming framer over PES payloads (any split, garbage between frames), and content detection for a stream whose
 * program stream map is missing. Pure: bytes in, values out. The framer throws nothing: damage is counted in stats.
 */
import { PtsMarks } from '../pts-marks.js';

export type MpegVersion = 1 | 2 | 2.5;
export type MpegLayer = 1 | 2 | 3;

export interface MpegAudioHeader {
  version: MpegVersion;
  layer: MpegLayer;
  /** CRC-16 after the header (protection_bit 0). */
  crc: boolean;
  /** Bits per second. */
  bitrate: number;
  sampleRate: number;
  /** Index 0-2 of the rate within its version (the decoder's tables are chosen by it). */
  rateIndex: number;
  padding: boolean;
  /** 0 stereo, 1 joint stereo, 2 dual channel, 3 single channel. */
  mode: number;
  modeExtension: number;
  channels: 1 | 2;
  /** Bytes of the whole frame, header included. */
  frameLength: number;
  /** Samples per channel in the frame: 384 (layer I), 1152 (layer II, layer III MPEG-1), 576 (layer III LSF). */
  samples: number;
}

/** kbit/s by [MPEG-1 ? 0 : 1][layer - 1][index 1..14]; index 0 (free format) and 15 (forbidden) are not taken. */
const BITRATES: readonly (readonly (readonly number[])[])[] = [
  [
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  ],
  [
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  ],
];
const RATES: Readonly<Record<MpegVersion, readonly number[]>> = {
  1: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  2.5: [11025, 12000, 8000],
};

/** The longest frame any header can declare (layer II, MPEG-2.5 8 kHz at 160 kbit/s, padded): 2881 bytes. */
export const MAX_MPEG_AUDIO_FRAME = 2881;

/** The header at `at`, or null when the 4 bytes there are not a valid header this code can frame (free format too). */
export function parseMpegAudioHeader(b: Uint8Array, at = 0): MpegAudioHeader | null {
  if (at < 0 || at + 4 > b.length) return null;
  const b0 = b[at]!;
  const b1 = b[at + 1]!;
  const b2 = b[at + 2]!;
  const b3 = b[at + 3]!;
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  if (versionBits === 1 || layerBits === 0) return null;
  const version: MpegVersion = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = (4 - layerBits) as MpegLayer;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  // Emphasis 2 is reserved: a byte pattern more likely garbage than audio.
  if ((b3 & 3) === 2) return null;
  const bitrate = BITRATES[version === 1 ? 0 : 1]![layer - 1]![bitrateIndex]! * 1000;
  const sampleRate = RATES[version][rateIndex]!;
  const padding = (b2 & 2) !== 0;
  const mode = b3 >> 6;
  let frameLength: number;
  let samples: number;
  if (layer === 1) {
    frameLength = (Math.floor((12 * bitrate) / sampleRate) + (padding ? 1 : 0)) * 4;
    samples = 384;
  } else if (layer === 2 || version === 1) {
    frameLength = Math.floor((144 * bitrate) / sampleRate) + (padding ? 1 : 0);
    samples = 1152;
  } else {
    frameLength = Math.floor((72 * bitrate) / sampleRate) + (padding ? 1 : 0);
    samples = 576;
  }
  return {
    version,
    layer,
    crc: (b1 & 1) === 0,
    bitrate,
    sampleRate,
    rateIndex,
    padding,
    mode,
    modeExtension: (b3 >> 4) & 3,
    channels: mode === 3 ? 1 : 2,
    frameLength,
    samples,
  };
}

/** Whether two headers belong to one stream (what may not change from frame to frame). */
export function sameStream(a: MpegAudioHeader, b: MpegAudioHeader): boolean {
  return a.version === b.version && a.layer === b.layer && a.sampleRate === b.sampleRate;
}

/** The codec name hiksync gives an MPEG audio stream of this layer. */
export function mpegAudioCodec(layer: MpegLayer): 'mp1' | 'mp2' | 'mp3' {
  return layer === 1 ? 'mp1' : layer === 2 ? 'mp2' : 'mp3';
}

/**
 * Content detection where no program stream map names the codec: a valid header at the start of the first audio
 * payload, followed either by a second header of the same stream right after the frame, or by nothing (the frame
 * fills the PES exactly: one frame per PES, as cameras write it). 11 sync bits alone would match random bytes
 * about once in 2,000 positions; a frame length that lands exactly on a second header or on the PES end does not.
 */
export function sniffMpegAudio(data: Uint8Array): MpegAudioHeader | null {
  const h = parseMpegAudioHeader(data, 0);
  if (!h) return null;
  if (h.frameLength === data.length) return h;
  const next = parseMpegAudioHeader(data, h.frameLength);
  return next && sameStream(h, next) ? h : null;
}

export interface MpegAudioFrame {
  /** The whole frame, header included (what MP4 stores as one MP3 sample), owned. */
  data: Buffer;
  header: MpegAudioHeader;
  /** PTS of the PES the frame starts in, for the first frame starting there. */
  pts?: number;
}

export interface MpegAudioStats {
  frames: number;
  /** Bytes skipped looking for a frame (garbage, a frame of another stream, a cut frame). */
  garbageBytes: number;
}

/**
 * Streaming framer: elementary-stream bytes (any split) -> whole frames, each with the PTS of the PES it starts in
 * (assigned by stream position, as AdtsFramer does). Sync is taken only on a header followed by a second header of the
 * same stream; once in sync each frame that follows where the last one ended is taken until a header fails (then it
 * searches again). The first stream seen (version, layer, rate) is the stream: frames of another are garbage.
 *
 * `pesAligned`: each push() is one whole PES payload, and a frame that ends exactly where the payload ends is taken
 * without waiting for the next header (cameras put one frame per PES: without this the first frame would come out
 * one PES late, which a decoder timing its samples by the PES it is fed would misplace). Then the frames found depend
 * on where the payloads end; without it they do not.
 */
export class MpegAudioFramer {
  readonly stats: MpegAudioStats = { frames: 0, garbageBytes: 0 };
  private buf = Buffer.alloc(0);
  private base = 0;
  private readonly marks = new PtsMarks();
  private locked = false;
  private stream: MpegAudioHeader | null = null;

  constructor(
    private readonly onFrame: (frame: MpegAudioFrame) => void,
    private readonly options: { pesAligned?: boolean } = {},
  ) {}

  push(data: Uint8Array, pts?: number): void {
    if (pts !== undefined) this.marks.add(this.base + this.buf.length, pts);
    this.buf = this.buf.length === 0 ? Buffer.from(data) : Buffer.concat([this.buf, data]);
    this.scan(false);
  }

  /** End of the stream: a last frame in sync that is all there is delivered; the rest counted as garbage. */
  end(): void {
    this.scan(true);
    this.stats.garbageBytes += this.buf.length;
    this.base += this.buf.length;
    this.buf = Buffer.alloc(0);
    this.marks.clear();
  }

  private scan(atEnd: boolean): void {
    const b = this.buf;
    let pos = 0;
    while (pos + 4 <= b.length) {
      const h = parseMpegAudioHeader(b, pos);
      if (!h || (this.stream && !sameStream(this.stream, h))) {
        this.locked = false;
        pos++;
        this.stats.garbageBytes++;
        continue;
      }
      const end = pos + h.frameLength;
      if (end > b.length) break;
      if (!this.locked) {
        // A candidate: it counts only when a header of the same stream follows it (or the stream ends with it).
        if (end + 4 > b.length) {
          if (!atEnd && !(this.options.pesAligned && end === b.length)) break;
          if (end !== b.length) {
            pos++;
            this.stats.garbageBytes++;
            continue;
          }
        } else {
          const next = parseMpegAudioHeader(b, end);
          if (!next || !sameStream(h, next)) {
            pos++;
            this.stats.garbageBytes++;
            continue;
          }
        }
        this.locked = true;
        this.stream ??= h;
      }
      const frame: MpegAudioFrame = { data: Buffer.from(b.subarray(pos, end)), header: h };
      const pts = this.marks.take(this.base + pos);
      if (pts !== undefined) frame.pts = pts;
      this.stats.frames++;
      this.onFrame(frame);
      pos = end;
    }
    this.base += pos;
    this.buf = pos === b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(pos));
    this.marks.forgetBefore(this.base);
  }
}
