/**
 * Probing files that already sit in the output folders, to decide what they are without trusting their names:
 * an MP4 (a top-level `moov` box, and the hiksync marker inside it), a whole JPEG (SOI at the start, EOI at the
 * end), or raw MPEG-PS that an older tool saved under `.mp4`. Reads are a few bytes of headers, bounded.
 */
import * as fs from 'node:fs/promises';

/** Prefix of the marker hiksync writes into an MP4's metadata: "hiksync:<recording id>". */
export const MARKER_PREFIX = 'hiksync:';

/** Top-level boxes walked before giving up (an MP4 we write has four). */
const MAX_TOP_LEVEL_BOXES = 64;
/** Largest moov read to look for the marker: moov holds only sample tables, small next to the media. */
const MAX_MOOV_BYTES = 64 * 1024 * 1024;

export type FileKind = 'mp4' | 'jpeg' | 'mpeg-ps' | 'other';

/** What sits at a target name hiksync did not write: decides adopt / replace / leave alone. */
export async function probeFileKind(file: string): Promise<FileKind> {
  const fh = await fs.open(file, 'r');
  try {
    const st = await fh.stat();
    const head = Buffer.alloc(Math.min(16, st.size));
    await fh.read(head, 0, head.length, 0);
    if (head.length >= 4 && head.readUInt32BE(0) === 0x000001ba) return 'mpeg-ps';
    if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
      return (await hasJpegEnds(fh, st.size)) ? 'jpeg' : 'other';
    }
    if (head.length >= 8 && head.toString('latin1', 4, 8) === 'ftyp') {
      return (await findTopLevelBox(fh, st.size, 'moov')) ? 'mp4' : 'other';
    }
    return 'other';
  } finally {
    await fh.close();
  }
}

/** SOI (FF D8 FF) at the start and EOI (FF D9) at the end: a whole JPEG as hiksync copies them. */
export async function hasJpegEnds(fh: fs.FileHandle, size: number): Promise<boolean> {
  if (size < 4) return false;
  const head = Buffer.alloc(3);
  const tail = Buffer.alloc(2);
  await fh.read(head, 0, 3, 0);
  await fh.read(tail, 0, 2, size - 2);
  return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff && tail[0] === 0xff && tail[1] === 0xd9;
}

/**
 * One ISO-BMFF box header read from `hdr` (16 bytes, or fewer at the end of a file) at a place with `room` bytes left
 * in the file: type, whole size (size 1: the 64-bit size follows; size 0: the box runs to the end of the file) and
 * header length. `size < headerLen` is an impossible box; `cut` says the 64-bit size is not there to read.
 */
export function boxHeader(hdr: Buffer, room: number): { type: string; size: number; headerLen: number; cut: boolean } {
  const type = hdr.toString('latin1', 4, 8);
  const size32 = hdr.readUInt32BE(0);
  if (size32 === 1) {
    if (room < 16) return { type, size: 0, headerLen: 16, cut: true };
    return { type, size: Number(hdr.readBigUInt64BE(8)), headerLen: 16, cut: false };
  }
  return { type, size: size32 === 0 ? room : size32, headerLen: 8, cut: false };
}

/** Position and size of the first top-level ISO-BMFF box of `type` (box headers only, bounded count). */
export async function findTopLevelBox(
  fh: fs.FileHandle,
  size: number,
  type: string,
): Promise<{ pos: number; size: number } | null> {
  const hdr = Buffer.alloc(16);
  let pos = 0;
  for (let i = 0; i < MAX_TOP_LEVEL_BOXES && pos + 8 <= size; i++) {
    await fh.read(hdr, 0, 16, pos);
    const box = boxHeader(hdr, size - pos);
    if (box.cut || box.size < box.headerLen) return null;
    if (box.type === type) return { pos, size: box.size };
    pos += box.size;
  }
  return null;
}

/**
 * Why an ISO-BMFF file we just wrote is not complete, or null when it is: its top-level boxes must start with
 * `ftyp`, include `mdat` and `moov`, and tile the file exactly (a box running past the end is a cut write). Reads
 * box headers only. This is the last gate before a file may take its final name: a writer that lost a write
 * (a full disk) must never leave a truncated MP4 that looks done.
 */
export async function mp4StructureProblem(file: string): Promise<string | null> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const hdr = Buffer.alloc(16);
    const seen: string[] = [];
    let pos = 0;
    while (pos < size) {
      if (seen.length >= MAX_TOP_LEVEL_BOXES) return `more than ${MAX_TOP_LEVEL_BOXES} top-level boxes`;
      if (pos + 8 > size) return `${size - pos} stray bytes after the last box`;
      await fh.read(hdr, 0, 16, pos);
      const { type, size: boxSize, headerLen, cut } = boxHeader(hdr, size - pos);
      if (cut) return `box ${type} at ${pos} is cut in its header`;
      if (boxSize < headerLen) return `box ${type} at ${pos} has an impossible size ${boxSize}`;
      if (pos + boxSize > size)
        return `box ${type} at ${pos} needs ${boxSize} bytes, the file ends after ${size - pos}`;
      seen.push(type);
      pos += boxSize;
    }
    if (seen[0] !== 'ftyp') return 'no ftyp box at the start';
    if (!seen.includes('mdat')) return 'no mdat box';
    if (!seen.includes('moov')) return 'no moov box (the muxer did not finish)';
    return null;
  } finally {
    await fh.close();
  }
}

/** The hiksync marker string in an MP4's moov box, or null (bounded read). */
export async function readMp4Marker(file: string): Promise<string | null> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const box = await findTopLevelBox(fh, size, 'moov');
    if (!box) return null;
    const len = Math.min(box.size, MAX_MOOV_BYTES, size - box.pos);
    const moov = Buffer.alloc(len);
    await fh.read(moov, 0, len, box.pos);
    const at = moov.indexOf(MARKER_PREFIX, 0, 'latin1');
    if (at < 0) return null;
    let end = at + MARKER_PREFIX.length;
    while (end < moov.length && isMarkerChar(moov[end])) end++;
    return moov.toString('latin1', at, end);
  } finally {
    await fh.close();
  }
}

/** Recording ids are [0-9a-zA-Z_-]. */
function isMarkerChar(b: number | undefined): boolean {
  return b !== undefined && /[0-9a-zA-Z_-]/.test(String.fromCharCode(b));
}
