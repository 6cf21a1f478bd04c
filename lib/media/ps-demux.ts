/**
 * Streaming MPEG-2 Program Stream demuxer (ISO 13818-1 section 2.5), pure: push() byte chunks of any size,
 * get elementary-stream payload pieces back through a sink. It never keeps a view into a pushed chunk: chunks
 * are the caller's reused read buffers. Only a partial header at a chunk edge (a few hundred bytes at most)
 * and program stream maps are copied.
 *
 * Pieces handed to the sink are VIEWS valid only during the call: a consumer that keeps bytes copies them.
 */

export type StreamKind = 'video' | 'audio' | 'other';

export interface StreamMapEntry {
  streamType: number;
  streamId: number;
  kind: StreamKind;
  /** 'h264' | 'h265' | 'aac' | 'alaw' | 'ulaw' | 'mpeg-audio' | ... | 'stream-type-0xNN' */
  codec: string;
}

export interface StreamMap {
  entries: StreamMapEntry[];
}

export interface PesPiece {
  streamId: number;
  /** True for the first piece of a PES packet's payload (the only one that carries pts/dts). */
  start: boolean;
  /** 90 kHz, 33-bit, as written in the PES header. */
  pts?: number;
  dts?: number;
  /** View into a buffer the demuxer reuses: copy what you keep. */
  data: Uint8Array;
}

export interface PsDemuxSink {
  /** Called for each piece unless `pes` is given. */
  payload?(piece: PesPiece): void;
  /**
   * The same pieces without an object per piece (the remux's path: one call per PES packet on the hot path):
   * `pts`/`dts` are -1 when absent (and always on a piece that is not the start of its packet).
   */
  pes?: (streamId: number, start: boolean, pts: number, dts: number, data: Uint8Array) => void;
  streamMap?(map: StreamMap): void;
}

export interface PsDemuxStats {
  packs: number;
  mpeg1Packs: number;
  systemHeaders: number;
  streamMaps: number;
  pesPackets: number;
  /** Packets skipped by length: private streams, padding, ECM/EMM, directory ... */
  skippedPackets: number;
  /** Bytes thrown away while looking for the next pack header. */
  garbageBytes: number;
  resyncs: number;
  imkhHeader: boolean;
  /** The input ended inside a packet. */
  truncatedTail: boolean;
}

/** Stream types of a program stream map as Hikvision cameras write them; other private audio types are speech codecs. */
export function codecOfStreamType(streamType: number): string {
  switch (streamType) {
    case 0x1b:
      return 'h264';
    case 0x24:
      return 'h265';
    case 0x0f:
      return 'aac';
    case 0x03:
    case 0x04:
      return 'mpeg-audio';
    case 0x90:
      return 'alaw';
    case 0x91:
      return 'ulaw';
    // The other speech codecs of GB/T 28181 program streams (the PS profile Hikvision's follows): named so that a
    // dropped track says which codec it was.
    case 0x92:
      return 'g7221';
    case 0x93:
      return 'g723.1';
    case 0x99:
      return 'g729';
    case 0x9b:
      return 'svac-audio';
    // G.726: no public document names its value; 0x96 is the free neighbour Hikvision is reported to use (unverified
    // on a real recording, see docs/audio.md).
    case 0x96:
      return 'g726';
    // PCM: no public value either; 0x9A is hiksync's guess, unverified (docs/audio.md).
    case 0x9a:
      return 'pcm';
    case 0x10:
      return 'mpeg4-visual';
    case 0x01:
    case 0x02:
      return 'mpeg-video';
    default:
      return `stream-type-0x${streamType.toString(16).padStart(2, '0')}`;
  }
}

export function kindOfStreamId(streamId: number): StreamKind {
  if (streamId >= 0xe0 && streamId <= 0xef) return 'video';
  if (streamId >= 0xc0 && streamId <= 0xdf) return 'audio';
  return 'other';
}

const enum Mode {
  Start,
  Header,
  Resync,
  Payload,
  Skip,
  Collect,
}

/**
 * Bytes of the next chunk joined to a carried partial header. More than the largest header parsed in one piece
 * (PES 6 + 3 + 255, MPEG-1 PES 6 + 16 + 2 + 10, pack 14 + 7, IMKH 40), so one join always completes it.
 */
const HEAD_JOIN = 4096;
const IMKH_LENGTH = 40;
const MAX_MAP_ENTRIES = 64;
const PACK_START = Buffer.from([0, 0, 1, 0xba]);

export class PsDemuxer {
  readonly stats: PsDemuxStats = {
    packs: 0,
    mpeg1Packs: 0,
    systemHeaders: 0,
    streamMaps: 0,
    pesPackets: 0,
    skippedPackets: 0,
    garbageBytes: 0,
    resyncs: 0,
    imkhHeader: false,
    truncatedTail: false,
  };
  /** The latest program stream map seen, if any. */
  streamMap: StreamMap | null = null;

  private mode = Mode.Start;
  private remaining = 0;
  private streamId = 0;
  private pendingStart = false;
  private pendingPts: number | undefined;
  private pendingDts: number | undefined;
  private collect: Buffer | null = null;
  private collected = 0;
  private carry: Buffer | null = null;
  private needMore = false;

  constructor(private readonly sink: PsDemuxSink) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    if (this.carry) {
      const carry = this.carry;
      this.carry = null;
      const joined = Math.min(data.length, HEAD_JOIN);
      const head = Buffer.concat([carry, data.subarray(0, joined)]);
      const at = this.run(head, 0, carry.length);
      if (at < carry.length) {
        // Still inside the carried bytes: by the size bound this only happens when the whole chunk was joined.
        if (joined !== data.length) throw new Error('PsDemuxer: header larger than the join window');
        this.keep(head, at);
        return;
      }
      pos = at - carry.length;
    }
    const at = this.run(data, pos, data.length);
    if (at < data.length) this.keep(data, at);
  }

  /** No more input. A packet cut by the end of the input is reported in stats.truncatedTail. */
  end(): void {
    if (this.carry) {
      if (this.mode === Mode.Resync) this.stats.garbageBytes += this.carry.length;
      else this.stats.truncatedTail = true;
      this.carry = null;
    }
    if (this.mode === Mode.Payload || this.mode === Mode.Skip || this.mode === Mode.Collect) {
      if (this.remaining > 0) this.stats.truncatedTail = true;
    }
    this.mode = Mode.Header;
    this.remaining = 0;
  }

  /** Copy the unparsed tail (a partial header, or the last bytes while resynchronising) for the next push. */
  private keep(data: Buffer, at: number): void {
    this.carry = Buffer.from(data.subarray(at));
  }

  /**
   * Parse from `pos` until `pos >= softEnd` or a header needs more bytes than `data` holds.
   * Headers may be read past softEnd (up to data.length). Returns the position reached.
   */
  private run(data: Buffer, pos: number, softEnd: number): number {
    this.needMore = false;
    while (pos < softEnd && !this.needMore) {
      switch (this.mode) {
        case Mode.Start:
          pos = this.start(data, pos);
          break;
        case Mode.Header:
          pos = this.header(data, pos);
          break;
        case Mode.Resync:
          pos = this.resync(data, pos);
          break;
        case Mode.Payload: {
          const n = Math.min(this.remaining, data.length - pos);
          if (n > 0) this.emit(data.subarray(pos, pos + n));
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.mode = Mode.Header;
          break;
        }
        case Mode.Skip: {
          const n = Math.min(this.remaining, data.length - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.mode = Mode.Header;
          break;
        }
        case Mode.Collect: {
          const n = Math.min(this.remaining, data.length - pos);
          data.copy(this.collect!, this.collected, pos, pos + n);
          this.collected += n;
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) {
            this.parseStreamMap(this.collect!.subarray(0, this.collected));
            this.collect = null;
            this.mode = Mode.Header;
          }
          break;
        }
      }
    }
    return pos;
  }

  private emit(bytes: Uint8Array): void {
    const pes = this.sink.pes;
    if (pes) {
      const start = this.pendingStart;
      this.pendingStart = false;
      pes(this.streamId, start, start ? (this.pendingPts ?? -1) : -1, start ? (this.pendingDts ?? -1) : -1, bytes);
      return;
    }
    const piece: PesPiece = { streamId: this.streamId, start: this.pendingStart, data: bytes };
    if (this.pendingStart) {
      if (this.pendingPts !== undefined) piece.pts = this.pendingPts;
      if (this.pendingDts !== undefined) piece.dts = this.pendingDts;
      this.pendingStart = false;
    }
    this.sink.payload?.(piece);
  }

  private start(data: Buffer, pos: number): number {
    if (data.length - pos < 4) return this.wait(pos);
    if (data[pos] === 0x49 && data[pos + 1] === 0x4d && data[pos + 2] === 0x4b && data[pos + 3] === 0x48) {
      this.stats.imkhHeader = true;
      this.mode = Mode.Skip;
      this.remaining = IMKH_LENGTH;
      return pos;
    }
    this.mode = Mode.Header;
    return pos;
  }

  private wait(pos: number): number {
    this.needMore = true;
    return pos;
  }

  private lostSync(pos: number): number {
    this.stats.resyncs++;
    this.mode = Mode.Resync;
    return pos;
  }

  private resync(data: Buffer, pos: number): number {
    const at = data.indexOf(PACK_START, pos);
    if (at < 0) {
      // Keep only the last 3 bytes: a pack start code may straddle the chunk edge.
      const keepFrom = Math.max(pos, data.length - 3);
      this.stats.garbageBytes += keepFrom - pos;
      return this.wait(keepFrom);
    }
    this.stats.garbageBytes += at - pos;
    this.mode = Mode.Header;
    return at;
  }

  private header(data: Buffer, pos: number): number {
    const avail = data.length - pos;
    if (avail < 4) return this.wait(pos);
    if (data[pos] !== 0 || data[pos + 1] !== 0 || data[pos + 2] !== 1) return this.lostSync(pos);
    const id = data[pos + 3]!;
    if (id === 0xba) {
      if (avail < 5) return this.wait(pos);
      const b = data[pos + 4]!;
      if ((b & 0xc0) === 0x40) {
        if (avail < 14) return this.wait(pos);
        const size = 14 + (data[pos + 13]! & 7);
        if (avail < size) return this.wait(pos);
        this.stats.packs++;
        return pos + size;
      }
      if ((b & 0xf0) === 0x20) {
        if (avail < 12) return this.wait(pos);
        this.stats.mpeg1Packs++;
        return pos + 12;
      }
      this.stats.garbageBytes += 4;
      return this.lostSync(pos + 4);
    }
    if (id === 0xb9) return pos + 4; // MPEG program end code
    if (id < 0xb9) {
      this.stats.garbageBytes += 1;
      return this.lostSync(pos + 1);
    }
    if (avail < 6) return this.wait(pos);
    const length = data.readUInt16BE(pos + 4);
    if (id === 0xbc) {
      this.mode = Mode.Collect;
      this.remaining = length;
      this.collect = Buffer.alloc(length);
      this.collected = 0;
      return pos + 6;
    }
    const kind = kindOfStreamId(id);
    if (kind === 'other') {
      if (id === 0xbb) this.stats.systemHeaders++;
      else this.stats.skippedPackets++;
      this.mode = Mode.Skip;
      this.remaining = length;
      return pos + 6;
    }
    return this.pesHeader(data, pos, id, length);
  }

  private pesHeader(data: Buffer, pos: number, id: number, length: number): number {
    const avail = data.length - pos;
    if (length === 0) {
      // Unbounded PES is only allowed for video in transport streams; in a PS it means corrupt data.
      this.stats.garbageBytes += 6;
      return this.lostSync(pos + 6);
    }
    if (avail < 7) return this.wait(pos);
    let pts: number | undefined;
    let dts: number | undefined;
    let headerEnd: number;
    if ((data[pos + 6]! & 0xc0) === 0x80) {
      if (avail < 9) return this.wait(pos);
      const flags = data[pos + 7]! >> 6;
      const headerLength = data[pos + 8]!;
      if (3 + headerLength > length) {
        this.stats.garbageBytes += 4;
        return this.lostSync(pos + 4);
      }
      if (avail < 9 + headerLength) return this.wait(pos);
      if (flags >= 2 && headerLength >= 5) pts = readTimestamp(data, pos + 9);
      if (flags === 3 && headerLength >= 10) dts = readTimestamp(data, pos + 14);
      headerEnd = pos + 9 + headerLength;
    } else {
      // MPEG-1 packet syntax (ISO 11172-1 2.4.3.3): stuffing, optional STD buffer, then PTS / PTS+DTS / 0x0F.
      const limit = pos + 6 + length;
      let i = pos + 6;
      let stuffing = 0;
      for (;;) {
        if (i >= data.length) return this.wait(pos);
        if (data[i] !== 0xff) break;
        if (++stuffing > 16) break;
        i++;
      }
      if (i < data.length && (data[i]! & 0xc0) === 0x40) i += 2;
      if (i >= data.length) return this.wait(pos);
      const b = data[i]!;
      if ((b & 0xf0) === 0x20) {
        if (i + 5 > data.length) return this.wait(pos);
        pts = readTimestamp(data, i);
        i += 5;
      } else if ((b & 0xf0) === 0x30) {
        if (i + 10 > data.length) return this.wait(pos);
        pts = readTimestamp(data, i);
        dts = readTimestamp(data, i + 5);
        i += 10;
      } else if (b === 0x0f) {
        i += 1;
      } else {
        this.stats.garbageBytes += 4;
        return this.lostSync(pos + 4);
      }
      if (i > limit) {
        this.stats.garbageBytes += 4;
        return this.lostSync(pos + 4);
      }
      headerEnd = i;
    }
    this.stats.pesPackets++;
    this.streamId = id;
    this.pendingStart = true;
    this.pendingPts = pts;
    this.pendingDts = dts;
    this.remaining = pos + 6 + length - headerEnd;
    this.mode = this.remaining > 0 ? Mode.Payload : Mode.Header;
    if (this.remaining === 0) this.pendingStart = false;
    return headerEnd;
  }

  private parseStreamMap(body: Buffer): void {
    this.stats.streamMaps++;
    if (body.length < 10) return;
    const infoLength = body.readUInt16BE(2);
    let i = 4 + infoLength;
    if (i + 2 > body.length) return;
    const mapLength = body.readUInt16BE(i);
    i += 2;
    const end = Math.min(i + mapLength, body.length - 4); // the last 4 bytes are the CRC
    const entries: StreamMapEntry[] = [];
    while (i + 4 <= end && entries.length < MAX_MAP_ENTRIES) {
      const streamType = body[i]!;
      const streamId = body[i + 1]!;
      entries.push({ streamType, streamId, kind: kindOfStreamId(streamId), codec: codecOfStreamType(streamType) });
      i += 4 + body.readUInt16BE(i + 2);
    }
    this.streamMap = { entries };
    this.sink.streamMap?.(this.streamMap);
  }
}

/** A 33-bit PTS/DTS from its 5-byte PES encoding (marker bits skipped). */
export function readTimestamp(b: Uint8Array, i: number): number {
  const high = (b[i]! >> 1) & 0x07;
  const mid = (b[i + 1]! << 7) | (b[i + 2]! >> 1);
  const low = (b[i + 3]! << 7) | (b[i + 4]! >> 1);
  return high * 2 ** 30 + mid * 2 ** 15 + low;
}

/** Where a segment's bytes must begin: optional 40-byte IMKH header, then an MPEG-2 pack header. */
export function packHeaderAt(bytes: Uint8Array): number {
  let at = 0;
  if (bytes.length >= 4 && bytes[0] === 0x49 && bytes[1] === 0x4d && bytes[2] === 0x4b && bytes[3] === 0x48)
    at = IMKH_LENGTH;
  if (bytes.length < at + 14) return -1;
  if (bytes[at] !== 0 || bytes[at + 1] !== 0 || bytes[at + 2] !== 1 || bytes[at + 3] !== 0xba) return -1;
  if ((bytes[at + 4]! & 0xc0) !== 0x40) return -1;
  return at;
}
