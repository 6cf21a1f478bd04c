/**
 * What every output tree must satisfy after any run, crashed or not (the data-safety promise, checked from the
 * outside): no temporary file left, every MP4 complete and decodable, every JPEG whole, and the manifests listing
 * exactly the files on disk, each once, with their sizes.
 */
import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { isCompleteJpeg, mp4StructureProblem } from '../../lib/media/probe.js';
import { decodeErrors } from './media-tools.js';

/** Every file under the output root except hiksync's state folder, as paths relative to the root. */
export async function listOutputTree(out: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fs.readdir(path.join(out, rel), { withFileTypes: true }).catch(() => [])) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && e.name === '.hiksync') continue;
      if (e.isDirectory()) await walk(child);
      else files.push(child);
    }
  };
  await walk('');
  return files.sort();
}

interface DoneEntry {
  id: string;
  output: string;
  size: number;
}

/** The live 'done' entries of every camera manifest (last line per id wins, removals forget). */
export async function doneEntries(out: string): Promise<DoneEntry[]> {
  const dir = path.join(out, '.hiksync', 'manifests');
  const byId = new Map<string, { id: string; output: string; size: number; status: string }>();
  for (const f of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!f.endsWith('.jsonl')) continue;
    for (const line of (await fs.readFile(path.join(dir, f), 'utf8')).split('\n')) {
      let e: { id?: string; output?: string; size?: number; status?: string; removed?: boolean };
      try {
        e = JSON.parse(line) as typeof e;
      } catch {
        continue;
      }
      if (typeof e.id !== 'string') continue;
      if (e.removed) byId.delete(e.id);
      else if (typeof e.output === 'string' && typeof e.size === 'number' && typeof e.status === 'string') {
        byId.set(e.id, { id: e.id, output: e.output, size: e.size, status: e.status });
      }
    }
  }
  return [...byId.values()].filter((e) => e.status === 'done');
}

/** Asserts the promise above for the tree at `out`; returns the output files (relative paths). */
export async function assertSoundOutputTree(t: ExecutionContext, out: string, opts: { decode?: boolean } = {}) {
  const files = await listOutputTree(out);
  t.deepEqual(
    files.filter((f) => !/\/(video|images)\/[^/.][^/]*\.(mp4|mov|jpg)$/.test(f)),
    [],
    'nothing but finished outputs (no temporary or stray file)',
  );
  for (const f of files) {
    const abs = path.join(out, f);
    if (f.endsWith('.jpg')) t.true(await isCompleteJpeg(abs), `${f}: a whole JPEG`);
    else {
      t.is(await mp4StructureProblem(abs), null, `${f}: complete ISO-BMFF`);
      if (opts.decode !== false) t.is(await decodeErrors(abs), '', `${f}: decodes without an error`);
    }
  }
  const done = await doneEntries(out);
  t.deepEqual(done.map((e) => e.output).sort(), files, 'the manifests list exactly the files on disk');
  t.is(new Set(done.map((e) => e.output)).size, done.length, 'no output listed twice');
  for (const e of done) t.is((await fs.stat(path.join(out, e.output))).size, e.size, `${e.output}: size as recorded`);
  return files;
}
