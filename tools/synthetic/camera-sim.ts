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

interface SlotMeta {
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

interface FileState {
  record: FileRecord;
  slots: Array<SlotMeta | undefined>;
  cycles: number;
}

interface VolumeState {
  files: FileState[];
  lastFile: number;
  modifyTimes: number;
}

interface GopBlock {
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

export async function simulateCamera(o: CameraSimOptions, sink: HivSink): Promise<CameraSimResult> {
  const volumesCount = o.datadirs.length;
  const ringSize = volumesCount * o.avFiles;
  const capacity =
    Math.floor((o.fileSize - Math.ceil(o.fileSize * INFO_AREA_FRACTION)) / SEGMENT_ALIGN) * SEGMENT_ALIGN;
  const info = o.video.info;
  const resolution = info.width >= 640 ? 0x1b : 0x0f;
  const muxRng = createRng(o.seed, o.camera, 'mux');
  const maxPesPayload = muxRng.int(4096, 61440);
  const pesStuffing = muxRng.int(0, 4);
  const privateEvery = muxRng.pick([10, 25, 40]);

  const volumes: VolumeState[] = o.datadirs.map((_, v) => ({
    files: Array.from({ length: o.avFiles }, (_, f) => ({
      record: { fileNo: f, chan: EMPTY_FILE_CHAN, segRecNums: 0, startTime: 0, endTime: 0 },
      slots: [],
      cycles: 0,
    })),
    lastFile: -1,
    modifyTimes: createRng(o.seed, o.camera, 'modify', v).int(1000, 900_000),
  }));

  let pos = 0;
  let slot = 0;
  let offset = 0;
  let ringWrapped = false;
  const vol = () => volumes[Math.floor(pos / o.avFiles)]!;
  const fileNo = () => pos % o.avFiles;
  const file = () => vol().files[fileNo()]!;

  const openFile = () => {
    const f = file();
    if (f.cycles > 0) ringWrapped = true;
    f.cycles++;
    slot = 0;
    offset = 0;
    vol().lastFile = fileNo();
    vol().modifyTimes++;
  };
  const closeFile = () => {
    const f = file();
    const used = f.slots.slice(0, slot) as SlotMeta[];
    if (used.length === 0) throw new ShareOptionsError(`fileSize ${o.fileSize} cannot hold one GOP of ${info.file}`);
    f.record = {
      fileNo: fileNo(),
      chan: IP_CAMERA_CHANNEL,
      segRecNums: used.length - 1,
      startTime: used[0]!.record.start.sec,
      endTime: used.at(-1)!.record.end.sec,
    };
    vol().modifyTimes++;
  };
  const advance = () => {
    closeFile();
    pos = (pos + 1) % ringSize;
    openFile();
  };

  const plan = planEvents({
    seed: o.seed,
    camera: o.camera,
    count: o.events + 1,
    firstStartUsec: o.firstStartUsec,
    fixtureKeyFrames: info.keyFrames,
    gop: info.gop,
    ...(o.lengthMix ? { lengthMix: o.lengthMix } : {}),
  });

  openFile();
  for (const ev of plan) {
    const isOpen = ev.index === o.events;
    const rng = createRng(o.seed, o.camera, 'event-mux', ev.index);
    const mux = new PsMuxer({
      video: o.codec,
      audio: o.audio,
      maxPesPayload,
      pesStuffing,
      packCounter: rng.int(0, 0x7fffffff),
      privateEvery,
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
    const totalBlocks = Math.ceil(ev.frames / info.gop);
    const fullBlocks = isOpen ? Math.floor(totalBlocks * OPEN_WRITTEN_FRACTION) : totalBlocks;

    let seg: SlotMeta | null = null;
    let part = 0;
    const begin = (block: GopBlock): SlotMeta => {
      const start = toCameraTime(ev.startUsec + block.firstFrame * USEC_PER_FRAME_25FPS);
      vol().modifyTimes++;
      return {
        record: {
          type: VIDEO_SEGMENT_TYPE,
          resolution,
          start,
          end: ZERO_TIME,
          firstKeyFrame: start,
          firstStamp: stampOf(ptsOfFrame(ev, block.firstFrame)),
          lastStamp: 0,
          startOffset: offset,
          endOffset: 0,
          infoStartTime: start.sec,
          infoEndTime: 0,
        },
        event: ev,
        part: part++,
        firstFrame: block.firstFrame,
        frames: 0,
        audioFrames: 0,
        continues: false,
        open: false,
        bytesWritten: 0,
      };
    };
    const close = (s: SlotMeta, continues: boolean) => {
      const endFrame = s.firstFrame + s.frames;
      const end = toCameraTime(ev.startUsec + endFrame * USEC_PER_FRAME_25FPS);
      s.record = {
        ...s.record,
        end,
        lastStamp: stampOf(ptsOfFrame(ev, endFrame)),
        endOffset: offset,
        infoEndTime: end.sec,
      };
      s.continues = continues;
      file().slots[slot] = s;
      slot++;
      offset = Math.ceil(offset / SEGMENT_ALIGN) * SEGMENT_ALIGN;
      vol().modifyTimes++;
    };

    let b = 0;
    for (const block of gopBlocks(chunks)) {
      const partial = isOpen && b === fullBlocks;
      // The snapshot catches the camera mid-frame: the open segment ends in a cut frame.
      const bytes = partial ? block.bytes.subarray(0, Math.floor(block.bytes.length / 2) + 1) : block.bytes;
      if (bytes.length > capacity)
        throw new ShareOptionsError(
          `fileSize ${o.fileSize} cannot hold one GOP (${bytes.length} bytes) of ${info.file}`,
        );
      if (seg === null) {
        if (slot >= VIDEO_SLOTS_PER_FILE || offset + bytes.length > capacity) advance();
        seg = begin(block);
      } else if (offset + bytes.length > capacity) {
        close(seg, true);
        advance();
        seg = begin(block);
      }
      await sink.write(Math.floor(pos / o.avFiles), fileNo(), offset, bytes);
      offset += bytes.length;
      seg.bytesWritten += bytes.length;
      if (partial) break;
      seg.frames += block.frames;
      seg.audioFrames += block.audioFrames;
      b++;
    }
    if (!seg) throw new ShareOptionsError(`recording ${ev.index} produced no frames`);
    if (isOpen) {
      seg.open = true;
      file().slots[slot] = seg; // slot segNo: start set, end 0, endOffset 0
    } else {
      close(seg, false);
    }
  }

  return collect(o, volumes, pos, slot, ringWrapped);
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

  const indexes: VolumeIndex[] = volumes.map((vs, v) => {
    const datadir = o.datadirs[v]!;
    const slots: SlotEntry[] = [];
    vs.files.forEach((fs, f) => {
      const isCurrent = v === curVolume && f === curFile;
      const validCount = isCurrent ? curSlot : fs.record.chan === EMPTY_FILE_CHAN ? 0 : fs.record.segRecNums + 1;
      if (!isCurrent && fs.record.chan === EMPTY_FILE_CHAN) emptyFiles.push({ datadir, fileNo: f });
      fs.slots.forEach((meta, j) => {
        if (!meta) return;
        slots.push({ fileNo: f, slot: j, record: meta.record });
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
    return {
      header: headerFor(o, vs, v === curVolume ? { fileNo: curFile, segNo: curSlot } : null),
      files: vs.files.map((f) => f.record),
      slots,
    };
  });
  recordings.sort((a, b) => a.start.sec - b.start.sec || a.start.usec - b.start.usec);
  return { volumes: indexes, recordings, open, stale, emptyFiles, ringWrapped };
}

function truthRecording(
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
