/**
 * The unit of work sent to a worker: one output file. It carries paths and offsets, never media bytes.
 */
import type { ErrorCode } from '../errors.js';
import type { Recording } from '../hikvision/types.js';
import type { VideoContainer } from './naming.js';

/** The --audio setting as the worker takes it (lib/media/remux.ts has the same three values). */
export type AudioMode = 'auto' | 'copy' | 'none';

export interface ExtractTask {
  recording: Recording;
  /** Absolute final path of the output file. */
  outputAbs: string;
  /** Absolute temporary path in the same folder (renamed to outputAbs when complete). Chosen by the main thread so it can clean up after an aborted worker. */
  tempAbs: string;
  container: VideoContainer;
  /** What the worker does with the audio (Config.audio); absent = 'auto'. */
  audio?: AudioMode;
  /** mtime for the output: the recording's start as a real instant (camera time zone applied). */
  mtimeMs: number;
  /**
   * 'create': the target must not exist (written with an atomic rename that refuses to overwrite);
   * 'foreign': a file hiksync did not write sits at the target: adopt a valid MP4/JPEG, replace a raw MPEG-PS file,
   * leave anything else alone.
   * 'replace': the target is ours (manifest) and is re-extracted.
   */
  mode: 'create' | 'foreign' | 'replace';
  /** fsync the output before the rename (default on). */
  fsync: boolean;
  /** Marker written into MP4 metadata so a lost manifest can be rebuilt: "hiksync:<recording id>". */
  marker: string;
  /** Time limit of one call on the camera share (SHARE_TIMEOUT); past it the task fails as 'input-unavailable'. */
  shareTimeoutMs: number;
  /** The camera's and the process's ShareGates (lib/share-io.ts): share calls are counted across all threads. */
  shareGates?: SharedArrayBuffer[];
  /** One Int32 the main thread sets to 1 when this camera's share stopped answering: then the task is not tried. */
  cameraStopped?: SharedArrayBuffer;
  /**
   * One Int32 the worker increments whenever the task moves on (a chunk read and muxed, a step done): the main
   * thread's watchdog stops a task whose counter stands still for too long. Shared memory, not a copy.
   */
  heartbeat?: SharedArrayBuffer;
}

/** Why a task failed: one of the error codes of lib/errors.ts (the code is what crosses the worker boundary). */
export type ExtractFailure = ErrorCode;

export type ExtractResult =
  | {
      status: 'written' | 'adopted';
      bytesRead: number;
      bytesWritten: number;
      frames?: number;
      videoCodec?: string;
      audioCodec?: string;
      /** Set when the source audio could not go into the chosen container (e.g. G.711 in MP4). */
      audioDropped?: string;
      /** A raw MPEG-PS file saved under .mp4 by an older tool was replaced. */
      replacedLegacy?: boolean;
    }
  | { status: 'failed'; reason: ExtractFailure; message: string; bytesRead: number };
