/**
 * The 1280-byte header shared by index00.bin (video) and index00p.bin (pictures), and the arithmetic of where
 * the file and slot records live. Pure: bytes in, values out. All counts here are untrusted input.
 */
import { IndexCorruptError, LimitExceededError, UnsupportedFormatError } from '../errors.js';
import { FILE_RECORD_SIZE, IndexSlice, SEGMENT_RECORD_SIZE } from './record-reader.js';

export { FILE_RECORD_SIZE, SEGMENT_RECORD_SIZE };
export const HEADER_SIZE = 1280;
export const VIDEO_SLOTS_PER_FILE = 256;
export const CURRENT_ENTRY_OFFSET = 24;
export const CURRENT_ENTRY_SIZE = 24;
export const CURRENT_ENTRIES = 49;
/** The channel an IP camera records on (its entry sits at 0x30). */
export const IP_CAMERA_CHANNEL = 1;
/** 0xFFFF in a current-file entry or a file record: nothing there. */
export const UNUSED_U16 = 0xffff;
/** Far above any real datadir (a 16 MiB video index holds about 800 files), small enough to never hurt. */
export const MAX_AV_FILES = 4096;
/** Largest index prefix we ever read into memory (video at MAX_AV_FILES needs about 84 MB). */
export const MAX_INDEX_READ_BYTES = 96 * 1024 * 1024;
/** Format versions seen in the wild; both share this layout. */
export const KNOWN_VERSIONS: readonly number[] = [2, 3];

const SQLITE_MAGIC = 'SQLite format 3\0';

/** The channel's "file being written now" entry. */
export interface CurrentFileEntry {
  /** Entry index 0..48 (the channel). */
  channel: number;
  fileNo: number;
  /** Slot of the segment being recorded now. */
  segNo: number;
  startTime: number;
  endTime: number;
  status: number;
}

export interface IndexHeader {
  /** The u64 write counter as a decimal string (kept off Recording: it changes on every index write). */
  modifyTimes: string;
  version: number;
  avFiles: number;
  nextFileRecNo: number;
  lastFileRecNo: number;
  /** Entries in use (fileNo not 0xFFFF, and not all zero), in channel order. */
  usedEntries: CurrentFileEntry[];
  /** The entry that names the file being written (channel 1 preferred), if any names a file of this index. */
  current?: CurrentFileEntry;
}

/** Header fields (storage doc section 2). */
const MODIFY_TIMES_AT = 0;
const VERSION_AT = 8;
const AV_FILES_AT = 12;
const NEXT_FILE_REC_NO_AT = 16;
const LAST_FILE_REC_NO_AT = 20;

/** The write counter as a decimal string, from the first 8 bytes. */
export function readModifyTimes(bytes: Uint8Array): string {
  if (bytes.length < 8) throw new IndexCorruptError(`index too short for its write counter (${bytes.length} bytes)`);
  return new IndexSlice(bytes, 'index header').u64(MODIFY_TIMES_AT).toString();
}

/** The file count from the first 16 bytes (a cheap "same table?" check; the full header is parseIndexHeader). */
export function readAvFiles(bytes: Uint8Array): number {
  return new IndexSlice(bytes, 'index header').u32(AV_FILES_AT);
}

/** True when the bytes start like a SQLite database (index of firmware 5.5+, or a renamed one). */
export function isSqlite(bytes: Uint8Array): boolean {
  if (bytes.length < SQLITE_MAGIC.length) return false;
  for (let i = 0; i < SQLITE_MAGIC.length; i++) if (bytes[i] !== SQLITE_MAGIC.charCodeAt(i)) return false;
  return true;
}

/**
 * Parse the header. Throws IndexCorruptError (too short, impossible version), LimitExceededError (avFiles past
 * MAX_AV_FILES) or UnsupportedFormatError (SQLite bytes, a small version number we do not know).
 */
export function parseIndexHeader(bytes: Uint8Array): IndexHeader {
  if (isSqlite(bytes)) {
    throw new UnsupportedFormatError(
      'this index is a SQLite database (firmware 5.5+ record_db/event_db format), which hiksync does not read',
    );
  }
  if (bytes.length < HEADER_SIZE) {
    throw new IndexCorruptError(`index truncated: ${bytes.length} bytes, the header alone needs ${HEADER_SIZE}`);
  }
  const v = new IndexSlice(bytes, 'index header');
  const version = v.u32(VERSION_AT);
  if (!KNOWN_VERSIONS.includes(version)) {
    // A small number is plausibly a real but newer/older layout: say so rather than guess at it.
    if (version >= 1 && version <= 16) {
      throw new UnsupportedFormatError(
        `index format version ${version} is not one hiksync knows (${KNOWN_VERSIONS.join(', ')})`,
      );
    }
    throw new IndexCorruptError(`index header is not plausible: version field is ${version}`);
  }
  const avFiles = v.u32(AV_FILES_AT);
  if (avFiles > MAX_AV_FILES) throw new LimitExceededError('avFiles', avFiles, MAX_AV_FILES, 'index header');
  const usedEntries: CurrentFileEntry[] = [];
  for (let k = 0; k < CURRENT_ENTRIES; k++) {
    const entry = readCurrentEntry(v, k);
    if (entry) usedEntries.push(entry);
  }
  const inRange = usedEntries.filter((e) => e.fileNo < avFiles);
  const current = inRange.find((e) => e.channel === IP_CAMERA_CHANNEL) ?? inRange[0];
  const header: IndexHeader = {
    modifyTimes: v.u64(MODIFY_TIMES_AT).toString(),
    version,
    avFiles,
    nextFileRecNo: v.u32(NEXT_FILE_REC_NO_AT),
    lastFileRecNo: v.u32(LAST_FILE_REC_NO_AT),
    usedEntries,
  };
  if (current) header.current = current;
  return header;
}

/** The current-file entry of `channel`, or undefined when it is not in use. */
function readCurrentEntry(v: IndexSlice, channel: number): CurrentFileEntry | undefined {
  const at = CURRENT_ENTRY_OFFSET + channel * CURRENT_ENTRY_SIZE;
  v.require(at, CURRENT_ENTRY_SIZE);
  const fileNo = v.u16(at);
  if (fileNo === UNUSED_U16) return undefined;
  const segNo = v.u16(at + 2);
  const startTime = v.u32(at + 4);
  const endTime = v.u32(at + 8);
  // An all-zero entry was never initialised (a camera writing file 0 slot 0 has a start time): not a channel.
  if (fileNo === 0 && segNo === 0 && startTime === 0 && endTime === 0) return undefined;
  return { channel, fileNo, segNo, startTime, endTime, status: v.u8(at + 12) };
}

/** Byte offset of file record `fileNo`. */
export function fileRecordOffset(fileNo: number): number {
  return HEADER_SIZE + FILE_RECORD_SIZE * fileNo;
}

/** Byte offset of slot `slot` of hiv file `fileNo`. */
export function slotOffset(avFiles: number, slotsPerFile: number, fileNo: number, slot: number): number {
  return HEADER_SIZE + FILE_RECORD_SIZE * avFiles + (fileNo * slotsPerFile + slot) * SEGMENT_RECORD_SIZE;
}

/** Bytes of the index that hold data: header + file records + every slot of every file. The rest is padding. */
export function usedIndexLength(avFiles: number, slotsPerFile: number): number {
  return HEADER_SIZE + FILE_RECORD_SIZE * avFiles + avFiles * slotsPerFile * SEGMENT_RECORD_SIZE;
}
