/**
 * A Hikvision-style MPEG-2 Program Stream muxer (ISO/IEC 13818-1 section 2.5), pure: values in, Buffers out.
 *
 * What it copies from camera streams, on purpose, because readers must cope with it:
 * - a pack header before every frame (video and audio), whose 4 stuffing bytes are a running counter, not 0xFF;
 * - a system header and a program stream map (with "HK" descriptors and a real CRC32) before every key frame;
 * - ONE NAL unit per video PES, 4-byte start codes, a large NAL spread over several PES packets;
 * - a PTS only on the first PES of each frame (DTS = PTS: no B-frames), a few stuffing bytes in PES headers;
 * - now and then a private stream 1 (0xBD) PES that readers must skip;
 * - PTS values that wrap at 2^33 and may jump.
 *
 * For readers' tests it also writes what other muxers and firmware do (PsMuxer.annexBStream and the encoders): a
 * whole Annex-B elementary stream with PES boundaries anywhere (not per NAL, even inside a frame so that a PES
 * starts with the tail of the previous frame), padding packets (0xBE), a declared stream type that is not the
 * codec's (an unsupported codec), MPEG-1 PES syntax and program stream maps of any streams.
 */
import type { AccessUnit, VideoCodec } from './es-reader.js';
import type { AudioCodec, AudioFrames } from './audio-frames.js';
import { createRng } from './rng.js';

export const PTS_MODULO = 2 ** 33;
/** 90 kHz ticks per frame at the fixtures' 25 fps. */
export const FRAME_TICKS_25FPS = 3600;

export const VIDEO_STREAM_ID = 0xe0;
export const AUDIO_STREAM_ID = 0xc0;
export const PRIVATE_STREAM_1_ID = 0xbd;

export const STREAM_TYPE: Readonly<Record<VideoCodec | AudioCodec, number>> = {
  h264: 0x1b,
  h265: 0x24,
  aac: 0x0f,
  alaw: 0x90,
  ulaw: 0x91,
  // No public document names G.726's value; 0x96 is what hiksync's reader takes for it (docs/audio.md).
  g726: 0x96,
  // G.722.1: the GB/T 28181 program-stream value (docs/audio.md).
  g7221: 0x92,
  // MPEG audio: 0x03 is ISO/IEC 11172-3 (MPEG-1 rates), 0x04 ISO/IEC 13818-3 (the low rates of the fixtures, 16 kHz);
  // encodeProgramStreamMap picks by the sample rate.
  mp2: 0x04,
  mp3: 0x04,
  // No public document names a PS stream type for Hikvision's PCM; 0x9A is hiksync's guess (docs/audio.md).
  pcm: 0x9a,
};

/** The stream type of an audio codec at a rate: MPEG audio at 32 kHz and up is MPEG-1 (0x03). */
export function audioStreamType(codec: AudioCodec, sampleRate: number | undefined): number {
  if ((codec === 'mp2' || codec === 'mp3') && (sampleRate ?? 0) >= 32000) return 0x03;
  return STREAM_TYPE[codec];
}

/** Largest PES payload the 16-bit PES_packet_length allows with our longest header (3 + 5 PTS + 8 stuffing). */
export const MAX_PES_PAYLOAD = 0xffff - 16;

/** program_mux_rate (units of 50 bytes/s) written when the options name none. */
export const DEFAULT_MUX_RATE = 6106;

export const PADDING_STREAM_ID = 0xbe;

const START_CODE_4 = Buffer.from([0, 0, 0, 1]);

export interface PsMuxOptions {
  video: VideoCodec;
  audio: AudioCodec | 'none';
  /** Largest payload of one PES packet; NAL units longer than this are split. 256..MAX_PES_PAYLOAD. */
  maxPesPayload: number;
  /** Stuffing bytes in every PES header (0..8). Hikvision pads PES headers; readers must honour the length. */
  pesStuffing?: number;
  /** program_mux_rate in units of 50 bytes/s (22 bits). */
  muxRate?: number;
  /** Start value of the counter kept in the pack header stuffing bytes. */
  packCounter?: number;
  /** Emit a private stream 1 PES after every n-th video frame (0 = never). */
  privateEvery?: number;
  /** Emit a padding stream (0xBE) packet after every n-th video frame (0 = never, as Hikvision). */
  paddingEvery?: number;
  /** Seed for the private payload bytes. */
  privateSeed?: number;
  /** Picture size written in the Hikvision-like video descriptor (informative only). */
  width?: number;
  height?: number;
  /** Audio sample rate written in the audio descriptor (informative only). */
  sampleRate?: number;
  /**
   * stream_type declared for the video stream in the program stream map; default: the codec's (0x1B, 0x24).
   * Another value (e.g. 0x10, MPEG-4 Visual) models a camera whose codec readers do not support.
   */
  videoStreamType?: number;
}

/** The options the program stream map is made from. */
export type StreamMapOptions = Pick<
  PsMuxOptions,
  'video' | 'audio' | 'width' | 'height' | 'sampleRate' | 'videoStreamType'
>;

/** Write a 33-bit timestamp in the 5-byte PTS/SCR-style layout with the given 4-bit prefix. */
function writeTimestamp(out: Buffer, at: number, prefix: number, ts: number): void {
  const v = ((ts % PTS_MODULO) + PTS_MODULO) % PTS_MODULO;
  const hi = Math.floor(v / 2 ** 30); // bits 32..30
  const mid = Math.floor(v / 2 ** 15) & 0x7fff; // bits 29..15
  const lo = v & 0x7fff; // bits 14..0
  out[at] = (prefix << 4) | (hi << 1) | 1;
  out[at + 1] = mid >> 7;
  out[at + 2] = ((mid & 0x7f) << 1) | 1;
  out[at + 3] = lo >> 7;
  out[at + 4] = ((lo & 0x7f) << 1) | 1;
}

/**
 * MPEG-2 pack header: 14 bytes plus 4 stuffing bytes carrying `counter` (big-endian), after `padding` (0..3) 0xFF
 * stuffing bytes (some firmware writes FF FF + counter: readers must honour pack_stuffing_length).
 */
export function encodePackHeader(scr: number, muxRate: number, counter: number, padding = 0): Buffer {
  if (!Number.isInteger(padding) || padding < 0 || padding > 3) {
    throw new RangeError(`padding must be 0..3, got ${padding}`);
  }
  const out = Buffer.alloc(18 + padding);
  out.writeUInt32BE(0x000001ba, 0);
  const base = ((scr % PTS_MODULO) + PTS_MODULO) % PTS_MODULO;
  const ext = 0; // SCR extension (27 MHz remainder): cameras write 0
  const hi = Math.floor(base / 2 ** 30);
  const mid = Math.floor(base / 2 ** 15) & 0x7fff;
  const lo = base & 0x7fff;
  // '01' SCR[32..30] 1 SCR[29..28] | SCR[27..20] | SCR[19..15] 1 SCR[14..13] | SCR[12..5] | SCR[4..0] 1 ext[8..7] | ext[6..0] 1
  out[4] = 0x40 | (hi << 3) | 0x04 | (mid >> 13);
  out[5] = (mid >> 5) & 0xff;
  out[6] = ((mid & 0x1f) << 3) | 0x04 | (lo >> 13);
  out[7] = (lo >> 5) & 0xff;
  out[8] = ((lo & 0x1f) << 3) | 0x04 | (ext >> 7);
  out[9] = ((ext & 0x7f) << 1) | 1;
  const rate = muxRate & 0x3fffff;
  out[10] = rate >> 14;
  out[11] = (rate >> 6) & 0xff;
  out[12] = ((rate & 0x3f) << 2) | 0x03;
  out[13] = 0xf8 | (4 + padding); // reserved '11111', pack_stuffing_length
  out.fill(0xff, 14, 14 + padding);
  out.writeUInt32BE(counter >>> 0, 14 + padding);
  return out;
}

/** System header listing one video and (optionally) one audio stream. */
export function encodeSystemHeader(muxRate: number, hasAudio: boolean): Buffer {
  const streams = hasAudio ? 2 : 1;
  const out = Buffer.alloc(12 + 3 * streams);
  out.writeUInt32BE(0x000001bb, 0);
  out.writeUInt16BE(6 + 3 * streams, 4);
  const rate = muxRate & 0x3fffff;
  out[6] = 0x80 | (rate >> 15);
  out[7] = (rate >> 7) & 0xff;
  out[8] = ((rate & 0x7f) << 1) | 1;
  out[9] = ((hasAudio ? 1 : 0) << 2) | 0; // audio_bound, fixed_flag 0, CSPS_flag 0
  out[10] = 0x80 | 0x40 | 0x20 | 1; // audio lock, video lock, marker, video_bound 1
  out[11] = 0x7f; // packet_rate_restriction_flag 0, reserved
  // P-STD buffers: video 232 x 1024 bytes, audio 32 x 128 bytes.
  out[12] = VIDEO_STREAM_ID;
  out[13] = 0xc0 | 0x20 | (232 >> 8);
  out[14] = 232 & 0xff;
  if (hasAudio) {
    out[15] = AUDIO_STREAM_ID;
    out[16] = 0xc0 | (32 >> 8);
    out[17] = 32 & 0xff;
  }
  return out;
}

/** CRC-32/MPEG-2: polynomial 0x04C11DB7, initial 0xFFFFFFFF, no reflection, no final xor. */
export function crc32Mpeg2(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte << 24;
    for (let k = 0; k < 8; k++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

function descriptor(tag: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag, body.length]), body]);
}

/** The "HK" device descriptors (tags 0x40, 0x41) Hikvision puts in program_stream_info. */
export function hikvisionProgramInfo(): Buffer {
  const hk40 = Buffer.from([0x48, 0x4b, 0x01, 0x00, 0x14, 0x1b, 0x4c, 0x5c, 0x6f, 0x78, 0x00, 0xff, 0xff, 0xff]);
  const hk41 = Buffer.alloc(18);
  hk41.write('HK', 0, 'latin1');
  for (let i = 2; i < 18; i++) hk41[i] = i - 1;
  return Buffer.concat([descriptor(0x40, hk40), descriptor(0x41, hk41)]);
}

/**
 * Program stream map with Hikvision-like descriptors: "HK" device descriptors (tags 0x40, 0x41) in
 * program_stream_info, a video descriptor (0x42, picture size) and an audio descriptor (0x43, sample rate).
 * Readers only need stream_type and elementary_stream_id; the CRC32 is valid so strict parsers accept it.
 */
export function encodeProgramStreamMap(opts: StreamMapOptions, version = 0): Buffer {
  const videoDesc = Buffer.alloc(14);
  videoDesc.writeUInt16BE(0, 0);
  videoDesc.writeUInt16BE(opts.width ?? 0, 2);
  videoDesc.writeUInt16BE(opts.height ?? 0, 4);
  videoDesc.writeUInt32BE(0x11300000 | (opts.video === 'h265' ? 0x2 : 0x1), 6);
  videoDesc.writeUInt32BE(0x1c210fc0, 10);
  const videoType = opts.videoStreamType ?? STREAM_TYPE[opts.video];
  const entries: StreamMapEntry[] = [
    { streamType: videoType, streamId: VIDEO_STREAM_ID, info: descriptor(0x42, videoDesc) },
  ];
  if (opts.audio !== 'none') {
    const audioDesc = Buffer.alloc(10);
    audioDesc.writeUInt16BE(0, 0);
    audioDesc.writeUInt16BE(opts.audio === 'aac' ? 0xfe00 : 0x9000, 2);
    audioDesc.writeUInt32BE(opts.sampleRate ?? 8000, 4);
    audioDesc.writeUInt16BE(0x03ff, 8);
    const streamType = audioStreamType(opts.audio, opts.sampleRate);
    entries.push({ streamType, streamId: AUDIO_STREAM_ID, info: descriptor(0x43, audioDesc) });
  }
  return encodeStreamMap(entries, hikvisionProgramInfo(), version);
}

/** One elementary stream listed in a program stream map. */
export interface StreamMapEntry {
  streamType: number;
  streamId: number;
  /** Its descriptors (default none). */
  info?: Uint8Array;
}

/** Program stream map listing `entries` (any stream types and ids), with a valid CRC32. */
export function encodeStreamMap(
  entries: readonly StreamMapEntry[],
  programInfo: Uint8Array = Buffer.alloc(0),
  version = 0,
): Buffer {
  const esMap = Buffer.concat(entries.map((e) => esEntry(e.streamType, e.streamId, e.info ?? Buffer.alloc(0))));
  const bodyLength = 2 + 2 + programInfo.length + 2 + esMap.length + 4;
  const out = Buffer.alloc(6 + bodyLength);
  let p = 0;
  p = out.writeUInt32BE(0x000001bc, p);
  p = out.writeUInt16BE(bodyLength, p);
  out[p++] = 0x80 | 0x60 | (version & 0x1f); // current_next_indicator 1, reserved, program_stream_map_version
  out[p++] = 0xff; // reserved 7 bits, marker
  p = out.writeUInt16BE(programInfo.length, p);
  p += Buffer.from(programInfo).copy(out, p);
  p = out.writeUInt16BE(esMap.length, p);
  p += esMap.copy(out, p);
  out.writeUInt32BE(crc32Mpeg2(out.subarray(0, p)), p);
  return out;
}

function esEntry(streamType: number, streamId: number, info: Uint8Array): Buffer {
  const head = Buffer.from([streamType, streamId, info.length >> 8, info.length & 0xff]);
  return Buffer.concat([head, info]);
}

/**
 * One PES packet with the MPEG-2 optional header. `pts` undefined = no PTS. `stuffing` bytes pad the header
 * (0xFF, the last one carrying a small counter as Hikvision does: readers must skip by PES_header_data_length).
 */
export function encodePes(
  streamId: number,
  payload: Uint8Array,
  pts: number | undefined,
  stuffing = 0,
  tag = 0,
): Buffer {
  const headerData = (pts === undefined ? 0 : 5) + stuffing;
  const packetLength = 3 + headerData + payload.length;
  if (packetLength > 0xffff) throw new RangeError(`PES packet of ${packetLength} bytes exceeds 65535`);
  const out = Buffer.alloc(6 + packetLength);
  out.writeUInt32BE(0x00000100 | streamId, 0);
  out.writeUInt16BE(packetLength, 4);
  out[6] = 0x80 | (pts === undefined ? 0 : 0x04) | 0x08; // '10', data_alignment on timed PES, copyright
  out[7] = pts === undefined ? 0x00 : 0x80;
  out[8] = headerData;
  let p = 9;
  if (pts !== undefined) {
    writeTimestamp(out, p, 0x2, pts);
    p += 5;
  }
  for (let k = 0; k < stuffing; k++) out[p++] = k === stuffing - 1 ? 0xf8 | (tag & 0x07) : 0xff;
  Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).copy(out, p);
  return out;
}

/** A PES packet in MPEG-1 syntax (ISO/IEC 11172-1): one stuffing byte, then '0010' + PTS, or 0x0F without one. */
export function encodePesMpeg1(streamId: number, payload: Uint8Array, pts?: number): Buffer {
  const header = Buffer.alloc(pts === undefined ? 2 : 6);
  header[0] = 0xff;
  if (pts === undefined) header[1] = 0x0f;
  else writeTimestamp(header, 1, 0x2, pts);
  const packetLength = header.length + payload.length;
  if (packetLength > 0xffff) throw new RangeError(`PES packet of ${packetLength} bytes exceeds 65535`);
  const out = Buffer.alloc(6 + packetLength);
  out.writeUInt32BE(0x00000100 | streamId, 0);
  out.writeUInt16BE(packetLength, 4);
  header.copy(out, 6);
  Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).copy(out, 6 + header.length);
  return out;
}

/** A padding stream packet: `length` bytes of 0xFF right after PES_packet_length (padding has no PES header). */
export function encodePadding(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw new RangeError(`padding of ${length} bytes`);
  const out = Buffer.alloc(6 + length, 0xff);
  out.writeUInt32BE(0x00000100 | PADDING_STREAM_ID, 0);
  out.writeUInt16BE(length, 4);
  return out;
}

/** One frame (access unit) of an Annex-B elementary stream, in decode order: its bytes as they are. */
export interface AnnexBFrame {
  /** Start codes included; the bytes are written unchanged. */
  data: Uint8Array;
  key: boolean;
  /** 90 kHz, written modulo 2^33. */
  pts: number;
}

/** An audio packet (one ADTS frame, one G.711 block) and its 90 kHz PTS. */
export interface AudioPacket {
  data: Uint8Array;
  pts: number;
}

/** Where PsMuxer.annexBStream puts PES boundaries, and the audio it interleaves. */
export interface AnnexBLayout {
  /**
   * Largest payload of one video PES, 1..MAX_PES_PAYLOAD; default: the muxer's maxPesPayload. Values below what
   * any camera writes are allowed here: they stress readers.
   */
  pesPayload?: number;
  /**
   * Where video PES packets begin. 'frame' (default): at every frame start (then every pesPayload bytes).
   * 'shifted': `shift` bytes BEFORE every frame start, so each PES begins with the tail of the previous frame and
   * carries the PTS of the frame that starts inside it (readers must assign a PTS by elementary-stream position).
   */
  cut?: 'frame' | 'shifted';
  /** Bytes for 'shifted' (>= 1, default 7). */
  shift?: number;
  /** Audio packets in time order; each goes out after the video frame it follows (PTS compared as given). */
  audio?: readonly AudioPacket[];
}

/**
 * Stateful only for the counters a camera keeps running (pack stuffing counter, PES tag, private data): each
 * call returns the bytes of one frame. No I/O.
 */
export class PsMuxer {
  readonly options: Readonly<Required<PsMuxOptions>>;
  private packCounter: number;
  private videoFrames = 0;
  private readonly privateRng;

  constructor(options: PsMuxOptions) {
    const o: Required<PsMuxOptions> = {
      pesStuffing: 3,
      muxRate: DEFAULT_MUX_RATE,
      packCounter: 0,
      privateEvery: 0,
      paddingEvery: 0,
      privateSeed: 0,
      width: 0,
      height: 0,
      sampleRate: 0,
      videoStreamType: STREAM_TYPE[options.video],
      ...options,
    };
    if (!Number.isInteger(o.maxPesPayload) || o.maxPesPayload < 256 || o.maxPesPayload > MAX_PES_PAYLOAD) {
      throw new RangeError(`maxPesPayload must be an integer in 256..${MAX_PES_PAYLOAD}, got ${o.maxPesPayload}`);
    }
    if (!Number.isInteger(o.pesStuffing) || o.pesStuffing < 0 || o.pesStuffing > 8) {
      throw new RangeError(`pesStuffing must be 0..8, got ${o.pesStuffing}`);
    }
    if (!Number.isInteger(o.muxRate) || o.muxRate < 1 || o.muxRate > 0x3fffff) {
      throw new RangeError(`muxRate must be 1..${0x3fffff}, got ${o.muxRate}`);
    }
    this.options = o;
    this.packCounter = o.packCounter >>> 0;
    this.privateRng = createRng(o.privateSeed, 'private-stream');
  }

  private packHeader(pts: number): Buffer {
    const header = encodePackHeader(pts, this.options.muxRate, this.packCounter);
    this.packCounter = (this.packCounter + 1) >>> 0;
    return header;
  }

  /** Bytes of one video frame: pack header, [system header + PSM if key], one PES per NAL (split when long). */
  videoFrame(nals: readonly Uint8Array[], key: boolean, pts: number): Buffer {
    const o = this.options;
    const parts: Buffer[] = [this.packHeader(pts)];
    if (key) parts.push(encodeSystemHeader(o.muxRate, o.audio !== 'none'), encodeProgramStreamMap(o));
    let first = true;
    for (const nal of nals) {
      const body = Buffer.concat([START_CODE_4, nal]);
      for (let at = 0; at < body.length; at += o.maxPesPayload) {
        const chunk = body.subarray(at, Math.min(body.length, at + o.maxPesPayload));
        parts.push(encodePes(VIDEO_STREAM_ID, chunk, first ? pts : undefined, o.pesStuffing, this.packCounter));
        first = false;
      }
    }
    this.endFrame(parts);
    return Buffer.concat(parts);
  }

  /** Counts a video frame and adds the private / padding packets due after it. */
  private endFrame(parts: Buffer[]): void {
    const o = this.options;
    this.videoFrames++;
    if (o.privateEvery > 0 && this.videoFrames % o.privateEvery === 0) parts.push(this.privatePes());
    if (o.paddingEvery > 0 && this.videoFrames % o.paddingEvery === 0) parts.push(encodePadding(20));
  }

  /**
   * Bytes of a whole Annex-B elementary stream (`frames` in decode order, written unchanged) cut into PES packets
   * where `layout` says, not per NAL. Every PES in which a frame starts carries that frame's PTS and follows a pack
   * header (with the system header and the program stream map for a key frame and for the first frame); after
   * each frame come the private / padding packets due and the audio packets timed before the next frame.
   */
  annexBStream(frames: readonly AnnexBFrame[], layout: AnnexBLayout = {}): Buffer {
    const o = this.options;
    const pesPayload = layout.pesPayload ?? o.maxPesPayload;
    if (!Number.isInteger(pesPayload) || pesPayload < 1 || pesPayload > MAX_PES_PAYLOAD) {
      throw new RangeError(`pesPayload must be an integer in 1..${MAX_PES_PAYLOAD}, got ${pesPayload}`);
    }
    const shift = layout.cut === 'shifted' ? (layout.shift ?? 7) : 0;
    if (layout.cut === 'shifted' && (!Number.isInteger(shift) || shift < 1)) {
      throw new RangeError(`shift must be a positive integer, got ${shift}`);
    }
    const es = Buffer.concat(frames.map((f) => f.data));
    const starts: number[] = [];
    for (let at = 0, i = 0; i < frames.length; at += frames[i]!.data.length, i++) starts.push(at);
    const cuts = [...new Set(starts.map((s) => (s === 0 ? 0 : Math.max(0, s - shift))))].sort((a, b) => a - b);

    const parts: Buffer[] = [];
    const audio = layout.audio ?? [];
    let nextAudio = 0;
    const audioBefore = (pts: number): void => {
      for (; nextAudio < audio.length && audio[nextAudio]!.pts < pts; nextAudio++) {
        parts.push(this.audioFrame(audio[nextAudio]!.data, audio[nextAudio]!.pts));
      }
    };
    let next = 0; // the next frame whose start is not written yet
    let open = 0; // frames started and not ended
    for (let c = 0; c < cuts.length; c++) {
      const end = c + 1 < cuts.length ? cuts[c + 1]! : es.length;
      for (let from = cuts[c]!; from < end; from += pesPayload) {
        const to = Math.min(end, from + pesPayload);
        let pts: number | undefined;
        const f = frames[next];
        if (f && starts[next]! < to) {
          // The first frame that starts in [from, to) gives this PES its PTS; another one starting here gets none.
          for (; open > 0; open--) this.endFrame(parts);
          if (next > 0) audioBefore(f.pts);
          parts.push(this.packHeader(f.pts));
          if (f.key || next === 0) {
            parts.push(encodeSystemHeader(o.muxRate, o.audio !== 'none'), encodeProgramStreamMap(o));
          }
          pts = f.pts;
          for (; next < frames.length && starts[next]! < to; next++) open++;
        }
        parts.push(encodePes(VIDEO_STREAM_ID, es.subarray(from, to), pts, o.pesStuffing, this.packCounter));
      }
    }
    for (; open > 0; open--) this.endFrame(parts);
    audioBefore(Infinity);
    return Buffer.concat(parts);
  }

  /** Bytes of one audio frame: its own pack header and one PES with a PTS. */
  audioFrame(data: Uint8Array, pts: number): Buffer {
    if (this.options.audio === 'none') throw new RangeError('audioFrame() on a muxer configured without audio');
    return Buffer.concat([
      this.packHeader(pts),
      encodePes(AUDIO_STREAM_ID, data, pts, this.options.pesStuffing, this.packCounter),
    ]);
  }

  /**
   * Private data as a camera sends it (motion/"smart" metadata). The payload never contains `00 00 01`, so a
   * reader that resynchronises by scanning cannot mistake it for a start code, while a reader that does not
   * skip stream 0xBD still sees foreign bytes.
   */
  private privatePes(): Buffer {
    const length = this.privateRng.int(16, 96);
    const payload = Buffer.alloc(length);
    for (let k = 0; k < length; k++) payload[k] = this.privateRng.int(1, 255);
    payload.write('HKPD', 0, 'latin1');
    return encodePes(PRIVATE_STREAM_1_ID, payload, undefined, 0);
  }
}

export interface ClockJump {
  /** Recording frame at which the PTS clock jumps (audio jumps at the same time). */
  atFrame: number;
  /** Added to every PTS from that frame on (90 kHz ticks, may be negative). */
  delta: number;
}

export interface TimelineOptions {
  mux: PsMuxer;
  /** Source frames (a fixture); recording frame i is source frame (firstFrame + i) % video.length. */
  video: readonly AccessUnit[];
  firstFrame: number;
  frames: number;
  /** PTS of recording frame 0 (any value: it is written modulo 2^33, so a start near 2^33 wraps). */
  firstPts: number;
  frameTicks?: number;
  clockJump?: ClockJump;
  /** Audio source (looped from its first packet); omitted or muxer without audio = no audio. */
  audio?: AudioFrames;
}

export interface MuxChunk {
  /** Recording frame number. */
  frame: number;
  key: boolean;
  /** PTS written for this video frame (already modulo 2^33). */
  pts: number;
  /** Video frame bytes followed by the audio packets whose time falls before the next video frame. */
  bytes: Buffer;
  audioFrames: number;
}

/** Number of audio packets in a recording of `frames` video frames: only whole packets that start inside it. */
export function audioFramesFor(frames: number, audio: AudioFrames, frameTicks = FRAME_TICKS_25FPS): number {
  return Math.ceil((frames * frameTicks) / audio.ticks90k - 1e-9);
}

/**
 * Interleave a recording in time order, one chunk per video frame: the frame, then the audio packets that
 * start at or after it and before the next frame. A chunk that starts a GOP therefore starts with a pack
 * header + system header + PSM, so any GOP boundary is a place a camera may start a new segment.
 */
export function* muxTimeline(opts: TimelineOptions): Generator<MuxChunk> {
  const frameTicks = opts.frameTicks ?? FRAME_TICKS_25FPS;
  const jump = opts.clockJump;
  const ptsAt = (ticks: number): number => {
    const shifted = opts.firstPts + ticks + (jump && ticks >= jump.atFrame * frameTicks ? jump.delta : 0);
    return ((shifted % PTS_MODULO) + PTS_MODULO) % PTS_MODULO;
  };
  const audio = opts.mux.options.audio !== 'none' ? opts.audio : undefined;
  const audioTotal = audio ? audioFramesFor(opts.frames, audio, frameTicks) : 0;
  let nextAudio = 0;
  for (let i = 0; i < opts.frames; i++) {
    const au = opts.video[(opts.firstFrame + i) % opts.video.length]!;
    const pts = ptsAt(i * frameTicks);
    const parts = [opts.mux.videoFrame(au.nals, au.key, pts)];
    const frameEnd = (i + 1) * frameTicks;
    let count = 0;
    while (audio && nextAudio < audioTotal && Math.round(nextAudio * audio.ticks90k) < frameEnd) {
      const t = Math.round(nextAudio * audio.ticks90k);
      parts.push(opts.mux.audioFrame(audio.frames[nextAudio % audio.frames.length]!, ptsAt(t)));
      nextAudio++;
      count++;
    }
    yield {
      frame: i,
      key: au.key,
      pts,
      bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts),
      audioFrames: count,
    };
  }
}
