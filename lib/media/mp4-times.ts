/**
 * The creation and modification times inside an MP4 (movie header mvhd, track headers tkhd, media headers mdhd).
 * Photo libraries and players (Synology Photos, Apple and Google Photos) sort by these, not by the file's mtime, so
 * they must say when the recording started, not when it was converted. The muxer writes "now"; this rewrites the
 * fields in place in a finished file: a bounded read of moov (sample tables only), a patch of a few integers, one
 * write back at the same place. Sizes never change, so the file stays valid whatever else it holds.
 */
import * as fs from 'node:fs/promises';
import { findTopLevelBox } from './probe.js';

/** Seconds from 1904-01-01 (the ISO-BMFF epoch) to 1970-01-01. */
const EPOCH_1904_OFFSET = 2_082_844_800;
/** moov holds only tables: far smaller than this for any camera recording. */
const MAX_MOOV_BYTES = 64 * 1024 * 1024;
/** Boxes whose children are walked to reach the headers. */
const CONTAINERS = new Set(['moov', 'trak', 'mdia']);
const HEADERS = new Set(['mvhd', 'tkhd', 'mdhd']);

/** Sets creation and modification time of the movie, every track and every media to `when` (UTC). Returns boxes set. */
export async function setMp4Times(file: string, when: Date): Promise<number> {
  const seconds = Math.floor(when.getTime() / 1000) + EPOCH_1904_OFFSET;
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`time out of range: ${when.toISOString()}`);
  const fh = await fs.open(file, 'r+');
  try {
    const { size } = await fh.stat();
    const box = await findTopLevelBox(fh, size, 'moov');
    if (!box) throw new Error(`${file} has no moov box`);
    if (box.size > MAX_MOOV_BYTES || box.pos + box.size > size) throw new Error(`${file}: moov of ${box.size} bytes`);
    const moov = Buffer.alloc(box.size);
    await fh.read(moov, 0, box.size, box.pos);
    const set = patchHeaders(moov, 0, moov.length, seconds);
    await fh.write(moov, 0, moov.length, box.pos);
    return set;
  } finally {
    await fh.close();
  }
}

/** Patches every header box inside [start, end) of `buf` (a box's children when called for a container). */
function patchHeaders(buf: Buffer, start: number, end: number, seconds: number): number {
  let set = 0;
  let pos = start;
  while (pos + 8 <= end) {
    let size = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > end) break;
      size = Number(buf.readBigUInt64BE(pos + 8));
      header = 16;
    } else if (size === 0) {
      size = end - pos;
    }
    if (size < header || pos + size > end) break;
    if (CONTAINERS.has(type)) {
      set += patchHeaders(buf, pos + header, pos + size, seconds);
    } else if (HEADERS.has(type)) {
      set += patchFullBoxTimes(buf, pos + header, pos + size, seconds) ? 1 : 0;
    }
    pos += size;
  }
  return set;
}

/** A full box's version byte decides 32- or 64-bit times: creation right after version+flags, then modification. */
function patchFullBoxTimes(buf: Buffer, body: number, end: number, seconds: number): boolean {
  const version = buf[body];
  if (version === 0 && body + 12 <= end) {
    if (seconds > 0xffff_ffff) return false;
    buf.writeUInt32BE(seconds, body + 4);
    buf.writeUInt32BE(seconds, body + 8);
    return true;
  }
  if (version === 1 && body + 20 <= end) {
    buf.writeBigUInt64BE(BigInt(seconds), body + 4);
    buf.writeBigUInt64BE(BigInt(seconds), body + 12);
    return true;
  }
  return false;
}
