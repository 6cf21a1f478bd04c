/**
 * Pictures of a simulated camera: where each JPEG goes in the hivNNNNN.pic files and the index00p.bin records
 * that list it. Pure planning; the share writer does the writing.
 *
 * Layouts (the slot count per .pic file is disputed between sources, so readers must detect it):
 * - 4096: 80-byte records, 4096 slots per .pic file (default);
 * - 256:  80-byte records, 256 slots per .pic file;
 * - 96:   96-byte records (first 80 bytes as usual), all pictures in one .pic file so the slot count per file
 *         never matters for it.
 * With 4096 and 256 the pictures are spread over two .pic files so the slot stride is visible in the table.
 */
import type { CameraTime } from '../../lib/hikvision/types.js';
import type { PictureFixture } from './fixtures.js';
import {
  placeholderFileRecords,
  type IndexHeader,
  type IndexLayout,
  type SlotEntry,
  type FileRecord,
} from './index-writer.js';
import { createRng } from './rng.js';

export type PictureStride = 4096 | 256 | 96;
export const PICTURE_SEGMENT_TYPE = 0x01;
/** JPEGs start on this alignment in a .pic file; the bytes between are zero padding. */
export const PICTURE_ALIGN = 512;
const PIC_FILE_ROUNDING = 1024 * 1024;

export function pictureLayout(stride: PictureStride): IndexLayout {
  return stride === 96 ? { slotsPerFile: 4096, recordSize: 96 } : { slotsPerFile: stride, recordSize: 80 };
}

export interface PlannedPicture {
  index: number;
  fileNo: number;
  slot: number;
  time: CameraTime;
  fixture: PictureFixture;
  /** SOI .. EOI (inclusive) as [start, end). */
  jpegStart: number;
  jpegEnd: number;
  /** Range the index lists: starts on the SOI, may run into the padding after the EOI. */
  startOffset: number;
  endOffset: number;
}

export interface PicturePlan {
  layout: IndexLayout;
  picFiles: number;
  /** Pre-allocated size of every .pic file. */
  picFileSize: number;
  pictures: PlannedPicture[];
}

export function planPictures(o: {
  seed: number;
  camera: string;
  count: number;
  stride: PictureStride;
  fixtures: readonly PictureFixture[];
  firstStartUsec: number;
}): PicturePlan {
  const layout = pictureLayout(o.stride);
  const perFile =
    o.stride === 96 ? layout.slotsPerFile : Math.max(1, Math.min(layout.slotsPerFile, Math.ceil(o.count / 2)));
  const picFiles = Math.max(1, Math.ceil(o.count / perFile));
  const pictures: PlannedPicture[] = [];
  const fill = new Array<number>(picFiles).fill(0);
  let t = o.firstStartUsec;
  for (let k = 0; k < o.count; k++) {
    const rng = createRng(o.seed, o.camera, 'picture', k);
    // Pictures 1 and 2 are taken in the same second (different microseconds), like two events in a burst.
    t =
      k === 2
        ? t + rng.int(50_000, 150_000)
        : (Math.floor(t / 1e6) + rng.int(20, 600)) * 1e6 + rng.int(0, k === 1 ? 700_000 : 999_999);
    const fixture = o.fixtures[k % o.fixtures.length]!;
    const fileNo = Math.floor(k / perFile);
    const at = fill[fileNo]!;
    const jpegEnd = at + fixture.bytes.length;
    const endOffset = jpegEnd + (k % 3 === 0 ? 0 : rng.int(1, 200));
    fill[fileNo] = Math.ceil((endOffset + 1) / PICTURE_ALIGN) * PICTURE_ALIGN + rng.int(0, 2) * PICTURE_ALIGN;
    const sec = Math.floor(t / 1e6);
    pictures.push({
      index: k,
      fileNo,
      slot: k - fileNo * perFile,
      time: { sec, usec: t - sec * 1e6 },
      fixture,
      jpegStart: at,
      jpegEnd,
      startOffset: at,
      endOffset,
    });
  }
  const picFileSize = Math.max(PIC_FILE_ROUNDING, Math.ceil(Math.max(...fill) / PIC_FILE_ROUNDING) * PIC_FILE_ROUNDING);
  return { layout, picFiles, picFileSize, pictures };
}

/** The picture index: 0xFFFF placeholder FileRecords, no current-file entry, startTime == endTime records. */
export function pictureIndex(
  plan: PicturePlan,
  version: 2 | 3,
  modifyTimes: number,
): { header: IndexHeader; files: FileRecord[]; slots: SlotEntry[] } {
  return {
    header: { modifyTimes, version, avFiles: plan.picFiles, nextFileRecNo: 0, lastFileRecNo: 0, current: null },
    files: placeholderFileRecords(plan.picFiles),
    slots: plan.pictures.map((p) => ({
      fileNo: p.fileNo,
      slot: p.slot,
      record: {
        type: PICTURE_SEGMENT_TYPE,
        start: p.time,
        end: p.time,
        firstKeyFrame: p.time,
        firstStamp: 0,
        lastStamp: 0,
        startOffset: p.startOffset,
        endOffset: p.endOffset,
        infoStartTime: p.time.sec,
        infoEndTime: p.time.sec,
      },
    })),
  };
}
