/**
 * Independent readers used only by the synthetic-writer tests: an MPEG-PS packet walker and DataView reads
 * of index fields at the doc's offsets. Written against the spec/doc, not against tools/synthetic, so a writer
 * bug is not mirrored by the test.
 */
export interface PsPacket {
  offset: number;
  code: number; // 0xBA, 0xBB, 0xBC or a PES stream id
  length: number;
  /** Pack header: SCR base and the 4-byte stuffing counter. */
  scr?: number;
  counter?: number;
  /** PES */
  pts?: number;
  payload?: Buffer;
}

export function decodeTimestamp(b: Buffer, at: number): number {
  const hi = (b[at]! >> 1) & 0x07;
  const mid = (b[at + 1]! << 7) | (b[at + 2]! >> 1);
  const lo = (b[at + 3]! << 7) | (b[at + 4]! >> 1);
  return hi * 2 ** 30 + mid * 2 ** 15 + lo;
}

/** Walk a program stream packet by packet; throws on anything that is not a start code where one must be. */
export function walkPs(buf: Buffer): PsPacket[] {
  const out: PsPacket[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] !== 0 || buf[pos + 1] !== 0 || buf[pos + 2] !== 1) throw new Error(`no start code at ${pos}`);
    const code = buf[pos + 3]!;
    if (code === 0xba) {
      if ((buf[pos + 4]! & 0xc0) !== 0x40) throw new Error(`not an MPEG-2 pack header at ${pos}`);
      const b = buf;
      const p = pos + 4;
      const scr =
        ((b[p]! >> 3) & 0x07) * 2 ** 30 +
        (((b[p]! & 0x03) << 13) | (b[p + 1]! << 5) | (b[p + 2]! >> 3)) * 2 ** 15 +
        (((b[p + 2]! & 0x03) << 13) | (b[p + 3]! << 5) | (b[p + 4]! >> 3));
      const stuffing = b[pos + 13]! & 0x07;
      const packet: PsPacket = { offset: pos, code, length: 14 + stuffing, scr };
      if (stuffing === 4) packet.counter = b.readUInt32BE(pos + 14);
      out.push(packet);
      pos += 14 + stuffing;
      continue;
    }
    const length = 6 + buf.readUInt16BE(pos + 4);
    if (pos + length > buf.length) throw new Error(`packet 0x${code.toString(16)} at ${pos} runs past the end`);
    const packet: PsPacket = { offset: pos, code, length };
    if (code === 0xe0 || code === 0xc0 || code === 0xbd) {
      if ((buf[pos + 6]! & 0xc0) !== 0x80) throw new Error(`PES at ${pos} lacks the MPEG-2 header`);
      const headerLength = buf[pos + 8]!;
      if (buf[pos + 7]! & 0x80) packet.pts = decodeTimestamp(buf, pos + 9);
      packet.payload = buf.subarray(pos + 9 + headerLength, pos + length);
    }
    out.push(packet);
    pos += length;
  }
  return out;
}

/** CRC-32/MPEG-2, bitwise from the definition (independent of the writer's implementation). */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    for (let bit = 7; bit >= 0; bit--) {
      const top = (crc >>> 31) ^ ((byte >> bit) & 1);
      crc = ((crc << 1) ^ (top ? 0x04c11db7 : 0)) >>> 0;
    }
  }
  return crc >>> 0;
}

/** Stream types listed in a program stream map packet, keyed by elementary stream id. */
export function psmStreams(psm: Buffer): { streams: Map<number, number>; crcOk: boolean; programInfo: Buffer } {
  const total = 6 + psm.readUInt16BE(4);
  const infoLength = psm.readUInt16BE(8);
  const programInfo = psm.subarray(10, 10 + infoLength);
  let p = 10 + infoLength;
  const mapLength = psm.readUInt16BE(p);
  p += 2;
  const end = p + mapLength;
  const streams = new Map<number, number>();
  while (p < end) {
    streams.set(psm[p + 1]!, psm[p]!);
    p += 4 + psm.readUInt16BE(p + 2);
  }
  const crcOk = crc32(psm.subarray(0, total - 4)) === psm.readUInt32BE(total - 4);
  return { streams, crcOk, programInfo };
}

export interface VideoFrameFromPs {
  pts: number;
  nals: Buffer[];
}

/**
 * Rebuild video frames from the PES packets: a PES with a PTS opens a frame; a PES payload that starts with a
 * 4-byte start code opens a NAL, any other payload continues the previous NAL.
 */
export function videoFrames(packets: PsPacket[]): { frames: VideoFrameFromPs[]; startCodesInside: number } {
  const frames: VideoFrameFromPs[] = [];
  let startCodesInside = 0;
  for (const p of packets) {
    if (p.code !== 0xe0 || !p.payload) continue;
    if (p.pts !== undefined) frames.push({ pts: p.pts, nals: [] });
    const frame = frames.at(-1);
    if (!frame) throw new Error('video PES before the first PTS');
    const pl = p.payload;
    const opens = pl.length >= 4 && pl[0] === 0 && pl[1] === 0 && pl[2] === 0 && pl[3] === 1;
    for (let i = 1; i + 2 < pl.length; i++)
      if (pl[i] === 0 && pl[i + 1] === 0 && pl[i + 2] === 1 && !(opens && i === 1)) startCodesInside++;
    if (opens) frame.nals.push(Buffer.from(pl.subarray(4)));
    else {
      const last = frame.nals.pop();
      if (!last) throw new Error('continuation PES without a NAL');
      frame.nals.push(Buffer.concat([last, pl]));
    }
  }
  return { frames, startCodesInside };
}

/** Index field readers at the doc's offsets (little-endian). */
export function view(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}
