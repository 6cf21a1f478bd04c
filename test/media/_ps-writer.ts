/**
 * Test helper: writes MPEG-2 program streams the way Hikvision cameras do (pack header with a counter in its
 * stuffing, system header, program stream map, video PES with a PTS on each frame's first packet, audio PES),
 * with knobs for the layouts the demuxer must survive. Independent of lib/media on purpose.
 */

export function packHeader(scr: number, counter = 0): Buffer {
  const b = Buffer.alloc(14 + 6);
  b.writeUInt32BE(0x000001ba, 0);
  const base = scr % 2 ** 33;
  const hi = Math.floor(base / 2 ** 30) & 7;
  const mid = Math.floor(base / 2 ** 15) & 0x7fff;
  const lo = base & 0x7fff;
  b[4] = 0x40 | (hi << 3) | 0x04 | (mid >> 13);
  b[5] = (mid >> 5) & 0xff;
  b[6] = ((mid & 0x1f) << 3) | 0x04 | (lo >> 13);
  b[7] = (lo >> 5) & 0xff;
  b[8] = ((lo & 0x1f) << 3) | 0x04; // SCR ext high bits 0
  b[9] = 0x01;
  b[10] = 0x01; // mux rate
  b[11] = 0x89;
  b[12] = 0xc3;
  b[13] = 0xf8 | 6; // 6 stuffing bytes: 2 x FF then a 32-bit counter (Hikvision)
  b[14] = 0xff;
  b[15] = 0xff;
  b.writeUInt32BE(counter >>> 0, 16);
  return b;
}

export function systemHeader(): Buffer {
  const body = Buffer.from([0x80, 0x00, 0x01, 0x04, 0xe1, 0xff, 0xe0, 0xe0, 0x80, 0xc0, 0xc0, 0x08]);
  return Buffer.concat([Buffer.from([0, 0, 1, 0xbb, body.length >> 8, body.length & 0xff]), body]);
}

export function streamMap(entries: Array<{ type: number; id: number }>): Buffer {
  const hk = Buffer.from([0x40, 0x0e, 0x48, 0x4b, 0x01, 0x00, 0x14, 0x9a, 0x62, 0x0a, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff]);
  const es = Buffer.concat(
    entries.map((e) => Buffer.from([e.type, e.id, 0x00, 0x0a, 0x42, 0x0e, 0x00, 0x00, 0xa0, 0x21, 0x02, 0x80, 0x01, 0x68])),
  );
  const body = Buffer.concat([
    Buffer.from([0xe0, 0xff, hk.length >> 8, hk.length & 0xff]),
    hk,
    Buffer.from([es.length >> 8, es.length & 0xff]),
    es,
    Buffer.from([0x12, 0x34, 0x56, 0x78]), // CRC (not checked by readers of camera streams)
  ]);
  return Buffer.concat([Buffer.from([0, 0, 1, 0xbc, body.length >> 8, body.length & 0xff]), body]);
}

function timestampBytes(prefix: number, ts: number): Buffer {
  const t = ts % 2 ** 33;
  const hi = Math.floor(t / 2 ** 30) & 7;
  const mid = Math.floor(t / 2 ** 15) & 0x7fff;
  const lo = t & 0x7fff;
  return Buffer.from([(prefix << 4) | (hi << 1) | 1, mid >> 7, ((mid & 0x7f) << 1) | 1, lo >> 7, ((lo & 0x7f) << 1) | 1]);
}

export function pes(streamId: number, payload: Uint8Array, pts?: number, stuffing = 0): Buffer {
  const opt = pts === undefined ? Buffer.alloc(0) : timestampBytes(0x2, pts);
  const stuff = Buffer.alloc(stuffing, 0xff);
  const header = Buffer.from([0x80, pts === undefined ? 0x00 : 0x80, opt.length + stuff.length]);
  const length = header.length + opt.length + stuff.length + payload.length;
  if (length > 0xffff) throw new RangeError('PES too long');
  return Buffer.concat([Buffer.from([0, 0, 1, streamId, length >> 8, length & 0xff]), header, opt, stuff, payload]);
}

/** An MPEG-1 syntax PES (ISO 11172-1): stuffing, then '0010' + PTS or 0x0F. */
export function pesMpeg1(streamId: number, payload: Uint8Array, pts?: number): Buffer {
  const header = pts === undefined ? Buffer.from([0xff, 0x0f]) : Buffer.concat([Buffer.from([0xff]), timestampBytes(0x2, pts)]);
  const length = header.length + payload.length;
  return Buffer.concat([Buffer.from([0, 0, 1, streamId, length >> 8, length & 0xff]), header, payload]);
}

export interface VideoFrame {
  data: Buffer;
  pts: number | undefined;
  key: boolean;
}

export interface AudioPacket {
  data: Buffer;
  pts: number;
}

export interface PsLayout {
  videoType: number; // 0x1B or 0x24
  audioType?: number; // 0x0F, 0x90 ...
  /** Max payload bytes per video PES. */
  pesPayload?: number;
  /**
   * 'frame': every frame starts a PES (Hikvision). 'shifted': PES boundaries are cut `shift` bytes after each
   * frame start, so every PES begins with the tail of the previous frame and carries the PTS of the next one.
   */
  cut?: 'frame' | 'shifted';
  shift?: number;
  audio?: AudioPacket[];
  /** Add padding (0xBE) and private (0xBD) packets. */
  noise?: boolean;
}

/** Program stream of frames (Annex B, decode order) and audio, laid out as a camera would. */
export function buildPs(frames: VideoFrame[], layout: PsLayout): Buffer {
  const pesPayload = layout.pesPayload ?? 4096;
  const parts: Buffer[] = [];
  let counter = 0;
  const audio = [...(layout.audio ?? [])];
  const map = [{ type: layout.videoType, id: 0xe0 }];
  if (layout.audioType !== undefined) map.push({ type: layout.audioType, id: 0xc0 });

  // Elementary stream with frame start positions; PES cut positions decide where PTS go.
  const es = Buffer.concat(frames.map((f) => f.data));
  const starts: number[] = [];
  let p = 0;
  for (const f of frames) {
    starts.push(p);
    p += f.data.length;
  }
  const cuts = new Set<number>();
  const shift = layout.cut === 'shifted' ? (layout.shift ?? 7) : 0;
  for (const s of starts) cuts.add(s === 0 ? 0 : Math.min(es.length, s - shift));
  const segments: Array<[number, number]> = [];
  const sorted = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    const from = sorted[i]!;
    const to = i + 1 < sorted.length ? sorted[i + 1]! : es.length;
    for (let q = from; q < to; q += pesPayload) segments.push([q, Math.min(to, q + pesPayload)]);
  }
  let frameIdx = 0;
  for (const [from, to] of segments) {
    // The PTS of the first frame that starts in [from, to).
    while (frameIdx < starts.length && starts[frameIdx]! < from) frameIdx++;
    const starting = frameIdx < starts.length && starts[frameIdx]! < to ? frames[frameIdx]! : undefined;
    const pts = starting?.pts;
    if (starting && starts[frameIdx] === from) {
      parts.push(packHeader((pts ?? 0) - 3600, counter++));
      if (starting.key || from === 0) parts.push(systemHeader(), streamMap(map));
      while (audio.length > 0 && pts !== undefined && audio[0]!.pts <= pts) {
        const a = audio.shift()!;
        parts.push(pes(0xc0, a.data, a.pts, 2));
      }
      if (layout.noise) parts.push(pes(0xbd, Buffer.from('private data 00 00 01 ba'), undefined), pes(0xbe, Buffer.alloc(20, 0xff)));
    }
    parts.push(pes(0xe0, es.subarray(from, to), pts, 2));
  }
  for (const a of audio) parts.push(pes(0xc0, a.data, a.pts, 2));
  return Buffer.concat(parts);
}
