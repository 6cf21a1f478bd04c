/**
 * The sample tables of one ISO-BMFF track, kept in typed arrays grown by doubling (never a JS object per sample):
 * a 10-minute 25 fps recording is 15,000 samples, i.e. a few hundred KiB of tables, whatever the media bytes.
 * Pure: no I/O. The writer appends samples and chunks; `stts`, `stsz`, `stsc`, `stco`/`co64` and `stss` come out of
 * here as plain values for the box builder.
 */

/** Unsigned 32-bit values, grown by doubling. */
export class U32List {
  private a: Uint32Array;
  length = 0;
  constructor(capacity = 256) {
    this.a = new Uint32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.a.length) {
      const grown = new Uint32Array(this.a.length * 2);
      grown.set(this.a);
      this.a = grown;
    }
    this.a[this.length++] = v;
  }
  get(i: number): number {
    return this.a[i]!;
  }
  /** A view of the used part (valid until the next push). */
  view(): Uint32Array {
    return this.a.subarray(0, this.length);
  }
}

/** Non-negative integers up to 2^53 (file offsets past 4 GiB, timestamps of long recordings), grown by doubling. */
export class F64List {
  private a: Float64Array;
  length = 0;
  constructor(capacity = 256) {
    this.a = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.a.length) {
      const grown = new Float64Array(this.a.length * 2);
      grown.set(this.a);
      this.a = grown;
    }
    this.a[this.length++] = v;
  }
  get(i: number): number {
    return this.a[i]!;
  }
  get last(): number | undefined {
    return this.length > 0 ? this.a[this.length - 1] : undefined;
  }
}

export const U32_MAX = 0xffff_ffff;

/** One run of stsc: from `firstChunk` (1-based) on, every chunk holds `samplesPerChunk` samples. */
export interface ChunkRun {
  firstChunk: number;
  samplesPerChunk: number;
}

/** A run of equal sample durations (stts). */
export interface TimeRun {
  count: number;
  delta: number;
}

/**
 * Sample tables of one track. Samples are appended in decode order with their decode time in the track's timescale;
 * a sample's duration is the step to the next one, the last sample's its own `duration` (as given at finish).
 * `fixedSize`: every sample has this size (PCM: one sample per byte), stsz holds no per-sample entries and the caller
 * appends many samples at once with `addFixed`.
 */
export class TrackTables {
  readonly sizes = new U32List();
  /** Decode times of sample runs: for variable-size tracks one entry per sample. */
  private readonly times = new F64List();
  private readonly runCounts = new U32List();
  readonly sync = new U32List();
  readonly chunkOffsets = new F64List();
  readonly chunkRuns: ChunkRun[] = [];
  private chunkCount = 0;
  sampleCount = 0;
  /** Duration of the last sample (track timescale). */
  lastDuration = 0;
  allSync = true;

  constructor(readonly fixedSize = 0) {}

  /** One variable-size sample at decode time `time`. */
  add(size: number, time: number, key: boolean): void {
    if (this.fixedSize) throw new Error('TrackTables.add on a fixed-size track');
    if (!(size >= 0 && size <= U32_MAX)) throw new RangeError(`sample of ${size} bytes`);
    this.sizes.push(size);
    this.times.push(time);
    this.runCounts.push(1);
    this.sampleCount++;
    if (key) this.sync.push(this.sampleCount);
    else this.allSync = false;
  }

  /** `count` fixed-size samples in a row starting at `time`, one time unit each (PCM). */
  addFixed(count: number, time: number): void {
    if (!this.fixedSize) throw new Error('TrackTables.addFixed on a variable-size track');
    this.times.push(time);
    this.runCounts.push(count);
    this.sampleCount += count;
  }

  /** The samples added since the previous chunk (`samples` of them) start at file offset `offset`. */
  addChunk(offset: number, samples: number): void {
    if (samples <= 0) return;
    this.chunkOffsets.push(offset);
    this.chunkCount++;
    const last = this.chunkRuns[this.chunkRuns.length - 1];
    if (!last || last.samplesPerChunk !== samples)
      this.chunkRuns.push({ firstChunk: this.chunkCount, samplesPerChunk: samples });
  }

  get firstTime(): number {
    return this.times.length > 0 ? this.times.get(0) : 0;
  }

  /** Sum of all sample durations (track timescale). */
  get duration(): number {
    if (this.times.length === 0) return 0;
    if (this.fixedSize) return this.sampleCount;
    return this.times.get(this.times.length - 1) - this.firstTime + this.lastDuration;
  }

  /** stts runs: steps between decode times, merged while equal. A step below 0 would be invalid: it becomes 0. */
  timeToSample(): TimeRun[] {
    const runs: TimeRun[] = [];
    const push = (count: number, delta: number) => {
      const last = runs[runs.length - 1];
      if (last && last.delta === delta) last.count += count;
      else runs.push({ count, delta });
    };
    const n = this.times.length;
    for (let i = 0; i < n; i++) {
      const count = this.runCounts.get(i);
      if (this.fixedSize) {
        push(count, 1);
        continue;
      }
      const delta = i + 1 < n ? this.times.get(i + 1) - this.times.get(i) : this.lastDuration;
      push(count, Math.max(0, Math.min(U32_MAX, Math.round(delta))));
    }
    return runs;
  }

  /** co64 is needed once a chunk starts at or past 4 GiB. */
  needsCo64(): boolean {
    for (let i = 0; i < this.chunkOffsets.length; i++) if (this.chunkOffsets.get(i) > U32_MAX) return true;
    return false;
  }
}
