/**
 * One byte range of a hiv file (raw MPEG-PS) -> one ISO-BMFF file (MP4, or MOV when asked), streamed.
 *
 * Memory stays flat whatever the range size: two reused read buffers, the elementary stream of about one chunk in
 * the access-unit assembler, and the writer's sample tables (moov written at the end; the samples of each read
 * chunk are written as one chunk of the mdat before the next chunk is demuxed: backpressure).
 * The muxer is behind a small seam (lib/media/mux-sink.ts): the session hands over samples as views, the sink
 * (lib/media/mp4/writer.ts) writes them with writev. Each video byte is copied once on the way, from the read
 * buffer into the assembler's buffer where frame boundaries are found; the Annex-B start codes are overwritten in
 * place by the 4-byte length fields (a separate field only after a 3-byte start code), no frame is joined into a
 * buffer of its own.
 * Why moov at the end: a front moov needs the tables before the samples (a bound on the sample count fails when a
 * smart codec varies the frame rate); moov-at-end plays everywhere that matters for files.
 */
import { avcDecoderConfig, DecoderConfigError, hevcDecoderConfig, lengthPrefixedNals } from './decoder-config.js';
import { giveBuffers, POOLED_SIZE, takeBuffer } from './buffer-pool.js';
import { Mp4FileWriter } from './mp4/writer.js';
import type { AudioTrackConfig, MuxSink, VideoSample } from './mux-sink.js';
import { AccessUnitAssembler, type AccessUnit } from './access-units.js';
import { AdtsFramer, audioSpecificConfig, type AacFrame } from './adts.js';
import { AbortError, BadContentError, NoVideoError, TruncatedSourceError, UnsupportedCodecError } from '../errors.js';
import { H264, H265, nalType, type VideoCodec } from './nal.js';
import { packHeaderAt, PsDemuxer } from './ps-demux.js';
import { parseH264Sps, parseH265Sps, ParameterSetError, type VideoParams } from './sps.js';
import { AudioTimeline, PTS_HZ, VideoTimeline } from './timestamps.js';
import { isSpeechCodec, speechDecoder, SpeechTranscoder, type SpeechCodec } from './audio/speech-transcoder.js';
import {
  mpegAudioCodec,
  MpegAudioFramer,
  parseMpegAudioHeader,
  sniffMpegAudio,
  type MpegAudioHeader,
} from './audio/mpeg-audio.js';
import { removeQuietly } from '../files.js';
import { pausePoint } from '../pause-points.js';
import { createShareIo, type ShareIo } from '../share-io.js';

export interface RemuxOptions {
  source: string;
  startOffset: number;
  endOffset: number;
  output: string;
  container?: 'mp4' | 'mov';
  /**
   * What happens to the audio (default 'auto'): 'auto' copies AAC and turns the speech codecs (G.711, G.726) into
   * FLAC (lossless) where the container cannot carry them as they are; 'copy' keeps the source codec where the container allows
   * it and drops the track otherwise; 'none' writes the video only.
   */
  audio?: AudioMode;
  /** Read size in bytes; default 1 MiB, at least 1 MiB (two buffers: one is read while the other is demuxed). */
  chunkSize?: number;
  signal?: AbortSignal;
  /** Text stored in the file's metadata (comment tag) so the file can be recognised later. */
  marker?: string;
  /** How the camera share is read (time limit, regular files only); default: the default limit. */
  io?: ShareIo;
  /** Called after each chunk is read and muxed (a watchdog tells a slow task from a stuck one by it). */
  onProgress?: () => void;
  /** Creation and modification time written into the movie and track headers; default: now. */
  creationTime?: Date;
  /** The container writer (tests); default: lib/media/mp4/writer.ts. */
  sink?: (output: string, container: 'mp4' | 'mov', marker: string | undefined, creationTime?: Date) => MuxSink;
}

export type AudioMode = 'auto' | 'copy' | 'none';
export const AUDIO_MODES: readonly AudioMode[] = ['auto', 'copy', 'none'];

export interface RemuxResult {
  videoCodec: 'h264' | 'h265';
  width: number;
  height: number;
  frames: number;
  durationSec: number;
  audioCodec?: AudioCodecName;
  audioKept: boolean;
  audioDropReason?: string;
  /** The codec the audio track was written in when it is not the source's (e.g. 'flac' for G.711 in MP4). */
  audioTranscodedTo?: string;
  bytesRead: number;
  bytesWritten: number;
  /** Raw 90 kHz PTS of the first and the last video frame written (what the index's stamps are checked against). */
  firstPts?: number;
  lastPts?: number;
}

const MIB = 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 1 * MIB;
/** The system header must follow the pack header closely (Hikvision: immediately). */
const SYSTEM_HEADER_WINDOW = 1024;
/** Audio packets kept while waiting for the first key frame; older ones could not be placed anyway. */
const MAX_EARLY_AUDIO = 256;
const G711_RATE = 8000;
/** audioId once the audio stopped for good: no PES stream id has this value. */
const AUDIO_STOPPED = 0x100;

export async function remuxRange(opts: RemuxOptions): Promise<RemuxResult> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const container = opts.container ?? 'mp4';
  const audioMode = opts.audio ?? 'auto';
  if (!Number.isSafeInteger(opts.startOffset) || opts.startOffset < 0)
    throw new RangeError(`bad startOffset ${opts.startOffset}`);
  if (!Number.isSafeInteger(opts.endOffset) || opts.endOffset <= opts.startOffset) {
    throw new RangeError(`bad endOffset ${opts.endOffset} (startOffset ${opts.startOffset})`);
  }
  if (!Number.isSafeInteger(chunkSize) || chunkSize < MIB)
    throw new RangeError(`chunkSize must be an integer >= 1 MiB, got ${chunkSize}`);
  if (container !== 'mp4' && container !== 'mov')
    throw new RangeError(`container must be mp4 or mov, got ${String(container)}`);
  if (!AUDIO_MODES.includes(audioMode))
    throw new RangeError(`audio must be auto, copy or none, got ${String(audioMode)}`);
  throwIfAborted(opts.signal);

  const fh = await (opts.io ?? createShareIo()).open(opts.source);
  let bufs: Buffer[] = [];
  const makeSink = opts.sink ?? defaultSink;
  const session = new RemuxSession(
    opts.output,
    container,
    () => makeSink(opts.output, container, opts.marker, opts.creationTime),
    audioMode,
  );
  try {
    const { size } = await fh.stat();
    if (size < opts.endOffset) {
      throw new TruncatedSourceError(`${opts.source} has ${size} bytes, the range ends at ${opts.endOffset}`);
    }
    // Two read buffers: the next chunk is read while the current one is demuxed and muxed, so the disk and the
    // CPU work at the same time. (The demuxer and the assembler copy what they keep, so a buffer is free again once
    // pushed: the samples written are views of the assembler's buffer, not of the read buffers.)
    const size0 = Math.min(chunkSize, opts.endOffset - opts.startOffset);
    const pooled = chunkSize === POOLED_SIZE;
    bufs = pooled ? [takeBuffer(), takeBuffer()] : [Buffer.allocUnsafe(size0), Buffer.allocUnsafe(size0)];
    const readAt = async (which: number, at: number) => {
      const want = Math.min(size0, opts.endOffset - at);
      const { bytesRead } = await fh.read(bufs[which]!, 0, want, at);
      if (bytesRead === 0)
        throw new TruncatedSourceError(`${opts.source} ended at ${at}, before the range end ${opts.endOffset}`);
      return bufs[which]!.subarray(0, bytesRead);
    };
    let pos = opts.startOffset;
    let which = 0;
    let pending: Promise<Buffer> | undefined = readAt(which, pos);
    let first = true;
    while (pending) {
      throwIfAborted(opts.signal);
      const chunk = await pending;
      pos += chunk.length;
      which ^= 1;
      pending = pos < opts.endOffset ? readAt(which, pos) : undefined;
      // An early failure of the read-ahead is reported when it is awaited, not as an unhandled rejection.
      pending?.catch(() => undefined);
      if (first) {
        checkSegmentStart(chunk, opts.source, opts.startOffset);
        first = false;
      }
      session.push(chunk);
      await session.drain();
      pausePoint('remux-chunk');
      opts.onProgress?.();
    }
    throwIfAborted(opts.signal);
    session.end();
    await session.drain();
    const result = await session.finish();
    // Nothing reads into these buffers any more and every sample is written: the next remux may reuse them.
    giveBuffers([...bufs, ...session.buffers()]);
    return { ...result, bytesRead: pos - opts.startOffset };
  } catch (err) {
    await session.abandon();
    throw err;
  } finally {
    await fh.close();
  }
}

function defaultSink(
  output: string,
  container: 'mp4' | 'mov',
  marker: string | undefined,
  creationTime: Date | undefined,
): MuxSink {
  return new Mp4FileWriter(output, {
    container,
    ...(marker !== undefined ? { marker } : {}),
    ...(creationTime ? { creationTime } : {}),
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError('remux aborted');
}

/** Rule 4 of the storage notes: a pack header (IMKH tolerated before it), then a system header soon after. */
export function checkSegmentStart(bytes: Uint8Array, source: string, offset: number): void {
  const at = packHeaderAt(bytes);
  if (at < 0)
    throw new BadContentError(`no MPEG-2 pack header at ${source}:${offset} (overwritten or half-written data)`);
  const after = at + 14 + (bytes[at + 13]! & 7);
  const window = Buffer.from(
    bytes.buffer,
    bytes.byteOffset + after,
    Math.max(0, Math.min(bytes.length - after, SYSTEM_HEADER_WINDOW)),
  );
  if (window.indexOf(SYSTEM_HEADER) < 0)
    throw new BadContentError(`no system header after the pack header at ${source}:${offset}`);
}
const SYSTEM_HEADER = Buffer.from([0, 0, 1, 0xbb]);

/** The stream's audio codec as its stream type names it ('aac', 'alaw', 'ulaw', 'mp2' ...; free text for others). */
type AudioCodecName = string;

interface QueuedAudio {
  data: Uint8Array;
  pts: number | undefined;
  durationTicks: number;
  aac?: AacFrame;
  /** An MP3 frame copied as it is (its header gives the track's rate and channels). */
  mpeg?: MpegAudioHeader;
}

/** Demuxed and not yet handed to the sink, in demux order (an audio packet is the one with `durationTicks`). */
type Queued = AccessUnit | QueuedAudio;

/** Why a codec hiksync decodes is dropped when it is not transcoded (--audio copy): what --audio auto does instead. */
const NOT_CARRIED: ReadonlyMap<string, string> = new Map([
  ['g726', 'G.726 cannot be stored in MP4/MOV as it is (--audio auto turns it into FLAC)'],
  ['g7221', 'G.722.1 cannot be stored in MP4/MOV as it is (--audio auto turns it into FLAC)'],
  ['mp2', 'MPEG audio layer II (MP2) is not played by browsers from MP4 (--audio auto turns it into FLAC)'],
  ['pcm', '16-bit PCM is not played by browsers from MP4 (--audio auto turns it into FLAC)'],
]);

/** Demux state plus the lazily created sink (container writer) for one remux. */
class RemuxSession {
  private readonly demuxer: PsDemuxer;
  private queue: Queued[] = [];
  /** The queue's other array (reused: drain swaps them), and the samples array handed to the sink. */
  private spareQueue: Queued[] = [];
  private readonly samples: VideoSample[] = [];
  /** The sample objects handed to the sink, reused batch after batch (not one object per frame). */
  private readonly sampleObjects: VideoSample[] = [];
  private videoId = -1;
  private assembler: AccessUnitAssembler | null = null;
  private audioId = -1;
  private audioCodec: AudioCodecName | undefined;
  private adts: AdtsFramer | null = null;
  private mpegFramer: MpegAudioFramer | null = null;
  private earlyAudio: QueuedAudio[] = [];
  private audioPesSeen = false;
  /** Set when the audio cannot be carried whatever the container (e.g. an AAC profile other than LC). */
  private audioUnsupported: string | undefined;
  /** Decodes a speech codec and encodes it to FLAC (audio 'auto' where the container cannot carry the source). */
  private transcoder: SpeechTranscoder | null = null;
  /** Set when the audio is transcoded (stays set when the transcoder stops early: its packets may be queued). */
  private transcoding = false;
  /** The FLAC track's decoder configuration, taken with the transcoder's first packet. */
  private transcodedConfig: AudioTrackConfig | null = null;

  private out: MuxSink | null = null;
  private params: VideoParams | null = null;
  private description: Uint8Array | null = null;
  private timeline = new VideoTimeline();
  private firstPts: number | undefined;
  private lastPts: number | undefined;
  private audioTimeline = new AudioTimeline(this.timeline);
  private frames = 0;
  private lastVideoTicks = 0;
  private audioKept = false;
  private audioStarted = false;
  private audioDropReason: string | undefined;
  private outputTouched = false;

  constructor(
    private readonly outputPath: string,
    private readonly container: 'mp4' | 'mov',
    private readonly makeSink: () => MuxSink,
    private readonly audioMode: AudioMode = 'auto',
  ) {
    this.demuxer = new PsDemuxer({
      pes: (id, _start, pts, dts, data) => this.onPes(id, pts, dts, data),
    });
  }

  push(chunk: Uint8Array): void {
    this.demuxer.push(chunk);
  }

  end(): void {
    this.demuxer.end();
    this.mpegFramer?.end();
    this.transcode(() => this.transcoder?.flush());
    // A closed segment's range ends where the camera finished writing it, on a frame boundary: its last frame is
    // complete unless the last PES packet itself is cut (a range that ends early, a file shorter than the index
    // says). Only then is the last access unit dropped.
    this.assembler?.end({ lastComplete: !this.demuxer.stats.truncatedTail });
  }

  /** One piece of PES payload (a view valid during the call); pts/dts -1 when absent or not the packet's start. */
  private onPes(id: number, ptsOrNone: number, dtsOrNone: number, data: Uint8Array): void {
    const pts = ptsOrNone >= 0 ? ptsOrNone : undefined;
    if (id >= 0xe0) {
      if (this.videoId < 0) this.videoId = id;
      if (id !== this.videoId) return;
      if (!this.assembler) {
        const codec = this.videoCodecFor(id, data);
        if (!codec) return; // cannot tell yet: these bytes precede any parameter set anyway
        this.assembler = new AccessUnitAssembler(codec, (au) => this.queue.push(au), {
          views: true,
          buffer: takeBuffer(),
          // Its spare (views mode) comes from the pool too: a fresh 1 MiB per file lived for the whole file, was
          // promoted to the old generation and stayed as garbage until a full GC (bench/ANALYSIS.md, issue #12).
          allocate: (size) => (size === POOLED_SIZE ? takeBuffer() : Buffer.allocUnsafe(size)),
        });
      }
      this.assembler.push(data, pts, dtsOrNone >= 0 ? dtsOrNone : undefined);
      return;
    }
    if (this.audioMode === 'none') return;
    if (this.audioId < 0) {
      this.audioId = id;
      this.audioCodec = this.audioCodecFor(id, data);
      if (this.wantsTranscode(this.audioCodec)) {
        const t = new SpeechTranscoder(speechDecoder(this.audioCodec), this.audioCodec, (p) => {
          this.transcodedConfig ??= t.decoderConfig;
          this.onAudio(p);
        });
        this.transcoder = t;
        this.transcoding = true;
      }
    }
    if (id !== this.audioId) return;
    this.audioPesSeen = true;
    if (this.audioCodec === 'aac') {
      this.adts ??= new AdtsFramer((f) =>
        this.onAudio({ data: f.data, pts: f.pts, durationTicks: (f.samples * PTS_HZ) / f.sampleRate, aac: f }),
      );
      this.adts.push(data, pts);
    } else if (this.audioCodec === 'mp3') {
      this.mpegFramer ??= new MpegAudioFramer((f) =>
        this.onAudio({
          data: f.data,
          pts: f.pts,
          durationTicks: (f.header.samples * PTS_HZ) / f.header.sampleRate,
          mpeg: f.header,
        }),
      );
      this.mpegFramer.push(data, pts);
    } else if (this.transcoder) {
      const t = this.transcoder;
      this.transcode(() => t.push(data, pts));
    } else if (this.audioCodec === 'alaw' || this.audioCodec === 'ulaw') {
      this.onAudio({ data: Buffer.from(data), pts, durationTicks: (data.length * PTS_HZ) / G711_RATE });
    }
  }

  /**
   * Run a step of the transcoder. Its failure (a decoder refusing its input, the stream changing its sample rate)
   * stops the audio, never the file: the track ends there, or is dropped with the reason when it had not started.
   */
  private transcode(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.transcoder?.close();
      this.transcoder = null;
      this.audioId = AUDIO_STOPPED;
      this.audioUnsupported ??= `${this.audioCodec} -> FLAC failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  /**
   * 'auto': a codec the container cannot carry as it is, or browsers do not play from it, becomes FLAC: G.711 in MP4;
   * G.726, G.722.1, MP2 (layer II) and raw PCM anywhere.
   */
  private wantsTranscode(codec: string): codec is SpeechCodec {
    if (this.audioMode !== 'auto' || !isSpeechCodec(codec)) return false;
    return (codec !== 'alaw' && codec !== 'ulaw') || this.container === 'mp4';
  }

  private onAudio(packet: QueuedAudio): void {
    if (packet.aac && packet.aac.objectType !== 2) {
      // ADTS can only signal object types 1..4; of those MP4 players take AAC-LC only.
      this.audioUnsupported ??= `AAC object type ${packet.aac.objectType} (only AAC-LC is carried)`;
      return;
    }
    if (this.out || (this.assembler !== null && this.assembler.stats.accessUnits > 0)) {
      this.queue.push(packet);
      return;
    }
    this.earlyAudio.push(packet);
    if (this.earlyAudio.length > MAX_EARLY_AUDIO) this.earlyAudio.shift();
  }

  private videoCodecFor(id: number, data: Uint8Array): VideoCodec | null {
    const entry = this.demuxer.streamMap?.entries.find((e) => e.streamId === id);
    if (entry) {
      if (entry.codec === 'h264' || entry.codec === 'h265') return entry.codec;
      throw new UnsupportedCodecError(`video stream 0x${id.toString(16)} is ${entry.codec}, not H.264/H.265`);
    }
    return sniffVideoCodec(data);
  }

  private audioCodecFor(id: number, data: Uint8Array): string {
    const entry = this.demuxer.streamMap?.entries.find((e) => e.streamId === id);
    // MPEG audio (stream types 0x03 / 0x04) names no layer: the first frame header says MP1, MP2 or MP3.
    if (entry) return entry.codec === 'mpeg-audio' ? (mpegLayerOf(data) ?? entry.codec) : entry.codec;
    // No program stream map: ADTS has a recognisable sync word, MPEG audio a frame header followed by another (or
    // filling the PES); raw G.711 / G.726 / PCM bytes have neither and stay unknown (and are dropped).
    if (data.length >= 2 && data[0] === 0xff && (data[1]! & 0xf6) === 0xf0) return 'aac';
    const mpeg = sniffMpegAudio(data);
    return mpeg ? mpegAudioCodec(mpeg.layer) : 'unknown';
  }

  /**
   * Hand everything demuxed so far to the sink: the video samples of the batch as one write. Timelines are advanced
   * in the order the packets were demuxed (audio is placed through the latest video frame).
   */
  async drain(): Promise<void> {
    // Synchronous per item: an await per frame or packet (and a for-of iterator across awaits) was the largest
    // allocator of the worker (a promise and an async frame per item). Only opening the file and the sink's
    // occasional writes are awaited.
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = this.spareQueue;
      const samples = this.samples;
      samples.length = 0;
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i]!;
        if (!('durationTicks' in item)) {
          if (!this.out) await this.open(item);
          samples.push(this.videoSample(item, samples.length));
          if (this.frames === 1) {
            // The audio that came before the first frame goes on the timeline right after it.
            const early = this.earlyAudio;
            this.earlyAudio = [];
            for (let j = 0; j < early.length; j++) {
              const written = this.addAudio(early[j]!);
              if (written) await written;
            }
          }
        } else {
          const written = this.addAudio(item);
          if (written) await written;
        }
      }
      batch.length = 0;
      this.spareQueue = batch;
      if (samples.length > 0) await this.out!.addVideo(samples);
      samples.length = 0;
    }
    // Every access unit handed out is written: the assembler may reuse its bytes.
    this.assembler?.release();
  }

  /** The `index`-th sample of this batch, in a reused object (the sink is done with it once addVideo settles). */
  private videoSample(au: AccessUnit, index: number): VideoSample {
    if (au.pts !== undefined) {
      this.firstPts ??= au.pts;
      this.lastPts = au.pts;
    }
    const ticks = this.timeline.next(au.pts);
    this.lastVideoTicks = ticks;
    this.frames++;
    const s = (this.sampleObjects[index] ??= { parts: [], size: 0, key: false, ticks: 0 });
    s.parts = au.parts ?? [au.data];
    s.size = au.size;
    s.key = au.key;
    s.ticks = ticks;
    return s;
  }

  /** Hands a packet to the sink; returns the sink's promise when it writes (rarely), else undefined. */
  private addAudio(a: QueuedAudio): Promise<void> | undefined {
    if (!this.audioKept || !this.out) return undefined;
    const ticks = this.audioTimeline.next(a.pts, a.durationTicks);
    if (ticks === null) return undefined;
    const packet = { data: a.data, ticks, durationTicks: a.durationTicks };
    if (!this.audioStarted) {
      this.audioStarted = true;
      const decoderConfig: AudioTrackConfig = this.transcodedConfig
        ? this.transcodedConfig
        : a.aac
          ? {
              codec: `mp4a.40.${a.aac.objectType}`,
              sampleRate: a.aac.sampleRate,
              numberOfChannels: a.aac.channels,
              description: audioSpecificConfig(a.aac.objectType, a.aac.sampleRate, a.aac.channels),
            }
          : a.mpeg
            ? // MP3 as it is: MPEG-4 systems object type 0x6B (the sample entry's esds), what browsers take.
              { codec: 'mp3', sampleRate: a.mpeg.sampleRate, numberOfChannels: a.mpeg.channels }
            : { codec: this.audioCodec!, sampleRate: G711_RATE, numberOfChannels: 1 };
      return this.out.addAudio(packet, decoderConfig);
    }
    return this.out.addAudio(packet);
  }

  /** Create the output at the first key frame: its parameter sets give the codec string and picture size. */
  private async open(au: AccessUnit): Promise<void> {
    const codec = this.assembler!.codec;
    const config = decoderConfigOf(codec, au.parts ? Buffer.concat(au.parts) : au.data);
    this.params = config.params;
    this.description = config.description;
    if (this.params.fps) this.timeline.frameTicks = Math.round(PTS_HZ / this.params.fps);
    this.decideAudio();
    this.outputTouched = true;
    const out = this.makeSink();
    this.out = out;
    await out.open({ codec, width: this.params.width, height: this.params.height, description: this.description });
  }

  private decideAudio(): void {
    const codec = this.audioCodec;
    if (codec === undefined) return;
    if (!this.audioPesSeen) {
      this.audioDropReason = 'no audio packet before the first video frame';
      return;
    }
    if (this.audioUnsupported) {
      this.audioDropReason = this.audioUnsupported;
      return;
    }
    if (codec === 'aac' || codec === 'mp3' || this.transcoding) {
      this.audioKept = true;
    } else if (codec === 'alaw' || codec === 'ulaw') {
      if (this.container === 'mov') this.audioKept = true;
      else
        this.audioDropReason = `G.711 ${codec === 'alaw' ? 'A-law' : 'mu-law'} cannot be stored in MP4 (the mov container keeps it)`;
    } else {
      this.audioDropReason =
        NOT_CARRIED.get(codec) ??
        `audio codec ${codec} is not supported (no decoder for it here; MP4/MOV cannot carry it as it is)`;
    }
  }

  async finish(): Promise<Omit<RemuxResult, 'bytesRead'>> {
    if (!this.out || !this.params || this.frames === 0) {
      throw new NoVideoError('no key frame with parameter sets in the range');
    }
    if (this.audioCodec !== undefined && !this.audioKept && !this.audioDropReason) {
      this.audioDropReason = 'audio started after the first video frame';
    }
    const size = await this.out.finish(this.timeline.frameTicks);
    const result: Omit<RemuxResult, 'bytesRead'> = {
      videoCodec: this.params.codec,
      width: this.params.width,
      height: this.params.height,
      frames: this.frames,
      durationSec: (this.lastVideoTicks + this.timeline.frameTicks) / PTS_HZ,
      audioKept: this.audioKept && this.audioStarted,
      bytesWritten: size,
    };
    if (this.firstPts !== undefined) result.firstPts = this.firstPts;
    if (this.lastPts !== undefined) result.lastPts = this.lastPts;
    if (this.audioCodec !== undefined) result.audioCodec = this.audioCodec;
    if (this.transcoding && result.audioKept) result.audioTranscodedTo = 'flac';
    if (this.audioCodec !== undefined && !result.audioKept)
      result.audioDropReason = this.audioDropReason ?? 'no audio packet on the video timeline';
    return result;
  }

  /** The assembler's working buffers (only for reuse after finish()). */
  buffers(): Buffer[] {
    return this.assembler?.buffers() ?? [];
  }

  /** After an error or abort: stop the sink and remove whatever it wrote. */
  async abandon(): Promise<void> {
    this.transcoder?.close();
    await this.out?.abandon().catch(() => undefined);
    if (this.outputTouched) await removeQuietly(this.outputPath);
  }
}

/** Decoder parameters from the SPS carried by a key access unit. */
/**
 * Video parameters and the avcC/hvcC record from the first key frame (a length-prefixed access unit carrying its
 * parameter sets). The first SPS decides the size and codec string.
 */
export function decoderConfigOf(codec: VideoCodec, au: Uint8Array): { params: VideoParams; description: Uint8Array } {
  const sets: Record<'vps' | 'sps' | 'pps', Uint8Array[]> = { vps: [], sps: [], pps: [] };
  for (const nal of lengthPrefixedNals(au)) {
    const type = nalType(codec, nal[0]!);
    if (type === (codec === 'h264' ? H264.SPS : H265.SPS)) sets.sps.push(nal);
    else if (type === (codec === 'h264' ? H264.PPS : H265.PPS)) sets.pps.push(nal);
    else if (codec === 'h265' && type === H265.VPS) sets.vps.push(nal);
  }
  if (sets.sps.length === 0) throw new UnsupportedCodecError(`no ${codec} SPS in the first key frame`);
  try {
    const params = codec === 'h264' ? parseH264Sps(sets.sps[0]!) : parseH265Sps(sets.sps[0]!);
    const description =
      codec === 'h264'
        ? avcDecoderConfig(sets.sps, sets.pps, params)
        : hevcDecoderConfig(sets.vps, sets.sps, sets.pps, params);
    return { params, description };
  } catch (err) {
    if (err instanceof ParameterSetError || err instanceof DecoderConfigError) {
      throw new UnsupportedCodecError(`unusable ${codec} parameter sets: ${err.message}`);
    }
    throw err;
  }
}

/** Codec of a video stream without a program stream map, from its first NAL header. */
export function sniffVideoCodec(data: Uint8Array): VideoCodec | null {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const sc = b.indexOf(START3);
  if (sc < 0 || sc + 5 > b.length) return null;
  const h0 = b[sc + 3]!;
  const h1 = b[sc + 4]!;
  if ((h0 & 0x81) === 0 && h1 === 1 && [32, 33, 34, 35, 39].includes((h0 >> 1) & 0x3f)) return 'h265';
  if ((h0 & 0x80) === 0 && [5, 6, 7, 9].includes(h0 & 0x1f)) return 'h264';
  return null;
}
const START3 = Buffer.from([0, 0, 1]);

/** The MPEG audio layer of the first frame header in the first audio payload ('mp1' | 'mp2' | 'mp3'). */
function mpegLayerOf(data: Uint8Array): string | undefined {
  // The payload should start with a frame; a camera that cut one across PES packets starts with its tail.
  const limit = Math.min(data.length - 4, 4096);
  for (let at = 0; at <= limit; at++) {
    const h = parseMpegAudioHeader(data, at);
    if (h) return mpegAudioCodec(h.layer);
  }
  return undefined;
}
