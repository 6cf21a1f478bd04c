/**
 * The video index (index00.bin / index01.bin): header + 32-byte file records + 256 x 80-byte slots per hiv
 * file, turned into the list of segments that are real (section 3 of the storage doc). Pure: bytes and hiv file
 * sizes in, records and skip counts out.
 */
import { IndexCorruptError } from '../errors.js';
import {
  fileRecordOffset,
  parseIndexHeader,
  slotOffset,
  UNUSED_U16,
  usedIndexLength,
  VIDEO_SLOTS_PER_FILE,
  type IndexHeader,
} from './index-header.js';
import {
  IndexSlice,
  isZeroed,
  newSegmentRecord,
  readFileRecord,
  readSegmentRecord,
  SEGMENT_RECORD_SIZE,
} from './record-reader.js';
import { addSkip, walkFileSlots, type IndexedRecord } from './slot-rules.js';
import type { SkipCounts } from './types.js';

export type { FileRecord } from './record-reader.js';

export interface IndexTable {
  header: IndexHeader;
  slotsPerFile: number;
  records: IndexedRecord[];
  skipped: SkipCounts;
}

/** Throws IndexCorruptError when the bytes are shorter than the part the header says is in use. */
export function requireUsedLength(bytes: Uint8Array, header: IndexHeader, slotsPerFile: number): void {
  const need = usedIndexLength(header.avFiles, slotsPerFile);
  if (bytes.length < need) {
    throw new IndexCorruptError(
      `index truncated or implausible: header says ${header.avFiles} files (${need} bytes with ${slotsPerFile} slots each), only ${bytes.length} bytes present`,
    );
  }
}

/**
 * Read the video table. `hivSizes` maps fileNo -> real size of hivNNNNN.mp4 (absent = missing file).
 * Rules: closed file -> slots 0..segRecNums, skipped when chan is 0xFFFF or segRecNums does not fit a block;
 * current file (header entry) -> its file record is from the previous cycle: slots 0..segNo-1, segNo open;
 * then the per-slot rules and the monotonic-start cross-check of slot-rules.ts.
 */
export function readVideoIndex(bytes: Uint8Array, hivSizes: ReadonlyMap<number, number>): IndexTable {
  const header = parseIndexHeader(bytes);
  const S = VIDEO_SLOTS_PER_FILE;
  // A camera pre-allocates its hiv files when it formats the storage: a video index of none is damaged (or not
  // a recording index), and must say so rather than report "no recordings".
  if (header.avFiles === 0) throw new IndexCorruptError('video index lists 0 hiv files (a camera pre-allocates them)');
  requireUsedLength(bytes, header, S);
  const slice = new IndexSlice(bytes, 'video index');
  const records: IndexedRecord[] = [];
  const skipped: SkipCounts = {};
  const current = header.current;
  for (let f = 0; f < header.avFiles; f++) {
    const base = slotOffset(header.avFiles, S, f, 0);
    const fileSize = hivSizes.get(f);
    if (current && current.fileNo === f) {
      const segNo = Math.min(current.segNo, S);
      const openSlot = segNo < S ? segNo : -1;
      const candidates = segNo;
      walkFileSlots(
        slice,
        base,
        { fileNo: f, slotsPerFile: S, candidates, openSlot, endAtFirstEmpty: false, requireType: true, fileSize },
        records,
        skipped,
      );
      continue;
    }
    const rec = readFileRecord(slice, fileRecordOffset(f));
    if (rec.chan === UNUSED_U16) {
      // An empty file record: zeroed slots were never used, anything else is left from an earlier cycle.
      countUnusableBlock(slice, base, S, skipped, 'stale');
      continue;
    }
    if (rec.fileNo !== f || rec.segRecNums >= S) {
      // A file record that contradicts its own position or block size: nothing in the block can be trusted.
      countUnusableBlock(slice, base, S, skipped, 'bad-header');
      continue;
    }
    const candidates = rec.segRecNums + 1;
    walkFileSlots(
      slice,
      base,
      { fileNo: f, slotsPerFile: S, candidates, openSlot: -1, endAtFirstEmpty: false, requireType: true, fileSize },
      records,
      skipped,
    );
  }
  return { header, slotsPerFile: S, records, skipped };
}

/** Count a block whose file record says nothing usable: zeroed slots are 'empty', the rest `reason`. */
function countUnusableBlock(
  slice: IndexSlice,
  base: number,
  slots: number,
  skipped: SkipCounts,
  reason: 'stale' | 'bad-header',
): void {
  let empty = 0;
  const r = newSegmentRecord();
  for (let j = 0; j < slots; j++) if (isZeroed(readSegmentRecord(slice, base + j * SEGMENT_RECORD_SIZE, r))) empty++;
  addSkip(skipped, 'empty', empty);
  addSkip(skipped, reason, slots - empty);
}
