/**
 * The PES timestamps of a byte stream cut into frames that need not line up with the PES packets (ADTS, MPEG audio):
 * each timestamp is marked at the stream position where its PES payload began, and a frame takes the latest mark at
 * or before its first byte (a frame starting in a PES without a timestamp has none: its framer extrapolates).
 */
/**
 * A queue of (stream position, PTS, DTS) marks in typed arrays: a mark per PES packet with a timestamp, so an object
 * per mark (and a spliced array per frame) was a steady part of the remux's garbage (bench/ANALYSIS.md, issue #12).
 * Marks are appended at the back and dropped from the front; `at`-style reads index from the front.
 */
export class MarkQueue {
  private pos = new Float64Array(16);
  private pts = new Float64Array(16);
  /** NaN: the mark has no DTS. */
  private dts = new Float64Array(16);
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(pos: number, pts: number, dts = NaN): void {
    if (this.tail === this.pos.length) this.makeRoom();
    this.pos[this.tail] = pos;
    this.pts[this.tail] = pts;
    this.dts[this.tail] = dts;
    this.tail++;
  }

  /** Position of the i-th mark from the front. */
  posAt(i: number): number {
    return this.pos[this.head + i]!;
  }

  ptsAt(i: number): number {
    return this.pts[this.head + i]!;
  }

  /** DTS of the i-th mark, or undefined. */
  dtsAt(i: number): number | undefined {
    const d = this.dts[this.head + i]!;
    return Number.isNaN(d) ? undefined : d;
  }

  /** Forget the first `n` marks. */
  dropFront(n: number): void {
    this.head = Math.min(this.tail, this.head + n);
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  clear(): void {
    this.head = this.tail = 0;
  }

  /** Full at the back: move the live marks to the front, or double when more than half are live. */
  private makeRoom(): void {
    const live = this.tail - this.head;
    if (live * 2 > this.pos.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a.subarray(this.head, this.tail));
        return b;
      };
      this.pos = grow(this.pos);
      this.pts = grow(this.pts);
      this.dts = grow(this.dts);
    } else {
      this.pos.copyWithin(0, this.head, this.tail);
      this.pts.copyWithin(0, this.head, this.tail);
      this.dts.copyWithin(0, this.head, this.tail);
    }
    this.head = 0;
    this.tail = live;
  }
}

export class PtsMarks {
  private readonly marks = new MarkQueue();

  /** A PES payload with timestamp `pts` begins at stream position `pos`. */
  add(pos: number, pts: number): void {
    this.marks.push(pos, pts);
  }

  /** The timestamp of a frame starting at `start`: the latest mark up to it, which is used up with those before. */
  take(start: number): number | undefined {
    const m = this.marks;
    let taken = 0;
    while (taken < m.length && m.posAt(taken) <= start) taken++;
    if (taken === 0) return undefined;
    const pts = m.ptsAt(taken - 1);
    m.dropFront(taken);
    return pts;
  }

  /**
   * Every frame from now on starts at or after `base`: of the marks up to it only the last can still be taken.
   * Without this, a stream without sync words grew the list by one mark per PES.
   */
  forgetBefore(base: number): void {
    const m = this.marks;
    let dead = 0;
    while (dead + 1 < m.length && m.posAt(dead + 1) <= base) dead++;
    if (dead > 0) m.dropFront(dead);
  }

  /** Marks held (bounded: see forgetBefore). */
  get size(): number {
    return this.marks.length;
  }

  clear(): void {
    this.marks.clear();
  }
}
