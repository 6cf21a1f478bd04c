/**
 * A live camera for tests: it goes on recording into a share that writeSyntheticShare wrote, one step at a time,
 * the way a camera does, while hiksync reads the share.
 *
 * One step: the recording in progress is written to its end (a few GOPs at a time, the header's current entry
 * updated in between) and closed; the next recording starts and is caught part-way, mid-frame. GOPs that do not
 * fit in the hiv file go to the next one (the recording is split there); after the last hiv file of the last
 * datadir the ring wraps and the oldest file is reused: written from offset 0 while its old slots stay in the
 * index until they are rewritten one by one, the FileRecord only rewritten when the camera moves on.
 *
 * How the index is written: in place (never a new file), only the 16-byte runs that changed, into index00.bin and
 * then index01.bin, with the write counter bumped. Some index writes put the slot records first and the header
 * (with its counter) last, others the header first; some segment starts have their first GOP of bytes written
 * BEFORE the index says the segment exists (`bytesBeforeIndex`), as real cameras do when they reuse a hiv file.
 * The hiv bytes are written unbuffered, in place, one GOP per write.
 *
 * Ground truth: every finished recording with WHEN it was finished (the index write that listed it as closed) and
 * when it was lost (the camera began reusing its hiv file: from then on the index no longer lists it and its bytes
 * are being overwritten). Everything written is a function of the seed (timing aside).
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import {
  CameraRing,
  planRecordings,
  recordSnapshot,
  truthRecording,
  type EventRecorder,
  type HivSink,
} from './camera-sim.js';
import { ShareOptionsError } from './errors.js';
import type { EventPlan } from './event-plan.js';
import { buildIndexTable, indexBytesNeeded } from './index-writer.js';
import { createRng } from './rng.js';
import { cameraLayout, type CameraLayout, type SyntheticCamera } from './share-writer.js';
import type { TruthRecording } from './truth-types.js';

export interface LiveCameraOptions {
  /** Root of the share writeSyntheticShare wrote (and nothing else has written since). */
  root: string;
  /** The seed and camera options given to writeSyntheticShare for this camera. */
  seed: number;
  camera: SyntheticCamera;
  /** Share (0..1) of steps whose segment starts have their first 1-3 GOPs written before the index lists them. Default 0.3. */
  bytesBeforeIndex?: number;
  /** Largest share (0..1) of the next recording written at the end of a step. Default 0.8. */
  maxInProgress?: number;
  /** The clock of the ground truth (ms). Default Date.now. */
  now?: () => number;
}

/** A recording the camera finished, with when it appeared in the index and when the ring took it back. */
export interface LiveRecording extends TruthRecording {
  /** Time (ms) of the index write that listed it as closed; attach time for the share's own recordings. */
  finishedAt: number;
  /** Step that finished it; 0 for the recordings the share already held. */
  finishedStep: number;
  /** Time (ms) the camera started reusing its hiv file: unset while the recording is still on the camera. */
  overwrittenAt?: number;
  overwrittenStep?: number;
}

export interface StepReport {
  step: number;
  /** Recordings (segments) finished in this step. */
  finished: number;
  /** Recordings the ring took back in this step. */
  overwritten: number;
}

const NO_SINK: HivSink = { write: () => Promise.resolve() };
/** Granularity of the index diff: runs of changed 16-byte chunks are written, one write each. */
const DIFF_CHUNK = 16;

/** Writes bytes in place, unbuffered: a reader sees each GOP as soon as it is written. */
class InPlaceSink implements HivSink {
  private readonly handles = new Map<string, FileHandle>();
  constructor(private readonly pathOf: (volume: number, fileNo: number) => string) {}

  async write(volume: number, fileNo: number, offset: number, bytes: Uint8Array): Promise<void> {
    const file = this.pathOf(volume, fileNo);
    let fh = this.handles.get(file);
    if (!fh) this.handles.set(file, (fh = await open(file, 'r+')));
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async close(): Promise<void> {
    for (const fh of this.handles.values()) await fh.close();
    this.handles.clear();
  }
}

/** Byte runs [start, end) where `a` and `b` differ, at DIFF_CHUNK granularity, within the first `length` bytes. */
export function changedRuns(a: Buffer, b: Buffer, length: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let at = 0; at < length; at += DIFF_CHUNK) {
    const end = Math.min(at + DIFF_CHUNK, length);
    if (a.compare(b, at, end, at, end) === 0) continue;
    const last = runs.at(-1);
    if (last && last[1] === at) last[1] = end;
    else runs.push([at, end]);
  }
  return runs;
}

interface VolumeFiles {
  /** index00.bin and index01.bin, open for writing in place. */
  handles: FileHandle[];
  /** The table as last written. */
  bytes: Buffer;
}

export class LiveCamera {
  private stepNo = 0;
  private flushNo = 0;
  private nextEvent: number;
  private plan: EventPlan[] = [];
  private bytesFirst = false;
  /** GOPs still to write before the index is (bytes before index). */
  private deferred = 0;
  private readonly all: LiveRecording[] = [];
  /** Recordings still on the camera, by `<volume>/<fileNo>`. */
  private readonly onCamera = new Map<string, LiveRecording[]>();
  private pendingFinish: LiveRecording[] = [];
  private stepCounts = { finished: 0, overwritten: 0 };
  private closed = false;

  private constructor(
    private readonly o: LiveCameraOptions,
    private readonly layout: CameraLayout,
    private readonly ring: CameraRing,
    private inProgress: EventRecorder,
    private readonly volumes: VolumeFiles[],
    private readonly sink: InPlaceSink,
    private readonly now: () => number,
  ) {
    this.nextEvent = layout.sim.events + 1;
  }

  /**
   * Continue the camera `o.camera` of the share at `o.root`. Its history is replayed from the seed (nothing is
   * written) and the result must be the index on disk byte for byte: a share written with other options, or
   * changed since, is refused.
   */
  static async attach(o: LiveCameraOptions): Promise<LiveCamera> {
    for (const [name, v] of [
      ['bytesBeforeIndex', o.bytesBeforeIndex],
      ['maxInProgress', o.maxInProgress],
    ] as const) {
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new ShareOptionsError(`${name} must be in 0..1, got ${v}`);
    }
    if (o.camera.indexFormat === 'sqlite')
      throw new ShareOptionsError(
        `camera ${o.camera.name}: the live camera writes the binary index (index00.bin) only; a SQLite-index camera is written once by writeSyntheticShare`,
      );
    const layout = await cameraLayout(o.root, o.seed, o.camera);
    const { ring, inProgress } = await recordSnapshot(layout.sim, NO_SINK);
    const volumes: VolumeFiles[] = [];
    const sink = new InPlaceSink((v, f) => layout.dataPath(v, f, 'mp4'));
    try {
      const indexes = ring.indexes();
      for (let v = 0; v < layout.datadirs.length; v++) {
        const dir = path.join(layout.cameraDir, layout.datadirs[v]!);
        const onDisk = await readFile(path.join(dir, 'index00.bin'));
        const replayed = buildIndexTable({ ...indexes[v]!, size: onDisk.length });
        if (!onDisk.equals(replayed)) {
          throw new ShareOptionsError(
            `${dir}/index00.bin is not the index of camera ${o.camera.name} with seed ${o.seed}: write the share with writeSyntheticShare and the same options, and attach before anything else writes to it`,
          );
        }
        const handles = [await open(path.join(dir, 'index00.bin'), 'r+')];
        volumes.push({ handles, bytes: onDisk });
        handles.push(await open(path.join(dir, 'index01.bin'), 'r+'));
      }
    } catch (err) {
      for (const vf of volumes) for (const fh of vf.handles) await fh.close();
      throw err;
    }
    ring.sink = sink;
    const live = new LiveCamera(o, layout, ring, inProgress, volumes, sink, o.now ?? Date.now);
    live.adopt(ring.result().recordings);
    ring.hooks = {
      fileOpened: (v, f, reused) => {
        if (reused) live.lose(v, f);
      },
      segmentBegun: () => live.segmentBegun(),
      blockWritten: () => live.blockWritten(),
      segmentClosed: (v, f, j, meta) => {
        const { sim } = layout;
        live.pendingFinish.push({
          ...truthRecording(sim, v, f, j, meta, sim.video.info.file, sim.video.info.frames),
          finishedAt: NaN,
          finishedStep: live.stepNo,
        });
      },
    };
    return live;
  }

  get camera(): string {
    return this.o.camera.name;
  }

  get steps(): number {
    return this.stepNo;
  }

  /** Every recording (segment) ever finished, with its times; pictures are not the live camera's. */
  recordings(): LiveRecording[] {
    return this.all.map((r) => ({ ...r }));
  }

  /** One step: the recording in progress is finished, the next one begins and is caught in progress. */
  async step(): Promise<StepReport> {
    if (this.closed) throw new ShareOptionsError('the live camera is closed');
    this.stepNo++;
    this.stepCounts = { finished: 0, overwritten: 0 };
    const rng = createRng(this.o.seed, this.o.camera.name, 'live-step', this.stepNo);
    this.bytesFirst = rng.next() < (this.o.bytesBeforeIndex ?? 0.3);
    // The header's current entry follows the recording in progress (its end time moves on).
    while (await this.inProgress.writeBlocks(rng.int(1, 4))) await this.flushIndex();
    this.inProgress.finish();
    const next = this.recorder(this.nextEvent++);
    this.inProgress = next;
    const share = rng.next() * (this.o.maxInProgress ?? 0.8);
    await next.writeBlocks(Math.floor(next.totalBlocks * share));
    await next.writeCut();
    await this.flushIndex();
    return { step: this.stepNo, ...this.stepCounts };
  }

  /** Flushes nothing more (every write was made in place as it happened); closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sink.close();
    for (const vf of this.volumes) for (const fh of vf.handles) await fh.close();
  }

  private recorder(index: number): EventRecorder {
    if (index >= this.plan.length) this.plan = planRecordings(this.layout.sim, Math.max(2 * index, 64));
    return this.ring.record(this.plan[index]!);
  }

  private adopt(recordings: TruthRecording[]): void {
    const at = this.now();
    for (const r of recordings) this.track({ ...r, finishedAt: at, finishedStep: 0 });
  }

  private track(r: LiveRecording): void {
    this.all.push(r);
    const key = `${this.layout.datadirs.indexOf(r.datadir)}/${r.fileNo}`;
    const list = this.onCamera.get(key);
    if (list) list.push(r);
    else this.onCamera.set(key, [r]);
  }

  /** The camera opened hiv file f of volume v again: everything it held is gone from now on. */
  private lose(v: number, f: number): void {
    const list = this.onCamera.get(`${v}/${f}`) ?? [];
    this.onCamera.delete(`${v}/${f}`);
    const at = this.now();
    for (const r of list) {
      r.overwrittenAt = at;
      r.overwrittenStep = this.stepNo;
      this.stepCounts.overwritten++;
    }
  }

  private async segmentBegun(): Promise<void> {
    if (!this.bytesFirst) return this.flushIndex();
    // The first 1-3 GOPs of the segment go to disk before the index says the segment exists.
    this.deferred = createRng(this.o.seed, this.o.camera.name, 'live-defer', this.stepNo, this.flushNo).int(1, 3);
  }

  private async blockWritten(): Promise<void> {
    if (this.deferred === 0 || --this.deferred > 0) return;
    await this.flushIndex();
  }

  /** Write what changed in each volume's index, in place, into index00.bin then index01.bin. */
  private async flushIndex(): Promise<void> {
    this.deferred = 0;
    this.flushNo++;
    const headerLast = createRng(this.o.seed, this.o.camera.name, 'live-flush', this.flushNo).next() < 0.5;
    const indexes = this.ring.indexes();
    const used = indexBytesNeeded(this.layout.sim.avFiles);
    for (let v = 0; v < this.volumes.length; v++) {
      const vf = this.volumes[v]!;
      const length = Math.min(used, vf.bytes.length);
      if (changedRuns(vf.bytes, buildIndexTable({ ...indexes[v]!, size: vf.bytes.length }), length).length === 0)
        continue;
      // Every write of the index moves its write counter (readers use it to detect a torn read).
      this.ring.volumes[v]!.modifyTimes++;
      const bytes = buildIndexTable({ ...this.ring.indexes()[v]!, size: vf.bytes.length });
      const runs = changedRuns(vf.bytes, bytes, length);
      if (headerLast) runs.reverse();
      for (const fh of vf.handles) {
        for (const [start, end] of runs) await fh.write(bytes, start, end - start, start);
      }
      vf.bytes = bytes;
    }
    if (this.pendingFinish.length === 0) return;
    const at = this.now();
    for (const r of this.pendingFinish) {
      r.finishedAt = at;
      this.track(r);
      this.stepCounts.finished++;
    }
    this.pendingFinish = [];
  }
}
