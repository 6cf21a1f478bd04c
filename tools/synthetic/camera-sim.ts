/**
 * A simulated camera recording into its ring of pre-allocated hiv files, the way the storage doc describes:
 * segments start 4096-aligned on a key frame, a recording that does not fit is split at a GOP boundary and goes
 * on at offset 0 of the next file, files are reused in ring order without clearing old slots, the current file's
 * FileRecord is only rewritten when the camera moves on, and the last recording is still being written.
 *
 * The bytes go to an injected sink (positional writes); the index state and the ground truth come back as
 * values. Memory stays at one GOP of muxed bytes whatever the file sizes.
 */
import type { CameraTime } from '../../lib/hikvision/types.js';
import type { AudioFixture, VideoFixture } from './fixtures.js';
import { ShareOptionsError } from './errors.js';
import { planEvents, USEC_PER_FRAME_25FPS, type EventPlan } from './event-plan.js';
import {
  EMPTY_FILE_CHAN,
  IP_CAMERA_CHANNEL,
  VIDEO_SEGMENT_TYPE,
  VIDEO_SLOTS_PER_FILE,
  type CurrentFileEntry,
  type FileRecord,
  type IndexHeader,
  type SegmentRecord,
  type SlotEntry,
} from './index-writer.js';
import { FRAME_TICKS_25FPS, muxTimeline, PsMuxer, PTS_MODULO, type MuxChunk } from './ps-writer.js';
import { createRng } from './rng.js';
import type { AudioChoice, TruthRecording, TruthSkippedSlot, VideoCodecName } from './truth-types.js';

export const SEGMENT_ALIGN = 4096;
/** Share of the file kept free at its end for the camera's per-segment info area (not written here). */
export const INFO_AREA_FRACTION = 1 / 64;
/** Share of the open recording's GOPs already written when the snapshot is taken. */
export const OPEN_WRITTEN_FRACTION = 0.6;

export interface HivSink {
  write(volume: number, fileNo: number, offset: number, bytes: Uint8Array): Promise<void>;
}

export interface CameraSimOptions {
  seed: number;
  camera: string;
  codec: VideoCodecName;
  audio: AudioChoice;
  video: VideoFixture;
  audioFixture?: AudioFixture;
  /** Datadir names, one ring volume each, in the order the camera fills them. */
  datadirs: string[];
  avFiles: number;
  fileSize: number;
  /** Completed recordings; one more (the open one) is written partly. */
  events: number;
  firstStartUsec: number;
  /** Recording lengths cycled by recording number (default: event-plan's LENGTH_MIX). */
  lengthMix?: ReadonlyArray<number | 'short'>;
  indexVersion: 2 | 3;
  /** Source path (relative to the share root) of hiv file `fileNo` of volume `volume`. */
  sourceOf(volume: number, fileNo: number): string;
}

export interface VolumeIndex {
  header: IndexHeader;
  files: FileRecord[];
  slots: SlotEntry[];
}

export interface CameraSimResult {
  volumes: VolumeIndex[];
  recordings: TruthRecording[];
  open: TruthSkippedSlot[];
  stale: TruthSkippedSlot[];
  emptyFiles: Array<{ datadir: string; fileNo: number }>;
  ringWrapped: boolean;
}

export interface SlotMeta {
  record: SegmentRecord;
  event: EventPlan;
  part: number;
  firstFrame: number;
  frames: number;
  audioFrames: number;
  continues: boolean;
  open: boolean;
  bytesWritten: number;
}

export interface FileState {
  record: FileRecord;
  slots: Array<SlotMeta | undefined>;
  cycles: number;
}

export interface VolumeState {
  files: FileState[];
  lastFile: number;
  modifyTimes: number;
}

export interface GopBlock {
  firstFrame: number;
  frames: number;
  audioFrames: number;
  bytes: Buffer;
}

/** Group a recording's per-frame chunks into GOPs: the units a segment may start or be split on. */
function* gopBlocks(chunks: Iterable<MuxChunk>): Generator<GopBlock> {
  let parts: Buffer[] = [];
  let first = 0;
  let frames = 0;
  let audio = 0;
  for (const c of chunks) {
    if (c.key && frames > 0) {
      yield { firstFrame: first, frames, audioFrames: audio, bytes: Buffer.concat(parts) };
      parts = [];
      frames = 0;
      audio = 0;
    }
    if (frames === 0) first = c.frame;
    parts.push(c.bytes);
    frames++;
    audio += c.audioFrames;
  }
  if (frames > 0) yield { firstFrame: first, frames, audioFrames: audio, bytes: Buffer.concat(parts) };
}

function toCameraTime(usec: number): CameraTime {
  const sec = Math.floor(usec / 1e6);
  return { sec, usec: usec - sec * 1e6 };
}

const ZERO_TIME: CameraTime = { sec: 0, usec: 0 };

/** PTS of recording frame `frame` as written (mod 2^33), including the recording's clock jump. */
function ptsOfFrame(ev: EventPlan, frame: number): number {
  const jump = ev.clockJump && frame >= ev.clockJump.atFrame ? ev.clockJump.delta : 0;
  const v = ev.firstPts + frame * FRAME_TICKS_25FPS + jump;
  return ((v % PTS_MODULO) + PTS_MODULO) % PTS_MODULO;
}

const stampOf = (pts: number): number => Math.floor(pts / 2) >>> 0;

/** The recordings a camera makes, first `count` of them (deterministic: more later keeps the earlier ones). */
export function planRecordings(o: CameraSimOptions, count: number): EventPlan[] {
  return planEvents({
    seed: o.seed,
    camera: o.camera,
    count,
    firstStartUsec: o.firstStartUsec,
    fixtureKeyFrames: o.video.info.keyFrames,
    gop: o.video.info.gop,
    ...(o.lengthMix ? { lengthMix: o.lengthMix } : {}),
  });
}

/**
 * What a live camera (live-camera.ts) is told while the ring records, so it can write the index at the moments a
 * camera does and keep its ground truth. The one-shot simulation needs none of them.
 */
export interface RingHooks {
  /** A hiv file is opened for writing; `reused`: it held recordings of an earlier cycle, which are now gone. */
  fileOpened?(volume: number, fileNo: number, reused: boolean): void;
  /** A segment was begun (the index gains an open slot): called before its first bytes are written. */
  segmentBegun?(): Promise<void>;
  /** One GOP of bytes was written. */
  blockWritten?(): Promise<void>;
  /** A segment was closed: its slot record is final. */
  segmentClosed?(volume: number, fileNo: number, slot: number, meta: SlotMeta): void;
}

/**
 * The ring of one camera: where the next bytes go (volume, hiv file, slot, offset) and what every slot holds. The
 * recordings themselves are written by an EventRecorder, one GOP at a time.
 */
export class CameraRing {
  readonly volumes: VolumeState[];
  readonly capacity: number;
  hooks: RingHooks = {};
  pos = 0;
  slot = 0;
  offset = 0;
  ringWrapped = false;
  readonly mux: { maxPesPayload: number; pesStuffing: number; privateEvery: number };
  private readonly resolution: number;

  constructor(
    readonly o: CameraSimOptions,
    /** Where the bytes go; a live camera replays the history into nowhere, then writes for real. */
    public sink: HivSink,
  ) {
    this.capacity =
      Math.floor((o.fileSize - Math.ceil(o.fileSize * INFO_AREA_FRACTION)) / SEGMENT_ALIGN) * SEGMENT_ALIGN;
    this.resolution = o.video.info.width >= 640 ? 0x1b : 0x0f;
    const muxRng = createRng(o.seed, o.camera, 'mux');
    const maxPesPayload = muxRng.int(4096, 61440);
    const pesStuffing = muxRng.int(0, 4);
    const privateEvery = muxRng.pick([10, 25, 40]);
    this.mux = { maxPesPayload, pesStuffing, privateEvery };
    this.volumes = o.datadirs.map((_, v) => ({
      files: Array.from({ length: o.avFiles }, (_, f) => ({
        record: { fileNo: f, chan: EMPTY_FILE_CHAN, segRecNums: 0, startTime: 0, endTime: 0 },
        slots: [],
        cycles: 0,
      })),
      lastFile: -1,
      modifyTimes: createRng(o.seed, o.camera, 'modify', v).int(1000, 900_000),
    }));
    this.openFile();
  }

  get volumeNo(): number {
    return Math.floor(this.pos / this.o.avFiles);
  }
  get fileNo(): number {
    return this.pos % this.o.avFiles;
  }
  vol(): VolumeState {
    return this.volumes[this.volumeNo]!;
  }
  private file(): FileState {
    return this.vol().files[this.fileNo]!;
  }

  private openFile(): void {
    const f = this.file();
    const reused = f.cycles > 0;
    if (reused) this.ringWrapped = true;
    f.cycles++;
    this.slot = 0;
    this.offset = 0;
    this.vol().lastFile = this.fileNo;
    this.vol().modifyTimes++;
    this.hooks.fileOpened?.(this.volumeNo, this.fileNo, reused);
  }

  private closeFile(): void {
    const f = this.file();
    const used = f.slots.slice(0, this.slot) as SlotMeta[];
    if (used.length === 0)
      throw new ShareOptionsError(`fileSize ${this.o.fileSize} cannot hold one GOP of ${this.o.video.info.file}`);
    f.record = {
      fileNo: this.fileNo,
      chan: IP_CAMERA_CHANNEL,
      segRecNums: used.length - 1,
      startTime: used[0]!.record.start.sec,
      endTime: used.at(-1)!.record.end.sec,
    };
    this.vol().modifyTimes++;
  }

  /** Close the current hiv file (its FileRecord is written) and open the next one of the ring. */
  advance(): void {
    this.closeFile();
    this.pos = (this.pos + 1) % (this.o.datadirs.length * this.o.avFiles);
    this.openFile();
  }

  /** A segment of `ev` starting with `block` at the write position: the slot holds it, open (end 0). */
  beginSegment(ev: EventPlan, block: GopBlock, part: number): SlotMeta {
    const start = toCameraTime(ev.startUsec + block.firstFrame * USEC_PER_FRAME_25FPS);
    this.vol().modifyTimes++;
    const seg: SlotMeta = {
      record: {
        type: VIDEO_SEGMENT_TYPE,
        resolution: this.resolution,
        start,
        end: ZERO_TIME,
        firstKeyFrame: start,
        firstStamp: stampOf(ptsOfFrame(ev, block.firstFrame)),
        lastStamp: 0,
        startOffset: this.offset,
        endOffset: 0,
        infoStartTime: start.sec,
        infoEndTime: 0,
      },
      event: ev,
      part,
      firstFrame: block.firstFrame,
      frames: 0,
      audioFrames: 0,
      continues: false,
      open: true,
      bytesWritten: 0,
    };
    this.file().slots[this.slot] = seg;
    return seg;
  }

  /** Close the open segment at the write position: end time, end offset, the next slot. */
  closeSegment(s: SlotMeta, continues: boolean): void {
    const ev = s.event;
    const endFrame = s.firstFrame + s.frames;
    const end = toCameraTime(ev.startUsec + endFrame * USEC_PER_FRAME_25FPS);
    s.record = {
      ...s.record,
      end,
      lastStamp: stampOf(ptsOfFrame(ev, endFrame)),
      endOffset: this.offset,
      infoEndTime: end.sec,
    };
    s.continues = continues;
    s.open = false;
    this.file().slots[this.slot] = s;
    const closed = { volume: this.volumeNo, fileNo: this.fileNo, slot: this.slot };
    this.slot++;
    this.offset = Math.ceil(this.offset / SEGMENT_ALIGN) * SEGMENT_ALIGN;
    this.vol().modifyTimes++;
    this.hooks.segmentClosed?.(closed.volume, closed.fileNo, closed.slot, s);
  }

  /** Write at the write position; `advanceBy` false leaves the position (a cut frame the camera will rewrite). */
  async write(bytes: Uint8Array, advanceBy = true): Promise<void> {
    await this.sink.write(this.volumeNo, this.fileNo, this.offset, bytes);
    if (advanceBy) this.offset += bytes.length;
  }

  /** Start recording `ev` (nothing is written until its recorder writes blocks). */
  record(ev: EventPlan): EventRecorder {
    return new EventRecorder(this, ev);
  }

  /** Every volume's index as the camera would have it on disk now (the open segment included). */
  indexes(): VolumeIndex[] {
    return volumeIndexes(this.o, this.volumes, this.pos, this.slot);
  }

  /** The index and the ground truth of the ring as it is now. */
  result(): CameraSimResult {
    return collect(this.o, this.volumes, this.pos, this.slot, this.ringWrapped);
  }
}

/**
 * One recording being written into the ring, GOP by GOP: a GOP that does not fit in the current hiv file closes
 * the segment there (it continues in the next file) and begins a new one at offset 0 of the next file.
 */
export class EventRecorder {
  readonly totalBlocks: number;
  blocksWritten = 0;
  private readonly blocks: Iterator<GopBlock>;
  private peeked: GopBlock | undefined;
  private seg: SlotMeta | null = null;
  private part = 0;
  /** Bytes of the next block already written as a cut frame. */
  private cut = 0;

  constructor(
    private readonly ring: CameraRing,
    readonly ev: EventPlan,
  ) {
    const o = ring.o;
    const info = o.video.info;
    const rng = createRng(o.seed, o.camera, 'event-mux', ev.index);
    const mux = new PsMuxer({
      video: o.codec,
      audio: o.audio,
      maxPesPayload: ring.mux.maxPesPayload,
      pesStuffing: ring.mux.pesStuffing,
      packCounter: rng.int(0, 0x7fffffff),
      privateEvery: ring.mux.privateEvery,
      privateSeed: rng.int(0, 0x7fffffff),
      width: info.width,
      height: info.height,
      sampleRate: o.audioFixture?.info.sampleRate ?? 0,
    });
    const chunks = muxTimeline({
      mux,
      video: o.video.frames,
      firstFrame: ev.fixtureFirstFrame,
      frames: ev.frames,
      firstPts: ev.firstPts,
      ...(ev.clockJump ? { clockJump: ev.clockJump } : {}),
      ...(o.audioFixture ? { audio: o.audioFixture.audio } : {}),
    });
    this.blocks = gopBlocks(chunks);
    this.totalBlocks = Math.ceil(ev.frames / info.gop);
  }

  /** The segment being written (the slot the index shows open), if one was begun. */
  get openSegment(): SlotMeta | null {
    return this.seg;
  }

  private peek(): GopBlock | undefined {
    if (!this.peeked) {
      const n = this.blocks.next();
      if (!n.done) this.peeked = n.value;
    }
    return this.peeked;
  }

  /** Where `block` goes: a new segment when none is open or when it does not fit in this hiv file. */
  private async place(block: GopBlock): Promise<SlotMeta> {
    const ring = this.ring;
    const length = block.bytes.length;
    if (length > ring.capacity)
      throw new ShareOptionsError(
        `fileSize ${ring.o.fileSize} cannot hold one GOP (${length} bytes) of ${ring.o.video.info.file}`,
      );
    let begun = false;
    if (this.seg === null) {
      if (ring.slot >= VIDEO_SLOTS_PER_FILE || ring.offset + length > ring.capacity) ring.advance();
      this.seg = ring.beginSegment(this.ev, block, this.part++);
      begun = true;
    } else if (ring.offset + length > ring.capacity) {
      ring.closeSegment(this.seg, true);
      ring.advance();
      this.seg = ring.beginSegment(this.ev, block, this.part++);
      begun = true;
    }
    if (begun) await ring.hooks.segmentBegun?.();
    return this.seg;
  }

  /** Write up to `n` more GOPs; false when the recording has no more. */
  async writeBlocks(n: number): Promise<boolean> {
    for (let i = 0; i < n; i++) {
      const block = this.peek();
      if (!block) return false;
      const seg = await this.place(block);
      await this.ring.write(block.bytes);
      seg.bytesWritten += block.bytes.length - this.cut;
      this.cut = 0;
      seg.frames += block.frames;
      seg.audioFrames += block.audioFrames;
      this.peeked = undefined;
      this.blocksWritten++;
      await this.ring.hooks.blockWritten?.();
    }
    return this.peek() !== undefined;
  }

  /**
   * Write the first half (and a byte) of the next GOP: the camera caught mid-frame, as a snapshot of a share finds
   * it. The GOP's place is chosen for its whole length, and writing it later rewrites it whole at the same offset.
   */
  async writeCut(): Promise<void> {
    const block = this.peek();
    if (!block) throw new ShareOptionsError(`recording ${this.ev.index} has no GOP left to cut`);
    const seg = await this.place(block);
    const bytes = block.bytes.subarray(0, Math.floor(block.bytes.length / 2) + 1);
    await this.ring.write(bytes, false);
    seg.bytesWritten += bytes.length - this.cut;
    this.cut = bytes.length;
  }

  /** The recording ends: its last segment is closed. */
  finish(): void {
    if (this.peek()) throw new ShareOptionsError(`recording ${this.ev.index} still has GOPs to write`);
    if (!this.seg) throw new ShareOptionsError(`recording ${this.ev.index} produced no frames`);
    this.ring.closeSegment(this.seg, false);
  }
}

export async function simulateCamera(o: CameraSimOptions, sink: HivSink): Promise<CameraSimResult> {
  return (await recordSnapshot(o, sink)).ring.result();
}

/**
 * The camera's history up to the snapshot: `o.events` finished recordings and one in progress (its recorder is
 * returned, so a live camera can go on where the snapshot stopped).
 */
export async function recordSnapshot(
  o: CameraSimOptions,
  sink: HivSink,
): Promise<{ ring: CameraRing; inProgress: EventRecorder }> {
  const ring = new CameraRing(o, sink);
  let inProgress: EventRecorder | undefined;
  for (const ev of planRecordings(o, o.events + 1)) {
    const rec = ring.record(ev);
    if (ev.index === o.events) {
      await rec.writeBlocks(Math.floor(rec.totalBlocks * OPEN_WRITTEN_FRACTION));
      await rec.writeCut();
      inProgress = rec;
    } else {
      await rec.writeBlocks(Infinity);
      rec.finish();
    }
  }
  return { ring, inProgress: inProgress! };
}

function collect(
  o: CameraSimOptions,
  volumes: VolumeState[],
  pos: number,
  curSlot: number,
  ringWrapped: boolean,
): CameraSimResult {
  const recordings: TruthRecording[] = [];
  const open: TruthSkippedSlot[] = [];
  const stale: TruthSkippedSlot[] = [];
  const emptyFiles: CameraSimResult['emptyFiles'] = [];
  const curVolume = Math.floor(pos / o.avFiles);
  const curFile = pos % o.avFiles;
  const info = o.video.info;

  volumes.forEach((vs, v) => {
    const datadir = o.datadirs[v]!;
    vs.files.forEach((fs, f) => {
      const isCurrent = v === curVolume && f === curFile;
      const validCount = isCurrent ? curSlot : fs.record.chan === EMPTY_FILE_CHAN ? 0 : fs.record.segRecNums + 1;
      if (!isCurrent && fs.record.chan === EMPTY_FILE_CHAN) emptyFiles.push({ datadir, fileNo: f });
      fs.slots.forEach((meta, j) => {
        if (!meta) return;
        const ref = {
          datadir,
          fileNo: f,
          slot: j,
          kind: 'video' as const,
          start: meta.record.start,
          end: meta.record.end,
          startOffset: meta.record.startOffset,
          endOffset: meta.record.endOffset,
          event: meta.event.index,
        };
        if (j < validCount) {
          recordings.push(truthRecording(o, v, f, j, meta, info.file, info.frames));
        } else if (isCurrent && j === curSlot) {
          open.push({ ...ref, reason: 'open', bytesWritten: meta.bytesWritten });
        } else {
          stale.push({ ...ref, reason: 'stale' });
        }
      });
    });
  });
  recordings.sort((a, b) => a.start.sec - b.start.sec || a.start.usec - b.start.usec);
  return { volumes: volumeIndexes(o, volumes, pos, curSlot), recordings, open, stale, emptyFiles, ringWrapped };
}

/** Each volume's index: every slot that was ever written (stale ones too), the header with the current entry. */
function volumeIndexes(o: CameraSimOptions, volumes: VolumeState[], pos: number, curSlot: number): VolumeIndex[] {
  const curVolume = Math.floor(pos / o.avFiles);
  const curFile = pos % o.avFiles;
  return volumes.map((vs, v) => {
    const slots: SlotEntry[] = [];
    vs.files.forEach((fs, f) =>
      fs.slots.forEach((meta, j) => {
        if (meta) slots.push({ fileNo: f, slot: j, record: meta.record });
      }),
    );
    return {
      header: headerFor(o, vs, v === curVolume ? { fileNo: curFile, segNo: curSlot } : null),
      files: vs.files.map((f) => f.record),
      slots,
    };
  });
}

export function truthRecording(
  o: CameraSimOptions,
  v: number,
  f: number,
  j: number,
  m: SlotMeta,
  fixture: string,
  fixtureFrames: number,
): TruthRecording {
  const datadir = o.datadirs[v]!;
  const ev = m.event;
  const jumpInside =
    ev.clockJump && ev.clockJump.atFrame > m.firstFrame && ev.clockJump.atFrame < m.firstFrame + m.frames;
  const firstPts = ptsOfFrame(ev, m.firstFrame);
  const lastPts = ptsOfFrame(ev, m.firstFrame + m.frames - 1);
  return {
    key: `${o.camera}/${datadir}/video/${f}/${j}`,
    camera: o.camera,
    datadir,
    kind: 'video',
    fileNo: f,
    slot: j,
    source: o.sourceOf(v, f),
    start: m.record.start,
    end: m.record.end,
    startOffset: m.record.startOffset,
    endOffset: m.record.endOffset,
    codec: o.codec,
    audio: o.audio,
    frames: m.frames,
    audioFrames: m.audioFrames,
    fixture,
    fixtureFirstFrame: (ev.fixtureFirstFrame + m.firstFrame) % fixtureFrames,
    fixtureFrames,
    event: ev.index,
    part: m.part,
    continues: m.continues,
    firstStamp: m.record.firstStamp,
    lastStamp: m.record.lastStamp,
    firstPts,
    ptsWraps: !jumpInside && lastPts < firstPts,
    ...(jumpInside ? { clockJump: ev.clockJump! } : {}),
  };
}

function headerFor(
  o: CameraSimOptions,
  vs: VolumeState,
  current: { fileNo: number; segNo: number } | null,
): IndexHeader {
  let entry: CurrentFileEntry | null = null;
  let last = 0;
  if (current) {
    // Active volume: the file being written and its open slot.
    const fs = vs.files[current.fileNo]!;
    const first = fs.slots[0];
    const openSlot = fs.slots[current.segNo];
    entry = {
      fileNo: current.fileNo,
      segNo: current.segNo,
      startTime: first?.record.start.sec ?? 0,
      endTime: openSlot ? openSlot.record.start.sec + Math.floor(openSlot.frames / 25) : 0,
    };
    last = current.fileNo;
  } else if (vs.lastFile >= 0) {
    // A volume the camera has moved on from: its last file is closed (FileRecord written), and the entry points
    // past its last slot, so reading it by the closed-file rule or by the current-file rule gives the same slots.
    const fs = vs.files[vs.lastFile]!;
    entry = {
      fileNo: vs.lastFile,
      segNo: fs.record.segRecNums + 1,
      startTime: fs.record.startTime,
      endTime: fs.record.endTime,
      status: 0,
    };
    last = vs.lastFile;
  }
  return {
    modifyTimes: vs.modifyTimes,
    version: o.indexVersion,
    avFiles: o.avFiles,
    nextFileRecNo: (last + 1) % o.avFiles,
    lastFileRecNo: last,
    current: entry,
    checksum: createRng(o.seed, o.camera, 'checksum', vs.modifyTimes).int(0, 0x7fffffff),
  };
}
