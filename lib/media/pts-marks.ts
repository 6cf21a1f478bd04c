/**
 * The PES timestamps of a byte stream cut into frames that need not line up with the PES packets (ADTS, MPEG audio):
 * each timestamp is marked at the stream position where its PES payload began, and a frame takes the latest mark at
 * or before its first byte (a frame starting in a PES without a timestamp has none: its framer extrapolates).
 */
export class PtsMarks {
  private marks: Array<{ pos: number; pts: number }> = [];

  /** A PES payload with timestamp `pts` begins at stream position `pos`. */
  add(pos: number, pts: number): void {
    this.marks.push({ pos, pts });
  }

  /** The timestamp of a frame starting at `start`: the latest mark up to it, which is used up with those before. */
  take(start: number): number | undefined {
    let taken = 0;
    while (taken < this.marks.length && this.marks[taken]!.pos <= start) taken++;
    if (taken === 0) return undefined;
    const pts = this.marks[taken - 1]!.pts;
    this.marks.splice(0, taken);
    return pts;
  }

  /**
   * Every frame from now on starts at or after `base`: of the marks up to it only the last can still be taken.
   * Without this, a stream without sync words grew the list by one mark per PES.
   */
  forgetBefore(base: number): void {
    let dead = 0;
    while (dead + 1 < this.marks.length && this.marks[dead + 1]!.pos <= base) dead++;
    if (dead > 0) this.marks.splice(0, dead);
  }

  /** Marks held (bounded: see forgetBefore). */
  get size(): number {
    return this.marks.length;
  }

  clear(): void {
    this.marks = [];
  }
}
