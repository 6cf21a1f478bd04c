/**
 * What every output tree must satisfy after any run, crashed or not (the data-safety promise, checked from the
 * outside): no temporary file left, every MP4 complete and decodable, every JPEG whole, and the manifests listing
 * exactly the files on disk, each once, with their sizes.
 */
import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { isCompleteJpeg, mp4StructureProblem } from '../../lib/media/probe.js';
import { doneManifestLines, listOutputTree, type ManifestLine } from '../../tools/output-tree.js';
import { decodeErrors } from './media-tools.js';

export { listOutputTree };

/** The live 'done' entries of every camera manifest (last line per id wins, removals forget). */
export async function doneEntries(out: string): Promise<ManifestLine[]> {
  return [...(await doneManifestLines(out)).values()];
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
