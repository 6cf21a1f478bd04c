/**
 * Raw 16-bit PCM as a PcmDecoder: what a camera set to "PCM" records. No public source says the rate, channel count
 * or byte order of Hikvision's PCM in PS; hiksync takes 8 kHz mono little-endian (docs/audio.md: unverified). A PES
 * may end inside a sample: those bytes wait for the next payload.
 */
import type { PcmDecoder } from './pcm-decoder.js';

export const PCM_DEFAULT_RATE = 8000;

export class PcmS16Decoder implements PcmDecoder {
  /** Bytes of an incomplete sample frame left by the last payload (fewer than 2 x channels). */
  private carry = new Uint8Array(0);
  private out = new Int16Array(4096);

  constructor(
    readonly sampleRate = PCM_DEFAULT_RATE,
    readonly channels = 1,
    private readonly littleEndian = true,
  ) {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`bad PCM rate ${sampleRate}`);
    if (channels !== 1 && channels !== 2) throw new RangeError(`bad PCM channel count ${channels}`);
  }

  decode(bytes: Uint8Array): Int16Array {
    const data = this.carry.length === 0 ? bytes : concat(this.carry, bytes);
    const frameBytes = 2 * this.channels;
    const usable = data.length - (data.length % frameBytes);
    const n = usable / 2;
    if (n > this.out.length) this.out = new Int16Array(Math.max(n, this.out.length * 2));
    const out = this.out;
    for (let k = 0; k < n; k++) {
      const a = data[2 * k]!;
      const b = data[2 * k + 1]!;
      const u = this.littleEndian ? a | (b << 8) : (a << 8) | b;
      out[k] = (u << 16) >> 16;
    }
    this.carry = data.slice(usable);
    return out.subarray(0, n);
  }

  /** A cut sample at the end is dropped: nothing is held back otherwise. */
  flush(): Int16Array {
    this.carry = new Uint8Array(0);
    return this.out.subarray(0, 0);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
