/**
 * The MP4/MOV file writer behind the remux session's sink seam: `ftyp`, then a streaming `mdat` (64-bit size
 * reserved at the start and patched at the end), then `moov`. Sample bytes are handed to `writev` as the views they
 * arrive as (length-prefixed NAL units; views that touch in memory merged into one entry): nothing is joined or copied
 * on the way to the file, and only the sample tables stay in memory (typed arrays, lib/media/mp4/tables.ts).
 *
 * Each addVideo() is one chunk of video samples, followed by one chunk of the audio packets received since (so
 * audio and video are interleaved at the read size, ~1 MiB). Writes are positional: the file position is ours.
 */
import * as fs from 'node:fs/promises';
import type { AudioSample, AudioTrackConfig, MuxSink, VideoSample, VideoTrackConfig } from '../mux-sink.js';
import { PTS_HZ } from '../timestamps.js';
import {
  audioEntryKind,
  flacMetadataBlocks,
  ftyp,
  MDAT_HEADER_SIZE,
  mdatHeader,
  moov,
  Mp4ConfigError,
  VIDEO_TIMESCALE,
  type Container,
  type MovieTrack,
} from './boxes.js';
import { TrackTables } from './tables.js';

/** Buffers per writev call (IOV_MAX is 1024 on Linux). */
const MAX_IOV = 1024;
/** Audio waiting for the next video chunk is written on its own beyond this. */
const MAX_PENDING_AUDIO_BYTES = 1024 * 1024;

export interface Mp4WriterOptions {
  container: Container;
  /** Text stored as the movie's comment tag. */
  marker?: string;
  /** Creation/modification time of the movie and its tracks; default: now. */
  creationTime?: Date;
}

export class Mp4FileWriter implements MuxSink {
  private fh: fs.FileHandle | null = null;
  private pos = 0;
  private mdatStart = 0;
  private video: { config: VideoTrackConfig; tables: TrackTables } | null = null;
  private audio: { config: AudioTrackConfig; tables: TrackTables; channels: number } | null = null;
  private pendingAudio: Uint8Array[] = [];
  private pendingAudioBytes = 0;
  private pendingAudioSamples = 0;

  constructor(
    private readonly file: string,
    private readonly opts: Mp4WriterOptions,
  ) {}

  async open(video: VideoTrackConfig, audio?: AudioTrackConfig): Promise<void> {
    if (this.fh) throw new Error('Mp4FileWriter: open() twice');
    if (audio) this.declareAudio(audio);
    this.video = { config: video, tables: new TrackTables() };
    this.fh = await fs.open(this.file, 'w');
    const head = ftyp(this.opts.container, video.codec);
    this.mdatStart = head.length;
    await this.writeAll([head, mdatHeader(0)]);
    this.pos = head.length + MDAT_HEADER_SIZE;
  }

  private declareAudio(config: AudioTrackConfig): void {
    const kind = audioEntryKind(config.codec);
    const pcm = kind === 'alaw' || kind === 'ulaw';
    if (pcm && this.opts.container !== 'mov') throw new Mp4ConfigError(`G.711 ${kind} needs the mov container`);
    if (kind === 'flac') flacMetadataBlocks(config.description); // throws on a missing or malformed STREAMINFO
    if (!(config.sampleRate > 0) || !(config.numberOfChannels > 0))
      throw new Mp4ConfigError(`audio ${config.sampleRate} Hz, ${config.numberOfChannels} channels`);
    const channels = config.numberOfChannels;
    this.audio = { config, tables: new TrackTables(pcm ? channels : 0), channels };
  }

  async addVideo(samples: VideoSample[]): Promise<void> {
    const v = this.video;
    if (!v || !this.fh) throw new Error('Mp4FileWriter: addVideo() before open()');
    const iov: Uint8Array[] = [];
    let bytes = 0;
    // Parts that follow each other in memory (the assembler lays the frames of a chunk out back to back, length
    // fields in place) become one iov entry: a chunk is usually a handful of writev buffers, not one per NAL.
    let run: Uint8Array | null = null;
    let runEnd = 0;
    let runLength = 0;
    // Index loops: for-of over typed and plain arrays allocated an iterator result per element in this async method.
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      for (let j = 0; j < s.parts.length; j++) {
        const p = s.parts[j]!;
        if (run && p.buffer === run.buffer && p.byteOffset === runEnd) {
          runEnd += p.length;
          runLength += p.length;
          continue;
        }
        if (run) iov.push(runLength === run.length ? run : new Uint8Array(run.buffer, run.byteOffset, runLength));
        run = p;
        runEnd = p.byteOffset + p.length;
        runLength = p.length;
      }
      v.tables.add(s.size, s.ticks, s.key);
      bytes += s.size;
    }
    if (run) iov.push(runLength === run.length ? run : new Uint8Array(run.buffer, run.byteOffset, runLength));
    const at = this.pos;
    v.tables.addChunk(at, samples.length);
    this.pos += bytes;
    this.takeAudio(iov);
    await this.writeAll(iov, at);
  }

  /** Appends the pending audio packets to `iov` as one chunk (positions advance). */
  private takeAudio(iov: Uint8Array[]): void {
    const a = this.audio;
    if (!a || this.pendingAudio.length === 0) return;
    a.tables.addChunk(this.pos, this.pendingAudioSamples);
    for (let i = 0; i < this.pendingAudio.length; i++) iov.push(this.pendingAudio[i]!);
    this.pos += this.pendingAudioBytes;
    this.pendingAudio = [];
    this.pendingAudioBytes = 0;
    this.pendingAudioSamples = 0;
  }

  /** Queues the packet; a promise only when it writes (see MuxSink). A refused config is a rejected promise. */
  addAudio(packet: AudioSample, config?: AudioTrackConfig): Promise<void> | undefined {
    try {
      return this.queueAudio(packet, config);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private queueAudio(packet: AudioSample, config?: AudioTrackConfig): Promise<void> | undefined {
    if (!this.audio) {
      if (!config) throw new Error('Mp4FileWriter: the first audio packet needs its decoder config');
      this.declareAudio(config);
    }
    const a = this.audio!;
    const rate = a.config.sampleRate;
    const time = Math.round((packet.ticks * rate) / PTS_HZ);
    if (a.tables.fixedSize) {
      const n = Math.floor(packet.data.length / a.channels);
      if (n === 0) return undefined;
      a.tables.addFixed(n, time);
      this.pendingAudioSamples += n;
      this.pushPending(packet.data.subarray(0, n * a.channels));
    } else {
      a.tables.add(packet.data.length, time, true);
      a.tables.lastDuration = Math.round((packet.durationTicks * rate) / PTS_HZ);
      this.pendingAudioSamples++;
      this.pushPending(packet.data);
    }
    if (this.pendingAudioBytes > MAX_PENDING_AUDIO_BYTES && this.fh) {
      const iov: Uint8Array[] = [];
      const at = this.pos;
      this.takeAudio(iov);
      return this.writeAll(iov, at);
    }
    return undefined;
  }

  private pushPending(data: Uint8Array): void {
    this.pendingAudio.push(data);
    this.pendingAudioBytes += data.length;
  }

  async finish(lastVideoDurationTicks: number): Promise<number> {
    const v = this.video;
    if (!v || !this.fh) throw new Error('Mp4FileWriter: finish() before open()');
    const iov: Uint8Array[] = [];
    const at = this.pos;
    this.takeAudio(iov);
    if (iov.length > 0) await this.writeAll(iov, at);
    v.tables.lastDuration = lastVideoDurationTicks;
    const tracks: MovieTrack[] = [{ id: 1, timescale: VIDEO_TIMESCALE, tables: v.tables, video: v.config }];
    // An audio track that never got a sample is left out (as an empty track it only confuses players).
    if (this.audio && this.audio.tables.sampleCount > 0) {
      tracks.push({
        id: 2,
        timescale: this.audio.config.sampleRate,
        tables: this.audio.tables,
        audio: this.audio.config,
      });
    }
    const movie = moov({
      container: this.opts.container,
      creationTime: Math.floor((this.opts.creationTime ?? new Date()).getTime() / 1000),
      tracks,
      ...(this.opts.marker !== undefined ? { marker: this.opts.marker } : {}),
    });
    const mdatEnd = this.pos;
    await this.writeAll([movie], mdatEnd);
    await this.writeAll([mdatHeader(mdatEnd - this.mdatStart)], this.mdatStart);
    const fh = this.fh;
    this.fh = null;
    await fh.close();
    return mdatEnd + movie.length;
  }

  /** Whether the file got an audio track with samples. */
  get audioWritten(): boolean {
    return (this.audio?.tables.sampleCount ?? 0) > 0;
  }

  async abandon(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => undefined);
  }

  /** Writes every byte of `bufs` at `position` (default: the start of the file for the header). */
  private async writeAll(bufs: Uint8Array[], position = 0): Promise<void> {
    const fh = this.fh!;
    let i = 0;
    let at = position;
    while (i < bufs.length) {
      const batch = bufs.slice(i, i + MAX_IOV);
      let want = 0;
      for (const b of batch) want += b.length;
      let done = 0;
      while (done < want) {
        const rest = done === 0 ? batch : remainder(batch, done);
        const { bytesWritten } = await fh.writev(rest, at + done);
        if (bytesWritten === 0) {
          throw Object.assign(new Error(`no byte written to ${this.file} at ${at + done}`), { code: 'ENOSPC' });
        }
        done += bytesWritten;
      }
      at += want;
      i += MAX_IOV;
    }
  }
}

/** The buffers of `bufs` after its first `skip` bytes (views, no copies). */
function remainder(bufs: Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const b of bufs) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}
