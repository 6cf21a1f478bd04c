/**
 * What a worker does for one task: slice the byte range, remux (video) or copy (picture) into a temporary file
 * in the output folder, check the camera did not rewrite the slot meanwhile, fsync, set the mtime, rename.
 * Every failure is returned as a reason (errors do not keep their class across worker threads) and leaves no
 * temporary file behind.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { HiksyncError } from '../hikvision/errors.js';
import { recheckRecording } from '../hikvision/source.js';
import { copyPicture } from '../media/jpeg.js';
import { remuxRange } from '../media/remux.js';
import { findTopLevelBox, hasJpegEnds } from './outputs.js';
import type { ExtractFailure, ExtractResult, ExtractTask } from './task.js';

export async function extract(task: ExtractTask, signal?: AbortSignal): Promise<ExtractResult> {
  const rec = task.recording;
  let bytesRead = 0;
  try {
    await fs.mkdir(path.dirname(task.outputAbs), { recursive: true });
    let replacedLegacy = false;
    if (task.mode === 'foreign') {
      const kind = await sniffExisting(task.outputAbs);
      if (kind === 'mp4' || kind === 'jpeg') {
        const st = await fs.stat(task.outputAbs);
        return { status: 'adopted', bytesRead: 0, bytesWritten: st.size };
      }
      if (kind !== 'mpeg-ps') {
        return fail('foreign-file', `${task.outputAbs} exists, was not written by hiksync and is not an MP4, JPEG or raw MPEG-PS file: left alone`, 0);
      }
      replacedLegacy = true;
    }

    let result: ExtractResult;
    if (rec.kind === 'video') {
      const r = await remuxRange({
        source: rec.source,
        startOffset: rec.startOffset,
        endOffset: rec.endOffset,
        output: task.tempAbs,
        container: task.container,
        marker: task.marker,
        ...(signal ? { signal } : {}),
      });
      bytesRead = r.bytesRead;
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
      const r = await copyPicture({ source: rec.source, startOffset: rec.startOffset, endOffset: rec.endOffset, output: task.tempAbs });
      bytesRead = rec.endOffset - rec.startOffset;
      result = { status: 'written', bytesRead, bytesWritten: r.bytes, ...(replacedLegacy ? { replacedLegacy } : {}) };
    }

    // Rule 5: the oldest hiv file may have been overwritten while we copied it. Never emit mixed bytes.
    const check = await recheckRecording(rec);
    if (!check.ok) {
      await removeQuietly(task.tempAbs);
      return fail('source-changed', `camera rewrote ${path.basename(rec.source)} slot ${rec.slot} while it was copied: ${check.reason}`, bytesRead);
    }

    if (task.fsync) await fsyncFile(task.tempAbs);
    const when = new Date(task.mtimeMs);
    await fs.utimes(task.tempAbs, when, when);
    if (task.mode === 'create' && (await exists(task.outputAbs))) {
      await removeQuietly(task.tempAbs);
      return fail('foreign-file', `${task.outputAbs} appeared while extracting and was not written by hiksync: left alone`, bytesRead);
    }
    await fs.rename(task.tempAbs, task.outputAbs);
    return result;
  } catch (err) {
    await removeQuietly(task.tempAbs);
    return fail(reasonOf(err, signal), messageOf(err), bytesRead);
  }
}

function fail(reason: ExtractFailure, message: string, bytesRead: number): ExtractResult {
  return { status: 'failed', reason, message, bytesRead };
}

/** The failure reason of an error thrown while extracting (error classes do not survive the worker boundary). */
export function reasonOf(err: unknown, signal?: AbortSignal): ExtractFailure {
  if (signal?.aborted) return 'aborted';
  const e = err as { name?: string; code?: string };
  switch (e?.name) {
    case 'BadContentError':
      return 'bad-content';
    case 'NoVideoError':
      return 'no-video';
    case 'UnsupportedCodecError':
      return 'unsupported-codec';
    case 'TruncatedSourceError':
      return 'truncated-source';
    case 'SourceChangedError':
      return 'source-changed';
    case 'AbortError':
      return 'aborted';
  }
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return 'output-full';
  if (e?.code === 'EROFS') return 'output-unwritable';
  if (err instanceof HiksyncError) return 'internal';
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return 'io-error';
  return 'internal';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

export async function removeQuietly(p: string): Promise<void> {
  await fs.rm(p, { force: true }).catch(() => undefined);
}

async function fsyncFile(p: string): Promise<void> {
  const fh = await fs.open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** What sits at a target name hiksync did not write: decides adopt / replace / leave alone. */
export async function sniffExisting(file: string): Promise<'mp4' | 'jpeg' | 'mpeg-ps' | 'other'> {
  const fh = await fs.open(file, 'r');
  try {
    const st = await fh.stat();
    const head = Buffer.alloc(Math.min(16, st.size));
    await fh.read(head, 0, head.length, 0);
    if (head.length >= 4 && head.readUInt32BE(0) === 0x000001ba) return 'mpeg-ps';
    if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
      return (await hasJpegEnds(fh, st.size)) ? 'jpeg' : 'other';
    }
    if (head.length >= 8 && head.toString('latin1', 4, 8) === 'ftyp') {
      return (await findTopLevelBox(fh, st.size, 'moov')) ? 'mp4' : 'other';
    }
    return 'other';
  } finally {
    await fh.close();
  }
}
