/**
 * The picture index (index00p.bin / index01p.bin): same header and 32-byte file records as the video index, 80-byte
 * records with startTime == endTime and the byte range at +40/+44. Sources disagree on the slots per .pic file
 * (4096, 256) and one device reportedly packs 96-byte records, so the layout is DETECTED on the data:
 *
 * 1. For each candidate (4096 first, then 256) whose slot area fits in the bytes, check the structure: used slots
 *    form a contiguous run from slot 0, >= 90 % of them are plausible pictures (times, offsets inside the real .pic
 *    size), and no slot after slot 0 starts a new .pic file (startOffset 0, or the offset falling back while time
 *    moves on): that is what a wrong, too large stride looks like, several files' blocks read as one.
 * 2. A too small stride still looks structurally fine (it splits one file's block into several), so a few records
 *    at positions where the two strides disagree about the .pic file are checked for a JPEG SOI (FF D8 FF) at
 *    `.pic[startOffset]` through the caller's probe. At least two thirds of the samples must hit.
 * Neither fitting -> UnsupportedFormatError saying what was seen.
 *
 * Validity rules applied once the layout is known (see readPictureIndex): file records are NOT used (they are
 * often 0xFFFF placeholders); the current-file entry of the header names the .pic being written: slots
 * 0..segNo-1 are candidates, slot segNo is counted 'open' (picked up on a later pass), later slots stale/empty.
 * In other files the used run from slot 0 ends at the first zeroed slot, and a start earlier than the previous
 * one begins a stale tail (rule 5b); then the per-slot rules of slot-rules.ts (type byte not required).
 */
import { IndexCorruptError, UnsupportedFormatError } from '../errors.js';
import { parseIndexHeader, slotOffset, usedIndexLength, type IndexHeader } from './index-header.js';
import type { IndexTable } from './index-table.js';
import { IndexSlice, isZeroed, newSegmentRecord, readSegmentRecord, SEGMENT_RECORD_SIZE } from './record-reader.js';
import { MAX_CLOCK_STEP_BACK_SEC, USEC_PER_SEC, walkFileSlots, type IndexedRecord } from './slot-rules.js';
import type { SkipCounts } from './types.js';

/** Slot counts per .pic file to try, in order. */
export const PICTURE_SLOT_CANDIDATES: readonly number[] = [4096, 256];
/** Slots per file below this index lie at the same place under every candidate stride. */
const SHARED_PREFIX_SLOTS = 256;
export const MAX_SOI_SAMPLES = 3;
const MIN_PLAUSIBLE_RATIO = 0.9;

/** Does `.pic` file `fileNo` hold FF D8 FF at `offset`? Provided by the I/O edge. */
export type SoiProbe = (fileNo: number, offset: number) => boolean | Promise<boolean>;

export interface StrideAssessment {
  slotsPerFile: number;
  fits: boolean;
  used: number;
  plausible: number;
  /** Slots after slot 0 that look like the start of another .pic file. */
  fileStartsInside: number;
  /** Records where this stride and the other candidates disagree about the .pic file (SOI check targets). */
  samples: Array<{ fileNo: number; slot: number; offset: number }>;
  /** Plausible records anywhere (used when no position discriminates). */
  fallbackSamples: Array<{ fileNo: number; slot: number; offset: number }>;
}

export interface PictureLayout {
  slotsPerFile: number;
  /** Why this layout: 'empty' (no used slot under any stride), 'detected'. */
  basis: 'empty' | 'detected';
  soiSampled: number;
  soiHits: number;
}

/** Structural look at the bytes under one stride. Pure and bounded by the byte length. */
export function assessPictureStride(
  bytes: Uint8Array,
  header: IndexHeader,
  slotsPerFile: number,
  picSizes: ReadonlyMap<number, number>,
): StrideAssessment {
  const result: StrideAssessment = {
    slotsPerFile,
    fits: false,
    used: 0,
    plausible: 0,
    fileStartsInside: 0,
    samples: [],
    fallbackSamples: [],
  };
  if (bytes.length < usedIndexLength(header.avFiles, slotsPerFile)) return result;
  result.fits = true;
  const slice = new IndexSlice(bytes, 'picture index');
  const discriminating: Array<{ fileNo: number; slot: number; offset: number }> = [];
  // Decoded into for every slot: a 4096-slot stride reads hundreds of thousands of records.
  const r = newSegmentRecord();
  for (let f = 0; f < header.avFiles; f++) {
    const base = slotOffset(header.avFiles, slotsPerFile, f, 0);
    const size = picSizes.get(f);
    let seenZero = false;
    let prevZeroed = false;
    let prevSec = -1;
    let prevEnd = 0;
    let inTail = false;
    for (let j = 0; j < slotsPerFile; j++) {
      readSegmentRecord(slice, base + j * SEGMENT_RECORD_SIZE, r);
      const { sec: startSec, usec: startUsec } = r.start;
      const { sec: endSec, usec: endUsec } = r.end;
      const { startOffset: so, endOffset: eo } = r;
      if (isZeroed(r)) {
        // The rest of the block all zero bytes: only zeroed slots follow, which change nothing but seenZero. (Asked at
        // the first slot of each empty run: the compare stops at the next non-zero byte.)
        if (!prevZeroed && slice.zeroFrom(base + j * SEGMENT_RECORD_SIZE, base + slotsPerFile * SEGMENT_RECORD_SIZE))
          break;
        seenZero = true;
        prevZeroed = true;
        continue;
      }
      prevZeroed = false;
      result.used++;
      const ok =
        !seenZero &&
        startSec !== 0 &&
        startUsec < USEC_PER_SEC &&
        endUsec < USEC_PER_SEC &&
        (endSec > startSec || (endSec === startSec && endUsec >= startUsec)) &&
        eo > so &&
        (size === undefined || eo <= size);
      if (!ok) continue;
      result.plausible++;
      if (j > 0) {
        // The first picture of a .pic file sits at offset 0: offset 0 after slot 0 means another file's block.
        if (so === 0) result.fileStartsInside++;
        else if (!inTail) {
          const stepBack = prevSec >= 0 ? prevSec - startSec : 0;
          if (stepBack > MAX_CLOCK_STEP_BACK_SEC) inTail = true;
          else if (so < prevEnd) result.fileStartsInside++;
        }
      }
      prevSec = startSec;
      prevEnd = eo;
      if (inTail || so === 0 || size === undefined) continue;
      const sample = { fileNo: f, slot: j, offset: so };
      if (f * slotsPerFile + j >= SHARED_PREFIX_SLOTS) discriminating.push(sample);
      else if (result.fallbackSamples.length < MAX_SOI_SAMPLES) result.fallbackSamples.push(sample);
    }
  }
  result.samples = spread(discriminating, MAX_SOI_SAMPLES);
  return result;
}

/** Up to `n` items spread evenly over the list (first, last, middle ...). */
function spread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.round((i * (items.length - 1)) / (n - 1))]!);
  return out;
}

function structurallyPlausible(a: StrideAssessment): boolean {
  return a.fits && a.used > 0 && a.plausible >= a.used * MIN_PLAUSIBLE_RATIO && a.fileStartsInside === 0;
}

function describe(a: StrideAssessment): string {
  if (!a.fits) return `${a.slotsPerFile} x 80: slot area does not fit in the index`;
  return `${a.slotsPerFile} x 80: ${a.plausible} of ${a.used} used slots plausible, ${a.fileStartsInside} file start(s) inside a block`;
}

/**
 * Detect the slots per .pic file. `picSizes` maps fileNo -> real .pic size; `probe` checks for a JPEG SOI.
 * Throws UnsupportedFormatError when no candidate layout fits the data.
 */
export async function detectPictureLayout(
  bytes: Uint8Array,
  picSizes: ReadonlyMap<number, number>,
  probe: SoiProbe,
): Promise<PictureLayout> {
  const header = parseIndexHeader(bytes);
  const assessments = PICTURE_SLOT_CANDIDATES.map((s) => assessPictureStride(bytes, header, s, picSizes));
  if (!assessments.some((a) => a.fits)) {
    throw new IndexCorruptError(`picture index truncated or implausible: ${assessments.map(describe).join('; ')}`);
  }
  if (assessments.every((a) => !a.fits || a.used === 0)) {
    const first = assessments.find((a) => a.fits)!;
    return { slotsPerFile: first.slotsPerFile, basis: 'empty', soiSampled: 0, soiHits: 0 };
  }
  const seen: string[] = [];
  for (const a of assessments) {
    if (!structurallyPlausible(a)) {
      seen.push(describe(a));
      continue;
    }
    const samples = a.samples.length > 0 ? a.samples : a.fallbackSamples;
    let hits = 0;
    for (const s of samples) if (await probe(s.fileNo, s.offset)) hits++;
    if (samples.length === 0 || hits * 3 >= samples.length * 2) {
      return { slotsPerFile: a.slotsPerFile, basis: 'detected', soiSampled: samples.length, soiHits: hits };
    }
    seen.push(`${describe(a)}, but only ${hits} of ${samples.length} sampled records start with a JPEG SOI`);
  }
  throw new UnsupportedFormatError(
    `picture index layout not recognised (tried ${PICTURE_SLOT_CANDIDATES.join(' and ')} slots of 80 bytes per .pic file; ` +
      `some devices are reported to use 96-byte records, which hiksync does not read): ${seen.join('; ')}`,
  );
}

/** Read the picture table with a known (detected) stride. */
export function readPictureIndex(
  bytes: Uint8Array,
  picSizes: ReadonlyMap<number, number>,
  slotsPerFile: number,
): IndexTable {
  const header = parseIndexHeader(bytes);
  const need = usedIndexLength(header.avFiles, slotsPerFile);
  if (bytes.length < need) {
    throw new IndexCorruptError(
      `picture index truncated: ${header.avFiles} files x ${slotsPerFile} slots need ${need} bytes, only ${bytes.length} present`,
    );
  }
  const slice = new IndexSlice(bytes, 'picture index');
  const records: IndexedRecord[] = [];
  const skipped: SkipCounts = {};
  const current = header.current;
  for (let f = 0; f < header.avFiles; f++) {
    const base = slotOffset(header.avFiles, slotsPerFile, f, 0);
    const fileSize = picSizes.get(f);
    const isCurrent = current !== undefined && current.fileNo === f;
    const segNo = isCurrent ? Math.min(current.segNo, slotsPerFile) : slotsPerFile;
    walkFileSlots(
      slice,
      base,
      {
        fileNo: f,
        slotsPerFile,
        candidates: segNo,
        openSlot: isCurrent && segNo < slotsPerFile ? segNo : -1,
        endAtFirstEmpty: true,
        requireType: false,
        fileSize,
      },
      records,
      skipped,
    );
  }
  return { header, slotsPerFile, records, skipped };
}
