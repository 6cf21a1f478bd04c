import test from 'ava';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Manifest } from '../../lib/pipeline/manifest.js';
import type { ManifestEntry } from '../../lib/pipeline/manifest-entry.js';

function entry(id: string, over: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    id,
    kind: 'video',
    output: `cam/video/${id}.mp4`,
    status: 'done',
    size: 100,
    startSec: 1_700_000_000,
    startUsec: 0,
    endSec: 1_700_000_060,
    source: { datadir: 'datadir0', fileNo: 0, slot: 0, startOffset: 0, endOffset: 4096 },
    attempts: 1,
    updatedAt: 1,
    ...over,
  };
}

async function tmpState(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hiksync-manifest-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

test('entries survive a reopen; the last line for an id wins; removals forget', async (t) => {
  const dir = await tmpState(t);
  const m = await Manifest.open(dir, 'Camera Tuin/1');
  t.false(m.report.existed);
  m.put(entry('a'));
  m.put(entry('b'));
  m.put(entry('a', { status: 'failed', attempts: 2 }));
  m.remove('b');
  await m.flush();
  const again = await Manifest.open(dir, 'Camera Tuin/1');
  t.true(again.report.existed);
  t.deepEqual(
    again.entries().map((e) => [e.id, e.status, e.attempts]),
    [['a', 'failed', 2]],
  );
  t.is(again.ownerOf('cam/video/a.mp4')?.id, 'a');
  t.is(again.ownerOf('cam/video/b.mp4'), undefined);
  t.deepEqual(await Manifest.listCameras(dir), ['Camera Tuin/1']);
});

test('a torn last line (crash or full disk mid-append) is ignored, then repaired by the next flush: warned once', async (t) => {
  const dir = await tmpState(t);
  const m = await Manifest.open(dir, 'cam');
  m.put(entry('a'));
  await m.flush();
  await fs.appendFile(m.file, '{"id":"b","kind":"vid');
  const torn = await Manifest.open(dir, 'cam');
  t.is(torn.report.badLines, 1);
  t.deepEqual(
    torn.entries().map((e) => e.id),
    ['a'],
  );
  torn.put(entry('c'));
  await torn.flush();
  const after = await Manifest.open(dir, 'cam');
  t.deepEqual(
    after
      .entries()
      .map((e) => e.id)
      .sort(),
    ['a', 'c'],
    'the torn fragment did not swallow the next entry',
  );
  t.is(after.report.badLines, 0, 'the file was rewritten without the fragment: the next pass does not warn again');
  t.false((await fs.readFile(m.file, 'utf8')).includes('"vid\n'));
});

test('compaction rewrites only live entries, atomically', async (t) => {
  const dir = await tmpState(t);
  const m = await Manifest.open(dir, 'cam');
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 600; i++) m.put(entry(`r${i}`, { attempts: round }));
    await m.flush();
  }
  const lines = (await fs.readFile(m.file, 'utf8')).trim().split('\n');
  t.true(lines.length < 1800, `compacted: ${lines.length} lines`);
  const again = await Manifest.open(dir, 'cam');
  t.is(again.size, 600);
  t.true(again.entries().every((e) => e.attempts === 2));
  const leftovers = (await fs.readdir(path.dirname(m.file))).filter((n) => n.endsWith('.tmp'));
  t.deepEqual(leftovers, []);
});

test('concurrent flushes (one per in-flight task) neither lose nor duplicate lines', async (t) => {
  const dir = await tmpState(t);
  const m = await Manifest.open(dir, 'cam');
  const flushes: Promise<void>[] = [];
  for (let i = 0; i < 200; i++) {
    m.put(entry(`c${i}`));
    flushes.push(m.flush({ durable: i % 50 === 0 }));
  }
  await Promise.all(flushes);
  const lines = (await fs.readFile(m.file, 'utf8')).trim().split('\n');
  t.is(lines.length, 200);
  t.is(new Set(lines.map((l) => (JSON.parse(l) as { id: string }).id)).size, 200);
  t.is((await Manifest.open(dir, 'cam')).size, 200);
});

test('a line missing a field, with a field of another type or a number JSON cannot write back is a bad line, not an entry', async (t) => {
  const dir = await tmpState(t);
  const file = Manifest.fileFor(dir, 'cam');
  await fs.mkdir(path.dirname(file), { recursive: true });
  const good = entry('good');
  const { source, ...noSource } = entry('no-source');
  const noUsec: Partial<ManifestEntry> = entry('no-usec');
  delete noUsec.startUsec;
  const lines = [
    JSON.stringify(good),
    JSON.stringify(noSource),
    JSON.stringify(noUsec),
    JSON.stringify({ ...entry('no-slot'), source: { ...source, slot: undefined } }),
    JSON.stringify({ ...entry('string-end'), endSec: '1700000060' }),
    JSON.stringify({ ...entry('bad-origin'), origin: 'stolen' }),
    // JSON.parse gives Infinity; JSON.stringify would write null: the entry would not survive the next compaction.
    JSON.stringify(entry('infinite')).replace('"size":100', '"size":1e999'),
  ];
  await fs.writeFile(file, lines.join('\n') + '\n');
  const m = await Manifest.open(dir, 'cam');
  t.deepEqual(
    m.entries().map((e) => e.id),
    ['good'],
  );
  t.is(m.report.badLines, lines.length - 1);
  await m.compact();
  const again = await Manifest.open(dir, 'cam');
  t.deepEqual(again.entries(), [good]);
  t.is(again.report.badLines, 0);
});

test('an output held by two ids (a damaged manifest) stays owned when one of them is renamed or removed', async (t) => {
  const dir = await tmpState(t);
  const m = await Manifest.open(dir, 'cam');
  const shared = 'cam/video/shared.mp4';
  m.put(entry('a', { output: shared }));
  m.put(entry('b', { output: shared }));
  m.put(entry('c', { output: shared }));
  m.put(entry('c', { output: 'cam/video/c.mp4' }));
  m.remove('b');
  // Unowned, the planner could give the path to another recording and replace a's file.
  t.is(m.ownerOf(shared)?.id, 'a');
  m.remove('a');
  t.is(m.ownerOf(shared), undefined);
  t.is(m.ownerOf('cam/video/c.mp4')?.id, 'c');
});
