/**
 * The worker's task (Piscina entry point): one task = one output file. Slice the byte range, remux (video) or
 * copy (picture) into a temporary file in the output folder, check that the camera did not rewrite the slot
 * meanwhile, fsync, set the mtime, rename to the final name.
 *
 * Every failure is returned as its error code (lib/errors.ts), because error classes do not survive the worker
 * boundary, and leaves no temporary file behind. `extract` is exported for in-process tests and the benchmark.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { errorCodeOf, ForeignFileError, HiksyncError, messageOf, SourceChangedError } from '../lib/errors.js';
import { exists, fsyncFile, removeQuietly } from '../lib/files.js';
import type { SeenPts } from '../lib/hikvision/recording.js';
import { recheckRecording } from '../lib/hikvision/source.js';
import { copyPicture, isCameraPicture } from '../lib/media/jpeg.js';
import { mp4StructureProblem, probeFileKind } from '../lib/media/probe.js';
import { MAX_POOLED_BYTES } from '../lib/media/buffer-pool.js';
import { remuxRange } from '../lib/media/remux.js';
import type { ExtractResult, ExtractTask } from '../lib/pipeline/task.js';
import { createShareIo, ShareGate } from '../lib/share-io.js';

export default async function extractTask(task: ExtractTask): Promise<ExtractResult> {
  try {
    return await extract(task);
  } finally {
    collectIfGrown();
  }
}

/**
 * ArrayBuffer bytes a worker lets the files it finished leave behind before it runs a full GC (between two files):
 * beyond the buffer pool's 5 MiB. What a file allocates and keeps for its whole length (sample tables, FLAC frames,
 * the moov) is promoted to the old generation, where V8 frees dead ArrayBuffers only at a full GC, and it starts one
 * for external memory only after 64 MB more than at the last: so each worker's RSS crept up by tens of MB with the
 * amount of data (peak RSS at 4x data 1.42 x that at 1x). A full GC of a worker's ~10 MB heap takes a few ms.
 */
export const WORKER_GARBAGE_BYTES = 8 * 1024 * 1024;

let fullGc: (() => void) | null | undefined;

/** V8's full GC: `gc` exposed in a fresh context for this thread only (the flag is off again at once). */
function fullGcFunction(): (() => void) | null {
  if (fullGc !== undefined) return fullGc;
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return (fullGc = exposed as () => void);
  try {
    v8.setFlagsFromString('--expose-gc');
    fullGc = vm.runInNewContext('gc') as () => void;
  } catch {
    fullGc = null;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  return fullGc;
}

function collectIfGrown(): void {
  if (process.memoryUsage().arrayBuffers <= MAX_POOLED_BYTES + WORKER_GARBAGE_BYTES) return;
  fullGcFunction()?.();
}

export async function extract(task: ExtractTask, signal?: AbortSignal): Promise<ExtractResult> {
  const rec = task.recording;
  let bytesRead = 0;
  // Every read of the camera share has the pass's time limit: a hung share fails the task, it does not hang it.
  const io = createShareIo(
    task.shareTimeoutMs,
    undefined,
    task.shareGates?.map((b) => new ShareGate(b)),
  );
  const beats = task.heartbeat ? new Int32Array(task.heartbeat) : undefined;
  const beat = () => void (beats && Atomics.add(beats, 0, 1));
  beat(); // taken: from now on the watchdog's stall limit applies (lib/pipeline/run-pass.ts)
  if (task.cameraStopped && Atomics.load(new Int32Array(task.cameraStopped), 0) === 1) {
    const message = `not tried: the camera share stopped answering earlier in this pass`;
    return { status: 'failed', reason: 'input-unavailable', message, bytesRead };
  }
  try {
    await prepareOutput(task.tempAbs);
    let replacedLegacy = false;
    if (task.mode === 'foreign') {
      const kind = await probeFileKind(task.outputAbs);
      // A JPEG is adopted only when it IS the camera's picture (byte for byte); an MP4 of an older tool cannot be
      // compared with the source, so --adopt-existing (the user's explicit choice) takes a complete one as it is.
      const adoptable = kind === 'mp4' || (kind === 'jpeg' && (await isCameraPicture(task.outputAbs, { ...rec, io })));
      if (adoptable) {
        const st = await fs.stat(task.outputAbs);
        return { status: 'adopted', bytesRead: 0, bytesWritten: st.size };
      }
      if (kind === 'jpeg') {
        throw new ForeignFileError(`${task.outputAbs} is a JPEG, but not the camera's picture: left alone`);
      }
      if (kind !== 'mpeg-ps') {
        throw new ForeignFileError(
          `${task.outputAbs} exists, was not written by hiksync and is not an MP4, JPEG or raw MPEG-PS file: left alone`,
        );
      }
      replacedLegacy = true;
    }

    let result: ExtractResult;
    let seen: SeenPts | undefined;
    if (rec.kind === 'video') {
      const r = await remuxRange({
        source: rec.source,
        startOffset: rec.startOffset,
        endOffset: rec.endOffset,
        output: task.tempAbs,
        container: task.container,
        ...(task.audio ? { audio: task.audio } : {}),
        marker: task.marker,
        // The movie's own dates (what photo libraries sort by) are the recording's start, like the file's mtime.
        creationTime: new Date(task.mtimeMs),
        io,
        onProgress: beat,
        ...(signal ? { signal } : {}),
      });
      beat();
      bytesRead = r.bytesRead;
      if (r.firstPts !== undefined && r.lastPts !== undefined) seen = { first: r.firstPts, last: r.lastPts };
      const problem = await mp4StructureProblem(task.tempAbs);
      if (problem) throw await incompleteOutput(task.tempAbs, problem, rec.endOffset - rec.startOffset);
      result = {
        status: 'written',
        bytesRead: r.bytesRead,
        bytesWritten: r.bytesWritten,
        frames: r.frames,
        videoCodec: r.videoCodec,
        ...(r.audioCodec ? { audioCodec: r.audioCodec } : {}),
        ...(r.audioCodec && !r.audioKept ? { audioDropped: r.audioDropReason ?? r.audioCodec } : {}),
        ...(replacedLegacy ? { replacedLegacy } : {}),
      };
    } else {
      const r = await copyPicture({
        source: rec.source,
        startOffset: rec.startOffset,
        endOffset: rec.endOffset,
        output: task.tempAbs,
        io,
      });
      beat();
      bytesRead = rec.endOffset - rec.startOffset;
      const { size } = await fs.stat(task.tempAbs);
      if (size !== r.bytes) {
        throw await incompleteOutput(task.tempAbs, `${size} of ${r.bytes} bytes written`, r.bytes);
      }
      result = { status: 'written', bytesRead, bytesWritten: r.bytes, ...(replacedLegacy ? { replacedLegacy } : {}) };
    }

    // Rule 5: the oldest hiv file may have been overwritten while we copied it, and the camera writes bytes
    // before it updates the index: the slot must be unchanged and the frames written must be the slot's.
    const check = await recheckRecording(rec, seen, io);
    beat();
    if (!check.ok) {
      throw new SourceChangedError(
        `camera rewrote ${path.basename(rec.source)} slot ${rec.slot} while it was copied: ${check.reason}`,
      );
    }

    if (task.fsync) await fsyncFile(task.tempAbs);
    beat();
    const when = new Date(task.mtimeMs);
    await fs.utimes(task.tempAbs, when, when);
    if (task.mode === 'create' && (await exists(task.outputAbs))) {
      throw new ForeignFileError(
        `${task.outputAbs} appeared while extracting and was not written by hiksync: left alone`,
      );
    }
    await fs.rename(task.tempAbs, task.outputAbs);
    return result;
  } catch (err) {
    await removeQuietly(task.tempAbs);
    const reason = errorCodeOf(err, signal);
    // Tell the camera's next tasks at once (the main thread learns it only from this result, a bit later).
    if (reason === 'input-unavailable' && task.cameraStopped) Atomics.store(new Int32Array(task.cameraStopped), 0, 1);
    return { status: 'failed', reason, message: messageOf(err), bytesRead };
  }
}

/** Free bytes on the volume of `file`, or undefined when the file system does not say. */
async function freeBytes(file: string): Promise<number | undefined> {
  try {
    const st = await fs.statfs(path.dirname(file));
    return st.bavail * st.bsize;
  } catch {
    return undefined;
  }
}

/**
 * The error for an output that the writer finished but that is not complete on disk (a write lost on a full volume
 * is the known cause). When the volume has less room than the file needed, it is the volume ('output-full': the
 * pass stops, no attempt counted), else an I/O error of this recording.
 */
async function incompleteOutput(file: string, problem: string, needed: number): Promise<Error> {
  const free = await freeBytes(file);
  const message = `${path.basename(file)} is incomplete after writing (${problem})`;
  if (free !== undefined && free < needed) {
    return Object.assign(new Error(`${message}: ${free} bytes free on the output volume`), { code: 'ENOSPC' });
  }
  return new HiksyncError('io-error', message);
}

/**
 * Create the output folder and the (empty) temporary file before any byte is read: a folder that refuses us is the
 * volume's fault, not the recording's ('output-unwritable' stops the pass and counts no attempt), and must not be
 * mistaken for an unreadable source later on.
 */
async function prepareOutput(tempAbs: string): Promise<void> {
  try {
    await fs.mkdir(path.dirname(tempAbs), { recursive: true });
    await (await fs.open(tempAbs, 'wx')).close();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new HiksyncError('output-unwritable', `cannot write ${path.dirname(tempAbs)}: ${messageOf(err)}`);
    }
    throw err;
  }
}
