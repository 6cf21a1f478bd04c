/**
 * Reading the index tables (storage doc section 2): a bounds-checked reader over a byte slice (the header reads its
 * fields through it), and the one decoder each of the 32-byte file record and the 80-byte segment (slot) record.
 * Every read is checked against the slice: an offset outside it is IndexCorruptError naming the offset, never a
 * RangeError from DataView, nor a read of bytes beyond the slice. Little-endian throughout. Pure.
 *
 * A record is checked as a whole (one comparison), then its fields are read straight from the view: a video index
 * of 800 files has 204 800 slots, walked on every scan of a changed index, so the check must stay cheap.
 */
import { IndexCorruptError } from '../errors.js';
import type { CameraTime } from './types.js';

export const FILE_RECORD_SIZE = 32;
export const SEGMENT_RECORD_SIZE = 80;
const ZEROS = Buffer.alloc(64 * 1024);

/** Bytes of an index (or of a part of one) with checked little-endian reads at absolute offsets in the slice. */
export class IndexSlice {
  readonly length: number;
  /** Says in error messages what the bytes are ('index', 'slot records of hiv00003.mp4' ...). */
  readonly what: string;
  /** For the record decoders below, after they checked the whole record; everything else uses the checked reads. */
  readonly view: DataView;

  /** The bytes themselves (for zeroFrom's compare). */
  private readonly bytes: Buffer;

  constructor(bytes: Uint8Array, what = 'index') {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
    this.what = what;
  }

  /** Throws IndexCorruptError unless [at, at + size) lies inside the slice. */
  require(at: number, size: number): void {
    // Written so that NaN and negative offsets fail too.
    if (!(at >= 0 && at + size <= this.length)) {
      throw new IndexCorruptError(`${this.what}: cannot read ${size} bytes at offset ${at} of ${this.length}`);
    }
  }

  /**
   * Whether every byte of [at, end) is zero; false for a range that is not inside the slice (the caller's slot-by-slot
   * reads then fail as they always did). Stops at the first non-zero byte: a caller that asks at the start of each run
   * of empty slots pays for each byte about once.
   */
  zeroFrom(at: number, end: number): boolean {
    if (!(at >= 0 && at <= end && end <= this.length)) return false;
    for (let p = at; p < end; p += ZEROS.length) {
      const n = Math.min(ZEROS.length, end - p);
      if (this.bytes.compare(ZEROS, 0, n, p, p + n) !== 0) return false;
    }
    return true;
  }

  u8(at: number): number {
    this.require(at, 1);
    return this.view.getUint8(at);
  }

  u16(at: number): number {
    this.require(at, 2);
    return this.view.getUint16(at, true);
  }

  u32(at: number): number {
    this.require(at, 4);
    return this.view.getUint32(at, true);
  }

  u64(at: number): bigint {
    this.require(at, 8);
    return this.view.getBigUint64(at, true);
  }
}

/** The fields of a 32-byte file record that the readers use. */
export interface FileRecord {
  /** Equals the record's position in a sound index. */
  fileNo: number;
  /** 0xFFFF = empty record. */
  chan: number;
  /** Index of the LAST used slot (count = segRecNums + 1). */
  segRecNums: number;
  startTime: number;
  endTime: number;
}

/** Decode the file record at byte `at` of the slice. */
export function readFileRecord(slice: IndexSlice, at: number): FileRecord {
  slice.require(at, FILE_RECORD_SIZE);
  const v = slice.view;
  return {
    fileNo: v.getUint32(at, true),
    chan: v.getUint16(at + 4, true),
    segRecNums: v.getUint16(at + 6, true),
    startTime: v.getUint32(at + 8, true),
    endTime: v.getUint32(at + 12, true),
  };
}

/**
 * The fields of an 80-byte segment (slot) record that the readers use. The u64 times are kept as their two
 * halves: low u32 seconds, high u32 microseconds.
 */
export interface SegmentRecord {
  /** 0 = empty slot (0x0D seen for video). */
  type: number;
  start: CameraTime;
  /** 0 while the segment is being recorded. */
  end: CameraTime;
  startOffset: number;
  /** Exclusive; 0 while recording. */
  endOffset: number;
  /** 45 kHz stamps (the 90 kHz PTS halved, u32, wrapping) of the first and the last frame; 0 = not written. */
  firstStamp: number;
  lastStamp: number;
}

/** A zeroed record to decode into, for loops that read many slots without allocating per slot. */
export function newSegmentRecord(): SegmentRecord {
  return {
    type: 0,
    start: { sec: 0, usec: 0 },
    end: { sec: 0, usec: 0 },
    startOffset: 0,
    endOffset: 0,
    firstStamp: 0,
    lastStamp: 0,
  };
}

/**
 * Decode the segment record at byte `at` of the slice into `into` (overwritten and returned; its `start` and
 * `end` objects too, so copy them before keeping them), or into a new record.
 */
export function readSegmentRecord(slice: IndexSlice, at: number, into = newSegmentRecord()): SegmentRecord {
  slice.require(at, SEGMENT_RECORD_SIZE);
  const v = slice.view;
  into.type = v.getUint8(at);
  into.start.sec = v.getUint32(at + 8, true);
  into.start.usec = v.getUint32(at + 12, true);
  into.end.sec = v.getUint32(at + 16, true);
  into.end.usec = v.getUint32(at + 20, true);
  into.firstStamp = v.getUint32(at + 32, true);
  into.lastStamp = v.getUint32(at + 36, true);
  into.startOffset = v.getUint32(at + 40, true);
  into.endOffset = v.getUint32(at + 44, true);
  return into;
}

/** Whether every field the readers use is zero: a slot that was never used. */
export function isZeroed(r: SegmentRecord): boolean {
  return (
    r.type === 0 &&
    r.start.sec === 0 &&
    r.start.usec === 0 &&
    r.end.sec === 0 &&
    r.end.usec === 0 &&
    r.startOffset === 0 &&
    r.endOffset === 0
  );
}
