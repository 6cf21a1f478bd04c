/**
 * One pass of `hiksync run`: scan -> plan -> dispatch to the pool -> manifest -> retention -> summary.
 *
 * The main thread reads only small things (index tables, manifests, directory listings); workers read the
 * byte ranges. Tasks are submitted as a stream (bounded in-flight count), oldest recording first: the oldest
 * hiv file is the next one the camera overwrites.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { ConfigError, ExitCode, InputDirError } from '../errors.js';
import { compareRecordings } from '../hikvision/recording.js';
import type { MediaKind } from '../hikvision/types.js';
import { discoverCameras, scanCamera, type CameraScan } from '../hikvision/source.js';
import { removeQuietly } from '../files.js';
import type { Log } from '../log-types.js';
import { withTimeout } from '../ops/health.js';
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
import type { ExtractResult, ExtractTask } from './task.js';

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
  /** Starts the per-file time limit; returns its cancel. Default: setTimeout (tests pass a clock they drive). */
  taskTimer?: (ms: number, onTimeout: () => void) => () => void;
  /** Notices already given by this process (a service tells each once, not every pass); updated here. */
  told?: Set<string>;
}

interface CameraWork {
  scan: CameraScan;
  tag: string;
  manifest: Manifest;
  plan: CameraPlan;
  summary: CameraSummary;
  device: number;
}

export async function runPass(opts: RunOptions, deps: RunDeps): Promise<PassSummary> {
  const now = deps.now ?? Date.now;
  const log = deps.log;
  const started = now();
  const nowCamera = cameraNowSec(opts.cameraTz, started);

  // 1. Cameras of this shard (and of --camera), with their tags.
  const all = await discoverCameras(opts.inputDir);
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

  // 2. Scan (small reads, a few cameras at a time) and plan per camera.
  const scanLimit = pLimit(4);
  const works = await Promise.all(
    cameras.map((cam) =>
      scanLimit(async (): Promise<CameraWork> => {
        const tag = opts.cameraTranslation.get(cam.name) ?? cam.name;
        const summary = emptyCameraSummary(cam.name, tag);
        const scan = await scanCamera(cam, { kinds: opts.kinds });
        summary.datadirs = scan.datadirs.length;
        const short = scan.skipped['short-file'] ?? 0;
        if (short > 0) {
          log.warn(
            `${cam.name}: ${short} recording(s) run past the end of their hiv file (the file is shorter than its index ` +
              `says: a damaged or incomplete copy of the share?): not extracted`,
          );
        }
        summary.errors.push(...scan.errors);
        for (const [reason, n] of Object.entries(scan.skipped)) addCount(summary.skipped, reason, n ?? 0);
        for (const r of scan.recordings) summary.listed[r.kind]++;

        const manifest = await Manifest.open(opts.stateDir, cam.name);
        if (manifest.report.badLines > 0)
          log.warn(
            `${cam.name}: manifest ${manifest.file} had ${manifest.report.badLines} unreadable line(s), skipped`,
          );
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
        const device = (await fs.stat(cam.path)).dev;
        if (!opts.dryRun && manifest.dirty) await manifest.flush({ durable: true });
        return { scan, tag, manifest, plan, summary, device };
      }),
    ),
  );

  // 3. Dispatch, oldest first.
  const queue: Array<{ work: CameraWork; task: PlannedTask }> = [];
  for (const work of works) for (const task of work.plan.tasks) queue.push({ work, task });
  queue.sort((a, b) => compareRecordings(a.task.recording, b.task.recording));
  const totalBytes = queue.reduce((n, q) => n + (q.task.recording.endOffset - q.task.recording.startOffset), 0);

  let interrupted = false;
  const tExtract = now();
  if (!opts.dryRun && queue.length > 0) {
    interrupted = await dispatch(queue, totalBytes, opts, deps, nowCamera);
  } else if (opts.dryRun) {
    for (const q of queue)
      log.info(
        `would extract ${q.task.output} (${q.task.reason}) from ${path.relative(opts.inputDir, q.task.recording.source)} [${q.task.recording.startOffset}, ${q.task.recording.endOffset})`,
      );
  }
  const extractSeconds = (now() - tExtract) / 1000;

  // 4. Retention (only after a complete pass: an interrupted one leaves deletions to the next).
  if (opts.retention && !interrupted && opts.retentionDays > 0) {
    for (const w of works) {
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
  const cameraSummaries = works.map((w) => w.summary);
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
/** Failures of the volumes, not of a recording: the pass stops and no attempt is counted. */
const STOPS_PASS: ReadonlySet<string> = new Set(['output-full', 'output-unwritable', 'input-unavailable']);

/** Whether a folder can still be listed (non-empty), within a few seconds (a hung NFS mount answers never). */
function reachable(dir: string, timeoutMs = 5000): Promise<boolean> {
  return withTimeout(fs.readdir(dir), timeoutMs, `listing ${dir}`).then(
    (names) => names.length > 0,
    () => false,
  );
}

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
): Promise<boolean> {
  const now = deps.now ?? Date.now;
  const ownPool = !deps.pool;
  const pool = deps.pool ?? (deps.createPool ?? (await import('./pool.js')).createPool)(opts.workers);
  const progress = deps.progress ?? createProgress({ tty: deps.tty ?? false, log: deps.log });
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
    if (outputProblem) return;
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
      mtimeMs: cameraLocalToUtcMs(rec.start.sec, opts.cameraTz) + Math.floor(rec.start.usec / 1000),
      mode: task.reason === 'foreign' ? 'foreign' : task.reason === 'new' ? 'create' : 'replace',
      fsync: opts.fsync,
      marker: MARKER_PREFIX + rec.id,
    };
    let result: ExtractResult;
    // EXTRACTION_TIMEOUT: a file that takes longer has its worker stopped; unlike a stop request, that is the
    // file's failed attempt (it counts toward MAX_ATTEMPTS). Its own signal follows the pass's hard stop too.
    const limit = opts.taskTimeoutMs ? fileLimit(opts.taskTimeoutMs, hardStop.signal, taskTimer) : undefined;
    try {
      result = await pool.run(extractTask, limit?.signal ?? hardStop.signal);
    } catch (err) {
      // The worker was stopped (abort, time limit) or crashed: its temporary file may remain.
      await removeQuietly(extractTask.tempAbs);
      const aborted = hardStop.signal.aborted;
      const timedOut = !aborted && limit?.timedOut() === true;
      result = {
        status: 'failed',
        reason: aborted ? 'aborted' : timedOut ? 'timeout' : 'internal',
        message: timedOut
          ? `took longer than EXTRACTION_TIMEOUT=${opts.taskTimeoutMs! / 1000} s`
          : err instanceof Error
            ? err.message
            : String(err),
        bytesRead: 0,
      };
    } finally {
      limit?.dispose();
    }
    if (result.status === 'failed' && MAY_BE_THE_SHARE.has(result.reason) && !(await reachable(work.scan.path))) {
      // The camera share went away mid-pass (unmounted, NFS down): not the recording's fault.
      result = { ...result, reason: 'input-unavailable' };
    }
    record(work, task, result, attempts, opts.maxAttempts, audioNotices, log);
    if (result.status === 'failed' && STOPS_PASS.has(result.reason) && !outputProblem) {
      const what =
        result.reason === 'output-full'
          ? 'the output volume is full'
          : result.reason === 'output-unwritable'
            ? 'an output folder cannot be written (read-only or permission denied)'
            : `the camera share ${work.scan.path} is no longer readable`;
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
    if (ownPool) await pool.destroy();
  }
  return deps.signal?.aborted ?? false;
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
    if (result.reason === 'aborted' || STOPS_PASS.has(result.reason)) {
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
