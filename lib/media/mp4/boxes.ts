/**
 * ISO-BMFF boxes (ISO/IEC 14496-12) for exactly what hiksync writes: `ftyp`, the `mdat` header, and a `moov` with
 * one video track (avc1/hvc1) and at most one audio track (mp4a for AAC and MP3, fLaC for FLAC, and QuickTime's
 * alaw/ulaw in MOV), an edit list for a track that starts later than the movie, and the marker as a comment tag. Pure: values in,
 * bytes out.
 */
import type { AudioTrackConfig, VideoTrackConfig } from '../mux-sink.js';
import { U32_MAX, type TrackTables } from './tables.js';

/** Movie timescale (mvhd, tkhd and edit list durations): milliseconds. */
export const MOVIE_TIMESCALE = 1000;
/** Video media timescale: the PES clock, so frame times stay exact. */
export const VIDEO_TIMESCALE = 90000;
/** Seconds from 1904-01-01 (the ISO-BMFF epoch) to 1970-01-01. */
export const EPOCH_1904_OFFSET = 2_082_844_800;
/** `mdat` with a 64-bit size: 16 header bytes, the size patched when the file is finished. */
export const MDAT_HEADER_SIZE = 16;
const LANGUAGE_UND = 0x55c4;
const MATRIX = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

export type Container = 'mp4' | 'mov';

export class Mp4ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Mp4ConfigError';
  }
}

/** A growable big-endian byte writer with box nesting (sizes back-patched). */
export class BoxWriter {
  private buf = Buffer.allocUnsafe(4096);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const grown = Buffer.allocUnsafe(cap);
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16BE(v & 0xffff, this.length);
    this.length += 2;
    return this;
  }
  i16(v: number): this {
    this.room(2);
    this.buf.writeInt16BE(v, this.length);
    this.length += 2;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
    return this;
  }
  i32(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v, this.length);
    this.length += 4;
    return this;
  }
  u64(v: number): this {
    this.room(8);
    this.buf.writeUInt32BE(Math.floor(v / 2 ** 32), this.length);
    this.buf.writeUInt32BE(v % 2 ** 32, this.length + 4);
    this.length += 8;
    return this;
  }
  /** 64 bits when `wide` (a version 1 box), else 32. */
  uv(v: number, wide: boolean | number): this {
    return wide ? this.u64(v) : this.u32(v);
  }
  /** A signed 64- or 32-bit integer in (-2^31, 2^31). */
  iv(v: number, wide: boolean | number): this {
    if (wide) this.i32(v < 0 ? -1 : 0);
    return this.i32(v);
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  zeros(n: number): this {
    this.room(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }
  /** Four characters (latin1). */
  fourcc(s: string): this {
    this.room(4);
    this.buf.write(s, this.length, 4, 'latin1');
    this.length += 4;
    return this;
  }
  text(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8'));
  }
  box(type: string, body: () => void): this {
    const at = this.length;
    this.u32(0).fourcc(type);
    body();
    this.buf.writeUInt32BE(this.length - at, at);
    return this;
  }
  fullBox(type: string, version: number, flags: number, body: () => void): this {
    return this.box(type, () => {
      this.u32(((version & 0xff) << 24) | (flags & 0xffffff));
      body();
    });
  }
  /** The bytes written (a copy-free view). */
  done(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

export function ftyp(container: Container, video: VideoTrackConfig['codec']): Buffer {
  const w = new BoxWriter();
  if (container === 'mov') {
    w.box('ftyp', () => w.fourcc('qt  ').u32(0x200).fourcc('qt  '));
  } else {
    const brands = ['isom', 'iso2', video === 'h264' ? 'avc1' : 'hvc1', 'mp41'];
    w.box('ftyp', () => {
      w.fourcc('isom').u32(0x200);
      for (const b of brands) w.fourcc(b);
    });
  }
  return Buffer.from(w.done());
}

/** `mdat` header with the 64-bit size of a box of `size` bytes (header included). */
export function mdatHeader(size: number): Buffer {
  const w = new BoxWriter();
  w.u32(1).fourcc('mdat').u64(size);
  return Buffer.from(w.done());
}

export interface MovieTrack {
  id: number;
  timescale: number;
  tables: TrackTables;
  video?: VideoTrackConfig;
  audio?: AudioTrackConfig;
}

export interface MovieOptions {
  container: Container;
  /** Creation and modification time, seconds since 1970 (UTC). */
  creationTime: number;
  marker?: string;
  tracks: MovieTrack[];
}

const toMovie = (t: number, timescale: number) => Math.round((t * MOVIE_TIMESCALE) / timescale);

/** The `moov` box of a finished file. */
export function moov(opts: MovieOptions): Buffer {
  const created = opts.creationTime + EPOCH_1904_OFFSET;
  if (!Number.isSafeInteger(created) || created < 0) throw new RangeError(`creation time ${opts.creationTime}`);
  const w = new BoxWriter();
  const spans = opts.tracks.map((t) => {
    const offset = toMovie(t.tables.firstTime, t.timescale);
    return { offset, media: toMovie(t.tables.duration, t.timescale) };
  });
  const movieDuration = Math.max(0, ...spans.map((s) => s.offset + s.media));
  w.box('moov', () => {
    const v = created > U32_MAX || movieDuration > U32_MAX ? 1 : 0;
    w.fullBox('mvhd', v, 0, () => {
      times(w, v, created);
      w.u32(MOVIE_TIMESCALE);
      w.uv(movieDuration, v);
      w.u32(0x0001_0000).u16(0x0100).zeros(10);
      for (const m of MATRIX) w.u32(m);
      w.zeros(24).u32(Math.max(0, ...opts.tracks.map((t) => t.id)) + 1);
    });
    opts.tracks.forEach((t, i) => trak(w, opts, t, created, spans[i]!));
    if (opts.marker !== undefined) udta(w, opts.container, opts.marker);
  });
  return Buffer.from(w.done());
}

function times(w: BoxWriter, version: number, created: number): void {
  if (version === 1) w.u64(created).u64(created);
  else w.u32(created).u32(created);
}

function trak(
  w: BoxWriter,
  opts: MovieOptions,
  t: MovieTrack,
  created: number,
  span: { offset: number; media: number },
): void {
  const isVideo = t.video !== undefined;
  const trackDuration = span.offset + span.media;
  w.box('trak', () => {
    const v = created > U32_MAX || trackDuration > U32_MAX ? 1 : 0;
    w.fullBox('tkhd', v, 3, () => {
      times(w, v, created);
      w.u32(t.id).u32(0);
      w.uv(trackDuration, v);
      w.zeros(8)
        .u16(0)
        .u16(0)
        .u16(isVideo ? 0 : 0x0100)
        .u16(0);
      for (const m of MATRIX) w.u32(m);
      w.u32((t.video?.width ?? 0) * 0x10000).u32((t.video?.height ?? 0) * 0x10000);
    });
    if (span.offset > 0) {
      // The track starts later than the movie: an empty edit first, then the whole media.
      const e64 = span.offset > U32_MAX || span.media > U32_MAX;
      w.box('edts', () =>
        w.fullBox('elst', e64 ? 1 : 0, 0, () => {
          w.u32(2);
          w.uv(span.offset, e64).iv(-1, e64); // media_time -1: empty
          w.u32(0x0001_0000);
          w.uv(span.media, e64).iv(0, e64);
          w.u32(0x0001_0000);
        }),
      );
    }
    w.box('mdia', () => {
      const media = t.tables.duration;
      const mv = created > U32_MAX || media > U32_MAX ? 1 : 0;
      w.fullBox('mdhd', mv, 0, () => {
        times(w, mv, created);
        w.u32(t.timescale);
        w.uv(media, mv);
        w.u16(LANGUAGE_UND).u16(0);
      });
      w.fullBox('hdlr', 0, 0, () => {
        w.fourcc(opts.container === 'mov' ? 'mhlr' : '\0\0\0\0')
          .fourcc(isVideo ? 'vide' : 'soun')
          .zeros(12)
          .text(isVideo ? 'VideoHandler' : 'SoundHandler')
          .u8(0);
      });
      w.box('minf', () => {
        if (isVideo) w.fullBox('vmhd', 0, 1, () => w.zeros(8));
        else w.fullBox('smhd', 0, 0, () => w.zeros(4));
        w.box('dinf', () => w.fullBox('dref', 0, 0, () => w.u32(1).fullBox('url ', 0, 1, () => undefined)));
        stbl(w, opts.container, t);
      });
    });
  });
}

function stbl(w: BoxWriter, container: Container, t: MovieTrack): void {
  const tb = t.tables;
  w.box('stbl', () => {
    w.fullBox('stsd', 0, 0, () => {
      w.u32(1);
      if (t.video) visualSampleEntry(w, t.video);
      else if (t.audio) audioSampleEntry(w, container, t.audio);
    });
    const stts = tb.timeToSample();
    w.fullBox('stts', 0, 0, () => {
      w.u32(stts.length);
      for (const r of stts) w.u32(r.count).u32(r.delta);
    });
    if (!tb.allSync) {
      const sync = tb.sync.view();
      w.fullBox('stss', 0, 0, () => {
        w.u32(sync.length);
        for (let i = 0; i < sync.length; i++) w.u32(sync[i]!);
      });
    }
    w.fullBox('stsc', 0, 0, () => {
      w.u32(tb.chunkRuns.length);
      for (const r of tb.chunkRuns) w.u32(r.firstChunk).u32(r.samplesPerChunk).u32(1);
    });
    w.fullBox('stsz', 0, 0, () => {
      if (tb.fixedSize) {
        w.u32(tb.fixedSize).u32(tb.sampleCount);
        return;
      }
      const sizes = tb.sizes.view();
      w.u32(0).u32(sizes.length);
      for (let i = 0; i < sizes.length; i++) w.u32(sizes[i]!);
    });
    const co64 = tb.needsCo64();
    w.fullBox(co64 ? 'co64' : 'stco', 0, 0, () => {
      const n = tb.chunkOffsets.length;
      w.u32(n);
      for (let i = 0; i < n; i++) {
        w.uv(tb.chunkOffsets.get(i), co64);
      }
    });
  });
}

function visualSampleEntry(w: BoxWriter, v: VideoTrackConfig): void {
  w.box(v.codec === 'h264' ? 'avc1' : 'hvc1', () => {
    w.zeros(6).u16(1); // reserved, data_reference_index
    w.u16(0).u16(0).zeros(12);
    w.u16(v.width).u16(v.height);
    w.u32(0x0048_0000).u32(0x0048_0000).u32(0).u16(1);
    w.zeros(32); // compressorname
    w.u16(0x0018).i16(-1);
    w.box(v.codec === 'h264' ? 'avcC' : 'hvcC', () => w.bytes(v.description));
  });
}

/** What an audio codec string means for the sample entry. */
export function audioEntryKind(codec: string): 'aac' | 'mp3' | 'flac' | 'alaw' | 'ulaw' {
  const c = codec.toLowerCase();
  if (c === 'mp3' || c === 'mp4a.6b' || c === 'mp4a.69') return 'mp3';
  if (c === 'aac' || c.startsWith('mp4a.40')) return 'aac';
  if (c === 'flac') return 'flac';
  if (c === 'alaw' || c === 'ulaw') return c;
  throw new Mp4ConfigError(`audio codec ${codec} cannot be written`);
}

function audioSampleEntry(w: BoxWriter, container: Container, a: AudioTrackConfig): void {
  const kind = audioEntryKind(a.codec);
  if (kind === 'alaw' || kind === 'ulaw') {
    if (container !== 'mov') throw new Mp4ConfigError(`G.711 ${kind} needs the mov container`);
    // QuickTime sound description version 1: one byte per sample and channel.
    w.box(kind, () => {
      w.zeros(6).u16(1);
      w.u16(1).u16(0).u32(0); // version 1, revision, vendor
      w.u16(a.numberOfChannels).u16(8).u16(0).u16(0);
      w.u32(fixedRate(a.sampleRate));
      w.u32(1).u32(a.numberOfChannels).u32(a.numberOfChannels).u32(2);
    });
    return;
  }
  // FLAC's metadata blocks are checked before anything is written.
  const flacBlocks = kind === 'flac' ? flacMetadataBlocks(a.description) : undefined;
  w.box(kind === 'flac' ? 'fLaC' : 'mp4a', () => {
    w.zeros(6).u16(1);
    w.zeros(8); // version 0 (ISO AudioSampleEntry; in MOV the same bytes are a version 0 sound description)
    w.u16(a.numberOfChannels).u16(16).u16(0).u16(0);
    w.u32(fixedRate(a.sampleRate));
    if (flacBlocks) w.fullBox('dfLa', 0, 0, () => w.bytes(flacBlocks));
    else esds(w, kind === 'aac' ? 0x40 : 0x6b, kind === 'aac' ? a.description : undefined);
  });
}

/** 16.16 sample rate; a rate above 65535 does not fit and is written as 0 (the decoder config has the real one). */
function fixedRate(rate: number): number {
  return rate <= 0xffff ? rate * 0x10000 : 0;
}

/** ES_Descriptor (ISO/IEC 14496-1) with the decoder config and, for AAC, its AudioSpecificConfig. */
function esds(w: BoxWriter, objectType: number, dsi: Uint8Array | undefined): void {
  w.fullBox('esds', 0, 0, () => {
    const dsiLen = dsi ? 2 + dsi.length : 0;
    const dcdLen = 13 + dsiLen;
    descriptor(w, 0x03, 3 + 2 + dcdLen + 3, () => {
      w.u16(1).u8(0); // ES_ID, flags
      descriptor(w, 0x04, dcdLen, () => {
        w.u8(objectType).u8(0x15); // audio stream
        w.u8(0).u16(0).u32(0).u32(0); // buffer size, max and average bitrate unknown
        if (dsi) descriptor(w, 0x05, dsi.length, () => w.bytes(dsi));
      });
      descriptor(w, 0x06, 1, () => w.u8(2));
    });
  });
}

function descriptor(w: BoxWriter, tag: number, length: number, body: () => void): void {
  if (length > 127) throw new Mp4ConfigError(`descriptor of ${length} bytes`);
  w.u8(tag).u8(length);
  body();
}

/**
 * The metadata blocks for `dfLa` ("Encapsulation of FLAC in ISO Base Media File Format", xiph.org): a description in
 * the WebCodecs shape ('fLaC' followed by the stream's metadata blocks) without its signature. STREAMINFO must come
 * first and the last block must carry the last-block flag.
 */
export function flacMetadataBlocks(description: Uint8Array | undefined): Uint8Array {
  const d = description;
  if (!d || d.length < 8 + 34 || Buffer.from(d.buffer, d.byteOffset, 4).toString('latin1') !== 'fLaC')
    throw new Mp4ConfigError('FLAC needs its description: the fLaC signature and a STREAMINFO block');
  if ((d[4]! & 0x7f) !== 0) throw new Mp4ConfigError('FLAC: the first metadata block is not STREAMINFO');
  let pos = 4;
  for (;;) {
    const last = (d[pos]! & 0x80) !== 0;
    const end = pos + 4 + ((d[pos + 1]! << 16) | (d[pos + 2]! << 8) | d[pos + 3]!);
    if (end > d.length) throw new Mp4ConfigError('FLAC: a metadata block runs past the description');
    pos = end;
    if (last) break;
    if (pos + 4 > d.length) throw new Mp4ConfigError('FLAC: no metadata block is marked last');
  }
  return d.subarray(4, pos);
}

function udta(w: BoxWriter, container: Container, marker: string): void {
  const text = Buffer.from(marker, 'utf8');
  w.box('udta', () => {
    if (container === 'mov') {
      // QuickTime user data text: length, language, text.
      w.box('\u00a9cmt', () => w.u16(text.length).u16(LANGUAGE_UND).bytes(text));
      return;
    }
    w.fullBox('meta', 0, 0, () => {
      w.fullBox('hdlr', 0, 0, () => w.u32(0).fourcc('mdir').fourcc('appl').zeros(8).u8(0));
      w.box('ilst', () => w.box('\u00a9cmt', () => w.box('data', () => w.u32(1).u32(0).bytes(text))));
    });
  });
}
