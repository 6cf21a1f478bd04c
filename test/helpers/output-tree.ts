/**
 * What every output tree must satisfy after any run, crashed or not (the data-safety promise, checked from the
 * outside): no temporary file left, every MP4 complete and decodable, every JPEG whole, and the manifests listing
 * exactly the files on disk, each once, with their sizes.
 */
import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { hasJpegEnds, mp4StructureProblem } from '../../lib/media/probe.js';
import { doneManifestLines, lastManifestLines, listOutputTree, type ManifestLine } from '../../tools/output-tree.js';
import { decodeErrors } from './media-tools.js';

export { listOutputTree };

/** Whether a file is a whole JPEG as hiksync copies them (SOI .. EOI). */
export async function isCompleteJpeg(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    return await hasJpegEnds(fh, (await fh.stat()).size);
  } finally {
    await fh.close();
  }
}

/** The live 'done' entries of every camera manifest (last line per id wins, removals forget). */
export async function doneEntries(out: string): Promise<ManifestLine[]> {
  return [...(await doneManifestLines(out)).values()];
}

/**
 * Asserts the promise above for the tree at `out`; returns the output files (relative paths). `unsettled`: the run
 * ended on a full output volume, where the 'done' line of a file already renamed into place may not have been
 * appended (the manifest is on that volume too): its durable 'pending' line lists it then, and the next pass settles
 * it to 'done' (lib/pipeline/manifest-repair.ts). Without it, only 'done' lines count.
 */
export async function assertSoundOutputTree(
  t: ExecutionContext,
  out: string,
  opts: { decode?: boolean; unsettled?: boolean } = {},
) {
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
  const onDisk = new Set(files);
  const listed = opts.unsettled
    ? [...(await lastManifestLines(out)).values()].filter(
        (e) => e.status === 'done' || (e.status === 'pending' && onDisk.has(e.output)),
      )
    : done;
  t.deepEqual(listed.map((e) => e.output).sort(), files, 'the manifests list exactly the files on disk');
  t.is(new Set(done.map((e) => e.output)).size, done.length, 'no output listed twice');
  for (const e of done) t.is((await fs.stat(path.join(out, e.output))).size, e.size, `${e.output}: size as recorded`);
  return files;
}
