/**
 * What the synthetic share writer knows about the share it wrote: the ground truth a correct reader must
 * reproduce, and the records it must NOT turn into files. Plain JSON-safe data.
 */
import type { CameraTime, MediaKind } from '../../lib/hikvision/types.js';
import type { ClockJump } from './ps-writer.js';

export type VideoCodecName = 'h264' | 'h265';
export type AudioChoice = 'aac' | 'alaw' | 'ulaw' | 'g726' | 'g7221' | 'mp2' | 'mp3' | 'pcm' | 'none';

export interface SlotRef {
  datadir: string;
  fileNo: number;
  slot: number;
}

/** One recording (closed video segment) or picture a correct reader must list. */
export interface TruthRecording {
  /** `<camera>/<datadir>/<kind>/<fileNo>/<slot>`: unique within one written share. */
  key: string;
  camera: string;
  /** "datadir0" ... or "." for the SD-card layout. */
  datadir: string;
  kind: MediaKind;
  fileNo: number;
  slot: number;
  /** Data file relative to the share root (forward slashes). */
  source: string;
  start: CameraTime;
  end: CameraTime;
  startOffset: number;
  endOffset: number;
  codec: VideoCodecName | 'jpeg';
  audio: AudioChoice;
  /** Video frames in the segment (pictures: 1). */
  frames: number;
  /** Audio packets (ADTS frames / 40 ms A-law blocks) in the segment. */
  audioFrames: number;
  /** Fixture file the bytes come from ("small-h265.h265", "picture-2.jpg"). */
  fixture: string;
  /** Segment frame i is fixture frame (fixtureFirstFrame + i) % fixtureFrames. */
  fixtureFirstFrame: number;
  fixtureFrames: number;
  /** Recording (event) number of the camera, 0-based, in recording order; pictures: picture number. */
  event: number;
  /** Part of a recording split across hiv files: 0 = first. */
  part: number;
  /** True when the recording continues in the next hiv file (slot 0 there, startOffset 0). */
  continues: boolean;
  /** 45 kHz stamps written in the index (first frame; end = first + frames * 1800, both mod 2^32). */
  firstStamp: number;
  lastStamp: number;
  /** PTS of the segment's first frame as written (mod 2^33). */
  firstPts: number;
  ptsWraps: boolean;
  clockJump?: ClockJump;
  /** Pictures: the exact JPEG (SOI .. EOI inclusive) as [start, end) in the .pic file. */
  jpeg?: { start: number; end: number };
}

/** A slot a correct reader must skip. */
export interface TruthSkippedSlot extends SlotRef {
  kind: MediaKind;
  reason: 'open' | 'stale';
  start: CameraTime;
  end: CameraTime;
  startOffset: number;
  endOffset: number;
  /** Recording that wrote the slot. */
  event: number;
  /** Open slot: bytes of the recording written so far at startOffset. */
  bytesWritten?: number;
}

export interface CameraTruth {
  name: string;
  /** Camera folder relative to the share root. */
  dir: string;
  layout: 'nas' | 'sd';
  datadirs: string[];
  infoBin: boolean;
  codec: VideoCodecName;
  audio: AudioChoice;
  videoFixture: string;
  audioFixture?: string;
  avFiles: number;
  fileSize: number;
  indexVersion: 2 | 3;
  indexSize: number;
  /** 'binary': index00.bin family; 'sqlite': record_db_index00 + event_db_index00 (firmware 5.5+). */
  indexFormat: 'binary' | 'sqlite';
  picture: { slotsPerFile: number; recordSize: number; picFiles: number };
  /** Completed recordings (the `events` option); one more is being recorded now. */
  events: number;
  /** True once the ring has reused a hiv file. */
  ringWrapped: boolean;
  /** Everything a correct reader must list, video and pictures, sorted by start time. */
  recordings: TruthRecording[];
  /** The segment being recorded now (one per camera). */
  open: TruthSkippedSlot[];
  /** Slots left from earlier ring cycles (stale, pointing at overwritten bytes). */
  stale: TruthSkippedSlot[];
  /** hiv files never used (FileRecord chan 0xFFFF, no slots). */
  emptyFiles: Array<{ datadir: string; fileNo: number }>;
}

export interface GroundTruth {
  root: string;
  seed: number;
  cameras: CameraTruth[];
}
