/**
 * Reassembles video access units (frames) from the elementary-stream bytes of one PES stream.
 *
 * Frame boundaries come from the NAL units themselves (Hikvision writes no access unit delimiters and one NAL per
 * PES): a new access unit starts at the first VCL NAL of a picture (first_mb_in_slice == 0 /
 * first_slice_segment_in_pic_flag) or at a parameter set / SEI / AUD that follows the previous picture's slices.
 *
 * PTS are assigned by elementary-stream position, as ISO 13818-1 defines them: a PES header's PTS belongs to the
 * first access unit that starts in that PES, which is not always the data right after the header (a PES can begin
 * with the tail of the previous frame).
 */
import {
  findStartCode,
  H264,
  H265,
  isFirstSliceOfPicture,
  isKeyNal,
  isVcl,
  nalHeaderLength,
  nalType,
  startsAccessUnit,
  type VideoCodec,
} from './nal.js';
import { MarkQueue } from './pts-marks.js';

export interface AccessUnit {
  /**
   * The whole access unit, owned by the receiver (a copy): Annex B, or 4-byte length-prefixed NAL units when the
   * assembler was made with `lengthPrefixed`. Empty in `views` mode (see `parts`).
   */
  data: Buffer;
  /**
   * `views` mode only: the length-prefixed access unit as views, a 4-byte length field before each NAL payload. The
   * payload views point into the assembler's buffer and stay valid until `release()` (nothing is copied for them).
   */
  parts?: Uint8Array[];
  /** Length of the length-prefixed access unit (`data.length`, or the sum of `parts`). */
  size: number;
  /** 90 kHz 33-bit PTS from the PES that carried the start of this access unit, when it had one. */
  pts?: number;
  dts?: number;
  key: boolean;
  /** The access unit carries the parameter sets needed to start decoding (SPS+PPS, or VPS+SPS+PPS). */
  hasParameterSets: boolean;
}

export interface AssemblerStats {
  accessUnits: number;
  /** Access units before the first key frame with parameter sets. */
  droppedBeforeKey: number;
  /** The unfinished last access unit thrown away at end(). */
  droppedTail: number;
  /** Access units larger than MAX_ACCESS_UNIT_BYTES (corrupt data). */
  droppedOversize: number;
}

/** No real camera frame comes near this; a larger one means a lost start code in corrupt data. */
export const MAX_ACCESS_UNIT_BYTES = 32 * 1024 * 1024;
const INITIAL_CAPACITY = 1024 * 1024;

const PS_SPS = 1;
const PS_PPS = 2;
const PS_VPS = 4;

export class AccessUnitAssembler {
  readonly stats: AssemblerStats = { accessUnits: 0, droppedBeforeKey: 0, droppedTail: 0, droppedOversize: 0 };

  private buf: Buffer;
  private len = 0;
  /** Elementary-stream position of buf[0]. */
  private base = 0;
  private scanPos = 0;
  private readonly marks = new MarkQueue();

  private curStart = -1;
  private curPts: number | undefined;
  private curDts: number | undefined;
  private curHasVcl = false;
  private curKey = false;
  private curParams = 0;
  private started = false;
  private readonly allParams: number;

  /** Start-code positions (in buf) of the current access unit's NAL units, for length-prefixed output. */
  private curNals: number[] = [];
  /** NALs of the current access unit in curNals (the array is reused: no array per frame). */
  private nalCount = 0;
  private readonly lengthPrefixed: boolean;
  private readonly views: boolean;
  /** views mode: elementary-stream position of the first access unit handed out and not yet released, or -1. */
  private pinned = -1;
  /** views mode: the buffer used before the current one, reusable once every view into it is released. */
  private spare: Buffer | null = null;
  private spareFree = false;
  /** Where buffers of a given size come from (the remux passes its pool: a fresh spare per file was garbage). */
  private readonly allocate: (size: number) => Buffer;

  /**
   * `lengthPrefixed`: deliver each access unit as 4-byte-length-prefixed NAL units (the MP4 sample format)
   * instead of Annex B, built in the one copy the receiver owns anyway.
   * `views`: length-prefixed too, but as views into the assembler's own buffer (`parts`), which keeps those bytes in
   * place until the receiver calls `release()`: the bytes pushed are copied once (into that buffer) and never again.
   * `allocate`: gives the buffers the assembler needs beyond the first (the spare of views mode, a grown one); default
   * Buffer.allocUnsafe.
   */
  constructor(
    readonly codec: VideoCodec,
    private readonly onAccessUnit: (au: AccessUnit) => void,
    options: { lengthPrefixed?: boolean; views?: boolean; buffer?: Buffer; allocate?: (size: number) => Buffer } = {},
  ) {
    this.allocate = options.allocate ?? ((size) => Buffer.allocUnsafe(size));
    this.buf = options.buffer ?? this.allocate(INITIAL_CAPACITY);
    this.views = options.views ?? false;
    this.lengthPrefixed = (options.lengthPrefixed ?? false) || this.views;
    this.allParams = codec === 'h264' ? PS_SPS | PS_PPS : PS_SPS | PS_PPS | PS_VPS;
  }

  /**
   * Append elementary-stream bytes. `pts` is given when a PES packet's payload begins with these bytes.
   * `data` may be a view into a reused buffer: it is copied.
   */
  push(data: Uint8Array, pts?: number, dts?: number): void {
    if (pts !== undefined) this.addMark(this.base + this.len, pts, dts);
    if (data.length === 0) return;
    this.append(data);
    this.scan();
  }

  /**
   * End of input. The last access unit is dropped unless the caller knows it is complete: at the end of a byte
   * range it may be cut, and a cut frame is worse than a missing one.
   */
  end(options: { lastComplete?: boolean } = {}): void {
    if (this.curStart >= 0 && this.curHasVcl) {
      if (options.lastComplete) this.finish(this.len);
      else this.stats.droppedTail++;
    }
    this.curStart = -1;
    this.len = 0;
    this.scanPos = 0;
    this.marks.clear();
  }

  /** The working buffers (current and spare), for reuse once the assembler and every view into them are done. */
  buffers(): Buffer[] {
    return this.spare ? [this.buf, this.spare] : [this.buf];
  }

  /** views mode: the receiver is done with every access unit handed out so far; their bytes may be overwritten. */
  release(): void {
    this.pinned = -1;
    this.spareFree = true;
  }

  private addMark(pos: number, pts: number, dts: number | undefined): void {
    // A frame split over several PES packets may repeat its PTS on each: only the first one marks a frame start.
    if (this.curStart >= 0 && this.curPts === pts && pos > this.base + this.curStart) return;
    const m = this.marks;
    if (m.length > 0 && m.ptsAt(m.length - 1) === pts) return;
    m.push(pos, pts, dts ?? NaN);
  }

  private append(data: Uint8Array): void {
    if (this.len + data.length > this.buf.length) this.makeRoom(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  private makeRoom(extra: number): void {
    const keepFrom = Math.max(0, Math.min(this.curStart >= 0 ? this.curStart : this.scanPos, this.scanPos));
    const live = this.len - keepFrom;
    if (this.pinned >= 0) {
      // Access units handed out as views must stay where they are until released: moving bytes inside this buffer
      // would change them under the receiver. The live bytes move to another buffer instead (the spare one when it
      // is free and large enough); the views keep the old one alive, which becomes the spare.
      let cap = this.buf.length;
      while (cap < live + extra) cap *= 2;
      const spare = this.spare;
      const next = spare && this.spareFree && spare.length >= cap ? spare : this.allocate(cap);
      this.buf.copy(next, 0, keepFrom, this.len);
      this.spare = this.buf;
      this.spareFree = false;
      this.buf = next;
      this.shift(keepFrom);
      return;
    }
    if (keepFrom > 0) {
      this.buf.copyWithin(0, keepFrom, this.len);
      this.shift(keepFrom);
    }
    if (this.len + extra > this.buf.length) {
      let cap = this.buf.length;
      while (cap < this.len + extra) cap *= 2;
      const grown = this.allocate(cap);
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
      this.spare = null;
    }
  }

  /** The first `by` bytes of the buffer were dropped. */
  private shift(by: number): void {
    this.len -= by;
    this.base += by;
    this.scanPos -= by;
    if (this.curStart >= 0) this.curStart -= by;
    for (let i = 0; i < this.nalCount; i++) this.curNals[i]! -= by;
  }

  private scan(): void {
    const buf = this.buf;
    // One view bounded by len per scan (not one per start code searched): indexOf has no end bound.
    const filled = this.len === buf.length ? buf : buf.subarray(0, this.len);
    const hdr = nalHeaderLength(this.codec);
    for (;;) {
      const sc = findStartCode(filled, this.scanPos);
      if (sc < 0) {
        this.scanPos = Math.max(this.scanPos, this.len - 2);
        break;
      }
      // Need the NAL header and the first payload byte to classify the NAL.
      if (sc + 3 + hdr + 1 > this.len) {
        this.scanPos = sc;
        break;
      }
      const type = nalType(this.codec, buf[sc + 3]!);
      const vcl = isVcl(this.codec, type);
      const opensPicture = vcl && isFirstSliceOfPicture(buf[sc + 3 + hdr]!);
      if (this.curStart < 0) {
        this.begin(sc);
      } else if (this.curHasVcl && (opensPicture || startsAccessUnit(this.codec, type))) {
        this.finish(sc);
        this.begin(sc);
      } else {
        this.curNals[this.nalCount++] = sc;
      }
      if (vcl) {
        this.curHasVcl = true;
        if (isKeyNal(this.codec, type)) this.curKey = true;
      } else {
        this.curParams |= paramBit(this.codec, type);
      }
      this.scanPos = sc + 3;
    }
    if (this.curStart >= 0 && this.len - this.curStart > MAX_ACCESS_UNIT_BYTES) {
      this.stats.droppedOversize++;
      this.curStart = -1;
      this.nalCount = 0;
    }
    this.dropDeadMarks();
  }

  /**
   * The next access unit starts at a start code at or after scanPos and takes the latest mark up to its start code:
   * of the marks up to there only the last can still be used. Without this a stream with no start codes (corrupt or
   * encrypted payloads) grew the list by one mark per PES for the whole range: memory by PES count, not by frame.
   */
  private dropDeadMarks(): void {
    const limit = this.base + this.scanPos + 3;
    const m = this.marks;
    let dead = 0;
    while (dead + 1 < m.length && m.posAt(dead + 1) <= limit) dead++;
    if (dead > 0) m.dropFront(dead);
  }

  private begin(sc: number): void {
    this.curStart = sc;
    this.curNals[0] = sc;
    this.nalCount = 1;
    this.curHasVcl = false;
    this.curKey = false;
    this.curParams = 0;
    this.curPts = undefined;
    this.curDts = undefined;
    // The latest PTS mark at or before this start code (or inside it: a PES may begin mid start code) is ours.
    const limit = this.base + sc + 3;
    const m = this.marks;
    let taken = 0;
    while (taken < m.length && m.posAt(taken) <= limit) taken++;
    if (taken > 0) {
      this.curPts = m.ptsAt(taken - 1);
      this.curDts = m.dtsAt(taken - 1);
      m.dropFront(taken);
    }
  }

  /** 4-byte big-endian length + payload per NAL (start codes and trailing zero bytes dropped). */
  private lengthPrefixedCopy(end: number): Buffer {
    const buf = this.buf;
    const nals = this.curNals;
    const count = this.nalCount;
    const spans: number[] = [];
    let total = 0;
    for (let i = 0; i < count; i++) {
      const from = nals[i]! + 3;
      let to = i + 1 < count ? nals[i + 1]! : end;
      while (to > from && buf[to - 1] === 0) to--; // trailing zeros belong to the next start code
      if (to <= from) continue;
      spans.push(from, to);
      total += 4 + (to - from);
    }
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    for (let i = 0; i < spans.length; i += 2) {
      const len = spans[i + 1]! - spans[i]!;
      out.writeUInt32BE(len, pos);
      buf.copy(out, pos + 4, spans[i], spans[i + 1]);
      pos += 4 + len;
    }
    return out;
  }

  /**
   * views mode: the current access unit laid out as lengthPrefixedCopy lays it out, as views. A NAL whose start code
   * has a zero byte before it (a 4-byte start code, or a trailing zero of the previous NAL: either way a byte no sample
   * holds, as trailing zeros are cut) gets its length field written IN PLACE over those 4 bytes, so the NALs of a frame
   * (and the frames of a chunk) are one contiguous run of the buffer: one view, and nothing allocated per NAL. A NAL
   * after a 3-byte start code (or at the buffer's first byte) gets a separate 4-byte length field.
   * The bytes overwritten were scanned already and belong to no sample handed out: views are not disturbed.
   */
  private lengthPrefixedViews(end: number): { parts: Uint8Array[]; size: number } {
    const buf = this.buf;
    const nals = this.curNals;
    const count = this.nalCount;
    const parts: Uint8Array[] = [];
    let size = 0;
    let runFrom = -1;
    let runTo = -1;
    for (let i = 0; i < count; i++) {
      const from = nals[i]! + 3;
      let to = i + 1 < count ? nals[i + 1]! : end;
      while (to > from && buf[to - 1] === 0) to--; // trailing zeros belong to the next start code
      if (to <= from) continue;
      const lengthAt = from - 4;
      if (lengthAt >= 0 && buf[lengthAt] === 0) {
        buf.writeUInt32BE(to - from, lengthAt);
        if (runTo !== lengthAt) {
          if (runFrom >= 0) parts.push(buf.subarray(runFrom, runTo));
          runFrom = lengthAt;
        }
      } else {
        if (runFrom >= 0) parts.push(buf.subarray(runFrom, runTo));
        const length = Buffer.allocUnsafe(4);
        length.writeUInt32BE(to - from, 0);
        parts.push(length);
        runFrom = from;
      }
      runTo = to;
      size += 4 + (to - from);
    }
    if (runFrom >= 0) parts.push(buf.subarray(runFrom, runTo));
    return { parts, size };
  }

  private finish(end: number): void {
    const start = this.curStart;
    while (end > start && this.buf[end - 1] === 0) end--; // trailing zeros are the next start code's
    if (end - start > MAX_ACCESS_UNIT_BYTES) {
      // scan() checks the size once per push: a unit that ends in the push that took it past the limit ends here.
      this.stats.droppedOversize++;
      return;
    }
    const key = this.curKey;
    const hasParameterSets = (this.curParams & this.allParams) === this.allParams;
    if (!this.started) {
      if (!(key && hasParameterSets)) {
        this.stats.droppedBeforeKey++;
        return;
      }
      this.started = true;
    }
    let au: AccessUnit;
    if (this.views) {
      const { parts, size } = this.lengthPrefixedViews(end);
      if (this.pinned < 0) this.pinned = this.base + start;
      au = { data: EMPTY, parts, size, key, hasParameterSets };
    } else {
      const data = this.lengthPrefixed ? this.lengthPrefixedCopy(end) : Buffer.from(this.buf.subarray(start, end));
      au = { data, size: data.length, key, hasParameterSets };
    }
    if (this.curPts !== undefined) au.pts = this.curPts;
    if (this.curDts !== undefined) au.dts = this.curDts;
    this.stats.accessUnits++;
    this.onAccessUnit(au);
  }
}

const EMPTY = Buffer.alloc(0);

function paramBit(codec: VideoCodec, type: number): number {
  if (codec === 'h264') return type === H264.SPS ? PS_SPS : type === H264.PPS ? PS_PPS : 0;
  return type === H265.VPS ? PS_VPS : type === H265.SPS ? PS_SPS : type === H265.PPS ? PS_PPS : 0;
}
