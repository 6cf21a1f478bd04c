/**
 * When a simulated camera records, and what: the n-th recording's time, length, source frames and PTS clock
 * are a function of (seed, camera name, n) and the recordings before it only, so asking for more recordings
 * later reproduces the earlier ones exactly. Pure.
 */
import type { ClockJump } from './ps-writer.js';
import { PTS_MODULO } from './ps-writer.js';
import { createRng } from './rng.js';

export const USEC_PER_FRAME_25FPS = 40_000;

/**
 * Fixed mix of recording lengths, cycled by recording number: GOP counts (1 GOP = 1 s at 25 fps), with one
 * short clip of SHORT_FRAMES frames (a prefix of a GOP: still starts on an IDR with its parameter sets) so the
 * recording after it starts in the same second. Mean about 33 s.
 */
export const LENGTH_MIX: ReadonlyArray<number | 'short'> = [3, 40, 'short', 20, 60, 2, 45, 90];
export const SHORT_FRAMES = 12;
/** Recording whose middle the camera's 90 kHz clock wraps through (2^33). */
export const PTS_WRAP_EVENT = 3;
/** Recording in which the PTS clock jumps (and stays shifted for later recordings). */
export const CLOCK_JUMP_EVENT = 6;

export interface EventPlan {
  index: number;
  /** Camera-local wall clock, microseconds since the fake epoch (seconds as written in the index). */
  startUsec: number;
  frames: number;
  /** Recording frame i is fixture frame (fixtureFirstFrame + i) % fixture length. */
  fixtureFirstFrame: number;
  /** PTS of frame 0 (not reduced modulo 2^33). */
  firstPts: number;
  /** True when the 90 kHz clock passes 2^33 inside this recording. */
  ptsWraps: boolean;
  clockJump?: ClockJump;
}

export interface PlanOptions {
  seed: number;
  camera: string;
  count: number;
  /** Camera-local start time as microseconds since the fake epoch. */
  firstStartUsec: number;
  /** Key frame positions of the fixture (recordings start on one). */
  fixtureKeyFrames: readonly number[];
  gop: number;
  /** Recording lengths cycled by recording number (GOPs, or 'short'); default LENGTH_MIX. */
  lengthMix?: ReadonlyArray<number | 'short'>;
}

export function endUsec(e: EventPlan): number {
  return e.startUsec + e.frames * USEC_PER_FRAME_25FPS;
}

/** Camera-local ISO time without zone ("2024-05-01T08:00:00") to fake-epoch microseconds. */
export function localIsoToUsec(iso: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/.test(iso)) {
    throw new RangeError(`startTime must look like 2024-05-01T08:00:00 (camera-local, no zone), got "${iso}"`);
  }
  const ms = Date.parse(`${iso.slice(0, 19)}Z`);
  if (Number.isNaN(ms)) throw new RangeError(`startTime "${iso}" is not a date`);
  const frac = iso.length > 19 ? Number(iso.slice(20).padEnd(6, '0')) : 0;
  return ms * 1000 + frac;
}

/** Plan the first `count` recordings of a camera. */
export function planEvents(o: PlanOptions): EventPlan[] {
  // The PTS clock's origin is pinned to the wrap recording, which may lie beyond `count`: plan at least that far.
  const n = Math.max(o.count, CLOCK_JUMP_EVENT + 1);
  const timed: Array<Omit<EventPlan, 'firstPts' | 'ptsWraps' | 'clockJump'>> = [];
  let prevEnd = o.firstStartUsec;
  const mix = o.lengthMix ?? LENGTH_MIX;
  if (mix.length === 0 || mix.some((k) => k !== 'short' && !(Number.isInteger(k) && k >= 1 && k <= 86_400))) {
    throw new RangeError(`lengthMix must list GOP counts from 1 to 86400 or 'short', got ${JSON.stringify(mix)}`);
  }
  for (let i = 0; i < n; i++) {
    const rng = createRng(o.seed, o.camera, 'event', i);
    const kind = mix[i % mix.length]!;
    const frames = kind === 'short' ? SHORT_FRAMES : kind * o.gop;
    const prevKind = i > 0 ? mix[(i - 1) % mix.length] : undefined;
    let startUsec: number;
    if (prevKind === 'short') {
      // Starts in the same second as the short clip before it (that one starts early in its second).
      startUsec = prevEnd + rng.int(100_000, 300_000);
    } else {
      const gapSec = rng.int(i === 0 ? 5 : 20, 900);
      const sec = Math.floor(prevEnd / 1e6) + gapSec;
      const usec = kind === 'short' ? rng.int(0, 199_999) : rng.int(0, 999_999);
      startUsec = sec * 1e6 + usec;
    }
    const fixtureFirstFrame = rng.pick(o.fixtureKeyFrames);
    timed.push({ index: i, startUsec, frames, fixtureFirstFrame });
    prevEnd = startUsec + frames * USEC_PER_FRAME_25FPS;
  }

  // 90 kHz clock: PTS = (t - boot) * 0.09, with boot chosen so the clock passes 2^33 mid-way through the
  // wrap recording; from the jump frame of the jump recording on, a fixed offset is added.
  const wrap = timed[PTS_WRAP_EVENT]!;
  const wrapMid = wrap.startUsec + Math.floor(wrap.frames / 2) * USEC_PER_FRAME_25FPS;
  const bootUsec = wrapMid - (PTS_MODULO / 90_000) * 1e6;
  const jumpRng = createRng(o.seed, o.camera, 'clock-jump');
  const jumpEvent = timed[CLOCK_JUMP_EVENT]!;
  const jump: ClockJump = {
    // Not on a GOP boundary, so the jump happens between two P frames.
    atFrame: Math.floor(jumpEvent.frames / 2) + 7,
    delta: (jumpRng.next() < 0.5 ? -1 : 1) * jumpRng.int(10, 3600) * 90_000,
  };
  return timed.slice(0, o.count).map((e) => {
    const raw = Math.round(((e.startUsec - bootUsec) * 90_000) / 1e6);
    const even = raw - (raw % 2); // the index stores PTS / 2: keep it exact
    const firstPts = even + (e.index > CLOCK_JUMP_EVENT ? jump.delta : 0);
    const lastPts = firstPts + e.frames * 3600 + (e.index === CLOCK_JUMP_EVENT ? jump.delta : 0);
    return {
      ...e,
      firstPts,
      ptsWraps: Math.floor(firstPts / PTS_MODULO) !== Math.floor(lastPts / PTS_MODULO),
      ...(e.index === CLOCK_JUMP_EVENT ? { clockJump: jump } : {}),
    };
  });
}
