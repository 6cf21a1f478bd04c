/**
 * The soak: live cameras keep recording into a synthetic share (finishing the segment in progress, adding
 * recordings, wrapping their rings, rewriting index and hiv files in place) while hiksync runs as the container
 * runs it: `run --run-mode cron`, here with passes seconds apart (HIKSYNC_INTERVAL_SECONDS). In the first part the
 * hiksync process is SIGKILLed at seeded moments (while a temporary file is being written, or at a random time:
 * while it starts, mid-pass or between passes) and started again at once; in the calm last part one process runs
 * undisturbed, and its memory is read after every pass. When the cameras stop, one more pass must see everything,
 * then the process is stopped with SIGTERM and the output is checked against the ground truth (verify.ts).
 *
 * "Could have seen it": a recording must have an output when two passes that COMPLETED started after the index
 * listed the recording as finished and ended before the camera began reusing its hiv file (why two: runSoak).
 * Recordings the ring took back sooner may be missing; when they are there, they must be as correct as every other
 * output.
 *
 * The cameras' pace (a pause between steps) is the simulated workload, not synchronisation: every wait for hiksync
 * is for an event (a line on its stdout, its exit, a file appearing), bounded by a generous deadline.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { LiveCamera, type LiveRecording } from '../../tools/synthetic/live-camera.js';
import { createRng, type Rng } from '../../tools/synthetic/rng.js';
import { writeSyntheticShare, type SyntheticCamera } from '../../tools/synthetic/share-writer.js';
import { verifySoak, type Expected, type VerifyReport } from './verify.js';

export interface SoakOptions {
  /** An empty folder: the share and the output go inside. */
  dir: string;
  /** The built CLI (dist/lib/cli/main.js). */
  cli: string;
  seed: number;
  /** How long the cameras record (wall time, ms). */
  cameraMs: number;
  /** Mean pause between two steps (recordings) of one camera, ms. Default 300. */
  stepMs?: number;
  /** Seconds between pass starts (HIKSYNC_INTERVAL_SECONDS). Default 1. */
  intervalSeconds?: number;
  workers?: number;
  /** Last share of the camera time without kills (one process: the memory series). Default 0.35. */
  calmShare?: number;
  /** The kill part goes on past its time until this many kills (at most until three times the camera time). */
  minKills?: number;
  /**
   * V8 heap limit of the hiksync processes (--max-old-space-size), MB; 0 = node's default. Default
   * DEFAULT_SOAK_HEAP_MB. V8 fills whatever heap budget it has before it collects in earnest, so a busy cron process's
   * peak RSS climbs by about that budget and then stays (measured over 150-200 passes: default limit 130 -> 220 MB,
   * 48 MB limit 133 -> 180 MB, 24 MB limit flat at 117-139 MB; with forced GC the live heap stays at 8-9 MB). That
   * climb says nothing about leaks; with a tight limit it is gone, and what passes retain shows as growth, or as an
   * out-of-memory crash of the process (which fails the soak).
   */
  heapMb?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export const DEFAULT_SOAK_HEAP_MB = 24;

export interface PassRecord {
  /** Which hiksync process (0, 1, ...). */
  process: number;
  startedAt: number;
  endedAt: number;
  written: number;
  failed: Record<string, number>;
  /** VmRSS after the pass and the peak during it (VmHWM, reset after each pass), KiB. */
  rssKiB?: number;
  peakKiB?: number;
}

export interface SoakReport {
  seed: number;
  cameraSeconds: number;
  /** How much the soak clock was slowed down for slow passes (1 = not at all): time-weighted mean and maximum. */
  slowdown: { mean: number; max: number };
  totalSeconds: number;
  cameraSteps: number;
  processes: number;
  kills: { total: number; whileWritingTemporary: number; atRandomTime: number };
  passes: { completed: number; perProcessMax: number; meanSeconds: number; maxSeconds: number };
  /** Failures the completed passes counted, by reason (source-changed: the camera rewrote a recording mid-copy). */
  failedByReason: Record<string, number>;
  memory: {
    /** Per-pass peak RSS of the undisturbed process, KiB, pass by pass. */
    calmPeaksKiB: number[];
    firstKiB: number;
    secondKiB: number;
    lastKiB: number;
    maxKiB: number;
    /** False when /proc/<pid>/clear_refs could not reset the peak: the peaks are then cumulative. */
    perPassPeak: boolean;
    /** The V8 heap limit hiksync ran with (MB), 0: node's default. */
    heapLimitMb: number;
  };
  verify: VerifyReport;
  finalExitCode: number | null;
  /** Warnings and errors hiksync logged (the last 300), to read when something is missing. */
  warnings: string[];
}

/** Cameras of the soak: small rings of short recordings, so they wrap every few seconds. */
export const SOAK_CAMERAS: SyntheticCamera[] = [
  {
    name: 'cam-nas',
    codec: 'h264',
    audio: 'aac',
    datadirs: 2,
    avFiles: 3,
    fileSize: 384 * 1024,
    events: 8,
    pictures: 3,
    lengthMix: [3, 8, 'short', 5, 12, 2, 6, 10],
  },
  {
    name: 'cam-sd',
    codec: 'h265',
    audio: 'none',
    sdLayout: true,
    avFiles: 4,
    fileSize: 256 * 1024,
    events: 6,
    indexVersion: 3,
    lengthMix: [4, 'short', 9, 2, 6],
  },
];

const PASS_DEADLINE_MS = 120_000;
/** Passes of the undisturbed process while the cameras record (the memory series). */
const MIN_CALM_PASSES = 4;
const POLL_MS = 5;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function procKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resets the peak RSS (VmHWM) of `pid` to its current RSS; false when the kernel does not let us. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

interface Summary {
  startedAt: string;
  endedAt: string;
  interrupted: boolean;
  totals: { written: number };
  cameras: Array<{ failed: Record<string, number> }>;
}

/** One hiksync process in cron mode; every pass summary on stdout becomes a PassRecord. */
class Hiksync {
  readonly child: ChildProcessWithoutNullStreams;
  readonly passes: PassRecord[] = [];
  /** Its warning and error log lines. */
  readonly warnings: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  private waiters: Array<() => void> = [];
  private ended = false;
  perPassPeak = true;

  constructor(
    readonly index: number,
    cli: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(process.execPath, [cli, ...args], { env });
    let buffered = '';
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        this.line(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    let errBuffered = '';
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      // Keep the tail only: a soak of minutes logs a lot.
      this.stderr = (this.stderr + d).slice(-20_000);
      errBuffered += d;
      for (let nl = errBuffered.indexOf('\n'); nl >= 0; nl = errBuffered.indexOf('\n')) {
        const line = errBuffered.slice(0, nl);
        errBuffered = errBuffered.slice(nl + 1);
        try {
          const rec = JSON.parse(line) as { message?: unknown; level?: unknown; time?: unknown };
          if ((rec.level === 'WARN' || rec.level === 'ERROR') && typeof rec.message === 'string')
            this.warnings.push(`${String(rec.time)} process ${this.index}: ${rec.message}`);
        } catch {
          /* not a JSON log line */
        }
      }
    });
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        this.ended = true;
        this.notify();
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return !this.ended;
  }

  private line(text: string): void {
    let s: Summary;
    try {
      s = JSON.parse(text) as Summary;
    } catch {
      return;
    }
    if (typeof s.startedAt !== 'string' || s.interrupted) return;
    const pid = this.child.pid!;
    const failed: Record<string, number> = {};
    for (const c of s.cameras) for (const [k, n] of Object.entries(c.failed)) failed[k] = (failed[k] ?? 0) + n;
    const rec: PassRecord = {
      process: this.index,
      startedAt: Date.parse(s.startedAt),
      endedAt: Date.parse(s.endedAt),
      written: s.totals.written,
      failed,
    };
    const rss = procKiB(pid, 'VmRSS');
    const peak = procKiB(pid, 'VmHWM');
    if (rss !== undefined) rec.rssKiB = rss;
    if (peak !== undefined) rec.peakKiB = peak;
    if (!resetPeak(pid)) this.perPassPeak = false;
    this.passes.push(rec);
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves at the next pass summary or exit, or after `timeoutMs`, whichever comes first. */
  nextEvent(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.ended) return resolve();
      const timer = setTimeout(resolve, Math.max(0, timeoutMs));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Names of temporary files in the output folders now. */
async function temporaries(out: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (const tag of await fs.readdir(out).catch(() => [] as string[])) {
    if (tag.startsWith('.')) continue;
    for (const folder of ['video', 'images']) {
      for (const n of await fs.readdir(path.join(out, tag, folder)).catch(() => [] as string[]))
        if (n.endsWith('.partial')) found.add(n);
    }
  }
  return found;
}

/**
 * A camera recording at its pace until `stop()` says so; now and then a burst of steps (the ring wraps fast). The
 * pause between steps is `stepMs` times `slowdown()`: the soak compresses a camera's days into seconds, and what it
 * tests is the race between the camera and hiksync's passes, so when other load makes the passes slow the camera
 * slows down with them (else a loaded machine turns the soak into "the ring took everything before a pass ran").
 */
async function cameraLoop(
  cam: LiveCamera,
  rng: Rng,
  stepMs: number,
  slowdown: () => number,
  stop: () => boolean,
): Promise<number> {
  let steps = 0;
  while (!stop()) {
    const burst = rng.next() < 0.06 ? rng.int(4, 10) : 1;
    for (let k = 0; k < burst; k++) {
      await cam.step();
      steps++;
    }
    const pause = stepMs * slowdown();
    await delay(rng.int(Math.floor(pause / 2), Math.ceil((pause * 3) / 2)));
  }
  return steps;
}

/** Pass length on an unloaded machine the soak's camera pace is made for (measured: 0.5-0.7 s mean). */
const REFERENCE_PASS_MS = 700;
/** The camera never slows down by more than this (a pass that hangs must not stop the camera). */
const MAX_SLOWDOWN = 8;

/** How much slower than REFERENCE_PASS_MS the last completed passes were (1 at least). */
export function passSlowdown(passes: Array<{ startedAt: number; endedAt: number }>): number {
  const recent = passes.slice(-3);
  if (recent.length === 0) return 1;
  const meanMs = recent.reduce((n, p) => n + (p.endedAt - p.startedAt), 0) / recent.length;
  return Math.min(MAX_SLOWDOWN, Math.max(1, meanMs / REFERENCE_PASS_MS));
}

/**
 * The soak's clock, in ms since it was made: it runs at 1/slowdown() of real time, the slowdown taken afresh at every
 * reading (it changes only when a pass completes, and readings come every few ms).
 */
export class PacedClock {
  private readonly startedAt = Date.now();
  private lastReal = this.startedAt;
  private paced = 0;
  private factor = 1;
  private max = 1;

  constructor(private readonly currentSlowdown: () => number) {}

  now(): number {
    const real = Date.now();
    this.paced += (real - this.lastReal) / this.factor;
    this.lastReal = real;
    this.factor = this.currentSlowdown();
    this.max = Math.max(this.max, this.factor);
    return this.paced;
  }

  /** Real ms per soak ms, now. */
  slowdown(): number {
    this.now();
    return this.factor;
  }

  stats(): { mean: number; max: number } {
    const pacedNow = this.now();
    const mean = pacedNow > 0 ? (Date.now() - this.startedAt) / pacedNow : 1;
    return { mean: Math.round(mean * 100) / 100, max: Math.round(this.max * 100) / 100 };
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined);
  const t0 = Date.now();
  const share = path.join(o.dir, 'share');
  const out = path.join(o.dir, 'out');
  const interval = o.intervalSeconds ?? 1;
  const rng = createRng(o.seed, 'soak');
  const truth = await writeSyntheticShare({ root: share, seed: o.seed, cameras: SOAK_CAMERAS });
  const cameras: LiveCamera[] = [];
  for (const camera of SOAK_CAMERAS) cameras.push(await LiveCamera.attach({ root: share, seed: o.seed, camera }));

  const args = ['run', '--run-mode', 'cron', '--input', share, '--output', out, '--json'];
  args.push('--retention-days', '36500', '--workers', String(o.workers ?? 2));
  const heapMb = o.heapMb ?? DEFAULT_SOAK_HEAP_MB;
  const env = {
    ...process.env,
    LOG_FORMAT: 'json',
    TZ: 'UTC',
    HIKSYNC_INTERVAL_SECONDS: String(interval),
    NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', heapMb > 0 ? `--max-old-space-size=${heapMb}` : ''].join(' ').trim(),
  };
  const processes: Hiksync[] = [];
  const start = () => {
    const p = new Hiksync(processes.length, o.cli, args, env);
    processes.push(p);
    return p;
  };

  // The soak's own clock runs slower when other load makes the passes slow (PacedClock): the camera's steps, the kill
  // moments and the parts below are all in its time, so a loaded machine stretches the soak instead of emptying it.
  const cameraStart = Date.now();
  const clock = new PacedClock(() =>
    passSlowdown(processes.flatMap((p) => p.passes).sort((a, b) => a.endedAt - b.endedAt)),
  );
  const calmAt = o.cameraMs * (1 - (o.calmShare ?? 0.35));
  const cameraEnd = o.cameraMs;
  // The cameras stop when their time is up AND the undisturbed process has run enough passes while they recorded
  // to judge its memory, or at the latest after three times their time.
  let calm: Hiksync | undefined = undefined; // started after the kills
  const cameraStop = () =>
    clock.now() >= 3 * o.cameraMs ||
    (clock.now() >= cameraEnd && calm !== undefined && calm.passes.length >= MIN_CALM_PASSES);
  const loops = Promise.all(
    cameras.map((cam, i) =>
      cameraLoop(cam, createRng(o.seed, 'soak-camera', i), o.stepMs ?? 300, () => clock.slowdown(), cameraStop),
    ),
  );
  // A camera that fails is reported where its steps are awaited, below (not as an unhandled rejection now).
  loops.catch(() => undefined);

  // Part one: kills. Each process first completes 0-2 passes, then is killed while a temporary file is being
  // written (the n-th new one) or at a random moment of the next 1.5 intervals (mid-pass or between passes).
  const kills = { total: 0, whileWritingTemporary: 0, atRandomTime: 0 };
  const untilCalm = () => Math.max(POLL_MS, (calmAt - clock.now()) * clock.slowdown());
  const minKills = o.minKills ?? 0;
  const killing = () => clock.now() < calmAt || (kills.total < minKills && clock.now() < 3 * o.cameraMs);
  while (killing()) {
    const p = start();
    const passesFirst = rng.int(0, 2);
    const byTemp = rng.next() < 0.4;
    const nth = rng.int(1, 2);
    const after = rng.int(0, Math.round(1.5 * interval * 1000));
    while (p.running && p.passes.length < passesFirst && killing()) await p.nextEvent(untilCalm());
    const from = clock.now();
    const before = byTemp ? await temporaries(out) : new Set<string>();
    const seen = new Set<string>();
    let due = false;
    while (p.running && killing() && !due) {
      if (byTemp) {
        for (const n of await temporaries(out)) if (!before.has(n)) seen.add(n);
        due = seen.size >= nth;
      } else {
        due = clock.now() >= from + after;
      }
      if (!due) await delay(POLL_MS);
    }
    if (!p.running) {
      const r = await p.exited;
      throw new Error(`hiksync process ${p.index} ended on its own (exit ${r.code}): ${p.stderr.slice(-1000)}`);
    }
    p.child.kill('SIGKILL');
    const { signal } = await p.exited;
    if (signal === 'SIGKILL') {
      kills.total++;
      if (due && byTemp) kills.whileWritingTemporary++;
      else kills.atRandomTime++;
    }
    log(`kill ${kills.total}: process ${p.index} after ${p.passes.length} completed pass(es)`);
  }

  // Part two: one process, undisturbed, until the cameras stop and one more pass has seen everything.
  calm = start();
  log(`calm part: process ${calm.index}`);
  const steps = (await loops).reduce((a, b) => a + b, 0);
  for (const cam of cameras) await cam.close();
  const stoppedAt = Date.now();
  log(`cameras stopped after ${steps} steps (soak clock ${Math.round(clock.now() / 1000)} s)`);
  const deadline = stoppedAt + PASS_DEADLINE_MS;
  while (calm.running && !calm.passes.some((p) => p.startedAt > stoppedAt) && Date.now() < deadline)
    await calm.nextEvent(deadline - Date.now());
  if (!calm.passes.some((p) => p.startedAt > stoppedAt))
    throw new Error(`no pass completed after the cameras stopped: ${calm.stderr.slice(-1000)}`);
  calm.child.kill('SIGTERM');
  const final = await calm.exited;

  // The ground truth and what the completed passes could have seen.
  const passes = processes.flatMap((p) => p.passes);
  const live: LiveRecording[] = cameras.flatMap((c) => c.recordings());
  // "Could have seen it": TWO completed passes ran inside the window. One pass alone may read the index while the
  // camera is writing it: a camera that writes its header (write counter) first, or last, leaves a moment in which a
  // reader gets a consistent-looking counter with half-written records (the counter cannot reveal every such read),
  // and the finished recording looks open or unlisted to that pass. The next pass lists it; in a ring that wraps in
  // seconds there may be no next pass. Recordings with exactly one pass inside are counted apart (missedWithOnePass).
  const inside = (from: number, until: number) => passes.filter((p) => p.startedAt > from && p.endedAt < until);
  const passesInside = (from: number, until: number) => inside(from, until).length;
  const seenBy = (from: number, until: number) =>
    `completed passes inside: ${inside(from, until)
      .map((p) => `process ${p.process} ${p.startedAt}-${p.endedAt}`)
      .join(', ')}`;
  const expected: Expected[] = [
    ...live.map((r) => ({
      truth: r,
      finishedAt: r.finishedAt,
      ...(r.overwrittenAt !== undefined ? { overwrittenAt: r.overwrittenAt } : {}),
      passesInside: passesInside(r.finishedAt, r.overwrittenAt ?? Infinity),
      seenBy: seenBy(r.finishedAt, r.overwrittenAt ?? Infinity),
    })),
    ...truth.cameras
      .flatMap((c) => c.recordings)
      .filter((r) => r.kind === 'picture')
      .map((r) => ({ truth: r, finishedAt: t0, passesInside: passesInside(t0, Infinity) })),
  ];
  const verify = await verifySoak({ share, out, expected });

  const failedByReason: Record<string, number> = {};
  for (const p of passes)
    for (const [k, n] of Object.entries(p.failed)) failedByReason[k] = (failedByReason[k] ?? 0) + n;
  const calmPeaks = calm.passes.map((p) => p.peakKiB ?? 0);
  const allPeaks = passes.map((p) => p.peakKiB ?? 0);
  return {
    seed: o.seed,
    cameraSeconds: Math.round((stoppedAt - cameraStart) / 1000),
    slowdown: clock.stats(),
    totalSeconds: Math.round((Date.now() - t0) / 1000),
    cameraSteps: steps,
    processes: processes.length,
    kills,
    passes: {
      completed: passes.length,
      perProcessMax: Math.max(...processes.map((p) => p.passes.length)),
      meanSeconds: passes.reduce((n, p) => n + (p.endedAt - p.startedAt), 0) / 1000 / Math.max(1, passes.length),
      maxSeconds: Math.max(0, ...passes.map((p) => (p.endedAt - p.startedAt) / 1000)),
    },
    failedByReason,
    memory: {
      calmPeaksKiB: calmPeaks,
      firstKiB: calmPeaks[0] ?? 0,
      secondKiB: calmPeaks[1] ?? 0,
      lastKiB: calmPeaks.at(-1) ?? 0,
      maxKiB: Math.max(0, ...allPeaks),
      perPassPeak: processes.every((p) => p.perPassPeak),
      heapLimitMb: heapMb,
    },
    verify,
    finalExitCode: final.code,
    warnings: processes.flatMap((p) => p.warnings).slice(-300),
  };
}

/** Largest growth allowed from the second pass's peak RSS to the last pass's (the first one carries the backlog). */
export const MEMORY_GROWTH_LIMIT = 1.5;

/** Largest growth allowed from the mean peak of the first third of the passes (the first one left out) to the last third's. */
export const MEMORY_TREND_LIMIT = 1.3;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Why memory does not look flat across the undisturbed process's passes, or undefined when it does. */
export function memoryProblem(r: SoakReport): string | undefined {
  const peaks = r.memory.calmPeaksKiB;
  if (peaks.length < 3) return `only ${peaks.length} undisturbed pass(es): too few to judge memory`;
  if (!(r.memory.secondKiB > 0)) return 'no peak RSS was read (/proc missing?)';
  if (r.memory.lastKiB >= MEMORY_GROWTH_LIMIT * r.memory.secondKiB)
    return `peak RSS grew from ${r.memory.secondKiB} KiB (second pass) to ${r.memory.lastKiB} KiB (last pass)`;
  if (peaks.length >= 7) {
    const third = Math.floor((peaks.length - 1) / 3);
    const early = mean(peaks.slice(1, 1 + third));
    const late = mean(peaks.slice(-third));
    if (late >= MEMORY_TREND_LIMIT * early)
      return `mean peak RSS grew from ${Math.round(early)} KiB (early passes) to ${Math.round(late)} KiB (late passes)`;
  }
  return undefined;
}
