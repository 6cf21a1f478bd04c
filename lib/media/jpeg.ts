/**
 * Pictures: a .pic byte range holds one JPEG plus padding. Find SOI..EOI by walking the JPEG marker segments
 * (so an FF D9 inside a segment's payload is not mistaken for the end) and copy those bytes verbatim.
 */
import * as fs from 'node:fs/promises';
import { BadContentError, ShareTimeoutError, TruncatedSourceError } from '../errors.js';
import { removeQuietly } from '../files.js';
import { createShareIo, type ShareIo } from '../share-io.js';

/** Larger than any camera snapshot; a range beyond this is a bad index record, not a picture. */
export const MAX_PICTURE_BYTES = 64 * 1024 * 1024;

/**
 * Bytes one findJpeg call may look at, per byte of its buffer. One walk over a real picture looks at each byte
 * at most once, and a false SOI in garbage fails within a few bytes; but false SOIs whose segment lengths lead
 * into the same long stretch (a chain of segments, or entropy-coded data without a marker) each walked it again:
 * quadratic, minutes for a crafted range of MAX_PICTURE_BYTES. Past the budget the range holds no usable JPEG.
 */
const WALK_BUDGET_PER_BYTE = 4;
/** The budget of a small buffer, so a few false SOIs before a small picture never exhaust it. */
const MIN_WALK_BUDGET = 64 * 1024;

/**
 * The first complete JPEG in `buf`: [start, end) from SOI (FF D8 FF) to just after EOI (FF D9), or null.
 * After SOS the entropy-coded data can only contain FF as FF 00 (stuffing) or FF D0..D7 (restart markers),
 * so the next other marker ends the scan; progressive files have several scans.
 */
export function findJpeg(buf: Uint8Array): { start: number; end: number } | null {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const budget = { left: Math.max(MIN_WALK_BUDGET, WALK_BUDGET_PER_BYTE * b.length) };
  let soi = b.indexOf(SOI);
  while (soi >= 0) {
    const end = walkSegments(b, soi + 2, budget);
    if (end === 'incomplete' || end === 'over-budget') return null;
    if (end > 0) return { start: soi, end };
    soi = b.indexOf(SOI, soi + 2);
  }
  return null;
}
const SOI = Buffer.from([0xff, 0xd8, 0xff]);

/**
 * End offset after EOI, 0 when the structure is not JPEG, 'incomplete' when the buffer ends first, 'over-budget'
 * when the bytes looked at (markers and entropy-coded data) exceed what is left of `budget`. An EOI before any scan
 * (SOS) ends no picture: FF D8 FF D9 in padding is not a 4-byte JPEG.
 */
function walkSegments(b: Buffer, pos: number, budget: { left: number }): number | 'incomplete' | 'over-budget' {
  let scans = 0;
  for (;;) {
    if (--budget.left < 0) return 'over-budget';
    if (pos >= b.length) return 'incomplete';
    if (b[pos] !== 0xff) return 0;
    const fill = pos;
    while (pos < b.length && b[pos] === 0xff) pos++; // fill bytes before a marker are allowed
    budget.left -= pos - fill;
    if (pos >= b.length) return 'incomplete';
    const marker = b[pos]!;
    pos++;
    if (marker === 0xd9) return scans > 0 ? pos : 0;
    if (marker === 0x00 || marker === 0xd8) return 0;
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // no length field
    if (pos + 2 > b.length) return 'incomplete';
    const length = b.readUInt16BE(pos);
    if (length < 2) return 0;
    pos += length;
    if (marker !== 0xda) continue;
    scans++;
    // Entropy-coded data: skip to the next FF that is not stuffing or a restart marker.
    for (;;) {
      const ff = b.indexOf(0xff, pos);
      budget.left -= (ff < 0 ? b.length : ff) - pos;
      if (budget.left < 0) return 'over-budget';
      if (ff < 0 || ff + 1 >= b.length) return 'incomplete';
      const next = b[ff + 1]!;
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
        pos = next === 0xff ? ff + 1 : ff + 2;
        continue;
      }
      pos = ff;
      break;
    }
  }
}

export interface PictureRange {
  source: string;
  startOffset: number;
  endOffset: number;
  /** How the camera share is read (time limit, regular files only); default: the default limit. */
  io?: ShareIo;
}

export interface CopyPictureOptions extends PictureRange {
  output: string;
}

/**
 * The JPEG inside [startOffset, endOffset) of `source`, byte for byte, with its absolute offsets in the source.
 * Throws BadContentError when the range holds no complete JPEG and TruncatedSourceError when the file is shorter.
 */
export async function readPicture(opts: PictureRange): Promise<{ jpeg: Buffer; start: number; end: number }> {
  const { source, startOffset, endOffset } = opts;
  if (
    !Number.isSafeInteger(startOffset) ||
    startOffset < 0 ||
    !Number.isSafeInteger(endOffset) ||
    endOffset <= startOffset
  ) {
    throw new RangeError(`bad picture range [${startOffset}, ${endOffset})`);
  }
  if (endOffset - startOffset > MAX_PICTURE_BYTES) {
    throw new BadContentError(`picture range of ${endOffset - startOffset} bytes is larger than ${MAX_PICTURE_BYTES}`);
  }
  const fh = await (opts.io ?? createShareIo()).open(source);
  let bytes: Buffer;
  try {
    const { size } = await fh.stat();
    if (size < endOffset)
      throw new TruncatedSourceError(`${source} has ${size} bytes, the picture ends at ${endOffset}`);
    bytes = Buffer.allocUnsafe(endOffset - startOffset);
    let got = 0;
    while (got < bytes.length) {
      const { bytesRead } = await fh.read(bytes, got, bytes.length - got, startOffset + got);
      if (bytesRead === 0)
        throw new TruncatedSourceError(`${source} ended at ${startOffset + got}, before ${endOffset}`);
      got += bytesRead;
    }
  } finally {
    await fh.close();
  }
  const found = findJpeg(bytes);
  if (!found) throw new BadContentError(`no complete JPEG (SOI..EOI) in ${source} [${startOffset}, ${endOffset})`);
  return {
    jpeg: bytes.subarray(found.start, found.end),
    start: startOffset + found.start,
    end: startOffset + found.end,
  };
}

/**
 * Copy the JPEG inside [startOffset, endOffset) of `source` to `output`, byte for byte (see readPicture).
 * Returns its size and its absolute offsets in the source; `output` is not left behind on error.
 */
export async function copyPicture(opts: CopyPictureOptions): Promise<{ bytes: number; start: number; end: number }> {
  const { jpeg, start, end } = await readPicture(opts);
  try {
    await fs.writeFile(opts.output, jpeg);
  } catch (err) {
    await removeQuietly(opts.output);
    throw err;
  }
  return { bytes: jpeg.length, start, end };
}

/** Whether `file` holds exactly `bytes` (size first, then content; bounded by the size of `bytes`). */
export async function fileHoldsExactly(file: string, bytes: Uint8Array): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    if ((await fh.stat()).size !== bytes.length) return false;
    const have = Buffer.allocUnsafe(bytes.length);
    const { bytesRead } = await fh.read(have, 0, bytes.length, 0);
    return bytesRead === bytes.length && have.equals(bytes);
  } finally {
    await fh.close();
  }
}

/** Whether `file` is exactly the JPEG the camera stored in `range` (a picture we cannot read proves nothing). */
export async function isCameraPicture(file: string, range: PictureRange): Promise<boolean> {
  try {
    const { jpeg } = await readPicture(range);
    return await fileHoldsExactly(file, jpeg);
  } catch (err) {
    if (err instanceof ShareTimeoutError) throw err; // the share not answering proves nothing either way
    return false;
  }
}
