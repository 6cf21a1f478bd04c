export interface PcmDecoder {
  /** Source sample rate in Hz and channel count; known once the first decode() returned samples. */
  readonly sampleRate: number;
  readonly channels: number;
  /** One PES payload in; interleaved 16-bit samples out (a view valid until the next call). */
  decode(bytes: Uint8Array): Int16Array;
  /** End of stream: samples still held (may be empty). */
  flush(): Int16Array;
}
