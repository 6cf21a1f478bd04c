/**
 * Reads of the camera share that cannot hang a pass. A hung NFS/SMB mount blocks a file-system call forever (so
 * does opening a FIFO), and such a call cannot be cancelled: it holds one of libuv's threadpool threads
 * (UV_THREADPOOL_SIZE, default 4, shared by every fs call of the process, workers included) until the share answers.
 * When they are all held, every other fs call waits behind them: the manifest, the status file, the outputs. So
 * every call here:
 * - is raced against a time limit (SHARE_TIMEOUT) and fails with ShareTimeoutError ('input-unavailable') when the
 *   share does not answer in time; the call goes on in the background, and a file it opens late is closed;
 * - passes a gate shared by the main thread and the workers (ShareGate): at most all threads but one are ever
 *   busy with the share, so hung share calls cannot starve the output's calls; a call that finds no free place
 *   within its time limit fails the same way (the share is not answering the calls before it). Each camera has a
 *   gate of its own too, one place smaller: a camera whose share hangs never holds every place, the others go on;
 * - after one time-out, fails at once: a reader whose share did not answer is not asked again (one reader per
 *   camera scan and per worker task), so a hung mount holds few places;
 * - opens files with O_NONBLOCK and refuses anything fstat does not call a regular file (NotRegularFileError): a
 *   FIFO, socket or device where a recording file should be never blocks, it is an error at once. O_NONBLOCK has no
 *   effect on regular files.
 */
import type { Dirent, Stats } from 'node:fs';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { NotRegularFileError, ShareTimeoutError } from './errors.js';

/** How long one file-system call on the share may take before the share counts as not answering (SHARE_TIMEOUT). */
export const DEFAULT_SHARE_TIMEOUT_MS = 60_000;
/** libuv's threadpool size when UV_THREADPOOL_SIZE does not set it. */
export const DEFAULT_THREADPOOL_SIZE = 4;
/** Threadpool threads the share may never take: left for the output, the manifests, the status file and the lock. */
export const THREADS_KEPT_FROM_SHARE = 1;

/** How many share calls may be in flight at once, process-wide, for a threadpool of `threads` (the env's, read once). */
export function shareCallLimit(threads = Number(process.env.UV_THREADPOOL_SIZE) || DEFAULT_THREADPOOL_SIZE): number {
  return Math.max(1, Math.min(threads, 1024) - THREADS_KEPT_FROM_SHARE);
}

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
// In Node since 16; typed from ES2024, which this project's lib setting does not include.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * A count of share calls in flight, in shared memory so the main thread and every worker count the same calls
 * (workers get the buffer in their task). A call holds its place until the file system answers it, also after its
 * caller gave up: a hung call keeps its thread, so it keeps its place.
 */
export class ShareGate {
  readonly buffer: SharedArrayBuffer;
  private readonly cells: Int32Array;

  /** A new gate for `limit` calls, or the gate of `buffer` (made by another thread). */
  constructor(from: number | SharedArrayBuffer) {
    this.buffer = typeof from === 'number' ? new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT) : from;
    this.cells = new Int32Array(this.buffer);
    if (typeof from === 'number') Atomics.store(this.cells, 1, from);
  }

  get limit(): number {
    return Atomics.load(this.cells, 1);
  }

  get inFlight(): number {
    return Atomics.load(this.cells, 0);
  }

  /** Takes a place, waiting until `deadline` (Date.now() ms) at most; false when none came free in time. */
  async enter(deadline: number): Promise<boolean> {
    for (;;) {
      const n = Atomics.load(this.cells, 0);
      if (n < this.limit) {
        if (Atomics.compareExchange(this.cells, 0, n, n + 1) === n) return true;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) return false;
      const w = waitAsync(this.cells, 0, n, left);
      if (w.async) await w.value;
    }
  }

  leave(): void {
    Atomics.sub(this.cells, 0, 1);
    Atomics.notify(this.cells, 0);
  }
}

let processGate: ShareGate | undefined;
/** The gate of this process, made in the main thread (workers use the one their task carries). */
export function processShareGate(): ShareGate {
  return (processGate ??= new ShareGate(shareCallLimit()));
}

/** A new gate for one camera's calls: one place fewer than the process has (at least one). */
export function cameraShareGate(processLimit = processShareGate().limit): ShareGate {
  return new ShareGate(Math.max(1, processLimit - 1));
}

/** What a file needs to say about itself (fs.Stats has it). */
interface FileType {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/** The part of fs.promises.FileHandle the share reads use. */
export interface RawFileHandle {
  stat(): Promise<FileType & { size: number; mtimeMs: number }>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** The raw calls (tests substitute ones that never answer). */
export interface RawShareFs {
  readdir(dir: string, opts: { withFileTypes: true }): Promise<Dirent[]>;
  stat(p: string): Promise<Stats>;
  open(file: string, flags: number): Promise<RawFileHandle>;
}

/** An open file of the share: every call bounded by the reader's time limit. */
export interface ShareFile {
  stat(): Promise<{ size: number; mtimeMs: number }>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** Never waits longer than the time limit (a handle with a hung read closes only when the read returns). */
  close(): Promise<void>;
}

export interface ShareIo {
  readonly timeoutMs: number;
  /** The time-out after which this reader gives up on the share, once there was one. */
  readonly failure: ShareTimeoutError | undefined;
  readdir(dir: string): Promise<Dirent[]>;
  stat(p: string): Promise<Stats>;
  /** Opens a regular file read-only (hiksync never writes to the share); anything else is NotRegularFileError. */
  open(file: string): Promise<ShareFile>;
}

/**
 * Waits for `p` at most `ms`, then rejects with `onTimeout()`. The operation itself goes on in the background (it
 * cannot be cancelled); a late rejection is swallowed.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // Not unref'd: a hung call may be all that keeps the loop alive, and we do want the answer after `ms`. The
    // verdict waits one turn of the loop (setImmediate runs after the I/O callbacks): after a long busy stretch the
    // timer runs first, and an answer that came meanwhile must still win.
    timer = setTimeout(() => setImmediate(() => reject(onTimeout())), ms);
  });
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** "a FIFO", "a socket", ... for the message of NotRegularFileError. */
export function describeFileType(st: FileType): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a folder';
  return 'a special file';
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

export function createShareIo(
  timeoutMs = DEFAULT_SHARE_TIMEOUT_MS,
  raw: RawShareFs = fs,
  gates: readonly ShareGate[] = [processShareGate()],
): ShareIo {
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  let failure: ShareTimeoutError | undefined;

  /** Takes a place in every gate (always in the same order), or none. */
  const enterAll = async (deadline: number): Promise<boolean> => {
    for (const [i, gate] of gates.entries()) {
      if (await gate.enter(deadline)) continue;
      for (const entered of gates.slice(0, i)) entered.leave();
      return false;
    }
    return true;
  };
  const leaveAll = () => {
    for (const gate of gates) gate.leave();
  };

  const bounded = <T>(what: string, file: string, call: () => Promise<T>, late?: (value: T) => void): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const timedOut = () => {
      const err = new ShareTimeoutError(what, file, timeoutMs);
      failure ??= err;
      return err;
    };
    let gaveUp = false;
    const answered = (async () => {
      if (!(await enterAll(Date.now() + timeoutMs))) throw timedOut();
      if (gaveUp) {
        // The places came just after the time-out: the call is not made any more.
        leaveAll();
        throw timedOut();
      }
      const pending = call();
      pending.then(leaveAll, leaveAll);
      pending.then((value) => gaveUp && late?.(value)).catch(() => undefined);
      return pending;
    })();
    return withTimeout(answered, timeoutMs, () => {
      gaveUp = true;
      return timedOut();
    });
  };

  const closeBounded = (fh: RawFileHandle, file: string): Promise<void> => {
    // After a time-out the handle may have a read that never returns, and closing waits for it: do not wait at all
    // (and take no place in the gate while waiting).
    if (failure) {
      fh.close().catch(() => undefined);
      return Promise.resolve();
    }
    return bounded('closing', file, () => fh.close()).catch(() => undefined);
  };

  return {
    timeoutMs,
    get failure() {
      return failure;
    },
    readdir: (dir) => bounded('listing', dir, () => raw.readdir(dir, { withFileTypes: true })),
    stat: (p) => bounded('reading the attributes of', p, () => raw.stat(p)),
    open: async (file) => {
      const fh = await bounded(
        'opening',
        file,
        () => raw.open(file, OPEN_FLAGS),
        (h) => void h.close().catch(() => undefined),
      );
      try {
        const st = await bounded('reading', file, () => fh.stat());
        if (!st.isFile()) throw new NotRegularFileError(file, describeFileType(st));
      } catch (err) {
        await closeBounded(fh, file);
        throw err;
      }
      return {
        stat: () => bounded('reading', file, () => fh.stat()),
        read: (buffer, offset, length, position) =>
          bounded('reading', file, () => fh.read(buffer, offset, length, position)),
        close: () => closeBounded(fh, file),
      };
    },
  };
}
