/**
 * 90 kHz PES timestamps -> monotonic output timestamps (90 kHz ticks, first video frame at 0).
 *
 * Camera PTS wrap at 2^33 (every ~26.5 h) and jump when the camera's clock is set. MP4 needs monotonic time
 * (a decode time may not step back, and players mis-seek over huge gaps), so any backward step, any forward jump larger
 * than `maxJumpTicks` and any missing PTS continue from the previous frame plus the nominal frame duration.
 * Streams are assumed to have no B-frames (camera encoders do not use them), so PTS order is decode order.
 */

export const PTS_WRAP = 2 ** 33;
export const PTS_HZ = 90000;

/** A PTS brought onto the 33-bit circle, [0, 2^33): a sum that passed the wrap, or a difference read forward. */
export function ptsOnCircle(t: number): number {
  return ((t % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
}

/** Signed distance from `from` to `to` on the 33-bit circle, in (-2^32, 2^32]. */
export function ptsDelta(from: number, to: number): number {
  let d = (to - from) % PTS_WRAP;
  if (d > PTS_WRAP / 2) d -= PTS_WRAP;
  else if (d <= -PTS_WRAP / 2) d += PTS_WRAP;
  return d;
}

export interface VideoTimelineOptions {
  /** Frame duration used until two frames have shown the real one (default 3600 = 25 fps). */
  frameTicks?: number;
  /** Forward steps larger than this are clock jumps (default 3 s). */
  maxJumpTicks?: number;
}

export class VideoTimeline {
  /** Nominal frame duration in ticks: the smallest of the recent normal steps (dropped frames only make steps longer). */
  frameTicks: number;
  /** Times a jump, a backward step or a missing PTS made the timeline continue from the previous frame. */
  rebases = 0;
  private readonly maxJump: number;
  private lastOut: number | undefined;
  /** The latest frame that had a PTS, and where it landed. */
  private anchorRaw: number | undefined;
  private anchorOut = 0;
  private lastHadPts = false;
  private recentSteps: number[] = [];

  constructor(options: VideoTimelineOptions = {}) {
    this.frameTicks = options.frameTicks ?? 3600;
    this.maxJump = options.maxJumpTicks ?? 3 * PTS_HZ;
    if (!(this.frameTicks > 0) || !(this.maxJump > 0)) throw new RangeError('frameTicks and maxJumpTicks must be > 0');
  }

  /** Output time of the next frame (in decode order) given its PES PTS, if it had one. */
  next(pts?: number): number {
    let out: number;
    if (this.lastOut === undefined) {
      out = 0;
    } else if (pts === undefined || this.anchorRaw === undefined) {
      out = this.lastOut + this.frameTicks;
      if (pts !== undefined) this.rebases++;
    } else {
      const candidate = this.anchorOut + ptsDelta(this.anchorRaw, pts);
      const step = candidate - this.lastOut;
      if (step <= 0 || step > this.maxJump) {
        out = this.lastOut + this.frameTicks;
        this.rebases++;
      } else {
        out = candidate;
        if (this.lastHadPts) this.noteStep(step);
      }
    }
    if (pts !== undefined) {
      this.anchorRaw = pts;
      this.anchorOut = out;
    }
    this.lastHadPts = pts !== undefined;
    this.lastOut = out;
    return out;
  }

  private noteStep(step: number): void {
    this.recentSteps.push(step);
    if (this.recentSteps.length > 8) this.recentSteps.shift();
    let min = this.recentSteps[0]!;
    for (let i = 1; i < this.recentSteps.length; i++) min = Math.min(min, this.recentSteps[i]!);
    this.frameTicks = min;
  }

  /**
   * Where a raw PTS lands on the output timeline, relative to the latest frame that had a PTS (undefined before
   * that). Used to put audio on the video's timeline.
   */
  project(pts: number): number | undefined {
    if (this.anchorRaw === undefined) return undefined;
    return this.anchorOut + ptsDelta(this.anchorRaw, pts);
  }

  get started(): boolean {
    return this.lastOut !== undefined;
  }
}

/**
 * Audio timestamps aligned to the video timeline. Each packet is projected through the latest video frame; packets
 * whose projection is far off (the audio clock jumped alone) or would go backwards continue from the previous
 * packet's end. Packets before the first video frame are dropped (null).
 */
export class AudioTimeline {
  private lastEnd: number | undefined;
  rebases = 0;
  private readonly maxJump: number;

  constructor(
    private readonly video: VideoTimeline,
    options: { maxJumpTicks?: number } = {},
  ) {
    this.maxJump = options.maxJumpTicks ?? 3 * PTS_HZ;
  }

  /** Output time (ticks) of an audio packet lasting `durationTicks`, or null when it must be dropped. */
  next(pts: number | undefined, durationTicks: number): number | null {
    let out = pts === undefined ? undefined : this.video.project(pts);
    if (this.lastEnd === undefined) {
      if (out === undefined || out < 0) return null;
    } else if (out === undefined || out < this.lastEnd - durationTicks / 2 || out > this.lastEnd + this.maxJump) {
      if (out !== undefined) this.rebases++;
      out = this.lastEnd;
    } else if (out < this.lastEnd) {
      out = this.lastEnd; // sub-frame jitter: never overlap the previous packet
    }
    this.lastEnd = out + durationTicks;
    return out;
  }
}
