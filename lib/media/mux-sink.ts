/**
 * The seam between the remux session (demux, access units, timelines) and the container writer. The session hands
 * over finished samples; the sink owns the file. Shapes follow what the session has at hand: video samples as lists
 * of byte views (length fields and NAL payloads, never joined), audio packets with the decoder configuration of the
 * first packet in the shape WebCodecs takes it: `{ codec, sampleRate, numberOfChannels, description? }`.
 */

export interface VideoTrackConfig {
  codec: 'h264' | 'h265';
  /** Coded picture size from the SPS. */
  width: number;
  height: number;
  /** avcC / hvcC record (ISO/IEC 14496-15); samples use 4-byte NAL length fields. */
  description: Uint8Array;
}

/**
 * An audio track. `codec`: 'mp4a.40.2' (AAC-LC; any 'mp4a.40.*'), 'mp3' (or 'mp4a.6b'), 'flac', 'alaw', 'ulaw'
 * (G.711: MOV only). `description`: AudioSpecificConfig for AAC; for FLAC the 'fLaC' signature and the metadata
 * blocks, STREAMINFO first (WebCodecs' FLAC description, required); none for the others.
 */
export interface AudioTrackConfig {
  codec: string;
  sampleRate: number;
  numberOfChannels: number;
  description?: Uint8Array;
}

export interface VideoSample {
  /** The sample's bytes in order: views that are valid only until addVideo's promise settles. */
  parts: Uint8Array[];
  /** Sum of the parts' lengths. */
  size: number;
  key: boolean;
  /** Decode (= presentation: no B-frames) time in 90 kHz ticks, first frame at 0. */
  ticks: number;
}

export interface AudioSample {
  /** Owned by the sink from now on (it may keep it until the next write). */
  data: Uint8Array;
  /** 90 kHz ticks on the video's timeline. */
  ticks: number;
  durationTicks: number;
}

export interface MuxSink {
  /** Creates the file. The audio track may instead be declared by the first addAudio(). */
  open(video: VideoTrackConfig, audio?: AudioTrackConfig): Promise<void>;
  /**
   * Writes the samples (one chunk) before it settles: their views may point into buffers reused afterwards, and the
   * sample objects themselves are reused for the next chunk (nothing may keep them).
   */
  addVideo(samples: VideoSample[]): Promise<void>;
  /**
   * `config` with the first packet when open() had none. Usually only queues the packet (returns undefined: no
   * promise per packet); returns a promise when it writes.
   */
  addAudio(packet: AudioSample, config?: AudioTrackConfig): Promise<void> | undefined;
  /** Writes what is pending and the tables; `lastVideoDurationTicks` is the last frame's duration. Returns the file size. */
  finish(lastVideoDurationTicks: number): Promise<number>;
  /** After a failure: closes the file (the caller removes it). */
  abandon(): Promise<void>;
}
