/**
 * The per-camera manifest: what hiksync wrote (or tried to write) for each recording id.
 *
 * Storage: `<stateDir>/manifests/<camera>.jsonl`, append-only JSON lines on the output volume.
 * - a line holding an entry replaces any earlier line with the same id (last one wins);
 * - `{"id":..., "removed":true}` forgets an id (retention);
 * - a torn last line (crash mid-append) is ignored on load, and the next append starts on a fresh line;
 * - when dead lines outnumber live entries the file is compacted: rewritten to a temporary file in the same
 *   folder, fsynced, and renamed over the old one (atomic on POSIX file systems, NFS included).
 */
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ManifestEntry } from './manifest-entry.js';
import { removeQuietly } from '../files.js';

const MANIFEST_DIR = 'manifests';
const SUFFIX = '.jsonl';
/** Compact when the file holds more than this many lines and more than twice the live entries. */
const COMPACT_MIN_LINES = 1000;

export interface ManifestLoadReport {
  /** The manifest file existed before this open (false on a first run or when it was lost). */
  existed: boolean;
  lines: number;
  /** Lines that were not valid JSON entries (a torn tail or outside damage), skipped. */
  badLines: number;
}

export class Manifest {
  readonly file: string;
  readonly camera: string;
  readonly report: ManifestLoadReport;
  private readonly byId = new Map<string, ManifestEntry>();
  private readonly byOutput = new Map<string, string>();
  /** Entries per output path (see release()). */
  private readonly holders = new Map<string, number>();
  private pendingLines: string[] = [];
  private lineCount: number;
  private needsNewline: boolean;
  private flushChain: Promise<void> = Promise.resolve();
  /** The file held unreadable lines when loaded: the next flush rewrites it with the live entries only. */
  private needsRepair = false;

  private constructor(file: string, camera: string, report: ManifestLoadReport, needsNewline: boolean) {
    this.file = file;
    this.camera = camera;
    this.report = report;
    this.lineCount = report.lines;
    this.needsNewline = needsNewline;
  }

  static fileFor(stateDir: string, camera: string): string {
    return path.join(stateDir, MANIFEST_DIR, encodeURIComponent(camera) + SUFFIX);
  }

  /** Camera folder names that have a manifest under stateDir. */
  static async listCameras(stateDir: string): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(path.join(stateDir, MANIFEST_DIR));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .filter((n) => n.endsWith(SUFFIX))
      .map((n) => decodeURIComponent(n.slice(0, -SUFFIX.length)))
      .sort();
  }

  static async open(stateDir: string, camera: string): Promise<Manifest> {
    const file = Manifest.fileFor(stateDir, camera);
    let text = '';
    let existed = true;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      existed = false;
    }
    const lines = text.split('\n');
    const complete = text.endsWith('\n') || text.length === 0;
    // The last element is '' for a file ending in '\n', or a torn line after a crash: never trusted.
    const tail = lines.pop() ?? '';
    let badLines = complete ? 0 : tail.length > 0 ? 1 : 0;
    const m = new Manifest(file, camera, { existed, lines: 0, badLines: 0 }, !complete);
    let count = 0;
    for (const line of lines) {
      if (line.length === 0) continue;
      count++;
      if (!m.applyLine(line)) badLines++;
    }
    m.lineCount = count;
    m.needsRepair = badLines > 0;
    Object.assign(m.report, { lines: count, badLines });
    return m;
  }

  private applyLine(line: string): boolean {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      return false;
    }
    if (!obj || typeof obj !== 'object') return false;
    const rec = obj as Partial<ManifestEntry> & { removed?: boolean };
    if (typeof rec.id !== 'string') return false;
    if (rec.removed === true) {
      this.forget(rec.id);
      return true;
    }
    if (!isEntry(rec)) return false;
    this.index(rec);
    return true;
  }

  private index(entry: ManifestEntry): void {
    const old = this.byId.get(entry.id);
    if (old) this.release(old);
    this.byId.set(entry.id, entry);
    this.byOutput.set(entry.output, entry.id);
    this.holders.set(entry.output, (this.holders.get(entry.output) ?? 0) + 1);
  }

  private forget(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    this.release(old);
  }

  /**
   * `old` (still in byId, about to be replaced or just removed) no longer holds its output. Two ids hold one path
   * only in a damaged file; then the path must stay owned by the other, or the planner could give it to another
   * recording and replace that file. The scan for the other holder runs only then.
   */
  private release(old: ManifestEntry): void {
    const left = (this.holders.get(old.output) ?? 1) - 1;
    if (left > 0) this.holders.set(old.output, left);
    else this.holders.delete(old.output);
    if (this.byOutput.get(old.output) !== old.id) return;
    this.byOutput.delete(old.output);
    if (left === 0) return;
    for (const e of this.byId.values()) {
      if (e.output === old.output && e.id !== old.id) {
        this.byOutput.set(e.output, e.id);
        return;
      }
    }
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): ManifestEntry | undefined {
    return this.byId.get(id);
  }

  /** The entry that owns an output path (relative to the output root), if any. */
  ownerOf(output: string): ManifestEntry | undefined {
    const id = this.byOutput.get(output);
    return id === undefined ? undefined : this.byId.get(id);
  }

  entries(): ManifestEntry[] {
    return [...this.byId.values()];
  }

  /** Record (or replace) an entry; persisted by the next flush(). */
  put(entry: ManifestEntry): void {
    this.index(entry);
    this.pendingLines.push(JSON.stringify(entry));
  }

  /** Forget an entry (its output was deleted); persisted by the next flush(). */
  remove(id: string): void {
    if (!this.byId.has(id)) return;
    this.forget(id);
    this.pendingLines.push(JSON.stringify({ id, removed: true }));
  }

  get dirty(): boolean {
    return this.pendingLines.length > 0;
  }

  /**
   * Append what changed since the last flush. `durable` fsyncs the file (used before a worker may rename an
   * output into place, so the 'pending' line is on disk first). Compacts when the file has grown.
   */
  async flush(opts: { durable?: boolean } = {}): Promise<void> {
    // Flushes are serialised: concurrent callers (one per in-flight task) must neither interleave their appends
    // nor lose lines put() while an earlier flush was writing.
    const run = this.flushChain.then(() => this.flushNow(opts));
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  private async flushNow(opts: { durable?: boolean }): Promise<void> {
    if (this.pendingLines.length === 0) return;
    // A damaged file (a torn line from a crash or a full disk) is rewritten at the first flush, so its warning is
    // given once, not on every pass.
    if (
      this.needsRepair ||
      this.lineCount + this.pendingLines.length > Math.max(COMPACT_MIN_LINES, 2 * this.byId.size)
    ) {
      await this.compact();
      return;
    }
    const lines = this.pendingLines;
    this.pendingLines = [];
    const chunk = (this.needsNewline ? '\n' : '') + lines.join('\n') + '\n';
    try {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const fh = await fs.open(this.file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND, 0o644);
      try {
        await fh.write(chunk);
        if (opts.durable) await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      // Not written: keep the lines for the next flush (a torn append is ignored on load).
      this.pendingLines = lines.concat(this.pendingLines);
      this.needsNewline = true;
      throw err;
    }
    this.lineCount += lines.length;
    this.needsNewline = false;
  }

  /** Rewrite the file with only the live entries (atomic replace). */
  async compact(): Promise<void> {
    const dir = path.dirname(this.file);
    await fs.mkdir(dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    // Everything put() so far is in byId: the snapshot supersedes the pending lines.
    const superseded = this.pendingLines;
    this.pendingLines = [];
    const body = [...this.byId.values()].map((e) => JSON.stringify(e)).join('\n');
    try {
      const fh = await fs.open(tmp, 'w', 0o644);
      try {
        await fh.write(body.length > 0 ? body + '\n' : '');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, this.file);
    } catch (err) {
      // Not replaced: the old file stands, so the lines it lacks must still be appended later.
      this.pendingLines = superseded.concat(this.pendingLines);
      await removeQuietly(tmp);
      throw err;
    }
    await syncDir(dir);
    this.lineCount = this.byId.size;
    this.needsNewline = false;
    this.needsRepair = false;
  }
}

/**
 * Every field of ManifestEntry with its type. A damaged line that only looked like an entry (a field missing,
 * retyped, or a number JSON.parse reads as Infinity and JSON.stringify writes back as null) would reach the planner
 * and retention as undefined/NaN, or be lost at the next compaction: it is a bad line.
 */
function isEntry(v: Partial<ManifestEntry>): v is ManifestEntry {
  const s = v.source as Partial<ManifestEntry['source']> | null | undefined;
  return (
    typeof v.id === 'string' &&
    (v.kind === 'video' || v.kind === 'picture') &&
    typeof v.output === 'string' &&
    (v.status === 'pending' || v.status === 'done' || v.status === 'failed' || v.status === 'gave-up') &&
    [v.size, v.startSec, v.startUsec, v.endSec, v.attempts, v.updatedAt].every(Number.isFinite) &&
    typeof s === 'object' &&
    s !== null &&
    typeof s.datadir === 'string' &&
    [s.fileNo, s.slot, s.startOffset, s.endOffset].every(Number.isFinite) &&
    (v.lastError === undefined || typeof v.lastError === 'string') &&
    (v.origin === undefined || v.origin === 'extracted' || v.origin === 'adopted' || v.origin === 'rebuilt')
  );
}

/** fsync a directory so a rename in it survives a power loss (best effort: not every FS allows it). */
export async function syncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems (SMB, some NFS servers) refuse fsync on a directory; the rename is still atomic.
  } finally {
    await fh?.close();
  }
}
