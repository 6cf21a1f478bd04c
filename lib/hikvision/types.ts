/**
 * Plain data shapes shared by the Hikvision readers, the planner and the workers.
 * Everything here is structured-clone safe (no Buffers, no bigint, no class instances).
 */

export type MediaKind = 'video' | 'picture';

/**
 * A camera timestamp: the camera's LOCAL wall-clock seconds written as if they were a Unix epoch,
 * plus microseconds (0..999999). Format with UTC getters to get what the camera's clock showed.
 */
export interface CameraTime {
  sec: number;
  usec: number;
}

/** Why a slot / record / folder was not turned into a recording. Every drop is counted by one. */
export type SkipReason =
  | 'empty' // type 0 / zero times: a never-used slot
  | 'stale' // slot beyond the last used one, or left from an earlier ring cycle
  | 'open' // the segment being recorded now (endTime/endOffset 0)
  | 'bad-time' // end < start, zero start with data ...
  | 'bad-range' // endOffset <= startOffset, or a range that runs over the next slot's start
  | 'short-file' // the range runs past the end of its hiv file: the file is shorter than the index says
  | 'missing-file' // hivNNNNN.mp4/.pic does not exist or cannot be stat'ed
  | 'bad-header' // index header implausible (counts do not fit the file)
  | 'bad-content' // bytes at startOffset are not a pack header / SOI
  | 'unreadable' // I/O error reading an index or folder
  | 'unsupported'; // another storage format (SQLite index, DVR disk image)

export type SkipCounts = Partial<Record<SkipReason, number>>;

/** One real recording (video segment) or picture listed by an index table. */
export interface Recording {
  /** Stable id: changes when the ring reuses the slot for a new recording. */
  id: string;
  /** Camera folder name (not translated). */
  camera: string;
  /** Datadir folder relative to the camera folder: "datadir0", ... or "." for the SD-card layout. */
  datadir: string;
  kind: MediaKind;
  fileNo: number;
  slot: number;
  /** Absolute path of hivNNNNN.mp4 / hivNNNNN.pic. */
  source: string;
  /** Absolute path of the index file the record was read from (index00.bin, index01.bin, index00p.bin ...). */
  indexPath: string;
  /** Slots per hiv file in that index (256 for video; detected for pictures; 0 for a SQLite index). */
  slotsPerFile: number;
  start: CameraTime;
  end: CameraTime;
  /** Byte range in `source`: [startOffset, endOffset). */
  startOffset: number;
  endOffset: number;
  /** Codec where known ('h264' | 'h265' | 'jpeg' ...). */
  codec?: string;
  /**
   * Listed by a SQLite index (record_db_index00 / event_db_index00, firmware 5.5+): a hash of the first bytes of
   * `source` when the scan listed it. The worker's re-check compares it (a new ring cycle rewrites the hiv file from
   * offset 0) instead of reading the database: workers run no SQL.
   */
  sourceHead?: string;
}
