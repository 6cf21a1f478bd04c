/**
 * The per-slot validity rules of section 3 of the storage doc, shared by the video and the picture readers.
 * One call walks the slot block of one hiv file and either emits a record or counts a SkipReason for EVERY slot
 * of the block: nothing is dropped silently. Slots that cannot be real are counted without building objects.
 */
import {
  isZeroed,
  newSegmentRecord,
  readSegmentRecord,
  SEGMENT_RECORD_SIZE,
  type IndexSlice,
} from './record-reader.js';
import type { CameraTime, SkipCounts, SkipReason } from './types.js';

/** A slot that passed every rule: a real recording/picture listed by the index. */
export interface IndexedRecord {
  fileNo: number;
  slot: number;
  start: CameraTime;
  end: CameraTime;
  startOffset: number;
  endOffset: number;
}

export const USEC_PER_SEC = 1_000_000;

/**
 * A start that goes back by at most this much, while the bytes continue after the previous slot's end, is the
 * camera's clock stepping back (DST fall-back repeats an hour, NTP corrections), not a stale tail. A stale tail
 * comes from an earlier ring cycle: days or weeks older, far beyond this.
 */
export const MAX_CLOCK_STEP_BACK_SEC = 3600 + 15 * 60;

export interface FileWalk {
  fileNo: number;
  /** Slots in the block (256 for video; detected for pictures). */
  slotsPerFile: number;
  /** Slots [0, candidates) may hold real records; later ones are stale or empty. */
  candidates: number;
  /** The slot being recorded now (counted 'open'), or -1. */
  openSlot: number;
  /** Pictures have no trustworthy last-slot count: the first zeroed slot ends the used run. */
  endAtFirstEmpty: boolean;
  /** Video slots carry a non-zero type; the picture type byte is undocumented and not required. */
  requireType: boolean;
  /** Real size of hivNNNNN.*, undefined when the file is missing. */
  fileSize: number | undefined;
}

export function addSkip(skipped: SkipCounts, reason: SkipReason, n = 1): void {
  if (n > 0) skipped[reason] = (skipped[reason] ?? 0) + n;
}

/**
 * Walk the block of one file starting at byte `base` of `slice` (a block that does not fit in the slice is
 * IndexCorruptError from the reader). Valid records are appended to `out`, every other slot is counted in `skipped`.
 */
export function walkFileSlots(
  slice: IndexSlice,
  base: number,
  w: FileWalk,
  out: IndexedRecord[],
  skipped: SkipCounts,
): void {
  let prevSec = -1;
  let prevUsec = 0;
  let prevEndOffset = 0;
  let staleTail = false;
  let empty = 0;
  let stale = 0;
  // One record decoded into per slot: most slots are empty or stale and must not cost an allocation.
  const r = newSegmentRecord();
  const firstOut = out.length;
  let prevZeroed = false;
  for (let j = 0; j < w.slotsPerFile; j++) {
    readSegmentRecord(slice, base + j * SEGMENT_RECORD_SIZE, r);
    const { type, startOffset, endOffset } = r;
    const { sec: startSec, usec: startUsec } = r.start;
    const { sec: endSec, usec: endUsec } = r.end;
    const zeroed = isZeroed(r);
    // A block is mostly zeroed slots after its used run (a 4096-slot picture block holds a handful of pictures): when
    // every byte from here to the block's end is zero, each of those slots would only count as empty (the open one as
    // open), so they are counted at once instead of decoded one by one.
    if (
      zeroed &&
      !prevZeroed &&
      slice.zeroFrom(base + j * SEGMENT_RECORD_SIZE, base + w.slotsPerFile * SEGMENT_RECORD_SIZE)
    ) {
      const open = w.openSlot >= j && w.openSlot < w.slotsPerFile ? 1 : 0;
      if (open) addSkip(skipped, 'open');
      empty += w.slotsPerFile - j - open;
      break;
    }
    prevZeroed = zeroed;

    if (j === w.openSlot) {
      addSkip(skipped, 'open');
      continue;
    }
    if (j >= w.candidates || staleTail) {
      if (zeroed) empty++;
      else stale++;
      continue;
    }
    if (zeroed || (w.requireType && type === 0)) {
      empty++;
      if (w.endAtFirstEmpty) staleTail = true;
      continue;
    }
    if (startSec === 0 || startUsec >= USEC_PER_SEC || endUsec >= USEC_PER_SEC || (endSec === 0 && endUsec === 0)) {
      addSkip(skipped, 'bad-time');
      continue;
    }
    if (endSec < startSec || (endSec === startSec && endUsec < startUsec)) {
      addSkip(skipped, 'bad-time');
      continue;
    }
    // Rule 5b: a start earlier than the previous slot's begins a stale tail, unless it is a short clock step
    // back with the bytes still moving forward.
    if (prevSec >= 0 && (startSec < prevSec || (startSec === prevSec && startUsec < prevUsec))) {
      const clockStep = prevSec - startSec <= MAX_CLOCK_STEP_BACK_SEC && startOffset >= prevEndOffset;
      if (!clockStep) {
        staleTail = true;
        stale++;
        continue;
      }
    }
    prevSec = startSec;
    prevUsec = startUsec;
    if (endOffset <= startOffset) {
      addSkip(skipped, 'bad-range');
      continue;
    }
    prevEndOffset = endOffset;
    if (w.fileSize === undefined) {
      addSkip(skipped, 'missing-file');
      continue;
    }
    if (endOffset > w.fileSize) {
      addSkip(skipped, 'short-file');
      continue;
    }
    out.push({
      fileNo: w.fileNo,
      slot: j,
      start: { sec: startSec, usec: startUsec },
      end: { sec: endSec, usec: endUsec },
      startOffset,
      endOffset,
    });
  }
  addSkip(skipped, 'empty', empty);
  addSkip(skipped, 'stale', stale);
  dropOverlaps(out, firstOut, skipped);
}

/**
 * A camera writes a file's segments one after another: a range that runs over the start of the next listed one
 * cannot be real (a corrupt end offset would make one output of several recordings). The earlier record is the
 * suspect one (the later start was written after it): dropped as 'bad-range'.
 */
function dropOverlaps(out: IndexedRecord[], from: number, skipped: SkipCounts): void {
  let kept = from;
  for (let i = from; i < out.length; i++) {
    const rec = out[i]!;
    const next = out[i + 1];
    if (next !== undefined && rec.endOffset > next.startOffset) {
      addSkip(skipped, 'bad-range');
      continue;
    }
    out[kept++] = rec;
  }
  out.length = kept;
}
