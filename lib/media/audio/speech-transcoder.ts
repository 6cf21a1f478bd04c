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
import { G7221_DEFAULT_FRAME_BYTES, G7221Decoder, isG7221FrameBytes } from './g7221-decoder.js';
import { Mp2Decoder } from './mp2-decoder.js';
import { PcmS16Decoder } from './pcm.js';
import type { PcmDecoder } from './pcm-decoder.js';
import { ptsOnCircle } from '../timestamps.js';

/**
 * The codecs decoded here and re-encoded as FLAC: the speech codecs (G.711, G.726, G.722.1), MPEG audio layer II and
 * raw 16-bit PCM.
 */
const SPEECH_CODECS = ['alaw', 'ulaw', 'g726', 'g7221', 'mp2', 'pcm'] as const;
export type SpeechCodec = (typeof SPEECH_CODECS)[number];

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
 * A decoder that can only be chosen after some packets (G.726: the bit rate; G.722.1: the frame size; both from the
 * bytes between two PES timestamps). `choose` sees every packet held so far; `end` is true at the end of the stream, where it must choose.
 */
export interface PendingDecoder {
  choose(held: readonly HeldPacket[], end: boolean): PcmDecoder | undefined;
}

const G726_RATE = 8000;
/** G.722.1 frames a second (20 ms each). */
const G7221_FRAMES_PER_SECOND = 50;
/**
 * Rate guesses (G.726, G.722.1): packets held until two PES timestamps give the byte rate; past this many, the
 * default rate is taken.
 */
const MAX_HELD_PACKETS = 64;
/** Hikvision's G.726 is 16 kbit/s as far as is known (2 bits per sample); used when the stream does not tell. */
export const DEFAULT_G726_BITS: G726Bits = 2;

export function isSpeechCodec(codec: string | undefined): codec is SpeechCodec {
  return (SPEECH_CODECS as readonly (string | undefined)[]).includes(codec);
}

/** G.726 code word size from bytes per second (2000, 3000, 4000 for 16, 24, 32 kbit/s), or undefined. */
export function g726BitsFromRate(bytesPerSecond: number): G726Bits | undefined {
  const bits = Math.round((bytesPerSecond * 8) / G726_RATE);
  return bits === 2 || bits === 3 || bits === 4 ? bits : undefined;
}

/**
 * The byte rate a stream shows: the bytes from the first PES timestamp to the second over their distance (bytes per
 * second), or undefined when it cannot tell. `wait` is true while more packets may still tell (the pending decoders'
 * common rule: fewer than two timestamps, not at the end, not past MAX_HELD_PACKETS).
 */
function heldByteRate(held: readonly HeldPacket[], end: boolean): { wait: boolean; bytesPerSecond?: number } {
  const timed = held.filter((h) => h.pts !== undefined);
  if (timed.length < 2 && held.length <= MAX_HELD_PACKETS && !end) return { wait: true };
  if (timed.length < 2) return { wait: false };
  const i0 = held.indexOf(timed[0]!);
  const i1 = held.indexOf(timed[1]!);
  const dt = ptsOnCircle(timed[1]!.pts! - timed[0]!.pts!);
  let bytesBetween = 0;
  for (let i = i0; i < i1; i++) bytesBetween += held[i]!.bytes.length;
  return dt > 0 ? { wait: false, bytesPerSecond: (bytesBetween * 90000) / dt } : { wait: false };
}

/** G.726 at the rate the stream shows (RFC 3551 packing), or 16 kbit/s when it cannot tell. */
export const g726RateGuess: PendingDecoder = {
  choose(held, end) {
    const rate = heldByteRate(held, end);
    if (rate.wait) return undefined;
    const bits = rate.bytesPerSecond === undefined ? undefined : g726BitsFromRate(rate.bytesPerSecond);
    return new G726Decoder(bits ?? DEFAULT_G726_BITS, 'le');
  },
};

/**
 * G.722.1 frame size from bytes per second: 20 ms frames, so bytes / 50 (40, 60, 80 at 16, 24, 32 kbit/s), rounded
 * to whole bytes; undefined unless it is an even size the decoder takes.
 */
export function g7221FrameBytesFromRate(bytesPerSecond: number): number | undefined {
  const frame = Math.round(bytesPerSecond / G7221_FRAMES_PER_SECOND);
  return isG7221FrameBytes(frame) ? frame : undefined;
}

/** G.722.1 with the frame size the stream shows (bytes over the PTS distance), or 40 bytes (16 kbit/s). */
export const g7221FrameGuess: PendingDecoder = {
  choose(held, end) {
    const rate = heldByteRate(held, end);
    if (rate.wait) return undefined;
    const frameBytes = rate.bytesPerSecond === undefined ? undefined : g7221FrameBytesFromRate(rate.bytesPerSecond);
    return new G7221Decoder(frameBytes ?? G7221_DEFAULT_FRAME_BYTES);
  },
};

/** The decoder of a speech codec (G.726: its bit rate guessed from the stream unless given). */
export function speechDecoder(
  codec: SpeechCodec,
  options: { g726Bits?: G726Bits; g7221FrameBytes?: number } = {},
): PcmDecoder | PendingDecoder {
  if (codec === 'mp2') return new Mp2Decoder();
  if (codec === 'g7221') return options.g7221FrameBytes ? new G7221Decoder(options.g7221FrameBytes) : g7221FrameGuess;
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
      a === undefined ? undefined : ptsOnCircle(a.pts + Math.round((this.emitted - a.sample) * ticksPerSample));
    this.emitted += samples;
    this.onPacket({ data, pts, durationTicks: samples * ticksPerSample });
  }
}
