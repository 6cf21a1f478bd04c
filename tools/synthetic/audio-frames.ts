/**
 * Cut audio fixtures into the packets a camera puts in its audio PES: one ADTS frame (1024 samples) for AAC, one
 * MPEG audio frame for MP2 / MP3, a fixed 40 ms block for the speech codecs (G.711 A-law / mu-law, G.726, G.722.1) and 16-bit
 * PCM. Pure: bytes in, values out. The MPEG audio header is read here on its own (not with lib/media's parser).'
 */
import { ElementaryStreamError } from './errors.js';

export type AudioCodec = 'aac' | 'mp2' | 'mp3' | SpeechCodec;
export type SpeechCodec = 'alaw' | 'ulaw' | 'g726' | 'g7221' | 'pcm';

/**
 * Bits per sample of each speech codec as the fixtures hold it (G.726 at 16 kbit/s, RFC 3551 packing; G.722.1 at
 * 16 kbit/s and 16 kHz: a 40 ms block is two 40-byte frames).
 */
export const SPEECH_BITS: Readonly<Record<SpeechCodec, number>> = { alaw: 8, ulaw: 8, g726: 2, g7221: 1, pcm: 16 };

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

const MPEG_RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000] };
/** kbit/s of layer II / III by [MPEG-1][layer III][index] (ISO/IEC 11172-3 and 13818-3 tables). */
const MPEG_KBPS = {
  mpeg1: {
    2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  },
  lsf: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};

/**
 * Split an MPEG-1 / MPEG-2 layer II or III stream (what ffmpeg's mp2 and libmp3lame write: no free format, no tags)
 * into frames, one per PES as cameras send them; every frame must have the same layer and rate.
 */
export function splitMpegAudioFrames(codec: 'mp2' | 'mp3', data: Uint8Array): AudioFrames {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const wantLayer = codec === 'mp2' ? 2 : 3;
  const frames: Buffer[] = [];
  let sampleRate = 0;
  let samples = 0;
  for (let pos = 0; pos < buf.length;) {
    if (pos + 4 > buf.length) throw new ElementaryStreamError(`truncated MPEG audio header at ${pos}`);
    if (buf[pos] !== 0xff || (buf[pos + 1]! & 0xe0) !== 0xe0)
      throw new ElementaryStreamError(`no MPEG audio sync at ${pos}`);
    const version = (buf[pos + 1]! >> 3) & 3; // 3 MPEG-1, 2 MPEG-2
    const layer = 4 - ((buf[pos + 1]! >> 1) & 3);
    const rate = MPEG_RATES[version]?.[(buf[pos + 2]! >> 2) & 3];
    if (layer !== wantLayer || rate === undefined) throw new ElementaryStreamError(`not ${codec} at ${pos}`);
    if (sampleRate !== 0 && rate !== sampleRate) throw new ElementaryStreamError('MPEG audio rate changes mid-stream');
    sampleRate = rate;
    const index = buf[pos + 2]! >> 4;
    const kbps = (version === 3 ? MPEG_KBPS.mpeg1[layer] : MPEG_KBPS.lsf)[index];
    if (!kbps) throw new ElementaryStreamError(`free-format or bad bit rate index ${index} at ${pos}`);
    const padding = (buf[pos + 2]! >> 1) & 1;
    const slots = layer === 3 && version !== 3 ? 72 : 144;
    const length = Math.floor((slots * kbps * 1000) / rate) + padding;
    if (pos + length > buf.length) throw new ElementaryStreamError(`cut MPEG audio frame at ${pos}`);
    samples = layer === 3 && version !== 3 ? 576 : 1152;
    frames.push(buf.subarray(pos, pos + length));
    if (frames.length > MAX_AUDIO_FRAMES) throw new ElementaryStreamError(`more than ${MAX_AUDIO_FRAMES} frames`);
    pos += length;
  }
  if (frames.length === 0) throw new ElementaryStreamError(`empty ${codec} stream`);
  return { codec, sampleRate, frames, ticks90k: (samples * 90000) / sampleRate };
}
