/**
 * The golden video index: 8 hiv files x 256 slots, one trap per file, built byte by byte with index-bytes.ts.
 * Expected recordings and skip counts below are written out by hand from the storage doc's rules.
 *
 *   file 0  closed, segRecNums 3: slots 0-3 real (1 and 2 start in the same second), 4-6 stale leftovers
 *   file 1  closed, segRecNums 2, real size 64 MiB: slot 0 continues file 0 slot 3 (split), slot 2 ends past 64 MiB
 *   file 2  closed, segRecNums 4: slot 2 starts 3 days before slot 1 -> slots 2-4 are a stale tail
 *   file 3  empty file record (chan 0xFFFF) with one leftover slot
 *   file 4  closed, segRecNums 1, hiv00004.mp4 missing
 *   file 5  CURRENT (channel 1 entry: segNo 2); its file record is stale (segRecNums 10 from the last cycle)
 *   file 6  closed, segRecNums 5: end < start, usec >= 1e6, empty range, type 0, end 0
 *   file 7  closed, segRecNums 1: clock stepped back 55 min (DST) between slot 0 and 1, bytes continue
 */
import { IndexBytes } from './index-bytes.js';

export const T = 1_700_000_000;
export const MIB = 1024 * 1024;
export const HIV_SIZE = 256 * MIB;
export const AV_FILES = 8;

export interface Expected {
  fileNo: number;
  slot: number;
  start: { sec: number; usec: number };
  end: { sec: number; usec: number };
  startOffset: number;
  endOffset: number;
}

export function goldenIndex(): IndexBytes {
  const ix = new IndexBytes({ avFiles: AV_FILES, slotsPerFile: 256, modifyTimes: 4242n });
  ix.ring(6, 5).current(1, 5, 2, T + 100200);

  ix.fileRecord(0, { chan: 1, segRecNums: 3, start: T, end: T + 260 });
  ix.slot(0, 0, { start: [T, 0], end: [T + 60, 0], startOffset: 0, endOffset: 409600 });
  ix.slot(0, 1, { start: [T + 100, 250000], end: [T + 100, 600000], startOffset: 409600, endOffset: 413696 });
  ix.slot(0, 2, { start: [T + 100, 750000], end: [T + 130, 0], startOffset: 413696, endOffset: 417792 });
  ix.slot(0, 3, { start: [T + 200, 0], end: [T + 260, 500000], startOffset: 417792, endOffset: HIV_SIZE });
  ix.slot(0, 4, { start: [T - 900000, 0], end: [T - 899940, 0], startOffset: 8192000, endOffset: 8601600 });
  ix.slot(0, 5, { start: [T - 899900, 0], end: [T - 899800, 0], startOffset: 8601600, endOffset: 9011200 });
  ix.slot(0, 6, { start: [T - 899700, 0], end: [T - 899600, 0], startOffset: 9011200, endOffset: 9420800 });

  ix.fileRecord(1, { chan: 1, segRecNums: 2, start: T + 260, end: T + 560 });
  ix.slot(1, 0, { start: [T + 260, 500000], end: [T + 300, 0], startOffset: 0, endOffset: 1048576 });
  ix.slot(1, 1, { start: [T + 400, 0], end: [T + 460, 0], startOffset: 1048576, endOffset: 2097152 });
  ix.slot(1, 2, { start: [T + 500, 0], end: [T + 560, 0], startOffset: 2097152, endOffset: 70 * MIB });

  ix.fileRecord(2, { chan: 1, segRecNums: 4, start: T + 20000, end: T + 20360 });
  ix.slot(2, 0, { start: [T + 20000, 0], end: [T + 20060, 0], startOffset: 0, endOffset: 409600 });
  ix.slot(2, 1, { start: [T + 20100, 0], end: [T + 20160, 0], startOffset: 409600, endOffset: 819200 });
  ix.slot(2, 2, {
    start: [T + 20100 - 3 * 86400, 0],
    end: [T + 20160 - 3 * 86400, 0],
    startOffset: 819200,
    endOffset: 1228800,
  });
  ix.slot(2, 3, { start: [T + 20200, 0], end: [T + 20260, 0], startOffset: 1228800, endOffset: 1638400 });
  ix.slot(2, 4, { start: [T + 20300, 0], end: [T + 20360, 0], startOffset: 1638400, endOffset: 2048000 });

  // file 3: file record left empty (chan 0xFFFF) by the constructor
  ix.slot(3, 0, { start: [T - 500000, 0], end: [T - 499940, 0], startOffset: 0, endOffset: 409600 });

  ix.fileRecord(4, { chan: 1, segRecNums: 1, start: T + 40000, end: T + 40160 });
  ix.slot(4, 0, { start: [T + 40000, 0], end: [T + 40060, 0], startOffset: 0, endOffset: 409600 });
  ix.slot(4, 1, { start: [T + 40100, 0], end: [T + 40160, 0], startOffset: 409600, endOffset: 819200 });

  ix.fileRecord(5, { chan: 1, segRecNums: 10, start: T - 800000, end: T - 798900 });
  ix.slot(5, 0, { start: [T + 100000, 0], end: [T + 100060, 0], startOffset: 0, endOffset: 409600 });
  ix.slot(5, 1, { start: [T + 100100, 0], end: [T + 100160, 0], startOffset: 409600, endOffset: 819200 });
  ix.slot(5, 2, { start: [T + 100200, 0], end: [0, 0], startOffset: 819200, endOffset: 0 });
  for (let j = 3; j <= 10; j++) {
    ix.slot(5, j, {
      start: [T - 800000 + 100 * j, 0],
      end: [T - 800000 + 100 * j + 60, 0],
      startOffset: 409600 * j,
      endOffset: 409600 * (j + 1),
    });
  }

  ix.fileRecord(6, { chan: 1, segRecNums: 5, start: T + 60000, end: T + 60560 });
  ix.slot(6, 0, { start: [T + 60000, 0], end: [T + 60060, 0], startOffset: 0, endOffset: 409600 });
  ix.slot(6, 1, { start: [T + 60100, 0], end: [T + 60050, 0], startOffset: 409600, endOffset: 819200 });
  ix.slot(6, 2, { start: [T + 60200, 1000000], end: [T + 60260, 0], startOffset: 819200, endOffset: 1228800 });
  ix.slot(6, 3, { start: [T + 60300, 0], end: [T + 60360, 0], startOffset: 819200, endOffset: 819200 });
  ix.slot(6, 4, { type: 0, start: [T + 60400, 0], end: [T + 60460, 0], startOffset: 1228800, endOffset: 1638400 });
  ix.slot(6, 5, { start: [T + 60500, 0], end: [0, 0], startOffset: 1638400, endOffset: 2048000 });

  ix.fileRecord(7, { chan: 1, segRecNums: 1, start: T + 70000, end: T + 70300 });
  ix.slot(7, 0, { start: [T + 70000, 0], end: [T + 70300, 0], startOffset: 0, endOffset: 409600 });
  ix.slot(7, 1, { start: [T + 66705, 0], end: [T + 66765, 0], startOffset: 409600, endOffset: 819200 });
  return ix;
}

/** Real hiv sizes: file 1 is short, file 4 is missing. */
export function goldenSizes(): Map<number, number> {
  return new Map([
    [0, HIV_SIZE],
    [1, 64 * MIB],
    [2, HIV_SIZE],
    [3, HIV_SIZE],
    [5, HIV_SIZE],
    [6, HIV_SIZE],
    [7, HIV_SIZE],
  ]);
}

const r = (
  fileNo: number,
  slot: number,
  s: [number, number],
  e: [number, number],
  startOffset: number,
  endOffset: number,
): Expected => ({
  fileNo,
  slot,
  start: { sec: s[0], usec: s[1] },
  end: { sec: e[0], usec: e[1] },
  startOffset,
  endOffset,
});

/** In file order (the reader's order); sort by time for the scanner's. */
export const GOLDEN_RECORDS: Expected[] = [
  r(0, 0, [T, 0], [T + 60, 0], 0, 409600),
  r(0, 1, [T + 100, 250000], [T + 100, 600000], 409600, 413696),
  r(0, 2, [T + 100, 750000], [T + 130, 0], 413696, 417792),
  r(0, 3, [T + 200, 0], [T + 260, 500000], 417792, HIV_SIZE),
  r(1, 0, [T + 260, 500000], [T + 300, 0], 0, 1048576),
  r(1, 1, [T + 400, 0], [T + 460, 0], 1048576, 2097152),
  r(2, 0, [T + 20000, 0], [T + 20060, 0], 0, 409600),
  r(2, 1, [T + 20100, 0], [T + 20160, 0], 409600, 819200),
  r(5, 0, [T + 100000, 0], [T + 100060, 0], 0, 409600),
  r(5, 1, [T + 100100, 0], [T + 100160, 0], 409600, 819200),
  r(6, 0, [T + 60000, 0], [T + 60060, 0], 0, 409600),
  r(7, 0, [T + 70000, 0], [T + 70300, 0], 0, 409600),
  r(7, 1, [T + 66705, 0], [T + 66765, 0], 409600, 819200),
];

/**
 * stale: file 0 slots 4-6 (3) + file 2 slots 2-4 (3) + file 3 slot 0 (1) + file 5 slots 3-10 (8) = 15
 * empty: zeroed slots 249 + 253 + 251 + 255 + 254 + 245 + 250 + 254, plus file 6's type-0 slot = 2012
 */
export const GOLDEN_SKIPPED = {
  stale: 15,
  empty: 2012,
  open: 1,
  'bad-range': 1,
  'short-file': 1,
  'missing-file': 2,
  'bad-time': 3,
};
