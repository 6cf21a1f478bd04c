/**
 * The audio of a speech codec MP4 cannot carry (G.711 A-law / mu-law, G.726) -> Opus packets on the source's own
 * 90 kHz clock: decode to 8 kHz PCM (g711.ts, g726.ts), encode (opus-encoder.ts). Each output packet gets the PTS
 * its first sample had in the source (the latest PES PTS plus the samples since), so the caller places it on the
 * video timeline exactly as it placed the source packets (AudioTimeline): no drift is added, whatever the length.
 */
import { decodeG711 } from './g711.js';
import { G726Decoder, type G726Bits } from './g726.js';
import { OpusEncoder, OPUS_INPUT_RATE, type AudioDecoderConfigShape } from './opus-encoder.js';

export type SpeechCodec = 'alaw' | 'ulaw' | 'g726';

export interface TranscodedPacket {
  data: Uint8Array;
  /** Raw 90 kHz PTS of the packet's first sample, when the source said it. */
  pts: number | undefined;
  durationTicks: number;
}

const PTS_WRAP = 2 ** 33;
const TICKS_PER_SAMPLE = 90000 / OPUS_INPUT_RATE;
/** G.726 rate guess: packets held until two PES timestamps give the byte rate; past this many, 16 kbit/s is taken. */
const MAX_HELD_PACKETS = 64;
/** Hikvision's G.726 is 16 kbit/s as far as is known (2 bits per sample); used when the stream does not tell. */
export const DEFAULT_G726_BITS: G726Bits = 2;

export function isSpeechCodec(codec: string | undefined): codec is SpeechCodec {
  return codec === 'alaw' || codec === 'ulaw' || codec === 'g726';
}

/** G.726 code word size from bytes per second (2000, 3000, 4000 for 16, 24, 32 kbit/s), or undefined. */
export function g726BitsFromRate(bytesPerSecond: number): G726Bits | undefined {
  const bits = Math.round((bytesPerSecond * 8) / OPUS_INPUT_RATE);
  return bits === 2 || bits === 3 || bits === 4 ? bits : undefined;
}

export class SpeechTranscoder {
  readonly decoderConfig: AudioDecoderConfigShape;
  private readonly encoder = new OpusEncoder();
  private g726: G726Decoder | null = null;
  private held: Array<{ bytes: Uint8Array; pts: number | undefined }> = [];
  private pcm = new Int16Array(4096);
  /** Samples decoded so far, and samples already handed to the encoder's output (the next packet's first sample). */
  private decoded = 0;
  private emitted = 0;
  /**
   * PES timestamps not yet behind the next packet's first sample: the sample each PTS belongs to. A packet is timed
   * by the latest one at or before its first sample (by the first one, extrapolated back, when none is before it).
   */
  private anchors: Array<{ sample: number; pts: number }> = [];
  /** G.726 bits per code word in use (after the guess). */
  g726Bits: G726Bits | undefined;

  constructor(
    readonly codec: SpeechCodec,
    private readonly onPacket: (p: TranscodedPacket) => void,
    options: { g726Bits?: G726Bits } = {},
  ) {
    this.decoderConfig = this.encoder.decoderConfig;
    if (codec === 'g726' && options.g726Bits) this.startG726(options.g726Bits);
  }

  /** One PES payload of the source (`pts` when the PES carried one). */
  push(bytes: Uint8Array, pts: number | undefined): void {
    if (this.codec === 'g726' && !this.g726) {
      this.held.push({ bytes: Uint8Array.from(bytes), pts });
      const timed = this.held.filter((h) => h.pts !== undefined);
      if (timed.length >= 2 || this.held.length > MAX_HELD_PACKETS) {
        let bits: G726Bits | undefined;
        if (timed.length >= 2) {
          const i0 = this.held.indexOf(timed[0]!);
          const i1 = this.held.indexOf(timed[1]!);
          const dt = (((timed[1]!.pts! - timed[0]!.pts!) % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
          let bytesBetween = 0;
          for (let i = i0; i < i1; i++) bytesBetween += this.held[i]!.bytes.length;
          if (dt > 0) bits = g726BitsFromRate((bytesBetween * 90000) / dt);
        }
        this.startG726(bits ?? DEFAULT_G726_BITS);
        const held = this.held;
        this.held = [];
        for (const h of held) this.decodePacket(h.bytes, h.pts);
      }
      return;
    }
    this.decodePacket(bytes, pts);
  }

  /** End of the source: encode what is left (G.726 still guessing: with the default rate). */
  flush(): void {
    if (this.codec === 'g726' && !this.g726) {
      this.startG726(DEFAULT_G726_BITS);
      for (const h of this.held) this.decodePacket(h.bytes, h.pts);
      this.held = [];
    }
    this.encoder.flush((f) => this.emit(f.data, f.samples));
  }

  /** Release the encoder without emitting (after an error). */
  close(): void {
    this.encoder.close();
  }

  private startG726(bits: G726Bits): void {
    this.g726 = new G726Decoder(bits, 'le');
    this.g726Bits = bits;
  }

  private decodePacket(bytes: Uint8Array, pts: number | undefined): void {
    if (pts !== undefined) {
      // A second PTS for the same sample (an empty PES) replaces the first.
      if (this.anchors.at(-1)?.sample === this.decoded) this.anchors.pop();
      this.anchors.push({ sample: this.decoded, pts });
    }
    const n = this.g726 ? this.g726.samplesIn(bytes.length) : bytes.length;
    if (this.pcm.length < n) this.pcm = new Int16Array(n);
    const pcm = this.g726
      ? this.g726.decode(bytes, this.pcm)
      : decodeG711(this.codec === 'ulaw' ? 'ulaw' : 'alaw', bytes, this.pcm);
    this.decoded += pcm.length;
    this.encoder.encode(pcm, (f) => this.emit(f.data, f.samples));
  }

  private emit(data: Uint8Array, samples: number): void {
    while (this.anchors.length > 1 && this.anchors[1]!.sample <= this.emitted) this.anchors.shift();
    const a = this.anchors[0];
    const pts =
      a === undefined
        ? undefined
        : (((a.pts + Math.round((this.emitted - a.sample) * TICKS_PER_SAMPLE)) % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
    this.emitted += samples;
    this.onPacket({ data, pts, durationTicks: samples * TICKS_PER_SAMPLE });
  }
}
