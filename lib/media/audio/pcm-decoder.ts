/**
 * The decoder side of the audio transcoder (speech-transcoder.ts): one PES payload of a codec MP4 cannot carry in,
 * 16-bit PCM out. G.711 (g711.ts) and G.726 (g726.ts) implement it; the transcoder builds its FLAC encoder from the
 * decoder's rate and channel count once the first samples come out.
 */
export interface PcmDecoder {
  /** Source sample rate in Hz and channel count; known once the first decode() returned samples. */
  readonly sampleRate: number;
  readonly channels: number;
  /** One PES payload in; interleaved 16-bit samples out (a view valid until the next call). */
  decode(bytes: Uint8Array): Int16Array;
  /** End of stream: samples still held (may be empty). */
  flush(): Int16Array;
}
