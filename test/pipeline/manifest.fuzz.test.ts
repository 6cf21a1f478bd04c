/**
 * Fuzzing the manifest loader: a manifest file can be torn by a crash, cut by a full disk or damaged outside
 * hiksync. Manifest.open on any content never throws (only I/O errors would), counts every line it cannot use,
 * loads exactly the well-formed entries a plain reading of the JSON lines gives (last line per id wins, a removal
 * forgets), and a flush after the load writes a file that loads to the same entries.
 */
import test from 'ava';
import fc from 'fast-check';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Manifest } from '../../lib/pipeline/manifest.js';
import type { ManifestEntry } from '../../lib/pipeline/manifest-entry.js';
import { fuzzParams, withDeadline } from '../helpers/fuzz.js';

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const str = (v: unknown): v is string => typeof v === 'string';
const oneOf = (v: unknown, values: readonly unknown[]): boolean => values.includes(v);

/** Well-formed: every field of ManifestEntry present with its type (numbers finite, as JSON can write them back). */
function wellFormed(v: unknown): v is ManifestEntry {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const e = v as Record<string, unknown>;
  const s = e.source as Record<string, unknown> | null | undefined;
  return (
    str(e.id) &&
    oneOf(e.kind, ['video', 'picture']) &&
    str(e.output) &&
    oneOf(e.status, ['pending', 'done', 'failed', 'gave-up']) &&
    [e.size, e.startSec, e.startUsec, e.endSec, e.attempts, e.updatedAt].every(finite) &&
    typeof s === 'object' &&
    s !== null &&
    !Array.isArray(s) &&
    str(s.datadir) &&
    [s.fileNo, s.slot, s.startOffset, s.endOffset].every(finite) &&
    (e.lastError === undefined || str(e.lastError)) &&
    (e.origin === undefined || oneOf(e.origin, ['extracted', 'adopted', 'rebuilt']))
  );
}

/** What the file says, read plainly: the entries by id, and the lines that are no entry and no removal. */
function model(text: string): { entries: Map<string, unknown>; lines: number; badLines: number } {
  const entries = new Map<string, unknown>();
  const parts = text.split('\n');
  const tail = parts.pop()!; // '' after a final newline, else a torn line
  let lines = 0;
  let badLines = tail.length > 0 ? 1 : 0;
  for (const line of parts) {
    if (line.length === 0) continue;
    lines++;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      badLines++;
      continue;
    }
    const rec = v as { id?: unknown; removed?: unknown } | null;
    if (typeof rec === 'object' && rec !== null && str(rec.id) && rec.removed === true) entries.delete(rec.id);
    else if (wellFormed(v)) entries.set(v.id, v);
    else badLines++;
  }
  return { entries, lines, badLines };
}

const byId = (entries: Iterable<[string, unknown]>): string =>
  JSON.stringify([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
const number = fc.oneof(fc.nat(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));

const FIELDS_REQUIRED = [
  'id',
  'kind',
  'output',
  'status',
  'size',
  'startSec',
  'startUsec',
  'endSec',
  'source',
  'attempts',
  'updatedAt',
] as const;

const entryArb: fc.Arbitrary<ManifestEntry> = fc.record(
  {
    id: ids,
    kind: fc.constantFrom('video' as const, 'picture' as const),
    output: fc.oneof(fc.constantFrom('cam/video/x.mp4', 'cam/video/y.mp4'), fc.string({ maxLength: 30 })),
    status: fc.constantFrom('pending' as const, 'done' as const, 'failed' as const, 'gave-up' as const),
    size: number,
    startSec: number,
    startUsec: number,
    endSec: number,
    source: fc.record({
      datadir: fc.string({ maxLength: 10 }),
      fileNo: number,
      slot: number,
      startOffset: number,
      endOffset: number,
    }),
    attempts: number,
    lastError: fc.string({ maxLength: 40 }),
    updatedAt: number,
    origin: fc.constantFrom('extracted' as const, 'adopted' as const, 'rebuilt' as const),
  },
  {
    requiredKeys: [
      'id',
      'kind',
      'output',
      'status',
      'size',
      'startSec',
      'startUsec',
      'endSec',
      'source',
      'attempts',
      'updatedAt',
    ],
  },
);

/** A valid line with one field dropped, retyped or nulled, a source field dropped, or a size of 1e999. */
const brokenEntryLine = fc
  .tuple(entryArb, fc.constantFrom(...FIELDS_REQUIRED, 'lastError', 'origin'), fc.nat(4))
  .map(([e, key, how]) => {
    const o: Record<string, unknown> = { ...e };
    if (how === 0) delete o[key];
    else if (how === 1) o[key] = typeof o[key] === 'string' ? 5 : (JSON.stringify(o[key]) ?? 'x');
    else if (how === 2) o[key] = null;
    else if (how === 3) o.source = { ...e.source, [['fileNo', 'slot', 'datadir'][key.length % 3]!]: undefined };
    // JSON.parse reads 1e999 as Infinity, which JSON.stringify writes back as null.
    else return JSON.stringify(o).replace(/"size":[^,}]+/, '"size":1e999');
    return JSON.stringify(o);
  });

/** One line of a manifest file as crashes, full disks and outside damage leave them. */
const line = fc.oneof(
  { weight: 6, arbitrary: entryArb.map((e) => JSON.stringify(e)) },
  { weight: 2, arbitrary: ids.map((id) => JSON.stringify({ id, removed: true })) },
  { weight: 2, arbitrary: brokenEntryLine },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => s.replace(/\n/g, ' ')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('null', '[]', '42', '"x"', '{"id":5}', '{}', '{"id":"a","removed":"yes"}', ''),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(entryArb, fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(([e, at, c]) => {
      const s = JSON.stringify(e);
      const i = at % s.length;
      return (at % 2 === 0 ? s.slice(0, i) : s.slice(0, i) + c + s.slice(i + 1)).replace(/\n/g, ' ');
    }),
  },
);

/** A manifest file's bytes: lines, maybe no final newline (a torn append), maybe bytes damaged outside hiksync. */
const manifestFile = fc
  .tuple(
    fc.array(line, { maxLength: 30, size: 'medium' }),
    fc.boolean(),
    fc.array(fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.nat(255)), { maxLength: 3 }),
  )
  .map(([lines, finalNewline, edits]) => {
    const b = Buffer.from(lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : ''), 'utf8');
    for (const [at, v] of edits) if (b.length > 0) b[Math.floor(at * b.length)] = v;
    return b;
  });

const fresh: ManifestEntry = {
  id: 'fresh',
  kind: 'picture',
  output: 'cam/picture/fresh.jpg',
  status: 'done',
  size: 1,
  startSec: 1_700_000_000,
  startUsec: 0,
  endSec: 1_700_000_000,
  source: { datadir: 'datadir0', fileNo: 0, slot: 0, startOffset: 0, endOffset: 1 },
  attempts: 0,
  updatedAt: 1,
};

let dir = '';
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-manifest-fuzz-'));
});
test.after.always(() => fs.rm(dir, { recursive: true, force: true }));

let runs = 0;
/**
 * Load `bytes`, check the load against the plain reading, then flush (an append after a put, or a compaction)
 * and load again: the same entries, and no bad line left.
 */
async function check(bytes: Buffer, how: 'put' | 'compact'): Promise<boolean> {
  const state = path.join(dir, String(runs++));
  const file = Manifest.fileFor(state, 'cam');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, bytes);
  const m = await Manifest.open(state, 'cam');
  const want = model(await fs.readFile(file, 'utf8'));
  const loaded = m.entries();
  if (!loaded.every(wellFormed)) return false;
  if (byId(loaded.map((e) => [e.id, e])) !== byId(want.entries)) return false;
  if (m.report.lines !== want.lines || m.report.badLines !== want.badLines) return false;
  if (!loaded.every((e) => m.get(e.id) === e && m.ownerOf(e.output)?.output === e.output)) return false;

  if (how === 'put') m.put(fresh);
  else await m.compact();
  await m.flush();
  const again = await Manifest.open(state, 'cam');
  const expected = how === 'put' ? [...loaded, fresh] : loaded;
  await fs.rm(state, { recursive: true, force: true });
  return (
    again.report.badLines === 0 && byId(again.entries().map((e) => [e.id, e])) === byId(expected.map((e) => [e.id, e]))
  );
}

test('any manifest file: no exception, bad lines counted, exactly the well-formed entries, a flush round-trips', async (t) => {
  await fc.assert(
    fc.asyncProperty(manifestFile, fc.constantFrom('put' as const, 'compact' as const), withDeadline(check)),
    fuzzParams(0.5),
  );
  t.pass();
});
