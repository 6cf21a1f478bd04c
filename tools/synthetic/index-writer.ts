/**
 * Build Hikvision index tables (index00.bin video, index00p.bin pictures) from plain records. Pure: returns the
 * whole pre-allocated table as a Buffer (zeros where the camera has not written). Offsets follow
 * docs/hikvision-storage.md sections 2 and 5, written here independently of the reader in lib/hikvision.
 */
import type { CameraTime } from '../../lib/hikvision/types.js';

export const HEADER_SIZE = 1280;
export const FILE_RECORD_SIZE = 32;
export const SEGMENT_RECORD_SIZE = 80;
export const VIDEO_SLOTS_PER_FILE = 256;
export const CHANNEL_ENTRY_OFFSET = 24;
export const CHANNEL_ENTRY_SIZE = 24;
export const CHANNEL_ENTRIES = 49;
/** An IP camera's recordings are channel 1: its current-file entry sits at 24 + 24 * 1 = 0x30. */
export const IP_CAMERA_CHANNEL = 1;
export const EMPTY_FILE_CHAN = 0xffff;
export const UNUSED_FILE_NO = 0xffff;
export const VIDEO_SEGMENT_TYPE = 0x0d;

export interface CurrentFileEntry {
  fileNo: number;
  /** Slot of the segment being recorded now. */
  segNo: number;
  startTime: number;
  endTime: number;
  status?: number;
  lockedSegNum?: number;
}

export interface IndexHeader {
  modifyTimes: number;
  version: 2 | 3;
  avFiles: number;
  nextFileRecNo: number;
  lastFileRecNo: number;
  /** The channel-1 current-file entry; null writes fileNo 0xFFFF (unused). Other channels are always unused. */
  current: CurrentFileEntry | null;
  /** Value at 1276; the camera's algorithm is unknown and readers ignore it. */
  checksum?: number;
}

export interface FileRecord {
  fileNo: number;
  /** 0xFFFF = empty (never used / placeholder). */
  chan: number;
  /** Index of the LAST used slot (count - 1). */
  segRecNums: number;
  startTime: number;
  endTime: number;
  status?: number;
  lockedSegNum?: number;
}

export interface SegmentRecord {
  type: number;
  status?: number;
  resolution?: number;
  start: CameraTime;
  /** {0,0} while the segment is being recorded. */
  end: CameraTime;
  firstKeyFrame: CameraTime;
  /** 45 kHz stamps (u32, wrap). */
  firstStamp: number;
  lastStamp: number;
  startOffset: number;
  /** 0 while the segment is being recorded. */
  endOffset: number;
  infoStartTime?: number;
  infoEndTime?: number;
  infoStartOffset?: number;
  infoEndOffset?: number;
}

export interface SlotEntry {
  fileNo: number;
  slot: number;
  record: SegmentRecord;
}

export interface IndexLayout {
  /** Slots per hiv file: 256 for video; 4096 or 256 seen for pictures. */
  slotsPerFile: number;
  /** 80, or 96 for the packed picture layout reported on one EZVIZ device (same fields in the first 80). */
  recordSize: number;
}

export const VIDEO_LAYOUT: IndexLayout = { slotsPerFile: VIDEO_SLOTS_PER_FILE, recordSize: SEGMENT_RECORD_SIZE };

export function fileRecordOffset(fileNo: number): number {
  return HEADER_SIZE + FILE_RECORD_SIZE * fileNo;
}

/** `1280 + 32*avFiles + (f*S + j)*recordSize`. */
export function segmentRecordOffset(
  avFiles: number,
  fileNo: number,
  slot: number,
  layout: IndexLayout = VIDEO_LAYOUT,
): number {
  return HEADER_SIZE + FILE_RECORD_SIZE * avFiles + (fileNo * layout.slotsPerFile + slot) * layout.recordSize;
}

/** Bytes the table needs before pre-allocation padding. */
export function indexBytesNeeded(avFiles: number, layout: IndexLayout = VIDEO_LAYOUT): number {
  return segmentRecordOffset(avFiles, avFiles, 0, layout);
}

function writeU16(buf: Buffer, at: number, v: number): void {
  buf.writeUInt16LE(v & 0xffff, at);
}
function writeU32(buf: Buffer, at: number, v: number): void {
  buf.writeUInt32LE(v >>> 0, at);
}
/** u64 time: low u32 = seconds, high u32 = microseconds. */
function writeTime(buf: Buffer, at: number, t: CameraTime): void {
  if (t.usec < 0 || t.usec >= 1_000_000) throw new RangeError(`microseconds out of range: ${t.usec}`);
  writeU32(buf, at, t.sec);
  writeU32(buf, at + 4, t.usec);
}

export function encodeHeader(out: Buffer, h: IndexHeader): void {
  out.writeBigUInt64LE(BigInt(h.modifyTimes), 0);
  writeU32(out, 8, h.version);
  writeU32(out, 12, h.avFiles);
  writeU32(out, 16, h.nextFileRecNo);
  writeU32(out, 20, h.lastFileRecNo);
  for (let k = 0; k < CHANNEL_ENTRIES; k++) {
    const at = CHANNEL_ENTRY_OFFSET + CHANNEL_ENTRY_SIZE * k;
    const entry = k === IP_CAMERA_CHANNEL ? h.current : null;
    if (!entry) {
      writeU16(out, at, UNUSED_FILE_NO);
      continue;
    }
    writeU16(out, at, entry.fileNo);
    writeU16(out, at + 2, entry.segNo);
    writeU32(out, at + 4, entry.startTime);
    writeU32(out, at + 8, entry.endTime);
    out[at + 12] = entry.status ?? 1;
    out[at + 13] = 0;
    writeU16(out, at + 14, entry.lockedSegNum ?? 0);
    // infoTypes (8 bytes) left zero
  }
  writeU32(out, 1276, h.checksum ?? 0);
}

export function encodeFileRecord(out: Buffer, at: number, r: FileRecord): void {
  writeU32(out, at, r.fileNo);
  writeU16(out, at + 4, r.chan);
  writeU16(out, at + 6, r.segRecNums);
  writeU32(out, at + 8, r.startTime);
  writeU32(out, at + 12, r.endTime);
  out[at + 16] = r.status ?? 0;
  out[at + 17] = 0;
  writeU16(out, at + 18, r.lockedSegNum ?? 0);
}

export function encodeSegmentRecord(out: Buffer, at: number, r: SegmentRecord, version: 2 | 3): void {
  out[at] = r.type;
  out[at + 1] = r.status ?? 0;
  writeU32(out, at + 4, r.resolution ?? 0);
  writeTime(out, at + 8, r.start);
  writeTime(out, at + 16, r.end);
  writeTime(out, at + 24, r.firstKeyFrame);
  writeU32(out, at + 32, r.firstStamp);
  writeU32(out, at + 36, r.lastStamp);
  writeU32(out, at + 40, r.startOffset);
  writeU32(out, at + 44, r.endOffset);
  if (version === 3) out.write('OFNI', at + 52, 'latin1');
  writeU32(out, at + 64, r.infoStartTime ?? r.start.sec);
  writeU32(out, at + 68, r.infoEndTime ?? r.end.sec);
  writeU32(out, at + 72, r.infoStartOffset ?? 0);
  writeU32(out, at + 76, r.infoEndOffset ?? 0);
}

export interface IndexTable {
  header: IndexHeader;
  /** One per hiv file, index = fileNo (avFiles of them). */
  files: readonly FileRecord[];
  /** Slots that hold data (any slot not listed stays zero = empty). */
  slots: readonly SlotEntry[];
  layout?: IndexLayout;
  /** Pre-allocated size of the table (zeros after the records); must hold every record. */
  size: number;
}

/** The whole table as the camera leaves it on disk. */
export function buildIndexTable(t: IndexTable): Buffer {
  const layout = t.layout ?? VIDEO_LAYOUT;
  const avFiles = t.header.avFiles;
  if (t.files.length !== avFiles) throw new RangeError(`${t.files.length} file records for avFiles ${avFiles}`);
  const needed = indexBytesNeeded(avFiles, layout);
  if (t.size < needed)
    throw new RangeError(`index size ${t.size} is smaller than the ${needed} bytes its records need`);
  const out = Buffer.alloc(t.size);
  encodeHeader(out, t.header);
  t.files.forEach((r, f) => encodeFileRecord(out, fileRecordOffset(f), r));
  for (const s of t.slots) {
    if (s.fileNo < 0 || s.fileNo >= avFiles || s.slot < 0 || s.slot >= layout.slotsPerFile) {
      throw new RangeError(`slot ${s.fileNo}/${s.slot} outside the table (${avFiles} files x ${layout.slotsPerFile})`);
    }
    encodeSegmentRecord(out, segmentRecordOffset(avFiles, s.fileNo, s.slot, layout), s.record, t.header.version);
  }
  return out;
}

/** FileRecords a picture index carries: 0xFFFF placeholders (readers must not gate pictures on them). */
export function placeholderFileRecords(avFiles: number): FileRecord[] {
  return Array.from({ length: avFiles }, (_, f) => ({
    fileNo: f,
    chan: EMPTY_FILE_CHAN,
    segRecNums: 0,
    startTime: 0,
    endTime: 0,
  }));
}
