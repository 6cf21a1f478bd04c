/** ffmpeg's decode (or encode) of raw audio bytes, through temporary files: the reference the decoders are held to. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ffmpeg } from '../../helpers/media-tools.js';

export async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-audio-'));
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Decode raw bytes of `format` (ffmpeg demuxer name plus its options) to 8 kHz 16-bit mono PCM. */
export async function ffmpegDecode(bytes: Uint8Array, inputArgs: string[]): Promise<Int16Array> {
  return withTemp(async (dir) => {
    const src = path.join(dir, 'in.bin');
    const out = path.join(dir, 'out.s16');
    await fs.writeFile(src, bytes);
    await ffmpeg('-loglevel', 'error', '-y', ...inputArgs, '-i', src, '-f', 's16le', '-ac', '1', '-ar', '8000', out);
    const b = await fs.readFile(out);
    return new Int16Array(b.buffer, b.byteOffset, b.length / 2);
  });
}

/** Encode 8 kHz mono PCM with ffmpeg into raw bytes (`codecArgs`: -c:a ... -f ...). */
export async function ffmpegEncode(pcm: Int16Array, codecArgs: string[]): Promise<Uint8Array> {
  return withTemp(async (dir) => {
    const src = path.join(dir, 'in.s16');
    const out = path.join(dir, 'out.bin');
    await fs.writeFile(src, new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    await ffmpeg('-loglevel', 'error', '-y', '-f', 's16le', '-ar', '8000', '-ac', '1', '-i', src, ...codecArgs, out);
    return new Uint8Array(await fs.readFile(out));
  });
}

/** A speech-like 8 kHz test signal: two tones with a slow envelope plus deterministic noise. */
export function testSignal(samples: number, seed = 1): Int16Array {
  const out = new Int16Array(samples);
  let s = seed;
  for (let i = 0; i < samples; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const env = 0.5 + 0.5 * Math.sin((2 * Math.PI * i) / 4000);
    const v =
      env * (9000 * Math.sin((2 * Math.PI * 440 * i) / 8000) + 4000 * Math.sin((2 * Math.PI * 1230 * i) / 8000));
    out[i] = Math.round(v + ((s % 2001) - 1000));
  }
  return out;
}

/** Normalised cross-correlation of `a` and `b` at the best lag within +-maxLag samples. */
export function bestCorrelation(a: Int16Array, b: Int16Array, maxLag: number): { r: number; lag: number } {
  let best = { r: -1, lag: 0 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let i = Math.max(0, -lag); i < a.length && i + lag < b.length; i++) {
      const x = a[i]!;
      const y = b[i + lag]!;
      sab += x * y;
      saa += x * x;
      sbb += y * y;
    }
    const r = sab / Math.sqrt(saa * sbb || 1);
    if (r > best.r) best = { r, lag };
  }
  return best;
}

/** The 16 kHz fixtures' signal (make-fixtures.sh SPEECH16: two tones with a slow envelope and a high one), computed. */
export function speech16(samples = 32000): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => {
    const t = i / 16000;
    const v =
      0.4 * Math.sin(2 * Math.PI * 440 * t) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 1.5 * t)) +
      0.2 * Math.sin(2 * Math.PI * 1230 * t) +
      0.1 * Math.sin(2 * Math.PI * 3100 * t);
    return Math.round(v * 32767);
  });
}
