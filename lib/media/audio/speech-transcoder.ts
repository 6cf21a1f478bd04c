/**
 * The audio of a codec MP4 cannot carry (G.711 A-law / mu-law, G.726; any PcmDecoder) -> FLAC frames on the source's
 * own 90 kHz clock: decode to 16-bit PCM (pcm-decoder.ts: g711.ts, g726.ts), encode losslessly (flac-encoder.ts).
 * Each output frame gets the PTS its first sample had in the source (the latest PES PTS plus the samples since), so
 * the caller places it on the video timeline exactly as it placed the source packets (AudioTimeline): no drift is
 * added, whatever the length.
 */
import { FlacEncoder, type AudioDecoderConfigShape, type EncodedAudioFrame } from './flac-encoder.js';
import { G711Decoder } from './g711.js';
import { G726Decoder, type G726Bits } from './g726.js';
import { Mp2Decoder } from './mp2-decoder.js';
import { PcmS16Decoder } from './pcm.js';
import type { PcmDecoder } from './pcm-decoder.js';

/** The codecs decoded here and re-encoded as FLAC: the speech codecs, MPEG audio layer II and raw 16-bit PCM. */
export type SpeechCodec = 'alaw' | 'ulaw' | 'g726' | 'mp2' | 'pcm';

export interface TranscodedPacket {
  data: Uint8Array;
  /** Raw 90 kHz PTS of the packet's first sample, when the source said it. */
  pts: number | undefined;
  durationTicks: number;
}

/** A source packet held while the decoder is not chosen yet. */
export interface HeldPacket {
  bytes: Uint8Array;
  pts: number | undefined;
}

/**
 * A decoder that can only be chosen after some packets (G.726: the bit rate, from the bytes between two PES
 * timestamps). `choose` sees every packet held so far; `end` is true at the end of the stream, where it must choose.
 */
export interface PendingDecoder {
  choose(held: readonly HeldPacket[], end: boolean): PcmDecoder | undefined;
}

const PTS_WRAP = 2 ** 33;
const G726_RATE = 8000;
/** G.726 rate guess: packets held until two PES timestamps give the byte rate; past this many, 16 kbit/s is taken. */
const MAX_HELD_PACKETS = 64;
/** Hikvision's G.726 is 16 kbit/s as far as is known (2 bits per sample); used when the stream does not tell. */
export const DEFAULT_G726_BITS: G726Bits = 2;

export function isSpeechCodec(codec: string | undefined): codec is SpeechCodec {
  return codec === 'alaw' || codec === 'ulaw' || codec === 'g726' || codec === 'mp2' || codec === 'pcm';
}

/** G.726 code word size from bytes per second (2000, 3000, 4000 for 16, 24, 32 kbit/s), or undefined. */
export function g726BitsFromRate(bytesPerSecond: number): G726Bits | undefined {
  const bits = Math.round((bytesPerSecond * 8) / G726_RATE);
  return bits === 2 || bits === 3 || bits === 4 ? bits : undefined;
}

/** G.726 at the rate the stream shows (RFC 3551 packing), or 16 kbit/s when it cannot tell. */
export const g726RateGuess: PendingDecoder = {
  choose(held, end) {
    const timed = held.filter((h) => h.pts !== undefined);
    if (timed.length < 2 && held.length <= MAX_HELD_PACKETS && !end) return undefined;
    let bits: G726Bits | undefined;
    if (timed.length >= 2) {
      const i0 = held.indexOf(timed[0]!);
      const i1 = held.indexOf(timed[1]!);
      const dt = (((timed[1]!.pts! - timed[0]!.pts!) % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
      let bytesBetween = 0;
      for (let i = i0; i < i1; i++) bytesBetween += held[i]!.bytes.length;
      if (dt > 0) bits = g726BitsFromRate((bytesBetween * 90000) / dt);
    }
    return new G726Decoder(bits ?? DEFAULT_G726_BITS, 'le');
  },
};

/** The decoder of a speech codec (G.726: its bit rate guessed from the stream unless given). */
export function speechDecoder(codec: SpeechCodec, options: { g726Bits?: G726Bits } = {}): PcmDecoder | PendingDecoder {
  if (codec === 'mp2') return new Mp2Decoder();
  if (codec === 'pcm') return new PcmS16Decoder();
  if (codec !== 'g726') return new G711Decoder(codec);
  return options.g726Bits ? new G726Decoder(options.g726Bits, 'le') : g726RateGuess;
}

function isPending(d: PcmDecoder | PendingDecoder): d is PendingDecoder {
  return 'choose' in d;
}

export class SpeechTranscoder {
  private decoder: PcmDecoder | null;
  private readonly pending: PendingDecoder | null;
  private encoder: FlacEncoder | null = null;
  private held: HeldPacket[] = [];
  /** Samples (per channel) decoded so far, and those already in emitted frames (the next frame's first sample). */
  private decoded = 0;
  private emitted = 0;
  /**
   * PES timestamps not yet behind the next packet's first sample: the sample each PTS belongs to. A packet is timed
   * by the latest one at or before its first sample (by the first one, extrapolated back, when none is before it).
   * A PTS is anchored at the samples decoded before its payload.
   */
  private anchors: Array<{ sample: number; pts: number }> = [];
  private readonly emitFrame = (f: EncodedAudioFrame): void => this.emit(f.data, f.samples);

  /**
   * @param source the decoder, or (G.726) what chooses it after some packets
   * @param codecName the source codec as messages name it
   */
  constructor(
    source: PcmDecoder | PendingDecoder,
    readonly codecName: string,
    private readonly onPacket: (p: TranscodedPacket) => void,
  ) {
    this.decoder = isPending(source) ? null : source;
    this.pending = isPending(source) ? source : null;
  }

  /** The FLAC track's decoder configuration, once the first samples are decoded (null before). */
  get decoderConfig(): AudioDecoderConfigShape | null {
    return this.encoder?.decoderConfig ?? null;
  }

  /** The decoder in use (null while a pending one is still choosing). */
  get pcmDecoder(): PcmDecoder | null {
    return this.decoder;
  }

  /** One PES payload of the source (`pts` when the PES carried one). */
  push(bytes: Uint8Array, pts: number | undefined): void {
    if (!this.decoder) {
      this.held.push({ bytes: Uint8Array.from(bytes), pts });
      this.choose(false);
      return;
    }
    this.decodePacket(bytes, pts);
  }

  /** End of the source: encode what is left (a pending decoder chooses now). */
  flush(): void {
    if (!this.decoder) this.choose(true);
    this.encodePcm(this.decoder!.flush());
    this.encoder?.flush(this.emitFrame);
  }

  /** Stop without emitting more (after an error). Nothing to release: the encoder is plain TypeScript. */
  close(): void {
    this.held = [];
    this.anchors = [];
  }

  private choose(end: boolean): void {
    const d = this.pending!.choose(this.held, end);
    if (!d) return;
    this.decoder = d;
    const held = this.held;
    this.held = [];
    for (const h of held) this.decodePacket(h.bytes, h.pts);
  }

  private decodePacket(bytes: Uint8Array, pts: number | undefined): void {
    if (pts !== undefined) {
      // A second PTS for the same sample (an empty PES) replaces the first.
      if (this.anchors.at(-1)?.sample === this.decoded) this.anchors.pop();
      this.anchors.push({ sample: this.decoded, pts });
    }
    this.encodePcm(this.decoder!.decode(bytes));
  }

  private encodePcm(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    const d = this.decoder!;
    if (!this.encoder) this.encoder = new FlacEncoder(d.sampleRate, d.channels);
    else if (d.sampleRate !== this.encoder.sampleRate || d.channels !== this.encoder.channels)
      throw new Error(
        `${this.codecName} changed from ${this.encoder.sampleRate} Hz x ${this.encoder.channels} to ${d.sampleRate} Hz x ${d.channels} in the stream`,
      );
    this.decoded += pcm.length / d.channels;
    this.encoder.encode(pcm, this.emitFrame);
  }

  private emit(data: Uint8Array, samples: number): void {
    const ticksPerSample = 90000 / this.encoder!.sampleRate;
    while (this.anchors.length > 1 && this.anchors[1]!.sample <= this.emitted) this.anchors.shift();
    const a = this.anchors[0];
    const pts =
      a === undefined
        ? undefined
        : (((a.pts + Math.round((this.emitted - a.sample) * ticksPerSample)) % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
    this.emitted += samples;
    this.onPacket({ data, pts, durationTicks: samples * ticksPerSample });
  }
}
