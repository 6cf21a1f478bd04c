/**
 * 8 kHz mono 16-bit PCM -> Opus packets plus the decoder configuration an MP4 muxer needs (WebCodecs shape:
 * codec 'opus', 48 kHz, the RFC 7845 identification header as description, from which the muxer writes dOps).
 *
 * The encoder is libopus 1.4 compiled to WebAssembly (npm `opusscript`, MIT; libopus BSD): synchronous, in the
 * calling thread, loaded once per thread. Why Opus and these settings: docs/audio.md (CPU per hour of audio,
 * playback, licence, package health of the candidates). RESTRICTED_LOWDELAY is CELT only, the cheapest mode, with a
 * look-ahead of 2.5 ms; complexity 0 costs a third of the default 10 and speech at 32 kbit/s from an 8 kHz source
 * stays clean (the tests compare the decoded audio with the source).
 */
import OpusScript from 'opusscript';

export const OPUS_INPUT_RATE = 8000;
/** Opus timestamps and durations count 48 kHz samples whatever the input rate. */
const OPUS_RATE = 48000;
/** The 60 ms frame (the longest Opus has): fewer packets for the muxer to index per second of audio. */
export const OPUS_FRAME_SAMPLES = 480;
/** Frame sizes (8 kHz samples) Opus accepts, longest first; the tail of a stream is cut into these. */
const FRAME_SIZES = [480, 320, 160, 80, 40, 20] as const;
const BITRATE = 32000;
const COMPLEXITY = 0;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
/** RESTRICTED_LOWDELAY look-ahead: 2.5 ms = 120 samples at 48 kHz (RFC 7845 pre-skip: the decoder drops them). */
const PRE_SKIP = 120;

export interface AudioDecoderConfigShape {
  codec: string;
  sampleRate: number;
  numberOfChannels: number;
  description?: Uint8Array;
}

export interface EncodedAudioFrame {
  data: Uint8Array;
  /** Input samples (8 kHz) this packet covers. */
  samples: number;
}

/** RFC 7845 5.1 identification header ('OpusHead'), the WebCodecs description of an Opus stream. */
export function opusHead(channels: number, inputRate: number, preSkip: number): Uint8Array {
  const h = new Uint8Array(19);
  const v = new DataView(h.buffer);
  h.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64], 0);
  h[8] = 1;
  h[9] = channels;
  v.setUint16(10, preSkip, true);
  v.setUint32(12, inputRate, true);
  v.setInt16(16, 0, true);
  h[18] = 0;
  return h;
}

export class OpusEncoder {
  readonly decoderConfig: AudioDecoderConfigShape = {
    codec: 'opus',
    sampleRate: OPUS_RATE,
    numberOfChannels: 1,
    description: opusHead(1, OPUS_INPUT_RATE, PRE_SKIP),
  };
  private enc: OpusScript | null;
  /** Samples waiting for a whole frame. */
  private pending = new Int16Array(OPUS_FRAME_SAMPLES);
  private pendingLength = 0;

  constructor() {
    this.enc = new OpusScript(OPUS_INPUT_RATE, 1, OpusScript.Application.RESTRICTED_LOWDELAY);
    this.enc.encoderCTL(OPUS_SET_BITRATE, BITRATE);
    this.enc.encoderCTL(OPUS_SET_COMPLEXITY, COMPLEXITY);
  }

  /** Duration of `samples` 8 kHz samples in 90 kHz ticks. */
  static ticksOf(samples: number): number {
    return (samples * 90000) / OPUS_INPUT_RATE;
  }

  /** Encode what completes whole 60 ms frames; the rest waits for the next call or `flush`. */
  encode(pcm: Int16Array, emit: (frame: EncodedAudioFrame) => void): void {
    let pos = 0;
    while (pos < pcm.length) {
      const take = Math.min(OPUS_FRAME_SAMPLES - this.pendingLength, pcm.length - pos);
      if (this.pendingLength === 0 && take === OPUS_FRAME_SAMPLES) {
        emit(this.encodeFrame(pcm.subarray(pos, pos + take)));
      } else {
        this.pending.set(pcm.subarray(pos, pos + take), this.pendingLength);
        this.pendingLength += take;
        if (this.pendingLength === OPUS_FRAME_SAMPLES) {
          emit(this.encodeFrame(this.pending));
          this.pendingLength = 0;
        }
      }
      pos += take;
    }
  }

  /**
   * Encode the samples still waiting in shorter Opus frames, so the track ends within 2.5 ms of its source (only the
   * last frame is padded with silence), and release the encoder.
   */
  flush(emit: (frame: EncodedAudioFrame) => void): void {
    let pos = 0;
    const left = this.pendingLength;
    while (pos < left) {
      const size = FRAME_SIZES.find((s) => s <= left - pos) ?? 20;
      const frame = new Int16Array(size);
      frame.set(this.pending.subarray(pos, Math.min(left, pos + size)));
      const out = this.encodeFrame(frame);
      emit(out);
      pos += size;
    }
    this.pendingLength = 0;
    this.close();
  }

  close(): void {
    this.enc?.delete();
    this.enc = null;
  }

  private encodeFrame(frame: Int16Array): EncodedAudioFrame {
    if (!this.enc) throw new Error('Opus encoder already closed');
    // opusscript takes the samples' bytes (16-bit little-endian, the platform order of Int16Array on every host
    // Node runs on).
    const data = this.enc.encode(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), frame.length);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), samples: frame.length };
  }
}
