/**
 * Test-only writer of Hikvision index bytes, written straight from the offsets in
 * docs/hikvision-storage.md section 2 (deliberately NOT tools/synthetic: reader and writer must not share a
 * misreading). Little-endian everywhere.
 */

export const HEADER = 1280;
export const FILE_REC = 32;
export const SLOT = 80;

export interface SlotSpec {
  type?: number | undefined;
  start: [sec: number, usec: number];
  end: [sec: number, usec: number];
  startOffset: number;
  endOffset: number;
}

export class IndexBytes {
  readonly buf: Buffer;
  readonly avFiles: number;
  readonly slotsPerFile: number;
  /** Bytes per record (80 in every layout we read; 96 for the refused EZVIZ-style layout). */
  readonly recordSize: number;

  constructor(o: {
    avFiles: number;
    slotsPerFile: number;
    version?: number;
    modifyTimes?: bigint;
    totalSize?: number | undefined;
    recordSize?: number;
  }) {
    this.avFiles = o.avFiles;
    this.slotsPerFile = o.slotsPerFile;
    this.recordSize = o.recordSize ?? SLOT;
    const used = HEADER + FILE_REC * o.avFiles + o.avFiles * o.slotsPerFile * this.recordSize;
    this.buf = Buffer.alloc(Math.max(o.totalSize ?? used, used));
    this.buf.writeBigUInt64LE(o.modifyTimes ?? 1n, 0);
    this.buf.writeUInt32LE(o.version ?? 2, 8);
    this.buf.writeUInt32LE(o.avFiles, 12);
    // Current-file entries: 49 x 24 bytes at 24, fileNo 0xFFFF = unused.
    for (let k = 0; k < 49; k++) this.buf.writeUInt16LE(0xffff, 24 + 24 * k);
    // File records default to the empty marker (chan 0xFFFF).
    for (let f = 0; f < o.avFiles; f++)
      this.fileRecord(f, { fileNo: 0xffffffff, chan: 0xffff, segRecNums: 0xffff, start: 0, end: 0 });
  }

  ring(nextFileRecNo: number, lastFileRecNo: number): this {
    this.buf.writeUInt32LE(nextFileRecNo, 16);
    this.buf.writeUInt32LE(lastFileRecNo, 20);
    return this;
  }

  modifyTimes(n: bigint): this {
    this.buf.writeBigUInt64LE(n, 0);
    return this;
  }

  /** Current-file entry of `channel` (an IP camera uses channel 1, offset 0x30). */
  current(channel: number, fileNo: number, segNo: number, startTime = 0, endTime = 0): this {
    const at = 24 + 24 * channel;
    this.buf.writeUInt16LE(fileNo, at);
    this.buf.writeUInt16LE(segNo, at + 2);
    this.buf.writeUInt32LE(startTime, at + 4);
    this.buf.writeUInt32LE(endTime, at + 8);
    return this;
  }

  fileRecord(f: number, r: { fileNo?: number; chan: number; segRecNums: number; start: number; end: number }): this {
    const at = HEADER + FILE_REC * f;
    this.buf.writeUInt32LE(r.fileNo ?? f, at);
    this.buf.writeUInt16LE(r.chan, at + 4);
    this.buf.writeUInt16LE(r.segRecNums, at + 6);
    this.buf.writeUInt32LE(r.start, at + 8);
    this.buf.writeUInt32LE(r.end, at + 12);
    return this;
  }

  slotAt(f: number, j: number): number {
    return HEADER + FILE_REC * this.avFiles + (f * this.slotsPerFile + j) * this.recordSize;
  }

  slot(f: number, j: number, s: SlotSpec): this {
    const at = this.slotAt(f, j);
    this.buf.writeUInt8(s.type ?? 0x0d, at);
    // u64 times: low u32 seconds, high u32 microseconds.
    this.buf.writeUInt32LE(s.start[0], at + 8);
    this.buf.writeUInt32LE(s.start[1], at + 12);
    this.buf.writeUInt32LE(s.end[0], at + 16);
    this.buf.writeUInt32LE(s.end[1], at + 20);
    this.buf.writeUInt32LE(s.startOffset, at + 40);
    this.buf.writeUInt32LE(s.endOffset, at + 44);
    return this;
  }

  clearSlot(f: number, j: number): this {
    this.buf.fill(0, this.slotAt(f, j), this.slotAt(f, j) + this.recordSize);
    return this;
  }
}
