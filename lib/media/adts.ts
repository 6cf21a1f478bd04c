/**
 * Streaming ADTS framer: AAC audio elementary-stream bytes (any split) -> raw AAC frames with their stream
 * parameters, PTS assigned to the first frame that starts in the PES that carried it.
 */
import { PtsMarks } from './pts-marks.js';

export interface AacFrame {
  /** Raw AAC frame (ADTS header removed), owned. */
  data: Buffer;
  pts?: number;
  /** MPEG-4 audio object type (ADTS profile + 1): 2 = AAC-LC. */
  objectType: number;
  sampleRate: number;
  channels: number;
  /** Samples per channel in this frame. */
  samples: number;
}

export const AAC_SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** MPEG-4 AudioSpecificConfig (ISO 14496-3 1.6.2.1) for the esds box: object type, rate index, channel config. */
export function audioSpecificConfig(objectType: number, sampleRate: number, channels: number): Uint8Array {
  const rateIndex = AAC_SAMPLE_RATES.indexOf(sampleRate);
  if (rateIndex < 0 || objectType < 1 || objectType > 30 || channels < 1 || channels > 7) {
    throw new RangeError(`no AudioSpecificConfig for AAC object ${objectType}, ${sampleRate} Hz, ${channels} ch`);
  }
  return new Uint8Array([(objectType << 3) | (rateIndex >> 1), ((rateIndex & 1) << 7) | (channels << 3)]);
}

export interface AdtsStats {
  frames: number;
  /** Bytes skipped looking for a sync word. */
  garbageBytes: number;
  /** Frames with several raw data blocks or a reserved sampling index (not carried). */
  unsupportedFrames: number;
}

const MAX_BUFFER = 1 << 20;
const EMPTY = Buffer.alloc(0);

export class AdtsFramer {
  readonly stats: AdtsStats = { frames: 0, garbageBytes: 0, unsupportedFrames: 0 };
  /** An unfinished frame carried over from the previous push (copied: pushed bytes are the caller's views). */
  private buf: Buffer = EMPTY;
  private base = 0;
  private readonly marks = new PtsMarks();

  constructor(private readonly onFrame: (frame: AacFrame) => void) {}

  push(data: Uint8Array, pts?: number): void {
    if (pts !== undefined) this.marks.add(this.base + this.buf.length, pts);
    // Parse the pushed bytes where they are; only a frame that straddles two pushes is joined (copied).
    const b =
      this.buf.length === 0
        ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
        : Buffer.concat([this.buf, data]);
    let pos = 0;
    while (pos + 7 <= b.length) {
      if (b[pos] !== 0xff || (b[pos + 1]! & 0xf6) !== 0xf0) {
        pos++;
        this.stats.garbageBytes++;
        continue;
      }
      const frameLength = ((b[pos + 3]! & 0x03) << 11) | (b[pos + 4]! << 3) | (b[pos + 5]! >> 5);
      const headerLength = (b[pos + 1]! & 0x01) === 0 ? 9 : 7;
      if (frameLength <= headerLength) {
        pos++;
        this.stats.garbageBytes++;
        continue;
      }
      if (pos + frameLength > b.length) break;
      const objectType = (b[pos + 2]! >> 6) + 1;
      const sampleRate = AAC_SAMPLE_RATES[(b[pos + 2]! >> 2) & 0x0f];
      const channels = ((b[pos + 2]! & 0x01) << 2) | (b[pos + 3]! >> 6);
      const blocks = (b[pos + 6]! & 0x03) + 1;
      const pts = this.marks.take(this.base + pos);
      if (sampleRate === undefined || channels === 0 || blocks !== 1) {
        this.stats.unsupportedFrames++;
      } else {
        const frame: AacFrame = {
          data: Buffer.from(b.subarray(pos + headerLength, pos + frameLength)),
          objectType,
          sampleRate,
          channels,
          samples: 1024,
        };
        if (pts !== undefined) frame.pts = pts;
        this.stats.frames++;
        this.onFrame(frame);
      }
      pos += frameLength;
    }
    if (b.length - pos > MAX_BUFFER) {
      this.stats.garbageBytes += b.length - pos;
      pos = b.length;
    }
    this.base += pos;
    this.buf = pos === b.length ? EMPTY : Buffer.from(b.subarray(pos));
    this.marks.forgetBefore(this.base);
  }
}
