/**
 * G.711 (ITU-T G.711, 1988) A-law and mu-law to 16-bit linear PCM: one table lookup per byte.
 *
 * The tables follow the standard's decoding rules (A-law: even bits inverted, sign bit 1 = positive, segment 0
 * linear; mu-law: all bits inverted, bias 0x84) and give the same values as ffmpeg's pcm_alaw / pcm_mulaw decoders
 * (checked by test/media/audio/g711.test.ts against ffmpeg's decode of the same bytes).
 */
import type { PcmDecoder } from './pcm-decoder.js';

function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  if (seg === 0) t += 8;
  else {
    t += 0x108;
    if (seg > 1) t <<= seg - 1;
  }
  return a & 0x80 ? t : -t;
}

function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

export const ALAW_TO_PCM: Int16Array = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));
export const ULAW_TO_PCM: Int16Array = Int16Array.from({ length: 256 }, (_, i) => ulawToLinear(i));

/** Decode G.711 bytes into `out` (one sample per byte) and return the samples written. */
export function decodeG711(
  law: 'alaw' | 'ulaw',
  bytes: Uint8Array,
  out: Int16Array = new Int16Array(bytes.length),
): Int16Array {
  if (out.length < bytes.length) throw new RangeError(`output holds ${out.length} samples, ${bytes.length} needed`);
  const table = law === 'alaw' ? ALAW_TO_PCM : ULAW_TO_PCM;
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out.subarray(0, bytes.length);
}

/** G.711 as the transcoder's PcmDecoder: 8 kHz mono, one sample per byte, nothing held between payloads. */
export class G711Decoder implements PcmDecoder {
  readonly sampleRate = 8000;
  readonly channels = 1;
  private out = new Int16Array(4096);

  constructor(readonly law: 'alaw' | 'ulaw') {}

  decode(bytes: Uint8Array): Int16Array {
    if (this.out.length < bytes.length) this.out = new Int16Array(bytes.length);
    return decodeG711(this.law, bytes, this.out);
  }

  flush(): Int16Array {
    return this.out.subarray(0, 0);
  }
}
