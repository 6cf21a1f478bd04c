/**
 * Cut audio fixtures into the packets a camera puts in its audio PES: one ADTS frame (1024 samples) for AAC,
 * a fixed 40 ms block for the speech codecs (G.711 A-law / mu-law, G.726). Pure: bytes in, values out.
 */
import { ElementaryStreamError } from './errors.js';

export type AudioCodec = 'aac' | SpeechCodec;
export type SpeechCodec = 'alaw' | 'ulaw' | 'g726';

/** Bits per 8 kHz sample of each speech codec as the fixtures hold it (G.726 at 16 kbit/s, RFC 3551 packing). */
export const SPEECH_BITS: Readonly<Record<SpeechCodec, number>> = { alaw: 8, ulaw: 8, g726: 2 };

/** Hard bound on frames in one fixture (2 s of audio has < 100). */
export const MAX_AUDIO_FRAMES = 1_000_000;

const ADTS_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

export interface AudioFrames {
  codec: AudioCodec;
  sampleRate: number;
  /** One packet per PES, views into the input. */
  frames: Buffer[];
  /** Duration of one packet on the 90 kHz clock. */
  ticks90k: number;
}

/** Split an ADTS stream (sync 0xFFF, 13-bit frame length) into frames; every frame must have the same rate. */
export function splitAdtsFrames(data: Uint8Array): AudioFrames {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const frames: Buffer[] = [];
  let sampleRate = 0;
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 7 > buf.length) throw new ElementaryStreamError(`truncated ADTS header at ${pos}`);
    if (buf[pos] !== 0xff || (buf[pos + 1]! & 0xf0) !== 0xf0) throw new ElementaryStreamError(`no ADTS sync at ${pos}`);
    const rate = ADTS_SAMPLE_RATES[(buf[pos + 2]! >> 2) & 0x0f];
    if (rate === undefined) throw new ElementaryStreamError(`bad ADTS sampling index at ${pos}`);
    if (sampleRate !== 0 && rate !== sampleRate) throw new ElementaryStreamError('ADTS sample rate changes mid-stream');
    sampleRate = rate;
    const length = ((buf[pos + 3]! & 0x03) << 11) | (buf[pos + 4]! << 3) | (buf[pos + 5]! >> 5);
    if (length < 7 || pos + length > buf.length)
      throw new ElementaryStreamError(`bad ADTS frame length ${length} at ${pos}`);
    frames.push(buf.subarray(pos, pos + length));
    if (frames.length > MAX_AUDIO_FRAMES) throw new ElementaryStreamError(`more than ${MAX_AUDIO_FRAMES} ADTS frames`);
    pos += length;
  }
  if (frames.length === 0) throw new ElementaryStreamError('empty ADTS stream');
  return { codec: 'aac', sampleRate, frames, ticks90k: (1024 * 90000) / sampleRate };
}

/** Split raw 8 kHz A-law into 40 ms blocks (320 bytes); a short tail is dropped so every block has one length. */
export function splitAlawBlocks(data: Uint8Array, sampleRate = 8000, blockMs = 40): AudioFrames {
  return splitSpeechBlocks('alaw', data, sampleRate, blockMs);
}

/** Split a raw speech stream into blocks of `blockMs` (whole bytes); a short tail is dropped. */
export function splitSpeechBlocks(codec: SpeechCodec, data: Uint8Array, sampleRate = 8000, blockMs = 40): AudioFrames {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const size = (sampleRate * blockMs * SPEECH_BITS[codec]) / 8000;
  if (!Number.isInteger(size) || size <= 0)
    throw new RangeError(`${codec} block of ${blockMs} ms at ${sampleRate} Hz is not whole bytes`);
  const count = Math.floor(buf.length / size);
  if (count === 0) throw new ElementaryStreamError(`${codec} input shorter than one block`);
  const frames: Buffer[] = [];
  for (let k = 0; k < count; k++) frames.push(buf.subarray(k * size, (k + 1) * size));
  return { codec, sampleRate, frames, ticks90k: blockMs * 90 };
}
