/**
 * One pass of `hiksync run`: scan -> plan -> dispatch to the pool -> manifest -> retention -> summary.
 *
 * The main thread reads only small things (index tables, manifests, directory listings); workers read the
 * byte ranges. Tasks are submitted as a stream (bounded in-flight count), oldest recording first: the oldest
 * hiv file is the next one the camera overwrites.
 */
import * as path from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { ConfigError, ExitCode, InputDirError, messageOf, ShareTimeoutError } from '../errors.js';
import { compareRecordings } from '../hikvision/recording.js';
import type { MediaKind } from '../hikvision/types.js';
import { discoverCameras, scanCamera, type CameraScan } from '../hikvision/source.js';
import { closeSqliteThread } from '../hikvision/sqlite-thread.js';
import { removeQuietly } from '../files.js';
import type { Log } from '../log-types.js';
import {
  cameraShareGate,
  createShareIo,
  processShareGate,
  withTimeout,
  type ShareGate,
  type ShareIo,
} from '../share-io.js';
import { cameraLocalToUtcMs, cameraNowSec } from '../time.js';
import { Manifest } from './manifest.js';
import type { VideoContainer } from './naming.js';
import { MARKER_PREFIX } from '../media/probe.js';
import { entryFor } from './manifest-entry.js';
import { rebuildManifest, settlePending } from './manifest-repair.js';
import { listCameraOutputs, tempNameFor } from './output-folders.js';
import { selectCameras } from './cameras.js';
import { planCamera, type CameraPlan, type PlannedTask } from './plan.js';
import { secondsPerHivFile } from './ring-time.js';
import type { ExtractPool } from './pool.js';
import { createProgress, formatDuration, type Progress } from './progress.js';
import { applyRetention, planRetention } from './retention.js';
import { addCount, emptyCameraSummary, tooOldNotes, type CameraSummary, type PassSummary } from './summary.js';
import type { AudioMode, ExtractResult, ExtractTask } from './task.js';

export interface RunOptions {
  inputDir: string;
  outputDir: string;
  stateDir: string;
  cameraTranslation: Map<string, string>;
  workers: number;
  ioConcurrency: number;
  cameraTz: string;
  shard: { index: number; count: number };
  container: VideoContainer;
  /** --audio (default auto). */
  audio?: AudioMode;
  maxAttempts: number;
  retentionDays: number;
  retentionMaxShare: number;
  /** How long one output file may take (EXTRACTION_TIMEOUT): then its worker is stopped, a failed attempt. 0 = none. */
  taskTimeoutMs?: number;
  /** How many days back to extract each kind (VIDEO_SYNC_DAYS / IMAGE_SYNC_DAYS); absent = the retention window. */
  syncDays?: Partial<Record<MediaKind, number>>;
  /** Camera folder names or tags; empty = all. */
  cameras: string[];
  since?: number;
  until?: number;
  kinds: { video: boolean; picture: boolean };
  dryRun: boolean;
  adoptExisting: boolean;
  /** Recordings that gave up are tried again from a fresh attempt count. */
  retryFailed?: boolean;
  fsync: boolean;
  /** Apply retention after extracting (run does; scan-only callers do not). */
  retention: boolean;
  retentionForce: boolean;
  /** Time limit of one file-system call on the camera share (SHARE_TIMEOUT); see lib/share-io.ts. */
  shareTimeoutMs: number;
}

export interface RunDeps {
  log: Log;
  pool?: ExtractPool;
  createPool?: (threads: number) => ExtractPool;
  progress?: Progress;
  tty?: boolean;
  signal?: AbortSignal;
  now?: () => number;
  /** How long in-flight files may finish after an abort before their workers are stopped. */
  abortGraceMs?: number;
  /** How long a task may wait for a worker to take it (its first heartbeat); default WORKER_START_MS. */
  workerStartMs?: number;
  /** Starts the per-file time limit; returns its cancel. Default: setTimeout (tests pass a clock they drive). */
  taskTimer?: (ms: number, onTimeout: () => void) => () => void;
  /** Notices already given by this process (a service tells each once, not every pass); updated here. */
  told?: Set<string>;
  /** Called whenever the pass moves on (a camera planned, a file finished): the status file's sign of life. */
  onProgress?: () => void;
  /** The share reader for the input folder and for each camera folder (tests substitute one that hangs). */
  shareIo?: (folder: string, gates: ShareGate[]) => ShareIo;
}

interface CameraWork {
  scan: CameraScan;
  tag: string;
  manifest: Manifest;
  plan: CameraPlan;
  summary: CameraSummary;
  device: number;
  /** Set when the camera share stopped answering during dispatch: no retention for this camera in this pass. */
  unavailable?: string;
  /**
   * One Int32 set to 1 with `unavailable`, shared with the workers: a task of this camera that starts after it does
   * not touch the share. (Tasks are not aborted: a worker terminated amid a share call would never give its place
   * in the ShareGate back.)
   */
  stopped: Int32Array;
  /** The camera's own ShareGate (lib/share-io.ts), shared with its tasks. */
  gate: ShareGate;
}

/** A task whose heartbeat stands still this many share time limits is stopped (the worker's own limit fires first). */
export const STALL_FACTOR = 2;
/** How long a task may wait for a worker thread to take it (its first beat) before the watchdog stops it. */
export const WORKER_START_MS = 120_000;

export async function runPass(opts: RunOptions, deps: RunDeps): Promise<PassSummary> {
  const now = deps.now ?? Date.now;
  const log = deps.log;
  const started = now();
  const nowCamera = cameraNowSec(opts.cameraTz, started);
  const shareIo =
    deps.shareIo ?? ((_folder: string, gates: ShareGate[]) => createShareIo(opts.shareTimeoutMs, undefined, gates));

  // 1. Cameras of this shard (and of --camera), with their tags.
  const all = await discoverCameras(opts.inputDir, shareIo(opts.inputDir, [processShareGate()]));
  // An unmounted share is an empty folder: that must fail the pass (and health), not look like "nothing new".
  if (all.length === 0)
    throw new InputDirError(`no camera folders in ${opts.inputDir}: is the camera share mounted there?`);
  const { cameras, notices } = selectCameras(opts.inputDir, all, {
    shard: opts.shard,
    translation: opts.cameraTranslation,
    wanted: opts.cameras,
  });
  checkTagsDistinct(
    all.map((c) => c.name),
    opts.cameraTranslation,
  );
  const told = deps.told ?? new Set<string>();
  for (const notice of notices) {
    if (told.has(notice)) continue;
    told.add(notice);
    log.warn(notice);
  }

  /** A scanned camera -> its manifest, output listing and plan (a share that stops answering: ShareTimeoutError). */
  async function planWork(
    cam: { name: string; path: string },
    tag: string,
    scan: CameraScan,
    summary: CameraSummary,
    io: ShareIo,
    gate: ShareGate,
  ): Promise<CameraWork> {
    const device = (await io.stat(cam.path)).dev;
    const manifest = await Manifest.open(opts.stateDir, cam.name);
    if (manifest.report.badLines > 0)
      log.warn(`${cam.name}: manifest ${manifest.file} had ${manifest.report.badLines} unreadable line(s), skipped`);
    const listing = await listCameraOutputs(opts.outputDir, tag);
    if (listing.removedTemps > 0)
      log.info(`${tag}: removed ${listing.removedTemps} temporary file(s) left by an interrupted run`);
    const settled = await settlePending(manifest, opts.outputDir, listing);
    if (settled > 0) log.info(`${tag}: settled ${settled} recording(s) an interrupted run left in progress`);
    if (!manifest.report.existed && listing.video.size + listing.images.size > 0) {
      const rebuilt = await rebuildManifest(
        manifest,
        opts.outputDir,
        tag,
        scan.recordings,
        listing,
        opts.container,
        io,
      );
      if (rebuilt > 0)
        log.warn(
          `${tag}: manifest was missing: rebuilt ${rebuilt} entr(ies) from the output folders, nothing re-extracted`,
        );
    }
    const plan = planCamera(cam.name, tag, scan.recordings, manifest, listing, {
      kinds: opts.kinds,
      container: opts.container,
      ...(opts.since !== undefined ? { since: opts.since } : {}),
      ...(opts.until !== undefined ? { until: opts.until } : {}),
      retentionDays: opts.retentionDays,
      ...(opts.syncDays ? { syncDays: opts.syncDays } : {}),
      nowCameraSec: nowCamera,
      maxAttempts: opts.maxAttempts,
      adoptExisting: opts.adoptExisting,
      ...(opts.retryFailed ? { retryGaveUp: true } : {}),
    });
    for (const id of plan.gaveUp) {
      const e = manifest.get(id);
      if (e && e.status !== 'gave-up') manifest.put({ ...e, status: 'gave-up', updatedAt: now() });
    }
    summary.already = plan.skipped.already ?? 0;
    for (const [reason, n] of Object.entries(plan.skipped))
      if (reason !== 'already') addCount(summary.skipped, reason, n ?? 0);
    summary.gaveUp = plan.gaveUp;
    summary.conflicts = plan.conflicts;
    summary.tooOld = plan.tooOld;
    for (const task of plan.tasks) summary.planned[task.recording.kind]++;
    summary.implausibleDates = plan.implausible;
    if (plan.implausible > 0)
      log.warn(
        `${tag}: ${plan.implausible} recording(s) with implausible dates (camera clock reset or ahead): extracted anyway`,
      );
    if (!opts.dryRun && manifest.dirty) await manifest.flush({ durable: true });
    const stopped = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    return { scan, tag, manifest, plan, summary, device, stopped, gate };
  }

  // 2. Scan (small reads, a few cameras at a time) and plan per camera. A camera whose share does not answer is
  // left out of this pass entirely (no extraction, no retention); the others go on.
  const scanLimit = pLimit(4);
  const scanned = await Promise.all(
    cameras.map((cam) =>
      scanLimit(async (): Promise<{ summary: CameraSummary; work?: CameraWork }> => {
        const tag = opts.cameraTranslation.get(cam.name) ?? cam.name;
        const summary = emptyCameraSummary(cam.name, tag);
        if (deps.signal?.aborted) return { summary };
        const gate = cameraShareGate();
        const io = shareIo(cam.path, [gate, processShareGate()]);
        const scan = await scanCamera(cam, { kinds: opts.kinds, io });
        summary.datadirs = scan.datadirs.length;
        const short = scan.skipped['short-file'] ?? 0;
        if (short > 0) {
          log.warn(
            `${cam.name}: ${short} recording(s) run past the end of their hiv file (the file is shorter than its index ` +
              `says: a damaged or incomplete copy of the share?): not extracted`,
          );
        }
        summary.errors.push(...scan.errors);
        for (const note of scan.notes ?? []) log.info(note);
        for (const [reason, n] of Object.entries(scan.skipped)) addCount(summary.skipped, reason, n ?? 0);
        for (const r of scan.recordings) summary.listed[r.kind]++;
        let unavailable = scan.unavailable;
        let work: CameraWork | undefined;
        if (unavailable === undefined) {
          try {
            work = await planWork(cam, tag, scan, summary, io, gate);
          } catch (err) {
            if (!(err instanceof ShareTimeoutError)) throw err;
            unavailable = err.message;
            summary.errors.push(`${cam.name}: ${err.message}`);
          }
        }
        if (unavailable !== undefined)
          log.error(`${tag}: ${unavailable}: camera skipped in this pass (nothing extracted, nothing deleted)`);
        deps.onProgress?.();
        return work ? { summary, work } : { summary };
      }),
    ),
  );
  const works = scanned.flatMap((s) => (s.work ? [s.work] : []));
  // The SQLite indexes are read: their reader thread ends before the extract workers start (peak RSS, issue #12).
  await closeSqliteThread();

  // 3. Dispatch, oldest hiv file first (the next one the camera overwrites); inside one file the largest recording
  // first, so that the pass does not end with one worker on a long recording while the others idle. A file is
  // overwritten as a whole, so the order inside it does not change what the ring can take away first.
  const queue: Array<{ work: CameraWork; task: PlannedTask }> = [];
  for (const work of works) for (const task of work.plan.tasks) queue.push({ work, task });
  queue.sort((a, b) => compareRecordings(a.task.recording, b.task.recording));
  const fileRank = new Map<string, number>();
  for (const q of queue)
    if (!fileRank.has(q.task.recording.source)) fileRank.set(q.task.recording.source, fileRank.size);
  const bytesOf = (q: { task: PlannedTask }) => q.task.recording.endOffset - q.task.recording.startOffset;
  queue.sort(
    (a, b) =>
      fileRank.get(a.task.recording.source)! - fileRank.get(b.task.recording.source)! ||
      bytesOf(b) - bytesOf(a) ||
      compareRecordings(a.task.recording, b.task.recording),
  );
  const totalBytes = queue.reduce((n, q) => n + (q.task.recording.endOffset - q.task.recording.startOffset), 0);

  let interrupted = false;
  let stopped: string | undefined;
  const tExtract = now();
  if (!opts.dryRun && queue.length > 0) {
    ({ interrupted, stopped } = await dispatch(queue, totalBytes, opts, deps, nowCamera));
  } else if (opts.dryRun) {
    for (const q of queue)
      log.info(
        `would extract ${q.task.output} (${q.task.reason}) from ${path.relative(opts.inputDir, q.task.recording.source)} [${q.task.recording.startOffset}, ${q.task.recording.endOffset})`,
      );
  }
  const extractSeconds = (now() - tExtract) / 1000;
  // Stopped before dispatch (a signal or a lost lock during the scan) is interrupted too.
  if (deps.signal?.aborted) interrupted = true;

  // 4. Retention (only after a complete pass: an interrupted one leaves deletions to the next; a camera whose share
  // did not answer is not in `works`, or is marked unavailable).
  if (opts.retention && !interrupted && opts.retentionDays > 0) {
    for (const w of works) {
      if (w.unavailable !== undefined) {
        log.warn(`${w.tag}: retention skipped in this pass: the camera share stopped answering`);
        continue;
      }
      const plan = planRetention(w.manifest.entries(), {
        retentionDays: opts.retentionDays,
        nowCameraSec: nowCamera,
        maxShare: opts.retentionMaxShare,
        force: opts.retentionForce,
      });
      const applied = await applyRetention(opts.outputDir, w.manifest, plan, { dryRun: opts.dryRun });
      w.summary.retention = {
        ...applied,
        keptImplausible: plan.keptImplausible,
        ...(plan.blocked ? { blocked: plan.blocked } : {}),
      };
      if (plan.blocked) log.warn(`${w.tag}: retention deleted nothing: ${plan.blocked}`);
    }
  }
  if (!opts.dryRun) for (const w of works) if (w.manifest.dirty) await w.manifest.flush({ durable: true });

  // 5. Summary.
  const ended = now();
  const cameraSummaries = scanned.map((s) => s.summary);
  const totals = {
    planned: queue.length,
    written: sum(cameraSummaries, (c) => c.written.video + c.written.picture),
    adopted: sum(cameraSummaries, (c) => c.adopted),
    already: sum(cameraSummaries, (c) => c.already),
    failed: sum(cameraSummaries, (c) => Object.values(c.failed).reduce((a, b) => a + b, 0)),
    gaveUp: sum(cameraSummaries, (c) => c.gaveUp.length),
    conflicts: sum(cameraSummaries, (c) => c.conflicts.length),
    bytesRead: sum(cameraSummaries, (c) => c.bytesRead),
    bytesWritten: sum(cameraSummaries, (c) => c.bytesWritten),
    retentionDeleted: sum(cameraSummaries, (c) => c.retention?.deleted ?? 0),
  };
  const someFailed = totals.failed > 0 || cameraSummaries.some((c) => c.errors.length > 0);
  const exitCode = interrupted ? ExitCode.INTERRUPTED : someFailed ? ExitCode.SOME_FAILED : ExitCode.OK;
  return {
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(ended).toISOString(),
    seconds: (ended - started) / 1000,
    dryRun: opts.dryRun,
    interrupted,
    cameras: cameraSummaries,
    totals,
    mbPerSec: extractSeconds > 0 ? totals.bytesRead / 1e6 / extractSeconds : 0,
    tooOld: tooOldNotes(
      cameraSummaries,
      {
        RETENTION_DAYS: opts.retentionDays,
        VIDEO_SYNC_DAYS: opts.syncDays?.video,
        IMAGE_SYNC_DAYS: opts.syncDays?.picture,
      },
      nowCamera,
    ),
    ...(stopped !== undefined ? { stopped } : {}),
    exitCode,
  };
}

/**
 * Two cameras must never share an output folder (their names would collide and one manifest would not know the
 * other's files): a tag that is also another camera's folder name, or given to two folders, is refused.
 */
export function checkTagsDistinct(folders: readonly string[], translation: ReadonlyMap<string, string>): void {
  const owner = new Map<string, string>();
  for (const folder of folders) {
    const tag = translation.get(folder) ?? folder;
    const other = owner.get(tag);
    if (other !== undefined) {
      throw new ConfigError(
        `CAMERA_TRANSLATION gives camera folders "${other}" and "${folder}" the same output folder "${tag}": their ` +
          `files would mix; give each camera its own tag`,
      );
    }
    owner.set(tag, folder);
  }
}

/** Failures that a vanished camera share also causes (files or the index gone, reads failing). */
const MAY_BE_THE_SHARE: ReadonlySet<string> = new Set([
  'io-error',
  'timeout', // a read of an NFS share that went away hangs
  'source-changed',
  'truncated-source',
  'bad-content',
]);
/** Failures of a volume, not of a recording: no attempt is counted. The output's stop the pass. */
const VOLUME_FAILURES: ReadonlySet<string> = new Set(['output-full', 'output-unwritable', 'input-unavailable']);
const OUTPUT_FAILURES: ReadonlySet<string> = new Set(['output-full', 'output-unwritable']);

/** Whether a folder can still be listed (non-empty), within a few seconds (a hung NFS mount answers never). */
function reachable(dir: string, timeoutMs = REACHABLE_TIMEOUT_MS): Promise<boolean> {
  return createShareIo(timeoutMs)
    .readdir(dir)
    .then(
      (names) => names.length > 0,
      () => false,
    );
}
const REACHABLE_TIMEOUT_MS = 5000;

function sum<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((n, x) => n + f(x), 0);
}

/** Runs the queue through the pool. Returns true when interrupted by the abort signal. */
async function dispatch(
  queue: Array<{ work: CameraWork; task: PlannedTask }>,
  totalBytes: number,
  opts: RunOptions,
  deps: RunDeps,
  nowCamera: number,
): Promise<{ interrupted: boolean; stopped: string | undefined }> {
  const now = deps.now ?? Date.now;
  const ownPool = !deps.pool;
  const pool = deps.pool ?? (deps.createPool ?? (await import('./pool.js')).createPool)(opts.workers);
  const tty = deps.tty ?? false;
  const progress =
    deps.progress ??
    createProgress({ tty, log: deps.log, bars: tty ? (await import('cli-progress')).default : undefined });
  // While a progress bar is shown, log lines go above it.
  const log = progress.wrap(deps.log);
  const deviceLimits = new Map<number, LimitFunction>();
  const limitFor = (dev: number) => {
    let l = deviceLimits.get(dev);
    if (!l) deviceLimits.set(dev, (l = pLimit(opts.ioConcurrency)));
    return l;
  };
  // Workers are stopped (and their temporaries removed) only when in-flight files do not finish in time.
  const hardStop = new AbortController();
  // A folder that could not be listed once in this pass is not asked again: each hung listing holds a thread.
  const gone = new Set<string>();
  const shareGone = async (dir: string): Promise<boolean> => {
    if (!gone.has(dir) && !(await reachable(dir))) gone.add(dir);
    return gone.has(dir);
  };
  // The watchdog: a task whose heartbeat (bumped by the worker as it moves on) stands still for stallMs is stopped.
  // Its worker may be stuck in a read that never returns and cannot see an AbortSignal: Piscina then terminates the
  // worker thread (the thread itself stays blocked until the read returns; the pool goes on with a new one).
  const stallMs = STALL_FACTOR * opts.shareTimeoutMs;
  // Until its first beat (the worker's first step) a task waits for a worker thread to take it, which may first have
  // to start: seconds on a loaded machine, and nothing of the share is touched yet. That wait gets its own, longer
  // limit (a task stopped for it would count an attempt against a recording that was never read).
  const startMs = Math.max(stallMs, deps.workerStartMs ?? WORKER_START_MS);
  const watched = new Set<{ beats: Int32Array; seen: number; since: number; stop: AbortController }>();
  const watchdog = setInterval(
    () => {
      const t = now();
      for (const w of watched) {
        const beats = Atomics.load(w.beats, 0);
        if (beats !== w.seen) {
          w.seen = beats;
          w.since = t;
        } else if (t - w.since >= (beats === 0 ? startMs : stallMs)) w.stop.abort();
      }
    },
    Math.max(10, Math.floor(stallMs / 4)),
  );
  watchdog.unref();
  const graceMs = deps.abortGraceMs ?? 6000;
  const taskTimer =
    deps.taskTimer ??
    ((ms: number, onTimeout: () => void) => {
      const timer = setTimeout(onTimeout, ms);
      return () => clearTimeout(timer);
    });
  let graceTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    log.warn(`stop requested: no new files; waiting up to ${graceMs / 1000}s for ${inflight.size} in-flight file(s)`);
    graceTimer = setTimeout(() => hardStop.abort(), graceMs);
  };
  deps.signal?.addEventListener('abort', onAbort, { once: true });

  const inflight = new Set<Promise<void>>();
  // Two files per worker keep workers busy (the next is queued while one finishes); with a per-file time limit, one:
  // a file waiting in the pool's queue must not use up its time before its work starts.
  const maxInflight = Math.max(1, pool.threads) * (opts.taskTimeoutMs ? 1 : 2);
  const audioNotices = new Set<string>();
  const ringWarn = ringWarning(queue, nowCamera);
  let warnedEta = false;
  let seq = 0;
  let outputProblem: string | undefined;
  progress.start(queue.length, totalBytes);

  const runOne = async ({ work, task }: { work: CameraWork; task: PlannedTask }): Promise<void> => {
    // A full output stops the pass; a camera share that stopped answering stops that camera only.
    if (outputProblem || work.unavailable !== undefined) return;
    const rec = task.recording;
    const outputAbs = path.join(opts.outputDir, task.output);
    const attempts = task.attempts + 1;
    // Written (durably) BEFORE the worker may rename into place: a crash in between is settled on the next load.
    const prev = work.manifest.get(rec.id);
    const origin = task.reason === 'foreign' ? 'adopted' : (prev?.origin ?? 'extracted');
    work.manifest.put(entryFor(rec, task.output, 'pending', 0, attempts, origin));
    await work.manifest.flush({ durable: true });
    const extractTask: ExtractTask = {
      recording: rec,
      outputAbs,
      tempAbs: tempNameFor(outputAbs, `${process.pid}-${seq++}`),
      container: opts.container,
      ...(opts.audio ? { audio: opts.audio } : {}),
      mtimeMs: cameraLocalToUtcMs(rec.start.sec, opts.cameraTz) + Math.floor(rec.start.usec / 1000),
      mode: task.reason === 'foreign' ? 'foreign' : task.reason === 'new' ? 'create' : 'replace',
      fsync: opts.fsync,
      marker: MARKER_PREFIX + rec.id,
      shareTimeoutMs: opts.shareTimeoutMs,
      shareGates: [work.gate.buffer, processShareGate().buffer],
      cameraStopped: work.stopped.buffer as SharedArrayBuffer,
      heartbeat: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT),
    };
    const stall = { beats: new Int32Array(extractTask.heartbeat!), seen: 0, since: now(), stop: new AbortController() };
    watched.add(stall);
    let result: ExtractResult;
    // EXTRACTION_TIMEOUT: a file that takes longer has its worker stopped; unlike a stop request, that is the
    // file's failed attempt (it counts toward MAX_ATTEMPTS). Its own signal follows the pass's hard stop too.
    const limit = opts.taskTimeoutMs ? fileLimit(opts.taskTimeoutMs, hardStop.signal, taskTimer) : undefined;
    try {
      result = await pool.run(extractTask, AbortSignal.any([limit?.signal ?? hardStop.signal, stall.stop.signal]));
    } catch (err) {
      // The worker was stopped (abort, time limit, watchdog) or crashed: its temporary file may remain.
      await removeQuietly(extractTask.tempAbs);
      const aborted = hardStop.signal.aborted;
      const timedOut = !aborted && limit?.timedOut() === true;
      const stalled = !aborted && !timedOut && stall.stop.signal.aborted;
      result = {
        status: 'failed',
        reason: aborted ? 'aborted' : timedOut ? 'timeout' : stalled ? 'io-error' : 'internal',
        message: timedOut
          ? `took longer than EXTRACTION_TIMEOUT=${opts.taskTimeoutMs! / 1000} s`
          : stalled
            ? `no progress for ${stallMs / 1000} s extracting ${rec.source} (a read that never returns?): its worker was stopped`
            : messageOf(err),
        bytesRead: 0,
      };
    } finally {
      limit?.dispose();
      watched.delete(stall);
    }
    if (result.status === 'failed' && MAY_BE_THE_SHARE.has(result.reason) && (await shareGone(work.scan.path))) {
      // The camera share went away mid-pass (unmounted, NFS down): not the recording's fault.
      result = { ...result, reason: 'input-unavailable' };
    }
    record(work, task, result, attempts, opts.maxAttempts, audioNotices, log);
    if (result.status === 'failed' && result.reason === 'input-unavailable') {
      if (work.unavailable === undefined) {
        work.unavailable = `the camera share ${work.scan.path} is no longer readable (${result.message}): no more files of ${work.tag} in this pass; nothing is counted against its recordings`;
        log.error(work.unavailable);
        work.summary.errors.push(work.unavailable);
        // Its other files would only wait for the same share: those not started yet are not tried.
        Atomics.store(work.stopped, 0, 1);
      }
    } else deps.onProgress?.();
    if (result.status === 'failed' && OUTPUT_FAILURES.has(result.reason) && !outputProblem) {
      const what =
        result.reason === 'output-full'
          ? 'the output volume is full'
          : 'an output folder cannot be written (read-only or permission denied)';
      outputProblem = `${what} (${result.message}): stopping this pass; nothing is counted against the recordings`;
      log.error(outputProblem);
      work.summary.errors.push(outputProblem);
    }
    progress.advance(1, result.status === 'failed' ? rec.endOffset - rec.startOffset : result.bytesRead);
    if (
      !warnedEta &&
      ringWarn &&
      progress.etaSeconds() > ringWarn.seconds &&
      progress.etaSeconds() !== Infinity &&
      now() - started > 20_000
    ) {
      warnedEta = true;
      log.warn(
        `backfill ETA ${formatDuration(progress.etaSeconds())} is longer than the ~${formatDuration(ringWarn.seconds)} before ${ringWarn.camera} overwrites its oldest hiv file: its oldest recordings may be lost before they are copied`,
      );
    }
  };
  const started = now();

  try {
    for (const item of queue) {
      if (deps.signal?.aborted || outputProblem) break;
      while (inflight.size >= maxInflight) await Promise.race(inflight);
      if (deps.signal?.aborted || outputProblem) break;
      const p = limitFor(item.work.device)(() => runOne(item)).catch((err: unknown) => {
        log.error(`${item.task.output}: ${err instanceof Error ? err.message : String(err)}`);
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await Promise.all(inflight);
  } finally {
    if (graceTimer) clearTimeout(graceTimer);
    deps.signal?.removeEventListener('abort', onAbort);
    progress.stop();
    clearInterval(watchdog);
    // A worker stuck in a read of a hung share never exits: do not wait for it longer than for the share itself.
    if (ownPool)
      await withTimeout(pool.destroy(), opts.shareTimeoutMs, () => new Error('timeout')).catch(() =>
        log.warn(
          `some worker threads did not stop within ${opts.shareTimeoutMs / 1000} s (a read of the camera share has not returned)`,
        ),
      );
  }
  return { interrupted: deps.signal?.aborted ?? false, stopped: outputProblem };
}

/** The signal of one file under a time limit: aborted when the limit runs out or when `stop` aborts. */
function fileLimit(
  ms: number,
  stop: AbortSignal,
  taskTimer: (ms: number, onTimeout: () => void) => () => void,
): { signal: AbortSignal; timedOut(): boolean; dispose(): void } {
  const controller = new AbortController();
  let timedOut = false;
  const onStop = () => controller.abort(stop.reason);
  stop.addEventListener('abort', onStop, { once: true });
  const cancel = taskTimer(ms, () => {
    timedOut = true;
    controller.abort();
  });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      cancel();
      stop.removeEventListener('abort', onStop);
    },
  };
}

function record(
  work: CameraWork,
  task: PlannedTask,
  result: ExtractResult,
  attempts: number,
  maxAttempts: number,
  audioNotices: Set<string>,
  log: Log,
): void {
  const rec = task.recording;
  const s = work.summary;
  s.bytesRead += result.bytesRead;
  if (result.status === 'failed') {
    if (result.reason === 'aborted' || VOLUME_FAILURES.has(result.reason)) {
      // Not the recording's fault: the attempt is not counted against it (a full disk must not make the
      // recordings of a whole night "given up").
      work.manifest.put(
        entryFor(rec, task.output, 'failed', 0, attempts - 1, undefined, `${result.reason}: ${result.message}`),
      );
      addCount(s.failed, result.reason);
      return;
    }
    if (result.reason === 'foreign-file') {
      // A file we did not write: leave it and its name alone; forget the reservation.
      work.manifest.remove(rec.id);
      s.conflicts.push(task.output);
      return;
    }
    const giveUp = attempts >= maxAttempts;
    work.manifest.put(
      entryFor(
        rec,
        task.output,
        giveUp ? 'gave-up' : 'failed',
        0,
        attempts,
        undefined,
        `${result.reason}: ${result.message}`,
      ),
    );
    addCount(s.failed, result.reason);
    log.warn(
      `${task.output}: ${result.reason}: ${result.message}${giveUp ? ` (gave up after ${attempts} attempts)` : ''}`,
    );
    if (giveUp) s.gaveUp.push(rec.id);
    return;
  }
  const origin = result.status === 'adopted' ? 'adopted' : task.reason === 'foreign' ? 'adopted' : 'extracted';
  work.manifest.put(entryFor(rec, task.output, 'done', result.bytesWritten, attempts, origin));
  s.bytesWritten += result.status === 'written' ? result.bytesWritten : 0;
  if (result.status === 'adopted') s.adopted++;
  else s.written[rec.kind]++;
  if (result.audioDropped && !audioNotices.has(`${s.camera}:${result.audioDropped}`)) {
    audioNotices.add(`${s.camera}:${result.audioDropped}`);
    s.audioDropped.push(result.audioDropped);
    log.info(`${s.tag}: audio dropped from its recordings: ${result.audioDropped}`);
  }
}

/** For the backfill warning: the camera whose oldest planned hiv file is overwritten soonest, and when. */
function ringWarning(
  queue: Array<{ work: CameraWork; task: PlannedTask }>,
  nowCamera: number,
): { camera: string; seconds: number } | undefined {
  let best: { camera: string; seconds: number } | undefined;
  const seen = new Set<CameraWork>();
  for (const { work } of queue) {
    if (seen.has(work)) continue;
    seen.add(work);
    const perFile = secondsPerHivFile(work.scan.recordings, nowCamera);
    if (perFile === undefined) continue;
    if (!best || perFile < best.seconds) best = { camera: work.tag, seconds: perFile };
  }
  return best;
}
